"""Queries over public accounts and their members (owners and editors)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, desc, func, insert, select, update

from kabar.store.rows import Record
from kabar.store.schema import accounts, public_accounts, public_members
from kabar.store.threaded import Executor

_VERIFIER = accounts.alias("verifier")

PUBLIC_ACCOUNT_COLUMNS = (
    *public_accounts.c,
    _VERIFIER.c.username.label("verified_by_username"),
)


def _select_accounts(*, include_removed: bool = False) -> Any:
    """Public accounts with their verifier; one a moderator removed only if asked for."""
    query = select(*PUBLIC_ACCOUNT_COLUMNS).outerjoin(
        _VERIFIER, _VERIFIER.c.id == public_accounts.c.verified_by
    )
    return query if include_removed else query.where(public_accounts.c.removed_at.is_(None))


async def insert_public_account(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(public_accounts).values(**values))


async def insert_public_accounts(conn: Executor, rows: list[dict[str, Any]]) -> None:
    """Many at once (imports, benchmarks)."""
    if rows:
        await conn.execute(insert(public_accounts), rows)


async def by_handle(conn: Executor, handle: str, *, include_removed: bool = False) -> Record | None:
    query = _select_accounts(include_removed=include_removed)
    result = await conn.execute(query.where(public_accounts.c.handle == handle))
    return result.first()


async def by_id(conn: Executor, public_account_id: str) -> Record | None:
    result = await conn.execute(_select_accounts().where(public_accounts.c.id == public_account_id))
    return result.first()


async def by_ids(conn: Executor, ids: list[str]) -> list[Record]:
    if not ids:
        return []
    return list(await conn.execute(_select_accounts().where(public_accounts.c.id.in_(ids))))


async def update_public_account(conn: Executor, public_account_id: str, **values: Any) -> None:
    await conn.execute(
        update(public_accounts).where(public_accounts.c.id == public_account_id).values(**values)
    )


async def adjust_counts(
    conn: Executor, public_account_id: str, *, subscribers: int = 0, articles: int = 0
) -> None:
    """Move the denormalised counters (inside the writer job that changed the rows)."""
    await conn.execute(
        update(public_accounts)
        .where(public_accounts.c.id == public_account_id)
        .values(
            subscriber_count=public_accounts.c.subscriber_count + subscribers,
            article_count=public_accounts.c.article_count + articles,
        )
    )


async def featured(conn: Executor, limit: int) -> list[Record]:
    """Accounts to show first: verified ones, then by subscribers, then by output."""
    query = (
        _select_accounts()
        .where(public_accounts.c.article_count > 0)
        .order_by(
            public_accounts.c.verified_at.is_(None),
            desc(public_accounts.c.subscriber_count),
            desc(public_accounts.c.article_count),
            public_accounts.c.handle,
        )
        .limit(limit)
    )
    return list(await conn.execute(query))


async def member_role(conn: Executor, public_account_id: str, account_id: str) -> str | None:
    result = await conn.execute(
        select(public_members.c.role).where(
            public_members.c.public_account_id == public_account_id,
            public_members.c.account_id == account_id,
        )
    )
    role = result.scalar_one_or_none()
    return None if role is None else str(role)


async def members_of(conn: Executor, public_account_id: str) -> list[Record]:
    query = (
        select(
            public_members.c.account_id,
            public_members.c.role,
            public_members.c.added_at,
            accounts.c.username,
            accounts.c.display_name,
        )
        .join(accounts, accounts.c.id == public_members.c.account_id)
        .where(public_members.c.public_account_id == public_account_id)
        .order_by(public_members.c.added_at, accounts.c.username)
    )
    return list(await conn.execute(query))


async def put_member(
    conn: Executor,
    public_account_id: str,
    account_id: str,
    role: str,
    added_by: str,
    now: int,
) -> None:
    """Add a member, or change the role of an existing one."""
    changed = await conn.execute(
        update(public_members)
        .where(
            public_members.c.public_account_id == public_account_id,
            public_members.c.account_id == account_id,
        )
        .values(role=role)
    )
    if not changed.rowcount:
        await conn.execute(
            insert(public_members).values(
                public_account_id=public_account_id,
                account_id=account_id,
                role=role,
                added_by=added_by,
                added_at=now,
            )
        )


async def remove_member(conn: Executor, public_account_id: str, account_id: str) -> bool:
    result = await conn.execute(
        delete(public_members).where(
            public_members.c.public_account_id == public_account_id,
            public_members.c.account_id == account_id,
        )
    )
    return bool(result.rowcount)


async def count_role(conn: Executor, public_account_id: str, role: str) -> int:
    result = await conn.execute(
        select(func.count()).where(
            public_members.c.public_account_id == public_account_id, public_members.c.role == role
        )
    )
    return int(result.scalar_one())


async def memberships_of(conn: Executor, account_id: str) -> list[Record]:
    """The public accounts ``account_id`` owns or edits, with its role in each."""
    query = (
        _select_accounts()
        .add_columns(public_members.c.role.label("my_role"))
        .join(public_members, public_members.c.public_account_id == public_accounts.c.id)
        .where(public_members.c.account_id == account_id)
        .order_by(public_accounts.c.handle)
    )
    return list(await conn.execute(query))
