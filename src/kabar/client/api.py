"""Typed calls to kabar's HTTP API (``/v1``), one method per endpoint the SDK uses.

Answers are the server's JSON (see ``/v1/openapi.json``); this module adds no
policy — that lives in :mod:`kabar.client.session` and its helpers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from kabar.client.http import HttpTransport

JsonObject = dict[str, Any]


class Api:
    def __init__(self, http: HttpTransport) -> None:
        self.http = http

    @property
    def base_url(self) -> str:
        return self.http.base_url

    async def _call(self, method: str, path: str, **kwargs: Any) -> JsonObject:
        result: JsonObject = await self.http.json(method, path, **kwargs) or {}
        return result

    # -- accounts and devices -------------------------------------------------------

    async def register(
        self, username: str, password: str, display_name: str | None, device_name: str | None
    ) -> JsonObject:
        body = {"username": username, "password": password, "display_name": display_name}
        return await self._call("POST", "/v1/accounts", json={**body, "device_name": device_name})

    async def login(self, username: str, password: str, device_name: str | None) -> JsonObject:
        body = {"username": username, "password": password, "device_name": device_name}
        return await self._call("POST", "/v1/sessions", json=body)

    async def logout(self) -> None:
        await self.http.request("DELETE", "/v1/sessions/current")

    async def me(self) -> JsonObject:
        return await self._call("GET", "/v1/account", retry=True)

    async def profile(self, username: str) -> JsonObject:
        return await self._call("GET", f"/v1/accounts/{quote(username)}", retry=True)

    async def devices(self) -> list[JsonObject]:
        result: list[JsonObject] = (await self._call("GET", "/v1/devices", retry=True))["devices"]
        return result

    async def revoke_device(self, device_id: str) -> None:
        await self.http.request("DELETE", f"/v1/devices/{quote(device_id)}", retry=True)

    # -- key directory ------------------------------------------------------------

    async def upload_identity(self, keys: dict[str, str]) -> None:
        await self.http.request("PUT", "/v1/keys/identity", json=keys, retry=True)

    async def upload_keys(
        self, one_time_keys: list[dict[str, str]], fallback_key: dict[str, str] | None
    ) -> JsonObject:
        body: JsonObject = {"one_time_keys": one_time_keys}
        if fallback_key is not None:
            body["fallback_key"] = fallback_key
        return await self._call("POST", "/v1/keys/one-time", json=body, retry=True)

    async def key_count(self) -> JsonObject:
        return await self._call("GET", "/v1/keys/count", retry=True)

    async def query_keys(self, usernames: list[str]) -> dict[str, list[JsonObject]]:
        body = await self._call("POST", "/v1/keys/query", json={"usernames": usernames}, retry=True)
        result: dict[str, list[JsonObject]] = body["accounts"]
        return result

    async def claim_keys(self, device_ids: list[str]) -> JsonObject:
        return await self._call("POST", "/v1/keys/claim", json={"devices": device_ids})

    async def send_to_device(
        self, txn_id: str, type: str, messages: dict[str, JsonObject]
    ) -> JsonObject:
        body = {"txn_id": txn_id, "type": type, "messages": messages}
        return await self._call("POST", "/v1/to-device", json=body, retry=True)

    # -- conversations --------------------------------------------------------------

    async def conversations(self) -> list[JsonObject]:
        body = await self._call("GET", "/v1/conversations", retry=True)
        result: list[JsonObject] = body["conversations"]
        return result

    async def conversation(self, conversation_id: str) -> JsonObject:
        return await self._call("GET", f"/v1/conversations/{quote(conversation_id)}", retry=True)

    async def open_direct(self, username: str) -> JsonObject:
        return await self._call("POST", "/v1/conversations/direct", json={"username": username})

    async def create_group(self, title: str, usernames: list[str]) -> JsonObject:
        body = {"title": title, "members": usernames}
        return await self._call("POST", "/v1/conversations/groups", json=body)

    async def add_members(self, conversation_id: str, usernames: list[str]) -> list[str]:
        path = f"/v1/conversations/{quote(conversation_id)}/members"
        body = await self._call("POST", path, json={"usernames": usernames})
        added: list[str] = body["added"]
        return added

    async def remove_member(self, conversation_id: str, username: str) -> None:
        path = f"/v1/conversations/{quote(conversation_id)}/members/{quote(username)}"
        await self.http.request("DELETE", path)

    async def leave(self, conversation_id: str) -> None:
        await self.http.request("POST", f"/v1/conversations/{quote(conversation_id)}/leave")

    async def rename(self, conversation_id: str, title: str) -> JsonObject:
        path = f"/v1/conversations/{quote(conversation_id)}"
        return await self._call("PATCH", path, json={"title": title})

    async def send_message(
        self, conversation_id: str, txn_id: str, envelope: JsonObject
    ) -> JsonObject:
        path = f"/v1/conversations/{quote(conversation_id)}/messages/{quote(txn_id)}"
        return await self._call("PUT", path, json=envelope, retry=True)

    async def history(
        self, conversation_id: str, before: int | None = None, limit: int = 50
    ) -> JsonObject:
        params: JsonObject = {"limit": limit}
        if before is not None:
            params["before"] = before
        path = f"/v1/conversations/{quote(conversation_id)}/messages"
        return await self._call("GET", path, params=params, retry=True)

    async def sync(self, since: str | None, timeout_ms: int = 0, limit: int = 500) -> JsonObject:
        params: JsonObject = {"timeout": timeout_ms, "limit": limit}
        if since:
            params["since"] = since
        # The long-poll may hold the request for timeout_ms: give the read that much more.
        wait = timeout_ms / 1000 + 30
        return await self._call("GET", "/v1/sync", params=params, retry=True, read_timeout=wait)

    # -- blobs ----------------------------------------------------------------------

    async def upload_blob(self, data: bytes) -> JsonObject:
        return await self._call("POST", "/v1/blobs", content=data, read_timeout=600)

    async def download_blob(self, blob_id: str) -> bytes:
        response = await self.http.request(
            "GET", f"/v1/blobs/{quote(blob_id)}", retry=True, read_timeout=600
        )
        return response.content

    async def delete_blob(self, blob_id: str) -> None:
        await self.http.request("DELETE", f"/v1/blobs/{quote(blob_id)}", retry=True)

    # -- key backup ---------------------------------------------------------------

    async def create_backup_version(self, data: JsonObject) -> int:
        body = await self._call("POST", "/v1/backup/versions", json={"data": data})
        return int(body["version"])

    async def backup_version(self) -> JsonObject:
        return await self._call("GET", "/v1/backup/versions/current", retry=True)

    async def put_backup_sessions(self, version: int, sessions: list[JsonObject]) -> JsonObject:
        path = f"/v1/backup/versions/{version}/sessions"
        return await self._call("PUT", path, json={"sessions": sessions}, retry=True)

    async def backup_sessions(
        self, version: int, after: dict[str, str] | None = None, limit: int = 500
    ) -> JsonObject:
        params: JsonObject = {"limit": limit, **(after or {})}
        path = f"/v1/backup/versions/{version}/sessions"
        return await self._call("GET", path, params=params, retry=True)

    async def backup_session(
        self, version: int, conversation_id: str, session_id: str
    ) -> JsonObject:
        path = (
            f"/v1/backup/versions/{version}/sessions/"
            f"{quote(conversation_id)}/{quote(session_id, safe='')}"
        )
        return await self._call("GET", path, retry=True)

    # -- reports --------------------------------------------------------------------

    async def delete_message(self, conversation_id: str, event_id: str) -> None:
        path = f"/v1/conversations/{quote(conversation_id)}/messages/{quote(event_id)}"
        await self.http.request("DELETE", path)

    async def report_message(
        self, body: dict[str, str], reason: str | None, policy_item: str | None = None
    ) -> JsonObject:
        payload: JsonObject = {**body}
        if reason:
            payload["reason"] = reason
        if policy_item:
            payload["policy_item"] = policy_item
        return await self._call("POST", "/v1/reports/messages", json=payload)
