"""The result workbook as a planner reads it (issue 17, *Result workbook*): money in ¥, 万 or 百万
(the cells keep the full amounts), quantities without float dust, month-across sheets beside
the long ones, carry-over lines' running totals, only limits marked (with a legend), and
`--xlsx` on roll, compare and insert."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from solver.cli.main import main
from solver.engine.pipeline import solve
from solver.io.loading import load_instance
from solver.io.month_across import month_across
from solver.io.workbook import clean_number, money_display, result_workbook, result_workbook_for

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "instances" / "tiny"
PERIODS = ["2027-01", "2027-02", "2027-03"]
ORANGE = "00FCE4D6"


def _header(ws, row: int = 1) -> list:
    return [c.value for c in ws[row]]


def _column(ws, name: str, row: int = 1) -> list:
    col = _header(ws, row).index(name) + 1
    return [ws.cell(row=r, column=col) for r in range(row + 1, ws.max_row + 1)]


def _plan(scale: float = 1.0) -> dict[str, pd.DataFrame]:
    """Plan tables by hand; money × `scale`."""
    t = [1, 2, 3]
    return {
        "production": pd.DataFrame({"item": ["P"] * 3 + ["M"] * 2, "routing": "main", "period": PERIODS + PERIODS[:2],
                                    "t": t + t[:2], "quantity": [51755.00000000001, 10.0, 4420.000000000002, 7.5, 2.0],
                                    "variable_cost": [1000.0 * scale] * 5}),
        "sales": pd.DataFrame({"product": "P", "channel": "shop", "period": PERIODS, "t": t, "demand": [10.0, 20, 30],
                               "shipped": [10.0, 15, 30], "backlog": 0.0, "lost": [0.0, 5, 0], "service": "lost",
                               "price": [12.5, 12.5, 12.5], "revenue": [125.0 * scale, 187.5 * scale, 375.0 * scale]}),
        "budget": pd.DataFrame({"line": ["procurement"] * 3 + ["production"] * 3, "period": PERIODS * 2, "t": t * 2,
                                "ceiling": [100.0 * scale] * 3 + [50.0 * scale, math.inf, 50.0 * scale],
                                "allocated": [100.0 * scale, 80 * scale, 20 * scale, 50 * scale, 10 * scale, 5 * scale],
                                "spent": [60.0 * scale, 110 * scale, 30 * scale, 50 * scale, 10 * scale, 5 * scale],
                                "emergency": 0.0, "line_ceiling": [400.0 * scale] * 3 + [math.inf] * 3,
                                "carryover": [True] * 3 + [False] * 3}),
        "capacity": pd.DataFrame({"resource": "L", "plant": "", "period": PERIODS, "t": t, "capacity": 100.0,
                                  "reserved": 0.0, "available": 100.0, "used": [100.0, 50, 99.95], "overtime": 0.0,
                                  "overtime_max": 0.0, "utilisation": [1.0, 0.5, 0.9995]}),
        "cash": pd.DataFrame({"period": PERIODS, "t": t, "closing": [5e3 * scale, 1e3 * scale, 2e3 * scale],
                              "minimum": 1e3 * scale, "headroom": [4e3 * scale, 0.0, 1e3 * scale]}),
    }


KPIS = {"name": "hand", "scenario": "base", "currency": "CNY", "objective": 1234.5, "periods": PERIODS}


# ------------------------------------------------------------------ money and numbers


def test_money_displays_and_the_default_by_size():
    assert money_display("CNY", "yuan").amount == '"¥"#,##0.00;-"¥"#,##0.00'
    assert money_display("CNY", "yuan", largest=5e6).amount == '"¥"#,##0;-"¥"#,##0'  # no cents on millions
    assert money_display("CNY", "wan").amount == '"¥"0!.0,"万";-"¥"0!.0,"万"'
    assert money_display("CNY", "million").amount == '"¥"#,##0.00,,"百万";-"¥"#,##0.00,,"百万"'
    assert money_display("CNY", largest=9.77e8).name == "wan"  # the appliance's revenue
    assert money_display("USD", largest=9.77e8).name == "million"
    assert money_display("CNY", largest=2.5e6).name == "yuan"
    with pytest.raises(ValueError, match="wan"):
        money_display("CNY", "lakh")


@pytest.mark.parametrize("display", ["yuan", "wan", "million"])
def test_amounts_take_the_display_prices_stay_per_unit_and_cells_hold_full_amounts(display):
    wb = result_workbook(_plan(scale=1e6), KPIS, money=display)
    want = money_display("CNY", display, largest=5e9).amount
    closing = _column(wb["cash"], "closing")
    assert [c.value for c in closing] == [5e9, 1e9, 2e9]  # never divided
    assert all(c.number_format == want for c in closing)
    assert all(c.number_format == want for c in _column(wb["sales"], "revenue"))
    assert all(c.number_format == '"¥"#,##0.00##;-"¥"#,##0.00##' for c in _column(wb["sales"], "price"))
    note = wb["summary"]["A2"].value
    assert note.startswith("amounts shown in") and ({"wan": "万", "million": "百万"}.get(display, "CNY") in note)


def test_default_money_display_goes_by_the_plan_size():
    assert "万" in _column(result_workbook(_plan(scale=1e6), KPIS)["cash"], "closing")[0].number_format
    assert _column(result_workbook(_plan(), KPIS)["cash"], "closing")[0].number_format == '"¥"#,##0.00;-"¥"#,##0.00'


def test_quantities_within_tolerance_of_a_whole_number_are_whole():
    assert clean_number(51755.00000000001) == 51755 and isinstance(clean_number(51755.00000000001), int)
    assert clean_number(2.9999999999) == 3 and clean_number(1e-9) == 0
    assert clean_number(7.5) == 7.5 and clean_number(39244630.80812043) == 39244630.80812043
    wb = result_workbook(_plan(), KPIS)
    values = [c.value for c in _column(wb["production"], "quantity")]
    assert values == [51755, 10, 4420, 7.5, 2] and isinstance(values[0], int) and isinstance(values[2], int)


# ------------------------------------------------------------------ month across


def _read_across(ws) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def test_month_across_sheets_sit_beside_the_long_ones_and_hold_their_values():
    tables = _plan()
    wb = result_workbook(tables, KPIS)
    names = wb.sheetnames
    for name in ("production", "sales", "budget", "capacity"):
        assert names.index(f"{name} by month") == names.index(name) + 1
    prod = _read_across(wb["production by month"])
    assert list(prod.columns) == ["item", "routing", "measure", *PERIODS, "total"]
    long = tables["production"].pivot_table(index="item", columns="period", values="quantity", aggfunc="sum").fillna(0)
    for row in prod.itertuples(index=False):
        got = [getattr(row, f"_{3 + k}") for k in range(3)]
        assert got == pytest.approx([clean_number(v) for v in long.loc[row.item, PERIODS]])
        assert row.total == pytest.approx(sum(got))
    sales = _read_across(wb["sales by month"]).set_index("measure")
    for measure in ("demand", "shipped", "lost"):
        assert list(sales.loc[measure, PERIODS]) == list(tables["sales"][measure])
    cap = _read_across(wb["capacity by month"]).set_index("measure")
    assert list(cap.loc["used", PERIODS]) == list(tables["capacity"]["used"])
    assert cap.loc["utilisation", "total"] == pytest.approx(249.95 / 300)  # the year's used ÷ available
    ws = wb["capacity by month"]  # full months marked cell by cell, with the legend
    util_row = 2 + list(cap.index).index("utilisation")
    fills = [ws.cell(row=util_row, column=3 + k).fill.fgColor.rgb for k in range(3)]  # after resource, measure
    assert fills == [ORANGE, "00000000", ORANGE]
    assert any("orange cells" in str(c.value) for c in ws[1])
    assert ws.cell(row=util_row, column=3).number_format == "0.0%"


def test_carry_over_lines_show_running_totals():
    """procurement carries over: it spends 110 in February against an allocation of 80, never
    more than it was allocated so far (100 + 80 − 60 left after January)."""
    wb = result_workbook(_plan(), KPIS)
    bud = _read_across(wb["budget by month"])
    proc = bud[bud["line"].eq("procurement")].set_index("measure")
    assert list(proc.index) == ["ceiling", "allocated", "spent", "emergency", "allocated, cumulative",
                                "spent, cumulative", "carried over"]
    assert list(proc.loc["allocated, cumulative", PERIODS]) == [100, 180, 200]
    assert list(proc.loc["spent, cumulative", PERIODS]) == [60, 170, 200]
    assert list(proc.loc["carried over", PERIODS]) == [40, 10, 0]
    assert "carried over" not in set(bud.loc[bud["line"].eq("production"), "measure"])  # no carry-over
    assert bud.set_index(["line", "measure"]).loc[("production", "ceiling"), "total"] == "inf"  # a month without one
    long = wb["budget"]
    assert [c.value for c in _column(long, "carried_over")] == [40, 10, 0, None, None, None]
    alloc_row = 2 + list(bud["measure"]).index("allocated")
    ws = wb["budget by month"]
    assert ws.cell(row=alloc_row, column=3).fill.fgColor.rgb == ORANGE  # January allocated at its ceiling
    assert ws.cell(row=alloc_row, column=4).fill.fgColor.rgb != ORANGE


def test_plan_sheets_mark_limits_with_a_legend():
    wb = result_workbook(_plan(), KPIS)
    ws = wb["capacity"]
    marked = [c.fill.fgColor.rgb == ORANGE for c in _column(ws, "resource")]
    assert marked == [True, False, True]
    assert any(str(c.value).startswith("orange rows") for c in ws[1])
    assert not any(str(c.value).startswith("orange rows") for c in wb["production"][1])


@pytest.mark.solver
def test_month_across_of_a_solved_plan_equals_its_long_tables():
    result = solve(load_instance(TINY / "budget_carryover_true"))
    across = month_across(result.tables)
    bud, long = across["budget"], result.tables["budget"]
    for line in long["line"].unique():
        rows = bud[bud["line"].eq(line)].set_index("measure")
        mine = long[long["line"].eq(line)].sort_values("t")
        assert list(rows.loc["allocated", mine["period"]]) == pytest.approx(list(mine["allocated"]))
        if str(mine["carryover"].iloc[0]).lower() == "true":
            carried = rows.loc["carried over", mine["period"]].to_numpy(dtype=float)
            assert (carried >= -1e-6).all()  # never spent more than allocated so far
            assert carried == pytest.approx(np.cumsum(mine["allocated"]) - np.cumsum(mine["spent"]))
    wb = result_workbook_for(result, money="yuan")
    assert "budget by month" in wb.sheetnames


# ------------------------------------------------------------------ --xlsx on roll, compare and insert


@pytest.mark.solver
def test_roll_compare_and_insert_write_workbooks(tmp_path):
    rolling = TINY / "rolling_basic"
    assert main(["solve", str(rolling), "--out", str(tmp_path / "base")]) == 0
    assert main(["roll", str(rolling), "--baseline", str(tmp_path / "base"), "--actuals", str(rolling / "actuals"),
                 "--from", "2027-02", "--xlsx", str(tmp_path / "roll.xlsx"), "--money", "yuan"]) == 0
    wb = openpyxl.load_workbook(tmp_path / "roll.xlsx")
    assert wb.sheetnames[0] == "summary" and "variance_budget" in wb.sheetnames and "diff_production" in wb.sheetnames
    assert "budget by month" in wb.sheetnames

    scen = TINY / "scenarios_demand"
    assert main(["compare", str(scen), "--scenarios", "low,base,high", "--xlsx", str(tmp_path / "cmp.xlsx")]) == 0
    wb = openpyxl.load_workbook(tmp_path / "cmp.xlsx")
    assert wb.sheetnames == ["summary", "comparison", "scenarios"]
    ws = wb["comparison"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    assert rows["profit"][1].value == pytest.approx(416) and "¥" in rows["profit"][1].number_format
    assert rows["service_level"][1].number_format == "0.0%"
    # --robust: the workbook carries the commit plan and the value of the stochastic solution of the folder
    assert main(["compare", str(scen), "--scenarios", "low,base,high", "--robust", "--out", str(tmp_path / "rob"),
                 "--xlsx", str(tmp_path / "rob.xlsx")]) == 0
    wb = openpyxl.load_workbook(tmp_path / "rob.xlsx")
    assert wb.sheetnames == ["summary", "comparison", "scenarios", "commit plan"]
    assert wb["commit plan"].max_row - 1 == len(pd.read_csv(tmp_path / "rob" / "commit_plan.csv"))
    figures = {r[2].value: r[1].value for r in wb["summary"].iter_rows(min_row=4)}
    summary = json.loads((tmp_path / "rob" / "summary.json").read_text(encoding="utf-8"))
    assert figures["expected profit the robust plan adds (VSS)"] == pytest.approx(summary["value_of_stochastic_solution"])
    assert figures["expected profit committing to base's plan"] == pytest.approx(
        summary["expected_profit_committing_reference"])

    rush = TINY / "rush_basic"
    assert main(["solve", str(rush), "--out", str(tmp_path / "rbase")]) == 0
    periods = load_instance(rush).periods
    code = main(["insert", str(rush), "--baseline", str(tmp_path / "rbase"), "--product", "widget", "--quantity", "5",
                 "--due", periods[-1], "--xlsx", str(tmp_path / "rush.xlsx")])
    assert code in (0, 1)
    wb = openpyxl.load_workbook(tmp_path / "rush.xlsx")
    assert wb.sheetnames[:2] == ["summary", "answer"]
    fields = {r[0].value: r[1].value for r in wb["answer"].iter_rows(min_row=2)}
    assert "decision" in fields and "feasible" in fields


@pytest.mark.parametrize("command", [["roll", "--baseline", "B", "--actuals", "A", "--from", "2"],
                                     ["compare"], ["insert", "--baseline", "B", "--product", "P", "--quantity", "1",
                                                   "--due", "1"]])
def test_xlsx_name_is_checked_before_any_work(command, tmp_path, capsys):
    args = [command[0], str(TINY / "rolling_basic"), *command[1:], "--xlsx", str(tmp_path / "out.csv")]
    assert main(args) == 2
    assert ".xlsx" in capsys.readouterr().err and not (tmp_path / "out.csv").exists()
