"""Public accounts: create, read, edit the profile, manage members, verify.

A public account (``@handle``) is run by its members: owners (profile and
members) and editors (articles and comments); see :mod:`kabar.public.permissions`.
Verification is an admin's statement — who verified, when, and on what
evidence — and anyone can read it. Handles are permanent: articles are signed
under them (kabar.public.canonical).
"""

from __future__ import annotations

from kabar.accounts.models import Principal, Role, Status
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import Conflict, ErrorCode, Forbidden, InvalidRequest, NotFound
from kabar.ids import new_id
from kabar.public import indexing
from kabar.public.models import Kind, Member, MemberRole, PublicAccount, public_account_from_row
from kabar.public.permissions import require_editor, require_owner
from kabar.public.slugs import normalize_handle
from kabar.public.text import checked_text
from kabar.store import accounts as account_store
from kabar.store import public as store
from kabar.store.database import Database
from kabar.store.rows import Record
from kabar.store.threaded import Executor

NAME_MAX = 100
BIO_MAX = 1000
NOTE_MAX = 1000


def not_found() -> NotFound:
    return NotFound("no such public account", code=ErrorCode.PUBLIC_ACCOUNT_NOT_FOUND)


def parse_handle(raw: str) -> str:
    """A handle someone chose (400 ``invalid_handle`` if it cannot be one)."""
    try:
        return normalize_handle(raw)
    except InvalidRequest as exc:
        raise InvalidRequest(exc.detail, code=ErrorCode.INVALID_HANDLE, data=exc.data) from None


def lookup_handle(raw: str) -> str:
    """A handle someone asked for: one that cannot exist is simply not found."""
    try:
        return normalize_handle(raw)
    except InvalidRequest:
        raise not_found() from None


def parse_kind(raw: str) -> str:
    try:
        return Kind(raw).value
    except ValueError:
        kinds = ", ".join(k.value for k in Kind)
        raise InvalidRequest(
            f"kind must be one of {kinds}", code=ErrorCode.INVALID_REQUEST, data={"field": "kind"}
        ) from None


def parse_role(raw: str) -> str:
    try:
        return MemberRole(raw).value
    except ValueError:
        raise InvalidRequest(
            "role must be owner or editor", code=ErrorCode.INVALID_ROLE, data={"field": "role"}
        ) from None


async def account_row(conn: Executor, handle: str) -> Record:
    """The public account at ``handle`` (404 if there is none)."""
    row = await store.by_handle(conn, lookup_handle(handle))
    if row is None:
        raise not_found()
    return row


class PublicAccountService:
    def __init__(self, database: Database, writer: Writer, public_url: str) -> None:
        self._db = database
        self._writer = writer
        self._url = public_url

    def _out(self, row: Record, my_role: str | None = None) -> PublicAccount:
        return public_account_from_row(row, self._url, my_role)

    async def create(
        self, principal: Principal, handle: str, name: str, kind: str, bio: str = ""
    ) -> PublicAccount:
        handle = parse_handle(handle)
        name = checked_text(name, field="name", min_chars=1, max_chars=NAME_MAX, single_line=True)
        bio = checked_text(bio, field="bio", max_chars=BIO_MAX)
        kind = parse_kind(kind)
        public_account_id = new_id("p")

        async def job(tx: WriteTx) -> None:
            if await store.by_handle(tx.conn, handle, include_removed=True) is not None:
                raise Conflict("that handle is taken", code=ErrorCode.HANDLE_UNAVAILABLE)
            await store.insert_public_account(
                tx.conn,
                id=public_account_id,
                handle=handle,
                name=name,
                bio=bio,
                kind=kind,
                created_by=principal.account_id,
                created_at=tx.now_ms,
                updated_at=tx.now_ms,
                subscriber_count=0,
                article_count=0,
            )
            await store.put_member(
                tx.conn,
                public_account_id,
                principal.account_id,
                MemberRole.OWNER,
                principal.account_id,
                tx.now_ms,
            )
            await indexing.index_account(tx.conn, public_account_id, handle, name, bio)

        await self._writer.run(job)
        return await self.get(handle, principal)

    async def get(self, handle: str, viewer: Principal | None = None) -> PublicAccount:
        async with self._db.read() as conn:
            row = await account_row(conn, handle)
            role = await store.member_role(conn, row.id, viewer.account_id) if viewer else None
        return self._out(row, role)

    async def mine(self, principal: Principal) -> list[PublicAccount]:
        async with self._db.read() as conn:
            rows = await store.memberships_of(conn, principal.account_id)
        return [self._out(row, row.my_role) for row in rows]

    async def featured(self, limit: int = 8) -> list[PublicAccount]:
        async with self._db.read() as conn:
            return [self._out(row) for row in await store.featured(conn, limit)]

    async def update_profile(
        self,
        principal: Principal,
        handle: str,
        *,
        name: str | None = None,
        bio: str | None = None,
        kind: str | None = None,
        avatar_url: str | None = None,
        clear_avatar: bool = False,
    ) -> PublicAccount:
        changes: dict[str, object] = {}
        if name is not None:
            changes["name"] = checked_text(
                name, field="name", min_chars=1, max_chars=NAME_MAX, single_line=True
            )
        if bio is not None:
            changes["bio"] = checked_text(bio, field="bio", max_chars=BIO_MAX)
        if kind is not None:
            changes["kind"] = parse_kind(kind)
        if avatar_url is not None or clear_avatar:
            changes["avatar_url"] = avatar_url

        async def job(tx: WriteTx) -> None:
            row = await account_row(tx.conn, handle)
            require_owner(await store.member_role(tx.conn, row.id, principal.account_id))
            await store.update_public_account(tx.conn, row.id, updated_at=tx.now_ms, **changes)
            new_name = str(changes.get("name", row.name))
            new_bio = str(changes.get("bio", row.bio))
            await indexing.index_account(tx.conn, row.id, row.handle, new_name, new_bio)

        await self._writer.run(job)
        return await self.get(handle, principal)

    async def check_owner(self, principal: Principal, handle: str) -> None:
        """403 unless ``principal`` owns the account (before costly work such as an upload)."""
        async with self._db.read() as conn:
            row = await account_row(conn, handle)
            require_owner(await store.member_role(conn, row.id, principal.account_id))

    async def members(self, principal: Principal, handle: str) -> list[Member]:
        async with self._db.read() as conn:
            row = await account_row(conn, handle)
            require_editor(await store.member_role(conn, row.id, principal.account_id))
            rows = await store.members_of(conn, row.id)
        return [Member(r.username, r.display_name, r.role, r.added_at) for r in rows]

    async def put_member(
        self, principal: Principal, handle: str, username: str, role: str
    ) -> list[Member]:
        role = parse_role(role)

        async def job(tx: WriteTx) -> None:
            row = await account_row(tx.conn, handle)
            require_owner(await store.member_role(tx.conn, row.id, principal.account_id))
            member = await _account_by_username(tx, username)
            current = await store.member_role(tx.conn, row.id, member.id)
            if current == MemberRole.OWNER and role != MemberRole.OWNER:
                await _keep_an_owner(tx, row.id)
            await store.put_member(
                tx.conn, row.id, member.id, role, principal.account_id, tx.now_ms
            )

        await self._writer.run(job)
        return await self.members(principal, handle)

    async def remove_member(self, principal: Principal, handle: str, username: str) -> None:
        """Owners remove anyone; any member may remove themselves (leave)."""

        async def job(tx: WriteTx) -> None:
            row = await account_row(tx.conn, handle)
            member = await _account_by_username(tx, username)
            if member.id != principal.account_id:
                require_owner(await store.member_role(tx.conn, row.id, principal.account_id))
            current = await store.member_role(tx.conn, row.id, member.id)
            if current is None:
                raise NotFound("not a member of this account", code=ErrorCode.ACCOUNT_NOT_FOUND)
            if current == MemberRole.OWNER:
                await _keep_an_owner(tx, row.id)
            await store.remove_member(tx.conn, row.id, member.id)

        await self._writer.run(job)

    async def verify(self, principal: Principal, handle: str, note: str) -> PublicAccount:
        _require_admin(principal)
        note = checked_text(note, field="note", min_chars=1, max_chars=NOTE_MAX)

        async def job(tx: WriteTx) -> None:
            row = await account_row(tx.conn, handle)
            await store.update_public_account(
                tx.conn,
                row.id,
                verified_at=tx.now_ms,
                verified_by=principal.account_id,
                verification_note=note,
            )

        await self._writer.run(job)
        return await self.get(handle, principal)

    async def unverify(self, principal: Principal, handle: str) -> PublicAccount:
        _require_admin(principal)

        async def job(tx: WriteTx) -> None:
            row = await account_row(tx.conn, handle)
            await store.update_public_account(
                tx.conn, row.id, verified_at=None, verified_by=None, verification_note=None
            )

        await self._writer.run(job)
        return await self.get(handle, principal)


def _require_admin(principal: Principal) -> None:
    if principal.role != Role.ADMIN:
        raise Forbidden(
            "only an administrator may verify accounts", code=ErrorCode.INSUFFICIENT_ROLE
        )


async def _account_by_username(tx: WriteTx, username: str) -> Record:
    name = username.strip().lstrip("@").casefold()
    row = await account_store.account_by_username(tx.conn, name)
    if row is None or row.status == Status.DEACTIVATED:
        raise NotFound("no such account", code=ErrorCode.ACCOUNT_NOT_FOUND)
    return row


async def _keep_an_owner(tx: WriteTx, public_account_id: str) -> None:
    if await store.count_role(tx.conn, public_account_id, MemberRole.OWNER) <= 1:
        raise Conflict(
            "a public account always has an owner; add another owner first",
            code=ErrorCode.LAST_OWNER,
        )
