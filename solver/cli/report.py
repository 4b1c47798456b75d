"""`prodbudget report OUT_DIR --html report.html`: one self-contained HTML page (KPIs, charts,
binding limits, plan tables) from a solve output folder (`prodbudget solve --out OUT_DIR`)."""

from __future__ import annotations

from pathlib import Path

from solver.cli.common import COUNT, NON_NEGATIVE_INT, err_console
from solver.io.writers import check_output


def add_arguments(p) -> None:
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder written by `prodbudget solve --out`")
    p.add_argument("--html", required=True, metavar="FILE", help="HTML page to write (may lie inside OUT_DIR)")
    p.add_argument("--rows", type=NON_NEGATIVE_INT, default=40, help="rows shown per plan table (default 40)")
    p.add_argument("--top", type=COUNT, default=15, help="binding limits listed (default 15)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(run=run)


def run(args) -> int:
    from solver.present.report import ReportError, write_report

    folder = Path(args.out_dir)
    # the page may sit beside the tables (README: out/demo/report.html), never on one of them
    read = [folder / "summary.json", *folder.glob("*.csv")] if folder.is_dir() else [folder]
    check_output(args.html, inputs=read, force=args.force, folder=False, option="--html")
    try:
        write_report(folder, args.html, max_rows=args.rows, top_limits=args.top, force=args.force)
    except ReportError as err:
        err_console.print(f"prodbudget report: {err}")
        return 2
    err_console.print(f"report written to {args.html}")
    return 0
