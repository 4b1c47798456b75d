"""Excel workbooks in and out (issue 7): the input template, CSV ⇄ xlsx conversion, and the
formatted result workbook.

Everything about the input format comes from `solver.io.schema` (`TABLES`, `INSTANCE_KEYS`): the
template's sheets, columns, README and drop-downs are generated from the specs, never listed
by hand. An input workbook holds one sheet per table (same name, same columns), a key/value
sheet `instance`, and a `README` sheet that the loader ignores.

Conversion is faithful: CSV → xlsx copies every cell (numbers as numbers, identifiers and
blanks as they are, invalid text as text so that `validate` still names it), and xlsx → CSV
writes the folder with `solver.io.instance_writer.write_instance_folder`. Loading the CSV folder,
its workbook, and the folder converted back gives identical tables and settings.

The result workbook is written to a temporary sibling and moved into place with one
`os.replace`, so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import math
import re
import sys
import tomllib
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from solver.io.instance_writer import write_instance_folder
from solver.io.loading import (
    CONFIG_FILE,
    CONFIG_SHEET,
    GRID_FILE,
    GRID_KEYS,
    GRID_TABLE,
    LISTS_SHEET,
    README_SHEET,
    _cell_text,
    date_in_period_cell,
    input_file_bytes,
    workbook_sheets,
)
from solver.io.problems import InputError, Problem
from solver.io.schema import (
    INSTANCE_KEYS,
    INSTANCE_MAPS,
    INSTANCE_SECTIONS,
    TABLE_SPECS,
    TABLES,
    ColumnSpec,
    TableSpec,
)
from solver.io.schema_zh import COLUMNS_ZH, MAPS_ZH, SETTINGS_ZH, SHEETS_ZH
from solver.io.writers import write_file_atomically

__all__ = [
    "write_template",
    "folder_to_workbook",
    "workbook_to_folder",
    "result_workbook_for",
    "save_workbook",
    "write_result_workbook",
    "write_workbook_atomically",
    "tables_workbook",
    "money_display",
]

KEY_SPECS = {k.path: k for k in INSTANCE_KEYS}
VALIDATED_ROWS = 5000  # rows of a table sheet that carry the drop-downs and the text format
TEXT_FORMAT = "@"

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")  # result sheets
# input sheets: a required column bold white on dark orange, an optional one italic on pale grey
# (the README sheet's legend shows both; each header's note starts with 必填 required / 可选 optional)
REQUIRED_FILL = PatternFill("solid", fgColor="C65911")
REQUIRED_FONT = Font(bold=True, color="FFFFFF")
OPTIONAL_FILL = PatternFill("solid", fgColor="EDEDED")
OPTIONAL_FONT = Font(bold=False, italic=True, color="404040")
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12, color="305496")
BINDING_FILL = PatternFill("solid", fgColor="FCE4D6")  # light orange: a limit the plan hits
BINDING_LEGEND = ("Orange rows: business limits the plan sits at (capacity, overtime, budgets, pools, minimum cash, "
                  "credit line, stock targets); balances, demand rows and links always hold and are not marked.")
BINDING_FONT = Font(bold=True, color="C00000")


# --------------------------------------------------------------------------- small helpers


def save_workbook(wb: Workbook, path: str | Path) -> None:
    """`wb.save(path)`, failing cleanly on a full disk.

    openpyxl writes each sheet through a temporary file and, when a write fails, leaves the zip
    file and the sheet writers open; collected later, they fail again and Python prints their
    tracebacks after our message. So the workbook is built in memory, and on failure the
    half-done writers are released (and their second failure silenced) before the error goes on.
    """
    buffer = io.BytesIO()
    try:
        wb.save(buffer)
    except OSError as err:
        error = OSError(err.errno, err.strerror, err.filename)
        frames = err.__traceback__
        del err
        hook, sys.unraisablehook = sys.unraisablehook, lambda _unraisable: None
        try:
            traceback.clear_frames(frames)
            del frames
            gc.collect()
        finally:
            sys.unraisablehook = hook
        raise error from None
    Path(path).write_bytes(buffer.getvalue())


def write_workbook_atomically(wb: Workbook, path: str | Path, force: bool = True) -> Path:
    """Save `wb` to a temporary sibling of `path`, then move it into place in one rename
    (`solver.io.writers`: umask-honouring permissions, a failed save leaves nothing)."""
    return write_file_atomically(path, lambda tmp: save_workbook(wb, tmp), force=force)


def _write_cell(ws: Worksheet, row: int, column: int, value: object):
    """Text as text (never re-interpreted by Excel), anything else as the value."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        _set_text(cell, value)
    else:
        cell.value = value
    return cell


def _set_text(cell: Cell, value: str) -> None:
    """A string cell, never a formula (an identifier may start with '=')."""
    cell.value = value
    cell.data_type = "s"


def _display_width(value: object) -> int:
    """Characters a cell needs; CJK characters are about two Latin ones wide."""
    text = value if isinstance(value, str) else ("" if value is None else f"{value:,.2f}" if isinstance(value, float) else str(value))
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _fit_columns(ws: Worksheet, header_row: int = 1, sample: int = 300, lo: int = 6, hi: int = 60) -> None:
    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=header_row, max_row=min(ws.max_row, header_row + sample)):  # no empty cells made
        for cell in row:
            if cell.value is not None:
                widths[cell.column] = max(widths.get(cell.column, 0), _display_width(cell.value))
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(lo, min(hi, w + 2))


def _style_header(ws: Worksheet, row: int = 1, required: Iterable[str] | None = None) -> None:
    """A header row: one style for result sheets (`required` None); on input sheets required
    columns bold on dark orange, optional ones italic on pale grey."""
    need = None if required is None else set(required)
    for cell in ws[row]:
        if cell.value is None:
            continue
        if need is None:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        elif cell.value in need:
            cell.font, cell.fill = REQUIRED_FONT, REQUIRED_FILL
        else:
            cell.font, cell.fill = OPTIONAL_FONT, OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _default_text(col: ColumnSpec) -> str:
    if col.required:
        return "(required)"
    if col.default is None:
        return f"blank = {col.blank_means}" if col.blank_means else "blank"
    if isinstance(col.default, bool):
        return "true" if col.default else "false"
    if isinstance(col.default, float):
        return "inf" if math.isinf(col.default) else f"{col.default:g}"
    return str(col.default)


def _allowed_text(col: ColumnSpec) -> str:
    if col.choices:
        return " | ".join(col.choices)
    if col.dtype == "bool":
        return "true | false"
    parts = []
    if col.dtype == "int":
        parts.append("integer")
    elif col.dtype == "float":
        parts.append("number")
    if col.min is not None:
        parts.append(f">= {col.min:g}")
    if col.max is not None:
        parts.append(f"<= {col.max:g}")
    if col.allow_inf:
        parts.append("or inf")
    if col.ref:
        parts.append(f"names a value of {col.ref}")
    return " ".join(parts)


def _key_default_text(default: object) -> str:
    if default is None:
        return "(required)"
    if isinstance(default, float):
        return "inf" if math.isinf(default) else f"{default:g}"
    return str(default)


# --------------------------------------------------------------------------- input sheets


def _table_sheet(wb: Workbook, spec: TableSpec, header: list[str] | None = None,
                 rows: Iterable[list[object]] = ()) -> Worksheet:
    """One input sheet: styled header (with the spec as a comment), drop-downs, text format."""
    ws = wb.create_sheet(spec.name)
    header = list(header) if header is not None else list(spec.column_names)
    for c, name in enumerate(header, start=1):  # a header like "=HYPERLINK(…)" stays text, never a formula
        _write_cell(ws, 1, c, name)
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            if value is not None and value != "":
                _write_cell(ws, r, c, value)
    required = [c.name for c in spec.columns if c.required]
    _style_header(ws, 1, required)
    ws.freeze_panes = "A2"
    last = max(ws.max_row, VALIDATED_ROWS)
    for pos, name in enumerate(header, start=1):
        if name not in spec.column_names:
            continue
        col = spec.column(name)
        letter = get_column_letter(pos)
        note = ("必填 required: " if col.required else "可选 optional: ") + col.description
        if col.unit:
            note += f"\nunit: {col.unit}"
        note += f"\ndefault: {_default_text(col)}"
        ws.cell(row=1, column=pos).comment = Comment(note, "prodbudget", width=300, height=110)
        if col.dtype == "str":  # keep '2027-01' a label, not a date Excel invents
            ws.column_dimensions[letter].number_format = TEXT_FORMAT
            for (cell,) in ws.iter_rows(min_row=2, max_row=ws.max_row, min_col=pos, max_col=pos):
                cell.number_format = TEXT_FORMAT
        choices = col.choices or (("true", "false") if col.dtype == "bool" else ())
        if choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle=f"{spec.name}.{name}",
                                error=f"{name}: one of {', '.join(choices)}",
                                promptTitle=name, prompt=col.description[:250], showInputMessage=True)
            dv.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(dv)
    _fit_columns(ws)
    for pos in range(1, len(header) + 1):  # room for typing even in an empty template
        dim = ws.column_dimensions[get_column_letter(pos)]
        dim.width = max(dim.width or 0, 12)
    return ws


# Where a column's values come from, for its drop-down: another sheet's key column, or the
# period labels of the `lists` sheet. A value not in the list is refused at entry when the format
# requires the list to hold it (items, resources, periods); where the format lets a name stand
# without a row of its own (a demand product may be a sales family, an undeclared channel gets the
# defaults, the terms `cash` is built in, a budget line without ceilings needs no row) Excel asks
# whether it is a typo and keeps it on Yes.
REFERENCE_LISTS = {"items.item": ("items", "item"), "resources.resource": ("resources", "resource"),
                   "terms.terms": ("terms", "terms")}
NAMED_LISTS = {"channel": ("channels", "channel"), "budget_line": ("budget_lines", "line")}
LINE_COLUMNS = {("budgets", "line")}  # columns naming a budget line under another name
OPEN_LISTS = {("demand", "product"): "a product of sheet items, or a sales family of sheet families",
              ("demand", "channel"): "a channel of sheet channels, or a new one that gets the channel defaults",
              ("items", "terms"): "terms of sheet terms, or the built-in cash",
              ("channels", "terms"): "terms of sheet terms, or the built-in cash",
              ("items", "budget_line"): "a line of sheet budget_lines, or one without ceilings",
              ("resources", "budget_line"): "a line of sheet budget_lines, or one without ceilings",
              ("budgets", "line"): "a line of sheet budget_lines, or one with per-period ceilings only"}


def list_source(table: str, column: str) -> tuple[str, str] | None:
    """(sheet, column) whose values a column's drop-down offers (`lists`, `period` for the
    period columns); None when it has none (a key column, free text, a number, or fixed choices)."""
    spec = TABLE_SPECS.get(table)
    col = spec.column(column) if spec is not None and column in spec.column_names else None
    if col is None or col.choices or col.dtype == "bool":
        return None
    if col.ref == "periods":
        return (LISTS_SHEET, "period")
    if col.ref in REFERENCE_LISTS:
        source = REFERENCE_LISTS[col.ref]
    elif (table, column) in LINE_COLUMNS:
        source = NAMED_LISTS["budget_line"]
    else:
        source = NAMED_LISTS.get(column)
    return None if source is None or source[0] == table else source


def _lists_sheet(wb: Workbook, periods: list[str]) -> Worksheet | None:
    """The sheet the period drop-downs read (the loader ignores it): the instance's period
    labels when the workbook is made (`prodbudget template --periods`, or a converted folder).
    It stays visible, so that a planner who changes `periods` can change the list too."""
    if not periods:
        return None
    ws = wb.create_sheet(LISTS_SHEET)
    _set_text(ws.cell(row=1, column=1), "period")
    for r, label in enumerate(periods, start=2):
        _set_text(ws.cell(row=r, column=1), str(label))
    _style_header(ws, 1, ["period"])
    ws.cell(row=1, column=1).comment = Comment(
        "期间下拉列表的来源（读取时忽略）；修改 instance 的 periods 时同步修改。\n"
        "The period drop-downs read this list (not read as data); change it when you change periods "
        "on sheet instance.", "prodbudget", width=320, height=110)
    ws.column_dimensions["A"].number_format = TEXT_FORMAT
    ws.column_dimensions["A"].width = 14
    return ws


def _header_positions(ws: Worksheet) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value is not None}


def _add_reference_lists(wb: Workbook) -> None:
    """Drop-downs on every column that names an item, resource, terms, channel, budget line or
    period, so that a typo is caught at entry: each list reads the other sheet's column over the
    rows that carry drop-downs there (`VALIDATED_ROWS`, or all the sheet has), so names added
    later are offered too; the periods come from the `lists`
    sheet (no period drop-downs without it). Refused or questioned: see `OPEN_LISTS`."""
    for ws in wb.worksheets:
        table = "demand" if ws.title == GRID_TABLE else ws.title
        if table not in TABLE_SPECS or ws.title == LISTS_SHEET:
            continue
        last = max(ws.max_row, VALIDATED_ROWS)
        for name, pos in _header_positions(ws).items():
            if ws.title == GRID_TABLE and name not in GRID_KEYS:
                continue
            source = list_source(table, name)
            if source is None or source[0] not in wb.sheetnames:
                continue
            where = _header_positions(wb[source[0]]).get(source[1])
            if where is None:
                continue
            ref, col = get_column_letter(where), TABLE_SPECS[table].column(name)
            rows = max(wb[source[0]].max_row, VALIDATED_ROWS)
            open_list = OPEN_LISTS.get((table, name))
            if source[0] == LISTS_SHEET:
                expected = "a period of sheet lists (the instance's periods)"
            else:
                expected = open_list or f"a name in column {source[1]} of sheet {source[0]}"
            message = (f"'{name}' must be {expected}: a typo? (Yes keeps it)" if open_list else
                       f"'{name}' must be {expected}; add it there first")
            dv = DataValidation(type="list", formula1=f"'{source[0]}'!${ref}$2:${ref}${rows}",
                                allow_blank=True, showErrorMessage=True,
                                errorStyle="warning" if open_list else "stop",
                                errorTitle=f"{ws.title}.{name}", error=message[:255],
                                promptTitle=name, prompt=col.description[:250], showInputMessage=True)
            letter = get_column_letter(pos)
            dv.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(dv)


def _grid_sheet(wb: Workbook, periods: list[str], header: list[str] | None = None,
                rows: Iterable[list[object]] = ()) -> Worksheet:
    """The optional demand grid: product, channel, scenario, price, then one column per period
    holding the quantity (read instead of the demand sheet when that one has no rows)."""
    ws = wb.create_sheet(GRID_TABLE)
    header = list(header) if header is not None else [*GRID_KEYS, *periods]
    for c, name in enumerate(header, start=1):
        _write_cell(ws, 1, c, name)
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            if value is not None and value != "":
                _write_cell(ws, r, c, value)
    _style_header(ws, 1, ["product", "channel"])
    spec = TABLE_SPECS["demand"]
    for pos, name in enumerate(header, start=1):
        if name in GRID_KEYS:
            col = spec.column(name)
            ws.cell(row=1, column=pos).comment = Comment(
                ("必填 required: " if col.required else "可选 optional: ") + f"{col.description}\ndefault: {_default_text(col)}",
                "prodbudget", width=300, height=90)
            if col.dtype == "str":
                ws.column_dimensions[get_column_letter(pos)].number_format = TEXT_FORMAT
        else:
            ws.cell(row=1, column=pos).comment = Comment(f"期间 {name} 的需求数量（空白：无需求）\nunits demanded in period "
                                                         f"{name} (blank: no demand)", "prodbudget", width=260, height=70)
    ws.freeze_panes = ws.cell(row=2, column=len([h for h in header if h in GRID_KEYS]) + 1)
    _fit_columns(ws)
    for pos in range(1, len(header) + 1):
        dim = ws.column_dimensions[get_column_letter(pos)]
        dim.width = max(dim.width or 0, 10)
    return ws


def _instance_sheet(wb: Workbook, values: Mapping[str, object], extra: Mapping[str, object] | None = None) -> Worksheet:
    """The key/value sheet: key, value, default, unit, description (the loader reads A and B)."""
    ws = wb.create_sheet(CONFIG_SHEET)
    ws.append(["key", "value", "default", "unit", "description"])
    for spec in INSTANCE_KEYS:
        value = values.get(spec.path)
        r = ws.max_row + 1
        _set_text(ws.cell(row=r, column=1), spec.path)
        _put_setting(ws.cell(row=r, column=2), value)
        _set_text(ws.cell(row=r, column=3), _key_default_text(spec.default))
        ws.cell(row=r, column=4, value=spec.unit or None)
        desc = spec.description + (" (comma-separated labels, e.g. 2027-01,2027-02)" if spec.dtype == "periods" else "")
        ws.cell(row=r, column=5, value=desc)
    for path, value in (extra or {}).items():  # keys the format does not know: kept so validation names them
        r = ws.max_row + 1
        _set_text(ws.cell(row=r, column=1), path)
        _put_setting(ws.cell(row=r, column=2), value)
    _style_header(ws, 1, ["key", "value"])
    ws.freeze_panes = "A2"
    ws.column_dimensions["B"].number_format = TEXT_FORMAT
    _fit_columns(ws)
    ws.column_dimensions["B"].width = max(ws.column_dimensions["B"].width or 0, 24)
    ws.column_dimensions["E"].width = 70
    return ws


def _put_setting(cell: Cell, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        _set_text(cell, "true" if value else "false")
    elif isinstance(value, list | tuple):
        labels = [str(v) for v in value]
        if any("," in v for v in labels):
            raise ValueError(f"a period label holds a comma, which a workbook cannot list: {labels}")
        _set_text(cell, ",".join(labels))
    elif isinstance(value, float) and not math.isfinite(value):
        _set_text(cell, "inf" if value > 0 else ("-inf" if value < 0 else "nan"))
    elif isinstance(value, int | float):
        cell.value = value
    else:
        _set_text(cell, str(value))


README_NOTES = (  # (中文, English): the README sheet says all a planner needs, in both languages
    ("每张表一个工作表（名称、列名见下表）；保留第一行表头。空白单元格表示该列的默认值。",
     "Fill one sheet per table (names and columns listed below); keep the header row. A blank cell means the "
     "column's default."),
    (f"'{CONFIG_SHEET}' 工作表以键/值行保存设置（A 列为键，B 列为值；其余列仅供阅读）。值留空即使用默认值。"
     "periods 为期间标签，以逗号分隔（如 2027-01,2027-02），或期间个数（如 12）。",
     f"The '{CONFIG_SHEET}' sheet holds the settings as key/value rows (column A key, column B value; the other "
     "columns are for reading). A blank value means the default shown. periods: the period labels separated by "
     "commas (2027-01,2027-02), or their number (12)."),
    ("必填工作表：{required}；其余为可选（不用的可选工作表可删除，或只保留表头）。",
     "Required sheets: {required}; the others are optional (delete an unused optional sheet or leave it with its "
     "header only)."),
    ("表头颜色：深橙底白色粗体为必填列，浅灰底斜体为可选列（见下方图例）；表头批注写明列的含义、单位与默认值。",
     "Header colours: bold white on dark orange is a required column, italic on pale grey an optional one (legend "
     "below); each header's note gives the column's meaning, unit and default."),
    ("单位：currency 为 instance 表 currency 所设货币（如 CNY 元）；units 为物料的计量单位（件、台、千克）；"
     "hours 为工时；periods 为期间个数；份额（share）为 0 到 1 之间的小数；inf 表示无上限。",
     "Units: currency is the instance's currency (instance sheet, e.g. CNY yuan); units are the item's own unit "
     "(pieces, sets, kg); hours are working hours; periods count periods; shares are fractions from 0 to 1; inf "
     "means no limit."),
    ("需求有两种填法：(1) demand 工作表，每行一个 产品、渠道、期间、数量（可加价格、情景）；"
     "(2) demand_grid 工作表（产品 × 期间网格）：列为 product、channel、scenario（可选）、price（可选），"
     "之后每个期间一列，单元格为需求数量。空白单元格表示该期间没有需求行（即需求为 0）。"
     "价格随月份变化时，同一产品与渠道按价格分成多行，每行只填该价格适用的月份。"
     "两种填法只能用一种：两张表都有数据时报错。",
     "Demand can be entered two ways: (1) sheet demand, one row per product, channel, period and quantity (price "
     "and scenario optional); (2) sheet demand_grid, a product × period grid: columns product, channel, scenario "
     "(optional), price (optional), then one column per period holding the quantity. A blank cell is no demand row "
     "for that period (zero demand). When the price changes over the months, give the product and channel one row "
     "per price, each filled in the months that price applies. Use one of the two: both filled is an error."),
    ("下拉列表：固定选项（kind、service、carryover），以及其他工作表中的名称。产品、资源与期间必须是列表中的值，"
     "否则 Excel 拒绝输入；渠道、付款条件与预算科目可以不在列表中（未声明的渠道取默认值，cash 为内置付款条件，"
     "预算科目可以没有上限），Excel 会询问是否为拼写错误。期间列表在 lists 工作表"
     "（prodbudget template --periods 2027-01..2027-12 生成；修改 periods 时请同步修改）。",
     "Drop-down lists: fixed choices (kind, service, carryover) and the names of other sheets. Items, resources "
     "and periods must be in the list, else Excel refuses the entry; channels, terms and budget lines may be new "
     "(an undeclared channel gets the defaults, cash is built-in terms, a budget line may have no ceiling), so "
     "Excel asks whether it is a typo. The period list is on sheet lists (made by prodbudget template --periods "
     "2027-01..2027-12; change it when you change periods)."),
    ("期间（如 2027-03）是文本：标识列已设为文本格式。若期间单元格中是日期（例如从其他工作簿粘贴），"
     "期间为 YYYY-MM 月份时按日期所在月份读取并给出提示；否则报错，指明工作表、行与列。",
     "Periods (like 2027-03) are text: identifier columns are formatted as text. A date in a period cell (pasted "
     "from another workbook) is read as its month when the periods are YYYY-MM months and that month is one of "
     "them, with a warning; otherwise it is an error naming sheet, row and column."),
    ("读取时忽略本 README 工作表与 lists 工作表。检查：prodbudget validate plan.xlsx；求解：prodbudget solve plan.xlsx",
     "This README sheet and the lists sheet are not read as data. Check: prodbudget validate plan.xlsx; solve: "
     "prodbudget solve plan.xlsx"),
)

def _readme_sheet(wb: Workbook) -> Worksheet:
    """The README sheet, in Chinese and English, self-contained: how to fill the workbook, the
    header colours, then every sheet, column and setting with its type, unit, default and
    allowed values."""
    ws = wb.create_sheet(README_SHEET, 0)
    ws["A1"] = "prodbudget 计划工作簿 · planning workbook"
    ws["A1"].font = TITLE_FONT
    required = ", ".join([CONFIG_SHEET, *(t.name for t in TABLES if t.required)])
    r = 2
    for zh, en in README_NOTES:
        ws.cell(row=r, column=1, value=zh.format(required=required))
        ws.cell(row=r + 1, column=1, value=en.format(required=required)).font = Font(color="595959")
        r += 2
    ws.cell(row=r, column=1, value="图例 legend:").font = Font(bold=True)
    legend = ws.cell(row=r, column=2, value="必填列 required")
    legend.font, legend.fill = REQUIRED_FONT, REQUIRED_FILL
    legend = ws.cell(row=r, column=3, value="可选列 optional")
    legend.font, legend.fill = OPTIONAL_FONT, OPTIONAL_FILL
    head = ["工作表 sheet", "列 column", "必填 required", "类型 type", "单位 unit", "默认 default",
            "允许值 allowed values", "description", "说明"]
    start = r + 2
    for c, name in enumerate(head, start=1):
        ws.cell(row=start, column=c, value=name)
    _style_header(ws, start)
    r = start + 1
    for spec in TABLES:
        ws.cell(row=r, column=1, value=spec.name).font = SECTION_FONT
        ws.cell(row=r, column=2, value=("必填工作表 required sheet" if spec.required else "可选工作表 optional sheet"))
        ws.cell(row=r, column=8, value=spec.description).font = Font(italic=True)
        ws.cell(row=r, column=9, value=SHEETS_ZH[spec.name]).font = Font(italic=True)
        r += 1
        for col in spec.columns:
            _readme_row(ws, r, [spec.name, col.name, "yes" if col.required else "", col.dtype, col.unit,
                                _default_text(col), _allowed_text(col), col.description,
                                COLUMNS_ZH[f"{spec.name}.{col.name}"]])
            r += 1
        if spec.name == "demand":
            r = _readme_grid_rows(ws, r)
    ws.cell(row=r, column=1, value=CONFIG_SHEET).font = SECTION_FONT
    ws.cell(row=r, column=2, value="必填工作表 required sheet")
    ws.cell(row=r, column=8, value="settings: key/value rows").font = Font(italic=True)
    ws.cell(row=r, column=9, value="设置（键/值行）").font = Font(italic=True)
    r += 1
    for spec in INSTANCE_KEYS:
        dtype = "labels" if spec.dtype == "periods" else spec.dtype
        allowed = ("number" + (f" >= {spec.min:g}" if spec.min is not None else "") + (" or inf" if spec.allow_inf else "")) if spec.dtype in ("float", "int") else ""
        _readme_row(ws, r, [CONFIG_SHEET, spec.path, "yes" if spec.required else "", dtype, spec.unit,
                            _key_default_text(spec.default), allowed, spec.description, SETTINGS_ZH[spec.path]])
        r += 1
    for m in INSTANCE_MAPS:  # sections whose key names are data, e.g. scenarios.low = 0.25
        _readme_row(ws, r, [CONFIG_SHEET, f"{m.section}.<name>", "", "float", "", "(none)",
                            f"number >= {m.min:g}; <name> = {m.names}", m.description, MAPS_ZH[m.section]])
        r += 1
    ws.freeze_panes = ws.cell(row=start + 1, column=1)
    for letter, width in zip("ABCDEFGHI", (16, 16, 9, 8, 20, 30, 30, 70, 60), strict=True):
        ws.column_dimensions[letter].width = width
    return ws


def _readme_row(ws: Worksheet, r: int, values: list[object]) -> None:
    """One row of the README sheet's column table, as text (blank cells left empty)."""
    for c, v in enumerate(values, start=1):
        if v != "":
            _set_text(ws.cell(row=r, column=c), str(v))


def _readme_grid_rows(ws: Worksheet, r: int) -> int:
    """The demand grid's rows of the README sheet's column table, from row `r`; returns the
    next free row."""
    ws.cell(row=r, column=1, value=GRID_TABLE).font = SECTION_FONT
    ws.cell(row=r, column=2, value="可选工作表 optional sheet")
    ws.cell(row=r, column=8, value="demand as a product × period grid, instead of rows in sheet demand").font = \
        Font(italic=True)
    ws.cell(row=r, column=9, value="需求（产品 × 期间网格，代替 demand 工作表）").font = Font(italic=True)
    r += 1
    demand = TABLE_SPECS["demand"]
    for c in (demand.column(k) for k in GRID_KEYS):
        _readme_row(ws, r, [GRID_TABLE, c.name, "yes" if c.required else "", c.dtype, c.unit, _default_text(c),
                            _allowed_text(c), c.description, COLUMNS_ZH[f"demand.{c.name}"]])
        r += 1
    quantity = demand.column("quantity")
    _readme_row(ws, r, [GRID_TABLE, "<period>", "", quantity.dtype, quantity.unit, "blank = no demand",
                        _allowed_text(quantity), "one column per period, headed by its label: units demanded in that "
                        "period", "每个期间一列，表头为期间标签，单元格为该期间的需求数量"])
    return r + 1


def template_workbook(periods: list[str] | int | None = None) -> Workbook:
    """The empty input workbook: README, instance (defaults filled; `periods` when given), one
    sheet per table, the demand grid, drop-downs (the period lists need `periods`)."""
    wb = Workbook()
    wb.remove(wb.active)
    _readme_sheet(wb)
    defaults: dict[str, object] = {k.path: k.default for k in INSTANCE_KEYS if k.default is not None}
    labels = period_labels(periods)
    if periods is not None:
        defaults["periods"] = periods
    _instance_sheet(wb, defaults)
    for spec in TABLES:
        _table_sheet(wb, spec)
    _grid_sheet(wb, labels)
    _lists_sheet(wb, labels)
    _add_reference_lists(wb)
    wb.active = 0
    return wb


def period_labels(periods: list[str] | int | None) -> list[str]:
    """The labels a `periods` setting stands for: the list, "1".."n" for an integer, none."""
    if periods is None:
        return []
    if isinstance(periods, int):
        return [str(k) for k in range(1, periods + 1)]
    return [str(p) for p in periods]


def parse_periods(text: str) -> list[str] | int:
    """`prodbudget template --periods`: "2027-01..2027-12" (months, both ends included),
    "W1,W2,W3" (labels) or "12" (an integer horizon). ValueError when it is none of these."""
    text = text.strip()
    if text.isdigit():
        if int(text) < 1:
            raise ValueError(f"{text!r}: a plan has at least 1 period")
        return int(text)
    months = re.fullmatch(r"(\d{4})-(\d{2})\.\.(\d{4})-(\d{2})", text)
    if months:
        y0, m0, y1, m1 = map(int, months.groups())
        first, last = y0 * 12 + m0 - 1, y1 * 12 + m1 - 1
        if not (1 <= m0 <= 12 and 1 <= m1 <= 12) or last < first:
            raise ValueError(f"{text!r}: not a range of months from the first to the last")
        return [f"{k // 12:04d}-{k % 12 + 1:02d}" for k in range(first, last + 1)]
    labels = [p.strip() for p in text.split(",")]
    if not all(labels) or len(set(labels)) != len(labels):
        raise ValueError(f"{text!r}: expected 2027-01..2027-12, labels separated by commas, or a number of periods")
    return labels


def write_template(path: str | Path, periods: list[str] | int | None = None) -> Path:
    """Write the empty planning workbook (`prodbudget template`)."""
    return write_workbook_atomically(template_workbook(periods), path)


# --------------------------------------------------------------------------- CSV folder -> workbook


def _read_csv_text(file: Path) -> list[list[str]] | None:
    data = input_file_bytes(file)  # a directory in its place, a file over the size limit: refused
    if data is None:
        return None
    text = data.decode("utf-8-sig")
    return [r for r in csv.reader(io.StringIO(text, newline=""))]


def _typed_cell(col: ColumnSpec | None, text: str) -> object:
    """A CSV cell as the workbook value that reads back the same: finite numbers as numbers in
    number columns, everything else (identifiers, inf, invalid text) as text."""
    if text.strip() == "":
        return None
    if col is not None and col.dtype in ("float", "int"):
        try:
            x = float(text)
        except ValueError:
            return text
        if not math.isfinite(x):
            return text.strip()
        if col.dtype == "int" and x.is_integer():
            return int(x)
        return int(x) if x.is_integer() and abs(x) < 1e15 and "." not in text and "e" not in text.lower() else x
    return text


def _flatten_toml(doc: Mapping[str, object]) -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in doc.items():
        if isinstance(value, Mapping):
            for sub, v in value.items():
                flat[f"{key}.{sub}"] = v
        else:
            flat[key] = value
    return flat


def folder_to_workbook(folder: str | Path, path: str | Path, demand_grid: bool = False) -> Path:
    """Copy an instance folder (instance.toml + CSV tables) into one workbook, cell for cell;
    with `demand_grid`, its demand rows go to the demand grid sheet instead (`demand_grid_records`)
    and the demand sheet keeps its header only."""
    folder = Path(folder)
    if folder.name == CONFIG_FILE and folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not an instance folder")
    toml_path = folder / CONFIG_FILE
    toml_bytes = input_file_bytes(toml_path)
    if toml_bytes is None:
        raise FileNotFoundError(f"{toml_path} does not exist")
    try:
        flat = _flatten_toml(tomllib.loads(toml_bytes.decode("utf-8-sig")))
    except tomllib.TOMLDecodeError as exc:
        raise InputError([Problem(CONFIG_FILE, None, None, f"not valid TOML: {exc}", "TOML syntax")]) from None
    labels = _periods_of(flat)
    grid = _read_csv_text(folder / GRID_FILE) if (folder / GRID_FILE).is_file() else None
    wb = Workbook()
    wb.remove(wb.active)
    _readme_sheet(wb)
    known = {k: v for k, v in flat.items() if k in KEY_SPECS}
    _instance_sheet(wb, known, {k: v for k, v in flat.items() if k not in KEY_SPECS})
    for spec in TABLES:
        records = _read_csv_text(folder / spec.file)
        if not records:
            continue
        if spec.name == "demand" and demand_grid:
            if grid:
                raise ValueError(f"{folder} holds demand both as {spec.file} and as {GRID_FILE}")
            grid, records = demand_grid_records(records, labels), records[:1]
        header = [h.strip() for h in records[0]]
        cols = [spec.column(h) if h in spec.column_names else None for h in header]
        rows = ([_typed_cell(c, t) for c, t in zip(cols, rec, strict=False)]
                for rec in records[1:] if any(t.strip() for t in rec))
        _table_sheet(wb, spec, header, rows)
    if grid:
        header = [h.strip() for h in grid[0]]
        cols = [TABLE_SPECS["demand"].column("price") if h == "price" else None if h in GRID_KEYS
                else TABLE_SPECS["demand"].column("quantity") for h in header]
        _grid_sheet(wb, labels, header, ([_typed_cell(c, t) for c, t in zip(cols, rec, strict=False)]
                                         for rec in grid[1:] if any(t.strip() for t in rec)))
    _lists_sheet(wb, labels)
    _add_reference_lists(wb)
    wb.active = 0
    return write_workbook_atomically(wb, path)


def demand_grid_records(records: list[list[str]], periods: list[str]) -> list[list[str]]:
    """Long demand rows (CSV text, header first) as the demand grid: one row per product,
    channel, scenario and price (a product whose price changes over the year takes one row per
    price), one column per period in the instance's order (labels the instance does not have
    follow, so that validation still names them). Loading the grid gives back the same rows;
    a repeated row lands on a row of its own, where validation reports it. ValueError for a
    column the grid cannot hold."""
    header = [h.strip() for h in records[0]]
    extra = [h for h in header if h not in TABLE_SPECS["demand"].column_names]
    if extra:
        raise ValueError(f"demand column(s) {', '.join(extra)} cannot go into a demand grid")
    keys = [k for k in GRID_KEYS if k in header]
    pos = {h: k for k, h in enumerate(header)}

    def cell(rec: list[str], name: str) -> str:
        k = pos.get(name)
        return rec[k].strip() if k is not None and k < len(rec) else ""

    rows: list[tuple[tuple[str, ...], dict[str, str]]] = []
    columns = list(periods)
    for rec in records[1:]:
        if not any(t.strip() for t in rec):
            continue
        key, period = tuple(cell(rec, k) for k in keys), cell(rec, "period")
        if period not in columns:
            columns.append(period)
        row = next((r for k, r in rows if k == key and period not in r), None)
        if row is None:  # beside the rows of the same product and channel (another price)
            row = {}
            same = [k for k, (other, _) in enumerate(rows) if other[:2] == key[:2]]
            rows.insert(same[-1] + 1 if same else len(rows), (key, row))
        row[period] = cell(rec, "quantity")
    return [[*keys, *columns], *([*key, *(row.get(p, "") for p in columns)] for key, row in rows)]


# --------------------------------------------------------------------------- workbook -> CSV folder


def _to_float(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return float(value)
    return float(str(value).strip())


def _column_values(col: ColumnSpec, cells: list[object], label: str, problems: list[Problem],
                   rows: list[int]) -> list[object]:
    out: list[object] = []
    for row, value in zip(rows, cells, strict=True):
        text = _cell_text(value).strip()
        if text == "":
            out.append(None)
            continue
        if col.dtype == "str":
            out.append(text)
        elif col.dtype == "bool":
            word = text.lower()
            if word in ("true", "yes", "1"):
                out.append(True)
            elif word in ("false", "no", "0"):
                out.append(False)
            else:
                problems.append(Problem(label, row, col.name, f"'{text}' is not true or false", "true or false"))
                out.append(None)
        else:
            try:
                x = _to_float(value)
                if math.isnan(x):
                    raise ValueError
                if col.dtype == "int" and not (math.isfinite(x) and x.is_integer()):
                    raise ValueError
                out.append(x)
            except ValueError:
                problems.append(Problem(label, row, col.name, f"'{text}' is not {'an integer' if col.dtype == 'int' else 'a number'}",
                                        "an integer" if col.dtype == "int" else "a number"))
                out.append(None)
    return out


def _setting_value(path: str, value: object, label: str, row: int, problems: list[Problem]) -> object:
    spec = KEY_SPECS.get(path)
    text = _cell_text(value).strip()
    if spec is None:  # unknown key: kept as text so that validate names it
        return value if isinstance(value, int | float) and not isinstance(value, bool) else text
    if spec.dtype == "str":
        return text
    if spec.dtype == "periods":
        if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
            return int(value)
        if text.isdigit():
            return int(text)
        return [p.strip() for p in text.split(",")]
    try:
        x = _to_float(value)
    except ValueError:
        problems.append(Problem(label, row, path, f"'{text}' is not a number", "a number"))
        return text
    return int(x) if x.is_integer() and abs(x) < 1e15 else x


def workbook_to_folder(path: str | Path, folder: str | Path) -> Path:
    """Write a workbook's settings and tables as an instance folder (instance.toml + CSV).

    Cells are typed by the schema (numbers, integers, true/false); a cell that cannot be typed,
    an unknown sheet column or a missing `instance` sheet is an error naming sheet, row and
    column (raised as `InputError`, nothing written).
    """
    path = Path(path)
    sheets, problems = workbook_sheets(path)  # formulas resolved, every row read, size limit
    flat: dict[str, object] = {}
    tables: dict[str, pd.DataFrame] = {}
    name = path.name
    if CONFIG_SHEET not in sheets:
        problems.append(Problem(f"{name}[{CONFIG_SHEET}]", None, None, "required sheet is missing",
                                f"a sheet '{CONFIG_SHEET}' of key/value rows"))
    grid: list[list[str]] | None = None
    for title, records in sorted(sheets.items(), key=lambda kv: kv[0] != CONFIG_SHEET):  # settings first: the periods
        label = f"{name}[{title}]"
        if title == CONFIG_SHEET:
            for row, rec in enumerate(records, start=1):
                key = _cell_text(rec[0]).strip() if rec else ""
                value = rec[1] if len(rec) > 1 else None
                if key == "" or (row == 1 and key.lower() == "key") or _cell_text(value).strip() == "":
                    continue
                flat[key] = _setting_value(key, value, label, row, problems)
        elif title in TABLE_SPECS:
            tables[title] = _sheet_table(TABLE_SPECS[title], records, label, problems, _periods_of(flat))
        elif title == GRID_TABLE:
            grid = _grid_records(records, label, problems, _periods_of(flat))
        elif title not in (README_SHEET, LISTS_SHEET):
            problems.append(Problem(label, None, None, "unknown sheet, not converted",
                                    f"a table sheet ({', '.join(TABLE_SPECS)}), {GRID_TABLE} or {CONFIG_SHEET}", "warning"))
    if any(p.is_error for p in problems):
        raise InputError(problems)
    toml: dict[str, object] = {}
    for key, value in flat.items():
        section, _, sub = key.partition(".")
        if sub and section in INSTANCE_SECTIONS:
            toml.setdefault(section, {})[sub] = value  # type: ignore[union-attr]
        else:
            toml[key] = value
    return write_instance_folder(folder, toml, tables, {GRID_FILE: grid} if grid and len(grid) > 1 else None)  # header only: no demand


def _periods_of(flat: Mapping[str, object]) -> list[str]:
    periods = flat.get("periods")
    return period_labels(periods if isinstance(periods, int | list) and not isinstance(periods, bool) else None)


def _period_cell(value: object, periods: list[str], label: str, row: int, column: str,
                 problems: list[Problem]) -> str:
    """A period cell as its label; a date is read or reported as `load_instance` does
    (`date_in_period_cell`)."""
    if not isinstance(value, dt.date):
        return _cell_text(value).strip()
    period, message, expected = date_in_period_cell(value, periods)
    problems.append(Problem(label, row, column, message, expected, "error" if period is None else "warning"))
    return period if period is not None else _cell_text(value)


def _grid_records(records: list[list[object]], label: str, problems: list[Problem], periods: list[str]) -> list[list[str]]:
    """The demand grid's cells as CSV text (dates in its header read as periods or reported)."""
    if not records:
        return []
    header = [_cell_text(h).strip() if _cell_text(h).strip() in GRID_KEYS else
              _period_cell(h, periods, label, 1, _cell_text(h).strip(), problems) for h in records[0]]
    body = [[_cell_text(v) for v in rec] for rec in records[1:] if any(_cell_text(v).strip() for v in rec)]
    return [header, *body]


def _sheet_table(spec: TableSpec, records: list[list[object]], label: str, problems: list[Problem],
                 periods: list[str] | None = None) -> pd.DataFrame:
    if not records:
        return pd.DataFrame(columns=list(spec.column_names))
    header = [_cell_text(h).strip() for h in records[0]]
    while header and header[-1] == "":
        header.pop()
    body = [(r, rec) for r, rec in enumerate(records[1:], start=2)
            if any(_cell_text(v).strip() for v in rec)]
    data: dict[str, list[object]] = {}
    for pos, col_name in enumerate(header):
        if col_name == "":
            if any(pos < len(rec) and _cell_text(rec[pos]).strip() for _, rec in body):
                problems.append(Problem(label, 1, None, f"column {pos + 1} has no header but holds data", "a header naming every column"))
            continue
        if col_name not in spec.column_names:
            problems.append(Problem(label, 1, col_name, f"unknown column '{col_name}'", f"one of: {', '.join(spec.column_names)}"))
            continue
        cells = [rec[pos] if pos < len(rec) else None for _, rec in body]
        if spec.column(col_name).ref == "periods":  # a date where a period label belongs
            cells = [_period_cell(v, periods or [], label, r, col_name, problems) for (r, _), v in zip(body, cells, strict=True)]
        data[col_name] = _column_values(spec.column(col_name), cells, label, problems, [r for r, _ in body])
    df = pd.DataFrame(data, columns=list(data))
    for col_name in df.columns:
        dtype = spec.column(col_name).dtype
        if dtype == "int":
            df[col_name] = pd.to_numeric(df[col_name], errors="coerce").astype("float64")
        elif dtype == "float":  # whole numbers written without '.0', as a planner typed them
            df[col_name] = pd.Series([_plain_number(x) for x in df[col_name]], index=df.index, dtype=object)
    return df


def _plain_number(x: object) -> object:
    if isinstance(x, float) and math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
        return int(x)
    return x


def convert(src: str | Path, dst: str | Path, demand_grid: bool = False) -> Path:
    """CSV folder → workbook when `dst` ends in .xlsx (`demand_grid`: demand as the product ×
    period grid), workbook → CSV folder otherwise."""
    src, dst = Path(src), Path(dst)
    if dst.suffix.lower() in (".xlsx", ".xlsm"):
        return folder_to_workbook(src, dst, demand_grid)
    if src.suffix.lower() in (".xlsx", ".xlsm"):
        if not src.is_file():
            raise FileNotFoundError(f"{src} does not exist")
        return workbook_to_folder(src, dst)
    raise ValueError("one side must be an .xlsx workbook and the other an instance folder")


# --------------------------------------------------------------------------- result workbook

CURRENCY_SYMBOLS = {"CNY": "¥", "RMB": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
QTY_FORMAT = "#,##0.0"
INT_FORMAT = "0"
PCT_FORMAT = "0.0%"
NUM_FORMAT = "#,##0.00"
MONEY_TABLES = ("budget", "cash", "pnl", "balances")
MONEY_COLUMNS = {"variable_cost", "setup_cost", "cost", "order_cost", "unit_cost", "value", "price",
                 "revenue", "shadow_price", "reduced_cost", "objective_coefficient", "value_of_step",
                 "resolved_profit", "profit", "profit_joint", "profit_sequential"}
PCT_COLUMNS = {"utilisation", "service_level", "gap"}
INT_COLUMNS = {"t", "setup", "order_placed", "available_t", "arrival_t", "lag"}
# plan sheets in the order a planner reads them
RESULT_ORDER = ("pnl", "cash", "budget", "capacity", "production", "purchases", "inventory", "sales", "balances")
KPI_LABELS = {
    "objective": "profit", "bound": "best bound", "gap": "MIP gap", "revenue": "revenue",
    "service_level": "service level", "units_demanded": "units demanded", "units_lost": "units lost",
    "min_cash_headroom": "lowest cash headroom", "min_cash_period": "… in period",
    "max_loan": "peak loan", "peak_utilisation": "peak utilisation", "peak_resource": "… on resource",
    "peak_period": "… in period", "emergency_drawn": "emergency budget drawn",
    "budget_at_period_ceiling": "budget at period ceiling", "budget_at_line_ceiling": "budget at line ceiling",
}
KPI_MONEY = {"objective", "bound", "revenue", "min_cash_headroom", "max_loan", "emergency_drawn"}
KPI_PCT = {"gap", "service_level", "peak_utilisation"}
# Excel Solver's Sensitivity Report headings for our columns
SOLVER_VARIABLES = (("variable", "Name"), ("final_value", "Final Value"), ("reduced_cost", "Reduced Cost"),
                    ("objective_coefficient", "Objective Coefficient"), ("allowable_increase", "Allowable Increase"),
                    ("allowable_decrease", "Allowable Decrease"))
SOLVER_CONSTRAINTS = (("name", "Name"), ("final_value", "Final Value"), ("shadow_price", "Shadow Price"),
                      ("rhs", "Constraint R.H. Side"), ("allowable_increase", "Allowable Increase"),
                      ("allowable_decrease", "Allowable Decrease"))


# Money is shown in one of three units; the cells always hold the amount in the currency's own
# unit (a sum or a formula over them is right whatever the display). Prices and shadow prices are
# per unit: they keep the plain unit.
MONEY_DISPLAYS = {"yuan": "the currency unit (¥1,234,567)", "wan": "ten thousands, 万 (¥123.5万)",
                  "million": "millions, 百万 (¥1.23百万)"}
WAN_CURRENCIES = {"CNY", "RMB", "JPY"}  # where amounts are read in 万
RATE_COLUMNS = {"unit_cost", "price", "shadow_price", "reduced_cost", "objective_coefficient"}


@dataclass(frozen=True)
class MoneyDisplay:
    """How the workbook shows money: `amount` (the Excel number format of amounts), `rate` (of
    prices and shadow prices), `name` (yuan, wan or million) and `note` (what the summary says)."""

    name: str
    amount: str
    rate: str
    note: str


def money_display(currency: str, name: str = "auto", largest: float = 0.0) -> MoneyDisplay:
    """The money display `name` ("yuan", "wan", "million"), or for "auto" the one that suits
    amounts up to `largest`: the currency unit below ten million (cents below 100,000), above it
    万 for yuan (and yen), millions for other currencies."""
    if name == "auto":
        name = "yuan" if largest < 1e7 else ("wan" if currency.upper() in WAN_CURRENCIES else "million")
    if name not in MONEY_DISPLAYS:
        raise ValueError(f"money display {name!r}: expected one of {', '.join(MONEY_DISPLAYS)} or auto")
    sym = CURRENCY_SYMBOLS.get(currency.upper())
    pre, post = (f'"{sym}"', "") if sym else ("", f' "{currency}"')
    cents = ".00" if largest < 1e5 else ""
    if name == "wan":  # ÷1,000 by the trailing comma, then a decimal point forced before the last digit: ÷10,000
        body, label = '0!.0,"万"', "万"
    elif name == "million":
        body, label = '#,##0.00,,"百万"', "百万"
    else:
        body, label = f"#,##0{cents}", ""
    amount = f"{pre}{body}{post};-{pre}{body}{post}"
    rate = f"{pre}#,##0.00##{post};-{pre}#,##0.00##{post}"
    unit = {"wan": f"万 (ten thousand {currency})", "million": f"百万 (million {currency})"}.get(name, currency)
    note = f"amounts shown in {unit}" + (f"; the cells hold the full amounts in {currency}, prices per unit "
                                         f"stay in {currency}" if label else "")
    return MoneyDisplay(name, amount, rate, note)


def largest_amount(tables: Mapping[str, pd.DataFrame], kpis: Mapping[str, object]) -> float:
    """The largest money amount of the plan (revenue, cash, budget): what "auto" goes by."""
    values = [abs(float(kpis[k])) for k in KPI_MONEY if isinstance(kpis.get(k), int | float)
              and math.isfinite(float(kpis[k]))]
    for name, df in tables.items():
        cols = [c for c in df.columns if (c in MONEY_COLUMNS and c not in RATE_COLUMNS) or
                (name in MONEY_TABLES and c != "t")]
        for c in cols:
            if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
                col = df[c].to_numpy(dtype=float)
                col = np.abs(col[np.isfinite(col)])
                if col.size:
                    values.append(float(col.max()))
    return max(values, default=0.0)


def money_format(currency: str) -> str:
    """The amount format of the plain currency unit with cents (`money_display(currency, "yuan")`)."""
    return money_display(currency, "yuan").amount


INTEGER_TOL = 1e-6  # a float this close to a whole number is that number (51755.00000000001)


def clean_number(value: float) -> float | int:
    """A solver's float as people read it: within INTEGER_TOL (or 1e-12 of its size) of a whole
    number, that whole number; anything else unchanged."""
    if not math.isfinite(value):
        return value
    whole = round(value)
    if abs(value - whole) <= max(INTEGER_TOL, 1e-12 * abs(value)):
        return int(whole) if abs(whole) < 2**53 else float(whole)
    return value


def _excel_value(value: object) -> object:
    """A value Excel can store: NaN blank, ±inf as text, numpy scalars as Python ones."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return clean_number(value)
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, dict):  # a KPI with parts (a re-plan's actuals, a diagnosis): its JSON
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _column_format(table: str, column: str, series: pd.Series, money: MoneyDisplay) -> str | None:
    if column in PCT_COLUMNS:
        return PCT_FORMAT
    if column in INT_COLUMNS or pd.api.types.is_integer_dtype(series):
        return INT_FORMAT
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return None
    if column in RATE_COLUMNS:
        return money.rate
    if column in MONEY_COLUMNS or (table in MONEY_TABLES and column not in ("t",)):
        return money.amount
    if table.startswith("sensitivity") or table in ("limits", "comparison"):
        return NUM_FORMAT
    return QTY_FORMAT


def binding_rows(table: str, df: pd.DataFrame) -> pd.Series:
    """Rows that sit at a limit: capacity ≥ 99.9 % used, budget at a ceiling, cash at its minimum;
    in the sensitivity report, the binding rows of business limits only (the row family's
    declaration says which: stock and cash balances, demand equalities and links always hold
    with no slack and are not marked)."""
    none = pd.Series(False, index=df.index)
    if df.empty:
        return none
    if table == "capacity" and "utilisation" in df:
        return df["utilisation"].fillna(0) >= 0.999
    if table == "budget" and {"allocated", "ceiling"} <= set(df.columns):
        alloc = df["allocated"].astype(float)
        ceiling = df["ceiling"].astype(float)
        tol = 1e-6 * ceiling.abs().clip(lower=1.0)
        at = ceiling.notna() & ceiling.lt(math.inf) & (alloc >= ceiling - tol)
        if {"line", "line_ceiling"} <= set(df.columns):
            total = alloc.groupby(df["line"]).transform("sum")
            line_ceiling = df["line_ceiling"].astype(float)
            at |= line_ceiling.lt(math.inf) & (total >= line_ceiling - 1e-6 * line_ceiling.abs().clip(lower=1.0))
        return at
    if table == "cash" and {"closing", "minimum"} <= set(df.columns):
        minimum = df["minimum"].astype(float)
        return df["closing"].astype(float) <= minimum + 1e-6 * minimum.abs().clip(lower=1000.0)
    if table == "sensitivity_constraints" and "binding" in df:
        # the model's declarations, loaded only for a solved plan's sheets (templates stay light)
        from formulations.registry import row_family

        limit = (df["constraint"].map(lambda name: row_family(str(name)).is_business_limit)
                 if "constraint" in df else pd.Series(False, index=df.index))
        return df["binding"].astype(bool) & limit.astype(bool)
    return none


# what an orange row means, beside each plan sheet's header
LIMIT_LEGENDS = {
    "capacity": "orange rows: the resource is full (≥ 99.9 % of its regular hours used)",
    "budget": "orange rows: the allocation is at its period ceiling, or the line at its horizon ceiling",
    "cash": "orange rows: closing cash at its required minimum",
}


def _frame_sheet(wb: Workbook, title: str, table: str, df: pd.DataFrame, money: MoneyDisplay,
                 columns: Iterable[tuple[str, str]] | None = None, preamble: Iterable[str] = ()) -> Worksheet:
    """One formatted table: optional preamble lines, styled and frozen header, formats, highlights
    (with their legend beside the header)."""
    ws = wb.create_sheet(title[:31])
    pre = list(preamble)
    for k, line in enumerate(pre, start=1):
        ws.cell(row=k, column=1, value=line).font = TITLE_FONT if k == 1 else Font(italic=True)
    header_row = len(pre) + (2 if pre else 1)
    if columns is None:
        columns = [(c, c) for c in df.columns]
    columns = [(c, h) for c, h in columns if c in df.columns]
    for c, (_, head) in enumerate(columns, start=1):
        ws.cell(row=header_row, column=c, value=head)
    formats = [_column_format(table, c, df[c], money) for c, _ in columns]
    binding = binding_rows(table, df).to_numpy()
    arrays = [df[c].to_numpy(dtype=object) for c, _ in columns]
    for k in range(len(df)):
        r = header_row + 1 + k
        for c, (arr, fmt) in enumerate(zip(arrays, formats, strict=True), start=1):
            value = _excel_value(arr[k])
            if value is None:
                continue
            cell = _write_cell(ws, r, c, value)
            if fmt and not isinstance(value, (str, bool)):
                cell.number_format = fmt
            if binding[k]:
                cell.fill = BINDING_FILL
    _style_header(ws, header_row)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    if len(df):
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(columns))}{header_row + len(df)}"
    _fit_columns(ws, header_row)
    if table in LIMIT_LEGENDS and binding.any():
        legend = ws.cell(row=header_row, column=len(columns) + 2, value=LIMIT_LEGENDS[table])
        legend.fill, legend.font = BINDING_FILL, Font(italic=True)
    return ws


MEASURE_FORMATS = {"quantity": QTY_FORMAT, "hours": QTY_FORMAT, "fraction": PCT_FORMAT}


def _month_across_sheet(wb: Workbook, title: str, table: str, df: pd.DataFrame, money: MoneyDisplay) -> Worksheet:
    """A month-across view (solver.io.month_across): keys and measure, one column per period,
    the total; each row formatted by its measure; a full resource or an allocation at its
    ceiling marked cell by cell."""
    from solver.io.month_across import KINDS, MEASURE, TOTAL

    ws = wb.create_sheet(title[:31])
    columns = list(df.columns)
    periods = columns[columns.index(MEASURE) + 1:columns.index(TOTAL)]
    for c, head in enumerate(columns, start=1):
        ws.cell(row=1, column=c, value=head)
    at_limit = _limit_cells(table, df, periods)
    arrays = [df[c].to_numpy(dtype=object) for c in columns]
    measures = df[MEASURE].to_numpy(dtype=object)
    for k in range(len(df)):
        kind = KINDS.get(str(measures[k]), "quantity")
        fmt = money.amount if kind == "money" else MEASURE_FORMATS[kind]
        for c, (name, arr) in enumerate(zip(columns, arrays, strict=True), start=1):
            value = _excel_value(arr[k])
            if value is None:
                continue
            cell = _write_cell(ws, k + 2, c, value)
            if not isinstance(value, (str, bool)):
                cell.number_format = fmt
            if (k, name) in at_limit:
                cell.fill = BINDING_FILL
    _style_header(ws, 1)
    ws.freeze_panes = ws.cell(row=2, column=columns.index(MEASURE) + 2)
    if len(df):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(df) + 1}"
    _fit_columns(ws)
    if at_limit:
        legend = ws.cell(row=1, column=len(columns) + 2, value=MONTH_LEGENDS[table])
        legend.fill, legend.font = BINDING_FILL, Font(italic=True)
    return ws


MONTH_LEGENDS = {"capacity": "orange cells: the resource is full that month (≥ 99.9 % used)",
                 "budget": "orange cells: allocated at the period ceiling"}


def _limit_cells(table: str, df: pd.DataFrame, periods: list[str]) -> set[tuple[int, str]]:
    """(row, period) cells of a month-across view that sit at a limit."""
    from solver.io.month_across import MEASURE

    cells: set[tuple[int, str]] = set()
    if table == "capacity":
        for k in np.flatnonzero(df[MEASURE].eq("utilisation").to_numpy()):
            cells |= {(int(k), p) for p in periods if float(df[p].iloc[k]) >= 0.999}
    if table == "budget":
        for line in df["line"].unique():
            rows = df[df["line"].eq(line)]
            alloc, ceiling = rows[rows[MEASURE].eq("allocated")], rows[rows[MEASURE].eq("ceiling")]
            if alloc.empty or ceiling.empty:
                continue
            for p in periods:
                a, c = float(alloc[p].iloc[0]), float(ceiling[p].iloc[0])
                if math.isfinite(c) and a >= c - 1e-6 * max(abs(c), 1.0):
                    cells.add((int(alloc.index[0]), p))
    return cells


def _budget_with_running_totals(df: pd.DataFrame) -> pd.DataFrame:
    """The budget table with, for carry-over lines, the allocation and spending so far and what
    is carried over: a carry-over line may spend more than a month's allocation, never more
    than the allocation so far."""
    if df.empty or not {"line", "allocated", "spent", "carryover"} <= set(df.columns):
        return df
    carry = df["carryover"].astype(str).str.lower().eq("true")
    if not carry.any():
        return df
    order = df.sort_values(["line", "t"] if "t" in df else ["line"], kind="stable")
    alloc = order.groupby("line")["allocated"].cumsum()
    spent = order.groupby("line")["spent"].cumsum()
    out = df.copy()
    out["allocated_cumulative"] = alloc.where(carry)
    out["spent_cumulative"] = spent.where(carry)
    out["carried_over"] = (alloc - spent).where(carry)
    return out


def _kpi_sheet(wb: Workbook, kpis: Mapping[str, object], money: MoneyDisplay) -> Worksheet:
    ws = wb.create_sheet("summary", 0)
    ws["A1"] = f"prodbudget plan · {kpis.get('name', '')} · scenario {kpis.get('scenario', '')}"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = money.note
    ws["A2"].font = Font(italic=True, color="808080")
    ws.append(["KPI", "value", "key"])
    _style_header(ws, 3)
    order = [k for k in KPI_LABELS if k in kpis] + [k for k in kpis if k not in KPI_LABELS]
    for key in ["status", "message"] + [k for k in order if k not in ("status", "message")]:
        if key not in kpis:
            continue
        value = _excel_value(kpis[key])
        r = ws.max_row + 1
        _set_text(ws.cell(row=r, column=1), KPI_LABELS.get(key, key.replace("_", " ")))
        cell = ws.cell(row=r, column=2)
        if isinstance(value, str):
            _set_text(cell, value)
        else:
            cell.value = value
            if isinstance(value, int | float) and not isinstance(value, bool):
                cell.number_format = money.amount if key in KPI_MONEY or "profit" in key else PCT_FORMAT if key in KPI_PCT else (
                    "#,##0.00" if isinstance(value, float) else "#,##0")
        if key in ("objective", "status"):
            cell.font = Font(bold=True)
        _set_text(ws.cell(row=r, column=3), key)
        ws.cell(row=r, column=3).font = Font(color="808080")
    ws.freeze_panes = "A4"
    _fit_columns(ws, 3)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = max(ws.column_dimensions["B"].width or 0, 22)
    return ws


def result_workbook(tables: Mapping[str, pd.DataFrame], kpis: Mapping[str, object],
                    sensitivity: Mapping[str, pd.DataFrame] | None = None,
                    extra: Mapping[str, pd.DataFrame] | None = None, money: str = "auto") -> Workbook:
    """The formatted result workbook: KPI summary first, plan sheets (production, sales, budget
    and capacity each followed by its month-across view), `extra` sheets, then sensitivity.
    `money`: how amounts are shown ("yuan", "wan", "million", or "auto" by their size)."""
    from solver.io.month_across import month_across

    currency = str(kpis.get("currency", "CNY"))
    display = money_display(currency, money, largest_amount(tables, kpis))
    wb = Workbook()
    wb.remove(wb.active)
    _kpi_sheet(wb, kpis, display)
    across = month_across(tables)
    names = [n for n in RESULT_ORDER if n in tables] + [n for n in tables if n not in RESULT_ORDER]
    for name in names:
        df = _budget_with_running_totals(tables[name]) if name == "budget" else tables[name]
        _frame_sheet(wb, name, name, df, display)
        if name in across:
            _month_across_sheet(wb, f"{name} by month", name, across[name], display)
    for name, df in (extra or {}).items():
        _frame_sheet(wb, name, name, df, display)
    if sensitivity:
        note = ("Shadow price = profit gained per unit of extra right-hand side; ranges hold for the plan's "
                "fixed setup and order pattern.")
        if "limits" in sensitivity:
            _frame_sheet(wb, "limits", "limits", sensitivity["limits"], display,
                         preamble=["What limits the plan, ranked by the value of relaxing it by its step "
                                   "(value_basis: measured = re-solved; lower_bound = price × the range it holds for)",
                                   note])
        if "sensitivity_variables" in sensitivity:
            df = sensitivity["sensitivity_variables"]
            cols = list(SOLVER_VARIABLES) + [(c, c) for c in df.columns if c not in dict(SOLVER_VARIABLES)]
            _frame_sheet(wb, "sensitivity_variables", "sensitivity_variables", df, display, cols,
                         preamble=["Sensitivity Report: Variable Cells", note])
        if "sensitivity_constraints" in sensitivity:
            df = _constraint_names(sensitivity["sensitivity_constraints"])
            cols = list(SOLVER_CONSTRAINTS) + [(c, c) for c in df.columns if c not in dict(SOLVER_CONSTRAINTS)]
            _frame_sheet(wb, "sensitivity_constraints", "sensitivity_constraints", df, display, cols,
                         preamble=["Sensitivity Report: Constraints", note, BINDING_LEGEND])
    wb.active = 0
    return wb


def _constraint_names(df: pd.DataFrame) -> pd.DataFrame:
    """A readable Name per row, as Solver shows one: "capacity: line A2, 2027-03"."""
    if df.empty or "name" in df or not {"family", "entity", "period"} <= set(df.columns):
        return df
    def name(family: object, entity: object, period: object) -> str:
        where = ", ".join(str(v) for v in (entity, period) if isinstance(v, str) and v)
        return f"{family}: {where}" if where else str(family)

    return df.assign(name=[name(*v) for v in zip(df["family"], df["entity"], df["period"], strict=True)])


def result_workbook_for(result, extra: Mapping[str, pd.DataFrame] | None = None, money: str = "auto") -> Workbook:
    """The result workbook of a solve (`result_workbook` with the KPIs, currency and sensitivity)."""
    kpis = dict(result.kpis)
    inst = getattr(result, "instance", None)
    if inst is not None:
        kpis.setdefault("currency", inst.currency)
        kpis.setdefault("name", inst.name)
    sens = result.sensitivity.tables() if result.sensitivity is not None else None
    return result_workbook(result.tables, kpis, sens, extra, money)


def write_result_workbook(result, path: str | Path, extra: Mapping[str, pd.DataFrame] | None = None,
                          money: str = "auto") -> Path:
    """`solve --xlsx`: every result table as a formatted sheet, written atomically."""
    return write_workbook_atomically(result_workbook_for(result, extra, money), path)


def tables_workbook(title: str, sheets: Mapping[str, pd.DataFrame], kpis: Mapping[str, object],
                    money: str = "auto", metric_sheets: Iterable[str] = ()) -> Workbook:
    """A formatted workbook of analysis tables (a scenario comparison, rush-order answers): the
    key figures first, then one sheet per table. `metric_sheets` hold one metric per row
    (column `metric`, one column per scenario): each row is formatted by its metric."""
    currency = str(kpis.get("currency", "CNY"))
    display = money_display(currency, money, largest_amount(sheets, kpis))
    wb = Workbook()
    wb.remove(wb.active)
    _kpi_sheet(wb, {"name": title, **kpis}, display)
    wb["summary"]["A1"] = title
    metric = set(metric_sheets)
    for name, df in sheets.items():
        if name in metric:
            _metric_sheet(wb, name, df, display)
        else:
            _frame_sheet(wb, name, name, df, display)
    wb.active = 0
    return wb


def _metric_sheet(wb: Workbook, name: str, df: pd.DataFrame, money: MoneyDisplay) -> Worksheet:
    """A metric × scenario table: percentages for service levels and utilisation, plain numbers
    for weights and counts, money for everything else."""
    ws = _frame_sheet(wb, name, name, df, money)
    values = [c for c in df.columns if c != "metric"]
    for k, metric in enumerate(df["metric"].astype(str), start=2):
        fmt = (PCT_FORMAT if "service" in metric or "utilisation" in metric or metric == "gap" else
               "0.###" if metric == "weight" else money.amount)
        for c in range(2, len(values) + 2):
            cell = ws.cell(row=k, column=c)
            if isinstance(cell.value, int | float):
                cell.number_format = fmt
    return ws
