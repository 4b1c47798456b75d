"""Shared fixture writers: tiny instances as text, written into pytest's tmp_path."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pandas as pd

from solver.io.schema import TABLES

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
