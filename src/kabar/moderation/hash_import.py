"""Importing hash lists into the database (admins), and listing what is imported.

The CSV format and its parser are ``kabar.moderation.hashlists``. An import
is idempotent: a hash already on its list is counted as a duplicate and left
alone, so re-importing a provider's refreshed file only adds what is new. A
list is created by the first row that names it and keeps that row's action as
its own; each entry keeps the action of the row that listed it, and matching
uses the entry's. Good rows are imported even when other lines are refused;
every refused line is reported (the first 100 in detail). A file whose header
cannot be read is refused whole (400 ``invalid_hash_list``).

``kabar admin hashes import`` parses the file locally too (for its progress bar
and to send the rows in pieces below the request size limit); the server
parses each piece again, since it trusts no client.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from kabar.accounts.models import Principal
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import ErrorCode, InvalidRequest
from kabar.ids import new_id
from kabar.moderation.authority import require_admin
from kabar.moderation.context import audit
from kabar.moderation.hashing import ListedHash
from kabar.moderation.hashlists import HashListError, parse_hash_list
from kabar.store import hashes as store
from kabar.store.database import Database

ERRORS_SHOWN = 100


@dataclass(frozen=True, slots=True)
class HashListInfo:
    id: str
    name: str
    action: str
    entries: int
    enabled: bool
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    imported: int
    duplicates: int
    refused: int
    errors: tuple[LineError, ...]  # the first ERRORS_SHOWN refused lines
    lists: tuple[HashListInfo, ...]  # the lists this import touched


class HashListService:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._db = database
        self._writer = writer

    async def lists(self, admin: Principal) -> list[HashListInfo]:
        require_admin(admin)
        async with self._db.read() as conn:
            return [_info(r) for r in await store.lists(conn)]

    async def import_csv(self, admin: Principal, data: bytes) -> ImportReport:
        """Parse a CSV hash list and store its good rows (see the module docstring)."""
        require_admin(admin)
        rows: list[ListedHash] = []
        errors: list[LineError] = []
        refused = 0
        for item in parse_hash_list(data.splitlines(keepends=True)):
            if isinstance(item, HashListError):
                # The parser stops at a bad header: nothing in the file can be read.
                if not rows and not refused and "header" in item.message:
                    raise InvalidRequest(str(item), code=ErrorCode.INVALID_HASH_LIST)
                refused += 1
                if len(errors) < ERRORS_SHOWN:
                    errors.append(LineError(item.line, item.message))
            else:
                rows.append(item.hash)
        if not rows and not refused:
            raise InvalidRequest("the hash list has no rows", code=ErrorCode.INVALID_HASH_LIST)
        imported, duplicates, touched = await self._store(admin, rows)
        return ImportReport(imported, duplicates, refused, tuple(errors), touched)

    async def _store(
        self, admin: Principal, rows: Iterable[ListedHash]
    ) -> tuple[int, int, tuple[HashListInfo, ...]]:
        by_list: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
        first_action: dict[str, str] = {}
        for row in rows:
            first_action.setdefault(row.list, row.action)
            by_list[row.list].setdefault((row.type, row.value), row.action)

        async def job(tx: WriteTx) -> tuple[int, int, tuple[HashListInfo, ...]]:
            names = sorted(by_list)
            known = {r.name: r.id for r in await store.lists_named(tx.conn, names)}
            imported = duplicates = 0
            for name in names:
                list_id = known.get(name)
                if list_id is None:
                    list_id = new_id("h")
                    await store.insert_list(
                        tx.conn,
                        id=list_id,
                        name=name,
                        action=first_action[name],
                        entries=0,
                        enabled=True,
                        imported_by=admin.account_id,
                        created_at=tx.now_ms,
                        updated_at=tx.now_ms,
                    )
                entries = by_list[name]
                new_rows = []
                for hash_type in ("pdq", "sha256"):
                    values = [v for (t, v) in entries if t == hash_type]
                    seen = await store.existing_values(tx.conn, list_id, hash_type, values)
                    new_rows += [
                        {
                            "list_id": list_id,
                            "type": hash_type,
                            "value": v,
                            "action": entries[(hash_type, v)],
                            "created_at": tx.now_ms,
                        }
                        for v in values
                        if v not in seen
                    ]
                await store.insert_entries(tx.conn, new_rows)
                await store.add_to_list(tx.conn, list_id, len(new_rows), tx.now_ms)
                imported += len(new_rows)
                duplicates += len(entries) - len(new_rows)
            touched = tuple(_info(r) for r in await store.lists_named(tx.conn, names))
            await audit(
                tx,
                admin,
                "hash_lists.import",
                ",".join(names),
                imported=imported,
                duplicates=duplicates,
            )
            return imported, duplicates, touched

        result: tuple[int, int, tuple[HashListInfo, ...]] = await self._writer.run(job)
        return result


def _info(row: object) -> HashListInfo:
    return HashListInfo(**{name: getattr(row, name) for name in HashListInfo.__dataclass_fields__})
