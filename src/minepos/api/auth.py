"""Who is calling: bearer tokens of users (from the store or a console login) and gateways.

Missing or unknown credentials give 401, a role that may not do the call 403. Console logins get a
session token kept in memory (hashed); tokens made by ``minepos user add`` live in the store.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Final, Literal

from fastapi import Depends, HTTPException, Request
from fastapi.requests import HTTPConnection
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from minepos.api.services import Services
from minepos.store.accounts import hash_token

__all__ = [
    "ROLE_RANK",
    "LoginLimiter",
    "Principal",
    "SessionTokens",
    "TokenCache",
    "authenticate",
    "get_services",
    "require",
    "require_gateway",
]

ROLE_RANK: Final = {"viewer": 0, "dispatcher": 1, "admin": 2}
_CACHE_S: Final = 10.0

bearer = HTTPBearer(auto_error=False, description="A user's token or a gateway's ingest key")


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user with a role, or a gateway."""

    name: str
    kind: Literal["user", "gateway"]
    role: str | None = None

    def may(self, role: str) -> bool:
        """True if this caller has at least ``role``."""
        return self.kind == "user" and ROLE_RANK.get(self.role or "", -1) >= ROLE_RANK[role]


class SessionTokens:
    """Console login sessions: random tokens, kept hashed, expiring."""

    def __init__(self, lifetime_s: float, clock: Callable[[], float] = time.time) -> None:
        self.lifetime_s = lifetime_s
        self.clock = clock
        self._sessions: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def issue(self, principal: Principal) -> tuple[str, float]:
        """A new token for ``principal`` and when it expires."""
        token = secrets.token_urlsafe(32)
        expires = self.clock() + self.lifetime_s
        with self._lock:
            self._sessions[hash_token(token)] = (principal, expires)
        return token, expires

    def get(self, token: str) -> Principal | None:
        """The session's principal, or None if unknown or expired."""
        key = hash_token(token)
        with self._lock:
            found = self._sessions.get(key)
            if found is None:
                return None
            if found[1] < self.clock():
                del self._sessions[key]
                return None
            return found[0]

    def revoke(self, token: str) -> bool:
        """End a session; True if there was one."""
        with self._lock:
            return self._sessions.pop(hash_token(token), None) is not None

    def revoke_user(self, name: str) -> int:
        """End every console session of a user (after a password reset); how many ended."""
        with self._lock:
            gone = [k for k, (p, _) in self._sessions.items() if p.name == name]
            for key in gone:
                del self._sessions[key]
        return len(gone)


class LoginLimiter:
    """At most ``attempts`` failed logins per (user name, address) in ``window_s``."""

    def __init__(
        self, attempts: int, window_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, name: str, address: str) -> float:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = self.clock()
        with self._lock:
            q = self._failures.get((name, address))
            if q is None:
                return 0.0
            while q and q[0] <= now - self.window_s:
                q.popleft()
            if len(q) < self.attempts:
                return 0.0
            return q[0] + self.window_s - now

    def failed(self, name: str, address: str) -> None:
        """Count a failed attempt."""
        with self._lock:
            self._failures.setdefault((name, address), deque()).append(self.clock())

    def succeeded(self, name: str, address: str) -> None:
        """A good login forgets the failures."""
        with self._lock:
            self._failures.pop((name, address), None)


def get_services(request: HTTPConnection) -> Services:
    """The services of the app serving this request."""
    services: Services = request.app.state.services
    return services


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


class TokenCache:
    """Recently seen store tokens, so a busy console does not hit the database per request."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[Principal | None, float]] = {}
        self._lock = threading.Lock()

    def lookup(self, token: str, load: Callable[[str], Principal | None]) -> Principal | None:
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(token)
        if hit is not None and hit[1] > now:
            return hit[0]
        principal = load(token)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[token] = (principal, now + _CACHE_S)
        return principal


def resolve_token(request: HTTPConnection, token: str) -> Principal | None:
    """The principal a token belongs to: a session, a user or a gateway."""
    sessions: SessionTokens = request.app.state.sessions
    session = sessions.get(token)
    if session is not None:
        return session
    services = get_services(request)

    def load(tok: str) -> Principal | None:
        user = services.store.users.by_token(tok)
        if user is not None:
            return Principal(user.name, "user", user.role)
        gateway = services.store.gateways.by_key(tok)
        return None if gateway is None else Principal(gateway.name, "gateway")

    cache: TokenCache = request.app.state.token_cache
    return cache.lookup(token, load)


def authenticate(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer``; 401 when missing or unknown."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise _unauthorized("credentials required: Authorization: Bearer <token>")
    principal = resolve_token(request, creds.credentials)
    if principal is None:
        raise _unauthorized("unknown or expired token")
    request.state.principal = principal
    return principal


def require(role: str) -> Callable[[Principal], Principal]:
    """A dependency: a user with at least ``role``, else 403."""

    def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.may(role):
            raise HTTPException(403, f"needs the {role} role")
        return principal

    check.__name__ = f"require_{role}"
    return check


def require_gateway(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    """A dependency: a gateway's ingest key, else 403."""
    if principal.kind != "gateway":
        raise HTTPException(403, "needs a gateway ingest key (minepos gateway add)")
    return principal
