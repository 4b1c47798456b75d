"""When no plan exists: the cheapest set of relaxations that makes it feasible, in business terms.

Two answers, both in the words the row families declare (`formulations.registry`):

* **Elastic re-solve** (always). Every row of a relaxable *limit* family gets a slack column
  that moves its right-hand side in the direction that helps (a ceiling up, a minimum down,
  must-serve demand down), priced at `weight[family] × value of one unit of the row`; the
  model keeps its integers (setups, orders), so minimum lots and MOQs still hold. Minimising
  the priced slack gives the cheapest relaxation: "raise the procurement budget in 2027-03 by
  ¥120,000". This is HiGHS's `feasibilityRelaxation` written out by hand, because HiGHS
  relaxes an equality row both ways (it would also suggest *shipping more* to a must channel)
  and we want the direction and the per-row unit prices under our control.
  Rows that are definitions, not limits — stock and cash balances, budget commitment,
  setup/order links, minimum lots, MOQs, backlog ends — are never relaxed.

* **Irreducible infeasible subset** (when the LP relaxation is already infeasible): HiGHS
  `getIis()` with the irreducible strategy, in a child process beside the elastic solve
  (`solver.engine.bound_worker.BackgroundIis`: getIis honours no time limit and cannot be
  interrupted safely). Only its *business limits* are listed, named like the limits above:
  rows of a family a planner can change (a declared `Limit`; demand only where the channel
  must be served). Balances and definitions (stock, cash, budget commitment, setup links) and
  variable bounds (quantities ≥ 0, binaries in [0, 1]; every business limit of this model —
  capacity, overtime limit, credit line, budgets, targets — is a row) hold by construction:
  they are counted, not listed.

The plan is solved by `solver.engine.pipeline.solve`, the same pipeline as `prodbudget solve` (build
route, strategy, polish), so both commands report the same plan, profit and diagnosis for the
same data and options. The whole call honours `options.time_limit` (or a `deadline`): what the
limit cut short is named in `Diagnosis.unfinished`. `progress` receives `Progress` events as
the work moves (solver/engine/progress.py; the CLI shows them; this module never prints).

Weights (`DEFAULT_WEIGHTS`: each family's declared `Limit.weight`, adjustable) multiply the money value of one unit of
the row, so that relaxations in hours, units and currency compare in money:

* money rows (budgets, pool, emergency pool, minimum cash, credit line): 1 per currency unit;
* an hour of resource r: max(overtime_cost_r, value / hours_per_unit of any item routed on r);
* a unit of item i (stock targets, demand): max(unit_cost_i, highest price of i), or 1 when
  both are 0.

Default family weights: 1, except demand 2 (serving less loses the sale and the customer),
overtime limit 0.9 (beyond-limit overtime before new capacity) and credit limit 0.9 (a cash
hole is what a credit line fills). A weight ≤ 0 or `never` marks a family as not relaxable.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from formulations.families import Place, RowFamily
from formulations.registry import limit_keys, limits, row_family
from solver.engine.options import SolveOptions
from solver.engine.progress import ProgressCallback, Reporter, relative_gap
from solver.io.instance import Instance
from solver.money import money

# business label -> default weight per money-equivalent unit (declared with each family)
DEFAULT_WEIGHTS: dict[str, float] = {f.label: f.limit.weight for f in limits()}
# short names accepted on the command line (`--weight demand=5 --never credit`)
FAMILY_KEYS: dict[str, str] = limit_keys()
_TOL = 1e-6


class DiagnosisError(ValueError):
    """A weight or family name the diagnosis does not know."""


def family_of(name: str) -> str:
    """The family's business label for a CLI key or label ("min-cash", "minimum cash")."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key in FAMILY_KEYS:
        return FAMILY_KEYS[key]
    raise DiagnosisError(
        f"unknown family {name!r}; expected one of {', '.join(sorted(set(FAMILY_KEYS)))}"
    )


@dataclass(frozen=True)
class Relaxation:
    """One limit to relax: which, where, by how much (rounded up), and what it becomes."""

    family: str
    entity: str
    period: str
    amount: float  # in `unit`, rounded up so that applying it is enough
    unit: str  # "hour", "unit" or the currency
    current: float  # the limit as the user gave it (capacity column, ceiling, minimum, …)
    proposed: float  # the limit after the relaxation, same terms
    cost: float  # weighted penalty of this relaxation
    text: str
    rows: tuple[str, ...] = ()  # the model rows relaxed (for reference)


@dataclass(frozen=True)
class IisMember:
    kind: str  # "row" or "bound"
    family: str
    entity: str
    period: str
    name: str  # model row or column name
    bound: str  # "lower", "upper", "both", "equality"
    text: str


@dataclass
class Diagnosis:
    feasible: bool | None  # True: a plan exists; None: not infeasible but no plan (unbounded/error)
    message: str
    relaxations: list[Relaxation] = field(default_factory=list)
    lp_infeasible: bool = False
    iis: list[IisMember] = field(default_factory=list)  # its business limits only
    iis_left_out: int = 0  # members of the IIS that are balances, definitions or variable bounds
    relaxable: bool = True  # False: no relaxation of the allowed families suffices
    relaxation_proven: bool = True  # False: the relaxation shown is not proven the cheapest
    weights: dict[str, float] = field(default_factory=dict)
    never: tuple[str, ...] = ()
    currency: str = "CNY"
    status: str = ""  # of the plan's solve (solver.engine.status.Status)
    objective: float = math.nan  # the plan's profit when one exists, as `prodbudget solve` reports it
    unfinished: list[str] = field(default_factory=list)  # what the time limit cut short

    @property
    def total_cost(self) -> float:
        return float(sum(r.cost for r in self.relaxations))

    def table(self) -> pd.DataFrame:
        cols = ["family", "entity", "period", "amount", "unit", "current", "proposed", "cost", "text"]
        return pd.DataFrame([[getattr(r, c) for c in cols] for r in self.relaxations], columns=cols)

    def iis_table(self) -> pd.DataFrame:
        cols = ["kind", "family", "entity", "period", "name", "bound", "text"]
        return pd.DataFrame([[getattr(m, c) for c in cols] for m in self.iis], columns=cols)

    def lines(self) -> list[str]:
        """The diagnosis as plain sentences (the CLI renders these)."""
        if self.feasible:
            return [f"a plan exists: nothing needs relaxing (profit {money(self.objective, self.currency)}, "
                    f"{self.status})"]
        if self.feasible is None:
            return [f"no diagnosis: {self.message}"] + self._unfinished_lines()
        out = []
        if self.relaxations:
            out.append("No plan satisfies every limit. The cheapest way to make it feasible:" if self.relaxation_proven
                       else "No plan satisfies every limit. A way to make it feasible (not proven the cheapest: "
                            f"{self.message}):")
            out += [f"  • {r.text}" for r in self.relaxations]
        elif not self.relaxable:
            never = f" (never relaxed: {', '.join(self.never)})" if self.never else ""
            out.append("No plan satisfies every limit, and relaxing the allowed limits does not help" + never + ".")
        else:
            out.append(f"No plan satisfies every limit; {self.message}")
        if self.iis:
            out.append("Already the LP (setups and orders fractional) is infeasible; these limits conflict "
                       "(irreducible: without any one of them the rest can be met):")
            out += [f"  – {m.text}" for m in self.iis]
            if self.iis_left_out:
                out.append(f"    (with {self.iis_left_out} stock, cash or budget balances, definitions and "
                           "non-negative quantities, which always hold)")
        elif self.lp_infeasible and self.iis_left_out:
            out.append("Already the LP (setups and orders fractional) is infeasible, from the model's balances and "
                       "definitions alone: no limit a planner can change takes part (check the data: opening "
                       "stock, open orders, fixed commitments)")
        return out + self._unfinished_lines()

    def _unfinished_lines(self) -> list[str]:
        if not self.unfinished:
            return []
        return ["Not finished within the time limit (a longer --time-limit lets it finish):"] + [
            f"  – {u}" for u in self.unfinished]

    def to_dict(self) -> dict:
        return {
            "feasible": self.feasible,
            "status": self.status,
            "message": self.message,
            "objective": self.objective,
            "relaxable": self.relaxable,
            "relaxation_proven": self.relaxation_proven,
            "lp_infeasible": self.lp_infeasible,
            "relaxations": self.table().to_dict(orient="records"),
            "iis": self.iis_table().to_dict(orient="records"),
            "iis_left_out": self.iis_left_out,
            "unfinished": list(self.unfinished),
            "weights": self.weights,
            "never": list(self.never),
            "total_cost": self.total_cost,
        }


# --------------------------------------------------------------------------- entry point

def diagnose(inst: Instance, options: SolveOptions | None = None,
             weights: Mapping[str, float] | None = None, never: Iterable[str] = (),
             result=None, progress: ProgressCallback | None = None, deadline: float | None = None) -> Diagnosis:
    """Solve (or reuse `result`, a `solver.engine.pipeline.solve` Result), and when no plan exists,
    find the cheapest relaxation and the conflicting limits.

    `weights` and `never` take family names or CLI keys (see `FAMILY_KEYS`). Everything ends
    by `deadline` (a `time.perf_counter()` value; default: now + options.time_limit, the solve
    included); `progress` hears what is being done (`Progress` events).
    """
    from solver.engine.pipeline import solve
    from solver.engine.status import Status

    options = options or SolveOptions()
    deadline = time.perf_counter() + options.time_limit if deadline is None else deadline
    note = Reporter(progress)
    w, never_f = _weights(weights, never)

    if result is None:
        note("solving the plan", f"time limit {options.time_limit:g} s")
        result = solve(inst, replace(options, time_limit=max(deadline - time.perf_counter(), 1.0)),
                       progress=note.part("solving the plan"))
    diag = Diagnosis(feasible=False, message=result.message, weights=w, never=never_f, currency=inst.currency,
                     status=str(result.status))
    if result.status.has_plan:
        diag.feasible = True
        diag.objective = float(result.objective)
        return diag
    if result.status != Status.INFEASIBLE or result.standard_form is None:
        diag.feasible = None
        if result.status == Status.ERROR and "time limit" in result.message.lower():
            diag.unfinished.append("the solve itself: it found neither a plan nor a proof that none exists")
        return diag

    sf, d = result.standard_form, result.built.data
    conflict = _start_iis(sf, deadline)  # in a child, beside the elastic solve
    try:
        _elastic(inst, d, sf, options, w, diag, deadline, note)
        note("finding the conflicting limits", "")
        _iis(inst, d, sf, conflict, diag, deadline)
    finally:
        conflict.kill()
    return diag


def _weights(weights: Mapping[str, float] | None, never: Iterable[str]) -> tuple[dict[str, float], tuple[str, ...]]:
    """Family weights from the defaults, `weights` and `never` (CLI keys or family names)."""
    w = dict(DEFAULT_WEIGHTS)
    for k, v in (weights or {}).items():
        fam = family_of(k)
        v = float(v)
        if not math.isfinite(v) and v > 0:
            w[fam] = 0.0  # an infinite price: never
        elif math.isnan(v):
            raise DiagnosisError(f"weight of {k!r} is not a number")
        else:
            w[fam] = v
    never_f = tuple(sorted({family_of(k) for k in never}))
    for fam in never_f:
        w[fam] = 0.0
    return w, never_f


# --------------------------------------------------------------------------- names

def _row_parts(con, periods: tuple[str, ...]) -> tuple[RowFamily, Place]:
    """The family of a model row and where the row sits."""
    fam = row_family(con)
    return fam, fam.place(con.index(), periods)


def _unit_of(fam: RowFamily, currency: str) -> str:
    return currency if fam.unit == "money" else fam.unit


def _qty(x: float, unit: str, currency: str) -> str:
    if unit == currency:
        return money(x, currency)
    word = {"hour": "hours", "unit": "units"}.get(unit, unit)
    if x == 1 and unit in ("hour", "unit"):
        word = unit
    return f"{_num(x)} {word}"


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "∞" if x > 0 else ("−∞" if x < 0 else "nan")
    if abs(x - round(x)) < 1e-9:
        return f"{round(x):,}"
    return f"{x:,.6g}"


def round_up(x: float, unit: str, currency: str) -> float:
    """A relaxation amount rounded up (money to whole currency units, else 4 significant
    digits), tolerant of solver noise (5.0000000001 stays 5)."""
    if x <= 0:
        return 0.0
    step = 1.0 if unit == currency and x >= 1 else 10.0 ** (math.floor(math.log10(x)) - 3)
    k = math.ceil(x / step - 1e-6)
    return float(round(k * step, 12))


# --------------------------------------------------------------------------- money value of a row unit

def _item_value(d, item: str) -> float:
    prices = [p for (i, _k, _t), p in d.price.items() if i == item]
    v = max([d.unit_cost.get(item, 0.0)] + prices)
    return v if v > 0 else 1.0


def _hour_value(d, resource: str) -> float:
    best = d.overtime_cost.get(resource, 0.0)
    for (item, _routing), steps in d.steps.items():
        for s in steps:
            if s.resource == resource and s.hours_per_unit > 0:
                best = max(best, _item_value(d, item) / s.hours_per_unit)
    return best if best > 0 else 1.0


def _unit_value(d, fam: RowFamily, idx: tuple, cache: dict) -> float:
    if fam.unit == "money":
        return 1.0
    key = (fam.name, idx[0] if idx else None)
    if key not in cache:
        if fam.unit == "hour":
            cache[key] = _hour_value(d, idx[0])
        else:
            cache[key] = _item_value(d, idx[0])
    return cache[key]


# --------------------------------------------------------------------------- elastic model

def _relaxable_rows(d, sf, weights: Mapping[str, float]):
    """(row, direction coefficient of its slack, weight per unit) of every relaxable row."""
    out = []
    cache: dict = {}
    A_rows = None
    for i, (con, kind) in enumerate(sf.rows):
        fam = row_family(con)
        wf = weights.get(fam.label, 0.0) if fam.limit is not None else 0.0
        if wf <= 0:
            continue
        idx = con.index()
        idx = () if idx is None else (idx if isinstance(idx, tuple) else (idx,))
        if not fam.limit.applies(d, idx):
            continue
        # relaxing raises the number (a x - s <= u) or lowers it (a x + s >= l, a x + s = d)
        coef = -float(fam.limit.relax)
        if kind == 0:  # an equality (must-serve demand: ship = d) moves only through its one column
            if A_rows is None:
                A_rows = sp.csr_array(sf.A)
            vals = A_rows.data[A_rows.indptr[i]:A_rows.indptr[i + 1]]
            if len(vals) != 1:
                continue
            coef *= 1.0 if vals[0] > 0 else -1.0
        out.append((i, coef, wf * _unit_value(d, fam, idx, cache)))
    return out


def _elastic(inst: Instance, d, sf, options: SolveOptions, weights: Mapping[str, float], diag: Diagnosis,
             deadline: float, note: Reporter) -> None:
    from solver.engine.highs import new_highs, run

    rel = _relaxable_rows(d, sf, weights)
    if not rel:
        diag.relaxable = False
        return
    rows = np.array([r for r, _, _ in rel], dtype=np.int64)
    coefs = np.array([c for _, c, _ in rel], dtype=float)
    costs = np.array([w for _, _, w in rel], dtype=float)
    k = len(rel)
    S = sp.csc_array((coefs, (rows, np.arange(k))), shape=(sf.num_rows, k))
    A = sp.hstack([sp.csc_array(sf.A), S], format="csc")
    A.sort_indices()
    elastic = dataclasses.replace(  # the model plus one penalised slack column per relaxable row
        sf, A=A, maximize=False, offset=0.0,
        cost=np.concatenate([np.zeros(sf.num_cols), costs]),
        col_lower=np.concatenate([sf.col_lower, np.zeros(k)]),
        col_upper=np.concatenate([sf.col_upper, np.full(k, highspy.kHighsInf)]),
        is_integer=np.concatenate([sf.is_integer, np.zeros(k, dtype=bool)]),
    )
    limit = max(deadline - time.perf_counter(), 0.5)
    h = new_highs(replace(options, time_limit=limit))
    h.passModel(elastic.to_lp())
    search = _SearchProgress(note, diag.currency, limit)
    h.cbMipInterrupt.subscribe(search.seen)
    note("searching the cheapest relaxation", f"{k:,} limits may move; up to {limit:.0f} s")
    run(h, poll=search.show)
    ms = h.getModelStatus()
    info = h.getInfo()
    stopped = ms != highspy.HighsModelStatus.kOptimal
    if info.primal_solution_status != highspy.kSolutionStatusFeasible:
        if ms == highspy.HighsModelStatus.kInfeasible:
            diag.relaxable = False
        else:
            diag.message = f"the relaxation search stopped ({h.modelStatusToString(ms)}) before finding one"
            if ms == highspy.HighsModelStatus.kTimeLimit:
                diag.unfinished.append("the search for a relaxation: none found before the time limit")
        return
    if stopped:
        diag.relaxation_proven = False
        if ms == highspy.HighsModelStatus.kTimeLimit:
            less = (f"; the cheapest may cost up to {info.mip_gap:.1%} less"
                    if elastic.num_integers and 0 < info.mip_gap < 1 else "")
            diag.message = f"the time limit stopped the search{less}"
            diag.unfinished.append(f"the proof that the relaxation shown is the cheapest{less}")
        else:
            diag.message = f"the search stopped ({h.modelStatusToString(ms)})"
    slack = np.array(h.getSolution().col_value, dtype=float)[sf.num_cols:]
    diag.relaxations = _translate(inst, d, sf, rows, slack, costs)


class _SearchProgress:
    """Progress of the elastic MIP: the priced relaxation found so far and HiGHS's lower bound
    (read in its interrupt callback, reported from the waiting thread at most every 2 s)."""

    def __init__(self, note: Reporter, currency: str, limit: float):
        self.note, self.currency, self.limit = note, currency, limit
        self.best = self.bound = math.nan
        self.started = self.shown = time.perf_counter()

    def seen(self, e) -> None:  # HiGHS's thread: store two floats, nothing that can raise
        self.best = e.data_out.mip_primal_bound
        self.bound = e.data_out.mip_dual_bound

    def show(self) -> None:
        now = time.perf_counter()
        if now - self.shown < 2.0:
            return
        self.shown = now
        best = self.best if abs(self.best) < 1e20 else math.nan
        bound = self.bound if abs(self.bound) < 1e20 else math.nan
        self.note("searching the cheapest relaxation", f"{now - self.started:.0f} s of {self.limit:.0f} s",
                  incumbent=best, bound=bound, gap=relative_gap(best, bound), objective="relaxation cost",
                  maximize=False)


def _translate(inst: Instance, d, sf, rows: np.ndarray, slack: np.ndarray, costs: np.ndarray) -> list[Relaxation]:
    out: list[Relaxation] = []
    shared: dict[str, list[tuple[int, float, float, str, Place]]] = {}  # one number for every period
    for r, s, w in zip(rows, slack, costs, strict=True):
        con, kind = sf.rows[r]
        scale = max(1.0, abs(sf.row_upper[r] if kind == 1 else sf.row_lower[r]))
        if s <= _TOL * scale:
            continue
        fam, where = _row_parts(con, inst.periods)
        if fam.limit.shared:
            shared.setdefault(fam.name, []).append((where.t, s, w * s, con.name, where))
            continue
        out.append(_relaxation(inst, d, fam, where, s, w * s, con.name))
    for name, moves in shared.items():
        out.append(_shared_relaxation(inst, d, row_family(name), sorted(moves, key=lambda m: m[:4])))
    out.sort(key=lambda r: (-r.cost, r.family, r.entity, r.period))
    return out


def _figure(x: float, unit: str, currency: str) -> str:
    return money(x, currency) if unit == currency else _num(x)


def _relaxation(inst, d, fam: RowFamily, where: Place, s: float, cost: float, name: str) -> Relaxation:
    """One row relaxed by `s` (its right-hand side's units), worded by the family's declaration:
    the amount in the number the planner gave (a capacity row holds 1 − reserve of it)."""
    cur = inst.currency
    lim = fam.limit
    unit = _unit_of(fam, cur)
    keep = lim.per_unit(d, where.key)
    amount = round_up(s / keep if keep > 0 else s, unit, cur)
    current = lim.number(inst, d, where.key)
    proposed = current + lim.relax * amount
    shown = max(proposed, 0.0) if lim.relax < 0 and unit != cur else proposed  # no stock or demand below 0
    note = ""
    if keep != 1.0 and lim.scaled_note:
        note = lim.scaled_note.format(rhs_amount=_num(round_up(s, unit, cur)), held=1.0 - keep)
    text = lim.relax_text.format(**fam.text_fields(inst, d, where), amount=_qty(amount, unit, cur),
                                 number=_num(amount), current=_figure(current, unit, cur),
                                 proposed=_figure(shown, unit, cur), note=note)
    return Relaxation(fam.label, where.entity, where.period, amount, unit, current, proposed, cost, text, (name,))


def _shared_relaxation(inst, d, fam: RowFamily, moves: list) -> Relaxation:
    """The rows of a number shared by every period (the credit line) relaxed as one change of
    that number: the largest of their shortfalls, needed in each of their periods."""
    cur = inst.currency
    lim = fam.limit
    unit = _unit_of(fam, cur)
    amount = round_up(max(s for _t, s, *_ in moves), unit, cur)
    current = lim.number(inst, d, moves[0][4].key)
    proposed = current + lim.relax * amount
    when = ", ".join(where.period for *_, where in moves)
    text = lim.relax_text.format(**fam.text_fields(inst, d, Place((), "", "", None)), amount=_qty(amount, unit, cur),
                                 current=_figure(current, unit, cur), proposed=_figure(proposed, unit, cur), when=when)
    return Relaxation(fam.label, "", "", amount, unit, current, proposed, float(sum(c for _t, _s, c, *_ in moves)),
                      text, tuple(n for *_, n, _w in moves))


# --------------------------------------------------------------------------- IIS

def _where(entity: str, period: str) -> str:
    return (f" of {entity}" if entity else "") + (f" in {period}" if period else "")


_BOUND_IN_CONFLICT = {2, 3, 4}  # HiGHS IIS bound status: lower, upper, boxed (1 free, 0/-1 not in it)


def _start_iis(sf, deadline: float):
    """The LP relaxation's IIS, started in a child process (see `_iis`)."""
    from solver.engine.bound_worker import BackgroundIis, BoundJob

    A = sf.A.tocsc()
    return BackgroundIis(BoundJob(
        cost=sf.cost, col_lower=sf.col_lower, col_upper=sf.col_upper, row_lower=sf.row_lower,
        row_upper=sf.row_upper, indptr=A.indptr.astype(np.int32), indices=A.indices.astype(np.int32),
        data=A.data.astype(float), is_integer=np.zeros(sf.num_cols, dtype=bool), maximize=sf.maximize,
        offset=sf.offset, options={"threads": 1},
    ), until=deadline)


def _is_business_limit(d, fam: RowFamily, idx: tuple) -> bool:
    """A row a planner can change: capacity, overtime limit, budgets, pools, minimum cash,
    credit line, stock targets, and demand of a channel that must be served."""
    return fam.limit is not None and fam.limit.applies(d, idx)


def _iis(inst: Instance, d, sf, conflict, diag: Diagnosis, deadline: float) -> None:
    """When the LP relaxation is infeasible: the business limits of HiGHS's irreducible
    infeasible subset, named (balances, definitions and bounds are counted)."""
    lp_infeasible = conflict.lp_infeasible(deadline)
    if lp_infeasible is None:
        diag.unfinished.append("the conflicting limits: the LP relaxation was not solved before the time limit")
        return
    if not lp_infeasible:
        return
    diag.lp_infeasible = True
    report = conflict.iis(deadline)
    if report is None:
        diag.unfinished.append("the conflicting limits (HiGHS's irreducible infeasible subset)")
        return
    if "error" in report:
        return  # an IIS is a bonus; the elastic answer stands alone
    cur, periods = inst.currency, inst.periods
    members = []
    for r in report["rows"]:
        con, kind = sf.rows[r]
        fam, where = _row_parts(con, periods)
        if not _is_business_limit(d, fam, where.key):
            diag.iis_left_out += 1
            continue
        unit = _unit_of(fam, cur)
        if kind == 0:
            sense, rhs, bound = "=", sf.row_lower[r], "equality"
        elif kind == 1:
            sense, rhs, bound = "≤", sf.row_upper[r], "upper"
        else:
            sense, rhs, bound = "≥", sf.row_lower[r], "lower"
        rhs_text = _qty(rhs, unit, cur) if unit else _num(rhs)
        members.append(IisMember("row", fam.label, where.entity, where.period, con.name, bound,
                                 f"{fam.label}{_where(where.entity, where.period)} ({sense} {rhs_text})"))
    diag.iis_left_out += sum(1 for b in report["col_bounds"] if int(b) in _BOUND_IN_CONFLICT)
    diag.iis = members
