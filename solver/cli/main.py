"""`prodbudget` command line. Exit codes:

- 0: a plan (or clean input, or the output asked for) was delivered;
- 1: no plan was delivered: none exists (explained), or writing an output failed (disk full,
  no permission, another run writing the same place; nothing partial is left);
- 2: bad input or usage: the data, an option value, or an output that would overwrite an input
  or something that is not an earlier output (refused before any work, nothing written);
- 130: interrupted (Ctrl-C or SIGTERM), nothing written.

Each command is a small module with `add_parser(subparsers)` and `run(args) -> int`; this file
only wires them up and turns expected failures into messages (never a traceback for bad
input or a failed write).
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
from solver.io.writers import OutputError, WriteError

# what a damaged or hostile .xlsx raises while its sheets are read (truncated XML, an entity
# the parser refuses: XXE, billion laughs)
UNREADABLE_WORKBOOK = (zipfile.BadZipFile, ParseError, ExpatError)

# command modules, in the order `prodbudget --help` lists them
COMMANDS = (
    "solver.cli.solve",
    "solver.cli.validate",
    "solver.cli.sweep",
    "solver.cli.generate",
    "solver.cli.insert",
    "solver.cli.diagnose",
    "solver.cli.bench",
    "solver.cli.template",
    "solver.cli.convert",
    "solver.cli.report",
    "solver.cli.compare",
    "solver.cli.roll",
    "solver.cli.actuals",
    "solver.cli.serve",
)

EXIT_PLAN, EXIT_NO_PLAN, EXIT_BAD_INPUT = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="prodbudget",
        description="Plan production, purchases, inventory, cash and budget allocation together (MIP, HiGHS).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        import_module(name).add_parser(sub)
    return parser


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
    parser = build_parser()
    args = parser.parse_args(_join_signed_values(list(sys.argv[1:] if argv is None else argv)))  # argparse exits 2 on bad usage
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
