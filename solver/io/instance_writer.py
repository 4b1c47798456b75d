"""Write an instance folder (docs/model.md §2): `instance.toml` plus one CSV per table.

Generators and literature importers produce instances as plain data (a TOML dict and
DataFrames); this module is the one place that turns them into files. The folder is written
to a temporary sibling and renamed into place whole, so a reader (or a benchmark runner that
crashed half-way) never sees a half-written instance. TOML is written by hand because the
standard library only reads it.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from solver.io.schema import TABLE_SPECS
from solver.io.writers import write_folder_atomically

_TOP_ORDER = ("name", "currency", "periods")


def _toml_string(s: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(v: object) -> str:
    """One TOML value: strings quoted, `inf`/`nan` bare, lists inline."""
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return repr(f)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML: {v!r}")


def _key(k: str) -> str:
    bare = bool(k) and all(c.isascii() and (c.isalnum() or c in "_-") for c in k)
    return k if bare else _toml_string(k)


def toml_dumps(data: Mapping[str, object]) -> str:
    """Serialise a dict of scalars/lists plus one level of sections (`[cash]`, ...)."""
    scalars = {k: v for k, v in data.items() if not isinstance(v, Mapping)}
    sections = {k: v for k, v in data.items() if isinstance(v, Mapping)}
    order = [k for k in _TOP_ORDER if k in scalars] + [k for k in scalars if k not in _TOP_ORDER]
    lines = [f"{_key(k)} = {toml_value(scalars[k])}" for k in order]
    for name, body in sections.items():
        if any(isinstance(v, Mapping) for v in body.values()):
            raise TypeError(f"nested sections are not part of the format: [{name}]")
        lines.append("")
        lines.append(f"[{_key(name)}]")
        lines.extend(f"{_key(k)} = {toml_value(v)}" for k, v in body.items())
    return "\n".join(lines).lstrip("\n") + "\n"


def _bool_text(b: object) -> str:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return ""
    return "true" if bool(b) else "false"


def _prepare_csv(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Cast columns the way the schema reads them: ints without `.0`, bools as true/false."""
    spec = TABLE_SPECS.get(name)
    if spec is None:
        raise ValueError(f"unknown table {name!r} (known: {', '.join(TABLE_SPECS)})")
    unknown = [c for c in df.columns if c not in spec.column_names]
    if unknown:
        raise ValueError(f"{name}.csv: unknown columns {unknown}")
    prepared = df.reset_index(drop=True).copy()
    for col in prepared.columns:
        dtype = spec.column(col).dtype
        if dtype == "int":
            prepared[col] = pd.to_numeric(prepared[col]).round().astype("Int64")
        elif dtype == "bool":
            prepared[col] = prepared[col].map(_bool_text)
    return prepared


def write_instance_folder(
    out_dir: str | os.PathLike[str],
    toml: Mapping[str, object],
    tables: Mapping[str, pd.DataFrame],
    verbatim: Mapping[str, list[list[str]]] | None = None,
) -> Path:
    """Write `instance.toml` and `<table>.csv` into `out_dir`, replacing it atomically;
    `verbatim` files (a demand grid: its columns are the periods) are written cell for cell.

    Returns the folder path. Tables are checked against `solver.io.schema` (unknown tables or
    columns raise ValueError before anything is written).
    """
    prepared = {name: _prepare_csv(name, df) for name, df in tables.items()}
    text = toml_dumps(toml)

    def fill(tmp: Path) -> None:
        (tmp / "instance.toml").write_text(text, encoding="utf-8", newline="\n")
        for name, df in prepared.items():
            df.to_csv(tmp / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
        for name, records in (verbatim or {}).items():
            with open(tmp / name, "w", encoding="utf-8", newline="") as f:
                csv.writer(f, lineterminator="\n").writerows(records)

    # callers decide what may be replaced (the CLI checks with solver.io.writers.check_output first)
    return write_folder_atomically(out_dir, fill, force=True, replaceable=None)


def instance_files(inst) -> tuple[dict[str, object], dict[str, pd.DataFrame]]:
    """The `instance.toml` dict and the tables that load back as `inst` (an Instance, e.g.
    one changed by `solver.analysis.parametric.apply_parameter`).

    Every table is written with every column, the loader's completions made explicit (default
    channels, the built-in `cash` terms, implied budget lines, stock targets' defaults);
    demand holds every scenario (the planned one as changed, the others as read) product by
    product (sales families already split, so `families.csv` is not written). An instance
    carrying opening balances of a rolling re-plan has no file form: ValueError.
    """
    opening = inst.opening
    if opening.receivables or opening.payables or opening.budget_carried:
        raise ValueError("a re-plan's opening balances (receivables, payables, carried budget) have no file form")
    toml: dict[str, object] = {"name": inst.name, "currency": inst.currency, "periods": list(inst.periods)}
    for section, settings in (("cash", inst.cash), ("budget", inst.budget), ("policy", inst.policy)):
        toml[section] = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    tables: dict[str, pd.DataFrame] = {}
    for name, spec in TABLE_SPECS.items():
        if name == "families" or name not in inst.tables:
            continue
        df = inst.tables[name]
        if name == "demand" and inst.all_demand is not None:
            others = inst.all_demand[inst.all_demand["scenario"] != inst.scenario]
            df = pd.concat([others, df], ignore_index=True) if len(others) else df
        if len(df) or spec.required:
            tables[name] = _blank_defaults(df[[c for c in spec.column_names if c in df.columns]], spec)
    return toml, tables


def _blank_defaults(df: pd.DataFrame, spec) -> pd.DataFrame:
    """Cells holding their column's default written blank, as a person writes them (the
    validation refuses some filled defaults, e.g. a product's `moq` of 0)."""
    out = df.astype(object).copy()
    for col in spec.columns:
        if col.name not in out.columns or col.default is None or col.required:
            continue
        values = df[col.name]
        if col.dtype in ("float", "int"):
            is_default = pd.to_numeric(values, errors="coerce") == float(col.default)
        else:
            is_default = values.astype(str) == str(col.default)
        out.loc[is_default.to_numpy(), col.name] = None
    return out


def write_instance(inst, out_dir: str | os.PathLike[str], extra_toml: Mapping[str, object] | None = None) -> Path:
    """Write `inst` as an instance folder (see `instance_files`), whole or not at all.
    `extra_toml`: further sections to keep, e.g. `{"scenarios": {...}}` weights."""
    toml, tables = instance_files(inst)
    return write_instance_folder(out_dir, {**toml, **(extra_toml or {})}, tables)
