"""Operational routes: health and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from kabar.http.deps import Svc

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str
    database: str
    broker: str
    stream_position: int


@router.get("/healthz", summary="Liveness and dependencies", responses={503: {"model": Health}})
async def healthz(svc: Svc, response: Response) -> Health:
    database = "ok"
    try:
        async with svc.database.read() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        database = "unavailable"
    broker = "ok" if svc.broker.healthy else "unavailable"
    healthy = database == "ok" and broker == "ok"
    if not healthy:
        response.status_code = 503
    return Health(
        status="ok" if healthy else "degraded",
        database=database,
        broker=broker,
        stream_position=svc.hub.watermark,
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
