"""Warm starts, measured (issue #8, target 4): re-solves cold versus from the previous plan.

Runs the real commands in fresh processes and reads their outputs back:

  sweep    prodbudget sweep instances/appliance --param budget:procurement --from -20% --to +20%
           --steps 9 --jobs 1, with --cold and with --warm (sweep.csv: profit, HiGHS seconds,
           whether the point was warm-started and whether the trap guard re-solved it cold)
  compare  prodbudget compare on the appliance with three demand scenarios (low = 0.85 x,
           base, high = 1.15 x the appliance's demand; written to benchmarks/work/warmstart/),
           with and without --cold (plans/<scenario>/summary.json: profit, HiGHS seconds)

Wall time is the whole command (process start, load, build, solve, write); HiGHS time is the
sum of the solves' `seconds_highs` (a re-solve after the trap guard included). Cold and warm
runs alternate, `--repeats` times each, so that load on a shared machine hits both alike.

    .venv/bin/python benchmarks/warmstart.py --repeats 2 > /tmp/warmstart.txt
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/ holds scripts whose names must not shadow the packages
ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work" / "warmstart"
CLI = [sys.executable, "-m", "solver.cli"]
APPLIANCE = ROOT / "instances" / "appliance"
SCENARIOS = {"low": 0.85, "base": 1.0, "high": 1.15}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    import highspy

    return {"cpu": cpu, "cores": len([ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("processor")]),
            "python": platform.python_version(),
            "highs": f"{highspy.HIGHS_VERSION_MAJOR}.{highspy.HIGHS_VERSION_MINOR}.{highspy.HIGHS_VERSION_PATCH}",
            "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}


def timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(CLI + args, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def sweep_run(mode: str, rep: int) -> dict:
    import pandas as pd

    out = WORK / f"sweep-{mode}-{rep}"
    wall = timed(["sweep", str(APPLIANCE), "--param", "budget:procurement", "--from", "-20%", "--to", "+20%",
                  "--steps", "9", "--jobs", "1", f"--{mode}", "--out", str(out), "--force"])
    df = pd.read_csv(out / "sweep.csv")
    return {"mode": mode, "rep": rep, "wall": wall, "highs": float(df["seconds_highs"].sum()),
            "profits": df["profit"].tolist(), "gaps": df["gap"].tolist(), "status": df["status"].tolist(),
            "points_highs": df["seconds_highs"].tolist(), "warm": int(df["warm_start"].sum()),
            "fallback": int(df["warm_start_fallback"].sum())}


def scenario_instance() -> Path:
    """The appliance with demand scenarios low / base / high (quantities scaled, rounded)."""
    import pandas as pd

    dest = WORK / "appliance-scenarios"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(APPLIANCE, dest)
    dem = pd.read_csv(APPLIANCE / "demand.csv", dtype=str, keep_default_na=False)
    parts = []
    for name, factor in SCENARIOS.items():
        d = dem.copy()
        d["quantity"] = (d["quantity"].astype(float) * factor).round().astype(int).astype(str)
        d["scenario"] = name
        parts.append(d)
    pd.concat(parts).to_csv(dest / "demand.csv", index=False)
    return dest


def compare_run(path: Path, mode: str, rep: int) -> dict:
    out = WORK / f"compare-{mode}-{rep}"
    args = ["compare", str(path), "--scenarios", ",".join(SCENARIOS), "--out", str(out), "--force"]
    wall = timed(args + (["--cold"] if mode == "cold" else []))
    res = {"mode": mode, "rep": rep, "wall": wall, "highs": 0.0, "profits": [], "gaps": [], "warm": 0, "fallback": 0,
           "points_highs": []}
    for s in SCENARIOS:
        k = json.loads((out / "plans" / s / "summary.json").read_text(encoding="utf-8"))
        res["highs"] += k["seconds_highs"]
        res["points_highs"].append(k["seconds_highs"])
        res["profits"].append(k["objective"])
        res["gaps"].append(k["gap"])
        res["warm"] += bool(k.get("warm_start"))
        res["fallback"] += bool(k.get("warm_start_fallback"))
    return res


def agree(runs: list[dict], gap: float = 1e-4) -> str:
    """Largest relative difference of a point's profit between any two runs, against the gap."""
    worst = 0.0
    for r in runs[1:]:
        for a, b in zip(runs[0]["profits"], r["profits"], strict=True):
            worst = max(worst, abs(a - b) / max(abs(a), abs(b), 1e-9))
    return f"{worst:.2e} ({'within' if worst <= gap else 'OUTSIDE'} the gap {gap:g})"


def table(title: str, runs: list[dict]) -> str:
    lines = [f"### {title}", "", "| run | wall s | HiGHS s | warm-started | guard re-solved cold | HiGHS s per solve |",
             "|---|---:|---:|---:|---:|---|"]
    for r in runs:
        lines.append(f"| {r['mode']} #{r['rep']} | {r['wall']:.1f} | {r['highs']:.1f} | {r['warm']} | {r['fallback']} | "
                     + " ".join(f"{x:.1f}" for x in r["points_highs"]) + " |")
    for mode in ("cold", "warm"):
        mine = [r for r in runs if r["mode"] == mode]
        if mine:
            lines.append(f"| **{mode} mean** | **{sum(r['wall'] for r in mine) / len(mine):.1f}** | "
                         f"**{sum(r['highs'] for r in mine) / len(mine):.1f}** | | | |")
    lines += ["", f"Profits of the same point across all runs differ by at most {agree(runs)}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--only", choices=("sweep", "compare"), help="one of the two measurements")
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}, HiGHS {info['highs']}")
    print(f"load before: {info['uptime']}\n")
    if args.only in (None, "sweep"):
        runs = [sweep_run(mode, rep) for rep in range(1, args.repeats + 1) for mode in ("cold", "warm")]
        print(table("sweep budget:procurement -20%..+20%, 9 points, --jobs 1", runs))
        print("profits:", json.dumps({f"{r['mode']}#{r['rep']}": r["profits"] for r in runs}))
        print("gaps:", json.dumps({f"{r['mode']}#{r['rep']}": r["gaps"] for r in runs}), "\n")
    if args.only in (None, "compare"):
        path = scenario_instance()
        runs = [compare_run(path, mode, rep) for rep in range(1, args.repeats + 1) for mode in ("cold", "warm")]
        print(table(f"compare {', '.join(SCENARIOS)} (appliance demand x {', '.join(map(str, SCENARIOS.values()))})", runs))
        print("profits:", json.dumps({f"{r['mode']}#{r['rep']}": r["profits"] for r in runs}), "\n")
    print(f"load after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
