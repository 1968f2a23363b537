"""Feed channels: a public account's events reach its followers, live and by sync, only
while they follow it (the mechanism public accounts build `article.published` on)."""

from __future__ import annotations

import asyncio

from kabar.delivery import events as ev
from kabar.delivery.transaction import WriteTx
from kabar.store import feeds
from support.api import Api, User
from support.server import RunningServer


async def follow(server: RunningServer, feed: str, user: User, *, on: bool = True) -> None:
    async def job(tx: WriteTx) -> None:
        kind = ev.FEED_FOLLOWED if on else ev.FEED_UNFOLLOWED
        change = {"follows": (feed,)} if on else {"unfollows": (feed,)}
        appended = await tx.append_event(
            kind, {"feed_id": feed}, target_account=user.account_id, **change
        )
        if on:
            await feeds.start_following(tx.conn, feed, user.account_id, appended.pos)
        else:
            await feeds.stop_following(tx.conn, feed, user.account_id, appended.pos)

    await server.services.writer.run(job)


async def publish(server: RunningServer, feed: str, title: str) -> None:
    async def job(tx: WriteTx) -> None:
        await tx.append_event("article.published", {"title": title}, feed_id=feed)

    await server.services.writer.run(job)


def titles(events: list[dict]) -> list[str]:
    return [e["content"]["title"] for e in events if e["type"] == "article.published"]


async def test_followers_receive_feed_events_only_while_following(
    api: Api, server: RunningServer
) -> None:
    publisher, reader, stranger = [await api.register() for _ in range(3)]
    feed = publisher.account_id
    await publish(server, feed, "before")
    await follow(server, feed, reader)
    await publish(server, feed, "during")
    await follow(server, feed, reader, on=False)
    await publish(server, feed, "after")
    events = await api.sync_all(reader)
    assert titles(events) == ["during"]
    assert [e["type"] for e in events if e["type"].startswith("feed.")] == [
        "feed.followed",
        "feed.unfollowed",
    ]
    assert titles(await api.sync_all(stranger)) == []
    assert all(e["feed_id"] == feed for e in events if e["type"] == "article.published")


async def test_an_online_follower_is_woken_by_a_feed_event(api: Api, server: RunningServer) -> None:
    publisher, reader = await api.register(), await api.register()
    feed = publisher.account_id
    await api.sync_all(reader)
    waiting = asyncio.create_task(api.sync(reader, timeout=10_000))
    await asyncio.sleep(0.1)
    await follow(server, feed, reader)
    first = await asyncio.wait_for(waiting, 5)
    assert [e["type"] for e in first["events"]] == ["feed.followed"]
    waiting = asyncio.create_task(api.sync(reader, timeout=10_000))
    await asyncio.sleep(0.1)
    await publish(server, feed, "live")
    second = await asyncio.wait_for(waiting, 5)
    assert titles(second["events"]) == ["live"]
