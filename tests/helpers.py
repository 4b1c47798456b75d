"""Shared test helpers: tiny instances as text written into pytest's tmp_path, the CLI in this
process or in its own, tolerant comparisons, LP bounds (the fixtures are in tests/conftest.py)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pandas as pd
import pytest

from solver.io.schema import TABLES

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny"

MINI_TOML = """\
name = "mini"
currency = "CNY"
periods = ["2027-01", "2027-02", "2027-03"]

[cash]
initial = 1000
credit_limit = 500
"""

MINI_TABLES: dict[str, str] = {
    "items": """\
        item,kind,unit_cost,lead_time,moq,terms,budget_line,min_lot,safety_stock,max_stock
        bike,product,10,0,,,,5,1,
        frame,component,4,1,,,,,,100
        steel,material,2,1,50,net30,,,,
        """,
    "demand": """\
        product,channel,period,quantity,price
        bike,retail,2027-01,10,50
        bike,retail,2027-02,12,50
        bike,web,2027-03,5,55
        """,
    "channels": """\
        channel,terms,service
        retail,net30,backlog
        """,
    "terms": """\
        terms,lag,share
        net30,1,1
        """,
    "bom": """\
        parent,child,quantity
        bike,frame,1
        frame,steel,2
        frame,steel,1
        """,
    "resources": """\
        resource,capacity,budget_line
        line1,100,
        paint,inf,finishing
        """,
    "routings": """\
        item,routing,resource,hours_per_unit
        bike,,line1,1
        bike,,paint,0.5
        frame,,line1,0.5
        """,
}


def write_instance(dir: Path, toml: str | None = MINI_TOML, **tables: str | None) -> Path:
    """Write `instance.toml` and `<name>.csv` (dedented CSV text) into `dir`; None skips a file."""
    dir = Path(dir)
    dir.mkdir(parents=True, exist_ok=True)
    if toml is not None:
        (dir / "instance.toml").write_text(dedent(toml), encoding="utf-8")
    for name, text in tables.items():
        if text is not None:
            (dir / f"{name}.csv").write_text(dedent(text), encoding="utf-8")
    return dir


def write_mini(dir: Path, toml: str | None = MINI_TOML, **overrides: str | None) -> Path:
    """The valid mini instance, with some tables replaced (or removed with None)."""
    tables = {**MINI_TABLES, **overrides}
    return write_instance(dir, toml, **tables)


def folder_to_workbook(folder: Path, path: Path, settings: list[tuple[str, object]]) -> Path:
    """The CSV tables of `folder` as one workbook, with the `instance` key/value sheet."""
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        pd.DataFrame(settings, columns=["key", "value"]).to_excel(xl, sheet_name="instance", index=False)
        for spec in TABLES:
            csv = folder / spec.file
            if csv.exists():
                df = pd.read_csv(csv, dtype=str, keep_default_na=False)
                df.to_excel(xl, sheet_name=spec.name, index=False)
    return path


def plan_value(result, table: str, column: str, **where) -> float:
    """Sum of `column` over the rows of `result.tables[table]` matching `where` (column=value);
    0 when no row matches (tables may omit rows of variables that do not exist)."""
    df = result.tables[table]
    for key, value in where.items():
        df = df[df[key] == value]
    return float(df[column].sum())


def approx(expected: float, rel: float = 1e-6):
    """A hand-derived figure compared with a solved one within HiGHS's tolerances, never as
    exact floats."""
    return pytest.approx(expected, rel=rel, abs=1e-6)


def cli(args: list[str | Path]) -> tuple[int, str, str]:
    """`prodbudget ARGS` in this process: (exit code, stdout, stderr); argparse's exit 2 on a
    usage error is returned as the code."""
    from solver.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in args])
        except SystemExit as exc:  # argparse
            rc = int(exc.code)
    return rc, out.getvalue(), err.getvalue()


def prodbudget(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real CLI in its own process, from the repository's root (nothing captured in-process
    hides a traceback or a stray print)."""
    return subprocess.run([sys.executable, "-m", "solver.cli", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def lp_bound(inst, formulation: str) -> float:
    """The optimum of `inst`'s LP relaxation built with `formulation` (integers relaxed, scaled
    as a solve scales it): how tight the formulation is."""
    from formulations.assembly import build_model
    from formulations.setup.variants import formulation_extensions
    from solver.engine.highs import compile_model, new_highs, set_scaling
    from solver.engine.options import SolveOptions

    sf = compile_model(build_model(inst, formulation_extensions(formulation)).model)
    h = new_highs(SolveOptions(time_limit=30, gap=1e-9))
    set_scaling(h, sf)
    h.passModel(sf.to_lp(integer=False))
    h.run()
    return h.getInfo().objective_function_value
