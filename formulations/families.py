"""What a row family or a variable family *means*, declared once beside the rows it adds.

A row family is every row one block adds under one registered name ("capacity.hours"). Its
`RowFamily` declaration says what a planner, a report and an analysis need to know about any
of its rows: the index dimensions (and which one is the period), the unit of the right-hand
side, the business label, and — for the rows a planner can change — how it is relaxed
(`Limit`: the number behind the row, the direction, the sensible step, the diagnosis's weight
and phrase, the sweep parameter that moves one row alone) and how it reads when it holds back
a rush order (`Blocking`). Sensitivity, limits, diagnosis, rush texts, the sequential
baseline, the result workbook and the heuristic read these declarations through
`formulations.registry`; none keeps its own `if family == …` chain.

Texts are templates (`str.format`) filled by the consumer with the row's place and figures,
so the wording lives here and the number formatting (money, quantities) stays with the
consumer. Every template may use the index dimensions by name (`{resource}`, `{line}`,
`{item}`, `{product}`, `{channel}`), `{entity}` (the index without the period, " / "-joined),
`{where}` (" in <period>" or ""), `{currency}` and the family's `words(inst, data, key)`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # formulations depend on the instance only for types (no import cycle)
    from formulations.plan_data import PlanData
    from solver.io.instance import Instance

PERIOD = "t"  # the index dimension that is the period, in every family that has one


@dataclass(frozen=True)
class Place:
    """Where a row or column sits: its index split into entity and period (the one splitter)."""

    key: tuple  # the index as a tuple (() for a dimensionless row)
    entity: str  # the index without the period, " / "-joined ("A2", "P04 / key")
    period: str  # the period's label, or ""
    t: int | None  # the period's number 1..n, or None

    def fields(self, dims: Sequence[str]) -> dict[str, Any]:
        """Template fields of the place: each dimension by name, entity, period, where."""
        named = dict(zip(dims, self.key, strict=False))
        return {**named, "entity": self.entity, "period": self.period,
                "where": f" in {self.period}" if self.period else ""}


def place(dims: Sequence[str], index: Hashable, periods: Sequence[str]) -> Place:
    """The one index splitter: (entity, period) of a row or column index of a family with
    dimensions `dims` ("t" is the period). An index shorter than its dimensions (a family
    not declared: no dimensions) gives what it can."""
    if index is None:
        return Place((), "", "", None)
    key = index if isinstance(index, tuple) else (index,)
    entity = " / ".join(str(v) for v, d in zip(key, dims, strict=False) if d != PERIOD)
    t = None
    if PERIOD in dims and dims.index(PERIOD) < len(key):
        t = int(key[dims.index(PERIOD)])
    return Place(key, entity, periods[t - 1] if t else "", t)


@dataclass(frozen=True)
class Step:
    """The sensible step a limit's value is quoted for: `text` in words, `of_rhs(rhs)` its
    size in the row's unit."""

    text: str
    of_rhs: Callable[[float], float]


def share_of(fraction: float, default: float, text: str) -> Step:
    """A step of `fraction` of the right-hand side (`default` where it is 0)."""
    return Step(text, lambda rhs: fraction * abs(rhs) if rhs else default)


def one_day(default: float, text: str) -> Step:
    """A step of one day of a monthly number: 1/30 of it (`default` where it is 0)."""
    return Step(text, lambda rhs: abs(rhs) / 30 if rhs else default)


@dataclass(frozen=True)
class Limit:
    """A row family a planner can change, and how.

    `relax`: +1 when relaxing raises the number (a ceiling, a capacity), -1 when it lowers it
    (a minimum, a demand to serve). `number(inst, data, key)` is the number behind a row as
    the planner gave it (capacity column, ceiling, minimum, …); the row's right-hand side is
    `rhs_per_unit(data, key)` times it (capacity rows hold 1 − reserve of the hours).
    `parameter` is the `prodbudget sweep --param` name that moves one row alone (a template
    over the index and `{period}`), None where no number of the instance does (the credit
    line and the overtime allowance are one number for every period). `weight` is the
    diagnosis's default price per money-equivalent unit of relaxation (≤ 0: never relaxed),
    `keys` the names `diagnose --weight/--never` accept for the family. `only_where(data,
    key)` narrows the family to the rows that are limits (demand: must channels only).
    `opportunity`: relaxing it earns more (extra demand), ranked after the limits proper.
    `shared` (one number for every period: the credit line): a diagnosis adds its periods'
    relaxations up as one change of that number, worded by `relax_text`.
    """

    noun: str  # what one unit of the right-hand side is of: "+1 hour of {noun}"
    relax: int
    step: Step
    weight: float
    keys: tuple[str, ...]
    relax_text: str  # the diagnosis's phrase (see the module docstring for its fields)
    number: Callable[[Instance, PlanData, tuple], float]
    parameter: str | None = None
    rhs_per_unit: Callable[[PlanData, tuple], float] | None = None
    scaled_note: str = ""  # diagnosis: appended where rhs_per_unit != 1 ({rhs_amount}, {held:.0%})
    only_where: Callable[[PlanData, tuple], bool] | None = None
    opportunity: bool = False
    shared: bool = False

    def applies(self, data: PlanData, key: tuple) -> bool:
        return self.only_where is None or self.only_where(data, key)

    def per_unit(self, data: PlanData, key: tuple) -> float:
        return 1.0 if self.rhs_per_unit is None else self.rhs_per_unit(data, key)


@dataclass(frozen=True)
class Blocking:
    """How a row of the family reads when it holds a rush order back (solver/analysis/rush.py):
    `rank` orders the list (limits a planner acts on first), `text` is filled with the place,
    `{rhs}` and `{currency}`, `gain` names the unit of one more (`{currency}` allowed)."""

    rank: int
    text: str
    gain: str
    step: Step | None = None  # the step quoted; None: the family's limit step, else one unit


@dataclass(frozen=True)
class Switch:
    """The binary a link row switches its quantity on with (`x − M·y ≤ 0`): `variable` is its
    registered name ("production.y", same index as the row), `big_m(data)` the M of every index
    (formulations/setup/bigm.py). A robust plan widens these Ms across scenarios."""

    variable: str
    big_m: Callable[[PlanData], Mapping[tuple, float]]


@dataclass(frozen=True)
class RowFamily:
    """One registered row family (see the module docstring)."""

    name: str  # registered name, API: "capacity.hours"
    dims: tuple[str, ...]  # index dimensions in index order; "t" is the period
    unit: str  # of the right-hand side: "hour", "unit", "money" ("" where it has none)
    label: str  # business label in tables and texts: "capacity"
    limit: Limit | None = None  # None: a definition or balance that always holds
    blocking: Blocking | None = None
    role: str = ""  # "link": switches a lot or order on (big-M); "lot": its minimum (heuristics)
    switch: Switch | None = None  # a link row's binary and big-M
    words: Callable[[Instance, PlanData, tuple], dict[str, str]] | None = field(default=None, repr=False)

    def place(self, index: Hashable, periods: Sequence[str]) -> Place:
        return place(self.dims, index, periods)

    @property
    def is_business_limit(self) -> bool:
        """A limit proper: what a planner changes to get a better or a feasible plan
        (capacity, budgets, cash, targets); not extra demand, not a definition."""
        return self.limit is not None and not self.limit.opportunity

    def text_fields(self, inst: Instance, data: PlanData | None, where: Place) -> dict[str, Any]:
        out = where.fields(self.dims)
        out["currency"] = inst.currency
        if self.words is not None and data is not None:
            out.update(self.words(inst, data, where.key))
        return out


@dataclass(frozen=True)
class VarFamily:
    """One registered variable family: name, index dimensions, business label, and for a
    decision of the plan the result table and column `solve --out` writes its values to (one
    row per index, keyed by columns named like the dimensions), where a re-plan's baseline
    (solver/io/baseline.py) reads them back."""

    name: str  # "production.x"
    dims: tuple[str, ...]
    label: str  # "production"
    table: str = ""  # "production" ("": not in the result tables)
    column: str = ""  # "quantity"

    def place(self, index: Hashable, periods: Sequence[str]) -> Place:
        return place(self.dims, index, periods)


def undeclared_row(name: str) -> RowFamily:
    """A row family nobody declared (a Pyomo constraint of an outside extension): named by
    itself, no dimensions, no unit."""
    return RowFamily(name, (), "", name)


def undeclared_var(name: str) -> VarFamily:
    return VarFamily(name, (), name)
