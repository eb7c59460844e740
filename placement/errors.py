"""One exception hierarchy for the whole toolkit.

Every error a user can cause derives from :class:`IdnplanError` and carries the
exit code the CLI returns for it, so the CLI never needs to guess and never
prints a traceback for bad input.
"""

from __future__ import annotations

from dataclasses import dataclass


class IdnplanError(Exception):
    """Root of every error raised on purpose by idnplan."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Attributes
    ----------
    file : str or None
        The file the problem is in (as the user named it), if any.
    path : str
        Field path inside the file, e.g. ``links[1].bandwidth_bytes_per_s``; empty for
        problems with the file as a whole (unreadable, malformed).
    message : str
        What is wrong, with the offending value.
    line : int or None
        1-based line number when it is known.
    """

    file: str | None
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line is not None else self.file)
        if self.path:
            parts.append(self.path)
        parts.append(self.message)
        return ": ".join(parts)


class InputError(IdnplanError):
    """Bad input: one or more problems, all reported at once (exit code 2)."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(None, "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InfeasibleError(IdnplanError):
    """The instance has no feasible plan (exit code 3).

    ``reasons`` lists one human-readable explanation per cause, with numbers.
    """

    exit_code = 3

    def __init__(self, reasons: list[str] | str, method: str | None = None):
        if isinstance(reasons, str):
            reasons = [reasons]
        self.reasons = list(reasons)
        self.method = method
        head = f"{method}: " if method else ""
        shown = self.reasons[: self.SHOWN]
        if len(self.reasons) > self.SHOWN:
            shown.append(f"... and {len(self.reasons) - self.SHOWN} more (all in InfeasibleError.reasons)")
        super().__init__(head + "no feasible plan:\n" + "\n".join(f"  - {r}" for r in shown))

    #: How many reasons the message lists; ``reasons`` holds them all.
    SHOWN = 12


class SolverError(IdnplanError):
    """A solver failed for a reason that is not the instance's fault (exit code 4)."""

    exit_code = 4


class TimeLimitReached(SolverError):
    """The time limit passed before a method had a plan (exit code 4); raised where every phase checks the clock."""


class MissingDependencyError(IdnplanError):
    """An optional dependency is needed for the requested feature (exit code 2)."""

    exit_code = 2

    def __init__(self, package: str, feature: str, extra: str | None = None):
        hint = f"pip install 'idnplan[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{feature} needs the package '{package}', which is not installed: {hint}")
