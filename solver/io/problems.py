"""Problems found in an instance's input files, and the error that carries them.

Validation collects every problem at once (GridPath-style) instead of stopping at the first,
and each problem names the file, row and column so a planner can fix the data directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One problem in the input: where it is, what was found and what was expected.

    `row` is the row as the user sees it in the file (header = row 1, first data row = 2;
    for `instance.toml` the line number). `column` is a table column, or for the instance
    settings the key path such as `cash.initial`.
    """

    file: str
    row: int | None
    column: str | None
    message: str
    expected: str = ""
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def location(self) -> str:
        """`demand.csv, row 7, column 'quantity'` (settings name a key, not a column)."""
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            word = "key" if _is_settings(self.file) else "column"
            parts.append(f"{word} '{self.column}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return f"warning: {text}" if self.severity == "warning" else text


def _is_settings(file: str) -> bool:
    return file.endswith(".toml") or file.endswith("[instance]")


class InputError(Exception):
    """The instance cannot be loaded; `.problems` lists every error and warning found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(str(self))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def __str__(self) -> str:
        n_err, n_warn = len(self.errors), len(self.warnings)
        head = f"{n_err} error{'s' if n_err != 1 else ''}"
        if n_warn:
            head += f" and {n_warn} warning{'s' if n_warn != 1 else ''}"
        lines = [f"the instance has {head}:"]
        lines += [f"  - {p}" for p in self.errors + self.warnings]
        return "\n".join(lines)
