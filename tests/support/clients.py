"""SDK sessions against a test server: accounts with several devices, and settling helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from kabar.client import Client, Session
from kabar.client.models import Message, UnableToDecrypt
from kabar.client.vault import KdfParams
from support.api import PASSWORD, unique_name

CHEAP_KDF = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
PASSPHRASE = "a local passphrase"


class People:
    """Registers accounts and logs in more devices, each with its own store directory."""

    def __init__(self, base_url: str, directory: Path) -> None:
        self.client = Client(base_url, kdf=CHEAP_KDF)
        self.directory = directory
        self.sessions: list[Session] = []
        self.recovery_keys: dict[str, str] = {}

    async def register(self, prefix: str = "user") -> Session:
        name = unique_name(prefix)
        registration = await self.client.register(name, PASSWORD, PASSPHRASE, self.directory)
        self.recovery_keys[name] = registration.recovery_key
        self.sessions.append(registration.session)
        return registration.session

    async def login(self, username: str) -> Session:
        session = await self.client.login(username, PASSWORD, PASSPHRASE, self.directory)
        self.sessions.append(session)
        return session

    async def close(self) -> None:
        for session in self.sessions:
            await session.close()


async def settle(sessions: Iterable[Session], rounds: int = 3) -> None:
    """Sync everyone until nobody receives anything new (keys answered, late shares done)."""
    group = list(sessions)
    for _ in range(rounds * 10):
        received = 0
        for session in group:
            received += len(await session.sync())
        if received == 0:
            rounds -= 1
            if rounds == 0:
                return
        await asyncio.sleep(0)


def bodies(items: Iterable[Message | UnableToDecrypt]) -> list[str]:
    return [m.body if isinstance(m, Message) else f"<{m.reason}>" for m in items]
