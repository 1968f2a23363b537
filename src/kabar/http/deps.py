"""Request dependencies: the services container, the caller's identity and address."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, WebSocket

from kabar.accounts.models import Principal
from kabar.services import Services

# Dependencies are all ``async def``: FastAPI runs plain ``def`` ones in a thread pool,
# which costs a thread hop per request.


async def services(request: Request) -> Services:
    """The container ``kabar.app`` stored on the application."""
    result: Services = request.app.state.services
    return result


def bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


async def authenticate(request: Request) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    svc: Services = request.app.state.services
    return await svc.auth.authenticate(token)


def client_address(request: Request | WebSocket) -> str:
    """The client's IP; X-Forwarded-For is believed only from a configured proxy."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.services.config.server.trusted_proxies
    return address_behind(peer, request.headers.get("x-forwarded-for"), trusted)


def came_over_https(request: Request) -> bool:
    """Whether the client reached us over https: directly, or through a configured proxy
    saying so in X-Forwarded-Proto (believed from that proxy only, like X-Forwarded-For)."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    trusted = request.app.state.services.config.server.trusted_proxies
    forwarded = request.headers.get("x-forwarded-proto", "")
    return peer in trusted and forwarded.split(",")[0].strip().lower() == "https"


def address_behind(peer: str, forwarded: str | None, trusted_proxies: tuple[str, ...]) -> str:
    """``peer``, or the first X-Forwarded-For address when ``peer`` is a trusted proxy."""
    if forwarded and peer in trusted_proxies:
        candidate = forwarded.split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return peer
    return peer


async def request_address(request: Request) -> str:
    return client_address(request)


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    address: str


async def caller(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Caller:
    return Caller(principal, client_address(request))


Authenticated = Annotated[Principal, Depends(authenticate)]
AuthenticatedCaller = Annotated[Caller, Depends(caller)]
Address = Annotated[str, Depends(request_address)]
Svc = Annotated[Services, Depends(services)]


async def maybe_authenticate(request: Request) -> Principal | None:
    """The caller if it sent a token (a bad token is still 401), else an anonymous reader."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return None
    svc: Services = request.app.state.services
    return await svc.auth.authenticate(token)


MaybeAuthenticated = Annotated[Principal | None, Depends(maybe_authenticate)]


async def authenticate_even_suspended(request: Request) -> Principal:
    """Like :func:`authenticate`, but a suspended account may still read and appeal notices."""
    token = bearer_token(request.headers.get("authorization"))
    svc: Services = request.app.state.services
    return await svc.auth.authenticate(token, allow_suspended=True)


EvenSuspended = Annotated[Principal, Depends(authenticate_even_suspended)]
