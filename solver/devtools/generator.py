"""Random but reproducible docs/model.md instances, for benchmarks and property tests.

Every instance exercises the whole format (multi-level BOM, alternative and multi-step
routings, setups, lots, MOQ, payment terms with prepayment, credit, budget lines with
ceilings and carryover, pool, emergency pool, the three service modes, stock targets) and is
**feasible by construction**: the "do nothing" plan (no production, no purchases, ship the
must-channel demand from initial stock, lose or backlog the rest) satisfies every constraint:

- must-channel demand is small and fully covered by the products' initial stock;
- hard safety stocks exist only on materials whose initial stock covers them, and every
  stock target with a `min` belongs to an item with a `safety_penalty` (soft);
- stock limits (`max_stock`, target `max`) are at least initial stock + all open orders;
- budget ceilings (per period, horizon, pool) are at least the fixed resource costs that
  are committed whatever the plan, plus the variable need scaled by 1/tightness;
- initial cash covers min_balance plus every period's fixed costs and overhead.

`tightness` scales capacities and the variable part of budget ceilings and of the credit
line: capacity = estimated need / tightness, so 0.5 leaves twice the need, 1.0 exactly the
(lead-time-free, setup-once-per-period) estimate and above 1 forces lost sales or overtime.

Only `numpy.random.default_rng(seed)` draws numbers, in a fixed order, and no set or dict
iteration order leaks into the output: the same parameters give identical files.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from solver.io.instance_writer import toml_dumps, write_instance_folder


@dataclass
class GeneratorParams:
    """Size and shape of a generated instance (see LADDER for named sizes)."""

    products: int = 10
    periods: int = 12
    resources: int = 4
    materials: int = 20
    levels: int = 2  # levels of made items: 1 = products from materials only
    channels: int = 3
    tightness: float = 0.8
    seed: int = 0

    def validate(self) -> None:
        for f in ("products", "periods", "resources", "materials", "levels", "channels"):
            if int(getattr(self, f)) < 1:
                raise ValueError(f"GeneratorParams.{f} must be >= 1, got {getattr(self, f)}")
        if not self.tightness > 0:
            raise ValueError(f"GeneratorParams.tightness must be > 0, got {self.tightness}")


# The one source of the named size ladder; benchmarks/ladder.toml is written from it by
# `write_ladder_toml` (a test checks that the file is current).
LADDER: dict[str, dict[str, int | float]] = {
    "tiny": dict(products=3, periods=4, resources=2, materials=4, levels=2, channels=3),
    "small": dict(products=10, periods=12, resources=4, materials=20, levels=2, channels=3),
    "medium": dict(products=100, periods=12, resources=8, materials=150, levels=3, channels=3),
    "large": dict(products=500, periods=24, resources=15, materials=400, levels=3, channels=4),
    "xl": dict(products=2000, periods=24, resources=30, materials=1000, levels=3, channels=4),
}


def ladder(name: str, **overrides: int | float) -> GeneratorParams:
    """The parameters of a named ladder size (tiny, small, medium, large, xl)."""
    if name not in LADDER:
        raise KeyError(f"unknown ladder size {name!r} (known: {', '.join(LADDER)})")
    return GeneratorParams(**{**LADDER[name], **overrides})


def ladder_toml() -> str:
    """The ladder as TOML text (the content of benchmarks/ladder.toml)."""
    head = (
        "# Named instance sizes for `prodbudget generate` and the benchmark runner.\n"
        "# Generated from solver.devtools.generator.LADDER by solver.devtools.generator.write_ladder_toml;\n"
        "# edit the module, not this file. Unlisted parameters take GeneratorParams defaults\n"
        f"# ({', '.join(f'{f.name}={f.default}' for f in fields(GeneratorParams))}).\n\n"
    )
    return head + toml_dumps(LADDER)


def write_ladder_toml(path: str | os.PathLike[str]) -> Path:
    """Write the ladder TOML (kept in the repo at benchmarks/ladder.toml)."""
    p = Path(path)
    p.write_text(ladder_toml(), encoding="utf-8", newline="\n")
    return p


# --- helpers ---------------------------------------------------------------------------


def _names(prefix: str, n: int, width: int) -> np.ndarray:
    w = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{w}d}" for i in range(1, n + 1)], dtype=object)


def _period_labels(n: int) -> list[str]:
    return [f"{2027 + t // 12}-{t % 12 + 1:02d}" for t in range(n)]


def _force(mask: np.ndarray, idx: int) -> np.ndarray:
    """Make sure a feature appears at least once (tiny instances must show every feature)."""
    if len(mask):
        mask[min(idx, len(mask) - 1)] = True
    return mask


def _r(x: np.ndarray | float, d: int = 2) -> np.ndarray:
    return np.round(np.asarray(x, dtype=float), d)


def _blank(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Float column with NaN (blank cell) where mask is False."""
    out = np.asarray(values, dtype=float).copy()
    out[~mask] = np.nan
    return out


# --- the generator ---------------------------------------------------------------------


def generate(params: GeneratorParams) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Generate one instance: (instance.toml dict, tables by name). Deterministic in params."""
    params.validate()
    rng = np.random.default_rng(int(params.seed))
    P, T, R, M = (
        int(params.products),
        int(params.periods),
        int(params.resources),
        int(params.materials),
    )
    L, K = int(params.levels), int(params.channels)
    f = 1.0 / max(float(params.tightness), 0.05)  # slack factor on capacities and budgets
    periods = _period_labels(T)
    per = np.array(periods, dtype=object)

    # ---- items: made levels (products, components per level), then materials
    n_comp = max(1, math.ceil(P / 2))
    level_sizes = [P] + [n_comp] * (L - 1)
    level_start = np.concatenate([[0], np.cumsum(level_sizes)]).astype(int)
    n_made = int(level_start[-1])
    made_names = np.concatenate(
        [_names("P", P, 4)] + ([_names("C", n_comp * (L - 1), 4)] if L > 1 else [])
    )
    mat_names = _names("M", M, 4)
    names = np.concatenate([made_names, mat_names])
    n_items = n_made + M
    level_of = np.repeat(np.arange(L), level_sizes)
    is_product = np.arange(n_items) < P
    is_mat = np.arange(n_items) >= n_made

    # ---- BOM: level l -> level l+1 (every child used, every parent has one), made -> materials
    par, chi, qty = [], [], []
    for lv in range(L - 1):
        p0, p1 = level_start[lv], level_start[lv + 1]
        c0, c1 = level_start[lv + 1], level_start[lv + 2]
        nc, npar = c1 - c0, p1 - p0
        par += [p0 + rng.integers(0, npar, nc), p0 + np.arange(npar)]
        chi += [c0 + np.arange(nc), c0 + rng.integers(0, nc, npar)]
        qty += [rng.choice([1.0, 1.0, 1.0, 2.0, 3.0], nc + npar)]
    k_mat = rng.integers(1, 4, n_made)
    par += [np.repeat(np.arange(n_made), k_mat), rng.integers(0, n_made, M)]
    chi += [n_made + rng.integers(0, M, int(k_mat.sum())), n_made + np.arange(M)]
    qty += [_r(rng.uniform(0.5, 4.0, int(k_mat.sum()) + M), 1)]
    bom_idx = pd.DataFrame(
        {"p": np.concatenate(par), "c": np.concatenate(chi), "q": np.concatenate(qty)}
    ).drop_duplicates(subset=["p", "c"], keep="first")
    bp, bc, bq = (bom_idx[c].to_numpy() for c in ("p", "c", "q"))
    bom_parent_level = level_of[bp]

    # ---- channels and demand
    services = [
        ("must", "backlog", "lost")[k] if k < 3 else ("lost", "backlog")[k % 2] for k in range(K)
    ]
    ch_names = [f"K{k + 1}" for k in range(K)]
    ch_terms = [{"must": "cash", "backlog": "net1", "lost": "split3"}[s] for s in services]
    if K > 3:
        ch_terms[3:] = ["net1"] * (K - 3)
    base = rng.lognormal(np.log(80.0), 0.6, P)
    active = rng.random((P, K)) < 0.7
    # every product sells in a non-must channel; the must channel takes a few products
    home = 1 + rng.integers(0, K - 1, P) if K > 1 else np.zeros(P, dtype=int)
    active[np.arange(P), home] = True
    if K > 1:
        active[:, 0] = _force(rng.random(P) < 0.3, 0)
    share = rng.uniform(0.5, 1.5, (P, K)) * active
    phase = rng.uniform(0, 2 * np.pi, P)
    season = 1.0 + 0.3 * np.sin(2 * np.pi * np.arange(T)[None, :] / 12 + phase[:, None])
    noise = rng.uniform(0.8, 1.2, (P, K, T))
    qd = base[:, None, None] * share[:, :, None] * season[:, None, :] * noise
    is_must = np.array([s == "must" for s in services])
    qd[:, is_must, :] *= 0.1  # must demand is small
    qd = np.round(qd)
    start = np.zeros((P, K), dtype=int)
    is_backlog = np.array([s == "backlog" for s in services])
    start[:, is_backlog] = rng.integers(0, min(3, T), (P, int(is_backlog.sum())))
    row_on = active[:, :, None] & (np.arange(T)[None, None, :] >= start[:, :, None])
    qd = qd * row_on

    # ---- costs: materials, made items, rolled-up cost for prices
    unit_cost = np.zeros(n_items)
    unit_cost[is_mat] = _r(rng.uniform(1.0, 20.0, M))
    unit_cost[~is_mat] = _r(rng.uniform(0.5, 5.0, n_made))
    rolled = unit_cost.copy()
    for lv in range(L - 1, -1, -1):  # deepest parents first
        sel = bom_parent_level == lv
        sel &= ~is_mat[bp]
        np.add.at(rolled, bp[sel], bq[sel] * rolled[bc[sel]])
    margin = rng.uniform(1.4, 2.0, P)
    ch_factor = np.where(is_must, 1.0, rng.uniform(0.9, 1.1, K))
    price = _r(rolled[:P, None] * margin[:, None] * ch_factor[None, :])  # (P, K)

    # ---- requirement estimate (gross, lead times ignored): demand exploded through the BOM
    req = np.zeros((n_items, T))
    req[:P] = qd.sum(axis=1)
    for lv in range(L):
        sel = bom_parent_level == lv
        np.add.at(req, bc[sel], bq[sel, None] * req[bp[sel]])
    avg_req = req.mean(axis=1)

    # ---- materials' attributes
    lead = np.zeros(n_items, dtype=int)
    lead[is_mat] = rng.integers(0, 3, M)
    lead[n_made] = max(lead[n_made], 1)  # material 0 gets a prepayment below
    lead[P:n_made] = np.where(rng.random(n_made - P) < 0.3, 1, 0)
    u = rng.random(M)
    mat_terms = np.where(
        u < 0.4, "cash", np.where(u < 0.7, "net1", np.where(u < 0.9, "split3", "prepay"))
    )
    mat_terms = mat_terms.astype(object)
    mat_terms[(mat_terms == "prepay") & (lead[is_mat] < 1)] = "net1"
    mat_terms[0] = "prepay"
    if M > 1:
        mat_terms[1] = "split3"
    has_moq = _force(rng.random(M) < 0.3, 0)
    moq = _blank(np.ceil(avg_req[is_mat] * rng.uniform(1.0, 3.0, M)) + 1, has_moq)
    has_oc = _force(rng.random(M) < 0.4, 0)
    order_cost = _blank(_r(rng.uniform(20.0, 200.0, M), 0), has_oc)
    line_pack = rng.random(M) < 0.2
    line_pack[0] = False  # procurement (the carryover line) is always in use
    if M > 1:
        line_pack[-1] = True
    mat_line = np.where(line_pack, "packaging", "procurement").astype(object)
    init = np.zeros(n_items)
    hard_ss = _force(rng.random(M) < 0.2, M - 1)
    init_mat = np.round(avg_req[is_mat] * rng.uniform(0.0, 1.5, M))
    init[is_mat] = np.where(hard_ss, np.maximum(init_mat, 2.0), init_mat)
    # hard safety stock only where the initial stock already covers it
    mat_ss = np.where(hard_ss, np.maximum(np.floor(init[is_mat] * rng.uniform(0.3, 1.0, M)), 1), 0)
    has_open = _force(rng.random(M) < 0.2, 0)
    open_qty = np.round(avg_req[is_mat] * rng.uniform(0.5, 1.5, M)) + 1
    open_period = rng.integers(0, min(2, T), M)
    has_max = rng.random(M) < 0.15
    mat_max = (
        init[is_mat]
        + np.where(has_open, open_qty, 0)
        + np.ceil(avg_req[is_mat] * rng.uniform(3.0, 6.0, M))
        + 10
    )

    # ---- made items' attributes
    must_total = qd[:, is_must, :].sum(axis=(1, 2))
    init[:P] = must_total + np.round(base * rng.uniform(0.0, 1.0, P))
    init[P:n_made] = np.round(avg_req[P:n_made] * rng.uniform(0.0, 1.0, n_made - P))
    has_lot = _force(rng.random(n_made) < 0.2, P if n_made > P else 0)
    min_lot = _blank(np.ceil(avg_req[:n_made] * rng.uniform(0.5, 1.5, n_made)), has_lot)
    soft_ss = rng.random(n_made) < np.where(np.arange(n_made) < P, 0.3, 0.1)
    soft_ss[0] = True
    made_ss = np.where(soft_ss, np.round(avg_req[:n_made] * rng.uniform(0.2, 0.6, n_made)), 0)
    holding = _r(np.maximum(0.02 * rolled, 0.01), 3)
    penalty = _blank(_r(holding[:n_made] * 5 + 0.5), soft_ss)

    items = pd.DataFrame(
        {
            "item": names,
            "kind": np.where(is_mat, "material", np.where(is_product, "product", "component")),
            "unit_cost": unit_cost,
            "holding_cost": holding,
            "initial_stock": init,
            "safety_stock": np.concatenate([made_ss, mat_ss]),
            "safety_penalty": np.concatenate([penalty, np.full(M, np.nan)]),
            "lead_time": lead,
            "min_lot": np.concatenate([min_lot, np.full(M, np.nan)]),
            "moq": np.concatenate([np.full(n_made, np.nan), moq]),
            "order_cost": np.concatenate([np.full(n_made, np.nan), order_cost]),
            "terms": np.concatenate([np.full(n_made, None, dtype=object), mat_terms]),
            "budget_line": np.concatenate([np.full(n_made, None, dtype=object), mat_line]),
            "max_stock": np.concatenate(
                [np.full(n_made, np.nan), np.where(has_max, mat_max, np.nan)]
            ),
        }
    )

    # ---- resources, plants, routings
    res_names = _names("R", R, 2)
    n_pl1 = math.ceil(R / 2)
    plant = np.where(np.arange(R) < n_pl1, 0, 1)
    res_line = np.where(plant == 0, "production", "production_pl2").astype(object)
    r1 = rng.integers(0, R, n_made)
    two_step = (rng.random(n_made) < 0.3) if R > 1 else np.zeros(n_made, bool)
    if R > 1:
        _force(two_step, 0)
    r2 = (r1 + 1 + rng.integers(0, max(R - 1, 1), n_made)) % R
    has_alt = (rng.random(n_made) < 0.2) if plant.max() == 1 else np.zeros(n_made, bool)
    if plant.max() == 1:
        _force(has_alt, 1)
    other = 1 - plant[r1]
    lo = np.where(other == 0, 0, n_pl1)
    size = np.where(other == 0, n_pl1, R - n_pl1)
    r_alt = lo + (rng.random(n_made) * size).astype(int)
    hpu1 = _r(rng.uniform(0.05, 0.5, n_made), 3)
    hpu2 = _r(rng.uniform(0.02, 0.2, n_made), 3)
    hpu_alt = _r(hpu1 * rng.uniform(1.0, 1.3, n_made), 3)
    made = np.arange(n_made)
    rt = pd.DataFrame(
        {
            "i": np.concatenate([made, made[two_step], made[has_alt]]),
            "routing": np.concatenate(
                [
                    np.full(n_made, "main", dtype=object),
                    np.full(int(two_step.sum()), "main", dtype=object),
                    np.full(int(has_alt.sum()), "alt", dtype=object),
                ]
            ),
            "r": np.concatenate([r1, r2[two_step], r_alt[has_alt]]),
            "hours_per_unit": np.concatenate([hpu1, hpu2[two_step], hpu_alt[has_alt]]),
            "step": np.concatenate(
                [
                    np.zeros(n_made, int),
                    np.ones(int(two_step.sum()), int),
                    np.zeros(int(has_alt.sum()), int),
                ]
            ),
        }
    )
    rt = rt.sort_values(["i", "routing", "step"], ascending=[True, False, True], kind="stable")
    nrow = len(rt)
    su_h = _force(rng.random(nrow) < 0.4, 0)
    su_c = _force(rng.random(nrow) < 0.5, 0)
    rt["setup_hours"] = np.where(su_h, _r(rng.uniform(1.0, 6.0, nrow), 1), 0.0)
    rt["setup_cost"] = np.where(su_c, _r(rng.uniform(50.0, 300.0, nrow), 0), 0.0)
    ri, rr = rt["i"].to_numpy(), rt["r"].to_numpy()
    main = (rt["routing"] == "main").to_numpy()

    # capacity from the hours the main routings need, one setup per period where needed
    need = np.zeros((R, T))
    uses = (req[ri] > 0).astype(float)
    np.add.at(
        need,
        rr[main],
        (
            req[ri[main]] * rt["hours_per_unit"].to_numpy()[main, None]
            + uses[main] * rt["setup_hours"].to_numpy()[main, None]
        ),
    )
    cap = np.ceil(np.maximum(need.mean(axis=1), 8.0) * f)
    has_ot = _force(rng.random(R) < 0.6, 0)
    reserve = np.where(rng.random(R) < 0.3, rng.choice([0.05, 0.1], R), 0.0)
    fixed = _r(rng.uniform(500.0, 3000.0, R), 0)
    resources = pd.DataFrame(
        {
            "resource": res_names,
            "plant": np.where(plant == 0, "PL1", "PL2").astype(object),
            "capacity": cap,
            "overtime_max": np.where(has_ot, np.ceil(0.15 * cap), 0.0),
            "overtime_cost": np.where(has_ot, _r(rng.uniform(30.0, 60.0, R), 0), 0.0),
            "reserve": reserve,
            "fixed_cost": fixed,
            "budget_line": res_line,
        }
    )
    shut = _force(rng.random(R) < 0.2, 0) if T > 1 else np.zeros(R, bool)
    shut_t = rng.integers(0, T, R)
    capacity = pd.DataFrame(
        {
            "resource": res_names[shut],
            "period": per[shut_t[shut]],
            "capacity": np.ceil(cap[shut] * 0.6),
        }
    )
    routings = pd.DataFrame(
        {
            "item": names[ri],
            "routing": rt["routing"].to_numpy(),
            "resource": res_names[rr],
            "hours_per_unit": rt["hours_per_unit"].to_numpy(),
            "setup_hours": rt["setup_hours"].to_numpy(),
            "setup_cost": rt["setup_cost"].to_numpy(),
        }
    )

    # ---- budget need: materials at order, production on the first step's resource line
    mat_spend = req[n_made:] * unit_cost[n_made:, None] + np.where(has_oc, order_cost, 0)[:, None]
    first = main & (rt["step"].to_numpy() == 0)
    prod_spend = np.zeros((R, T))
    np.add.at(prod_spend, rr[first], req[ri[first]] * unit_cost[ri[first], None])
    np.add.at(prod_spend, rr[main], uses[main] * rt["setup_cost"].to_numpy()[main, None])
    lines_var = {
        "procurement": mat_spend[~line_pack].sum(axis=0),
        "packaging": mat_spend[line_pack].sum(axis=0),
        "production": prod_spend[plant == 0].sum(axis=0),
        "production_pl2": prod_spend[plant == 1].sum(axis=0),
    }
    lines_fixed = {
        "procurement": 0.0,
        "packaging": 0.0,
        "production": float(fixed[plant == 0].sum()),
        "production_pl2": float(fixed[plant == 1].sum()),
    }
    used_lines = (
        ["procurement"]
        + (["packaging"] if line_pack.any() else [])
        + ["production"]
        + (["production_pl2"] if plant.max() == 1 else [])
    )
    horizon = {b: lines_fixed[b] * T + lines_var[b].sum() * f for b in used_lines}
    budget_lines = pd.DataFrame(
        {
            "line": used_lines,
            "ceiling": [np.nan if b == "production" else math.ceil(horizon[b]) for b in used_lines],
            "carryover": [b == "procurement" for b in used_lines],
        }
    )
    per_period = [b for b in ("procurement", "production", "production_pl2") if b in used_lines]
    budgets = pd.concat(
        [
            pd.DataFrame(
                {
                    "line": b,
                    "period": per,
                    "ceiling": np.ceil(
                        lines_fixed[b] + lines_var[b] * f * (1.2 if b == "procurement" else 1.0)
                    ),
                }
            )
            for b in per_period
        ],
        ignore_index=True,
    )
    total_var = float(sum(lines_var[b].sum() for b in used_lines))
    total_fixed = float(fixed.sum())
    pool = math.ceil(total_fixed * T + 0.95 * total_var * f)

    # ---- cash: do-nothing plan pays fixed costs and overhead only, initial cash covers it
    spend_pp = total_var / T
    overhead = math.ceil(0.05 * spend_pp)
    min_balance = math.ceil(0.1 * spend_pp)
    initial = min_balance + T * (total_fixed + overhead) + math.ceil(spend_pp)
    cash = {
        "initial": float(initial),
        "min_balance": float(min_balance),
        "credit_limit": float(math.ceil(1.5 * spend_pp * f)),
        "interest_rate": 0.01,
        "initial_loan": 0.0,
        "overhead": float(overhead),
    }

    # ---- demand table, channels, terms
    pi, ki, ti = np.nonzero(row_on)
    demand = pd.DataFrame(
        {
            "product": names[pi],
            "channel": np.array(ch_names, dtype=object)[ki],
            "period": per[ti],
            "quantity": qd[pi, ki, ti].astype(np.int64),
            "price": price[pi, ki],
        }
    )
    mean_price = float(price[active].mean()) if active.any() else 1.0
    channels = pd.DataFrame(
        {
            "channel": ch_names,
            "terms": ch_terms,
            "service": services,
            "backlog_cost": [
                round(0.02 * mean_price, 2) if s == "backlog" else 0.0 for s in services
            ],
            "lost_cost": [round(0.1 * mean_price, 2) if s == "lost" else 0.0 for s in services],
        }
    )
    terms = pd.DataFrame(
        [
            ("net1", 1, 1.0),
            ("split3", 0, 0.5),
            ("split3", 1, 0.25),
            ("split3", 2, 0.25),
            ("prepay", -1, 0.25),
            ("prepay", 0, 0.75),
        ],
        columns=["terms", "lag", "share"],
    )
    bom = pd.DataFrame({"parent": names[bp], "child": names[bc], "quantity": bq})
    open_orders = pd.DataFrame(
        {
            "item": mat_names[has_open],
            "period": per[open_period[has_open]],
            "quantity": open_qty[has_open],
        }
    )

    # ---- stock targets: soft minimums (end-of-horizon or build-up) and warehouse maximums
    tgt_item = np.flatnonzero(soft_ss & (rng.random(n_made) < 0.5))
    if 0 not in tgt_item:
        tgt_item = np.concatenate([[0], tgt_item])
    tgt_t = np.where(rng.random(len(tgt_item)) < 0.5, T - 1, rng.integers(0, T, len(tgt_item)))
    tgt_min = np.round(avg_req[tgt_item] * rng.uniform(0.5, 1.0, len(tgt_item))) + 1
    mx_item = np.flatnonzero(_force(rng.random(M) < 0.1, M - 1))
    mx_t = rng.integers(0, T, len(mx_item))
    stock_targets = pd.concat(
        [
            pd.DataFrame(
                {"item": names[tgt_item], "period": per[tgt_t], "min": tgt_min, "max": np.nan}
            ),
            pd.DataFrame(
                {
                    "item": mat_names[mx_item],
                    "period": per[mx_t],
                    "min": np.nan,
                    "max": mat_max[mx_item],
                }
            ),
        ],
        ignore_index=True,
    )

    toml = {
        "name": f"gen-p{P}-t{T}-r{R}-m{M}-l{L}-k{K}-s{int(params.seed)}",
        "currency": "CNY",
        "periods": periods,
        "cash": cash,
        "budget": {
            "pool": float(pool),
            "emergency_pool": float(math.ceil(0.05 * total_var)),
            "emergency_premium": 0.1,
        },
        "policy": {"terminal_value": 0.5},
    }
    tables = {
        "items": items,
        "demand": demand,
        "channels": channels,
        "terms": terms,
        "bom": bom,
        "resources": resources,
        "capacity": capacity,
        "routings": routings,
        "budget_lines": budget_lines,
        "budgets": budgets,
        "open_orders": open_orders,
        "stock_targets": stock_targets,
    }
    return toml, tables


def generate_to(params: GeneratorParams, out_dir: str | os.PathLike[str]) -> Path:
    """Generate and write one instance folder; returns its path."""
    toml, tables = generate(params)
    return write_instance_folder(out_dir, toml, tables)


def params_dict(params: GeneratorParams) -> dict[str, int | float]:
    """Parameters as a plain dict (for benchmark result records)."""
    return asdict(params)
