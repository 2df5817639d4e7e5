"""Errors that reach the user as messages (exit code 2), never as tracebacks."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from slocompile.support.secrets import redact


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int = 0  # 1-based; 0 when unknown
    col: int = 0   # 1-based; 0 when unknown

    def __str__(self) -> str:
        if self.line and self.col:
            return f"{self.file}:{self.line}:{self.col}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """A message for the user: recorded secrets (support.secrets) never reach it."""

    location: Location | None
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", redact(self.message))

    def __str__(self) -> str:  # redacted again: a secret may have been recorded since
        return redact(f"{self.location}: {self.message}" if self.location else self.message)


class SlocompileError(Exception):
    """A user-facing error: the CLI prints it and exits with code 2."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(None, problems)]
        self.problems = sorted(problems, key=_sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))


class SpecError(SlocompileError):
    """One or more problems in the project's declarations, all reported at once."""


class ConnectionError_(SlocompileError):
    """The target could not be reached or used."""


def _sort_key(p: Problem) -> tuple[str, int, int]:
    loc = p.location
    return (loc.file, loc.line, loc.col) if loc else ("", 0, 0)


def did_you_mean(word: object, candidates: Iterable[object]) -> str:
    """' (did you mean 'x'?)' for a near miss, else ''."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.6)
    if not close:
        lowered = {str(c).lower(): str(c) for c in candidates}
        if str(word).lower() in lowered:
            close = [lowered[str(word).lower()]]
    return f" (did you mean '{close[0]}'?)" if close else ""


class ProblemCollector:
    """Collects problems while validating so every one is reported in a single error."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, location: Location | None, message: str) -> None:
        self.problems.append(Problem(location, message))

    def raise_if_any(self, cls: type[SlocompileError] = SpecError) -> None:
        if self.problems:
            raise cls(self.problems)
