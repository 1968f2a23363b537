"""Auditing a fetched transparency log against what was saved last time.

This backs ``kabar transparency verify``. The auditor pins the log's public
key and keeps a :class:`Checkpoint`: the last signed tree head it accepted and,
optionally, the leaf hashes under it (32 bytes per entry). Each run fetches the
current signed tree head, every entry ``[0, tree_size)`` (each served as
``{"entry": {...}, "leaf_hash": "<base64>"}``, ``leaf_hash`` optional) and the
consistency proof from the saved size, then :func:`verify_log` checks, and
reports the first failure as a typed :class:`Verdict`:

1. both heads carry the log's valid signature            → ``bad_signature``
2. the log did not shrink                                 → ``truncated``
3. every entry parses and validates                       → ``malformed``
4. entry ``i`` has ``seq == i``: a gap, a repeat or a swap → ``removed`` /
   ``inserted`` / ``reordered``, naming the first bad index
5. every entry's content hashes to the leaf hash served with it, and (with a
   saved copy) to the leaf hash saved for it             → ``altered``
6. there are exactly ``tree_size`` entries                → ``truncated`` / ``inserted``
7. the first ``saved size`` leaves give the saved root    → ``history_rewritten``
8. all leaves give the signed root                        → ``root_mismatch``
9. the consistency proof verifies (RFC 9162 §2.1.4.2)     → ``inconsistent``

Without saved leaf hashes, an entry whose content *and* served hash were both
rewritten is still caught (step 7 or 8), but only its range can be named, not
its index. With them, the index is exact. Cost: O(n) hashing, O(n) memory for
the leaf hashes kept for the next checkpoint.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kabar.errors import InvalidRequest
from kabar.moderation.transparency.encoding import b64decode, b64encode
from kabar.moderation.transparency.entries import LogEntry
from kabar.moderation.transparency.frontier import Frontier
from kabar.moderation.transparency.merkle import EMPTY_ROOT, HASH_SIZE, root, verify_consistency
from kabar.moderation.transparency.sth import LogPublicKey, SignedTreeHead


class Problem(enum.StrEnum):
    BAD_SIGNATURE = "bad_signature"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"
    REMOVED = "removed"
    INSERTED = "inserted"
    REORDERED = "reordered"
    ALTERED = "altered"
    HISTORY_REWRITTEN = "history_rewritten"
    ROOT_MISMATCH = "root_mismatch"
    INCONSISTENT = "inconsistent"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What an auditor keeps between runs: an accepted head, and maybe its leaves."""

    head: SignedTreeHead
    leaf_hashes: tuple[bytes, ...] | None = None

    def __post_init__(self) -> None:
        hashes = self.leaf_hashes
        if hashes is None:
            return
        if len(hashes) != self.head.head.tree_size or any(len(h) != HASH_SIZE for h in hashes):
            raise InvalidRequest("checkpoint leaf hashes do not match its tree size")
        if root(hashes) != self.head.head.root_hash:
            raise InvalidRequest("checkpoint leaf hashes do not give its root: the file is damaged")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"head": self.head.to_json()}
        if self.leaf_hashes is not None:
            data["leaf_hashes"] = b64encode(b"".join(self.leaf_hashes))
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Checkpoint:
        if not isinstance(data, Mapping) or "head" not in data:
            raise InvalidRequest('a checkpoint is {"head": {...}, "leaf_hashes": ...}')
        head = SignedTreeHead.from_json(data["head"])
        if "leaf_hashes" not in data:
            return cls(head)
        size = head.head.tree_size
        packed = b64decode(data["leaf_hashes"], field="leaf_hashes", length=size * HASH_SIZE)
        return cls(head, tuple(packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)))


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one audit. ``index`` names the first bad entry when one can be named;
    ``span`` is the range of entries a whole-tree failure is confined to."""

    problem: Problem | None
    detail: str
    index: int | None = None
    span: tuple[int, int] | None = None
    checkpoint: Checkpoint | None = None  # on success: save this for the next run

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_log(
    key: LogPublicKey,
    saved: Checkpoint | None,
    head: SignedTreeHead,
    served_entries: Iterable[Mapping[str, Any]],
    consistency: Sequence[bytes],
) -> Verdict:
    """Audit the fetched log (``head`` + entries + proof) against ``saved`` (None: first run)."""
    if not key.verify(head):
        return Verdict(Problem.BAD_SIGNATURE, "the current tree head is not signed by the log key")
    old_size, old_root = 0, EMPTY_ROOT
    if saved is not None:
        if not key.verify(saved.head):
            return Verdict(
                Problem.BAD_SIGNATURE, "the saved tree head is not signed by the log key"
            )
        old_size, old_root = saved.head.head.tree_size, saved.head.head.root_hash
    size = head.head.tree_size
    if size < old_size:
        return Verdict(
            Problem.TRUNCATED,
            f"the log shrank from {old_size} to {size} entries",
            index=size,
        )

    leaves: list[bytes] = []
    seqs: list[int] = []
    altered: Verdict | None = None
    for index, served in enumerate(served_entries):
        try:
            entry, served_hash = _parse(served)
        except InvalidRequest as exc:
            return Verdict(Problem.MALFORMED, f"entry {index}: {exc.detail}", index=index)
        leaf = entry.leaf_hash()
        if altered is None:
            altered = _altered(index, leaf, served_hash, saved)
        leaves.append(leaf)
        seqs.append(entry.seq)

    found = [v for v in (_sequence_problem(seqs), altered) if v is not None]
    if found:
        # The earliest bad index wins; at the same index a seq problem says more.
        return min(found, key=lambda v: (v.index or 0, v.problem is Problem.ALTERED))
    if len(leaves) != size:
        problem = Problem.TRUNCATED if len(leaves) < size else Problem.INSERTED
        return Verdict(
            problem,
            f"the signed head has {size} entries but {len(leaves)} were served",
            index=min(len(leaves), size),
        )
    return _check_roots(leaves, old_size, old_root, head, consistency)


def _parse(served: Mapping[str, Any]) -> tuple[LogEntry, bytes | None]:
    if not isinstance(served, Mapping) or "entry" not in served:
        raise InvalidRequest('a served entry is {"entry": {...}, "leaf_hash": ...}')
    unknown = set(served) - {"entry", "leaf_hash"}
    if unknown:
        raise InvalidRequest(f"served entry has unknown field(s) {', '.join(sorted(unknown))}")
    entry = LogEntry.from_json(served["entry"])
    if "leaf_hash" not in served:
        return entry, None
    return entry, b64decode(served["leaf_hash"], field="leaf_hash", length=HASH_SIZE)


def _altered(
    index: int, leaf: bytes, served_hash: bytes | None, saved: Checkpoint | None
) -> Verdict | None:
    if served_hash is not None and served_hash != leaf:
        return Verdict(
            Problem.ALTERED,
            f"entry {index}'s content does not hash to the leaf hash served with it",
            index=index,
        )
    known = saved.leaf_hashes if saved is not None else None
    if known is not None and index < len(known) and known[index] != leaf:
        return Verdict(
            Problem.ALTERED,
            f"entry {index} differs from the copy saved at tree size {len(known)}",
            index=index,
        )
    return None


def _sequence_problem(seqs: Sequence[int]) -> Verdict | None:
    # Entry i must say seq i. At the first place that fails, tell a swap (the same
    # seqs, out of order) from a gap (seq i is gone) from an extra entry.
    first = next((i for i, seq in enumerate(seqs) if seq != i), None)
    if first is None:
        return None
    seq = seqs[first]
    where = f"position {first} holds entry seq {seq}"
    if sorted(seqs) == list(range(len(seqs))):
        return Verdict(Problem.REORDERED, f"entries out of order: {where}", index=first)
    if first not in seqs[first + 1 :]:
        return Verdict(Problem.REMOVED, f"entry seq {first} is missing: {where}", index=first)
    return Verdict(
        Problem.INSERTED, f"an extra entry: {where}, seq {first} comes later", index=first
    )


def _check_roots(
    leaves: list[bytes],
    old_size: int,
    old_root: bytes,
    head: SignedTreeHead,
    consistency: Sequence[bytes],
) -> Verdict:
    size, new_root = head.head.tree_size, head.head.root_hash
    frontier = Frontier()
    frontier.extend(leaves[:old_size])
    if frontier.root() != old_root:
        return Verdict(
            Problem.HISTORY_REWRITTEN,
            f"entries [0, {old_size}) no longer hash to the saved root: one was altered",
            span=(0, old_size),
        )
    frontier.extend(leaves[old_size:])
    if frontier.root() != new_root:
        return Verdict(
            Problem.ROOT_MISMATCH,
            f"entries [{old_size}, {size}) do not hash to the signed root: one was altered",
            span=(old_size, size),
        )
    if not verify_consistency(old_size, size, old_root, new_root, consistency):
        return Verdict(
            Problem.INCONSISTENT,
            f"the consistency proof from size {old_size} to {size} does not verify",
        )
    return Verdict(
        None,
        f"{size} entries verified; consistent with the saved head of {old_size}",
        checkpoint=Checkpoint(head, tuple(leaves)),
    )
