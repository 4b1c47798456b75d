"""Options and output shared by several commands."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from solver.engine.options import DEFAULTS, OPTIONS, Domain, SolveOptions, written
from solver.io.problems import Problem
from solver.present.terminal import console, styled

err_console = console(stderr=True)  # data strings verbatim (solver/present/terminal.py), one line per message


def domain_type(domain: Domain) -> Callable[[str], object]:
    """An argparse `type=` checking a value against `domain` (solver/engine/options.py): NaN,
    ±inf and values outside the range are usage errors (exit 2), so `--time-limit -1`,
    `--gap nan` or `--threads 0` never reach a solve."""

    def parse(text: str) -> object:
        try:
            return domain.parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {domain.describe()}{domain.suggestion(text)}") from None

    parse.__name__ = {int: "integer", float: "number", bool: "boolean"}.get(domain.kind, "value")  # argparse names the type
    return parse


def number(kind: type = float, *, at_least: float | None = None, above: float | None = None,
           at_most: float | None = None, what: str = "") -> Callable[[str], object]:
    """An argparse `type=` for a number of a command's own (not a SolveOptions field), checked
    as a declared option is; `what` replaces the generated description."""
    return domain_type(Domain(kind, at_least=at_least, above=above, at_most=at_most, what=what))


COUNT = number(int, at_least=1)
NON_NEGATIVE_INT = number(int, at_least=0)
NON_NEGATIVE = number(float, at_least=0)
POSITIVE = number(float, above=0)


def relative_or_absolute(text: str) -> str:
    """`-30%` (relative to the instance's value) or a plain finite number, checked before any work."""
    body = text.strip().removesuffix("%")
    try:
        value = float(body)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is neither a percentage such as -30% nor a number")
    return text.strip()


def option_help(name: str, default: object | None = None, note: str = "") -> str:
    """The `--help` text of SolveOptions field `name`: its declared meaning (and the command's
    `note`), its domain and default."""
    spec = OPTIONS[name]
    default = DEFAULTS[name] if default is None else default
    text = spec.help + (f"; {note}" if note else "")
    if spec.domain.kind is bool:
        return text
    values = "" if spec.domain.choices else f"{spec.domain.describe()}; "  # argparse lists the choices
    return f"{text} ({values}default {written(default)})"


def add_option(p: argparse.ArgumentParser | argparse._ArgumentGroup, name: str, *, default: object | None = None,
               note: str = "") -> None:
    """The command-line option of SolveOptions field `name`, generated from its declaration
    (flag, type, choices, default, help); `default` replaces the library's default for this
    command, `note` adds what the option does in this command. The action carries
    `solve_option = name`."""
    spec = OPTIONS[name]
    if spec.flag is None:
        raise ValueError(f"SolveOptions field {name!r} has no command-line flag")
    value = DEFAULTS[name] if default is None else default
    help_text = option_help(name, value, note)
    if spec.domain.kind is bool:
        kind = "store_true" if value is False else argparse.BooleanOptionalAction
        action = p.add_argument(spec.flag, dest=name, action=kind, default=value, help=help_text)
    else:
        action = p.add_argument(spec.flag, dest=name, type=domain_type(spec.domain), choices=spec.domain.choices or None,
                                default=value, metavar=None if spec.domain.choices else spec.metavar, help=help_text)
    action.solve_option = name  # generated from the declaration (the README's table and the tests read it)


def add_solve_options(p: argparse.ArgumentParser, *, defaults: Mapping[str, object] | None = None,
                      notes: Mapping[str, str] | None = None) -> None:
    """The solve options every solving command takes (the declared `shared` ones), and
    `--scenario`; `defaults` and `notes` per field as in `add_option`."""
    g = p.add_argument_group("solver")
    for name, spec in OPTIONS.items():
        if spec.flag is not None and spec.shared:
            add_option(g, name, default=(defaults or {}).get(name), note=(notes or {}).get(name, ""))
    g.add_argument("--scenario", default="base", help="demand scenario to plan (default base)")


def solve_options(args: argparse.Namespace, **extra) -> SolveOptions:
    """The SolveOptions the command line asked for: the shared solve options, then `extra`
    (fields the command sets itself, such as `sensitivity` for `solve`)."""
    given = {name: getattr(args, name) for name, spec in OPTIONS.items()
             if spec.flag is not None and spec.shared and name in vars(args)}
    return SolveOptions(**{**given, **extra})


def print_problems(problems: list[Problem]) -> None:
    """Every problem on one line, errors first, each as `error: <where>: <what> (expected …)`."""
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    for label, colour, group in (("error", "red", errors), ("warning", "yellow", warnings)):
        for p in group:
            err_console.print(styled((label, colour), f": {p.location}: {p.message}"
                                     + (f" (expected {p.expected})" if p.expected else "")))
    if errors:
        err_console.print(f"{len(errors)} error(s), {len(warnings)} warning(s)")


def print_warning(message: str) -> None:
    """`warning: <message>` on stderr (the message printed as given)."""
    err_console.print(styled(("warning", "yellow"), f": {message}"))


def print_error(message: str) -> None:
    """`error: <message>` on stderr (the message printed as given)."""
    err_console.print(styled(("error", "red"), f": {message}"))


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def add_csv_safe_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--csv-safe", action="store_true",
                   help="prefix ' to text cells starting with = + - @ (or a tab/CR) in the CSV files, so a "
                        "spreadsheet shows them as text instead of running them as formulas")


def add_scheduler_option(p: argparse.ArgumentParser) -> None:
    """`--scheduler ADDRESS`: the solves on a Dask cluster instead of local processes
    (`solver.analysis.workers`; as `prodbudget bench` does)."""
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address (e.g. tcp://host:8786): run the solves there instead of local "
                        "processes (pip install -e .[cluster]; the workers must see the instance's folder)")


def input_location(path: str | None) -> str | None:
    """The folder (or workbook) an instance path stands for: `x/instance.toml` stands for `x`."""
    if path is None:
        return None
    p = Path(path)
    return str(p.parent) if p.name == "instance.toml" and p.is_file() else str(p)


MONEY_CHOICES = ("auto", "yuan", "wan", "million")


def add_xlsx_options(p: argparse.ArgumentParser, what: str = "the formatted result workbook") -> None:
    """`--xlsx FILE` (also write `what`) and `--money` (how the workbook shows amounts)."""
    p.add_argument("--xlsx", metavar="FILE", help=f"also write {what} (.xlsx)")
    p.add_argument("--money", choices=MONEY_CHOICES, default="auto",
                   help="how the workbook shows amounts: yuan (¥1,234,567), wan (¥123.5万), million (¥1.23百万); "
                        "default auto: the currency unit below ten million, 万 (millions for other currencies) above; "
                        "the cells always hold the full amounts")


def check_xlsx_name(path: str | None) -> None:
    from solver.io.writers import OutputError

    if path and not path.lower().endswith(".xlsx"):
        raise OutputError(f"--xlsx {path}: the workbook's name must end in .xlsx")


def write_outputs(out: str | Path | None, fill: Callable[[Path], None] | None, xlsx: str | Path | None,
                  workbook: Callable[[], object] | None, force: bool) -> None:
    """The output folder (`fill(tmp)`) and the workbook (`workbook()`), both staged before
    either is moved into place: both are written or neither."""
    from solver.io.writers import commit_all, stage_file, stage_folder

    staged = []
    try:
        if out and fill is not None:
            staged.append(stage_folder(out, fill, force=force))
        if xlsx and workbook is not None:
            from solver.io.workbook import save_workbook

            book = workbook()
            staged.append(stage_file(xlsx, lambda tmp: save_workbook(book, tmp), force=force))
    except BaseException:
        for s in staged:
            s.discard()
        raise
    commit_all(staged)
