"""Output safety and CLI robustness (issue 19 items 1, 2, 5, 6, 8, 9, 10, 11; issue 14 item 9).

Nothing is written outside the folder asked for, nothing an input or a stranger's folder is
replaced, every data string reaches the terminal and the charts verbatim, every failure ends
with a message and the documented exit code (2 bad input or usage, 1 a plan not delivered:
none exists or writing it failed), and nothing partial is left.

Most cases call `solver.cli.main.main` in-process (an exception there is the traceback a user would
see); faults that need a real process (a file-size limit standing for a full disk, the
terminal, racing writers) run the CLI as a subprocess.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from helpers import REPO, TINY, cli

from solver.cli.main import main

pytestmark = pytest.mark.solver


def usage_error(args: list[str | Path], capsys) -> str:
    """The argparse refusal of `args`: exit 2 before anything runs; returns stderr."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    assert exc.value.code == 2
    return capsys.readouterr().err


def prodbudget(*args: str | Path, cwd: Path = REPO, file_size: int | None = None) -> subprocess.CompletedProcess:
    """The real CLI in its own process; `file_size`: RLIMIT_FSIZE in bytes, so a write past it
    fails with EFBIG as a full disk fails with ENOSPC (Python ignores SIGXFSZ)."""

    def limit() -> None:
        if file_size is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))

    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "solver.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, preexec_fn=limit, env=env)


def csv_text(rows: list[list[object]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def named_instance(folder: Path, product: str = "P", channel: str = "shop", resource_name: str = "R",
                   currency: str = "CNY") -> Path:
    """Two periods; demand 5 a period at 20 against 4 hours of capacity (1 h a unit): capacity
    binds, so the sensitivity names the resource; every name is the caller's."""
    folder.mkdir(parents=True)
    (folder / "instance.toml").write_text(f'name = "named"\ncurrency = "{currency}"\nperiods = 2\n\n'
                                          "[cash]\ninitial = 10000\n", encoding="utf-8")
    tables = {
        "items": [["item", "kind", "unit_cost", "holding_cost"], [product, "product", 1, 1]],
        "demand": [["product", "channel", "period", "quantity", "price"], [product, channel, 1, 5, 20],
                   [product, channel, 2, 5, 20]],
        "channels": [["channel", "service"], [channel, "lost"]],
        "resources": [["resource", "capacity"], [resource_name, 4]],
        "routings": [["item", "routing", "resource", "hours_per_unit"], [product, "main", resource_name, 1]],
    }
    for name, rows in tables.items():
        (folder / f"{name}.csv").write_text(csv_text(rows), encoding="utf-8")
    return folder


def digest(folder: Path) -> str:
    """Names and bytes of everything under `folder` (to prove it untouched)."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ----------------------------------------------------------------------------- 1. data names never form paths


def scenario_instance(folder: Path, names: list[str]) -> Path:
    shutil.copytree(TINY / "scenarios_demand", folder)
    rows = [["product", "channel", "period", "quantity", "price", "scenario"]]
    rows += [["P", "shop", t, 30, 10, s] for s in names for t in (1, 2, 3)]
    (folder / "demand.csv").write_text(csv_text(rows), encoding="utf-8")
    toml = (folder / "instance.toml").read_text(encoding="utf-8").split("[scenarios]")[0]
    (folder / "instance.toml").write_text(toml, encoding="utf-8")  # equal weights
    return folder


def test_compare_scenario_names_never_form_paths(tmp_path):
    """Scenarios named `/tmp/x` or `../../x` once made `compare --out` write plan folders
    outside --out, `..` traced back. Now every plan sits in plans/ (robust/) under a safe,
    unique folder name, and plans/index.csv and each summary.json keep the real name."""
    up = "../" * (len(tmp_path.parts) + 2)
    names = ["base", str(tmp_path / "escaped"), up + str(tmp_path / "escaped-rel").lstrip("/"), "..", ".", "a/b",
             "Base", "con"]
    inst = scenario_instance(tmp_path / "inst", names)
    out = tmp_path / "cmp"
    for robust in ([], ["--robust", "--commit", "1"]):
        rc, _, err = cli(["compare", inst, "--scenarios", ",".join(names), "--out", out, "--force", *robust])
        assert rc == 0, err
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp", "inst"], "written beside --out"
        for sub in ["plans"] + (["robust"] if robust else []):
            index = pd.read_csv(out / sub / "index.csv", dtype=str, keep_default_na=False)
            assert list(index["scenario"]) == names
            assert sorted(p.name for p in (out / sub).iterdir() if p.is_dir()) == sorted(index["folder"])
            for scenario, folder in zip(index["scenario"], index["folder"], strict=True):
                assert "/" not in folder and not folder.startswith(".")
                summary = json.loads((out / sub / folder / "summary.json").read_text(encoding="utf-8"))
                assert summary["scenario"] == scenario
    assert not (tmp_path / "escaped").exists()


def test_safe_file_names_are_unique_also_without_case():
    from solver.io.writers import safe_file_names

    names = ["base", "Base", "BASE", "a/b", "a_b", "..", "", "计划 A", "x" * 200]
    files = safe_file_names(names)
    assert len({f.casefold() for f in files.values()}) == len(names)
    assert files["base"] == "base" and files["a_b"] == "a_b"  # plain names keep their own
    assert all(f and not f.startswith(".") and "/" not in f and len(f) <= 64 for f in files.values())
    assert safe_file_names(names) == files  # deterministic


# ----------------------------------------------------------------------------- 2. --force never destroys inputs


@pytest.fixture
def never_solved(monkeypatch):
    """Fail the test if a command gets as far as solving (refusals must come first)."""

    def refuse(*_a, **_k):
        raise AssertionError("the command solved before refusing its output")

    monkeypatch.setattr("solver.cli.solve.solve", refuse)


@pytest.mark.parametrize("case", ["parent of the instance", "the instance", "inside the instance",
                                  "workbook on an input", "workbook inside the instance", "current folder",
                                  "parent of the current folder", "a folder of the user's", "a file"])
def test_force_refuses_outputs_that_would_destroy_something(tmp_path, monkeypatch, never_solved, case):
    """`solve /x/moq --out /x --force` once removed the instance and its neighbours; `--out`
    the instance replaced it, `--xlsx <instance>/demand.csv` overwrote an input, `--out .`
    traced back after the solve. Each is now refused with exit 2, before solving, and
    everything is left as it was."""
    root = tmp_path / "x"
    inst = root / "moq"
    shutil.copytree(TINY / "moq", inst)
    (root / "notes.txt").write_text("mine", encoding="utf-8")
    (root / "thesis").mkdir()
    (root / "thesis" / "ch1.tex").write_text("text", encoding="utf-8")
    cwd = root / "thesis"
    monkeypatch.chdir(cwd)
    args = {
        "parent of the instance": ["--out", root],
        "the instance": ["--out", inst],
        "inside the instance": ["--out", inst / "plan"],
        "workbook on an input": ["--xlsx", inst / "demand.csv"],
        "workbook inside the instance": ["--xlsx", inst / "plan.xlsx"],
        "current folder": ["--out", "."],
        "parent of the current folder": ["--out", ".."],
        "a folder of the user's": ["--out", root / "thesis"],
        "a file": ["--out", root / "notes.txt"],
    }[case]
    before = digest(root)
    rc, _, err = cli(["solve", inst, *args, "--force"])
    assert rc == 2, err
    assert err.startswith("prodbudget: ") and "Traceback" not in err
    assert digest(root) == before


def test_force_replaces_an_earlier_output_whole_and_through_a_symlink(tmp_path):
    """An earlier output (its summary.json) is replaced whole, extra files included; a
    symbolic link is followed (the folder it points to is replaced, the link stays, and no
    `.link.old-*` is left beside it)."""
    real = tmp_path / "runs" / "plan"
    rc, _, err = cli(["solve", TINY / "moq", "--out", real])
    assert rc == 0, err
    (real / "report.html").write_text("old page", encoding="utf-8")
    link = tmp_path / "latest"
    link.symlink_to(real, target_is_directory=True)
    rc, _, err = cli(["solve", TINY / "min_lot", "--out", link, "--force"])
    assert rc == 0, err
    assert link.is_symlink() and real.is_dir()
    assert not (real / "report.html").exists()  # replaced whole
    assert json.loads((real / "summary.json").read_text(encoding="utf-8"))["name"] == "tiny-min-lot"
    assert hidden(tmp_path) == [] and hidden(real.parent) == []
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    rc, _, err = cli(["solve", TINY / "moq", "--out", dangling, "--force"])
    assert rc == 2 and "symbolic link to nothing" in err
    assert not (tmp_path / "nowhere").exists()


def test_actuals_and_convert_replace_only_their_own_kind_of_folder(tmp_path):
    """`actuals --force` replaces an actuals folder (stock.csv, cash.csv), `convert --force`
    an instance folder; neither replaces a folder of the user's."""
    base = tmp_path / "base"
    assert cli(["solve", TINY / "rolling_basic", "--out", base])[0] == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine", encoding="utf-8")
    args = ["actuals", TINY / "rolling_basic", "--baseline", base, "--from", "2027-02", "--force", "--out"]
    rc, _, err = cli([*args, mine])
    assert rc == 2 and "stock.csv and cash.csv" in err
    assert cli([*args, tmp_path / "act"])[0] == 0
    (tmp_path / "act" / "stock.csv").write_text("item,quantity\nP,1\n", encoding="utf-8")
    assert cli([*args, tmp_path / "act"])[0] == 0  # an actuals folder: replaced
    assert "P,1" not in (tmp_path / "act" / "stock.csv").read_text(encoding="utf-8")
    xlsx = tmp_path / "inst.xlsx"
    assert cli(["convert", TINY / "moq", xlsx])[0] == 0
    rc, _, err = cli(["convert", xlsx, mine, "--force"])
    assert rc == 2 and "instance.toml" in err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert cli(["convert", xlsx, tmp_path / "inst"])[0] == 0
    assert cli(["convert", xlsx, tmp_path / "inst", "--force"])[0] == 0


def test_all_outputs_are_checked_before_any_is_written(tmp_path, never_solved):
    """`--out A --xlsx B` with B impossible to write once wrote A and then exited 2."""
    (tmp_path / "file").write_text("a file, not a folder", encoding="utf-8")
    rc, _, err = cli(["solve", TINY / "moq", "--out", tmp_path / "A", "--xlsx", tmp_path / "file" / "B.xlsx"])
    assert rc == 2 and "is a file, not a folder" in err
    rc, _, err = cli(["solve", TINY / "moq", "--out", tmp_path / "A", "--xlsx", tmp_path / "A" / "B.xlsx"])
    assert rc == 2 and "same place" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_failed_workbook_leaves_no_plan_folder_either(tmp_path):
    """Both outputs are staged before either is moved into place: with the workbook failing
    (a file-size limit, as a full disk) the plan folder, whose files fit, is not left alone."""
    rc_run = prodbudget("solve", TINY / "moq", "--out", tmp_path / "A", "--xlsx", tmp_path / "B.xlsx",
                        file_size=4096)
    assert rc_run.returncode == 1, rc_run.stderr
    assert "Traceback" not in rc_run.stderr and "could not write" in rc_run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_output_folders_honour_the_umask(tmp_path, mask):
    """Output folders were 0700 whatever the umask (another user could not `report` them)."""
    old = os.umask(mask)
    try:
        rc, _, err = cli(["solve", TINY / "moq", "--out", tmp_path / "plan", "--xlsx", tmp_path / "plan.xlsx"])
    finally:
        os.umask(old)
    assert rc == 0, err
    assert (tmp_path / "plan").stat().st_mode & 0o777 == 0o777 & ~mask
    assert (tmp_path / "plan" / "summary.json").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (tmp_path / "plan.xlsx").stat().st_mode & 0o777 == 0o666 & ~mask


def test_temporary_folders_of_dead_runs_are_swept(tmp_path):
    """SIGTERM while writing left `.plan.*.tmp` folders that no later run cleaned. A later
    run writing into the same folder removes ours whose process is gone; a live run's and
    anything not ours stay."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        leftovers = [tmp_path / f".plan.{dead.pid}.abcdefgh.tmp", tmp_path / f".other.{dead.pid}.k2j4h6g8.old"]
        keep = [tmp_path / f".plan.{live.pid}.abcdefgh.tmp", tmp_path / ".plan.mine", tmp_path / ".git"]
        for p in leftovers + keep:
            p.mkdir()
            (p / "x.csv").write_text("1", encoding="utf-8")
        rc, _, err = cli(["solve", TINY / "moq", "--out", tmp_path / "plan"])
        assert rc == 0, err
        assert not any(p.exists() for p in leftovers)
        assert all(p.exists() for p in keep)
    finally:
        live.kill()
        live.wait()


def test_a_writer_that_lost_a_race_gets_a_message_not_enotempty(tmp_path):
    """Two runs staging the same --out: the one committing second once failed with
    ENOTEMPTY / FileNotFoundError tracebacks. Without --force it is told the folder was written
    meanwhile; with --force it replaces the other's output whole; no temporary is left."""
    from solver.engine.pipeline import solve
    from solver.io.loading import load_instance
    from solver.io.writers import OutputExistsError, result_filler, stage_folder

    result = solve(load_instance(TINY / "moq"))
    out = tmp_path / "plan"
    first, second = (stage_folder(out, result_filler(result)) for _ in range(2))
    first.commit()
    with pytest.raises(OutputExistsError, match="another run"):
        second.commit()
    assert hidden(tmp_path) == []
    third = stage_folder(out, result_filler(result), force=True)
    fourth = stage_folder(out, result_filler(result), force=True)
    third.commit()
    fourth.commit()
    assert (out / "summary.json").is_file() and hidden(tmp_path) == []


def test_racing_cli_writers_end_with_one_whole_output(tmp_path):
    out = tmp_path / "plan"
    assert cli(["solve", TINY / "moq", "--out", out])[0] == 0
    procs = [subprocess.Popen([sys.executable, "-m", "solver.cli", "solve", str(TINY / "moq"), "--out", str(out),
                               "--force"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    ends = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert all(rc in (0, 1) and "Traceback" not in err for rc, err in ends), ends
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["status"] == "optimal"
    assert hidden(tmp_path) == []


# ----------------------------------------------------------------------------- 5. names reach the terminal verbatim


MARKUP_NAMES = ["[/x]", "P:x:1", "[red]L1[/red]", "[bold]", "[link=http://x]y[/link]"]


@pytest.mark.parametrize("name", MARKUP_NAMES)
def test_names_reach_the_terminal_verbatim(tmp_path, name):
    """`[/x]` crashed validate/solve with a MarkupError, `P:x:1` printed as `P❌1`,
    `[red]L1[/red]` as `L1`."""
    inst = named_instance(tmp_path / "inst", product=name, channel=f"{name}-ch", resource_name=f"{name}-line")
    rc, out, err = cli(["solve", inst, "--sensitivity", "--out", tmp_path / "plan"])
    assert rc == 0, err
    assert f"{name}-line" in out  # the binding capacity, named as in the data
    bad = shutil.copytree(inst, tmp_path / "bad")
    (bad / "demand.csv").write_text(csv_text([["product", "channel", "period", "quantity", "price"],
                                              [f"{name}Z", f"{name}-ch", 1, 5, 20]]), encoding="utf-8")
    rc, _, err = cli(["validate", bad])
    assert rc == 2
    assert f"'{name}Z'" in err


def test_roll_and_insert_print_markup_names_verbatim(tmp_path):
    """`roll` and `insert` crashed on a channel or product named `[/x]`."""
    roll_inst = shutil.copytree(TINY / "rolling_basic", tmp_path / "roll")
    for f in roll_inst.rglob("*.csv"):
        f.write_text(f.read_text(encoding="utf-8").replace("shop", "[/x]"), encoding="utf-8")
    assert cli(["solve", roll_inst, "--out", tmp_path / "rb"])[0] == 0
    rc, out, err = cli(["roll", roll_inst, "--baseline", tmp_path / "rb", "--actuals", roll_inst / "actuals",
                        "--from", "2027-02"])
    assert rc == 0, err
    rush = shutil.copytree(TINY / "rush_basic", tmp_path / "rush")
    for f in rush.rglob("*.csv"):
        f.write_text(f.read_text(encoding="utf-8").replace("widget", "[/x]:x:"), encoding="utf-8")
    assert cli(["solve", rush, "--out", tmp_path / "base"])[0] == 0
    rc, out, err = cli(["insert", rush, "--baseline", tmp_path / "base", "--product", "[/x]:x:", "--quantity", "5",
                        "--due", "W2"])
    assert rc in (0, 1), err
    assert "5 [/x]:x: by W2" in out


def test_sheet_names_and_toml_sections_are_not_swallowed(tmp_path):
    """Issue 14.9: `appliance_bad.xlsx[budgets]` printed as `appliance_bad.xlsx`; TOML section
    errors printed `(expected sections , , , )`."""
    xlsx = tmp_path / "plan.xlsx"
    assert cli(["convert", TINY / "min_lot", xlsx])[0] == 0
    wb = openpyxl.load_workbook(xlsx)
    wb["items"]["C2"] = "abc"
    wb.save(xlsx)
    rc, _, err = cli(["validate", xlsx])
    assert rc == 2 and "plan.xlsx[items], row 2, column 'unit_cost'" in err
    inst = shutil.copytree(TINY / "min_lot", tmp_path / "inst")
    with (inst / "instance.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[bogus]\nx = 1\n")
    rc, _, err = cli(["validate", inst])
    assert rc == 2 and "[bogus]" in err and "[cash]" in err


def test_the_real_terminal_output_is_verbatim(tmp_path):
    """The same through a real process (stdout a pipe, as in scripts and CI logs)."""
    inst = named_instance(tmp_path / "inst", product="[/x]", resource_name="[red]L1[/red]")
    run = prodbudget("solve", inst, "--sensitivity")
    assert run.returncode == 0, run.stderr
    assert "[red]L1[/red]" in run.stdout and "Traceback" not in run.stderr


# ----------------------------------------------------------------------------- 6. names are not TeX in charts


TEX = "P $\\nocmd$"


def test_report_draws_tex_like_names_and_dollars_as_text(tmp_path):
    """A product `P $\\nocmd$` solved, then `report` died in matplotlib's math text; with USD the
    budget title "$408 of … $5k" was set as italic math."""
    inst = named_instance(tmp_path / "inst", product=TEX, resource_name="$x^2$", currency="USD")
    assert cli(["solve", inst, "--out", tmp_path / "plan"])[0] == 0
    rc, _, err = cli(["report", tmp_path / "plan", "--html", tmp_path / "plan" / "report.html"])
    assert rc == 0, err
    assert (tmp_path / "plan" / "report.html").read_text(encoding="utf-8").count("data:image/png") >= 3


def test_compare_and_sweep_charts_draw_tex_like_names(tmp_path):
    inst = scenario_instance(tmp_path / "inst", ["base", "$\\nocmd$"])
    rc, _, err = cli(["compare", inst, "--out", tmp_path / "cmp"])
    assert rc == 0, err
    assert (tmp_path / "cmp" / "comparison.png").stat().st_size > 0
    named = named_instance(tmp_path / "named", resource_name="$\\nocmd$")
    rc, _, err = cli(["sweep", named, "--param", "capacity:$\\nocmd$", "--from", "2", "--to", "6", "--steps", "2",
                      "--jobs", "1", "--out", tmp_path / "sweep"])
    assert rc == 0, err
    assert (tmp_path / "sweep" / "sweep.png").stat().st_size > 0


def test_bench_plots_draw_tex_like_configuration_names(tmp_path):
    from solver.devtools.bench import plot_performance_profile, plot_times_vs_size

    table = pd.DataFrame({"instance": ["a", "a", "b", "b"], "configuration": [TEX, "x", TEX, "x"],
                          "suite": ["$s$"] * 4, "status": ["optimal"] * 4, "solve_s": [1.0, 2.0, 1.5, 1.0],
                          "build_s": [0.1] * 4, "nonzeros": [10, 10, 20, 20]})
    assert plot_performance_profile(table, tmp_path / "p.png").stat().st_size > 0
    assert plot_times_vs_size(table, tmp_path / "t.png").stat().st_size > 0


# ----------------------------------------------------------------------------- 8. a message, not a traceback


DISK_FULL = 512  # bytes a file may grow to: every plan output below is larger


@pytest.mark.parametrize("case", ["solve --out", "solve --xlsx", "solve --out --force", "report", "convert",
                                  "template"])
def test_a_full_disk_ends_with_a_message_and_leaves_nothing(tmp_path, case):
    """Disk full once gave 5 of 5 tracebacks. Now: exit 1, `could not write …`, nothing new
    on disk, and an earlier output that --force was to replace still whole."""
    earlier = tmp_path / "plan"
    assert cli(["solve", TINY / "moq", "--out", earlier])[0] == 0
    before = digest(tmp_path)
    args = {
        "solve --out": ["solve", TINY / "moq", "--out", tmp_path / "new"],
        "solve --xlsx": ["solve", TINY / "moq", "--xlsx", tmp_path / "new.xlsx"],
        "solve --out --force": ["solve", TINY / "moq", "--out", earlier, "--force"],
        "report": ["report", earlier, "--html", tmp_path / "new.html"],
        "convert": ["convert", TINY / "moq", tmp_path / "new.xlsx"],
        "template": ["template", "--out", tmp_path / "new.xlsx"],
    }[case]
    run = prodbudget(*args, file_size=DISK_FULL)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and "could not write" in run.stderr
    assert digest(tmp_path) == before  # nothing partial, no temporary sibling, the earlier plan intact


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    xlsx = tmp_path_factory.mktemp("wb") / "plan.xlsx"
    assert cli(["convert", TINY / "min_lot", xlsx])[0] == 0
    return xlsx


def _with_sheet(src: Path, dst: Path, change) -> Path:
    """`src` with the items sheet's XML changed by `change(bytes) -> bytes`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        names = {ws: f"xl/worksheets/sheet{k}.xml" for k, ws in enumerate(openpyxl.load_workbook(src).sheetnames, 1)}
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, change(data) if info.filename == names["items"] else data)
    return dst


XXE = b'<!DOCTYPE worksheet [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
LAUGHS = (b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">' + b"".join(
    b'<!ENTITY %s "%s">' % (bytes([98 + k]), (b"&%s;" % bytes([97 + k])) * 10) for k in range(9)) + b"]>")


@pytest.mark.parametrize("case", ["truncated", "xxe", "billion laughs", "not a zip"])
@pytest.mark.parametrize("command", ["validate", "solve", "convert"])
def test_a_damaged_or_hostile_workbook_is_refused_with_a_message(tmp_path, workbook, case, command):
    """Truncated sheet XML, an external entity (XXE) or an exponential one (billion laughs)
    were refused by the parser, but as tracebacks; `convert` of a non-zip .xlsx too."""
    bad = tmp_path / "bad.xlsx"
    if case == "not a zip":
        bad.write_text("hello", encoding="utf-8")
    elif case == "truncated":
        _with_sheet(workbook, bad, lambda b: b[: len(b) // 2])
    elif case == "xxe":
        _with_sheet(workbook, bad, lambda b: b.replace(b"<worksheet", XXE + b"<worksheet", 1).replace(b"<t>", b"<t>&e;", 1))
    else:
        _with_sheet(workbook, bad, lambda b: b.replace(b"<worksheet", LAUGHS + b"<worksheet", 1)
                    .replace(b"<t>", b"<t>&j;", 1))
    args = {"validate": ["validate", bad], "solve": ["solve", bad, "--out", tmp_path / "plan"],
            "convert": ["convert", bad, tmp_path / "plan"]}[command]
    rc, _, err = cli(args)
    assert rc == 2, err
    assert "bad.xlsx" in err
    assert not (tmp_path / "plan").exists() and hidden(tmp_path) == []


@pytest.fixture(scope="module")
def plan_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plan") / "plan"
    assert cli(["solve", TINY / "moq", "--out", out])[0] == 0
    return out


REPORT_EDITS = {
    "summary.json garbled": ("summary.json", b"{nope"),
    "summary.json a list": ("summary.json", b"[1, 2]"),
    "cash.csv empty": ("cash.csv", b""),
    "capacity.csv ragged": ("capacity.csv", b'a,b\n1,2,3,4\n"x'),
    "budget.csv text numbers": ("budget.csv", None),
    "pnl.csv GBK": ("pnl.csv", "期间,利润\n1,2\n".encode("gbk")),
}


@pytest.mark.parametrize("edit", list(REPORT_EDITS))
def test_report_on_an_edited_output_folder_names_the_file(tmp_path, plan_folder, edit):
    folder = shutil.copytree(plan_folder, tmp_path / "plan")
    name, data = REPORT_EDITS[edit]
    if data is None:
        data = (folder / name).read_text(encoding="utf-8").replace("0.0", "n/a").encode()
    (folder / name).write_bytes(data)
    rc, _, err = cli(["report", folder, "--html", tmp_path / "r.html"])
    assert rc == 2, err
    assert name in err
    assert not (tmp_path / "r.html").exists()


@pytest.fixture(scope="module")
def roll_baseline(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("roll") / "base"
    assert cli(["solve", TINY / "rolling_basic", "--out", out])[0] == 0
    return out


@pytest.mark.parametrize("case", ["stock.csv GBK", "cash.csv empty", "cash.csv no columns"])
def test_roll_with_unreadable_actuals_names_the_file(tmp_path, roll_baseline, case):
    actuals = shutil.copytree(TINY / "rolling_basic" / "actuals", tmp_path / "actuals")
    if case == "stock.csv GBK":
        (actuals / "stock.csv").write_bytes("item,quantity\nP,3\nM,12\n钢,1\n".encode("gbk"))
    elif case == "cash.csv empty":
        (actuals / "cash.csv").write_bytes(b"")
    else:
        (actuals / "cash.csv").write_text("foo\n1\n", encoding="utf-8")
    rc, _, err = cli(["roll", TINY / "rolling_basic", "--baseline", roll_baseline, "--actuals", actuals,
                      "--from", "2027-02", "--out", tmp_path / "out"])
    assert rc == 2, err
    assert case.split()[0] in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content", ["product,quantity,due\nwidget,5,W2\n部件,1,W2\n".encode("gbk"), b""])
def test_insert_with_unreadable_orders_names_the_file(tmp_path, content):
    base = tmp_path / "base"
    assert cli(["solve", TINY / "rush_basic", "--out", base])[0] == 0
    orders = tmp_path / "orders.csv"
    orders.write_bytes(content)
    rc, _, err = cli(["insert", TINY / "rush_basic", "--baseline", base, "--orders", orders])
    assert rc == 2, err
    assert "orders.csv" in err


# ----------------------------------------------------------------------------- 9. numbers on the command line


BAD_NUMBERS = [
    ["solve", "--time-limit", "-1"], ["solve", "--time-limit", "nan"], ["solve", "--time-limit", "0"],
    ["solve", "--gap", "-5"], ["solve", "--gap", "nan"], ["solve", "--threads", "0"], ["solve", "--seed", "-1"],
    ["diagnose", "--time-limit", "inf"], ["compare", "--commit", "0"], ["roll", "--freeze", "-1"],
    ["roll", "--change-penalty", "nan"], ["insert", "--quantity", "-5"], ["insert", "--price", "inf"],
    ["sweep", "--steps", "0"], ["sweep", "--steps", "1"], ["sweep", "--jobs", "0"], ["sweep", "--from", "abc"],
    ["sweep", "--to", "nan%"], ["report", "--rows", "-1"], ["report", "--top", "0"], ["bench", "--jobs", "0"],
    ["bench", "--time-limit", "-2"], ["generate", "--products", "0"], ["generate", "--tightness", "nan"],
    ["generate", "--seed", "-3"],
]
REQUIRED = {"solve": ["P"], "diagnose": ["P"], "compare": ["P"], "roll": ["P", "--baseline", "B", "--actuals", "A",
            "--from", "1"], "insert": ["P", "--baseline", "B"], "sweep": ["P", "--param", "min_cash"],
            "report": ["O", "--html", "r.html"], "bench": ["S"], "generate": ["--out", "G"]}


@pytest.mark.parametrize("args", BAD_NUMBERS, ids=[" ".join(a) for a in BAD_NUMBERS])
def test_numbers_on_the_command_line_are_checked(tmp_path, monkeypatch, capsys, args):
    """`--time-limit -1` or `nan`, `--gap -5`, `--threads 0`, `--steps 0`, `--jobs 0` all ran."""
    monkeypatch.chdir(tmp_path)
    command, option, value = args
    err = usage_error([command, *REQUIRED[command], option, value], capsys)
    assert f"argument {option}" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("weight", ["capacity=nan", "capacity=-1", "capacity=inf"])
def test_diagnosis_weights_are_checked(weight):
    rc, _, err = cli(["diagnose", TINY / "infeasible_must", "--weight", weight])
    assert rc == 2 and "expected a finite weight >= 0" in err


# ----------------------------------------------------------------------------- 10. nothing a spreadsheet would run


FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"]


def test_csv_safe_prefixes_formula_text_and_nothing_else(tmp_path):
    """Plan CSVs carried `=HYPERLINK(…)` names unescaped; `--csv-safe` prefixes `'` to text
    cells a spreadsheet would run, numbers (negative ones included) stay numbers."""
    inst = named_instance(tmp_path / "inst", product=FORMULAS[0], channel=FORMULAS[1], resource_name=FORMULAS[2])
    assert cli(["solve", inst, "--out", tmp_path / "plain"])[0] == 0
    rc, _, err = cli(["solve", inst, "--out", tmp_path / "safe", "--csv-safe"])
    assert rc == 0, err
    for file in (tmp_path / "safe").glob("*.csv"):
        plain = pd.read_csv(tmp_path / "plain" / file.name, dtype=str, keep_default_na=False)
        safe = pd.read_csv(file, dtype=str, keep_default_na=False)
        for col in plain.columns:
            for a, b in zip(plain[col], safe[col], strict=True):
                numeric = a.lstrip("-").replace(".", "", 1).replace("e", "", 1).isdigit() or a in ("inf", "-inf")
                expect = a if numeric or not a.startswith(("=", "+", "-", "@", "\t", "\r")) else "'" + a
                assert b == expect, (file.name, col, a, b)
    sales = pd.read_csv(tmp_path / "safe" / "sales.csv", dtype=str, keep_default_na=False)
    assert set(sales["product"]) == {"'" + FORMULAS[0]} and set(sales["channel"]) == {"'" + FORMULAS[1]}
    assert json.loads((tmp_path / "safe" / "summary.json").read_text(encoding="utf-8"))["csv_safe"] is True


def test_convert_writes_formula_like_headers_and_cells_as_text(tmp_path):
    """`convert` folder → .xlsx wrote a header `=…` as a live formula."""
    inst = shutil.copytree(TINY / "min_lot", tmp_path / "inst")
    (inst / "items.csv").write_text(csv_text([["item", "kind", "unit_cost", "holding_cost", "min_lot", FORMULAS[3]],
                                              [FORMULAS[0], "product", 1, 1, 10, FORMULAS[2]]]), encoding="utf-8")
    xlsx = tmp_path / "inst.xlsx"
    rc, _, err = cli(["convert", inst, xlsx])
    assert rc == 0, err
    with zipfile.ZipFile(xlsx) as z:
        assert not [n for n in z.namelist() if n.startswith("xl/worksheets/") and b"<f>" in z.read(n)]
    ws = openpyxl.load_workbook(xlsx)["items"]
    assert ws["F1"].value == FORMULAS[3] and ws["A2"].value == FORMULAS[0] and ws["F2"].value == FORMULAS[2]


# ----------------------------------------------------------------------------- the writers on their own


def test_a_failed_fill_leaves_nothing_and_says_so(tmp_path):
    """An OSError while writing (ENOSPC here) is a WriteError naming the output; the
    temporary sibling is gone and an earlier output stays."""
    from solver.io.writers import WriteError, write_folder_atomically

    out = tmp_path / "plan"
    write_folder_atomically(out, lambda tmp: (tmp / "summary.json").write_text("{}", encoding="utf-8"))

    def full(tmp: Path) -> None:
        (tmp / "a.csv").write_text("x", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(WriteError, match="No space left on device"):
        write_folder_atomically(out, full, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan"]
    assert (out / "summary.json").read_text(encoding="utf-8") == "{}"
