"""Random-mutation fuzz of the shipped tiny instances, at a bounded size (issue 19).

Each case copies one instance of instances/tiny, replaces one random cell of one of its CSV
files (or one header) by a hostile or unlucky value — markup, emoji codes, TeX, formulas, path
pieces, huge or negative numbers, NaN, blanks, control characters, very long text — and runs
`prodbudget solve` on it in-process. The contract: the command ends with 0 (a plan, with its
summary), 1 (no plan, explained) or 2 (bad input, located), never with an exception; nothing is
written unless a plan is; the input files are left exactly as they were. The seeds are fixed, so
the cases are the same on every run.
"""

from __future__ import annotations

import contextlib
import csv
import io
import random
import shutil
from pathlib import Path

import pytest

from solver.cli.main import main

TINY = Path(__file__).resolve().parents[1] / "instances" / "tiny"
HOSTILE = (
    "[/x]", "[red]L1[/red]", "P:x:1", "P $\\nocmd$", '=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)",
    "../../../../tmp/x", "/tmp/x", "..", ".", "a/b", "-1", "-0", "0", "1e15", "1e308", "-1e15", "nan", "inf",
    "-inf", "", " ", "\t", "2027-13", "1.5.2", "１２", "电商 Ecommerce", "x" * 300, "true", "NULL", "\u200b",
    "0x10", "1,000", "50%", "2027-01-01", "'", '"', "\\", "#N/A",
)
CASES = 150


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _cases() -> list[tuple[str, str, int, int, str]]:
    rng = random.Random(20261204)
    instances = sorted(p.name for p in TINY.iterdir() if (p / "instance.toml").is_file())
    out = []
    for _ in range(CASES):
        name = rng.choice(instances)
        files = sorted(p.name for p in (TINY / name).glob("*.csv"))
        file = rng.choice(files)
        with open(TINY / name / file, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        r = rng.randrange(len(rows))
        c = rng.randrange(len(rows[r])) if rows[r] else 0
        out.append((name, file, r, c, rng.choice(HOSTILE)))
    return out


@pytest.mark.solver
@pytest.mark.parametrize(("name", "file", "row", "col", "value"), _cases())
def test_a_mutated_tiny_instance_ends_as_the_contract_says(tmp_path, name, file, row, col, value):
    inst = tmp_path / name
    shutil.copytree(TINY / name, inst)
    path = inst / file
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    if rows[row]:
        rows[row][col] = value
    else:
        rows[row] = [value]
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    before = _snapshot(inst)
    out = tmp_path / "plan"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["solve", str(inst), "--out", str(out), "--time-limit", "20"])
    assert code in (0, 1, 2), f"exit {code}\n{stderr.getvalue()}"
    assert "Traceback" not in stdout.getvalue() + stderr.getvalue()
    if code == 0:
        assert (out / "summary.json").is_file()
    else:
        assert not out.exists(), "a refused or failed run left an output behind"
        assert stderr.getvalue().strip() or stdout.getvalue().strip(), "no message"
    assert _snapshot(inst) == before, "an input file was changed"
