"""Reactions to published articles: each account may leave each kind once (see REACTIONS)."""

from __future__ import annotations

from kabar.accounts.models import Principal
from kabar.delivery.transaction import WriteTx
from kabar.delivery.writer import Writer
from kabar.errors import ErrorCode, InvalidRequest
from kabar.ids import looks_like_id
from kabar.public.models import REACTIONS, ArticleStatus
from kabar.public.permissions import article_not_found
from kabar.store import articles as article_store
from kabar.store import engagement as store
from kabar.store.database import Database


class ReactionService:
    def __init__(self, database: Database, writer: Writer) -> None:
        self._db = database
        self._writer = writer

    async def react(self, principal: Principal, article_id: str, reaction: str) -> dict[str, int]:
        return await self._change(principal, article_id, reaction, add=True)

    async def unreact(self, principal: Principal, article_id: str, reaction: str) -> dict[str, int]:
        return await self._change(principal, article_id, reaction, add=False)

    async def _change(
        self, principal: Principal, article_id: str, reaction: str, *, add: bool
    ) -> dict[str, int]:
        if reaction not in REACTIONS:
            raise InvalidRequest(
                f"reaction must be one of {', '.join(REACTIONS)}",
                code=ErrorCode.INVALID_REQUEST,
                data={"field": "reaction"},
            )
        if not looks_like_id(article_id, "r"):
            raise article_not_found()

        async def job(tx: WriteTx) -> dict[str, int]:
            row = await article_store.by_id(tx.conn, article_id, full=False)
            if row is None or row.status != ArticleStatus.PUBLISHED:
                raise article_not_found()
            if add:
                await store.add_reaction(
                    tx.conn, article_id, principal.account_id, reaction, tx.now_ms
                )
            else:
                await store.remove_reaction(tx.conn, article_id, principal.account_id, reaction)
            return await store.reaction_counts(tx.conn, article_id)

        counts: dict[str, int] = await self._writer.run(job)
        return counts
