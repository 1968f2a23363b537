#!/usr/bin/env python3
"""Interleaved A/B: which of two source trees serves sends faster, despite a drifting machine.

    python bench/ab.py A/src B/src                 # e.g. a `git worktree` of main, and this
    python bench/ab.py A/src A/src                 # A/A: how much noise to expect (±10 % here)

Alternating whole benchmark runs cannot see a 10 % change on these VMs: the machine's speed
drifts by up to 1.6x within minutes. Here every tree gets its own kabar server (`kabar serve`
with ``PYTHONPATH=<tree>``, a fresh SQLite file each) and all run at once; then, round after
round, each server in turn (the order alternating) takes a burst of sequential sends and a
burst of concurrent ones (--senders tasks, --per-sender sends each). Both see the same
machine within seconds, so the ratio of their bursts in one round cancels the drift.

Prints, per tree: the median of each measure over the rounds and, in parentheses, the median
of the per-round ratios to the first tree — sends/s, the server's CPU ms per send, this
client's CPU ms per send, and jobs per group-commit batch in the concurrent bursts. Then one
JSON line with everything. The workload is bench/messaging.py's send, with the same client.
CPU times come from /proc in clock ticks (10 ms): bursts are sized to take well over ten.

``--write to-device`` measures a *generic* write job instead of a message send: each write
is ``POST /v1/to-device`` with one small payload for the sender's own device (the path
end-to-end key shares take; the writer runs it as a job of its own, not the sends' bulk
path).

``--write stream`` measures a reconnect instead: each "write" opens ``/v1/stream``,
authenticates with the user's last token, waits for the ``ready`` frame and closes — what
every client does after a network change or a server restart (authentication, the account's
view, a catch-up read, the key counts), reads rather than writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import aiohttp

import messaging as m

MEASURES = ("seq_per_s", "seq_srv_ms", "seq_cli_ms", "conc_per_s", "conc_srv_ms", "conc_cli_ms")


class Side:
    """One tree's server, its accounts and group, and its measurements."""

    def __init__(self, tree: str, a: argparse.Namespace) -> None:
        args = ["--spawn", "--server-env", f"PYTHONPATH={tree}"]
        for kv in a.server_env:
            args += ["--server-env", kv]
        self.tree = tree
        self.kind: str = a.write
        self.server = m.Spawned(m.parser().parse_args(args))
        self.results: dict[str, list[float]] = {k: [] for k in (*MEASURES, "conc_batch")}

    async def setup(self, session: aiohttp.ClientSession, senders: int) -> None:
        await self.server.start()
        self.api = m.Api(self.server.base, session)
        self.session = session
        self.tokens: dict[str, str | None] = {}  # each user's last stream token
        self.proc = m.Proc(str(self.server.pid_file))
        self.metrics = m.Metrics(self.api)
        prefix = f"ab{int(time.time())}"
        self.users = [await self.api.register(f"{prefix}u{i}") for i in range(senders + 1)]
        self.room = await self.api.create_group(self.users[0], "ab", self.users[1:])
        self.devices: dict[str, str] = {}  # to-device writes go to the sender's own device
        if self.kind == "to-device":
            for user in self.users:
                listed = await self.api.req("GET", "/v1/devices", user.token)
                self.devices[user.token] = listed["devices"][0]["device_id"]
        self.writes = 0
        await self.sequential(50)  # warm-up

    async def write(self, user: m.User, text: str) -> None:
        if self.kind == "stream":
            await self.reconnect(user)
            return
        if self.kind == "message":
            await self.api.send(user.token, self.room, text)
            return
        self.writes += 1
        body = {
            "txn_id": f"td{self.writes}",
            "type": "ab.test",
            "messages": {self.devices[user.token]: {"text": text}},
        }
        await self.api.req("POST", "/v1/to-device", user.token, json=body)

    async def reconnect(self, user: m.User) -> None:
        """Open a stream from the user's last token, wait until it is caught up, close."""
        url = m.ws_url(self.server.base)
        async with self.session.ws_connect(url, compress=0, max_msg_size=0) as ws:
            auth = {"type": "auth", "token": user.token, "since": self.tokens.get(user.token)}
            await ws.send_str(json.dumps(auth))
            async for message in ws:
                frame = json.loads(message.data)
                if frame["type"] == "ready":
                    self.tokens[user.token] = frame["token"]
                    return
                if frame["type"] == "error":
                    raise RuntimeError(f"stream auth failed: {frame}")
            raise RuntimeError("the stream closed before it was ready")

    async def sequential(self, n: int) -> float:
        started = time.perf_counter()
        for i in range(n):
            await self.write(self.users[0], f"s{i}")
        return time.perf_counter() - started

    async def concurrent(self, k: int) -> float:
        async def sender(user: m.User) -> None:
            for i in range(k):
                await self.write(user, f"c{i}")

        started = time.perf_counter()
        await asyncio.gather(*(sender(u) for u in self.users[1:]))
        return time.perf_counter() - started

    async def burst(self, n: int, k: int) -> None:
        r = self.results
        cpu, mine = self.proc.cpu_s(), time.process_time()
        wall = await self.sequential(n)
        r["seq_per_s"].append(n / wall)
        r["seq_srv_ms"].append(1000 * (self.proc.cpu_s() - cpu) / n)
        r["seq_cli_ms"].append(1000 * (time.process_time() - mine) / n)
        total = k * (len(self.users) - 1)
        before = await self.metrics.snapshot()
        cpu, mine = self.proc.cpu_s(), time.process_time()
        wall = await self.concurrent(k)
        r["conc_per_s"].append(total / wall)
        r["conc_srv_ms"].append(1000 * (self.proc.cpu_s() - cpu) / total)
        r["conc_cli_ms"].append(1000 * (time.process_time() - mine) / total)
        writer = m.Metrics.delta(before, await self.metrics.snapshot())
        r["conc_batch"].append(writer.get("jobs_per_batch", 0.0))


async def run(a: argparse.Namespace) -> dict[str, Any]:
    sides = [Side(tree, a) for tree in a.trees]
    connector = m.burst_connector()
    async with aiohttp.ClientSession(connector=connector) as session:
        try:
            for side in sides:
                await side.setup(session, a.senders)
            for round_ in range(a.rounds):
                order = sides if round_ % 2 == 0 else sides[::-1]
                for side in order:
                    await side.burst(a.seq, a.per_sender)
                m.log(f"round {round_ + 1}/{a.rounds}")
        finally:
            for side in sides:
                await side.server.stop()
    first = sides[0].results
    out: dict[str, Any] = {
        "rounds": a.rounds,
        "write": a.write,
        "seq": a.seq,
        "senders": a.senders,
        "per_sender": a.per_sender,
        "trees": [],
    }
    for index, side in enumerate(sides, 1):
        summary: dict[str, Any] = {"tree": side.tree}
        line = f"{index}: {side.tree[-28:]:>28}"
        for key, values in side.results.items():
            ratios = [x / y for x, y in zip(values, first[key], strict=True) if y]
            summary[key] = {
                "median": statistics.median(values),
                "ratio_to_first": statistics.median(ratios),
            }
            line += f" | {key} {summary[key]['median']:.3g} ({summary[key]['ratio_to_first']:.3f})"
        out["trees"].append(summary)
        print(line, flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("trees", nargs="+", help="source trees (each a directory holding kabar/)")
    p.add_argument("--rounds", type=int, default=16)
    p.add_argument("--seq", type=int, default=500, help="sequential sends per burst")
    p.add_argument("--senders", type=int, default=20, help="concurrent senders")
    p.add_argument("--per-sender", type=int, default=50, help="sends per concurrent sender")
    p.add_argument(
        "--write",
        choices=("message", "to-device", "stream"),
        default="message",
        help="what each write is: a message send, a to-device request (a generic job), "
        "or a stream reconnect (reads)",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KABAR_X=V",
        help="extra environment for every server",
    )
    print(json.dumps(asyncio.run(run(p.parse_args()))))


if __name__ == "__main__":
    main()
