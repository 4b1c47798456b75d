"""Big-M, (l,S), facility location and the root cut loop (`--formulation bigm|ls|fl|cuts`): root gap and time to optimum.

    .venv/bin/python benchmarks/formulations.py                 # six TTM tr instances + generated
    .venv/bin/python benchmarks/formulations.py --time-limit 60 --threads 2 --only G62
    .venv/bin/python benchmarks/formulations.py --only G62 --formulations fl --merge   # re-run one cell

For every instance and formulation (formulations/setup/ls_inequalities.py) it measures
- `lp_bound`: the LP relaxation of the model as built (no HiGHS cuts); for `cuts`, the LP after
  the root cut loop (solver/engine/cuts.py), whose kept rows the root bound then starts from,
- `root_bound`: HiGHS's dual bound after the root node (presolve, cuts; `mip_max_nodes` = 1),
- the full solve through `solver.engine.pipeline.solve` (status, plan, bound, seconds to optimum).
Gaps are relative to the reference value: the published optimum for the TTM instances
(cost = −profit), else the best plan any run proved optimal. Results go to
benchmarks/results/formulations.{csv,md} with the machine and its load (other benchmarks may
share the two cores: times are wall-clock under that load). `--merge` keeps the rows of the
existing CSV that this run does not redo; the hand-written "## Findings" section of the
Markdown file is kept when it is rewritten.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # this script's own name would shadow the `formulations` package
sys.path.insert(0, str(ROOT))

import solver  # noqa: E402, F401  (first: solver and formulations import each other)
import solver.engine.highs  # noqa: E402
from formulations.assembly import build_model  # noqa: E402
from formulations.setup.variants import FORMULATIONS, formulation_extensions  # noqa: E402
from solver.devtools.generator import generate, ladder  # noqa: E402
from solver.devtools.literature import DEFAULT_LITERATURE_DIR, known_values, ttm_instance  # noqa: E402
from solver.engine.cuts import root_cut_loop, with_rows  # noqa: E402
from solver.engine.exact import CUT_SHARE  # noqa: E402
from solver.engine.highs import compile_model, set_scaling  # noqa: E402
from solver.engine.options import SolveOptions  # noqa: E402
from solver.engine.pipeline import solve  # noqa: E402
from solver.io.instance_writer import write_instance_folder  # noqa: E402
from solver.io.loading import load_instance  # noqa: E402

TR = {"G30b": "G30", "G53": "G53", "G57": "G57", "G62": "G62", "G69": "G69", "G72": "G72"}
GENERATED = {
    "gen-tiny-s0": ladder("tiny", seed=0),
    "gen-tiny-s1": ladder("tiny", seed=1),
    "gen-tiny-s2": ladder("tiny", seed=2),
    "gen-small-s0": ladder("small", seed=0),
    "gen-small-s1": ladder("small", seed=1),
}


def instances(work: Path, only: set[str] | None, literature: Path = DEFAULT_LITERATURE_DIR):
    kv = known_values(literature)
    best = dict(zip(kv["instance"], kv["best_known"], strict=True))
    for name, stem in TR.items():
        if only and name not in only:
            continue
        toml, tables = ttm_instance(literature / "ttm" / f"{stem}.DAT",
                                    unit_capacity_use=(name != stem), name=name)
        path = write_instance_folder(work / name, toml, tables)
        yield name, load_instance(path), -best[name]
    for name, params in GENERATED.items():
        if only and name not in only:
            continue
        toml, tables = generate(params)
        yield name, load_instance(write_instance_folder(work / name, toml, tables)), math.nan


_new_highs = solver.engine.highs.new_highs
HIGHS_EXTRA: dict[str, object] = {}  # --highs KEY=VALUE: benchmark-only HiGHS options on top of SolveOptions


def new_highs(options: SolveOptions):
    """solver.engine.highs.new_highs plus the --highs options (the solver's defaults stay untouched)."""
    h = _new_highs(options)
    for k, v in HIGHS_EXTRA.items():
        h.setOptionValue(k, v)
    return h


def parse_highs(pairs: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        key, _, text = pair.partition("=")
        value: object = text
        if text in ("true", "false"):
            value = text == "true"
        else:
            for conv in (int, float):
                try:
                    value = conv(text)
                    break
                except ValueError:
                    pass
        out[key] = value
    return out


def bounds(inst, formulation: str, options: SolveOptions) -> dict:
    t0 = time.perf_counter()
    built = build_model(inst, formulation_extensions(formulation))
    sf = compile_model(built.model)
    build_s = time.perf_counter() - t0
    loop = {}
    if formulation == "cuts":  # its LP is the root cut loop's; HiGHS's root starts from the rows kept
        cuts, report = root_cut_loop(sf, built, options, CUT_SHARE * options.time_limit)
        sf = with_rows(sf, cuts)
        loop = {"cut_rounds": report.rounds, "cut_rows": report.rows_kept, "cut_s": report.seconds}
    h = new_highs(options)
    set_scaling(h, sf)
    h.passModel(sf.to_lp(integer=False))
    h.run()
    lp = h.getInfo().objective_function_value
    h = new_highs(options)
    set_scaling(h, sf)
    h.setOptionValue("mip_max_nodes", 1)
    h.passModel(sf.to_lp())
    t1 = time.perf_counter()
    h.run()
    root_s = time.perf_counter() - t1
    root = h.getInfo().mip_dual_bound
    return {"rows": sf.num_rows, "cols": sf.num_cols, "binaries": sf.num_integers,
            "build_s": build_s, "lp_bound": lp, "root_bound": root, "root_s": root_s, **loop}


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()[:15]
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.strip()
    return "\n".join([*lscpu, mem, f"python {platform.python_version()}"])


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="instance names (default: all)")
    ap.add_argument("--formulations", nargs="*", default=list(FORMULATIONS), choices=FORMULATIONS)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "formulations"))
    ap.add_argument("--literature", type=Path, default=DEFAULT_LITERATURE_DIR,
                    help="literature data folder with ttm/ (default: $PRODBUDGET_LITERATURE, else shared/literature "
                         "beside the checkout)")
    ap.add_argument("--merge", action="store_true", help="keep the existing CSV's rows this run does not redo")
    ap.add_argument("--highs", nargs="*", default=[], metavar="KEY=VALUE",
                    help="extra HiGHS options for every run (benchmark only; rows are labelled formulation+highs)")
    args = ap.parse_args(argv)
    HIGHS_EXTRA.update(parse_highs(args.highs))
    solver.engine.highs.new_highs = new_highs  # solve_standard_form looks it up in its module
    label = "+" + ",".join(args.highs) if args.highs else ""
    options = SolveOptions(time_limit=args.time_limit, threads=args.threads)
    rows = []
    load_start = load()
    with tempfile.TemporaryDirectory() as tmp:
        for name, inst, reference in instances(Path(tmp), set(args.only) if args.only else None, args.literature):
            for f in args.formulations:
                rec = {"instance": name, "formulation": f + label, "reference": reference, "load_before": load()}
                rec.update(bounds(inst, f, options))
                t0 = time.perf_counter()
                # `cuts` is a route, not extensions: the exact route runs the loop (solver/engine/cuts.py)
                r = solve(inst, replace(options, formulation=f)) if f == "cuts" else \
                    solve(inst, options, extensions=formulation_extensions(f))
                rec.update(status=str(r.status), objective=r.objective, bound=r.bound, gap=r.gap,
                           solve_s=r.kpis.get("solve_seconds", math.nan), total_s=time.perf_counter() - t0,
                           load_after=load())
                rows.append(rec)
                print(name, f, rec["status"], rec["objective"], rec["bound"], f"{rec['solve_s']:.1f}s",
                      f"lp={rec['lp_bound']:.1f} root={rec['root_bound']:.1f}", flush=True)
    df = pd.DataFrame(rows)
    out = Path(args.out)
    if args.merge and out.with_suffix(".csv").exists():
        old = pd.read_csv(out.with_suffix(".csv"))
        redone = set(zip(df["instance"], df["formulation"], strict=True))
        keep = [(i, f) not in redone for i, f in zip(old["instance"], old["formulation"], strict=True)]
        df = pd.concat([old.loc[keep, [c for c in old.columns if c in df.columns]], df], ignore_index=True)
        order = {n: k for k, n in enumerate([*TR, *GENERATED])}
        df["_i"] = df["instance"].map(order)
        df["_f"] = [(FORMULATIONS.index(f.split("+")[0]), f) for f in df["formulation"]]
        df = df.sort_values(["_i", "_f"]).drop(columns=["_i", "_f"]).reset_index(drop=True)
        df.loc[~df["instance"].isin(list(TR)), "reference"] = math.nan  # recomputed below from all rows
    # reference for generated instances: best plan proved optimal by any formulation
    for name, grp in df.groupby("instance"):
        if grp["reference"].isna().all():
            opt = grp.loc[grp["status"] == "optimal", "objective"]
            df.loc[df["instance"] == name, "reference"] = opt.max() if len(opt) else grp["objective"].max()
    ref = df["reference"].abs().clip(lower=1e-9)
    df["lp_gap_pct"] = 100 * (df["lp_bound"] - df["reference"]) / ref
    df["root_gap_pct"] = 100 * (df["root_bound"] - df["reference"]) / ref
    df["final_gap_pct"] = 100 * df["gap"]
    df["time_to_opt_s"] = [s if st == "optimal" else math.inf for s, st in zip(df["solve_s"], df["status"], strict=True)]
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out.with_suffix(".csv"), index=False)
    write_markdown(df, out.with_suffix(".md"), args, load_start)
    return 0


def markdown_table(t: pd.DataFrame) -> str:
    """A GitHub table without the optional `tabulate` dependency."""
    head = "| " + " | ".join(map(str, t.columns)) + " |"
    sep = "|" + "|".join("---" for _ in t.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in t.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def summary(df: pd.DataFrame, time_limit: float) -> pd.DataFrame:
    """Per formulation and instance group: how many proven, and the time to prove them."""
    recs = []
    for f, grp in df.groupby("formulation", sort=False):
        for label, sel in (("TTM tr", grp["instance"].isin(list(TR))), ("generated", ~grp["instance"].isin(list(TR)))):
            g = grp[sel]
            if not len(g):
                continue
            proven = g[g["status"] == "optimal"]
            recs.append({"formulation": f, "instances": label, "proven": f"{len(proven)} of {len(g)}",
                         "proven_names": " ".join(proven["instance"]) or "-",
                         "mean_root_gap_pct": f"{g['root_gap_pct'].mean():.2f}",
                         "sum_time_s (unproven = limit)": f"{g['solve_s'].clip(upper=time_limit).sum():.0f}"})
    return pd.DataFrame(recs)


def findings(path: Path) -> list[str]:
    """The hand-written "## Findings" section of an existing results file (kept on rewrite)."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    start = text.find("## Findings")
    if start < 0:
        return []
    end = text.find("## Machine", start)
    return text[start:end if end >= 0 else None].rstrip().splitlines() + [""]


def write_markdown(df: pd.DataFrame, path: Path, args, load_start: str) -> None:
    cols = ["instance", "formulation", "rows", "cols", "binaries", "reference", "lp_gap_pct", "root_gap_pct",
            "status", "objective", "final_gap_pct", "time_to_opt_s", "load_before", "load_after"]
    kept = findings(path)
    t = df[[c for c in cols if c in df.columns]].copy()
    for c in ("lp_gap_pct", "root_gap_pct", "final_gap_pct"):
        t[c] = t[c].map(lambda v: f"{v:.2f}")
    t["time_to_opt_s"] = t["time_to_opt_s"].map(lambda v: f"{v:.1f}" if math.isfinite(v) else f"> {args.time_limit:g}")
    t["objective"] = t["objective"].map(lambda v: f"{v:.1f}")
    t["reference"] = t["reference"].map(lambda v: f"{v:.1f}")
    lines = [
        "# Formulations: big-M, (l,S), facility location and the root cut loop",
        "",
        f"Reproduce: `.venv/bin/python benchmarks/formulations.py --time-limit {args.time_limit:g} --threads {args.threads}"
        + (" --highs " + " ".join(args.highs) if args.highs else "") + "` (a `--merge` run adds rows to the last one)",
        "",
        "Gaps are % of |reference| (TTM: published optimum as −cost; generated: best proven plan); a bound",
        "of a maximisation is ≥ the optimum, so the gaps are ≥ 0. `lp` = LP relaxation as built, `root` =",
        "HiGHS dual bound after the root node (presolve + cuts), `final` = gap at the end of the solve.",
        "`cuts` (`--formulation cuts`): `lp` = the LP after the root cut loop, `root` = HiGHS from the rows it kept.",
        f"Time limit {args.time_limit:g} s, {args.threads} HiGHS threads; `load_before`/`load_after` are the 1/5/15-min",
        f"load averages around the run (the machine is shared; load at the start of the script: {load_start}).",
        "",
        markdown_table(t),
        "",
        markdown_table(summary(df, args.time_limit)),
        "",
        *kept,
        "## Machine",
        "",
        "```",
        machine(),
        "```",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
