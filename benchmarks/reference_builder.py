"""Reference builder for the hand-off benchmark (issue 8, target 1): the prodbudget model built
directly as numpy arrays and handed to HiGHS with one `Highs.passModel`, no Pyomo at all.

It builds the *same* LP/MIP as `formulations.assembly.build_model` (docs/model.md §3–§5, every row
family the blocks declare) from the prepared data (`formulations.data.prepare` -> PlanData):
the index sets, big-M bounds, carried-forward prices and backlog/lost sets come from PlanData,
and each family's coefficients are laid out with vectorised numpy (one triplet batch per
family) instead of one Python call per row. Columns come in the same order as ours (the
variable components in block order). Extensions (re-plans, rush orders) are not covered.

The proof that it is the same model: its LP relaxation optimum equals ours
(tests/test_reference_builder.py on small generated instances; benchmarks/handoff.py checks it
again at every benchmark size). Solution read-back is one tidy DataFrame per variable family
(keys + value), the cheapest honest "solution back in DataFrames"; our route's `extract_tables`
produces the full docs/model.md §6 report tables, which is more work.

    from benchmarks.reference_builder import build_reference   # (or load the file by path)
    ref = build_reference(inst)          # inst: solver.io.instance.Instance
    h = highspy.Highs(); h.passModel(ref.to_lp(integer=False)); h.run()
    frames = ref.frames(np.array(h.getSolution().col_value))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp

from formulations.data import prepare
from formulations.plan_data import PlanData

INF = math.inf


def _codes(values, categories) -> np.ndarray:
    """Position of each value in `categories` (-1 if absent), vectorised."""
    return pd.Categorical(values, categories=categories).codes.astype(np.int64)


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For owners with `counts[k]` children each: (owner of each child, rank within owner)."""
    owner = np.repeat(np.arange(len(counts)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    return owner, np.arange(len(owner)) - start


@dataclass
class _Cols:
    n: int = 0
    blocks: dict = field(default_factory=dict)  # name -> (start, keys DataFrame)
    lower: list = field(default_factory=list)
    upper: list = field(default_factory=list)
    integer: list = field(default_factory=list)

    def add(self, name: str, keys: pd.DataFrame, lower, upper, integer: bool = False) -> np.ndarray:
        k = len(keys)
        start = self.n
        self.n += k
        self.blocks[name] = (start, keys)
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (k,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (k,)))
        self.integer.append(np.full(k, integer))
        return start + np.arange(k)


@dataclass
class _Rows:
    n: int = 0
    families: dict = field(default_factory=dict)  # name -> (start, count)
    lower: list = field(default_factory=list)
    upper: list = field(default_factory=list)
    r: list = field(default_factory=list)
    c: list = field(default_factory=list)
    v: list = field(default_factory=list)

    def add(self, name: str, count: int, lower, upper) -> np.ndarray:
        start = self.n
        self.n += count
        self.families[name] = (start, count)
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)))
        return start + np.arange(count)

    def terms(self, rows, cols, vals) -> None:
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape)
        self.r.append(rows)
        self.c.append(cols)
        self.v.append(vals)


@dataclass
class ReferenceModel:
    """The model as arrays (HiGHS's column-wise LP), plus the key tables of each column block."""

    cost: np.ndarray
    offset: float
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    A: sp.csc_array
    is_integer: np.ndarray
    blocks: dict  # variable family -> (first column, keys DataFrame)
    families: dict  # row family -> (first row, count)

    @property
    def num_rows(self) -> int:
        return self.A.shape[0]

    @property
    def num_cols(self) -> int:
        return self.A.shape[1]

    def to_lp(self, integer: bool = True) -> highspy.HighsLp:
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.A.shape[1], self.A.shape[0]
        lp.col_cost_ = self.cost
        lp.col_lower_ = self.col_lower
        lp.col_upper_ = self.col_upper
        lp.row_lower_ = self.row_lower
        lp.row_upper_ = self.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = self.A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = self.A.indices.astype(np.int32)
        lp.a_matrix_.value_ = self.A.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = self.A.shape[1], self.A.shape[0]
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.offset_ = self.offset
        if integer and self.is_integer.any():
            lp.integrality_ = np.where(self.is_integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous).tolist()
        return lp

    def frames(self, values: np.ndarray) -> dict[str, pd.DataFrame]:
        """One tidy DataFrame per variable family: its index columns plus `value`."""
        out = {}
        for name, (start, keys) in self.blocks.items():
            df = keys.copy()
            df["value"] = values[start:start + len(keys)]
            out[name] = df
        return out


def build_reference(inst, data: PlanData | None = None) -> ReferenceModel:
    """The docs/model.md model of `inst` as arrays (see the module docstring)."""
    d = prepare(inst) if data is None else data
    cash, budget, policy = inst.cash, inst.budget, inst.policy
    n = d.n
    T = np.arange(1, n + 1)
    items = list(d.kind)
    resources = d.resources
    lines = d.lines
    channels = list(d.service)
    products = [i for i in items if d.kind[i] == "product"]
    routings = d.routings
    uc_item = np.array([d.unit_cost[i] for i in items])
    lead_item = np.array([d.lead[i] for i in items], dtype=np.int64)
    item_of = {i: k for k, i in enumerate(items)}
    line_of = {b: k for k, b in enumerate(lines)}
    res_of = {r: k for k, r in enumerate(resources)}

    # --- routing steps as flat arrays (routing id -> its steps, file order)
    step_count = np.array([len(d.steps[k]) for k in routings], dtype=np.int64)
    flat = [s for k in routings for s in d.steps[k]]
    step_res = np.array([res_of[s.resource] for s in flat], dtype=np.int64)
    step_hpu = np.array([s.hours_per_unit for s in flat])
    step_sh = np.array([s.setup_hours for s in flat])
    step_sc = np.array([s.setup_cost for s in flat])
    step_first = np.cumsum(step_count) - step_count
    rt_item = _codes([i for i, _ in routings], items)
    rt_line = np.array([line_of[d.routing_line[k]] for k in routings], dtype=np.int64)
    res_line = np.array([line_of[d.resource_line[r]] for r in resources], dtype=np.int64)

    # --- index sets as arrays
    def keys3(index, names):
        return pd.DataFrame(index, columns=names) if index else pd.DataFrame({c: pd.Series(dtype=object if c != "t" else np.int64) for c in names})

    ship_k = keys3(d.ship_index, ["product", "channel", "t"])
    back_k = keys3(d.backlog_index, ["product", "channel", "t"])
    lost_k = keys3(d.lost_index, ["product", "channel", "t"])
    x_k = keys3(d.x_index, ["item", "routing", "t"])
    y_k = keys3(d.y_index, ["item", "routing", "t"])
    q_k = keys3(d.q_index, ["item", "t"])
    z_k = keys3(d.z_index, ["item", "t"])
    K = len(channels)
    P = len(products)
    pk_key = lambda df: ((_codes(df["product"], products) * K + _codes(df["channel"], channels)) * (n + 2) + df["t"].to_numpy())  # noqa: E731
    rt_id = pd.MultiIndex.from_tuples(routings) if routings else None
    x_rt = rt_id.get_indexer(pd.MultiIndex.from_arrays([x_k["item"], x_k["routing"]])) if len(x_k) else np.zeros(0, np.int64)
    y_rt = rt_id.get_indexer(pd.MultiIndex.from_arrays([y_k["item"], y_k["routing"]])) if len(y_k) else np.zeros(0, np.int64)
    x_t, y_t = x_k["t"].to_numpy(np.int64), y_k["t"].to_numpy(np.int64)
    q_m, z_m = _codes(q_k["item"], items), _codes(z_k["item"], items)
    q_t, z_t = q_k["t"].to_numpy(np.int64), z_k["t"].to_numpy(np.int64)
    ship_p, ship_c = _codes(ship_k["product"], items), _codes(ship_k["channel"], channels)
    ship_t = ship_k["t"].to_numpy(np.int64)

    # capacity rows: finite capacity and some nonzero hours term in (r, t)
    cap = np.array([[d.capacity[(r, t)] for t in T] for r in resources]).reshape(len(resources), n)
    x_own, x_rank = _expand(step_count[x_rt]) if len(x_rt) else (np.zeros(0, np.int64),) * 2
    x_step = step_first[x_rt][x_own] + x_rank
    y_own, y_rank = _expand(step_count[y_rt]) if len(y_rt) else (np.zeros(0, np.int64),) * 2
    y_step = step_first[y_rt][y_own] + y_rank
    used = np.zeros((len(resources), n + 1), dtype=bool)
    hx = step_hpu[x_step] != 0
    hy = step_sh[y_step] != 0
    used[step_res[x_step][hx], x_t[x_own][hx]] = True
    used[step_res[y_step][hy], y_t[y_own][hy]] = True
    cap_rows = used[:, 1:] & np.isfinite(cap)
    cap_r, cap_t0 = np.nonzero(cap_rows)  # resource-major, t ascending: our row order
    ot_max = np.array([d.overtime_max[r] for r in resources])
    has_ot = ot_max[cap_r] > 0
    ot_r, ot_t = cap_r[has_ot], cap_t0[has_ot] + 1

    stock_keys = pd.DataFrame({"item": np.repeat(np.array(items, dtype=object), n), "t": np.tile(T, len(items))})
    tmin = np.array([d.target_min[(i, t)] for i in items for t in T]).reshape(len(items), n) if items else np.zeros((0, n))
    tmax = np.array([d.target_max[(i, t)] for i in items for t in T]).reshape(len(items), n) if items else np.zeros((0, n))
    soft_item = np.array([i in d.safety_penalty for i in items], dtype=bool)
    soft = soft_item[:, None] & (tmin > 0)
    u_i, u_t0 = np.nonzero(soft)
    has_loan = cash.credit_limit > 0 or cash.initial_loan > 0
    emergency = budget.emergency_pool > 0

    # --- columns, in our block order
    cols = _Cols()
    c_ship = cols.add("sales.ship", ship_k, 0.0, INF)
    c_back = cols.add("sales.backlog", back_k, 0.0, INF)
    c_lost = cols.add("sales.lost", lost_k, 0.0, INF)
    c_x = cols.add("production.x", x_k, 0.0, INF)
    c_y = cols.add("production.y", y_k, 0.0, 1.0, integer=True)
    c_q = cols.add("procurement.q", q_k, 0.0, INF)
    c_z = cols.add("procurement.z", z_k, 0.0, 1.0, integer=True)
    c_ot = cols.add("capacity.overtime", pd.DataFrame({"resource": np.array(resources, dtype=object)[ot_r], "t": ot_t}), 0.0, INF)
    c_s0 = cols.add("inventory.stock", stock_keys, 0.0, INF)[0] if len(stock_keys) else 0
    c_u = cols.add("inventory.shortfall", pd.DataFrame({"item": np.array(items, dtype=object)[u_i], "t": u_t0 + 1}), 0.0, tmin[u_i, u_t0])
    c_cash = cols.add("cash.cash", pd.DataFrame({"t": T}), -INF, INF)
    c_loan = cols.add("cash.loan", pd.DataFrame({"t": T if has_loan else np.zeros(0, np.int64)}), 0.0, INF)
    alloc_keys = pd.DataFrame({"line": np.repeat(np.array(lines, dtype=object), n), "t": np.tile(T, len(lines))})
    c_a = cols.add("budget.alloc", alloc_keys, 0.0, INF)
    c_e = cols.add("budget.emergency", alloc_keys if emergency else alloc_keys.iloc[:0], 0.0, INF)
    stock_col = lambda item_code, t: c_s0 + item_code * n + (t - 1)  # noqa: E731

    def lookup(keys_int: np.ndarray, cols_: np.ndarray, size: int) -> np.ndarray:
        table = np.full(size, -1, dtype=np.int64)
        table[keys_int] = cols_
        return table

    pk_size = max(P, 1) * max(K, 1) * (n + 2)
    back_of = lookup(pk_key(back_k), c_back, pk_size) if len(back_k) else np.full(pk_size, -1)
    lost_of = lookup(pk_key(lost_k), c_lost, pk_size) if len(lost_k) else np.full(pk_size, -1)
    x_of = lookup(x_rt * (n + 1) + x_t, c_x, max(len(routings), 1) * (n + 1))
    q_of = lookup(q_m * (n + 1) + q_t, c_q, max(len(items), 1) * (n + 1))

    rows = _Rows()
    cost = np.zeros(cols.n)
    offset = 0.0

    # --- sales.demand, sales.backlog_end (§4.3)
    svc = np.array([d.service[k] for k in channels], dtype=object)
    mode = svc[ship_c] if len(ship_c) else np.zeros(0, dtype=object)
    qty = np.fromiter((d.demand.get(k, 0.0) for k in d.ship_index), dtype=float, count=len(d.ship_index))
    r = rows.add("sales.demand", len(c_ship), qty, qty)
    rows.terms(r, c_ship, 1.0)
    skey = pk_key(ship_k) if len(ship_k) else np.zeros(0, np.int64)
    lo = mode == "lost"
    rows.terms(r[lo], lost_of[skey[lo]], 1.0)
    bl = mode == "backlog"
    rows.terms(r[bl], back_of[skey[bl]], 1.0)
    prev = np.where(bl, back_of[np.maximum(skey - 1, 0)], -1)
    hp = bl & (prev >= 0) & (ship_t > 1)
    rows.terms(r[hp], prev[hp], -1.0)
    lost_c = _codes(lost_k["channel"], channels)
    end = svc[lost_c] == "backlog" if len(lost_c) else np.zeros(0, bool)
    r = rows.add("sales.backlog_end", int(end.sum()), 0.0, 0.0)
    rows.terms(r, c_lost[end], 1.0)
    rows.terms(r, back_of[pk_key(lost_k)[end]] if end.any() else np.zeros(0, np.int64), -1.0)

    # --- production.setup_link, production.min_lot (§4.5)
    y_item = rt_item[y_rt]
    y_x = x_of[y_rt * (n + 1) + y_t]
    M = np.fromiter((d.x_bound[k] for k in d.y_index), dtype=float, count=len(d.y_index))
    r = rows.add("production.setup_link", len(c_y), -INF, 0.0)
    rows.terms(r, y_x, 1.0)
    rows.terms(r, c_y, -M)
    min_lot = np.array([d.min_lot[i] for i in items])
    ml = min_lot[y_item] > 0 if len(y_item) else np.zeros(0, bool)
    r = rows.add("production.min_lot", int(ml.sum()), 0.0, INF)
    rows.terms(r, y_x[ml], 1.0)
    rows.terms(r, c_y[ml], -min_lot[y_item[ml]])

    # --- procurement.order_link, procurement.moq (§4.6)
    z_q = q_of[z_m * (n + 1) + z_t]
    Mq = np.fromiter((d.q_bound[k] for k in d.z_index), dtype=float, count=len(d.z_index))
    r = rows.add("procurement.order_link", len(c_z), -INF, 0.0)
    rows.terms(r, z_q, 1.0)
    rows.terms(r, c_z, -Mq)
    moq = np.array([d.moq.get(i, 0.0) for i in items])
    mq = moq[z_m] > 0 if len(z_m) else np.zeros(0, bool)
    r = rows.add("procurement.moq", int(mq.sum()), 0.0, INF)
    rows.terms(r, z_q[mq], 1.0)
    rows.terms(r, c_z[mq], -moq[z_m[mq]])

    # --- capacity.hours, capacity.overtime_limit (§4.4)
    reserve = np.array([d.reserve[r_] for r_ in resources])
    cap_row_of = np.full((len(resources), n + 1), -1, dtype=np.int64)
    r = rows.add("capacity.hours", len(cap_r), -INF, (1.0 - reserve[cap_r]) * cap[cap_r, cap_t0])
    cap_row_of[cap_r, cap_t0 + 1] = r
    xr = cap_row_of[step_res[x_step], x_t[x_own]]
    keep = hx & (xr >= 0)
    rows.terms(xr[keep], c_x[x_own][keep], step_hpu[x_step][keep])
    yr = cap_row_of[step_res[y_step], y_t[y_own]]
    keep = hy & (yr >= 0)
    rows.terms(yr[keep], c_y[y_own][keep], step_sh[y_step][keep])
    rows.terms(cap_row_of[ot_r, ot_t], c_ot, -1.0)
    r = rows.add("capacity.overtime_limit", len(c_ot), -INF, ot_max[ot_r])
    rows.terms(r, c_ot, 1.0)

    # --- inventory.balance (§4.1, §4.2): s[t] - s[t-1] - inflows + outflows = open (+ initial)
    n_items = len(items)
    rhs = np.zeros((n_items, n))
    for (i, t), v in d.open_orders.items():
        rhs[item_of[i], t - 1] += v
    rhs[:, 0] += np.array([d.initial_stock[i] for i in items]) if n_items else 0.0
    r_bal = rows.add("inventory.balance", n_items * n, rhs.ravel(), rhs.ravel())
    bal = lambda item_code, t: r_bal[0] + item_code * n + (t - 1) if len(r_bal) else item_code  # noqa: E731
    rows.terms(r_bal, c_s0 + np.arange(n_items * n), 1.0)
    ii, tt = np.divmod(np.arange(n_items * n), n)
    later = tt > 0
    rows.terms(r_bal[later], stock_col(ii[later], tt[later]), -1.0)  # s[t-1]: column of (i, t-1)
    rows.terms(bal(ship_p, ship_t), c_ship, 1.0)
    x_item = rt_item[x_rt]
    rows.terms(bal(x_item, x_t + lead_item[x_item]), c_x, -1.0)
    # BOM children consumed by a start in t
    child_rows = [(item_of[c], item_of[p], q_) for c, ps in d.parents_of.items() for p, q_ in ps]
    if child_rows and len(x_item):
        bc, bp, bq = (np.array(a) for a in zip(*child_rows, strict=True))
        order = np.argsort(bp, kind="stable")
        bc, bp, bq = bc[order], bp[order], bq[order]
        per_parent = np.bincount(bp, minlength=n_items)
        first = np.cumsum(per_parent) - per_parent
        own, rank = _expand(per_parent[x_item])
        e = first[x_item[own]] + rank
        nz = bq[e] != 0
        rows.terms(bal(bc[e][nz], x_t[own][nz]), c_x[own][nz], bq[e][nz])
    rows.terms(bal(q_m, q_t + lead_item[q_m]), c_q, -1.0)

    # --- inventory.target_min, inventory.target_max (§4.7)
    ti, tt0 = np.nonzero(tmin > 0)
    r = rows.add("inventory.target_min", len(ti), tmin[ti, tt0], INF)
    rows.terms(r, stock_col(ti, tt0 + 1), 1.0)
    u_row = np.full((n_items, n), -1, dtype=np.int64)
    u_row[ti, tt0] = r
    rows.terms(u_row[u_i, u_t0], c_u, 1.0)
    mi, mt0 = np.nonzero(np.isfinite(tmax))
    r = rows.add("inventory.target_max", len(mi), -INF, tmax[mi, mt0])
    rows.terms(r, stock_col(mi, mt0 + 1), 1.0)

    # --- cash.balance, cash.min_cash, cash.credit_limit (§4.8)
    fixed = np.array([d.fixed_cost[r_] for r_ in resources])
    fixed_total = float(fixed[fixed != 0].sum())
    overhead = np.array([d.overhead[t] if (cash.overhead or d.overhead[t]) else 0.0 for t in T])
    rate = cash.interest_rate
    c_rhs = -(fixed_total + overhead)
    c_rhs[0] += cash.initial
    if has_loan:
        c_rhs[0] -= (1.0 + rate) * cash.initial_loan
    r_cash = rows.add("cash.balance", n, c_rhs, c_rhs)
    rows.terms(r_cash, c_cash, 1.0)
    rows.terms(r_cash[1:], c_cash[:-1], -1.0)
    if has_loan:
        rows.terms(r_cash, c_loan, -1.0)
        rows.terms(r_cash[1:], c_loan[:-1], 1.0 + rate)

    def by_terms(terms_of_owner: list[str], owner_t: np.ndarray, owner_col: np.ndarray, amount: np.ndarray, sign: float):
        """Cash of `amount` per owner split by its terms: share at owner_t + lag, if <= n."""
        tids = sorted(set(terms_of_owner))
        tid = _codes(terms_of_owner, tids)
        lags = [np.array([lag for lag, _ in d.terms[x]], dtype=np.int64) for x in tids]
        shares = [np.array([s for _, s in d.terms[x]]) for x in tids]
        cnt = np.array([len(a) for a in lags], dtype=np.int64)
        flat_lag, flat_share = (np.concatenate(lags), np.concatenate(shares)) if tids else (np.zeros(0, np.int64), np.zeros(0))
        first_ = np.cumsum(cnt) - cnt
        own, rank = _expand(cnt[tid]) if len(tid) else (np.zeros(0, np.int64),) * 2
        e = first_[tid[own]] + rank
        when = owner_t[own] + flat_lag[e]
        coef = flat_share[e] * amount[own]
        ok = (when <= n) & (coef != 0)
        rows.terms(r_cash[0] + when[ok] - 1, owner_col[own][ok], sign * coef[ok])

    price = np.fromiter((d.price[k] for k in d.ship_index), dtype=float, count=len(d.ship_index))
    by_terms([d.collect_terms[channels[k]] for k in ship_c], ship_t, c_ship, price, -1.0)
    mats = [items[m] for m in q_m]
    by_terms([d.pay_terms[m] for m in mats], q_t + lead_item[q_m], c_q, uc_item[q_m], 1.0)
    ucx = uc_item[x_item]
    rows.terms(r_cash[0] + x_t[ucx != 0] - 1, c_x[ucx != 0], ucx[ucx != 0])
    ysc = step_sc[y_step]
    keep = ysc != 0
    rows.terms(r_cash[0] + y_t[y_own][keep] - 1, c_y[y_own][keep], ysc[keep])
    ot_cost = np.array([d.overtime_cost[r_] for r_ in resources])
    oc = ot_cost[ot_r]
    rows.terms(r_cash[0] + ot_t[oc != 0] - 1, c_ot[oc != 0], oc[oc != 0])
    order_cost = np.array([d.order_cost.get(i, 0.0) for i in items])
    zc = order_cost[z_m]
    rows.terms(r_cash[0] + z_t[zc != 0] - 1, c_z[zc != 0], zc[zc != 0])
    r = rows.add("cash.min_cash", n, np.array([d.cash_min[t] for t in T]), INF)
    rows.terms(r, c_cash, 1.0)
    if has_loan:
        r = rows.add("cash.credit_limit", n, -INF, cash.credit_limit)
        rows.terms(r, c_loan, 1.0)

    # --- budget.commit (§4.9): spend entries (line, t, column, coef), nonzero only
    mat_line = np.array([line_of[d.material_line[i]] if i in d.material_line else -1 for i in items], dtype=np.int64)
    sp_line = [mat_line[q_m], mat_line[z_m], rt_line[x_rt], res_line[step_res[y_step]], res_line[ot_r]]
    sp_t = [q_t, z_t, x_t, y_t[y_own], ot_t]
    sp_col = [c_q, c_z, c_x, c_y[y_own], c_ot]
    sp_coef = [uc_item[q_m], zc, ucx, ysc, oc]
    s_line, s_t, s_col, s_coef = (np.concatenate(a) for a in (sp_line, sp_t, sp_col, sp_coef))
    nz = s_coef != 0
    s_line, s_t, s_col, s_coef = s_line[nz], s_t[nz], s_col[nz], s_coef[nz]
    L = len(lines)
    const = np.zeros((L, n))
    has_const = np.zeros((L, n), dtype=bool)
    for k in np.flatnonzero(fixed != 0):
        const[res_line[k]] += fixed[k]
        has_const[res_line[k]] = True
    has_var = np.zeros((L, n), dtype=bool)
    has_var[s_line, s_t - 1] = True
    a_col = c_a.reshape(L, n) if L else np.zeros((0, n), np.int64)
    e_col = c_e.reshape(L, n) if emergency and L else None
    carry = np.array([d.carryover[b] for b in lines], dtype=bool)
    used_b = has_var | (has_const & (const != 0))
    used_b = np.where(carry[:, None], np.logical_or.accumulate(used_b, axis=1), used_b)
    row_of_b = np.full((L, n), -1, dtype=np.int64)
    bl_, bt0 = np.nonzero(used_b)
    upper = np.where(carry[bl_], -np.cumsum(const, axis=1)[bl_, bt0], -const[bl_, bt0])
    r = rows.add("budget.commit", len(bl_), -INF, upper)
    row_of_b[bl_, bt0] = r
    # an entry of period τ enters the row of τ, and every later row of a carryover line
    span = np.where(carry[s_line], n - s_t + 1, 1)
    own, rank = _expand(span)
    rr = row_of_b[s_line[own], s_t[own] - 1 + rank]
    ok = rr >= 0
    rows.terms(rr[ok], s_col[own][ok], s_coef[own][ok])
    # allocation (and emergency) of τ: in rows t >= τ (carryover) or t = τ
    al, at0 = np.divmod(np.arange(L * n), n)
    span = np.where(carry[al], n - at0, 1)
    own, rank = _expand(span)
    rr = row_of_b[al[own], at0[own] + rank]
    ok = rr >= 0
    rows.terms(rr[ok], a_col.ravel()[own][ok], -1.0)
    if e_col is not None:
        rows.terms(rr[ok], e_col.ravel()[own][ok], -1.0)
    pc = np.array([[d.period_ceiling.get((b, t), INF) for t in T] for b in lines]).reshape(L, n)
    pl, pt0 = np.nonzero(np.isfinite(pc))
    r = rows.add("budget.period_ceiling", len(pl), -INF, pc[pl, pt0])
    rows.terms(r, a_col[pl, pt0], 1.0)
    lc = np.array([d.line_ceiling[b] for b in lines])
    fl = np.flatnonzero(np.isfinite(lc))
    r = rows.add("budget.line_ceiling", len(fl), -INF, lc[fl])
    rows.terms(np.repeat(r, n), a_col[fl].ravel(), 1.0)
    if math.isfinite(budget.pool):
        r = rows.add("budget.pool", 1, -INF, budget.pool)
        rows.terms(np.full(len(c_a), r[0]), c_a, 1.0)
    if emergency:
        r = rows.add("budget.emergency_pool", 1, -INF, budget.emergency_pool)
        rows.terms(np.full(len(c_e), r[0]), c_e, 1.0)

    # --- objective: profit (§5)
    cost[c_ship] = price
    bcost = np.array([d.backlog_cost[k] for k in channels])
    lcost = np.array([d.lost_cost[k] for k in channels])
    cost[c_back] = -bcost[_codes(back_k["channel"], channels)] if len(back_k) else 0.0
    cost[c_lost] = -lcost[lost_c] if len(lost_c) else 0.0
    cost[c_x] = -ucx
    np.add.at(cost, c_y[y_own], -ysc)
    cost[c_q] = -uc_item[q_m]
    cost[c_z] = -zc
    cost[c_ot] = -oc
    hold = np.array([d.holding_cost[i] for i in items])
    cost[c_s0:c_s0 + n_items * n] = -np.repeat(hold, n)
    if n_items:
        cost[stock_col(np.arange(n_items), n)] += policy.terminal_value * uc_item
    pen = np.array([d.safety_penalty.get(i, 0.0) for i in items])
    cost[c_u] = -pen[u_i]
    offset -= fixed_total * n + overhead.sum()
    if has_loan and rate:
        cost[c_loan[:-1]] -= rate
        offset -= rate * cash.initial_loan
    if emergency:
        cost[c_e] = -budget.emergency_premium

    A = sp.csc_array((np.concatenate(rows.v), (np.concatenate(rows.r), np.concatenate(rows.c))), shape=(rows.n, cols.n))
    A.sum_duplicates()
    A.eliminate_zeros()
    return ReferenceModel(
        cost=cost, offset=float(offset),
        col_lower=np.concatenate(cols.lower), col_upper=np.concatenate(cols.upper),
        row_lower=np.where(np.isinf(np.concatenate(rows.lower)), -highspy.kHighsInf, np.concatenate(rows.lower)),
        row_upper=np.where(np.isinf(np.concatenate(rows.upper)), highspy.kHighsInf, np.concatenate(rows.upper)),
        A=A, is_integer=np.concatenate(cols.integer), blocks=cols.blocks, families=rows.families,
    )
