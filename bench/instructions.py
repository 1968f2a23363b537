#!/usr/bin/env python3
"""CPU instructions per send: a noise-free A/B of the server's own cost, under callgrind.

On a shared 2-vCPU VM two runs of the same code differ by ±15 % in sends/s, so a change
worth 3 % cannot be seen in `bench/messaging.py`. Valgrind's callgrind counts the
instructions a process executes instead of timing it: the same code and the same requests
give the same count within ~2-3 % (timers and garbage collections fall at different
moments), whatever else the machine is doing.

    python bench/instructions.py                 # this checkout's src/
    python bench/instructions.py --src A/src --src B/src   # compare two trees, in turn

For each tree: `kabar serve` on a fresh SQLite file runs under `valgrind --tool=callgrind`
(start-up takes a minute or two at valgrind's pace); one account and one group; 30 warm-up
sends; then the counters are zeroed and N sequential sends are made, and the counters
dumped; then the same for 20 concurrent senders × N/10 sends. Prints instructions per send
(user space only: the kernel's share, fsync included, is not counted), ONE JSON line per
tree. Concurrent batches are bigger under valgrind than natively (the server is ~50× slower
while the client is not), so compare concurrent counts between trees, not with real runs.
Needs valgrind (Debian's package).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from serving import free_port, wait_until_healthy

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"


def dumped_total(pattern: Path, trigger: str) -> int:
    """The instruction total of the callgrind dump made with ``trigger``."""
    for path in sorted(pattern.parent.glob(pattern.name + ".*"), key=os.path.getmtime):
        text = path.read_text(errors="ignore")
        if f"Trigger: dump {trigger}" in text[:4000]:
            for line in text.splitlines():
                if line.startswith("summary:"):
                    return int(line.split()[1])
    raise RuntimeError(f"no callgrind dump for {trigger}")


class Callgrind:
    def __init__(self, pid: int, out: Path) -> None:
        self.pid, self.out = pid, out

    def control(self, *args: str) -> None:
        subprocess.run(["callgrind_control", *args, str(self.pid)], check=True, capture_output=True)

    def zero(self) -> None:
        self.control("-z")

    def total(self, trigger: str) -> int:
        self.control("-d", trigger)
        for _ in range(50):
            try:
                return dumped_total(self.out, trigger)
            except RuntimeError:
                time.sleep(0.2)
        return dumped_total(self.out, trigger)


async def drive(base: str, grind: Callgrind, n: int) -> dict[str, float]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as s:

        async def req(method: str, path: str, token: str | None = None, **kw: Any) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with s.request(method, base + path, headers=headers, **kw) as r:
                body = await r.json(content_type=None)
                if r.status not in (200, 201):
                    raise RuntimeError(f"{method} {path} -> {r.status}: {body}")
                return body

        name = f"i{uuid.uuid4().hex[:8]}"
        token = (await req("POST", "/v1/accounts", json={"username": name, "password": PASSWORD}))[
            "access_token"
        ]
        group = (
            await req("POST", "/v1/conversations/groups", token, json={"title": "i", "members": []})
        )["conversation_id"]

        async def send() -> None:
            path = f"/v1/conversations/{group}/messages/{uuid.uuid4().hex}"
            await req("PUT", path, token, json={"algorithm": "bench.plain", "ciphertext": "x" * 40})

        for _ in range(30):
            await send()
        grind.zero()
        for _ in range(n):
            await send()
        seq = grind.total("seq")
        per_sender = max(1, n // 10)

        async def sender() -> None:
            for _ in range(per_sender):
                await send()

        grind.zero()
        await asyncio.gather(*(sender() for _ in range(20)))
        concurrent = grind.total("concurrent")
        return {
            "seq_instructions_per_send": round(seq / n),
            "concurrent_instructions_per_send": round(concurrent / (20 * per_sender)),
        }


async def measure(src: Path, n: int) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="kabar-instr-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KABAR_")} | {
        "PYTHONPATH": str(src),
        "KABAR_DATABASE_URL": f"sqlite:///{data / 'kabar.db'}",
        "KABAR_MEDIA_DIRECTORY": str(data / "media"),
        "KABAR_SERVER_PORT": str(port),
        "KABAR_SERVER_LOG_LEVEL": "warning",
        "KABAR_RATE_LIMITS_ENABLED": "false",
        "KABAR_SECURITY_ARGON2_MEMORY_KIB": "1024",
        "KABAR_SECURITY_ARGON2_TIME_COST": "1",
        "KABAR_STREAM_COMMIT_TIMEOUT_SECONDS": "120",  # valgrind's pace
    }
    out = data / "callgrind.out"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    cmd += [sys.executable, "-m", "kabar", "serve", "--migrate"]
    with (data / "server.log").open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, cwd=data)  # noqa: ASYNC220
    base = f"http://127.0.0.1:{port}"
    try:
        # valgrind's pace: start-up takes a minute or two
        await wait_until_healthy(base, seconds=600, exited=lambda: proc.poll() is not None)
        result = await drive(base, Callgrind(proc.pid, out), n)
    finally:
        proc.terminate()
        proc.wait(60)
        shutil.rmtree(data, ignore_errors=True)
    return {"src": str(src), "sends": n, **result}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--src", action="append", type=Path, help="a kabar src/ tree (repeatable)")
    p.add_argument("--sends", type=int, default=300, help="sequential sends (concurrent: same)")
    a = p.parse_args()
    for src in a.src or [REPO / "src"]:
        print(json.dumps(asyncio.run(measure(src.resolve(), a.sends))), flush=True)


if __name__ == "__main__":
    main()
