"""`create_app(settings, services)`: the FastAPI application, with no import-time globals."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

import minepos
from minepos.api.auth import LoginLimiter, SessionTokens, TokenCache
from minepos.api.plan import mine_plan
from minepos.api.routes import accounts, emergency, ingest, live, mines, people
from minepos.api.schemas import Health
from minepos.api.services import Services
from minepos.api.settings import ServerSettings
from minepos.errors import InputError

__all__ = ["API_PREFIX", "create_app"]

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


def _health_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["system"])

    @router.get("/health", response_model=Health)
    def health() -> Health:
        """Liveness; the only call that needs no credentials."""
        return Health(status="ok", version=minepos.__version__, mine=services.mine.id)

    return router


async def _input_error(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


def create_app(
    settings: ServerSettings, services: Services, *, static_dir: Path | None = None
) -> FastAPI:
    """The API (and, with ``static_dir``, the console) over ``services``."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        services.hub.start()
        try:
            yield
        finally:
            await services.hub.stop()

    app = FastAPI(
        title="minepos",
        version=minepos.__version__,
        description="Underground mine personnel positioning and dispatch (CONTRACT section 4).",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.settings = settings
    app.state.plan = mine_plan(services.mine)
    app.state.sessions = SessionTokens(settings.session_hours * 3600.0, services.clock)
    app.state.login_limiter = LoginLimiter(settings.login_attempts, settings.login_window_s)
    app.state.token_cache = TokenCache()
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for router in (
        _health_router(services),
        accounts.router,
        mines.router,
        people.router,
        ingest.router,
        live.router,
        emergency.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(ingest.metrics_router)
    if static_dir is not None:
        _mount_console(app, static_dir)
    return app


def _mount_console(app: FastAPI, static_dir: Path) -> None:
    index = static_dir / "index.html"

    @app.get("/", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.mount("/", StaticFiles(directory=static_dir), name="console")
