"""Reading the cells of an input workbook as their values, without misreading any.

openpyxl gives a formula cell either its formula text or the result Excel stored with it, and
a workbook written by a script (openpyxl, pandas) stores no result at all: read naively, such
a cell is blank and a default silently applies. And in read-only mode openpyxl trusts the
sheet's stored `<dimension>`, so a stale one cuts a sheet short. Here:

- every sheet is read to its last row, whatever its dimension says;
- a formula of plain arithmetic (numbers, + − * / ^, %, parentheses, cell references on any
  sheet, SUM/MIN/MAX over values and ranges) is evaluated by a small parser, never `eval`;
  a stored result that disagrees with it is reported (the formula's value is used);
- any other formula is read as its stored result; without one it is refused, naming sheet
  and cell;
- a cell holding an Excel error (#DIV/0!, #N/A, ...) is refused.

`read_workbook` returns each sheet's rows of values (None = blank) and the problems found.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

from solver.io.problems import Problem

CONFIG_SHEET = "instance"  # the key/value sheet: a problem there names the key of its row
EVALUATED = "arithmetic of numbers and cell references, SUM, MIN and MAX"
MAX_RANGE_CELLS = 100_000  # a SUM over more cells than this is left to the stored result
_ERROR_VALUES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!")
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")
_ERROR_TYPE = re.compile(rb"""\bt=["']e["']""")


class WorkbookUnreadable(Exception):
    """The file cannot be opened as a workbook (not a zip, no workbook part, ...)."""


@dataclass
class _Cell:
    value: object  # as stored: number, text, None; a formula's text starts with "="
    formula: bool = False
    error: bool = False


class _Unsupported(Exception):
    """The formula is beyond the evaluator; its stored result is used instead."""


# --------------------------------------------------------------------------- public API


def read_workbook(data: bytes, name: str) -> tuple[dict[str, list[list[object]]], list[Problem]]:
    """Every sheet of the workbook `data` (file name `name`) as rows of cell values, formulas
    resolved as the module docstring says; problems are labelled `name[sheet]`."""
    try:
        if not _has_formulas_or_errors(data):  # the common case: one plain read
            return _plain_values(data), []
        book = _Book(data)
    except WorkbookUnreadable:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many types for a broken file
        raise WorkbookUnreadable(str(exc)) from exc
    return book.resolve(name)


def unpacked_size(data: bytes) -> int:
    """Bytes the workbook's parts take unpacked (what is parsed); 0 if it is not a zip file
    (opening it then says why)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        return 0


# --------------------------------------------------------------------------- reading


def _open(data: bytes, data_only: bool):
    return load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)


def _sheets(wb) -> Iterator:
    for ws in wb.worksheets:
        ws.reset_dimensions()  # never trust the stored <dimension>: read to the last row
        yield ws


def _has_formulas_or_errors(data: bytes) -> bool:
    """Whether any worksheet part holds a formula (`<f>`) or an error cell (`t="e"`): a scan
    of the raw XML, much cheaper than reading the cells twice."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with zf.open(info) as part:
                        tail = b""
                        while chunk := part.read(1 << 20):
                            block = tail + chunk
                            if _FORMULA_TAG.search(block) or _ERROR_TYPE.search(block):
                                return True
                            tail = block[-16:]
    except zipfile.BadZipFile as exc:
        raise WorkbookUnreadable(f"not an .xlsx (zip) file: {exc}") from exc
    return False


def _plain_values(data: bytes) -> dict[str, list[list[object]]]:
    wb = _open(data, data_only=True)
    try:
        return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in _sheets(wb)}
    finally:
        wb.close()


class _Book:
    """All cells of a workbook with formulas: stored cells, and the results Excel stored."""

    def __init__(self, data: bytes) -> None:
        self.cells: dict[str, list[list[_Cell]]] = {}
        wb = _open(data, data_only=False)
        try:
            for ws in _sheets(wb):
                self.cells[ws.title] = [[self._cell(c) for c in row] for row in ws.iter_rows()]
        finally:
            wb.close()
        self.cached: dict[str, dict[tuple[int, int], object]] = {title: {} for title in self.cells}
        wanted = {title: {(r, c) for r, row in enumerate(rows) for c, cell in enumerate(row) if cell.formula}
                  for title, rows in self.cells.items()}
        wb = _open(data, data_only=True)
        try:
            for ws in _sheets(wb):
                keys = wanted.get(ws.title)
                if not keys:
                    continue
                for r, row in enumerate(ws.iter_rows(values_only=True)):
                    for c, value in enumerate(row):
                        if (r, c) in keys:
                            self.cached[ws.title][(r, c)] = value
        finally:
            wb.close()
        self._values: dict[tuple[str, int, int], float] = {}

    @staticmethod
    def _cell(cell) -> _Cell:
        value, kind = cell.value, cell.data_type
        if kind == "f":  # text "=25*2", or an ArrayFormula object holding it
            text = str(value if isinstance(value, str) else (getattr(value, "text", None) or ""))
            return _Cell(text if text.startswith("=") else f"={text}", formula=True)
        if kind == "e":
            return _Cell(value, error=True)
        return _Cell(value)

    # ----------------------------------------------------------------- resolution

    def resolve(self, name: str) -> tuple[dict[str, list[list[object]]], list[Problem]]:
        problems: list[Problem] = []
        out: dict[str, list[list[object]]] = {}
        for title, rows in self.cells.items():
            values: list[list[object]] = []
            for r, row in enumerate(rows):
                line: list[object] = []
                for c, cell in enumerate(row):
                    line.append(self._resolved(name, title, r, c, cell, problems) if (cell.formula or cell.error)
                                else cell.value)
                values.append(line)
            out[title] = values
        return out, problems

    def _resolved(self, name: str, title: str, r: int, c: int, cell: _Cell, problems: list[Problem]) -> object:
        where = f"cell {get_column_letter(c + 1)}{r + 1}"

        def report(message: str, expected: str, severity: str = "error") -> None:
            problems.append(Problem(f"{name}[{title}]", r + 1, self._column_name(title, r, c),
                                    f"{where}: {message}", expected, severity))  # type: ignore[arg-type]

        if cell.error:
            report(f"holds the Excel error {cell.value}", "a value")
            return None
        cached = self.cached[title].get((r, c))
        try:
            value = self.value(title, r, c)
        except _Unsupported as why:
            if isinstance(cached, str) and cached.strip().upper() in _ERROR_VALUES:
                report(f"formula {cell.value} stored the Excel error {cached}", "a formula with a value")
                return None
            if cached is None:
                report(f"formula {cell.value} has no stored result and cannot be evaluated here ({why}; prodbudget "
                       f"evaluates {EVALUATED}, and a workbook written by a script stores no results)",
                       "the value itself, or the workbook saved once by Excel or LibreOffice")
            return cached
        if cached is not None and not _same(cached, value):
            report(f"formula {cell.value} evaluates to {value:.12g} but its stored result is {cached!r} (stale); "
                   f"{value:.12g} is used", "a stored result matching the formula (recalculate and save in Excel)",
                   "warning")
        return int(value) if value.is_integer() and abs(value) < 1e15 else value

    def _column_name(self, title: str, r: int, c: int) -> str | None:
        """The header of the cell's column (the key of its row on the `instance` sheet)."""
        rows = self.cells[title]
        if title == CONFIG_SHEET:
            key = rows[r][0].value if rows[r] and c > 0 else None
            return str(key).strip() if key not in (None, "") and not rows[r][0].formula else None
        head = rows[0][c].value if r > 0 and rows and c < len(rows[0]) else None
        return str(head).strip() if isinstance(head, str) and head.strip() and not rows[0][c].formula else None

    def value(self, title: str, r: int, c: int, stack: frozenset = frozenset()) -> float:
        """The number in a cell: a number as stored, a blank as 0, a formula evaluated."""
        key = (title, r, c)
        if key in self._values:
            return self._values[key]
        if key in stack:
            raise _Unsupported("circular reference")
        rows = self.cells.get(title)
        if rows is None:
            raise _Unsupported(f"sheet {title!r}")
        cell = rows[r][c] if r < len(rows) and c < len(rows[r]) else _Cell(None)
        if cell.error:
            raise _Unsupported("error value")
        if cell.formula:
            resolve = lambda sheet, row, col: self.value(sheet or title, row, col, stack | {key})  # noqa: E731
            result = evaluate(str(cell.value), resolve, self._range(title, stack | {key}))
        else:
            result = _number(cell.value)
        self._values[key] = result
        return result

    def _range(self, title: str, stack: frozenset) -> Callable[[str | None, int, int, int, int], list[float]]:
        def cells(sheet: str | None, r0: int, c0: int, r1: int, c1: int) -> list[float]:
            sheet = sheet or title
            rows = self.cells.get(sheet)
            if rows is None:
                raise _Unsupported(f"sheet {sheet!r}")
            if (r1 - r0 + 1) * (c1 - c0 + 1) > MAX_RANGE_CELLS:
                raise _Unsupported("range too large")
            out = []
            for r in range(r0, min(r1, len(rows) - 1) + 1):
                for c in range(c0, min(c1, len(rows[r]) - 1) + 1):
                    cell = rows[r][c]
                    if cell.value is None and not cell.formula:
                        continue  # SUM, MIN and MAX skip blanks
                    out.append(self.value(sheet, r, c, stack))
            return out
        return cells


def _number(value: object) -> float:
    if value is None:
        return 0.0  # a blank cell in arithmetic, as Excel reads it
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Unsupported("not a number")
    return float(value)


def _same(cached: object, value: float) -> bool:
    if isinstance(cached, bool) or not isinstance(cached, int | float):
        return False
    return abs(float(cached) - value) <= 1e-9 * max(1.0, abs(value))


# --------------------------------------------------------------------------- the evaluator

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?\$?[A-Za-z]{1,3}\$?\d+(?![\w(]))
    | (?P<func>[A-Za-z][A-Za-z0-9.]*)\s*\(
    | (?P<op>[-+*/^%(),:])
    )""", re.VERBOSE)
_REF = re.compile(r"(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?\$?(?P<col>[A-Za-z]{1,3})\$?(?P<row>\d+)")
_FUNCTIONS: dict[str, Callable[[list[float]], float]] = {"SUM": math.fsum, "MIN": min, "MAX": max}

Resolve = Callable[[str | None, int, int], float]
Cells = Callable[[str | None, int, int, int, int], list[float]]


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _Unsupported(f"unexpected {text[pos:pos + 10]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))  # type: ignore[arg-type]
        pos = m.end()
    return out


def _parse_ref(text: str) -> tuple[str | None, int, int]:
    m = _REF.fullmatch(text)
    if m is None:
        raise _Unsupported(text)
    sheet = m.group("sheet")
    if sheet and sheet.startswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, int(m.group("row")) - 1, column_index_from_string(m.group("col").upper()) - 1


def evaluate(formula: str, resolve: Resolve, cells: Cells | None = None) -> float:
    """The value of an Excel formula of plain arithmetic (see the module docstring), with
    Excel's precedence (negation, then %, ^, * and /, + and -; ^ left to right). `resolve`
    gives the number in a referenced cell, `cells` the numbers of a range. Anything else
    raises `_Unsupported`; the result is finite or unsupported."""
    tokens = _tokens(formula[1:] if formula.startswith("=") else formula)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(op: str | None = None) -> tuple[str, str]:
        nonlocal pos
        tok = peek()
        if tok is None or (op is not None and tok != ("op", op)):
            raise _Unsupported(f"expected {op or 'more'}")
        pos += 1
        return tok

    def expr() -> float:
        value = term()
        while peek() in (("op", "+"), ("op", "-")):
            value = value + term() if take()[1] == "+" else value - term()
        return value

    def term() -> float:
        value = power()
        while peek() in (("op", "*"), ("op", "/")):
            if take()[1] == "*":
                value *= power()
            else:
                divisor = power()
                if divisor == 0:
                    raise _Unsupported("division by zero")
                value /= divisor
        return value

    def power() -> float:
        value = percent()
        while peek() == ("op", "^"):
            take()
            try:
                value = float(value ** percent())
            except (OverflowError, ZeroDivisionError, TypeError) as exc:
                raise _Unsupported("power") from exc
        return value

    def percent() -> float:
        value = unary()
        while peek() == ("op", "%"):
            take()
            value /= 100.0
        return value

    def unary() -> float:
        if peek() in (("op", "-"), ("op", "+")):
            return -unary() if take()[1] == "-" else unary()
        return primary()

    def primary() -> float:
        kind, text = take()
        if kind == "number":
            return float(text)
        if kind == "ref":
            if peek() == ("op", ":"):
                raise _Unsupported("a range outside SUM, MIN or MAX")
            sheet, row, col = _parse_ref(text)
            return resolve(sheet, row, col)
        if kind == "func":
            name = text.upper()
            if name not in _FUNCTIONS:
                raise _Unsupported(f"function {text}")
            args = [] if peek() == ("op", ")") else arguments()
            take(")")
            return float(_FUNCTIONS[name](args)) if args else 0.0  # Excel: MIN() of no number is 0
        if (kind, text) == ("op", "("):
            value = expr()
            take(")")
            return value
        raise _Unsupported(f"unexpected {text!r}")

    def arguments() -> list[float]:
        values: list[float] = []
        while True:
            tok = peek()
            if tok is not None and tok[0] == "ref" and tokens[pos + 1:pos + 2] == [("op", ":")]:
                values += range_values()
            else:
                values.append(expr())
            if peek() == ("op", ","):
                take()
                continue
            return values

    def range_values() -> list[float]:
        _, first = take()
        take(":")
        kind, last = take()
        if kind != "ref" or cells is None:
            raise _Unsupported("range")
        s0, r0, c0 = _parse_ref(first)
        s1, r1, c1 = _parse_ref(last)
        if s1 is not None and s1 != s0:
            raise _Unsupported("a range across sheets")
        return cells(s0, min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1))

    value = expr()
    if pos != len(tokens):
        raise _Unsupported(f"unexpected {tokens[pos][1]!r}")
    if not math.isfinite(value):
        raise _Unsupported("not finite")
    return value
