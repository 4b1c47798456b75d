"""Rolling re-plan (滚动计划): re-plan the rest of the horizon from actuals, and compare plan
with actual (预实比较).

Given the instance, the plan made for it (a `solve --out` folder, `solver.io.baseline`), the
actuals of the periods before `from` and the first period to re-plan, the re-plan is an
ordinary plan of a modified `Instance` (built with `dataclasses.replace`, as rush orders do)
that starts in the state the closed periods left, so that with actuals equal to the plan the
previous plan's remaining periods are a plan of the re-plan (and its optimum is at least theirs):

- periods: the remaining ones, `from`..n (renumbered 1..n − from + 1); every per-period table
  keeps its rows of those periods;
- `items.initial_stock` = the actual closing stock (items absent from stock.csv: 0);
- `cash.initial` / `cash.initial_loan` = the actual closing cash and loan;
- `open_orders` += what is in transit: actual purchases and production started before `from`
  that arrive from `from` on (order period + lead time);
- receivables / payables falling in the remaining periods are fixed cash receipts and
  payments (`Instance.opening`): cash only, not profit or budget;
- budget (`budget_state`): the closed periods' allocation is the previous plan's, raised to
  the actual spend where that spend overran the allocation and emergency draw (an overrun is
  budget used too). Each line's horizon ceiling and the pool shrink by that allocation, the
  emergency pool by the previous plan's draws, and a carry-over line brings its unspent
  balance (allocation + emergency − actual spend, cumulated over the closed periods) into the
  re-plan (`Instance.opening.budget_carried`); unspent allocation of other lines lapses.

The re-plan then freezes the first `freeze` re-planned periods (production, setups, purchases
and orders fixed at the previous plan's, `formulations.extensions.replan.hold_decisions`) and charges
`change_penalty` per unit of production, purchase or shipment that differs from the previous
plan (objective only: the reported profit is docs/model.md §5's). An infeasible re-plan is
diagnosed as `solve` does (`solver.analysis.diagnosis`).

Actuals folder (UTF-8 CSV; a BOM is accepted; `plan_as_actuals` + `write_actuals` write one
holding exactly what the previous plan planned, to start from or to test with):

| file | columns | meaning |
|---|---|---|
| `stock.csv` (required) | item, quantity | closing stock at the end of the last actual period |
| `cash.csv` (required) | cash, loan | closing cash and loan balance then (one row) |
| `sales.csv` | product, channel, period, quantity[, price] | units shipped per closed period |
| `production.csv` | item, period, quantity[, routing] | units started per closed period |
| `purchases.csv` | item, period, quantity | units ordered per closed period |
| `receivables.csv` | period, amount | collections still to come, by the period they fall in |
| `payables.csv` | period, amount | payments still due (materials in transit included) |
| `spend.csv` | line, period, amount | actual budget commitments; where absent, derived |

Actual spend by line and closed period is `spend.csv`'s amount where given, else derived as
the model commits it (docs/model.md §4.9) from the actuals at standard costs: production
unit_cost · quantity on its routing's line, the setup cost of each routing started (each
step's on its resource's line), purchases unit_cost · quantity (+ order_cost) on the
material's line, every resource's fixed cost and the cost of the overtime the actual
production needs (hours beyond the capacity net of the reserve) on its line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from formulations.data import prepare
from formulations.extensions.replan import change_penalty as change_penalty_ext
from formulations.extensions.replan import hold_decisions
from formulations.plan_data import PlanData
from solver.analysis.diagnosis import Diagnosis, diagnose
from solver.analysis.parametric import mark_warm, warm_start
from solver.engine.options import SolveOptions
from solver.engine.pipeline import solve
from solver.engine.progress import ProgressCallback, Reporter
from solver.engine.results import Result
from solver.engine.status import Status
from solver.io.baseline import Baseline
from solver.io.instance import Instance, OpeningBalances, freeze_tables
from solver.io.loading import read_text_table
from solver.io.problems import InputError, Problem
from solver.io.writers import write_folder_atomically

DEFAULT_CHANGE_PENALTY = 1.0  # currency per unit changed against the previous plan
TOL = 1e-6

# file -> (required columns, optional columns)
ACTUAL_FILES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "stock": (("item", "quantity"), ()),
    "cash": (("cash",), ("loan",)),
    "sales": (("product", "channel", "period", "quantity"), ("price",)),
    "production": (("item", "period", "quantity"), ("routing",)),
    "purchases": (("item", "period", "quantity"), ()),
    "receivables": (("period", "amount"), ()),
    "payables": (("period", "amount"), ()),
    "spend": (("line", "period", "amount"), ()),
}
REQUIRED_FILES = ("stock", "cash")
NUMERIC = ("quantity", "price", "amount", "cash", "loan")


@dataclass(frozen=True)
class Actuals:
    """What happened before the re-plan: tables of ACTUAL_FILES with `t` beside `period`."""

    path: Path
    tables: dict[str, pd.DataFrame]
    cash: float
    loan: float
    digest: str  # of the files' bytes

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def period_index(inst: Instance, period: str | int, what: str = "--from") -> int:
    """A period label (or 1-based position) -> t."""
    text = str(period).strip()
    if text in inst.periods:
        return inst.periods.index(text) + 1
    if text.isdigit() and 1 <= int(text) <= inst.n:
        return int(text)
    raise InputError([Problem("command line", None, what, f"period {text!r} is not one of the instance's periods",
                              ", ".join(inst.periods))])


def read_actuals(path: str | Path, inst: Instance, from_t: int) -> Actuals:
    """Read and check an actuals folder for a re-plan from period `from_t` (every problem at once)."""
    path = Path(path)
    if not path.is_dir():
        raise InputError([Problem(str(path), None, None, "actuals folder not found",
                                  "a folder with stock.csv, cash.csv and optionally sales, production, purchases, "
                                  "receivables, payables, spend (.csv)")])
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    h = hashlib.sha256()
    position = {p: t for t, p in enumerate(inst.periods, start=1)}
    closed = set(inst.periods[: from_t - 1])
    items = inst.tables["items"]
    kinds = dict(zip(items["item"], items["kind"], strict=True))
    lines = set(inst.tables["budget_lines"]["line"])
    routings: dict[str, list[str]] = defaultdict(list)
    for item, rho in inst.tables["routings"][["item", "routing"]].drop_duplicates().itertuples(index=False):
        routings[item].append(rho)
    for name, (required, optional) in ACTUAL_FILES.items():
        file = path / f"{name}.csv"
        label = f"{path.name}/{name}.csv"
        cols = required + optional
        if not file.is_file():
            if name in REQUIRED_FILES:
                problems.append(Problem(label, None, None, "required file is missing", ", ".join(required)))
            empty = pd.DataFrame({c: pd.Series([], dtype=float if c in NUMERIC else object) for c in cols})
            if "period" in cols:
                empty.insert(cols.index("period") + 1, "t", pd.Series([], dtype=int))
            tables[name] = empty
            continue
        data = file.read_bytes()
        h.update(name.encode() + b"\0" + data + b"\0")
        try:  # stripped text cells indexed by file row; not UTF-8, empty or not CSV: located problems
            df = read_text_table(file, label, data)
        except InputError as err:
            problems += err.problems
            continue
        for c in df.columns:
            if c not in cols:
                problems.append(Problem(label, 1, c, f"unknown column '{c}'", f"one of: {', '.join(cols)}"))
        for c in required:
            if c not in df.columns:
                problems.append(Problem(label, 1, c, f"required column '{c}' is missing", ", ".join(required)))
        if any(c not in df.columns for c in required):
            continue
        for c in cols:
            if c not in df.columns:
                df[c] = ""
        df = df[list(cols)].apply(lambda s: s.str.strip())
        for c in cols:
            if c in NUMERIC:
                num = pd.to_numeric(df[c].where(df[c] != ""), errors="coerce")
                bad = (df[c] != "") & (num.isna() | ~num.apply(lambda v: math.isfinite(v) if pd.notna(v) else True))
                negative = num < 0 if c not in ("cash",) else num != num  # cash may be negative
                for r in df.index[bad | negative]:
                    problems.append(Problem(label, int(r), c, f"'{df.at[r, c]}' is not a number >= 0" if c != "cash"
                                            else f"'{df.at[r, c]}' is not a number", "a number"))
                blank_required = (df[c] == "") & (c in required)
                for r in df.index[blank_required]:
                    problems.append(Problem(label, int(r), c, "required value is blank", "a number"))
                df[c] = num.fillna(0.0) if c not in ("price",) else num
        if "period" in df.columns:
            future = name in ("receivables", "payables")
            allowed = set(inst.periods[from_t - 1:]) if future else closed
            for r in df.index[~df["period"].isin(allowed)]:
                when = f"from {inst.periods[from_t - 1]} on" if future else f"before {inst.periods[from_t - 1]}"
                problems.append(Problem(label, int(r), "period", f"period '{df.at[r, 'period']}' is not {when}",
                                        f"one of: {', '.join(p for p in inst.periods if p in allowed) or 'none'}"))
            df.insert(df.columns.get_loc("period") + 1, "t", df["period"].map(position).fillna(0).astype(int))
        for col, want in (("item", None), ("product", "product")):
            if col in df.columns:
                for r in df.index:
                    kind = kinds.get(df.at[r, col])
                    if kind is None or (want and kind != want):
                        problems.append(Problem(label, int(r), col, f"unknown {want or 'item'} '{df.at[r, col]}'",
                                                f"{'a product' if want else 'an item'} of items.csv"))
        if name == "production":
            for r in df.index[df["item"].map(kinds).eq("material")]:
                problems.append(Problem(label, int(r), "item", f"'{df.at[r, 'item']}' is a material (bought)", "a made item"))
            for r in df.index[(df["routing"] != "") & df["item"].map(kinds).isin(("product", "component"))]:
                item, rho = df.at[r, "item"], df.at[r, "routing"]
                if rho not in routings.get(item, ()):
                    problems.append(Problem(label, int(r), "routing", f"'{rho}' is not a routing of '{item}'",
                                            f"one of: {', '.join(routings.get(item, ())) or 'none'} (blank: the first)"))
        if name == "purchases":
            for r in df.index[df["item"].map(kinds).ne("material") & df["item"].isin(kinds)]:
                problems.append(Problem(label, int(r), "item", f"'{df.at[r, 'item']}' is not a material", "a material"))
        if name == "spend":
            for r in df.index[~df["line"].isin(lines)]:
                problems.append(Problem(label, int(r), "line", f"unknown budget line '{df.at[r, 'line']}'",
                                        f"one of: {', '.join(sorted(lines))}"))
        tables[name] = df
    cash_rows = tables.get("cash", pd.DataFrame())
    if "cash" in cash_rows and len(cash_rows) != 1 and (path / "cash.csv").is_file():
        problems.append(Problem(f"{path.name}/cash.csv", None, None, f"{len(cash_rows)} rows", "exactly one row: cash, loan"))
    if problems:
        raise InputError(problems)
    cash = float(cash_rows["cash"].iloc[0])
    loan = float(cash_rows["loan"].iloc[0]) if "loan" in cash_rows else 0.0
    return Actuals(path=path, tables={k: v.reset_index(drop=True) for k, v in tables.items()}, cash=cash, loan=loan,
                   digest=h.hexdigest()[:16])


# ---------------------------------------------------------------- actuals as planned


def plan_as_actuals(inst: Instance, baseline: Baseline, from_t: int) -> dict[str, pd.DataFrame]:
    """The actuals of periods 1..from_t−1 exactly as `baseline` planned them, as the tables of
    an actuals folder (`ACTUAL_FILES`; `write_actuals` writes them): a template to overwrite
    with what happened, and the reference case of a re-plan (nothing deviated).

    stock, cash and loan are the plan's closing figures of period from_t−1; sales, production
    and purchases its decisions of the closed periods (sales at the plan's prices); receivables
    and payables the part of the closed periods' revenue and material cost (by the channel's
    collection and the material's payment terms, docs/model.md §4.8) that falls in from_t..n. No
    spend.csv: the re-plan derives spend from the decisions as the model commits it.
    """
    if not 2 <= from_t <= inst.n:
        raise InputError([Problem("command line", None, "--from", f"cannot take actuals before period {from_t}",
                                  f"a period after the first: {', '.join(inst.periods[1:])}")])
    k = from_t - 1
    label = dict(enumerate(inst.periods, start=1))
    t = baseline.tables
    inv = t["inventory"][t["inventory"]["t"] == k]
    stock = pd.DataFrame({"item": inv["item"], "quantity": inv["closing"].astype(float)})
    last = t["cash"][t["cash"]["t"] == k].iloc[0]
    cash = pd.DataFrame({"cash": [float(last["closing"])], "loan": [float(last.get("loan", 0.0))]})
    sales = t["sales"][(t["sales"]["t"] <= k) & (t["sales"]["shipped"] > 0)]
    prod = t["production"][(t["production"]["t"] <= k) & (t["production"]["quantity"] > 0)]
    pur = t["purchases"][(t["purchases"]["t"] <= k) & (t["purchases"]["quantity"] > 0)]

    terms: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for tid, lag, share in zip(inst.tables["terms"]["terms"], inst.tables["terms"]["lag"], inst.tables["terms"]["share"], strict=True):
        terms[tid].append((int(lag), float(share)))
    ch = inst.tables["channels"]
    collect = dict(zip(ch["channel"], ch["terms"], strict=True))
    items = inst.tables["items"]
    pay_terms = dict(zip(items["item"], items["terms"], strict=True))
    lead = dict(zip(items["item"], items["lead_time"].astype(int), strict=True))
    unit_cost = dict(zip(items["item"], items["unit_cost"].astype(float), strict=True))
    due_in: dict[str, dict[int, float]] = {"receivables": defaultdict(float), "payables": defaultdict(float)}
    for channel, when, revenue in zip(sales["channel"], sales["t"], sales["revenue"], strict=True):
        for lag, share in terms[collect[channel]]:
            due_in["receivables"][int(when) + lag] += share * float(revenue)
    for m, when, q in zip(pur["item"], pur["t"], pur["quantity"], strict=True):
        for lag, share in terms[pay_terms[m]]:
            due_in["payables"][int(when) + lead[m] + lag] += share * unit_cost[m] * float(q)
    open_cash = {name: pd.DataFrame([(label[d], a) for d, a in sorted(due.items()) if from_t <= d <= inst.n and a],
                                    columns=["period", "amount"])
                 for name, due in due_in.items()}
    return {
        "stock": stock.reset_index(drop=True),
        "cash": cash,
        "sales": pd.DataFrame({"product": sales["product"], "channel": sales["channel"], "period": sales["period"].astype(str),
                               "quantity": sales["shipped"].astype(float), "price": sales["price"].astype(float)}).reset_index(drop=True),
        "production": pd.DataFrame({"item": prod["item"], "period": prod["period"].astype(str),
                                    "quantity": prod["quantity"].astype(float), "routing": prod["routing"]}).reset_index(drop=True),
        "purchases": pd.DataFrame({"item": pur["item"], "period": pur["period"].astype(str),
                                   "quantity": pur["quantity"].astype(float)}).reset_index(drop=True),
        **open_cash,
    }


def write_actuals(tables: dict[str, pd.DataFrame], path: str | Path, force: bool = False) -> Path:
    """Write actuals tables (`plan_as_actuals`) as an actuals folder `path/<name>.csv`, whole
    or not at all; an existing folder only with `force`."""
    unknown = sorted(set(tables) - set(ACTUAL_FILES))
    if unknown:
        raise ValueError(f"not actuals tables: {', '.join(unknown)} (known: {', '.join(ACTUAL_FILES)})")

    def fill(tmp: Path) -> None:
        for name, df in tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False)

    return write_folder_atomically(path, fill, force=force, replaceable=is_actuals_folder)


def is_actuals_folder(folder: Path) -> bool:
    """A folder `write_actuals` may replace with force: an actuals folder (stock.csv and
    cash.csv, no instance.toml) or an empty one — never another folder of the user's."""
    if not folder.is_dir() or (folder / "instance.toml").exists():
        return False
    return all((folder / f"{name}.csv").is_file() for name in REQUIRED_FILES) or not any(folder.iterdir())


# ---------------------------------------------------------------- actual spend by line


def _default_routings(d: PlanData) -> dict[str, str]:
    """Made item -> its first routing in file order (the one a blank `routing` means)."""
    first: dict[str, str] = {}
    for item, rho in d.routings:
        first.setdefault(item, rho)
    return first


def actual_spend(inst: Instance, actuals: Actuals, from_t: int) -> pd.DataFrame:
    """Actual budget commitments by line and closed period (line, t, period, amount): the
    ledger's `spend.csv` where given, else derived from the actuals (module docstring)."""
    d = prepare(inst)
    closed = range(1, from_t)
    amount: dict[tuple[str, int], float] = defaultdict(float)
    hours: dict[tuple[str, int], float] = defaultdict(float)
    prod = actuals["production"]
    default = _default_routings(d)
    started: dict[tuple[str, str, int], float] = defaultdict(float)
    for i, rho, t, q in zip(prod["item"], prod["routing"], prod["t"], prod["quantity"], strict=True):
        started[(i, rho or default[i], int(t))] += float(q)
    for (i, rho, t), q in started.items():
        if q <= 0:
            continue
        amount[(d.routing_line[(i, rho)], t)] += d.unit_cost[i] * q
        for step in d.steps[(i, rho)]:  # a setup of the routing in t: each step's cost on its resource's line
            amount[(d.resource_line[step.resource], t)] += step.setup_cost
            hours[(step.resource, t)] += step.hours_per_unit * q + step.setup_hours
    pur = actuals["purchases"].groupby(["item", "t"])["quantity"].sum()
    for (m, t), q in pur.items():
        if q > 0:
            amount[(d.material_line[m], int(t))] += d.unit_cost[m] * q + d.order_cost[m]
    for r in d.resources:
        for t in closed:
            regular = (1 - d.reserve[r]) * d.capacity[(r, t)]
            overtime = max(hours[(r, t)] - regular, 0.0) if math.isfinite(regular) else 0.0
            amount[(d.resource_line[r], t)] += d.fixed_cost[r] + d.overtime_cost[r] * overtime
    given = actuals["spend"].groupby(["line", "t"])["amount"].sum()
    for (line, t), a in given.items():
        amount[(line, int(t))] = float(a)  # the ledger's figure replaces the derived one
    rows = [(b, t, inst.periods[t - 1], amount.get((b, t), 0.0)) for b in d.lines for t in closed]
    return pd.DataFrame(rows, columns=["line", "t", "period", "amount"])


def budget_state(inst: Instance, spent: pd.DataFrame, from_t: int, baseline: Baseline | None = None) -> pd.DataFrame:
    """What the closed periods 1..from_t−1 used of each budget line and what they hand on.

    One row per line: `allocated` and `emergency` (the previous plan's, closed periods; 0
    without a baseline), `spent` (actual, `actual_spend`), `used` (allocation counted against
    the horizon ceiling and the pool: the previous plan's allocation, plus any actual spend
    beyond allocation + emergency, an overrun that had to be budgeted too) and `carried` (a
    carry-over line's unspent balance at the roll point, allocation + emergency − spend
    cumulated period by period, an overrun first cleared by the `used` rule; 0 on other
    lines, whose unspent allocation lapses with its period).
    """
    k = from_t - 1
    alloc: dict[tuple[str, int], float] = {}
    drawn: dict[tuple[str, int], float] = {}
    if baseline is not None:
        b = baseline.tables["budget"]
        b = b[b["t"] <= k]
        alloc = {(line, int(t)): float(a) for line, t, a in zip(b["line"], b["t"], b["allocated"], strict=True)}
        if "emergency" in b:
            drawn = {(line, int(t)): float(e) for line, t, e in zip(b["line"], b["t"], b["emergency"], strict=True)}
    spend = {(line, int(t)): float(a) for line, t, a in zip(spent["line"], spent["t"], spent["amount"], strict=True)}
    bl = inst.tables["budget_lines"]
    rows = []
    for line, carry in zip(bl["line"], bl["carryover"], strict=True):
        carry = bool(carry)
        balance = used = 0.0
        for t in range(1, from_t):
            a, e, s = alloc.get((line, t), 0.0), drawn.get((line, t), 0.0), spend.get((line, t), 0.0)
            if carry:
                balance += a + e - s
                overrun = max(-balance, 0.0)
                balance += overrun
            else:
                overrun = max(s - a - e, 0.0)
            used += a + overrun
        rows.append((line, carry, sum(alloc.get((line, t), 0.0) for t in range(1, from_t)),
                     sum(drawn.get((line, t), 0.0) for t in range(1, from_t)),
                     sum(spend.get((line, t), 0.0) for t in range(1, from_t)), used, balance if carry else 0.0))
    return pd.DataFrame(rows, columns=["line", "carryover", "allocated", "emergency", "spent", "used", "carried"])


# ---------------------------------------------------------------- the re-plan instance


def replan_instance(inst: Instance, actuals: Actuals, from_t: int, baseline: Baseline | None = None) -> Instance:
    """The instance of the remaining periods, starting from the actuals (module docstring).

    Without a baseline nothing is known of the closed periods' allocation: the budgets shrink
    by the actual spend and nothing is carried."""
    k = from_t - 1
    periods = inst.periods[k:]
    tables: dict[str, pd.DataFrame] = {}
    for name, df in inst.tables.items():
        if "t" in df.columns:
            keep = df[(df["t"] > k) | (df["t"] == 0)].copy()  # t = 0: every period (families)
            keep.loc[keep["t"] > 0, "t"] -= k
            tables[name] = keep.reset_index(drop=True)
        else:
            tables[name] = df.copy()
    items = tables["items"]
    stock = actuals["stock"].groupby("item")["quantity"].sum()
    items["initial_stock"] = items["item"].map(stock).fillna(0.0).astype(float)
    # in transit: started or ordered before `from`, arriving from `from` on
    lead = dict(zip(inst.tables["items"]["item"], inst.tables["items"]["lead_time"], strict=True))
    transit = []
    for name in ("production", "purchases"):
        df = actuals[name]
        for i, t, q in zip(df["item"], df["t"], df["quantity"], strict=True):
            arrival = int(t) + int(lead[i])
            if arrival > k and q > 0 and arrival <= inst.n:
                transit.append((i, arrival - k, q))
    if transit:
        extra = pd.DataFrame(transit, columns=["item", "t", "quantity"])
        extra["period"] = extra["t"].map(lambda t: periods[t - 1])
        oo = pd.concat([tables["open_orders"], extra[tables["open_orders"].columns]], ignore_index=True)
        tables["open_orders"] = oo.groupby(["item", "period", "t"], as_index=False, sort=False)["quantity"].sum()[
            list(inst.tables["open_orders"].columns)]
    state = budget_state(inst, actual_spend(inst, actuals, from_t), from_t, baseline)
    used = state.set_index("line")["used"]
    bl = tables["budget_lines"]
    bl["ceiling"] = (bl["ceiling"] - bl["line"].map(used).fillna(0.0)).clip(lower=0.0)
    budget = dataclasses.replace(inst.budget, pool=max(inst.budget.pool - float(used.sum()), 0.0),
                                 emergency_pool=max(inst.budget.emergency_pool - float(state["emergency"].sum()), 0.0))
    cash = dataclasses.replace(inst.cash, initial=actuals.cash, initial_loan=actuals.loan)
    receivables = actuals["receivables"].groupby("t")["amount"].sum()
    payables = actuals["payables"].groupby("t")["amount"].sum()
    opening = OpeningBalances(
        receivables={int(t) - k: float(a) for t, a in receivables.items() if a},
        payables={int(t) - k: float(a) for t, a in payables.items() if a},
        budget_carried={line: float(c) for line, c in zip(state["line"], state["carried"], strict=True) if c > 0},
    )
    all_demand = inst.all_demand
    if all_demand is not None:
        all_demand = all_demand[all_demand["t"] > k].copy()
        all_demand["t"] -= k
        all_demand = all_demand.reset_index(drop=True)
    fp = hashlib.sha256(f"{inst.fingerprint}|roll|{from_t}|{actuals.digest}|{state.to_csv()}".encode()).hexdigest()[:16]
    return dataclasses.replace(inst, periods=tuple(periods), tables=freeze_tables(tables), cash=cash, budget=budget,
                               all_demand=all_demand, fingerprint=fp, opening=opening,
                               source=f"{inst.source} (re-plan from {periods[0]})")


def shift_values(values: dict[str, dict[tuple, float]], k: int) -> dict[str, dict[tuple, float]]:
    """Baseline decisions of periods > k renumbered t − k (the re-plan's periods); the period is
    the last dimension of every decision the baseline reads (solver/io/baseline.py)."""
    return {comp: {(*key[:-1], key[-1] - k): v for key, v in vals.items() if key[-1] > k}
            for comp, vals in values.items()}


# ---------------------------------------------------------------- roll


@dataclass
class RollResult:
    plan: Result
    instance: Instance
    from_period: str
    freeze: int
    change_penalty: float
    baseline_profit: float  # the previous plan's profit of the re-planned periods (its P&L)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # budget state, diff and variance tables
    diagnosis: Diagnosis | None = None  # what to relax when the re-plan is infeasible

    @property
    def has_plan(self) -> bool:
        return self.plan.has_plan


def roll(inst: Instance, baseline: Baseline, actuals: Actuals, from_t: int, freeze: int = 1,
         change_penalty: float = DEFAULT_CHANGE_PENALTY, options: SolveOptions | None = None,
         warm: bool = True, progress: ProgressCallback | None = None) -> RollResult:
    """Re-plan periods from_t..n from the actuals; freeze `freeze` periods; penalise changes.

    With `warm`, the re-plan starts from the previous plan shifted to the remaining periods:
    its setups and orders, by name and index, where the re-plan has the same column (an index
    the previous plan's tables omit counts as 0); `kpis["warm_start"]` says whether it did.
    An infeasible re-plan carries the diagnosis `solve` prints (`RollResult.diagnosis`, and
    `kpis["diagnosis"]`). `progress` hears the re-plan's solve (and diagnosis)."""
    report = Reporter(progress)
    if not 2 <= from_t <= inst.n:
        raise InputError([Problem("command line", None, "--from", f"cannot re-plan from period {from_t}",
                                  f"a period after the first: {', '.join(inst.periods[1:])}")])
    n_left = inst.n - from_t + 1
    if freeze < 0 or freeze > n_left:
        raise InputError([Problem("command line", None, "--freeze", f"--freeze {freeze} is not 0..{n_left}",
                                  f"0..{n_left} (periods left)")])
    if change_penalty < 0 or not math.isfinite(change_penalty):
        raise InputError([Problem("command line", None, "--change-penalty", f"{change_penalty} is not a number >= 0")])
    k = from_t - 1
    started = time.perf_counter()  # the whole roll, its diagnosis included, ends by the time limit
    new = replan_instance(inst, actuals, from_t, baseline)
    prev = shift_values(baseline.values, k)
    extensions = [
        hold_decisions(prev, periods=set(range(1, freeze + 1)), how="fix"),
        change_penalty_ext(prev, change_penalty),
    ]
    options = options or SolveOptions()
    start, columns = warm_start(new, options, prev, extensions, missing=0.0) if warm else (None, 0)
    plan = solve(new, options, extensions=extensions, start=start, progress=report.part("re-plan"))
    mark_warm(plan, columns)
    pnl = baseline.tables.get("pnl")  # absent in folders written before it was read back
    baseline_profit = float(pnl.loc[pnl["t"] > k, "profit"].sum()) if pnl is not None else math.nan
    plan.kpis.update(roll_from=inst.periods[k], freeze=freeze, change_penalty=change_penalty,
                     baseline=str(baseline.path), actuals=str(actuals.path), baseline_profit_remaining=baseline_profit,
                     budget_carried=dict(new.opening.budget_carried))
    out = RollResult(plan=plan, instance=new, from_period=inst.periods[k], freeze=freeze, change_penalty=change_penalty,
                     baseline_profit=baseline_profit)
    out.tables["budget_state"] = budget_state(inst, actual_spend(inst, actuals, from_t), from_t, baseline)
    out.tables.update(variance_tables(inst, baseline, actuals, from_t))
    if plan.has_plan:
        out.tables.update(plan_diff(baseline, plan, k, freeze))
    elif plan.status == Status.INFEASIBLE:  # say what to relax, as `solve` does
        out.diagnosis = diagnose(new, options, result=plan, deadline=started + options.time_limit,
                                 progress=report.part("diagnosis"))
        plan.kpis["diagnosis"] = out.diagnosis.to_dict()
    return out


# ---------------------------------------------------------------- reports


def _compare(planned: pd.DataFrame, actual: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Outer join of planned and actual by `keys`; variance = actual − planned, variance_pct
    = variance / planned (NaN where nothing was planned)."""
    df = planned.merge(actual, on=keys, how="outer").fillna({"planned": 0.0, "actual": 0.0})
    df["variance"] = df["actual"] - df["planned"]
    df["variance_pct"] = [v / p if abs(p) > TOL else math.nan for v, p in zip(df["variance"], df["planned"], strict=True)]
    return df


def variance_tables(inst: Instance, baseline: Baseline, actuals: Actuals, from_t: int) -> dict[str, pd.DataFrame]:
    """Plan versus actual (预实比较) for the closed periods: budget by line and period (with a
    `total` row per line), sales, production and the closing stock of the last closed period."""
    k = from_t - 1
    label = dict(enumerate(inst.periods, start=1))
    b = baseline.tables["budget"]
    planned = b[b["t"] <= k].groupby(["line", "t"], as_index=False)["spent"].sum().rename(columns={"spent": "planned"})
    actual = actual_spend(inst, actuals, from_t)[["line", "t", "amount"]].rename(columns={"amount": "actual"})
    budget = _compare(planned, actual, ["line", "t"])
    budget["t"] = budget["t"].astype(int)
    budget.insert(1, "period", budget["t"].map(label))
    budget = budget.sort_values(["line", "t"], kind="stable")
    totals = budget.groupby("line", as_index=False, sort=False)[["planned", "actual"]].sum()
    totals["t"], totals["period"] = 0, "total"
    totals = _compare(totals[["line", "period", "t", "planned"]], totals[["line", "period", "t", "actual"]],
                      ["line", "period", "t"])
    budget = pd.concat([budget, totals[budget.columns]], ignore_index=True)  # t = 0: the line's total, last
    budget = budget.sort_values(["line", "t"], key=lambda c: c.replace(0, 10**9) if c.name == "t" else c, kind="stable")
    budget = budget.reset_index(drop=True)

    s = baseline.tables["sales"]
    planned_sales = s[s["t"] <= k].groupby(["product", "channel", "t"], as_index=False)["shipped"].sum().rename(columns={"shipped": "planned"})
    act = actuals["sales"].groupby(["product", "channel", "t"], as_index=False)["quantity"].sum().rename(columns={"quantity": "actual"})
    sales = _compare(planned_sales, act, ["product", "channel", "t"])
    sales.insert(sales.columns.get_loc("t"), "period", sales["t"].astype(int).map(label))

    p = baseline.tables["production"]
    planned_prod = p[p["t"] <= k].groupby(["item", "t"], as_index=False)["quantity"].sum().rename(columns={"quantity": "planned"})
    actp = actuals["production"].groupby(["item", "t"], as_index=False)["quantity"].sum().rename(columns={"quantity": "actual"})
    production = _compare(planned_prod, actp, ["item", "t"])
    production.insert(production.columns.get_loc("t"), "period", production["t"].astype(int).map(label))

    inv = baseline.tables["inventory"]
    planned_stock = inv[inv["t"] == k][["item", "closing"]].rename(columns={"closing": "planned"})
    acts = actuals["stock"].groupby("item", as_index=False)["quantity"].sum().rename(columns={"quantity": "actual"})
    stock = _compare(planned_stock, acts, ["item"])
    stock.insert(1, "period", label[k])
    return {"variance_budget": budget, "variance_sales": sales.sort_values(["product", "channel", "t"]).reset_index(drop=True),
            "variance_production": production.sort_values(["item", "t"]).reset_index(drop=True),
            "variance_stock": stock.reset_index(drop=True)}


def plan_diff(baseline: Baseline, plan: Result, k: int, freeze: int) -> dict[str, pd.DataFrame]:
    """Previous plan versus re-plan for the re-planned periods: production, purchases,
    shipments and budget allocation, rows that changed only (`frozen` marks the frozen periods)."""
    specs = (
        ("diff_production", "production", ["item", "routing"], "quantity"),
        ("diff_purchases", "purchases", ["item"], "quantity"),
        ("diff_sales", "sales", ["product", "channel"], "shipped"),
        ("diff_budget", "budget", ["line"], "allocated"),
    )
    out = {}
    for name, table, keys, value in specs:
        base = baseline.tables[table]
        base = base[base["t"] > k].assign(period=lambda d: d["period"].astype(str))
        base = base.groupby([*keys, "period"], as_index=False)[value].sum().rename(columns={value: "previous"})
        new = plan.tables[table].groupby([*keys, "period", "t"], as_index=False)[value].sum().rename(columns={value: "replan"})
        df = base.merge(new, on=[*keys, "period"], how="outer").fillna({"previous": 0.0, "replan": 0.0})
        pos = {p: t for t, p in enumerate(plan.instance.periods, start=1)}
        df["t"] = df["period"].map(pos).astype(int)
        df["change"] = df["replan"] - df["previous"]
        df["frozen"] = df["t"] <= freeze
        df = df[df["change"].abs() > TOL].sort_values([*keys, "t"], kind="stable")
        out[name] = df[[*keys, "period", "t", "previous", "replan", "change", "frozen"]].reset_index(drop=True)
    return out
