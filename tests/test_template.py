"""The planning workbook as a planner fills it (issue 17): drop-downs on every reference column
that read the workbook's own sheets, dates where a period label belongs, required and optional
headers told apart, a bilingual self-contained README sheet, and demand entered as a product ×
period grid."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import get_column_letter

from solver.engine.pipeline import solve
from solver.io.loading import load_instance, validate
from solver.io.problems import InputError
from solver.io.schema import INSTANCE_KEYS, INSTANCE_MAPS, TABLES
from solver.io.workbook import folder_to_workbook, workbook_to_folder, write_template

REPO = Path(__file__).resolve().parents[1]
APPLIANCE = REPO / "instances" / "appliance"
TINY = REPO / "instances" / "tiny"
MONTHS = [f"2027-{m:02d}" for m in range(1, 13)]


def prodbudget(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "solver.cli", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "plan.xlsx"
    result = prodbudget("template", "--out", path, "--periods", "2027-01..2027-12")
    assert result.returncode == 0, result.stderr
    return path


def _validation(ws, column: str):
    """The one list validation of a sheet's column (by header), or None."""
    letter = get_column_letter([c.value for c in ws[1]].index(column) + 1)
    found = [dv for dv in ws.data_validations.dataValidation
             if dv.type == "list" and any(str(r).startswith(f"{letter}2:") for r in dv.sqref.ranges)]
    assert len(found) <= 1, (ws.title, column)
    return found[0] if found else None


# (sheet, column) -> (sheet, column letter) its drop-down must read, and whether a value not in
# the list is refused ("stop") or questioned ("warning": the format lets the name stand alone)
REFERENCES = {
    ("demand", "product"): ("items", "A", "warning"),  # or a sales family
    ("demand", "channel"): ("channels", "A", "warning"),  # an undeclared channel gets the defaults
    ("demand", "period"): ("lists", "A", "stop"),
    ("demand_grid", "product"): ("items", "A", "warning"),
    ("demand_grid", "channel"): ("channels", "A", "warning"),
    ("items", "terms"): ("terms", "A", "warning"),  # `cash` is built in
    ("items", "budget_line"): ("budget_lines", "A", "warning"),
    ("channels", "terms"): ("terms", "A", "warning"),
    ("bom", "parent"): ("items", "A", "stop"),
    ("bom", "child"): ("items", "A", "stop"),
    ("resources", "budget_line"): ("budget_lines", "A", "warning"),
    ("capacity", "resource"): ("resources", "A", "stop"),
    ("capacity", "period"): ("lists", "A", "stop"),
    ("routings", "item"): ("items", "A", "stop"),
    ("routings", "resource"): ("resources", "A", "stop"),
    ("budgets", "line"): ("budget_lines", "A", "warning"),
    ("budgets", "period"): ("lists", "A", "stop"),
    ("cash_min", "period"): ("lists", "A", "stop"),
    ("overhead", "period"): ("lists", "A", "stop"),
    ("open_orders", "item"): ("items", "A", "stop"),
    ("open_orders", "period"): ("lists", "A", "stop"),
    ("families", "product"): ("items", "A", "stop"),
    ("families", "period"): ("lists", "A", "stop"),
    ("stock_targets", "item"): ("items", "A", "stop"),
    ("stock_targets", "period"): ("lists", "A", "stop"),
}


def test_reference_columns_have_drop_downs_reading_the_workbook_sheets(template):
    wb = openpyxl.load_workbook(template)
    assert [c.value for c in wb["lists"]["A"]] == ["period", *MONTHS]
    for (sheet, column), (source, letter, style) in REFERENCES.items():
        dv = _validation(wb[sheet], column)
        assert dv is not None, (sheet, column)
        assert dv.formula1 == f"'{source}'!${letter}$2:${letter}$5000", (sheet, column)
        assert wb[source][f"{letter}1"].value in ("item", "channel", "terms", "resource", "line", "period")
        assert dv.errorStyle == style and dv.showErrorMessage, (sheet, column)
        assert any(str(r) == f"{get_column_letter([c.value for c in wb[sheet][1]].index(column) + 1)}2:"
                   f"{get_column_letter([c.value for c in wb[sheet][1]].index(column) + 1)}5000"
                   for r in dv.sqref.ranges)
    # every column that names another sheet's row carries one
    for spec in TABLES:
        for col in spec.columns:
            if col.ref:
                assert (spec.name, col.name) in REFERENCES, (spec.name, col.name)
    # key and free-text columns do not
    for sheet, column in [("items", "item"), ("resources", "resource"), ("demand", "scenario"), ("terms", "terms")]:
        assert _validation(wb[sheet], column) is None


def test_template_without_periods_has_no_period_list(tmp_path):
    path = write_template(tmp_path / "plan.xlsx")
    wb = openpyxl.load_workbook(path)
    assert "lists" not in wb.sheetnames
    assert _validation(wb["demand"], "period") is None
    assert _validation(wb["demand"], "product").formula1 == "'items'!$A$2:$A$5000"


def test_converted_folder_lists_reach_every_row(tmp_path):
    """A converted instance with more rows than the validated block still lists them all."""
    folder = tmp_path / "big"
    shutil.copytree(TINY / "demand_lost", folder)
    items = pd.read_csv(folder / "items.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame({"item": [f"P{k}" for k in range(6000)], "kind": "product"})
    pd.concat([items, extra]).to_csv(folder / "items.csv", index=False)
    wb = openpyxl.load_workbook(folder_to_workbook(folder, tmp_path / "big.xlsx"))
    assert _validation(wb["demand"], "product").formula1 == f"'items'!$A$2:$A${len(items) + 6000 + 1}"


def test_required_and_optional_headers_look_different_and_the_readme_shows_the_legend(template):
    wb = openpyxl.load_workbook(template)
    items = {c.value: c for c in wb["items"][1]}
    required, optional = items["item"], items["unit_cost"]
    assert required.font.b and not required.font.i
    assert optional.font.i and not optional.font.b
    assert required.fill.fgColor.rgb != optional.fill.fgColor.rgb
    assert required.comment.text.startswith("必填 required") and optional.comment.text.startswith("可选 optional")
    legend = {c.value: c for row in wb["README"].iter_rows() for c in row if c.value in ("必填列 required", "可选列 optional")}
    assert legend["必填列 required"].fill.fgColor.rgb == required.fill.fgColor.rgb
    assert legend["必填列 required"].font.b
    assert legend["可选列 optional"].fill.fgColor.rgb == optional.fill.fgColor.rgb
    assert legend["可选列 optional"].font.i


def test_readme_sheet_is_bilingual_and_self_contained(template):
    ws = openpyxl.load_workbook(template)["README"]
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    assert len(re.findall(r"[\u4e00-\u9fff]", text)) > 300 and "Demand can be entered two ways" in text
    for cited in ("model.md", "MODEL.md", "shared", "docs/", "STYLE"):
        assert cited not in text
    for needed in ("demand_grid", "需求有两种填法", "Units:", "单位", "Required sheets: instance, items, demand",
                   "blank cell is no demand row", "date in a period cell"):
        assert needed in text, needed
    rows = list(ws.iter_rows(values_only=True))
    head = next(k for k, r in enumerate(rows) if r[:2] == ("工作表 sheet", "列 column"))
    grid = {r[1]: r for r in rows[head + 1:] if r[0] == "demand_grid" and r[1] and r[7] and "sheet" not in r[1]}
    assert set(grid) == {"product", "channel", "scenario", "price", "<period>"}
    # every column and setting is described in both languages (English in H, Chinese in I)
    described = {(r[0], r[1]): r for r in rows[head + 1:] if r[0] and r[1]}
    names = [(s.name, c.name) for s in TABLES for c in s.columns] + [("instance", k.path) for k in INSTANCE_KEYS]
    names += [("instance", f"{m.section}.<name>") for m in INSTANCE_MAPS] + [("demand_grid", k) for k in grid]
    for name in names:
        english, chinese = described[name][7], described[name][8]
        assert english and re.search(r"[a-z]{3}", english), name
        assert chinese and re.search(r"[\u4e00-\u9fff]", chinese), name


# --------------------------------------------------------------------------- dates in period cells


def _tiny_monthly_workbook(tmp_path: Path) -> Path:
    """A tiny instance whose periods are YYYY-MM months, as a workbook."""
    return folder_to_workbook(TINY / "infeasible_safety", tmp_path / "monthly.xlsx")


def _put_date(path: Path, sheet: str, column: str, value: object, out: Path) -> int:
    """Write `value` into the first data row's `column` of `sheet` as Excel stores a date."""
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    pos = [c.value for c in ws[1]].index(column) + 1
    cell = ws.cell(row=2, column=pos)
    cell.value = value
    cell.number_format = "yyyy-mm-dd"
    wb.save(out)
    return pos


def test_a_date_in_a_monthly_period_cell_is_read_as_its_month(tmp_path):
    book = _tiny_monthly_workbook(tmp_path)
    first = openpyxl.load_workbook(book)["demand"]["C2"].value
    assert re.fullmatch(r"2027-\d\d", first)
    dated = tmp_path / "dated.xlsx"
    day = dt.datetime(int(first[:4]), int(first[5:]), 15)  # any day of the month: pasted from another workbook
    _put_date(book, "demand", "period", day, dated)
    assert isinstance(openpyxl.load_workbook(dated)["demand"]["C2"].value, dt.datetime)
    problems = validate(dated)
    assert [p for p in problems if p.is_error] == []
    (warning,) = [p for p in problems if "date" in p.message]
    assert (warning.file, warning.row, warning.column) == ("dated.xlsx[demand]", 2, "period")
    assert f"this cell holds a date ({day.date().isoformat()}), read as period {first}" in warning.message
    pd.testing.assert_frame_equal(load_instance(dated).tables["demand"], load_instance(book).tables["demand"])
    # converting to a folder reads it the same way
    out = workbook_to_folder(dated, tmp_path / "folder")
    assert pd.read_csv(out / "demand.csv", dtype=str)["period"].iloc[0] == first


def test_a_date_that_is_no_period_is_refused_saying_it_is_a_date(tmp_path):
    book = folder_to_workbook(TINY / "holding_cost", tmp_path / "numbered.xlsx")  # periods = 3: labels 1, 2, 3
    dated = tmp_path / "dated.xlsx"
    _put_date(book, "demand", "period", dt.datetime(2027, 3, 1), dated)
    with pytest.raises(InputError) as err:
        load_instance(dated)
    errors = [p for p in err.value.problems if p.is_error]
    assert len(errors) == 1  # the date is named once, not again as an unknown period
    (e,) = errors
    assert (e.file, e.row, e.column) == ("dated.xlsx[demand]", 2, "period")
    assert "this cell holds a date (2027-03-01); write the period as text, e.g. 1" in e.message
    # a month outside the horizon of monthly periods is refused too, naming the month
    monthly = _tiny_monthly_workbook(tmp_path)
    _put_date(monthly, "demand", "period", dt.date(2026, 3, 1), dated)
    result = prodbudget("validate", dated)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    shown = " ".join((result.stdout + result.stderr).split())
    assert "this cell holds a date (2026-03-01); write the period as text, e.g. 2026-03" in shown
    assert "is not one of the instance's periods" in shown


# --------------------------------------------------------------------------- demand grid


def _grid_workbook(tmp_path: Path, folder: Path = APPLIANCE) -> Path:
    result = prodbudget("convert", folder, tmp_path / "grid.xlsx", "--demand-grid")
    assert result.returncode == 0, result.stderr
    return tmp_path / "grid.xlsx"


def _sorted_demand(instance) -> pd.DataFrame:
    keys = ["product", "channel", "period", "scenario"]
    return instance.all_demand.sort_values(keys).reset_index(drop=True)


def test_demand_grid_loads_as_the_long_demand(tmp_path):
    book = _grid_workbook(tmp_path)
    wb = openpyxl.load_workbook(book)
    grid, long = wb["demand_grid"], wb["demand"]
    assert long.max_row == 1  # the demand sheet keeps its header only
    assert [c.value for c in grid[1]] == ["product", "channel", "price", *MONTHS]
    # a product whose price changes over the year takes one row per price
    demand = pd.read_csv(APPLIANCE / "demand.csv")
    assert grid.max_row - 1 == len(demand.drop_duplicates(["product", "channel", "price"]))
    assert validate(book) == []
    a, b = load_instance(APPLIANCE), load_instance(book)
    pd.testing.assert_frame_equal(_sorted_demand(a), _sorted_demand(b), check_exact=True)
    for name in a.tables:
        if name != "demand":
            pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)


@pytest.mark.solver
def test_demand_grid_plans_like_the_csv_folder(tmp_path):
    """Same instance, demand rows in another order: each plan is optimal for the other (within
    the MIP gap), so the two objectives are the same optimum."""
    folder = solve(load_instance(APPLIANCE))
    grid = solve(load_instance(_grid_workbook(tmp_path)))
    assert folder.status == grid.status == "optimal"
    assert grid.objective <= folder.bound * (1 + 1e-9) and folder.objective <= grid.bound * (1 + 1e-9)
    assert grid.objective == pytest.approx(folder.objective, rel=2e-4)


def _edit(path: Path, out: Path, edits: dict[tuple[str, str], object]) -> None:
    wb = openpyxl.load_workbook(path)
    for (sheet, ref), value in edits.items():
        wb[sheet][ref].value = value
    wb.save(out)


def test_demand_grid_problems_name_the_grid_cell(tmp_path):
    book = folder_to_workbook(TINY / "infeasible_safety", tmp_path / "long.xlsx", demand_grid=True)
    wb = openpyxl.load_workbook(book)
    header = [c.value for c in wb["demand_grid"][1]]
    periods = [h for h in header if re.fullmatch(r"2027-\d\d", str(h))]
    last = get_column_letter(len(header) + 1)
    bad = tmp_path / "bad.xlsx"
    _edit(book, bad, {("demand_grid", f"{last}1"): "2027-13",  # a column that is no period
                      ("demand_grid", "A2"): "no such product",
                      ("demand_grid", f"{get_column_letter(header.index(periods[0]) + 1)}2"): "many"})
    with pytest.raises(InputError) as err:
        load_instance(bad)
    found = {(p.file, p.row, p.column): p.message for p in err.value.problems if p.is_error}
    assert "column '2027-13' is not a period of the instance" in found[("bad.xlsx[demand_grid]", 1, "2027-13")]
    assert "no such product" in found[("bad.xlsx[demand_grid]", 2, "product")]
    assert "'many'" in found[("bad.xlsx[demand_grid]", 2, periods[0])]
    assert len([k for k in found if k[1] == 2 and k[2] == "product"]) == 1  # one per grid row, not per cell


def test_demand_given_both_long_and_as_a_grid_is_refused(tmp_path):
    book = folder_to_workbook(TINY / "infeasible_safety", tmp_path / "grid.xlsx", demand_grid=True)
    long = pd.read_csv(TINY / "infeasible_safety" / "demand.csv", dtype=str)
    both = tmp_path / "both.xlsx"
    _edit(book, both, {("demand", f"{get_column_letter(k + 1)}2"): v for k, v in enumerate(long.iloc[0])
                       if long.columns[k] in ("product", "channel", "period", "quantity")} |
          {("demand", "A1"): "product"})
    result = prodbudget("validate", both)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    assert "demand is given twice" in " ".join((result.stdout + result.stderr).split())


def test_blank_grid_cells_are_no_demand_rows(tmp_path):
    book = folder_to_workbook(TINY / "infeasible_safety", tmp_path / "grid.xlsx", demand_grid=True)
    wb = openpyxl.load_workbook(book)
    ws = wb["demand_grid"]
    periods = [c.column for c in ws[1] if re.fullmatch(r"2027-\d\d", str(c.value))]
    filled = [(c.row, c.column) for row in ws.iter_rows(min_row=2) for c in row
              if c.column in periods and c.value not in (None, "")]
    ws.cell(*filled[0]).value = None
    wb.save(tmp_path / "blank.xlsx")
    before = load_instance(book).tables["demand"]
    after = load_instance(tmp_path / "blank.xlsx").tables["demand"]
    assert len(after) == len(before) - 1


def test_grid_workbook_converts_to_a_folder_holding_the_grid(tmp_path):
    book = folder_to_workbook(TINY / "infeasible_safety", tmp_path / "grid.xlsx", demand_grid=True)
    folder = workbook_to_folder(book, tmp_path / "folder")
    assert (folder / "demand_grid.csv").is_file()
    pd.testing.assert_frame_equal(load_instance(folder).tables["demand"], load_instance(book).tables["demand"])
    pd.testing.assert_frame_equal(_sorted_demand(load_instance(folder)),
                                  _sorted_demand(load_instance(TINY / "infeasible_safety")))


def test_a_wrong_grid_row_is_reported_once_per_row(tmp_path):
    """12 demand rows come from one grid row: a wrong product or channel is named once, at the
    grid's row, and counted in grid rows."""
    book = _grid_workbook(tmp_path)
    wrong = tmp_path / "wrong.xlsx"
    _edit(book, wrong, {("demand_grid", "A2"): "挂机空调 AC-99K", ("demand_grid", "A3"): "挂机空调 AC-99K",
                        ("demand_grid", "B5"): "电商 Ecommerce"})
    with pytest.raises(InputError) as err:
        load_instance(wrong)
    errors = [p for p in err.value.problems if p.is_error]
    assert sorted((p.row, p.column) for p in errors) == [(2, "product"), (3, "product"), (5, "channel")]
    assert all(p.file == "wrong.xlsx[demand_grid]" for p in errors)
    (channel,) = [p for p in errors if p.column == "channel"]
    assert "did you mean '电商 E-commerce'" in channel.message and "used on" not in channel.message


def test_periods_option_takes_a_month_range_labels_or_a_count(tmp_path):
    from solver.io.workbook import parse_periods

    assert parse_periods("2026-11..2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert parse_periods(" W1, W2 ,W3 ") == ["W1", "W2", "W3"]
    assert parse_periods("12") == 12
    for bad in ("2027-05..2027-02", "2027-13..2028-01", "W1,,W2", "W1,W1", "0"):
        with pytest.raises(ValueError):
            parse_periods(bad)
    result = prodbudget("template", "--out", tmp_path / "plan.xlsx", "--periods", "2027-05..2027-02")
    assert result.returncode == 2 and "not a range of months" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "plan.xlsx").exists()


def test_template_takes_the_workbook_as_argument_or_option(tmp_path):
    assert prodbudget("template", tmp_path / "a.xlsx").returncode == 0
    assert openpyxl.load_workbook(tmp_path / "a.xlsx").sheetnames[:2] == ["README", "instance"]
    for args in ([], [tmp_path / "b.xlsx", "--out", tmp_path / "c.xlsx"]):
        result = prodbudget("template", *args)
        assert result.returncode == 2 and "name the workbook to write once" in result.stderr
    assert not (tmp_path / "b.xlsx").exists() and not (tmp_path / "c.xlsx").exists()
