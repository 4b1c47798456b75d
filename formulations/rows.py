"""Constraint rows, added one way: a batch per row family, compiled straight to sparse arrays.

A block adds the rows of one family together, under the family's declaration
(`formulations.families.RowFamily`, declared beside the block): `Rows.add_many(family, index,
coefs, vars_, lower, upper)` with one entry per row (`lower <= Σ coef·var <= upper`), or
`with rows.batch(family) as rows: rows.add(key, coefs, vars_, …)` where a loop lays the rows
out one at a time and hands them over as one batch when it ends. Every index is checked
against the family's dimensions. The batch is also the unit a vectorised builder would
hand over (arrays instead of lists): nothing downstream sees how a batch was made.

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
from dataclasses import dataclass, field

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


@dataclass
class Batch:
    """Rows of one family gathered one at a time (`Rows.batch`), handed to `Rows.add_many`."""

    family: RowFamily
    index: list[Hashable] = field(default_factory=list)
    coefs: list[Sequence[float]] = field(default_factory=list)
    vars_: list[Sequence[VarData]] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)

    def add(self, key: Hashable, coefs: Sequence[float], vars_: Sequence[VarData],
            lower: float = -math.inf, upper: float = math.inf) -> None:
        self.index.append(key)
        self.coefs.append(list(coefs))  # a copy: a caller's list may grow after (Terms.raw hands out its own)
        self.vars_.append(list(vars_))
        self.lower.append(lower)
        self.upper.append(upper)


class Rows:
    """Flat storage: row k has terms coefs[ptr[k]:ptr[k+1]], vars[ptr[k]:ptr[k+1]]."""

    def __init__(self) -> None:
        self.families: dict[str, RowFamily] = {}
        self.refs: list[RowRef] = []
        self.ptr: list[int] = [0]
        self.coefs: list[float] = []
        self.vars: list[VarData] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self._waiting: list[tuple] = []  # add_many arguments of rows added after_model, until close()
        self._closed = False

    def __len__(self) -> int:
        return len(self.refs)

    def add_many(self, family: RowFamily, index: Sequence[Hashable], coefs: Sequence[Sequence[float]],
                 vars_: Sequence[Sequence[VarData]], lower: float | Sequence[float] = -math.inf,
                 upper: float | Sequence[float] = math.inf, after_model: bool = False) -> None:
        """Rows `lower[k] <= Σ coefs[k]·vars_[k] <= upper[k]` of `family`, one per key of `index`
        (None for a family without dimensions, a single value for one dimension, else a tuple
        of the family's dimensions in order); `lower`/`upper` a number for every row or one
        per row. `after_model`: placed after the model's own rows (module docstring)."""
        count = len(index)
        if len(coefs) != count or len(vars_) != count:
            raise ValueError(f"{family.name}: {count} keys, {len(coefs)} coefficient and {len(vars_)} variable lists")
        for key in index:
            _check_key(family, key)
        lower = [float(lower)] * count if np.isscalar(lower) else [float(v) for v in lower]
        upper = [float(upper)] * count if np.isscalar(upper) else [float(v) for v in upper]
        if after_model and not self._closed:
            self._waiting.append((family, index, coefs, vars_, lower, upper))
            return
        if count:
            self.families.setdefault(family.name, family)
        for key, c, v, lo, up in zip(index, coefs, vars_, lower, upper, strict=True):
            if len(c) != len(v):
                raise ValueError(f"{family.name}[{key}]: {len(c)} coefficients for {len(v)} variables")
            self.refs.append(RowRef(family, key))
            self.coefs.extend(c)
            self.vars.extend(v)
            self.ptr.append(len(self.coefs))
            self.lower.append(lo)
            self.upper.append(up)

    @contextmanager
    def batch(self, family: RowFamily, after_model: bool = False) -> Iterator[Batch]:
        """Gather rows of `family` one at a time; they are added as one batch when the block ends
        (not at all if it raises)."""
        rows = Batch(family)
        yield rows
        self.add_many(family, rows.index, rows.coefs, rows.vars_, rows.lower, rows.upper, after_model=after_model)

    def close(self) -> None:
        """The model's own rows are all in: append the rows added after_model, in their order."""
        self._closed = True
        waiting, self._waiting = self._waiting, []
        for family, index, coefs, vars_, lower, upper in waiting:
            self.add_many(family, index, coefs, vars_, lower, upper)

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


def _check_key(family: RowFamily, key: Hashable) -> None:
    """A row's index has the family's dimensions: None for none, a value for one, a tuple of
    as many for more."""
    dims = len(family.dims)
    if dims == 0:
        ok = key is None
    elif dims == 1:
        ok = key is not None and not isinstance(key, tuple)
    else:
        ok = isinstance(key, tuple) and len(key) == dims
    if not ok:
        raise ValueError(f"{family.name}: index {key!r} does not match its dimensions {family.dims}")
