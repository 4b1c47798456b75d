"""Hand-off benchmark: instance -> model in HiGHS -> solution back in DataFrames (issue 8.1).

Routes, each in a fresh process so peak memory is its own:
  direct   rows compiled straight from the registry (what `prodbudget solve` uses)
  pyomo    Pyomo constraints + LinearStandardFormCompiler + one passModel (`handoff="pyomo"`)
  appsi    Pyomo constraints + the appsi persistent HiGHS interface's set_instance (Pyomo's usual path)
No MIP is solved: the solution read back is HiGHS's after a 0-iteration run (the hand-off cost
is what is measured), extraction is timed on the zero vector.

    .venv/bin/python benchmarks/handoff.py --sizes medium large xl --out benchmarks/results/handoff.md
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/ holds scripts whose names must not shadow the packages
ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work" / "handoff"


def measure(route: str, path: str) -> dict:
    import numpy as np

    from formulations.assembly import build_model
    from solver.highs import compile_model, new_highs
    from solver.loading import load_instance
    from solver.options import SolveOptions
    from solver.results import extract_tables

    t0 = time.perf_counter()
    inst = load_instance(path)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    built = build_model(inst, materialize=route != "direct")
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    if route == "appsi":
        from pyomo.contrib.appsi.solvers.highs import Highs as AppsiHighs

        opt = AppsiHighs()
        opt.set_instance(built.model)
        t_handoff = time.perf_counter() - t0
        rows = cols = nnz = -1
        t_extract = 0.0
    else:
        sf = compile_model(built.model)
        h = new_highs(SolveOptions())
        h.passModel(sf.to_lp(integer=False))
        t_handoff = time.perf_counter() - t0
        rows, cols, nnz = sf.num_rows, sf.num_cols, int(sf.A.nnz)
        t0 = time.perf_counter()
        extract_tables(built, sf, np.zeros(sf.num_cols))
        t_extract = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"route": route, "rows": rows, "cols": cols, "nonzeros": nnz, "load_s": t_load, "build_s": t_build,
            "handoff_s": t_handoff, "extract_s": t_extract, "total_s": t_build + t_handoff + t_extract,
            "peak_mb": peak_mb}


def markdown_table(df) -> str:
    cells = lambda v: f"{v:,.2f}" if isinstance(v, float) else str(v)  # noqa: E731
    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    return head + "\n".join("| " + " | ".join(cells(v) for v in row) + " |" for row in df.itertuples(index=False))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", default=["medium", "large", "xl"])
    ap.add_argument("--routes", nargs="+", default=["direct", "pyomo", "appsi"])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "handoff.md"))
    ap.add_argument("--one", nargs=2, metavar=("ROUTE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one)))
        return 0
    from solver.generator import generate_to, ladder

    rows = []
    for size in args.sizes:
        folder = WORK / size
        if not folder.exists():
            generate_to(ladder(size), folder)
        for route in args.routes:
            run = subprocess.run([sys.executable, __file__, "--one", route, str(folder)], capture_output=True, text=True)
            if run.returncode:
                rows.append({"size": size, "route": route, "error": run.stderr.strip().splitlines()[-1]})
                continue
            rec = json.loads(run.stdout.strip().splitlines()[-1])
            rec["size"] = size
            rows.append(rec)
            print(size, rec, flush=True)
    import pandas as pd

    df = pd.DataFrame(rows)
    out = Path(args.out)
    df.to_csv(out.with_suffix(".csv"), index=False)
    machine = f"{platform.processor() or platform.machine()}, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    try:
        text = Path("/proc/cpuinfo").read_text()
        cpu = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name"))
        machine = f"{cpu}; {machine}"
    except (OSError, StopIteration):
        pass
    out.write_text(
        "# Hand-off benchmark\n\n"
        "Instance → model in HiGHS → solution back in DataFrames (no MIP solve), generated ladder instances.\n"
        f"Machine: {machine}; 2 cores; other jobs may have been running (shared machine).\n\n"
        f"Reproduce: `.venv/bin/python benchmarks/handoff.py --sizes {' '.join(args.sizes)}`\n\n"
        + markdown_table(df) + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
