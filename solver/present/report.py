"""The plan report: one self-contained HTML page from a solve output folder (issue 7).

Reads what `prodbudget solve --out DIR` writes (the plan CSVs and summary.json; limits.csv and
comparison.csv when present) and renders KPIs, matplotlib charts embedded as base64 PNG
(capacity utilisation heatmap, stock against its targets, cash against its minimum with the
loan, budget allocated / spent / ceiling, monthly P&L), the top binding limits and the plan
tables, with inline CSS and no external reference, so the page can be mailed or archived.

Item names are often Chinese: the charts use the CJK-capable font `solver.present.formatting`
finds for every chart (Noto Sans CJK, Source Han Sans, WenQuanYi, SimHei, Microsoft YaHei, PingFang…). Without one
the charts still render and label items by the Latin part of their names (a note says so).
Pyplot is not used (no global state): each chart is a `matplotlib.figure.Figure`.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from solver.money import money, quantity, short_money
from solver.present import formatting
from solver.present.formatting import chart_style, money_axis, percent_axis, quantity_axis

PLAN_TABLES = ("production", "purchases", "sales", "inventory", "capacity", "budget", "cash", "pnl", "balances")
ID_COLUMNS = ("item", "routing", "period", "product", "channel", "resource", "plant", "line", "terms",
              "budget_line", "family", "entity", "arrival", "available", "service", "kind", "constraint",
              "variable", "step", "text", "min_cash_period")
MAX_SMALL_MULTIPLES = 6
COLORS = {"stock": "#9DC3E6", "short": "#C0392B", "alloc": "#4472C4", "spent": "#ED7D31", "ceiling": "#C00000", "cash": "#2F5597",
          "min": "#C00000", "loan": "#F4B183", "profit": "#000000", "revenue": "#70AD47"}
PNL_COSTS = (  # (label, columns summed), drawn as negative stacked bars
    ("purchases", ("purchases",)),
    ("production", ("production", "setup", "overtime")),
    ("fixed", ("fixed",)),
    ("ordering", ("ordering",)),
    ("holding", ("holding",)),
    ("service", ("backlog", "lost", "safety")),
    ("finance", ("interest", "emergency")),
    ("overhead", ("overhead",)),
)
PNL_COST_COLORS = ("#5B9BD5", "#A5A5A5", "#7F6000", "#FFC000", "#9E480E", "#C00000", "#7030A0", "#264478")


class ReportError(Exception):
    """The folder is not a solve output (missing summary.json or plan tables)."""


@dataclass
class Output:
    """A solve output folder read back: KPIs, periods, and every table found."""

    folder: Path
    kpis: dict
    periods: list[str]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return str(self.kpis.get("currency") or "CNY")

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())


def read_output(folder: str | Path) -> Output:
    """The tables and summary.json that `prodbudget solve --out` wrote. A folder edited since
    (a table missing, emptied, not UTF-8, not CSV, text where numbers belong; summary.json
    not a JSON object) is a `ReportError` naming the file, never a traceback."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder} is not a folder (expected the --out folder of prodbudget solve)")
    summary = folder / "summary.json"
    if not summary.is_file():
        raise ReportError(f"{summary} is missing (expected the --out folder of prodbudget solve)")
    try:
        kpis = json.loads(summary.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{summary} is not readable JSON ({exc})") from None
    if not isinstance(kpis, dict):
        raise ReportError(f"{summary} holds no JSON object of key figures")
    tables: dict[str, pd.DataFrame] = {}
    for file in sorted(folder.glob("*.csv")):
        tables[file.stem] = _read_table(file)
    if not any(name in tables for name in PLAN_TABLES):
        raise ReportError(f"{folder} holds no plan table ({', '.join(t + '.csv' for t in PLAN_TABLES)})")
    raw_periods = kpis.get("periods")
    periods = [str(p) for p in raw_periods] if isinstance(raw_periods, list) else []
    if not periods:
        for name in ("cash", "pnl", "capacity"):
            if name in tables and "period" in tables[name]:
                periods = list(dict.fromkeys(tables[name]["period"].astype(str)))
                break
    return Output(folder, kpis, periods, tables)


def _read_table(file: Path) -> pd.DataFrame:
    """One table of an output folder: identifiers as text; in the plan tables every other column
    numeric (the charts and the highlighting compute with them)."""
    try:
        df = pd.read_csv(io.StringIO(file.read_bytes().decode("utf-8-sig")), dtype={c: str for c in ID_COLUMNS},
                         keep_default_na=False, na_values=[""])
    except UnicodeDecodeError as exc:
        raise ReportError(f"{file} is not UTF-8 text (byte offset {exc.start}); was it edited and saved "
                          "in another encoding?") from None
    except pd.errors.EmptyDataError:
        raise ReportError(f"{file} is empty (no header row)") from None
    except pd.errors.ParserError as exc:
        raise ReportError(f"{file} cannot be read as CSV: {str(exc).strip()}") from None
    if file.stem not in PLAN_TABLES:  # the other tables are shown as they are
        return df
    for col in df.columns:
        if col in ID_COLUMNS or pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
            continue
        numbers = pd.to_numeric(df[col], errors="coerce")
        bad = df[col].notna() & numbers.isna() & ~df[col].astype(str).str.lower().isin(["true", "false"])
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ReportError(f"{file}, row {row + 2}, column '{col}': {df[col].iloc[row]!r} is not a number "
                              "(expected the table as prodbudget solve wrote it)")
        if not df[col].astype(str).str.lower().isin(["true", "false"]).any():
            df[col] = numbers
    return df


# --------------------------------------------------------------------------- fonts and formats


# --------------------------------------------------------------------------- charts


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _period_ticks(ax, periods: list[str]) -> None:
    ax.set_xticks(range(len(periods)))
    ax.set_xticklabels(periods, rotation=45 if len(periods) > 6 else 0, ha="right" if len(periods) > 6 else "center",
                       fontsize=8)


def _ordered(df: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    pos = {p: k for k, p in enumerate(periods)}
    return df.assign(_x=df["period"].astype(str).map(pos)).dropna(subset=["_x"]).sort_values("_x")


def chart_capacity(out: Output, label: Callable[[str], str]):
    cap = out.table("capacity")
    if cap.empty or "utilisation" not in cap:
        return None
    resources = list(dict.fromkeys(cap["resource"]))
    grid = cap.pivot_table(index="resource", columns="period", values="utilisation", aggfunc="first")
    grid = grid.reindex(index=resources, columns=[p for p in out.periods if p in grid.columns])
    values = grid.to_numpy(dtype=float)
    values = np.where(np.isfinite(values), values, np.nan)
    top = max(1.0, float(np.nanmax(values)) if np.isfinite(values).any() else 1.0)
    fig = _figure(12, 1.2 + 0.42 * len(resources))
    ax = fig.add_subplot()
    im = ax.imshow(values, aspect="auto", cmap="RdYlGn_r", vmin=0.0, vmax=top)
    for (r, c), v in np.ndenumerate(values):
        if np.isnan(v):
            continue
        color = "white" if v > 0.85 * top or v < 0.12 * top else "black"
        ax.text(c, r, f"{v:.0%}", ha="center", va="center", fontsize=7.5, color=color,
                fontweight="bold" if v >= 0.999 else "normal")
        if v >= 0.999:
            ax.add_patch(_rect(c, r))
    ax.set_yticks(range(len(resources)))
    ax.set_yticklabels([label(r) for r in resources], fontsize=8.5)
    _period_ticks(ax, list(grid.columns))
    ax.set_title("Capacity utilisation: used ÷ available regular hours (framed: ≥ 99.9 %, a binding limit; > 100 % = overtime)",
                 fontsize=10, loc="left")
    cb = fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01)
    percent_axis(cb.ax)
    cb.ax.tick_params(labelsize=8)
    return fig


def _rect(c: int, r: int):
    from matplotlib.patches import Rectangle

    return Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.4)


def main_products(out: Output, limit: int = MAX_SMALL_MULTIPLES) -> list[str]:
    """Products by revenue (else by demand, else by stock), largest first."""
    sales, inv = out.table("sales"), out.table("inventory")
    products = list(dict.fromkeys(inv.loc[inv["kind"].eq("product"), "item"])) if not inv.empty and "kind" in inv else []
    if not products:
        return []
    if not sales.empty:
        col = "revenue" if "revenue" in sales and sales["revenue"].abs().sum() > 0 else "demand"
        if col in sales:
            weight = sales.groupby("product")[col].sum()
            products.sort(key=lambda p: -float(weight.get(p, 0.0)))
    return products[:limit]


def chart_stock(out: Output, label: Callable[[str], str]):
    """Closing stock of the main products against their targets. A period below the safety
    target is a red bar; an empty one (0 units) is a red marker on the axis and says 0: no bar
    ever stands for stock that is not there."""
    inv = out.table("inventory")
    products = main_products(out)
    if inv.empty or not products:
        return None
    cols = 3 if len(products) > 4 else 2 if len(products) > 1 else 1
    rows = math.ceil(len(products) / cols)
    fig = _figure(12, 2.7 * rows + 0.8)
    axes = fig.subplots(rows, cols, squeeze=False)
    x_all = list(range(len(out.periods)))
    for k, product in enumerate(products):
        ax = axes[k // cols][k % cols]
        df = _ordered(inv[inv["item"].eq(product)], out.periods)
        x = df["_x"].to_numpy()
        closing = df["closing"].fillna(0.0).to_numpy(dtype=float)
        target = df["target_min"].fillna(0.0).to_numpy(dtype=float) if "target_min" in df else np.zeros(len(df))
        below = closing < target - 1e-6 * np.maximum(target, 1.0)
        empty = closing <= 1e-6
        ax.bar(x[~below], closing[~below], color=COLORS["stock"], label="closing stock", width=0.7)
        if (below & ~empty).any():
            ax.bar(x[below & ~empty], closing[below & ~empty], color=COLORS["short"], width=0.7,
                   label="closing stock below the safety target")
        if (below & empty).any():
            ax.plot(x[below & empty], np.zeros(int((below & empty).sum())), linestyle="none", marker="^",
                    color=COLORS["short"], markersize=8, clip_on=False, zorder=5, label="no stock (0 units) below target")
            for xe in x[below & empty]:
                ax.annotate("0", (xe, 0), xytext=(0, 7), textcoords="offset points", ha="center", fontsize=7,
                            color=COLORS["short"], fontweight="bold")
        if target.any():
            ax.step(x, target, where="mid", color=COLORS["min"], linestyle="--", linewidth=1.5,
                    label="target min (safety)")
        if "target_max" in df:
            mx = df["target_max"].astype(float)
            if np.isfinite(mx).any():
                ax.step(x, mx.where(np.isfinite(mx)), where="mid", color="#7F7F7F", linestyle=":", linewidth=1.5,
                        label="target max")
        ax.set_title(label(product), fontsize=9.5, loc="left")
        ax.set_xticks(x_all)
        ax.set_xticklabels([p[-2:] if len(p) > 4 else p for p in out.periods], fontsize=7.5)
        ax.tick_params(axis="y", labelsize=8)
        ax.yaxis.set_major_locator(_integer_locator())
        quantity_axis(ax)
        ax.set_ylim(bottom=0, top=None if closing.max() > 0 or target.max() > 0 else 1)
        ax.grid(axis="y", alpha=0.3)
    for k in range(len(products), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    _figure_legend(fig)
    fig.suptitle("Stock against its targets (main products by revenue; units, closing stock per period)",
                 fontsize=10, x=0.01, ha="left")
    return fig


def _figure_legend(fig, ncol: int = 6) -> None:
    """One legend under the small multiples with every entry any of them drew (an entry only
    one panel has, like the emergency budget of one line, is not lost)."""
    handles, labels = [], []
    for ax in fig.axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(ncol, len(labels)), fontsize=8, frameon=False)


def _integer_locator():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True, min_n_ticks=1)


def chart_cash(out: Output):
    cash = out.table("cash")
    if cash.empty or "closing" not in cash:
        return None
    df = _ordered(cash, out.periods)
    x = df["_x"].to_numpy()
    fig = _figure(12, 3.6)
    ax = fig.add_subplot()
    if "loan" in df and df["loan"].abs().sum() > 0:
        ax.bar(x, df["loan"], color=COLORS["loan"], width=0.6, label="loan drawn (closing balance)")
    ax.plot(x, df["closing"], marker="o", color=COLORS["cash"], linewidth=2, label="closing cash")
    if "minimum" in df:
        ax.step(x, df["minimum"], where="mid", color=COLORS["min"], linestyle="--", linewidth=1.5, label="minimum cash")
        at = df["closing"] <= df["minimum"] + 1e-6 * df["minimum"].abs().clip(lower=1000.0)
        if at.any():
            ax.scatter(x[at.to_numpy()], df.loc[at, "closing"], s=120, facecolors="none", edgecolors=COLORS["min"],
                       linewidths=2, zorder=5, label="at the minimum (binding)")
    money_axis(ax, out.currency)
    _period_ticks(ax, [out.periods[int(i)] for i in x])
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"Closing cash against the minimum, with the loan drawn ({out.currency})", fontsize=10, loc="left")
    return fig


def chart_budget(out: Output, label: Callable[[str], str]):
    bud = out.table("budget")
    if bud.empty or "allocated" not in bud:
        return None
    lines = list(dict.fromkeys(bud["line"]))
    if len(lines) > MAX_SMALL_MULTIPLES:
        spent = bud.groupby("line")["spent"].sum()
        lines = sorted(lines, key=lambda ln: -float(spent.get(ln, 0.0)))[:MAX_SMALL_MULTIPLES]
    cols = 2 if len(lines) > 1 else 1
    rows = math.ceil(len(lines) / cols)
    fig = _figure(12, 3.0 * rows + 0.8)
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, line in enumerate(lines):
        ax = axes[k // cols][k % cols]
        df = _ordered(bud[bud["line"].eq(line)], out.periods)
        x = df["_x"].to_numpy()
        w = 0.38
        ax.bar(x - w / 2, df["allocated"], width=w, color=COLORS["alloc"], label="allocated")
        ax.bar(x + w / 2, df["spent"], width=w, color=COLORS["spent"], label="spent")
        if "emergency" in df and df["emergency"].abs().sum() > 0:
            ax.bar(x + w / 2, df["emergency"], bottom=df["spent"] - df["emergency"], width=w, color="none",
                   edgecolor="black", hatch="xx", label="of which emergency")
        ceiling = df["ceiling"].astype(float) if "ceiling" in df else pd.Series(dtype=float)
        if np.isfinite(ceiling).any():
            ax.step(x, ceiling.where(np.isfinite(ceiling)), where="mid", color=COLORS["ceiling"], linestyle="--",
                    linewidth=1.5, label="period ceiling")
        title = f"{label(line)}"
        if "line_ceiling" in df and len(df):
            lc = float(df["line_ceiling"].iloc[0])
            total = float(df["allocated"].sum())
            title += f" — allocated {short_money(total, out.currency)}"
            if math.isfinite(lc):
                title += f" of horizon ceiling {short_money(lc, out.currency)} ({total / lc:.0%})" if lc > 0 else ""
        if "carryover" in df and len(df) and str(df["carryover"].iloc[0]).lower() == "true":
            title += " · carryover"
        ax.set_title(title, fontsize=9.5, loc="left")
        money_axis(ax, out.currency)
        ax.set_xticks(range(len(out.periods)))
        ax.set_xticklabels([p[-2:] if len(p) > 4 else p for p in out.periods], fontsize=7.5)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    for k in range(len(lines), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    _figure_legend(fig)
    fig.suptitle(f"Budget by line and month: allocated, spent and ceiling ({out.currency})", fontsize=10, x=0.01, ha="left")
    return fig


def chart_pnl(out: Output):
    pnl = out.table("pnl")
    if pnl.empty or "profit" not in pnl:
        return None
    df = _ordered(pnl, out.periods)
    x = df["_x"].to_numpy()
    fig = _figure(12, 4.2)
    ax = fig.add_subplot()
    pos = np.zeros(len(df))
    for name, color in (("revenue", COLORS["revenue"]), ("terminal", "#A9D18E")):
        if name in df and df[name].abs().sum() > 0:
            ax.bar(x, df[name], bottom=pos, color=color, width=0.7, label=name if name == "revenue" else "terminal stock value")
            pos += df[name].to_numpy(dtype=float)
    neg = np.zeros(len(df))
    for (name, cols), color in zip(PNL_COSTS, PNL_COST_COLORS, strict=True):
        vals = sum((df[c].to_numpy(dtype=float) for c in cols if c in df), np.zeros(len(df)))
        if np.abs(vals).sum() <= 0:
            continue
        ax.bar(x, -vals, bottom=neg, color=color, width=0.7, label=name)
        neg -= vals
    ax.plot(x, df["profit"], marker="o", color=COLORS["profit"], linewidth=2, label="profit")
    ax.plot(x, df["profit"].cumsum(), color=COLORS["profit"], linestyle="--", linewidth=1.2, label="cumulative profit")
    ax.axhline(0, color="black", linewidth=0.8)
    money_axis(ax, out.currency)
    _period_ticks(ax, [out.periods[int(i)] for i in x])
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(f"Monthly P&L: revenue above, costs below, profit line ({out.currency})", fontsize=10, loc="left")
    return fig


# --------------------------------------------------------------------------- HTML

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
 margin:0;color:#222;background:#f6f7f9}
main{max-width:1280px;margin:0 auto;padding:16px 28px 48px;background:#fff}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #305496;padding-bottom:3px}
h3{font-size:14px;margin:18px 0 6px}
.sub{color:#666;font-size:13px}
nav{font-size:13px;margin:10px 0 4px}nav a{margin-right:12px;color:#305496;text-decoration:none}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px;margin:12px 0}
.kpi{border:1px solid #dde3ec;border-radius:6px;padding:8px 12px;background:#fbfcfe}
.kpi .k{font-size:12px;color:#666}.kpi .v{font-size:19px;font-weight:600;margin-top:2px}
.kpi .n{font-size:11.5px;color:#666;margin-top:2px}
.kpi.warn{border-color:#f4b183;background:#fff7f1}.kpi.ok .v{color:#2e7d32}
figure{margin:8px 0 18px}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:12px;color:#555;margin-top:3px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:12px;margin:4px 0}
th{background:#305496;color:#fff;padding:4px 7px;text-align:left;position:sticky;top:0;white-space:nowrap}
td{padding:3px 7px;border-bottom:1px solid #e6e9ef;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#f7f9fc}
tr.bind td{background:#fce4d6}
tr.lost td{background:#f8d7da}tr.lost-all td{background:#f1aeb5;font-weight:600}tr.late td{background:#fff3cd}
table.wide th{white-space:normal;min-width:52px;vertical-align:bottom}table.wide td,table.wide th{padding:3px 6px}
.key{display:inline-block;width:12px;height:12px;margin:0 4px -2px 10px;border:1px solid #ccc}
.note{font-size:12px;color:#666;margin:2px 0 10px}
.alert{border-left:4px solid #c0392b;background:#fdf0f0;padding:6px 12px;margin:8px 0;font-size:13px}
.lim td.text{white-space:normal;min-width:420px}
"""


REPORT_PCT_COLUMNS = {"lost_share", "variance_pct"}
ZERO_TOL = 5e-7
REPORT_MONEY_COLUMNS = {"revenue_lost"}


def _fmt_cell(column: str, value: object, currency: str, money_unit: float = 1.0) -> tuple[str, bool]:
    """(text, is_number) for a table cell; money divided by `money_unit` when it is not 1."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "", False
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no"), False
    if isinstance(value, int | np.integer):
        return (f"{int(value):,}" if column not in ("t", "available_t", "arrival_t", "setup", "order_placed") else str(int(value))), True
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isinf(v):
            return ("∞" if v > 0 else "−∞"), True
        if abs(v) < ZERO_TOL:  # a solver's 1e-9 is no amount: "0", never "-0.0"
            return "0", True
        from solver.io.workbook import INT_COLUMNS, MONEY_COLUMNS, PCT_COLUMNS

        if column in PCT_COLUMNS or column in REPORT_PCT_COLUMNS:
            return f"{v:.1%}", True
        if column in INT_COLUMNS:
            return f"{v:g}", True
        if column in MONEY_COLUMNS or column in REPORT_MONEY_COLUMNS or column.startswith("money:"):
            if money_unit != 1.0:
                return f"{v / money_unit:,.0f}".replace("-", "−"), True
            return money(v, currency, 2 if abs(v) < 1000 else 0), True
        return f"{v:,.1f}", True
    return str(value), False


def html_table(df: pd.DataFrame, currency: str, table: str = "", max_rows: int | None = None,
               css_class: str = "", columns: Iterable[str] | None = None, row_classes: Sequence[str] | None = None,
               money_unit: float = 1.0) -> str:
    """An HTML table with formatted numbers; binding rows highlighted (and any `row_classes`,
    one per row of `df`); long tables truncated. `money_unit` (1000: thousands) divides the
    money of the table for display (the caller says so beside the table)."""
    from solver.io.workbook import MONEY_TABLES, binding_rows

    columns = [c for c in (columns or df.columns) if c in df.columns]
    shown = df if max_rows is None or len(df) <= max_rows else df.head(max_rows)
    binding = binding_rows(table, shown).to_numpy() if table else np.zeros(len(shown), dtype=bool)
    money_all = table in MONEY_TABLES or table in ("diff_budget", "variance_budget")
    head = "".join(f"<th>{html.escape(str(c).replace('_', ' ') if 'wide' in css_class else str(c))}</th>"
                   for c in columns)
    body = []
    arrays = [shown[c].to_numpy(dtype=object) for c in columns]
    for k in range(len(shown)):
        cells = []
        for c, arr in zip(columns, arrays, strict=True):
            key = f"money:{c}" if money_all and c not in ("t", "carryover") else c
            text, num = _fmt_cell(key, arr[k], currency, money_unit)
            cls = "num" if num else ("text" if c == "text" else "")
            cells.append(f'<td class="{cls}">{html.escape(text)}</td>' if cls else f"<td>{html.escape(text)}</td>")
        classes = " ".join(c for c in ("bind" if binding[k] else "", row_classes[k] if row_classes else "") if c)
        body.append(f'<tr class="{classes}">' if classes else "<tr>")
        body.append("".join(cells) + "</tr>")
    out = [f'<div class="scroll"><table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>',
           "".join(body), "</tbody></table></div>"]
    if len(shown) < len(df):
        out.append(f'<p class="note">Showing the first {len(shown):,} of {len(df):,} rows; '
                   f"the full table is {html.escape(table or 'the')}.csv in the output folder.</p>")
    return "".join(out)


def rows_text(n: int) -> str:
    """"1 row", "2,016 rows"."""
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


# the columns a reader looks for first in the wide money tables (the rest follow in file order)
KEY_COLUMNS = {"cash": ("period", "closing", "minimum", "headroom", "loan", "borrowing", "opening", "receipts"),
               "pnl": ("period", "profit", "revenue")}
WIDE_MONEY_TABLES = ("cash", "pnl")  # a column per cash flow or P&L line: in thousands, to fit a screen


def _served_classes(sales: pd.DataFrame) -> list[str]:
    """Per sales row: "lost-all" (the whole demand lost), "lost", "late" (backlog open at the
    period's end) or ""."""
    lost = sales["lost"].fillna(0.0).to_numpy(dtype=float) if "lost" in sales else np.zeros(len(sales))
    late = sales["backlog"].fillna(0.0).to_numpy(dtype=float) if "backlog" in sales else np.zeros(len(sales))
    demand = sales["demand"].fillna(0.0).to_numpy(dtype=float) if "demand" in sales else np.zeros(len(sales))
    out = []
    for d, lo, la in zip(demand, lost, late, strict=True):
        if lo > UNIT_TOL and lo >= d - UNIT_TOL:
            out.append("lost-all")
        elif lo > UNIT_TOL:
            out.append("lost")
        elif la > UNIT_TOL:
            out.append("late")
        else:
            out.append("")
    return out


UNIT_TOL = 1e-6


def plan_table_section(out: Output, name: str, max_rows: int | None) -> str:
    """One plan table as the report shows it: without the model's period number `t`; cash and
    P&L with their key columns first, columns zero in every period left out (named below) and
    money in thousands, so that they fit a 1280 px screen; sales rows lost or late marked."""
    df = out.tables[name].drop(columns=["t"], errors="ignore")
    notes, css, unit, classes = [], "", 1.0, None
    if name in WIDE_MONEY_TABLES:
        zero = [c for c in df.columns if c not in ID_COLUMNS and pd.api.types.is_numeric_dtype(df[c])
                and not pd.api.types.is_bool_dtype(df[c]) and df[c].fillna(0).eq(0).all()
                and c not in KEY_COLUMNS[name]]
        df = df.drop(columns=zero)
        first = [c for c in KEY_COLUMNS[name] if c in df.columns]
        df = df[first + [c for c in df.columns if c not in first]]
        money_cols = [c for c in df.columns if c not in ID_COLUMNS]
        biggest = float(df[money_cols].abs().max().max()) if money_cols and len(df) else 0.0
        if biggest >= 1e6:
            unit = 1000.0
            notes.append(f"Amounts in thousands of {html.escape(out.currency)} ({html.escape(money(1000, out.currency, 0))}"
                         f" = 1); {html.escape(name)}.csv holds them to the cent.")
        if zero:
            notes.append("Zero in every period, not shown: " + html.escape(", ".join(zero)) + ".")
        css = "wide"
    if name == "sales" and "lost" in df:
        classes = _served_classes(df)
        notes.append('<span class="key" style="background:#f1aeb5"></span>whole demand lost'
                     '<span class="key" style="background:#f8d7da"></span>part lost'
                     '<span class="key" style="background:#fff3cd"></span>served late (backlog open at the end of the period)')
    parts = [f'<h3 id="table-{name}">{html.escape(name)} <span class="sub">({rows_text(len(df))})</span></h3>']
    parts += [f'<p class="note">{n}</p>' for n in notes]
    parts.append(html_table(df, out.currency, name, max_rows, css, row_classes=classes, money_unit=unit))
    return "".join(parts)


def service_section(out: Output, max_rows: int | None = 20) -> str:
    """Demand not served: every sales row with units lost or served late, largest revenue lost
    first; rows that lose their whole demand are named above the table."""
    sales = out.table("sales")
    if sales.empty or "lost" not in sales or "demand" not in sales:
        return ""
    classes = np.array(_served_classes(sales))
    hit = sales[classes != ""].copy()
    if hit.empty:
        return '<p class="note">Every unit of demand is shipped in its period: nothing lost, nothing late.</p>'
    hit["lost_share"] = np.where(hit["demand"] > 0, hit["lost"].fillna(0.0) / hit["demand"].where(hit["demand"] > 0), 0.0)
    price = hit["price"].fillna(0.0) if "price" in hit else 0.0
    hit["revenue_lost"] = hit["lost"].fillna(0.0) * price
    hit["_class"] = classes[classes != ""]
    hit = hit.sort_values(["revenue_lost", "lost", "backlog" if "backlog" in hit else "lost"], ascending=False,
                          kind="stable")
    cur = out.currency
    lost_units, late_rows = float(sales["lost"].fillna(0).sum()), int((classes == "late").sum())
    revenue = float(hit["revenue_lost"].sum())
    whole = hit[hit["_class"].eq("lost-all")]
    text = [f"<b>{quantity(lost_units)} units lost</b> ({html.escape(money(revenue, cur, 0))} of revenue at their "
            f"prices) in {rows_text(int((classes == 'lost').sum() + (classes == 'lost-all').sum()))}"
            + (f"; {rows_text(late_rows)} served late" if late_rows else "") + "."]
    if len(whole):
        names = [f"{html.escape(str(r.product))} · {html.escape(str(r.channel))} · {html.escape(str(r.period))}: "
                 f"all {quantity(float(r.demand))} units" for r in whole.itertuples(index=False)]
        text.append(f"<b>Whole demand lost in {rows_text(len(whole))}</b>: " + "; ".join(names) + ".")
    cols = [c for c in ("product", "channel", "period", "demand", "shipped", "lost", "backlog", "lost_share",
                        "price", "revenue_lost", "service") if c in hit.columns]
    table = html_table(hit.rename(columns={"backlog": "late"}), cur, "", max_rows,
                       columns=[("late" if c == "backlog" else c) for c in cols], row_classes=list(hit["_class"]))
    return '<div class="alert">' + "<br>".join(text) + "</div>" + table


REPLAN_TABLES = ("diff_production", "diff_purchases", "diff_sales", "diff_budget")
VARIANCE_TABLES = ("variance_budget", "variance_sales", "variance_production", "variance_stock")


def roll_sections(out: Output, max_rows: int | None) -> list[str]:
    """A `roll` output's plan diff (previous plan against the re-plan, changed rows) and plan
    versus actual (预实比较) for the periods the actuals cover; nothing for a plain solve."""
    parts = []
    diff = [t for t in REPLAN_TABLES if t in out.tables]
    if diff:
        parts.append('<h2 id="replan">What the re-plan changes</h2><p class="note">Previous plan against the re-plan for '
                     "the re-planned periods, rows that changed only (<code>frozen</code>: a period held at the previous "
                     "plan's production and purchases).</p>")
        for name in diff:
            df = out.tables[name]
            parts.append(f'<h3 id="table-{name}">{html.escape(name)} <span class="sub">({rows_text(len(df))})</span></h3>')
            parts.append(html_table(df.drop(columns=["t"], errors="ignore"), out.currency, name, max_rows))
    var = [t for t in VARIANCE_TABLES if t in out.tables]
    if var:
        parts.append('<h2 id="variance">Plan versus actual (预实比较)</h2><p class="note">What the previous plan planned '
                     "for the periods the actuals cover, what happened, and the variance (actual − planned); "
                     '<span class="key" style="background:#fff3cd"></span>off the plan.</p>')
        for name in var:
            df = out.tables[name]
            off = (df["variance"].abs() > 1e-6 * df["planned"].abs().clip(lower=1.0)).to_numpy() if "variance" in df else []
            parts.append(f'<h3 id="table-{name}">{html.escape(name)} <span class="sub">({rows_text(len(df))}'
                         f"{f', {int(sum(off))} off the plan' if len(off) else ''})</span></h3>")
            parts.append(html_table(df.drop(columns=["t"], errors="ignore"), out.currency, name, max_rows,
                                    row_classes=["late" if o else "" for o in off] if len(off) else None))
    return parts



def _seconds(value: float) -> str:
    """2.8 s, 0.03 s: two significant digits below 10 s, so a fast build does not read 0.0 s."""
    return f"{value:.1f} s" if value >= 10 else f"{value:.2g} s"

def _kpi_cards(out: Output) -> str:
    k, cur = out.kpis, out.currency
    cards: list[tuple[str, str, str, str]] = []  # (label, value, note, css)

    def num(key: str) -> float | None:
        v = k.get(key)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    status = str(k.get("status", ""))
    cards.append(("status", status or "—", str(k.get("message", "")) if k.get("message") != status else "",
                  "ok" if status == "optimal" else "warn"))
    if num("objective") is not None:
        gap = num("gap")
        cards.append(("profit", money(num("objective"), cur, 0),
                      f"bound {money(num('bound'), cur, 0)}, gap {gap:.2%}" if gap is not None and num("bound") is not None else "", ""))
    if num("revenue") is not None:
        cards.append(("revenue", money(num("revenue"), cur, 0), "", ""))
    if num("service_level") is not None:
        lost = num("units_lost") or 0.0
        cards.append(("service level", f"{num('service_level'):.1%}",
                      f"{lost:,.0f} of {num('units_demanded') or 0:,.0f} units lost", "warn" if lost > 0 else ""))
    if num("min_cash_headroom") is not None:
        head = num("min_cash_headroom")
        cards.append(("lowest cash headroom", money(head, cur, 0), f"in {k.get('min_cash_period', '')}",
                      "warn" if head is not None and head <= 1.0 else ""))
    if num("max_loan") is not None:
        cards.append(("peak loan", money(num("max_loan"), cur, 0), "", ""))
    if num("peak_utilisation") is not None:
        u = num("peak_utilisation")
        cards.append(("peak utilisation", f"{u:.0%}", f"{k.get('peak_resource', '')} in {k.get('peak_period', '')}",
                      "warn" if u is not None and u >= 0.999 else ""))
    at = list(k.get("budget_at_period_ceiling") or []) + list(k.get("budget_at_line_ceiling") or [])
    if len(at) <= 2:
        cards.append(("budget at ceiling", ", ".join(map(str, at)) if at else "none", "", "warn" if at else ""))
    else:  # a long list belongs in the budget table, not in a card
        shown = ", ".join(map(str, at[:3]))
        cards.append(("budget at ceiling", f"{len(at)} ceilings", f"{shown}, … (highlighted in the budget table)", "warn"))
    if num("emergency_drawn"):
        cards.append(("emergency budget drawn", money(num("emergency_drawn"), cur, 0), "", "warn"))
    bal = out.table("balances")
    if not bal.empty:
        row = bal.iloc[0]
        for col, name in (("cash", "closing cash"), ("receivables", "receivables open at the end")):
            if col in bal:
                cards.append((name, money(float(row[col]), cur, 0), "", ""))
    times = [f"{_seconds(k[x])} {x.split('_')[0]}" for x in ("build_seconds", "solve_seconds") if isinstance(k.get(x), int | float)]
    if times:
        cards.append(("time", ", ".join(times), str(k.get("solver", "")), ""))
    if k.get("joint_vs_sequential"):
        cards.append(("joint vs plan-then-cut", str(k["joint_vs_sequential"]), "", ""))
    return '<div class="kpis">' + "".join(
        f'<div class="kpi {css}"><div class="k">{html.escape(lab)}</div><div class="v">{html.escape(val)}</div>'
        + (f'<div class="n">{html.escape(note)}</div>' if note else "") + "</div>"
        for lab, val, note, css in cards) + "</div>"


def _limits_section(out: Output, top: int) -> str:
    lim = out.table("limits")
    if "limits" not in out.tables:
        return ('<p class="note">No limits.csv in this folder: solve with <code>--sensitivity</code> to rank what limits '
                "the plan and what relaxing each limit is worth.</p>")
    if lim.empty:
        return '<p class="note">No binding limit: every constraint a planner can relax has slack.</p>'
    df = lim.head(top).copy()
    df.insert(0, "rank", range(1, len(df) + 1))
    cols = [c for c in ("rank", "family", "text", "value_of_step", "value_basis", "step") if c in df]
    note = (f'<p class="note">Top {len(df)} of {len(lim):,} binding limits, ranked by the value of relaxing each by '
            "the step shown: <em>measured</em> = the profit of the plan re-solved with that step minus this plan's; "
            "<em>lower_bound</em> = shadow price × the part of the step the price holds for (the step is worth at "
            "least that; not re-solved). Shadow prices hold for the plan's setup and order pattern; "
            "<code>prodbudget sweep</code> measures larger changes exactly.</p>")
    return note + html_table(df, out.currency, "limits", None, "lim", cols)


def build_report(folder: str | Path, max_rows: int = 40, top_limits: int = 15) -> str:
    """The report page as one HTML string (charts embedded, no external reference)."""
    out = read_output(folder)
    font = formatting.cjk_font()
    charts: list[tuple[str, str, str]] = []  # (anchor, caption, base64 png)
    with chart_style({"axes.spines.top": False, "axes.spines.right": False}) as label:
        for anchor, caption, make in (
            ("capacity", "Capacity utilisation by resource and month.", lambda: chart_capacity(out, label)),
            ("stock", "Closing stock of the main products against the safety target and the warehouse limit.", lambda: chart_stock(out, label)),
            ("cash", "Closing cash per month against the required minimum; bars: loan balance drawn.", lambda: chart_cash(out)),
            ("budget", "Budget allocated and spent per line and month, with the per-period ceiling.", lambda: chart_budget(out, label)),
            ("pnl", "Profit and loss per month (accrual: revenue at shipment, purchases at order).", lambda: chart_pnl(out)),
        ):
            fig = make()
            if fig is not None:
                charts.append((anchor, caption, _png(fig)))
    k = out.kpis
    title = f"{k.get('name') or out.folder.name} · scenario {k.get('scenario', 'base')}"
    service = service_section(out)
    rolled = roll_sections(out, max_rows)
    nav = (['<a href="#kpis">KPIs</a>'] + (['<a href="#service">demand not served</a>'] if service else [])
           + [f'<a href="#chart-{a}">{a}</a>' for a, _, _ in charts] + ['<a href="#limits">limits</a>']
           + (['<a href="#replan">re-plan changes</a>'] if any(t in out.tables for t in REPLAN_TABLES) else [])
           + (['<a href="#variance">plan vs actual</a>'] if any(t in out.tables for t in VARIANCE_TABLES) else [])
           + ['<a href="#tables">plan tables</a>'])
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>prodbudget plan report · {html.escape(title)}</title>", f"<style>{CSS}</style></head><body><main>",
        f"<h1>Plan report · {html.escape(title)}</h1>",
        f'<div class="sub">{len(out.periods)} periods ({html.escape(out.periods[0] if out.periods else "")} – '
        f'{html.escape(out.periods[-1] if out.periods else "")}) · currency {html.escape(out.currency)} · '
        f'instance {html.escape(str(k.get("instance", "")))} · fingerprint {html.escape(str(k.get("fingerprint", "")))} · '
        f"report {dt.datetime.now():%Y-%m-%d %H:%M}</div>",
        "<nav>" + "".join(nav) + "</nav>",
        '<h2 id="kpis">Key figures</h2>', _kpi_cards(out),
    ]
    if font is None:
        parts.append('<p class="note">No CJK font was found for the charts: item names are shown by their Latin part '
                     "(install e.g. fonts-noto-cjk for the full names). The tables show the full names.</p>")
    if service:
        parts += ['<h2 id="service">Demand not served</h2>', service]
    if "comparison" in out.tables:
        parts += ["<h3>Joint plan against plan-then-cut</h3>", html_table(out.tables["comparison"], out.currency, "comparison")]
    parts.append("<h2>Charts</h2>")
    for anchor, caption, png in charts:
        parts.append(f'<figure id="chart-{anchor}"><img alt="{html.escape(anchor)} chart" '
                     f'src="data:image/png;base64,{png}"><figcaption>{html.escape(caption)}</figcaption></figure>')
    parts += ['<h2 id="limits">What limits the plan</h2>', _limits_section(out, top_limits)]
    parts += rolled
    parts.append('<h2 id="tables">Plan tables</h2>')
    parts.append('<p class="note"><span class="key" style="background:#fce4d6"></span>at a limit: capacity used '
                 "≥ 99.9 %, budget at its ceiling, cash at its minimum; sales rows lost or late are marked in the sales "
                 "table.</p>")
    for name in PLAN_TABLES:
        if name in out.tables:
            parts.append(plan_table_section(out, name, max_rows))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write_report(folder: str | Path, html_path: str | Path, max_rows: int = 40, top_limits: int = 15,
                 force: bool = True) -> Path:
    """Write the report page atomically (temporary sibling + rename; `solver.io.writers`)."""
    from solver.io.writers import write_file_atomically

    text = build_report(folder, max_rows=max_rows, top_limits=top_limits)
    return write_file_atomically(html_path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=force)
