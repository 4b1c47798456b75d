"""`prodbudget sweep PATH --param budget:procurement --from -30% --to +30% --steps 13`."""

from __future__ import annotations

from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from solver.analysis.parametric import (
    PARAMETERS,
    Parameter,
    ParameterError,
    sweep,
    sweep_values,
)
from solver.cli.common import (
    COUNT,
    add_solve_options,
    err_console,
    input_location,
    number,
    print_error,
    relative_or_absolute,
    solve_options,
)
from solver.io.loading import load_instance
from solver.io.writers import check_output, safe_file_names, write_csv, write_folder_atomically
from solver.money import money
from solver.present.charts import sweep_chart
from solver.present.terminal import console as make_console


def add_arguments(p) -> None:
    p.add_argument("path", help="instance folder or workbook")
    p.add_argument("--param", required=True, help="; ".join(f"{k}: {v}" for k, v in PARAMETERS.items()))
    p.add_argument("--from", dest="start", type=relative_or_absolute, default="-30%",
                   help="start: -30%% (relative) or an absolute value")
    p.add_argument("--to", dest="stop", type=relative_or_absolute, default="+30%", help="end: +30%% or an absolute value")
    p.add_argument("--steps", type=number(int, at_least=2), default=13,
                   help="number of points, at least 2 (default 13)")
    p.add_argument("--jobs", type=COUNT, default=2, help="worker processes (default 2)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--warm", dest="warm", action="store_true", default=False,
                   help="start each point from a neighbouring point's plan (measured slower on the appliance sweep: "
                        "benchmarks/results/warmstart.md)")
    g.add_argument("--cold", dest="warm", action="store_false", help="solve every point from scratch (the default)")
    p.add_argument("--out", metavar="DIR", help="write sweep.csv and sweep.png here (default out/sweep-<param>)")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists")
    add_solve_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    inst = load_instance(args.path, scenario=args.scenario)
    try:
        param = Parameter.parse(args.param)
        values = sweep_values(inst, param, args.start, args.stop, args.steps)
    except ParameterError as err:
        print_error(str(err))
        return 2
    default = f"sweep-{param}"
    out = Path(args.out or Path("out") / safe_file_names([default])[default])  # the name part is data
    check_output(out, inputs=[input_location(args.path)], force=args.force)  # before the sweep's solves
    with Progress(TextColumn("{task.description}", style="progress.description", markup=False), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(f"sweep {param}", total=len(values))
        df = sweep(args.path, str(param), values, solve_options(args), scenario=args.scenario, jobs=args.jobs,
                   warm=args.warm, progress=lambda done, total: bar.update(task, completed=done))

    def fill(tmp: Path) -> None:
        write_csv(df, tmp / "sweep.csv")
        sweep_chart(df, str(param), tmp / "sweep.png", inst.currency)

    write_folder_atomically(out, fill, force=args.force)
    t = Table(title=f"sweep of {param}")
    for c in ("value", "status", "profit", "marginal", "service", "breakpoint"):
        t.add_column(c, justify="right")
    for r in df.itertuples(index=False):
        t.add_row(f"{r.value:,.0f}" if abs(r.value) >= 1000 else f"{r.value:,.4g}", r.status, money(r.profit, inst.currency),
                  "" if r.marginal_value != r.marginal_value else f"{r.marginal_value:,.4g}",
                  f"{r.service_level:.1%}" if r.service_level == r.service_level else "—", "◆" if r.breakpoint else "")
    make_console().print(t)
    err_console.print(f"written {out}/sweep.csv and {out}/sweep.png")
    return 0
