"""Who may do what to a public account: the few decisions every action goes through.

* Owners manage the profile and the members, and do everything editors do.
* Editors create, edit, publish, schedule and unpublish articles, and hide comments.
* Everyone else may read what is published, subscribe, react and comment.

Acting on something public (the account, a published article) without the
role answers 403. A draft, scheduled or unpublished article is private to the
account's members: to anyone else it answers exactly like one that does not
exist (404), so ids cannot be probed.
"""

from __future__ import annotations

from kabar.errors import ErrorCode, Forbidden, NotFound
from kabar.public.models import ArticleStatus, MemberRole


def is_editor(role: str | None) -> bool:
    return role in (MemberRole.OWNER, MemberRole.EDITOR)


def require_editor(role: str | None) -> None:
    if not is_editor(role):
        raise Forbidden(
            "only the account's owners and editors may do this", code=ErrorCode.NOT_AN_EDITOR
        )


def require_owner(role: str | None) -> None:
    if role != MemberRole.OWNER:
        raise Forbidden("only the account's owners may do this", code=ErrorCode.NOT_AN_OWNER)


def article_not_found() -> NotFound:
    return NotFound("no such article", code=ErrorCode.ARTICLE_NOT_FOUND)


def require_visible(status: str, role: str | None) -> None:
    """Published articles are visible to all; others only to members (else 404)."""
    if status != ArticleStatus.PUBLISHED and not is_editor(role):
        raise article_not_found()


def require_article_editor(status: str, role: str | None) -> None:
    """404 for a private article the caller may not see, 403 for a public one."""
    require_visible(status, role)
    require_editor(role)
