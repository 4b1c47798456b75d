"""Hostile input (issue 6): property-based mutations of a valid instance.

Every mutation that makes the data wrong — a dropped or misspelt column, a wrong type, NaN,
±inf where no limit is meant, a negative, 1e15, an empty table, a duplicate key, an unknown
reference, a BOM cycle, GBK or UTF-16 text, an Excel date in a period column — must give
exit code 2, every message naming the file, the row and the column, no traceback, and nothing
in (or beside) the output folder. Mutations a planner makes innocently — a UTF-8 BOM (Excel's
"CSV UTF-8"), stray blank rows, Chinese names — must load and plan as before.

Most examples call `solver.cli.main.main` in-process (fast); a few run the real CLI as a subprocess.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO, cli
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from solver.io.schema import TABLES

SPECS = {t.name: t for t in TABLES}

TOML = """\
name = "hostile"
currency = "CNY"
periods = ["2027-01", "2027-02", "2027-03"]

[cash]
initial = 10000
"""
BASE: dict[str, list[list[str]]] = {
    "items": [
        ["item", "kind", "unit_cost", "holding_cost", "initial_stock", "lead_time", "terms"],
        ["P1", "product", "10", "0.1", "0", "0", ""],
        ["C1", "component", "4", "0.05", "0", "0", ""],
        ["M1", "material", "2", "0.01", "100", "1", "net30"],
    ],
    "demand": [
        ["product", "channel", "period", "quantity", "price"],
        ["P1", "retail", "2027-01", "10", "50"],
        ["P1", "retail", "2027-02", "12", "50"],
        ["P1", "web", "2027-03", "5", "55"],
    ],
    "channels": [
        ["channel", "terms", "service", "backlog_cost", "lost_cost"],
        ["retail", "net30", "backlog", "1", "0"],
        ["web", "cash", "lost", "0", "2"],
    ],
    "terms": [["terms", "lag", "share"], ["net30", "1", "1"]],
    "bom": [["parent", "child", "quantity"], ["P1", "C1", "1"], ["C1", "M1", "2"]],
    "resources": [
        ["resource", "capacity", "overtime_max", "overtime_cost", "fixed_cost"],
        ["L1", "100", "10", "5", "10"],
    ],
    "routings": [
        ["item", "routing", "resource", "hours_per_unit", "setup_hours", "setup_cost"],
        ["P1", "main", "L1", "1", "0", "0"],
        ["C1", "main", "L1", "0.5", "0", "0"],
    ],
    "budgets": [["line", "period", "ceiling"], ["production", "2027-01", "5000"]],
}


@dataclass
class Case:
    """An instance as rows of text cells, plus how each file is written."""

    tables: dict[str, list[list[str]]]
    encoding: dict[str, str]
    bom: set[str]
    blank_after: dict[str, list[int]]  # table -> data positions followed by a blank row
    what: str = ""

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "instance.toml").write_text(TOML, encoding="utf-8")
        for name, rows in self.tables.items():
            lines = []
            for k, row in enumerate(rows):
                lines.append(",".join(row))
                if k in self.blank_after.get(name, []):
                    lines.append("" if k % 2 else "," * (len(rows[0]) - 1))
            data = ("\n".join(lines) + "\n").encode(self.encoding.get(name, "utf-8"))
            if name in self.bom:
                data = b"\xef\xbb\xbf" + data
            (folder / f"{name}.csv").write_bytes(data)
        return folder


def base_case() -> Case:
    return Case({k: [list(r) for r in v] for k, v in BASE.items()}, {}, set(), {})


LOCATED = re.compile(r"^(error|warning): (?P<file>[\w.]+\.(csv|toml)), row (?P<row>\d+)(, (column|key) '[^']+')?: (?P<msg>.*)$")


def assert_rejected(case: Case, rc: int, stdout: str, stderr: str, out: Path) -> None:
    __tracebackhide__ = True
    text = stdout + stderr
    assert rc == 2, f"{case.what}: exit {rc}\n{text}"
    assert "Traceback" not in text, text
    assert not out.exists(), case.what
    assert not list(out.parent.glob(f".{out.name}*")), "a temporary output folder was left"
    lines = [ln for ln in stderr.splitlines() if ln.startswith(("error:", "warning:"))]
    assert any(ln.startswith("error:") for ln in lines), f"{case.what}: no error line\n{text}"
    for ln in lines:
        m = LOCATED.match(ln)
        assert m, f"{case.what}: message without file and row: {ln!r}"
        if ", column '" not in ln and ", key '" not in ln:  # a header-less column names its position
            assert re.search(r"\bcolumn \d+\b", m["msg"]), f"{case.what}: message without a column: {ln!r}"


# ----------------------------------------------------------------------------- mutations

NUMERIC = [(t, c.name) for t in BASE for c in SPECS[t].columns
           if c.dtype in ("float", "int") and c.name in BASE[t][0]]
NONNEG = [(t, c) for t, c in NUMERIC if next(x for x in SPECS[t].columns if x.name == c).min == 0]
NO_INF = [(t, c) for t, c in NUMERIC if not next(x for x in SPECS[t].columns if x.name == c).allow_inf]
REQUIRED = [(t, c.name) for t in BASE for c in SPECS[t].columns if c.required and c.name in BASE[t][0]]
COLUMNS = [(t, c) for t in BASE for c in BASE[t][0]]
REFERENCES = [("demand", "product"), ("routings", "item"), ("routings", "resource"), ("bom", "parent"),
              ("bom", "child"), ("items", "terms"), ("channels", "terms")]
KEYED = ["items", "demand", "channels", "resources", "routings", "budgets", "terms"]  # bom adds up
PERIOD_COLUMNS = [("demand", "period"), ("budgets", "period")]
EXCEL_DATES = ["2027/1/1", "1/1/2027", "46388", "2027-01-01 00:00:00", "Jan-27", "2027-1"]


def col_index(case: Case, table: str, column: str) -> int:
    return case.tables[table][0].index(column)


def set_cell(case: Case, draw, table: str, column: str, value: str, *, nonblank: bool = True) -> None:
    j = col_index(case, table, column)
    rows = [k for k in range(1, len(case.tables[table])) if case.tables[table][k][j] or not nonblank]
    k = draw(st.sampled_from(rows))
    case.tables[table][k][j] = value
    case.what += f"{table}.csv row {k + 1} {column}={value!r}; "


def m_drop_column(case, draw):
    t, c = draw(st.sampled_from([(t, c) for t, c in REQUIRED if c in case.tables[t][0]]))
    j = col_index(case, t, c)
    for row in case.tables[t]:
        del row[j]
    case.what = f"drop {t}.{c}"


def m_rename_column(case, draw):
    t, c = draw(st.sampled_from(COLUMNS))
    j = col_index(case, t, c)
    new = draw(st.sampled_from([c + "s", c[:-1], c + "_x", "x" + c]))
    if new in case.tables[t][0]:
        new += "_"
    case.tables[t][0][j] = new
    case.what = f"rename {t}.{c} -> {new}"


def m_wrong_type(case, draw):
    t, c = draw(st.sampled_from(NUMERIC))
    spec = next(x for x in SPECS[t].columns if x.name == c)
    words = ["abc", "ten", "1.2.3", "TRUE", "12kg", "¥5", "五"] + (["1.5", "2.25"] if spec.dtype == "int" else [])
    set_cell(case, draw, t, c, draw(st.sampled_from(words)))


def m_nan(case, draw):
    t, c = draw(st.sampled_from(NUMERIC))
    set_cell(case, draw, t, c, draw(st.sampled_from(["nan", "NaN", "NAN", "-nan"])))


def m_inf(case, draw):
    if draw(st.booleans()):
        t, c = draw(st.sampled_from(NUMERIC))
        set_cell(case, draw, t, c, draw(st.sampled_from(["-inf", "-Infinity"])))
    else:
        t, c = draw(st.sampled_from(NO_INF))
        set_cell(case, draw, t, c, draw(st.sampled_from(["inf", "Infinity", "+inf"])))


def m_negative(case, draw):
    t, c = draw(st.sampled_from(NONNEG))
    set_cell(case, draw, t, c, draw(st.sampled_from(["-1", "-0.5", "-1000"])))


def m_huge(case, draw):
    t, c = draw(st.sampled_from(NUMERIC))
    set_cell(case, draw, t, c, draw(st.sampled_from(["1e15", "-1e15", "2e13", "1000000000000000"])))


def m_empty_table(case, draw):
    t = draw(st.sampled_from(["items", "resources", "routings"]))
    case.tables[t] = case.tables[t][:1]
    case.what = f"empty {t}"


def m_duplicate_key(case, draw):
    t = draw(st.sampled_from(KEYED))
    k = draw(st.integers(1, len(case.tables[t]) - 1))
    row = list(case.tables[t][k])
    if t == "terms":  # same (terms, lag); the share sum also breaks
        row[2] = "0"
    case.tables[t].insert(draw(st.integers(1, len(case.tables[t]))), row)
    case.what = f"duplicate {t} row {k + 1}"


def m_unknown_reference(case, draw):
    t, c = draw(st.sampled_from(REFERENCES))
    set_cell(case, draw, t, c, draw(st.sampled_from(["ghost", "P9", "产品X", "net99"])))


def m_cycle(case, draw):
    case.tables["items"].append(["C2", "component", "1", "0", "0", "0", ""])
    case.tables["routings"].append(["C2", "main", "L1", "1", "0", "0"])
    case.tables["bom"] += [["C1", "C2", "1"], ["C2", "C1", "1"]] if draw(st.booleans()) else [["C1", "C1", "1"]]
    case.what = "BOM cycle"


def m_encoding(case, draw):
    for rows in case.tables.values():  # Chinese names everywhere, so GBK bytes differ from UTF-8
        for row in rows[1:]:
            row[:] = [v.replace("P1", "产品一") for v in row]
    t = draw(st.sampled_from(["items", "demand", "bom", "routings"]))
    enc = draw(st.sampled_from(["gbk", "gb18030", "utf-16", "utf-16-le"]))
    case.encoding[t] = enc
    case.what = f"{t}.csv in {enc}"


def m_excel_date(case, draw):
    t, c = draw(st.sampled_from(PERIOD_COLUMNS))
    set_cell(case, draw, t, c, draw(st.sampled_from(EXCEL_DATES)))


# applied in this order: cell edits, then added rows, then header edits, emptying a table last
MUTATIONS = [m_wrong_type, m_nan, m_inf, m_negative, m_huge, m_unknown_reference, m_excel_date,
             m_duplicate_key, m_cycle, m_encoding, m_rename_column, m_drop_column, m_empty_table]


def innocent(case: Case, draw) -> None:
    """Harmless noise added on top: BOM, blank rows (must never change the verdict)."""
    names = sorted(case.tables)
    case.bom |= set(draw(st.lists(st.sampled_from(names), max_size=3)))
    for t in draw(st.lists(st.sampled_from(names), max_size=3)):
        if case.encoding.get(t, "utf-8") == "utf-8":
            n = len(case.tables[t])
            case.blank_after[t] = draw(st.lists(st.integers(0, n - 1), max_size=2))


# ----------------------------------------------------------------------------- tests

@pytest.fixture(scope="module")
def base_ok(tmp_path_factory) -> None:
    folder = base_case().write(tmp_path_factory.mktemp("base") / "inst")
    rc, out, err = cli(["solve", str(folder)])
    assert rc == 0, out + err  # the unmutated instance plans


@pytest.mark.solver  # base_ok solves the unmutated instance
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # the failure report names the mutation
@given(data=st.data())
def test_bad_input_is_rejected_with_located_messages(base_ok, data):
    case = base_case()
    chosen = data.draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2, unique=True))
    for mutate in sorted(chosen, key=MUTATIONS.index):
        mutate(case, data.draw)
    innocent(case, data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        folder = case.write(Path(tmp) / "inst")
        out = Path(tmp) / "plan"
        rc, stdout, stderr = cli(["solve", str(folder), "--out", str(out)])
        assert_rejected(case, rc, stdout, stderr, out)


@pytest.mark.solver
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_bom_blank_rows_and_chinese_names_load_fine(base_ok, data):
    case = base_case()
    if data.draw(st.booleans()):
        for rows in case.tables.values():
            for row in rows[1:]:
                row[:] = [v.replace("P1", "产品一").replace("L1", "一号线") for v in row]
    innocent(case, data.draw)
    case.bom |= {data.draw(st.sampled_from(sorted(case.tables)))}
    with tempfile.TemporaryDirectory() as tmp:
        folder = case.write(Path(tmp) / "inst")
        out = Path(tmp) / "plan"
        rc, stdout, stderr = cli(["solve", str(folder), "--out", str(out)])
        assert rc == 0, stdout + stderr
        assert (out / "summary.json").is_file()


def test_bad_settings_are_located(tmp_path):
    for bad in ("initial = nan", "initial = 1e15", "initial = 'lots'", "initial = -inf", "initail = 5"):
        folder = base_case().write(tmp_path / re.sub(r"\W", "_", bad) / "inst")
        text = (folder / "instance.toml").read_text(encoding="utf-8").replace("initial = 10000", bad)
        (folder / "instance.toml").write_text(text, encoding="utf-8")
        out = folder.parent / "plan"
        rc, stdout, stderr = cli(["solve", str(folder), "--out", str(out)])
        assert rc == 2 and "Traceback" not in stdout + stderr and not out.exists(), bad
        assert re.search(r"instance\.toml, row \d+, key 'cash\.ini", stderr), (bad, stderr)


@pytest.mark.solver  # base_ok
@settings(max_examples=2, deadline=None, phases=[Phase.explicit, Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_real_cli_process_rejects_without_traceback(base_ok, data):
    """The installed entry point, in its own process (no in-process capture to hide anything)."""
    case = base_case()
    data.draw(st.sampled_from([m_encoding, m_huge, m_drop_column, m_excel_date]))(case, data.draw)
    with tempfile.TemporaryDirectory() as tmp:
        folder = case.write(Path(tmp) / "inst")
        out = Path(tmp) / "plan"
        run = subprocess.run([sys.executable, "-m", "solver.cli", "solve", str(folder), "--out", str(out)],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
        assert_rejected(case, run.returncode, run.stdout, run.stderr, out)
