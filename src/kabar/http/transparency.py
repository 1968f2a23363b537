"""Routes of the public transparency log: ``/transparency/log`` (+ head, consistency, key).

Anyone may read them, signed in or not. Hashes and signatures are unpadded
standard base64 (docs/moderation.md § 2). The HTML report and its JSON live
in :mod:`kabar.http.transparency_report`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kabar.http.deps import Svc
from kabar.http.problems import ERROR_RESPONSES
from kabar.moderation.log_service import served_json
from kabar.moderation.transparency.encoding import b64encode
from kabar.services import Services

router = APIRouter(prefix="/transparency", tags=["transparency"], responses=ERROR_RESPONSES)

Size = Annotated[int, Query(ge=0, le=2**53 - 1)]


class TreeHeadOut(BaseModel):
    """A signed tree head: the log had ``root_hash`` after ``tree_size`` entries."""

    tree_size: int
    root_hash: str = Field(description="base64 of the 32-byte RFC 9162 Merkle tree hash")
    timestamp_ms: int
    log_id: str = Field(description="hex SHA-256 of the key's DER SubjectPublicKeyInfo")
    signature: str = Field(
        description="base64 Ed25519 signature over the canonical JSON of the other four fields"
    )


class LogKeyOut(BaseModel):
    algorithm: str = "Ed25519"
    log_id: str
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    pem: str = Field(description="the same key as a PEM SubjectPublicKeyInfo")


class LogHeadOut(BaseModel):
    head: TreeHeadOut
    key: LogKeyOut


class ServedEntryOut(BaseModel):
    index: int = Field(description="the leaf index; equals entry.seq")
    entry: dict[str, Any] = Field(description="the log entry (docs/moderation.md § 2)")
    leaf_hash: str
    inclusion_proof: list[str] = Field(description="RFC 9162 PATH(index, D[head.tree_size])")


class LogPageOut(BaseModel):
    head: TreeHeadOut
    entries: list[ServedEntryOut]
    next: int | None = Field(description="the start of the next page, or null at the end")


class ConsistencyOut(BaseModel):
    first: int
    second: int
    proof: list[str] = Field(description="RFC 9162 PROOF(first, D[second])")


def _key(svc: Services) -> LogKeyOut:
    key = svc.transparency.public_key
    return LogKeyOut(log_id=key.log_id, public_key=key.to_raw_base64(), pem=key.to_pem().decode())


@router.get("/key", summary="The log's public key")
async def log_key(svc: Svc) -> LogKeyOut:
    """Pin this key from somewhere you trust besides this API (the operator's own page)."""
    return _key(svc)


@router.get("/log/head", summary="The current signed tree head")
async def log_head(svc: Svc) -> LogHeadOut:
    sth = await svc.transparency.head()
    return LogHeadOut(head=TreeHeadOut(**sth.to_json()), key=_key(svc))


@router.get("/log", summary="Log entries with inclusion proofs")
async def log_entries(
    svc: Svc,
    start: Size = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> LogPageOut:
    """Entries ``[start, start + limit)`` (at most ``transparency.page_max``) of the current
    head, each with its inclusion proof against that head."""
    page = await svc.transparency.page(start, limit)
    return LogPageOut(
        head=TreeHeadOut(**page.head.to_json()),
        entries=[ServedEntryOut(**e) for e in served_json(page.entries)],
        next=page.next,
    )


@router.get("/log/consistency", summary="A consistency proof between two tree sizes")
async def log_consistency(
    svc: Svc,
    first: Annotated[int, Query(alias="from", ge=0, le=2**53 - 1)],
    second: Annotated[int | None, Query(alias="to", ge=0, le=2**53 - 1)] = None,
) -> ConsistencyOut:
    """Proves that the tree of size ``to`` (default: the current head) extends the tree of
    size ``from`` unchanged."""
    size, proof = await svc.transparency.consistency(first, second)
    return ConsistencyOut(first=first, second=size, proof=[b64encode(h) for h in proof])
