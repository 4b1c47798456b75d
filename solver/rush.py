"""Rush-order insertion (插单): can we take it, by when, at what price, and what moves.

An order is a firm commitment added as demand in a dedicated channel (service `must`, the
collection terms of the channel it is sold through, else cash) of a copy of the instance; the
baseline plan (`solver.baseline`) is then re-solved with the extension blocks of
`formulations.replan`:

- `reserve`: every baseline decision stays (production and purchases bounded from below by
  the baseline's, shipments to other orders fixed); the order may use the capacity reserve,
  spare capacity, spare budget, cash and credit. A fast yes/no.
- `replan` (default): re-optimise with the order firm; the first `freeze` periods keep their
  production and purchases exactly; every unit of production, purchase or shipment to another
  order that differs from the baseline pays `change_penalty` (objective only: profits reported
  are MODEL.md §5).

In both modes the reserve (`resources.reserve`) is released to the rush order only: the
instance copy has reserve 0 and the extension holds the reserve back except for the hours the
order needs (hours per unit of the order's product, its made components included, by the
routing with the most hours on each resource, plus one setup per routing).

The answer adds the capable-to-promise quantity (the order as a `lost`-service demand whose
shipments carry an objective-only reward: the most that can ship by the due period), the
binding limits that block a refused order (how the duals of that run's rows grow with the
order's reward, in business words), the
earliest period by which the full quantity ships (a backlog run with a lateness penalty gives
the candidate, firm runs confirm it), the break-even price (profit at price p is linear in p
for the same plan: p − Δprofit/Q), and the plan diff against the baseline.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd

from formulations.assembly import Extension, build_model
from formulations.replan import (
    OrderHours,
    choose_orders,
    fix_shipments,
    hold_decisions,
    penalise_lateness,
    release_reserve,
    reward_shipments,
)
from formulations.replan import (
    change_penalty as change_penalty_ext,
)
from solver.baseline import Baseline
from solver.highs import compile_model, fixed_lp, new_highs, run
from solver.instance import Instance, freeze_tables
from solver.options import SolveOptions
from solver.planning import solve
from solver.problems import InputError, Problem
from solver.results import Result, var_values
from solver.sensitivity import LIMIT_FAMILIES, ROW_FAMILIES

MODES = ("replan", "reserve")
DEFAULT_CHANGE_PENALTY = 1.0  # currency per unit changed: a tie-break that keeps the plan still
TOL = 1e-6
# constraint families that can block an order, in the order a planner reads them
BLOCKING_FAMILIES = (
    "capacity", "overtime limit", "budget per period", "budget horizon ceiling", "budget pool",
    "emergency pool", "minimum cash", "credit limit", "stock balance", "stock target max",
    "stock target min", "minimum lot", "minimum order quantity", "demand",
)


@dataclass(frozen=True)
class RushOrder:
    """An urgent order: `quantity` of `product` due by period `due` (label or 1-based index).

    `price` defaults to the price of the product in `channel` at the due period (else the
    highest price of the product in any channel, else 0); `channel` also gives the collection
    terms (default cash)."""

    product: str
    quantity: float
    due: str | int
    price: float | None = None
    channel: str | None = None


@dataclass(frozen=True)
class _Resolved:
    product: str
    quantity: float
    due_t: int
    price: float
    terms: str
    channel: str | None  # the channel the order is sold through (terms and default price)
    rush_channel: str  # the dedicated channel of the model copy

    def due_label(self, inst: Instance) -> str:
        return inst.periods[self.due_t - 1]


@dataclass
class RushAnswer:
    """Everything `evaluate_order` finds; `to_json()` is the CLI's `--json` object."""

    product: str
    quantity: float
    due: str
    price: float
    channel: str | None
    mode: str
    freeze: int
    change_penalty: float
    accepted: bool
    status: str
    reasons: list[str]
    blocking: pd.DataFrame
    profit_without: float
    profit_with: float
    profit_delta: float
    earliest_period: str | None
    ctp_quantity: float
    break_even_price: float | None
    basis: str  # the plan profit_with, profit_delta and break_even_price belong to
    impact: dict
    tables: dict[str, pd.DataFrame]
    seconds: float
    runs: list[dict]
    plan: Result | None = field(default=None, repr=False)
    currency: str = "CNY"

    @property
    def profitable(self) -> bool:
        return self.accepted and self.profit_delta >= -TOL

    def to_json(self) -> dict:
        return {
            "accepted": self.accepted,
            "profitable": self.profitable,
            "status": self.status,
            "product": self.product,
            "quantity": self.quantity,
            "due": self.due,
            "price": self.price,
            "channel": self.channel,
            "mode": self.mode,
            "freeze": self.freeze,
            "change_penalty": self.change_penalty,
            "profit_without": self.profit_without,
            "profit_with": self.profit_with,
            "profit_delta": self.profit_delta,
            "earliest_period": self.earliest_period,
            "ctp_quantity": self.ctp_quantity,
            "break_even_price": self.break_even_price,
            "basis": self.basis,
            "reasons": self.reasons,
            "blocking": self.blocking.drop(columns=["constraint"], errors="ignore").to_dict("records"),
            "impact": self.impact,
            "changes": {name: int(len(df)) for name, df in self.tables.items()},
            "seconds": self.seconds,
            "runs": self.runs,
        }


# ---------------------------------------------------------------- the order and the instance copy


def _order_problem(message: str, column: str | None = None, expected: str = "") -> InputError:
    return InputError([Problem(file="rush order", row=None, column=column, message=message, expected=expected)])


def resolve_order(inst: Instance, order: RushOrder, rush_channel: str | None = None) -> _Resolved:
    """Check the order against the instance; fill price and terms."""
    items = inst.tables["items"]
    kinds = dict(zip(items["item"], items["kind"], strict=True))
    if order.product not in kinds:
        raise _order_problem(f"unknown product {order.product!r}", "product", "an item of items.csv")
    if kinds[order.product] != "product":
        raise _order_problem(f"{order.product!r} is a {kinds[order.product]}, not a product", "product")
    if not (isinstance(order.quantity, (int, float)) and math.isfinite(order.quantity) and order.quantity > 0):
        raise _order_problem(f"quantity must be a positive number, got {order.quantity!r}", "quantity")
    due_t = _period_index(inst, order.due)
    channels = inst.tables["channels"]
    terms = "cash"
    if order.channel is not None:
        if order.channel not in set(channels["channel"]):
            raise _order_problem(f"unknown channel {order.channel!r}", "channel",
                                 ", ".join(map(str, channels["channel"])))
        terms = str(channels.loc[channels["channel"] == order.channel, "terms"].iloc[0])
    price = order.price
    if price is None:
        price = _list_price(inst, order.product, order.channel, due_t)
    if not math.isfinite(float(price)) or price < 0:
        raise _order_problem(f"price must be a number ≥ 0, got {price!r}", "price")
    name = rush_channel or _free_channel_name(inst, "rush")
    return _Resolved(order.product, float(order.quantity), due_t, float(price), terms, order.channel, name)


def _period_index(inst: Instance, due: str | int) -> int:
    if isinstance(due, str) and due in inst.periods:
        return inst.periods.index(due) + 1
    try:
        t = int(due)
    except (TypeError, ValueError):
        t = 0
    if isinstance(due, str) and due not in inst.periods and not due.strip().isdigit():
        t = 0
    if not 1 <= t <= inst.n:
        raise _order_problem(f"unknown due period {due!r}", "due",
                             f"a period label ({inst.periods[0]} … {inst.periods[-1]}) or 1..{inst.n}")
    return t


def _list_price(inst: Instance, product: str, channel: str | None, due_t: int) -> float:
    dem = inst.tables["demand"]
    rows = dem[(dem["product"] == product) & (dem["t"] <= due_t)]
    if channel is not None:
        rows = rows[rows["channel"] == channel]
    if rows.empty:
        return 0.0
    latest = rows.sort_values("t").groupby("channel")["price"].last()
    return float(latest.max())


def _free_channel_name(inst: Instance, stem: str, taken: set[str] = frozenset()) -> str:
    names = set(inst.tables["channels"]["channel"]) | set(inst.tables["demand"]["channel"]) | set(taken)
    if stem not in names:
        return stem
    k = 2
    while f"{stem} {k}" in names:
        k += 1
    return f"{stem} {k}"


@dataclass(frozen=True)
class _Demand:
    """One rush order as demand of the instance copy."""

    order: _Resolved
    service: str  # must | lost | backlog
    due_t: int


def with_orders(inst: Instance, demands: Sequence[_Demand]) -> Instance:
    """A copy of the instance with the rush channels and demand rows added and the reserve
    set to 0 (the extension `release_reserve` holds it back for the orders instead)."""
    tables = dict(inst.tables)
    ch = tables["channels"]
    new_ch = pd.DataFrame({
        "channel": [d.order.rush_channel for d in demands],
        "terms": [d.order.terms for d in demands],
        "service": [d.service for d in demands],
        "backlog_cost": [0.0] * len(demands),
        "lost_cost": [0.0] * len(demands),
    }).astype(ch.dtypes.to_dict())
    tables["channels"] = pd.concat([ch, new_ch], ignore_index=True)
    dem = tables["demand"]
    new_dem = pd.DataFrame({
        "product": [d.order.product for d in demands],
        "channel": [d.order.rush_channel for d in demands],
        "period": [inst.periods[d.due_t - 1] for d in demands],
        "t": [d.due_t for d in demands],
        "quantity": [d.order.quantity for d in demands],
        "price": [d.order.price for d in demands],
        "scenario": [inst.scenario] * len(demands),
    })[list(dem.columns)].astype(dem.dtypes.to_dict())
    tables["demand"] = pd.concat([dem, new_dem], ignore_index=True)
    res = tables["resources"].copy()
    res["reserve"] = 0.0
    tables["resources"] = res
    return dataclasses.replace(inst, tables=freeze_tables(tables))


def order_hours(inst: Instance, product: str, channel: str) -> OrderHours:
    """Hours per unit of `product` (made components included, by the routing with the most
    hours on each resource) and one setup per routing, per resource."""
    items = inst.tables["items"]
    kind = dict(zip(items["item"], items["kind"], strict=True))
    children: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for parent, child, qty in inst.tables["bom"][["parent", "child", "quantity"]].itertuples(index=False):
        children[parent].append((child, float(qty)))
    mult: dict[str, float] = defaultdict(float)

    def explode(item: str, m: float, depth: int = 0) -> None:
        mult[item] += m
        if depth > len(kind):  # acyclic by validation; guard anyway
            return
        for child, qty in children.get(item, ()):
            if kind.get(child) != "material":
                explode(child, m * qty, depth + 1)

    explode(product, 1.0)
    rt = inst.tables["routings"]
    per_unit: dict[str, float] = defaultdict(float)
    setup: dict[str, float] = defaultdict(float)
    for item, m in mult.items():
        rows = rt[rt["item"] == item]
        hours: dict[str, float] = defaultdict(float)
        setups: dict[str, float] = defaultdict(float)
        for rho, grp in rows.groupby("routing"):
            h = grp.groupby("resource")["hours_per_unit"].sum()
            s = grp.groupby("resource")["setup_hours"].sum()
            for r, v in h.items():
                hours[r] = max(hours[r], float(v))
            for r, v in s.items():
                setups[r] = max(setups[r], float(v))
            del rho
        for r, v in hours.items():
            per_unit[r] += m * v
        for r, v in setups.items():
            setup[r] += v
    return OrderHours(product=product, channel=channel, per_unit=dict(per_unit), setup=dict(setup))


def _reserve_of(inst: Instance) -> dict[str, float]:
    res = inst.tables["resources"]
    return {r: float(v) for r, v in zip(res["resource"], res["reserve"], strict=True)}


def _weight(inst: Instance, orders: Sequence[_Resolved]) -> float:
    """A per-unit weight that dominates any profit trade-off of one unit of a rush order."""
    dem, items, ch = inst.tables["demand"], inst.tables["items"], inst.tables["channels"]
    scale = max([1.0, *[o.price for o in orders],
                 float(dem["price"].max()) if len(dem) else 0.0,
                 float(items["unit_cost"].max()) if len(items) else 0.0,
                 float(ch["lost_cost"].max()) if len(ch) else 0.0,
                 float(ch["backlog_cost"].max()) * inst.n if len(ch) else 0.0])
    return 100.0 * scale


# ---------------------------------------------------------------- one run


@dataclass
class _Run:
    name: str
    result: Result
    inst: Instance
    demands: tuple[_Demand, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return self.result.has_plan

    def record(self) -> dict:
        r = self.result
        return {"run": self.name, "status": str(r.status), "seconds": round(self.seconds, 3),
                "objective": r.objective if r.has_plan else None, "gap": r.gap if r.has_plan else None}


def _baseline_start(built, sf, baseline: Baseline, reserve: dict[str, float]) -> np.ndarray:
    """Column values of the baseline in the new model (rush shipments at their demand, the
    reserve held back): a MIP start whose integer part HiGHS can complete."""
    d = built.data
    vec = np.zeros(sf.num_cols)
    for j, var in enumerate(sf.columns):
        comp = var.parent_component().name
        idx = var.index()
        if comp == "replan.reserve_held":
            r, t = idx
            vec[j] = reserve.get(r, 0.0) * d.capacity[(r, t)]
            continue
        if comp == "sales.ship" and d.service.get(idx[1]) == "must":
            vec[j] = d.demand.get(idx, 0.0)
            continue
        value = baseline.value(comp, idx)
        if value is not None:
            vec[j] = value
        elif var.lb is not None and var.lb > 0:
            vec[j] = var.lb
    return vec


def _run(name: str, inst: Instance, baseline: Baseline, demands: Sequence[_Demand], mode: str, freeze: int,
         penalty: float, options: SolveOptions, extra: Sequence[Extension] = (), select: bool = False,
         warm: bool = True) -> _Run:
    t0 = time.perf_counter()
    inst2 = with_orders(inst, demands)
    rush = {dm.order.rush_channel for dm in demands}
    exts: list[Extension] = []
    if select:
        exts.append(choose_orders([(dm.order.product, dm.order.rush_channel, dm.order.quantity) for dm in demands]))
    if mode == "reserve":
        exts += [hold_decisions(baseline.values, None, "keep"), fix_shipments(baseline.values, rush)]
    else:
        exts += [hold_decisions(baseline.values, range(1, freeze + 1), "fix"),
                 change_penalty_ext(baseline.values, penalty, None, rush)]
    reserve = _reserve_of(inst)
    last_t = max(inst.n if dm.service == "backlog" else dm.due_t for dm in demands)
    exts.append(release_reserve(reserve, [order_hours(inst, dm.order.product, dm.order.rush_channel) for dm in demands], last_t))
    exts += list(extra)
    start = None
    if warm:
        built = build_model(inst2, exts)
        sf = compile_model(built.model)
        start = _baseline_start(built, sf, baseline, reserve)
    result = solve(inst2, options, extensions=exts, start=start)
    if result.has_plan:
        _correct_capacity(result, reserve)
    return _Run(name, result, inst2, tuple(demands), time.perf_counter() - t0)


def _correct_capacity(result: Result, reserve: dict[str, float]) -> None:
    """The copy has reserve 0 and the held reserve counted as hours: report the capacity table
    as the instance reads it (reserved, available, used by production, reserve used)."""
    m, sf, vals = result.built.model, result.standard_form, result.outcome.values
    held = dict(zip(m.replan.reserve_held.keys(), var_values(m.replan.reserve_held, sf, vals), strict=True))
    used = dict(zip(m.replan.reserve_used.keys(), var_values(m.replan.reserve_used, sf, vals), strict=True))
    cap = result.tables["capacity"].copy()
    keys = list(zip(cap["resource"], cap["t"], strict=True))
    res = cap["resource"].map(reserve).fillna(0.0)
    finite = np.isfinite(cap["capacity"])
    cap["reserved"] = np.where(finite, res * cap["capacity"], 0.0)
    cap["available"] = (1 - res) * cap["capacity"]
    cap["used"] = cap["used"] - np.array([held.get(k, 0.0) for k in keys])
    cap["used"] = np.where(np.abs(cap["used"]) < 1e-7, 0.0, cap["used"])
    # reserve actually used (the release variable may float above the need where the row is slack)
    over = cap["used"] - cap["available"] - cap["overtime"]
    cap["reserve_used"] = np.clip(np.minimum(over, [used.get(k, 0.0) for k in keys]), 0.0, None)
    cap["reserve_used"] = np.where(cap["reserve_used"] < 1e-7, 0.0, cap["reserve_used"])
    with np.errstate(divide="ignore", invalid="ignore"):
        cap["utilisation"] = np.where(cap["available"] > 0, cap["used"] / cap["available"], np.nan)
    result.tables["capacity"] = cap


def _shipped(run: _Run, channel: str) -> pd.DataFrame:
    s = run.result.tables["sales"]
    return s[s["channel"] == channel]


# ---------------------------------------------------------------- the answer


def evaluate_order(inst: Instance, baseline: Baseline, order: RushOrder, mode: str = "replan", freeze: int = 1,
                   change_penalty: float = DEFAULT_CHANGE_PENALTY, options: SolveOptions | None = None,
                   verify: bool = False, warm: bool = True) -> RushAnswer:
    """Accept or not, and why; profit with and without; earliest period; capable-to-promise
    quantity; break-even price; budget, cash and credit impact; the plan diff.

    `verify` re-solves at the break-even price to confirm it (one more run)."""
    t0 = time.perf_counter()
    if mode not in MODES:
        raise _order_problem(f"unknown mode {mode!r}", "mode", " or ".join(MODES))
    if freeze < 0 or freeze > inst.n:
        raise _order_problem(f"freeze must be 0..{inst.n}, got {freeze}", "freeze")
    options = options or SolveOptions()
    o = resolve_order(inst, order)
    args = (baseline, mode, freeze, change_penalty, options)
    runs: list[_Run] = []

    def firm(due_t: int, price: float | None = None, name: str = "firm") -> _Run:
        oo = dataclasses.replace(o, due_t=due_t, price=o.price if price is None else price)
        run = _run(name, inst, args[0], [_Demand(oo, "must", due_t)], *args[1:], warm=warm)
        runs.append(run)
        return run

    main = firm(o.due_t)
    reasons: list[str] = []
    blocking = _empty_blocking()
    plan_run: _Run | None = main if main.ok else None
    earliest_t: int | None = o.due_t if main.ok else None
    ctp = o.quantity if main.ok else 0.0
    if not main.ok:
        if main.result.status.value not in ("infeasible",):
            reasons.append(f"the re-plan found no plan ({main.result.status}: {main.result.message})")
        ctp_run = _run("capable-to-promise", inst, baseline, [_Demand(o, "lost", o.due_t)], mode, freeze,
                       change_penalty, options,
                       extra=[reward_shipments({o.rush_channel}, _weight(inst, [o]))], warm=warm)
        runs.append(ctp_run)
        if ctp_run.ok:
            ctp = float(_shipped(ctp_run, o.rush_channel)["shipped"].sum())
            blocking = _blocking(ctp_run, _weight(inst, [o]), o, freeze if mode == "replan" else 0, options)
        reasons += _reasons(inst, o, mode, freeze, ctp, blocking)
        earliest_t, plan_run = _earliest(inst, o, baseline, mode, freeze, change_penalty, options, runs, firm, warm)

    profit_with = plan_run.result.objective if plan_run else math.nan
    delta = profit_with - baseline.profit if plan_run else math.nan
    be = o.price - delta / o.quantity if plan_run else None
    basis = ("due period" if main.ok else f"earliest period {inst.periods[earliest_t - 1]}") if plan_run else "none"
    if verify and plan_run is not None and be is not None:
        check = firm(plan_run.demands[0].due_t, price=max(be, 0.0), name="break-even check")
        if check.ok:
            be = be - (check.result.objective - baseline.profit) / o.quantity  # exact for this plan
    tables = plan_diff(baseline, plan_run.result, {o.rush_channel}) if plan_run else {}
    impact = _impact(inst, baseline, plan_run.result) if plan_run else {}
    return RushAnswer(
        product=o.product, quantity=o.quantity, due=o.due_label(inst), price=o.price, channel=o.channel,
        mode=mode, freeze=freeze, change_penalty=change_penalty, accepted=main.ok,
        status=str(main.result.status), reasons=reasons, blocking=blocking,
        profit_without=baseline.profit, profit_with=profit_with, profit_delta=delta,
        earliest_period=inst.periods[earliest_t - 1] if earliest_t else None, ctp_quantity=ctp,
        break_even_price=be, basis=basis, impact=impact, tables=tables,
        seconds=time.perf_counter() - t0, runs=[r.record() for r in runs],
        plan=plan_run.result if plan_run else None, currency=inst.currency,
    )


def _earliest(inst, o: _Resolved, baseline, mode, freeze, penalty, options, runs, firm, warm):
    """Earliest period > due at which the full quantity ships: a backlog run (lateness
    penalised) proposes it, firm runs confirm it (and step later if needed)."""
    if o.due_t >= inst.n:
        return None, None
    w = _weight(inst, [o])
    late = _run("earliest (backlog)", inst, baseline, [_Demand(o, "backlog", o.due_t)], mode, freeze, penalty,
                options, extra=[penalise_lateness({o.rush_channel}, w)], warm=warm)
    runs.append(late)
    candidate = o.due_t + 1
    if late.ok:
        s = _shipped(late, o.rush_channel).sort_values("t")
        done = s[(s["backlog"] <= TOL * max(1.0, o.quantity)) & (s["t"] > o.due_t)]
        if done.empty:
            return None, None  # even with every later period the full quantity does not ship
        candidate = int(done["t"].iloc[0])
    found: _Run | None = None
    t = candidate
    while t <= inst.n:
        run = firm(t, name=f"firm at {inst.periods[t - 1]}")
        if run.ok:
            found = run
            break
        t += 1
    if found is None:
        return None, None
    while t - 1 > o.due_t:  # the backlog run minimises lateness, not completion: look back once
        run = firm(t - 1, name=f"firm at {inst.periods[t - 2]}")
        if not run.ok:
            break
        t, found = t - 1, run
    return t, found


# ---------------------------------------------------------------- why not


def _empty_blocking() -> pd.DataFrame:
    """family, entity, period, rhs; units_per_rhs: order units shipped per unit of extra
    right-hand side; units_per_step: per relaxation step (`step`); text: in business words."""
    return pd.DataFrame(columns=["family", "entity", "period", "rhs", "units_per_rhs", "units_per_step", "step", "text", "constraint"])


def _row_duals(sf, lp, cost: np.ndarray, options: SolveOptions) -> np.ndarray | None:
    lp.col_cost_ = cost
    h = new_highs(options)
    h.passModel(lp)
    run(h)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.array(h.getSolution().row_dual, dtype=float)


def _blocking(run: _Run, weight: float, o: _Resolved, freeze: int, options: SolveOptions) -> pd.DataFrame:
    """Limits that hold the order back, ranked by the extra units of the order that one
    relaxation step would ship.

    The capable-to-promise plan's integer pattern is fixed and its LP solved with the order's
    reward at `weight` and at `2·weight`: a row's dual grows by weight × (order units shipped
    per unit of right-hand side), while rows that only carry ordinary profit keep the same
    dual; the difference isolates what limits the order (docs: sensitivity sign convention,
    a positive dual is gained per unit of extra right-hand side)."""
    r = run.result
    sf, out = r.standard_form, r.outcome
    if sf is None or out is None or out.values is None:
        return _empty_blocking()
    ship_cols = [sf.column_of[id(v)] for (_p, k, _t), v in r.built.model.sales.ship.items()
                 if k == o.rush_channel and id(v) in sf.column_of]
    lp = fixed_lp(sf, out.values)
    one = _row_duals(sf, lp, sf.cost.copy(), options)
    cost2 = sf.cost.copy()
    cost2[ship_cols] += weight
    two = _row_duals(sf, lp, cost2, options)
    if one is None or two is None:
        return _empty_blocking()
    per = (two - one) / weight
    periods = run.inst.periods
    items = run.inst.tables["items"].set_index("item")
    cur = run.inst.currency
    rows = []
    for j in np.flatnonzero(np.abs(per) > 1e-9):
        con, kind = sf.rows[j]
        comp = con.parent_component().name
        family, names, _unit = ROW_FAMILIES.get(comp, (comp, (), ""))
        if family not in BLOCKING_FAMILIES:
            continue
        entity, period = _entity_period(con.index(), names, periods)
        if family == "demand" and entity.endswith(f" / {o.rush_channel}"):
            continue
        if family == "stock balance" and entity == o.product:
            continue
        rhs = float(sf.row_upper[j] if kind == 1 else sf.row_lower[j])
        per_unit = abs(float(per[j]))
        if family == "stock balance":
            step_name, step = "one unit of the item", 1.0
            text = _shortage_text(entity, period, items, per_unit, o.product, freeze)
        else:
            step_name, step_of = LIMIT_FAMILIES.get(family, ("one unit", lambda rhs: 1.0))
            step = step_of(rhs)
            text = _limit_text(family, entity, period, rhs, per_unit, cur, o.product, items)
        rows.append((family, entity, period, rhs, float(per[j]), per_unit * step, step_name, text, comp))
    df = pd.DataFrame(rows, columns=list(_empty_blocking().columns))
    if df.empty:
        return _empty_blocking()
    df = df[df["units_per_step"] >= 0.01 * df["units_per_step"].max()]  # next to nothing more: not a limit
    # limits a planner can act on first (capacity, material, budget, cash), other firm orders last
    df = df.assign(_rank=df["family"].map(BLOCKING_FAMILIES.index))
    return df.sort_values(["_rank", "units_per_step", "entity", "period"], ascending=[True, False, True, True],
                          ignore_index=True).drop(columns="_rank")


def _entity_period(index, names: tuple[str, ...], periods: Sequence[str]) -> tuple[str, str]:
    if index is None:
        return "", ""
    idx = index if isinstance(index, tuple) else (index,)
    entity = " / ".join(str(v) for v, n in zip(idx, names, strict=False) if n != "t")
    period = periods[int(idx[names.index("t")]) - 1] if "t" in names else ""
    return entity, period


def _shortage_text(item: str, period: str, items: pd.DataFrame, per_unit: float, product: str, freeze: int) -> str:
    kind = str(items.at[item, "kind"]) if item in items.index else "item"
    lead = int(items.at[item, "lead_time"]) if item in items.index else 0
    how = "bought" if kind == "material" else "made"
    why = f"{how} with a lead time of {lead} period(s)"
    if freeze:
        why += f", and production and purchases of the first {freeze} period(s) are frozen"
    return (f"{kind} {item} runs short in {period} ({why}); each extra unit on hand would ship "
            f"{per_unit:,.3g} more {product}")


def _limit_text(family: str, entity: str, period: str, rhs: float, per_unit: float, currency: str, product: str,
                items: pd.DataFrame) -> str:
    when = f" in {period}" if period else ""
    gain = f"; each extra {{}} would ship {per_unit:,.3g} more {product}"
    if family == "capacity":
        return f"capacity of {entity}{when} is fully used ({rhs:,.0f} h including the rush reserve)" + gain.format("hour")
    if family == "overtime limit":
        return f"overtime of {entity}{when} is at its limit ({rhs:,.0f} h)" + gain.format("hour")
    if family in ("budget per period", "budget horizon ceiling"):
        return f"budget line {entity}{when} is at its ceiling ({rhs:,.0f} {currency})" + gain.format(currency)
    if family == "budget pool":
        return f"the budget pool is used up ({rhs:,.0f} {currency})" + gain.format(currency)
    if family == "emergency pool":
        return f"the emergency budget pool is used up ({rhs:,.0f} {currency})" + gain.format(currency)
    if family == "minimum cash":
        return f"cash{when} is at its minimum balance ({rhs:,.0f} {currency})" + gain.format(f"{currency} of cash")
    if family == "credit limit":
        return f"the credit line{when} is fully drawn ({rhs:,.0f} {currency})" + gain.format(f"{currency} of credit")
    if family == "stock target max":
        return f"warehouse limit of {entity}{when} ({rhs:,.0f} units)" + gain.format("unit of space")
    if family == "stock target min":
        soft = entity in items.index and pd.notna(items.at[entity, "safety_penalty"])
        state = "is already drawn down to nothing" if soft else "is a hard target"
        return f"safety stock of {entity}{when} ({rhs:,.0f} units) {state}" + gain.format("unit less")
    if family == "demand":
        return f"firm (must) demand of {entity}{when} ({rhs:,.0f} units) takes the same resources" + gain.format("unit less")
    return f"{family} {entity}{when} ({rhs:,.4g})" + gain.format("unit")


def _qty(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-6 or abs(x) >= 100 else f"{x:,.4g}"


def _reasons(inst: Instance, o: _Resolved, mode: str, freeze: int, ctp: float, blocking: pd.DataFrame) -> list[str]:
    due = o.due_label(inst)
    out = [f"only {_qty(ctp)} of {_qty(o.quantity)} {o.product} can be delivered by {due}"]
    if mode == "replan" and o.due_t <= freeze:
        out.append(f"{due} is within the frozen periods (--freeze {freeze}): its production and purchases "
                   "cannot change; try --mode reserve or a smaller --freeze")
    lead = int(inst.tables["items"].set_index("item").at[o.product, "lead_time"])
    first_free = freeze + 1 if mode == "replan" else 1
    if first_free + lead > o.due_t:
        out.append(f"lead time: {o.product} takes {lead} period(s), so production that can still change "
                   f"(from {inst.periods[min(first_free, inst.n) - 1]}) is not ready by {due}")
    for text in blocking["text"].head(5):
        out.append(text)
    return out


# ---------------------------------------------------------------- what moves


def _changes(base: pd.DataFrame, new: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    b = base[keys + [value]].groupby(keys, as_index=False)[value].sum() if len(base) else pd.DataFrame(columns=keys + [value])
    n = new[keys + [value]].groupby(keys, as_index=False)[value].sum() if len(new) else pd.DataFrame(columns=keys + [value])
    m = b.merge(n, on=keys, how="outer", suffixes=("_baseline", "_new")).fillna({f"{value}_baseline": 0.0, f"{value}_new": 0.0})
    m["delta"] = m[f"{value}_new"].astype(float) - m[f"{value}_baseline"].astype(float)
    tol = TOL * np.maximum(1.0, np.maximum(m[f"{value}_new"].abs(), m[f"{value}_baseline"].abs()))
    m = m[m["delta"].abs() > tol].copy()
    base_v, new_v = m[f"{value}_baseline"].astype(float), m[f"{value}_new"].astype(float)
    m["change"] = np.select([base_v.abs() <= TOL, new_v.abs() <= TOL, m["delta"] > 0],
                            ["added", "cancelled", "increased"], "reduced")
    group = [k for k in keys if k != "t"]
    if len(m):
        up = m.groupby(group)["delta"].transform(lambda s: (s > 0).any())
        down = m.groupby(group)["delta"].transform(lambda s: (s < 0).any())
        moved = up.astype(bool) & down.astype(bool)
        m.loc[moved & (m["delta"] > 0), "change"] = "moved in"
        m.loc[moved & (m["delta"] < 0), "change"] = "moved out"
    return m.sort_values(keys, ignore_index=True)


def _label(df: pd.DataFrame, periods: Sequence[str]) -> pd.DataFrame:
    if "t" in df.columns and "period" not in df.columns:
        df.insert(list(df.columns).index("t"), "period", [periods[int(t) - 1] for t in df["t"]])
    return df


def plan_diff(baseline: Baseline, plan: Result, rush_channels: set[str]) -> dict[str, pd.DataFrame]:
    """The plan against the baseline: production lots and purchases added, moved or cancelled;
    other orders delayed or lost; the rush deliveries; capacity, budget and cash changes."""
    periods = baseline.periods
    bt, nt = baseline.tables, plan.tables
    prod = _label(_changes(bt["production"], nt["production"], ["item", "routing", "t"], "quantity"), periods)
    pur = _label(_changes(bt["purchases"], nt["purchases"], ["item", "t"], "quantity"), periods)

    keys = ["product", "channel", "t"]
    cols = ["shipped", "backlog", "lost"]
    ns = nt["sales"]
    others = ns[~ns["channel"].isin(rush_channels)]
    m = bt["sales"][keys + ["demand"] + cols].merge(others[keys + cols], on=keys, how="outer",
                                                    suffixes=("_baseline", "_new")).fillna(0.0)
    for c in cols:
        m[f"{c}_delta"] = m[f"{c}_new"] - m[f"{c}_baseline"]
    changed = np.zeros(len(m), dtype=bool)
    for c in cols:
        changed |= (m[f"{c}_delta"].abs() > TOL * np.maximum(1.0, m[f"{c}_baseline"].abs())).to_numpy()
    m = m[changed].copy()
    m["effect"] = np.select(
        [m["lost_delta"] > TOL, m["backlog_delta"] > TOL, m["lost_delta"] < -TOL, m["backlog_delta"] < -TOL],
        ["lost", "delayed", "recovered", "shipped earlier"],
        np.where(m["shipped_delta"] > 0, "catch-up", "shipment moved"))
    orders = _label(m.sort_values(keys, ignore_index=True), periods)

    rush = ns[ns["channel"].isin(rush_channels)][["product", "channel", "period", "t", "demand", "shipped", "backlog", "lost", "price", "revenue"]]
    rush = rush[(rush["demand"] > 0) | (rush["shipped"] > 0) | (rush["backlog"] > 0)].reset_index(drop=True)

    ck = ["resource", "t"]
    cap = bt["capacity"][ck + ["used", "overtime"]].merge(
        nt["capacity"][ck + ["used", "overtime", "reserve_used"] if "reserve_used" in nt["capacity"] else ck + ["used", "overtime"]],
        on=ck, how="outer", suffixes=("_baseline", "_new")).fillna(0.0)
    cap_changed = ((cap["used_new"] - cap["used_baseline"]).abs() > 1e-6) | ((cap["overtime_new"] - cap["overtime_baseline"]).abs() > 1e-6)
    if "reserve_used" in cap:
        cap_changed |= cap["reserve_used"] > 1e-6
    capacity = _label(cap[cap_changed].reset_index(drop=True), periods)

    bk = ["line", "t"]
    bud = bt["budget"][bk + ["spent", "allocated", "emergency"]].merge(
        nt["budget"][bk + ["spent", "allocated", "emergency"]], on=bk, how="outer", suffixes=("_baseline", "_new")).fillna(0.0)
    bud["spent_delta"] = bud["spent_new"] - bud["spent_baseline"]
    bud["emergency_delta"] = bud["emergency_new"] - bud["emergency_baseline"]
    budget = _label(bud[(bud["spent_delta"].abs() > 1e-6) | (bud["emergency_delta"].abs() > 1e-6)].reset_index(drop=True), periods)

    cash = bt["cash"][["t", "closing", "loan", "headroom"]].merge(
        nt["cash"][["t", "closing", "loan", "headroom"]], on="t", suffixes=("_baseline", "_new"))
    cash["closing_delta"] = cash["closing_new"] - cash["closing_baseline"]
    cash["loan_delta"] = cash["loan_new"] - cash["loan_baseline"]
    cash = _label(cash, periods)
    return {"production_changes": prod, "purchase_changes": pur, "order_changes": orders,
            "rush_deliveries": rush, "capacity_changes": capacity, "budget_changes": budget, "cash_changes": cash}


def _impact(inst: Instance, baseline: Baseline, plan: Result) -> dict:
    bt, nt = baseline.tables, plan.tables
    spent_b = bt["budget"].groupby("line")["spent"].sum()
    spent_n = nt["budget"].groupby("line")["spent"].sum()
    ceil = nt["budget"].groupby("line")["line_ceiling"].first()
    lines = {
        str(line): {"spent_baseline": float(spent_b.get(line, 0.0)), "spent_new": float(spent_n.get(line, 0.0)),
                    "delta": float(spent_n.get(line, 0.0) - spent_b.get(line, 0.0)), "ceiling": float(ceil.get(line, math.inf))}
        for line in sorted(set(spent_b.index) | set(spent_n.index))
    }
    em_b, em_n = float(bt["budget"]["emergency"].sum()), float(nt["budget"]["emergency"].sum())
    cb, cn = bt["cash"], nt["cash"]
    loan_b, loan_n = float(cb["loan"].max()), float(cn["loan"].max())
    return {
        "budget": lines,
        "budget_spent_delta": float(spent_n.sum() - spent_b.sum()),
        "emergency": {"pool": inst.budget.emergency_pool, "drawn_baseline": em_b, "drawn_new": em_n,
                      "delta": em_n - em_b, "remaining": inst.budget.emergency_pool - em_n},
        "cash": {"min_headroom_baseline": float(cb["headroom"].min()), "min_headroom_new": float(cn["headroom"].min()),
                 "min_headroom_period_new": str(cn.loc[cn["headroom"].idxmin(), "period"]),
                 "closing_baseline": float(cb["closing"].iloc[-1]), "closing_new": float(cn["closing"].iloc[-1]),
                 "delta_closing": float(cn["closing"].iloc[-1] - cb["closing"].iloc[-1])},
        "credit": {"limit": inst.cash.credit_limit, "max_loan_baseline": loan_b, "max_loan_new": loan_n,
                   "delta": loan_n - loan_b, "headroom_new": inst.cash.credit_limit - loan_n},
    }


# ---------------------------------------------------------------- several candidates


@dataclass
class SelectionAnswer:
    """The most profitable subset of candidate orders, chosen jointly."""

    orders: pd.DataFrame  # one row per candidate: accepted, quantity, due, price, channel
    status: str
    profit_without: float
    profit_with: float
    profit_delta: float
    impact: dict
    tables: dict[str, pd.DataFrame]
    seconds: float
    runs: list[dict]
    plan: Result | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "selected": [int(i) for i in self.orders.loc[self.orders["accepted"], "order"]],
            "orders": self.orders.to_dict("records"),
            "profit_without": self.profit_without,
            "profit_with": self.profit_with,
            "profit_delta": self.profit_delta,
            "impact": self.impact,
            "changes": {name: int(len(df)) for name, df in self.tables.items()},
            "seconds": self.seconds,
            "runs": self.runs,
        }


def select_orders(inst: Instance, baseline: Baseline, orders: Sequence[RushOrder], mode: str = "replan",
                  freeze: int = 1, change_penalty: float = DEFAULT_CHANGE_PENALTY,
                  options: SolveOptions | None = None, warm: bool = True) -> SelectionAnswer:
    """Choose jointly which candidates to accept (each a binary; its demand ships in full iff
    accepted) so that profit is highest; the others are refused."""
    t0 = time.perf_counter()
    if mode not in MODES:
        raise _order_problem(f"unknown mode {mode!r}", "mode", " or ".join(MODES))
    options = options or SolveOptions()
    taken: set[str] = set()
    resolved = []
    for j, order in enumerate(orders, start=1):
        name = _free_channel_name(inst, f"rush {j}", taken)
        taken.add(name)
        resolved.append(resolve_order(inst, order, rush_channel=name))
    demands = [_Demand(o, "lost", o.due_t) for o in resolved]
    run = _run("selection", inst, baseline, demands, mode, freeze, change_penalty, options, select=True, warm=warm)
    rows = []
    accepted = {}
    if run.ok:
        m, sf = run.result.built.model, run.result.standard_form
        acc = var_values(m.replan.accept, sf, run.result.outcome.values)
        accepted = {j: bool(round(a)) for j, a in enumerate(acc)}
    for j, o in enumerate(resolved):
        rows.append({"order": j + 1, "product": o.product, "quantity": o.quantity, "due": o.due_label(inst),
                     "price": o.price, "channel": o.channel, "rush_channel": o.rush_channel,
                     "accepted": accepted.get(j, False), "revenue": o.price * o.quantity if accepted.get(j) else 0.0})
    table = pd.DataFrame(rows)
    plan = run.result if run.ok else None
    profit_with = plan.objective if plan else math.nan
    return SelectionAnswer(
        orders=table, status=str(run.result.status), profit_without=baseline.profit, profit_with=profit_with,
        profit_delta=profit_with - baseline.profit if plan else math.nan,
        impact=_impact(inst, baseline, plan) if plan else {},
        tables=plan_diff(baseline, plan, {o.rush_channel for o in resolved}) if plan else {},
        seconds=time.perf_counter() - t0, runs=[run.record()], plan=plan,
    )
