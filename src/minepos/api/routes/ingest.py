"""HTTP ingest for gateways, and the Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from minepos.api.auth import Principal, require, require_gateway
from minepos.api.routes.common import ServicesDep, check_mine, json_response
from minepos.api.schemas import DeadLetterPublic, IngestResult

__all__ = ["metrics_router", "router"]

router = APIRouter(tags=["ingest"])
metrics_router = APIRouter()

#: payloads up to this size that carry an SOS take the urgent pipeline
_URGENT_MAX_BYTES = 4096

_BATCH_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "gateway": {"type": "string"},
                "measurements": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["measurements"],
        },
        {"type": "array", "items": {"type": "object"}},
    ]
}


@router.post(
    "/mines/{mine}/ingest",
    response_model=IngestResult,
    responses={422: {"description": "nothing in the batch could be accepted"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _BATCH_SCHEMA}},
        }
    },
)
async def ingest(
    request: Request,
    services: ServicesDep,
    gateway: Annotated[Principal, Depends(require_gateway)],
    mine: Annotated[str, Depends(check_mine)],
) -> Response:
    """A batch of canonical measurements (CONTRACT section 2) from a gateway."""
    pipeline = services.ingest
    if pipeline is None:
        raise HTTPException(503, "ingest is not running on this server")
    payload = await request.body()
    urgent = services.urgent_ingest
    if urgent is not None and len(payload) <= _URGENT_MAX_BYTES and b'"sos"' in payload:
        # a few hundred bytes: taken on the loop at once, past the queue of big batches
        report = urgent.accept(payload, gateway.name, "http")
    else:
        report = await run_in_threadpool(pipeline.accept, payload, gateway.name, "http")
    refused = report.rejected > 0 and report.accepted == 0 and report.duplicates == 0
    return json_response(report.to_dict(), status_code=422 if refused else 200)


@metrics_router.get("/metrics", include_in_schema=False)
def metrics(services: ServicesDep, _: Annotated[Principal, Depends(require("viewer"))]) -> Response:
    """Prometheus exposition text (needs a viewer token, like every other read)."""
    if services.metrics is None:
        raise HTTPException(404, "no metrics registry on this server")
    from minepos.ingest.metrics import CONTENT_TYPE, render

    return Response(render(services.metrics), media_type=CONTENT_TYPE)


@router.get("/dead-letters", response_model=list[DeadLetterPublic])
def list_dead_letters(
    services: ServicesDep,
    _: Annotated[Principal, Depends(require("admin"))],
    gateway: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Any:
    """The newest refused payloads and why, newest first (what `minepos ingest errors` shows)."""
    return [d.to_dict() for d in services.store.dead_letters.recent(limit, gateway)]
