"""Where a session starts: registering an account, logging in a new device, or reopening one.

Each device is one local store file, ``<directory>/<username>-<device id>.db``,
created owner-only and encrypted under the user's passphrase
(``kabar.client.vault``). It holds the server URL and the device's access token
beside the crypto state, so :meth:`Client.open` needs only the file and the
passphrase. A new device is saved *before* its keys are published, so a crash
can never leave the server holding keys whose private halves are lost.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import httpx

from kabar.client.api import Api
from kabar.client.crypto.megolm import RotationPolicy
from kabar.client.engine import CryptoEngine
from kabar.client.http import HttpTransport
from kabar.client.session import Session
from kabar.client.store import DeviceStore
from kabar.client.vault import KdfParams


@dataclass(frozen=True, slots=True)
class Registration:
    session: Session
    recovery_key: str  # shown once: it alone opens the key backup on a new device


class Client:
    def __init__(
        self,
        server_url: str,
        *,
        kdf: KdfParams | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RotationPolicy | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self._kdf = kdf
        self._transport = transport
        self._policy = policy

    async def register(
        self,
        username: str,
        password: str,
        passphrase: str,
        directory: Path,
        *,
        display_name: str | None = None,
        device_name: str | None = None,
    ) -> Registration:
        """Create an account and its first device, keys published and key backup started."""
        http = HttpTransport(self.server_url, transport=self._transport)
        try:
            answer = await Api(http).register(username, password, display_name, device_name)
            session = await self._new_device(http, answer, passphrase, directory)
        except BaseException:
            await http.aclose()
            raise
        return Registration(session, await session.create_backup())

    async def login(
        self,
        username: str,
        password: str,
        passphrase: str,
        directory: Path,
        *,
        device_name: str | None = None,
    ) -> Session:
        """Sign in as a new device (it reads old messages after ``restore_backup``)."""
        http = HttpTransport(self.server_url, transport=self._transport)
        try:
            answer = await Api(http).login(username, password, device_name)
            return await self._new_device(http, answer, passphrase, directory)
        except BaseException:
            await http.aclose()
            raise

    async def _new_device(
        self, http: HttpTransport, answer: dict[str, str], passphrase: str, directory: Path
    ) -> Session:
        http.token = answer["access_token"]
        path = directory / f"{answer['username']}-{answer['device_id']}.db"
        await asyncio.to_thread(os.makedirs, directory, 0o700, True)
        store = await asyncio.to_thread(
            DeviceStore.create,
            path,
            passphrase,
            username=answer["username"],
            device_id=answer["device_id"],
            kdf=self._kdf,
        )
        with store.batch():
            store.set_setting("server_url", self.server_url)
            store.set_setting("access_token", answer["access_token"])
            store.set_setting("account_id", answer["account_id"])
        session = Session(http, CryptoEngine.create(store, self._policy), path)
        current = [d for d in await session.api.devices() if d["current"]]
        if current:
            store.set_setting("device_created_at", current[0]["created_at"])
            session.receiver.device_created_at = int(current[0]["created_at"])
        await session.publish_keys()
        return session

    @staticmethod
    async def open(
        path: Path,
        passphrase: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RotationPolicy | None = None,
    ) -> Session:
        """Reopen a device saved earlier (``WrongPassphrase`` if the passphrase is wrong)."""
        store = await asyncio.to_thread(DeviceStore.open, path, passphrase)
        try:
            http = HttpTransport(
                str(store.get_setting("server_url")),
                str(store.get_setting("access_token")),
                transport=transport,
            )
            session = Session(http, CryptoEngine.load(store, policy), path)
        except BaseException:
            store.close()
            raise
        await session.publish_keys()  # no-op unless the first attempt failed
        return session
