"""Big-M values of the setup and order links (docs/model.md §4.5, §4.6).

    production.setup_link:    x[i,ρ,t] ≤ M[i,ρ,t]·y[i,ρ,t]
    procurement.order_link:   q[m,t]   ≤ Mq[m,t]·z[m,t]

**What valid means.** An M may cut off plans, but never every optimal one: with the M the
model has a plan exactly when it has one without, and the same optimal profit. Two kinds of
bound qualify. *Hard* bounds hold in every feasible plan: M_cap, what the routing's
resources can do in t, and, where terminal_value > 1 defeats the need bound, the stock
limit, the budget ceilings and the cash the plan can have (`_Hard`). The *need* bound holds
in one optimal plan, and it is the tight one.

**The argument.** Fix the binaries of an optimal plan and take, among the optimal plans with
those binaries, one with the least total production and purchases Ψ. No *cancellation*
exists then (cuts of lots and orders, none below its min_lot/moq floor, that keep every row
satisfied and the profit from falling), since it would lower Ψ. Cutting a lot of i started
in t by ε lowers i's stock from t + LT_i on and hands q·ε back to each BOM child c from t on
(hours, payments and budget spend only fall). A child *compensates* by cutting q·ε of its
own supply, an order or a lot whose children are handled alike: one arriving by t lowers
c's stock in [arrival, t) instead (c must be above its target there); one arriving after t
but no later than the first period σ_b in which c's stock is at its limit raises it only in
[t, arrival).

**Stuck supply.** If c cannot compensate, all its supply arriving after σ* (the last period
before t with c's stock at its target, or 0) and up to σ_b is *stuck*: open orders, orders
at moq, lots at min_lot, lots that cannot be compensated themselves. So c's stock then is
at most

    H_c(σ) = max(initial_c, max_{σ'<σ} target_min[c,σ']) + Σ_{σ'≤σ} open[c,σ'] + S_c(σ)
    lim_c(σ) = max[c,σ−1] (initial_c if σ = 1) + what arrives in σ (open orders, stuck supply)
    A_c(σ) = min(H_c(σ), lim_c(σ))

with S_c(σ) the stuck supply arriving by σ (moq per possible order; per possible lot
max(min_lot_c, F_c), summed, or min_lot_c each plus the stuck lots' total below). Hence:
a lot started in t that cannot compensate c used at most A_c(t) of it, so it is at most
F(t) = max over such c of A_c(t)/q; c's limit can block a cut for good only if
max[c,σ] ≤ A_c(σ) for some σ ≥ t (c is *pressured*: the §7 example, initial stock above
max_stock, is one); a finite limit that is never that low only *limits* c, and a cut then
passes it or finds a compensation. All of a parent's lots stuck on c used at most
min(G_c, Σ over their periods of A_c) of it, G_c = initial_c + Σ_{σ<n} target_min[c,σ] +
Σ open[c,·] + S_c(n): lots of one period share what is available, lots in separate windows
draw on separate stuck supply, each window starting from the initial stock or a target.

**Profit of a cut**, per unit, w = n − t + 1:

    Δ(i,t) = base + Σ_free q·min(0, tv·unit_cost_c − holding_c·w) + Σ_limited q·(−holding_c·w)
    base   = (1 − tv)·unit_cost_i + holding_i·(n − t − LT_i + 1)   (the lot being bounded)
           = unit_cost_i                                            (a compensating lot)

A compensating child costs nothing (its own cut saves its unit cost; a forward compensation
of a limited child holds at most w periods, counted in Δ). With Δ ≥ 0 only pressured children
need compensation; otherwise also every free or limited child with a negative term, and the
cut pays if base + the positive free terms ≥ 0, always when tv ≤ 1.

**Need and the links** (E: must and lost demand from τ on; Bk: all backlog demand;
Tmax: the highest target min from τ on; starts (ρ,s) of all routings):

    N_i(τ) = E_i(τ) + Bk_i + Σ_(parent p, q) q·P_p(τ) + Tmax_i(τ)
    P_p(τ) = N_p(min(τ + LT_p, n+1)) + min( Σ_{s≥τ} max(min_lot_p, F_p(s)),
                                            Σ_{s≥τ} min_lot_p + Σ_c min(G_c, Σ_s A_c(s))/q )
    M[i,ρ,t] = min(M_cap, max(min_lot_i, N_i(t + LT_i), F_i(t)))
    Mq[m,t]  = max(moq_m, N_m(t + LT_m))

A larger lot could be cut: i's stock stays above its targets from t + LT_i on (nothing else
takes more than N_i), every child is free or can compensate, and the cut pays. P_p bounds
all of p's starts from τ on alike: each is at its floor, stuck on a child, or (the latest
other one) cuttable. An order's cut pays if (1 − tv)·unit_cost_m + holding_m·(n − t − LT_m + 1)
≥ 0. Where a cut may not pay (tv > 1) the bound is the hard one alone. A lot always has one
then (its unit_cost > 0, and it is paid in its period: cash bounds it); an order may not, and
then every unit more of it adds profit without limit (`UnboundedOrder`): the model is not
built. With tv > 1 the model may be unbounded in other ways; the same cancellation applied to
an improving direction (where nothing is stuck) shows the model with M is unbounded too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from formulations.plan_data import PlanData, UnboundedOrder

if TYPE_CHECKING:
    from solver.io.instance import BudgetSettings, CashSettings, OpeningBalances

INF = math.inf


@dataclass
class BigM:
    x_bound: dict[tuple[str, str, int], float] = field(default_factory=dict)
    q_bound: dict[tuple[str, int], float] = field(default_factory=dict)
    unbounded: list[UnboundedOrder] = field(default_factory=list)


class UnboundedOrderError(ValueError):
    """Some order link has no finite big-M: the plan is unbounded (see `UnboundedOrder`)."""

    def __init__(self, links: list[UnboundedOrder], terminal_value: float, periods: tuple[str, ...] = ()) -> None:
        self.links = links
        self.terminal_value = terminal_value
        super().__init__("; ".join(f"{what} (expected {expected})"
                                   for _item, what, expected in explain(links, terminal_value, periods)))


def explain(links: list[UnboundedOrder], terminal_value: float,
            periods: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(item, what is wrong, what would fix it) per item, in the order of `links`;
    `periods`: the period labels (else periods are numbered 1..n)."""
    by_item: dict[str, list[UnboundedOrder]] = defaultdict(list)
    for u in links:
        by_item[u.item].append(u)
    out = []
    for item, us in by_item.items():
        labels = [periods[u.t - 1] if periods else str(u.t) for u in sorted(us, key=lambda u: u.t)]
        what = (f"terminal_value {terminal_value:g} > 1 values closing stock of {item!r} above what it costs "
                f"to buy and hold, and nothing bounds its orders in period{'s' if len(us) > 1 else ''} "
                f"{', '.join(labels)}: every unit more adds profit, so no plan is best")
        out.append((item, what, f"{', or '.join(us[0].fixes)}, or policy.terminal_value <= 1"))
    return out


def big_m(d: PlanData, terminal_value: float, cash: CashSettings, budget: BudgetSettings,
          opening: OpeningBalances) -> BigM:
    """M for every setup link (d.y_index) and Mq for every order link (d.z_index); see the
    module docstring. `opening`: a re-plan's receivables and carried budget, which raise what
    the plan can pay and commit (the cash and budget bounds used when tv > 1)."""
    return _Derivation(d, terminal_value, cash, budget, opening).run()


class _Derivation:
    """The computation of the module docstring: stuck supply bottom-up (children before
    parents), then need, totals and the links top-down (parents before children)."""

    def __init__(self, d: PlanData, tv: float, cash: CashSettings, budget: BudgetSettings,
                 opening: OpeningBalances) -> None:
        self.d, self.tv = d, tv
        self.n = d.n
        self.children: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for child, parents in d.parents_of.items():
            for parent, qty in parents:
                if qty > 0:  # a zero quantity consumes nothing: no link between the two
                    self.children[parent].append((child, qty))
        g = nx.DiGraph()
        g.add_nodes_from(d.kind)
        g.add_edges_from((p, c) for p, cs in self.children.items() for c, _q in cs)
        self.order = list(nx.lexicographical_topological_sort(g))  # parents before children
        self.routings_at: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
        for i, rho, t in d.x_index:
            self.routings_at[i][t].append(rho)
        self.orders: dict[str, list[int]] = defaultdict(list)
        for m, t in d.q_index:
            self.orders[m].append(t)
        self.y_set, self.z_set = set(d.y_index), set(d.z_index)
        self.tmin = {i: self._per_period(d.target_min, i) for i in d.kind}
        self.tmax = {i: self._per_period(d.target_max, i, INF) for i in d.kind}
        self.hard = _Hard(d, cash, budget, opening) if tv > 1 else None
        # per item, filled bottom-up (index = period 0..n+1)
        self.fail: dict[str, np.ndarray] = {}  # A_c(σ): c available in σ when it cannot be compensated
        self.stuck_total: dict[str, float] = {}  # G_c: all stuck supply over the horizon
        self.pressured_from: dict[str, np.ndarray] = {}
        self.limited_from: dict[str, np.ndarray] = {}

    def _per_period(self, values: Mapping[tuple[str, int], float], item: str, blank: float = 0.0) -> np.ndarray:
        a = np.full(self.n + 2, blank)
        for t in range(1, self.n + 1):
            a[t] = values.get((item, t), blank)
        return a

    def run(self) -> BigM:
        for c in reversed(self.order):
            self._stuck_supply(c)
        return self._need_and_links()

    # ------------------------------------------------------------ bottom-up: stuck supply

    def _stuck_supply(self, c: str) -> None:
        """A_c, G_c and the pressured/limited flags of item c (its children are done)."""
        d, n = self.d, self.n
        each = np.zeros(n + 2)  # per arrival period: the most a stuck event can bring (floor or F)
        floor = np.zeros(n + 2)  # per arrival period: the floors alone
        failing = _Failing(self)  # lots of c stuck because a child of theirs cannot be compensated
        if d.kind[c] == "material":
            for t in self.orders[c]:
                if (c, t) in self.z_set:
                    each[t + d.lead[c]] += d.moq[c]
                    floor[t + d.lead[c]] += d.moq[c]
        else:
            for s, rhos in self.routings_at[c].items():
                need_comp, _valid = self._needing(c, s, d.unit_cost[c])
                F = self._lot_cap(need_comp, s)
                arrival = s + d.lead[c]
                each[arrival] += len(rhos) * max(d.min_lot[c], F)
                floor[arrival] += len(rhos) * d.min_lot[c]
                failing.add(need_comp, s, arrival)
        stuck = np.minimum(np.cumsum(each), np.cumsum(floor) + failing.cumulative())
        held = np.maximum.accumulate(np.concatenate(([d.initial_stock[c]], self.tmin[c][1 : n + 1], [0.0])))
        held = np.concatenate(([held[0]], held[:-1]))  # held[σ]: initial stock or a target before σ
        opened = self._per_period(d.open_orders, c)
        H = held + np.cumsum(opened) + stuck
        before = np.concatenate(([INF, d.initial_stock[c]], self.tmax[c][1:n], [INF]))  # the limit of σ − 1
        fail = np.minimum(H, before + opened + each)
        fail[0] = fail[n + 1] = 0.0
        self.fail[c] = fail
        self.stuck_total[c] = d.initial_stock[c] + float(self.tmin[c][1:n].sum()) + float(opened.sum()) + float(stuck[n])
        limit = self.tmax[c]
        finite = np.isfinite(limit)
        finite[0] = finite[n + 1] = False
        pressed = finite & (limit <= fail)
        self.pressured_from[c] = np.logical_or.accumulate(pressed[::-1])[::-1]
        self.limited_from[c] = np.logical_or.accumulate(finite[::-1])[::-1]

    def _needing(self, i: str, s: int, base: float) -> tuple[list[tuple[str, float]], bool]:
        """The children of i a cut of its lot started in s must compensate, and whether the
        cut keeps the profit (module docstring, Δ); `base` is the cut's own saving per unit."""
        d, w = self.d, self.n - s + 1
        need_comp: list[tuple[str, float]] = []
        negative: list[tuple[str, float]] = []
        delta, positive = base, 0.0
        for c, q in self.children.get(i, ()):
            if self.pressured_from[c][s]:
                need_comp.append((c, q))
                continue
            term = -d.holding_cost[c] * w if self.limited_from[c][s] else self.tv * d.unit_cost[c] - d.holding_cost[c] * w
            if term < 0:
                delta += q * term
                negative.append((c, q))
            else:
                positive += q * term
        if delta >= 0:
            return need_comp, True
        return need_comp + negative, base + positive >= 0

    def _lot_cap(self, need_comp: list[tuple[str, float]], s: int) -> float:
        """F(s): the largest lot in s that a child needing compensation may leave uncut."""
        return max((self.fail[c][s] / q for c, q in need_comp), default=0.0)

    # ------------------------------------------------------------ top-down: need and links

    def _need_and_links(self) -> BigM:
        d, n, tv = self.d, self.n, self.tv
        out = BigM()
        ext = {i: np.zeros(n + 2) for i in d.kind}  # must and lost demand by period
        backlog_total = dict.fromkeys(d.kind, 0.0)  # backlog can be served by any period's lot
        for (p, k, t), qty in d.demand.items():
            if d.service[k] == "backlog":
                backlog_total[p] += qty
            else:
                ext[p][t] += qty
        made_total: dict[str, np.ndarray] = {}  # P_p(τ), τ = 0..n+1
        tau = np.arange(n + 2)
        for i in self.order:
            use = np.zeros(n + 2)
            use[1 : n + 1] = np.cumsum(ext[i][1 : n + 1][::-1])[::-1] + backlog_total[i]
            for parent, qty in self.d.parents_of.get(i, []):
                if qty > 0:
                    use += qty * made_total[parent]
            target = np.maximum.accumulate(self.tmin[i][::-1])[::-1]
            target[n + 1] = 0.0
            need = use + target
            lt = d.lead[i]
            if d.kind[i] == "material":
                for t in self.orders[i]:
                    if (i, t) in self.z_set:
                        out.q_bound[(i, t)] = self._order_bound(i, t, need)
                        if not math.isfinite(out.q_bound[(i, t)]):
                            out.unbounded.append(UnboundedOrder(i, t, self.hard.order_fixes(i)))
                continue
            each = np.zeros(n + 2)  # per start period: the most each start can make, summed
            floor = np.zeros(n + 2)
            failing = _Failing(self)
            for s, rhos in sorted(self.routings_at[i].items()):
                base = (1 - tv) * d.unit_cost[i] + d.holding_cost[i] * (n - s - lt + 1)
                need_comp, valid = self._needing(i, s, base)
                F = self._lot_cap(need_comp, s)
                for rho in rhos:
                    key = (i, rho, s)
                    cap = _capacity_bound(d, i, rho, s)
                    hard = min(cap, self.hard.lot(i, rho, s)) if self.hard else cap
                    if self.hard:
                        self.hard.record_lot(key, hard)
                    each[s] += max(d.min_lot[i], F) if valid else hard
                    floor[s] += d.min_lot[i] if valid else hard
                    if key in self.y_set:  # finite: `valid` unless tv > 1 and unit_cost > 0, then cash bounds it
                        out.x_bound[key] = min(hard, max(d.min_lot[i], need[s + lt], F) if valid else INF)
                if valid:
                    failing.add(need_comp, s, s)
            from_tau = np.minimum(_suffix(each), _suffix(floor) + failing.from_each())
            made_total[i] = need[np.minimum(tau + lt, n + 1)] + from_tau
        return out

    def _order_bound(self, m: str, t: int, need: np.ndarray) -> float:
        d = self.d
        arrival = t + d.lead[m]
        cut_pays = (1 - self.tv) * d.unit_cost[m] + d.holding_cost[m] * (self.n - arrival + 1) >= 0
        need_m = max(d.moq[m], need[arrival]) if cut_pays else INF
        return min(self.hard.order(m, t) if self.hard else INF, need_m)


def _suffix(a: np.ndarray) -> np.ndarray:
    return np.cumsum(a[::-1])[::-1]


class _Failing:
    """Σ over a parent's lots that a child c cannot compensate: by c, at most
    min(G_c, Σ over their distinct periods s of A_c(s)) / q, since the lots of one period
    share what c has available then, and lots in separate windows draw on separate stuck
    supply (module docstring). Indexed by the period the lots count in: arrival (for H)
    or start (for P)."""

    def __init__(self, der: _Derivation) -> None:
        self.der = der
        self.by_child: dict[str, tuple[float, np.ndarray]] = {}  # c -> (q, A_c(s) by period)

    def add(self, need_comp: list[tuple[str, float]], s: int, at: int) -> None:
        """The lots started in s (counted in period `at`) may be stuck on these children."""
        for c, q in need_comp:
            _q, arr = self.by_child.setdefault(c, (q, np.zeros(self.der.n + 2)))
            arr[at] += self.der.fail[c][s]

    def _total(self, spread) -> np.ndarray:
        out = np.zeros(self.der.n + 2)
        for c, (q, arr) in self.by_child.items():
            out += np.minimum(self.der.stuck_total[c], spread(arr)) / q
        return out

    def cumulative(self) -> np.ndarray:
        """Failing lots counted by σ (σ = 0..n+1)."""
        return self._total(np.cumsum)

    def from_each(self) -> np.ndarray:
        """Failing lots counted in τ or later (τ = 0..n+1)."""
        return self._total(_suffix)


def _capacity_bound(d: PlanData, i: str, rho: str, t: int) -> float:
    """M_cap: the most one lot can be when its steps' resources give it everything in t."""
    bound = INF
    for s in d.steps[(i, rho)]:
        c = d.capacity[(s.resource, t)]
        if s.hours_per_unit > 0 and math.isfinite(c):
            avail = (1 - d.reserve[s.resource]) * c + d.overtime_max[s.resource] - s.setup_hours
            bound = min(bound, max(avail, 0.0) / s.hours_per_unit)
    return bound


class _Hard:
    """Bounds on a lot or an order that hold in every feasible plan (used when tv > 1).

    Stock: a lot of i arriving in a (or an order) enters i's stock, which may hold at most
    max[i,σ] at the end of any σ ≥ a, while at most the shipments (must/lost: the demand;
    backlog: the cumulative demand) and the parents' starts (at most their own hard bounds)
    leave it in a..σ:   x ≤ min_σ≥a ( max[i,σ] + outflow(a..σ) ).
    Budget: unit_cost·x is committed to the line in the start (order) period, so it is at
    most the allocation the line can get by then plus the emergency pool.
    Cash: every payment up to T is at most c0 − (1+rate)·λ0 + credit_limit + the receipts
    possible by T (sales at their prices, a re-plan's receivables) − overhead − fixed costs −
    min_balance[T]; a lot is paid in its start period, an order share by share from arrival
    (shares after n are payables and bound nothing).
    """

    def __init__(self, d: PlanData, cash: CashSettings, budget: BudgetSettings, opening: OpeningBalances) -> None:
        self.d = d
        n = d.n
        self.starts_hard: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n + 2))  # Σ_ρ bound by start
        # shipments: must/lost per period, backlog cumulative
        self.ship_each = defaultdict(lambda: np.zeros(n + 2))
        self.ship_late = defaultdict(lambda: np.zeros(n + 2))
        for (p, k, t), qty in d.demand.items():
            (self.ship_late if d.service[k] == "backlog" else self.ship_each)[p][t] += qty
        # cash: the most that can be paid in periods 1..T, T = 1..n
        revenue = np.zeros(n + 2)
        late: dict[tuple[str, str], list[tuple[int, float, float]]] = defaultdict(list)
        for (p, k, t), qty in d.demand.items():
            if d.service[k] == "backlog":
                late[(p, k)].append((t, qty, 0.0))
            else:
                revenue[t] += d.price[(p, k, t)] * qty
        for p, k, t in d.ship_index:
            if d.service[k] == "backlog":
                late[(p, k)].append((t, 0.0, d.price[(p, k, t)]))
        receipts = np.cumsum(revenue)
        for rows in late.values():  # at most the highest price by T on the demand owed by T
            owed, top = np.zeros(n + 2), np.zeros(n + 2)
            for t, qty, price in rows:
                owed[t] += qty
                top[t] = max(top[t], price)
            receipts += np.cumsum(owed) * np.maximum.accumulate(top)
        fixed = sum(d.fixed_cost.values())
        paid = np.full(n + 2, INF)
        for T in range(1, n + 1):
            paid[T] = (cash.initial - (1 + cash.interest_rate) * cash.initial_loan + cash.credit_limit
                       + receipts[T] + sum(v for t, v in opening.receivables.items() if t <= T)
                       - sum(d.overhead[t] for t in range(1, T + 1)) - fixed * T - d.cash_min[T])
        self.paid = np.maximum(paid, 0.0)
        self.paid_from = np.minimum.accumulate(self.paid[::-1])[::-1]  # min over T ≥ t
        self.pool = budget.pool
        self.emergency = budget.emergency_pool
        self.carried = opening.budget_carried

    def record_lot(self, key: tuple[str, str, int], value: float) -> None:
        """The hard bound of a start (parents are recorded before their children's stock bound)."""
        self.starts_hard[key[0]][key[2]] += value

    def _budget(self, line: str, t: int) -> float:
        d = self.d
        if d.carryover[line]:  # cumulative spend ≤ cumulative allocation + emergency + carried
            per = sum(d.period_ceiling.get((line, tau), INF) for tau in range(1, t + 1))
            return min(per, d.line_ceiling[line], self.pool) + self.emergency + self.carried.get(line, 0.0)
        per = d.period_ceiling.get((line, t), INF)
        return min(per, d.line_ceiling[line], self.pool) + self.emergency

    def _stock(self, i: str, arrival: int) -> float:
        d, n = self.d, self.d.n
        limit = [d.target_max[(i, s)] for s in range(arrival, n + 1)]
        if not any(math.isfinite(v) for v in limit):
            return INF
        out = self.ship_each[i].copy()
        for parent, qty in d.parents_of.get(i, []):
            if qty > 0:
                out += qty * self.starts_hard[parent]
        flow = np.cumsum(out[arrival:n + 1]) + np.cumsum(self.ship_late[i])[arrival:n + 1]
        return float(min(lim + f for lim, f in zip(limit, flow, strict=True)))

    def lot(self, i: str, rho: str, s: int) -> float:
        d = self.d
        bound = self._stock(i, s + d.lead[i])
        uc = d.unit_cost[i]
        if uc > 0:
            bound = min(bound, self._budget(d.routing_line[(i, rho)], s) / uc, self.paid_from[s] / uc)
        return max(bound, 0.0)

    def order(self, m: str, t: int) -> float:
        d = self.d
        arrival = t + d.lead[m]
        bound = self._stock(m, arrival)
        uc = d.unit_cost[m]
        if uc > 0:
            bound = min(bound, self._budget(d.material_line[m], t) / uc)
            for T in range(1, d.n + 1):
                share = sum(sh for lag, sh in d.terms[d.pay_terms[m]] if arrival + lag <= T)
                if share > 0:
                    bound = min(bound, self.paid[T] / (share * uc))
        return max(bound, 0.0)

    def order_fixes(self, m: str) -> tuple[str, ...]:
        """What would bound an order of m (the data have none of it; unit_cost_m > 0 here)."""
        d = self.d
        return (f"a max_stock of {m!r}", f"a ceiling on budget line {d.material_line[m]!r} or a budget pool",
                f"payment terms that pay within the horizon (now {d.pay_terms[m]!r})")
