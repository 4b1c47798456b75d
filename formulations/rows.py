"""Constraint rows declared once, compiled straight to sparse arrays or to Pyomo constraints.

Blocks declare their rows here (`lower <= Σ coef·var <= upper`, under a stable component name
such as "capacity.hours" and an index such as (resource, t)) instead of building one Pyomo
expression per row. `solver.engine.highs.compile_model` turns the registry into the CSC matrix
HiGHS takes without walking expression trees (the slow part of Pyomo on large plans), and
`materialize` creates the equivalent `pyo.Constraint` components when a Pyomo-driven solver or
the Pyomo comparison route needs them. Names are API either way.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import LinearExpression


class _Family:
    """Stands in for a Pyomo constraint component: `.name` is the stable row-family name."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class RowRef:
    """One declared row; quacks like a ConstraintData for `parent_component().name` and
    `index()`, which is all the maps back from HiGHS rows use."""

    __slots__ = ("_family", "_index")

    def __init__(self, family: _Family, index: Hashable) -> None:
        self._family = family
        self._index = index

    def parent_component(self) -> _Family:
        return self._family

    def index(self) -> Hashable:
        return self._index

    @property
    def name(self) -> str:
        idx = self._index if isinstance(self._index, tuple) else (self._index,)
        return f"{self._family.name}[{','.join(map(str, idx))}]" if self._index is not None else self._family.name

    def __repr__(self) -> str:
        return self.name


class Rows:
    """Flat storage: row k has terms coefs[ptr[k]:ptr[k+1]], vars[ptr[k]:ptr[k+1]]."""

    def __init__(self) -> None:
        self.families: dict[str, _Family] = {}
        self.refs: list[RowRef] = []
        self.ptr: list[int] = [0]
        self.coefs: list[float] = []
        self.vars: list[VarData] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def __len__(self) -> int:
        return len(self.refs)

    def add(self, family: str, index: Hashable, coefs: Sequence[float], vars_: Sequence[VarData],
            lower: float = -math.inf, upper: float = math.inf) -> None:
        fam = self.families.get(family)
        if fam is None:
            fam = self.families[family] = _Family(family)
        self.refs.append(RowRef(fam, index))
        self.coefs.extend(coefs)
        self.vars.extend(vars_)
        self.ptr.append(len(self.coefs))
        self.lower.append(float(lower))
        self.upper.append(float(upper))

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
