"""Month-across views of the plan tables, as planners lay out a budget: one row per item (line,
resource, product and channel) and measure, one column per period, and a total.

The plan tables are long (one row per index, docs/model.md §6): right for filtering and
pivoting, hard to read across a year. These views are computed from them and nothing else, so
each cell is the long table's value (or a sum or running sum of them, as the measure says):
production by item and routing; sales by product and channel (demand, shipped, lost, backlog
open at the period's end); budget by line (ceiling, allocated, spent, emergency, and for a
line whose unspent allocation carries over, the running totals and what is carried over: a
carry-over line may spend more than a month's allocation, never more than the allocation so
far); capacity by resource (available, used and overtime hours, utilisation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

TOTAL = "total"
MEASURE = "measure"
# how a measure's total over the horizon reads: a sum, or its value at the horizon's end
SUM, LAST = "sum", "last"

# measure -> what its numbers are (the workbook formats by it)
KINDS = {
    "quantity": "quantity", "demand": "quantity", "shipped": "quantity", "lost": "quantity", "backlog": "quantity",
    "ceiling": "money", "allocated": "money", "spent": "money", "emergency": "money",
    "allocated, cumulative": "money", "spent, cumulative": "money", "carried over": "money",
    "available": "hours", "used": "hours", "overtime": "hours", "utilisation": "fraction",
}


def period_order(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """The period labels in model order (by `t`), from whichever plan table has them."""
    frames = [df[["t", "period"]] for df in tables.values() if {"t", "period"} <= set(df.columns) and len(df)]
    if not frames:
        return []
    both = pd.concat(frames).drop_duplicates().sort_values("t", kind="stable")
    return [str(p) for p in dict.fromkeys(both["period"].astype(str))]


def _across(df: pd.DataFrame, keys: Sequence[str], measures: Sequence[tuple[str, str, str]],
            periods: Sequence[str]) -> pd.DataFrame:
    """Rows keys × measures (label, column of `df`, total rule), one column per period."""
    if df.empty:
        return pd.DataFrame(columns=[*keys, MEASURE, *periods, TOTAL])
    df = df.assign(period=df["period"].astype(str))
    order = list(dict.fromkeys(map(tuple, df[list(keys)].to_numpy(dtype=object).tolist())))
    rows = []
    for label, column, rule in measures:
        grid = df.pivot_table(index=list(keys), columns="period", values=column, aggfunc="sum", dropna=False)
        grid = grid.reindex(columns=list(periods))
        for key in order:
            values = grid.loc[key if len(keys) > 1 else key[0]].to_numpy(dtype=float)
            values = np.where(np.isnan(values), 0.0, values)
            total = float(values.sum()) if rule == SUM else float(values[-1]) if len(values) else 0.0
            rows.append({**dict(zip(keys, key, strict=True)), MEASURE: label,
                         **dict(zip(periods, values, strict=True)), TOTAL: total})
    out = pd.DataFrame(rows, columns=[*keys, MEASURE, *periods, TOTAL])
    rank = {label: k for k, (label, _, _) in enumerate(measures)}
    position = {key: k for k, key in enumerate(order)}
    out["_key"] = [position[tuple(r)] for r in out[list(keys)].to_numpy(dtype=object).tolist()]
    out["_measure"] = out[MEASURE].map(rank)
    return out.sort_values(["_key", "_measure"], kind="stable").drop(columns=["_key", "_measure"]).reset_index(drop=True)


def production_across(prod: pd.DataFrame, periods: Sequence[str]) -> pd.DataFrame:
    return _across(prod, ["item", "routing"], [("quantity", "quantity", SUM)], periods)


def sales_across(sales: pd.DataFrame, periods: Sequence[str]) -> pd.DataFrame:
    measures = [("demand", "demand", SUM), ("shipped", "shipped", SUM), ("lost", "lost", SUM)]
    if "backlog" in sales and sales["backlog"].fillna(0).abs().gt(0).any():
        measures.append(("backlog", "backlog", LAST))  # open at the period's end: a level, not a flow
    return _across(sales, ["product", "channel"], measures, periods)


def budget_across(budget: pd.DataFrame, periods: Sequence[str]) -> pd.DataFrame:
    """Ceiling, allocated, spent, emergency per line; for carry-over lines also the running
    allocation and spending and what is carried over (allocated so far − spent so far)."""
    if budget.empty:
        return _across(budget, ["line"], [], periods)
    measures = [("ceiling", "ceiling", SUM), ("allocated", "allocated", SUM), ("spent", "spent", SUM)]
    if "emergency" in budget:
        measures.append(("emergency", "emergency", SUM))
    out = _across(budget, ["line"], measures, periods)
    carry = budget[budget["carryover"].astype(str).str.lower().eq("true")] if "carryover" in budget else budget.iloc[:0]
    extra = []
    for line in dict.fromkeys(carry["line"]):
        rows = out[out["line"].eq(line)].set_index(MEASURE)
        alloc = rows.loc["allocated", list(periods)].to_numpy(dtype=float).cumsum()
        spent = rows.loc["spent", list(periods)].to_numpy(dtype=float).cumsum()
        for label, values in (("allocated, cumulative", alloc), ("spent, cumulative", spent),
                              ("carried over", alloc - spent)):
            extra.append({"line": line, MEASURE: label, **dict(zip(periods, values, strict=True)),
                          TOTAL: float(values[-1]) if len(values) else 0.0})
    if extra:
        out = pd.concat([out, pd.DataFrame(extra, columns=out.columns)], ignore_index=True)
        position = {line: k for k, line in enumerate(dict.fromkeys(budget["line"]))}
        out = out.assign(_k=out["line"].map(position)).sort_values("_k", kind="stable").drop(columns="_k")
    out = out.reset_index(drop=True)
    ceiling = out[MEASURE].eq("ceiling")
    finite = np.isfinite(out.loc[ceiling, list(periods)].to_numpy(dtype=float)).all(axis=1)
    out.loc[out.index[ceiling][~finite], TOTAL] = np.inf  # a month without a ceiling: none over the year
    return out


def capacity_across(cap: pd.DataFrame, periods: Sequence[str]) -> pd.DataFrame:
    """Available, used and overtime hours per resource, and utilisation (used ÷ available;
    over the year: the year's used ÷ the year's available hours)."""
    measures = [("available", "available", SUM), ("used", "used", SUM), ("overtime", "overtime", SUM),
                ("utilisation", "utilisation", SUM)]
    out = _across(cap, ["resource"], [m for m in measures if m[1] in cap.columns], periods)
    for resource in out["resource"].unique():
        rows = out["resource"].eq(resource)
        used = out.loc[rows & out[MEASURE].eq("used"), TOTAL]
        available = out.loc[rows & out[MEASURE].eq("available"), TOTAL]
        util = rows & out[MEASURE].eq("utilisation")
        if len(used) and len(available) and float(available.iloc[0]) > 0:
            out.loc[util, TOTAL] = float(used.iloc[0]) / float(available.iloc[0])
        else:
            out.loc[util, TOTAL] = np.nan
    return out


VIEWS = (("production", production_across), ("sales", sales_across), ("budget", budget_across),
         ("capacity", capacity_across))


def month_across(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The month-across view of each plan table that has one, keyed by the table's name."""
    periods = period_order(tables)
    return {name: make(tables[name], periods) for name, make in VIEWS if name in tables and "period" in tables[name]}
