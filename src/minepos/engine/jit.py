"""A typed wrapper around numba's ``njit`` so strict mypy keeps the kernels' signatures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

__all__ = ["jit"]

F = TypeVar("F", bound=Callable[..., Any])


def jit(func: F) -> F:
    """Compile ``func`` with numba in nopython mode, cached on disk between runs."""
    return cast(F, numba.njit(cache=True, nogil=True)(func))
