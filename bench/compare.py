#!/usr/bin/env python3
"""Compare one bench/peers.sh run: Synapse, kabar and the ceiling, metric by metric.

    python bench/compare.py bench/results/<run>/

Reads synapse.json, kabar.json, ceiling-relay.json, ceiling-sqlite.json and meta.json from the
directory (a missing file shows as "–") and prints Markdown: each metric for the three, the
ratios kabar ÷ Synapse and kabar ÷ ceiling (plain division, so for latencies below 1 is
better), and the issue's targets, each marked met or not met. When a server ran more than
once (kabar-1.json, kabar-2.json, …, synapse-1.json, …; bench/peers.sh's KABAR_ROUNDS and
SYNAPSE_ROUNDS), each of its numbers is the median of its rounds, taken metric by metric,
and the targets also show each round.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Result = dict[str, Any]
Getter = Callable[[Result], float | None]


def load(directory: Path, name: str) -> Result:
    path = directory / name
    if not path.exists() or not path.read_text().strip():
        return {}
    return json.loads(path.read_text().strip().splitlines()[-1])


def load_rounds(directory: Path, name: str) -> tuple[Result, list[Result]]:
    """``name``.json; or, when the run repeated it, the median of ``name``-1.json,
    ``name``-2.json, … field by field. Also the rounds themselves."""
    paths = sorted(
        directory.glob(f"{name}-[0-9]*.json"), key=lambda p: int(p.stem.rsplit("-", 1)[1])
    )
    rounds = [r for r in (load(directory, p.name) for p in paths) if r]
    if not rounds:
        single = load(directory, f"{name}.json")
        return single, [single] if single else []
    return median_of(rounds), rounds


def median_of(values: list[Any]) -> Any:
    """The field-by-field median of results of the same shape; non-numbers from the first."""
    first = values[0]
    if isinstance(first, dict):
        return {
            key: median_of([v[key] for v in values if isinstance(v, dict) and key in v])
            for key in first
        }
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if isinstance(first, bool) or not numbers:
        return first
    return statistics.median(numbers)


def field(phase: str, key: str) -> Getter:
    return lambda r: r.get(phase, {}).get(key)


def per_msg_ms(phase: str, count: Callable[[Result], float]) -> Getter:
    """Server CPU milliseconds per message in ``phase``."""

    def get(r: Result) -> float | None:
        p = r.get(phase)
        if not p or p.get("srv_cpu_s") is None or not count(p):
            return None
        return 1000 * p["srv_cpu_s"] / count(p)

    return get


def mb(phase: str) -> Getter:
    """Peak server RSS in MB during a fan-out phase (the ceiling reports VmHWM per phase)."""

    def get(r: Result) -> float | None:
        p = r.get(phase, {})
        kb = p.get("srv_peak_rss_kb") or p.get("srv_hwm_kb")
        return kb / 1024 if kb else None

    return get


@dataclass(frozen=True)
class Row:
    label: str
    synapse: Getter | None
    kabar: Getter | None
    ceiling: Getter | None
    note: str = ""


def same(phase: str, key: str, note: str = "") -> Row:
    g = field(phase, key)
    return Row(f"{phase} {key}", g, g, g, note)


SEQ = "n"
ROWS = [
    same("send_seq", "msgs_per_s"),
    same("send_seq", "p50_ms"),
    same("send_seq", "p99_ms"),
    same("fanout_10", "p50_ms", "ceiling: WebSocket receivers"),
    same("fanout_10", "p99_ms", "ceiling: WebSocket receivers"),
    same("fanout_10", "max_ms", "ceiling: WebSocket receivers"),
    same("fanout_100", "p50_ms", "ceiling: WebSocket receivers"),
    same("fanout_100", "p99_ms", "ceiling: WebSocket receivers"),
    same("fanout_100", "max_ms", "ceiling: WebSocket receivers"),
    same("fanout_100", "lost_pairs"),
    Row(
        "fanout_ws_100 p50_ms †",
        None,
        field("fanout_ws_100", "p50_ms"),
        field("fanout_100", "p50_ms"),
    ),
    Row(
        "fanout_ws_100 p99_ms †",
        None,
        field("fanout_ws_100", "p99_ms"),
        field("fanout_100", "p99_ms"),
    ),
    Row(
        "fanout_ws_100 max_ms †",
        None,
        field("fanout_ws_100", "max_ms"),
        field("fanout_100", "max_ms"),
    ),
    same("concurrent", "msgs_per_s", "ceiling: one client per sender"),
    same("concurrent", "p50_ms"),
    same("concurrent", "p99_ms"),
    Row(
        "concurrent_ws msgs_per_s †",
        None,
        field("concurrent_ws", "msgs_per_s"),
        field("concurrent_ws", "msgs_per_s"),
    ),
    Row(
        "concurrent_ws p50_ms †",
        None,
        field("concurrent_ws", "p50_ms"),
        field("concurrent_ws", "p50_ms"),
    ),
    Row(
        "concurrent_ws p99_ms †",
        None,
        field("concurrent_ws", "p99_ms"),
        field("concurrent_ws", "p99_ms"),
    ),
    Row("server peak RSS MB, fanout_10", mb("fanout_10"), mb("fanout_10"), mb("fanout_10")),
    Row("server peak RSS MB, fanout_100", mb("fanout_100"), mb("fanout_100"), mb("fanout_100")),
    Row(
        "server CPU ms per send, send_seq",
        *[per_msg_ms("send_seq", lambda p: p["n"])] * 3,
    ),
    Row(
        "server CPU ms per send, concurrent",
        *[per_msg_ms("concurrent", lambda p: p["senders"] * p["per_sender"])] * 3,
    ),
    Row(
        "server CPU ms per message, fanout_100",
        *[per_msg_ms("fanout_100", lambda p: p["msgs"] + 1)] * 3,
        "100 deliveries each",
    ),
    Row(
        "server CPU ms per message, fanout_ws_100 †",
        None,
        per_msg_ms("fanout_ws_100", lambda p: p["msgs"] + 1),
        per_msg_ms("fanout_100", lambda p: p["msgs"] + 1),
    ),
    Row(
        "server CPU ms per send, concurrent_ws †",
        None,
        per_msg_ms("concurrent_ws", lambda p: p["senders"] * p["per_sender"]),
        per_msg_ms("concurrent_ws", lambda p: p["senders"] * p["per_sender"]),
    ),
    Row("bench client CPU s, whole run", *[lambda r: r.get("client_cpu_s")] * 3),
]


@dataclass(frozen=True)
class Target:
    label: str
    phase: str
    key: str
    bound: float  # kabar ÷ Synapse must be >= bound (or <= bound when at_most)
    at_most: bool = False


TARGETS = [
    Target("sequential sends ≥ 50× Synapse", "send_seq", "msgs_per_s", 50),
    Target("concurrent sends ≥ 100× Synapse", "concurrent", "msgs_per_s", 100),
    Target(
        "p99 delivery to 100 receivers ≤ 1/20 of Synapse's", "fanout_100", "p99_ms", 1 / 20, True
    ),
]


def num(x: float | None) -> str:
    if x is None:
        return "–"
    if isinstance(x, int):
        return f"{x:,}"
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def times(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 1 else f"{x:.3f}×"


def get(g: Getter | None, r: Result) -> float | None:
    if g is None or not r:
        return None
    try:
        return g(r)
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def metrics_table(syn: Result, kab: Result, ceil: Result) -> list[str]:
    out = [
        "| metric | Synapse | kabar | ceiling | kabar ÷ Synapse | kabar ÷ ceiling | note |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in ROWS:
        s, k, c = get(row.synapse, syn), get(row.kabar, kab), get(row.ceiling, ceil)
        cells = [num(s), num(k), num(c), times(ratio(k, s)), times(ratio(k, c))]
        out.append(f"| {row.label} | " + " | ".join(cells) + f" | {row.note} |")
    return out


def targets_table(
    syn: Result, kab: Result, rounds: list[Result], synapse_rounds: list[Result] | None = None
) -> list[str]:
    several = len(rounds) > 1
    synapse_several = synapse_rounds is not None and len(synapse_rounds) > 1
    out = [
        "| target | Synapse | kabar | kabar ÷ Synapse | verdict |"
        + (f" kabar in each of {len(rounds)} rounds (÷ Synapse) |" if several else "")
        + (f" Synapse in each of {len(synapse_rounds or [])} rounds |" if synapse_several else ""),
        "|---|---:|---:|---:|---|"
        + ("---|" if several else "")
        + ("---|" if synapse_several else ""),
    ]
    for t in TARGETS:
        s, k = syn.get(t.phase, {}).get(t.key), kab.get(t.phase, {}).get(t.key)
        r = ratio(k, s)
        verdict = (
            "–"
            if r is None
            else "met"
            if (r <= t.bound if t.at_most else r >= t.bound)
            else "**not met**"
        )
        row = f"| {t.label} | {num(s)} | {num(k)} | {times(r)} | {verdict} |"
        if several:
            each = [rnd.get(t.phase, {}).get(t.key) for rnd in rounds]
            row += " " + ", ".join(f"{num(v)} ({times(ratio(v, s))})" for v in each) + " |"
        if synapse_several:
            each = [rnd.get(t.phase, {}).get(t.key) for rnd in synapse_rounds or []]
            row += " " + ", ".join(num(v) for v in each) + " |"
        out.append(row)
    return out


def asks_of_machine(syn: Result, kab: Result, ceil: Result) -> list[str]:
    """What each throughput target asks here, against the bare relay's rate in the same run.

    The targets are multiples of Synapse's rate on this machine; the relay stores nothing and
    authenticates no one, so a target at or above its rate asks more than a server that does
    nothing manages here (the twelfth machine's sequential target did: docs/performance.md).
    """
    out: list[str] = []
    for t in TARGETS:
        if t.at_most:
            continue
        s = syn.get(t.phase, {}).get(t.key)
        k = kab.get(t.phase, {}).get(t.key)
        c = ceil.get(t.phase, {}).get(t.key)
        if not (s and c):
            continue
        asked = t.bound * s
        line = (
            f"- {t.label.split(' ≥')[0]}: ≥ {num(asked)}/s ({t.bound:g} × {num(s)}), "
            f"**{asked / c:.2f}×** the bare relay's {num(c)}/s"
        )
        if k:
            line += f"; kabar did {num(k)}/s, {k / c:.2f}× the relay's"
        out.append(line + ".")
    if not out:
        return []
    return [
        "What the throughput targets ask on this machine, against the bare relay measured in "
        "the same run (a server that stores nothing and authenticates no one):",
        "",
        *out,
        "",
    ]


def sqlite_table(sq: Result, kab: Result) -> list[str]:
    if not sq:
        return []
    out = [
        f"SQLite ceiling (SQLite {sq.get('sqlite')}, WAL, rows/s; +index = `(room, id)`):",
        "",
        "| synchronous | batch | plain rows/s | +index rows/s |",
        "|---|---:|---:|---:|",
    ]
    cells = {(c["sync"], c["batch"], c["index"]): c["rows_per_s"] for c in sq["results"]}
    for sync, batch in sorted({(c["sync"], c["batch"]) for c in sq["results"]}):
        plain, index = cells.get((sync, batch, False)), cells.get((sync, batch, True))
        out.append(f"| {sync} | {batch} | {num(plain)} | {num(index)} |")
    one = cells.get(("FULL", 1, True))
    seq = kab.get("send_seq", {}).get("msgs_per_s")
    if one and seq:
        out += [
            "",
            f"kabar send_seq is {seq / one:.0%} of SQLite's one-row FULL commit rate with an index "
            f"({num(seq)} of {num(one)}/s): each sequential send is one fsync'd commit.",
        ]
    return out


def machine(meta: Result) -> str:
    sizes = " · QUICK sizes " + " ".join(meta["sizes"]) if meta.get("quick") else " · full sizes"
    dirty = " (src modified)" if meta.get("kabar_dirty") else ""
    idle = meta.get("cpu_idle") or {}
    if idle.get("driver"):
        poll = idle.get("guest_halt_poll_ns")
        idle_text = f" · cpuidle {idle['driver']}" + (f" (halt poll {poll} ns)" if poll else "")
    else:
        idle_text = ""
    return (
        f"{meta.get('date')} · {meta.get('cpus')}× {meta.get('cpu')} · {meta.get('mem_gib')} GiB"
        f" · Linux {meta.get('kernel')}{idle_text} · Python {meta.get('python')}"
        f" · kabar {str(meta.get('kabar_commit'))[:10]}{dirty}{sizes}"
        f" · load before {meta.get('loadavg_before', [None])[0]}"
    )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("directory", type=Path)
    a = p.parse_args()
    syn, synapse_rounds = load_rounds(a.directory, "synapse")
    kab, kabar_rounds = load_rounds(a.directory, "kabar")
    ceil, sq = load(a.directory, "ceiling-relay.json"), load(a.directory, "ceiling-sqlite.json")
    meta = (
        json.loads((a.directory / "meta.json").read_text())
        if (a.directory / "meta.json").exists()
        else {}
    )
    lines = [f"# kabar vs Synapse vs ceiling — {a.directory.name}", ""]
    if meta:
        lines += [machine(meta), ""]
    versions = [
        f"Synapse {syn.get('version')}" if syn else None,
        f"kabar {kab.get('version')}" if kab else None,
    ]
    if ceil:
        versions.append(
            "ceiling relay ("
            + ", ".join(f"{k} {v}" for k, v in ceil.get("versions", {}).items())
            + ")"
        )
    lines += [" · ".join(v for v in versions if v), ""]
    for name, server_rounds in (("kabar", kabar_rounds), ("Synapse", synapse_rounds)):
        if len(server_rounds) > 1:
            lines += [
                f"{name} ran {len(server_rounds)} times in this run ({name.lower()}-1.json …): "
                "each of its numbers below is the median of those rounds, metric by metric.",
                "",
            ]
    lines += ["## Targets", ""] + targets_table(syn, kab, kabar_rounds, synapse_rounds) + [""]
    lines += asks_of_machine(syn, kab, ceil)
    lines += ["## All metrics", ""] + metrics_table(syn, kab, ceil) + [""]
    lines += [
        "† kabar-only phases (WebSocket), compared with the relay's WebSocket phases: the "
        "ceiling's fanout_100 already uses WebSocket receivers, and its concurrent_ws senders do "
        "not receive the room's messages, while each kabar sender socket also receives them all.",
        "Latencies in ms, throughput in messages/s; ratios are plain kabar ÷ other "
        "(for latencies and costs, below 1× is better).",
        "",
    ]
    lines += sqlite_table(sq, kab)
    load_txt = a.directory / "load.txt"
    if load_txt.exists():
        lines += [
            "",
            "Load on the machine at each step (other work skews the numbers), and the speed "
            "probe (bench/speed.py: ms for the same fixed Python work; a higher number is a "
            "slower machine at that moment):",
            "",
            "```",
        ]
        lines += [load_txt.read_text().rstrip(), "```"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
