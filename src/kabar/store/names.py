"""Account id → username, cached: usernames never change, so entries never go stale."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import bindparam, select

from kabar.store.schema import accounts
from kabar.store.threaded import Executor

_USERNAMES = select(accounts.c.id, accounts.c.username).where(
    accounts.c.id.in_(bindparam("ids", expanding=True))
)


class UsernameCache:
    def __init__(self, capacity: int = 100_000) -> None:
        self._names: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity

    def remember(self, account_id: str, username: str) -> None:
        self._names[account_id] = username
        if len(self._names) > self._capacity:
            self._names.popitem(last=False)

    def known(self, account_id: str) -> str | None:
        return self._names.get(account_id)

    async def resolve(self, conn: Executor, account_ids: Iterable[str | None]) -> None:
        """Load every id not yet cached, in one query."""
        missing = {a for a in account_ids if a is not None and a not in self._names}
        if not missing:
            return
        result = await conn.execute(_USERNAMES, {"ids": list(missing)})
        for row in result:
            self.remember(row.id, row.username)
