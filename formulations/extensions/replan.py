"""Extension blocks for re-plans and rush orders (see `formulations.assembly.build_model`).

Each function returns an extension `f(ctx)`; they never change the docs/model.md blocks, they only
fix or bound decision variables, add variables and rows of their own in the block
`ctx.model.replan`, register capacity hours, and add objective-only terms to `ctx.penalty`
(so the reported profit stays docs/model.md §5).

Baseline values are passed as `{component name: {index: value}}` with the component names of
docs/ARCHITECTURE.md ("production.x", "procurement.q", "sales.ship", …).

    hold:        x[i,ρ,t] = x̄  (or ≥ x̄), y = ȳ (≥ ȳ), q = q̄ (≥ q̄), z = z̄ (≥ z̄)   for t in the periods
    change:      var − up + down = baseline,  penalty rate·(up + down)       (objective only)
    reserve:     g[r,t] + h[r,t] = reserve_r·cap[r,t]   g registered as hours of r in t, so that
                 with the instance's reserve set to 0 the capacity row reads
                 Σ hours − o ≤ (1 − reserve_r)·cap[r,t] + h[r,t]      (h: reserve released)
                 Σ_t h[r,t] ≤ Σ_orders (hours_r per unit · shipped_o + setup_r · accepted_o)
    choice:      Σ_t ship[o] = quantity_o · accept_o   (accept_o binary)
    delivery:    ship[o,τ] = 0 for τ > t_o; firm: backlog[o,t_o] = 0, i.e. Σ_{τ≤t_o} ship[o,τ] = quantity_o
                 (the order is a backlog-service demand row in period 1: it may ship in any
                 period up to t_o, in one or several deliveries)
    protection:  lost-service channels: ship ≥ baseline ship; backlog channels: backlog ≤
                 baseline backlog (Σ_{τ≤t} ship ≥ the baseline's: no order served later or less)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import pyomo.environ as pyo

from formulations.assembly import Extension
from formulations.context import Context
from formulations.families import RowFamily, VarFamily

DECISIONS = ("production.x", "production.y", "procurement.q", "procurement.z")

# technical rows of re-plans and rush orders: tables show them by their registered name
CHANGE = RowFamily("replan.change", ("j",), "unit", "replan.change")
RESERVE_SPLIT = RowFamily("replan.reserve_split", ("resource", "t"), "hour", "replan.reserve_split")
RESERVE_TOTAL = RowFamily("replan.reserve_total", ("resource",), "hour", "replan.reserve_total")
ACCEPT_LINK = RowFamily("replan.accept_link", ("j",), "unit", "replan.accept_link")
FAMILIES = (CHANGE, RESERVE_SPLIT, RESERVE_TOTAL, ACCEPT_LINK)
VARIABLES = (
    VarFamily("replan.change_up", ("j",), "replan.change_up"),
    VarFamily("replan.change_down", ("j",), "replan.change_down"),
    VarFamily("replan.reserve_held", ("resource", "t"), "replan.reserve_held"),
    VarFamily("replan.reserve_used", ("resource", "t"), "replan.reserve_used"),
    VarFamily("replan.accept", ("j",), "replan.accept"),
)


def _block(ctx: Context) -> pyo.Block:
    m = ctx.model
    if not hasattr(m, "replan"):
        m.replan = pyo.Block()
    return m.replan


def _component(ctx: Context, name: str) -> pyo.Var:
    blk, var = name.split(".")
    return getattr(getattr(ctx.model, blk), var)


def hold_decisions(values: Mapping[str, Mapping], periods: Collection[int] | None = None,
                   how: str = "fix") -> Extension:
    """Production and purchases of the baseline in `periods` (None = all): `fix` keeps them
    exactly; `keep` bounds them from below (baseline lots stay, more may be added)."""
    if how not in ("fix", "keep"):
        raise ValueError(f"how must be fix or keep, got {how!r}")

    def extend(ctx: Context) -> None:
        for name in DECISIONS:
            base = values.get(name, {})
            binary = name.endswith((".y", ".z"))
            for key, var in _component(ctx, name).items():
                if periods is not None and key[-1] not in periods:
                    continue
                value = float(base.get(key, 0.0))
                value = float(round(value)) if binary else max(value, 0.0)
                if how == "fix":
                    var.fix(value)
                elif value > 0:
                    var.setlb(value)

    return extend


def fix_shipments(values: Mapping[str, Mapping], skip_channels: Collection[str]) -> Extension:
    """Shipments to every channel but `skip_channels` stay at the baseline's."""

    def extend(ctx: Context) -> None:
        base = values.get("sales.ship", {})
        for (p, k, t), var in ctx.model.sales.ship.items():
            if k not in skip_channels:
                var.fix(max(float(base.get((p, k, t), 0.0)), 0.0))

    return extend


def change_penalty(values: Mapping[str, Mapping], rate: float, periods: Collection[int] | None = None,
                   skip_channels: Collection[str] = ()) -> Extension:
    """Every unit of production, purchase or shipment (other than to `skip_channels`) that
    differs from the baseline pays `rate` in the objective (never in the reported profit)."""

    def extend(ctx: Context) -> None:
        if rate <= 0:
            return
        pairs = []
        for name in ("production.x", "procurement.q", "sales.ship"):
            base = values.get(name, {})
            for key, var in _component(ctx, name).items():
                if var.fixed or (periods is not None and key[-1] not in periods):
                    continue
                if name == "sales.ship" and key[1] in skip_channels:
                    continue
                pairs.append((var, float(base.get(key, 0.0)), key[-1]))
        b = _block(ctx)
        idx = range(len(pairs))
        b.change_up = pyo.Var(idx, within=pyo.NonNegativeReals)
        b.change_down = pyo.Var(idx, within=pyo.NonNegativeReals)
        base = [value for _var, value, _t in pairs]  # var − up + down = baseline
        ctx.rows.add_many(CHANGE, idx, [[1.0, -1.0, 1.0]] * len(pairs),
                          [[var, b.change_up[j], b.change_down[j]] for j, (var, _v, _t) in enumerate(pairs)],
                          base, base, after_model=True)
        for j, (_var, _base, t) in enumerate(pairs):
            ctx.penalty.add(("change", t), rate, b.change_up[j])
            ctx.penalty.add(("change", t), rate, b.change_down[j])

    return extend


@dataclass(frozen=True)
class OrderHours:
    """What one rush order may take from the reserve: hours per unit shipped and setup hours
    per resource, for the order's channel (`channel`, product `product`)."""

    product: str
    channel: str
    per_unit: Mapping[str, float]
    setup: Mapping[str, float] = field(default_factory=dict)


def release_reserve(reserve: Mapping[str, float], orders: Sequence[OrderHours], last_t: int) -> Extension:
    """The rush reserve, released to the orders only (instance reserve must be 0: see module
    docstring). `reserve` is the original fraction per resource."""

    def extend(ctx: Context) -> None:
        d = ctx.data
        rows = [(r, t) for r in d.resources for t in d.T
                if reserve.get(r, 0.0) > 0 and math.isfinite(d.capacity[(r, t)])]
        b = _block(ctx)
        b.reserve_held = pyo.Var(rows, within=pyo.NonNegativeReals)
        b.reserve_used = pyo.Var([k for k in rows if k[1] <= last_t], within=pyo.NonNegativeReals)

        with ctx.rows.batch(RESERVE_SPLIT, after_model=True) as split:  # held + used = reserve · capacity
            for r, t in rows:
                parts = [b.reserve_held[r, t]] + ([b.reserve_used[r, t]] if (r, t) in b.reserve_used else [])
                share = reserve[r] * d.capacity[(r, t)]
                split.add((r, t), [1.0] * len(parts), parts, share, share)
        for (r, t), g in b.reserve_held.items():
            ctx.hours.add((r, t), 1.0, g)
        accept = getattr(b, "accept", None)
        resources = sorted({r for r, _t in b.reserve_used})

        # Σ_t used ≤ Σ_orders (hours per unit · units shipped + setup hours · accepted), the
        # orders' variables moved to the left, a setup without order selection to the right
        with ctx.rows.batch(RESERVE_TOTAL, after_model=True) as total:
            for r in resources:
                used = [v for (rr, _t), v in b.reserve_used.items() if rr == r]
                coefs, vars_, allowance = [1.0] * len(used), used, 0.0
                for j, o in enumerate(orders):
                    hpu = o.per_unit.get(r, 0.0)
                    if hpu:
                        ships = [v for (p, k, _t), v in ctx.model.sales.ship.items() if p == o.product and k == o.channel]
                        coefs, vars_ = coefs + [-hpu] * len(ships), vars_ + ships
                    setup = o.setup.get(r, 0.0)
                    if setup and accept is not None:
                        coefs, vars_ = coefs + [-setup], vars_ + [accept[j]]
                    elif setup:
                        allowance += setup
                total.add(r, coefs, vars_, upper=allowance)

    return extend


def choose_orders(orders: Sequence[tuple[str, str, float]]) -> Extension:
    """Order acceptance: each (product, channel, quantity) ships in full iff accept[j] = 1.
    Must run before `release_reserve` (which scales setup allowances by accept)."""

    def extend(ctx: Context) -> None:
        b = _block(ctx)
        b.accept = pyo.Var(range(len(orders)), within=pyo.Binary)

        with ctx.rows.batch(ACCEPT_LINK, after_model=True) as link:  # Σ_t ship = quantity · accept
            for j, (p, k, qty) in enumerate(orders):
                ships = [v for (pp, kk, _t), v in ctx.model.sales.ship.items() if pp == p and kk == k]
                link.add(j, [1.0] * len(ships) + [-qty], ships + [b.accept[j]], 0.0, 0.0)

    return extend


def deliver_by(orders: Sequence[tuple[str, str, int, bool]]) -> Extension:
    """Rush orders (product, channel, by_t, firm) of backlog-service channels whose one demand
    row is in period 1: nothing ships to them after `by_t`, and a firm order has no backlog
    left at `by_t` (its whole quantity ships by then)."""

    def extend(ctx: Context) -> None:
        sales = ctx.model.sales
        for p, k, by_t, firm in orders:
            for t in range(by_t + 1, ctx.data.n + 1):
                if (p, k, t) in sales.ship:
                    sales.ship[p, k, t].fix(0.0)
            if firm:
                sales.backlog[p, k, by_t].fix(0.0)

    return extend


def protect_orders(values: Mapping[str, Mapping], skip_channels: Collection[str], rel_tol: float = 1e-7) -> Extension:
    """Every existing order is served at least as in the baseline: shipments to a lost-service
    channel are not cut (ship ≥ baseline), a backlog channel's backlog is nowhere larger than
    the baseline's (cumulative shipments by every period ≥ the baseline's: nothing is delayed;
    shipping earlier is allowed). Must channels ship their demand anyway. `rel_tol` absorbs
    the round trip of the baseline's values through its CSV files."""

    def extend(ctx: Context) -> None:
        sales, service = ctx.model.sales, ctx.data.service
        ship, backlog = values.get("sales.ship", {}), values.get("sales.backlog", {})
        for (p, k, t), var in sales.ship.items():
            if k in skip_channels or service[k] != "lost" or var.fixed:
                continue
            base = float(ship.get((p, k, t), 0.0))
            if base > 0:
                var.setlb(base * (1 - rel_tol))
        for (p, k, t), var in sales.backlog.items():
            if k in skip_channels or var.fixed:
                continue
            var.setub(max(float(backlog.get((p, k, t), 0.0)), 0.0) * (1 + rel_tol))

    return extend
