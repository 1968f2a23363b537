"""Bulk seeding for bench/feed.py, straight through the store functions (no HTTP, no writer).

Fresh databases, accounts with devices and tokens, public accounts, published articles
with increasing feed positions, subscriptions and follow periods.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import vodozemac
from sqlalchemy import text

from kabar.accounts.models import Role, Status
from kabar.accounts.tokens import new_token, token_hash
from kabar.config import DatabaseConfig
from kabar.ids import new_id
from kabar.protocol.signing import identity_payload
from kabar.store import accounts, articles, feeds, migrate, public, subscriptions
from kabar.store.database import Database
from kabar.store.events import write_position

SUMMARY = (
    "A long-form article about the harbour, the city and the people who keep it running; "
    "this summary is about as long as real ones are, so rows have a realistic size."
)


async def fresh_database(url: str | None, directory: Path, name: str) -> tuple[str, Database]:
    if url is None:
        url = f"sqlite:///{directory / name}.db"
    database = Database(DatabaseConfig(url=url))
    if not database.is_sqlite:
        async with database.write() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await migrate.upgrade(database)
    return url, database


async def add_account(conn: Any, username: str, now: int, **device: Any) -> tuple[str, str, str]:
    """An account with one device; returns (account id, device id, access token)."""
    account_id, device_id, token = new_id("a"), new_id("d"), new_token()
    await accounts.insert_account(
        conn,
        id=account_id,
        username=username,
        display_name=username,
        password_hash="!",
        role=Role.USER.value,
        status=Status.ACTIVE.value,
        created_at=now,
    )
    await accounts.insert_device(
        conn,
        id=device_id,
        account_id=account_id,
        token_hash=token_hash(token),
        display_name="bench",
        created_at=now,
        last_seen_at=now,
        **device,
    )
    return account_id, device_id, token


def public_account_row(handle: str, owner: str, now: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": new_id("p"),
        "handle": handle,
        "name": handle.replace("_", " ").title(),
        "bio": "A public account for the benchmark.",
        "kind": "media",
        "created_by": owner,
        "created_at": now,
        "updated_at": now,
        "subscriber_count": 0,
        "article_count": 0,
        **extra,
    }


async def seed_feed(database: Database, n_accounts: int, n_articles: int) -> dict[str, Any]:
    now = int(time.time() * 1000)
    rng = random.Random(7)
    async with database.write() as conn:
        owner, _, _ = await add_account(conn, "bench_owner", now)
        readers = {}
        for name in ("reader_many", "reader_few"):
            readers[name] = await add_account(conn, name, now)
        rows = [public_account_row(f"bench_{n:04d}", owner, now) for n in range(n_accounts)]
        await public.insert_public_accounts(conn, rows)
        ids = [row["id"] for row in rows]
        batch: list[dict[str, Any]] = []
        for pos in range(1, n_articles + 1):
            batch.append(
                {
                    "id": new_id("r"),
                    "public_account_id": rng.choice(ids),
                    "slug": f"article-{pos}",
                    "status": "published",
                    "title": f"Article number {pos}",
                    "markdown": f"# Article number {pos}\n\n{SUMMARY}",
                    "html": f"<h1>Article number {pos}</h1><p>{SUMMARY}</p>",
                    "summary": SUMMARY,
                    "word_count": 40,
                    "reading_minutes": 1,
                    "revision": 1,
                    "created_by": owner,
                    "created_at": now,
                    "updated_at": now,
                    "author_id": owner,
                    "published_at": now - (n_articles - pos) * 60_000,
                    "feed_pos": pos,
                    "view_count": 0,
                    "comment_count": 0,
                }
            )
            if len(batch) == 5000:
                await articles.insert_articles(conn, batch)
                batch = []
        await articles.insert_articles(conn, batch)
        await write_position(conn, n_articles)
        for name, count in (("reader_many", 500), ("reader_few", 10)):
            account_id = readers[name][0]
            followed = rng.sample(ids, min(count, len(ids)))
            await subscriptions.insert_subscriptions(
                conn,
                [
                    {
                        "account_id": account_id,
                        "public_account_id": pid,
                        "notifications": False,
                        "created_at": now,
                    }
                    for pid in followed
                ],
            )
    return readers


async def seed_fanout(database: Database, n_subscribers: int) -> dict[str, Any]:
    now = int(time.time() * 1000)
    olm = vodozemac.Account()
    async with database.write() as conn:
        editor_id, device_id, editor_token = await add_account(conn, "editor", now)
        curve, ed = olm.curve25519_key.to_base64(), olm.ed25519_key.to_base64()
        signature = olm.sign(identity_payload("editor", device_id, curve, ed)).to_base64()
        await accounts.update_device(
            conn, device_id, curve25519=curve, ed25519=ed, identity_signature=signature
        )
        row = public_account_row("big_news", editor_id, now, subscriber_count=n_subscribers)
        await public.insert_public_accounts(conn, [row])
        await public.put_member(conn, row["id"], editor_id, "owner", editor_id, now)
        tokens, subscriber_ids = [], []
        for n in range(n_subscribers):
            account_id, _, token = await add_account(conn, f"sub{n:05d}", now)
            tokens.append(token)
            subscriber_ids.append(account_id)
        await subscriptions.insert_subscriptions(
            conn,
            [
                {
                    "account_id": a,
                    "public_account_id": row["id"],
                    "notifications": True,
                    "created_at": now,
                }
                for a in subscriber_ids
            ],
        )
        await feeds.start_following_all(conn, row["id"], subscriber_ids, 0)
    return {"olm": olm, "editor_token": editor_token, "device_id": device_id, "tokens": tokens}
