"""The composition root: configuration → store, broker, services → the ASGI application.

This is the only module that knows every concrete class; everything else
receives its collaborators. ``create_app`` is what ``kabar serve`` and the
tests run.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from kabar import __version__
from kabar.accounts.auth import Authenticator
from kabar.accounts.passwords import Passwords
from kabar.accounts.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from kabar.accounts.service import AccountService
from kabar.broker import open_broker
from kabar.config import Config
from kabar.conversations.reports import ReportService
from kabar.conversations.service import ConversationService
from kabar.delivery import control
from kabar.delivery.control import ControlBus
from kabar.delivery.hub import Hub
from kabar.delivery.sync import SyncService
from kabar.delivery.to_device import ToDeviceJanitor, ToDeviceService
from kabar.delivery.writer import STREAM_CHANNEL, Writer
from kabar.errors import Unavailable
from kabar.http import (
    accounts,
    admin_transparency,
    articles,
    backup,
    blobs,
    console,
    conversations,
    feeds,
    hash_lists,
    keys,
    media,
    moderation,
    notices,
    ops,
    pages,
    problems,
    public_accounts,
    reports,
    stream,
    subscriptions,
    sync,
    transparency,
    transparency_report,
    webapp,
)
from kabar.http.hot import HotRoutes
from kabar.http.middleware import BodyLimit, RequestMetrics, StorageOutages
from kabar.http.security import SecurityHeaders
from kabar.http.templating import Pages
from kabar.ids import EventIdCodec
from kabar.keys.backup import BackupService
from kabar.keys.service import KeyService
from kabar.media.blobs import BlobService
from kabar.media.storage import MediaStorage
from kabar.media.uploads import MediaService
from kabar.moderation.authority import AuthorityService
from kabar.moderation.context import Deps as ModerationDeps
from kabar.moderation.counts import ModerationCounter
from kabar.moderation.detections import ModerationSink
from kabar.moderation.hash_import import HashListService
from kabar.moderation.hash_matching import HashMatchService
from kabar.moderation.log_service import TransparencyService
from kabar.moderation.logbook import Logbook
from kabar.moderation.policy import load_policy
from kabar.moderation.report import TransparencyReports
from kabar.moderation.service import ModerationService
from kabar.public.accounts import PublicAccountService
from kabar.public.articles import ArticleService
from kabar.public.comments import CommentService
from kabar.public.preview import PreviewService
from kabar.public.reactions import ReactionService
from kabar.public.reading import ArticleReader
from kabar.public.scheduler import Scheduler
from kabar.public.search import SearchService
from kabar.public.views import ViewCounter
from kabar.services import Services
from kabar.store import migrate
from kabar.store.database import Database
from kabar.store.names import UsernameCache
from kabar.store.schema import server_secrets
from kabar.subscriptions.feed import FeedService
from kabar.subscriptions.service import SubscriptionService
from kabar.workers import Workers

log = logging.getLogger(__name__)

SECRET_NAMES = ("franking", "event_ids", "log_refs")


async def load_secrets(database: Database) -> dict[str, bytes]:
    """The server-wide secrets every node shares, created on first start."""
    async with database.write() as conn:
        rows = {r.name: r.value for r in await conn.execute(select(server_secrets))}
        for name in SECRET_NAMES:
            if name not in rows:
                value = os.urandom(32)
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            insert(server_secrets).values(
                                name=name, value=value, created_at=int(time.time() * 1000)
                            )
                        )
                    rows[name] = value
                except IntegrityError:
                    pass  # another node created it first; read theirs below
        missing = [n for n in SECRET_NAMES if n not in rows]
        if missing:
            query = select(server_secrets).where(server_secrets.c.name.in_(missing))
            rows.update({r.name: r.value for r in await conn.execute(query)})
    return {name: bytes(value) for name, value in rows.items()}


def open_rate_limiter(config: Config) -> RateLimiter:
    """Limits live where the broker does: in Redis when nodes share one, else in memory."""
    if config.broker.url.startswith(("redis://", "rediss://", "unix://")):
        return RedisRateLimiter(
            config.broker.url, config.broker.key_prefix, config.rate_limits.enabled
        )
    return MemoryRateLimiter(enabled=config.rate_limits.enabled)


async def build_services(config: Config, *, run_migrations: bool = False) -> Services:
    database = Database(config.database)
    if run_migrations:
        await migrate.upgrade(database)
    elif not await migrate.is_current(database):
        await database.dispose()
        raise Unavailable("the database schema is not current: run `kabar db upgrade` first")
    secrets = await load_secrets(database)
    codec = EventIdCodec(secrets["event_ids"])
    broker = open_broker(config.broker.url, config.broker.key_prefix)
    bus = ControlBus(broker)
    names = UsernameCache()
    hub = Hub(database, codec, names)
    broker.subscribe(STREAM_CHANNEL, hub.on_broker_message)
    writer = Writer(database, broker, codec, secrets["franking"], config.stream)
    writer.on_commit(hub.on_batch)
    limiter = open_rate_limiter(config)
    auth = Authenticator(database, bus, config.security.auth_cache_seconds)
    janitor = ToDeviceJanitor(writer)
    workers = Workers()
    public_url = config.server.public_url
    reader = ArticleReader(database, workers, config)
    views = ViewCounter(database, writer)
    moderation = ModerationService(
        ModerationDeps(
            database,
            writer,
            load_policy(config.moderation.policy_file or None),
            config,
            limiter,
            bus,
        ),
        Logbook(public_url, secrets["log_refs"]),
    )
    log_service = TransparencyService(database, writer, config.transparency, secrets["log_refs"])
    hash_matching = HashMatchService(database, writer, workers, config.hash_matching)
    policy = moderation.deps.policy
    services = Services(
        config=config,
        database=database,
        limiter=limiter,
        broker=broker,
        writer=writer,
        hub=hub,
        bus=bus,
        auth=auth,
        accounts=AccountService(
            database, writer, Passwords(config.security), limiter, config.rate_limits, bus
        ),
        keys=KeyService(database, writer, bus, limiter, config.rate_limits, config.limits),
        conversations=ConversationService(
            database, writer, codec, names, limiter, config.rate_limits, config.limits
        ),
        to_device=ToDeviceService(writer, limiter, config.rate_limits, config.limits),
        to_device_janitor=janitor,
        sync=SyncService(database, hub, codec, names, janitor, config.limits.sync_page_max),
        blobs=BlobService(database, writer, config.media),
        backup=BackupService(database, writer),
        reports=ReportService(
            database, writer, codec, secrets["franking"], limiter, config.rate_limits, moderation
        ),
        moderation=moderation,
        public_accounts=PublicAccountService(database, writer, public_url),
        articles=ArticleService(database, writer, workers, limiter, config),
        reader=reader,
        comments=CommentService(database, writer, limiter, config),
        preview=PreviewService(workers, limiter, config),
        reactions=ReactionService(database, writer),
        views=views,
        search=SearchService(database, config),
        subscriptions=SubscriptionService(database, writer),
        feed=FeedService(database, public_url, config.limits.public_page_max),
        media=MediaService(
            writer, MediaStorage(config.media.directory), workers, limiter, config, hash_matching
        ),
        scheduler=Scheduler(database, writer, workers, views, public_url),
        transparency=log_service,
        authority=AuthorityService(database, writer, log_service, policy),
        transparency_report=TransparencyReports(
            log_service,
            {item.id: item.title for item in policy.items},
            ModerationCounter(database),
        ),
        hash_lists=HashListService(database, writer),
        hash_matching=hash_matching,
    )
    bus.on(control.DEVICES_REVOKED, lambda data: _on_devices_revoked(hub, data))
    bus.on(control.ACCOUNT_CHANGED, lambda d: _on_account_changed(hub, d))
    await broker.start()
    await hub.start()
    await writer.start()
    await janitor.start()
    await services.scheduler.start()
    hash_matching.sink = ModerationSink(moderation, config.moderation.hash_match_policy_item)
    await moderation.start()
    return services


def _on_devices_revoked(hub: Hub, data: dict[str, Any]) -> None:
    for device_id in data["devices"]:
        hub.close_device(device_id, "signed_out")


def _on_account_changed(hub: Hub, data: dict[str, Any]) -> None:
    status = data.get("status")
    if status in ("suspended", "deactivated"):
        hub.close_account(
            data["account_id"], "suspended" if status == "suspended" else "signed_out"
        )


async def shutdown_services(services: Services) -> None:
    await services.moderation.stop()
    await services.scheduler.stop()
    await services.to_device_janitor.stop()
    await services.to_device_janitor.flush()
    await services.writer.stop()
    await services.hub.stop()
    await services.limiter.close()
    await services.broker.close()
    await services.database.dispose()


class KabarApp(FastAPI):
    """FastAPI, with the hot routes (kabar.http.hot) answered ahead of all its layers.

    With them on, the WebSocket stream is also handed its socket directly: every middleware
    lets WebSockets through untouched, and FastAPI's routing (a linear match over every
    route) and exception layers cost a reconnect 10-18 % of its server CPU. Its
    handler catches everything itself; with the layer off, FastAPI routes it as before."""

    hot: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hot is not None:
            if scope["type"] == "http":
                scope["app"] = self  # what Starlette sets; handlers find the services there
                await self.hot(scope, receive, send)
                return
            if (
                scope["type"] == "websocket"
                and scope["path"] == stream.STREAM_PATH
                and not scope.get("root_path")
            ):
                scope["app"] = self
                await stream.stream(WebSocket(scope, receive, send))
                return
        await super().__call__(scope, receive, send)


def create_app(
    config: Config, *, run_migrations: bool = False, freeze_gc: bool = False
) -> KabarApp:
    """The ASGI app. ``freeze_gc`` (``kabar serve``) moves everything alive after start-up
    out of the garbage collector's reach: full collections then scan only what requests
    allocate, which cuts tail latency (p99 of a feed page: ~14 ms → ~5 ms)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = await build_services(config, run_migrations=run_migrations)
        if freeze_gc:
            gc.freeze()
        log.info("kabar %s serving on %s", __version__, config.server.public_url)
        try:
            yield
        finally:
            await shutdown_services(app.state.services)

    app = KabarApp(
        title="kabar",
        version=__version__,
        summary="Private chats only their participants can read; public voices anyone can follow.",
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
        # kabar's metrics are Prometheus (/metrics). FastAPI's own OpenTelemetry hook would
        # look up three global providers on every request to find none configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    problems.install(app)
    # Hot routes first: matching walks the routes in order.
    for router in (
        conversations.router,
        sync.router,
        keys.router,
        accounts.router,
        blobs.router,
        backup.router,
        reports.router,
        moderation.router,
        notices.router,
        ops.router,
        stream.router,
        public_accounts.router,
        articles.router,
        subscriptions.router,
        media.router,
        transparency_report.router,
        transparency.router,
        admin_transparency.router,
        hash_lists.router,
        feeds.router,  # before pages: /@handle/feed.atom is not an article
        webapp.router,
        console.router,
        pages.router,
    ):
        app.include_router(router)
    app.state.pages = Pages(config.server)
    console.install(app, app.state.pages)  # after every router: it links to what exists
    app.mount("/static", StaticFiles(packages=[("kabar.http", "static")]), name="static")
    image_paths = re.compile(r"/v1/media/images|/v1/public/accounts/[^/]+/avatar")
    blob_paths = re.compile(r"/v1/blobs(/.*)?")
    app.add_middleware(
        BodyLimit,
        max_bytes=config.limits.request_max_bytes,
        larger=(
            (image_paths, config.limits.image_max_bytes),
            (blob_paths, config.media.blob_max_bytes),
        ),
    )
    app.add_middleware(StorageOutages)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics)
    if config.server.hot_routes:
        app.hot = HotRoutes(partial(FastAPI.__call__, app), config.limits.request_max_bytes)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with its 422 responses replaced by our 400 problem documents."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    app.openapi_schema = schema
    return schema
