"""Builds the whole model: blocks register terms, then the balances and the objective.

Block order matters only in that a balance is built after every block feeding it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression

from formulations.areas.budget import add_budget
from formulations.areas.capacity import add_capacity
from formulations.areas.cash import add_cash
from formulations.areas.inventory import add_inventory
from formulations.areas.procurement import add_procurement
from formulations.areas.production import add_production
from formulations.areas.sales import add_sales
from formulations.context import PNL_SIGN, Context
from formulations.data import prepare
from formulations.plan_data import PlanData
from formulations.setup.bigm import UnboundedOrderError

if TYPE_CHECKING:  # formulations depend on the instance only for types (no import cycle)
    from solver.io.instance import Instance


@dataclass
class BuiltModel:
    model: pyo.ConcreteModel
    ctx: Context

    @property
    def data(self) -> PlanData:
        return self.ctx.data


Extension = Callable[[Context], None]


def build_model(inst: Instance, extensions: Sequence[Extension] = (), materialize: bool = True) -> BuiltModel:
    """The docs/model.md model; `extensions` (re-plans, rush orders, …) add their own blocks after
    the decision blocks exist and before the balances are closed, so they may register flows,
    fix variables, add rows or Pyomo constraints, or objective-only penalties (`ctx.penalty`).

    The blocks declare their rows in `ctx.rows`; with `materialize` (the default, for any
    Pyomo-driven use of the model) they also become `pyo.Constraint` components and the profit
    a `pyo.Objective`. `solver.engine.pipeline.solve` skips that: `solver.engine.highs.compile_model`
    compiles the rows straight to arrays, several times faster on large plans.

    Python's cyclic garbage collector is paused while the model is built: it would otherwise
    walk the hundreds of thousands of new Pyomo objects again and again (a third of the build
    time of a 100k-row plan); nothing built here is garbage.
    """
    with PauseGC():
        return _build(inst, extensions, materialize)


def _build(inst: Instance, extensions: Sequence[Extension], materialize: bool) -> BuiltModel:
    data = prepare(inst)
    if data.unbounded:  # a link without a finite big-M: refuse before building anything
        raise UnboundedOrderError(data.unbounded, inst.policy.terminal_value, inst.periods)
    model = pyo.ConcreteModel(name=inst.name)
    ctx = Context(inst=inst, data=data, model=model)
    add_sales(ctx)
    add_production(ctx)
    add_procurement(ctx)
    for extend in extensions:
        extend(ctx)
    add_capacity(ctx)  # after production: reads the registered hours
    add_inventory(ctx)  # after every stock flow is registered
    add_cash(ctx)  # after every payment and receipt
    add_budget(ctx)  # after every spend
    ctx.rows.close()  # the rows extensions added after the model's own (formulations/rows.py)
    model._prodbudget_ctx = ctx  # lets compile_model(model) find the row registry
    model._prodbudget_materialized = materialize
    if materialize:
        ctx.rows.materialize(model)
        model.profit = pyo.Objective(expr=profit_expression(ctx), sense=pyo.maximize)
    return BuiltModel(model=model, ctx=ctx)


def objective_terms(ctx: Context) -> tuple[float, list[float], list]:
    """Profit (docs/model.md §5) minus objective-only penalties as (constant, coefs, vars)."""
    coefs: list[float] = []
    vars_: list = []
    constant = 0.0
    signed = [(ctx.pnl, key, PNL_SIGN[key[0]]) for key in sorted(ctx.pnl.keys(), key=lambda k: (k[0], k[1]))]
    signed += [(ctx.penalty, key, -1) for key in sorted(ctx.penalty.keys(), key=str)]
    for terms, key, sign in signed:
        const, key_coefs, key_vars = terms.raw(key)
        constant += sign * const
        coefs.extend([sign * c for c in key_coefs])
        vars_.extend(key_vars)
    return constant, coefs, vars_


def profit_expression(ctx: Context) -> LinearExpression:
    """docs/model.md §5: Σ sign·component over every registered P&L term (penalties subtracted)."""
    constant, coefs, vars_ = objective_terms(ctx)
    return LinearExpression(constant=constant, linear_coefs=coefs, linear_vars=vars_)
