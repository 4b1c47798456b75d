"""What a cut separator needs to know about each lot-sized item's stock path (docs/model.md §8.1).

The root cut loop (solver/engine/cuts.py) separates two families of valid inequalities on the
LP solution; both are derived from one item's stock balance, so they need, per item, the
starts that feed its stock (x, y, their big-M and the period their units arrive), its closing
stock variables, and bounds on what leaves the stock in any feasible plan. This module reads
those off a built model's context; it adds no rows.

An item qualifies where `shipment_only_items` says so (formulations/setup/ls_inequalities.py:
made, with setup binaries, no BOM parents, outflows only sales shipments, inflows ≥ 0, no
negative constants) — the items for which the (l,S) rows of `--formulation ls` are valid — and,
in addition, its stock gains only from its own starts (`exact_inflows`: needed by the interval
inequalities, which count every unit that comes in).

Bounds over arrival periods a..b (1-based, inclusive), for every feasible plan:

    outflow(a..b) ≤ U(a, b) = cum_upper[b] − cum_upper[a−1] + cum_backlog[b]   (ls_inequalities.py)
    outflow(a..b) ≥ L(a, b) = cum_must[b] − cum_must[a−1]         (must channels ship their demand)
    constant inflow(a..b)   = cum_const[b] − cum_const[a−1]        (open orders and fixed terms)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formulations.context import Context
from formulations.setup.ls_inequalities import outflow_bounds, shipment_only_items


@dataclass(frozen=True)
class LotPath:
    """One item: its starts (in arrival order) and its closing stocks s[i,1..n]."""

    item: str
    x: list  # VarData of each start
    y: list  # its setup binary
    arrival: np.ndarray  # period the start's units enter the stock (t + lead time), int
    big_m: np.ndarray  # the setup link's M (x ≤ M·y), may be inf
    stock: list  # VarData s[i,t], t = 1..n
    initial: float  # s[i,0]
    cum_upper: np.ndarray  # (n+1,) cumulative must + lost demand
    cum_backlog: np.ndarray  # (n+1,) cumulative backlog demand
    cum_must: np.ndarray  # (n+1,) cumulative must demand
    cum_const: np.ndarray  # (n+1,) cumulative constant inflow (open orders, fixed terms)
    exact_inflows: bool  # these starts (each with a setup binary) are the only variable inflows

    def upper(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """U(a, b): the most that can leave the stock in periods a..b (arrays broadcast)."""
        return self.cum_upper[b] - self.cum_upper[a - 1] + self.cum_backlog[b]

    def lower(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """L(a, b) minus the constant inflow of a..b: what the starts arriving in a..b and the
        stock at a−1 must cover together."""
        return (self.cum_must[b] - self.cum_must[a - 1]) - (self.cum_const[b] - self.cum_const[a - 1])


def lot_paths(ctx: Context) -> list[LotPath]:
    """The LotPath of every qualifying item, sorted by item (a stable order for the cuts)."""
    d = ctx.data
    prod = ctx.model.production
    stock = ctx.model.inventory.stock
    bounds = outflow_bounds(ctx)
    starts: dict[str, list[tuple[int, tuple]]] = {i: [] for i in bounds}
    for key in d.y_index:
        i, _rho, t = key
        if i in starts:
            starts[i].append((t + d.lead[i], key))
    out = []
    for i in shipment_only_items(ctx):
        if not starts.get(i):
            continue
        keys = sorted(starts[i])
        must = np.zeros(d.n + 1)
        const = np.zeros(d.n + 1)
        own = {id(prod.x[key]) for _a, key in keys}
        exact = True
        for t in d.T:
            c0, coefs, vars_ = ctx.stock.raw((i, t))
            const[t] = c0 + d.open_orders.get((i, t), 0.0)
            exact &= all(c < 0 or id(v) in own for c, v in zip(coefs, vars_, strict=True))
        for (p, k, t), qty in d.demand.items():
            if p == i and d.service[k] == "must":
                must[t] += qty
        out.append(LotPath(
            item=i,
            x=[prod.x[key] for _a, key in keys],
            y=[prod.y[key] for _a, key in keys],
            arrival=np.array([a for a, _key in keys], dtype=np.int64),
            big_m=np.array([d.x_bound[key] for _a, key in keys], dtype=float),
            stock=[stock[i, t] for t in d.T],
            initial=float(d.initial_stock[i]),
            cum_upper=bounds[i][0],
            cum_backlog=bounds[i][1],
            cum_must=np.cumsum(must),
            cum_const=np.cumsum(const),
            exact_inflows=bool(exact),
        ))
    return out
