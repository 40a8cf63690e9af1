"""Login, users, gateways and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from minepos.api.auth import (
    LoginLimiter,
    Principal,
    SessionTokens,
    bearer,
    require,
)
from minepos.api.routes.common import ServicesDep
from minepos.api.schemas import (
    AuditPublic,
    GatewayCreate,
    GatewayCreated,
    LoginRequest,
    LoginResult,
    PasswordSet,
    UserCreate,
    UserCreated,
    UserPublic,
)
from minepos.errors import InputError

__all__ = ["router"]

router = APIRouter(tags=["accounts"])
Admin = Annotated[Principal, Depends(require("admin"))]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/auth/login",
    response_model=LoginResult,
    responses={
        401: {"description": "wrong name or password"},
        429: {"description": "too many tries"},
    },
)
def login(request: Request, services: ServicesDep, body: LoginRequest, response: Response) -> Any:
    """Log in with name and password; returns a session token for the console."""
    limiter: LoginLimiter = request.app.state.login_limiter
    address = _address(request)
    wait = limiter.retry_after(body.name, address)
    if wait > 0:
        raise HTTPException(
            429,
            "too many failed logins; try again later",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = services.store.users.check_password(body.name, body.password)
    now = services.clock()
    if user is None:
        limiter.failed(body.name, address)
        services.store.audit.append(now, body.name, "auth.login_failed", address).wait()
        raise HTTPException(401, "wrong name or password", headers={"WWW-Authenticate": "Bearer"})
    limiter.succeeded(body.name, address)
    sessions: SessionTokens = request.app.state.sessions
    token, expires = sessions.issue(Principal(user.name, "user", user.role))
    services.store.audit.append(now, user.name, "auth.login", address).wait()
    response.headers["Cache-Control"] = "no-store"
    return {
        "token": token,
        "user": {"name": user.name, "role": user.role, "created_at": user.created_at},
        "expires_at": expires,
    }


@router.post("/auth/logout", status_code=204)
def logout(
    request: Request,
    services: ServicesDep,
    who: Annotated[Principal, Depends(require("viewer"))],
    creds: Annotated[Any, Depends(bearer)],
) -> Response:
    """End this console session (tokens from `minepos user add` stay valid)."""
    sessions: SessionTokens = request.app.state.sessions
    if sessions.revoke(creds.credentials):
        services.store.audit.append(
            services.clock(), who.name, "auth.logout", _address(request)
        ).wait()
    return Response(status_code=204)


@router.get("/auth/me", response_model=UserPublic)
def me(services: ServicesDep, who: Annotated[Principal, Depends(require("viewer"))]) -> Any:
    """The user the token belongs to."""
    user = services.store.users.get(who.name)
    created = user.created_at if user is not None else 0.0
    return {"name": who.name, "role": who.role, "created_at": created}


@router.get("/users", response_model=list[UserPublic])
def list_users(services: ServicesDep, _: Admin) -> Any:
    """All users."""
    return [
        {"name": u.name, "role": u.role, "created_at": u.created_at}
        for u in services.store.users.list()
    ]


@router.post("/users", response_model=UserCreated, status_code=201)
def create_user(services: ServicesDep, who: Admin, body: UserCreate) -> Any:
    """Add a user; the token is shown this once."""
    try:
        user, token = services.store.users.create(
            body.name, body.role, ts=services.clock(), password=body.password, actor=who.name
        )
    except InputError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {
        "user": {"name": user.name, "role": user.role, "created_at": user.created_at},
        "token": token,
    }


@router.put(
    "/users/{name}/password",
    status_code=204,
    responses={404: {"description": "no such user"}},
)
def set_password(
    request: Request, services: ServicesDep, who: Admin, name: str, body: PasswordSet
) -> Response:
    """Set or reset a user's console password; their console sessions end, their token stays."""
    if services.store.users.get(name) is None:
        raise HTTPException(404, f"no user {name!r:.80}")
    services.store.users.set_password(name, body.password, services.clock(), who.name)
    sessions: SessionTokens = request.app.state.sessions
    sessions.revoke_user(name)
    return Response(status_code=204)


@router.get("/gateways", response_model=list[GatewayCreate])
def list_gateways(services: ServicesDep, _: Admin) -> Any:
    """All gateways (names only; keys are never shown again)."""
    return [{"name": g.name} for g in services.store.gateways.list()]


@router.post("/gateways", response_model=GatewayCreated, status_code=201)
def create_gateway(services: ServicesDep, who: Admin, body: GatewayCreate) -> Any:
    """Add a gateway; its ingest key is shown this once."""
    try:
        gw, key = services.store.gateways.create(body.name, ts=services.clock(), actor=who.name)
    except InputError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"name": gw.name, "created_at": gw.created_at, "key": key}


@router.get("/audit", response_model=list[AuditPublic])
def list_audit(
    services: ServicesDep,
    _: Admin,
    user: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> Any:
    """The newest audited actions."""
    entries = services.store.audit.list(user=user, limit=limit)
    return [
        {"ts": e.ts, "user": e.user, "action": e.action, "target": e.target, "details": e.details}
        for e in entries
    ]
