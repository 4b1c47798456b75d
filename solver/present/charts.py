"""Charts of the analyses (a sweep, scenarios side by side), as matplotlib Figures (no pyplot
state); the report's own charts are in solver/present/report.py. All are made and saved in
`chart_style()` (one CJK font lookup) and word their axes with `solver.present.formatting`."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from solver.analysis.parametric import Parameter, breakpoint_table
from solver.analysis.scenarios import ScenarioComparison
from solver.money import money, quantity
from solver.present.formatting import chart_style, money_axis, percent_axis, quantity_axis

PROFIT_COLOR, SERVICE_COLOR, TODAY_COLOR, BREAK_COLOR = "#1f5fa8", "#e67e22", "#2e7d32", "#555555"


def parameter_axis(ax, param: Parameter, currency: str, axis: str = "x") -> None:
    """The parameter's axis worded by its unit: ¥ for money, h for hours, % for a fraction, ×
    for a scale factor, plain units for stock targets."""
    unit = param.unit
    if unit == "money":
        money_axis(ax, currency, axis)
    elif unit == "hour":
        quantity_axis(ax, axis, suffix=" h")
    elif unit == "fraction":
        percent_axis(ax, axis)
    elif unit == "factor":
        quantity_axis(ax, axis, suffix="×")
    else:
        quantity_axis(ax, axis)


def parameter_text(param: Parameter, value: float, currency: str) -> str:
    """One value of the parameter in words: ¥410,000,000, 405 h, 10.0 %, 1.15×, 3,000 units."""
    unit = param.unit
    if unit == "money":
        return money(value, currency)
    if unit == "hour":
        return f"{quantity(value)} h"
    if unit == "fraction":
        return f"{value:.1%}"
    if unit == "factor":
        return f"{value:.4g}×"
    return f"{quantity(value)} units"


def sweep_figure(df: pd.DataFrame, param: Parameter | str, currency: str = "CNY", today: float | None = None,
                 gap: float = 1e-4, label=str) -> Figure:
    """Profit (left axis) and service level (right) against the parameter: every solved point,
    the breakpoints located exactly (dashed) or bracketed (shaded), today's value (green)."""
    param = Parameter.parse(param) if isinstance(param, str) else param
    fig = Figure(figsize=(9, 5), dpi=110, layout="constrained")
    ax = fig.subplots()
    ok = df["status"].isin(["optimal", "feasible"]) & np.isfinite(df["profit"].astype(float))
    good = df[ok].sort_values("value")
    ax.plot(good["value"], good["profit"], "-", color=PROFIT_COLOR, lw=1.8, label="profit", zorder=3)
    grid = good[good["point"].eq("grid")] if "point" in good else good
    ax.plot(grid["value"], grid["profit"], "o", color=PROFIT_COLOR, ms=5, zorder=4)
    probes = good[good["point"].eq("probe")] if "point" in good else good.iloc[:0]
    if len(probes):
        ax.plot(probes["value"], probes["profit"], "D", color=PROFIT_COLOR, mfc="white", ms=5, zorder=4,
                label="points solved to locate a breakpoint")
    bad = df[~ok]
    if len(bad):
        ax.plot(bad["value"], [good["profit"].min() if len(good) else 0.0] * len(bad), "x", color="#c0392b",
                ms=8, mew=2, label="no plan", zorder=4)
    table = breakpoint_table(df, gap)
    exact = table[table["exact"]]
    for v in exact["value"]:
        ax.axvline(v, color=BREAK_COLOR, ls="--", lw=0.9, zorder=2)
    if len(exact):  # a ring on the curve too: a dashed line at today's value hides under today's
        ax.plot(exact["value"], exact["profit"], "o", ms=12, mfc="none", mec=BREAK_COLOR, mew=1.6, zorder=6,
                label="breakpoint: the slope changes here (located exactly)")
    for k, row in enumerate(table[~table["exact"]].itertuples(index=False)):
        ax.axvspan(row.low, row.high, color="#bbbbbb", alpha=0.35, lw=0, zorder=1,
                   label="the slope changes somewhere here (not located)" if k == 0 else None)
    if today is not None and math.isfinite(today):
        at = good[np.isclose(good["value"].astype(float), today, rtol=1e-9, atol=1e-9)]
        ax.axvline(today, color=TODAY_COLOR, lw=1.6, zorder=2,
                   label=f"today: {parameter_text(param, today, currency)}")
        if len(at):
            ax.plot([today], [float(at["profit"].iloc[0])], "*", color=TODAY_COLOR, ms=15, zorder=5)
    parameter_axis(ax, param, currency)
    money_axis(ax, currency)
    ax.set_xlabel(label(str(param)))
    ax.set_ylabel(f"profit ({currency})")
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if "service_level" in good and good["service_level"].notna().any():
        ax2 = ax.twinx()
        ax2.plot(good["value"], good["service_level"], "s:", color=SERVICE_COLOR, ms=4, label="service level")
        ax2.set_ylabel("service level")
        percent_axis(ax2, min_span=0.02)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    ax.set_title(f"Profit against {label(str(param))}", loc="left", fontsize=11)
    return fig


def sweep_chart(df: pd.DataFrame, param: Parameter | str, path, currency: str = "CNY", today: float | None = None,
                gap: float = 1e-4) -> None:
    """`sweep_figure` saved as a PNG (made and saved in the chart style: names in any script)."""
    with chart_style() as label:
        sweep_figure(df, param, currency, today, gap, label).savefig(path)


def scenario_figure(comp: ScenarioComparison, label=str) -> Figure:
    """Profit (own optimum, robust plan), service level, lowest cash and peak loan, budget used
    by line — one group per scenario; legends beside the plots, never over the bars."""
    rows = comp.rows()
    x = np.arange(len(rows))
    fig = Figure(figsize=(12, 7.5), dpi=100, layout="constrained")
    axes = fig.subplots(2, 2)
    names = [label(s) for s in rows["scenario"]]
    ax = axes[0][0]
    width = 0.38 if comp.robust is not None else 0.6
    ax.bar(x - (width / 2 if comp.robust is not None else 0), rows["profit"], width, label="own optimum", color="#4C72B0")
    if comp.robust is not None:
        ax.bar(x + width / 2, rows["robust_profit"], width, label=f"robust (first {comp.commit} committed)", color="#DD8452")
    money_axis(ax, comp.currency)
    ax.set_title(f"profit ({comp.currency})", loc="left", fontsize=10)
    ax = axes[0][1]
    ax.bar(x, rows["service_level"], 0.6, color="#55A868")
    ax.set_ylim(0, 1.05)
    percent_axis(ax)
    ax.set_title("service level", loc="left", fontsize=10)
    ax = axes[1][0]
    ax.bar(x - 0.2, rows["lowest_cash"], 0.4, label="lowest closing cash", color="#8172B3")
    ax.bar(x + 0.2, rows["peak_loan"], 0.4, label="peak loan", color="#C44E52")
    money_axis(ax, comp.currency)
    ax.set_title(f"cash ({comp.currency})", loc="left", fontsize=10)
    ax = axes[1][1]
    bottom = np.zeros(len(rows))
    for b in comp.lines:
        vals = rows[f"budget_used:{b}"].fillna(0.0).to_numpy()
        ax.bar(x, vals, 0.6, bottom=bottom, label=label(b))
        bottom += vals
    money_axis(ax, comp.currency)
    ax.set_title(f"budget used by line ({comp.currency})", loc="left", fontsize=10)
    for ax in (a for row in axes for a in row):
        ax.set_xticks(x)
        ax.set_xticklabels(names, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle("Demand scenarios side by side", fontsize=11, x=0.01, ha="left")
    return fig


def scenario_chart(comp: ScenarioComparison, path) -> None:
    """`scenario_figure` saved as a PNG in the chart style."""
    with chart_style() as label:
        scenario_figure(comp, label).savefig(path, dpi=100)

