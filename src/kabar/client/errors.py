"""The SDK's errors: what can go wrong between this client and a kabar server.

Cryptographic failures are :class:`kabar.client.crypto.errors.CryptoError`
(local, no server involved); everything about talking to the server or
finding things by name is a :class:`ClientError`::

    ClientError
    ├── ApiError             the server answered with a problem document (status, code)
    │   └── SignedOut        this device's token is revoked or unknown (401)
    ├── ServerUnreachable    no answer: connection refused, timeout, DNS (after retries)
    ├── NotFoundLocally      a chat, message or device reference matches nothing known
    ├── AmbiguousReference   a reference matches several things; ``candidates`` lists them
    └── InvalidReference     an article URL or ``@handle/slug`` that cannot name an article

The CLI turns each of these (and ``CryptoError``) into one line for the user.
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base of every SDK failure that is not a local crypto failure."""


class ApiError(ClientError):
    """The server refused a request; ``code`` is its stable machine-readable reason."""

    def __init__(self, status: int, code: str, detail: str, data: dict[str, Any] | None = None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.data = data or {}

    @classmethod
    def from_problem(cls, status: int, body: object) -> ApiError:
        problem = body if isinstance(body, dict) else {}
        code = str(problem.get("code") or f"http_{status}")
        detail = str(problem.get("detail") or f"the server answered {status}")
        extra = {k: v for k, v in problem.items() if k not in {"type", "title", "status"}}
        kind = SignedOut if status == 401 else cls
        return kind(status, code, detail, extra)


class SignedOut(ApiError):
    """This device was signed out (revoked, logged out, password changed): log in again."""


class ServerUnreachable(ClientError):
    """The server could not be reached or did not answer in time."""


class NotFoundLocally(ClientError):
    """Nothing this client knows matches the reference (a chat, a message, a device)."""


class AmbiguousReference(ClientError):
    """The reference matches more than one thing."""

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


class InvalidReference(ClientError):
    """Not an article URL or ``@handle/slug`` (nothing was asked of any server)."""
