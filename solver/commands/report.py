"""`prodbudget report OUT_DIR --html report.html`: one self-contained HTML page (KPIs, charts,
binding limits, plan tables) from a solve output folder (`prodbudget solve --out OUT_DIR`)."""

from __future__ import annotations

from pathlib import Path

from solver.commands.common import err_console
from solver.writers import OutputExistsError


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="write an HTML report with charts from a solve output folder")
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder written by `prodbudget solve --out`")
    p.add_argument("--html", required=True, metavar="FILE", help="HTML page to write")
    p.add_argument("--rows", type=int, default=40, help="rows shown per plan table (default 40)")
    p.add_argument("--top", type=int, default=15, help="binding limits listed (default 15)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(run=run)


def run(args) -> int:
    from solver.report import ReportError, write_report

    out = Path(args.html)
    if out.exists() and not args.force:
        raise OutputExistsError(f"{out} exists; use --force to replace it")
    try:
        write_report(args.out_dir, out, max_rows=args.rows, top_limits=args.top)
    except ReportError as err:
        err_console.print(f"prodbudget report: {err}")
        return 2
    err_console.print(f"report written to {out}")
    return 0
