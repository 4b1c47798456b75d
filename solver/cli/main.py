"""`prodbudget` command line. Exit codes:

- 0: a plan (or clean input, or the output asked for) was delivered;
- 1: no plan was delivered: none exists (explained), or writing an output failed (disk full,
  no permission, another run writing the same place; nothing partial is left);
- 2: bad input or usage: the data, an option value, or an output that would overwrite an input
  or something that is not an earlier output (refused before any work, nothing written);
- 130: interrupted (Ctrl-C or SIGTERM), nothing written.

Each command is a small module with `add_arguments(parser)` and `run(args) -> int`; this file
only wires them up (importing the one module the command line names) and turns expected
failures into messages (never a traceback for bad input or a failed write).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
import zipfile
from importlib import import_module
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

from solver.io.problems import InputError

# what a damaged or hostile .xlsx raises while its sheets are read (truncated XML, an entity
# the parser refuses: XXE, billion laughs)
UNREADABLE_WORKBOOK = (zipfile.BadZipFile, ParseError, ExpatError)

# command -> (module, the line `prodbudget --help` shows), in the order it lists them. Only the
# module of the command given is imported: `prodbudget --help` loads no pandas, Pyomo or HiGHS.
COMMANDS = {
    "solve": ("solver.cli.solve", "plan an instance and write the plan tables"),
    "validate": ("solver.cli.validate", "check an instance folder or workbook and list every problem"),
    "sweep": ("solver.cli.sweep", "re-solve the MIP over a range of one limit (exact parametric analysis)"),
    "generate": ("solver.cli.generate", "write a generated instance (feasible by construction, seeded)"),
    "insert": ("solver.cli.insert", "evaluate a rush order against a baseline plan (accept, by when, at what price)"),
    "diagnose": ("solver.cli.diagnose", "no plan? the cheapest relaxation of the limits that makes one exist"),
    "bench": ("solver.cli.bench", "run benchmark suites (instances × configurations), resumable, with reports and plots"),
    "template": ("solver.cli.template", "write an empty planning workbook to fill in Excel"),
    "convert": ("solver.cli.convert", "convert an instance folder to an .xlsx workbook, or back"),
    "report": ("solver.cli.report", "write an HTML report with charts from a solve output folder"),
    "compare": ("solver.cli.compare", "solve demand scenarios side by side; --robust: one plan for the first N periods"),
    "roll": ("solver.cli.roll", "re-plan the remaining periods from actuals (rolling plan, plan vs actual)"),
    "actuals": ("solver.cli.actuals", "write an actuals folder as the previous plan planned it (for `roll`)"),
    "serve": ("solver.cli.serve", "the planner's workspace in the browser and its HTTP API (plan, ask, compare)"),
}

EXIT_PLAN, EXIT_NO_PLAN, EXIT_BAD_INPUT = 0, 1, 2


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; the arguments of `command` only (every command when None): the others are
    listed with their help line and not imported."""
    parser = argparse.ArgumentParser(
        prog="prodbudget",
        description="Plan production, purchases, inventory, cash and budget allocation together (MIP, HiGHS).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        p = sub.add_parser(name, help=summary, description=summary[:1].upper() + summary[1:] + ".")
        if command is None or name == command:
            import_module(module).add_arguments(p)
    return parser


def _command_of(argv: list[str]) -> str:
    """The command named on the command line ("" if none): the first word not an option."""
    return next((a for a in argv if not a.startswith("-")), "")


class _ArgumentParserExit2(Exception):
    pass


# options whose values may start with "-" (e.g. `--from -30%`), which argparse would take for a flag
_SIGNED_VALUE_OPTIONS = ("--from", "--to")


def _join_signed_values(argv: list[str]) -> list[str]:
    out, k = [], 0
    while k < len(argv):
        if argv[k] in _SIGNED_VALUE_OPTIONS and k + 1 < len(argv):
            out.append(f"{argv[k]}={argv[k + 1]}")
            k += 2
        else:
            out.append(argv[k])
            k += 1
    return out


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Python is, so that it unwinds like Ctrl-C (HiGHS cancelled,
    children stopped, nothing half-written)."""


def _raise_terminated(_signum, _frame) -> None:
    raise Terminated


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM is handled like SIGINT while a command runs (main thread only: signal handlers
    cannot be set elsewhere); the previous handler is restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    argv = _join_signed_values(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser(_command_of(argv))
    args = parser.parse_args(argv)  # argparse exits 2 on bad usage
    from solver.io.writers import OutputError, WriteError  # after parsing: `--help` needs no pandas

    try:
        with _sigterm_as_interrupt():
            return int(args.run(args))
    except InputError as err:
        from solver.cli.common import print_problems

        print_problems(err.problems)
        return EXIT_BAD_INPUT
    except OutputError as err:
        print(f"prodbudget: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except WriteError as err:
        print(f"prodbudget: {err}", file=sys.stderr)
        return EXIT_NO_PLAN
    except UNREADABLE_WORKBOOK as err:
        where = next((getattr(args, a) for a in ("path", "src") if getattr(args, a, None)), "the workbook")
        print(f"prodbudget: {where}: cannot be read as an .xlsx workbook ({type(err).__name__}: {err})",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as err:  # reading an input: not found, a folder where a file is meant, no permission, …
        print(f"prodbudget: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as err:  # Ctrl-C or SIGTERM: one line, no traceback
        how = "terminated (SIGTERM)" if isinstance(err, Terminated) else "interrupted"
        print(f"prodbudget: {how}; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
