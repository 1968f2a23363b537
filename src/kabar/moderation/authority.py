"""The register of requests from governments and police, and their place in the public log.

Admins record each request as it arrives (who asked, jurisdiction, legal basis,
the targets, what was asked, when it arrived) and later its **decision**: what
was done (``no_action``, a moderation action, or ``disclose_data``), under which
policy item, a public summary and an internal note of the actions taken.

**Publication.** A decided request is appended to the transparency log as one
``authority_request`` entry — but not before its ``publish_after`` time, which
is the (first) decision time plus ``publish_delay_days`` (0 = at once;
correcting a decision does not restart the delay). The delay lets
an operator honour a lawful gag period without hiding the request for ever.
Until then the request is in no public place: not in the log, so not in the
tree heads, the log pages or the monthly report. Once due, it is logged by the
first of: the decision itself (no delay), any read of ``/transparency/…``
(:class:`~kabar.moderation.log_service.TransparencyService` runs
:meth:`AuthorityService.publish_due` before reading), or ``kabar admin authority
list``. Its entry's ``time_ms`` is when it was logged, so the report counts it
in the month it became public; ``authority.received_ms`` keeps the arrival.
A logged request can no longer be changed (409 ``authority_request_published``).

The entry names the first target (private accounts and messages by hashed
reference); the jurisdiction is folded into the authority's name.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from kabar.accounts.models import Principal, Role
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import Conflict, ErrorCode, Forbidden, InvalidRequest, NotFound
from kabar.ids import new_id
from kabar.moderation import ledger
from kabar.moderation.context import audit
from kabar.moderation.log_service import TransparencyService
from kabar.moderation.policy import Policy
from kabar.moderation.transparency.entries import (
    AUTHORITY_RESPONSES,
    PRIVATE_TARGETS,
    SUMMARY_MAX,
    TEXT_MAX,
    AuthorityRequest,
    LogEntry,
    Target,
    TargetType,
)
from kabar.store import accounts as account_store
from kabar.store import authority as store
from kabar.store import transparency as log_store
from kabar.store.database import Database
from kabar.store.rows import Record
from kabar.store.threaded import Executor

DAY_MS = 86_400_000
MAX_DELAY_DAYS = 3650
MAX_TARGETS = 50
STATUSES = ("pending", "decided")


@dataclass(frozen=True, slots=True)
class AuthorityRecord:
    id: str
    requester: str
    jurisdiction: str
    legal_basis: str
    request: str
    targets: tuple[dict[str, str], ...]
    received_at: int
    publish_delay_days: int
    status: str
    decision: str | None
    policy_item: str | None
    summary: str | None
    actions_taken: str | None
    decided_at: int | None
    decided_by: str | None
    publish_after: int | None
    log_seq: int | None
    created_by: str
    created_at: int

    @property
    def published(self) -> bool:
        return self.log_seq is not None


def require_admin(principal: Principal) -> None:
    if principal.role != Role.ADMIN:
        raise Forbidden("only an administrator may do this", code=ErrorCode.INSUFFICIENT_ROLE)


def _not_found() -> NotFound:
    return NotFound("no such authority request", code=ErrorCode.AUTHORITY_REQUEST_NOT_FOUND)


class AuthorityService:
    def __init__(
        self,
        database: Database,
        writer: Writer,
        transparency: TransparencyService,
        policy: Policy,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self._db = database
        self._writer = writer
        self._log = transparency
        self._policy = policy
        # Milliseconds now; replaceable so that publication delays can be tested.
        self.clock = clock or (lambda: int(time.time() * 1000))
        transparency.add_publisher(self.publish_due)

    async def create(
        self,
        admin: Principal,
        *,
        requester: str,
        jurisdiction: str,
        legal_basis: str,
        request: str,
        targets: Sequence[dict[str, str]],
        received_at: int | None = None,
        publish_delay_days: int = 0,
    ) -> AuthorityRecord:
        require_admin(admin)
        now = self.clock()
        received = now if received_at is None else received_at
        _check_delay(publish_delay_days)
        # The log's own rules, checked now rather than when it is too late to fix.
        AuthorityRequest(_authority_name(requester, jurisdiction), legal_basis, request, received)
        if received > now + DAY_MS:
            raise InvalidRequest("received_at is in the future")
        stored_targets = [await self._resolve_target(t) for t in targets]
        if not 1 <= len(stored_targets) <= MAX_TARGETS:
            raise InvalidRequest(f"a request names 1 to {MAX_TARGETS} targets")
        request_id = new_id("g")

        async def job(tx: WriteTx) -> AuthorityRecord:
            await store.insert_request(
                tx.conn,
                id=request_id,
                requester=requester.strip(),
                jurisdiction=jurisdiction.strip(),
                legal_basis=legal_basis.strip(),
                request=request.strip(),
                targets=json.dumps(stored_targets),
                received_at=received,
                publish_delay_days=publish_delay_days,
                status="pending",
                created_by=admin.account_id,
                created_at=tx.now_ms,
                updated_at=tx.now_ms,
            )
            await audit(tx, admin, "authority.record", request_id, jurisdiction=jurisdiction)
            return await self._record(tx.conn, request_id)

        result: AuthorityRecord = await self._writer.run(job)
        return result

    async def list(
        self, admin: Principal, status: str | None = None, limit: int = 100
    ) -> list[AuthorityRecord]:
        require_admin(admin)
        if status is not None and status not in STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}")
        await self.publish_due()
        async with self._db.read() as conn:
            rows = await store.list_requests(conn, status, limit)
        return [_record(r) for r in rows]

    async def get(self, admin: Principal, request_id: str) -> AuthorityRecord:
        require_admin(admin)
        await self.publish_due()
        async with self._db.read() as conn:
            return await self._record(conn, request_id)

    async def decide(
        self,
        admin: Principal,
        request_id: str,
        *,
        decision: str,
        policy_item: str,
        summary: str,
        actions_taken: str | None = None,
        publish_delay_days: int | None = None,
    ) -> AuthorityRecord:
        """Record (or correct, until published) the decision; log it now if no delay."""
        require_admin(admin)
        if decision not in AUTHORITY_RESPONSES:
            raise InvalidRequest(f"decision must be one of {', '.join(AUTHORITY_RESPONSES)}")
        self._policy.item(policy_item)
        if not isinstance(summary, str) or not summary.strip() or len(summary) > SUMMARY_MAX:
            raise InvalidRequest(f"summary must be 1 to {SUMMARY_MAX} characters")
        if actions_taken is not None and len(actions_taken) > 4000:
            raise InvalidRequest("actions_taken is at most 4000 characters")
        if publish_delay_days is not None:
            _check_delay(publish_delay_days)
        now = self.clock()

        async def job(tx: WriteTx) -> AuthorityRecord:
            row = await store.request_by_id(tx.conn, request_id)
            if row is None:
                raise _not_found()
            if row.log_seq is not None:
                raise Conflict(
                    "this request is already in the public log and cannot change",
                    code=ErrorCode.AUTHORITY_REQUEST_PUBLISHED,
                )
            delay = row.publish_delay_days if publish_delay_days is None else publish_delay_days
            # A correction keeps the first decision time: the delay does not restart.
            decided_at = row.decided_at if row.decided_at is not None else now
            await store.update_request(
                tx.conn,
                request_id,
                status="decided",
                decision=decision,
                policy_item=policy_item,
                summary=summary.strip(),
                actions_taken=actions_taken,
                publish_delay_days=delay,
                decided_at=decided_at,
                decided_by=admin.account_id,
                publish_after=decided_at + delay * DAY_MS,
                updated_at=tx.now_ms,
            )
            await audit(
                tx, admin, "authority.decide", request_id, decision=decision, delay_days=delay
            )
            if decided_at + delay * DAY_MS <= now:
                await self._publish(tx, request_id)
            return await self._record(tx.conn, request_id)

        result: AuthorityRecord = await self._writer.run(job)
        return result

    async def publish_due(self) -> None:
        """Log every decided request whose publication time has passed (cheap if none)."""
        now = self.clock()
        async with self._db.read() as conn:
            due = await store.due_ids(conn, now)
        if not due:
            return

        async def job(tx: WriteTx) -> None:
            for request_id in due:
                await self._publish(tx, request_id)

        await self._writer.run(job)

    async def _publish(self, tx: WriteTx, request_id: str) -> None:
        # The log's state lock first: whoever holds it sees whether another node
        # has published this request meanwhile (its log_seq is then set).
        await log_store.load_state(tx.conn, lock=True)
        row = await store.request_by_id(tx.conn, request_id)
        if row is None or row.log_seq is not None or row.status != "decided":
            return
        first = json.loads(row.targets)[0]
        ref = (
            self._log.private_ref(first["ref"])
            if first["type"] in PRIVATE_TARGETS
            else first["ref"]
        )
        authority = AuthorityRequest(
            _authority_name(row.requester, row.jurisdiction),
            row.legal_basis,
            row.request,
            row.received_at,
        )

        def make(seq: int) -> LogEntry:
            return LogEntry(
                kind="authority_request",
                seq=seq,
                time_ms=tx.now_ms,
                policy_item=row.policy_item,
                source="authority",
                automated=False,
                action=row.decision,
                target=Target(first["type"], ref),
                summary=row.summary,
                authority=authority,
            )

        entry = await ledger.append_entry(tx.conn, make, origin=request_id)
        await store.update_request(tx.conn, request_id, log_seq=entry.seq, updated_at=tx.now_ms)

    async def _resolve_target(self, target: dict[str, str]) -> dict[str, str]:
        """Check one target; a private account named by @username is stored by its id."""
        if not isinstance(target, dict) or set(target) != {"type", "ref"}:
            raise InvalidRequest('a target is {"type": ..., "ref": ...}')
        kind: Any = target["type"]
        ref = str(target["ref"]).strip()
        if kind not in get_args(TargetType):
            raise InvalidRequest(f"target type must be one of {', '.join(get_args(TargetType))}")
        if kind == "account":
            async with self._db.read() as conn:
                row = await account_store.account_by_username(conn, ref.lstrip("@").casefold())
            if row is not None:
                ref = row.id
            elif not ref.startswith("a_"):
                raise NotFound(f"no account {ref}", code=ErrorCode.ACCOUNT_NOT_FOUND)
        if kind in PRIVATE_TARGETS:
            if not ref or len(ref) > 64:
                raise InvalidRequest(f"a {kind} target is referred to by its id")
            Target(kind, self._log.private_ref(ref))
        else:
            Target(kind, ref)  # a public URL or kabar id, as the log will show it
        return {"type": kind, "ref": ref}

    async def _record(self, conn: Executor, request_id: str) -> AuthorityRecord:
        row = await store.request_by_id(conn, request_id)
        if row is None:
            raise _not_found()
        return _record(row)


def _authority_name(requester: str, jurisdiction: str) -> str:
    name = f"{requester.strip()} ({jurisdiction.strip()})" if jurisdiction.strip() else requester
    return name[:TEXT_MAX]


def _check_delay(days: int) -> None:
    if not isinstance(days, int) or not 0 <= days <= MAX_DELAY_DAYS:
        raise InvalidRequest(f"publish_delay_days must be 0 to {MAX_DELAY_DAYS}")


def _record(row: Record) -> AuthorityRecord:
    values: dict[str, Any] = {name: getattr(row, name) for name in AuthorityRecord.__slots__}
    values["targets"] = tuple(json.loads(row.targets))
    return AuthorityRecord(**values)
