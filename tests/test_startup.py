"""What a command loads before it does anything (issue 18: `prodbudget --help` under half a
second; each command imports what it needs only). Checked as the modules present in a fresh
interpreter, never as a time: benchmarks/overhead.py measures the seconds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "pyomo.environ", "highspy", "scipy", "matplotlib", "openpyxl", "networkx")


def loaded_after(code: str) -> set[str]:
    """The modules of HEAVY present after running `code` in a fresh interpreter."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1])) & set(HEAVY)


def test_help_lists_every_command_without_loading_any():
    code = ("import contextlib, io\nfrom solver.cli.main import COMMANDS, main\nbuf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):\n    main(['--help'])\n"
            "assert all(name in buf.getvalue() for name in COMMANDS), buf.getvalue()")
    assert loaded_after(code) == set()


def test_a_commands_help_loads_that_command_only():
    # generate needs pandas (it writes CSV), not Pyomo's modelling layer, HiGHS, scipy or matplotlib
    code = ("import contextlib, io\nfrom solver.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    main(['generate', '--help'])")
    assert not loaded_after(code) & {"pyomo.environ", "highspy", "scipy", "matplotlib", "openpyxl"}


def test_every_command_still_parses_its_own_arguments():
    from solver.cli.main import COMMANDS, build_parser

    parser = build_parser()  # every command's arguments
    for name in COMMANDS:
        sub = parser._subparsers._group_actions[0].choices[name]
        assert sub.get_default("run") is not None, name


@pytest.mark.parametrize("module", ["solver.cli.solve", "solver.cli.insert"])
def test_planning_commands_leave_out_statistics_charts_and_workbooks(module):
    """Pyomo's import hook loads scipy.stats with scipy (formulations/__init__.py switches it
    off); charts and the workbook reader load when a chart or an .xlsx is asked for."""
    code = f"import {module}\nimport sys\nassert 'scipy.sparse' in sys.modules\n" \
           "bad = [m for m in ('scipy.stats', 'scipy.integrate', 'scipy.spatial', 'matplotlib', 'openpyxl') " \
           "if m in sys.modules]\nassert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)
