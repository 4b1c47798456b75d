"""Benchmark runner: every instance × configuration, in parallel, resumable, with reports.

    instances = resolve_suite("ttm-tr")            # or a folder of instance folders
    configs = resolve_configs(["default", "gap-1pct"])
    run = run_bench(instances, configs, SolveOptions(time_limit=60), "out/bench", jobs=2)
    run.table                                     # every row of out/bench/results.csv

Design (choices documented here because the reports depend on them):

- **Suites** are named (`ttm-tr`, `ttm-all`, `dj`, `ladder-<size>`, `ladder`) or a folder of
  instance folders (with an optional `known_values.csv`, as `import_literature` writes).
  Named suites are converted or generated on the fly into a cache (default
  `benchmarks/work/`, gitignored); the literature files are read from their folder and never
  copied into the repository.
- **Configurations** are a registry of named `BenchConfig`s: each is a set of `SolveOptions`
  overrides (any field, so later fields such as a formulation switch need no change here) and
  a route: `solver=None` is the project's own route (`solver.engine.pipeline.solve`: one
  `Highs.passModel`, polish), any other name is a Pyomo `SolverFactory` solver driven on the
  model of `formulations.assembly.build_model` (registered for HiGHS, CBC, GLPK, SCIP, Gurobi,
  CPLEX; usable only where installed). `--config gap=0.01,seed=3` or `cbc:gap=0.01` give ad-hoc
  configurations named by the text itself.
- **Execution**: one task per (instance, configuration), each in a worker process
  (`ProcessPoolExecutor`, spawn) or on a Dask cluster (`dask.distributed.Client(address)`;
  instance paths must then be visible to the workers). The parent appends each finished row
  to `results.csv` at once (flushed), so an interrupted run loses only the running tasks;
  a re-run skips every (instance, configuration) already in the file. Tasks whose worker
  died write no row and are retried by the next run.
- **Objective sense**: `objective` and `bound` are in the instance's natural sense: profit
  (maximised) for planning instances; for cost-minimisation instances (every demand price 0,
  e.g. the literature lot-sizing sets) the total cost = −profit (docs/model.md §5).
  `gap` = |objective − bound| / |objective|. `gap_to_best_known` is > 0 when worse than the
  best known value (cost above it, or profit below it).
- **Peak memory** is the worker's resident-set high-water mark during the task
  (`getrusage` maxrss when the task raised it, else psutil samples every 50 ms).
- **Performance profile** (Dolan & Moré 2002): t[p,s] = solve seconds of configuration s on
  instance p if it proved optimality, else ∞ (instances not run by every configuration are
  left out); ratio
  r[p,s] = t[p,s] / min_s t[p,s]; ρ_s(τ) = share of instances with r[p,s] ≤ τ. Times are floored at
  `MIN_TIME` seconds so that sub-millisecond solves do not make ratios noise.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import multiprocessing
import os
import platform
import resource
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from solver.engine.options import OPTIONS, SolveOptions, parse_option
from solver.present.formatting import drawn_in_chart_style

# --- where things live -----------------------------------------------------------------

_REPO = Path(__file__).resolve().parents[2]
DEFAULT_CACHE_DIR = (
    _REPO / "benchmarks" / "work" if (_REPO / "benchmarks").is_dir() else Path("benchmarks/work")
)

RESULTS_CSV = "results.csv"
RESULTS_MD = "results.md"
PROFILE_PNG = "performance_profile.png"
TIMES_PNG = "time_vs_size.png"
MACHINE_JSON = "machine.json"

MIN_TIME = 1e-3  # seconds: floor of solve times in performance ratios
REPRODUCED_TOL = 1e-4  # relative: |objective - best known| within this counts as reproduced

COLUMNS = (
    "instance",
    "suite",
    "configuration",
    "size",
    "rows",
    "cols",
    "integers",
    "nonzeros",
    "status",
    "sense",
    "objective",
    "bound",
    "gap",
    "best_known",
    "gap_to_best_known",
    "load_s",
    "build_s",
    "solve_s",
    "peak_mem_mb",
    "solver",
    "time_limit",
    "threads",
    "machine",
    "message",
    "finished",
)


# --- configurations --------------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    """A named solver configuration: SolveOptions overrides and the route to a solver.

    `solver=None` is the project's route (solver.engine.pipeline.solve, HiGHS via passModel, polish);
    any other value is a Pyomo SolverFactory name driven on the built Pyomo model.
    """

    name: str
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    solver: str | None = None

    def solve_options(self, base: SolveOptions) -> SolveOptions:
        """`base` with this configuration's overrides, checked as SolveOptions checks every
        value (an unknown field or a value outside its declared domain raises ValueError
        naming the configuration)."""
        unknown = sorted(set(self.options) - set(OPTIONS))
        if unknown:
            raise ValueError(
                f"configuration {self.name!r}: unknown SolveOptions field(s) {unknown}"
                f" (known: {', '.join(sorted(OPTIONS))})"
            )
        try:
            return SolveOptions(**{**asdict(base), **dict(self.options)})
        except ValueError as err:
            raise ValueError(f"configuration {self.name!r}: {err}") from None

    def available(self) -> bool:
        return self.solver in (None, *SEQUENTIAL_ROUTES) or pyomo_solver_available(self.solver)


CONFIGS: dict[str, BenchConfig] = {}
# the ERP way (solver/analysis/sequential.py) as a route: plan-then-cut with one cut rule
SEQUENTIAL_ROUTES = {"plan-then-cut-order": "order", "plan-then-cut-period": "period"}


def register_config(config: BenchConfig) -> BenchConfig:
    """Add (or replace) a named configuration; returns it."""
    CONFIGS[config.name] = config
    return config


# Pyomo's names for the options SolveOptions sets (time limits go through `timelimit=`).
PYOMO_OPTION_NAMES: dict[str, dict[str, str]] = {
    "highs": {"gap": "mip_rel_gap", "threads": "threads", "seed": "random_seed"},
    "cbc": {"gap": "ratioGap", "threads": "threads", "seed": "randomCbcSeed"},
    "glpk": {"gap": "mipgap"},
    "scip": {
        "gap": "limits/gap",
        "seed": "randomization/randomseedshift",
        "time_limit": "limits/time",
    },
    "gurobi": {"gap": "MIPGap", "threads": "Threads", "seed": "Seed"},
    "cplex": {"gap": "mipgap", "threads": "threads", "seed": "randomseed"},
}

# SolveOptions fields the Pyomo route applies; others must keep their defaults there.
PYOMO_HONOURED = frozenset(
    {"time_limit", "gap", "threads", "seed", "log", "polish", "sensitivity", "formulation"}
)

for _cfg in (
    BenchConfig("default", "HiGHS via solver.engine.pipeline.solve (passModel, polish), project defaults"),
    BenchConfig("gap-1pct", "default with a 1% relative MIP gap", {"gap": 0.01}),
    BenchConfig(
        "seed-1", "default with HiGHS random seed 1 (performance variability)", {"seed": 1}
    ),
    BenchConfig(
        "seed-2", "default with HiGHS random seed 2 (performance variability)", {"seed": 2}
    ),
    BenchConfig("no-polish", "default without the rounded-integer LP polish", {"polish": False}),
    BenchConfig(
        "pyomo-highs",
        "HiGHS through Pyomo's solver interface (SolverFactory('highs'))",
        solver="highs",
    ),
    BenchConfig("plan-then-cut", "the ERP way: operations plan, then finance cuts each order (solver/analysis/sequential.py)",
                solver="plan-then-cut-order"),
    BenchConfig("plan-then-cut-period", "the ERP way with one proportional cut per period",
                solver="plan-then-cut-period"),
    BenchConfig("cbc", "COIN-OR CBC through Pyomo (if installed)", solver="cbc"),
    BenchConfig("glpk", "GLPK through Pyomo (if installed)", solver="glpk"),
    BenchConfig("scip", "SCIP through Pyomo (if installed)", solver="scip"),
    BenchConfig("gurobi", "Gurobi through Pyomo (if installed and licensed)", solver="gurobi"),
    BenchConfig("cplex", "CPLEX through Pyomo (if installed and licensed)", solver="cplex"),
):
    register_config(_cfg)

# formulation / strategy variants, where SolveOptions has those fields
_FIELDS = {f.name for f in fields(SolveOptions)}
if "formulation" in _FIELDS:
    register_config(
        BenchConfig(
            "ls",
            "default plus the (l,S) inequalities of formulations/setup/ls_inequalities.py (formulation = ls)",
            {"formulation": "ls"},
        )
    )
    register_config(
        BenchConfig(
            "cuts",
            "big-M plus the (l,S) and interval MIR rows a root cut loop finds violated (solver/engine/cuts.py; formulation = cuts)",
            {"formulation": "cuts"},
        )
    )
    register_config(
        BenchConfig(
            "fl",
            "setups and orders as facility-location rows (formulations/setup/facility_location.py; formulation = fl)",
            {"formulation": "fl"},
        )
    )
if "strategy" in _FIELDS:
    register_config(
        BenchConfig(
            "relax-and-fix",
            "relax-and-fix then fix-and-optimize (an LP dive on large plans), with a proven bound (solver/engine/heuristics.py)",
            {"strategy": "relax-and-fix"},
        )
    )


_AVAILABLE: dict[str, bool] = {}


def pyomo_solver_available(name: str) -> bool:
    """Whether Pyomo can run solver `name` here (cached; never raises)."""
    if name not in _AVAILABLE:
        import logging

        import pyomo.environ as pyo

        level = logging.getLogger("pyomo").level
        logging.getLogger("pyomo").setLevel(logging.CRITICAL)  # a missing executable warns
        try:
            _AVAILABLE[name] = bool(pyo.SolverFactory(name).available(exception_flag=False))
        except Exception:
            _AVAILABLE[name] = False
        finally:
            logging.getLogger("pyomo").setLevel(level)
    return _AVAILABLE[name]


def available_configs() -> list[BenchConfig]:
    """Every registered configuration whose solver is installed here."""
    return [c for c in CONFIGS.values() if c.available()]


def parse_config(spec: str) -> BenchConfig:
    """A registered name, `NAME:key=value,...` or `key=value,...` (overrides on `default`)."""
    if ":" in spec:
        base_name, _, rest = spec.partition(":")
    elif "=" in spec:
        base_name, rest = "default", spec
    else:
        base_name, rest = spec, ""
    if base_name not in CONFIGS:
        raise ValueError(f"unknown configuration {base_name!r} (known: {', '.join(CONFIGS)})")
    base = CONFIGS[base_name]
    if not rest:
        return base
    overrides: dict[str, Any] = dict(base.options)
    for part in rest.split(","):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"configuration {spec!r}: expected key=value, got {part!r}")
        key = key.strip()
        try:  # typed by the field's declared domain (solver/engine/options.py): `gap=2` or `strategy=MIP` is refused
            overrides[key] = parse_option(key, value) if key in OPTIONS else value.strip()
        except ValueError as err:
            raise ValueError(f"configuration {spec!r}: {err}") from None
    desc = f"{base.description}; overrides {rest}"
    return BenchConfig(spec, desc, overrides, base.solver)


def resolve_configs(
    specs: Sequence[str] | None, base: SolveOptions | None = None
) -> list[BenchConfig]:
    """Configurations for names/specs (`all` = every available one); checked against
    SolveOptions and availability before anything runs."""
    specs = list(specs or ["default"])
    out: list[BenchConfig] = []
    for spec in specs:
        chosen = available_configs() if spec == "all" else [parse_config(spec)]
        for cfg in chosen:
            if not cfg.available():
                raise ValueError(
                    f"configuration {cfg.name!r}: solver {cfg.solver!r} is not installed"
                    " (pyomo.SolverFactory(...).available() is False)"
                )
            opts = cfg.solve_options(base or SolveOptions())  # raises on unknown fields
            if cfg.solver is not None and cfg.solver not in SEQUENTIAL_ROUTES:
                default = SolveOptions()
                ignored = sorted(
                    k
                    for k in cfg.options
                    if k not in PYOMO_HONOURED and getattr(opts, k) != getattr(default, k)
                )
                if ignored:
                    raise ValueError(
                        f"configuration {cfg.name!r}: the Pyomo route solves the model of"
                        f" build_model as is and cannot apply {ignored}"
                    )
            if cfg.name not in {c.name for c in out}:
                out.append(cfg)
    return out


# --- suites ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchInstance:
    name: str  # unique within a results file
    path: str
    suite: str
    best_known: float | None = None  # in the instance's natural sense (cost for literature)


SUITES = (
    "ttm-tr",
    "ttm-all",
    "dj",
    "ladder",
    *(f"ladder-{s}" for s in ("tiny", "small", "medium", "large", "xl")),
)


def _cached(folder: Path, write: Callable[[Path], Path]) -> Path:
    if not (folder / "instance.toml").is_file():
        write(folder)
    return folder


def _ttm_suite(which: str, cache: Path, lit: Path) -> list[BenchInstance]:
    from solver.devtools.literature import (
        TTM_UNIT_USE_VARIANTS,
        known_values,
        ttm_files,
        ttm_instance,
    )
    from solver.io.instance_writer import write_instance_folder

    if not (lit / "ttm").is_dir():
        raise FileNotFoundError(f"literature data not found: {lit / 'ttm'}")
    kv = known_values(lit)
    kv = kv[kv["set"] == "ttm"]
    best = dict(zip(kv["instance"], kv["best_known"], strict=True))
    base_of = {v: k for k, v in TTM_UNIT_USE_VARIANTS.items()}
    files = {f.stem: f for f in ttm_files(lit)}
    if which == "tr":  # the six aliased rows of ttm/known_values.csv (tr6-15 = G30b)
        names = list(kv.loc[kv["alias"] != "", "instance"])
    else:
        names = []
        for stem in files:
            names.append(stem)
            if stem in TTM_UNIT_USE_VARIANTS:
                names.append(TTM_UNIT_USE_VARIANTS[stem])
    out: list[BenchInstance] = []
    for name in names:
        stem = base_of.get(name, name)

        def write(folder: Path, stem: str = stem, name: str = name) -> Path:
            toml, tables = ttm_instance(files[stem], unit_capacity_use=name in base_of, name=name)
            return write_instance_folder(folder, toml, tables)

        path = _cached(cache / "ttm" / name, write)
        out.append(BenchInstance(name, str(path), f"ttm-{which}", best.get(name)))
    return out


def _dj_suite(cache: Path, lit: Path) -> list[BenchInstance]:
    from solver.devtools.literature import dj_instances, known_values
    from solver.io.instance_writer import write_instance_folder
    from solver.io.writers import safe_file_names

    src = lit / "dj2000" / "dj_phase1_subset.json"
    if not src.is_file():
        raise FileNotFoundError(f"literature data not found: {src}")
    kv = known_values(lit)
    best = dict(zip(kv["instance"], kv["best_known"], strict=True))
    out = []
    dj = dj_instances(src)
    folders = safe_file_names(dj)  # names come from the JSON: never a path by themselves
    for name, (toml, tables) in dj.items():
        path = _cached(
            cache / "dj" / folders[name], lambda f, t=toml, tb=tables: write_instance_folder(f, t, tb)
        )
        out.append(BenchInstance(name, str(path), "dj", best.get(name)))
    return out


def _ladder_suite(sizes: Sequence[str], cache: Path, seeds: int) -> list[BenchInstance]:
    from solver.devtools.generator import generate_to, ladder, params_dict

    out = []
    for size in sizes:
        for seed in range(seeds):
            params = ladder(size, seed=seed)
            digest = hashlib.sha1(
                json.dumps(params_dict(params), sort_keys=True).encode()
            ).hexdigest()[:8]
            path = _cached(
                cache / "ladder" / f"{size}-s{seed}-{digest}", lambda f, p=params: generate_to(p, f)
            )
            out.append(BenchInstance(f"ladder-{size}-s{seed}", str(path), f"ladder-{size}"))
    return out


def _folder_suite(folder: Path) -> list[BenchInstance]:
    if (folder / "instance.toml").is_file():
        candidates = [folder]
        suite = folder.parent.name or str(folder)
    else:
        candidates = sorted(
            p
            for p in folder.iterdir()
            if (p.is_dir() and (p / "instance.toml").is_file())
            or (p.is_file() and p.suffix.lower() == ".xlsx" and not p.name.startswith("~$"))
        )
        suite = folder.name
    best: dict[str, float] = {}
    kv_path = (
        folder if not (folder / "instance.toml").is_file() else folder.parent
    ) / "known_values.csv"
    if kv_path.is_file():
        kv = pd.read_csv(kv_path)
        if {"instance", "best_known"} <= set(kv.columns):
            best = {
                str(k): float(v)
                for k, v in zip(kv["instance"], kv["best_known"], strict=True)
                if pd.notna(v)
            }
    if not candidates:
        raise FileNotFoundError(
            f"{folder}: no instance folders (with instance.toml) or .xlsx workbooks"
        )
    return [
        BenchInstance(
            p.stem if p.is_file() else p.name,
            str(p),
            suite,
            best.get(p.stem if p.is_file() else p.name),
        )
        for p in candidates
    ]


def resolve_suite(
    spec: str,
    cache_dir: str | os.PathLike[str] | None = None,
    literature_dir: str | os.PathLike[str] | None = None,
    seeds: int = 1,
) -> list[BenchInstance]:
    """The instances of a named suite (see SUITES) or of a folder of instance folders.

    Named suites are written into `cache_dir` on first use and reused after;
    `ladder-<size>` has `seeds` generated instances (seeds 0..seeds-1), `ladder` every size.
    """
    from solver.devtools.generator import LADDER
    from solver.devtools.literature import DEFAULT_LITERATURE_DIR

    cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE_DIR
    lit = Path(literature_dir) if literature_dir is not None else DEFAULT_LITERATURE_DIR
    if spec in ("ttm-tr", "ttm-all"):
        return _ttm_suite(spec.removeprefix("ttm-"), cache, lit)
    if spec == "dj":
        return _dj_suite(cache, lit)
    if spec == "ladder":
        return _ladder_suite(list(LADDER), cache, seeds)
    if spec.startswith("ladder-") and spec.removeprefix("ladder-") in LADDER:
        return _ladder_suite([spec.removeprefix("ladder-")], cache, seeds)
    folder = Path(spec)
    if folder.is_dir():
        return _folder_suite(folder)
    raise ValueError(
        f"{spec!r} is neither a folder nor a named suite"
        f" ({', '.join(('ttm-tr', 'ttm-all', 'dj', 'ladder', *(f'ladder-{s}' for s in LADDER)))})"
    )


# --- the machine -----------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's model name as lscpu shows it (the processor or architecture where /proc has
    none); every benchmark's machine line uses it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """CPU, cores, RAM, OS and the versions that matter for the numbers."""
    import highspy
    import psutil
    import pyomo.version

    from solver.engine.highs import version as highs_version

    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "highs": highs_version(),
        "highspy": getattr(highspy, "__version__", ""),
        "pyomo": pyomo.version.version,
    }


_MACHINE_LABEL: str | None = None


def machine_label() -> str:
    """One-line machine description for the `machine` column (cached per process)."""
    global _MACHINE_LABEL
    if _MACHINE_LABEL is None:
        m = machine_info()
        _MACHINE_LABEL = (
            f"{m['cpu']}, {m['logical_cores']} cores, {m['ram_gib']:g} GiB, "
            f"{platform.system()} {platform.release()}, Python {m['python']}"
        )
    return _MACHINE_LABEL


# --- one task (runs in a worker) -------------------------------------------------------


def _maxrss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


class PeakMemory:
    """Resident-set peak of this process during a `with` block (see module docstring)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak_bytes = 0

    def __enter__(self) -> PeakMemory:
        import psutil

        self._proc = psutil.Process()
        self._before_max = _maxrss_bytes()
        self._sampled = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._sampled = max(self._sampled, self._proc.memory_info().rss)
            except Exception:
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sampled = max(self._sampled, self._proc.memory_info().rss)
        after_max = _maxrss_bytes()
        self.peak_bytes = after_max if after_max > self._before_max else self._sampled


def _natural_sense(inst) -> str:
    """`cost` for cost-minimisation instances (every demand price 0), else `profit`."""
    prices = inst.tables["demand"]["price"]
    return "cost" if len(prices) and bool((prices.fillna(0) == 0).all()) else "profit"


def relative_gap(objective: float, bound: float) -> float:
    """|objective − bound| / |objective| (HiGHS's definition); 0 when they agree."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.nan
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / abs(objective) if objective else math.inf


def gap_to_best(objective: float, best: float | None, sense: str) -> float:
    """Relative distance to the best known value; > 0 = worse than it."""
    if best is None or not math.isfinite(objective) or not math.isfinite(best):
        return math.nan
    worse = objective - best if sense == "cost" else best - objective
    return worse / max(abs(best), 1e-9)


def _formulation_extensions(options: SolveOptions) -> tuple[SolveOptions, list]:
    """The model extensions of `options.formulation` (formulations/setup/ls_inequalities.py) for the Pyomo
    route, which builds the model itself, and the options with the formulation reset."""
    name = getattr(options, "formulation", None)
    default = getattr(SolveOptions(), "formulation", None)
    if name is None or name == default:
        return options, []
    from formulations.setup.variants import formulation_extensions

    return replace(options, formulation=default), formulation_extensions(name)


def _solve_own(inst, options: SolveOptions) -> dict[str, Any]:
    from solver.engine.pipeline import solve

    return _result_row(solve(inst, options))  # solve() applies options.formulation itself


def _result_row(res) -> dict[str, Any]:
    sf = res.standard_form
    return {
        "rows": res.kpis.get("rows", 0),
        "cols": res.kpis.get("cols", 0),
        "integers": res.kpis.get("integers", 0),
        "nonzeros": int(sf.A.nnz) if sf is not None else 0,
        "status": str(res.status),
        "message": res.message,
        "profit": res.objective,
        "profit_bound": res.bound,
        "build_s": res.kpis.get("build_seconds", math.nan),
        "solve_s": res.kpis.get("solve_seconds", math.nan),
        "solver": res.kpis.get("solver", ""),
        **{f"{k.removeprefix('seconds_')}_s": res.kpis[k] for k in
           ("seconds_blocks", "seconds_compile", "seconds_highs", "seconds_polish", "seconds_extract") if k in res.kpis},
    }


def _solve_sequential(inst, options: SolveOptions, cut: str) -> dict[str, Any]:
    """Plan-then-cut (issue: the value of joint planning): the cut plan's profit; an instance
    the cuts cannot make feasible is `infeasible`, with the limit that breaks it."""
    from solver.analysis.sequential import plan_then_cut

    t0 = time.perf_counter()
    seq = plan_then_cut(inst, options, cut=cut)
    res = seq.result
    row = _result_row(res) if seq.feasible else {
        "rows": res.kpis.get("rows", 0), "cols": res.kpis.get("cols", 0),
        "integers": res.kpis.get("integers", 0), "nonzeros": 0, "status": "infeasible",
        "message": f"plan-then-cut breaks on {seq.breaking_limit}", "profit": math.nan,
        "profit_bound": math.nan, "build_s": math.nan, "solve_s": math.nan, "solver": res.kpis.get("solver", ""),
    }
    row["solve_s"] = time.perf_counter() - t0  # both steps
    return row


def _solve_pyomo(inst, options: SolveOptions, solver_name: str) -> dict[str, Any]:
    """Build the docs/model.md model and solve it with any Pyomo solver (legacy interface)."""
    import pyomo.environ as pyo
    import pyomo.version
    from pyomo.opt import TerminationCondition as TC

    from formulations.assembly import build_model
    from solver.engine.highs import compile_model
    from solver.engine.status import Status

    _, extensions = _formulation_extensions(options)
    t0 = time.perf_counter()
    built = build_model(inst, extensions)
    build_s = time.perf_counter() - t0
    model = built.model
    sf = compile_model(model)  # untimed: the same size statistics as the own route
    names = PYOMO_OPTION_NAMES.get(solver_name, {})
    solver_options = {
        names[k]: getattr(options, k) for k in ("gap", "threads", "seed") if k in names
    }
    kwargs: dict[str, Any] = {"load_solutions": False, "tee": bool(options.log)}
    if "time_limit" in names:
        solver_options[names["time_limit"]] = options.time_limit
    else:
        kwargs["timelimit"] = options.time_limit
    opt = pyo.SolverFactory(solver_name)
    t1 = time.perf_counter()
    res = opt.solve(model, options=solver_options, **kwargs)
    solve_s = time.perf_counter() - t1
    term = res.solver.termination_condition
    has_solution = len(res.solution) > 0
    profit = bound = math.nan
    if has_solution:
        import logging

        quiet = logging.getLogger("pyomo.core")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # "aborted status, but containing a solution" at a limit
        try:
            model.solutions.load_from(res)
        finally:
            quiet.setLevel(level)
        profit = float(pyo.value(model.profit))
        b = res.problem.upper_bound
        bound = float(b) if b is not None and math.isfinite(float(b)) else math.nan
    if term in (TC.optimal, TC.globallyOptimal, TC.locallyOptimal) and has_solution:
        status = Status.OPTIMAL
    elif has_solution:
        status = Status.FEASIBLE
    elif term == TC.infeasible:
        status = Status.INFEASIBLE
    elif term == TC.unbounded:
        status = Status.UNBOUNDED
    else:
        status = Status.ERROR
    try:
        ver = ".".join(str(v) for v in opt.version())
    except Exception:
        ver = "?"
    return {
        "rows": sf.num_rows,
        "cols": sf.num_cols,
        "integers": sf.num_integers,
        "nonzeros": int(sf.A.nnz),
        "status": str(status),
        "message": str(term),
        "profit": profit,
        "profit_bound": bound,
        "build_s": build_s,
        "solve_s": solve_s,
        "solver": f"{solver_name} {ver} via Pyomo {pyomo.version.version}",
    }


def run_task(task: Mapping[str, Any]) -> dict[str, Any]:
    """Solve one (instance, configuration) and return its results row. Never raises for a
    failing solve (the row says `error`), so a row is written for every finished task."""
    from solver.io.loading import load_instance

    options = SolveOptions(**task["options"])
    row: dict[str, Any] = {
        "instance": task["instance"],
        "suite": task["suite"],
        "configuration": task["configuration"],
        "best_known": task["best_known"],
        "time_limit": options.time_limit,
        "threads": options.threads,
        "machine": machine_label(),
    }
    with PeakMemory() as mem:
        try:
            t0 = time.perf_counter()
            inst = load_instance(task["path"])
            row["load_s"] = time.perf_counter() - t0
            n_items = len(inst.tables["items"])
            row["size"] = f"{n_items}x{len(inst.periods)}"
            sense = _natural_sense(inst)
            if task["solver"] is None:
                out = _solve_own(inst, options)
            elif task["solver"] in SEQUENTIAL_ROUTES:
                out = _solve_sequential(inst, options, SEQUENTIAL_ROUTES[task["solver"]])
            else:
                out = _solve_pyomo(inst, options, task["solver"])
            sign = -1.0 if sense == "cost" else 1.0
            out["objective"] = sign * out.pop("profit")
            out["bound"] = sign * out.pop("profit_bound")
            out["sense"] = sense
            row.update(out)
            row["gap"] = relative_gap(row["objective"], row["bound"])
            row["gap_to_best_known"] = gap_to_best(row["objective"], task["best_known"], sense)
        except Exception as err:  # a crash is a result too: say what happened
            row.update(status="error", message=f"{type(err).__name__}: {err}")
    row["peak_mem_mb"] = mem.peak_bytes / 2**20
    row["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    return row


# --- the results file ------------------------------------------------------------------


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return v


class ResultsStore:
    """`results.csv`: one row per finished (instance, configuration), appended as they come."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self) -> pd.DataFrame:
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return pd.DataFrame(columns=list(COLUMNS))
        df = pd.read_csv(
            self.path,
            keep_default_na=False,
            na_values=[""],
            dtype={"instance": str, "configuration": str},
        )
        return df.reindex(columns=list(dict.fromkeys([*COLUMNS, *df.columns])))

    def done(self) -> set[tuple[str, str]]:
        df = self.load()
        return set(zip(df["instance"].astype(str), df["configuration"].astype(str), strict=True))

    def _header(self) -> list[str] | None:
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return None
        with self.path.open(newline="", encoding="utf-8") as f:
            return next(csv.reader(f), None)

    def append(self, row: Mapping[str, Any]) -> None:
        header = self._header()
        if header is not None and header != list(COLUMNS):  # older layout: rewrite once
            self.load().to_csv(self.path, index=False, columns=list(COLUMNS), lineterminator="\n")
        new = header is None
        with self.path.open("a", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(
                f, fieldnames=list(COLUMNS), extrasaction="ignore", lineterminator="\n"
            )
            if new:
                w.writeheader()
            w.writerow({k: _cell(row.get(k)) for k in COLUMNS})
            f.flush()
            os.fsync(f.fileno())


# --- running ---------------------------------------------------------------------------


@dataclass
class BenchRun:
    out_dir: Path
    table: pd.DataFrame  # every row of results.csv (this run and earlier ones)
    ran: int  # tasks run now
    skipped: int  # (instance, configuration) already in results.csv
    failures: list[tuple[str, str, str]]  # (instance, configuration, error) of tasks with no row
    files: dict[str, Path]


def make_tasks(
    instances: Iterable[BenchInstance], configs: Iterable[BenchConfig], base: SolveOptions
) -> list[dict[str, Any]]:
    configs = list(configs)
    return [
        {
            "instance": inst.name,
            "path": inst.path,
            "suite": inst.suite,
            "best_known": inst.best_known,
            "configuration": cfg.name,
            "solver": cfg.solver,
            "options": asdict(cfg.solve_options(base)),
        }
        for inst in instances
        for cfg in configs
    ]


def warm_up() -> str:
    """Import the solve stack once per worker, so that `load_s` of a worker's first task does
    not count imports; returns the machine label."""
    import formulations.assembly  # noqa: F401
    import solver.engine.pipeline  # noqa: F401
    import solver.io.loading  # noqa: F401

    return machine_label()


def _run_local(tasks: list[dict], jobs: int) -> Iterator[tuple[dict, dict | BaseException]]:
    pool = ProcessPoolExecutor(
        max_workers=max(1, jobs),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=warm_up,
    )
    try:
        futures = {pool.submit(run_task, t): t for t in tasks}
        for fut in as_completed(futures):
            try:
                yield futures[fut], fut.result()
            except Exception as err:
                yield futures[fut], err
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _run_dask(tasks: list[dict], address: str) -> Iterator[tuple[dict, dict | BaseException]]:
    from distributed import Client
    from distributed import as_completed as dask_as_completed

    tag = uuid.uuid4().hex[:8]
    with Client(address, set_as_default=False) as client:
        client.run(warm_up)
        futures = {}
        for k, t in enumerate(tasks):
            fut = client.submit(run_task, t, key=f"bench-{tag}-{k}", pure=False)
            futures[fut.key] = (fut, t)
        try:
            for fut in dask_as_completed([f for f, _ in futures.values()], loop=client.loop):
                task = futures[fut.key][1]
                try:
                    yield task, fut.result()
                except Exception as err:
                    yield task, err
        finally:
            client.cancel([f for f, _ in futures.values()])


def run_bench(
    instances: Sequence[BenchInstance],
    configs: Sequence[BenchConfig],
    options: SolveOptions,
    out_dir: str | os.PathLike[str],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    report: bool = True,
) -> BenchRun:
    """Run every (instance, configuration) not yet in `out_dir/results.csv`, append the rows,
    then write results.md and the plots over the whole file.

    `scheduler` = a Dask scheduler address (then `jobs` is the cluster's business).
    `on_start(to_run, skipped)` and `on_result(row)` drive a progress display.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [i.name for i in instances]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"instance names must be unique in a results file: {dupes}")
    store = ResultsStore(out / RESULTS_CSV)
    done = store.done()
    all_tasks = make_tasks(instances, configs, options)
    tasks = [t for t in all_tasks if (t["instance"], t["configuration"]) not in done]
    skipped = len(all_tasks) - len(tasks)
    if on_start:
        on_start(len(tasks), skipped)
    failures: list[tuple[str, str, str]] = []
    ran = 0
    if tasks:
        stream = _run_dask(tasks, scheduler) if scheduler else _run_local(tasks, jobs)
        for task, got in stream:
            if isinstance(got, BaseException):
                failures.append(
                    (task["instance"], task["configuration"], f"{type(got).__name__}: {got}")
                )
                continue
            store.append(got)
            ran += 1
            if on_result:
                on_result(got)
    table = store.load()
    files = {"csv": store.path}
    if report and len(table):
        (out / MACHINE_JSON).write_text(
            json.dumps(machine_info(), indent=2) + "\n", encoding="utf-8"
        )
        files.update(write_report(table, out))
    return BenchRun(out, table, ran, skipped, failures, files)


# --- performance profile ---------------------------------------------------------------


def performance_ratios(
    table: pd.DataFrame, time_col: str = "solve_s", min_time: float = MIN_TIME
) -> pd.DataFrame:
    """r[p,s] (instances × configurations): time over the best time on p; ∞ if s did not
    prove optimality on p, ∞ for every s when none did. Instances that not every
    configuration ran are left out (a profile compares solvers on the same set)."""
    solved = table["status"].astype(str) == "optimal"
    t = pd.to_numeric(table[time_col], errors="coerce").clip(lower=min_time)
    t = t.where(solved & t.notna(), np.inf)
    times = (
        pd.DataFrame(
            {
                "instance": table["instance"].astype(str),
                "configuration": table["configuration"].astype(str),
                "t": t,
            }
        )
        .pivot_table(
            index="instance", columns="configuration", values="t", aggfunc="min", dropna=False
        )
        .dropna(axis=0, how="any")
    )
    best = times.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = times.div(best, axis=0)
    ratios[~np.isfinite(best.to_numpy())] = np.inf
    return ratios.astype(float)


def performance_profile(ratios: pd.DataFrame, taus: Sequence[float] | None = None) -> pd.DataFrame:
    """ρ_s(τ) = share of instances with r[p,s] ≤ τ, at each τ (index) for each configuration.

    Default τ: 1 and every finite ratio (the profile's step points).
    """
    r = ratios.to_numpy(dtype=float)
    if taus is None:
        finite = r[np.isfinite(r)]
        taus = np.unique(np.concatenate([[1.0], finite]))
    taus = np.asarray(taus, dtype=float)
    n = max(r.shape[0], 1)
    rho = (r[None, :, :] <= taus[:, None, None]).sum(axis=1) / n
    return pd.DataFrame(rho, index=pd.Index(taus, name="tau"), columns=ratios.columns)


# --- reports ---------------------------------------------------------------------------


def _new_figure(w: float, h: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), layout="constrained")


@drawn_in_chart_style  # configuration and suite names are data, not TeX
def plot_performance_profile(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ratios = performance_ratios(table)
    prof = performance_profile(ratios)
    fig = _new_figure(6.5, 4.2)
    ax = fig.add_subplot()
    finite = ratios.to_numpy()[np.isfinite(ratios.to_numpy())]
    tmax = max(2.0, float(finite.max()) * 1.5 if finite.size else 2.0)
    for cfg in prof.columns:
        x = np.append(prof.index.to_numpy(), tmax)
        y = np.append(prof[cfg].to_numpy(), prof[cfg].to_numpy()[-1])
        ax.step(x, y, where="post", label=cfg, linewidth=1.8)
    ax.set_xscale("log", base=2)
    ax.set_xlim(1, tmax)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("τ (solve time / best solve time on the instance)")
    ax.set_ylabel("share of instances proved optimal within τ")
    ax.set_title(f"Performance profile (Dolan–Moré), {len(ratios)} instances")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    p = Path(path)
    fig.savefig(p, dpi=120)
    return p


@drawn_in_chart_style
def plot_times_vs_size(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    fig = _new_figure(10, 4.2)
    axes = fig.subplots(1, 2)
    df = table.copy()
    for col in ("nonzeros", "build_s", "solve_s"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df = df[df["nonzeros"] > 0]
    groups = list(df.groupby(["suite", "configuration"], sort=True))
    for ax, col, title in zip(
        axes,
        ("build_s", "solve_s"),
        ("build (model + standard form)", "solve (MIP + polish)"),
        strict=True,
    ):
        for k, ((suite, cfg), g) in enumerate(groups):
            color = f"C{k % 10}"
            ok = g["status"] == "optimal"
            label = f"{suite} / {cfg}" if len({c for (_, c), _ in groups}) > 1 else str(suite)
            ax.scatter(
                g.loc[ok, "nonzeros"],
                g.loc[ok, col].clip(lower=MIN_TIME),
                color=color,
                marker="o",
                label=label,
                s=28,
            )
            if (~ok).any():
                ax.scatter(
                    g.loc[~ok, "nonzeros"],
                    g.loc[~ok, col].clip(lower=MIN_TIME),
                    color=color,
                    marker="x",
                    s=36,
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("nonzeros of the constraint matrix")
        ax.set_ylabel("seconds")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize="small", title="o optimal, x not proved", title_fontsize="small")
    p = Path(path)
    fig.savefig(p, dpi=120)
    return p


def _fmt(v: Any, kind: str = "num") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(x):
        return ""
    if kind == "int":
        return f"{int(x):,}"
    if kind == "pct":
        return "∞" if math.isinf(x) else f"{x:.2%}"
    if kind == "spct":
        return f"{0.0 if abs(x) < 5e-6 else x:+.3%}"  # no "-0.000%" from rounding noise
    if kind == "s":
        return f"{x:.2f}"
    if kind == "mb":
        return f"{x:.0f}"
    return f"{x:.8g}"


def reproduced(table: pd.DataFrame, tol: float = REPRODUCED_TOL) -> pd.Series:
    """Rows whose objective equals the best known value within `tol` (relative), proved optimal."""
    g = pd.to_numeric(table["gap_to_best_known"], errors="coerce")
    return (g.abs() <= tol) & (table["status"].astype(str) == "optimal")


def _shifted_geomean(x: pd.Series, shift: float = 1.0) -> float:
    x = pd.to_numeric(x, errors="coerce").dropna()
    return float(np.exp(np.log(x + shift).mean()) - shift) if len(x) else math.nan


def joint_gain(table: pd.DataFrame, joint: str = "default") -> pd.DataFrame:
    """Per instance: the joint plan's profit against each plan-then-cut configuration's.

    `gain_pct` = (joint − sequential) / |joint|; NaN where plan-then-cut found no plan
    (`sequential_status` says why)."""
    seq_names = [c.name for c in CONFIGS.values() if c.solver in SEQUENTIAL_ROUTES]
    if "configuration" not in table or joint not in set(table["configuration"]):
        return pd.DataFrame()
    base = table[table["configuration"] == joint].set_index("instance")
    rows = []
    for name in seq_names:
        seq = table[table["configuration"] == name].set_index("instance")
        for inst in base.index.intersection(seq.index):
            sign = -1.0 if base.at[inst, "sense"] == "cost" else 1.0  # profit = sign · objective
            j, q = sign * base.at[inst, "objective"], sign * seq.at[inst, "objective"]
            rows.append({"instance": inst, "sequential": name, "joint_profit": j, "sequential_profit": q,
                         "gain": j - q, "gain_pct": (j - q) / abs(j) if j else math.nan,
                         "sequential_status": seq.at[inst, "status"]})
    return pd.DataFrame(rows)


def joint_gain_lines(table: pd.DataFrame) -> list[str]:
    gains = joint_gain(table)
    if gains.empty:
        return []
    lines = ["", "## Joint planning against plan-then-cut (the ERP way)", "",
             "| plan-then-cut rule | instances | no plan | median gain | max gain |", "|---|--:|--:|--:|--:|"]
    for name, g in gains.groupby("sequential"):
        ok = g["gain_pct"].dropna()
        lines.append(f"| {name} | {len(g)} | {int(g['gain_pct'].isna().sum())} | "
                     f"{_fmt(ok.median(), 'pct')} | {_fmt(ok.max(), 'pct')} |" if len(ok)
                     else f"| {name} | {len(g)} | {len(g)} | — | — |")
    return lines


def markdown_report(table: pd.DataFrame, machine: Mapping[str, Any] | None = None) -> str:
    """results.md: header (sense, columns, machine), summary by configuration, full table."""
    df = table.copy()
    machine = machine or machine_info()
    configs = list(dict.fromkeys(df["configuration"].astype(str)))
    lines = [
        "# Benchmark results",
        "",
        "Written by `prodbudget bench` (solver/devtools/bench.py) from `results.csv` in this folder.",
        "",
        "**Objective sense.** `objective` and `bound` are in each instance's natural sense: "
        "**profit** (maximised) for planning instances; for cost-minimisation instances (every "
        "demand price 0, e.g. the literature lot-sizing sets, `sense = cost`) they are the "
        "**total cost = −profit** (minimised), comparable with the published optima. "
        "`gap` = |objective − bound| / |objective|. `vs best` = (objective − best known) / "
        "|best known| for costs, (best known − objective) / |best known| for profits: "
        "> 0 is worse than the best known value; ✓ = proved optimal and within "
        f"{REPRODUCED_TOL:g} of it (reproduced).",
        "",
        "`size` = items × periods; `build s` = Pyomo model + standard form; `solve s` = MIP "
        "(+ polish LP and allocation tie-break on the default route); `peak MB` = the worker "
        "process's resident-set peak during the task; `limit` = time limit (s).",
        "",
        "## Machine",
        "",
    ]
    for label in sorted(set(df["machine"].dropna().astype(str))):
        lines.append(f"- rows ran on: {label}")
    lines += [
        f"- report written on: {machine.get('cpu')}, {machine.get('logical_cores')} logical / "
        f"{machine.get('physical_cores')} physical cores, {machine.get('ram_gib')} GiB RAM, "
        f"{machine.get('os')}; Python {machine.get('python')}, {machine.get('highs')}, "
        f"Pyomo {machine.get('pyomo')}",
        f"- solvers in the rows: {', '.join(sorted(set(df['solver'].dropna().astype(str))))}",
        "",
        "## Configurations",
        "",
    ]
    for c in configs:
        cfg = CONFIGS.get(c)
        lines.append(
            f"- `{c}`: {cfg.description if cfg else 'ad-hoc configuration'}"
            + (f" (overrides {dict(cfg.options)})" if cfg and cfg.options else "")
        )
    lines += ["", "## Summary by suite and configuration", ""]
    lines += [
        "| suite | configuration | instances | optimal | stopped with a plan | no plan | with best known | reproduced | shifted geo. mean solve s |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    df["_rep"] = reproduced(df)
    for (suite, cfg), g in df.groupby(["suite", "configuration"], sort=True):
        st = g["status"].astype(str)
        lines.append(
            f"| {suite} | {cfg} | {len(g)} | {(st == 'optimal').sum()} | {(st == 'feasible').sum()} | "
            f"{(~st.isin(['optimal', 'feasible'])).sum()} | {g['best_known'].notna().sum()} | "
            f"{int(g['_rep'].sum())} | {_fmt(_shifted_geomean(g['solve_s']), 's')} |"
        )
    lines += ["", "## Results", ""]
    cols = [
        ("instance", "instance", "str"),
        ("configuration", "configuration", "str"),
        ("size", "size", "str"),
        ("rows", "rows", "int"),
        ("cols", "cols", "int"),
        ("integers", "integers", "int"),
        ("status", "status", "str"),
        ("sense", "sense", "str"),
        ("objective", "objective", "num"),
        ("bound", "bound", "num"),
        ("gap", "gap", "pct"),
        ("best_known", "best known", "num"),
        ("gap_to_best_known", "vs best", "spct"),
        ("build_s", "build s", "s"),
        ("solve_s", "solve s", "s"),
        ("peak_mem_mb", "peak MB", "mb"),
        ("time_limit", "limit", "num"),
    ]
    lines.append("| " + " | ".join(h for _, h, _ in cols) + " |")
    lines.append("|" + "|".join("---" if k == "str" else "--:" for _, _, k in cols) + "|")
    df = df.sort_values(["suite", "instance", "configuration"], kind="stable")
    for _, r in df.iterrows():
        cells = []
        for c, _, k in cols:
            cell = (
                str(r[c])
                if k == "str" and pd.notna(r[c])
                else ("" if k == "str" else _fmt(r[c], k))
            )
            if c == "gap_to_best_known" and cell and r["_rep"]:
                cell += " ✓"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    errs = df[~df["status"].astype(str).isin(["optimal", "feasible"])]
    if len(errs):
        lines += ["", "Messages of rows without a plan:", ""]
        lines += [
            f"- {r['instance']} / {r['configuration']}: {r['message']}" for _, r in errs.iterrows()
        ]
    lines += joint_gain_lines(df)
    lines += [
        "",
        "## Plots",
        "",
        f"![performance profile]({PROFILE_PNG})",
        "",
        "Performance profile (Dolan & Moré 2002): for each configuration, the share of instances "
        "it proved optimal within τ times the fastest configuration's solve time; instances "
        "no configuration proved optimal count as unsolved for all.",
        "",
        f"![build and solve time against size]({TIMES_PNG})",
        "",
    ]
    return "\n".join(lines)


def write_report(table: pd.DataFrame, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """results.md and both plots, over the whole table."""
    out = Path(out_dir)
    md = out / RESULTS_MD
    md.write_text(markdown_report(table), encoding="utf-8", newline="\n")
    return {
        "md": md,
        "profile": plot_performance_profile(table, out / PROFILE_PNG),
        "times": plot_times_vs_size(table, out / TIMES_PNG),
    }
