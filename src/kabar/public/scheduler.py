"""The scheduler: publishes scheduled articles when their time comes, and keeps house.

The schedule lives in the database (``articles.status = 'scheduled'``,
``scheduled_at``), not in memory, so it survives restarts: a server that was
down at an article's time publishes it as soon as it is back. Every node runs
a scheduler; the check-and-publish runs as a writer job (serialised across
nodes), so an article goes live exactly once. An article whose author a
moderator has restricted from publishing waits, still scheduled, until the
restriction ends (or an appeal reverses it), then goes live. It polls every ``interval``
seconds (an indexed query over scheduled articles only) and, once an hour,
forgets old view hashes (kabar.public.views).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.moderation.restrictions import publishing_restricted
from kabar.public import indexing, publishing
from kabar.public.models import ArticleStatus
from kabar.public.views import ViewCounter
from kabar.store import articles as store
from kabar.store.database import Database
from kabar.workers import Workers

log = logging.getLogger(__name__)

BATCH = 50
HOUSEKEEPING_SECONDS = 3600.0


class Scheduler:
    def __init__(
        self,
        database: Database,
        writer: Writer,
        workers: Workers,
        views: ViewCounter,
        public_url: str,
        interval: float = 1.0,
    ) -> None:
        self._db = database
        self._writer = writer
        self._workers = workers
        self._views = views
        self._url = public_url
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="kabar-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        last_housekeeping = 0.0
        while True:
            try:
                await self.publish_due()
                if time.monotonic() - last_housekeeping > HOUSEKEEPING_SECONDS:
                    await self._views.forget_old_days()
                    last_housekeeping = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler pass failed; retrying")
            await asyncio.sleep(self._interval)

    async def publish_due(self) -> int:
        """Publish every scheduled article whose time has come; returns how many."""
        published = 0
        while True:
            async with self._db.read() as conn:
                due = await store.due(conn, int(time.time() * 1000), BATCH)
            in_batch = 0
            for article_id in due:
                in_batch += await self._publish(article_id)
            published += in_batch
            # A full batch that published nothing is all held (restricted authors): the
            # next pass looks again, rather than spinning on the same rows now.
            if len(due) < BATCH or in_batch == 0:
                return published

    async def _publish(self, article_id: str) -> int:
        async with self._db.read() as conn:
            row = await store.by_id(conn, article_id)
            if row is None:
                return 0
            # A held article comes back every pass: skip it before rendering its text and
            # queueing a writer job (the job checks again, in case a restriction just began).
            revision = await store.revision(conn, article_id, row.revision)
            if revision is not None and await publishing_restricted(
                conn, revision.account_id, int(time.time() * 1000)
            ):
                return 0
        text = await self._workers.run(indexing.article_text, row.html)

        async def job(tx: WriteTx) -> int:
            current = await store.by_id(tx.conn, article_id, full=False)
            if (
                current is None
                or current.status != ArticleStatus.SCHEDULED
                or current.scheduled_at is None
                or current.scheduled_at > tx.now_ms
                or current.revision != row.revision
            ):
                return 0  # cancelled, rescheduled, or another node was first
            revision = await store.revision(tx.conn, article_id, current.revision)
            assert revision is not None
            if await publishing_restricted(tx.conn, revision.account_id, tx.now_ms):
                return 0  # held until the author's restriction ends
            await publishing.go_live(
                tx,
                current,
                revision=current.revision,
                author=(revision.account_id, revision.username),
                signed_at=revision.published_at,
                text=text,
                public_url=self._url,
            )
            return 1

        done: int = await self._writer.run(job)
        return done
