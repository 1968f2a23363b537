#!/usr/bin/env python3
"""Summarise a py-spy speedscope profile as text: where the server's time goes.

    python bench/profile_top.py PROFILE.speedscope.json [--top 25] [--match kabar/]

For each thread: samples and seconds, then the functions with the most *self* time (the frame
on top of the stack) and the most *total* time (anywhere on the stack), each as
function (file:line), where the line is the hottest line of that function; --by-package sums
the self time per package instead (kabar per subpackage). --match keeps only
functions whose file path contains the string in the total list (e.g. kabar/ for kabar's own
code). Paths are shortened to the part after site-packages/ or src/.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

Func = tuple[str, str]  # (function name, file)


def short(path: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


class Table:
    """Weighted counts per function, remembering each function's hottest line."""

    def __init__(self) -> None:
        self.weight: Counter[Func] = Counter()
        self.lines: defaultdict[Func, Counter[int]] = defaultdict(Counter)

    def add(self, frame: dict[str, Any], w: float) -> None:
        func = (frame["name"], frame["file"])
        self.weight[func] += w
        self.lines[func][frame["line"]] += w

    def rows(self, top: int, total: float, match: str | None = None) -> list[str]:
        out = []
        for func, w in self.weight.most_common():
            if match and match not in func[1]:
                continue
            line = self.lines[func].most_common(1)[0][0]
            out.append(
                f"  {100 * w / total:5.1f}%  {w:7.2f}s  {func[0]}  ({short(func[1])}:{line})"
            )
            if len(out) == top:
                break
        return out


def package(frame: dict[str, Any]) -> str:
    """Where a frame's code lives: a top-level package, kabar's subpackage, or the stdlib module."""
    parts = short(frame["file"]).split("/")
    if parts[0] == "kabar" and len(parts) > 2:
        return f"kabar.{parts[1]}"
    if frame["name"] == "Runner.run":
        return "event loop (uvloop, C)"
    return parts[0].removesuffix(".py")


def by_package(doc: dict[str, Any]) -> list[str]:
    """Self time per package, over all threads: who burns the samples."""
    frames = doc["shared"]["frames"]
    weights: Counter[str] = Counter()
    for prof in doc["profiles"]:
        for stack, w in zip(prof["samples"], prof["weights"], strict=True):
            if stack:
                weights[package(frames[stack[-1]])] += w
    total = sum(weights.values())
    out = [f"self time by package, all threads: {total:.2f} s"]
    for name, w in weights.most_common():
        out.append(f"  {100 * w / total:5.1f}%  {w:7.2f}s  {name}")
    return out


def summarise(doc: dict[str, Any], top: int, match: str | None) -> list[str]:
    frames = doc["shared"]["frames"]
    out = []
    for prof in doc["profiles"]:
        total = sum(prof["weights"])
        if total <= 0:
            continue
        self_t, incl_t = Table(), Table()
        for stack, w in zip(prof["samples"], prof["weights"], strict=True):
            if stack:
                self_t.add(frames[stack[-1]], w)
            for idx in {i: None for i in stack}:  # each frame once per sample
                incl_t.add(frames[idx], w)
        out.append(f"{prof['name']}: {len(prof['samples'])} samples, {total:.2f} s")
        out.append(" self:")
        out += self_t.rows(top, total)
        out.append(" total" + (f" (files matching {match!r})" if match else "") + ":")
        out += incl_t.rows(top, total, match)
    return out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("profile", type=Path)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--match", help="total list: only files whose path contains this")
    p.add_argument("--min-seconds", type=float, default=0.05, help="skip threads with less")
    p.add_argument("--by-package", action="store_true", help="only the self time per package")
    a = p.parse_args()
    doc = json.loads(a.profile.read_text())
    doc["profiles"] = [q for q in doc["profiles"] if sum(q["weights"]) >= a.min_seconds]
    print("\n".join(by_package(doc) if a.by_package else summarise(doc, a.top, a.match)))


if __name__ == "__main__":
    main()
