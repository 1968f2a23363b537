"""End-to-end encryption benchmark: a 100-member group with one sender.

Prints (not asserted):

* **group start** — from creating a 100-member group to the sender's first message
  being acknowledged: fetching 100 device lists, claiming 99 one-time keys, opening
  99 Olm sessions, sharing the Megolm key to every device, encrypting, sending;
  and until every member's device has decrypted that first message;
* **throughput** — encrypted messages per second from one sender (encrypt, franking
  commitment, send, ack), and end to end: until ``--receivers`` live devices (SDK
  sessions on the WebSocket) have each decrypted, checked and stored every message.

The server runs as a separate ``kabar serve`` process on a fresh SQLite database
(default durability: ``synchronous=FULL``); all clients run in this process, so
on a small machine they share its cores with the server. Usage::

    .venv/bin/python bench/e2e.py [--members 100] [--messages 500] [--receivers 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from kabar.client import Client, Message, Session
from kabar.client.vault import KdfParams
from serving import free_port, wait_until_healthy

PASSWORD = "benchmark password"
CHEAP_KDF = KdfParams(time_cost=1, memory_kib=1024, parallelism=1)


@contextlib.asynccontextmanager
async def kabar_server(directory: Path) -> AsyncIterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "KABAR_SERVER_PORT": str(port),
        "KABAR_DATABASE_URL": f"sqlite:///{directory / 'kabar.db'}",
        "KABAR_MEDIA_DIRECTORY": str(directory / "media"),
        "KABAR_RATE_LIMITS_ENABLED": "false",
        "KABAR_SECURITY_ARGON2_TIME_COST": "1",
        "KABAR_SECURITY_ARGON2_MEMORY_KIB": "1024",
        "KABAR_SERVER_LOG_LEVEL": "warning",
    }
    log = (directory / "server.log").open("wb")  # noqa: ASYNC230 - opened once, before serving
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kabar", "serve", "--migrate", env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_healthy(url, seconds=30, exited=lambda: process.returncode is not None)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 15)
        log.close()


async def register_all(client: Client, count: int, directory: Path) -> list[Session]:
    prefix = f"b{os.getpid() % 10000}"
    limit = asyncio.Semaphore(8)

    async def one(i: int) -> Session:
        async with limit:
            registration = await client.register(f"{prefix}_{i:03d}", PASSWORD, "pass", directory)
            return registration.session

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def decrypted(session: Session, conversation_id: str, want: int) -> None:
    """Wait until this session holds ``want`` messages of the conversation."""
    while True:
        got = [m for m in session.history(conversation_id, want) if isinstance(m, Message)]
        if len(got) >= want:
            return
        await asyncio.sleep(0.01)


async def run(members: int, messages: int, receivers: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="kabar-bench-"))
    try:
        async with kabar_server(directory) as url:
            client = Client(url, kdf=CHEAP_KDF)
            started = time.perf_counter()
            sessions = await register_all(client, members, directory / "devices")
            took = time.perf_counter() - started
            print(f"registered {members} accounts with keys in {took:.1f} s")
            sender, others = sessions[0], sessions[1:]
            for session in sessions:
                await session.sync()

            started = time.perf_counter()
            group = await sender.create_group("benchmark", [s.username for s in others])
            await sender.send_text(group.conversation_id, "hello, everyone")
            start_send = time.perf_counter() - started
            await asyncio.gather(*(s.sync() for s in others))
            await asyncio.gather(*(decrypted(s, group.conversation_id, 1) for s in others))
            start_all = time.perf_counter() - started
            waiting = sum(len(s.undecrypted()) for s in others)

            live = others[:receivers]
            for session in [sender, *live]:
                await session.start()
                await session.wait_live(30)
            started = time.perf_counter()
            for i in range(messages):
                await sender.send_text(group.conversation_id, f"message {i} of the benchmark")
            sent = time.perf_counter() - started
            await asyncio.gather(*(decrypted(s, group.conversation_id, messages + 1) for s in live))
            end_to_end = time.perf_counter() - started
            for session in sessions:
                await session.close()

            print(f"\n100-member group start ({members} members, one device each)")
            print(f"  first message acknowledged (all key shares): {start_send * 1000:8.0f} ms")
            print(f"  first message decrypted by every member:     {start_all * 1000:8.0f} ms")
            print(f"  unable to decrypt afterwards:                {waiting:8d}")
            print(f"\nthroughput, one sender, {messages} messages")
            print(f"  sender (encrypt + send + ack):  {messages / sent:8.0f} messages/s")
            rate, decryptions = messages / end_to_end, messages * receivers / end_to_end
            print(f"  end to end ({receivers} live receivers): {rate:8.0f} messages/s", end="")
            print(f"  ({decryptions:.0f} decryptions/s)")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--receivers", type=int, default=5, help="live receiving devices")
    args = parser.parse_args()
    asyncio.run(run(args.members, args.messages, min(args.receivers, args.members - 1)))


if __name__ == "__main__":
    main()
