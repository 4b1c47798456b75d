"""Time limits and interrupts of whole runs (issue 19 items 3 and 7), each in a real subprocess:
a diagnosis honours --time-limit and says what it could not finish; SIGINT and SIGTERM end a
diagnosis or a large plan with exit 130, one line, no traceback and no output; a parent killed
outright takes its HiGHS child processes with it.

No timing assertions: subprocess timeouts are hang guards, many times what each run needs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from solver.devtools.generator import GeneratorParams, generate_to

pytestmark = pytest.mark.solver

REPO = Path(__file__).resolve().parents[1]
PROGRESS_LINE = re.compile(r"\[\d+ s\] ")  # solver/cli/progress.py's plain lines (stderr not a terminal)
# the large-plan route (LP dive + the whole MIP in a background process) on a small instance:
# the size threshold lowered in the child interpreter, as tests/test_lp_guided.py does in-process
LARGE_ROUTE = ("import sys, solver.engine.heuristics as h, solver.engine.pipeline as p; h.LARGE_ROWS = p.LARGE_ROWS = 0; "
               "from solver.cli.main import main; sys.exit(main(sys.argv[1:]))")


@pytest.fixture(scope="module")
def infeasible(tmp_path_factory) -> Path:
    """20 products × 12 periods whose overhead (×100) no plan can pay: the cheapest relaxation
    is a MIP of ~2,300 rows that takes HiGHS well over a minute, and the LP relaxation is
    infeasible, so the IIS runs too (its getIis alone takes minutes)."""
    path = generate_to(GeneratorParams(products=20, periods=12, seed=1), tmp_path_factory.mktemp("g") / "g20")
    toml = path / "instance.toml"
    text = toml.read_text(encoding="utf-8")
    overhead = float(re.search(r"(?m)^overhead = (.*)$", text).group(1))
    toml.write_text(re.sub(r"(?m)^overhead = .*$", f"overhead = {overhead * 100}", text), encoding="utf-8")
    return path


def start(args: list[str], code: str | None = None) -> subprocess.Popen:
    """The CLI in its own process group (as a terminal's foreground job), default signal
    dispositions (a runner that started us in the background may ignore SIGINT)."""
    prefix = [sys.executable, "-c", code] if code else [sys.executable, "-m", "solver.cli"]
    return subprocess.Popen(
        [*prefix, *map(str, args)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def workers(proc: subprocess.Popen) -> list[psutil.Process]:
    """The HiGHS child processes of `proc` (multiprocessing's resource tracker aside)."""
    out = []
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                out.append(child)
        except psutil.NoSuchProcess:
            pass
    return out


def wait_for_working_child(proc: subprocess.Popen, cpu_seconds: float, timeout: float = 120.0) -> list[psutil.Process]:
    """Wait until a child has started and used `cpu_seconds` (past its imports: solving)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.communicate()
        kids = workers(proc)
        try:
            if kids and sum(k.cpu_times().user for k in kids) >= cpu_seconds:
                return kids
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("no child process got to work")


def wait_for_line(stream, text: str, proc: subprocess.Popen) -> str:
    seen = []
    for line in stream:
        seen.append(line)
        if text in line:
            return "".join(seen)
    proc.wait(10)
    raise AssertionError(f"{text!r} never appeared; stderr: {''.join(seen)}")


def running(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE  # ended, not yet reaped by its new parent
    except psutil.NoSuchProcess:
        return False


def assert_gone(children: list[psutil.Process], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while any(running(p) for p in children) and time.monotonic() < end:
        time.sleep(0.1)
    alive = [p.pid for p in children if running(p)]
    for p in children:
        if running(p):
            p.kill()
    assert not alive, f"child processes outlived the run: {alive}"


def test_diagnosis_honours_the_time_limit_and_says_what_it_did_not_finish(infeasible):
    """Before: a 200 × 12 diagnosis with --time-limit 20 was still in HiGHS's getIis after 600 s.
    Now the run ends near its limit and names what the limit cut short."""
    limit = 4
    proc = start(["diagnose", infeasible, "--time-limit", limit])
    try:
        stdout, stderr = proc.communicate(timeout=15 * limit)  # a hang guard, not a timing test
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stdout + stderr
    assert "No plan satisfies every limit" in stdout or "no diagnosis" in stdout
    assert "Not finished within the time limit" in stdout
    unfinished = stdout.split("Not finished within the time limit", 1)[1]
    assert "the conflicting limits" in unfinished or "the solve itself" in unfinished
    assert "searching the cheapest relaxation" in stderr  # progress, on stderr (the quick solve before it: silent)


@pytest.mark.parametrize("sig, said", [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")])
def test_diagnosis_interrupted_ends_cleanly(infeasible, sig, said):
    """Ctrl-C (to the whole process group, as a terminal sends it) or SIGTERM while the
    relaxation search runs and the IIS child works beside it: exit 130, one line, no traceback
    (before: a segmentation fault in getIis), nothing on stdout, no child left."""
    proc = start(["diagnose", infeasible, "--time-limit", 120])
    try:
        wait_for_line(proc.stderr, "searching the cheapest relaxation", proc)
        kids = wait_for_working_child(proc, cpu_seconds=0.5)
        os.killpg(proc.pid, sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Segmentation" not in stderr
    assert stdout == ""
    assert [line for line in stderr.splitlines() if "prodbudget:" in line] == [
        f"prodbudget: {said}{' (SIGTERM)' if sig == signal.SIGTERM else ''}; nothing was written"]
    assert_gone(kids)


@pytest.mark.parametrize("sig, said", [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")])
def test_large_plan_interrupted_ends_cleanly(small, tmp_path, sig, said):
    """The large-plan route with its bound process at work: Ctrl-C to the process group (before:
    a traceback from the child besides the parent's message) or SIGTERM (before: killed
    silently, leaked semaphores reported): exit 130, one line, no traceback, no output folder,
    no child left."""
    out = tmp_path / "plan"
    proc = start(["solve", small, "--time-limit", 120, "--out", out], code=LARGE_ROUTE)
    try:
        kids = wait_for_working_child(proc, cpu_seconds=1.0)
        os.killpg(proc.pid, sig)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "leaked" not in stderr
    assert stdout == ""
    messages = [line for line in stderr.splitlines() if line.strip() and not PROGRESS_LINE.match(line)]
    assert messages == [f"prodbudget: {said}{' (SIGTERM)' if sig == signal.SIGTERM else ''}; nothing was written"]
    assert not out.exists() and not list(tmp_path.glob(".plan*"))
    assert_gone(kids)


@pytest.mark.parametrize("run", ["large plan", "diagnosis"])
def test_killed_parent_leaves_no_child(small, infeasible, run):
    """kill -9 of the parent: its HiGHS child (the bound process of a large plan, the IIS of a
    diagnosis) goes with it. Before: the bound process solved on for the rest of its 120 s."""
    if run == "large plan":
        proc = start(["solve", small, "--time-limit", 120], code=LARGE_ROUTE)
    else:
        proc = start(["diagnose", infeasible, "--time-limit", 120])
    try:
        kids = wait_for_working_child(proc, cpu_seconds=4.0)  # well past its imports: solving
        proc.kill()
        proc.wait(timeout=30)  # not communicate(): a surviving child holds the pipes open
        assert_gone(kids)
    finally:
        if proc.poll() is None:
            proc.kill()
