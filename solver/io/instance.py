"""The validated, immutable instance that every downstream step reads (never the files)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType

import pandas as pd


@dataclass(frozen=True)
class CashSettings:
    initial: float = 0.0
    min_balance: float = 0.0
    credit_limit: float = 0.0
    interest_rate: float = 0.0
    initial_loan: float = 0.0
    overhead: float = 0.0


@dataclass(frozen=True)
class BudgetSettings:
    pool: float = float("inf")
    emergency_pool: float = 0.0
    emergency_premium: float = 0.0


@dataclass(frozen=True)
class PolicySettings:
    terminal_value: float = 0.0


@dataclass(frozen=True)
class OpeningBalances:
    """What a plan inherits from before its first period besides stock, cash and loan: empty
    for an instance read from files; filled by a rolling re-plan (`solver.analysis.rolling`) with what
    the periods already closed left open.

    `receivables[t]` / `payables[t]`: cash still to collect from past sales / still to pay for
    past material orders, falling in period t (cash only: their revenue and cost belong to
    the closed periods). `budget_carried[line]`: allocation of a carry-over line left unspent
    at the start, usable from period 1 on (docs/model.md §4.9's cumulative row starts from it).
    """

    receivables: Mapping[int, float] = field(default_factory=dict)
    payables: Mapping[int, float] = field(default_factory=dict)
    budget_carried: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("receivables", "payables", "budget_carried"):  # read-only copies
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def __reduce__(self):  # the read-only mappings do not pickle (an instance goes to worker processes)
        return OpeningBalances, (dict(self.receivables), dict(self.payables), dict(self.budget_carried))


@dataclass(frozen=True)
class Instance:
    """One planning instance with defaults applied (docs/model.md §2).

    `tables` holds one DataFrame per table of `solver.io.schema.TABLES`, every column present
    (blank cells filled with their defaults). Each table with a `period` column also has an
    integer column `t` (1..n). Completions the format implies are made here:
    channels named only in demand get default rows; `terms` holds the built-in `cash`
    (lag 0, share 1); `budget_lines` holds every line named anywhere; `demand` holds only the
    rows of the selected `scenario` (all scenarios stay in `all_demand`).
    """

    name: str
    currency: str
    periods: tuple[str, ...]
    cash: CashSettings
    budget: BudgetSettings
    policy: PolicySettings
    tables: Mapping[str, pd.DataFrame]
    scenario: str = "base"
    source: str = ""
    all_demand: pd.DataFrame | None = None
    fingerprint: str = ""
    opening: OpeningBalances = field(default_factory=OpeningBalances)

    @property
    def n(self) -> int:
        return len(self.periods)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def __getattr__(self, name: str) -> pd.DataFrame:
        # inst.items, inst.demand, ... as shorthand for inst.tables[...]
        tables = object.__getattribute__(self, "tables")
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def __reduce__(self):
        # the read-only table mapping does not pickle; worker processes (solver.analysis.parametric) get
        # the instance itself, not a re-read of files that may have changed since
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["tables"] = dict(self.tables)
        return _unpickle_instance, (state,)

    @property
    def scenarios(self) -> tuple[str, ...]:
        src = self.all_demand if self.all_demand is not None else self.tables["demand"]
        return tuple(sorted(src["scenario"].unique()))


def _unpickle_instance(state: dict) -> Instance:
    return Instance(**{**state, "tables": freeze_tables(state["tables"])})


def freeze_tables(tables: dict[str, pd.DataFrame]) -> Mapping[str, pd.DataFrame]:
    return MappingProxyType(dict(tables))


def fingerprint_of(files: dict[str, bytes]) -> str:
    """A stable digest of the raw input bytes (file name + content), for baselines."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode())
        h.update(b"\0")
        h.update(files[name])
        h.update(b"\0")
    return h.hexdigest()[:16]
