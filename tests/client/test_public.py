"""The SDK's public accounts against a real server: signed publishing, edits, verification
(and what tampering does to it), drafts and scheduling, members, subscriptions with live
``article.published`` updates, feed paging and search."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy
import vodozemac

from kabar.client import ApiError, ArticlePublished, KeyCheck, PublicReader, Session, locate
from kabar.delivery.transaction import WriteTx
from kabar.public.canonical import ArticleRevision, revision_payload
from kabar.store.schema import article_revisions
from kabar.store.schema import articles as articles_table
from support.api import Api
from support.clients import People
from support.moderation import act, case_of, moderator, report
from support.public import unique_handle
from support.server import RunningServer

STORY = "# Ferry timetable changes\n\nFrom Monday the *7:20* leaves at 7:25.\r\n"


async def owner_with_account(people: People, kind: str = "media") -> tuple[Session, str]:
    owner = await people.register("owner")
    handle = unique_handle("desk")
    await owner.public.create(f"@{handle}", "The Harbour Desk", kind=kind, bio="Harbour news")
    return owner, handle


async def tamper(server: RunningServer, table: Any, where: Any, **values: Any) -> None:
    """Change stored rows behind the services' back, as a compromised server could."""

    async def job(tx: WriteTx) -> None:
        await tx.conn.execute(sqlalchemy.update(table).where(where).values(**values))

    await server.services.writer.run(job)


async def test_publish_signs_each_revision_and_anyone_can_verify_it(people: People) -> None:
    owner, handle = await owner_with_account(people)
    first = await owner.public.publish(handle, STORY)
    assert (first.status, first.revision) == ("published", 1)
    assert first.title == "Ferry timetable changes"
    assert first.slug == "ferry-timetable-changes"
    assert first.signature is not None
    assert (first.signature.account, first.signature.device_id) == (
        owner.username,
        owner.device_id,
    )
    assert first.signature.ed25519 == owner.engine.identity.ed25519

    edited = await owner.public.publish(
        handle, STORY.replace("7:25", "7:30"), slug=first.slug, title="Ferry times, corrected"
    )
    assert (edited.id, edited.revision, edited.title) == (first.id, 2, "Ferry times, corrected")
    assert edited.edited_at is not None

    check = await owner.public.verify(await owner.public.article(handle, first.slug))
    assert check.ok, check.problems
    assert (check.signature_valid, check.key, check.revision) == (True, KeyCheck.LISTED, 2)

    history = await owner.public.revisions(first.id)
    assert [r.revision for r in history] == [2, 1]
    async with PublicReader.connect(owner.server_url) as anonymous:
        old = await anonymous.verify_location(locate(f"{first.url}/history?revision=1"))
        assert old.ok
        assert old.revision == 1
        assert old.title == "Ferry timetable changes"
        now = await anonymous.verify_location(locate(edited.url))
        assert now.ok
        assert now.key == KeyCheck.NOT_CHECKED
        assert now.signature is not None
        assert now.signature.account == owner.username


async def test_a_tampered_article_fails_verification(
    people: People, sqlite_server: RunningServer
) -> None:
    owner, handle = await owner_with_account(people)
    article = await owner.public.publish(handle, STORY)
    await tamper(
        sqlite_server,
        articles_table,
        articles_table.c.id == article.id,
        markdown=STORY.replace("7:25", "8:25"),
    )
    async with PublicReader.connect(owner.server_url) as anonymous:
        check = await anonymous.verify_location(locate(article.url))
        assert not check.ok
        assert not check.signature_valid
        assert any("does not match" in p for p in check.problems)
        # The revision itself was not touched: it still verifies.
        assert (await anonymous.verify_location(locate(f"{article.url}?revision=1"))).ok
        # Served under another address, a genuine article does not pass for that one.
        other = await anonymous.revision(article.id, 1)
        moved = await anonymous.verify(other, handle=handle, slug="another-story")
        assert not moved.ok
        assert moved.signature_valid


async def test_a_key_the_directory_does_not_list_for_the_device_fails(
    people: People, sqlite_server: RunningServer
) -> None:
    owner, handle = await owner_with_account(people)
    reader = await people.register("reader")
    article = await owner.public.publish(handle, STORY)
    forged_key = vodozemac.Account()  # a server signing in its author's name
    assert article.signature is not None
    payload = revision_payload(
        ArticleRevision(
            handle=handle,
            slug=article.slug,
            title=article.title,
            markdown=STORY,
            revision=1,
            published_at=datetime.fromisoformat(article.signature.published_at),
            device_id=owner.device_id,
            account=owner.username,
        )
    )
    await tamper(
        sqlite_server,
        article_revisions,
        article_revisions.c.article_id == article.id,
        ed25519=forged_key.ed25519_key.to_base64(),
        signature=forged_key.sign(payload).to_base64(),
    )
    async with PublicReader.connect(owner.server_url) as anonymous:
        alone = await anonymous.verify_location(locate(article.url))
    assert alone.ok
    assert alone.key == KeyCheck.NOT_CHECKED
    checked = await reader.public.verify_location(locate(article.url))
    assert not checked.ok
    assert checked.signature_valid
    assert checked.key == KeyCheck.MISMATCH
    assert any("another key" in p for p in checked.problems)


async def test_compared_safety_numbers_make_the_key_verified(people: People) -> None:
    owner, handle = await owner_with_account(people)
    reader = await people.register("reader")
    article = await owner.public.publish(handle, STORY)
    await reader.safety_number(owner.username)
    await reader.verify(owner.username)
    check = await reader.public.verify_location(locate(article.url))
    assert check.ok
    assert check.key == KeyCheck.VERIFIED


async def test_drafts_scheduling_unpublishing_and_members(people: People) -> None:
    owner, handle = await owner_with_account(people)
    editor = await people.register("editor")
    outsider = await people.register("outsider")
    draft = await owner.public.publish(handle, "# Harbour plan\n\nDraft.", draft=True)
    assert (draft.status, draft.revision) == ("draft", 0)
    saved = await owner.public.publish(
        handle, "# Harbour plan\n\nSecond draft.", slug=draft.slug, draft=True
    )
    assert saved.id == draft.id
    assert saved.markdown == "# Harbour plan\n\nSecond draft."
    assert [a.slug for a in await owner.public.drafts(handle)] == [draft.slug]

    members = await owner.public.add_member(handle, f"@{editor.username}")
    assert {(m.username, m.role) for m in members} == {
        (owner.username, "owner"),
        (editor.username, "editor"),
    }
    at = datetime.now(UTC) + timedelta(hours=2)
    scheduled = await editor.public.publish_draft(handle, draft.slug, at=at)
    assert scheduled.status == "scheduled"
    assert scheduled.scheduled_at == int(at.replace(microsecond=0).timestamp()) * 1000
    cancelled = await editor.public.unpublish(handle, draft.slug)
    assert cancelled.status == "draft"
    with pytest.raises(ApiError) as refused:
        await outsider.public.publish(handle, "# Not mine\n\nNo.")
    assert refused.value.code == "not_an_editor"
    await owner.public.remove_member(handle, editor.username)
    assert [m.username for m in await owner.public.members(handle)] == [owner.username]
    assert [a.handle for a in await owner.public.mine()] == [handle]

    live = await owner.public.publish(handle, "# Harbour plan\n\nFinal.", slug=draft.slug)
    assert (live.status, live.revision) == ("published", 1)
    down = await owner.public.unpublish(handle, draft.slug)
    assert down.status == "unpublished"


async def test_a_subscriber_receives_article_published_live(people: People) -> None:
    owner, handle = await owner_with_account(people)
    reader = await people.register("reader")
    quiet = await people.register("quiet")
    subscription = await reader.public.subscribe(f"@{handle}")
    assert subscription.subscribed
    assert subscription.notifications
    assert not (await quiet.public.subscribe(handle, notifications=False)).notifications
    updates, quiet_updates = reader.subscribe(), quiet.subscribe()
    await reader.start()
    await quiet.start()
    assert await reader.wait_live()
    assert await quiet.wait_live()

    article = await owner.public.publish(handle, STORY)
    arrived = await asyncio.wait_for(_next_article(updates), 10)
    assert (arrived.article_id, arrived.handle, arrived.slug) == (article.id, handle, article.slug)
    assert (arrived.title, arrived.author, arrived.revision) == (
        article.title,
        owner.username,
        1,
    )
    assert arrived.url == article.url
    assert arrived.account_name == "The Harbour Desk"
    # Edits emit nothing; notifications off means nothing live either (the feed has it).
    await owner.public.publish(handle, STORY + "\nMore.", slug=article.slug)
    await reader.sync()
    await quiet.sync()
    assert not [u for u in updates.pending() if isinstance(u, ArticlePublished)]
    assert not [u for u in quiet_updates.pending() if isinstance(u, ArticlePublished)]
    assert [a.id for a in (await quiet.public.feed()).articles] == [article.id]


async def test_a_removed_articles_redacted_event_is_no_update(
    people: People, sqlite_server: RunningServer
) -> None:
    owner, handle = await owner_with_account(people)
    reader = await people.register("reader")
    await reader.public.subscribe(handle)
    updates = reader.subscribe()
    spam = await owner.public.publish(handle, "# Cheap pills\n\nBuy now.")
    news = await owner.public.publish(handle, STORY)
    api = Api(sqlite_server.base_url)
    try:
        mod = await moderator(api, sqlite_server)
        await report(api, await api.register(), "article", spam.id)
        await act(api, mod, (await case_of(api, mod, "article", spam.id))["id"], "remove_content")
    finally:
        await api.close()
    # The reader syncs only now: the removed article's event comes redacted and is skipped.
    await reader.sync()
    arrived = [u for u in updates.pending() if isinstance(u, ArticlePublished)]
    assert [(u.article_id, u.title) for u in arrived] == [(news.id, news.title)]


async def _next_article(updates: Any) -> ArticlePublished:
    async for update in updates:
        if isinstance(update, ArticlePublished):
            return update
    raise AssertionError("the session closed")


async def test_feed_pages_newest_first_and_explore_finds_articles(people: People) -> None:
    owner, handle = await owner_with_account(people)
    other, other_handle = await owner_with_account(people)
    reader = await people.register("reader")
    await reader.public.subscribe(handle)
    await reader.public.subscribe(other_handle, notifications=False)
    published = []
    for number in range(5):
        author, where = (owner, handle) if number % 2 else (other, other_handle)
        article = await author.public.publish(where, f"# Lighthouse log {number}\n\nQuiet night.")
        published.append(article.id)
    seen, cursor = [], None
    while True:
        page = await reader.public.feed(cursor, limit=2)
        seen += [a.id for a in page.articles]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == published[::-1]
    assert {s.handle for s in await reader.public.subscriptions()} == {handle, other_handle}
    await reader.public.unsubscribe(handle)
    assert not (await reader.public.subscription(handle)).subscribed

    found = await reader.public.search("lighthouse log 3")
    assert [a.id for a in found.articles][:1] == [published[3]]
    accounts = await reader.public.search("harbour desk")
    assert {a.handle for a in accounts.accounts} >= {handle, other_handle}
