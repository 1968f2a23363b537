"""Queries over conversations, current members and membership periods."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from kabar.store.rows import Record
from kabar.store.schema import accounts, conversations, members, membership_periods
from kabar.store.threaded import Executor


async def conversation(conn: Executor, conversation_id: str) -> Record | None:
    result = await conn.execute(select(conversations).where(conversations.c.id == conversation_id))
    return result.first()


async def membership(conn: Executor, conversation_id: str, account_id: str) -> Record | None:
    result = await conn.execute(
        select(members).where(
            members.c.conversation_id == conversation_id, members.c.account_id == account_id
        )
    )
    return result.first()


async def members_of(conn: Executor, conversation_id: str) -> list[Record]:
    query = (
        select(
            members.c.account_id,
            members.c.role,
            members.c.joined_pos,
            accounts.c.username,
            accounts.c.display_name,
        )
        .join(accounts, accounts.c.id == members.c.account_id)
        .where(members.c.conversation_id == conversation_id)
        .order_by(members.c.joined_pos, accounts.c.username)
    )
    return list(await conn.execute(query))


async def conversations_of(conn: Executor, account_id: str) -> list[Record]:
    query = (
        select(conversations, members.c.role)
        .join(members, members.c.conversation_id == conversations.c.id)
        .where(members.c.account_id == account_id)
        .order_by(conversations.c.created_at)
    )
    return list(await conn.execute(query))


# Built once: read whenever an account's view is loaded (every stream connect, every sync
# of an account not followed live), and building it cost more than running it.
_CONVERSATION_IDS_OF = select(members.c.conversation_id).where(
    members.c.account_id == bindparam("account_id")
)


async def conversation_ids_of(conn: Executor, account_id: str) -> set[str]:
    result = await conn.execute(_CONVERSATION_IDS_OF, {"account_id": account_id})
    return {row.conversation_id for row in result}


async def direct_conversation(conn: Executor, direct_key: str) -> Record | None:
    result = await conn.execute(
        select(conversations).where(conversations.c.direct_key == direct_key)
    )
    return result.first()


async def insert_conversation(conn: Executor, **values: Any) -> None:
    await conn.execute(insert(conversations).values(**values))


async def add_member(
    conn: Executor, conversation_id: str, account_id: str, role: str, pos: int
) -> None:
    await conn.execute(
        insert(members).values(
            conversation_id=conversation_id, account_id=account_id, role=role, joined_pos=pos
        )
    )
    await conn.execute(
        insert(membership_periods).values(
            conversation_id=conversation_id, account_id=account_id, joined_pos=pos, left_pos=None
        )
    )


async def remove_member(conn: Executor, conversation_id: str, account_id: str, pos: int) -> None:
    await conn.execute(
        delete(members).where(
            members.c.conversation_id == conversation_id, members.c.account_id == account_id
        )
    )
    await conn.execute(
        update(membership_periods)
        .where(
            membership_periods.c.conversation_id == conversation_id,
            membership_periods.c.account_id == account_id,
            membership_periods.c.left_pos.is_(None),
        )
        .values(left_pos=pos)
    )


async def set_role(conn: Executor, conversation_id: str, account_id: str, role: str) -> None:
    await conn.execute(
        update(members)
        .where(members.c.conversation_id == conversation_id, members.c.account_id == account_id)
        .values(role=role)
    )


async def update_conversation(conn: Executor, conversation_id: str, **values: Any) -> None:
    await conn.execute(
        update(conversations).where(conversations.c.id == conversation_id).values(**values)
    )


async def was_ever_member(conn: Executor, conversation_id: str, account_id: str) -> bool:
    result = await conn.execute(
        select(membership_periods.c.joined_pos)
        .where(
            membership_periods.c.conversation_id == conversation_id,
            membership_periods.c.account_id == account_id,
        )
        .limit(1)
    )
    return result.first() is not None
