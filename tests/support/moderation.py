"""Test helpers for moderation: moderators, reported articles, cases, actions."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest

from kabar.accounts.models import Role
from support.api import Api, ApiError, User
from support.public import create_account, publish_new
from support.server import RunningServer


async def moderator(api: Api, server: RunningServer, role: Role = Role.MODERATOR) -> User:
    user = await api.register()
    await server.services.accounts.set_role(user.account_id, role)
    return user


async def article_by(
    api: Api, author: User, text: str = "# Cheap pills\n\nBuy now."
) -> dict[str, Any]:
    """A published article of a new public account owned by ``author``."""
    await api.publish_keys(author)
    account = await create_account(api, author)
    return await publish_new(api, author, account["handle"], text)


async def report(
    api: Api, reporter: User, type_: str, id_: str, item: str = "spam", note: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"target": {"type": type_, "id": id_}, "policy_item": item}
    if note is not None:
        body["note"] = note
    result: dict[str, Any] = await api.call("POST", "/v1/moderation/reports", reporter, json=body)
    return result


async def case_of(api: Api, mod: User, type_: str, id_: str) -> dict[str, Any]:
    page = await api.call("GET", "/v1/moderation/cases?status=all&limit=100", mod)
    for case in page["cases"]:
        if case["target"]["type"] == type_ and case["target"]["id"] == id_:
            return await api.call("GET", f"/v1/moderation/cases/{case['id']}", mod)  # type: ignore[no-any-return]
    raise AssertionError(f"no case for {type_} {id_}")


async def act(
    api: Api, mod: User, case_id: str, action: str, item: str = "spam", **extra: Any
) -> dict[str, Any]:
    body = {"action": action, "policy_item": item, "rationale": f"{action} under {item}", **extra}
    result: dict[str, Any] = await api.call(
        "POST", f"/v1/moderation/cases/{case_id}/actions", mod, json=body
    )
    return result


async def refusal(call: Awaitable[Any]) -> ApiError:
    """The error ``call`` fails with (it must fail)."""
    with pytest.raises(ApiError) as error:
        await call
    return error.value
