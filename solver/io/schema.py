"""The instance format as data: one spec per input table and per `instance.toml` key.

These specs drive loading (dtypes, defaults), validation (required, ranges, references),
the README's format section and the Excel template, so the format is written down once
(docs/model.md §2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Dtype = Literal["str", "float", "int", "bool"]


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    dtype: Dtype
    description: str
    required: bool = False
    default: object = None  # value used for a blank cell (None = no default: blank is an error)
    unit: str = ""
    min: float | None = None  # inclusive lower bound for numbers
    max: float | None = None  # inclusive upper bound
    allow_inf: bool = False  # `inf` is a valid value
    choices: tuple[str, ...] = ()  # allowed values for a categorical column
    ref: str | None = None  # "table.column" whose values this column must name
    blank_means: str = ""  # how a blank cell is read when there is no plain default


@dataclass(frozen=True)
class TableSpec:
    name: str  # file stem: items -> items.csv, sheet "items"
    description: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()  # columns that must be unique together
    required: bool = False  # the file must exist
    additive_key: bool = False  # repeated keys add up instead of being errors
    # extra per-kind rules live in validation.py; the specs carry what is uniform

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


INF = math.inf
KINDS = ("product", "component", "material")
SERVICES = ("must", "backlog", "lost")

_cost = dict(dtype="float", default=0.0, min=0.0)

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "items",
        "Every item: products (sold), components (made and consumed), materials (bought).",
        (
            ColumnSpec("item", "str", "item identifier (any Unicode)", required=True),
            ColumnSpec("kind", "str", "product, component or material", required=True, choices=KINDS),
            ColumnSpec("unit_cost", "float", "materials: purchase price per unit; made items: variable production cost per unit", default=0.0, min=0.0, unit="currency/unit"),
            ColumnSpec("holding_cost", "float", "cost per unit of closing stock per period", default=0.0, min=0.0, unit="currency/unit/period"),
            ColumnSpec("initial_stock", "float", "stock at the start of period 1", default=0.0, min=0.0, unit="units"),
            ColumnSpec("safety_stock", "float", "minimum closing stock each period (stock_targets.csv overrides)", default=0.0, min=0.0, unit="units"),
            ColumnSpec("safety_penalty", "float", "cost per unit short of the safety stock per period", default=None, min=0.0, unit="currency/unit/period", blank_means="safety stock is a hard constraint"),
            ColumnSpec("lead_time", "int", "periods: materials order to arrival; made items start to available", default=0, min=0, unit="periods"),
            ColumnSpec("min_lot", "float", "made items: units per routing and period if produced at all", default=0.0, min=0.0, unit="units"),
            ColumnSpec("moq", "float", "materials: minimum order quantity if ordered at all", default=0.0, min=0.0, unit="units"),
            ColumnSpec("order_cost", "float", "materials: fixed cost per order placed", default=0.0, min=0.0, unit="currency/order"),
            ColumnSpec("terms", "str", "materials: payment terms id (terms.csv or the built-in `cash`)", default="cash", ref="terms.terms"),
            ColumnSpec("budget_line", "str", "materials: budget line charged at order", default="procurement"),
            ColumnSpec("max_stock", "float", "closing stock limit per period (stock_targets.csv overrides)", default=INF, min=0.0, allow_inf=True, unit="units"),
        ),
        key=("item",),
        required=True,
    ),
    TableSpec(
        "demand",
        "Sales plan: demand per product, channel and period (one scenario solved at a time).",
        (
            ColumnSpec("product", "str", "a product of items.csv", required=True, ref="items.item"),
            ColumnSpec("channel", "str", "sales channel (channels.csv, or defaults)", required=True),
            ColumnSpec("period", "str", "a period label of instance.toml", required=True, ref="periods"),
            ColumnSpec("quantity", "float", "units demanded", required=True, min=0.0, unit="units"),
            ColumnSpec("price", "float", "price per unit", default=0.0, min=0.0, unit="currency/unit"),
            ColumnSpec("scenario", "str", "demand scenario", default="base"),
        ),
        key=("product", "channel", "period", "scenario"),
        required=True,
    ),
    TableSpec(
        "channels",
        "Sales channels: collection terms and service mode.",
        (
            ColumnSpec("channel", "str", "channel identifier", required=True),
            ColumnSpec("terms", "str", "collection terms id", default="cash", ref="terms.terms"),
            ColumnSpec("service", "str", "must (ship exactly), backlog (ship late at a cost) or lost (unmet demand is lost)", default="lost", choices=SERVICES),
            ColumnSpec("backlog_cost", "float", "cost per unit of backlog per period", default=0.0, min=0.0, unit="currency/unit/period"),
            ColumnSpec("lost_cost", "float", "cost per unit lost, on top of the revenue forgone", default=0.0, min=0.0, unit="currency/unit"),
        ),
        key=("channel",),
    ),
    TableSpec(
        "terms",
        "Collection and payment terms: shares of an amount paid `lag` periods after the event.",
        (
            ColumnSpec("terms", "str", "terms identifier", required=True),
            ColumnSpec("lag", "int", "periods after shipment (collections, >= 0) or arrival (payments, >= -lead_time)", required=True, unit="periods"),
            ColumnSpec("share", "float", "fraction of the amount; shares of one id sum to 1", required=True, min=0.0, max=1.0),
        ),
        key=("terms", "lag"),
    ),
    TableSpec(
        "bom",
        "Planning bill of materials (acyclic).",
        (
            ColumnSpec("parent", "str", "a made item (product or component)", required=True, ref="items.item"),
            ColumnSpec("child", "str", "a component or material", required=True, ref="items.item"),
            ColumnSpec("quantity", "float", "units of child per unit of parent", required=True, min=0.0, unit="units/unit"),
        ),
        key=("parent", "child"),
        additive_key=True,
    ),
    TableSpec(
        "resources",
        "Lines or workshops, each in a plant.",
        (
            ColumnSpec("resource", "str", "resource identifier", required=True),
            ColumnSpec("plant", "str", "plant the resource belongs to", default=None, blank_means="the resource's own name"),
            ColumnSpec("capacity", "float", "regular hours per period (`inf` = unconstrained)", required=True, min=0.0, allow_inf=True, unit="hours/period"),
            ColumnSpec("overtime_max", "float", "overtime hours per period", default=0.0, min=0.0, unit="hours/period"),
            ColumnSpec("overtime_cost", "float", "cost per overtime hour", default=0.0, min=0.0, unit="currency/hour"),
            ColumnSpec("reserve", "float", "fraction of regular capacity held back for rush orders, 0 <= reserve < 1", default=0.0, min=0.0, max=0.999999999),
            ColumnSpec("fixed_cost", "float", "cash paid every period", default=0.0, min=0.0, unit="currency/period"),
            ColumnSpec("budget_line", "str", "line charged for fixed, overtime, setup and variable production costs", default="production"),
        ),
        key=("resource",),
        required=True,
    ),
    TableSpec(
        "capacity",
        "Per-period capacity overrides.",
        (
            ColumnSpec("resource", "str", "a resource", required=True, ref="resources.resource"),
            ColumnSpec("period", "str", "a period label", required=True, ref="periods"),
            ColumnSpec("capacity", "float", "regular hours in that period", required=True, min=0.0, allow_inf=True, unit="hours/period"),
        ),
        key=("resource", "period"),
    ),
    TableSpec(
        "routings",
        "How made items are made: rows with the same (item, routing) are the steps of one routing.",
        (
            ColumnSpec("item", "str", "a made item", required=True, ref="items.item"),
            ColumnSpec("routing", "str", "routing id; different ids are alternatives", default="main"),
            ColumnSpec("resource", "str", "resource used by this step", required=True, ref="resources.resource"),
            ColumnSpec("hours_per_unit", "float", "hours per unit on this resource", required=True, min=0.0, unit="hours/unit"),
            ColumnSpec("setup_hours", "float", "hours per setup on this resource", default=0.0, min=0.0, unit="hours"),
            ColumnSpec("setup_cost", "float", "cost per setup of this step", default=0.0, min=0.0, unit="currency"),
        ),
        key=("item", "routing", "resource"),
        required=True,
    ),
    TableSpec(
        "budget_lines",
        "Budget lines with horizon ceilings.",
        (
            ColumnSpec("line", "str", "budget line identifier", required=True),
            ColumnSpec("ceiling", "float", "horizon total of allocation", default=INF, min=0.0, allow_inf=True, unit="currency", blank_means="no ceiling"),
            ColumnSpec("carryover", "bool", "unused allocation carries over to later periods", default=False),
        ),
        key=("line",),
    ),
    TableSpec(
        "budgets",
        "Per-period budget ceilings.",
        (
            ColumnSpec("line", "str", "budget line", required=True),
            ColumnSpec("period", "str", "a period label", required=True, ref="periods"),
            ColumnSpec("ceiling", "float", "allocation ceiling in that period", required=True, min=0.0, allow_inf=True, unit="currency"),
        ),
        key=("line", "period"),
    ),
    TableSpec(
        "cash_min",
        "Per-period minimum closing cash (overrides cash.min_balance).",
        (
            ColumnSpec("period", "str", "a period label", required=True, ref="periods"),
            ColumnSpec("amount", "float", "minimum closing cash", required=True, unit="currency"),
        ),
        key=("period",),
    ),
    TableSpec(
        "overhead",
        "Per-period fixed cash outflow (overrides cash.overhead).",
        (
            ColumnSpec("period", "str", "a period label", required=True, ref="periods"),
            ColumnSpec("amount", "float", "overhead paid in that period", required=True, min=0.0, unit="currency"),
        ),
        key=("period",),
    ),
    TableSpec(
        "open_orders",
        "Receipts already scheduled (open purchase or production orders), at no further cost.",
        (
            ColumnSpec("item", "str", "an item", required=True, ref="items.item"),
            ColumnSpec("period", "str", "arrival period", required=True, ref="periods"),
            ColumnSpec("quantity", "float", "units arriving", required=True, min=0.0, unit="units"),
        ),
        key=("item", "period"),
        additive_key=True,
    ),
    TableSpec(
        "families",
        "Sales families: demand rows naming a family in `product` are split into product demand by these shares.",
        (
            ColumnSpec("family", "str", "sales family named in demand.csv's product column (not an item)", required=True),
            ColumnSpec("product", "str", "a product of the family", required=True, ref="items.item"),
            ColumnSpec("share", "float", "fraction of the family's demand; the shares of a family sum to 1 per period", required=True, min=0.0, max=1.0),
            ColumnSpec("period", "str", "the period this mix applies to", default=None, ref="periods", blank_means="every period without rows of its own"),
        ),
        key=("family", "product", "period"),
    ),
    TableSpec(
        "stock_targets",
        "Per-period overrides of safety_stock (min) and max_stock (max).",
        (
            ColumnSpec("item", "str", "an item", required=True, ref="items.item"),
            ColumnSpec("period", "str", "a period label", required=True, ref="periods"),
            ColumnSpec("min", "float", "minimum closing stock", default=None, min=0.0, unit="units", blank_means="the item's safety_stock"),
            ColumnSpec("max", "float", "maximum closing stock", default=None, min=0.0, allow_inf=True, unit="units", blank_means="the item's max_stock"),
        ),
        key=("item", "period"),
    ),
)

TABLE_SPECS: dict[str, TableSpec] = {t.name: t for t in TABLES}


@dataclass(frozen=True)
class KeySpec:
    section: str  # "" for top-level keys
    name: str
    dtype: Literal["str", "float", "int", "periods"]
    description: str
    default: object = None
    required: bool = False
    min: float | None = None
    allow_inf: bool = False
    unit: str = ""

    @property
    def path(self) -> str:
        return f"{self.section}.{self.name}" if self.section else self.name


INSTANCE_KEYS: tuple[KeySpec, ...] = (
    KeySpec("", "name", "str", "instance name", default="instance"),
    KeySpec("", "currency", "str", "currency code shown in reports", default="CNY"),
    KeySpec("", "periods", "periods", "period labels in order, or an integer n meaning \"1\"..\"n\"", required=True),
    KeySpec("cash", "initial", "float", "cash at the start of period 1", default=0.0, unit="currency"),
    KeySpec("cash", "min_balance", "float", "minimum closing cash each period (cash_min.csv overrides)", default=0.0, unit="currency"),
    KeySpec("cash", "credit_limit", "float", "revolving credit line: loan balance 0..credit_limit", default=0.0, min=0.0, unit="currency"),
    KeySpec("cash", "interest_rate", "float", "interest per period on the previous closing loan", default=0.0, min=0.0),
    KeySpec("cash", "initial_loan", "float", "loan balance at the start", default=0.0, min=0.0, unit="currency"),
    KeySpec("cash", "overhead", "float", "fixed cash outflow each period (overhead.csv overrides)", default=0.0, min=0.0, unit="currency/period"),
    KeySpec("budget", "pool", "float", "total allocation over all lines and periods", default=INF, min=0.0, allow_inf=True, unit="currency"),
    KeySpec("budget", "emergency_pool", "float", "extra budget usable beyond ceilings over the horizon", default=0.0, min=0.0, unit="currency"),
    KeySpec("budget", "emergency_premium", "float", "cost per unit of emergency budget drawn", default=0.0, min=0.0),
    KeySpec("policy", "terminal_value", "float", "ending inventory valued at terminal_value * unit_cost", default=0.0, min=0.0),
)



@dataclass(frozen=True)
class MapSpec:
    """An `instance.toml` section of free `name = value` keys whose names are data
    (e.g. `[scenarios]`, `low = 0.25`): every value a number >= `min`."""

    section: str
    description: str
    names: str  # what each key must name
    min: float = 0.0


INSTANCE_MAPS: tuple[MapSpec, ...] = (
    MapSpec("scenarios", "weight of a demand scenario in `compare --robust` (default: equal weights)",
            "a scenario of demand.csv"),
)

INSTANCE_SECTIONS = ("cash", "budget", "policy") + tuple(m.section for m in INSTANCE_MAPS)
