"""Constraint rows, added one way: a batch per row family, compiled straight to sparse arrays.

A block adds the rows of one family together, under the family's declaration
(`formulations.families.RowFamily`, declared beside the block): `Rows.add_many(family, index,
coefs, vars_, lower, upper)` with one entry per row (`lower <= Σ coef·var <= upper`), or
`with rows.batch(family) as rows: rows.add(key, coefs, vars_, …)` where a loop lays the rows
out one at a time (stored as they come, with no copy in between: the build of a large plan is
dominated by this per-row Python; a batch that raises leaves no row behind). Every index is
checked against the family's dimensions. The batch is also the unit a vectorised builder
would hand over (arrays instead of lists): nothing downstream sees how a batch was made.

`solver.engine.highs.compile_model` turns the rows into the CSC matrix HiGHS takes without
walking expression trees (the slow part of Pyomo on large plans), and `materialize` creates
the equivalent `pyo.Constraint` components when a Pyomo-driven solver or the Pyomo comparison
route needs them. Names are API either way: a `RowRef` maps a HiGHS row back to its family and
index ("capacity of line A2 in 2027-03").

Row order is the order of the batches, except that rows added `after_model` (what re-plans,
the lot-sizing inequalities and the sequential baseline add to constrain the finished model)
wait until `build_model` has closed the model's own rows (`close`), then follow in their
order: the place they had as Pyomo constraints, so HiGHS sees the same model as before and
every plan stays the same.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import LinearExpression

from formulations.families import RowFamily


class RowRef:
    """One row; quacks like a ConstraintData for `parent_component()` (its `RowFamily`, whose
    `.name` is the registered name) and `index()`, which is all the maps back from HiGHS rows
    use."""

    __slots__ = ("_family", "_index")

    def __init__(self, family: RowFamily, index: Hashable) -> None:
        self._family = family
        self._index = index

    def parent_component(self) -> RowFamily:
        return self._family

    def index(self) -> Hashable:
        return self._index

    @property
    def name(self) -> str:
        idx = self._index if isinstance(self._index, tuple) else (self._index,)
        return f"{self._family.name}[{','.join(map(str, idx))}]" if self._index is not None else self._family.name

    def __repr__(self) -> str:
        return self.name


class _Store:
    """Flat storage: row k has terms coefs[ptr[k]:ptr[k+1]], vars[ptr[k]:ptr[k+1]]."""

    def __init__(self) -> None:
        self.refs: list[RowRef] = []
        self.ptr: list[int] = [0]
        self.coefs: list[float] = []
        self.vars: list[VarData] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def sizes(self) -> tuple[int, int]:
        return len(self.refs), len(self.coefs)

    def truncate(self, rows: int, terms: int) -> None:
        """Back to `rows` rows and `terms` terms (a batch that raised leaves nothing behind)."""
        del self.refs[rows:], self.ptr[rows + 1:], self.lower[rows:], self.upper[rows:]
        del self.coefs[terms:], self.vars[terms:]

    def extend(self, other: _Store) -> None:
        offset = len(self.coefs)
        self.refs += other.refs
        self.ptr += [offset + p for p in other.ptr[1:]]
        self.coefs += other.coefs
        self.vars += other.vars
        self.lower += other.lower
        self.upper += other.upper


class Batch:
    """The rows of one family being added (`Rows.batch`): `add` checks a row's index against the
    family's dimensions and stores it."""

    __slots__ = ("family", "_store", "_arity")

    def __init__(self, family: RowFamily, store: _Store) -> None:
        self.family = family
        self._store = store
        self._arity = len(family.dims)

    def add(self, key: Hashable, coefs: Sequence[float], vars_: Sequence[VarData],
            lower: float = -math.inf, upper: float = math.inf) -> None:
        """The row `lower <= Σ coefs·vars_ <= upper` at index `key` (None for a family without
        dimensions, a single value for one dimension, else a tuple of them in order)."""
        arity = len(key) if type(key) is tuple else int(key is not None)
        if arity != self._arity or (arity == 1 and type(key) is tuple):
            raise ValueError(f"{self.family.name}: index {key!r} does not match its dimensions {self.family.dims}")
        if len(coefs) != len(vars_):
            raise ValueError(f"{self.family.name}[{key}]: {len(coefs)} coefficients for {len(vars_)} variables")
        store = self._store
        store.refs.append(RowRef(self.family, key))
        store.coefs.extend(coefs)
        store.vars.extend(vars_)
        store.ptr.append(len(store.coefs))
        store.lower.append(float(lower))
        store.upper.append(float(upper))


class Rows:
    """Every row of a model, in the order HiGHS gets them: row k has terms
    coefs[ptr[k]:ptr[k+1]], vars[ptr[k]:ptr[k+1]] and bounds lower[k], upper[k]."""

    def __init__(self) -> None:
        self.families: dict[str, RowFamily] = {}
        self._rows = _Store()
        self._after = _Store()  # rows added after_model, until close()
        self._closed = False

    refs = property(lambda self: self._rows.refs)
    ptr = property(lambda self: self._rows.ptr)
    coefs = property(lambda self: self._rows.coefs)
    vars = property(lambda self: self._rows.vars)
    lower = property(lambda self: self._rows.lower)
    upper = property(lambda self: self._rows.upper)

    def __len__(self) -> int:
        return len(self._rows.refs)

    @contextmanager
    def batch(self, family: RowFamily, after_model: bool = False) -> Iterator[Batch]:
        """The rows of `family`, added one at a time in the block (`Batch.add`); a block that
        raises adds none. `after_model`: placed after the model's own rows (module docstring)."""
        store = self._after if after_model and not self._closed else self._rows
        before = store.sizes()
        try:
            yield Batch(family, store)
        except BaseException:
            store.truncate(*before)
            raise
        if store.sizes()[0] > before[0]:
            self.families.setdefault(family.name, family)

    def add_many(self, family: RowFamily, index: Sequence[Hashable], coefs: Sequence[Sequence[float]],
                 vars_: Sequence[Sequence[VarData]], lower: float | Sequence[float] = -math.inf,
                 upper: float | Sequence[float] = math.inf, after_model: bool = False) -> None:
        """Rows `lower[k] <= Σ coefs[k]·vars_[k] <= upper[k]` of `family`, one per key of
        `index` (see `Batch.add`); `lower`/`upper` a number for every row or one per row."""
        lists = {"coefficient lists": coefs, "variable lists": vars_}
        lists |= {k: v for k, v in (("lower bounds", lower), ("upper bounds", upper)) if not np.isscalar(v)}
        if any(len(v) != len(index) for v in lists.values()):
            raise ValueError(f"{family.name}: {len(index)} rows, " + ", ".join(f"{len(v)} {k}" for k, v in lists.items()))
        lower = repeat(lower) if np.isscalar(lower) else lower
        upper = repeat(upper) if np.isscalar(upper) else upper
        with self.batch(family, after_model) as rows:
            add = rows.add
            for key, c, v, lo, up in zip(index, coefs, vars_, lower, upper, strict=False):  # lengths checked above
                add(key, c, v, lo, up)

    def close(self) -> None:
        """The model's own rows are all in: append the rows added after_model, in their order."""
        self._closed = True
        self._rows.extend(self._after)
        self._after = _Store()

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (np.asarray(self.ptr, dtype=np.int64), np.asarray(self.coefs, dtype=float),
                np.asarray(self.lower, dtype=float), np.asarray(self.upper, dtype=float))

    def materialize(self, model: pyo.ConcreteModel) -> None:
        """Create one `pyo.Constraint` component per family on its block ("capacity.hours" ->
        model.capacity.hours), indexed like the rows."""
        by_family: dict[str, list[int]] = {}
        for k, ref in enumerate(self.refs):
            by_family.setdefault(ref.parent_component().name, []).append(k)
        for family, ks in by_family.items():
            block_name, _, comp_name = family.rpartition(".")
            block = model.find_component(block_name) if block_name else model
            scalar = len(ks) == 1 and self.refs[ks[0]].index() is None
            rows = {self.refs[k].index(): k for k in ks}

            def rule(_blk, *idx, _rows=rows):
                key = None if not idx else (idx[0] if len(idx) == 1 else idx)
                return self._relation(_rows[key])

            if scalar:
                block.add_component(comp_name, pyo.Constraint(rule=lambda _blk, *_none, _k=ks[0]: self._relation(_k)))
            else:
                block.add_component(comp_name, pyo.Constraint(list(rows), rule=rule))

    def _relation(self, k: int):
        a, b = self.ptr[k], self.ptr[k + 1]
        body = LinearExpression(constant=0.0, linear_coefs=self.coefs[a:b], linear_vars=self.vars[a:b])
        lo, up = self.lower[k], self.upper[k]
        if lo == up:
            return body == lo
        return (None if math.isinf(lo) else lo, body, None if math.isinf(up) else up)

