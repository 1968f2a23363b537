"""A small test client for kabar's HTTP and WebSocket API, with real device keys."""

from __future__ import annotations

import base64
import itertools
import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import vodozemac
from websockets.asyncio.client import ClientConnection, connect

from kabar.client.http import tls_context
from kabar.protocol.signing import identity_payload, one_time_key_payload

PASSWORD = "correct horse battery staple"
_names = itertools.count()


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}{next(_names)}_{uuid.uuid4().hex[:6]}"


@dataclass
class User:
    username: str
    password: str
    account_id: str
    device_id: str
    token: str
    olm: vodozemac.Account | None = None
    since: str | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class ApiError(AssertionError):
    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        self.body = response.json() if response.content else {}
        self.code = self.body.get("code")
        self.headers = response.headers
        super().__init__(
            f"{response.request.method} {response.request.url} -> {self.status}: {self.body}"
        )


class Api:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60, verify=tls_context())

    async def close(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def call(self, method: str, path: str, user: User | None = None, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if user is not None:
            headers = {**user.headers, **headers}
        response = await self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response)
        return response.json() if response.content else None

    async def register(self, username: str | None = None, password: str = PASSWORD) -> User:
        name = username or unique_name()
        body = await self.call(
            "POST", "/v1/accounts", json={"username": name, "password": password}
        )
        return User(name, password, body["account_id"], body["device_id"], body["access_token"])

    async def login(self, username: str, password: str = PASSWORD) -> User:
        body = await self.call(
            "POST", "/v1/sessions", json={"username": username, "password": password}
        )
        return User(username, password, body["account_id"], body["device_id"], body["access_token"])

    async def publish_keys(
        self, user: User, one_time: int = 0, fallback: bool = False
    ) -> dict[str, Any]:
        """Give the device real vodozemac keys: identity, signed one-time keys, fallback key."""
        if user.olm is None:
            user.olm = vodozemac.Account()
            curve = user.olm.curve25519_key.to_base64()
            ed = user.olm.ed25519_key.to_base64()
            signature = user.olm.sign(
                identity_payload(user.username, user.device_id, curve, ed)
            ).to_base64()
            await self.call(
                "PUT",
                "/v1/keys/identity",
                user,
                json={"curve25519": curve, "ed25519": ed, "signature": signature},
            )
        body: dict[str, Any] = {"one_time_keys": []}
        if one_time:
            user.olm.generate_one_time_keys(one_time)
            for key_id, key in user.olm.one_time_keys.items():
                payload = one_time_key_payload(
                    user.device_id, key_id, key.to_base64(), fallback=False
                )
                body["one_time_keys"].append(
                    {
                        "key_id": key_id,
                        "key": key.to_base64(),
                        "signature": user.olm.sign(payload).to_base64(),
                    }
                )
        if fallback:
            user.olm.generate_fallback_key()
            key_id, key = next(iter(user.olm.fallback_key.items()))
            payload = one_time_key_payload(user.device_id, key_id, key.to_base64(), fallback=True)
            body["fallback_key"] = {
                "key_id": key_id,
                "key": key.to_base64(),
                "signature": user.olm.sign(payload).to_base64(),
            }
        user.olm.mark_keys_as_published()
        result: dict[str, Any] = await self.call("POST", "/v1/keys/one-time", user, json=body)
        return result

    async def direct(self, user: User, other: User) -> str:
        body = await self.call(
            "POST", "/v1/conversations/direct", user, json={"username": other.username}
        )
        return str(body["conversation_id"])

    async def group(self, owner: User, *members: User, title: str = "a group") -> str:
        body = await self.call(
            "POST",
            "/v1/conversations/groups",
            owner,
            json={"title": title, "members": [m.username for m in members]},
        )
        return str(body["conversation_id"])

    async def send(
        self,
        user: User,
        conversation_id: str,
        text: str = "opaque",
        txn_id: str | None = None,
        commitment: bytes | None = None,
    ) -> dict[str, Any]:
        envelope: dict[str, Any] = {
            "algorithm": "test.plain",
            "ciphertext": base64.b64encode(text.encode()).decode(),
        }
        if commitment is not None:
            envelope["franking_commitment"] = base64.b64encode(commitment).decode()
        result: dict[str, Any] = await self.call(
            "PUT",
            f"/v1/conversations/{conversation_id}/messages/{txn_id or uuid.uuid4().hex}",
            user,
            json=envelope,
        )
        return result

    async def sync(
        self,
        user: User,
        timeout: int = 0,  # noqa: ASYNC109 - the API's long-poll parameter
        since: str | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {"timeout": timeout, **params}
        token = since if since is not None else user.since
        if token:
            query["since"] = token
        body: dict[str, Any] = await self.call("GET", "/v1/sync", user, params=query)
        user.since = body["next"]
        user.seen.extend(body["events"])
        return body

    async def sync_all(self, user: User) -> list[dict[str, Any]]:
        """Sync until the server has nothing more right now; return the new events."""
        events: list[dict[str, Any]] = []
        while True:
            body = await self.sync(user)
            events += body["events"]
            if not body["more"]:
                return events

    async def history(self, user: User, conversation_id: str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "GET", f"/v1/conversations/{conversation_id}/messages", user, params=params
        )
        return result

    async def stream(self, user: User, since: str | None = None) -> ClientConnection:
        ws = await connect(
            self.base_url.replace("http://", "ws://") + "/v1/stream", compression=None
        )
        await ws.send(json.dumps({"type": "auth", "token": user.token, "since": since}))
        return ws


def text_of(event: dict[str, Any]) -> str:
    return base64.b64decode(event["content"]["ciphertext"]).decode()


def random_commitment() -> bytes:
    return os.urandom(32)
