#!/usr/bin/env python3
"""A speed probe: how long this machine takes, right now, for one fixed piece of Python.

    python bench/speed.py            # prints the median of 7 timings, in ms

The work is always the same (JSON round trips, dict and string handling, function calls:
the kinds of work a Python server does per request), so when the printed time changes
between the steps of one bench/peers.sh run, the machine's speed changed — on these shared
VMs it drifts by up to 1.6x within minutes — not the servers being measured. peers.sh
writes it into load.txt before each step; it is context for the ratios, never a factor
in them.
"""

from __future__ import annotations

import json
import statistics
import time


def _work() -> int:
    total = 0
    for i in range(3000):
        record = {"id": f"e{i:08d}", "seq": i, "body": "x" * (i % 64), "tags": [i, i + 1]}
        text = json.dumps(record)
        back = json.loads(text)
        total += len(text) + back["seq"] + len(back["tags"])
        total += sum(ord(c) for c in back["id"][-3:])
    return total


def main() -> None:
    _work()  # warm-up
    timings = []
    for _ in range(7):
        started = time.perf_counter()
        _work()
        timings.append(1000 * (time.perf_counter() - started))
    print(f"{statistics.median(timings):.1f}")


if __name__ == "__main__":
    main()
