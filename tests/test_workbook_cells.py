"""Input workbooks are read cell for cell (issue 19 §4): formulas without a stored result (as
openpyxl and pandas write them) are evaluated when they are plain arithmetic and refused
otherwise, a stored result that disagrees with its formula is reported, and a stale
`<dimension>` never cuts a sheet short."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from solver.engine.pipeline import solve
from solver.engine.status import Status
from solver.io.loading import load_instance, validate
from solver.io.problems import InputError
from solver.io.sheets import _Unsupported, evaluate
from solver.io.workbook import folder_to_workbook, workbook_to_folder

RUSH = Path(__file__).resolve().parents[1] / "instances" / "tiny" / "rush_basic"


def _book(tmp_path: Path) -> Path:
    """rush_basic as a workbook (prices 50 on rows 2-5 and 40 on rows 6-9 of `demand`)."""
    return folder_to_workbook(RUSH, tmp_path / "rb.xlsx")


def _set_cells(book: Path, out: Path, sheet: str, cells: dict[str, object]) -> Path:
    wb = openpyxl.load_workbook(book)
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(out)
    return out


def _patch_sheet(book: Path, out: Path, sheet: str, edit) -> Path:
    """Rewrite one worksheet's XML (what Excel or another tool might have stored)."""
    index = openpyxl.load_workbook(book, read_only=True).sheetnames.index(sheet) + 1
    part = f"xl/worksheets/sheet{index}.xml"
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                changed = edit(data.decode("utf-8"))
                assert changed != data.decode("utf-8"), "the patch changed nothing"
                data = changed.encode("utf-8")
            zout.writestr(item, data)
    return out


def _price_column(book: Path) -> str:
    header = [c.value for c in openpyxl.load_workbook(book, read_only=True)["demand"][1]]
    return openpyxl.utils.get_column_letter(header.index("price") + 1)


def _formula_prices(tmp_path: Path) -> Path:
    book = _book(tmp_path)
    col = _price_column(book)
    cells = {f"{col}{r}": "=25*2" for r in range(2, 6)} | {f"{col}{r}": "=(30+10)*1" for r in range(6, 10)}
    return _set_cells(book, tmp_path / "formulas.xlsx", "demand", cells)


# --------------------------------------------------------------------------- the evaluator


def _no_refs(sheet, row, col):
    raise AssertionError("no reference expected")


@pytest.mark.parametrize(("formula", "value"), [
    ("=25*2", 50.0), ("=(30+10)*1", 40.0), ("=1e3/4", 250.0), ("=-2^2", 4.0), ("=2^3^2", 64.0),
    ("=10%", 0.1), ("=-(3) + +4", 1.0), ("=SUM(1,2,3.5)", 6.5), ("=max(1, -2*3, 7)", 7.0), ("=MIN(4,2)", 2.0),
])
def test_plain_arithmetic_is_evaluated_with_excel_precedence(formula, value):
    assert evaluate(formula, _no_refs) == pytest.approx(value)


def test_references_and_ranges_are_resolved_through_the_caller():
    grid = {(None, 0, 0): 2.0, ("calc sheet", 4, 1): 10.0}
    resolve = lambda sheet, row, col: grid[(sheet, row, col)]  # noqa: E731
    assert evaluate("=A1*3 + 'calc sheet'!$B$5", resolve) == 16.0
    assert evaluate("=SUM(A1:A3)*2", resolve, lambda s, r0, c0, r1, c1: [float(r0), float(r1)]) == 4.0


@pytest.mark.parametrize("formula", [
    "=VLOOKUP(1,A1:B2,2)", "=1/0", '="RF-"&"300"', "=1+", "=A1:A3", "=__import__('os')", "=TRUE", "=1=1",
    "=10^400",
])
def test_anything_else_is_left_to_the_stored_result(formula):
    with pytest.raises(_Unsupported):
        evaluate(formula, lambda s, r, c: 1.0, lambda *a: [1.0])


# --------------------------------------------------------------------------- loading


@pytest.mark.solver
def test_formula_cells_without_a_stored_result_are_evaluated(tmp_path):
    """rush_basic with its prices written as formulas by openpyxl (no stored results): read as
    blanks they were price 0 and `validate` said valid (profit −4,240); evaluated, the
    workbook plans exactly like the CSV folder."""
    book = _formula_prices(tmp_path)
    assert validate(book) == []
    inst, ref = load_instance(book), load_instance(RUSH)
    assert inst.all_demand["price"].tolist() == ref.all_demand["price"].tolist()
    got, want = solve(inst), solve(ref)
    assert got.status == want.status == Status.OPTIMAL
    assert got.objective == pytest.approx(want.objective)


def test_convert_evaluates_formulas_too(tmp_path):
    folder = workbook_to_folder(_formula_prices(tmp_path), tmp_path / "back")
    assert (folder / "demand.csv").read_text(encoding="utf-8").count(",50") == 4
    assert load_instance(folder).all_demand["price"].tolist() == load_instance(RUSH).all_demand["price"].tolist()


def test_uncached_formula_beyond_the_evaluator_is_refused_naming_sheet_and_cell(tmp_path):
    book = _book(tmp_path)
    col = _price_column(book)
    bad = _set_cells(book, tmp_path / "bad.xlsx", "demand", {f"{col}3": "=VLOOKUP(1,A1:B2,2)", f"{col}4": "=1/0"})
    problems = [p for p in validate(bad) if p.is_error]
    assert [(p.file, p.row, p.column) for p in problems] == [("bad.xlsx[demand]", 3, "price"), ("bad.xlsx[demand]", 4, "price")]
    assert f"cell {col}3: formula =VLOOKUP(1,A1:B2,2) has no stored result" in problems[0].message
    assert "division by zero" in problems[1].message
    assert "saved once by Excel or LibreOffice" in problems[0].expected
    with pytest.raises(InputError):
        load_instance(bad)
    with pytest.raises(InputError):
        workbook_to_folder(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_stale_stored_result_is_reported_and_the_formula_used(tmp_path):
    """A stored result 0 beside =25*2 (as a tool that writes formulas with a dummy result
    leaves it): 50 is read, and a warning names the cell."""
    book = _formula_prices(tmp_path)
    stale = _patch_sheet(book, tmp_path / "stale.xlsx", "demand",
                         lambda xml: re.sub(r"<f>25\*2</f><v\s*/>", "<f>25*2</f><v>0</v>", xml, count=1))
    (warning,) = validate(stale)
    assert (warning.file, warning.row, warning.column, warning.severity) == ("stale.xlsx[demand]", 2, "price", "warning")
    assert "formula =25*2 evaluates to 50 but its stored result is 0 (stale); 50 is used" in warning.message
    assert load_instance(stale).all_demand["price"].iloc[0] == 50.0


def test_stored_result_of_a_formula_beyond_the_evaluator_is_used(tmp_path):
    book = _formula_prices(tmp_path)
    cached = _patch_sheet(book, tmp_path / "cached.xlsx", "demand",
                          lambda xml: re.sub(r"<f>25\*2</f><v\s*/>", "<f>VLOOKUP(1,A1:B2,2)</f><v>50</v>", xml, count=1))
    assert validate(cached) == []
    assert load_instance(cached).all_demand["price"].tolist() == load_instance(RUSH).all_demand["price"].tolist()


def test_excel_error_cell_is_refused(tmp_path):
    book = _formula_prices(tmp_path)
    broken = _patch_sheet(book, tmp_path / "err.xlsx", "demand",
                          lambda xml: re.sub(r'<c r="(\w+)"><f>25\*2</f><v\s*/></c>', r'<c r="\1" t="e"><v>#N/A</v></c>', xml, count=1))
    (error,) = [p for p in validate(broken) if p.is_error]
    assert (error.row, error.column) == (2, "price") and "holds the Excel error #N/A" in error.message


def test_formula_referencing_another_sheet(tmp_path):
    book = _book(tmp_path)
    col = _price_column(book)
    wb = openpyxl.load_workbook(book)
    wb.create_sheet("calc")["A1"] = 25
    for r in range(2, 10):
        wb["demand"][f"{col}{r}"] = "=calc!A1*2" if r < 6 else "=calc!$A$1+15"
    wb.save(tmp_path / "refs.xlsx")
    problems = validate(tmp_path / "refs.xlsx")
    assert [p.severity for p in problems] == ["warning"] and "unknown sheet" in problems[0].message
    assert load_instance(tmp_path / "refs.xlsx").all_demand["price"].tolist() == load_instance(RUSH).all_demand["price"].tolist()


def test_stale_dimension_does_not_truncate_a_sheet(tmp_path):
    """400 more demand rows, and a `<dimension>` that still says A1:E30: openpyxl's read-only
    mode trusted it and 29 rows were loaded, "valid"."""
    book = _book(tmp_path)
    wb = openpyxl.load_workbook(book)
    for k in range(400):
        wb["demand"].append(["widget", "retail", "W1", 1, 50, f"s{k}"])
    wb["demand"]["F1"] = "scenario"
    for r in range(2, 10):
        wb["demand"][f"F{r}"] = "base"
    wb.save(tmp_path / "long.xlsx")
    short = _patch_sheet(tmp_path / "long.xlsx", tmp_path / "short.xlsx", "demand",
                         lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:E30"', xml))
    assert len(load_instance(short).all_demand) == 408
    assert len((workbook_to_folder(short, tmp_path / "csv") / "demand.csv").read_text(encoding="utf-8").splitlines()) == 409
