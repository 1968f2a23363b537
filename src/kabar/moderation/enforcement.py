"""Actions on cases: their effects, strikes and escalation, notices, and reversal.

An action is one writer job: the action row, its effect on the content or
account, the strikes it gives and any escalation they reach (policy
``[[strikes.escalation]]``), a notice to the affected account (stored, and sent
live as a ``moderation.notice`` event to all its devices), the case closed, the
audit entry and the transparency-log entry — all committed together or not at all.

Effects: ``remove_content`` and ``label`` change the content's row
(kabar.moderation.targets; a removal also redacts the article's, or the public
account's, ``article.published`` events: kabar.moderation.history);
``restrict_publishing`` is the action row itself (publishing checks
kabar.moderation.restrictions); ``suspend`` sets the account's
status, which stops every token and closes every socket (the control bus).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kabar.accounts.models import Principal, Status
from kabar.delivery import control
from kabar.delivery.transaction import WriteTx
from kabar.errors import Conflict, ErrorCode, InvalidRequest
from kabar.ids import new_id
from kabar.moderation import history, targets
from kabar.moderation.actions import Action
from kabar.moderation.context import (
    DAY_MS,
    NOTICE_EVENT,
    TEXT_MAX,
    Deps,
    action_record,
    audit,
    notice_view,
    require_moderator,
)
from kabar.moderation.models import ActionRecord, Source, TargetType
from kabar.moderation.transparency_hook import TransparencyHook
from kabar.public.text import checked_text
from kabar.store import accounts as account_store
from kabar.store import moderation as store
from kabar.store.threaded import Executor

LABEL_MAX = 200
DURATION_MAX_DAYS = 3650
ACCOUNT_ACTIONS = (Action.RESTRICT_PUBLISHING, Action.SUSPEND)


@dataclass(frozen=True, slots=True)
class Decision:
    """A validated action, before it is applied."""

    action: Action
    policy_item: str
    rationale: str
    duration_days: int | None
    label: str | None


class Enforcement:
    def __init__(self, deps: Deps, hook: TransparencyHook) -> None:
        self._deps = deps
        self.hook = hook

    def validate(
        self,
        action: str,
        policy_item: str,
        rationale: str,
        duration_days: int | None,
        label: str | None,
    ) -> Decision:
        try:
            chosen = Action(action)
        except ValueError:
            names = ", ".join(a.value for a in Action)
            raise InvalidRequest(
                f"an action is one of {names}", code=ErrorCode.ACTION_NOT_ALLOWED
            ) from None
        item = self._deps.policy.item(policy_item)
        if not self._deps.policy.allows(item, chosen):
            raise InvalidRequest(
                f"the policy item {item.id} does not allow {chosen.value}",
                code=ErrorCode.ACTION_NOT_ALLOWED,
            )
        text = checked_text(rationale, field="rationale", min_chars=1, max_chars=TEXT_MAX)
        if duration_days is not None and (
            chosen not in ACCOUNT_ACTIONS or not 1 <= duration_days <= DURATION_MAX_DAYS
        ):
            raise InvalidRequest(
                f"duration_days (1 to {DURATION_MAX_DAYS}) applies to restrict_publishing "
                "and suspend only"
            )
        if chosen is Action.LABEL:
            if not label:
                raise InvalidRequest("a label action needs a label")
            label = checked_text(
                label, field="label", min_chars=1, max_chars=LABEL_MAX, single_line=True
            )
        elif label is not None:
            raise InvalidRequest("label applies to the label action only")
        return Decision(chosen, item.id, text, duration_days, label)

    async def act(
        self,
        moderator: Principal,
        case_id: str,
        action: str,
        policy_item: str,
        rationale: str,
        duration_days: int | None = None,
        label: str | None = None,
    ) -> ActionRecord:
        """Decide a case: apply the action and close the case."""
        require_moderator(moderator)
        decision = self.validate(action, policy_item, rationale, duration_days, label)
        from kabar.moderation.cases import case_not_found

        async def job(tx: WriteTx) -> ActionRecord:
            case = await store.case(tx.conn, case_id)
            if case is None:
                raise case_not_found()
            if case.status != "open":
                raise Conflict("this case is already decided", code=ErrorCode.CASE_CLOSED)
            source = Source(case.source)
            action_id = await self.apply(
                tx,
                decision,
                case_id=case_id,
                target_type=TargetType(case.target_type),
                target_id=case.target_id,
                owner=case.owner_account,
                source=source,
                moderator=moderator.account_id,
                snapshot_label=_snapshot_field(case.snapshot, "label") or case.target_id,
                snapshot_url=_snapshot_field(case.snapshot, "url"),
            )
            await store.update_case(
                tx.conn, case_id, status="closed", closed_at=tx.now_ms, updated_at=tx.now_ms
            )
            await audit(
                tx,
                moderator,
                f"case.{decision.action.value}",
                case_id,
                action_id=action_id,
                policy_item=decision.policy_item,
            )
            row = await store.action(tx.conn, action_id)
            assert row is not None
            names = await store.usernames(tx.conn, {row.account_id, row.moderator})
            return action_record(row, names)

        result: ActionRecord = await self._deps.writer.run(job)
        return result

    async def apply(
        self,
        tx: WriteTx,
        decision: Decision,
        *,
        case_id: str | None,
        target_type: TargetType,
        target_id: str,
        owner: str | None,
        source: Source,
        moderator: str | None,
        snapshot_label: str,
        snapshot_url: str | None,
        escalated_from: str | None = None,
    ) -> str:
        """Record and carry out one action (and the escalation it triggers) inside ``tx``."""
        chosen = decision.action
        if chosen in ACCOUNT_ACTIONS and owner is None:
            raise InvalidRequest(
                "this target has no account to restrict or suspend",
                code=ErrorCode.ACTION_NOT_ALLOWED,
            )
        strikes = (
            0 if escalated_from else self._deps.policy.strikes_for(decision.policy_item, chosen)
        )
        if chosen in ACCOUNT_ACTIONS:
            # Account-wide: the target becomes the account (its log entry, its notice).
            target_type, target_id = TargetType.ACCOUNT, owner or target_id
        expires = tx.now_ms + decision.duration_days * DAY_MS if decision.duration_days else None
        action_id = new_id("x")
        values: dict[str, Any] = {
            "id": action_id,
            "case_id": case_id,
            "target_type": target_type.value,
            "target_id": target_id,
            "account_id": owner,
            "action": chosen.value,
            "policy_item": decision.policy_item,
            "rationale": decision.rationale,
            "label": decision.label,
            "duration_days": decision.duration_days,
            "expires_at": expires,
            "moderator": moderator,
            "source": source.value,
            "automated": moderator is None,
            "strikes": strikes,
            "escalated_from": escalated_from,
            "created_at": tx.now_ms,
        }
        await store.insert_action(tx.conn, **values)
        await self._effect(tx, chosen, target_type, target_id, owner, decision.label)
        seq = await self.hook.action_logged(tx, values)
        if seq is not None:
            await store.update_action(tx.conn, action_id, log_seq=seq)
        if owner is not None and chosen is not Action.DISMISS:
            if chosen in ACCOUNT_ACTIONS:
                label = await _account_label(tx.conn, owner)
                snapshot_label, snapshot_url = label, None
            await send_notice(tx, self._deps, action_id, owner, snapshot_label, snapshot_url)
        if strikes and owner is not None:
            await self._escalate(tx, decision, action_id, owner, source, moderator)
        return action_id

    async def _effect(
        self,
        tx: WriteTx,
        chosen: Action,
        target_type: TargetType,
        target_id: str,
        owner: str | None,
        label: str | None,
    ) -> None:
        if chosen is Action.REMOVE_CONTENT:
            await targets.set_removed(tx.conn, target_type, target_id, tx.now_ms)
            await history.redact(tx.conn, target_type, target_id)
        elif chosen is Action.LABEL:
            await targets.set_label(tx.conn, target_type, target_id, label)
        elif chosen is Action.SUSPEND and owner is not None:
            await set_account_status(tx, self._deps, owner, Status.SUSPENDED)

    async def _escalate(
        self,
        tx: WriteTx,
        decision: Decision,
        action_id: str,
        owner: str,
        source: Source,
        moderator: str | None,
    ) -> None:
        policy = self._deps.policy
        since = tx.now_ms - policy.strike_window_days * DAY_MS
        count = await store.strike_count(tx.conn, owner, since)
        rule = policy.escalation(count)
        if rule is None or decision.action.strength >= rule.action.strength:
            return
        for stronger in (a for a in ACCOUNT_ACTIONS if a.strength >= rule.action.strength):
            if await store.active(tx.conn, owner, stronger.value, tx.now_ms):
                return  # already restricted (or suspended) at least this much
        escalation = Decision(
            action=rule.action,
            policy_item=decision.policy_item,
            rationale=(
                f"{count} strikes within {policy.strike_window_days} days reached the "
                f"policy's threshold of {rule.at}: {rule.action.value.replace('_', ' ')}"
            ),
            duration_days=rule.duration_days,
            label=None,
        )
        await self.apply(
            tx,
            escalation,
            case_id=None,
            target_type=TargetType.ACCOUNT,
            target_id=owner,
            owner=owner,
            source=source,
            moderator=moderator,
            snapshot_label="",
            snapshot_url=None,
            escalated_from=action_id,
        )

    async def reverse(self, tx: WriteTx, action_id: str) -> None:
        """Undo an action (a granted appeal), and any escalation it caused."""
        row = await store.action(tx.conn, action_id)
        if row is None or row.reversed_at is not None:
            return
        await store.update_action(tx.conn, action_id, reversed_at=tx.now_ms)
        chosen = Action(row.action)
        kind = TargetType(row.target_type)
        if chosen is Action.REMOVE_CONTENT:
            await targets.set_removed(tx.conn, kind, row.target_id, None)
            await history.restore(tx.conn, kind, row.target_id, self._deps.public_url)
        elif chosen is Action.LABEL:
            await targets.set_label(tx.conn, kind, row.target_id, None)
        elif chosen is Action.SUSPEND and row.account_id is not None:
            if not await store.active(tx.conn, row.account_id, Action.SUSPEND.value, tx.now_ms):
                await set_account_status(tx, self._deps, row.account_id, Status.ACTIVE)
        for child in await store.escalations_of(tx.conn, action_id):
            await self.reverse(tx, child.id)


async def set_account_status(tx: WriteTx, deps: Deps, account_id: str, status: Status) -> None:
    """Suspend or reinstate; a deactivated account stays deactivated."""
    row = await account_store.account_by_id(tx.conn, account_id)
    if row is None or row.status == Status.DEACTIVATED.value or row.status == status.value:
        return
    await account_store.update_account(tx.conn, account_id, status=status.value)
    tx.after_commit(
        lambda: deps.bus.publish(
            control.ACCOUNT_CHANGED, account_id=account_id, status=status.value
        )
    )


async def send_notice(
    tx: WriteTx,
    deps: Deps,
    action_id: str,
    account_id: str,
    label: str,
    url: str | None,
    notice_id: str | None = None,
) -> None:
    """Store the notice (unless re-sending ``notice_id``) and send it live to the account."""
    if notice_id is None:
        notice_id = new_id("y")
        await store.insert_notice(
            tx.conn,
            id=notice_id,
            account_id=account_id,
            action_id=action_id,
            target_label=label[:300],
            target_url=url[:400] if url else None,
            created_at=tx.now_ms,
        )
    row = await store.notice(tx.conn, notice_id)
    notice = notice_view(row, deps.policy)
    await tx.append_event(NOTICE_EVENT, notice.to_json(), target_account=account_id)


async def _account_label(conn: Executor, account_id: str) -> str:
    row = await account_store.account_by_id(conn, account_id)
    return f"@{row.username}" if row is not None else "your account"


def _snapshot_field(snapshot: str, name: str) -> str | None:
    import json

    value = json.loads(snapshot).get(name)
    return str(value) if value else None
