"""Rush-order insertion (插单): can we take it, by when, how many, at what price, what moves.

An order is a firm commitment added to a copy of the instance as the demand of a dedicated
channel (backlog service at no cost, the collection terms and the name of the channel it is
sold through, else cash and "rush"): one demand row in period 1, shipments allowed in any
period up to the period it is wanted by (`formulations.extensions.replan.deliver_by`), in one or several
deliveries. The baseline plan (`solver.io.baseline`) is then re-solved with the extension blocks
of `formulations.extensions.replan`:

- `reserve`: every baseline decision stays (production and purchases bounded from below by
  the baseline's, shipments to other orders fixed); the order may use the capacity reserve,
  spare capacity, spare budget, cash and credit. A fast yes/no.
- `replan` (default): re-optimise with the order firm; the first `freeze` periods keep their
  production and purchases exactly; every unit of production, purchase or shipment to another
  order that differs from the baseline pays `change_penalty` (objective only: profits reported
  are docs/model.md §5). With `protect`, no existing order is served later or less than in the
  baseline (`formulations.extensions.replan.protect_orders`).

In both modes the reserve (`resources.reserve`) is released to the rush order only: the
instance copy has reserve 0 and the extension holds the reserve back except for the hours the
order needs (hours per unit of the order's product, its made components included, by the
routing with the most hours on each resource, plus one setup per routing).

The answer holds two promises, each the result of solves under the same rules:

- capable-to-promise (CTP): the most units deliverable by the due period, the rush shipments
  up to the due period maximised (profit plays no part), not capped at the request (the
  demand row is a cap well above it, raised if the plan reaches it). The run's MIP gap is 0,
  so CTP + ε is not deliverable. CTP ≥ quantity is the same as "feasible by the due period".
- earliest: the first period by which the whole quantity can be delivered, found by binary
  search over periods with one feasibility solve per candidate (feasibility by period t is
  monotone: a plan delivering by t also delivers by t + 1), so the order is deliverable by
  `earliest` and the search has shown it is not by the period before (unless that is before
  period 1).

Then the profit-maximising plan with the order firm (by the due period, else by the earliest
period): profit with and without, the break-even price (profit at price p is linear in p for
the same plan: p − Δprofit/Q), the existing orders cut to make room, the binding limits that
block a refused order (duals of the CTP plan's fixed-integer LP: order units per unit of
right-hand side, in business words), and the plan diff against the baseline.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from formulations.areas.inventory import BALANCE as STOCK_BALANCE
from formulations.areas.sales import DEMAND
from formulations.assembly import BuiltModel, Extension, build_model
from formulations.extensions.replan import (
    OrderHours,
    choose_orders,
    deliver_by,
    fix_shipments,
    hold_decisions,
    protect_orders,
    release_reserve,
)
from formulations.extensions.replan import (
    change_penalty as change_penalty_ext,
)
from formulations.families import Step
from formulations.plan_data import PlanData
from formulations.registry import row_family
from formulations.setup.variants import formulation_extensions
from solver.engine.highs import SolveOutcome, StandardForm, compile_model, solve_standard_form
from solver.engine.options import SolveOptions
from solver.engine.pipeline import solve
from solver.engine.progress import ProgressCallback, Reporter
from solver.engine.results import Result, var_values
from solver.engine.status import Status
from solver.io.baseline import Baseline
from solver.io.instance import Instance, freeze_tables
from solver.io.problems import InputError, Problem
from solver.money import money, quantity

MODES = ("replan", "reserve")
DEFAULT_CHANGE_PENALTY = 1.0  # currency per unit changed: a tie-break that keeps the plan still
TOL = 1e-6
CTP_CAP_FACTOR = 2.0  # the CTP run's demand row: this many times the order, ×4 while the plan reaches it
CTP_CAP_RAISES = 4
ONE_UNIT = Step("one unit", lambda rhs: 1.0)  # the step of a blocking row that declares none


@dataclass(frozen=True)
class RushOrder:
    """An urgent order: `quantity` of `product` wanted by period `due` (label or 1-based index).

    `price` defaults to the channel's demand price for the product in force at the due period
    (the latest demand.csv row at or before it); `channel` is the channel it is sold through:
    its collection terms (default cash), its name on the deliveries."""

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
    price_source: str  # where the price comes from, in words
    terms: str
    channel: str | None  # the channel the order is sold through (terms, default price, table label)
    rush_channel: str  # the dedicated channel of the model copy
    warnings: tuple[str, ...] = ()

    def due_label(self, inst: Instance) -> str:
        return inst.periods[self.due_t - 1]

    @property
    def label(self) -> str:
        """The channel the deliveries carry in the tables returned."""
        return self.channel if self.channel is not None else self.rush_channel


@dataclass(frozen=True)
class Rules:
    """How the baseline may change to make room for rush orders (see the module docstring)."""

    mode: str = "replan"
    freeze: int = 1
    change_penalty: float = DEFAULT_CHANGE_PENALTY
    protect: bool = False


@dataclass
class RushAnswer:
    """Everything `evaluate_order` finds; `to_json()` is the CLI's `--json` object.

    `feasible`: the whole quantity can be delivered by the due period; `profitable`: it can,
    and the plan with it earns at least the baseline's profit. `decision` says both in one
    line, the way a planner acts on them."""

    product: str
    quantity: float
    due: str
    price: float
    price_source: str
    channel: str | None
    rules: Rules
    feasible: bool
    status: str
    reasons: list[str]
    warnings: list[str]
    blocking: pd.DataFrame
    profit_without: float
    profit_with: float
    profit_delta: float
    earliest_period: str | None
    ctp_quantity: float  # deliverable by the due period (the plan found)
    ctp_bound: float  # no more can be (the MIP bound; equal to ctp_quantity when proven)
    ctp_status: str
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
        return self.feasible and self.profit_delta >= -TOL

    @property
    def cut_orders(self) -> pd.DataFrame:
        """Existing orders served later or less than in the baseline (rows of order_changes)."""
        orders = self.tables.get("order_changes")
        if orders is None or orders.empty:
            return pd.DataFrame()
        return orders[orders["effect"].isin(["delayed", "lost"])].reset_index(drop=True)

    @property
    def decision(self) -> str:
        """One line: feasible or not, and what the plan with the order earns or loses."""
        cur, q = self.currency, quantity(self.quantity)
        if self.feasible:
            head = f"feasible by {self.due}"
        else:
            head = f"not feasible by {self.due}: {quantity(self.ctp_quantity)} of {q} can be promised"
            if self.earliest_period is None:
                return head + "; the full quantity not within the horizon"
            head += f"; all {q} by {self.earliest_period}"
        if not math.isfinite(self.profit_delta):
            return head
        at = f"at {money(self.price, cur)}"
        if self.profit_delta >= -TOL:
            money_part = f"adds {money(self.profit_delta, cur)} {at}"
        else:
            money_part = f"loses {money(-self.profit_delta, cur)} {at}"
        if self.break_even_price is not None:
            if self.profit_delta >= -TOL:
                money_part += f" (break-even {money(max(self.break_even_price, 0.0), cur)})"
            else:
                money_part += f"; profitable from {money(self.break_even_price, cur)}"
        return f"{head}; {money_part}" if self.feasible else f"{head}, which {money_part}"

    def to_json(self) -> dict:
        return {
            "decision": self.decision,
            "feasible": self.feasible,
            "profitable": self.profitable,
            "status": self.status,
            "product": self.product,
            "quantity": self.quantity,
            "due": self.due,
            "price": self.price,
            "price_source": self.price_source,
            "channel": self.channel,
            "mode": self.rules.mode,
            "freeze": self.rules.freeze,
            "change_penalty": self.rules.change_penalty,
            "protect": self.rules.protect,
            "profit_without": self.profit_without,
            "profit_with": self.profit_with,
            "profit_delta": self.profit_delta,
            "earliest_period": self.earliest_period,
            "ctp_quantity": self.ctp_quantity,
            "ctp_bound": self.ctp_bound,
            "ctp_status": self.ctp_status,
            "break_even_price": self.break_even_price,
            "basis": self.basis,
            "warnings": self.warnings,
            "reasons": self.reasons,
            "blocking": self.blocking.drop(columns=["constraint"], errors="ignore").to_dict("records"),
            "cut_orders": self.cut_orders.to_dict("records"),
            "impact": self.impact,
            "changes": {name: int(len(df)) for name, df in self.tables.items()},
            "seconds": self.seconds,
            "runs": self.runs,
        }


# ---------------------------------------------------------------- the order and the instance copy


def _order_problem(message: str, column: str | None = None, expected: str = "") -> InputError:
    return InputError([Problem(file="rush order", row=None, column=column, message=message, expected=expected)])


def resolve_order(inst: Instance, order: RushOrder, rush_channel: str | None = None) -> _Resolved:
    """Check the order against the instance; fill price (and where it comes from) and terms."""
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
    warnings: tuple[str, ...] = ()
    if order.price is None:
        price, source, warning = default_price(inst, order.product, order.channel, due_t)
        warnings = (warning,) if warning else ()
    else:
        price, source = order.price, "given"
    if not math.isfinite(float(price)) or price < 0:
        raise _order_problem(f"price must be a number ≥ 0, got {price!r}", "price")
    name = rush_channel or _free_channel_name(inst, "rush")
    return _Resolved(order.product, float(order.quantity), due_t, float(price), source, terms, order.channel, name,
                     warnings)


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


def default_price(inst: Instance, product: str, channel: str | None, due_t: int) -> tuple[float, str, str | None]:
    """(price, where it comes from, warning or None) of an order given without a price.

    The price in force at the due period is the latest demand.csv row at or before it (as
    docs/model.md §4.3 carries prices forward). With a channel: that channel's; a channel that has
    no such row for the product gets the highest such price of any channel, with a warning;
    with no price anywhere the order is priced at 0, with a warning (the break-even price then
    says what it must fetch)."""
    dem = inst.tables["demand"]
    due = inst.periods[due_t - 1]
    rows = dem[(dem["product"] == product) & (dem["t"] <= due_t)].sort_values(["t", "channel"])
    in_force = rows.groupby("channel", sort=True).tail(1)

    def source(row) -> str:
        when = f"{row.period}" if int(row.t) == due_t else f"{row.period}, the latest at or before {due}"
        return f"{row.channel}'s demand price in {when}"

    warning = None
    if channel is not None:
        own = in_force[in_force["channel"] == channel]
        if len(own):
            row = own.iloc[0]
            return float(row.price), source(row), None
        warning = f"{channel} has no demand price for {product} at or before {due}"
    if len(in_force):
        row = in_force.sort_values(["price", "channel"], ascending=[False, True]).iloc[0]
        text = "highest price in force: " + source(row)
        if warning:
            warning += f"; priced at {money(float(row.price), inst.currency)}, the {text}: give --price"
        return float(row.price), text, warning
    what = f" in {channel} or any other channel" if channel is not None else " in any channel"
    return 0.0, "none (no demand price)", (f"no demand price for {product} at or before {due}{what}: priced at 0; "
                                           "give --price (the break-even price says what the order must fetch)")


def _free_channel_name(inst: Instance, stem: str, taken: set[str] = frozenset()) -> str:
    names = set(inst.tables["channels"]["channel"]) | set(inst.tables["demand"]["channel"]) | set(taken)
    if stem not in names:
        return stem
    k = 2
    while f"{stem} {k}" in names:
        k += 1
    return f"{stem} {k}"


@dataclass(frozen=True)
class _Delivery:
    """One rush order as demand of the instance copy: `quantity` (the order's, or the CTP
    run's cap) in period 1, nothing shipped after `by_t`; `firm`: all of it by `by_t`."""

    order: _Resolved
    by_t: int
    quantity: float
    firm: bool


def with_orders(inst: Instance, deliveries: Sequence[_Delivery]) -> Instance:
    """A copy of the instance with the rush channels (backlog service at no cost) and their
    demand rows in period 1 added, and the reserve set to 0 (the extension `release_reserve`
    holds it back for the orders instead)."""
    tables = dict(inst.tables)
    ch = tables["channels"]
    new_ch = pd.DataFrame({
        "channel": [d.order.rush_channel for d in deliveries],
        "terms": [d.order.terms for d in deliveries],
        "service": ["backlog"] * len(deliveries),
        "backlog_cost": [0.0] * len(deliveries),
        "lost_cost": [0.0] * len(deliveries),
    }).astype(ch.dtypes.to_dict())
    tables["channels"] = pd.concat([ch, new_ch], ignore_index=True)
    dem = tables["demand"]
    new_dem = pd.DataFrame({
        "product": [d.order.product for d in deliveries],
        "channel": [d.order.rush_channel for d in deliveries],
        "period": [inst.periods[0]] * len(deliveries),
        "t": [1] * len(deliveries),
        "quantity": [d.quantity for d in deliveries],
        "price": [d.order.price for d in deliveries],
        "scenario": [inst.scenario] * len(deliveries),
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
        for _rho, grp in rows.groupby("routing"):
            h = grp.groupby("resource")["hours_per_unit"].sum()
            s = grp.groupby("resource")["setup_hours"].sum()
            for r, v in h.items():
                hours[r] = max(hours[r], float(v))
            for r, v in s.items():
                setups[r] = max(setups[r], float(v))
        for r, v in hours.items():
            per_unit[r] += m * v
        for r, v in setups.items():
            setup[r] += v
    return OrderHours(product=product, channel=channel, per_unit=dict(per_unit), setup=dict(setup))


def _reserve_of(inst: Instance) -> dict[str, float]:
    res = inst.tables["resources"]
    return {r: float(v) for r, v in zip(res["resource"], res["reserve"], strict=True)}


# ---------------------------------------------------------------- runs


def _extensions(inst: Instance, baseline: Baseline, deliveries: Sequence[_Delivery], rules: Rules,
                profit: bool, select: bool = False) -> list[Extension]:
    """The rules as model extensions. `profit`: the run maximises profit, so the change
    penalty applies (a run that maximises shipments or only asks feasibility leaves it out:
    it is objective-only)."""
    rush = {d.order.rush_channel for d in deliveries}
    exts: list[Extension] = []
    if select:
        exts.append(choose_orders([(d.order.product, d.order.rush_channel, d.quantity) for d in deliveries]))
    exts.append(deliver_by([(d.order.product, d.order.rush_channel, d.by_t, d.firm) for d in deliveries]))
    if rules.mode == "reserve":
        exts += [hold_decisions(baseline.values, None, "keep"), fix_shipments(baseline.values, rush)]
    else:
        exts.append(hold_decisions(baseline.values, range(1, rules.freeze + 1), "fix"))
        if rules.protect:
            exts.append(protect_orders(baseline.values, rush))
        if profit:
            exts.append(change_penalty_ext(baseline.values, rules.change_penalty, None, rush))
    hours = [order_hours(inst, d.order.product, d.order.rush_channel) for d in deliveries]
    exts.append(release_reserve(_reserve_of(inst), hours, max(d.by_t for d in deliveries)))
    return exts


@dataclass
class _Run:
    """A profit-maximising run: the plan with the orders."""

    name: str
    result: Result
    inst: Instance
    deliveries: tuple[_Delivery, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return self.result.has_plan

    def record(self) -> dict:
        r = self.result
        return {"run": self.name, "status": str(r.status), "seconds": round(self.seconds, 3),
                "objective": r.objective if r.has_plan else None, "gap": r.gap if r.has_plan else None}


def _run(name: str, inst: Instance, baseline: Baseline, deliveries: Sequence[_Delivery], rules: Rules,
         options: SolveOptions, select: bool = False, session: _Session | None = None,
         report: Reporter | None = None) -> _Run:
    """The profit-maximising plan with the orders; on `session`'s model of the order when one
    is given (one order at its own price: nothing built again). `report` hears the solve."""
    t0 = time.perf_counter()
    progress = report.part(name) if report else None
    if session is not None and session.serves(deliveries):
        (d,) = deliveries
        model = session.model(d.quantity)
        inst2 = model.inst
        exts = [*model.extensions, deliver_by([(d.order.product, d.order.rush_channel, d.by_t, d.firm)])]
        result = solve(inst2, options, extensions=exts, model=(model.built, model.restricted(d.by_t, d.firm)),
                       progress=progress)
        if result.has_plan:
            model.plan = result.outcome.values
    else:
        inst2 = with_orders(inst, deliveries)
        exts = _extensions(inst, baseline, deliveries, rules, profit=True, select=select)
        result = solve(inst2, options, extensions=exts, progress=progress)
    if result.has_plan:
        _correct_capacity(result, _reserve_of(inst))
    return _Run(name, result, inst2, tuple(deliveries), time.perf_counter() - t0)


@dataclass
class _Probe:
    """A run that maximises the rush shipments (capable-to-promise) or only asks whether a
    plan exists (earliest-period search); profit plays no part."""

    name: str
    status: Status
    shipped: float  # rush units shipped by the period asked (nan without a plan)
    seconds: float
    inst: Instance
    sf: StandardForm
    outcome: SolveOutcome
    data: PlanData

    @property
    def ok(self) -> bool:
        return self.status.has_plan

    @property
    def proven(self) -> bool:
        """The answer is proven: a plan found, or none exists (not a limit reached first)."""
        return self.status.has_plan or self.status == Status.INFEASIBLE

    def record(self) -> dict:
        return {"run": self.name, "status": str(self.status), "seconds": round(self.seconds, 3),
                "shipped": self.shipped if self.ok else None,
                "gap": self.outcome.gap if self.ok else None}


def _probe(name: str, inst: Instance, baseline: Baseline, delivery: _Delivery, rules: Rules,
           options: SolveOptions, maximise: bool, session: _Session | None = None,
           report: Reporter | None = None) -> _Probe:
    """One solve under the rules with the objective replaced: the rush shipments up to
    `delivery.by_t` (`maximise`, MIP gap 0: the result is the proven maximum) or nothing (a
    feasibility question: HiGHS stops at the first plan). Built as `solve` builds (same
    formulation and hand-off route), or taken from `session` (built once per quantity).
    `report` hears the search (units shipped when maximising)."""
    t0 = time.perf_counter()
    report = report or Reporter()
    o = delivery.order
    if session is not None and session.serves([delivery]):
        model = session.model(delivery.quantity)
        inst2, built = model.inst, model.built
        sf = model.restricted(delivery.by_t, delivery.firm)
        cols = model.ship[: delivery.by_t]
        cols = cols[cols >= 0]
    else:
        report(name, "building the model")
        inst2 = with_orders(inst, [delivery])
        exts = _extensions(inst, baseline, [delivery], rules, profit=False)
        built = build_model(inst2, [*exts, *formulation_extensions(options.formulation)],
                            materialize=options.handoff == "pyomo")
        sf = compile_model(built.model)
        cols = np.array([sf.column_of[id(v)] for (p, k, t), v in built.model.sales.ship.items()
                         if p == o.product and k == o.rush_channel and t <= delivery.by_t and id(v) in sf.column_of],
                        dtype=np.int64)
    sf.cost = np.zeros(sf.num_cols)
    sf.offset = 0.0
    if maximise:
        sf.cost[cols] = 1.0
    start = None
    if session is not None and session.serves([delivery]) and not maximise:
        start = model.plan  # any plan answers a feasibility question: HiGHS checks this one first
    if maximise:
        out = solve_standard_form(sf, dataclasses.replace(options, gap=0.0), report=Reporter(report.part(name)),
                                  objective="units deliverable", in_money=False)
    else:
        report(name, "searching for a plan")
        out = solve_standard_form(sf, options, start=start)
    shipped = float(out.values[cols].sum()) if out.status.has_plan else math.nan
    return _Probe(name, out.status, shipped, time.perf_counter() - t0, inst2, sf, out, built.data)


@dataclass
class _OrderModel:
    """The model of one order at one demand quantity, built once: the instance copy, every rule
    of `_extensions` as for a profit run delivering by the horizon's end (so nothing in it
    depends on the delivery period), compiled. A run by period t restricts it with column
    bounds only (`restricted`), which is the model `_extensions` builds for t: the order's
    shipments after t and the reserve released after t are 0 (there they were fixed or not
    created), a firm order has no backlog left at t; and the change-penalty columns, which a
    probe's model lacked, cost nothing in a probe's objective and are free to follow the plan.

    MIP starts (measured on the appliance's key-account order, benchmarks/results/rush.md): a
    feasibility probe starts from the last profit plan of this model (half its CPU time). The
    profit run gets none: started from the baseline plan HiGHS stops at a plan within the
    0.01 % gap but worse than the one it finds unstarted (−¥500,556 instead of −¥487,163),
    and is slower than unstarted to the same plan at gap 0; the capable-to-promise run gets
    none either: no plan at hand helps its bound."""

    inst: Instance
    built: BuiltModel
    sf: StandardForm
    extensions: list[Extension]
    ship: np.ndarray  # column of the order's shipment in period t at [t - 1] (-1: none)
    backlog: np.ndarray  # … its backlog
    reserve_used: np.ndarray  # (t, column) of every reserve-release variable
    plan: np.ndarray | None = None  # the last profit run's plan on this model

    def restricted(self, by_t: int, firm: bool) -> StandardForm:
        """The compiled model of a run delivering by `by_t` (fresh cost and bound arrays)."""
        upper = self.sf.col_upper.copy()
        late = self.ship[by_t:]
        upper[late[late >= 0]] = 0.0
        if len(self.reserve_used):
            upper[self.reserve_used[self.reserve_used[:, 0] > by_t, 1]] = 0.0
        if firm:
            if self.backlog[by_t - 1] < 0:
                raise ValueError(f"no backlog column of the order in period {by_t}")
            upper[self.backlog[by_t - 1]] = 0.0
        return dataclasses.replace(self.sf, col_upper=upper, cost=self.sf.cost.copy())


class _Session:
    """The models of one order's answer (`evaluate_order`): one per demand quantity (the order's
    for the feasibility and profit runs, the capable-to-promise cap for that run), each built
    once and restricted per run. The runs it serves are those of this order at its price; any
    other (another order, a price of the break-even check) is built as before."""

    def __init__(self, inst: Instance, baseline: Baseline, order: _Resolved, rules: Rules, options: SolveOptions):
        self.inst, self.baseline, self.order, self.rules, self.options = inst, baseline, order, rules, options
        self._models: dict[float, _OrderModel] = {}

    def serves(self, deliveries: Sequence[_Delivery]) -> bool:
        return len(deliveries) == 1 and deliveries[0].order == self.order

    def model(self, quantity: float) -> _OrderModel:
        if quantity not in self._models:
            self._models[quantity] = self._build(quantity)
        return self._models[quantity]

    def _build(self, quantity: float) -> _OrderModel:
        o, n = self.order, self.inst.n
        delivery = _Delivery(o, n, quantity, firm=False)
        inst2 = with_orders(self.inst, [delivery])
        exts = _extensions(self.inst, self.baseline, [delivery], self.rules, profit=True)
        built = build_model(inst2, [*exts, *formulation_extensions(self.options.formulation)],
                            materialize=self.options.handoff == "pyomo")
        sf = compile_model(built.model)
        m = built.model

        def columns(component) -> np.ndarray:
            out = np.full(n, -1, dtype=np.int64)
            for (p, k, t), v in component.items():
                if p == o.product and k == o.rush_channel and id(v) in sf.column_of:
                    out[t - 1] = sf.column_of[id(v)]
            return out

        used = [(t, sf.column_of[id(v)]) for (_r, t), v in m.replan.reserve_used.items() if id(v) in sf.column_of]
        return _OrderModel(inst2, built, sf, exts, columns(m.sales.ship), columns(m.sales.backlog),
                           np.array(used, dtype=np.int64).reshape(-1, 2))


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


def _label_rush(result: Result, orders: Sequence[_Resolved]) -> None:
    """The plan's sales table as the planner reads it: rush deliveries carry the channel the
    order is sold through; `rush_order` names the order ("rush", "rush 2", …; empty for the
    instance's own demand), which tells them from that channel's ordinary demand."""
    sales = result.tables["sales"].copy()
    names = {o.rush_channel: o.label for o in orders}
    rush = sales["channel"].isin(list(names))
    sales["rush_order"] = np.where(rush, sales["channel"], "")
    sales.loc[rush, "channel"] = sales.loc[rush, "channel"].map(names)
    result.tables["sales"] = sales


def _shipped_by(result: Result, o: _Resolved, by_t: int) -> pd.Series:
    """Rush units of order `o` shipped per period up to `by_t` (index t)."""
    s = result.tables["sales"]
    own = s[(s["rush_order"] == o.rush_channel) & (s["t"] <= by_t)]
    return own.set_index("t")["shipped"]


# ---------------------------------------------------------------- the answer


def capable_to_promise(inst: Instance, baseline: Baseline, o: _Resolved, rules: Rules, options: SolveOptions,
                       runs: list, session: _Session | None = None,
                       report: Reporter | None = None) -> _Probe:
    """The most units of the order deliverable by its due period: one maximising run whose
    cap (the demand row) is CTP_CAP_FACTOR × the order, raised ×4 while the plan reaches it."""
    cap = CTP_CAP_FACTOR * o.quantity
    for _ in range(CTP_CAP_RAISES + 1):
        probe = _probe("capable-to-promise", inst, baseline, _Delivery(o, o.due_t, cap, firm=False), rules,
                       options, maximise=True, session=session, report=report)
        runs.append(probe)
        if not probe.ok or probe.shipped < cap * (1 - 1e-9) - TOL:
            return probe
        cap *= 4
    return probe


def first_feasible(lo: int, hi: int, feasible: Callable[[int], bool]) -> int:
    """The smallest t in lo..hi with `feasible(t)`, `hi` known feasible and feasibility
    monotone in t (binary search: every t tried is one call; t − 1 of the answer was tried
    and found infeasible unless the answer is `lo`)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if feasible(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def deliverable(inst: Instance, baseline: Baseline, order: RushOrder, by: str | int | None = None,
                quantity: float | None = None, mode: str = "replan", freeze: int = 1, protect: bool = False,
                options: SolveOptions | None = None) -> bool:
    """Whether `quantity` (default: the order's) can be delivered by period `by` (default: the
    order's due period) under the rules: one feasibility solve, as the earliest-period search
    makes them. A limit reached before a plan is found counts as not deliverable."""
    o = resolve_order(inst, dataclasses.replace(order, due=order.due if by is None else by))
    qty = o.quantity if quantity is None else float(quantity)
    probe = _probe("deliverable?", inst, baseline, _Delivery(o, o.due_t, qty, firm=True),
                   Rules(mode, freeze, DEFAULT_CHANGE_PENALTY, protect), options or SolveOptions(), maximise=False)
    return probe.ok


def evaluate_order(inst: Instance, baseline: Baseline, order: RushOrder, mode: str = "replan", freeze: int = 1,
                   change_penalty: float = DEFAULT_CHANGE_PENALTY, options: SolveOptions | None = None,
                   verify: bool = False, protect: bool = False,
                   progress: ProgressCallback | None = None) -> RushAnswer:
    """Feasible or not, and profitable or not; capable-to-promise quantity; earliest period;
    profit with and without; break-even price; existing orders cut; budget, cash and credit
    impact; the plan diff.

    `verify` re-solves at the break-even price to confirm it (one more run). `progress` hears
    each run (`Progress` events, solver/engine/progress.py)."""
    t0 = time.perf_counter()
    report = Reporter(progress, started=t0)
    if mode not in MODES:
        raise _order_problem(f"unknown mode {mode!r}", "mode", " or ".join(MODES))
    if freeze < 0 or freeze > inst.n:
        raise _order_problem(f"freeze must be 0..{inst.n}, got {freeze}", "freeze")
    options = options or SolveOptions()
    rules = Rules(mode, freeze, change_penalty, protect)
    o = resolve_order(inst, order)
    runs: list[_Run | _Probe] = []
    reasons: list[str] = []
    session = _Session(inst, baseline, o, rules, options) if options.handoff == "direct" else None

    def firm(by_t: int, price: float | None = None, name: str = "plan with the order") -> _Run:
        oo = o if price is None else dataclasses.replace(o, price=price)
        run = _run(name, inst, baseline, [_Delivery(oo, by_t, o.quantity, firm=True)], rules, options,
                   session=session, report=report)
        runs.append(run)
        if run.ok:
            _label_rush(run.result, [oo])
        return run

    known: dict[int, bool] = {}

    def feasible_by(t: int) -> bool:
        if t not in known:
            probe = _probe(f"feasible by {inst.periods[t - 1]}?", inst, baseline, _Delivery(o, t, o.quantity, firm=True),
                           rules, options, maximise=False, session=session, report=report)
            runs.append(probe)
            if not probe.proven:
                reasons.append(f"whether the order can be delivered by {inst.periods[t - 1]} is not proven "
                               f"({probe.status}: {probe.outcome.message}); counted as not")
            known[t] = probe.ok
        return known[t]

    ctp_run = capable_to_promise(inst, baseline, o, rules, options, runs, session, report=report)
    ctp = ctp_run.shipped if ctp_run.ok else 0.0
    ctp_bound = ctp_run.outcome.bound if ctp_run.ok else math.nan
    if not ctp_run.ok:
        reasons.append(f"the capable-to-promise run found no plan ({ctp_run.status}: {ctp_run.outcome.message})")
    elif not ctp_bound - ctp <= 1e-6 * max(1.0, ctp):  # HiGHS stopped at a limit, or at its absolute gap
        reasons.append(f"capable-to-promise not proven: {quantity(ctp)} can be delivered by {o.due_label(inst)}, "
                       f"at most {quantity(ctp_bound)} ({ctp_run.outcome.message})")
    main: _Run | None = None
    enough = o.quantity * (1 - 1e-9) - TOL
    if ctp >= enough or (ctp_run.ok and ctp_bound >= enough):
        main = firm(o.due_t)
        if not main.ok:
            reasons.append(f"the plan with the order found none ({main.result.status}: {main.result.message})")
    feasible = main is not None and main.ok
    blocking = _empty_blocking()
    earliest_t: int | None = None
    plan_run: _Run | None = main if feasible else None
    if feasible:
        known[o.due_t] = True
        shipped = _shipped_by(main.result, o, o.due_t)
        last = int(shipped[shipped > TOL].index.max()) if (shipped > TOL).any() else o.due_t
        known[last] = True  # the plan itself delivers everything by then
        earliest_t = first_feasible(1, last, feasible_by)
    else:
        known[o.due_t] = False
        if ctp_run.ok:
            blocking = _blocking(ctp_run, o, freeze if mode == "replan" else 0)
        reasons += _reasons(inst, o, rules, ctp, blocking)
        if o.due_t < inst.n and feasible_by(inst.n):
            earliest_t = first_feasible(o.due_t + 1, inst.n, feasible_by)
            plan_run = firm(earliest_t, name=f"plan with the order by {inst.periods[earliest_t - 1]}")
            if not plan_run.ok:
                reasons.append(f"the plan with the order by {inst.periods[earliest_t - 1]} found none "
                               f"({plan_run.result.status}: {plan_run.result.message})")
                plan_run = None

    profit_with = plan_run.result.objective if plan_run else math.nan
    delta = profit_with - baseline.profit if plan_run else math.nan
    be = o.price - delta / o.quantity if plan_run else None
    basis = ("due period" if feasible else f"earliest period {inst.periods[earliest_t - 1]}") if plan_run else "none"
    if verify and plan_run is not None and be is not None:
        check = firm(plan_run.deliveries[0].by_t, price=max(be, 0.0), name="break-even check")
        if check.ok:
            be = be - (check.result.objective - baseline.profit) / o.quantity  # exact for this plan
    tables = plan_diff(baseline, plan_run.result) if plan_run else {}
    impact = _impact(inst, baseline, plan_run.result) if plan_run else {}
    return RushAnswer(
        product=o.product, quantity=o.quantity, due=o.due_label(inst), price=o.price, price_source=o.price_source,
        channel=o.channel, rules=rules, feasible=feasible,
        status=str(main.result.status) if main is not None else ("infeasible" if ctp_run.ok else str(ctp_run.status)),
        reasons=reasons, warnings=list(o.warnings), blocking=blocking,
        profit_without=baseline.profit, profit_with=profit_with, profit_delta=delta,
        earliest_period=inst.periods[earliest_t - 1] if earliest_t else None, ctp_quantity=ctp, ctp_bound=ctp_bound,
        ctp_status=str(ctp_run.status), break_even_price=be, basis=basis, impact=impact, tables=tables,
        seconds=time.perf_counter() - t0, runs=[r.record() for r in runs],
        plan=plan_run.result if plan_run else None, currency=inst.currency,
    )


# ---------------------------------------------------------------- why not


def _empty_blocking() -> pd.DataFrame:
    """family, entity, period, rhs; units_per_rhs: order units shipped per unit of extra
    right-hand side; units_per_step: per relaxation step (`step`); text: in business words."""
    return pd.DataFrame(columns=["family", "entity", "period", "rhs", "units_per_rhs", "units_per_step", "step", "text", "constraint"])


def _blocking(probe: _Probe, o: _Resolved, freeze: int) -> pd.DataFrame:
    """Limits that hold the order back, ranked by the extra units of the order that one
    relaxation step would ship, in the words each row family declares (`Blocking`).

    The capable-to-promise run maximises the order's shipments, so the duals of its
    fixed-integer LP (the polish) are order units shipped per unit of extra right-hand side
    (docs: sensitivity sign convention, a positive dual is gained per unit of extra
    right-hand side)."""
    sf, out = probe.sf, probe.outcome
    if out.row_duals is None:
        return _empty_blocking()
    per = np.asarray(out.row_duals, dtype=float)[: sf.num_rows]
    periods = probe.inst.periods
    cur = probe.inst.currency
    frozen = f", and production and purchases of the first {freeze} period(s) are frozen" if freeze else ""
    rows = []
    for j in np.flatnonzero(np.abs(per) > 1e-9):
        con, kind = sf.rows[j]
        fam = row_family(con)
        if fam.blocking is None:
            continue
        where = fam.place(con.index(), periods)
        # the order itself: its own demand row, and the stock of its product
        if fam is DEMAND and where.key[1] == o.rush_channel:
            continue
        if fam is STOCK_BALANCE and where.key[0] == o.product:
            continue
        rhs = float(sf.row_upper[j] if kind == 1 else sf.row_lower[j])
        per_unit = abs(float(per[j]))
        step = fam.blocking.step or (fam.limit.step if fam.limit is not None else ONE_UNIT)
        text = (fam.blocking.text.format(**fam.text_fields(probe.inst, probe.data, where), rhs=rhs, frozen=frozen)
                + f"; each extra {fam.blocking.gain.format(currency=cur)} would ship {per_unit:,.3g} more {o.product}")
        rows.append((fam.label, where.entity, where.period, rhs, float(per[j]), per_unit * step.of_rhs(rhs), step.text,
                     text, fam.name))
    df = pd.DataFrame(rows, columns=list(_empty_blocking().columns))
    if df.empty:
        return _empty_blocking()
    df = df[df["units_per_step"] >= 0.01 * df["units_per_step"].max()]  # next to nothing more: not a limit
    # limits a planner can act on first (capacity, material, budget, cash), other firm orders last
    df = df.assign(_rank=df["constraint"].map(lambda name: row_family(name).blocking.rank))
    return df.sort_values(["_rank", "units_per_step", "entity", "period"], ascending=[True, False, True, True],
                          ignore_index=True).drop(columns="_rank")


def _reasons(inst: Instance, o: _Resolved, rules: Rules, ctp: float, blocking: pd.DataFrame) -> list[str]:
    due = o.due_label(inst)
    out = [f"only {quantity(ctp)} of {quantity(o.quantity)} {o.product} can be delivered by {due}"]
    if rules.mode == "replan" and o.due_t <= rules.freeze:
        out.append(f"{due} is within the frozen periods (--freeze {rules.freeze}): its production and purchases "
                   "cannot change; try --mode reserve or a smaller --freeze")
    lead = int(inst.tables["items"].set_index("item").at[o.product, "lead_time"])
    first_free = rules.freeze + 1 if rules.mode == "replan" else 1
    if first_free + lead > o.due_t:
        out.append(f"lead time: {o.product} takes {lead} period(s), so production that can still change "
                   f"(from {inst.periods[min(first_free, inst.n) - 1]}) is not ready by {due}")
    if rules.protect:
        out.append("--protect: no existing order may be served later or less than in the baseline")
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


def plan_diff(baseline: Baseline, plan: Result) -> dict[str, pd.DataFrame]:
    """The plan against the baseline: production lots and purchases added, moved or cancelled;
    other orders delayed or lost (order by order: product, channel, period, shipped in the
    baseline and now, backlog and lost sales); the rush deliveries (labelled by `_label_rush`);
    capacity, budget and cash changes."""
    periods = baseline.periods
    bt, nt = baseline.tables, plan.tables
    prod = _label(_changes(bt["production"], nt["production"], ["item", "routing", "t"], "quantity"), periods)
    pur = _label(_changes(bt["purchases"], nt["purchases"], ["item", "t"], "quantity"), periods)

    keys = ["product", "channel", "t"]
    cols = ["shipped", "backlog", "lost"]
    ns = nt["sales"]
    others = ns[ns["rush_order"] == ""]
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

    rush = ns[(ns["rush_order"] != "") & (ns["shipped"] > TOL)]
    rush = rush[["rush_order", "product", "channel", "period", "t", "shipped", "price", "revenue"]].rename(
        columns={"rush_order": "order"}).sort_values(["order", "t"], ignore_index=True)
    rush.insert(6, "cumulative", rush.groupby("order")["shipped"].cumsum())

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
    warnings: list[str]
    seconds: float
    runs: list[dict]
    plan: Result | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "warnings": self.warnings,
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
                  options: SolveOptions | None = None, protect: bool = False,
                  progress: ProgressCallback | None = None) -> SelectionAnswer:
    """Choose jointly which candidates to accept (each a binary; an accepted order ships in
    full by its due period) so that profit is highest; the others are refused. `progress`
    hears the solve."""
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
    deliveries = [_Delivery(o, o.due_t, o.quantity, firm=False) for o in resolved]
    run = _run("selection", inst, baseline, deliveries, Rules(mode, freeze, change_penalty, protect), options,
               select=True, report=Reporter(progress, started=t0))
    rows = []
    accepted = {}
    if run.ok:
        m, sf = run.result.built.model, run.result.standard_form
        acc = var_values(m.replan.accept, sf, run.result.outcome.values)
        accepted = {j: bool(round(a)) for j, a in enumerate(acc)}
        _label_rush(run.result, resolved)
    for j, o in enumerate(resolved):
        rows.append({"order": j + 1, "product": o.product, "quantity": o.quantity, "due": o.due_label(inst),
                     "price": o.price, "price_source": o.price_source, "channel": o.channel,
                     "rush_order": o.rush_channel, "accepted": accepted.get(j, False),
                     "revenue": o.price * o.quantity if accepted.get(j) else 0.0})
    table = pd.DataFrame(rows)
    plan = run.result if run.ok else None
    profit_with = plan.objective if plan else math.nan
    return SelectionAnswer(
        orders=table, status=str(run.result.status), profit_without=baseline.profit, profit_with=profit_with,
        profit_delta=profit_with - baseline.profit if plan else math.nan,
        impact=_impact(inst, baseline, plan) if plan else {},
        tables=plan_diff(baseline, plan) if plan else {},
        warnings=[w for o in resolved for w in o.warnings],
        seconds=time.perf_counter() - t0, runs=[run.record()], plan=plan,
    )
