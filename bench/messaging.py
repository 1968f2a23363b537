#!/usr/bin/env python3
"""kabar messaging benchmark: the workload of ../shared/peers/synapse/bench.py, against kabar.

Same client (aiohttp, one session, no connection cap), same sizes, same nearest-rank
percentiles, same lock-step rules and the same JSON shape as the Synapse run, so that the
two results compare field by field. 101 accounts (1 sender, 100 others) are registered;
the sender creates one group, the "everyone group", and adds the others in batches of 100.

  (a)  send_seq:      1 sender, M sequential PUT /v1/conversations/{id}/messages/{txn} into
                      the everyone group (101 members); 20 warm-up sends are not counted
  (b)  fanout_R:      1 HTTP sender, R receivers in GET /v1/sync?timeout=30000 long-poll
                      loops, in a fresh group of exactly sender + R. Lock-step: message i+1
                      is sent once all R receivers saw message i (or 10 s passed). Latency =
                      send start -> the receiver's sync response holding the event, over all
                      (message, receiver) pairs; 1 unmeasured warm-up message
  (c)  concurrent:    S senders x K sequential sends each, all at once, into the everyone group

kabar-only phases (no Synapse counterpart; compare them with the ceiling's relay):
  (b') fanout_ws_R:   (b) with the R receivers on the WebSocket stream /v1/stream instead of
                      long-polls; latency = send start -> the receiver's task has the frame
  (d)  concurrent_ws: (c) with each sender on its own /v1/stream socket, sending
                      {"type": "send"} frames and awaiting each ack (ceiling's (d)). Unlike
                      the relay's send sockets, a kabar stream also receives every event of
                      the group, so each sender socket gets all S x K messages as well

Messages are opaque ciphertext to kabar: the benchmark puts the body text ("<tag> <i>") in
`ciphertext` with algorithm "bench.plain".

Server RSS (/proc/PID/status VmRSS, as `ps -o rss`) is sampled every 0.1 s during fan-out and
srv_cpu_s (utime + stime) is measured per phase from --pid-file; client_cpu_s is this
process's own CPU time; server_metrics comes from kabar's /metrics around the measured part
(group-commit batches, jobs per batch, mean batch time, mean server time per route).
--spawn starts a server of its own (fresh SQLite in a temporary directory, or --database-url)
and writes its PID file. --profile-dir records the server with py-spy (speedscope format,
samples of the GIL holder) during the measured part of each phase, --cprofile runs the spawned
server under cProfile; such runs measure the profiler too, so do not quote their numbers.
Progress goes to stderr and ONE compact JSON line to stdout. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection, connect

from kabar.client.stream import close_socket
from serving import free_port, port_is_free

T = TypeVar("T")
ALGORITHM = "bench.plain"
PASSWORD = "bench-pw"
MEMBER_BATCH = 100
Key = tuple[str, str]  # (metric sample name, route label)


def burst_connector() -> aiohttp.TCPConnector:
    """The connector of the tools that leave a server idle between bursts (ab.py,
    interleaved.py): no connection cap, and idle connections dropped after 4 s.

    kabar (uvicorn's default) closes a connection idle for 5 s; aiohttp keeps one for 15 s.
    A burst that starts about 5 s after the last one can take a connection from the pool
    just as the server closes it, and fail with "Cannot write to closing transport" (seen
    with three trees in ab.py). Dropping idle connections on the client's side first leaves
    no such moment. This benchmark's own run keeps the peer's connector exactly."""
    return aiohttp.TCPConnector(limit=0, keepalive_timeout=4.0)


def log(*a: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *a, file=sys.stderr, flush=True)


def pct(xs: list[float], p: int) -> float | None:  # nearest-rank percentile, ms in / out
    xs = sorted(xs)
    return round(xs[max(0, min(len(xs) - 1, -(-len(xs) * p // 100) - 1))], 2) if xs else None


def lat_stats(lat_ms: list[float]) -> dict[str, float | None]:
    return {"p50_ms": pct(lat_ms, 50), "p99_ms": pct(lat_ms, 99), "max_ms": round(max(lat_ms), 2)}


class Proc:
    """RSS / CPU of the server process, read from /proc (same RSS value ps -o rss shows)."""

    def __init__(self, pid_file: str | None) -> None:
        exists = pid_file and os.path.exists(pid_file)
        self.pid = int(Path(pid_file).read_text()) if exists and pid_file else None
        self.peak_kb = 0
        self.metrics: Metrics | None = None  # the server's own /metrics, when it has them
        self.profiler: Profiler | None = None  # py-spy, with --profile-dir

    def rss_kb(self, key: str = "VmRSS") -> int | None:  # VmHWM = peak RSS since start
        if not self.pid:
            return None
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return None

    def cpu_s(self) -> float:
        if not self.pid:
            return 0.0
        f = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    async def sample(self, every: float = 0.1) -> None:
        while self.pid:
            self.peak_kb = max(self.peak_kb, self.rss_kb() or 0)
            await asyncio.sleep(every)


class Usage:
    """Wall, server CPU, client CPU and the server's own metrics since a mark, for one phase."""

    def __init__(self, proc: Proc, metrics: Metrics | None, before: dict[Key, float]) -> None:
        self.proc, self.metrics, self.before = proc, metrics, before
        self.srv0, self.cli0 = proc.cpu_s(), time.process_time()
        self.t0 = time.perf_counter()

    @classmethod
    async def start(cls, proc: Proc, phase: str) -> Usage:
        """Mark the start of a phase's measured part (and start profiling it, if asked)."""
        if proc.profiler:
            await proc.profiler.start(phase)
        metrics = proc.metrics
        return cls(proc, metrics, await metrics.snapshot() if metrics else {})

    def wall(self) -> float:
        return time.perf_counter() - self.t0

    async def report(self, wall: float) -> dict[str, Any]:
        out = {
            "wall_s": round(wall, 2),
            "srv_cpu_s": round(self.proc.cpu_s() - self.srv0, 2) if self.proc.pid else None,
            "client_cpu_s": round(time.process_time() - self.cli0, 2),
        }
        if self.proc.profiler:
            await self.proc.profiler.stop()
        if self.metrics:
            out["server_metrics"] = self.metrics.delta(self.before, await self.metrics.snapshot())
        return out


@dataclass(frozen=True)
class User:
    username: str
    token: str


class Api:
    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base, self.s = base, session

    async def req(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        hdrs = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.s.request(method, self.base + path, headers=hdrs, **kw) as r:
            body = await r.json(content_type=None)
            if r.status not in (200, 201):
                raise RuntimeError(f"{method} {path} -> {r.status}: {body}")
            return body

    async def register(self, name: str) -> User:
        r = await self.req("POST", "/v1/accounts", json={"username": name, "password": PASSWORD})
        return User(r["username"], r["access_token"])

    async def create_group(self, owner: User, title: str, members: list[User]) -> str:
        body = {"title": title, "members": []}
        conversation_id: str = (
            await self.req("POST", "/v1/conversations/groups", owner.token, json=body)
        )["conversation_id"]
        for i in range(0, len(members), MEMBER_BATCH):  # the owner adds members, 100 a request
            names = [m.username for m in members[i : i + MEMBER_BATCH]]
            path = f"/v1/conversations/{conversation_id}/members"
            await self.req("POST", path, owner.token, json={"usernames": names})
        return conversation_id

    async def send(self, tok: str, conversation_id: str, body: str) -> dict[str, Any]:
        path = f"/v1/conversations/{conversation_id}/messages/{uuid.uuid4().hex}"
        envelope = {"algorithm": ALGORITHM, "ciphertext": body}
        result: dict[str, Any] = await self.req("PUT", path, tok, json=envelope)
        return result

    async def sync(self, tok: str, since: str | None = None, timeout_ms: int = 0) -> dict[str, Any]:
        params = {"timeout": str(timeout_ms)}
        if since:
            params["since"] = since
        result: dict[str, Any] = await self.req("GET", "/v1/sync", tok, params=params)
        return result

    async def current_token(self, tok: str) -> str:
        """Initial sync: page through everything the account can see; return the last token."""
        since = None
        while True:
            page = await self.sync(tok, since)
            since = page["next"]
            if not page["more"]:
                return str(since)


class Metrics:
    """kabar's own /metrics around a phase: group-commit batches and per-route HTTP time."""

    WANTED = ("kabar_writer_batch_jobs", "kabar_writer_batch_seconds", "kabar_http_request_seconds")

    def __init__(self, api: Api) -> None:
        self.api = api

    async def snapshot(self) -> dict[Key, float]:
        async with self.api.s.get(self.api.base + "/metrics") as r:
            text = await r.text()
        out: dict[Key, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.endswith(("_sum", "_count")) and family.name in self.WANTED:
                    out[(sample.name, sample.labels.get("route", ""))] = sample.value
        return out

    @staticmethod
    def delta(before: dict[Key, float], after: dict[Key, float]) -> dict[str, Any]:
        d = {k: v - before.get(k, 0.0) for k, v in after.items()}
        batches = d.get(("kabar_writer_batch_jobs_count", ""), 0)
        out: dict[str, Any] = {"writer_batches": int(batches)}
        if batches:
            out["jobs_per_batch"] = round(d[("kabar_writer_batch_jobs_sum", "")] / batches, 2)
            out["batch_ms_mean"] = round(
                1000 * d[("kabar_writer_batch_seconds_sum", "")] / batches, 3
            )
        http = {}
        for (name, route), n in d.items():
            if name == "kabar_http_request_seconds_count" and n and route not in ("/metrics", ""):
                total = d[("kabar_http_request_seconds_sum", route)]
                http[route] = {"n": int(n), "mean_ms": round(1000 * total / n, 3)}
        out["http"] = http
        return out


async def gather_limited(n: int, coros: Iterable[Awaitable[T]]) -> list[T]:
    sem = asyncio.Semaphore(n)

    async def one(c: Awaitable[T]) -> T:
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def timed(send: Callable[[int], Awaitable[object]], n: int) -> list[float]:
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        await send(i)
        lat.append((time.perf_counter() - t0) * 1000)
    return lat


def http_sender(
    api: Api, tok: str, conversation_id: str, tag: str
) -> Callable[[int], Awaitable[object]]:
    return lambda i: api.send(tok, conversation_id, f"{tag} {i}")


def message_index(event: dict[str, Any], conversation_id: str, tag: str) -> int | None:
    """The i of a "<tag> <i>" benchmark message in ``conversation_id``, else None."""
    if event.get("type") != "message" or event.get("conversation_id") != conversation_id:
        return None
    body = event.get("content", {}).get("ciphertext", "")
    if not body.startswith(tag + " "):
        return None
    return int(body.split()[1])


# -- WebSocket stream -----------------------------------------------------------------------


def ws_url(base: str) -> str:
    return "ws" + base.removeprefix("http") + "/v1/stream"


@contextlib.asynccontextmanager
async def stream(base: str, tok: str, since: str | None) -> AsyncIterator[ClientConnection]:
    """An authenticated /v1/stream socket, caught up (its "ready" frame read)."""
    ws = await connect(ws_url(base), compression=None, proxy=None, max_size=None)
    try:
        await ws.send(json.dumps({"type": "auth", "token": tok, "since": since}))
        async for frame in ws:
            msg = json.loads(frame)
            if msg["type"] == "ready":
                break
            if msg["type"] == "error":
                raise RuntimeError(f"stream auth failed: {msg}")
        yield ws
    finally:
        # Not ws.close(): with 16 frames unread, websockets stops reading and would wait
        # 10 s for the server's close frame (how phase (d) once took half a minute).
        await close_socket(ws)


# -- phases ---------------------------------------------------------------------------------


async def phase_send_seq(api: Api, proc: Proc, sender: User, room: str, m: int) -> dict[str, Any]:
    await timed(http_sender(api, sender.token, room, "warmup"), 20)
    usage = await Usage.start(proc, "send_seq")
    lat = await timed(http_sender(api, sender.token, room, "seq"), m)
    wall = usage.wall()
    return {"n": m, "msgs_per_s": round(m / wall, 1), **lat_stats(lat), **await usage.report(wall)}


class LockStep:
    """Who saw which message when; the sender waits for all R receivers of each message."""

    def __init__(self, r: int) -> None:
        self.r = r
        self.seen: dict[int, dict[int, float]] = {}  # msg -> {receiver: receipt time}
        self.done: dict[int, asyncio.Event] = {}  # msg -> set when all r receivers saw it
        self.sent: dict[int, float] = {}  # msg -> send start time

    def saw(self, i: int, ri: int, now: float) -> None:
        self.seen.setdefault(i, {}).setdefault(ri, now)
        if len(self.seen[i]) == self.r:
            self.done.setdefault(i, asyncio.Event()).set()

    async def run(self, send: Callable[[int], Awaitable[object]], n_msgs: int) -> int:
        """Send messages -1 (warm-up) .. n_msgs-1 in lock-step; return the lost pairs."""
        lost = 0
        for i in range(-1, n_msgs):
            ev = self.done.setdefault(i, asyncio.Event())
            self.sent[i] = time.perf_counter()
            await send(i)
            try:
                await asyncio.wait_for(ev.wait(), 10)
            except TimeoutError:
                lost += self.r - len(self.seen.get(i, {}))
        return lost

    def latencies(self) -> list[float]:
        return [
            (ts - self.sent[i]) * 1000 for i, d in self.seen.items() if i >= 0 for ts in d.values()
        ]


async def measure_fanout(
    name: str,
    proc: Proc,
    step: LockStep,
    send: Callable[[int], Awaitable[object]],
    n_msgs: int,
    tasks: list[asyncio.Task[None]],
) -> dict[str, Any]:
    proc.peak_kb = 0
    sampler = asyncio.create_task(proc.sample())
    try:
        usage = await Usage.start(proc, name)
        lost = await step.run(send, n_msgs)
        wall = usage.wall()
        used = await usage.report(wall)
    finally:
        for t in [*tasks, sampler]:
            t.cancel()
        await asyncio.gather(*tasks, sampler, return_exceptions=True)
    for t in tasks:
        error = None if t.cancelled() else t.exception()
        if error is not None:
            raise error
    lat = step.latencies()
    return {
        "receivers": step.r,
        "msgs": n_msgs,
        "pairs": len(lat),
        "lost_pairs": lost,
        **lat_stats(lat),
        **used,
        "srv_peak_rss_kb": proc.peak_kb or None,
    }


async def phase_fanout(
    api: Api, proc: Proc, sender: User, receivers: list[User], n_msgs: int
) -> dict[str, Any]:
    r = len(receivers)
    room = await api.create_group(sender, f"fanout-{r}", receivers)
    tag = f"fan{r}-{uuid.uuid4().hex[:6]}"
    step = LockStep(r)
    tokens = await gather_limited(10, [api.current_token(u.token) for u in receivers])

    async def receiver(ri: int, tok: str, since: str) -> None:
        while True:
            s = await api.sync(tok, since, 30000)
            now = time.perf_counter()
            since = s["next"]
            for ev in s["events"]:
                i = message_index(ev, room, tag)
                if i is not None:
                    step.saw(i, ri, now)

    tasks = [
        asyncio.create_task(receiver(ri, u.token, tokens[ri])) for ri, u in enumerate(receivers)
    ]
    await asyncio.sleep(1.0)  # let every long-poll reach the server
    send = http_sender(api, sender.token, room, tag)
    return await measure_fanout(f"fanout_{r}", proc, step, send, n_msgs, tasks)


async def phase_fanout_ws(
    api: Api, proc: Proc, sender: User, receivers: list[User], n_msgs: int
) -> dict[str, Any]:
    r = len(receivers)
    room = await api.create_group(sender, f"fanout-ws-{r}", receivers)
    tag = f"ws{r}-{uuid.uuid4().hex[:6]}"
    step = LockStep(r)
    tokens = await gather_limited(10, [api.current_token(u.token) for u in receivers])

    async def receiver(ri: int, ws: ClientConnection) -> None:
        async for frame in ws:
            now = time.perf_counter()
            msg = json.loads(frame)
            if msg["type"] == "event":
                i = message_index(msg["event"], room, tag)
                if i is not None:
                    step.saw(i, ri, now)

    async with contextlib.AsyncExitStack() as stack:
        socks = await gather_limited(
            10,
            [
                stack.enter_async_context(stream(api.base, u.token, tokens[ri]))
                for ri, u in enumerate(receivers)
            ],
        )
        tasks = [asyncio.create_task(receiver(ri, ws)) for ri, ws in enumerate(socks)]
        await asyncio.sleep(0.5)
        send = http_sender(api, sender.token, room, tag)
        res = await measure_fanout(f"fanout_ws_{r}", proc, step, send, n_msgs, tasks)
    return {"transport": "websocket", **res}


async def concurrent_result(lats: list[list[float]], k: int, usage: Usage) -> dict[str, Any]:
    wall = usage.wall()
    lat = [x for sender_lat in lats for x in sender_lat]
    return {
        "senders": len(lats),
        "per_sender": k,
        "msgs_per_s": round(len(lat) / wall, 1),
        **lat_stats(lat),
        **await usage.report(wall),
    }


async def phase_concurrent(
    api: Api, proc: Proc, senders: list[User], room: str, k: int
) -> dict[str, Any]:
    usage = await Usage.start(proc, "concurrent")
    lats = await asyncio.gather(
        *(timed(http_sender(api, u.token, room, f"conc{si}"), k) for si, u in enumerate(senders))
    )
    return await concurrent_result(list(lats), k, usage)


class WsSender:
    """Sends on a stream socket and awaits each ack; counts the event frames it receives."""

    def __init__(self, ws: ClientConnection, room: str, tag: str) -> None:
        self.ws, self.room, self.tag = ws, room, tag
        self.events = 0

    async def send(self, i: int) -> None:
        txn = uuid.uuid4().hex
        envelope = {"algorithm": ALGORITHM, "ciphertext": f"{self.tag} {i}"}
        frame = {"type": "send", "conversation_id": self.room, "txn_id": txn, "envelope": envelope}
        await self.ws.send(json.dumps(frame))
        while True:
            msg = json.loads(await self.ws.recv())
            if msg["type"] == "event":
                self.events += 1
            elif msg["type"] == "ack" and msg["txn_id"] == txn:
                return
            elif msg["type"] == "error":
                raise RuntimeError(f"WS send failed: {msg}")

    async def drain(self, expected: int, within_s: float) -> None:
        """Read event frames until ``expected`` have arrived in all (or ``within_s`` passes)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within_s):
                while self.events < expected:
                    if json.loads(await self.ws.recv())["type"] == "event":
                        self.events += 1


async def phase_concurrent_ws(
    api: Api, proc: Proc, senders: list[User], room: str, k: int
) -> dict[str, Any]:
    tokens = await gather_limited(10, [api.current_token(u.token) for u in senders])
    async with contextlib.AsyncExitStack() as stack:
        socks = await asyncio.gather(
            *(
                stack.enter_async_context(stream(api.base, u.token, tokens[si]))
                for si, u in enumerate(senders)
            )
        )
        ws_senders = [WsSender(ws, room, f"ws{si}") for si, ws in enumerate(socks)]
        await asyncio.gather(*(s.send(-1) for s in ws_senders))  # warm-up: every path exercised
        for s in ws_senders:
            s.events = 0  # count only the measured messages' events (warm-ups may straggle in)
        usage = await Usage.start(proc, "concurrent_ws")
        lats = await asyncio.gather(*(timed(s.send, k) for s in ws_senders))
        res = await concurrent_result(list(lats), k, usage)
        expected = len(senders) * k  # every socket is a member's stream: it gets every message
        await asyncio.gather(*(s.drain(expected, 10) for s in ws_senders))
    res["events_per_socket_expected"] = expected
    res["events_per_socket_min"] = min(s.events for s in ws_senders)
    return res


# -- a server of our own --------------------------------------------------------------------


# uvicorn re-raises SIGTERM after its graceful shutdown; a Python handler turns it into
# SystemExit, which cProfile.run catches before writing the profile.
CPROFILE_SERVE = """
import cProfile, signal, sys
out, sys.argv = sys.argv[1], ["kabar", "serve", "--migrate"]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
from kabar.cli.main import main
cProfile.run("main()", out)
"""


class Spawned:
    """``kabar serve --migrate`` in the background, with a fresh data directory and PID file."""

    def __init__(self, a: argparse.Namespace) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kabar-bench-"))
        # A port another server holds would make its /healthz answer for ours (which then
        # exits, unable to bind), and the run would measure the wrong server.
        if a.port and not port_is_free(a.port):
            raise SystemExit(f"port {a.port} is in use: stop what holds it or pick --port")
        self.port = a.port or free_port()
        self.url = a.database_url or f"sqlite:///{self.dir / 'kabar.db'}"
        self.pid_file = Path(a.pid_file) if a.pid_file else self.dir / "kabar.pid"
        self.keep = a.keep_data
        self.cprofile = Path(a.cprofile) if a.cprofile else None
        self.env = {
            "KABAR_DATA_DIR": str(self.dir),
            "KABAR_DATABASE_URL": self.url,
            "KABAR_MEDIA_DIRECTORY": str(self.dir / "media"),
            "KABAR_SERVER_HOST": "127.0.0.1",
            "KABAR_SERVER_PORT": str(self.port),
            "KABAR_SERVER_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "KABAR_SERVER_LOG_LEVEL": "warning",
            "KABAR_RATE_LIMITS_ENABLED": "false",  # measure the server, not its throttle
            "KABAR_SECURITY_ARGON2_MEMORY_KIB": "1024",  # setup speed only, as Synapse's
            "KABAR_SECURITY_ARGON2_TIME_COST": "1",  # bcrypt_rounds: 4
            **dict(kv.split("=", 1) for kv in a.server_env),
        }
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        cmd = [str(Path(sys.executable).parent / "kabar"), "serve", "--migrate"]
        if self.cprofile:  # deterministic profile of the server's main thread, written at exit
            cmd = [sys.executable, "-c", CPROFILE_SERVE, str(self.cprofile.resolve())]
        env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")} | self.env
        with (self.dir / "server.log").open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                *cmd, cwd=self.dir, env=env, stdout=out, stderr=out
            )
        self.pid_file.write_text(str(self.proc.pid))
        async with aiohttp.ClientSession() as s:
            for _ in range(240):
                if self.proc.returncode is not None:
                    raise RuntimeError(f"kabar exited:\n{(self.dir / 'server.log').read_text()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with s.get(self.base + "/healthz") as r:
                        if r.status == 200:
                            log(f"kabar up: pid {self.proc.pid} on {self.base}, data in {self.dir}")
                            return
                await asyncio.sleep(0.25)
        raise RuntimeError("kabar not healthy after 60 s")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
            log(f"kabar stopped (pid {self.proc.pid})")
        self.pid_file.unlink(missing_ok=True)
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class Profiler:
    """py-spy record of the server PID, one speedscope file per phase."""

    def __init__(self, directory: str | None, pid: int | None) -> None:
        self.dir = Path(directory) if directory else None
        self.pid = pid
        search = f"{Path(sys.executable).parent}:{os.environ.get('PATH', os.defpath)}"
        self.py_spy = shutil.which("py-spy", path=search)
        if self.dir:
            if not self.py_spy:
                raise SystemExit("--profile-dir needs py-spy: pip install py-spy")
            if not pid:
                raise SystemExit("--profile-dir needs the server's PID (--pid-file or --spawn)")
            self.dir.mkdir(parents=True, exist_ok=True)
        self.rec: asyncio.subprocess.Process | None = None
        self.out: Path | None = None

    async def start(self, name: str) -> None:
        """Start recording ``name`` (a no-op without --profile-dir); it runs until stop()."""
        if not self.dir or not self.py_spy:
            return
        self.out = self.dir / f"{name}.speedscope.json"
        self.rec = await asyncio.create_subprocess_exec(
            self.py_spy,
            *("record", "--pid", str(self.pid), "--rate", "200", "--nonblocking", "--gil"),
            *("--format", "speedscope", "--output", str(self.out)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(1.0)  # py-spy attaches

    async def stop(self) -> None:
        if self.rec is None:
            return
        self.rec.send_signal(signal.SIGINT)
        _, err = await self.rec.communicate()
        self.rec = None
        log(f"profile {self.out}: {err.decode().strip().splitlines()[-1:]}")


# -- main -----------------------------------------------------------------------------------


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("kabar", "aiohttp", "websockets", "uvicorn", "starlette", "fastapi", "sqlalchemy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


async def run(a: argparse.Namespace, base: str, database: str | None) -> dict[str, Any]:
    proc = Proc(a.pid_file)
    proc.profiler = Profiler(a.profile_dir, proc.pid) if a.profile_dir else None
    receivers = max(max(a.receivers), max(a.ws_receivers or [0]))
    n_users = 1 + max(receivers, a.senders)
    conn = aiohttp.TCPConnector(limit=0)  # no client-side connection cap
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=120)) as s:
        api = Api(base, s)
        health = await api.req("GET", "/healthz")
        proc.metrics = Metrics(api)
        prefix = f"b{int(time.time())}"
        log(f"registering {n_users} users")
        users = await gather_limited(8, [api.register(f"{prefix}u{i}") for i in range(n_users)])
        room = await api.create_group(users[0], "bench-all", users[1:])
        log(f"group {room} holds {n_users} members")
        res: dict[str, Any] = {
            "server": "kabar",
            "version": versions()["kabar"],
            "users": n_users,
            "room_members": n_users,
            "database": database,
            "kabar_only": [f"fanout_ws_{r}" for r in a.ws_receivers] + ["concurrent_ws"],
            "versions": versions(),
            "loadavg_1m_before": os.getloadavg()[0],
            "stream_position_before": health.get("stream_position"),
        }
        log(f"(a) {a.messages} sequential sends")
        res["send_seq"] = await phase_send_seq(api, proc, users[0], room, a.messages)
        log("   ", res["send_seq"])
        for r in a.receivers:
            log(f"(b) fan-out to {r} receivers, {a.fanout_msgs} messages")
            res[f"fanout_{r}"] = await phase_fanout(
                api, proc, users[0], users[1 : 1 + r], a.fanout_msgs
            )
            log("   ", res[f"fanout_{r}"])
        log(f"(c) {a.senders} concurrent senders x {a.per_sender}")
        res["concurrent"] = await phase_concurrent(
            api, proc, users[1 : 1 + a.senders], room, a.per_sender
        )
        log("   ", res["concurrent"])
        for r in a.ws_receivers:
            log(f"(b') kabar-only: fan-out to {r} WebSocket receivers, {a.fanout_msgs} messages")
            res[f"fanout_ws_{r}"] = await phase_fanout_ws(
                api, proc, users[0], users[1 : 1 + r], a.fanout_msgs
            )
            log("   ", res[f"fanout_ws_{r}"])
        if a.senders_ws:
            log(f"(d) kabar-only: {a.senders} concurrent WebSocket senders x {a.per_sender}")
            res["concurrent_ws"] = await phase_concurrent_ws(
                api, proc, users[1 : 1 + a.senders], room, a.per_sender
            )
            log("   ", res["concurrent_ws"])
        res["srv_rss_end_kb"], res["srv_rss_hwm_kb"] = proc.rss_kb(), proc.rss_kb("VmHWM")
        res["client_cpu_s"] = round(sum(os.times()[:2]), 1)  # bench client shares the machine
    return res


async def main(a: argparse.Namespace) -> None:
    server = Spawned(a) if a.spawn else None
    try:
        if server is not None:
            await server.start()
            a.pid_file = str(server.pid_file)
            base, database = server.base, server.url.split(":", 1)[0]
        else:
            base, database = a.base, None
        res = await run(a, base, database)
        if server is not None:
            res["server_env"] = {k: v for k, v in server.env.items() if k != "KABAR_DATABASE_URL"}
    finally:
        if server is not None:
            await server.stop()
    print(json.dumps(res, separators=(",", ":")))


class Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=Help)
    p.add_argument(
        "--base", default="http://127.0.0.1:8000", help="a running server (not with --spawn)"
    )
    p.add_argument("--pid-file", help="the server's PID file, for RSS/CPU (--spawn writes it)")
    p.add_argument(
        "--spawn", action="store_true", help="start a kabar server of our own, stop it at the end"
    )
    p.add_argument(
        "--port", type=int, default=0, help="--spawn: port to listen on (default: a free one)"
    )
    p.add_argument(
        "--database-url", help="--spawn: database (default: fresh SQLite in a temporary dir)"
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KABAR_X=V",
        help="--spawn: extra setting",
    )
    p.add_argument(
        "--keep-data", action="store_true", help="--spawn: keep the data dir (and server.log)"
    )
    p.add_argument("--profile-dir", help="record the server with py-spy per phase into this dir")
    p.add_argument("--cprofile", metavar="FILE", help="--spawn: run the server under cProfile")
    p.add_argument("--messages", type=int, default=2000, help="(a) sequential messages")
    p.add_argument(
        "--receivers", type=int, nargs="+", default=[10, 100], help="(b) receiver counts"
    )
    p.add_argument("--fanout-msgs", type=int, default=200, help="(b), (b') lock-step messages")
    p.add_argument("--senders", type=int, default=20, help="(c), (d) concurrent senders")
    p.add_argument("--per-sender", type=int, default=100, help="(c), (d) messages per sender")
    p.add_argument(
        "--ws-receivers", type=int, nargs="*", default=[100], help="(b') WebSocket receiver counts"
    )
    p.add_argument("--no-ws-senders", dest="senders_ws", action="store_false", help="skip (d)")
    return p


if __name__ == "__main__":
    asyncio.run(main(parser().parse_args()))
