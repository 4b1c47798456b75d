"""Load and validate an instance (docs/model.md §2, §7) into one immutable `Instance`.

An instance is a folder (`instance.toml` + `<table>.csv`) or one `.xlsx` workbook (one sheet
per table plus a key/value sheet `instance`). Everything is driven by `solver.io.schema`: the
table specs give columns, types, defaults, bounds and references, so no table is described
twice. Validation collects every problem at once; each names file, row and column.

Pipeline: read the sources as text cells -> convert each column (vectorised, reporting bad
cells) -> cross-table checks -> completion (defaults, implied rows, `t` columns).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import logging
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from formulations.data import prepare
from formulations.setup.bigm import explain
from solver.io.instance import (
    BudgetSettings,
    CashSettings,
    Instance,
    PolicySettings,
    fingerprint_of,
    freeze_tables,
)
from solver.io.problems import InputError, Problem
from solver.io.schema import (
    INSTANCE_KEYS,
    INSTANCE_MAPS,
    INSTANCE_SECTIONS,
    TABLE_SPECS,
    TABLES,
    ColumnSpec,
    KeySpec,
    TableSpec,
)

log = logging.getLogger(__name__)

CONFIG_FILE = "instance.toml"
CONFIG_SHEET = "instance"
README_SHEET = "README"  # a workbook's documentation sheet (the template writes one): not read
LISTS_SHEET = "lists"  # the template's drop-down lists (period labels): not read
GRID_TABLE = "demand_grid"  # demand as a product × period grid (sheet, or demand_grid.csv)
GRID_FILE = f"{GRID_TABLE}.csv"
GRID_KEYS = ("product", "channel", "scenario", "price")  # the grid's key columns; the others are periods
_MONTH_LABEL = re.compile(r"\d{4}-\d{2}")
BUILTIN_TERMS = "cash"
SHARE_TOLERANCE = 1e-6
MAX_ROWS_REPORTED = 20  # per check and column; further rows are summarised in one problem
# Input files larger than this are refused before they are read (a 200 MB demand.csv took 60 s
# and 2.3 GB of memory before the first check): far above any plan HiGHS solves in hours.
# The environment variable raises (or lowers) it, in MB; for a workbook it bounds its unpacked size.
MAX_INPUT_MB = 100.0
MAX_INPUT_ENV = "PRODBUDGET_MAX_INPUT_MB"
LARGE_INPUT_MB = 10.0  # inputs above this are announced before they are read (a log warning)

MADE_KINDS = ("product", "component")
MATERIAL_ONLY = ("moq", "order_cost", "terms", "budget_line")  # docs/model.md §7
MADE_ONLY = ("min_lot",)

KEY_SPECS: dict[str, KeySpec] = {k.path: k for k in INSTANCE_KEYS}
MAP_SPECS = {m.section: m for m in INSTANCE_MAPS}
FAMILY_CONVERSION = "family_conversion"  # derived table in Instance.tables: how family demand was split
_NAN_WORDS = frozenset({"nan", "+nan", "-nan"})
# Largest finite magnitude accepted: beyond it the solver's tolerances (1e-7 relative to
# 1e9-scale budgets) no longer separate a plan from noise, and such values are typos or
# "no limit" written as a number (write inf, or leave the cell blank, for that).
LARGEST = 1e12
_BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}
_EXPECTED_OVERRIDE = {("resources", "reserve"): "a fraction 0 <= reserve < 1"}
_PERIOD_COLUMN = "period"
_REF_NOUN = {"item": "an item", "resource": "a resource", "terms": "a terms id"}


# --------------------------------------------------------------------------- public API


def load_instance(path: str | Path, scenario: str = "base") -> Instance:
    """Load, validate and complete an instance; raise `InputError` listing every error."""
    ctx = _validate(Path(path), scenario)
    if any(p.is_error for p in ctx.rep.problems):
        raise InputError(ctx.rep.problems)
    inst = _complete(ctx, str(path))
    unbounded = _check_lot_bounds(ctx, inst)
    if unbounded:
        raise InputError(unbounded + ctx.rep.problems)
    for p in ctx.rep.problems:
        log.warning("%s", p)
    return inst


def validate(path: str | Path, scenario: str = "base") -> list[Problem]:
    """Every error and warning of an instance (never raises for bad data)."""
    ctx = _validate(Path(path), scenario)
    problems = list(ctx.rep.problems)
    if not any(p.is_error for p in problems):
        problems = _check_lot_bounds(ctx, _complete(ctx, str(path))) + problems
    return problems


def load_scenarios(path: str | Path, scenarios: Iterable[str], hint: str = "") -> dict[str, Instance]:
    """Several demand scenarios of one instance, for comparing them: scenario name -> Instance.

    As `load_instance` for each, except that a scenario without demand rows of its own is an
    error (comparing an empty market is a typo or a scenario still to be written; `hint`, with
    `{name}` for the scenario, says how else one can be had), and that the problems of the
    files all scenarios share are reported once: every error of every scenario at once
    (`InputError`), each warning logged once."""
    names = list(dict.fromkeys(scenarios))
    contexts = {s: _validate(Path(path), s, require_scenario=True, scenario_hint=hint) for s in names}
    problems: dict[tuple, Problem] = {}
    for ctx in contexts.values():
        for p in ctx.rep.problems:
            problems.setdefault((p.file, p.row, p.column, p.message, p.severity), p)
    if any(p.is_error for p in problems.values()):
        raise InputError(list(problems.values()))
    out: dict[str, Instance] = {}
    for s, ctx in contexts.items():
        out[s] = _complete(ctx, str(path))
        for p in _check_lot_bounds(ctx, out[s]):
            problems.setdefault((p.file, p.row, p.column, p.message, p.severity), p)
    if any(p.is_error for p in problems.values()):
        raise InputError(list(problems.values()))
    for p in problems.values():
        log.warning("%s", p)
    return out


def scenario_weights(path: str | Path, scenarios: Iterable[str]) -> dict[str, float]:
    """Weights of `scenarios` from `instance.toml`'s `[scenarios]` table (`name = weight`),
    normalised to sum 1; equal weights when the table is absent or empty. A compared scenario
    missing from a non-empty table, or weights of the compared scenarios summing to 0, are
    errors (the table's own names and signs are checked by `load_instance`/`validate`)."""
    scenarios = list(scenarios)
    ctx = _validate(Path(path), scenarios[0] if scenarios else "base")
    if any(p.is_error for p in ctx.rep.problems):
        raise InputError(ctx.rep.problems)
    table: dict[str, float] = ctx.settings["scenarios"]  # type: ignore[index,assignment]
    label = ctx.source.config_label
    if not table:
        return dict.fromkeys(scenarios, 1.0 / len(scenarios)) if scenarios else {}
    missing = [s for s in scenarios if s not in table]
    if missing:
        raise InputError([Problem(label, None, f"scenarios.{s}", f"scenario '{s}' has no weight in [scenarios]",
                                  "a weight for every compared scenario, or no [scenarios] table (equal weights)")
                          for s in missing])
    total = sum(table[s] for s in scenarios)
    if total <= 0:
        raise InputError([Problem(label, None, "scenarios", f"the weights of {', '.join(scenarios)} sum to 0",
                                  "weights >= 0 summing to more than 0")])
    return {s: table[s] / total for s in scenarios}


# --------------------------------------------------------------------------- problem collection


class _Report:
    """Collects problems; `cells` reports many rows of one column with a cap, and problems of
    one `kind` in one file (10,000 unknown columns) are capped likewise: the first
    MAX_ROWS_REPORTED, then one "… and N more" line (`finish`)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._kinds: dict[tuple[str, str], list] = {}  # (file, kind) -> [count, severity]
        # file -> where a row of a table made from it really is: (row, column) -> (row, column)
        # (demand rows made from a demand grid point at the grid's cell)
        self.relocate: dict[str, Callable[[int, str | None], tuple[int, str | None]]] = {}
        self._relocated: set[tuple] = set()

    def add(self, file: str, row: int | None, column: str | None, message: str,
            expected: str = "", severity: str = "error", kind: str | None = None,
            scope: str | None = None) -> None:
        """`kind` caps problems of that kind within `scope` (default: the file), whose name
        the "… and N more" line then carries."""
        if row is not None and file in self.relocate:
            row, column = self.relocate[file](row, column)
            if (file, row, column, message) in self._relocated:  # several rows of one grid row
                return
            self._relocated.add((file, row, column, message))
        if kind is not None:
            seen = self._kinds.setdefault((scope or file, kind), [0, severity])
            seen[0] += 1
            if seen[0] > MAX_ROWS_REPORTED:
                return
        self.problems.append(Problem(file, row, column, message, expected, severity))  # type: ignore[arg-type]

    def finish(self) -> None:
        """Append the "… and N more" line of every capped kind."""
        for (file, kind), (count, severity) in self._kinds.items():
            if count > MAX_ROWS_REPORTED:
                self.add(file, None, None, f"… and {count - MAX_ROWS_REPORTED} more {kind}", "", severity)
        self._kinds.clear()

    def where(self, file: str, column: str | None, values: pd.Series, mask: pd.Series,
              message: Callable[[object], str] | str, expected: str = "") -> None:
        """`cells` for the rows of `values` where `mask` holds (cheap when none does)."""
        if mask.any():
            self.cells(file, column, values[mask], message, expected)

    def file_rows(self, file: str, rows: Iterable[int]) -> list[int]:
        """Rows of a table as the file numbers them (a demand grid's rows for demand made
        from it), each once, in order."""
        move = self.relocate.get(file)
        return list(dict.fromkeys(rows if move is None else (move(r, None)[0] for r in rows)))

    def cells(self, file: str, column: str | None, found: pd.Series,
              message: Callable[[object], str] | str, expected: str = "",
              severity: str = "error", kind: str | None = None) -> None:
        """One problem per row of `found` (index = file row, value = what was found); rows made
        from one cell of a demand grid count once."""
        if file in self.relocate and len(found):
            cells = [self.relocate[file](int(r), column) for r in found.index]
            found = found[~pd.Series(cells, dtype=object).duplicated().to_numpy()]
        for row, value in found.iloc[:MAX_ROWS_REPORTED].items():
            text = message(value) if callable(message) else message
            self.add(file, int(row), column, text, expected, severity, kind)
        extra = len(found) - MAX_ROWS_REPORTED
        if extra > 0:
            self.add(file, None, column, f"… and {extra} more rows with the same problem",
                     expected, severity, kind)


def _closest(word: str, known: Iterable[str]) -> str | None:
    """The known name `word` most likely misspells, if any is close enough."""
    match = difflib.get_close_matches(str(word), [str(k) for k in known], n=1, cutoff=0.6)
    return match[0] if match else None


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    match = _closest(word, known)
    return f"; did you mean '{match}'?" if match else ""


def _listing(values: Iterable[str], limit: int = 8) -> str:
    values = list(values)
    shown = ", ".join(map(str, values[:limit]))
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "")


# --------------------------------------------------------------------------- reading sources


@dataclass
class _RawTable:
    label: str  # "demand.csv" or "plan.xlsx[demand]"
    cells: pd.DataFrame  # stripped text cells; index = row number as the user sees it


@dataclass
class _Source:
    config_label: str
    config: dict[str, tuple[object, int | None]] | None  # key path -> (value, row)
    strict: bool  # TOML values carry types; workbook cells are text to be parsed
    labels: dict[str, str]
    tables: dict[str, _RawTable] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    # workbook cells of period columns (and demand-grid headers) that hold a date, not text:
    # label -> {(row, column): date}; `_period_dates` reads or reports them
    dates: dict[str, dict[tuple[int, str], dt.date]] = field(default_factory=dict)
    reported: set[tuple[str, int, str]] = field(default_factory=set)  # cells already explained


def _read_source(path: Path, rep: _Report) -> _Source:
    if path.name == CONFIG_FILE and path.is_file():  # the folder's instance.toml named directly
        path = path.parent
    if path.is_dir():
        return _read_folder(path, rep)
    if path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_workbook(path, rep)
    what = "is not a folder or an .xlsx workbook" if path.exists() else "does not exist"
    rep.add(str(path), None, None, f"the instance path {what}",
            "a folder with instance.toml and CSV files, or an .xlsx workbook")
    return _Source(str(path), None, True, {t.name: t.file for t in TABLES})


def input_limit_bytes(rep: _Report | None = None) -> float:
    """The per-file input size limit: MAX_INPUT_MB, or the environment's MAX_INPUT_ENV (MB).
    A value that is not a positive number is reported (when `rep` is given) and ignored."""
    text = os.environ.get(MAX_INPUT_ENV, "").strip()
    if text:
        try:
            mb = float(text)
        except ValueError:
            mb = math.nan
        if mb > 0:  # inf allowed: no limit
            return mb * 1e6
        if rep is not None:
            rep.add(f"environment variable {MAX_INPUT_ENV}", None, None, f"'{text}' is not a size in MB",
                    f"a number > 0 (default {MAX_INPUT_MB:g})")
    return MAX_INPUT_MB * 1e6


def _megabytes(size: float) -> str:
    return f"{size / 1e6:,.1f} MB" if size < 1e9 else f"{size / 1e9:,.2f} GB"


def _within_limit(label: str, size: int, limit: float, rep: _Report, what: str = "is") -> bool:
    """Refuse an input above the size limit before reading it; announce a large one."""
    if size > limit:
        rep.add(label, None, None, f"the file {what} {_megabytes(size)}, above the input limit of {_megabytes(limit)}",
                f"a smaller input, or {MAX_INPUT_ENV} set to a larger limit in MB")
        return False
    if size > LARGE_INPUT_MB * 1e6:
        log.warning("%s", f"reading {label}: {_megabytes(size)} (limit {_megabytes(limit)}); this may take a while")
    return True


def _read_input_file(file: Path, label: str, rep: _Report, limit: float, required: bool,
                     folder: Path) -> bytes | None:
    """The bytes of one input file of a folder, or None with the reason reported: missing
    (when required), a directory or other non-file in its place, unreadable, too large."""
    if not file.exists() and not file.is_symlink():
        if required:
            rep.add(label, None, None, "required file is missing", f"{label} in {folder}")
        return None
    if file.is_dir():
        rep.add(label, None, None, "is a directory, not a file", f"{label}: a file in {folder}")
        return None
    if not file.is_file():
        what = "a broken link" if not file.exists() else "not a regular file (a pipe, socket or device)"
        rep.add(label, None, None, f"is {what}", f"{label}: a file in {folder}")
        return None
    try:
        if not _within_limit(label, file.stat().st_size, limit, rep):
            return None
        return file.read_bytes()
    except OSError as exc:
        rep.add(label, None, None, f"cannot be read: {exc.strerror or exc}", "a readable file")
        return None


def _read_folder(folder: Path, rep: _Report) -> _Source:
    src = _Source(CONFIG_FILE, None, True, {t.name: t.file for t in TABLES})
    limit = input_limit_bytes(rep)
    data = _read_input_file(folder / CONFIG_FILE, CONFIG_FILE, rep, limit, True, folder)
    if data is not None:
        src.files[CONFIG_FILE] = data
        src.config = _read_toml(data, rep)
    grid = (folder / GRID_FILE).is_file()
    for spec in TABLES:
        required = spec.required and not (spec.name == "demand" and grid)  # demand may come as a grid
        data = _read_input_file(folder / spec.file, spec.file, rep, limit, required, folder)
        if data is not None:
            src.files[spec.file] = data
            raw = _read_csv(data, spec.file, rep)
            if raw is not None:
                src.tables[spec.name] = raw
    if grid:
        data = _read_input_file(folder / GRID_FILE, GRID_FILE, rep, limit, False, folder)
        if data is not None:
            src.files[GRID_FILE] = data
            src.labels[GRID_TABLE] = GRID_FILE
            raw = _read_csv(data, GRID_FILE, rep)
            if raw is not None:
                src.tables[GRID_TABLE] = raw
    known = [t.file for t in TABLES] + [GRID_FILE]
    for file in sorted(folder.glob("*.csv")):
        if file.name not in known:
            rep.add(file.name, None, None, "unknown table file, ignored" + _did_you_mean(file.name, known),
                    f"one of: {_listing(known, 20)}", "warning", kind="unknown table files", scope=str(folder))
    return src


def _decode(data: bytes, label: str, rep: _Report) -> str | None:
    """UTF-8 text (a BOM is accepted); an error naming line and byte offset otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        rep.add(label, line, _column_at(data, exc.start, label),
                f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at byte offset {exc.start}, line {line})",
                "UTF-8 text; in Excel use 'Save as: CSV UTF-8'")
        return None


def _column_at(data: bytes, offset: int, label: str) -> str | None:
    """The CSV column holding byte `offset` (its header name, else `#k`); None for TOML."""
    if not label.endswith(".csv"):
        return None
    start = data.rfind(b"\n", 0, offset) + 1
    k = data[start:offset].count(b",")  # quoting aside: a good enough pointer into a bad file
    header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")]), [])
    name = header[k].strip() if k < len(header) else ""
    return name if name and name.isprintable() and "\ufffd" not in name else f"#{k + 1}"


def _read_csv(data: bytes, label: str, rep: _Report) -> _RawTable | None:
    text = _decode(data, label, rep)
    if text is None:
        return None
    try:  # fast path: pandas' C parser, every cell as text
        grid = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                           skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError):  # ragged rows, empty file
        try:
            grid = _grid(list(csv.reader(io.StringIO(text, newline=""))))
        except csv.Error as exc:
            rep.add(label, None, None, f"cannot be read as CSV: {exc}", "comma-separated values")
            return None
    return _table_from_grid(grid, label, rep)


def _grid(records: list[list[str]]) -> pd.DataFrame:
    """Records of text cells (header first) as a rectangular frame, short rows padded."""
    width = max((len(r) for r in records), default=0)
    if any(len(r) != width for r in records):
        records = [list(r) + [""] * (width - len(r)) for r in records]
    return pd.DataFrame(records, columns=range(width), dtype=object)


def _table_from_grid(grid: pd.DataFrame, label: str, rep: _Report) -> _RawTable | None:
    """Text grid (row 0 = header) -> stripped cells indexed by the row number in the file."""
    grid = grid.fillna("").astype(str)
    header = [c.strip() for c in grid.iloc[0]] if len(grid) else []
    if not any(header):
        rep.add(label, 1, None, "the header row is missing or blank", "a header row naming the columns")
        return None
    cells = grid.iloc[1:].apply(lambda c: c.str.strip())
    cells.index = pd.RangeIndex(2, len(grid) + 1)
    cells = cells[cells.ne("").any(axis=1)]  # ignore fully blank rows
    keep: list[int] = []
    seen: dict[str, int] = {}  # header name -> first position (a dict: 10,000 columns stay fast)
    for pos, name in enumerate(header):
        if name == "":
            filled = cells[pos][cells[pos].ne("")]
            rep.cells(label, None, filled, lambda v, p=pos: f"column {p + 1} has no header but holds '{v}'",
                      "a header naming every column that holds data", kind="cells without a column header")
        elif name in seen:
            rep.add(label, 1, name, f"column '{name}' appears twice (columns {seen[name] + 1} and {pos + 1})",
                    "each column once", kind="repeated columns")
        else:
            seen[name] = pos
            keep.append(pos)
    cells = cells[keep]
    cells.columns = [header[p] for p in keep]
    return _RawTable(label, cells)


def _read_toml(data: bytes, rep: _Report) -> dict[str, tuple[object, int | None]] | None:
    text = _decode(data, CONFIG_FILE, rep)
    if text is None:
        return None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        rep.add(CONFIG_FILE, int(m.group(1)) if m else None, None, f"not valid TOML: {exc}", "TOML syntax")
        return None
    where = _toml_lines(text.splitlines())
    flat: dict[str, tuple[object, int | None]] = {}
    for key, value in doc.items():
        if isinstance(value, dict) and key in INSTANCE_SECTIONS:
            for sub, v in value.items():
                flat[f"{key}.{sub}"] = (v, where.get((key, sub)))
        elif isinstance(value, dict):
            rep.add(CONFIG_FILE, where.get((None, key)), key,
                    f"unknown section [{key}]" + _did_you_mean(key, INSTANCE_SECTIONS),
                    "sections " + ", ".join(f"[{s}]" for s in INSTANCE_SECTIONS), kind="unknown sections")
        else:
            flat[key] = (value, where.get(("", key)))
    return flat


def _toml_lines(lines: list[str]) -> dict[tuple[str | None, str], int]:
    """Line numbers of TOML keys and section headers, in one pass: (section, key) -> line,
    section "" = top level; (None, name) = the header of section `name`."""
    where: dict[tuple[str | None, str], int] = {}
    current = ""
    for number, line in enumerate(lines, start=1):
        head = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
        if head:
            current = head.group(1).strip("\"'")
            where.setdefault((None, current), number)
            continue
        key = re.match(r"""^\s*(?:"([^"]*)"|'([^']*)'|([^=\s]+))\s*=""", line)
        if key:
            where.setdefault((current, next(g for g in key.groups() if g is not None)), number)
    return where


def _workbook_sheets(path: Path, rep: _Report) -> tuple[bytes, dict[str, list[list[object]]]] | None:
    """The workbook's bytes and its sheets' cell values (formulas resolved, every row read,
    `solver.io.sheets`), or None with the reason reported (too large, unreadable, not a workbook)."""
    from solver.io.sheets import (  # openpyxl: workbooks only
        WorkbookUnreadable,
        read_workbook,
        unpacked_size,
    )

    name = path.name
    limit = input_limit_bytes(rep)
    try:
        if not _within_limit(name, path.stat().st_size, limit, rep):
            return None
        data = path.read_bytes()
    except OSError as exc:
        rep.add(name, None, None, f"cannot be read: {exc.strerror or exc}", "a readable file")
        return None
    if not _within_limit(name, unpacked_size(data), limit, rep, "unpacks to"):
        return None
    try:
        sheets, problems = read_workbook(data, name)
    except WorkbookUnreadable as exc:
        rep.add(name, None, None, f"cannot be opened as an Excel workbook: {exc}", "an .xlsx workbook")
        return None
    for p in problems:
        rep.add(p.file, p.row, p.column, p.message, p.expected, p.severity,
                kind="formula cells that cannot be read" if p.is_error else "stale formula results")
    return data, sheets


def workbook_sheets(path: str | Path) -> tuple[dict[str, list[list[object]]], list[Problem]]:
    """Every sheet of an input workbook as rows of cell values, read as `load_instance` reads
    them (size limit, formulas, every row); raises `InputError` when it cannot be read."""
    rep = _Report()
    read = _workbook_sheets(Path(path), rep)
    rep.finish()
    if read is None:
        raise InputError(rep.problems)
    return read[1], rep.problems


def input_file_bytes(file: str | Path) -> bytes | None:
    """One input file of a folder read as `load_instance` reads it (None when absent);
    raises `InputError` for a directory in its place, an unreadable or too large file."""
    file, rep = Path(file), _Report()
    data = _read_input_file(file, file.name, rep, input_limit_bytes(rep), False, file.parent)
    if rep.problems:
        raise InputError(rep.problems)
    return data


def _read_workbook(path: Path, rep: _Report) -> _Source:
    name = path.name
    src = _Source(f"{name}[{CONFIG_SHEET}]", None, False, {t.name: f"{name}[{t.name}]" for t in TABLES})
    read = _workbook_sheets(path, rep)
    if read is None:
        return src
    src.files[name], sheets = read
    for sheet, rows in sheets.items():
        records = [[_cell_text(v) for v in row] for row in rows]
        if sheet == CONFIG_SHEET:
            src.config = _config_from_records(records, src.config_label, rep)
        elif sheet in TABLE_SPECS or sheet == GRID_TABLE:
            label = src.labels.setdefault(sheet, f"{name}[{sheet}]")
            raw = _table_from_grid(_grid(records), label, rep)
            if raw is not None:
                src.tables[sheet] = raw
                src.dates[label] = _date_cells(sheet, rows, records)
        elif sheet not in (README_SHEET, LISTS_SHEET):
            rep.add(f"{name}[{sheet}]", None, None, "unknown sheet, ignored" + _did_you_mean(sheet, TABLE_SPECS),
                    f"one of: {CONFIG_SHEET}, {_listing(TABLE_SPECS, 20)}", "warning", kind="unknown sheets", scope=name)
    if src.config is None and CONFIG_SHEET not in sheets:
        rep.add(src.config_label, None, None, "required sheet is missing", f"a sheet '{CONFIG_SHEET}' of key/value rows")
    for spec in TABLES:
        if spec.required and spec.name not in sheets and not (spec.name == "demand" and GRID_TABLE in sheets):
            rep.add(src.labels[spec.name], None, None, "required sheet is missing", f"a sheet '{spec.name}' in {name}")
    return src


def _date_cells(sheet: str, rows: list[list[object]], records: list[list[str]]) -> dict[tuple[int, str], dt.date]:
    """Cells of a sheet's period columns that Excel stored as dates (a label like 2027-03 typed
    into a cell not formatted as text, or a date pasted from another workbook), by (row,
    column header); for the demand grid, its header cells (row 1)."""
    if not records:
        return {}
    header = [h.strip() for h in records[0]]
    found: dict[tuple[int, str], dt.date] = {}
    if sheet == GRID_TABLE:
        for value, name in zip(rows[0], header, strict=False):
            if isinstance(value, dt.date) and name:
                found[(1, name)] = value
        return found
    spec = TABLE_SPECS[sheet]
    for pos, name in enumerate(header):
        if name not in spec.column_names or spec.column(name).ref != "periods":
            continue
        for r, row in enumerate(rows[1:], start=2):
            if pos < len(row) and isinstance(row[pos], dt.date):
                found[(r, name)] = row[pos]
    return found


def _cell_text(value: object) -> str:
    """A workbook cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _config_from_records(records: list[list[str]], label: str, rep: _Report) -> dict[str, tuple[object, int | None]]:
    flat: dict[str, tuple[object, int | None]] = {}
    for row, rec in enumerate(records, start=1):
        key = rec[0].strip() if rec else ""
        value = rec[1].strip() if len(rec) > 1 else ""
        if key == "" or (row == 1 and key.lower() == "key"):
            continue
        if key in flat:
            rep.add(label, row, key, f"key '{key}' is given twice (first on row {flat[key][1]})", "each key once")
            continue
        if value != "":
            flat[key] = (value, row)
    return flat


# --------------------------------------------------------------------------- settings


class _Bad(Exception):
    def __init__(self, message: str, expected: str) -> None:
        super().__init__(message)
        self.message, self.expected = message, expected


def _parse_settings(src: _Source, rep: _Report) -> dict[str, object] | None:
    """Typed values of every INSTANCE_KEYS path (defaults applied); None if unusable."""
    if src.config is None:
        return None
    values: dict[str, object] = {m.section: {} for m in INSTANCE_MAPS}
    for path, (value, row) in src.config.items():
        section, _, name = path.partition(".")
        if name and section in MAP_SPECS:  # `[scenarios]`: names are data, values numbers
            m = MAP_SPECS[section]
            try:
                values[section][name] = _key_number(KeySpec(section, name, "float", m.description, min=m.min), value, src.strict)  # type: ignore[index]
            except _Bad as bad:
                rep.add(src.config_label, row, path, bad.message, bad.expected)
            continue
        spec = KEY_SPECS.get(path)
        if spec is None:
            hint = f" ('{path}' is a section: write [{path}])" if path in INSTANCE_SECTIONS else _did_you_mean(path, KEY_SPECS)
            rep.add(src.config_label, row, path, f"unknown key '{path}'{hint}", f"one of: {_listing(KEY_SPECS, 20)}",
                    kind="unknown keys")
            continue
        try:
            values[path] = _convert_key(spec, value, src.strict)
        except _Bad as bad:
            rep.add(src.config_label, row, path, bad.message, bad.expected)
    ok = True
    for spec in INSTANCE_KEYS:
        if spec.path in values:
            continue
        if spec.path in src.config:  # present but bad, already reported
            ok = ok and not spec.required
        elif spec.required:
            rep.add(src.config_label, None, spec.path, f"required key '{spec.path}' is missing", spec.description)
            ok = False
        values[spec.path] = spec.default
    return values if ok else None


def _convert_key(spec: KeySpec, value: object, strict: bool) -> object:
    if spec.dtype == "periods":
        return _convert_periods(value, strict)
    if spec.dtype == "str":
        if isinstance(value, str):
            return value.strip()
        if strict:
            raise _Bad(f"{value!r} is not a string", "a quoted string")
        return str(value)
    number = _key_number(spec, value, strict)
    if spec.dtype == "int":
        if not float(number).is_integer():
            raise _Bad(f"{value!r} is not an integer", "an integer")
        return int(number)
    return number


def _key_number(spec: KeySpec, value: object, strict: bool) -> float:
    expected = "a number" + (f" >= {spec.min:g}" if spec.min is not None else "") + (", or inf" if spec.allow_inf else "")
    if isinstance(value, bool):
        raise _Bad(f"{value!r} is not a number", expected)
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str) and not strict:
        try:
            x = float(value.strip())
        except ValueError:
            raise _Bad(f"'{value}' is not a number", expected) from None
    else:
        raise _Bad(f"{value!r} is not a number", expected)
    if math.isnan(x):
        raise _Bad("NaN is not a valid value", expected)
    if math.isinf(x) and not (spec.allow_inf and x > 0):
        raise _Bad(f"{value} is not allowed here", expected)
    if spec.min is not None and x < spec.min:
        raise _Bad(f"{value} is " + ("negative" if spec.min == 0 else f"below {spec.min:g}"), expected)
    if math.isfinite(x) and abs(x) > LARGEST:
        raise _Bad(f"{value} is beyond ±1e12, the largest magnitude planned reliably"
                   + ("; write inf for no limit" if spec.allow_inf else ""), expected)
    return x


def _convert_periods(value: object, strict: bool) -> tuple[str, ...]:
    expected = "a list of period labels, or an integer n meaning \"1\"..\"n\""
    if isinstance(value, str) and not strict:
        text = value.strip()
        value = int(text) if re.fullmatch(r"\d+", text) else text.split(",")
    if isinstance(value, bool | float):
        raise _Bad(f"{value!r} is not a list of periods or an integer", expected)
    if isinstance(value, int):
        if value < 1:
            raise _Bad(f"{value} periods is not a horizon", "an integer >= 1")
        return tuple(str(i) for i in range(1, value + 1))
    if not isinstance(value, list):
        raise _Bad(f"{value!r} is not a list of periods or an integer", expected)
    labels = [str(p).strip() if isinstance(p, str | int) and not isinstance(p, bool) else None for p in value]
    if not labels or any(p in (None, "") for p in labels):
        raise _Bad("the periods list is empty or holds a blank or non-text label", expected)
    twice = sorted({p for p in labels if labels.count(p) > 1})
    if twice:
        raise _Bad(f"period {', '.join(repr(p) for p in twice)} is listed twice", "each period label once")
    return tuple(labels)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- column conversion


@dataclass
class _Table:
    spec: TableSpec
    label: str
    data: pd.DataFrame  # typed; NA where blank-without-default or invalid; index = file row
    given: pd.DataFrame  # True where the user filled the cell
    present: bool  # the file or sheet was read


def _expected(table: str, col: ColumnSpec) -> str:
    if (table, col.name) in _EXPECTED_OVERRIDE:
        return _EXPECTED_OVERRIDE[(table, col.name)]
    if col.dtype == "bool":
        return "true or false"
    if col.dtype == "str":
        return f"one of: {', '.join(col.choices)}" if col.choices else "a name"
    text = "an integer" if col.dtype == "int" else "a number"
    if col.min is not None and col.max is not None:
        text += f" between {col.min:g} and {col.max:g}"
    elif col.min is not None:
        text += f" >= {col.min:g}"
    elif col.max is not None:
        text += f" <= {col.max:g}"
    return text + (", or inf" if col.allow_inf else "")


def _convert_table(spec: TableSpec, raw: _RawTable | None, label: str, rep: _Report) -> _Table:
    if raw is None:  # optional table not given: empty, nothing to check
        empty = {c.name: pd.Series([], dtype="float64" if c.dtype in ("float", "int") else object)
                 for c in spec.columns}
        return _Table(spec, label, pd.DataFrame(empty), pd.DataFrame(empty).astype(bool), False)
    cells = raw.cells
    _check_header(spec, cells, label, rep)
    data, given = {}, {}
    for col in spec.columns:
        present = col.name in cells.columns
        text = cells[col.name] if present else pd.Series("", index=cells.index, dtype=object)
        given[col.name] = text.ne("")
        data[col.name] = _convert_column(spec.name, col, text, label, present, rep)
    return _Table(spec, label, pd.DataFrame(data, index=cells.index), pd.DataFrame(given, index=cells.index), True)


def _check_header(spec: TableSpec, cells: pd.DataFrame, label: str, rep: _Report) -> None:
    known = spec.column_names
    for name in cells.columns:
        if name not in known:
            rep.add(label, 1, name, f"unknown column '{name}'{_did_you_mean(name, known)}", f"one of: {', '.join(known)}",
                    kind="unknown columns")
    for col in spec.columns:
        if col.required and col.name not in cells.columns:
            required = ", ".join(c.name for c in spec.columns if c.required)
            rep.add(label, 1, col.name, f"required column '{col.name}' is missing", f"a header with the columns {required}")


def _convert_column(table: str, col: ColumnSpec, text: pd.Series, label: str, present: bool,
                    rep: _Report) -> pd.Series:
    """Typed column: defaults filled for blanks, NA where blank-without-default or invalid."""
    blank = text.eq("")
    expected = _expected(table, col)
    if col.required and present and blank.any():
        rep.where(label, col.name, text, blank, "required value is blank", expected)
    if blank.all():  # absent or empty column: nothing to parse (the common case, and fast)
        values = pd.Series(np.nan if col.dtype in ("float", "int") else None, index=text.index,
                           dtype="float64" if col.dtype in ("float", "int") else object)
    else:
        convert = {"str": _to_str, "float": _to_number, "int": _to_number, "bool": _to_bool}[col.dtype]
        values = convert(col, text, blank, label, expected, rep)
    if col.default is not None:
        values = values.where(~blank, col.default)
    return values


def _to_str(col: ColumnSpec, text: pd.Series, blank: pd.Series, label: str, expected: str,
            rep: _Report) -> pd.Series:
    values = text.astype(object).where(~blank, None)
    if col.choices:
        values = values.str.lower()
        bad = ~blank & ~values.isin(col.choices)
        rep.where(label, col.name, text, bad, lambda v: f"'{v}' is not allowed{_did_you_mean(str(v).lower(), col.choices)}", expected)
        values = values.where(~bad, None)
    return values


def _to_number(col: ColumnSpec, text: pd.Series, blank: pd.Series, label: str, expected: str,
               rep: _Report) -> pd.Series:
    num = pd.to_numeric(text.where(~blank), errors="coerce").astype("float64")  # parses inf too
    bad = ~blank & num.isna()
    if bad.any():
        is_nan = text.str.lower().isin(_NAN_WORDS)
        rep.where(label, col.name, text, bad & is_nan, "NaN is not a valid value", expected)
        rep.where(label, col.name, text, bad & ~is_nan, lambda v: f"'{v}' is not a number", expected)
    inf = pd.Series(np.isinf(num.to_numpy()), index=num.index)
    if inf.any():
        bad_inf = inf & ((num < 0) | (not col.allow_inf))
        rep.where(label, col.name, text, bad_inf, lambda v: f"{v} is not allowed here", expected)
        num = num.where(~bad_inf)
    checks = []
    if col.dtype == "int":
        checks.append((num.notna() & ~inf & (num != np.floor(num)), "is not an integer"))
    if col.min is not None:
        checks.append((num < col.min, "is negative" if col.min == 0 else f"is below {col.min:g}"))
    if col.max is not None:
        checks.append((num > col.max, f"is above {col.max:g}"))
    checks.append((~inf & (num.abs() > LARGEST),
                   "is beyond ±1e12, the largest magnitude planned reliably"
                   + ("; write inf for no limit" if col.allow_inf else "")))
    for mask, word in checks:
        mask = mask & num.notna()  # each bad cell is reported once
        if mask.any():
            rep.cells(label, col.name, text[mask], lambda v, w=word: f"{v} {w}", expected)
            num = num.where(~mask)
    return num


def _to_bool(col: ColumnSpec, text: pd.Series, blank: pd.Series, label: str, expected: str,
             rep: _Report) -> pd.Series:
    values = text.str.lower().map(_BOOL_WORDS).astype(object)
    bad = ~blank & values.isna()
    rep.where(label, col.name, text, bad, lambda v: f"'{v}' is not true or false", expected)
    return values.where(values.notna(), None)


# --------------------------------------------------------------------------- cross-table checks


@dataclass
class _Context:
    rep: _Report
    source: _Source
    scenario: str
    settings: dict[str, object] | None
    tables: dict[str, _Table]
    require_scenario: bool = False  # a scenario without demand rows is an error (comparisons)
    scenario_hint: str = ""  # how else such a scenario can be had, said with that error

    @property
    def periods(self) -> tuple[str, ...] | None:
        return None if self.settings is None else self.settings["periods"]  # type: ignore[return-value]

    def df(self, name: str) -> pd.DataFrame:
        return self.tables[name].data

    def label(self, name: str) -> str:
        return self.tables[name].label

    def item_kind(self) -> pd.Series:
        items = self.df("items").dropna(subset=["item"])
        return items.drop_duplicates("item").set_index("item")["kind"]

    def families(self) -> set[str]:
        return set(self.df("families")["family"].dropna())

    def terms_ids(self) -> set[str]:
        return set(self.df("terms")["terms"].dropna()) | {BUILTIN_TERMS}

    def ref_values(self, ref: str) -> set[str] | None:
        """Valid values of a reference target, or None when it cannot be checked."""
        if ref == "periods":
            return None if self.periods is None else set(self.periods)
        if ref == "terms.terms":
            return self.terms_ids()
        table, column = ref.split(".")
        if not self.tables[table].present:
            return None
        return set(self.df(table)[column].dropna())


def _validate(path: Path, scenario: str, require_scenario: bool = False, scenario_hint: str = "") -> _Context:
    rep = _Report()
    src = _read_source(path, rep)
    settings = _parse_settings(src, rep)
    periods: tuple[str, ...] | None = None if settings is None else settings["periods"]  # type: ignore[assignment]
    _period_dates(src, periods, rep)
    _demand_from_grid(src, periods, rep)
    tables = {s.name: _convert_table(s, src.tables.get(s.name), src.labels[s.name], rep) for s in TABLES}
    ctx = _Context(rep, src, scenario, settings, tables, require_scenario, scenario_hint)
    for check in _CHECKS:
        check(ctx)
    rep.finish()
    return ctx


# --------------------------------------------------------------------------- dates and the demand grid


def date_as_period(value: dt.date, periods: Iterable[str] | None) -> str | None:
    """The period a date stands for: its month's label, when the instance's periods are
    months labelled YYYY-MM and that month is one of them (Excel turns a typed 2027-03 into
    1 March 2027; a date pasted from another workbook may be any day of the month); else None:
    with other labels (W1, 1, 2027-Q1) nothing says which period a date falls in."""
    periods = list(periods or ())
    label = f"{value.year:04d}-{value.month:02d}"
    if periods and all(_MONTH_LABEL.fullmatch(p) for p in periods) and label in periods:
        return label
    return None


def date_in_period_cell(value: dt.date, periods: Iterable[str] | None) -> tuple[str | None, str, str]:
    """What to say of a date found where a period label belongs: (the period it is read as, or
    None when it is refused; the message; what was expected). Read as its month when
    `date_as_period` finds one (a warning), else an error saying that the cell holds a date."""
    periods = list(periods or ())
    shown = value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
    period = date_as_period(value, periods)
    if period is not None:
        return period, f"this cell holds a date ({shown}), read as period {period}", \
            f"the period written as text, e.g. {period}"
    month = f"{value.year:04d}-{value.month:02d}"
    monthly = bool(periods) and all(_MONTH_LABEL.fullmatch(p) for p in periods)
    example = month if monthly or not periods else periods[0]
    outside = f" ({month} is not one of the instance's periods {periods[0]} … {periods[-1]})" if monthly else ""
    return None, f"this cell holds a date ({shown}); write the period as text, e.g. {example}{outside}", \
        "a period label of the instance written as text (format the column as text before pasting dates)"


def _explain_date(label: str, row: int, column: str, value: dt.date, periods: tuple[str, ...] | None,
                  src: _Source, rep: _Report) -> str | None:
    """Read a date in a period cell as its month's label (a warning says so) or report it as a
    date (an error that says so); returns the label read, or None."""
    period, message, expected = date_in_period_cell(value, periods)
    if period is not None:
        rep.add(label, row, column, message, expected, "warning", kind="dates read as periods")
        return period
    rep.add(label, row, column, message, expected, kind="dates in period cells")
    src.reported.add((label, row, column))
    return None


def _period_dates(src: _Source, periods: tuple[str, ...] | None, rep: _Report) -> None:
    """Every date in a period column of a workbook sheet: read as its month's label, or
    reported as a date (`_explain_date`); the demand grid's headers are done by the grid."""
    for sheet, raw in src.tables.items():
        if sheet == GRID_TABLE:
            continue
        for (row, column), value in src.dates.get(raw.label, {}).items():
            period = _explain_date(raw.label, row, column, value, periods, src, rep)
            if period is not None and row in raw.cells.index:
                raw.cells.at[row, column] = period


def _demand_from_grid(src: _Source, periods: tuple[str, ...] | None, rep: _Report) -> None:
    """Demand given as a grid (sheet or file `demand_grid`: columns product, channel, optional
    scenario and price, then one column per period holding the quantity) becomes the demand
    table, one row per filled quantity cell. Its headers are checked here, once: every column
    not a key must be a period of the instance (a date header is read or explained as in the
    other sheets). Every later problem of a demand row names the grid's row and, for the
    quantity, the period column it came from. A blank cell is no demand; demand given both
    long (rows in demand) and as a grid is refused."""
    raw = src.tables.pop(GRID_TABLE, None)
    if raw is None or raw.cells.empty:  # no grid, or its header only (the template's): the demand sheet counts
        return
    label, cells = raw.label, raw.cells
    long = src.tables.get("demand")
    if long is not None and len(long.cells):
        rep.add(label, None, None, f"demand is given twice: as rows in {long.label} and as this grid",
                "one of them (the other empty or removed)")
        return
    known = list(GRID_KEYS) + list(periods or ())
    for need in ("product", "channel"):
        if need not in cells.columns:
            rep.add(label, 1, need, f"required column '{need}' is missing",
                    "a header: product, channel[, scenario][, price], then one column per period")
    columns: dict[str, str] = {}  # grid column -> its period
    dates = src.dates.get(label, {})
    for name in cells.columns:
        if name in GRID_KEYS:
            continue
        if (1, name) in dates:
            period = _explain_date(label, 1, name, dates[(1, name)], periods, src, rep)
        elif periods is None or name in periods:
            period = name
        else:
            period = None
            rep.add(label, 1, name, f"column '{name}' is not a period of the instance{_did_you_mean(name, known)}",
                    f"product, channel, scenario, price or a period: {_listing(periods or ())}", kind="unknown columns")
        if period is not None:
            columns[name] = period
    if not {"product", "channel"} <= set(cells.columns):
        return
    keys = [k for k in GRID_KEYS if k in cells.columns]
    flat = cells[keys + list(columns)].rename_axis("_row").reset_index().melt(
        id_vars=["_row", *keys], value_vars=list(columns), var_name="_column", value_name="quantity")
    # row by row, left to right: the order a planner reads the grid in
    flat = flat[flat["quantity"].ne("")].sort_values(["_row", "_column"], key=lambda c: c.map(
        {name: k for k, name in enumerate(columns)}) if c.name == "_column" else c, kind="stable")
    where = list(zip(flat["_row"].astype(int), flat["_column"], strict=True))
    flat = flat.assign(period=flat["_column"].map(columns)).drop(columns=["_row", "_column"])
    flat.index = pd.RangeIndex(1, len(flat) + 1)
    src.tables["demand"] = _RawTable(label, flat.astype(str))
    src.labels["demand"] = label

    def grid_cell(row: int, column: str | None) -> tuple[int, str | None]:
        if not 1 <= row <= len(where):
            return row, column
        grid_row, grid_column = where[row - 1]
        return grid_row, grid_column if column in ("quantity", "period") else column

    rep.relocate[label] = grid_cell


def _check_references(ctx: _Context) -> None:
    for t in ctx.tables.values():
        for col in t.spec.columns:
            known = ctx.ref_values(col.ref) if col.ref else None
            if known is None:
                continue
            if (t.spec.name, col.name) == ("demand", "product"):  # or a sales family
                known = known | ctx.families()
            values = t.data[col.name]
            bad = values.notna() & ~values.isin(known)
            if ctx.source.reported and bad.any():  # a date in a period cell: explained already
                bad &= ~pd.Series([(t.label, int(r), col.name) in ctx.source.reported for r in values.index],
                                  index=values.index)
            if col.ref == "periods":
                ctx.rep.cells(t.label, col.name, values[bad],
                              lambda v: f"period '{v}' is not one of the instance's periods{_did_you_mean(v, ctx.periods or ())}",
                              f"one of: {_listing(ctx.periods or ())}")
            else:
                table, what = col.ref.split(".")
                expected = f"{_REF_NOUN[what]} of {ctx.label(table)}"
                if what == "terms":
                    expected += f" or the built-in '{BUILTIN_TERMS}'"
                ctx.rep.cells(t.label, col.name, values[bad],
                              lambda v, k=known, w=what: f"unknown {w} '{v}'{_did_you_mean(v, k)}", expected)


def _rows_by_name(values: pd.Series) -> dict[str, list[int]]:
    """File rows of each distinct name in `values` (index = file row), in order of first use."""
    out: dict[str, list[int]] = {}
    for row, name in values.dropna().items():
        out.setdefault(name, []).append(int(row))
    return out


def _rows_text(rows: list[int]) -> str:
    return "" if len(rows) < 2 else f" (used on {len(rows)} rows: {_listing(rows, 5)})"


def _check_channel_names(ctx: _Context) -> None:
    """A demand channel missing from channels.csv gets the default terms and service
    (docs/model.md §2). When channels.csv exists, such a name that looks like a misspelt declared
    channel (`电商 Ecommerce` beside `电商 E-commerce`) is an error: it would silently become a
    new channel with other terms and service. Any other one is a warning saying what it gets."""
    channels, demand = ctx.tables["channels"], ctx.tables["demand"]
    if not channels.present or not demand.present:
        return
    declared = list(dict.fromkeys(channels.data["channel"].dropna()))
    spec = TABLE_SPECS["channels"]
    defaults = f"terms '{spec.column('terms').default}', service '{spec.column('service').default}'"
    for name, rows in _rows_by_name(demand.data["channel"]).items():
        if name in declared:
            continue
        hint, used = _did_you_mean(name, declared), _rows_text(ctx.rep.file_rows(demand.label, rows))
        if hint:
            ctx.rep.add(demand.label, rows[0], "channel", f"channel '{name}' is not in {channels.label}{hint}{used}",
                        f"a channel of {channels.label}; for a new channel, a row there")
        else:
            ctx.rep.add(demand.label, rows[0], "channel",
                        f"channel '{name}' is not in {channels.label}: it gets the defaults ({defaults}){used}",
                        "", "warning")


def _charged_lines(ctx: _Context) -> dict[str, tuple[str, int, str]]:
    """Budget lines that spend is charged to: line -> (file label, row, who) of its first
    charger. Materials charge their `budget_line` (default procurement) at order; resources
    charge theirs (default production) for fixed, overtime, setup and variable costs."""
    items, resources = ctx.tables["items"], ctx.tables["resources"]
    charged: dict[str, tuple[str, int, str]] = {}
    mats = items.data[items.data["kind"].eq("material")].dropna(subset=["budget_line"])
    for row, line, item in zip(mats.index, mats["budget_line"], mats["item"], strict=True):
        charged.setdefault(line, (items.label, int(row), f"material '{item}'"))
    res = resources.data.dropna(subset=["budget_line"])
    for row, line, name in zip(res.index, res["budget_line"], res["resource"], strict=True):
        charged.setdefault(line, (resources.label, int(row), f"resource '{name}'"))
    return charged


def _check_budget_line_names(ctx: _Context) -> None:
    """Budget line names must meet: a line given a ceiling (budget_lines.csv, budgets.csv)
    that nothing charges limits nothing, and a charged line the budget files do not name is
    unlimited. Either is an error when the name looks like a misspelling of a line on the
    other side (`procurment`: January's procurement ceiling would silently vanish), else a
    warning for an uncharged line (its ceilings have no effect) and silence for an
    undeclared one (no ceiling is the documented default). A charged line with per-period
    ceilings for some periods only warns, naming the periods left unlimited."""
    charged = _charged_lines(ctx)
    if not charged and not (ctx.tables["budgets"].present or ctx.tables["budget_lines"].present):
        return
    ceilinged: dict[str, None] = {}
    for name in ("budget_lines", "budgets"):
        t = ctx.tables[name]
        for line, rows in _rows_by_name(t.data["line"]).items():
            ceilinged.setdefault(line)
            if line in charged:
                continue
            near = _closest(line, charged)
            hint = "" if near is None else (f"; did you mean '{near}' (charged by {charged[near][2]}, "
                                            f"{charged[near][0]} row {charged[near][1]})?")
            message = f"budget line '{line}' is charged by no material or resource, so its ceilings limit nothing"
            ctx.rep.add(t.label, rows[0], "line", message + hint + _rows_text(rows),
                        "a line that a material (items.csv budget_line, default procurement) or a resource "
                        "(resources.csv budget_line, default production) charges",
                        "error" if hint else "warning")
    uncharged = [line for line in ceilinged if line not in charged]
    for line, (label, row, who) in charged.items():
        if line in ceilinged:
            continue
        hint = _did_you_mean(line, [c for c in ceilinged if c in charged])
        if hint and not _did_you_mean(line, uncharged):  # a misspelt uncharged line is reported above
            ctx.rep.add(label, row, "budget_line",
                        f"budget line '{line}' (charged by {who}) has no ceiling in {ctx.label('budget_lines')} "
                        f"or {ctx.label('budgets')}, so its spend is unlimited{hint}",
                        "a budget line with ceilings; for a new line, a row of its own in budget_lines.csv (blank ceiling = none)")
    _check_partial_period_ceilings(ctx, charged)


def _check_partial_period_ceilings(ctx: _Context, charged: dict[str, tuple[str, int, str]]) -> None:
    t, periods = ctx.tables["budgets"], ctx.periods
    if not t.present or periods is None:
        return
    data = t.data.dropna(subset=["line", "period"])
    for line, rows in _rows_by_name(data["line"]).items():
        if line not in charged:
            continue
        given = set(data.loc[data["line"].eq(line), "period"])
        open_periods = [p for p in periods if p not in given]
        if open_periods and len(given & set(periods)):
            ctx.rep.add(t.label, rows[0], "period",
                        f"budget line '{line}' has per-period ceilings for {len(given & set(periods))} of "
                        f"{len(periods)} periods; {_listing(open_periods)} left unlimited",
                        "a row for every period; ceiling inf for a period meant to be unlimited", "warning")


def _check_duplicates(ctx: _Context) -> None:
    for t in ctx.tables.values():
        key = list(t.spec.key)
        if t.spec.additive_key or not key or t.data.empty:
            continue
        keys = t.data[key].dropna()
        rows = pd.Series(keys.index, index=keys.index)
        first = rows.groupby([keys[k] for k in key], sort=False).transform("first")
        dup = rows[rows.ne(first)]
        ctx.rep.cells(t.label, key[0], dup,
                      lambda r, k=keys, f=first: f"duplicate key {_key_text(k.loc[r])} (first on row {f[r]})",
                      "each (" + ", ".join(key) + ") once")


def _key_text(values: pd.Series) -> str:
    return ", ".join(f"{k}='{v}'" for k, v in values.items())


def _check_item_kinds(ctx: _Context) -> None:
    """Columns that do not apply to the item's kind must be blank (docs/model.md §7)."""
    t = ctx.tables["items"]
    kind, item = t.data["kind"], t.data["item"].fillna("?")
    for cols, applies, who in ((MATERIAL_ONLY, kind.eq("material"), "materials"),
                               (MADE_ONLY, kind.isin(MADE_KINDS), "made items (products and components)")):
        for name in cols:
            bad = kind.notna() & ~applies & t.given[name]
            rows = pd.Series(t.data.index[bad], index=t.data.index[bad])
            ctx.rep.cells(t.label, name, rows, lambda r, k=name: f"'{k}' is filled for {kind[r]} '{item[r]}'",
                          f"a blank cell: '{name}' applies only to {who}")


def _check_bom(ctx: _Context) -> None:
    t, kinds = ctx.tables["bom"], ctx.item_kind()
    bom = t.data.dropna(subset=["parent", "child"])
    parent_kind, child_kind = bom["parent"].map(kinds), bom["child"].map(kinds)
    ctx.rep.cells(t.label, "parent", bom["parent"][parent_kind.eq("material")],
                  lambda v: f"'{v}' is a material (bought), so it cannot be a BOM parent", "a product or component")
    ctx.rep.cells(t.label, "child", bom["child"][child_kind.eq("product")],
                  lambda v: f"'{v}' is a product, so it cannot be a BOM child", "a component or material")
    graph = nx.DiGraph()
    for row, parent, child in zip(bom.index, bom["parent"], bom["child"], strict=True):
        if not graph.has_edge(parent, child):
            graph.add_edge(parent, child, row=row)
    for nodes in nx.strongly_connected_components(graph):
        if len(nodes) == 1 and not graph.has_edge(next(iter(nodes)), next(iter(nodes))):
            continue
        cycle = nx.find_cycle(graph.subgraph(nodes))
        names = " → ".join([str(u) for u, _ in cycle] + [str(cycle[0][0])])
        row = min(graph.edges[u, v]["row"] for u, v in cycle)
        ctx.rep.add(t.label, row, "child", f"BOM cycle {names}", "an acyclic bill of materials")


def _check_demand_products(ctx: _Context) -> None:
    t, kinds = ctx.tables["demand"], ctx.item_kind()
    product = t.data["product"]
    kind = product.map(kinds)
    bad = kind.notna() & kind.ne("product")
    ctx.rep.cells(t.label, "product", product[bad], lambda v: f"'{v}' is a {kinds[v]}, not a product",
                  f"a product of {ctx.label('items')}")


def _check_routings(ctx: _Context) -> None:
    items, routings = ctx.tables["items"], ctx.tables["routings"]
    if not routings.present:
        return
    routed = set(routings.data["item"].dropna())
    made = items.data["kind"].isin(MADE_KINDS) & items.data["item"].notna()
    missing = made & ~items.data["item"].isin(routed)
    ctx.rep.cells(items.label, "item", items.data.loc[missing, "item"],
                  lambda v: f"'{v}' is made but has no routing", f"at least one row for it in {routings.label}")
    kind = routings.data["item"].map(ctx.item_kind())
    ctx.rep.cells(routings.label, "item", routings.data["item"][kind.eq("material")],
                  lambda v: f"'{v}' is a material (bought), so it cannot have a routing", "a product or component")


def _check_terms(ctx: _Context) -> None:
    """Shares sum to 1; collection lags >= 0; payment lags >= -lead_time (docs/model.md §2)."""
    t = ctx.tables["terms"]
    terms = t.data.dropna(subset=["terms"])
    shares = terms.dropna(subset=["share"])
    sums = shares.groupby("terms", sort=False)["share"].sum()
    first = pd.Series(shares.index, index=shares.index).groupby(shares["terms"], sort=False).first()
    off = sums[(sums - 1).abs() > SHARE_TOLERANCE]
    ctx.rep.cells(t.label, "share", pd.Series(off.index, index=first[off.index].values),
                  lambda v: f"the shares of terms '{v}' sum to {sums[v]:g}", "shares of one terms id summing to 1")
    lagged = terms.dropna(subset=["lag"])
    _check_collection_lags(ctx, t, lagged)
    _check_payment_lags(ctx, t, lagged)


def _check_collection_lags(ctx: _Context, t: _Table, lagged: pd.DataFrame) -> None:
    channels = ctx.df("channels").dropna(subset=["channel", "terms"])
    users = channels.groupby("terms")["channel"].first().to_dict()
    defaulted = set(ctx.df("demand")["channel"].dropna()) - set(channels["channel"])
    if defaulted:
        users.setdefault(BUILTIN_TERMS, sorted(defaulted)[0])
    bad = lagged["lag"].lt(0) & lagged["terms"].isin(users)
    ctx.rep.cells(t.label, "lag", lagged.loc[bad, "terms"],
                  lambda v: f"terms '{v}' has a negative lag but channel '{users[v]}' collects by it",
                  "lag >= 0 for collection terms, counted from shipment")


def _check_payment_lags(ctx: _Context, t: _Table, lagged: pd.DataFrame) -> None:
    items = ctx.df("items")
    mats = items[items["kind"].eq("material")].dropna(subset=["terms", "lead_time"])
    if mats.empty:
        return
    shortest = mats.sort_values("lead_time", kind="stable").drop_duplicates("terms").set_index("terms")
    bound = -lagged["terms"].map(shortest["lead_time"])
    bad = bound.notna() & (lagged["lag"] < bound)
    ctx.rep.cells(t.label, "lag", lagged.loc[bad, "terms"],
                  lambda v: (f"terms '{v}' pays earlier than the order: material '{shortest.loc[v, 'item']}' "
                             f"has lead_time {int(shortest.loc[v, 'lead_time'])}"),
                  "lag >= -lead_time of every material paying by these terms")


def _check_stock_targets(ctx: _Context) -> None:
    """A period's target min must not exceed its max (blanks read as the item's defaults)."""
    own = ctx.tables["items"]
    over = own.data["safety_stock"] > own.data["max_stock"]
    ctx.rep.where(own.label, "safety_stock", own.data["safety_stock"], over,
                  lambda v: f"safety_stock {v:g} is above the item's max_stock", "safety_stock <= max_stock")
    t, items = ctx.tables["stock_targets"], ctx.df("items").dropna(subset=["item"]).drop_duplicates("item").set_index("item")
    lo = t.data["min"].fillna(t.data["item"].map(items["safety_stock"]))
    hi = t.data["max"].fillna(t.data["item"].map(items["max_stock"]))
    bad = lo > hi
    rows = pd.Series(t.data.index[bad], index=t.data.index[bad])
    ctx.rep.cells(t.label, "min", rows, lambda r: f"min {lo[r]:g} is above max {hi[r]:g}",
                  "min <= max (blank = the item's safety_stock / max_stock)")


def _check_scenario(ctx: _Context) -> None:
    """A scenario without demand rows is planned with zero demand (stock targets, open orders
    and budgets may still drive a plan): a warning. A scenario name that looks like a misspelt
    one of the file's (`hihg` beside `high`) is an error instead, so a typo is not planned as
    an empty market."""
    t = ctx.tables["demand"]
    if not t.present:
        return
    scenarios = t.data["scenario"].dropna()
    if scenarios.eq(ctx.scenario).any():
        return
    known = sorted(scenarios.unique())
    hint = _did_you_mean(ctx.scenario, known)
    if ctx.require_scenario:
        ctx.rep.add(t.label, None, "scenario", f"no demand rows for scenario '{ctx.scenario}'{hint}",
                    f"one of the scenarios in the file: {_listing(known)}"
                    + (f"; {ctx.scenario_hint.replace('{name}', ctx.scenario)}" if ctx.scenario_hint else ""))
    elif hint:
        ctx.rep.add(t.label, None, "scenario", f"no demand rows for scenario '{ctx.scenario}'{hint}",
                    f"one of the scenarios in the file: {_listing(known)}")
    else:
        ctx.rep.add(t.label, None, "scenario",
                    f"no demand rows for scenario '{ctx.scenario}': it is planned with zero demand"
                    + (f" (scenarios in the file: {_listing(known)})" if known else ""),
                    "", "warning")


def _check_families(ctx: _Context) -> None:
    """Sales families (families.csv): names distinct from items, members are products, each
    (family, product, period) once, shares of a family summing to 1 per period (blank period =
    the mix of every period without rows of its own), and a mix for every family demand row."""
    t = ctx.tables["families"]
    if not t.present:
        return
    fam = t.data.dropna(subset=["family", "product"]).copy()
    kinds = ctx.item_kind()
    clash = fam["family"].isin(kinds.index)
    ctx.rep.cells(t.label, "family", fam.loc[clash, "family"],
                  lambda v: f"family '{v}' is also an item of {ctx.label('items')}", "a family name that is not an item")
    kind = fam["product"].map(kinds)
    bad = kind.notna() & kind.ne("product")
    ctx.rep.cells(t.label, "product", fam.loc[bad, "product"], lambda v: f"'{v}' is a {kinds[v]}, not a product",
                  f"a product of {ctx.label('items')}")
    fam["period"] = fam["period"].fillna("")
    key = ["family", "product", "period"]
    rows = pd.Series(fam.index, index=fam.index)
    first = rows.groupby([fam[k] for k in key], sort=False).transform("first")
    ctx.rep.cells(t.label, "product", rows[rows.ne(first)],
                  lambda r: f"product '{fam.at[r, 'product']}' is listed twice in family '{fam.at[r, 'family']}'"
                            + (f" for period '{fam.at[r, 'period']}'" if fam.at[r, "period"] else "") + f" (first on row {first[r]})",
                  "each (family, product, period) once")
    shares = fam.dropna(subset=["share"])
    groups = shares.groupby(["family", "period"], sort=False)
    sums, first_row = groups["share"].sum(), groups.apply(lambda g: g.index[0], include_groups=False)
    for (f, p), total in sums.items():
        if abs(total - 1) > SHARE_TOLERANCE:
            when = f"for period '{p}'" if p else "in every period"
            ctx.rep.add(t.label, int(first_row[(f, p)]), "share", f"the shares of family '{f}' {when} sum to {total:g}",
                        "shares of one family summing to 1 per period")
    mixes = set(zip(fam["family"], fam["period"], strict=True))
    d = ctx.tables["demand"]
    dem = d.data.dropna(subset=["product", "period"])
    named = dem["product"].isin(set(fam["family"]))
    no_mix = named & np.array([(f, p) not in mixes and (f, "") not in mixes
                               for f, p in zip(dem["product"], dem["period"], strict=True)], dtype=bool)
    ctx.rep.cells(d.label, "period", dem.loc[no_mix, "period"].index.to_series().map(lambda r: (dem.at[r, "product"], dem.at[r, "period"])),
                  lambda v: f"family '{v[0]}' has no mix for period '{v[1]}' in {t.label}",
                  "rows of the family for that period, or rows with a blank period")


def _check_scenario_weights(ctx: _Context) -> None:
    """`[scenarios]` weights name scenarios of demand.csv and do not sum to 0."""
    if ctx.settings is None or not ctx.settings.get("scenarios"):
        return
    weights: dict[str, float] = ctx.settings["scenarios"]  # type: ignore[assignment]
    known = set(ctx.df("demand")["scenario"].dropna())
    config = ctx.source.config or {}
    for name in weights:
        if ctx.tables["demand"].present and name not in known:
            path = f"scenarios.{name}"
            ctx.rep.add(ctx.source.config_label, config.get(path, (None, None))[1], path,
                        f"unknown scenario '{name}'{_did_you_mean(name, known)}",
                        f"one of the scenarios of {ctx.label('demand')}: {_listing(sorted(known))}")
    if sum(weights.values()) <= 0:
        ctx.rep.add(ctx.source.config_label, None, "scenarios", "the scenario weights sum to 0",
                    "weights >= 0 summing to more than 0")


def _check_warnings(ctx: _Context) -> None:
    """Suspicious but loadable data: reported as warnings."""
    items, rep = ctx.tables["items"], ctx.rep
    data = items.data.dropna(subset=["item"])
    demand = ctx.df("demand")
    if ctx.tables["demand"].present and demand["scenario"].eq(ctx.scenario).any():  # else one warning says it
        sold = set(demand.loc[demand["scenario"].eq(ctx.scenario), "product"].dropna())
        fam = ctx.df("families")
        sold |= set(fam.loc[fam["family"].isin(sold), "product"].dropna())
        idle = data["kind"].eq("product") & ~data["item"].isin(sold)
        rep.cells(items.label, "item", data.loc[idle, "item"],
                  lambda v: f"product '{v}' has no demand row in scenario '{ctx.scenario}'", "", "warning")
    channels = ctx.tables["channels"]
    unused = channels.data["channel"].notna() & ~channels.data["channel"].isin(set(demand["channel"].dropna()))
    unused &= ctx.tables["demand"].present  # an unread demand table (missing, refused) says nothing of use
    undeclared = sorted(set(demand["channel"].dropna()) - set(channels.data["channel"].dropna()))
    rep.cells(channels.label, "channel", channels.data.loc[unused, "channel"],
              lambda v: f"channel '{v}' is never used in demand{_did_you_mean(v, undeclared)}", "", "warning")
    if ctx.tables["bom"].present or ctx.tables["items"].present:
        children = set(ctx.df("bom")["child"].dropna())
        orphan = data["kind"].eq("material") & ~data["item"].isin(children)
        rep.cells(items.label, "item", data.loc[orphan, "item"],
                  lambda v: f"material '{v}' is not used in any BOM", "", "warning")
    if ctx.periods is not None:
        n = len(ctx.periods)
        long = data["lead_time"] >= n
        rep.cells(items.label, "lead_time", data.loc[long, "lead_time"],
                  lambda v: f"lead_time {int(v)} is not shorter than the horizon ({n} periods)", "", "warning")
    s = ctx.settings
    if s is not None and s["cash.initial_loan"] > s["cash.credit_limit"]:  # type: ignore[operator]
        rep.add(ctx.source.config_label, None, "cash.initial_loan",
                f"initial_loan {s['cash.initial_loan']:g} exceeds credit_limit {s['cash.credit_limit']:g}",
                "initial_loan <= credit_limit", "warning")


_CHECKS: tuple[Callable[[_Context], None], ...] = (
    _check_references,
    _check_channel_names,
    _check_budget_line_names,
    _check_duplicates,
    _check_item_kinds,
    _check_bom,
    _check_demand_products,
    _check_routings,
    _check_terms,
    _check_stock_targets,
    _check_families,
    _check_scenario,
    _check_scenario_weights,
    _check_warnings,
)


def _check_lot_bounds(ctx: _Context, inst: Instance) -> list[Problem]:
    """With terminal_value > 1 a unit in closing stock can be worth more than it costs: an
    order link then needs a bound from the data (max_stock, budget, cash: formulations/setup/bigm.py),
    and where there is none the plan is unbounded. One error per such material, before any
    solve."""
    if inst.policy.terminal_value <= 1:
        return []
    d = prepare(inst)
    items = ctx.df("items")
    row = {item: int(r) for r, item in items["item"].items()}
    out = []
    for item, what, expected in explain(d.unbounded, inst.policy.terminal_value, inst.periods):
        column = "moq" if d.moq[item] > 0 else "order_cost"  # what makes the order a binary with a big-M
        out.append(Problem(ctx.label("items"), row.get(item), column, what, expected))
    return out


# --------------------------------------------------------------------------- completion


def _complete(ctx: _Context, source: str) -> Instance:
    """The immutable Instance, with every completion of the Instance docstring made."""
    settings, periods = ctx.settings, ctx.periods
    assert settings is not None and periods is not None
    t = {name: tbl.data.reset_index(drop=True) for name, tbl in ctx.tables.items()}
    t["families"]["period"] = t["families"]["period"].fillna("")  # blank = every period (t = 0)
    t["demand"], conversion = expand_families(t["demand"], t["families"])
    t["channels"] = _complete_channels(t["channels"], t["demand"])
    t["terms"] = _complete_terms(t["terms"])
    t["budget_lines"] = _complete_budget_lines(t)
    t["resources"]["plant"] = t["resources"]["plant"].fillna(t["resources"]["resource"])
    t["stock_targets"] = _complete_stock_targets(t["stock_targets"], t["items"])
    for name in ("bom", "open_orders"):
        t[name] = _sum_additive(t[name], TABLE_SPECS[name])
    position = {p: i for i, p in enumerate(periods, start=1)}
    typed = {name: _finish(df, TABLE_SPECS[name], position) for name, df in t.items()}
    typed[FAMILY_CONVERSION] = _finish_conversion(conversion, position)
    if len(conversion):
        log.info("%s", f"{ctx.label('demand')}: {conversion[['family', 'channel', 'period', 'scenario']].drop_duplicates().shape[0]} "
                 f"sales-family rows split into {len(conversion)} product rows by {ctx.label('families')}")
    all_demand = typed["demand"]
    typed["demand"] = all_demand[all_demand["scenario"].eq(ctx.scenario)].reset_index(drop=True)
    return Instance(
        name=str(settings["name"]),
        currency=str(settings["currency"]),
        periods=tuple(periods),
        cash=CashSettings(**_section(settings, "cash")),
        budget=BudgetSettings(**_section(settings, "budget")),
        policy=PolicySettings(**_section(settings, "policy")),
        tables=freeze_tables(typed),
        scenario=ctx.scenario,
        source=source,
        all_demand=all_demand,
        fingerprint=fingerprint_of(ctx.source.files),
    )


def _section(settings: dict[str, object], section: str) -> dict[str, object]:
    return {k.name: settings[k.path] for k in INSTANCE_KEYS if k.section == section}


def _default_rows(spec: TableSpec, key: str, names: list[str]) -> pd.DataFrame:
    """Rows for `names` in column `key`, every other column at its default."""
    data = {c.name: [c.default] * len(names) for c in spec.columns}
    data[key] = names
    return pd.DataFrame(data)


def _append(df: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return df
    if df.empty:
        return rows.astype(object).reset_index(drop=True)
    return pd.concat([df.astype(object), rows.astype(object)], ignore_index=True)


def _complete_channels(channels: pd.DataFrame, demand: pd.DataFrame) -> pd.DataFrame:
    named = demand["channel"].drop_duplicates()
    absent = named[~named.isin(set(channels["channel"]))].tolist()
    return _append(channels, _default_rows(TABLE_SPECS["channels"], "channel", absent))


def _complete_terms(terms: pd.DataFrame) -> pd.DataFrame:
    if terms["terms"].eq(BUILTIN_TERMS).any():
        return terms
    cash = pd.DataFrame({"terms": [BUILTIN_TERMS], "lag": [0], "share": [1.0]})
    return _append(terms, cash)


def _complete_budget_lines(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    items = t["items"]
    named = pd.concat([
        t["budgets"]["line"],
        items.loc[items["kind"].eq("material"), "budget_line"],
        t["resources"]["budget_line"],
    ], ignore_index=True).drop_duplicates()
    lines = t["budget_lines"]
    absent = named[~named.isin(set(lines["line"]))].tolist()
    return _append(lines, _default_rows(TABLE_SPECS["budget_lines"], "line", absent))


def _complete_stock_targets(targets: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    by_item = items.set_index("item")
    targets = targets.copy()
    targets["min"] = targets["min"].fillna(targets["item"].map(by_item["safety_stock"]))
    targets["max"] = targets["max"].fillna(targets["item"].map(by_item["max_stock"]))
    return targets


def _sum_additive(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Repeated keys add up (bom, open_orders); first-occurrence order is kept."""
    key = list(spec.key)
    how = {c.name: ("sum" if c.dtype == "float" else "first") for c in spec.columns if c.name not in key}
    return df.groupby(key, sort=False, as_index=False).agg(how) if len(df) else df


_DTYPES = {"str": str, "float": "float64", "int": "int64", "bool": bool}


def _finish(df: pd.DataFrame, spec: TableSpec, position: dict[str, int]) -> pd.DataFrame:
    """Spec column order and dtypes, plus `t` (1..n) right after `period`."""
    out = pd.DataFrame({c.name: df[c.name].astype(_DTYPES[c.dtype]) if len(df) else pd.Series([], dtype=_DTYPES[c.dtype])
                        for c in spec.columns})
    if _PERIOD_COLUMN in out.columns:
        # a blank period (families: every period) reads t = 0
        out.insert(out.columns.get_loc(_PERIOD_COLUMN) + 1, "t", out[_PERIOD_COLUMN].map(position).fillna(0).astype("int64"))
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- sales families

_CONVERSION_COLUMNS = ["scenario", "family", "channel", "period", "family_quantity", "price", "product", "share", "quantity"]


def expand_families(demand: pd.DataFrame, families: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Demand rows naming a sales family become one row per product of its mix:
    quantity = family quantity · share, at the family row's price. The mix of a period is the
    family's rows for that period, else its rows with a blank period (""); products with share 0
    get no row. A product that ends up with several rows for one (channel, period, scenario) —
    a direct row and family rows, or two families — gets one row with the quantities added and
    the quantity-weighted price (revenue is kept). Returns (product demand, conversion table)."""
    fam_names = set(families["family"]) if len(families) else set()
    is_family = demand["product"].isin(fam_names)
    if not is_family.any():
        return demand, pd.DataFrame(columns=_CONVERSION_COLUMNS)
    rows = demand[is_family].rename(columns={"product": "family", "quantity": "family_quantity"})
    rows = rows.reset_index(names="_row")
    mix = families.loc[families["share"] > 0, ["family", "product", "share", "period"]]
    own = set(zip(mix["family"], mix["period"], strict=True))
    has_own = pd.Series([(f, p) in own for f, p in zip(rows["family"], rows["period"], strict=True)], index=rows.index)
    by_period = rows[has_own].merge(mix, on=["family", "period"], how="inner")
    general = rows[~has_own].merge(mix[mix["period"].eq("")].drop(columns="period"), on="family", how="inner")
    conv = pd.concat([by_period, general], ignore_index=True).sort_values(["_row"], kind="stable")
    conv["quantity"] = conv["family_quantity"] * conv["share"]
    conv = conv[_CONVERSION_COLUMNS].reset_index(drop=True)
    direct = demand[~is_family]
    converted = pd.concat([direct.astype(object), conv[list(demand.columns)].astype(object)], ignore_index=True)
    key = ["product", "channel", "period", "scenario"]
    if converted.duplicated(key).any():
        converted["_revenue"] = converted["price"].astype(float) * converted["quantity"].astype(float)
        merged = converted.groupby(key, sort=False, as_index=False).agg(
            quantity=("quantity", "sum"), price=("price", "first"), _revenue=("_revenue", "sum"))
        positive = merged["quantity"] > 0
        merged.loc[positive, "price"] = merged.loc[positive, "_revenue"] / merged.loc[positive, "quantity"]
        converted = merged[list(demand.columns)]
    return converted.reset_index(drop=True), conv


def _finish_conversion(conv: pd.DataFrame, position: dict[str, int]) -> pd.DataFrame:
    out = conv.astype({c: "float64" for c in ("family_quantity", "price", "share", "quantity")}).reset_index(drop=True)
    out.insert(out.columns.get_loc("period") + 1, "t", out["period"].map(position).astype("int64"))
    return out


# --------------------------------------------------------------------------- other tables


def read_text_table(file: str | Path, label: str | None = None, data: bytes | None = None) -> pd.DataFrame:
    """A CSV file that is not part of an instance (actuals, candidate orders) read as the
    instance's tables are: stripped text cells, index = the row as the user sees it, fully
    blank rows dropped. A file that is not UTF-8, is empty or is not CSV is an `InputError`
    naming it (and the line and byte where the text stops being UTF-8). `data`: the file's
    bytes when the caller has read them already."""
    file = Path(file)
    label = label or file.name
    rep = _Report()
    raw = _read_csv(file.read_bytes() if data is None else data, label, rep)
    if raw is None or any(p.is_error for p in rep.problems):
        raise InputError(rep.problems or [Problem(label, None, None, "cannot be read", "a CSV file with a header row")])
    return raw.cells
