"""What the blocks read: the sparse index sets and parameters of one instance (`PlanData`),
prepared by formulations/data.py (docs/model.md §1–§3), with the big-M values of
formulations/setup/bigm.py."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

INF = math.inf


@dataclass(frozen=True)
class UnboundedOrder:
    """An order link without a finite big-M. That happens only when the plan itself is
    unbounded: terminal_value > 1 makes a unit of `item` ordered in `t` worth more at the end
    than its price and holding, and no stock limit, budget ceiling or in-horizon payment caps
    the order (lots are always bounded: a made item's cut pays unless it has a unit_cost,
    and then the cash bound holds). `fixes` names the bounds the data lack."""

    item: str
    t: int
    fixes: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    resource: str
    hours_per_unit: float
    setup_hours: float
    setup_cost: float


@dataclass
class PlanData:
    n: int
    periods: tuple[str, ...]
    # items
    kind: dict[str, str]
    made: list[str]
    materials: list[str]
    lead: dict[str, int]
    unit_cost: dict[str, float]
    holding_cost: dict[str, float]
    initial_stock: dict[str, float]
    safety_penalty: dict[str, float]  # only items with a penalty (soft targets)
    min_lot: dict[str, float]
    moq: dict[str, float]
    order_cost: dict[str, float]
    pay_terms: dict[str, str]  # material -> payment terms id
    material_line: dict[str, str]
    # routings and production
    routings: list[tuple[str, str]]
    steps: dict[tuple[str, str], list[Step]]
    routing_line: dict[tuple[str, str], str]
    x_index: list[tuple[str, str, int]]
    y_index: list[tuple[str, str, int]]
    x_bound: dict[tuple[str, str, int], float]  # big-M of each setup link (formulations/setup/bigm.py), may be inf
    # procurement
    q_index: list[tuple[str, int]]
    z_index: list[tuple[str, int]]
    q_bound: dict[tuple[str, int], float]  # big-M of each order link, may be inf
    # BOM: child -> [(parent, qty)]
    parents_of: dict[str, list[tuple[str, float]]]
    # resources
    resources: list[str]
    capacity: dict[tuple[str, int], float]
    reserve: dict[str, float]
    overtime_max: dict[str, float]
    overtime_cost: dict[str, float]
    fixed_cost: dict[str, float]
    resource_line: dict[str, str]
    # stock targets and open orders
    target_min: dict[tuple[str, int], float]
    target_max: dict[tuple[str, int], float]
    open_orders: dict[tuple[str, int], float]
    # sales
    demand: dict[tuple[str, str, int], float]
    price: dict[tuple[str, str, int], float]  # also carried forward for backlog shipments
    service: dict[str, str]
    collect_terms: dict[str, str]
    backlog_cost: dict[str, float]
    lost_cost: dict[str, float]
    ship_index: list[tuple[str, str, int]]
    backlog_index: list[tuple[str, str, int]]
    lost_index: list[tuple[str, str, int]]
    # terms, cash and budget
    terms: dict[str, list[tuple[int, float]]]
    cash_min: dict[int, float]
    overhead: dict[int, float]
    lines: list[str]
    line_ceiling: dict[str, float]
    carryover: dict[str, bool]
    period_ceiling: dict[tuple[str, int], float]
    extras: dict = field(default_factory=dict)
    unbounded: list[UnboundedOrder] = field(default_factory=list)  # order links without a finite big-M

    @property
    def T(self) -> range:
        return range(1, self.n + 1)
