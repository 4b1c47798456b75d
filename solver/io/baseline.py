"""A plan written by `prodbudget solve --out DIR`, read back as the baseline of a re-plan.

The folder's `summary.json` records the fingerprint of the input files it was planned from;
a baseline is only accepted for an instance with the same fingerprint (and scenario), so a
rush order is never evaluated against a plan of other data.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from formulations.families import PERIOD
from formulations.registry import VARIABLES
from solver.io.instance import Instance
from solver.io.problems import InputError, Problem

# the decisions read back: every variable family declared with the plan table and column it is
# written to (formulations/families.py VarFamily), keyed by its dimensions
_COMPONENTS = tuple(v for v in VARIABLES.values() if v.table)
ID_COLUMNS = ("item", "routing", "product", "channel", "resource", "line", "period", "plant",
              "kind", "service", "terms", "budget_line", "available", "arrival")
REQUIRED = ("production", "purchases", "sales", "inventory", "capacity", "budget", "cash")  # their tables, read in this order
OPTIONAL = ("pnl",)  # read when present (every `solve --out` writes it)


@dataclass(frozen=True)
class Baseline:
    """A solved plan: its decisions keyed like the model variables, and its tables.

    `values["production.x"][(item, routing, t)]` is the quantity started, and so on for every
    component of `_COMPONENTS` (absent keys are 0). `profit` is docs/model.md §5's objective.
    """

    path: Path
    fingerprint: str
    scenario: str
    periods: tuple[str, ...]
    profit: float
    status: str
    values: dict[str, dict[tuple, float]]
    tables: dict[str, pd.DataFrame] = field(repr=False)

    def __getitem__(self, component: str) -> dict[tuple, float]:
        return self.values.get(component, {})

    @property
    def x(self) -> dict[tuple, float]:
        return self["production.x"]

    @property
    def q(self) -> dict[tuple, float]:
        return self["procurement.q"]

    @property
    def ship(self) -> dict[tuple, float]:
        return self["sales.ship"]

    def value(self, component: str, index) -> float | None:
        """Baseline value of one variable (None when the component is not recorded)."""
        if component not in self.values:
            return None
        key = index if isinstance(index, tuple) else (index,)
        return self.values[component].get(key, 0.0)


def _problem(path: Path, name: str, message: str, column: str | None = None, expected: str = "") -> InputError:
    return InputError([Problem(file=str(path / name), row=None, column=column, message=message, expected=expected)])


def _read_table(path: Path, name: str) -> pd.DataFrame:
    file = path / f"{name}.csv"
    if not file.is_file():
        raise _problem(path, f"{name}.csv", "missing: the baseline must be an output folder of `prodbudget solve --out`")
    try:
        head = pd.read_csv(file, nrows=0, encoding="utf-8-sig")
        dtypes = {c: str for c in head.columns if c in ID_COLUMNS}
        return pd.read_csv(file, dtype=dtypes, keep_default_na=False,
                           na_values={c: [""] for c in head.columns if c not in ID_COLUMNS}, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _problem(path, f"{name}.csv", f"not UTF-8 text (byte offset {exc.start})",
                       expected="the table as `prodbudget solve --out` wrote it") from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise _problem(path, f"{name}.csv", f"cannot be read as CSV ({str(exc).strip()})",
                       expected="the table as `prodbudget solve --out` wrote it") from None


def load_baseline(path: str | Path, inst: Instance) -> Baseline:
    """Read `prodbudget solve --out DIR` back; raise InputError when it is not a plan of `inst`."""
    path = Path(path)
    if not path.is_dir():
        raise _problem(path, "", "baseline folder not found", expected="an output folder of `prodbudget solve --out`")
    summary_file = path / "summary.json"
    if not summary_file.is_file():
        raise _problem(path, "summary.json", "missing: the baseline must be an output folder of `prodbudget solve --out`")
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except ValueError as err:
        raise _problem(path, "summary.json", f"not valid JSON ({err})") from err
    if not isinstance(summary, dict):
        raise _problem(path, "summary.json", "holds no JSON object of key figures",
                       expected="the summary.json `prodbudget solve --out` wrote")
    fp = summary.get("fingerprint")
    if not fp:
        raise _problem(path, "summary.json", "records no fingerprint of its input files", column="fingerprint")
    if fp != inst.fingerprint:
        raise _problem(
            path, "summary.json",
            f"this baseline was planned from other data (fingerprint {fp}, instance {inst.source or inst.name} has "
            f"{inst.fingerprint}); re-solve the instance to make a new baseline",
            column="fingerprint", expected=inst.fingerprint,
        )
    scenario = str(summary.get("scenario", inst.scenario))
    if scenario != inst.scenario:
        raise _problem(path, "summary.json", f"baseline of scenario {scenario!r}, evaluating scenario {inst.scenario!r}",
                       column="scenario", expected=inst.scenario)
    periods = tuple(summary.get("periods", inst.periods))
    if periods != tuple(inst.periods):
        raise _problem(path, "summary.json", "periods differ from the instance's", column="periods",
                       expected=", ".join(inst.periods))
    status = str(summary.get("status", ""))
    profit = summary.get("objective")
    if status not in ("optimal", "feasible") or profit is None or not math.isfinite(float(profit)):
        raise _problem(path, "summary.json", f"holds no plan (status {status or 'unknown'})", column="status",
                       expected="optimal or feasible")

    tables = {name: _read_table(path, name) for name in REQUIRED}
    tables |= {name: _read_table(path, name) for name in OPTIONAL if (path / f"{name}.csv").is_file()}
    values: dict[str, dict[tuple, float]] = {}
    for var in _COMPONENTS:
        df = tables[var.table]
        if var.column not in df.columns:
            continue
        try:
            key_cols = [df[k].astype(int) if k == PERIOD else df[k] for k in var.dims]
            vals = df[var.column].astype(float)
        except (KeyError, ValueError, TypeError) as err:
            raise _problem(path, f"{var.table}.csv", f"not the table `prodbudget solve --out` wrote ({err})",
                           column=var.column) from None
        values[var.name] = {tuple(k): float(v) for *k, v in zip(*key_cols, vals, strict=True) if v != 0.0}
    return Baseline(path=path, fingerprint=fp, scenario=scenario, periods=periods, profit=float(profit),
                    status=status, values=values, tables=tables)
