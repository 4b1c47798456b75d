"""A root cut loop for lot sizing: separate violated inequalities on the LP, add them, re-solve.

`--formulation cuts` (docs/model.md §8.1). The static `ls` and `fl` formulations add every
(l,S) inequality up front (3–6× the rows of big-M) and HiGHS then explores far fewer nodes per
second (benchmarks/results/formulations.md). The literature's branch-and-cut systems (Barany,
Van Roy & Wolsey 1984; Belvaux & Wolsey 2000) add only what the LP violates. Here that is done
at the root, before branch-and-bound: LP relaxation → separate → add the violated rows →
warm re-solve, until nothing is violated or the bound stops moving; the big-M model plus the
rows found is then handed to HiGHS (whose own cuts and branching do the rest). highspy 1.16
has no user-cut callback that adds rows, so the rows become part of the model.

Two families, per lot-sized item (formulations/setup/lot_paths.py) with starts j (x_j ≤ M_j·y_j,
units arriving in period a_j) and closing stock s_t:

1. **(l,S)** (Barany, Van Roy & Wolsey 1984): for every period l and set S of starts arriving by l,

       Σ_{j∈S} x_j − Σ_{j∈S} U(a_j, l)·y_j − s_l ≤ 0

   (valid: formulations/setup/ls_inequalities.py's docstring; starts with U ≥ M_j are left
   out, their term is never positive). Exact separation is greedy: for each l, S = the starts
   with x_j > U(a_j, l)·y_j.

2. **Interval capacity (MIR) inequalities**, the setup-time-aware family: for an interval
   k..l of arrival periods, the starts J arriving in it and the stock s_{k−1} before it must
   cover the must-ship demand of k..l less its constant inflow, D = L(k, l):
   s_{k−1} + Σ_J x_j ≥ D. For C ⊆ J with M_j ≤ μ (M = (capacity − setup hours)/hours per
   unit, docs/model.md §4.5: where the setup time is charged), x_j ≤ μ·y_j, so
   z + μ·Σ_C y_j ≥ D with z = s_{k−1} + Σ_{J∖C} x_j ≥ 0 and Σ_C y_j integer; its mixed-integer
   rounding (Nemhauser & Wolsey 1990) is

       s_{k−1} + Σ_{J∖C} x_j + r·Σ_{j∈C} y_j ≥ r·⌈D/μ⌉,     r = D − μ·(⌈D/μ⌉ − 1) ∈ (0, μ].

   Proof: if Σ_C y ≥ ⌈D/μ⌉ the right side is ≤ r·Σ_C y; otherwise Σ_C y ≤ ⌈D/μ⌉ − 1 and
   z ≥ D − μ·Σ_C y = r + μ·(⌈D/μ⌉ − 1 − Σ_C y) ≥ r·(⌈D/μ⌉ − Σ_C y), as μ ≥ r. ∎
   Separated with μ = the largest M_j of J (then every start may be in C) and, for a given
   μ, exactly: j ∈ C iff r·y_j < x_j. Only for items whose stock gains from their starts alone.

Both use only rows every feasible plan satisfies (stock balance, setup link, must-ship demand,
stock ≥ 0), so no plan, hence no optimum, is cut off (tests/test_cuts.py checks it on small
instances against a known optimum).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import highspy
import numpy as np
import scipy.sparse as sp

from formulations.setup.lot_paths import LotPath, lot_paths
from solver.engine.highs import _MS, StandardForm, new_highs, run, set_scaling
from solver.engine.options import SolveOptions

MAX_ROUNDS = 60
MIN_PROGRESS = 1e-5  # relative bound change over STALL_ROUNDS rounds below which the loop stops
STALL_ROUNDS = 3
VIOLATION = 1e-6  # relative violation a cut must exceed (of the row's activity scale)
FAMILIES = ("cuts.ls", "cuts.interval_mir")


class CutFamily:
    """Name of a cut row's family (quacks like a Pyomo component for `parent_component().name`)."""

    def __init__(self, name: str) -> None:
        self.name = name


class CutRef:
    """One cut row as `StandardForm.rows` holds it: `parent_component().name` is its family,
    `index()` its (item, k, l) (k = l for (l,S) rows)."""

    __slots__ = ("_family", "_index")

    def __init__(self, family: CutFamily, index: tuple) -> None:
        self._family, self._index = family, index

    def parent_component(self) -> CutFamily:
        return self._family

    def index(self) -> tuple:
        return self._index

    @property
    def name(self) -> str:
        return f"{self._family.name}[{','.join(map(str, self._index))}]"


_FAMILY = {name: CutFamily(name) for name in FAMILIES}


@dataclass
class CutRows:
    """Rows found by the loop, over the model's columns: lower ≤ A·x ≤ upper."""

    refs: list = field(default_factory=list)
    indptr: list = field(default_factory=lambda: [0])
    indices: list = field(default_factory=list)
    data: list = field(default_factory=list)
    lower: list = field(default_factory=list)
    upper: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.refs)

    def add(self, family: str, index: tuple, cols, coefs, lower: float, upper: float) -> None:
        self.refs.append(CutRef(_FAMILY[family], index))
        self.indices.extend(int(c) for c in cols)
        self.data.extend(float(v) for v in coefs)
        self.indptr.append(len(self.indices))
        self.lower.append(lower)
        self.upper.append(upper)

    def matrix(self, ncol: int) -> sp.csr_array:
        return sp.csr_array((np.array(self.data, dtype=float), np.array(self.indices, dtype=np.int64),
                             np.array(self.indptr, dtype=np.int64)), shape=(len(self), ncol))

    def subset(self, keep: np.ndarray) -> CutRows:
        out = CutRows()
        A = self.matrix(max(self.indices, default=-1) + 1)
        for k in np.flatnonzero(keep):
            row = A[[k]]
            out.refs.append(self.refs[k])
            out.indices.extend(row.indices.tolist())
            out.data.extend(row.data.tolist())
            out.indptr.append(len(out.indices))
            out.lower.append(self.lower[k])
            out.upper.append(self.upper[k])
        return out


def with_rows(sf: StandardForm, cuts: CutRows) -> StandardForm:
    """`sf` with the cut rows appended (same columns)."""
    if not len(cuts):
        return sf
    B = cuts.matrix(sf.num_cols)
    inf = highspy.kHighsInf
    lower = np.where(np.isfinite(cuts.lower), cuts.lower, -inf)
    upper = np.where(np.isfinite(cuts.upper), cuts.upper, inf)
    return replace(sf, A=sp.vstack([sf.A, B], format="csc"), row_lower=np.concatenate([sf.row_lower, lower]),
                   row_upper=np.concatenate([sf.row_upper, upper]),
                   rows=[*sf.rows, *[(ref, 1 if math.isfinite(u) else -1) for ref, u in zip(cuts.refs, cuts.upper, strict=True)]])


class PathColumns:
    """A LotPath in column space: each variable as (column, or −1 with its fixed value)."""

    def __init__(self, path: LotPath, sf: StandardForm):
        self.path = path

        def cols(vars_):
            c = np.array([sf.column_of.get(id(v), -1) for v in vars_], dtype=np.int64)
            fixed = np.array([0.0 if j >= 0 else float(v.value or 0.0) for v, j in zip(vars_, c, strict=True)])
            return c, fixed

        self.xc, self.xf = cols(path.x)
        self.yc, self.yf = cols(path.y)
        self.sc, self.sfix = cols(path.stock)
        self.a = path.arrival
        self.m = path.big_m

    def values(self, cols, fixed, v):
        return np.where(cols >= 0, v[np.maximum(cols, 0)], fixed)

    def at(self, v):
        """(lots x, setups y, stock s) of the path per period at the LP point `v`."""
        return self.values(self.xc, self.xf, v), self.values(self.yc, self.yf, v), self.values(self.sc, self.sfix, v)


def _row(terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """(columns, coefficients, constant) of Σ coef·var over (cols, fixed values, coefs) triples."""
    cols, coefs, const = [], [], 0.0
    for c, fixed, k in terms:
        free = c >= 0
        cols.append(c[free])
        coefs.append(k[free])
        const += float((fixed[~free] * k[~free]).sum())
    cols = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    coefs = np.concatenate(coefs) if coefs else np.zeros(0)
    if len(cols):  # several starts may share a column only in pathological data: merge
        uniq, inv = np.unique(cols, return_inverse=True)
        merged = np.zeros(len(uniq))
        np.add.at(merged, inv, coefs)
        cols, coefs = uniq, merged
    return cols, coefs, const


def separate_ls(p: PathColumns, v: np.ndarray, out: CutRows) -> int:
    """Add the most violated (l,S) row of every period l (exact greedy separation)."""
    x, y, s = p.at(v)
    n = len(s)
    found = 0
    for last in range(1, n + 1):
        ok = p.a <= last
        if not ok.any():
            continue
        u = p.path.upper(p.a[ok], np.full(ok.sum(), last))
        idx = np.flatnonzero(ok)
        useful = u < p.m[idx]
        idx, u = idx[useful], u[useful]
        term = x[idx] - u * y[idx]
        inside = term > 0
        if not inside.any():
            continue
        violation = term[inside].sum() - s[last - 1]
        scale = 1.0 + x[idx[inside]].sum() + abs(s[last - 1])
        if violation <= VIOLATION * scale:
            continue
        j = idx[inside]
        cols, coefs, const = _row([(p.xc[j], p.xf[j], np.ones(len(j))), (p.yc[j], p.yf[j], -u[inside]),
                                   (p.sc[[last - 1]], p.sfix[[last - 1]], np.array([-1.0]))])
        out.add("cuts.ls", (p.path.item, last, last), cols, coefs, -math.inf, -const)
        found += 1
    return found


def separate_interval_mir(p: PathColumns, v: np.ndarray, out: CutRows) -> int:
    """Add the most violated interval MIR row for every last period l (over first periods k)."""
    if not p.path.exact_inflows:
        return 0
    x, y, s = p.at(v)
    n = len(s)
    found = 0
    for last in range(1, n + 1):
        best = None
        for first in range(1, last + 1):
            demand = float(p.path.lower(np.array(first), np.array(last)))
            j = np.flatnonzero((p.a >= first) & (p.a <= last))
            if demand <= 1e-9 or not len(j):
                continue
            mu = float(p.m[j].max())
            if not math.isfinite(mu) or mu <= 0:
                continue
            q = math.ceil(demand / mu - 1e-9)
            r = demand - mu * (q - 1)
            if r <= 1e-9 * mu:
                continue
            stock_before = p.path.initial if first == 1 else s[first - 2]
            in_c = r * y[j] < x[j]
            lhs = stock_before + np.where(in_c, r * y[j], x[j]).sum()
            violation = r * q - lhs
            if violation > VIOLATION * (1.0 + r * q) and (best is None or violation > best[0]):
                best = (violation, first, j, in_c, r, q)
        if best is None:
            continue
        _violation, first, j, in_c, r, q = best
        terms = [(p.xc[j[~in_c]], p.xf[j[~in_c]], np.ones((~in_c).sum())),
                 (p.yc[j[in_c]], p.yf[j[in_c]], np.full(in_c.sum(), r))]
        const0 = p.path.initial if first == 1 else 0.0
        if first > 1:
            terms.append((p.sc[[first - 2]], p.sfix[[first - 2]], np.array([1.0])))
        cols, coefs, const = _row(terms)
        out.add("cuts.interval_mir", (p.path.item, first, last), cols, coefs, r * q - const - const0, math.inf)
        found += 1
    return found


@dataclass
class CutLoopReport:
    """What the loop did: LP bound before and after, rounds, rows kept, seconds."""

    lp_bound: float = math.nan
    cut_bound: float = math.nan
    rounds: int = 0
    rows_found: int = 0
    rows_kept: int = 0
    seconds: float = 0.0
    by_family: dict = field(default_factory=dict)


def root_cut_loop(sf: StandardForm, built, options: SolveOptions, seconds: float) -> tuple[CutRows, CutLoopReport]:
    """Separate, add, re-solve at the root (see the module docstring) for at most `seconds`;
    returns the rows binding at the last LP (a slack cut only slows the search) and a report.
    No rows when the model has no lot-sized item or its LP is not solved to optimality."""
    t0 = time.perf_counter()
    report = CutLoopReport()
    paths = [PathColumns(p, sf) for p in lot_paths(built.ctx)]
    cuts = CutRows()
    if not paths or not sf.num_integers:
        return cuts, report
    deadline = t0 + seconds
    h = new_highs(replace(options, time_limit=max(seconds, 0.1), threads=1))
    set_scaling(h, sf)
    h.passModel(sf.to_lp(integer=False))
    run(h)
    if h.getModelStatus() != _MS.kOptimal:
        report.seconds = time.perf_counter() - t0
        return cuts, report
    report.lp_bound = bound = h.getInfo().objective_function_value
    history = [bound]
    while report.rounds < MAX_ROUNDS and time.perf_counter() < deadline:
        v = np.array(h.getSolution().col_value, dtype=float)
        new = CutRows()
        for p in paths:
            separate_ls(p, v, new)
            separate_interval_mir(p, v, new)
        if not len(new):
            break
        B = new.matrix(sf.num_cols)
        lower = np.where(np.isfinite(new.lower), new.lower, -highspy.kHighsInf)
        upper = np.where(np.isfinite(new.upper), new.upper, highspy.kHighsInf)
        h.addRows(len(new), lower, upper, B.nnz, B.indptr.astype(np.int32), B.indices.astype(np.int32), B.data)
        _extend(cuts, new)
        h.setOptionValue("time_limit", h.getRunTime() + max(deadline - time.perf_counter(), 0.1))
        run(h)
        report.rounds += 1
        if h.getModelStatus() != _MS.kOptimal:
            break  # keep the rows found (valid whatever the LP did); stop separating
        bound = h.getInfo().objective_function_value
        history.append(bound)
        if len(history) > STALL_ROUNDS and abs(history[-1 - STALL_ROUNDS] - bound) <= MIN_PROGRESS * max(abs(bound), 1.0):
            break
    report.cut_bound = bound
    report.rows_found = len(cuts)
    if len(cuts) and h.getModelStatus() == _MS.kOptimal:
        activity = np.array(h.getSolution().row_value, dtype=float)[sf.num_rows:]
        lo = np.array(cuts.lower, dtype=float)
        up = np.array(cuts.upper, dtype=float)
        tight = np.minimum(np.abs(activity - lo), np.abs(up - activity))
        keep = tight <= 1e-6 * (1.0 + np.abs(np.where(np.isfinite(lo), lo, up)))
        cuts = cuts.subset(keep)
    report.rows_kept = len(cuts)
    for ref in cuts.refs:
        name = ref.parent_component().name
        report.by_family[name] = report.by_family.get(name, 0) + 1
    report.seconds = time.perf_counter() - t0
    return cuts, report


def _extend(into: CutRows, new: CutRows) -> None:
    base = len(into.indices)
    into.refs.extend(new.refs)
    into.indices.extend(new.indices)
    into.data.extend(new.data)
    into.indptr.extend(base + k for k in new.indptr[1:])
    into.lower.extend(new.lower)
    into.upper.extend(new.upper)
