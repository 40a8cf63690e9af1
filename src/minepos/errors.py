"""The one exception hierarchy of minepos; the CLI turns these into messages, never tracebacks."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["InputError", "MineFileError", "MineposError"]


class MineposError(Exception):
    """Base of every error minepos raises on purpose."""


class InputError(MineposError):
    """Something a user gave (a file, an option, a payload) is wrong; the message says what."""


class MineFileError(InputError):
    """A mine description is refused whole; `problems` lists every `path: message`."""

    def __init__(self, problems: Sequence[str], source: str = "mine file") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(f"{source}: {len(self.problems)} problem(s)\n" + "\n".join(self.problems))
