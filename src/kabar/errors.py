"""The one error hierarchy of kabar.

Every failure a client can cause or observe is a :class:`KabarError` carrying a
stable machine-readable :class:`ErrorCode`, an HTTP status, a human sentence and
optional data fields. The HTTP layer renders it once, as an RFC 9457 problem
document (``application/problem+json``); the CLI renders it as one line.

The tree::

    KabarError                      base; never raised directly
    ├── InvalidRequest        400   malformed or semantically invalid input
    ├── Unauthenticated       401   missing, unknown, revoked or expired credentials
    ├── Forbidden             403   authenticated, but this action is not allowed
    ├── NotFound              404   absent *or not visible to you* (never says which)
    ├── Conflict              409   the request clashes with current state
    ├── PayloadTooLarge       413   a body or field over its documented limit
    ├── RateLimited           429   slow down; ``retry_after`` seconds
    └── Unavailable           503   a dependency is down; retry after ``retry_after``

Authorisation code raises :class:`NotFound` rather than :class:`Forbidden`
whenever admitting that a private thing exists would leak information.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar


class ErrorCode(enum.StrEnum):
    """Stable error codes. Clients switch on these; never rename one."""

    # 400
    INVALID_REQUEST = "invalid_request"
    INVALID_USERNAME = "invalid_username"
    WEAK_PASSWORD = "weak_password"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_KEY = "invalid_key"
    INVALID_TOKEN = "invalid_sync_token"
    INVALID_ROLE = "invalid_role"
    NOT_ALLOWED_IN_DIRECT = "not_allowed_in_direct"
    CANNOT_MESSAGE_SELF = "cannot_message_self"
    INVALID_REPORT = "invalid_report"  # a report body that is not base64 of the right sizes
    INVALID_HANDLE = "invalid_handle"
    INVALID_SLUG = "invalid_slug"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_IMAGE = "invalid_image"
    INVALID_PUBLISH_TIME = "invalid_publish_time"
    INVALID_TARGET = "invalid_target"  # a moderation target of an unknown type
    ACTION_NOT_ALLOWED = "action_not_allowed"  # the policy item or target does not allow it
    INVALID_HASH_LIST = "invalid_hash_list"  # an imported CSV whose header cannot be read
    # 401
    UNAUTHENTICATED = "unauthenticated"
    INVALID_CREDENTIALS = "invalid_credentials"
    # 403
    FORBIDDEN = "forbidden"
    ACCOUNT_SUSPENDED = "account_suspended"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    NOT_A_MEMBER = "not_a_member"
    INSUFFICIENT_ROLE = "insufficient_role"
    # The message, franking key and event of a report do not verify, or the reporter
    # never received that event (one code for both: existence stays private).
    REPORT_UNVERIFIABLE = "report_unverifiable"
    NOT_AN_EDITOR = "not_an_editor"
    NOT_AN_OWNER = "not_an_owner"
    NOT_A_MODERATOR = "not_a_moderator"
    NOT_AN_ADMIN = "not_an_admin"
    # The moderator deciding an appeal took the appealed action (or the escalation it caused).
    APPEAL_CONFLICT = "appeal_conflict"
    # A moderator restricted the account's publishing; ``until`` says when it ends (or null).
    PUBLISHING_RESTRICTED = "publishing_restricted"
    APPEAL_WINDOW_CLOSED = "appeal_window_closed"
    # 404
    NOT_FOUND = "not_found"
    CONVERSATION_NOT_FOUND = "conversation_not_found"
    ACCOUNT_NOT_FOUND = "account_not_found"
    DEVICE_NOT_FOUND = "device_not_found"
    BLOB_NOT_FOUND = "blob_not_found"
    BACKUP_NOT_FOUND = "backup_not_found"
    PUBLIC_ACCOUNT_NOT_FOUND = "public_account_not_found"
    ARTICLE_NOT_FOUND = "article_not_found"
    REVISION_NOT_FOUND = "revision_not_found"
    COMMENT_NOT_FOUND = "comment_not_found"
    MEDIA_NOT_FOUND = "media_not_found"
    TARGET_NOT_FOUND = "target_not_found"
    CASE_NOT_FOUND = "case_not_found"
    NOTICE_NOT_FOUND = "notice_not_found"
    APPEAL_NOT_FOUND = "appeal_not_found"
    AUTHORITY_REQUEST_NOT_FOUND = "authority_request_not_found"
    # 409
    USERNAME_UNAVAILABLE = "username_unavailable"
    IDENTITY_KEYS_IMMUTABLE = "identity_keys_immutable"
    IDENTITY_KEYS_MISSING = "identity_keys_missing"
    ALREADY_MEMBER = "already_member"
    GROUP_FULL = "group_full"
    TXN_ID_REUSED = "txn_id_reused"
    TOO_MANY_KEYS = "too_many_keys"
    QUOTA_EXCEEDED = "quota_exceeded"  # the account's blob storage quota is used up
    BACKUP_VERSION_STALE = "backup_version_stale"  # a newer backup version replaced this one
    HANDLE_UNAVAILABLE = "handle_unavailable"
    SLUG_TAKEN = "slug_taken"
    REVISION_CONFLICT = "revision_conflict"
    ARTICLE_STATE = "article_state"
    LAST_OWNER = "last_owner"
    MEDIA_QUOTA_EXCEEDED = "media_quota_exceeded"
    CASE_CLOSED = "case_closed"  # the case was already decided
    ALREADY_APPEALED = "already_appealed"  # one appeal per action
    APPEAL_DECIDED = "appeal_decided"
    # An authority request already in the public log can no longer be changed.
    AUTHORITY_REQUEST_PUBLISHED = "authority_request_published"
    # 413
    PAYLOAD_TOO_LARGE = "payload_too_large"
    # 429
    RATE_LIMITED = "rate_limited"
    # 503
    UNAVAILABLE = "unavailable"
    # 500 (only ever rendered by the last-resort handler)
    INTERNAL = "internal_error"


class KabarError(Exception):
    """Base of every error kabar reports to a client."""

    status: ClassVar[int] = 500
    default_code: ClassVar[ErrorCode] = ErrorCode.INTERNAL

    def __init__(
        self,
        detail: str,
        *,
        code: ErrorCode | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.data: dict[str, Any] = data or {}

    @property
    def title(self) -> str:
        return self.code.value.replace("_", " ").capitalize()

    def to_problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document for this error."""
        problem: dict[str, Any] = {
            "type": f"https://kabar.dev/problems/{self.code.value}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code.value,
        }
        problem.update(self.data)
        return problem


class InvalidRequest(KabarError):
    status = 400
    default_code = ErrorCode.INVALID_REQUEST


class Unauthenticated(KabarError):
    status = 401
    default_code = ErrorCode.UNAUTHENTICATED


class Forbidden(KabarError):
    status = 403
    default_code = ErrorCode.FORBIDDEN


class NotFound(KabarError):
    status = 404
    default_code = ErrorCode.NOT_FOUND


class Conflict(KabarError):
    status = 409
    default_code = ErrorCode.USERNAME_UNAVAILABLE


class PayloadTooLarge(KabarError):
    status = 413
    default_code = ErrorCode.PAYLOAD_TOO_LARGE


class RateLimited(KabarError):
    status = 429
    default_code = ErrorCode.RATE_LIMITED

    def __init__(self, retry_after: float, detail: str = "Too many requests; slow down.") -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(detail, data={"retry_after": self.retry_after})


class Unavailable(KabarError):
    status = 503
    default_code = ErrorCode.UNAVAILABLE

    def __init__(self, detail: str, retry_after: int = 2) -> None:
        self.retry_after = retry_after
        super().__init__(detail, data={"retry_after": retry_after})
