"""Shared fixtures of the test suite (its helpers are in tests/helpers.py), and its guard rail:
every test that solves carries `@pytest.mark.solver`, so that `pytest -m "not solver"`
(`make test-fast`) runs the fast tests alone.

The guard counts HiGHS runs (tests/solve_probe/sitecustomize.py wraps `_Highs.run`, which every
solve goes through): in this process, in the CLI run as a subprocess and in worker processes
(an unmarked test runs with the probe first on PYTHONPATH). A test without the marker that ran
HiGHS, in its own body or in the fixtures it set up, fails at teardown naming the count.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)  # tests/test_guard_rails.py runs the guard in an inner session

PROBE = Path(__file__).resolve().parent / "solve_probe"


# ----------------------------------------------------------------------------- shared instances


@pytest.fixture
def mini(tmp_path: Path):
    """The valid mini instance of tests/helpers.py (bike, frame, steel over three periods), loaded."""
    from helpers import write_mini

    from solver.io.loading import load_instance

    return load_instance(write_mini(tmp_path / "mini"))


@pytest.fixture(scope="session")
def generated_tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Generated instances of the tiny ladder size, seeds 0, 1 and 2 (written once per run):
    every feature of the model on a few rows."""
    from solver.devtools.generator import generate_to, ladder

    root = tmp_path_factory.mktemp("generated-tiny")
    return {seed: generate_to(ladder("tiny", seed=seed), root / f"tiny{seed}") for seed in (0, 1, 2)}


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated instance of the small ladder size (seed 1): 288 binaries, a MIP that keeps
    HiGHS busy for minutes (time limits, interrupts and the bound process are watched on it)."""
    from solver.devtools.generator import generate_to, ladder

    return generate_to(ladder("small", seed=1), tmp_path_factory.mktemp("gen") / "small")


# ----------------------------------------------------------------------------- the solver marker


class _SolveCounter:
    """HiGHS runs of the current test, counted in a file every process of the test appends to."""

    def __init__(self, env: str) -> None:
        fd, name = tempfile.mkstemp(prefix="prodbudget-test-solves-", suffix=".log")
        os.close(fd)
        self.log, self.env = Path(name), env
        self.saved: dict[str, str | None] = {}

    def start(self, item: pytest.Item) -> None:
        self.log.write_text("", encoding="utf-8")
        if item.get_closest_marker("solver") is not None:
            return  # marked: nothing to watch
        self.saved = {k: os.environ.get(k) for k in (self.env, "PYTHONPATH")}
        os.environ[self.env] = str(self.log)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROBE), self.saved["PYTHONPATH"]) if p)

    def stop(self) -> int:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self.saved = {}
        return len(self.log.read_text(encoding="utf-8").splitlines())


def pytest_configure(config: pytest.Config) -> None:
    import importlib.util

    import highspy._core

    spec = importlib.util.spec_from_file_location("solve_probe", PROBE / "sitecustomize.py")
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    probe.count_runs(highspy._core)  # this process: the probe's start-up hook is for children
    config.stash[_COUNTER] = _SolveCounter(probe.ENV)


def pytest_unconfigure(config: pytest.Config) -> None:
    counter = config.stash.get(_COUNTER, None)
    if counter is not None:
        counter.log.unlink(missing_ok=True)


_COUNTER = pytest.StashKey[_SolveCounter]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.config.stash[_COUNTER].start(item)  # before the fixtures: what they solve counts too


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        result = yield
    finally:
        runs = item.config.stash[_COUNTER].stop()
    if runs and item.get_closest_marker("solver") is None:
        pytest.fail(f"{item.nodeid} ran HiGHS {runs} time(s) without @pytest.mark.solver: mark it (or its "
                    "module: pytestmark = pytest.mark.solver) so that `pytest -m 'not solver'` stays fast",
                    pytrace=False)
    return result
