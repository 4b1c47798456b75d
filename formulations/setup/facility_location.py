"""Facility-location (FL) formulation of the setup link, added as a model extension (`--formulation fl`).

Krarup & Bilde (1977); for capacitated lot sizing with setup times e.g. Rardin & Wolsey (1993),
Belvaux & Wolsey (2000). Every unit that leaves an item's stock is traced back to the inflow
("source") it came from, so a setup y[i,ρ,s] can only serve period t up to that period's
outflow bound U_i(t), instead of "up to M" as in x ≤ M·y:

    Σ_src w[i,src,t] − Σ_k v[i,k,t] = 0                     every period t with U_i(t) > 0   (fl.cover)
    Σ_{t ≥ arr(src)} w[i,src,t] + r[i,src] − amount(src) = 0   every source                   (fl.source)
    w[i,(ρ,s),t] − U_i(t)·y[i,ρ,s] ≤ 0                          starts with a setup binary     (fl.link)
    0 ≤ w[i,src,t] ≤ U_i(t),   r ≥ 0

for every item i *without BOM parents* whose stock outflows are all sales shipments (coefficient
−1) to must or lost channels, whose other registered inflows are non-negative variables and
whose constants are ≥ 0. Items that qualify except for a backlog channel get the (l,S) rows of
`formulations/setup/ls_inequalities.py` instead: a backlog channel's shipments in t are bounded only by the
cumulative demand up to t, so per-period bounds U_i(t) summed over an interval are far weaker
than the (l,S) rows' bound of the interval (the cumulative demand at its end).
The sources of i are what enters its stock (docs/model.md §4.1): each start x[i,ρ,s] (arriving in
arr = s + LT_i, amount x), any other registered inflow variable (amount coef·var, arriving in
its stock period), and per period the fixed inflow (initial stock in period 1, open orders,
registered constants). w[i,src,t] is the part of src shipped in t ≥ arr(src); r[i,src] the part
still in stock at the end. U_i(t) bounds the shipments of i in t in *any* feasible plan
(docs/model.md §4.3): Σ_k d[i,k,t] (must: v = d; lost: v = d − l ≤ d). Periods with U_i(t) = 0
get no w (their shipments are 0).

Validity (no feasible plan is cut off, so no optimum is): take any feasible plan and item i.
Stocks are ≥ 0, so for every t the inflows that arrived in 1..t cover the outflows of 1..t.
Allocate outflows to sources first-in-first-out: the units shipped in t come from sources that
arrived in periods ≤ t; set w[src,t] to the amount of src so shipped and r[src] to what of src is
never shipped (≥ 0, since FIFO never ships more than arrived). Then fl.cover and fl.source hold
by construction, w ≥ 0, and w[src,t] ≤ Σ_k v[i,k,t] ≤ U_i(t). For a start with a setup binary:
if y = 0 then x ≤ M·y = 0 (setup link), so the source is empty and w = 0 = U·y; if y = 1,
w ≤ U_i(t) = U_i(t)·y. So the rows hold for (x, y, v, w, r). ∎  The argument uses only the stock
balance, the demand rows and the setup link of every feasible plan, not optimality, so it holds
with capacities, costs, cash, budgets, stock targets, min lots, lead times and several routings.
Items with BOM parents (components, materials) keep big-M only: their outflow D = Σ qty·x[parent]
has no bound valid for every feasible plan.

Strength: summing fl.source over the sources that arrived by l and subtracting fl.cover over
1..l gives s[i,l] = Σ_{src: arr ≤ l} (Σ_{t > l} w[src,t] + r[src]) (the stock balance), hence for
every set S of starts Σ_S (x − U_i(arr, l)·y) ≤ s[i,l] with U_i(a,b) = Σ_{t=a..b} U_i(t): the
(l,S) inequalities of `formulations/setup/ls_inequalities.py` are implied, so the LP bound is at least as
tight as `ls`'s (the (l,S) rows of the backlog items are added as they are). For uncapacitated
single-item lot sizing the FL LP is integral. The setup-time strengthening Σ_t a·w[(ρ,s),t] ≤
(C − st)·y is already the big-M row: `formulations/data.py` sets M = (capacity − setup_hours)/a
(with the usage ahead), so it is not repeated. The rows are declared in the row registry
(`ctx.rows`), so they compile straight to arrays like the model's own.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyomo.environ as pyo

from formulations.context import Context
from formulations.families import RowFamily, VarFamily
from formulations.setup.ls_inequalities import (
    add_ls_inequalities,
    outflow_bounds,
    shipment_only_items,
)

# technical rows: tables show them by their registered name
COVER = RowFamily("fl.cover", ("item", "t"), "unit", "fl.cover")
SOURCE = RowFamily("fl.source", ("item", "source"), "unit", "fl.source")
LINK = RowFamily("fl.link", ("item", "source", "t"), "unit", "fl.link")
FAMILIES = (COVER, SOURCE, LINK)
VARIABLES = (
    VarFamily("fl.w", ("item", "source", "t"), "fl.w"),
    VarFamily("fl.r", ("item", "source"), "fl.r"),
)


def shipment_bounds(ctx: Context) -> dict[str, np.ndarray]:
    """U_i(t) (index 0..n, [0] unused) for the items that get FL rows (see the module
    docstring); items with another kind of outflow, a backlog channel, a negative constant,
    BOM parents or no setup binary are absent."""
    d = ctx.data
    out: dict[str, np.ndarray] = {i: np.zeros(d.n + 1) for i in shipment_only_items(ctx)}
    for p, k, _t in d.ship_index:
        if d.service[k] == "backlog":
            out.pop(p, None)
    for (p, _k, t), qty in d.demand.items():
        if p in out:
            out[p][t] += qty
    return out


def add_facility_location(ctx: Context) -> pyo.Block:
    """Extension: the facility-location rows, and (l,S) rows for the backlog items (see the
    module docstring)."""
    d = ctx.data
    prod = ctx.model.production
    bounds = shipment_bounds(ctx)
    backlog_items = set(outflow_bounds(ctx)) - set(bounds)
    if backlog_items:
        add_ls_inequalities(ctx, items=backlog_items)
    x_key = {id(prod.x[k]): k for k in d.x_index}
    has_y = set(d.y_index)

    # sources per item: (label, arrival, constant amount, [(coef, var)], setup key or None)
    sources: dict[str, list[tuple[str, int, float, list, tuple | None]]] = defaultdict(list)
    for i in bounds:
        for tau in d.T:
            const, coefs, vars_ = ctx.stock.raw((i, tau))
            fixed = const + d.open_orders.get((i, tau), 0.0) + (d.initial_stock[i] if tau == 1 else 0.0)
            if fixed > 0:
                sources[i].append((f"stock@{tau}", tau, fixed, [], None))
            other = 0
            for c, v in zip(coefs, vars_, strict=True):
                if c <= 0:
                    continue
                key = x_key.get(id(v))
                if key is not None:  # a start; only one with a setup binary gets fl.link rows
                    sources[i].append((f"{key[1]}@{key[2]}", tau, 0.0, [(c, v)], key if key in has_y else None))
                else:
                    other += 1
                    sources[i].append((f"in{other}@{tau}", tau, 0.0, [(c, v)], None))

    w_index: list[tuple[str, str, int]] = []
    w_ub: dict[tuple[str, str, int], float] = {}
    r_index: list[tuple[str, str]] = []
    for i, srcs in sources.items():
        U = bounds[i]
        for label, arr, _fixed, _terms, _key in srcs:
            r_index.append((i, label))
            for t in range(arr, d.n + 1):
                if U[t] > 0:
                    w_index.append((i, label, t))
                    w_ub[(i, label, t)] = float(U[t])

    b = pyo.Block()
    ctx.model.fl = b
    b.w = pyo.Var(w_index, within=pyo.NonNegativeReals, bounds=lambda _b, i, s, t: (0.0, w_ub[(i, s, t)]))
    b.r = pyo.Var(r_index, within=pyo.NonNegativeReals)

    by_source: dict[tuple[str, str], list] = defaultdict(list)
    by_period: dict[tuple[str, int], list] = defaultdict(list)
    for i, label, t in w_index:
        by_source[(i, label)].append(b.w[i, label, t])
        by_period[(i, t)].append(b.w[i, label, t])

    ship_ids = {id(v) for v in ctx.model.sales.ship.values()}
    with ctx.rows.batch(COVER) as cover:
        for i in sorted(bounds):
            for t in d.T:
                if bounds[i][t] <= 0:
                    continue
                _c, coefs, vars_ = ctx.stock.raw((i, t))
                ships = [v for c, v in zip(coefs, vars_, strict=True) if c < 0 and id(v) in ship_ids]
                ws = by_period.get((i, t), [])
                cover.add((i, t), [1.0] * len(ws) + [-1.0] * len(ships), ws + ships, 0.0, 0.0)
    with ctx.rows.batch(SOURCE) as source:
        for i, srcs in sources.items():
            for label, _arr, fixed, terms, _key in srcs:
                ws = by_source.get((i, label), [])
                coefs = [1.0] * len(ws) + [1.0] + [-c for c, _v in terms]
                vars_ = ws + [b.r[i, label]] + [v for _c, v in terms]
                source.add((i, label), coefs, vars_, fixed, fixed)
    with ctx.rows.batch(LINK) as link:
        for i, srcs in sources.items():
            U = bounds[i]
            for label, arr, _fixed, _terms, key in srcs:
                if key is None:
                    continue
                big_m = d.x_bound[key]
                for t in range(arr, d.n + 1):
                    if 0 < U[t] < big_m:  # else implied: w ≤ x ≤ M·y
                        link.add((i, label, t), [1.0, -float(U[t])], [b.w[i, label, t], prod.y[key]], upper=0.0)
    return b
