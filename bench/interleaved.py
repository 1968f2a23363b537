#!/usr/bin/env python3
"""kabar and Synapse in alternating bursts, both up at once: ratios the machine's drift cannot skew.

    python bench/interleaved.py --synapse-config /tmp/peers/synapse-data/bench.yaml
    STEPS=interleaved bench/peers.sh          # what `make bench-peer` runs last (Synapse too)

A whole benchmark round takes a minute for kabar and six for Synapse, and these VMs change
speed by up to 1.8x within minutes (`load.txt`'s speed probe): a ratio of two such rounds
measures the machine as much as the servers. Here kabar (spawned as bench/messaging.py
--spawn does, fresh SQLite) and a running Synapse (fresh, from the peers' setup.sh and
start.sh) serve at the same time, and round after round each takes, in turn (the order
alternating), a burst of sequential sends and a burst of concurrent ones. Each round's
ratio compares bursts seconds apart; the median over the rounds is the verdict.

The workload is the peer benchmark's (../shared/peers/synapse/bench.py), with its client
code for Synapse and bench/messaging.py's for kabar (the same aiohttp session for both):
101 accounts in one room / group; sequential = the first account sending one message after
another; concurrent = 20 other accounts sending at once, each its messages one after
another. The bursts are sized to last seconds on each server (Synapse does ~20 sequential
sends/s here, kabar ~1,000), so they hold different numbers of sends: --kabar-seq and
--synapse-seq, --kabar-per-sender and --synapse-per-sender.

Prints progress to stderr, ONE compact JSON line to stdout, and with --markdown FILE writes
a table of the targets with every round's ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import yaml

import messaging as m

TARGETS = {"seq": 50.0, "conc": 100.0}  # kabar ÷ Synapse, from the issue
# per burst: sends/s; the server's CPU ms per send; the other server's CPU meanwhile, in
# cores (CPU seconds per second: it should idle, not take CPU from the burst)
MEASURES = (
    "seq_per_s",
    "seq_srv_ms",
    "seq_peer_busy",
    "conc_per_s",
    "conc_srv_ms",
    "conc_peer_busy",
)


def load_peer_bench(peers: Path) -> ModuleType:
    """The peer benchmark's module, for its Synapse client (``Api``) and ``gather_limited``."""
    spec = importlib.util.spec_from_file_location("synapse_bench", peers / "synapse" / "bench.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no peer benchmark at {peers / 'synapse' / 'bench.py'}: set --peers")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Side:
    """One server: its accounts, its room, how to send, and its measurements per round."""

    name = ""

    def __init__(self, seq: int, per_sender: int) -> None:
        self.seq, self.per_sender = seq, per_sender
        self.tokens: list[str] = []
        self.room = ""
        self.proc = m.Proc(None)
        self.results: dict[str, list[float]] = {k: [] for k in MEASURES}

    async def send(self, token: str, body: str) -> None:
        raise NotImplementedError

    async def sends(self, token: str, tag: str, n: int) -> None:
        for i in range(n):
            await self.send(token, f"{tag} {i}")

    async def burst(self, round_: int, kind: str, peer: Side) -> None:
        """One burst of ``kind``; also notes the CPU ``peer`` (not sending) used meanwhile."""
        if kind == "seq":
            total = self.seq
            work: Awaitable[Any] = self.sends(self.tokens[0], f"seq{round_}", self.seq)
        else:
            senders = self.tokens[1:21]
            total = self.per_sender * len(senders)
            work = asyncio.gather(
                *(
                    self.sends(t, f"conc{round_}-{i}", self.per_sender)
                    for i, t in enumerate(senders)
                )
            )
        cpu, peer_cpu, started = self.proc.cpu_s(), peer.proc.cpu_s(), time.perf_counter()
        await work
        wall = time.perf_counter() - started
        self.results[f"{kind}_per_s"].append(total / wall)
        self.results[f"{kind}_srv_ms"].append(1000 * (self.proc.cpu_s() - cpu) / total)
        # Work a server does after answering (Synapse's background jobs) must not run into
        # the other's burst unnoticed: it would take CPU from it.
        self.results[f"{kind}_peer_busy"].append((peer.proc.cpu_s() - peer_cpu) / wall)


class Kabar(Side):
    name = "kabar"

    def __init__(self, a: argparse.Namespace) -> None:
        super().__init__(a.kabar_seq, a.kabar_per_sender)
        self.server = m.Spawned(m.parser().parse_args(["--spawn"]))

    async def setup(self, session: aiohttp.ClientSession, users: int) -> None:
        await self.server.start()
        self.api = m.Api(self.server.base, session)
        self.proc = m.Proc(str(self.server.pid_file))
        prefix = f"il{int(time.time())}"
        accounts = await m.gather_limited(
            8, [self.api.register(f"{prefix}u{i}") for i in range(users)]
        )
        self.tokens = [u.token for u in accounts]
        self.room = await self.api.create_group(accounts[0], "bench-all", accounts[1:])

    async def send(self, token: str, body: str) -> None:
        await self.api.send(token, self.room, body)

    async def stop(self) -> None:
        await self.server.stop()


class Synapse(Side):
    name = "synapse"

    def __init__(self, a: argparse.Namespace) -> None:
        super().__init__(a.synapse_seq, a.synapse_per_sender)
        self.bench = load_peer_bench(Path(a.peers))
        self.base = a.synapse_base
        self.secret = yaml.safe_load(Path(a.synapse_config).read_text())[
            "registration_shared_secret"
        ]
        self.proc = m.Proc(a.synapse_pid_file)

    async def setup(self, session: aiohttp.ClientSession, users: int) -> None:
        self.api = self.bench.Api(self.base, session)
        prefix = f"il{int(time.time())}"
        gather: Callable[..., Awaitable[list[str]]] = self.bench.gather_limited
        self.tokens = await gather(
            8, [self.api.register(self.secret, f"{prefix}u{i}") for i in range(users)]
        )
        self.room = await self.api.create_room(self.tokens[0], "bench-all")
        await gather(10, [self.api.join(t, self.room) for t in self.tokens[1:]])

    async def send(self, token: str, body: str) -> None:
        await self.api.send(token, self.room, body)

    async def stop(self) -> None:
        pass  # started and stopped by whoever runs this (bench/peers.sh)


def summarise(kabar: Side, synapse: Side) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("seq", "conc"):
        k, s = kabar.results[f"{kind}_per_s"], synapse.results[f"{kind}_per_s"]
        ratios = [x / y for x, y in zip(k, s, strict=True)]
        out[kind] = {
            "kabar_per_s": statistics.median(k),
            "synapse_per_s": statistics.median(s),
            "ratio_median": statistics.median(ratios),
            "ratios": [round(r, 1) for r in ratios],
            "rounds_meeting_target": sum(r >= TARGETS[kind] for r in ratios),
            "kabar_srv_ms": statistics.median(kabar.results[f"{kind}_srv_ms"]),
            "synapse_srv_ms": statistics.median(synapse.results[f"{kind}_srv_ms"]),
            # the idle server's CPU during the other's bursts, in cores
            "synapse_busy_in_kabar_bursts": max(kabar.results[f"{kind}_peer_busy"]),
            "kabar_busy_in_synapse_bursts": max(synapse.results[f"{kind}_peer_busy"]),
        }
    return out


def markdown(summary: dict[str, Any], a: argparse.Namespace) -> str:
    names = {"seq": "sequential sends", "conc": "concurrent sends"}
    lines = [
        "## Interleaved (bench/interleaved.py): both servers up, bursts alternating",
        "",
        f"{a.rounds} rounds after one warm-up round; per round each server takes a burst of"
        f" sequential sends (kabar {a.kabar_seq}, Synapse {a.synapse_seq}) and one of 20"
        f" concurrent senders (kabar {a.kabar_per_sender}, Synapse {a.synapse_per_sender}"
        " sends each), the order alternating. Each ratio compares two bursts seconds apart.",
        "",
        "| target | Synapse (median) | kabar (median) | median of the rounds' ratios"
        " | rounds meeting it | every round's ratio |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for kind, target in TARGETS.items():
        row = summary[kind]
        lines.append(
            f"| {names[kind]} ≥ {target:g}× Synapse | {row['synapse_per_s']:,.1f}/s"
            f" | {row['kabar_per_s']:,.0f}/s | **{row['ratio_median']:.1f}×**"
            f" | {row['rounds_meeting_target']} of {len(row['ratios'])}"
            f" | {', '.join(f'{r:g}' for r in row['ratios'])} |"
        )
    lines += [
        "",
        "Server CPU per send (median of the rounds): sequential kabar"
        f" {summary['seq']['kabar_srv_ms']:.2f} ms, Synapse {summary['seq']['synapse_srv_ms']:.1f}"
        f" ms; concurrent kabar {summary['conc']['kabar_srv_ms']:.2f} ms, Synapse"
        f" {summary['conc']['synapse_srv_ms']:.1f} ms. The idle server's CPU during the other's"
        " bursts (at most, in cores; near 0 means it took nothing from them): Synapse during"
        f" kabar's {summary['seq']['synapse_busy_in_kabar_bursts']:.2f} (sequential),"
        f" {summary['conc']['synapse_busy_in_kabar_bursts']:.2f} (concurrent); kabar during"
        f" Synapse's {summary['seq']['kabar_busy_in_synapse_bursts']:.2f},"
        f" {summary['conc']['kabar_busy_in_synapse_bursts']:.2f}.",
        "",
    ]
    return "\n".join(lines)


async def run(a: argparse.Namespace) -> dict[str, Any]:
    kabar, synapse = Kabar(a), Synapse(a)
    sides: list[Kabar | Synapse] = [kabar, synapse]
    connector = m.burst_connector()
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        try:
            for side in sides:
                m.log(f"{side.name}: registering {a.users} accounts, one room of all of them")
                await side.setup(session, a.users)
            for round_ in range(a.rounds + 1):  # round 0 warms both up and is dropped
                order = sides if round_ % 2 == 0 else sides[::-1]
                for kind in ("seq", "conc"):
                    for side in order:
                        await side.burst(round_, kind, synapse if side is kabar else kabar)
                if round_ == 0:
                    for side in sides:
                        side.results = {k: [] for k in MEASURES}
                    continue
                ratios = {
                    kind: kabar.results[f"{kind}_per_s"][-1] / synapse.results[f"{kind}_per_s"][-1]
                    for kind in ("seq", "conc")
                }
                m.log(
                    f"round {round_}/{a.rounds}: sequential {ratios['seq']:.1f}x,"
                    f" concurrent {ratios['conc']:.1f}x"
                )
        finally:
            for side in sides:
                await side.stop()
    summary = summarise(kabar, synapse)
    return {
        "rounds": a.rounds,
        "sizes": {k: v for k, v in vars(a).items() if k.endswith(("_seq", "_per_sender"))},
        **summary,
        "raw": {side.name: side.results for side in sides},
    }


def main() -> None:
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--peers", default=str(here.parent.parent / "shared" / "peers"))
    p.add_argument("--synapse-base", default="http://127.0.0.1:18008")
    p.add_argument("--synapse-config", default="/tmp/peers/synapse-data/bench.yaml")
    p.add_argument("--synapse-pid-file", default="/tmp/peers/synapse-data/synapse.pid")
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--users", type=int, default=101, help="accounts in the one room")
    p.add_argument("--kabar-seq", type=int, default=2000)
    p.add_argument("--synapse-seq", type=int, default=100)
    p.add_argument("--kabar-per-sender", type=int, default=100)
    p.add_argument("--synapse-per-sender", type=int, default=10)
    p.add_argument("--markdown", help="write the targets' table here")
    a = p.parse_args()
    if a.users < 21:
        sys.exit("--users must be at least 21 (one sequential sender and 20 concurrent ones)")
    result = asyncio.run(run(a))
    if a.markdown:
        Path(a.markdown).write_text(markdown(result, a))
    print(json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    main()
