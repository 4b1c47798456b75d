"""`prodbudget bench`: every instance × configuration of one or more suites, resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from solver.cli.common import COUNT, add_option, err_console
from solver.engine.options import SolveOptions
from solver.io.writers import safe_file_names
from solver.present.terminal import console as make_console
from solver.present.terminal import styled


def add_arguments(p) -> None:
    p.description = (
        "Run every instance × configuration of the suites in parallel worker processes (or on a "
        "Dask cluster), appending one row per run to OUT/results.csv; rows already there are not "
        "re-run. Then write OUT/results.md and the plots over the whole file. SUITE: a folder of "
        "instance folders, or ttm-tr, ttm-all, dj, ladder-tiny … ladder-xl, ladder."
    )
    p.add_argument(
        "suites",
        nargs="*",
        metavar="SUITE_OR_DIR",
        help="named suite or folder of instance folders",
    )
    add_option(p, "time_limit", default=60.0, note="per run")
    add_option(p, "threads", note="per run")
    p.add_argument(
        "--jobs",
        type=COUNT,
        default=1,
        metavar="J",
        help="parallel local worker processes (default 1)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address (e.g. tcp://host:8786): run there instead",
    )
    p.add_argument(
        "--config",
        action="extend",
        nargs="+",
        metavar="NAME",
        help="configuration (repeatable; default `default`; `all` = every installed one; "
        "ad hoc: key=value,... or NAME:key=value,... with SolveOptions fields)",
    )
    p.add_argument(
        "--out", metavar="DIR", help="results folder (default benchmarks/work/results/<suites>)"
    )
    p.add_argument(
        "--literature", metavar="DIR", help="literature data folder (default: $PRODBUDGET_LITERATURE, else shared/literature beside the checkout)"
    )
    p.add_argument(
        "--cache",
        metavar="DIR",
        help="where named suites are converted/generated (default benchmarks/work)",
    )
    p.add_argument(
        "--seeds",
        type=COUNT,
        default=1,
        metavar="K",
        help="generated instances per ladder size (seeds 0..K-1; default 1)",
    )
    p.add_argument(
        "--list-configs",
        action="store_true",
        help="list the configurations and whether they are installed, then exit",
    )
    p.set_defaults(run=run)


def _results_name(suites: list[str]) -> str:
    """The default results folder name: the suites' names joined, as a safe file name (a
    suite given as `..` or `/` must not turn into a path)."""
    name = "+".join(Path(s).name or "root" for s in suites)
    return safe_file_names([name])[name]


def _list_configs() -> int:
    from solver.devtools.bench import CONFIGS

    t = Table("configuration", "installed", "overrides", "description")
    for c in CONFIGS.values():
        t.add_row(
            c.name, "yes" if c.available() else "no", str(dict(c.options) or ""), c.description
        )
    make_console().print(t)
    return 0


def run(args: argparse.Namespace) -> int:
    from solver.devtools import bench

    if args.list_configs:
        return _list_configs()
    if not args.suites:
        err_console.print("prodbudget bench: give at least one SUITE_OR_DIR")
        return 2
    base = SolveOptions(time_limit=args.time_limit, threads=args.threads)
    try:
        configs = bench.resolve_configs(args.config, base)
        instances = []
        for spec in args.suites:
            instances += bench.resolve_suite(spec, args.cache, args.literature, seeds=args.seeds)
    except ValueError as err:
        err_console.print(f"prodbudget bench: {err}")
        return 2
    out = (
        Path(args.out)
        if args.out
        else bench.DEFAULT_CACHE_DIR / "results" / _results_name(args.suites)
    )
    where = (
        f"Dask scheduler {args.scheduler}" if args.scheduler else f"{args.jobs} local process(es)"
    )
    err_console.print(
        f"{len(instances)} instance(s) × {len(configs)} configuration(s) "
        f"({', '.join(c.name for c in configs)}) on {where}; results in {out}/"
    )

    progress = Progress(
        TextColumn("[bold]bench"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}", markup=False),
        console=err_console,
        transient=False,
    )
    task_id = None

    def on_start(to_run: int, skipped: int) -> None:
        nonlocal task_id
        if skipped:
            err_console.print(f"{skipped} run(s) already in results.csv: not re-run")
        task_id = progress.add_task("", total=to_run)

    def on_result(row: dict) -> None:
        progress.update(
            task_id,
            advance=1,
            description=f"{row['instance']} / {row['configuration']}: {row['status']}",
        )

    with progress:
        result = bench.run_bench(
            instances,
            configs,
            base,
            out,
            jobs=args.jobs,
            scheduler=args.scheduler,
            on_start=on_start,
            on_result=on_result,
        )
    for inst, cfg, err in result.failures:
        err_console.print(
            styled(("failed", "red"), f": {inst} / {cfg}: {err} (no row written; a re-run retries it)")
        )
    table = result.table
    summary = Table(
        "configuration",
        "runs",
        "optimal",
        "with plan",
        "reproduced best known",
        title="results.csv",
    )
    rep = bench.reproduced(table) if len(table) else None
    for cfg, g in table.groupby("configuration", sort=True):
        st = g["status"].astype(str)
        summary.add_row(
            str(cfg),
            str(len(g)),
            str(int((st == "optimal").sum())),
            str(int(st.isin(["optimal", "feasible"]).sum())),
            f"{int(rep[g.index].sum())} of {int(g['best_known'].notna().sum())}",
        )
    make_console().print(summary)
    err_console.print(
        f"ran {result.ran}, skipped {result.skipped}; written: "
        + ", ".join(str(p) for p in result.files.values())
    )
    return 1 if result.failures else 0
