"""`prodbudget sweep PATH --param budget:procurement --from -30% --to +30% --steps 13`."""

from __future__ import annotations

from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from solver.analysis.parametric import (
    PARAMETERS,
    Parameter,
    ParameterError,
    base_value,
    breakpoint_table,
    sweep,
    sweep_values,
)
from solver.cli.common import (
    COUNT,
    NON_NEGATIVE_INT,
    add_scheduler_option,
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
from solver.present.charts import parameter_text, sweep_chart
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
    add_scheduler_option(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--warm", dest="warm", action="store_true", default=False,
                   help="start each point from a neighbouring point's plan (measured slower on the appliance sweep: "
                        "benchmarks/results/warmstart.md)")
    g.add_argument("--cold", dest="warm", action="store_false", help="solve every point from scratch (the default)")
    p.add_argument("--refine", type=NON_NEGATIVE_INT, default=None, metavar="N",
                   help="points solved besides the grid to locate each breakpoint exactly (default: as many as --steps, at least 8; "
                        "0: none, the breakpoints the grid cannot place are given as intervals)")
    p.add_argument("--out", metavar="DIR",
                   help="write sweep.csv, breakpoints.csv and sweep.png here (default out/sweep-<param>)")
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
        options = solve_options(args)
        df = sweep(args.path, str(param), values, options, scenario=args.scenario, jobs=args.jobs,
                   warm=args.warm, refine=args.refine, scheduler=args.scheduler,
                   progress=lambda event: bar.update(task, completed=event.done, total=event.total))
    today = base_value(inst, param)
    breaks = breakpoint_table(df, options.gap)

    def fill(tmp: Path) -> None:
        write_csv(df, tmp / "sweep.csv")
        write_csv(breaks, tmp / "breakpoints.csv")
        sweep_chart(df, param, tmp / "sweep.png", inst.currency, today=today, gap=options.gap)

    write_folder_atomically(out, fill, force=args.force)
    console = make_console()
    console.print(render_sweep(df, param, inst.currency, today))
    for row in breaks.itertuples(index=False):
        where = (f"at {parameter_text(param, row.value, inst.currency)}" if row.exact else
                 f"somewhere between {parameter_text(param, row.low, inst.currency)} and "
                 f"{parameter_text(param, row.high, inst.currency)} (not located: raise --refine)")
        console.print(f"breakpoint {where}: marginal value {_number(row.slope_before)} → {_number(row.slope_after)}")
    err_console.print(f"written {out}/sweep.csv, {out}/breakpoints.csv and {out}/sweep.png")
    return 0


def _number(x: float) -> str:
    """A slope: 4 significant digits; solver noise around zero (1e-12) reads 0."""
    return "—" if x != x else f"{(x if abs(x) > 1e-9 else 0.0):,.4g}"


def render_sweep(df, param: Parameter, currency: str, today: float) -> Table:
    """The sweep's points as a table: today's value and the points solved to locate a
    breakpoint marked; ◆ where the slope changes exactly."""
    t = Table(title=f"sweep of {param}")
    for c in ("value", "status", "profit", "marginal value", "service", "breakpoint"):
        t.add_column(c, justify="right")
    for r in df.itertuples(index=False):
        note = " (today)" if abs(r.value - today) <= 1e-9 * max(abs(today), 1.0) else (
            " (probe)" if getattr(r, "point", "grid") == "probe" else "")
        t.add_row(parameter_text(param, r.value, currency) + note, r.status, money(r.profit, currency),
                  _number(r.marginal_value), f"{r.service_level:.1%}" if r.service_level == r.service_level else "—",
                  "◆" if r.breakpoint else "")
    return t
