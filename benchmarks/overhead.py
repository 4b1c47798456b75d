"""Where planners wait (issue 18, targets 1 and 2): whole processes, timed from outside.

Cases, each a fresh process (`python -m solver.cli …`, nothing shared between runs):

  help           `prodbudget --help` (target: under 0.5 s)
  solve-help     `prodbudget solve --help` (not a target: a command's own help imports what the
                 command's options are declared with)
  large-solve    `solve G --time-limit 1 --json` on the generated 400 × 24 instance
                 (`generate --products 400 --periods 24 --seed 1`, 53k rows)
  large-reference the same instance through benchmarks/reference_builder.py in one process:
                 import, load, the model as numpy arrays, one Highs.passModel, HiGHS for 1 s,
                 the solution back as DataFrames (target: large-solve no slower)
  demo-solve     `solve instances/appliance --out D` (the from-scratch solve of the demo)
  demo-rush      `insert instances/appliance --baseline D --product "挂机空调 AC-12K" --quantity
                 3000 --due 2027-03 --channel "大客户 Key account" --json` (target: ≤ demo-solve,
                 stretch ≤ 0.5 × demo-solve)
  demo-rush-protect  the same with `--protect`

Each case runs `--repeat` times (default 3) in rotation (case by case, round after round, so a
burst of load from elsewhere hits every case alike); the tables give the median. Wall clock is
what a planner waits; CPU seconds (user + system of the process and its children) are less
sensitive to other work on a shared machine but count a background bound process's second
core too. The 1-minute load average (`os.getloadavg`) is recorded before every run.

`--code DIR` runs another checkout's code with this environment (its folder first on
PYTHONPATH): how the "before" figures were taken (`git worktree add /tmp/old <commit>`).

    .venv/bin/python benchmarks/overhead.py --repeat 3 --label after
    .venv/bin/python benchmarks/overhead.py --repeat 3 --label before --code /tmp/old
    .venv/bin/python benchmarks/overhead.py --report        # results/overhead.md from the CSV

`--work DIR` (default benchmarks/work/overhead, gitignored) holds the generated instance, the
demo baseline and the outputs; `--results DIR` (default benchmarks/results) receives
overhead.csv (appended) and overhead.md (rewritten; its "## Reading" section is kept).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/ holds scripts whose names must not shadow the packages

from solver.devtools.bench import cpu_model  # noqa: E402  (after the path fix above)

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work" / "overhead"  # generated instance, baselines, outputs (--work)
RESULTS = ROOT / "benchmarks" / "results"  # overhead.csv and overhead.md (--results)
LARGE = dict(products=400, periods=24, seed=1)
ORDER = ["--product", "挂机空调 AC-12K", "--quantity", "3000", "--due", "2027-03", "--channel", "大客户 Key account"]
CASES = ("help", "solve-help", "large-solve", "large-reference", "demo-solve", "demo-rush", "demo-rush-protect")
FIELDS = ["label", "case", "round", "wall_s", "cpu_s", "exit", "load_1min", "code", "when"]


def _cli(code: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "solver.cli", *args]


def _env(code: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _timed(cmd: list[str], code: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds (process and children) of one run, and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=code, env=_env(code), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stderr = done.stderr.decode(errors="replace")
    if done.returncode not in (0, 1) or "Traceback" in stderr:  # 1 is "no plan"; a crash is not a time
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {done.returncode}):\n{stderr[-2000:]}")
    return wall, cpu, done.returncode


def _prepare(code: Path, work: Path, cases: list[str]) -> tuple[Path, Path]:
    """The large instance (generated once) and the demo baseline folder for this checkout,
    each made only if a case asked for needs it."""
    work.mkdir(parents=True, exist_ok=True)
    large = work / "G400x24"
    if any(c.startswith("large-") for c in cases) and not (large / "instance.toml").is_file():
        subprocess.run(_cli(code, "generate", "--products", str(LARGE["products"]), "--periods", str(LARGE["periods"]),
                            "--seed", str(LARGE["seed"]), "--out", str(large)), cwd=code, env=_env(code), check=True,
                       stdout=subprocess.DEVNULL)
    baseline = work / f"demo-baseline-{hashlib.sha1(str(code).encode()).hexdigest()[:8]}"  # one per checkout
    if any(c.startswith("demo-rush") for c in cases) and not (baseline / "summary.json").is_file():
        subprocess.run(_cli(code, "solve", "instances/appliance", "--out", str(baseline), "--force"), cwd=code,
                       env=_env(code), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return large, baseline


def _command(case: str, code: Path, work: Path, large: Path, baseline: Path) -> list[str]:
    out = work / f"out-{case}"
    if case == "help":
        return _cli(code, "--help")
    if case == "solve-help":
        return _cli(code, "solve", "--help")
    if case == "large-solve":
        return _cli(code, "solve", str(large), "--time-limit", "1", "--json")
    if case == "large-reference":
        return [sys.executable, str(Path(__file__).resolve()), "--reference-run", str(large)]
    if case == "demo-solve":
        return _cli(code, "solve", "instances/appliance", "--out", str(out), "--force")
    if case == "demo-rush":
        return _cli(code, "insert", "instances/appliance", "--baseline", str(baseline), *ORDER, "--json")
    if case == "demo-rush-protect":
        return _cli(code, "insert", "instances/appliance", "--baseline", str(baseline), *ORDER, "--protect", "--json")
    raise ValueError(case)


def reference_run(folder: str) -> None:
    """The yardstick process: what a plain highspy builder of the same model does in 1 s."""
    import importlib.util

    import highspy
    import numpy as np

    from solver.io.loading import load_instance

    spec = importlib.util.spec_from_file_location("reference_builder", Path(__file__).with_name("reference_builder.py"))
    ref_mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = ref_mod  # its dataclasses look their module up
    spec.loader.exec_module(ref_mod)
    inst = load_instance(folder)
    ref = ref_mod.build_reference(inst)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", 1.0)
    h.passModel(ref.to_lp())
    h.run()
    if h.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible:
        ref.frames(np.array(h.getSolution().col_value))


def run(label: str, code: Path, repeat: int, cases: list[str], work: Path, results: Path) -> None:
    large, baseline = _prepare(code, work, cases)
    results.mkdir(parents=True, exist_ok=True)
    csv_path = results / "overhead.csv"
    new = not csv_path.is_file()
    with csv_path.open("a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            writer.writeheader()
        for k in range(repeat):
            for case in cases:
                load = os.getloadavg()[0]
                wall, cpu, code_exit = _timed(_command(case, code, work, large, baseline), code)
                row = {"label": label, "case": case, "round": k + 1, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                       "exit": code_exit, "load_1min": round(load, 2), "code": str(code),
                       "when": time.strftime("%Y-%m-%d %H:%M:%S")}
                writer.writerow(row)
                f.flush()
                print(f"{label:8s} {case:18s} round {k + 1}: {wall:7.2f} s wall, {cpu:7.2f} s CPU, load {load:.2f}",
                      flush=True)



def report(results: Path) -> str:
    """results/overhead.md: medians per label and case, with the loads they ran under."""
    rows = list(csv.DictReader((results / "overhead.csv").open(encoding="utf-8")))
    labels = list(dict.fromkeys(r["label"] for r in rows))
    cases = [c for c in CASES if any(r["case"] == c for r in rows)]

    def med(label: str, case: str, key: str) -> float | None:
        vals = [float(r[key]) for r in rows if r["label"] == label and r["case"] == case]
        return statistics.median(vals) if vals else None

    lines = [
        "# Whole-process times where planners wait (issue 18)",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores shared with other "
        f"helpers' test runs and solves (the load column is the 1-minute load average before each run; "
        f"2 cores means anything above 2 is queueing), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}. Generated by `benchmarks/overhead.py` from "
        "`overhead.csv` (every run); median of the runs per label and case (n = runs).",
        "",
        "| label | case | n | wall s (median) | CPU s (median) | load during runs (min–max) |",
        "|---|---|---|---|---|---|",
    ]
    for label in labels:
        for case in cases:
            sel = [r for r in rows if r["label"] == label and r["case"] == case]
            if not sel:
                continue
            loads = [float(r["load_1min"]) for r in sel]
            lines.append(f"| {label} | {case} | {len(sel)} | {med(label, case, 'wall_s'):.2f} | "
                         f"{med(label, case, 'cpu_s'):.2f} | {min(loads):.1f}–{max(loads):.1f} |")
    lines += ["", "Ratios (medians, same label):", ""]
    for label in labels:
        pairs = [("demo-rush", "demo-solve"), ("demo-rush-protect", "demo-solve"), ("large-solve", "large-reference")]
        for a, b in pairs:
            wa, wb = med(label, a, "wall_s"), med(label, b, "wall_s")
            ca, cb = med(label, a, "cpu_s"), med(label, b, "cpu_s")
            if None not in (wa, wb, ca, cb):
                lines.append(f"- {label}: {a} / {b} = {wa / wb:.2f} (wall), {ca / cb:.2f} (CPU)")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--label", default="current")
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose code runs (default: this one)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    ap.add_argument("--work", type=Path, default=WORK, help=f"scratch folder (default {WORK.relative_to(ROOT)})")
    ap.add_argument("--results", type=Path, default=RESULTS,
                    help=f"folder of overhead.csv and overhead.md (default {RESULTS.relative_to(ROOT)})")
    ap.add_argument("--report", action="store_true", help="only rewrite overhead.md from overhead.csv")
    ap.add_argument("--reference-run", metavar="FOLDER", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference_run:
        reference_run(args.reference_run)
        return
    if not args.report:
        run(args.label, args.code.resolve(), args.repeat, args.cases, args.work.resolve(), args.results)
    md = args.results / "overhead.md"
    kept = ""  # the hand-written reading of the figures survives a rewrite
    if md.is_file() and "\n## Reading" in (text := md.read_text(encoding="utf-8")):
        kept = text[text.index("\n## Reading"):]
    md.write_text(report(args.results) + kept, encoding="utf-8")
    print(f"wrote {md}")


if __name__ == "__main__":
    main()
