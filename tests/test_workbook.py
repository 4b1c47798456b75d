"""Excel in and out (issue 7): the schema-driven template, the lossless CSV ⇄ xlsx conversion,
and the formatted result workbook of `solve --xlsx`."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers import TINY, prodbudget
from openpyxl.utils import get_column_letter

from solver.devtools.generator import GeneratorParams, generate_to
from solver.engine.pipeline import solve
from solver.io.loading import load_instance, scenario_weights, validate
from solver.io.problems import InputError
from solver.io.schema import INSTANCE_KEYS, INSTANCE_MAPS, TABLES
from solver.io.workbook import (
    folder_to_workbook,
    workbook_to_folder,
    write_result_workbook,
    write_template,
)

TINY_FOLDERS = sorted(p for p in TINY.iterdir() if (p / "instance.toml").is_file())


def assert_same_instance(a, b) -> None:
    """Identical tables (every column, dtype and value) and identical settings."""
    assert (a.name, a.currency, a.periods) == (b.name, b.currency, b.periods)
    assert (a.cash, a.budget, a.policy) == (b.cash, b.budget, b.policy)
    assert set(a.tables) == set(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)
    pd.testing.assert_frame_equal(a.all_demand, b.all_demand, check_exact=True, obj="all_demand")


# --------------------------------------------------------------------------- template


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "plan.xlsx"
    write_template(path)
    return path


def test_template_has_every_sheet_and_column_of_the_schema(template):
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames == ["README", "instance"] + [t.name for t in TABLES] + ["demand_grid"]  # no periods: no lists
    for spec in TABLES:
        ws = wb[spec.name]
        assert [c.value for c in ws[1]] == list(spec.column_names)
        assert ws.freeze_panes == "A2"
        assert ws["A1"].font.bold
    keys = [row[0] for row in wb["instance"].iter_rows(min_row=2, values_only=True)]
    assert keys == [k.path for k in INSTANCE_KEYS]


def test_template_instance_sheet_holds_the_defaults(template):
    ws = openpyxl.load_workbook(template)["instance"]
    values = {row[0]: row[1] for row in ws.iter_rows(min_row=2, values_only=True)}
    for key in INSTANCE_KEYS:
        if key.default is None:
            assert values[key.path] is None  # required (periods): for the planner to fill
        elif isinstance(key.default, float) and key.default == float("inf"):
            assert values[key.path] == "inf"
        else:
            assert values[key.path] == key.default


def test_template_readme_explains_every_column(template):
    ws = openpyxl.load_workbook(template)["README"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    head = next(k for k, r in enumerate(rows) if r[:2] == ("工作表 sheet", "列 column"))
    documented = {(r[0], r[1]): r for r in rows[head + 1:] if r[0] and r[1] and r[7]}
    for spec in TABLES:
        for col in spec.columns:
            row = documented[(spec.name, col.name)]
            assert row[7] == col.description
            assert (row[2] == "yes") == col.required
            assert row[5]  # a default (or "(required)") is always shown
            if col.unit:
                assert row[4] == col.unit
    for key in INSTANCE_KEYS:
        assert ("instance", key.path) in documented
    for m in INSTANCE_MAPS:
        assert ("instance", f"{m.section}.<name>") in documented


def test_template_offers_drop_downs_for_choices_and_booleans(template):
    wb = openpyxl.load_workbook(template)
    expected = {(s.name, c.name): (c.choices or ("true", "false")) for s in TABLES for c in s.columns
                if c.choices or c.dtype == "bool"}
    assert {("items", "kind"), ("channels", "service"), ("budget_lines", "carryover")} <= set(expected)
    for (sheet, column), choices in expected.items():
        ws = wb[sheet]
        letter = get_column_letter([c.value for c in ws[1]].index(column) + 1)
        found = [dv for dv in ws.data_validations.dataValidation
                 if dv.type == "list" and any(str(r).startswith(f"{letter}2:") for r in dv.sqref.ranges)]
        assert len(found) == 1, (sheet, column)
        assert found[0].formula1 == '"' + ",".join(choices) + '"'


def test_empty_template_is_read_and_its_readme_ignored(template):
    problems = validate(template)
    assert not any("README" in p.location for p in problems)
    assert not any("unknown sheet" in p.message for p in problems)
    errors = {p.column for p in problems if p.is_error}
    assert "periods" in errors  # the one required setting without a default


def _fill_template(template: Path, folder: Path, out: Path) -> None:
    """What a planner does: type the folder's settings and rows into the template."""
    wb = openpyxl.load_workbook(template)
    flat = {}
    for key, value in tomllib.loads((folder / "instance.toml").read_text(encoding="utf-8")).items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    ws = wb["instance"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value in flat:
            v = flat[row[0].value]
            row[1].value = ",".join(v) if isinstance(v, list) else ("inf" if v == float("inf") else v)
    for spec in TABLES:
        file = folder / spec.file
        if not file.is_file():
            continue
        ws = wb[spec.name]
        header = [c.value for c in ws[1]]
        with file.open(encoding="utf-8-sig", newline="") as fh:
            for r, rec in enumerate(csv.DictReader(fh), start=2):
                for name, text in rec.items():
                    if text:
                        cell = ws.cell(row=r, column=header.index(name) + 1)
                        number = spec.column(name).dtype in ("float", "int") and text.strip().lower() != "inf"
                        cell.value = float(text) if number else text  # a planner types `inf` as text
    wb.save(out)


@pytest.mark.parametrize("name", ["budget_pool", "stock_targets", "setup_lot_sizing"])
def test_filled_template_loads_like_the_folder(template, tmp_path, name):
    filled = tmp_path / "filled.xlsx"
    _fill_template(template, TINY / name, filled)
    assert_same_instance(load_instance(TINY / name), load_instance(filled))


@pytest.mark.solver
def test_filled_template_solves(template, tmp_path):
    filled = tmp_path / "filled.xlsx"
    _fill_template(template, TINY / "budget_pool", filled)
    run = prodbudget("solve", filled, "--json")
    assert run.returncode == 0, run.stderr
    a = solve(load_instance(TINY / "budget_pool"))
    b = solve(load_instance(filled))
    assert b.objective == pytest.approx(a.objective, rel=1e-9, abs=1e-6)


def test_template_cli_refuses_to_overwrite(tmp_path):
    out = tmp_path / "plan.xlsx"
    assert prodbudget("template", "--out", out).returncode == 0
    again = prodbudget("template", "--out", out)
    assert again.returncode == 2 and "exists" in again.stderr
    assert prodbudget("template", "--out", out, "--force").returncode == 0


def test_workbook_errors_name_sheet_row_and_column(template, tmp_path):
    filled = tmp_path / "filled.xlsx"
    _fill_template(template, TINY / "budget_pool", filled)
    wb = openpyxl.load_workbook(filled)
    wb["items"]["B2"] = "produkt"
    wb.save(filled)
    problems = [p for p in validate(filled) if p.is_error]
    assert any(p.file == "filled.xlsx[items]" and p.row == 2 and p.column == "kind" for p in problems)


# --------------------------------------------------------------------------- conversion


def _round_trip(folder: Path, tmp: Path):
    xlsx, back = tmp / "instance.xlsx", tmp / "back"
    folder_to_workbook(folder, xlsx)
    workbook_to_folder(xlsx, back)
    return xlsx, back


@pytest.mark.parametrize("folder", TINY_FOLDERS, ids=[p.name for p in TINY_FOLDERS])
def test_csv_to_xlsx_to_csv_is_lossless_on_the_tiny_instances(folder, tmp_path):
    xlsx, back = _round_trip(folder, tmp_path)
    original = load_instance(folder)
    assert_same_instance(original, load_instance(xlsx))
    assert_same_instance(original, load_instance(back))
    assert sorted(p.name for p in back.glob("*.csv")) == sorted(p.name for p in folder.glob("*.csv"))
    weights = [scenario_weights(p, original.scenarios) for p in (folder, xlsx, back)]  # [scenarios]
    assert weights[0] == weights[1] == weights[2]


def test_round_trip_of_a_generated_instance(tmp_path):
    folder = generate_to(GeneratorParams(products=4, periods=6, resources=3, materials=6, seed=7), tmp_path / "gen")
    xlsx, back = _round_trip(folder, tmp_path)
    original = load_instance(folder)
    assert_same_instance(original, load_instance(xlsx))
    assert_same_instance(original, load_instance(back))


def test_round_trip_keeps_blanks_unicode_inf_and_integer_periods(tmp_path):
    """Blank ≠ 0 (a blank safety_penalty makes the safety stock hard), CJK names, `inf`,
    `periods = n`, labels that look like numbers or dates, all scenarios kept."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "instance.toml").write_text('name = "冰箱厂"\nperiods = 3\n\n[budget]\npool = inf\n', encoding="utf-8")
    (src / "items.csv").write_text(
        "item,kind,unit_cost,safety_stock,safety_penalty,max_stock,lead_time\n"
        "冰箱 RF-300,product,100,5,,inf,\n"
        "0042,product,10,1,2.5,100,0\n"
        "钢板,material,3.125,,,,1\n", encoding="utf-8")
    (src / "demand.csv").write_text(
        "product,channel,period,quantity,price,scenario\n"
        "冰箱 RF-300,电商,1,10,1999.5,base\n"
        "冰箱 RF-300,电商,2,12,,high\n"
        "0042,=web,3,1e3,0.1,\n", encoding="utf-8")
    (src / "bom.csv").write_text("parent,child,quantity\n冰箱 RF-300,钢板,2\n0042,钢板,0.333333333333333\n", encoding="utf-8")
    (src / "resources.csv").write_text("resource,capacity\n总装线,inf\n", encoding="utf-8")
    (src / "routings.csv").write_text("item,resource,hours_per_unit\n冰箱 RF-300,总装线,1\n0042,总装线,0.1\n", encoding="utf-8")
    (src / "budget_lines.csv").write_text("line,ceiling,carryover\nprocurement,,TRUE\n", encoding="utf-8")
    xlsx, back = _round_trip(src, tmp_path)
    for scenario in ("base", "high"):
        original = load_instance(src, scenario=scenario)
        assert_same_instance(original, load_instance(xlsx, scenario=scenario))
        assert_same_instance(original, load_instance(back, scenario=scenario))
    items = pd.read_csv(back / "items.csv", dtype=str, keep_default_na=False)
    assert items.loc[0, "safety_penalty"] == ""  # still blank, not 0
    assert items.loc[1, "item"] == "0042"
    assert "periods = 3" in (back / "instance.toml").read_text(encoding="utf-8")


def test_convert_cli_both_ways_and_refuses_to_overwrite(tmp_path):
    xlsx, back = tmp_path / "a.xlsx", tmp_path / "back"
    assert prodbudget("convert", TINY / "collection_lag", xlsx).returncode == 0
    assert prodbudget("convert", xlsx, back).returncode == 0
    assert_same_instance(load_instance(TINY / "collection_lag"), load_instance(back))
    run = prodbudget("convert", xlsx, back)
    assert run.returncode == 2 and "exists" in run.stderr
    assert prodbudget("convert", xlsx, back, "--force").returncode == 0
    assert prodbudget("convert", TINY / "collection_lag", tmp_path / "other").returncode == 2


def test_workbook_to_folder_names_cells_it_cannot_type(tmp_path):
    xlsx = tmp_path / "a.xlsx"
    folder_to_workbook(TINY / "budget_pool", xlsx)
    wb = openpyxl.load_workbook(xlsx)
    wb["items"]["C3"] = "cheap"  # unit_cost
    wb.save(xlsx)
    with pytest.raises(InputError) as err:
        workbook_to_folder(xlsx, tmp_path / "out")
    assert any(p.file == "a.xlsx[items]" and p.row == 3 and p.column == "unit_cost" for p in err.value.problems)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- result workbook


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    return solve(load_instance(TINY / "capacity_overtime"), sensitivity=True)


@pytest.mark.solver
def test_result_workbook_kpis_first_frozen_and_formatted(solved, tmp_path):
    path = write_result_workbook(solved, tmp_path / "result.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "summary"
    for name in solved.tables:
        assert name in wb.sheetnames
    for ws in wb.worksheets:
        assert ws.freeze_panes is not None, ws.title
    kpi = {row[2]: row[1] for row in wb["summary"].iter_rows(min_row=4, values_only=True)}
    assert kpi["objective"] == pytest.approx(solved.objective)
    ws = wb["capacity"]
    header = [c.value for c in ws[1]]
    util = header.index("utilisation") + 1
    assert ws.cell(row=2, column=util).number_format == "0.0%"
    assert ws.cell(row=2, column=header.index("used") + 1).number_format == "#,##0.0"
    money = wb["cash"].cell(row=2, column=[c.value for c in wb["cash"][1]].index("closing") + 1).number_format
    assert "¥" in money
    for r in range(2, ws.max_row + 1):  # binding capacity rows are highlighted, others not
        full = (ws.cell(row=r, column=util).value or 0) >= 0.999
        assert (ws.cell(row=r, column=1).fill.fgColor.rgb == "00FCE4D6") == full
    assert any((ws.cell(row=r, column=util).value or 0) >= 0.999 for r in range(2, ws.max_row + 1))


@pytest.mark.solver
def test_result_workbook_sensitivity_sheets_in_solver_layout(solved, tmp_path):
    wb = openpyxl.load_workbook(write_result_workbook(solved, tmp_path / "result.xlsx"))
    for name in ("limits", "sensitivity_variables", "sensitivity_constraints"):
        assert name in wb.sheetnames
    ws = wb["sensitivity_constraints"]
    assert ws["A1"].value == "Sensitivity Report: Constraints"
    header = [c.value for c in ws[int(ws.freeze_panes[1:]) - 1]]
    assert header[:6] == ["Name", "Final Value", "Shadow Price", "Constraint R.H. Side",
                          "Allowable Increase", "Allowable Decrease"]
    ws = wb["sensitivity_variables"]
    header = [c.value for c in ws[int(ws.freeze_panes[1:]) - 1]]
    assert header[:6] == ["Name", "Final Value", "Reduced Cost", "Objective Coefficient",
                          "Allowable Increase", "Allowable Decrease"]


@pytest.mark.solver
def test_sensitivity_sheet_highlights_binding_business_limits_only(solved, tmp_path):
    """Issue 17: stock balances and demand equalities always hold with no slack; only binding
    rows of a family a planner can change (capacity here) are marked, with a legend."""
    wb = openpyxl.load_workbook(write_result_workbook(solved, tmp_path / "result.xlsx"))
    ws = wb["sensitivity_constraints"]
    head_row = int(ws.freeze_panes[1:]) - 1
    header = [c.value for c in ws[head_row]]
    col = {name: header.index(name) + 1 for name in ("constraint", "binding")}
    assert any("Orange rows" in str(ws.cell(row=r, column=1).value) for r in range(1, head_row))
    marked, equalities = [], 0
    for r in range(head_row + 1, ws.max_row + 1):
        name, binding = ws.cell(row=r, column=col["constraint"]).value, ws.cell(row=r, column=col["binding"]).value
        if ws.cell(row=r, column=1).fill.fgColor.rgb == "00FCE4D6":
            marked.append(name)
            assert binding
        elif binding and name in ("inventory.balance", "sales.demand", "cash.balance"):
            equalities += 1
    assert marked and set(marked) <= {"capacity.hours", "capacity.overtime_limit"}, marked
    assert equalities > 0  # binding balances exist and are left unmarked


@pytest.mark.solver
def test_solve_xlsx_flag(tmp_path):
    out = tmp_path / "r.xlsx"
    run = prodbudget("solve", TINY / "budget_pool", "--xlsx", out)
    assert run.returncode == 0, run.stderr
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "summary"
    assert not {"limits", "sensitivity_variables", "sensitivity_constraints"} & set(wb.sheetnames)
    again = prodbudget("solve", TINY / "budget_pool", "--xlsx", out)
    assert again.returncode == 2 and "exists" in again.stderr
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind
