"""Tight alternatives to the big-M setup link, added as model extensions (`--formulation`).

`bigm` (the default) is docs/model.md §4.5 as written: x[i,ρ,t] ≤ M·y[i,ρ,t] with the usage bound M.
Its LP relaxation is weak: y = x/M pays a fraction of a setup for every unit. `ls` adds the
*(l,S) inequalities* of Barany, Van Roy & Wolsey (1984), all of them at once, in an extended
form with O(n²) columns per routing (the projection of a facility-location formulation):

    e[i,ρ,t,l] ≥ x[i,ρ,t] − U_i(t+LT_i, l)·y[i,ρ,t]        e ≥ 0     (tight.ls_link)
    Σ_{(ρ,t): t+LT_i ≤ l} e[i,ρ,t,l] ≤ s[i,l]                         (tight.ls_stock)

for every item i *without BOM parents* whose outflows are all sales shipments, every period l
and every start (ρ,t) with a setup binary; U_i(a,b) is an upper bound of what can leave i's
stock in periods a..b in *any* feasible plan (docs/model.md §4.3):

    must channel:    Σ_{a..b} d          (shipments equal demand)
    lost channel:    Σ_{a..b} d          (v = d − l ≤ d)
    backlog channel: Σ_{τ ≤ b} d          (cumulative shipments never exceed cumulative demand)

s[i,l] is written out from the stock balance (initial stock + open orders + registered inflows
− registered outflows up to l), because the inventory block is built after the extensions.

Validity (no feasible plan is cut off, so no optimum is): eliminating e, the rows say
Σ_{(ρ,t)∈S} (x[ρ,t] − U(t+LT, l)·y[ρ,t]) ≤ s[l] for every set S of starts. Take a feasible
plan and S; drop from S the starts with x ≤ U·y (that only raises the left side). If S is now
empty the left side is 0 ≤ s[l]. Otherwise every start left has x > 0, hence y = 1 (setup link);
let k be the earliest period in S. Then Σ_S x ≤ Σ_{t=k}^{l−LT} Σ_ρ x[ρ,t] (x ≥ 0), and the
stock balance summed over k+LT..l gives Σ_{t=k}^{l−LT} Σ_ρ x[ρ,t] = s[l] − s[k+LT−1] − open
− (other inflows ≥ 0) + outflow(k+LT..l) ≤ s[l] + U(k+LT, l), because stocks, open orders and
the other inflows are ≥ 0. Finally U(k+LT, l) = U(k+LT, l)·y[ρ,k] ≤ Σ_S U·y. ∎
The argument uses only constraints of every feasible plan, not optimality, so it holds with
capacity, costs, cash and budgets of any kind, with min lots and several routings. Items with
BOM parents (components, materials) are left to big-M: their outflow D = Σ qty·x[parent]
has no bound valid for every feasible plan. A row is written only where it can cut: a start
whose U(t+LT, l) ≥ M (its big-M) already satisfies x − U·y ≤ 0.

For uncapacitated single-item lot sizing these rows give the convex hull (the LP is integral);
with capacities and setup times (the TTM instances) they close most of the root gap.

`fl` (formulations/setup/facility_location.py) is the facility-location form these rows project from:
each unit shipped is traced to the start that made it, w ≤ U·y per (start, shipment period).
It implies every (l,S) row above, so `ls` and `fl` are alternatives, never combined.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyomo.environ as pyo

from formulations.context import Context
from formulations.families import RowFamily, VarFamily

# technical rows: tables show them by their registered name. `l` (the last period of the
# interval) is the period of a stock row; a link row's period is its start's.
LS_LINK = RowFamily("tight.ls_link", ("item", "routing", "t", "l"), "unit", "tight.ls_link")
LS_STOCK = RowFamily("tight.ls_stock", ("item", "t"), "unit", "tight.ls_stock")
FAMILIES = (LS_LINK, LS_STOCK)
VARIABLES = (VarFamily("tight.e", ("item", "routing", "t", "l"), "tight.e"),)


def shipment_only_items(ctx: Context) -> list[str]:
    """Items with a setup binary and no BOM parents whose stock leaves only as sales shipments
    (coefficient −1), gains only non-negative inflows and has no negative constant: the items
    whose outflow the tight formulations can bound. Sorted, for a stable row order."""
    d = ctx.data
    ship_ids = {id(v) for v in ctx.model.sales.ship.values()}
    has_parents = {c for c, ps in d.parents_of.items() if ps}
    with_setup = {i for i, _r, _t in d.y_index}
    out = []
    for i in sorted(with_setup - has_parents):
        ok = True
        for t in d.T:
            const, coefs, vars_ = ctx.stock.raw((i, t))
            if const < 0:
                ok = False  # a negative constant: stock could start below what the rows assume
            for c, v in zip(coefs, vars_, strict=True):
                if c < 0 and not (id(v) in ship_ids and c == -1.0):
                    ok = False  # an outflow we cannot bound
                elif c > 0 and (v.lb is None or v.lb < 0):
                    ok = False  # an inflow that could be negative
            if not ok:
                break
        if ok:
            out.append(i)
    return out


def outflow_bounds(ctx: Context) -> dict[str, np.ndarray]:
    """U[i] for the eligible items: cum[i][b] − cum_must_lost[i][a−1] gives U_i(a, b).

    Returns {item: (cum_exact, cum_backlog)} packed as an (2, n+1) array: row 0 is the cumulative
    must/lost demand (U over a..b is its difference), row 1 the cumulative backlog demand (U
    over a..b is its value at b). Items with any stock outflow other than shipments are absent.
    """
    d = ctx.data
    out: dict[str, np.ndarray] = {i: np.zeros((2, d.n + 1)) for i in shipment_only_items(ctx)}
    for (p, k, t), qty in d.demand.items():
        if p in out:
            row = 1 if d.service[k] == "backlog" else 0
            out[p][row, t] += qty
    for arr in out.values():
        np.cumsum(arr, axis=1, out=arr)
    return out


def add_ls_inequalities(ctx: Context, items: set[str] | None = None) -> pyo.Block:
    """Extension: the (l,S) inequalities in extended form (see the module docstring); `items`
    restricts them to those eligible items (formulations/setup/facility_location.py uses that)."""
    d = ctx.data
    prod = ctx.model.production
    bounds = outflow_bounds(ctx)
    if items is not None:
        bounds = {i: u for i, u in bounds.items() if i in items}
    starts: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, rho, t in d.y_index:
        if i in bounds:
            starts[i].append((rho, t))

    e_index: list[tuple[str, str, int, int]] = []
    link_u: dict[tuple[str, str, int, int], float] = {}
    stock_rows: list[tuple[str, int]] = []
    for i in sorted(starts):
        cum = bounds[i]
        lt = d.lead[i]
        for last in d.T:
            any_row = False
            for rho, t in starts[i]:
                a = t + lt
                if a > last:
                    continue
                u = cum[0, last] - cum[0, a - 1] + cum[1, last]
                if u >= d.x_bound[(i, rho, t)]:
                    continue
                e_index.append((i, rho, t, last))
                link_u[(i, rho, t, last)] = u
                any_row = True
            if any_row:
                stock_rows.append((i, last))

    b = pyo.Block()
    ctx.model.tight = b
    b.e = pyo.Var(e_index, within=pyo.NonNegativeReals)
    # e − x + U·y ≥ 0
    ctx.rows.add_many(LS_LINK, e_index, [[1.0, -1.0, link_u[key]] for key in e_index],
                      [[b.e[i, rho, t, last], prod.x[i, rho, t], prod.y[i, rho, t]] for i, rho, t, last in e_index],
                      lower=0.0, after_model=True)
    members: dict[tuple[str, int], list] = defaultdict(list)
    for i, rho, t, last in e_index:
        members[(i, last)].append(b.e[i, rho, t, last])

    with ctx.rows.batch(LS_STOCK, after_model=True) as stock:
        for i, last in stock_rows:
            # Σ e − (registered net inflows up to last) ≤ initial stock + open orders up to last
            coefs = [1.0] * len(members[(i, last)])
            vars_ = list(members[(i, last)])
            const = d.initial_stock[i]
            for tau in range(1, last + 1):
                c0, cs, vs = ctx.stock.raw((i, tau))
                const += c0 + d.open_orders.get((i, tau), 0.0)
                coefs.extend(-c for c in cs)
                vars_.extend(vs)
            stock.add((i, last), coefs, vars_, upper=const)
    return b
