"""A typed wrapper around numba's ``njit`` so strict mypy keeps the kernels' signatures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

__all__ = ["jit", "jit_inline"]

F = TypeVar("F", bound=Callable[..., Any])


def jit(func: F) -> F:
    """Compile ``func`` with numba in nopython mode, cached on disk between runs."""
    return cast(F, numba.njit(cache=True, nogil=True)(func))


def jit_inline(func: F) -> F:
    """Like `jit`, inlined into its callers in numba's IR: a per-tag call passing the
    `MineTables` tuple costs two atomic reference-count updates per array, which inlining
    lets numba's reference-count pruning remove."""
    return cast(F, numba.njit(cache=True, nogil=True, inline="always")(func))
