"""Whether an account may publish: refused while a moderator's restriction is in force.

Publishing articles and commenting call :func:`check_publishing` inside their
write job, so a restriction takes effect for the very next write and ends by
itself when it expires (or at once when an appeal reverses it). A *scheduled*
article whose author is restricted when its time comes is held, not refused:
the scheduler publishes it once the restriction has ended (kabar.public.scheduler).
"""

from __future__ import annotations

from kabar.errors import ErrorCode, Forbidden
from kabar.store import moderation as store
from kabar.store.threaded import Executor

RESTRICT_PUBLISHING = "restrict_publishing"


async def publishing_restricted(conn: Executor, account_id: str, now_ms: int) -> bool:
    """Whether a restriction is in force (for callers that wait instead of refusing)."""
    return bool(await store.active(conn, account_id, RESTRICT_PUBLISHING, now_ms))


async def check_publishing(conn: Executor, account_id: str, now_ms: int) -> None:
    """403 ``publishing_restricted`` (with ``until``: ms or null) while restricted."""
    active = await store.active(conn, account_id, RESTRICT_PUBLISHING, now_ms)
    if active:
        ends = [a.expires_at for a in active]
        until = None if any(e is None for e in ends) else max(ends)
        raise Forbidden(
            "a moderator restricted this account's publishing",
            code=ErrorCode.PUBLISHING_RESTRICTED,
            data={"until": until},
        )
