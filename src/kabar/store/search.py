"""Text search over public accounts and articles, on SQLite (FTS5) and PostgreSQL.

Both dialects index the same table, ``search_documents`` (``title`` weighted
above ``body``): SQLite through the FTS5 table ``search_fts`` that triggers keep
in step with it, PostgreSQL through a GIN index over :data:`PG_DOCUMENT`. Both
take the same query language — web-search style, as PostgreSQL's
``websearch_to_tsquery`` defines it: words (all must match), ``"quoted
phrases"``, ``-excluded`` words and ``or`` — which :func:`fts5_query` translates
for SQLite. Neither stems words (PostgreSQL uses the ``simple`` configuration,
SQLite ``unicode61``), so both find the same documents; SQLite also folds
diacritics. Ranking is BM25 on SQLite and ``ts_rank`` on PostgreSQL.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, insert, text, update

from kabar.store.schema import search_documents
from kabar.store.threaded import Executor

# The text index is not part of the declared metadata (kabar.store.schema): it differs per
# dialect. Migrations create it (0003); Alembic's comparisons must leave it alone.
SEARCH_FTS_TABLE = "search_fts"
SEARCH_FTS_INDEX = "ix_search_documents_fts"


def is_declared(name: str | None, type_: str, _parents: object = None) -> bool:
    """Alembic's include_name filter: everything but the dialect-specific search index."""
    if type_ == "table" and name is not None and name.startswith(SEARCH_FTS_TABLE):
        return False
    return not (type_ == "index" and name == SEARCH_FTS_INDEX)


# The indexed expression (migration 0003); queries must repeat it exactly to use the index.
PG_DOCUMENT = (
    "(setweight(to_tsvector('simple'::regconfig, search_documents.title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_documents.body), 'B'))"
)
# PostgreSQL refuses tsvectors over 1 MiB; nobody needs more than this to be found.
MAX_BODY_CHARS = 100_000

_TERM = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")

_SQLITE_SEARCH = text(
    "SELECT d.ref_id FROM search_fts JOIN search_documents AS d ON d.id = search_fts.rowid "
    "WHERE search_fts MATCH :query AND d.kind = :kind "
    "ORDER BY bm25(search_fts, 10.0, 1.0), d.id DESC LIMIT :limit"
)
_POSTGRES_SEARCH = text(
    f"SELECT search_documents.ref_id FROM search_documents, "
    f"websearch_to_tsquery('simple'::regconfig, :query) AS q "
    f"WHERE {PG_DOCUMENT} @@ q AND search_documents.kind = :kind "
    f"ORDER BY ts_rank({PG_DOCUMENT}, q) DESC, search_documents.id DESC LIMIT :limit"
)


async def put_document(conn: Executor, kind: str, ref_id: str, title: str, body: str) -> None:
    """Index (or re-index) one document. Runs inside the writer's serial batches."""
    values = {"title": title, "body": body[:MAX_BODY_CHARS]}
    result = await conn.execute(
        update(search_documents)
        .where(search_documents.c.kind == kind, search_documents.c.ref_id == ref_id)
        .values(**values)
    )
    if not result.rowcount:
        await conn.execute(insert(search_documents).values(kind=kind, ref_id=ref_id, **values))


async def remove_document(conn: Executor, kind: str, ref_id: str) -> None:
    await conn.execute(
        delete(search_documents).where(
            search_documents.c.kind == kind, search_documents.c.ref_id == ref_id
        )
    )


async def search(conn: Executor, kind: str, query: str, limit: int) -> list[str]:
    """Ids of the best-matching documents of ``kind``, best first."""
    if conn.dialect.name == "postgresql":
        statement, prepared = _POSTGRES_SEARCH, query
    else:
        statement, prepared = _SQLITE_SEARCH, fts5_query(query)
    if not prepared.strip():
        return []
    result = await conn.execute(statement, {"query": prepared, "kind": kind, "limit": limit})
    return [row.ref_id for row in result]


def fts5_query(query: str) -> str:
    """Translate a web-search style query into FTS5 syntax (see the module docstring).

    Every term becomes a quoted FTS5 string, so no input can be read as FTS5
    operators or column filters. Exclusions need something to exclude from:
    a query of exclusions only matches nothing.
    """
    include: list[str] = []
    exclude: list[str] = []
    pending_or = False
    for match in _TERM.finditer(query):
        negated, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare is not None and bare.lower() == "or" and include:
            pending_or = True
            continue
        if bare is not None and bare.startswith("-") and len(bare) > 1:
            negated, bare = "-", bare[1:]
        words = _WORD.findall(phrase if phrase is not None else bare or "")
        if not words:
            continue
        term = '"' + " ".join(words) + '"'
        if negated:
            exclude.append(term)
        elif pending_or:
            include[-1] = f"({include[-1]} OR {term})"
        else:
            include.append(term)
        pending_or = False
    if not include:
        return ""
    return " ".join(include) + "".join(f" NOT {term}" for term in exclude)
