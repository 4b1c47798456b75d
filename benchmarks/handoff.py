"""Hand-off benchmark: instance -> model in HiGHS -> solution back in DataFrames (issue 8, target 1).

Configurations, each measured in a fresh subprocess (its own peak RSS, nothing shared):

  reference-highspy  benchmarks/reference_builder.py: our exact model as numpy arrays from the
                     prepared data, one Highs.passModel, solution back as one DataFrame per
                     variable family (the "direct highspy from numpy arrays" yardstick)
  direct             ours, what `prodbudget solve` does: rows declared in the registry
                     (formulations/rows.py) compiled straight to CSC (solver/engine/highs.py
                     compile_model), one passModel, `solver.engine.results.extract_tables`
  pyoptinterface     the reference's arrays handed over through pyoptinterface's HiGHS model
                     (add_variable per column, add_m_linear_constraints per row block): a lower
                     bound of a pyoptinterface build (only if pyoptinterface + highsbox import)
  pyomo-lsfc         Pyomo constraints + LinearStandardFormCompiler + one passModel
                     (`SolveOptions(handoff="pyomo")`), `extract_tables`
  pyomo-appsi        Pyomo constraints + the appsi persistent HiGHS interface (set_instance,
                     solve, load_vars): Pyomo's usual path, then `extract_tables`

Stages (seconds): build (Instance -> model objects; for the reference: prepare + arrays),
compile (-> the arrays HiGHS takes; appsi: 0), pass (Highs.passModel / set_instance),
solve (fixed effort, the same for all: the LP relaxation, presolve off, simplex iteration
limit 0 -> HiGHS's set-up and an all-at-bounds solution of the right shape; the target is
the hand-off, not the solve), extract (solution vector -> DataFrames). total = build +
compile + pass + extract (solve excluded, reported beside), wall clock; total_cpu is the same
stages in process CPU time (less sensitive to a loaded machine; all stages are single-threaded
except where HiGHS says otherwise). Instance loading is shown apart.

    .venv/bin/python benchmarks/handoff.py --sizes medium large 1m xl
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/ holds scripts whose names must not shadow the packages
ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work" / "handoff"  # generated instances (--work)
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "handoff.md"
CONFIGS = ("reference-highspy", "direct", "pyoptinterface", "pyomo-lsfc", "pyomo-appsi")
# ~1M nonzeros: between the ladder's large (0.74M) and xl (2.7M); 156k rows, 230k cols, 1.04M nz
SIZES = {"1m": dict(products=700, periods=24, resources=20, materials=550, levels=3, channels=4)}
HIGHS_FIXED_EFFORT = {"output_flag": False, "threads": 1, "presolve": "off", "simplex_iteration_limit": 0}


def _reference_module():
    import importlib.util

    name = "prodbudget_reference_builder"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / "reference_builder.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fingerprint(A, cost) -> str:
    """Order-free summary of the matrix and objective (equal for the same model)."""
    import numpy as np

    return f"{A.nnz}|{float(np.abs(A.data).sum()):.9g}|{float(np.abs(cost).sum()):.9g}"


def _highs(options: dict):
    from solver.engine.bound_worker import quiet_highs

    h = quiet_highs()
    for key, value in options.items():
        h.setOptionValue(key, value)
    return h


def measure(config: str, path: str) -> dict:
    import numpy as np

    from solver.io.loading import load_instance

    rec: dict = {"config": config}
    t0 = time.perf_counter()
    inst = load_instance(path)
    rec["load_s"] = time.perf_counter() - t0
    rec["base_mb"] = _rss_mb()  # interpreter, libraries and the loaded instance
    stage = time.perf_counter
    cpu0 = time.process_time()

    if config in ("reference-highspy", "pyoptinterface"):
        from formulations.data import prepare

        rb = _reference_module()
        t0 = stage()
        data = prepare(inst)
        rec["prepare_s"] = stage() - t0
        ref = rb.build_reference(inst, data)
        rec["build_s"] = stage() - t0
        rec["rows"], rec["cols"], rec["nonzeros"] = ref.num_rows, ref.num_cols, int(ref.A.nnz)
        rec["fingerprint"] = _fingerprint(ref.A, ref.cost)
        if config == "reference-highspy":
            t0 = stage()
            lp = ref.to_lp(integer=False)
            rec["compile_s"] = stage() - t0
            h = _highs(HIGHS_FIXED_EFFORT)
            t0 = stage()
            h.passModel(lp)
            rec["pass_s"] = stage() - t0
            t0, c0 = stage(), time.process_time()
            h.run()
            rec["solve_s"], solve_cpu = stage() - t0, time.process_time() - c0
            t0 = stage()
            values = np.asarray(h.getSolution().col_value, dtype=float)
            frames = ref.frames(values)
            rec["extract_s"] = stage() - t0
        else:
            import pyoptinterface as poi
            from pyoptinterface import highs as poi_highs

            poi_highs.autoload_library()
            rec["compile_s"] = 0.0
            t0 = stage()
            m = poi_highs.Model()
            for key, value in HIGHS_FIXED_EFFORT.items():
                m.set_raw_parameter(key, value)
            cont = poi.VariableDomain.Continuous  # the LP relaxation, as for the others
            x = [m.add_variable(domain=cont, lb=lo, ub=up)
                 for lo, up in zip(ref.col_lower.tolist(), ref.col_upper.tolist(), strict=True)]
            xa = np.empty(len(x), dtype=object)
            xa[:] = x
            A = ref.A.tocsr()
            lo, up = ref.row_lower, ref.row_upper
            eq = lo == up
            le = ~eq & np.isfinite(up) & (up < 1e30)
            ge = ~eq & np.isfinite(lo) & (lo > -1e30)
            for mask, sense, rhs in ((eq, poi.Eq, lo), (le, poi.Leq, up), (ge, poi.Geq, lo)):
                idx = np.flatnonzero(mask)
                if idx.size:
                    m.add_m_linear_constraints(A[idx], xa, sense, rhs[idx])
            nz = np.flatnonzero(ref.cost)
            obj = poi.ScalarAffineFunction(ref.cost[nz].tolist(), [x[j].index for j in nz.tolist()], ref.offset)
            m.set_objective(obj, poi.ObjectiveSense.Maximize)
            rec["pass_s"] = stage() - t0  # pyoptinterface writes into HiGHS as it goes
            t0, c0 = stage(), time.process_time()
            m.optimize()
            rec["solve_s"], solve_cpu = stage() - t0, time.process_time() - c0
            t0 = stage()
            values = np.fromiter((m.get_value(v) for v in x), dtype=float, count=len(x))
            frames = ref.frames(values)
            rec["extract_s"] = stage() - t0
        rec["tables"] = len(frames)
    else:
        from formulations.assembly import build_model
        from solver.engine.highs import compile_model
        from solver.engine.results import extract_tables

        t0 = stage()
        built = build_model(inst, materialize=config != "direct")
        rec["build_s"] = stage() - t0
        if config in ("direct", "pyomo-lsfc"):
            t0 = stage()
            sf = compile_model(built.model)
            lp = sf.to_lp(integer=False)
            rec["compile_s"] = stage() - t0
            rec["rows"], rec["cols"], rec["nonzeros"] = sf.num_rows, sf.num_cols, int(sf.A.nnz)
            rec["fingerprint"] = _fingerprint(sf.A, sf.cost)
            h = _highs(HIGHS_FIXED_EFFORT)
            t0 = stage()
            h.passModel(lp)
            rec["pass_s"] = stage() - t0
            t0, c0 = stage(), time.process_time()
            h.run()
            rec["solve_s"], solve_cpu = stage() - t0, time.process_time() - c0
            t0 = stage()
            values = np.asarray(h.getSolution().col_value, dtype=float)
            tables = extract_tables(built, sf, values)
            rec["extract_s"] = stage() - t0
        else:  # pyomo-appsi
            from types import SimpleNamespace

            import pyomo.environ as pyo
            from pyomo.common.timing import HierarchicalTimer
            from pyomo.contrib.appsi.solvers.highs import Highs as AppsiHighs

            model = built.model
            for v in model.component_data_objects(pyo.Var, descend_into=True):
                if v.is_integer():  # the LP relaxation, as for the others (not timed)
                    v.domain = pyo.UnitInterval
            opt = AppsiHighs()
            opt.config.load_solution = False
            opt.highs_options = {k: v for k, v in HIGHS_FIXED_EFFORT.items() if k != "output_flag"}
            rec["compile_s"] = 0.0
            t0 = stage()
            opt.set_instance(model)
            rec["pass_s"] = stage() - t0
            h = opt._solver_model
            rec["rows"], rec["cols"], rec["nonzeros"] = h.getNumRow(), h.getNumCol(), h.getNumNz()
            t0, c0 = stage(), time.process_time()
            opt._solve(HierarchicalTimer())  # what opt.solve(model) runs after its own set_instance
            rec["solve_s"], solve_cpu = stage() - t0, time.process_time() - c0
            t0 = stage()
            opt.load_vars()  # the usual path: values into the Pyomo variables, then read them
            columns = list(model.component_data_objects(pyo.Var, descend_into=True))
            values = np.array([v.value or 0.0 for v in columns], dtype=float)
            sf = SimpleNamespace(column_of={id(v): j for j, v in enumerate(columns)})
            tables = extract_tables(built, sf, values)
            rec["extract_s"] = stage() - t0
            rec["fingerprint"] = ""
        rec["tables"] = len(tables)
    rec["total_s"] = rec["build_s"] + rec["compile_s"] + rec["pass_s"] + rec["extract_s"]
    rec["total_cpu_s"] = time.process_time() - cpu0 - solve_cpu  # the same stages in CPU time
    rec["peak_mb"] = _rss_mb()
    return rec


def markdown_table(df) -> str:
    import numpy as np
    import pandas as pd

    def cell(v):
        if v is None or v is pd.NA or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, float):
            return f"{v:,.2f}"
        if isinstance(v, int | np.integer):
            return f"{v:,}"
        return str(v)

    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    return head + "\n".join("| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False))


def _machine() -> str:
    machine = f"{platform.machine()}, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    try:
        text = Path("/proc/cpuinfo").read_text()
        cpu = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name"))
        machine = f"{cpu}; {machine}"
    except (OSError, StopIteration):
        pass
    try:
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        machine += f"; {int(mem.split()[1]) / 1024**2:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    return f"{machine}; {os.cpu_count()} cores"


def _versions() -> str:
    out = []
    for mod in ("highspy", "pyomo", "numpy", "scipy", "pandas", "pyoptinterface"):
        try:
            from importlib.metadata import version

            out.append(f"{mod} {version(mod)}")
        except Exception:  # noqa: BLE001 (not installed)
            out.append(f"{mod} (not installed)")
    return ", ".join(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["medium", "large", "1m", "xl"])
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS))
    ap.add_argument("--repeat", type=int, default=1, help="runs per config; the one with the least total is kept")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="Markdown table (the CSV goes beside it)")
    ap.add_argument("--work", type=Path, default=WORK, help="folder of the generated instances")
    ap.add_argument("--one", nargs=2, metavar=("CONFIG", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one)))
        return 0
    from solver.devtools.generator import GeneratorParams, generate_to, ladder

    records = []
    for size in args.sizes:
        folder = args.work / size
        if not folder.exists():
            generate_to(GeneratorParams(**SIZES[size]) if size in SIZES else ladder(size), folder)
        for config in args.configs:
            best = None
            for _ in range(args.repeat):
                load = os.getloadavg()[0]
                run = subprocess.run([sys.executable, __file__, "--one", config, str(folder)], capture_output=True, text=True)
                if run.returncode:
                    rec = {"config": config, "error": (run.stderr.strip().splitlines() or ["?"])[-1]}
                else:
                    rec = json.loads(run.stdout.strip().splitlines()[-1])
                rec["size"], rec["load_avg_1m"] = size, load
                if best is None or rec.get("total_s", float("inf")) < best.get("total_s", float("inf")):
                    best = rec
            records.append(best)
            print(size, json.dumps(best), flush=True)
    import pandas as pd

    cols = ["size", "config", "rows", "cols", "nonzeros", "load_s", "prepare_s", "build_s", "compile_s", "pass_s",
            "solve_s", "extract_s", "total_s", "total_cpu_s", "peak_mb", "base_mb", "load_avg_1m", "fingerprint", "error"]
    df = pd.DataFrame(records)
    df = df[[c for c in cols if c in df.columns]]
    for c in ("rows", "cols", "nonzeros"):
        if c in df.columns:
            df[c] = df[c].astype("Int64")
    out = Path(args.out)
    df.to_csv(out.with_suffix(".csv"), index=False)
    hidden = ["fingerprint", "base_mb"] + (["error"] if "error" in df.columns and df["error"].isna().all() else [])
    shown = df.drop(columns=[c for c in hidden if c in df.columns])  # a run that failed (pyoptinterface absent) says why
    head = (
        "# Hand-off benchmark\n\n"
        "Instance → model in HiGHS → solution back in DataFrames (issue 8, target 1); generated instances,\n"
        "each configuration in a fresh subprocess. See benchmarks/handoff.py for what each stage holds.\n\n"
        f"Machine: {_machine()}; shared with other sessions' jobs (1-minute load average per run in the table).\n"
        f"Versions: {_versions()}.\n\n"
        f"Reproduce: `.venv/bin/python benchmarks/handoff.py --sizes {' '.join(args.sizes)}"
        f"{' --configs ' + ' '.join(args.configs) if list(args.configs) != list(CONFIGS) else ''}"
        f"{' --repeat ' + str(args.repeat) if args.repeat > 1 else ''}"
        f"{' --out ' + args.out if Path(args.out).resolve() != DEFAULT_OUT else ''}`\n\n"
        + markdown_table(shown) + "\n"
    )
    keep = ""
    if out.exists():
        text = out.read_text(encoding="utf-8")
        if "\n## Reading" in text:
            keep = text[text.index("\n## Reading"):]
    out.write_text(head + keep, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
