"""Loading valid instances: defaults, completions, dtypes, workbooks, encodings (docs/model.md §2)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from helpers import MINI_TABLES, folder_to_workbook, write_instance, write_mini

from solver.io.instance import Instance
from solver.io.loading import load_instance, validate
from solver.io.problems import InputError, Problem
from solver.io.schema import TABLES

MINI_SETTINGS = [
    ("name", "mini"),
    ("currency", "CNY"),
    ("periods", "2027-01, 2027-02, 2027-03"),
    ("cash.initial", 1000),
    ("cash.credit_limit", 500),
]


def test_valid_folder_loads_with_settings(mini: Instance) -> None:
    assert mini.name == "mini" and mini.currency == "CNY"
    assert mini.periods == ("2027-01", "2027-02", "2027-03") and mini.n == 3
    assert mini.cash.initial == 1000.0 and mini.cash.credit_limit == 500.0
    assert mini.cash.min_balance == 0.0  # docs/model.md §7 default
    assert mini.budget.pool == math.inf
    assert mini.scenario == "base" and mini.scenarios == ("base",)
    assert len(mini.fingerprint) == 16


def test_every_table_has_every_column_with_schema_dtypes(mini: Instance) -> None:
    for spec in TABLES:
        df = mini.tables[spec.name]
        expected = list(spec.column_names)
        if "period" in expected:
            expected.insert(expected.index("period") + 1, "t")
            assert df["t"].dtype == "int64"
        assert list(df.columns) == expected, spec.name
        for col in spec.columns:
            kind = {"float": "f", "int": "i", "bool": "b"}.get(col.dtype)
            if kind:
                assert df[col.name].dtype.kind == kind, (spec.name, col.name)
            else:
                assert pd.api.types.is_string_dtype(df[col.name]), (spec.name, col.name)
        assert list(df.index) == list(range(len(df)))


def test_defaults_are_filled(mini: Instance) -> None:
    items = mini.items.set_index("item")
    assert items.loc["bike", "holding_cost"] == 0.0
    assert math.isnan(items.loc["bike", "safety_penalty"])  # blank = hard safety stock
    assert items.loc["steel", "terms"] == "net30" and items.loc["steel", "budget_line"] == "procurement"
    assert items.loc["bike", "max_stock"] == math.inf and items.loc["frame", "max_stock"] == 100.0
    assert set(mini.routings["routing"]) == {"main"}
    assert mini.demand["scenario"].eq("base").all()
    assert list(mini.demand["t"]) == [1, 2, 3]


def test_completions(mini: Instance) -> None:
    channels = mini.channels.set_index("channel")
    assert list(channels.index) == ["retail", "web"]  # web is named only in demand
    assert channels.loc["web", "service"] == "lost" and channels.loc["web", "terms"] == "cash"
    terms = mini.terms
    assert terms[terms["terms"] == "cash"][["lag", "share"]].values.tolist() == [[0, 1.0]]
    lines = mini.budget_lines.set_index("line")
    assert list(lines.index) == ["procurement", "production", "finishing"]
    assert lines["ceiling"].eq(math.inf).all() and not lines["carryover"].any()
    resources = mini.resources.set_index("resource")
    assert resources.loc["line1", "plant"] == "line1"
    assert resources.loc["line1", "budget_line"] == "production"
    bom = mini.bom.set_index(["parent", "child"])["quantity"]
    assert bom[("frame", "steel")] == 3.0 and len(bom) == 2  # repeated BOM rows add up


def test_user_cash_terms_and_budget_lines_are_kept(tmp_path: Path) -> None:
    folder = write_mini(
        tmp_path,
        terms="terms,lag,share\nnet30,1,1\ncash,0,0.5\ncash,1,0.5\n",
        budget_lines="line,ceiling,carryover\nproduction,1000,true\n",
        budgets="line,period,ceiling\ncapex,2027-01,50\n",
    )
    inst = load_instance(folder)
    assert inst.terms[inst.terms["terms"] == "cash"]["share"].tolist() == [0.5, 0.5]
    lines = inst.budget_lines.set_index("line")
    assert list(lines.index) == ["production", "capex", "procurement", "finishing"]
    assert lines.loc["production", "ceiling"] == 1000.0 and bool(lines.loc["production", "carryover"])
    assert inst.budgets["t"].tolist() == [1]


def test_stock_targets_blank_means_item_defaults_and_open_orders_add(tmp_path: Path) -> None:
    folder = write_mini(
        tmp_path,
        stock_targets="item,period,min,max\nbike,2027-02,,\nframe,2027-03,5,\nbike,2027-03,,inf\n",
        open_orders="item,period,quantity\nsteel,2027-01,10\nsteel,2027-01,5\nframe,2027-02,1\n",
    )
    inst = load_instance(folder)
    targets = inst.stock_targets.set_index(["item", "period"])
    assert targets.loc[("bike", "2027-02")].tolist() == [2, 1.0, math.inf]
    assert targets.loc[("frame", "2027-03"), "max"] == 100.0
    assert inst.open_orders[["item", "t", "quantity"]].values.tolist() == [["steel", 1, 15.0], ["frame", 2, 1.0]]


def test_integer_periods_and_scenario_selection(tmp_path: Path) -> None:
    demand = """\
        product,channel,period,quantity,scenario
        bike,retail,1,10,
        bike,retail,2,12,high
        bike,retail,2,8,base
        """
    folder = write_mini(tmp_path, toml="periods = 2\n", demand=demand)
    inst = load_instance(folder, scenario="high")
    assert inst.periods == ("1", "2")
    assert inst.demand["quantity"].tolist() == [12.0] and inst.demand["t"].tolist() == [2]
    assert len(inst.all_demand) == 3 and inst.scenarios == ("base", "high")
    assert load_instance(folder).demand["quantity"].tolist() == [10.0, 8.0]


def test_routings_keep_file_order(tmp_path: Path) -> None:
    routings = """\
        item,routing,resource,hours_per_unit
        bike,b,paint,1
        frame,,line1,1
        bike,b,line1,1
        bike,a,line1,2
        """
    inst = load_instance(write_mini(tmp_path, routings=routings))
    assert inst.routings[["item", "routing", "resource"]].values.tolist() == [
        ["bike", "b", "paint"], ["frame", "main", "line1"], ["bike", "b", "line1"], ["bike", "a", "line1"]]


def test_blank_rows_are_ignored_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    demand = "product,channel,period,quantity\n\nbike,retail,2027-01,10\n,,,\nbike,retail,2027-02,-1\n"
    problems = validate(write_mini(tmp_path, demand=demand))
    assert [(p.file, p.row, p.column) for p in problems if p.is_error] == [("demand.csv", 5, "quantity")]


def test_utf8_bom_and_crlf_load(tmp_path: Path) -> None:
    folder = write_mini(tmp_path)
    text = (folder / "demand.csv").read_text(encoding="utf-8")
    (folder / "demand.csv").write_bytes(text.replace("\n", "\r\n").encode("utf-8-sig"))
    inst = load_instance(folder)
    assert list(inst.demand.columns[:2]) == ["product", "channel"] and len(inst.demand) == 3


def test_chinese_identifiers_load(tmp_path: Path) -> None:
    folder = write_instance(
        tmp_path,
        'periods = ["一月", "二月"]\n',
        items="item,kind\n空调,product\n压缩机,material\n",
        demand="product,channel,period,quantity\n 空调 ,京东,二月,5\n",
        bom="parent,child,quantity\n空调,压缩机,1\n",
        resources="resource,capacity,plant\n总装线,100,顺德工厂\n",
        routings="item,resource,hours_per_unit\n空调,总装线,1\n",
    )
    inst = load_instance(folder)
    assert inst.demand[["product", "channel", "period", "t"]].values.tolist() == [["空调", "京东", "二月", 2]]
    assert inst.channels["channel"].tolist() == ["京东"]
    assert inst.resources["plant"].tolist() == ["顺德工厂"]


def test_workbook_loads_to_the_same_tables(tmp_path: Path) -> None:
    folder = write_mini(
        tmp_path / "mini",
        budgets="line,period,ceiling\nproduction,2027-02,100\n",
        budget_lines="line,ceiling,carryover\nproduction,,TRUE\n",
    )
    book = folder_to_workbook(folder, tmp_path / "plan.xlsx", MINI_SETTINGS)
    a, b = load_instance(folder), load_instance(book)
    assert (b.name, b.periods, b.cash, b.budget, b.policy) == (a.name, a.periods, a.cash, a.budget, a.policy)
    for spec in TABLES:
        pd.testing.assert_frame_equal(a.tables[spec.name], b.tables[spec.name], obj=spec.name)
    pd.testing.assert_frame_equal(a.all_demand, b.all_demand)
    assert b.source == str(book) and b.fingerprint != a.fingerprint


def test_workbook_integer_periods(tmp_path: Path) -> None:
    folder = write_mini(tmp_path / "f", toml="periods = 3\n",
                        demand="product,channel,period,quantity\nbike,retail,3,1\n")
    book = folder_to_workbook(folder, tmp_path / "p.xlsx", [("periods", 3)])
    inst = load_instance(book)
    assert inst.periods == ("1", "2", "3") and inst.demand["t"].tolist() == [3]


def test_fingerprint_follows_the_bytes(tmp_path: Path) -> None:
    a = load_instance(write_mini(tmp_path / "a"))
    b = load_instance(write_mini(tmp_path / "b"))
    c = load_instance(write_mini(tmp_path / "c", demand=MINI_TABLES["demand"] + "        bike,web,2027-01,1,55\n"))
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert a.source == str(tmp_path / "a")
    assert load_instance(tmp_path / "a" / "instance.toml").fingerprint == a.fingerprint


def test_gbk_file_is_reported_as_not_utf8(tmp_path: Path) -> None:
    folder = write_mini(tmp_path)
    (folder / "items.csv").write_bytes("item,kind\n空调,product\n".encode("gbk"))
    problems = validate(folder)
    bad = [p for p in problems if p.file == "items.csv"]
    assert len(bad) == 1 and bad[0].row == 2 and "not UTF-8" in bad[0].message
    assert "byte offset 10" in bad[0].message and "UTF-8" in bad[0].expected
    with pytest.raises(InputError, match="items.csv, row 2"):
        load_instance(folder)


def test_input_error_lists_every_problem(tmp_path: Path) -> None:
    folder = write_mini(tmp_path, demand="product,channel,period,quantity\nbike,retail,2027-01,-1\nbike,retail,2027-09,x\n")
    with pytest.raises(InputError) as info:
        load_instance(folder)
    err = info.value
    assert len(err.errors) == 3
    text = str(err)
    assert text.startswith("the instance has 3 errors")
    assert "demand.csv, row 2, column 'quantity': -1 is negative (expected a number >= 0)" in text
    assert "demand.csv, row 3, column 'period'" in text and "demand.csv, row 3, column 'quantity'" in text


def test_problem_str() -> None:
    p = Problem("demand.csv", 7, "quantity", "-5 is negative", "a number >= 0")
    assert str(p) == "demand.csv, row 7, column 'quantity': -5 is negative (expected a number >= 0)"
    w = Problem("instance.toml", 3, "cash.initial_loan", "too big", severity="warning")
    assert str(w) == "warning: instance.toml, row 3, key 'cash.initial_loan': too big"
    assert str(Problem("items.csv", None, None, "required file is missing")) == "items.csv: required file is missing"


@pytest.mark.solver
def test_stock_targets_alone_drive_a_plan_without_demand(tmp_path: Path) -> None:
    """safety_hard without its demand rows: the closing stock of P must still be >= 3, so 3
    units are made in period 1 (unit cost 10) and held through both periods (holding 1):
    profit = -30 - 2 * 3 = -36."""
    from shutil import copytree

    from solver import Status, solve

    folder = copytree(Path(__file__).resolve().parents[1] / "instances" / "tiny" / "safety_hard", tmp_path / "i")
    (folder / "demand.csv").write_text("product,channel,period,quantity,price\n", encoding="utf-8")
    result = solve(load_instance(folder))
    assert result.status == Status.OPTIMAL, result.message
    assert result.objective == pytest.approx(-36.0)
    production = result.tables["production"]
    assert production["quantity"].sum() == pytest.approx(3.0)
