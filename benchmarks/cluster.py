"""Sweeps, scenario comparisons and the robust plan on a Dask cluster against local runs, from
the command line (issue 18, target 6): whole `prodbudget` processes, their output tables compared.

    .venv/bin/python benchmarks/cluster.py                          # a LocalCluster of 2 worker processes
    .venv/bin/python benchmarks/cluster.py --scheduler tcp://host:8786
    .venv/bin/python benchmarks/cluster.py --out /tmp/cluster.md --work /tmp/cluster-work

Commands, each run twice (local worker processes, then `--scheduler ADDRESS`):

  sweep     `sweep instances/tiny/capacity_overtime --param capacity:R --from -50% --to +50%
            --steps 4` (`--jobs 2` locally; a breakpoint at 12 h, located by probes): sweep.csv and
            breakpoints.csv
  compare   `compare instances/tiny/scenarios_demand --robust --commit 1` (`--jobs 2` locally):
            comparison.csv and scenarios.csv (every scenario's plan and the robust plan)

Every column of those tables must be equal (numbers to 1e-9 relative), except the seconds a
solve took. Without `--scheduler` a `distributed.LocalCluster` of worker processes is started
(`pip install -e .[cluster]`); its workers see this checkout's files, as a real cluster's must
(README, *Scenarios and rolling plans*). The library-level proof is tests/test_workers.py;
this script shows the command line gives the same. Results: `--out` (default
benchmarks/results/cluster.md), with the machine, the load and each command's wall clock.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/formulations.py would shadow the package in the LocalCluster's workers

from solver.devtools.bench import cpu_model  # noqa: E402  (after the path fix above)

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work" / "cluster"
SWEEP = ["sweep", "instances/tiny/capacity_overtime", "--param", "capacity:R", "--from", "-50%", "--to", "+50%",
         "--steps", "4"]
COMPARE = ["compare", "instances/tiny/scenarios_demand", "--robust", "--commit", "1"]
CASES = {"sweep": (SWEEP, ["sweep.csv", "breakpoints.csv"]), "compare": (COMPARE, ["comparison.csv", "scenarios.csv"])}


def _run(args: list[str], out: Path) -> float:
    """Wall seconds of one `prodbudget` process writing into `out`; a failure stops the script."""
    cmd = [sys.executable, "-m", "solver.cli", *args, "--out", str(out), "--force"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        said = [line for line in done.stderr.splitlines() if line.strip()][-30:]
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n" + "\n".join(said))
    return time.perf_counter() - t0


def _differences(a: Path, b: Path) -> list[str]:
    """Where two output tables differ (columns of seconds are not compared)."""
    left, right = pd.read_csv(a), pd.read_csv(b)
    if list(left.columns) != list(right.columns) or len(left) != len(right):
        return [f"{a.name}: shape or columns differ ({left.shape} vs {right.shape})"]
    out = []
    for col in left.columns:
        if "second" in col.lower():
            continue
        x, y = left[col], right[col]
        numeric = [pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v) for v in (x, y)]
        if all(numeric):
            scale = (x.abs().fillna(0) + y.abs().fillna(0)).clip(lower=1.0)
            bad = ((x - y).abs() > 1e-9 * scale) | (x.isna() != y.isna())
        else:
            bad = x.astype(str) != y.astype(str)
        if bad.any():
            out.append(f"{a.name}: column {col!r} differs in {int(bad.sum())} row(s)")
    return out



def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scheduler", help="a running Dask scheduler (default: start a LocalCluster)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    ap.add_argument("--work", type=Path, default=WORK, help="folder of the outputs compared")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cluster.md")
    args = ap.parse_args(argv)
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    cluster = None
    address = args.scheduler
    if address is None:
        import distributed

        cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        address = cluster.scheduler_address
    lines, problems = [], []
    try:
        for name, (cmd, tables) in CASES.items():
            local, remote = args.work / f"{name}-local", args.work / f"{name}-cluster"
            t_local = _run([*cmd, "--jobs", "2"], local)
            t_remote = _run([*cmd, "--scheduler", address], remote)
            found = [d for t in tables for d in _differences(local / t, remote / t)]
            rows = sum(len(pd.read_csv(local / t)) for t in tables)
            problems += found
            lines.append(f"| `prodbudget {' '.join(cmd)}` | {', '.join(tables)} ({rows} rows) | {t_local:.1f} s | "
                         f"{t_remote:.1f} s | {'equal' if not found else '; '.join(found)} |")
            print(lines[-1], flush=True)
    finally:
        if cluster is not None:
            cluster.close()
    where = f"`--scheduler {args.scheduler}`" if args.scheduler else \
        f"a `distributed.LocalCluster` of {args.workers} worker processes (one thread each) on this machine"
    text = "\n".join([
        "# Sweeps, scenario comparisons and the robust plan on a Dask cluster (issue 18, target 6)",
        "",
        f"Generated by `benchmarks/cluster.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: each command"
        f" run with local worker processes (`--jobs 2`) and on {where}; the output tables compared column by column"
        " (numbers to 1e-9 relative; the seconds a solve took are not compared).",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}; 1-minute load"
        f" {load_before} before, {' '.join(f'{x:.1f}' for x in os.getloadavg())} after (shared with other work).",
        "",
        "| command | tables compared | local | cluster | result |",
        "|---|---|---|---|---|",
        *lines,
        "",
        "The library-level tests are tests/test_workers.py (`test_sweep_on_a_cluster_is_the_local_sweep`,"
        " `test_scenarios_and_robust_plan_elsewhere_are_the_local_ones` for a LocalCluster and two local"
        " processes) and tests/test_bench.py (the benchmark runner on a LocalCluster).",
        "",
    ])
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
