"""`prodbudget solve` end to end, run as a subprocess: files written, exit codes, determinism.

Exit codes (solver/cli/main.py): 0 a plan, 1 no plan (e.g. infeasible), 2 bad input.
"""

from __future__ import annotations

import json

import pytest
from helpers import TINY, prodbudget, write_mini

pytestmark = pytest.mark.solver

PLAN_TABLES = ["production", "purchases", "inventory", "sales", "capacity", "budget", "cash"]
PLAN_TABLES += ["pnl", "balances"]
SUMMARY_KEYS = ["instance", "scenario", "status", "objective", "bound", "gap", "build_seconds"]
SUMMARY_KEYS += ["solve_seconds", "rows", "cols", "integers"]


def test_solve_writes_every_table_and_the_summary(tmp_path):
    out = tmp_path / "plan"
    run = prodbudget("solve", TINY / "order_cost", "--out", out)
    assert run.returncode == 0, run.stderr
    for name in PLAN_TABLES:
        assert (out / f"{name}.csv").is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    assert not missing, missing
    assert summary["status"] == "optimal"
    assert summary["scenario"] == "base"
    assert summary["objective"] == pytest.approx(-30.0, rel=1e-6, abs=1e-6)  # see test_mechanisms
    assert summary["integers"] == 2  # one order binary per period


def test_infeasible_instance_exits_1_and_writes_nothing(tmp_path):
    out = tmp_path / "plan"
    run = prodbudget("solve", TINY / "infeasible_must", "--out", out)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert not out.exists()


BAD_ITEMS = """\
    item,kind,unit_cost,lead_tmie
    bike,product,10,0
    """


@pytest.mark.parametrize("case", ["unknown column", "missing routings", "no such folder"])
def test_bad_instance_exits_2_without_traceback(tmp_path, case):
    if case == "unknown column":
        path = write_mini(tmp_path / "bad", items=BAD_ITEMS)
    elif case == "missing routings":
        path = write_mini(tmp_path / "bad", routings=None)
    else:
        path = tmp_path / "does-not-exist"
    out = tmp_path / "plan"
    run = prodbudget("solve", path, "--out", out)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    assert run.stderr.strip()  # says what is wrong
    assert not out.exists()


def test_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "plan"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    run = prodbudget("solve", TINY / "min_lot", "--out", out)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    assert "--force" in run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]  # untouched

    run = prodbudget("solve", TINY / "min_lot", "--out", out, "--force")  # not an earlier output: kept
    assert run.returncode == 2 and "did not write" in run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]

    (out / "summary.json").write_text("{}", encoding="utf-8")  # an earlier output (with a file of the user's)
    run = prodbudget("solve", TINY / "min_lot", "--out", out, "--force")
    assert run.returncode == 0, run.stderr
    assert not (out / "keep.txt").exists()  # replaced whole
    assert (out / "production.csv").is_file()


@pytest.mark.parametrize("name", ["cash_loan_interest", "order_cost"])
def test_same_input_gives_identical_csvs(tmp_path, name):
    """Determinism, also where the optimum is not unique (the loan after period 1 of
    cash_loan_interest is free) and with binaries (order_cost)."""
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        run = prodbudget("solve", TINY / name, "--out", out)
        assert run.returncode == 0, run.stderr
    names = sorted(p.name for p in outs[0].glob("*.csv"))
    assert names == sorted(p.name for p in outs[1].glob("*.csv"))
    assert {f"{t}.csv" for t in PLAN_TABLES} <= set(names)
    for csv in names:
        assert (outs[0] / csv).read_bytes() == (outs[1] / csv).read_bytes(), csv
