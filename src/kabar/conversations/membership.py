"""Membership changes as writer jobs: each checks the current state inside the batch
transaction and appends the stream event that announces it.

The event that adds an account to a conversation is the first it can see (its
``joined_pos``); the event that removes it is the last (its ``left_pos``).
"""

from __future__ import annotations

from kabar.accounts.models import Principal, Status, normalise_username
from kabar.conversations.roles import (
    MemberRole,
    require_can_add,
    require_can_remove,
    require_can_rename,
    require_can_set_role,
    successor,
)
from kabar.delivery import events as ev
from kabar.delivery.transaction import Sender, WriteTx
from kabar.errors import Conflict, ErrorCode, InvalidRequest, NotFound
from kabar.ids import new_conversation_id
from kabar.store import accounts as account_store
from kabar.store import conversations as store

GROUP = "group"
DIRECT = "direct"


def not_found() -> NotFound:
    # The same answer for "does not exist" and "not yours": existence is private.
    return NotFound("no such conversation", code=ErrorCode.CONVERSATION_NOT_FOUND)


def _sender(principal: Principal) -> Sender:
    return Sender(principal.account_id, principal.username, principal.device_id)


async def require_member(tx: WriteTx, conversation_id: str, account_id: str) -> MemberRole:
    row = await store.membership(tx.conn, conversation_id, account_id)
    if row is None:
        raise not_found()
    return MemberRole(row.role)


async def _group(tx: WriteTx, conversation_id: str) -> None:
    row = await store.conversation(tx.conn, conversation_id)
    if row is None:
        raise not_found()
    if row.kind != GROUP:
        raise InvalidRequest(
            "direct conversations have exactly two members", code=ErrorCode.NOT_ALLOWED_IN_DIRECT
        )


async def _accounts(tx: WriteTx, usernames: list[str]) -> dict[str, str]:
    """username → account id for active (not deactivated) accounts; unknown ones raise."""
    names = sorted({normalise_username(u) for u in usernames})
    rows = await account_store.accounts_by_usernames(tx.conn, names)
    found = {r.username: r.id for r in rows if r.status != Status.DEACTIVATED.value}
    missing = [n for n in names if n not in found]
    if missing:
        raise NotFound(f"no such account: {', '.join(missing)}", code=ErrorCode.ACCOUNT_NOT_FOUND)
    return found


async def create_group(
    tx: WriteTx, creator: Principal, title: str, usernames: list[str], max_members: int
) -> str:
    others = await _accounts(
        tx, [u for u in usernames if normalise_username(u) != creator.username]
    )
    if len(others) + 1 > max_members:
        raise Conflict(f"a group has at most {max_members} members", code=ErrorCode.GROUP_FULL)
    conversation_id = new_conversation_id()
    await store.insert_conversation(
        tx.conn,
        id=conversation_id,
        kind=GROUP,
        title=title,
        direct_key=None,
        created_by=creator.account_id,
        created_at=tx.now_ms,
        last_seq=0,
        member_count=len(others) + 1,
    )
    roster = [(creator.account_id, creator.username, MemberRole.OWNER)]
    roster += [(aid, name, MemberRole.MEMBER) for name, aid in sorted(others.items())]
    await _announce_created(tx, creator, conversation_id, GROUP, title, roster)
    return conversation_id


async def create_direct(tx: WriteTx, creator: Principal, username: str) -> tuple[str, bool]:
    """The one direct conversation of the pair, created or rejoined as needed."""
    other_name = normalise_username(username)
    if other_name == creator.username:
        raise InvalidRequest(
            "a direct conversation needs someone else", code=ErrorCode.CANNOT_MESSAGE_SELF
        )
    other_id = (await _accounts(tx, [other_name]))[other_name]
    key = ":".join(sorted((creator.account_id, other_id)))
    existing = await store.direct_conversation(tx.conn, key)
    if existing is None:
        conversation_id = new_conversation_id()
        await store.insert_conversation(
            tx.conn,
            id=conversation_id,
            kind=DIRECT,
            title=None,
            direct_key=key,
            created_by=creator.account_id,
            created_at=tx.now_ms,
            last_seq=0,
            member_count=2,
        )
        roster = [
            (creator.account_id, creator.username, MemberRole.MEMBER),
            (other_id, other_name, MemberRole.MEMBER),
        ]
        await _announce_created(tx, creator, conversation_id, DIRECT, None, roster)
        return conversation_id, True
    rejoined = False
    for account_id, name in ((creator.account_id, creator.username), (other_id, other_name)):
        if await store.membership(tx.conn, existing.id, account_id) is None:
            await _join(tx, creator, existing.id, account_id, name, MemberRole.MEMBER)
            rejoined = True
    return existing.id, rejoined


async def _announce_created(
    tx: WriteTx,
    creator: Principal,
    conversation_id: str,
    kind: str,
    title: str | None,
    roster: list[tuple[str, str, MemberRole]],
) -> None:
    content = {
        "kind": kind,
        "title": title,
        "members": [{"account_id": a, "username": n, "role": r.value} for a, n, r in roster],
    }
    appended = await tx.append_event(
        ev.CONVERSATION_CREATED,
        content,
        conversation_id=conversation_id,
        sender=_sender(creator),
        joins=tuple(a for a, _, _ in roster),
    )
    for account_id, _, role in roster:
        await store.add_member(tx.conn, conversation_id, account_id, role.value, appended.pos)


async def _join(
    tx: WriteTx,
    actor: Principal,
    conversation_id: str,
    account_id: str,
    username: str,
    role: MemberRole,
) -> None:
    appended = await tx.append_event(
        ev.MEMBER_JOINED,
        {"account_id": account_id, "username": username, "role": role.value, "by": actor.username},
        conversation_id=conversation_id,
        sender=_sender(actor),
        joins=(account_id,),
    )
    await store.add_member(tx.conn, conversation_id, account_id, role.value, appended.pos)


async def add_members(
    tx: WriteTx, actor: Principal, conversation_id: str, usernames: list[str], max_members: int
) -> list[str]:
    require_can_add(await require_member(tx, conversation_id, actor.account_id))
    await _group(tx, conversation_id)
    wanted = await _accounts(tx, usernames)
    current = {r.account_id for r in await store.members_of(tx.conn, conversation_id)}
    new = {name: aid for name, aid in wanted.items() if aid not in current}
    if not new:
        raise Conflict("they are already members", code=ErrorCode.ALREADY_MEMBER)
    if len(current) + len(new) > max_members:
        raise Conflict(f"a group has at most {max_members} members", code=ErrorCode.GROUP_FULL)
    for name, account_id in sorted(new.items()):
        await _join(tx, actor, conversation_id, account_id, name, MemberRole.MEMBER)
    await store.update_conversation(tx.conn, conversation_id, member_count=len(current) + len(new))
    return sorted(new)


async def remove_member(tx: WriteTx, actor: Principal, conversation_id: str, username: str) -> None:
    actor_role = await require_member(tx, conversation_id, actor.account_id)
    await _group(tx, conversation_id)
    name = normalise_username(username)
    if name == actor.username:
        await leave(tx, actor, conversation_id)
        return
    rows = await account_store.accounts_by_usernames(tx.conn, [name])
    target = await store.membership(tx.conn, conversation_id, rows[0].id) if rows else None
    if target is None:
        raise NotFound(f"{name} is not a member", code=ErrorCode.NOT_A_MEMBER)
    require_can_remove(actor_role, MemberRole(target.role))
    await tx.append_event(
        ev.MEMBER_REMOVED,
        {"account_id": target.account_id, "username": name, "by": actor.username},
        conversation_id=conversation_id,
        sender=_sender(actor),
        leaves=(target.account_id,),
    )
    await _drop(tx, conversation_id, target.account_id)


async def leave(tx: WriteTx, principal: Principal, conversation_id: str) -> None:
    role = await require_member(tx, conversation_id, principal.account_id)
    if role is MemberRole.OWNER:
        remaining = [
            (MemberRole(r.role), r.joined_pos, r.account_id)
            for r in await store.members_of(tx.conn, conversation_id)
            if r.account_id != principal.account_id
        ]
        heir = successor(remaining)
        if heir is not None:
            await _change_role(tx, principal, conversation_id, heir, MemberRole.OWNER)
    await tx.append_event(
        ev.MEMBER_LEFT,
        {"account_id": principal.account_id, "username": principal.username},
        conversation_id=conversation_id,
        sender=_sender(principal),
        leaves=(principal.account_id,),
    )
    await _drop(tx, conversation_id, principal.account_id)


async def _drop(tx: WriteTx, conversation_id: str, account_id: str) -> None:
    appended_pos = tx.pos  # the leave/remove event just appended
    await store.remove_member(tx.conn, conversation_id, account_id, appended_pos)
    count = len(await store.members_of(tx.conn, conversation_id))
    await store.update_conversation(tx.conn, conversation_id, member_count=count)


async def set_role(
    tx: WriteTx, actor: Principal, conversation_id: str, username: str, role: MemberRole
) -> None:
    actor_role = await require_member(tx, conversation_id, actor.account_id)
    await _group(tx, conversation_id)
    name = normalise_username(username)
    rows = await account_store.accounts_by_usernames(tx.conn, [name])
    target = await store.membership(tx.conn, conversation_id, rows[0].id) if rows else None
    if target is None:
        raise NotFound(f"{name} is not a member", code=ErrorCode.NOT_A_MEMBER)
    require_can_set_role(actor_role, MemberRole(target.role), role)
    if role is MemberRole.OWNER:
        await _change_role(tx, actor, conversation_id, actor.account_id, MemberRole.ADMIN)
    await _change_role(tx, actor, conversation_id, target.account_id, role)


async def _change_role(
    tx: WriteTx, actor: Principal, conversation_id: str, account_id: str, role: MemberRole
) -> None:
    await store.set_role(tx.conn, conversation_id, account_id, role.value)
    rows = await account_store.account_by_id(tx.conn, account_id)
    await tx.append_event(
        ev.MEMBER_ROLE_CHANGED,
        {
            "account_id": account_id,
            "username": rows.username if rows else None,
            "role": role.value,
            "by": actor.username,
        },
        conversation_id=conversation_id,
        sender=_sender(actor),
    )


async def rename(tx: WriteTx, actor: Principal, conversation_id: str, title: str) -> None:
    require_can_rename(await require_member(tx, conversation_id, actor.account_id))
    await _group(tx, conversation_id)
    await store.update_conversation(tx.conn, conversation_id, title=title)
    await tx.append_event(
        ev.CONVERSATION_UPDATED,
        {"title": title, "by": actor.username},
        conversation_id=conversation_id,
        sender=_sender(actor),
    )
