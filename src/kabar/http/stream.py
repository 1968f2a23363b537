"""The WebSocket stream ``/v1/stream``: live events, resumable, and sends with acks.

Protocol (JSON text frames; see docs/api.md § WebSocket)::

    client → {"type": "auth", "token": "kbr_…", "since": "s41"}      first frame, unless the
                                                                    handshake had Authorization
    server → {"type": "event", "token": "s42", "event": {…}}        catch-up, then live
    server → {"type": "to_device", "token": "s43", "message": {…}}
    server → {"type": "ready", "token": "s43", "one_time_key_count": 50, …}   caught up
    client → {"type": "send", "conversation_id", "txn_id", "envelope": {…}}
    server → {"type": "ack", "txn_id", "event_id", "seq", "token", "ts", "franking_tag", …}
             {"type": "error", "txn_id"?, "status", "code", "detail"}
    client → {"type": "checkpoint", "token": "s43"}     to-device messages up to here may go
    client → {"type": "ping"}  server → {"type": "pong"};  server → {"type": "ping"} heartbeats

Close codes: 4000 protocol error, 4001 unauthenticated or signed out, 4003
suspended, 4008 slow consumer (its bounded buffer filled: resume from the last
token), 1013 storage unavailable (reconnect later), 1001 server shutting down.
Every token a client has seen is a valid resume point: resuming with it loses
nothing and repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.websockets import WebSocketState

from kabar import metrics
from kabar.accounts.models import Principal
from kabar.conversations.service import Envelope
from kabar.delivery.events import Dispatch
from kabar.delivery.hub import Listener
from kabar.errors import InvalidRequest, KabarError
from kabar.http.conversations import EnvelopeIn
from kabar.http.deps import bearer_token, client_address
from kabar.ids import decode_token, encode_token
from kabar.services import Services
from kabar.store.database import is_unavailable

log = logging.getLogger(__name__)
router = APIRouter()
STREAM_PATH = "/v1/stream"

AUTH_TIMEOUT_SECONDS = 10.0
MAX_INFLIGHT_SENDS = 64
CLOSE_PROTOCOL = 4000
CLOSE_UNAUTHENTICATED = 4001
CLOSE_SUSPENDED = 4003
CLOSE_SLOW = 4008
CLOSE_TRY_LATER = 1013


class StreamSession:
    def __init__(self, ws: WebSocket, svc: Services, principal: Principal, after: int) -> None:
        self.ws = ws
        self.svc = svc
        self.principal = principal
        self.after = after
        self.address = client_address(ws)
        self._send_lock = asyncio.Lock()
        self._inflight = asyncio.Semaphore(MAX_INFLIGHT_SENDS)
        self._tasks: set[asyncio.Task[None]] = set()

    async def send_text(self, text: str) -> None:
        async with self._send_lock:
            await self.ws.send_text(text)

    async def send_json(self, value: dict[str, Any]) -> None:
        await self.send_text(json.dumps(value, separators=(",", ":")))

    async def run(self) -> None:
        hub = self.svc.hub
        view = await hub.view(self.principal.account_id)
        listener = Listener(
            self.principal.account_id,
            self.principal.device_id,
            self.after,
            max_items=self.svc.config.stream.ws_buffer_frames,
        )
        hub.attach(view, listener, pending=True)
        try:
            position = await self._catch_up(listener)
            counts = await self.svc.keys.counts(self.principal.device_id)
            await self.send_json(
                {
                    "type": "ready",
                    "token": encode_token(position),
                    "one_time_key_count": counts.one_time_keys,
                    "fallback_key_unused": counts.fallback_unused,
                }
            )
            # Whichever side ends first (client gone, or we close) ends the session.
            tasks = {
                asyncio.create_task(self._read_frames()),
                asyncio.create_task(self._write_live(listener)),
            }
            try:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        finally:
            hub.detach(view, listener)
            for task in list(self._tasks):
                task.cancel()

    async def _catch_up(self, listener: Listener) -> int:
        """Send everything after the resume token from the store, then switch to live."""
        position = self.after
        if position:
            self.svc.to_device_janitor.acknowledge(self.principal.device_id, position)
        sync = self.svc.sync
        while True:
            page = await sync.read_page(
                self.principal.account_id, self.principal.device_id, position, sync.page_max
            )
            await self._send_items(page.items)
            position = page.next_pos
            if page.more:
                continue
            if listener.overflowed:
                # The live buffer filled while we read; read again from here.
                listener.overflowed = False
                listener.items.clear()
                continue
            listener.activate(position)
            return listener.position

    async def _send_items(self, items: list[Dispatch]) -> None:
        # Items come in position order and complete up to each one's position, so each
        # item's own position is a valid resume token.
        for item in items:
            if item.to_device:
                await self.send_text(_frame("to_device", "message", item.frame, item.pos))
            else:
                await self.send_text(_frame("event", "event", item.frame, item.pos))

    async def _write_live(self, listener: Listener) -> None:
        heartbeat = self.svc.config.stream.heartbeat_seconds
        while True:
            if listener.closed is not None:
                code = CLOSE_SUSPENDED if listener.closed == "suspended" else CLOSE_UNAUTHENTICATED
                await self._close(code, listener.closed)
                return
            if listener.overflowed:
                metrics.SLOW_CONSUMERS.inc()
                await self._close(CLOSE_SLOW, "slow consumer: resume from your last token")
                return
            items = listener.take()
            await self._send_items(items)
            if not items:
                try:
                    # asyncio.timeout, not wait_for: no extra task per wake-up, which is
                    # what a fan-out to thousands of sockets pays for.
                    async with asyncio.timeout(heartbeat):
                        await listener.wakeup.wait()
                except TimeoutError:
                    await self.send_json({"type": "ping"})

    async def _read_frames(self) -> None:
        while True:
            try:
                message = await self.ws.receive_text()
                frame = json.loads(message)
                if not isinstance(frame, dict):
                    raise ValueError("a frame is a JSON object")
            except (WebSocketDisconnect, RuntimeError):
                raise
            except (ValueError, KeyError):
                await self._close(CLOSE_PROTOCOL, "frames are JSON objects with a type")
                return
            kind = frame.get("type")
            if kind == "send":
                await self._inflight.acquire()
                task = asyncio.create_task(self._send(frame))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif kind == "ping":
                await self.send_json({"type": "pong"})
            elif kind == "checkpoint":
                with contextlib.suppress(KabarError):
                    position = decode_token(str(frame.get("token", "")))
                    if position:
                        self.svc.to_device_janitor.acknowledge(self.principal.device_id, position)
            elif kind in ("pong", "auth"):
                continue
            else:
                await self.send_json(_error(InvalidRequest(f"unknown frame type {kind!r}"), None))

    async def _send(self, frame: dict[str, Any]) -> None:
        txn_id = frame.get("txn_id")
        try:
            if not isinstance(txn_id, str) or not 0 < len(txn_id) <= 64:
                raise InvalidRequest("txn_id must be a string of 1 to 64 characters")
            envelope = EnvelopeIn.model_validate(frame.get("envelope"))
            conversation_id = frame.get("conversation_id")
            if not isinstance(conversation_id, str):
                raise InvalidRequest("conversation_id is required")
            sent = await self.svc.conversations.send(
                self.principal,
                conversation_id,
                txn_id,
                Envelope(**envelope.model_dump()),
                self.address,
            )
            await self.send_json(
                {
                    "type": "ack",
                    "txn_id": txn_id,
                    "event_id": sent.event.event_id,
                    "seq": sent.event.seq,
                    "token": encode_token(sent.event.pos),
                    "ts": sent.event.ts,
                    "franking_tag": sent.event.franking_tag,
                    "duplicate": sent.duplicate,
                }
            )
        except ValidationError as exc:
            await self._safe_send(
                _error(InvalidRequest(f"invalid envelope: {exc.errors()[0]['msg']}"), txn_id)
            )
        except KabarError as exc:
            await self._safe_send(_error(exc, txn_id))
        finally:
            self._inflight.release()

    async def _safe_send(self, value: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await self.send_json(value)

    async def _close(self, code: int, reason: str) -> None:
        if self.ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await self.ws.close(code=code, reason=reason[:120])


def _frame(kind: str, field: str, body: bytes, position: int) -> str:
    return f'{{"type":"{kind}","token":"{encode_token(position)}","{field}":{body.decode()}}}'


def _error(error: KabarError, txn_id: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "error",
        "status": error.status,
        "code": error.code.value,
        "detail": error.detail,
    }
    if txn_id is not None:
        frame["txn_id"] = txn_id
    frame.update(error.data)
    return frame


@router.websocket(STREAM_PATH)
async def stream(ws: WebSocket) -> None:
    svc: Services = ws.app.state.services
    await ws.accept()
    try:
        token = bearer_token(ws.headers.get("authorization"))
        since: str | None = ws.query_params.get("since")
        if token is None:
            first = json.loads(await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT_SECONDS))
            if not isinstance(first, dict) or first.get("type") != "auth":
                raise InvalidRequest('the first frame must be {"type": "auth", "token": …}')
            token = str(first.get("token") or "")
            since = first.get("since") or since
        principal = await svc.auth.authenticate(token)
        after = decode_token(str(since) if since else None) or 0
        session = StreamSession(ws, svc, principal, after)
        await session.run()
    except WebSocketDisconnect:
        return
    except KabarError as exc:
        with contextlib.suppress(Exception):
            await ws.send_text(json.dumps(_error(exc, None)))
            code = (
                CLOSE_UNAUTHENTICATED
                if exc.status == 401
                else CLOSE_SUSPENDED
                if exc.status == 403
                else CLOSE_PROTOCOL
            )
            await ws.close(code=code, reason=exc.code.value)
    except (TimeoutError, ValueError):
        with contextlib.suppress(Exception):
            await ws.close(code=CLOSE_PROTOCOL, reason="expected an auth frame")
    except Exception as exc:
        if is_unavailable(exc):
            # 1013 "try again later": the client reconnects with its last token.
            with contextlib.suppress(Exception):
                await ws.close(code=CLOSE_TRY_LATER, reason="storage unavailable")
            return
        log.exception("stream failed")
        with contextlib.suppress(Exception):
            await ws.close(code=1011)
