"""`prodbudget report`: one self-contained HTML page from a solve output folder (issue 7)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import TINY, prodbudget

from solver.present.formatting import label_maker
from solver.present.report import (
    ReportError,
    build_report,
    main_products,
    read_output,
    write_report,
)

CHARTS = ("capacity", "stock", "cash", "budget", "pnl")
PERIODS = ["2027-01", "2027-02", "2027-03"]


def write_output(folder: Path, limits: bool = True, long_rows: int = 0) -> Path:
    """A solve output folder by hand (the columns `solve --out` writes), with Chinese names."""
    folder.mkdir()
    summary = {"name": "冰箱厂 demo", "scenario": "base", "status": "optimal", "message": "optimal",
               "currency": "CNY", "objective": 12345.6, "bound": 12350.0, "gap": 0.0004, "revenue": 50000.0,
               "service_level": 0.98, "units_demanded": 100.0, "units_lost": 2.0, "min_cash_headroom": 0.0,
               "min_cash_period": "2027-02", "max_loan": 800.0, "peak_utilisation": 1.0,
               "peak_resource": "总装线 L1", "peak_period": "2027-02", "budget_at_period_ceiling": ["procurement 2027-01"],
               "budget_at_line_ceiling": [], "emergency_drawn": 0.0, "periods": PERIODS}
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    t = range(1, 4)
    tables = {
        "capacity": pd.DataFrame({"resource": ["总装线 L1"] * 3 + ["冲压 P2"] * 3, "plant": "顺德", "period": PERIODS * 2,
                                  "t": list(t) * 2, "capacity": 100.0, "reserved": 0.0, "available": 100.0,
                                  "used": [50, 100, 80, 10, 20, float("nan")], "overtime": 0.0, "overtime_max": 0.0,
                                  "utilisation": [0.5, 1.0, 0.8, 0.1, 0.2, float("nan")]}),
        "inventory": pd.DataFrame({"item": ["冰箱 RF-300"] * 3 + ["钢板 steel"] * 3, "kind": ["product"] * 3 + ["material"] * 3,
                                   "period": PERIODS * 2, "t": list(t) * 2, "opening": 0.0, "open_orders": 0.0,
                                   "closing": [5, 3, 8, 1, 1, 1], "target_min": [4, 4, 4, 0, 0, 0],
                                   "target_max": [10, 10, 10, float("inf"), float("inf"), float("inf")],
                                   "shortfall": [0, 1, 0, 0, 0, 0], "unit_cost": 10.0, "value": 1.0}),
        "sales": pd.DataFrame({"product": "冰箱 RF-300", "channel": "电商", "period": PERIODS, "t": list(t), "demand": 30.0,
                               "shipped": 29.0, "backlog": 0.0, "lost": 1.0, "service": "lost", "price": 500.0,
                               "revenue": 14500.0}),
        "cash": pd.DataFrame({"period": PERIODS, "t": list(t), "opening": 1000.0, "receipts": 500.0, "pay_materials": 100.0,
                              "interest": 0.0, "borrowing": [0, 800, -800], "loan": [0, 800, 0],
                              "closing": [1500, 1000, 1700], "minimum": 1000.0, "headroom": [500, 0, 700]}),
        "budget": pd.DataFrame({"line": ["procurement"] * 3 + ["production"] * 3, "period": PERIODS * 2, "t": list(t) * 2,
                                "ceiling": [100, float("inf"), float("inf")] * 2, "allocated": [100, 50, 20, 5, 5, 5],
                                "spent": [100, 40, 20, 5, 5, 5], "emergency": 0.0,
                                "line_ceiling": [500.0] * 3 + [float("inf")] * 3, "carryover": [True] * 3 + [False] * 3}),
        "pnl": pd.DataFrame({"period": PERIODS, "t": list(t), "revenue": 14500.0, "purchases": 3000.0, "production": 2000.0,
                             "setup": 0.0, "holding": 10.0, "lost": 50.0, "interest": 0.0, "overhead": 1000.0,
                             "terminal": [0, 0, 80.0], "profit": [8440.0, 8440.0, 8520.0]}),
        "production": pd.DataFrame({"item": "冰箱 RF-300", "routing": "main", "period": (PERIODS * 40)[: max(3, long_rows)],
                                    "t": 1, "quantity": 10.5}),
        "balances": pd.DataFrame({"cash": [1700.0], "receivables": [10.0], "payables": [5.0], "stock_value": [80.0], "loan": [0.0]}),
    }
    if limits:
        tables["limits"] = pd.DataFrame({
            "family": ["capacity", "minimum cash"], "entity": ["总装线 L1", ""], "period": ["2027-02", "2027-02"],
            "rhs": [100.0, 1000.0], "shadow_price": [12.5, 0.3], "step": ["one day", "10 %"], "step_size": [3.3, 100.0],
            "value_of_step": [41.7, 30.0], "valid_range": [5.0, 50.0],
            "text": ["capacity 总装线 L1, 2027-02: +1 hour is worth ¥12.50", "minimum cash, 2027-02: ¥0.30 per ¥1"]})
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    return folder

def test_report_is_one_self_contained_page(tmp_path):
    page = build_report(write_output(tmp_path / "out"))
    refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)', page)
    assert refs, "the page has its images and navigation"
    assert all(r.startswith(("data:", "#")) for r in refs), [r for r in refs if not r.startswith(("data:", "#"))]
    assert "<link" not in page and "<script" not in page and "@import" not in page and "url(" not in page
    assert page.count('src="data:image/png;base64,') == len(CHARTS)
    for chart in CHARTS:
        assert f'id="chart-{chart}"' in page

def test_report_holds_kpis_limits_and_plan_tables(tmp_path):
    page = build_report(write_output(tmp_path / "out"), top_limits=1)
    assert "¥12,346" in page and "98.0%" in page  # profit and service level
    assert 'id="limits"' in page and "+1 hour is worth ¥12.50" in page
    assert "minimum cash, 2027-02" not in page  # only the top 1
    for name in ("production", "sales", "inventory", "capacity", "budget", "cash", "pnl", "balances"):
        assert f'id="table-{name}"' in page
    assert "冰箱 RF-300" in page and "总装线 L1" in page  # names untouched in the tables
    assert '<tr class="bind">' in page  # the capacity row at 100 %, cash at its minimum

def test_long_tables_are_truncated_with_a_note(tmp_path):
    page = build_report(write_output(tmp_path / "out", long_rows=100), max_rows=25)
    assert "Showing the first 25 of 100 rows" in page and "production.csv" in page

def test_without_limits_the_page_says_how_to_get_them(tmp_path):
    page = build_report(write_output(tmp_path / "out", limits=False))
    assert "--sensitivity" in page

def test_missing_or_foreign_folder_is_a_report_error(tmp_path):
    with pytest.raises(ReportError):
        read_output(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="summary.json"):
        read_output(tmp_path / "empty")
    run = prodbudget("report", tmp_path / "empty", "--html", tmp_path / "r.html")
    assert run.returncode == 2 and "summary.json" in run.stderr
    assert not (tmp_path / "r.html").exists()

def test_main_products_by_revenue(tmp_path):
    out = read_output(write_output(tmp_path / "out"))
    assert main_products(out) == ["冰箱 RF-300"]  # products only, materials never

def test_chart_labels_fall_back_to_the_latin_part_without_a_cjk_font():
    latin = label_maker(False)
    assert latin("挂机空调 AC-12K") == "AC-12K"
    assert latin("plain name") == "plain name"
    assert latin("总装线") == "总装线"  # nothing Latin to show: kept
    assert label_maker(True)("挂机空调 AC-12K") == "挂机空调 AC-12K"

def test_report_renders_without_a_cjk_font(tmp_path, monkeypatch):
    import solver.present.formatting as formatting

    monkeypatch.setattr(formatting, "cjk_font", lambda: None)
    page = build_report(write_output(tmp_path / "out"))
    assert page.count("data:image/png;base64,") == len(CHARTS)
    assert "No CJK font" in page

def test_write_report_is_atomic_and_readable(tmp_path):
    html = write_report(write_output(tmp_path / "out"), tmp_path / "report.html")
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert html.stat().st_mode & 0o044  # not a private temp file
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

@pytest.mark.solver
def test_report_from_a_real_solve(tmp_path):
    out = tmp_path / "plan"
    run = prodbudget("solve", TINY / "capacity_overtime", "--out", out, "--sensitivity")
    assert run.returncode == 0, run.stderr
    html = tmp_path / "report.html"
    run = prodbudget("report", out, "--html", html)
    assert run.returncode == 0, run.stderr
    page = html.read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == len(CHARTS)
    assert "What limits the plan" in page and 'class="lim"' in page
    again = prodbudget("report", out, "--html", html)
    assert again.returncode == 2 and "exists" in again.stderr


# ------------------------------------------------------------------ issue 17: what stands out


def _rows_with_class(page: str, table_id: str, css: str) -> list[str]:
    """The rows of one table (after its heading) whose class holds `css`."""
    start = page.index(f'id="{table_id}"')
    end = page.index("</table>", start)
    return re.findall(rf'<tr class="[^"]*\b{css}\b[^"]*">(.*?)</tr>', page[start:end])


def test_lost_and_late_sales_stand_out(tmp_path):
    """A channel that loses its whole demand in a period (RF-300 e-commerce at 618) is named
    above a table of every row lost or late, and marked in the sales table."""
    folder = write_output(tmp_path / "out")
    sales = pd.read_csv(folder / "sales.csv")
    sales.loc[1, ["shipped", "lost", "revenue"]] = [0.0, 30.0, 0.0]  # 2027-02: all 30 lost
    late = sales.iloc[[2]].assign(channel="大客户", service="backlog", shipped=20.0, backlog=10.0, lost=0.0)
    pd.concat([sales, late]).to_csv(folder / "sales.csv", index=False)
    page = build_report(folder)
    assert 'id="service"' in page and 'href="#service"' in page
    alert = page[page.index('<div class="alert">'):page.index("</div>", page.index('<div class="alert">'))]
    assert "32 units lost" in alert and "1 row served late" in alert
    assert "冰箱 RF-300 · 电商 · 2027-02: all 30 units" in alert
    service = page[page.index('id="service"'):page.index('id="chart-capacity"')]
    rows = re.findall(r'<tr class="([^"]*)">', service)
    assert rows == ["lost-all", "lost", "lost", "late"]  # by revenue lost, then the late row
    assert "100.0%" in service and "¥15,000" in service  # share lost and revenue lost (30 × ¥500)
    assert len(_rows_with_class(page, "table-sales", "lost-all")) == 1
    assert len(_rows_with_class(page, "table-sales", "late")) == 1


def test_everything_served_says_so(tmp_path):
    folder = write_output(tmp_path / "out")
    sales = pd.read_csv(folder / "sales.csv").assign(lost=0.0, shipped=30.0)
    sales.to_csv(folder / "sales.csv", index=False)
    assert "nothing lost, nothing late" in build_report(folder)


def _wide_headers(page: str, table_id: str) -> list[str]:
    start = page.index(f'id="{table_id}"')
    head = page[page.index("<thead>", start):page.index("</thead>", start)]
    return re.findall(r"<th>(.*?)</th>", head)


def test_cash_and_pnl_fit_a_screen_key_columns_first_in_thousands(tmp_path):
    """Closing cash, minimum and headroom were off-screen to the right: they come first, the
    model's period number and columns zero in every period go, and yuan-sized money is shown in
    thousands (said above the table)."""
    folder = write_output(tmp_path / "out")
    cash = pd.read_csv(folder / "cash.csv")
    for col in ("opening", "receipts", "pay_materials", "closing", "minimum", "headroom", "borrowing", "loan"):
        cash[col] = cash[col] * 1000.0  # ¥ millions
    cash["pay_ordering"] = 0.0
    cash.to_csv(folder / "cash.csv", index=False)
    page = build_report(folder)
    headers = _wide_headers(page, "table-cash")
    assert headers[:4] == ["period", "closing", "minimum", "headroom"] and "t" not in headers
    assert "pay ordering" not in headers and "interest" not in headers
    section = page[page.index('id="table-cash"'):page.index('id="table-pnl"')]
    assert "Amounts in thousands of CNY" in section and "not shown: interest, pay_ordering" in section
    assert ">1,500<" in section and "¥1,500,000" not in section  # closing 1.5M in thousands
    pnl = _wide_headers(page, "table-pnl")
    assert pnl[:3] == ["period", "profit", "revenue"]
    assert "thousands" not in page[page.index('id="table-pnl"'):page.index('id="table-balances"')]  # small money stays ¥


def test_rows_are_counted_in_words(tmp_path):
    page = build_report(write_output(tmp_path / "out"))
    assert "(1 row)" in page and "(1 rows)" not in page and "(3 rows)" in page


def test_stock_chart_has_no_bar_where_there_is_no_stock(tmp_path):
    """A period with no stock below its target was a hatched bar up to the target, which reads
    as full; it is now a marker on the axis labelled 0, and a period below target a red bar."""
    from solver.present.report import chart_stock

    folder = write_output(tmp_path / "out")
    inv = pd.read_csv(folder / "inventory.csv")
    inv.loc[1, ["closing", "shortfall"]] = [0.0, 4.0]  # RF-300, 2027-02: empty, target 4
    inv.loc[2, ["closing", "shortfall"]] = [3.0, 1.0]  # 2027-03: below target
    inv.to_csv(folder / "inventory.csv", index=False)
    fig = chart_stock(read_output(folder), str)
    ax = fig.axes[0]
    bars = {round(p.get_x() + p.get_width() / 2): (p.get_height(), p.get_facecolor()) for p in ax.patches}
    assert all(not p.get_hatch() for p in ax.patches)
    assert 1 not in bars or bars[1][0] == 0  # nothing drawn up to the target in the empty period
    assert bars[2][0] == 3.0 and bars[0][0] == 5.0 and bars[2][1] != bars[0][1]  # below target: another colour
    assert "0" in [t.get_text() for t in ax.texts]
    legend = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert "no stock (0 units) below target" in legend and "closing stock below the safety target" in legend


def test_budget_chart_legend_names_the_emergency_budget(tmp_path):
    """The emergency entry was in the legend of the first line's panel only, so it went
    missing when another line drew the emergency budget."""
    from solver.present.report import chart_budget

    folder = write_output(tmp_path / "out")
    bud = pd.read_csv(folder / "budget.csv")
    bud.loc[4, ["spent", "emergency"]] = [8.0, 3.0]  # production (second panel), 2027-02
    bud.to_csv(folder / "budget.csv", index=False)
    fig = chart_budget(read_output(folder), str)
    legend = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert {"allocated", "spent", "period ceiling", "of which emergency"} <= set(legend)
    assert all(ax.get_legend() is None for ax in fig.axes)  # one legend for every panel


def test_report_of_a_roll_output_shows_the_plan_diff_and_plan_versus_actual(tmp_path):
    folder = write_output(tmp_path / "out")
    pd.DataFrame({"item": ["冰箱 RF-300"], "routing": ["main"], "period": ["2027-03"], "t": [3], "previous": [10.0],
                  "replan": [14.0], "change": [4.0], "frozen": [False]}).to_csv(folder / "diff_production.csv", index=False)
    pd.DataFrame({"line": ["procurement"], "period": ["2027-01"], "planned": [100.0], "actual": [120.0],
                  "variance": [20.0], "variance_pct": [0.2]}).to_csv(folder / "variance_budget.csv", index=False)
    page = build_report(folder)
    for anchor in ('id="replan"', 'id="variance"', 'id="table-diff_production"', 'id="table-variance_budget"',
                   'href="#replan"', 'href="#variance"'):
        assert anchor in page, anchor
    variance = page[page.index('id="table-variance_budget"'):]
    assert "20.0%" in variance  # variance_pct as a percentage
    assert 'id="replan"' not in build_report(write_output(tmp_path / "plain"))


@pytest.mark.solver
def test_report_of_a_real_roll_output(tmp_path):
    from solver.cli.main import main

    instance = TINY / "rolling_basic"
    assert main(["solve", str(instance), "--out", str(tmp_path / "base")]) == 0
    assert main(["roll", str(instance), "--baseline", str(tmp_path / "base"), "--actuals", str(instance / "actuals"),
                 "--from", "2027-02", "--out", str(tmp_path / "rolled")]) == 0
    page = build_report(tmp_path / "rolled")
    assert 'id="variance"' in page and 'id="table-variance_budget"' in page and 'id="table-variance_sales"' in page
    assert 'id="replan"' in page and 'id="table-diff_production"' in page
