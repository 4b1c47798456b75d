"""An independent checker of a plan against docs/model.md, from the input data and the decisions.

`check_plan(instance, tables)` recomputes every balance of docs/model.md §4–§5 and §7 with plain
Python from two sources only: the loaded instance (its tables with defaults applied and its
settings) and the *decision* columns of the result tables (production quantity and setup,
purchase quantity and order flag, closing stock and shortfall, shipped/backlog/lost, overtime,
allocation and emergency draw, closing cash and loan). Derived columns the solver reports
(capacity used, budget spent, cash receipts and payments, the P&L) are recomputed and compared,
never trusted. It deliberately reads nothing from `formulations/` or the registered terms, so
a slip in the model's bookkeeping shows up here as a residual instead of being reproduced.

Each `Violation` names the check (``family.rule``), the entity (item, resource, line…), the
period label and the residual. A value passes when ``|residual| <= tol * max(1, scale)``,
with `scale` the magnitude of the terms involved (relative + absolute tolerance).

    from solver.analysis.checker import assert_plan_ok, check_plan
    assert_plan_ok(solve(inst))                    # raises AssertionError listing violations
    problems = check_plan(inst, tables, objective=r.objective)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

BUILTIN_TERMS = "cash"
MADE_KINDS = ("product", "component")
PNL_COMPONENTS: dict[str, int] = {  # docs/model.md §5, sign in the profit
    "revenue": +1, "purchases": -1, "production": -1, "setup": -1, "overtime": -1, "fixed": -1,
    "ordering": -1, "holding": -1, "backlog": -1, "lost": -1, "safety": -1, "interest": -1,
    "emergency": -1, "overhead": -1, "terminal": +1,
}
PAYMENT_KINDS = ("materials", "production", "setup", "overtime", "fixed", "ordering", "overhead")


@dataclass(frozen=True)
class Violation:
    """One balance or bound that does not close: `residual` = reported/left side − expected."""

    check: str
    entity: str
    period: str | None
    residual: float
    detail: str = ""

    def __str__(self) -> str:
        where = f" {self.period}" if self.period is not None else ""
        return f"[{self.check}] {self.entity}{where}: residual {self.residual:.6g}" + (f" ({self.detail})" if self.detail else "")


# --------------------------------------------------------------------------- public API


def check_plan(instance, tables: Mapping[str, pd.DataFrame], tol: float = 1e-6,
               objective: float | None = None) -> list[Violation]:
    """Every violation of docs/model.md by the plan in `tables` (empty list = the plan checks out).

    `tables` are the plan tables of `solver.engine.results` (or the CSVs the CLI writes, read back);
    `objective`, when given, is compared with the recomputed profit.
    """
    c = _Checker(instance, tables, tol)
    c.run()
    if objective is not None:
        profit = sum(c.pnl_total.values())
        c.eq("pnl.objective", "total", None, objective, profit, scale=c.pnl_scale,
             detail=f"objective {objective:.10g} vs recomputed profit {profit:.10g}")
    return c.out


def assert_plan_ok(result, tol: float = 1e-6) -> None:
    """Raise AssertionError listing every violation of the plan of a `Result`."""
    if not result.status.has_plan:
        raise AssertionError(f"no plan to check: status {result.status} ({result.message})")
    found = check_plan(result.instance, result.tables, tol=tol, objective=result.objective)
    if found:
        shown = "\n".join(f"  {v}" for v in found[:50])
        more = f"\n  … and {len(found) - 50} more" if len(found) > 50 else ""
        raise AssertionError(f"{len(found)} violation(s) of docs/model.md in the plan:\n{shown}{more}")


# --------------------------------------------------------------------------- helpers


def _f(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _t_column(df: pd.DataFrame, label_to_t: Mapping[str, int]) -> pd.Series:
    if "t" in df.columns:
        return df["t"].astype(int)
    return df["period"].astype(str).map(label_to_t).astype(int)


class _Checker:
    def __init__(self, inst, tables: Mapping[str, pd.DataFrame], tol: float):
        self.inst, self.tol, self.out = inst, tol, []
        self.n = len(inst.periods)
        self.T = range(1, self.n + 1)
        self.label = {t: str(p) for t, p in enumerate(inst.periods, start=1)}
        self.label_to_t = {p: t for t, p in self.label.items()}
        self.res = {name: (df.copy() if df is not None else pd.DataFrame()) for name, df in tables.items()}
        self._data()

    # ---- recording
    def _period(self, t) -> str | None:
        return self.label.get(t, str(t)) if t is not None else None

    def add(self, check: str, entity, t, residual: float, detail: str = "") -> None:
        self.out.append(Violation(check, str(entity), self._period(t), float(residual), detail))

    def ok(self, residual: float, scale: float = 0.0) -> bool:
        if math.isnan(residual):
            return False
        if math.isinf(residual):
            return False
        return abs(residual) <= self.tol * max(1.0, abs(scale))

    def eq(self, check, entity, t, reported: float, expected: float, scale: float = 0.0, detail: str = "") -> None:
        """`reported` must equal `expected` (both finite, or equal infinities)."""
        if math.isinf(reported) and math.isinf(expected) and (reported > 0) == (expected > 0):
            return
        r = reported - expected
        if not self.ok(r, max(scale, abs(reported), abs(expected))):
            self.add(check, entity, t, r, detail or f"reported {reported:.10g}, expected {expected:.10g}")

    def le(self, check, entity, t, lhs: float, rhs: float, scale: float = 0.0, detail: str = "") -> None:
        """`lhs <= rhs`; the residual is the excess lhs − rhs."""
        if math.isinf(rhs) and rhs > 0:
            return
        r = lhs - rhs
        if r > 0 and not self.ok(r, max(scale, abs(lhs), abs(rhs))):
            self.add(check, entity, t, r, detail or f"{lhs:.10g} > {rhs:.10g}")

    def binary(self, check, entity, t, v: float) -> None:
        if not (self.ok(v) or self.ok(v - 1)):
            self.add(check, entity, t, v, f"flag {v} is not 0/1")

    # ---- input data (instance only)
    def _data(self) -> None:
        inst = self.inst
        tb = inst.tables
        items = tb["items"]
        self.kind = dict(zip(items["item"], items["kind"], strict=True))
        self.items = list(items["item"])
        col = lambda name: dict(zip(items["item"], (_f(v) for v in items[name]), strict=True))  # noqa: E731
        self.unit_cost, self.holding = col("unit_cost"), col("holding_cost")
        self.initial, self.safety, self.penalty = col("initial_stock"), col("safety_stock"), col("safety_penalty")
        self.lead = {i: int(v) for i, v in zip(items["item"], items["lead_time"], strict=True)}
        self.min_lot, self.moq, self.order_cost = col("min_lot"), col("moq"), col("order_cost")
        self.max_stock = col("max_stock")
        self.pay_terms = dict(zip(items["item"], items["terms"], strict=True))
        self.mat_line = dict(zip(items["item"], items["budget_line"], strict=True))

        # terms: id -> [(lag, share)]
        self.terms: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for k, lag, share in zip(tb["terms"]["terms"], tb["terms"]["lag"], tb["terms"]["share"], strict=True):
            self.terms[k].append((int(lag), float(share)))
        if BUILTIN_TERMS not in self.terms:
            self.terms[BUILTIN_TERMS] = [(0, 1.0)]

        # BOM (repeated rows add up): child -> [(parent, qty)]
        self.parents: dict[str, list[tuple[str, float]]] = defaultdict(list)
        bom = defaultdict(float)
        for p, ch, q in zip(tb["bom"]["parent"], tb["bom"]["child"], tb["bom"]["quantity"], strict=True):
            bom[(p, ch)] += float(q)
        for (p, ch), q in bom.items():
            self.parents[ch].append((p, q))

        # resources and capacity
        res = tb["resources"]
        self.resources = list(res["resource"])
        rcol = lambda name: dict(zip(res["resource"], (_f(v) for v in res[name]), strict=True))  # noqa: E731
        self.cap_default, self.ot_max, self.ot_cost = rcol("capacity"), rcol("overtime_max"), rcol("overtime_cost")
        self.reserve, self.fixed = rcol("reserve"), rcol("fixed_cost")
        self.res_line = dict(zip(res["resource"], res["budget_line"], strict=True))
        self.cap = {(r, t): self.cap_default[r] for r in self.resources for t in self.T}
        capt = tb.get("capacity")
        if capt is not None and len(capt):
            for r, t, v in zip(capt["resource"], _t_column(capt, self.label_to_t), capt["capacity"], strict=True):
                self.cap[(r, int(t))] = float(v)

        # routings: (item, routing) -> steps in file order
        self.steps: dict[tuple[str, str], list[tuple[str, float, float, float]]] = {}
        rt = tb["routings"]
        for i, rho, r, h, sh, sc in zip(rt["item"], rt["routing"], rt["resource"], rt["hours_per_unit"],
                                        rt["setup_hours"], rt["setup_cost"], strict=True):
            self.steps.setdefault((i, str(rho)), []).append((r, float(h), float(sh), float(sc)))
        self.routing_line = {k: self.res_line[st[0][0]] for k, st in self.steps.items()}
        self.setup_cost = {k: sum(s[3] for s in st) for k, st in self.steps.items()}
        self.has_setup = {k: any(s[2] > 0 or s[3] > 0 for s in st) or self.min_lot.get(k[0], 0) > 0
                          for k, st in self.steps.items()}

        # open orders (additive) and stock targets
        self.open = defaultdict(float)
        oo = tb.get("open_orders")
        if oo is not None and len(oo):
            for i, t, q in zip(oo["item"], _t_column(oo, self.label_to_t), oo["quantity"], strict=True):
                self.open[(i, int(t))] += float(q)
        self.tmin = {(i, t): self.safety[i] for i in self.items for t in self.T}
        self.tmax = {(i, t): self.max_stock[i] for i in self.items for t in self.T}
        st = tb.get("stock_targets")
        if st is not None and len(st):
            for i, t, lo, hi in zip(st["item"], _t_column(st, self.label_to_t), st["min"], st["max"], strict=True):
                if not _blank(lo):
                    self.tmin[(i, int(t))] = float(lo)
                if not _blank(hi):
                    self.tmax[(i, int(t))] = float(hi)

        # demand, prices carried forward, channels
        dem = tb["demand"]
        self.demand: dict[tuple[str, str, int], float] = {}
        row_price: dict[tuple[str, str, int], float] = {}
        for p, k, t, q, pr in zip(dem["product"], dem["channel"], _t_column(dem, self.label_to_t),
                                  dem["quantity"], dem["price"], strict=True):
            self.demand[(p, k, int(t))] = float(q)
            row_price[(p, k, int(t))] = float(pr)
        self.pairs = sorted({(p, k) for p, k, _ in self.demand}, key=str)
        self.first = {pk: min(t for p, k, t in self.demand if (p, k) == pk) for pk in self.pairs}
        self.price: dict[tuple[str, str, int], float] = {}
        for p, k in self.pairs:
            last = None
            for t in self.T:
                last = row_price.get((p, k, t), last)
                if last is not None:
                    self.price[(p, k, t)] = last
        ch = tb["channels"]
        self.service = dict(zip(ch["channel"], ch["service"], strict=True))
        self.coll_terms = dict(zip(ch["channel"], ch["terms"], strict=True))
        self.backlog_cost = dict(zip(ch["channel"], (_f(v) for v in ch["backlog_cost"]), strict=True))
        self.lost_cost = dict(zip(ch["channel"], (_f(v) for v in ch["lost_cost"]), strict=True))
        for _, k in self.pairs:  # channels named only in demand: the defaults (docs/model.md §2)
            self.service.setdefault(k, "lost")
            self.coll_terms.setdefault(k, BUILTIN_TERMS)
            self.backlog_cost.setdefault(k, 0.0)
            self.lost_cost.setdefault(k, 0.0)

        # cash settings
        cs = inst.cash
        self.cash_min = {t: float(cs.min_balance) for t in self.T}
        self.overhead = {t: float(cs.overhead) for t in self.T}
        for name, target in (("cash_min", self.cash_min), ("overhead", self.overhead)):
            df = tb.get(name)
            if df is not None and len(df):
                for t, a in zip(_t_column(df, self.label_to_t), df["amount"], strict=True):
                    target[int(t)] = float(a)

        # budget lines (union of everywhere a line is named, docs/model.md §7)
        bl = tb.get("budget_lines")
        self.line_ceiling: dict[str, float] = {}
        self.carryover: dict[str, bool] = {}
        if bl is not None and len(bl):
            for b, c, co in zip(bl["line"], bl["ceiling"], bl["carryover"], strict=True):
                self.line_ceiling[b] = _f(c) if not _blank(c) else math.inf
                self.carryover[b] = bool(co)
        self.period_ceiling: dict[tuple[str, int], float] = {}
        bud = tb.get("budgets")
        if bud is not None and len(bud):
            for b, t, c in zip(bud["line"], _t_column(bud, self.label_to_t), bud["ceiling"], strict=True):
                self.period_ceiling[(b, int(t))] = float(c)

    # ---- decisions (result tables, decision columns only)
    def _table(self, name: str, needed: Iterable[str]) -> pd.DataFrame:
        df = self.res.get(name)
        if df is None:
            df = pd.DataFrame()
        missing = [c for c in needed if c not in df.columns]
        if missing and len(df):
            self.add("tables.columns", name, None, math.nan, f"missing column(s) {', '.join(missing)}")
            return pd.DataFrame(columns=list(needed))
        if not len(df):
            return pd.DataFrame(columns=list(needed) + ["t"])
        df = df.copy()
        df["t"] = _t_column(df, self.label_to_t)
        return df

    def run(self) -> None:
        self._read_decisions()
        self._check_production_and_orders()
        self._check_stock()
        self._check_capacity()
        self._check_sales()
        self._check_cash()
        self._check_budget()
        self._check_pnl()
        self._check_balances()
        self._check_report_columns()

    def _read_decisions(self) -> None:
        prod = self._table("production", ["item", "routing", "quantity", "setup"])
        self.x, self.y = defaultdict(float), defaultdict(float)
        for i, rho, t, q, s in zip(prod["item"], prod["routing"], prod["t"], prod["quantity"], prod["setup"], strict=True):
            self.x[(i, str(rho), int(t))] += float(q)
            self.y[(i, str(rho), int(t))] = float(s)
        pur = self._table("purchases", ["item", "quantity", "order_placed"])
        self.q, self.z = defaultdict(float), defaultdict(float)
        for m, t, q, z in zip(pur["item"], pur["t"], pur["quantity"], pur["order_placed"], strict=True):
            self.q[(m, int(t))] += float(q)
            self.z[(m, int(t))] = float(z)
        inv = self._table("inventory", ["item", "closing", "shortfall"])
        self.inv = inv
        self.s: dict[tuple[str, int], float] = {}
        self.u = defaultdict(float)
        for i, t, s, u in zip(inv["item"], inv["t"], inv["closing"], inv["shortfall"], strict=True):
            self.s[(i, int(t))] = float(s)
            self.u[(i, int(t))] = float(u)
        sales = self._table("sales", ["product", "channel", "shipped", "backlog", "lost"])
        self.sales = sales
        self.v, self.b, self.l = defaultdict(float), defaultdict(float), defaultdict(float)
        for p, k, t, v, b, lost in zip(sales["product"], sales["channel"], sales["t"], sales["shipped"],
                                       sales["backlog"], sales["lost"], strict=True):
            self.v[(p, k, int(t))] += float(v)
            self.b[(p, k, int(t))] += float(b)
            self.l[(p, k, int(t))] += float(lost)
        capt = self._table("capacity", ["resource", "overtime"])
        self.capt = capt
        self.o = defaultdict(float)
        for r, t, o in zip(capt["resource"], capt["t"], capt["overtime"], strict=True):
            self.o[(r, int(t))] += float(o)
        bud = self._table("budget", ["line", "allocated", "emergency"])
        self.bud = bud
        self.a, self.e = defaultdict(float), defaultdict(float)
        for b, t, a, e in zip(bud["line"], bud["t"], bud["allocated"], bud["emergency"], strict=True):
            self.a[(b, int(t))] += float(a)
            self.e[(b, int(t))] += float(e)
        cash = self._table("cash", ["closing", "loan"])
        self.cash = cash
        self.c, self.lam = {}, {}
        for t, c, lam in zip(cash["t"], cash["closing"], cash["loan"], strict=True):
            self.c[int(t)] = float(c)
            self.lam[int(t)] = float(lam)
        for t in self.T:
            if t not in self.c:
                self.add("cash.row_missing", "cash", t, math.nan, "no row in the cash table")
                self.c[t], self.lam[t] = math.nan, math.nan

    # ---- §4.5, §4.6, §7: starts, orders, setups, lots
    def _check_production_and_orders(self) -> None:
        for (i, rho, t), x in self.x.items():
            ent = f"{i}/{rho}"
            y = self.y[(i, rho, t)]
            if (i, rho) not in self.steps or self.kind.get(i) not in MADE_KINDS:
                if abs(x) > self.tol or y:
                    self.add("production.routing", ent, t, x, "no such routing of a made item")
                continue
            if x < -self.tol:
                self.add("production.nonnegative", ent, t, x)
            if (t < 1 or t + self.lead[i] > self.n) and (abs(x) > self.tol or y):
                self.add("production.horizon", ent, t, x, f"start in {t} finishes in {t + self.lead[i]} > n = {self.n}")
            self.binary("production.setup_binary", ent, t, y)
            if self.has_setup[(i, rho)]:
                if x > self.tol and y < 0.5:
                    self.add("production.setup", ent, t, x, "lot without a setup")
                if self.min_lot[i] > 0 and y > 0.5:
                    self.le("production.min_lot", ent, t, self.min_lot[i], x, detail=f"lot {x:.10g} < min_lot {self.min_lot[i]:.10g}")
        for (m, t), q in self.q.items():
            z = self.z[(m, t)]
            if self.kind.get(m) != "material":
                if abs(q) > self.tol or z:
                    self.add("purchases.item", m, t, q, "not a material")
                continue
            if q < -self.tol:
                self.add("purchases.nonnegative", m, t, q)
            if (t < 1 or t + self.lead[m] > self.n) and (abs(q) > self.tol or z):
                self.add("purchases.horizon", m, t, q, f"order in {t} arrives in {t + self.lead[m]} > n = {self.n}")
            self.binary("purchases.order_binary", m, t, z)
            if self.moq[m] > 0 or self.order_cost[m] > 0:
                if q > self.tol and z < 0.5:
                    self.add("purchases.order_flag", m, t, q, "order without an order placed")
                if self.moq[m] > 0 and z > 0.5:
                    self.le("purchases.moq", m, t, self.moq[m], q, detail=f"order {q:.10g} < moq {self.moq[m]:.10g}")

    # ---- §4.1, §4.2, §4.7
    def _check_stock(self) -> None:
        made_by = defaultdict(float)  # (item, t): units started in t, all routings
        for (i, _rho, t), x in self.x.items():
            made_by[(i, t)] += x
        shipped = defaultdict(float)
        for (p, _k, t), v in self.v.items():
            shipped[(p, t)] += v
        reported_opening = {}
        if "opening" in self.inv.columns:
            reported_opening = {(i, int(t)): float(o) for i, t, o in zip(self.inv["item"], self.inv["t"], self.inv["opening"], strict=True)}
        known = set(self.items)
        for (i, t) in self.s:
            if i not in known or t not in self.T:
                self.add("stock.row_unknown", i, t, self.s[(i, t)], "inventory row of no item/period")
        for i in self.items:
            lt = self.lead[i]
            prev = self.initial[i]
            for t in self.T:
                if (i, t) not in self.s:
                    self.add("stock.row_missing", i, t, math.nan, "no row in the inventory table")
                    prev = math.nan
                    continue
                close = self.s[(i, t)]
                arrivals = made_by.get((i, t - lt), 0.0) + self.q.get((i, t - lt), 0.0)
                opened = self.open.get((i, t), 0.0)
                dep = sum(qty * made_by.get((par, t), 0.0) for par, qty in self.parents.get(i, ()))
                ship = shipped.get((i, t), 0.0)
                expected = prev + arrivals + opened - dep - ship
                scale = max(abs(prev), arrivals, opened, dep, ship, abs(close))
                if not math.isnan(prev):
                    r = close - expected
                    if not self.ok(r, scale):
                        self.add("stock.balance", i, t, r,
                                 f"opening {prev:.10g} + arrivals {arrivals:.10g} + open orders {opened:.10g} − dependent demand "
                                 f"{dep:.10g} − shipped {ship:.10g} = {expected:.10g}, closing reported {close:.10g}")
                    if (i, t) in reported_opening:
                        self.eq("stock.opening", i, t, reported_opening[(i, t)], prev, scale)
                if close < 0 and not self.ok(close, scale):
                    self.add("stock.nonnegative", i, t, close)
                u = self.u.get((i, t), 0.0)
                tmin, tmax = self.tmin[(i, t)], self.tmax[(i, t)]
                if math.isnan(self.penalty[i]):
                    if abs(u) > self.tol:
                        self.add("stock.shortfall_not_allowed", i, t, u, "shortfall on an item without safety_penalty")
                    u = 0.0
                else:
                    if u < -self.tol:
                        self.add("stock.shortfall_nonnegative", i, t, u)
                    self.le("stock.shortfall_bound", i, t, u, tmin)
                self.le("stock.target_min", i, t, tmin, close + u, scale,
                        detail=f"closing {close:.10g} + shortfall {u:.10g} < min {tmin:.10g}")
                self.le("stock.target_max", i, t, close, tmax, scale)
                prev = close
        # reported data columns
        for col, data in (("open_orders", self.open), ("target_min", self.tmin), ("target_max", self.tmax)):
            if col in self.inv.columns:
                for i, t, v in zip(self.inv["item"], self.inv["t"], self.inv[col], strict=True):
                    if i in known and int(t) in self.T:
                        self.eq(f"stock.{col}", i, int(t), float(v), data.get((i, int(t)), 0.0))

    # ---- §4.4
    def _hours(self) -> dict[tuple[str, int], float]:
        hours = defaultdict(float)
        for (i, rho, t), x in self.x.items():
            for r, h, sh, _sc in self.steps.get((i, rho), ()):
                hours[(r, t)] += h * x
                if self.has_setup.get((i, rho)):
                    hours[(r, t)] += sh * self.y[(i, rho, t)]
        return hours

    def _check_capacity(self) -> None:
        hours = self._hours()
        reported = {}
        cols = self.capt.columns
        for _, row in self.capt.iterrows():
            reported[(row["resource"], int(row["t"]))] = row
        for r, t in list(hours) + [k for k in self.o if k not in hours]:
            if r not in self.cap_default:
                self.add("capacity.resource_unknown", r, t, hours.get((r, t), 0.0))
        for r in self.resources:
            for t in self.T:
                used, o, cap = hours.get((r, t), 0.0), self.o.get((r, t), 0.0), self.cap[(r, t)]
                regular = (1 - self.reserve[r]) * cap
                self.le("capacity.limit", r, t, used, regular + o,
                        detail=f"used {used:.10g} h > (1 − {self.reserve[r]:g})·{cap:.10g} + overtime {o:.10g}")
                if o < -self.tol:
                    self.add("capacity.overtime_nonnegative", r, t, o)
                self.le("capacity.overtime_max", r, t, o, self.ot_max[r])
                row = reported.get((r, t))
                if row is None:
                    if used > self.tol or o > self.tol:
                        self.add("capacity.row_missing", r, t, used, "no row in the capacity table")
                    continue
                if "used" in cols:
                    self.eq("capacity.used", r, t, float(row["used"]), used)
                if "capacity" in cols:
                    self.eq("capacity.capacity", r, t, float(row["capacity"]), cap)
                if "available" in cols:
                    self.eq("capacity.available", r, t, float(row["available"]), regular)

    # ---- §4.3, §7
    def _check_sales(self) -> None:
        pairs = set(self.pairs)
        for (p, k, t), v in self.v.items():
            if (p, k) not in pairs and (abs(v) > self.tol or abs(self.b[(p, k, t)]) > self.tol or abs(self.l[(p, k, t)]) > self.tol):
                self.add("sales.unknown", f"{p}@{k}", t, v, "shipment/backlog/loss where there is no demand")
        for p, k in self.pairs:
            ent, svc = f"{p}@{k}", self.service[k]
            if self.kind.get(p) != "product":
                self.add("sales.not_product", ent, None, math.nan, f"{p} is not a product")
            b_prev = 0.0
            for t in self.T:
                d = self.demand.get((p, k, t), 0.0)
                v, b, lost = self.v.get((p, k, t), 0.0), self.b.get((p, k, t), 0.0), self.l.get((p, k, t), 0.0)
                scale = max(d, abs(v), abs(b), abs(lost), abs(b_prev))
                for name, val in (("shipped", v), ("backlog", b), ("lost", lost)):
                    if val < -self.tol:
                        self.add(f"sales.{name}_nonnegative", ent, t, val)
                if svc == "must":
                    self.eq("sales.must", ent, t, v, d, scale, f"shipped {v:.10g} ≠ demand {d:.10g}")
                    self.eq("sales.no_backlog", ent, t, b, 0.0)
                    self.eq("sales.no_lost", ent, t, lost, 0.0, detail="lost on a must channel")
                elif svc == "lost":
                    self.eq("sales.lost", ent, t, v + lost, d, scale, f"shipped {v:.10g} + lost {lost:.10g} ≠ demand {d:.10g}")
                    self.eq("sales.no_backlog", ent, t, b, 0.0)
                else:  # backlog
                    if t < self.first[(p, k)]:
                        self.eq("sales.before_first_demand", ent, t, v, 0.0, detail=f"shipped {v:.10g} before the first demand row")
                        self.eq("sales.no_backlog", ent, t, b, 0.0)
                        self.eq("sales.no_lost", ent, t, lost, 0.0)
                    else:
                        self.eq("sales.backlog", ent, t, b, b_prev + d - v, scale,
                                f"backlog {b:.10g} ≠ {b_prev:.10g} + {d:.10g} − shipped {v:.10g}")
                        end = b if t == self.n else 0.0
                        self.eq("sales.backlog_lost", ent, t, lost, end, scale,
                                "unserved backlog at n must be lost, nothing lost before" if t == self.n else "lost before n on a backlog channel")
                    b_prev = b
        # reported data columns
        s = self.sales
        if len(s):
            for p, k, t, *vals in zip(s["product"], s["channel"], s["t"],
                                      *(s[c] if c in s.columns else [None] * len(s) for c in ("demand", "price", "revenue")), strict=True):
                t = int(t)
                dem, price, rev = vals
                ent = f"{p}@{k}"
                if dem is not None:
                    self.eq("sales.demand_column", ent, t, float(dem), self.demand.get((p, k, t), 0.0))
                v = self.v.get((p, k, t), 0.0)
                if price is not None and ((p, k, t) in self.price or abs(v) > self.tol):
                    self.eq("sales.price", ent, t, float(price), self.price.get((p, k, t), math.nan))
                if rev is not None:
                    self.eq("sales.revenue", ent, t, float(rev), self.price.get((p, k, t), 0.0) * v)

    # ---- §4.8
    def _cash_flows(self):
        receipts, receivables = defaultdict(float), 0.0
        for (p, k, t), v in self.v.items():
            amount = self.price.get((p, k, t), 0.0) * v
            for lag, share in self.terms[self.coll_terms.get(k, BUILTIN_TERMS)]:
                if t + lag <= self.n:
                    receipts[t + lag] += share * amount
                else:
                    receivables += share * amount
        pay = defaultdict(float)  # (kind, t)
        payables = 0.0
        for (m, t), q in self.q.items():
            if self.kind.get(m) != "material":
                continue
            amount = self.unit_cost[m] * q
            arrival = t + self.lead[m]
            for lag, share in self.terms[self.pay_terms[m]]:
                due = arrival + lag
                if due <= self.n:
                    pay[("materials", due)] += share * amount
                else:
                    payables += share * amount
            pay[("ordering", t)] += self.order_cost[m] * self.z[(m, t)]
        for (i, rho, t), x in self.x.items():
            if (i, rho) not in self.steps:
                continue
            pay[("production", t)] += self.unit_cost[i] * x
            if self.has_setup[(i, rho)]:
                pay[("setup", t)] += self.setup_cost[(i, rho)] * self.y[(i, rho, t)]
        for t in self.T:
            for r in self.resources:
                pay[("overtime", t)] += self.ot_cost[r] * self.o.get((r, t), 0.0)
                pay[("fixed", t)] += self.fixed[r]
            pay[("overhead", t)] += self.overhead[t]
        opening = self.inst.opening  # a rolling re-plan's inherited cash (cash only, never profit)
        for t, amount in opening.receivables.items():
            receipts[int(t)] += float(amount)
        for t, amount in opening.payables.items():
            pay[("materials", int(t))] += float(amount)
        return receipts, pay, receivables, payables

    def _check_cash(self) -> None:
        cs = self.inst.cash
        receipts, pay, self.receivables, self.payables = self._cash_flows()
        self.pay = pay
        rows = {int(t): row for t, (_, row) in zip(self.cash["t"], self.cash.iterrows(), strict=True)}
        prev_c, prev_l = float(cs.initial), float(cs.initial_loan)
        for t in self.T:
            c, lam = self.c[t], self.lam[t]
            interest = cs.interest_rate * prev_l
            borrowing = lam - prev_l
            payments = sum(pay.get((kind, t), 0.0) for kind in PAYMENT_KINDS)
            expected = prev_c + receipts.get(t, 0.0) - payments - interest + borrowing
            scale = max(abs(prev_c), receipts.get(t, 0.0), payments, abs(c), abs(lam))
            self.eq("cash.balance", "cash", t, c, expected, scale,
                    f"opening {prev_c:.10g} + receipts {receipts.get(t, 0.0):.10g} − payments {payments:.10g} − interest "
                    f"{interest:.10g} + borrowing {borrowing:.10g} = {expected:.10g}, closing reported {c:.10g}")
            self.le("cash.minimum", "cash", t, self.cash_min[t], c, scale, f"closing {c:.10g} < minimum {self.cash_min[t]:.10g}")
            if lam < 0 and not self.ok(lam, cs.credit_limit):
                self.add("cash.loan_nonnegative", "loan", t, lam)
            self.le("cash.credit_limit", "loan", t, lam, float(cs.credit_limit))
            row = rows.get(t)
            if row is not None:
                expect_cols = {"opening": prev_c, "receipts": receipts.get(t, 0.0), "interest": interest,
                               "borrowing": borrowing, "minimum": self.cash_min[t]}
                for kind in PAYMENT_KINDS:
                    expect_cols[f"pay_{kind}"] = pay.get((kind, t), 0.0)
                for col, val in expect_cols.items():
                    if col in row.index:
                        self.eq(f"cash.{col}", "cash", t, float(row[col]), val, scale if col in ("opening", "borrowing") else 0.0)
            prev_c, prev_l = c, lam

    # ---- §4.9
    def _spend(self) -> dict[tuple[str, int], float]:
        spend = defaultdict(float)
        for (m, t), q in self.q.items():
            if self.kind.get(m) == "material":
                spend[(self.mat_line[m], t)] += self.unit_cost[m] * q + self.order_cost[m] * self.z[(m, t)]
        for (i, rho, t), x in self.x.items():
            steps = self.steps.get((i, rho))
            if not steps:
                continue
            spend[(self.routing_line[(i, rho)], t)] += self.unit_cost[i] * x
            if self.has_setup[(i, rho)]:
                for r, _h, _sh, sc in steps:
                    spend[(self.res_line[r], t)] += sc * self.y[(i, rho, t)]
        for r in self.resources:
            for t in self.T:
                spend[(self.res_line[r], t)] += self.fixed[r] + self.ot_cost[r] * self.o.get((r, t), 0.0)
        return spend

    def _check_budget(self) -> None:
        bgt = self.inst.budget
        spend = self._spend()
        self.spend = spend
        lines = list(dict.fromkeys(list(self.bud["line"]) + sorted({b for b, _ in spend}, key=str)
                                   + list(self.line_ceiling) + sorted({b for b, _ in self.period_ceiling}, key=str)))
        reported = {(b, int(t)): row for (b, t), (_, row) in zip(zip(self.bud["line"], self.bud["t"], strict=True),
                                                                  self.bud.iterrows(), strict=True)}
        carried = self.inst.opening.budget_carried
        total_a = total_e = 0.0
        for b in lines:
            carry = self.carryover.get(b, False)
            cum_s = cum_ae = line_a = line_spend = line_ae = 0.0
            if carry:  # allocation left unspent before period 1 (a rolling re-plan's)
                cum_ae = float(carried.get(b, 0.0))
            for t in self.T:
                s, a, e = spend.get((b, t), 0.0), self.a.get((b, t), 0.0), self.e.get((b, t), 0.0)
                row = reported.get((b, t))
                if row is None and (s > self.tol or a or e):
                    self.add("budget.row_missing", b, t, s, "no row in the budget table")
                if row is not None and "spent" in row.index:
                    self.eq("budget.spent", b, t, float(row["spent"]), s)
                if row is not None and "ceiling" in row.index:
                    self.eq("budget.ceiling", b, t, float(row["ceiling"]), self.period_ceiling.get((b, t), math.inf))
                if a < -self.tol:
                    self.add("budget.allocated_nonnegative", b, t, a)
                if e < -self.tol:
                    self.add("budget.emergency_nonnegative", b, t, e)
                cum_s += s
                cum_ae += a + e
                if carry:
                    self.le("budget.commitment", b, t, cum_s, cum_ae,
                            detail=f"cumulative spend {cum_s:.10g} > cumulative allocated + emergency {cum_ae:.10g}")
                else:
                    self.le("budget.commitment", b, t, s, a + e, detail=f"spend {s:.10g} > allocated {a:.10g} + emergency {e:.10g}")
                    self.le("budget.over_allocation", b, t, a + e, s,
                            detail=f"allocated {a:.10g} + emergency {e:.10g} > spend {s:.10g} (docs/model.md §5: no over-allocation)")
                self.le("budget.period_ceiling", b, t, a, self.period_ceiling.get((b, t), math.inf))
                line_a += a
                line_spend += s
                line_ae += a + e
            if carry:
                self.le("budget.over_allocation", b, None, line_ae, line_spend,
                        detail=f"Σ allocated + emergency {line_ae:.10g} > Σ spend {line_spend:.10g} (docs/model.md §5: no over-allocation)")
            self.le("budget.line_ceiling", b, None, line_a, self.line_ceiling.get(b, math.inf))
            total_a += line_a
            total_e += sum(self.e.get((b, t), 0.0) for t in self.T)
        self.le("budget.pool", "pool", None, total_a, float(bgt.pool))
        self.le("budget.emergency_pool", "emergency_pool", None, total_e, float(bgt.emergency_pool))
        for (b, t) in self.a:
            if b not in lines:
                self.add("budget.line_unknown", b, t, self.a[(b, t)])

    # ---- §5
    def _check_pnl(self) -> None:
        cs, bgt, pol = self.inst.cash, self.inst.budget, self.inst.policy
        comp = {c: defaultdict(float) for c in PNL_COMPONENTS}
        for (p, k, t), v in self.v.items():
            comp["revenue"][t] += self.price.get((p, k, t), 0.0) * v
            comp["backlog"][t] += self.backlog_cost.get(k, 0.0) * self.b[(p, k, t)]
            comp["lost"][t] += self.lost_cost.get(k, 0.0) * self.l[(p, k, t)]
        for (m, t), q in self.q.items():
            if self.kind.get(m) == "material":
                comp["purchases"][t] += self.unit_cost[m] * q
                comp["ordering"][t] += self.order_cost[m] * self.z[(m, t)]
        for t in self.T:
            for kind in ("production", "setup", "overtime", "fixed", "overhead"):
                comp[kind][t] = self.pay.get((kind, t), 0.0)
            for i in self.items:
                s = self.s.get((i, t), 0.0)
                comp["holding"][t] += self.holding[i] * s
                if not math.isnan(self.penalty[i]):
                    comp["safety"][t] += self.penalty[i] * self.u.get((i, t), 0.0)
            prev_l = float(cs.initial_loan) if t == 1 else self.lam[t - 1]
            comp["interest"][t] = cs.interest_rate * prev_l
            comp["emergency"][t] = bgt.emergency_premium * sum(e for (b, tt), e in self.e.items() if tt == t)
        comp["terminal"][self.n] = pol.terminal_value * sum(self.unit_cost[i] * self.s.get((i, self.n), 0.0) for i in self.items)
        self.pnl_total = {c: PNL_COMPONENTS[c] * sum(comp[c].get(t, 0.0) for t in self.T) for c in PNL_COMPONENTS}
        self.pnl_scale = sum(abs(v) for v in self.pnl_total.values())
        pnl = self._table("pnl", [])
        rows = {int(t): row for t, (_, row) in zip(pnl["t"], pnl.iterrows(), strict=True)} if len(pnl) else {}
        for t in self.T:
            row = rows.get(t)
            if row is None:
                self.add("pnl.row_missing", "pnl", t, math.nan, "no row in the pnl table")
                continue
            for c in PNL_COMPONENTS:
                if c in row.index:
                    self.eq(f"pnl.{c}", c, t, float(row[c]), comp[c].get(t, 0.0))
                else:
                    self.add("pnl.column_missing", c, t, math.nan)
            if "profit" in row.index:
                profit = sum(PNL_COMPONENTS[c] * comp[c].get(t, 0.0) for c in PNL_COMPONENTS)
                scale = sum(abs(comp[c].get(t, 0.0)) for c in PNL_COMPONENTS)
                self.eq("pnl.profit", "profit", t, float(row["profit"]), profit, scale)

    # ---- §6 closing balances
    def _check_balances(self) -> None:
        bal = self.res.get("balances")
        if bal is None or not len(bal):
            return
        row = bal.iloc[0]
        expected = {
            "cash": self.c.get(self.n, math.nan),
            "loan": self.lam.get(self.n, math.nan),
            "receivables": self.receivables,
            "payables": self.payables,
            "stock_value": sum(self.unit_cost[i] * self.s.get((i, self.n), 0.0) for i in self.items),
        }
        for col, val in expected.items():
            if col in row.index:
                self.eq(f"balances.{col}", col, None, float(row[col]), val)

    # ---- per-row report columns of the plan tables (derived from data, so checkable)
    def _check_report_columns(self) -> None:
        prod = self.res.get("production")
        if prod is not None and len(prod) and {"item", "routing"} <= set(prod.columns):
            prod = prod.assign(t=_t_column(prod, self.label_to_t))
            for _, row in prod.iterrows():
                i, rho, t = row["item"], str(row["routing"]), int(row["t"])
                if (i, rho) not in self.steps:
                    continue
                ent, x, y = f"{i}/{rho}", float(row["quantity"]), float(row["setup"])
                expected = {"variable_cost": self.unit_cost[i] * x,
                            "setup_cost": self.setup_cost[(i, rho)] * y if self.has_setup[(i, rho)] else 0.0,
                            "available_t": t + self.lead[i]}
                for col, val in expected.items():
                    if col in row.index:
                        self.eq(f"production.{col}", ent, t, float(row[col]), float(val))
                if "budget_line" in row.index and row["budget_line"] != self.routing_line[(i, rho)]:
                    self.add("production.budget_line", ent, t, math.nan,
                             f"reported line {row['budget_line']!r}, first step's resource line {self.routing_line[(i, rho)]!r}")
        pur = self.res.get("purchases")
        if pur is not None and len(pur) and "item" in pur.columns:
            pur = pur.assign(t=_t_column(pur, self.label_to_t))
            for _, row in pur.iterrows():
                m, t = row["item"], int(row["t"])
                if self.kind.get(m) != "material":
                    continue
                q, z = float(row["quantity"]), float(row["order_placed"])
                expected = {"cost": self.unit_cost[m] * q, "order_cost": self.order_cost[m] * z,
                            "arrival_t": t + self.lead[m]}
                for col, val in expected.items():
                    if col in row.index:
                        self.eq(f"purchases.{col}", m, t, float(row[col]), float(val))
                for col, val in (("terms", self.pay_terms[m]), ("budget_line", self.mat_line[m])):
                    if col in row.index and row[col] != val:
                        self.add(f"purchases.{col}", m, t, math.nan, f"reported {row[col]!r}, data {val!r}")
        if "value" in self.inv.columns:
            for i, t, s, val in zip(self.inv["item"], self.inv["t"], self.inv["closing"], self.inv["value"], strict=True):
                if i in self.unit_cost:
                    self.eq("stock.value", i, int(t), float(val), self.unit_cost[i] * float(s))
