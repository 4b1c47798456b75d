"""Charts of the analyses (a sweep, scenarios side by side), as matplotlib Figures (no pyplot
state); the report's own charts are in solver/present/report.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from solver.analysis.scenarios import ScenarioComparison
from solver.present.formatting import money_axis, plain_text_charts


def sweep_chart(df: pd.DataFrame, param: str, path, currency: str = "CNY") -> None:
    with plain_text_charts():  # the parameter names a line or resource of the data: never TeX
        fig = Figure(figsize=(8, 4.5), dpi=110)
        ax = fig.subplots()
        ok = df["status"].isin(["optimal", "feasible"])
        ax.plot(df.loc[ok, "value"], df.loc[ok, "profit"], "o-", color="#1f5fa8", label="profit")
        bad = df[~ok]
        if len(bad):
            ax.plot(bad["value"], [df.loc[ok, "profit"].min() if ok.any() else 0] * len(bad), "x", color="#c0392b",
                    label="no plan")
        for v in df.loc[df["breakpoint"], "value"]:
            ax.axvline(v, color="#888", ls="--", lw=0.8)
        money_axis(ax, axis="x")  # the parameter: ¥, hours or a factor: plain k / M
        money_axis(ax, currency)
        ax.set_xlabel(param)
        ax.set_ylabel(f"profit ({currency})")
        ax.grid(alpha=0.3)
        ax2 = ax.twinx()
        ax2.plot(df.loc[ok, "value"], 100 * df.loc[ok, "service_level"], "s:", color="#e67e22", label="service level")
        ax2.set_ylabel("service level (%)")
        lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
        labels = ax.get_legend_handles_labels()[1] + ax2.get_legend_handles_labels()[1]
        ax.legend(lines, labels, loc="lower right", fontsize=8)
        ax.set_title(f"Profit against {param} (dashed: breakpoints of the marginal value)")
        fig.tight_layout()
        fig.savefig(path)


def scenario_chart(comp: ScenarioComparison):
    """A matplotlib Figure: profit (own optimum, robust plan), service level, lowest cash and
    peak loan, budget used by line — one group per scenario."""
    rows = comp.rows()
    x = np.arange(len(rows))
    fig = Figure(figsize=(11, 7), dpi=100, layout="constrained")
    axes = fig.subplots(2, 2)
    ax = axes[0][0]
    width = 0.38 if comp.robust is not None else 0.6
    ax.bar(x - (width / 2 if comp.robust is not None else 0), rows["profit"], width, label="own optimum", color="#4C72B0")
    if comp.robust is not None:
        ax.bar(x + width / 2, rows["robust_profit"], width, label=f"robust (first {comp.commit} committed)", color="#DD8452")
        ax.legend(fontsize=8)
    ax.set_title(f"profit ({comp.currency})", loc="left", fontsize=10)
    ax = axes[0][1]
    ax.bar(x, rows["service_level"] * 100, 0.6, color="#55A868")
    ax.set_ylim(0, 105)
    ax.set_title("service level (%)", loc="left", fontsize=10)
    ax = axes[1][0]
    ax.bar(x - 0.2, rows["lowest_cash"], 0.4, label="lowest closing cash", color="#8172B3")
    ax.bar(x + 0.2, rows["peak_loan"], 0.4, label="peak loan", color="#C44E52")
    ax.legend(fontsize=8)
    ax.set_title(f"cash ({comp.currency})", loc="left", fontsize=10)
    ax = axes[1][1]
    bottom = np.zeros(len(rows))
    for b in comp.lines:
        vals = rows[f"budget_used:{b}"].fillna(0.0).to_numpy()
        ax.bar(x, vals, 0.6, bottom=bottom, label=b)
        bottom += vals
    if comp.lines:
        ax.legend(fontsize=8)
    ax.set_title(f"budget used by line ({comp.currency})", loc="left", fontsize=10)
    for ax in (a for row in axes for a in row):
        ax.set_xticks(x)
        ax.set_xticklabels(rows["scenario"], fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Demand scenarios side by side", fontsize=11, x=0.01, ha="left")
    return fig
