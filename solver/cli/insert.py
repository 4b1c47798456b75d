"""`prodbudget insert PATH --baseline DIR …`: evaluate a rush order (插单) against a solved plan.

One order (`--product/--quantity/--due`) or a file of candidates (`--orders orders.csv`,
columns product, quantity, due, price, channel), each evaluated on its own, or with
`--select` chosen jointly (the most profitable subset).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from solver.analysis.rush import (
    DEFAULT_CHANGE_PENALTY,
    MODES,
    RushAnswer,
    RushOrder,
    SelectionAnswer,
    evaluate_order,
    select_orders,
)
from solver.cli.common import (
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    add_csv_safe_option,
    add_solve_options,
    add_xlsx_options,
    check_xlsx_name,
    err_console,
    input_location,
    solve_options,
    write_outputs,
)
from solver.cli.progress import labelled, progress_reporter
from solver.io.baseline import load_baseline
from solver.io.loading import load_instance, read_text_table
from solver.io.problems import InputError, Problem
from solver.io.writers import check_outputs, to_jsonable, write_csv, write_json
from solver.money import money, quantity
from solver.present.terminal import console as make_console
from solver.present.terminal import styled

DEFAULT_TIME_LIMIT = 60.0  # per run; an answer is wanted in minutes, and several runs may be needed


def add_arguments(p) -> None:
    p.add_argument("path", help="instance folder or .xlsx workbook (the baseline's input)")
    p.add_argument("--baseline", required=True, metavar="DIR", help="output folder of `prodbudget solve --out`")
    o = p.add_argument_group("the order")
    o.add_argument("--product", help="product ordered")
    o.add_argument("--quantity", type=POSITIVE, help="units")
    o.add_argument("--due", help="period by which it must ship (label or 1..n)")
    o.add_argument("--price", type=NON_NEGATIVE,
                   help="unit price (default: the channel's demand price for the product in force at the due period)")
    o.add_argument("--channel", help="channel it is sold through (collection terms, default price, deliveries' channel)")
    o.add_argument("--orders", metavar="CSV", help="candidate orders: columns product, quantity, due, price, channel")
    o.add_argument("--select", action="store_true", help="with --orders: choose the most profitable subset jointly")
    e = p.add_argument_group("evaluation")
    e.add_argument("--mode", choices=MODES, default="replan",
                   help="replan: re-optimise with the order firm (default); reserve: baseline fixed, order uses reserve and spare")
    e.add_argument("--freeze", type=NON_NEGATIVE_INT, default=1, metavar="N", help="replan: periods whose production and purchases stay (default 1)")
    e.add_argument("--change-penalty", type=NON_NEGATIVE, default=DEFAULT_CHANGE_PENALTY, metavar="X",
                   help=f"replan: objective cost per unit changed against the baseline (default {DEFAULT_CHANGE_PENALTY:g})")
    e.add_argument("--protect", action="store_true",
                   help="replan: no existing order is served later or less than in the baseline")
    e.add_argument("--verify", action="store_true", help="re-solve at the break-even price to confirm it")
    p.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    p.add_argument("--out", metavar="DIR", help="write the plan diff tables and answer.json here")
    p.add_argument("--force", action="store_true", help="replace DIR (and FILE of --xlsx) if it exists")
    add_xlsx_options(p, "the answer as a formatted workbook: the answer, the plan with the order, the diff tables")
    add_csv_safe_option(p)
    # each run is a re-plan near the baseline: a shorter default limit
    add_solve_options(p, defaults={"time_limit": DEFAULT_TIME_LIMIT}, notes={"time_limit": "per run, and an answer takes 3–8 runs"})
    p.set_defaults(run=run)


def _orders_from_args(args) -> list[RushOrder]:
    if args.orders:
        return read_orders(args.orders)
    missing = [f"--{n}" for n in ("product", "quantity", "due") if getattr(args, n) is None]
    if missing:
        raise InputError([Problem(file="command line", row=None, column=None,
                                  message=f"missing {', '.join(missing)}", expected="--product, --quantity and --due, or --orders CSV")])
    return [RushOrder(args.product, args.quantity, args.due, args.price, args.channel)]


def read_orders(path: str | Path) -> list[RushOrder]:
    """Candidate orders from CSV (product*, quantity*, due*, price, channel)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    df = read_text_table(path, str(path))  # not UTF-8, empty, not CSV: a located InputError
    problems = []
    unknown = set(df.columns) - {"product", "quantity", "due", "price", "channel"}
    for c in sorted(unknown):
        problems.append(Problem(str(path), 1, c, "unknown column", "product, quantity, due, price, channel"))
    for c in ("product", "quantity", "due"):
        if c not in df.columns:
            problems.append(Problem(str(path), 1, c, "missing required column"))
    if problems:
        raise InputError(problems)
    orders = []
    for k, row in zip(df.index, df.to_dict("records"), strict=True):
        try:
            qty = float(row["quantity"])
        except ValueError:
            problems.append(Problem(str(path), k, "quantity", f"not a number: {row['quantity']!r}"))
            continue
        price = row.get("price", "").strip()
        try:
            price_v = float(price) if price else None
        except ValueError:
            problems.append(Problem(str(path), k, "price", f"not a number: {price!r}"))
            continue
        orders.append(RushOrder(row["product"].strip(), qty, row["due"].strip(), price_v, row.get("channel", "").strip() or None))
    if problems:
        raise InputError(problems)
    if not orders:
        raise InputError([Problem(str(path), None, None, "no orders")])
    return orders


def run(args) -> int:
    check_xlsx_name(args.xlsx)
    check_outputs([(args.out, "--out", True), (args.xlsx, "--xlsx", False)],
                  inputs=[input_location(args.path), args.baseline, args.orders], force=args.force)
    inst = load_instance(args.path, scenario=args.scenario)
    baseline = load_baseline(args.baseline, inst)
    orders = _orders_from_args(args)
    options = solve_options(args)
    kw = dict(mode=args.mode, freeze=args.freeze, change_penalty=args.change_penalty, options=options,
              protect=args.protect)
    if args.select:
        if not args.orders:
            raise InputError([Problem("command line", None, None, "--select needs --orders CSV")])
        with progress_reporter(enabled=not args.json, currency=inst.currency) as progress:
            sel = select_orders(inst, baseline, orders, progress=progress, **kw)
        if (args.out or args.xlsx) and sel.plan is not None:
            extra = {"orders": sel.orders}
            write_outputs(args.out, _filler(sel.tables, sel.to_json(), extra, args.csv_safe), args.xlsx,
                          lambda: answer_workbook(sel.to_json(), sel.plan, {**extra, **sel.tables}, args.money),
                          args.force)
        if args.json:
            print(json.dumps(to_jsonable(sel.to_json()), ensure_ascii=False, indent=2))
        else:
            _render_selection(sel, inst.currency, make_console())
        return 0 if sel.plan is not None else 1
    with progress_reporter(enabled=not args.json, currency=inst.currency) as progress:
        answers = [evaluate_order(inst, baseline, o, verify=args.verify, progress=labelled(progress, k, len(orders)), **kw)
                   for k, o in enumerate(orders, start=1)]
    if args.out or args.xlsx:
        if len(answers) == 1:
            a = answers[0]
            write_outputs(args.out, _filler(a.tables, a.to_json(), None, args.csv_safe), args.xlsx,
                          lambda: answer_workbook(a.to_json(), a.plan, a.tables, args.money), args.force)
        else:
            write_outputs(args.out, _many_filler(answers, args.csv_safe), args.xlsx,
                          lambda: answers_workbook(answers, args.money), args.force)
    if args.json:
        payload = answers[0].to_json() if not args.orders else [a.to_json() for a in answers]
        print(json.dumps(to_jsonable(payload), ensure_ascii=False, indent=2))
    else:
        console = make_console()
        for a in answers:
            render_answer(a, console)
    if args.out and not args.json:
        err_console.print(f"diff tables written to {args.out}/")
    return 0 if all(a.feasible for a in answers) or args.orders else 1


def _filler(tables: dict[str, pd.DataFrame], answer: dict, extra: dict | None = None, csv_safe: bool = False):
    def fill(tmp: Path) -> None:
        for name, df in {**tables, **(extra or {})}.items():
            write_csv(df, tmp / f"{name}.csv", csv_safe)
        write_json(answer, tmp / "answer.json")

    return fill


def _many_filler(answers: list[RushAnswer], csv_safe: bool = False):
    """orders.csv (one row per order), answer.json (every answer, as `--json` prints them) and
    order-<k>/ with each order's tables and answer."""

    def fill(tmp: Path) -> None:
        write_csv(_orders_summary(answers), tmp / "orders.csv", csv_safe)
        write_json([a.to_json() for a in answers], tmp / "answer.json")
        for j, a in enumerate(answers, start=1):
            sub = tmp / f"order-{j}"
            sub.mkdir()
            for name, df in a.tables.items():
                write_csv(df, sub / f"{name}.csv", csv_safe)
            write_json(a.to_json(), sub / "answer.json")

    return fill


def _orders_summary(answers: list[RushAnswer]) -> pd.DataFrame:
    summary = pd.DataFrame([{k: v for k, v in a.to_json().items() if not isinstance(v, (dict, list))} for a in answers])
    summary.insert(0, "order", range(1, len(answers) + 1))
    return summary


def _answer_rows(answer: dict) -> pd.DataFrame:
    """The answer's scalar fields as (field, value) rows; lists and tables have sheets of their own."""
    rows = [{"field": k, "value": v if not isinstance(v, (dict, list)) else json.dumps(to_jsonable(v), ensure_ascii=False)}
            for k, v in answer.items()]
    return pd.DataFrame(rows, columns=["field", "value"])


def answer_workbook(answer: dict, plan, tables: dict[str, pd.DataFrame], money_display: str = "auto"):
    """`--xlsx` of one order (or a selection): the answer first, then the plan with the order
    (as `solve --xlsx` shows a plan) and the diff tables; without a plan, the answer and tables."""
    from solver.io.workbook import result_workbook_for, tables_workbook

    sheets = {"answer": _answer_rows(answer), **tables}
    if plan is None:
        return tables_workbook("prodbudget · rush order", sheets, {"currency": answer.get("currency", "CNY")},
                               money_display)
    wb = result_workbook_for(plan, sheets, money_display)
    wb["summary"]["A1"] = f"prodbudget · the plan with the rush order · {answer.get('decision', '')}"
    wb.move_sheet("answer", offset=1 - wb.sheetnames.index("answer"))
    return wb


def answers_workbook(answers: list[RushAnswer], money_display: str = "auto"):
    """`--xlsx` of several orders evaluated one by one: a row per order, then each order's tables
    (sheets named by the order's number)."""
    from solver.io.workbook import tables_workbook

    sheets = {"orders": _orders_summary(answers)}
    for j, a in enumerate(answers, start=1):
        sheets[f"order {j}"] = _answer_rows(a.to_json())
        sheets |= {f"order {j} {name}"[:31]: df for name, df in a.tables.items()}
    return tables_workbook("prodbudget · rush orders", sheets, {"currency": answers[0].currency if answers else "CNY"},
                           money_display)


def render_answer(a: RushAnswer, console: Console) -> None:
    """The decision first, then the promises, the money, and what the order costs other orders.
    Names are printed as given (the console reads no markup; colours through `styled`)."""
    cur = a.currency
    channel = f" for {a.channel}" if a.channel else ""
    t = Table(title=f"rush order · {a.quantity:,.6g} {a.product}{channel} by {a.due} "
                    f"at {money(a.price, cur)} ({a.rules.mode}{', protected' if a.rules.protect else ''})",
              show_header=False, box=None)
    t.add_column(style="bold")
    t.add_column()
    colour = "green" if a.profitable else ("yellow" if a.feasible else "red")
    t.add_row("answer", styled((str(a.decision), colour)))
    t.add_row("price", f"{money(a.price, cur)} per unit ({a.price_source})")
    cuts = "" if a.rules.protect or a.rules.mode == "reserve" else ", existing orders may be cut"
    t.add_row("capable to promise", f"{quantity(a.ctp_quantity)} by {a.due} (the most that can be delivered "
              f"by then{cuts})")
    t.add_row("earliest full delivery", str(a.earliest_period) if a.earliest_period else "not within the horizon")
    basis = styled() if a.basis == "due period" else styled("  ", (f"(delivery by {a.earliest_period or ''})", "dim"))
    if math.isfinite(a.profit_delta):
        t.add_row("profit", styled(f"{money(a.profit_without, cur)} → {money(a.profit_with, cur)}  "
                                   f"(Δ {money(a.profit_delta, cur)})") + basis)
    if a.break_even_price is not None:
        t.add_row("break-even price", styled(f"{money(a.break_even_price, cur)} per unit") + basis)
    deliveries = a.tables.get("rush_deliveries")
    if deliveries is not None and len(deliveries):
        t.add_row("deliveries", ", ".join(f"{quantity(r.shipped)} in {r.period}" for r in deliveries.itertuples()))
    imp = a.impact
    if imp:
        t.add_row("budget", f"{money(imp['budget_spent_delta'], cur)} more committed"
                  + (f"; emergency {money(imp['emergency']['delta'], cur)}" if abs(imp["emergency"]["delta"]) >= 0.5 else ""))
        c = imp["cash"]
        t.add_row("cash", f"lowest headroom {money(c['min_headroom_baseline'], cur)} → {money(c['min_headroom_new'], cur)} "
                  f"({c['min_headroom_period_new']})")
        cr = imp["credit"]
        if cr["limit"] > 0 or cr["max_loan_new"] > 0:
            t.add_row("credit", f"peak loan {money(cr['max_loan_baseline'], cur)} → {money(cr['max_loan_new'], cur)} "
                      f"of {money(cr['limit'], cur)}")
    cut = a.cut_orders
    if a.tables:
        n = {k: len(v) for k, v in a.tables.items()}
        t.add_row("plan changes", f"{n['production_changes']} production lots, {n['purchase_changes']} purchases, "
                  f"{len(cut)} existing order rows served later or less")
    t.add_row("time", f"{a.seconds:.1f} s in {len(a.runs)} run(s)")
    console.print(t)
    for w in a.warnings:
        console.print(styled(("warning", "yellow"), f": {w}"), soft_wrap=True)
    if len(cut):
        console.print(styled(("Existing orders cut to make room", "bold"), " (shipped in the baseline → with the order):"))
        for r in cut.itertuples():
            what = f"{quantity(r.lost_delta)} lost" if r.effect == "lost" else f"{quantity(r.backlog_delta)} delayed"
            console.print(f"  • {r.product} · {r.channel} · {r.period}: "
                          f"{quantity(r.shipped_baseline)} → {quantity(r.shipped_new)} shipped ({what})", soft_wrap=True)
        if not a.rules.protect and a.rules.mode == "replan":
            console.print(styled("  ", ("--protect keeps every existing order served at least as in the baseline", "dim")))
    if a.reasons:
        console.print(styled(("Why not" if not a.feasible else "Notes", "bold"), ":"))
        for r in a.reasons:
            console.print(f"  • {r}", soft_wrap=True)


def _render_selection(sel: SelectionAnswer, currency: str, console: Console) -> None:
    t = Table(title="rush orders chosen jointly")
    for c in ("order", "product", "quantity", "due", "price", "accepted"):
        t.add_column(c)
    for r in sel.orders.itertuples(index=False):
        t.add_row(str(r.order), str(r.product), f"{r.quantity:,.6g}", str(r.due), money(r.price, currency),
                  styled(("yes", "green") if r.accepted else ("no", "red")))
    console.print(t)
    for w in sel.warnings:
        console.print(styled(("warning", "yellow"), f": {w}"), soft_wrap=True)
    if math.isfinite(sel.profit_delta):
        console.print(f"profit {money(sel.profit_without, currency)} → {money(sel.profit_with, currency)} "
                      f"(Δ {money(sel.profit_delta, currency)}); {sel.seconds:.1f} s")
    else:
        console.print(f"no plan: {sel.status}")
