"""Two plans side by side: key figures, what the plan does differently, budget and cash.

Data in, data out: the tables and KPIs of two solved plans (as `solver.engine.results` makes
them, or as `prodbudget solve --out` wrote them) give DataFrames of differences, `b − a`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

KPI_ROWS = (
    ("objective", "profit"), ("revenue", "revenue"), ("service_level", "service level"),
    ("units_lost", "units lost"), ("min_cash_headroom", "lowest cash headroom"), ("max_loan", "peak loan"),
    ("peak_utilisation", "peak utilisation"), ("emergency_drawn", "emergency budget drawn"),
)
TOL = 1e-6


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def kpi_differences(a: Mapping, b: Mapping) -> pd.DataFrame:
    """One row per key figure: a, b and b − a."""
    rows = []
    for key, label in KPI_ROWS:
        va, vb = _num(a.get(key)), _num(b.get(key))
        rows.append({"kpi": key, "label": label, "a": va, "b": vb, "difference": vb - va})
    return pd.DataFrame(rows)


def _keyed(a: pd.DataFrame, b: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
    """Rows of `keys` where any of `values` differs (summed per key; missing rows count 0)."""
    def totals(df: pd.DataFrame) -> pd.DataFrame:
        if df is None or not len(df):
            return pd.DataFrame(columns=keys + values)
        return df[keys + values].groupby(keys, as_index=False, sort=False)[values].sum()

    m = totals(a).merge(totals(b), on=keys, how="outer", suffixes=("_a", "_b"))
    changed = np.zeros(len(m), dtype=bool)
    for v in values:
        m[f"{v}_a"] = pd.to_numeric(m[f"{v}_a"], errors="coerce").fillna(0.0)
        m[f"{v}_b"] = pd.to_numeric(m[f"{v}_b"], errors="coerce").fillna(0.0)
        m[f"{v}_difference"] = m[f"{v}_b"] - m[f"{v}_a"]
        scale = np.maximum(1.0, np.maximum(m[f"{v}_a"].abs(), m[f"{v}_b"].abs()))
        changed |= (m[f"{v}_difference"].abs() > TOL * scale).to_numpy()
    return m[changed].reset_index(drop=True)


def _order(df: pd.DataFrame, keys: list[str], periods: list[str]) -> pd.DataFrame:
    """Rows by their keys, periods in the plan's order (not alphabetical)."""
    if not len(df) or "period" not in df.columns:
        return df.reset_index(drop=True)
    rank = {p: k for k, p in enumerate(periods)}
    others = [k for k in keys if k != "period"]
    return (df.assign(_t=df["period"].map(rank)).sort_values([*others, "_t"], kind="stable")
            .drop(columns="_t").reset_index(drop=True))


def compare_plans(a_tables: Mapping[str, pd.DataFrame], a_kpis: Mapping, b_tables: Mapping[str, pd.DataFrame],
                  b_kpis: Mapping, periods: list[str]) -> dict[str, pd.DataFrame]:
    """The differences of plan b against plan a: `kpis`, `production` (item, routing, period),
    `purchases` (item, period), `sales` (shipped, backlog, lost by product, channel, period),
    `budget` (allocated, spent, emergency and the ceiling by line and period) and `cash`
    (closing cash, loan and headroom by period)."""
    out = {"kpis": kpi_differences(a_kpis, b_kpis)}
    for name, keys, values in (
        ("production", ["item", "routing", "period"], ["quantity"]),
        ("purchases", ["item", "period"], ["quantity"]),
        ("sales", ["product", "channel", "period"], ["shipped", "backlog", "lost"]),
        ("budget", ["line", "period"], ["ceiling", "allocated", "spent", "emergency"]),
    ):
        ta, tb = a_tables.get(name), b_tables.get(name)
        if name == "production":
            for t in (ta, tb):
                if t is not None and "routing" in t.columns:
                    t["routing"] = t["routing"].fillna("").astype(str)
        out[name] = _order(_keyed(ta, tb, keys, values), keys, periods)
    ca, cb = a_tables.get("cash"), b_tables.get("cash")
    cols = ["period", "closing", "loan", "headroom"]
    cash = ca[cols].merge(cb[cols], on="period", how="outer", suffixes=("_a", "_b"))
    for v in cols[1:]:
        cash[f"{v}_difference"] = cash[f"{v}_b"] - cash[f"{v}_a"]
    out["cash"] = _order(cash, ["period"], periods)
    return out
