"""The suite's guard rail (tests/conftest.py): a test that runs HiGHS without
`@pytest.mark.solver` fails, whether it solves in the test process, through the CLI in a
subprocess or in worker processes, and whether the solve is in its body or in a fixture it
sets up; a marked test and a test that only validates pass. Run in an inner pytest session
with the suite's own conftest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import TINY

pytestmark = pytest.mark.solver  # the inner session solves

HERE = Path(__file__).resolve().parent

INNER = f"""
import subprocess
import sys

import pytest

from solver import SolveOptions, load_instance, solve, validate
from solver.analysis.parametric import sweep

MOQ = {str(TINY / "moq")!r}


@pytest.fixture(scope="module")
def solved_plan():
    return solve(load_instance(MOQ), time_limit=10)


def test_in_process():
    assert solve(load_instance(MOQ), time_limit=10).status.has_plan


def test_cli_in_a_subprocess():
    subprocess.run([sys.executable, "-m", "solver.cli", "solve", MOQ, "--time-limit", "10"], check=True,
                   capture_output=True)


def test_worker_processes():
    assert len(sweep(MOQ, "demand", [0.9, 1.1], SolveOptions(time_limit=10), jobs=2)) == 2


def test_in_a_fixture(solved_plan):
    assert solved_plan.status.has_plan


@pytest.mark.solver
def test_marked():
    assert solve(load_instance(MOQ), time_limit=10).status.has_plan


def test_validating_only():
    assert not [p for p in validate(MOQ) if p.is_error]
"""

UNMARKED_SOLVES = ("test_in_process", "test_cli_in_a_subprocess", "test_worker_processes", "test_in_a_fixture")


def test_unmarked_tests_that_solve_fail_and_the_others_pass(pytester: pytest.Pytester):
    pytester.makeconftest((HERE / "conftest.py").read_text(encoding="utf-8"))
    shutil.copytree(HERE / "solve_probe", pytester.path / "solve_probe")
    shutil.copy(HERE / "helpers.py", pytester.path / "helpers.py")
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    # every test body passes; the unmarked ones that solved fail at teardown
    result.assert_outcomes(passed=6, errors=len(UNMARKED_SOLVES))
    for name in UNMARKED_SOLVES:
        result.stdout.fnmatch_lines([f"*test_inner.py::{name} ran HiGHS * time(s) without @pytest.mark.solver*"])
    assert "test_marked ran HiGHS" not in result.stdout.str()
    assert "test_validating_only ran HiGHS" not in result.stdout.str()
