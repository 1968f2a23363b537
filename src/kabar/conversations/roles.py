"""Who may do what in a group. Small pure functions, tested exhaustively.

Roles rank owner > admin > member. Admins add members, remove members (not
admins or the owner) and rename the group; the owner also promotes and demotes
and may hand ownership to another member. Anyone may leave.
"""

from __future__ import annotations

from enum import StrEnum

from kabar.errors import ErrorCode, Forbidden


class MemberRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


RANK = {MemberRole.MEMBER: 0, MemberRole.ADMIN: 1, MemberRole.OWNER: 2}


def _deny(detail: str) -> Forbidden:
    return Forbidden(detail, code=ErrorCode.INSUFFICIENT_ROLE)


def require_can_add(actor: MemberRole) -> None:
    if RANK[actor] < RANK[MemberRole.ADMIN]:
        raise _deny("only admins and the owner add members")


def require_can_rename(actor: MemberRole) -> None:
    if RANK[actor] < RANK[MemberRole.ADMIN]:
        raise _deny("only admins and the owner rename a group")


def require_can_remove(actor: MemberRole, target: MemberRole) -> None:
    if RANK[actor] < RANK[MemberRole.ADMIN]:
        raise _deny("only admins and the owner remove members")
    if RANK[target] >= RANK[actor]:
        raise _deny(f"a {actor.value} cannot remove a {target.value}")


def require_can_set_role(actor: MemberRole, target: MemberRole, new: MemberRole) -> None:
    if actor is not MemberRole.OWNER:
        raise _deny("only the owner changes roles")
    if target is MemberRole.OWNER:
        raise _deny("hand ownership to another member instead")
    del new  # any role may be granted by the owner; granting owner transfers it


def successor(candidates: list[tuple[MemberRole, int, str]]) -> str | None:
    """Who becomes owner when the owner leaves: the longest-standing admin, else member.

    ``candidates`` are ``(role, joined_pos, account_id)`` of the remaining members.
    """
    if not candidates:
        return None
    best = min(candidates, key=lambda c: (-RANK[c[0]], c[1], c[2]))
    return best[2]
