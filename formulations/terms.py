"""Linear terms that several blocks contribute to one balance row (stock, cash, spend, P&L).

Blocks register `coef * var` terms under a row key; the blocks read them back as rows
(`raw`), and the result extraction evaluates the same terms against the solution,
so a balance and its report can never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable

import numpy as np
from pyomo.core.base.var import VarData


class Terms:
    """Row key -> (coefficients, variables) plus a constant per key."""

    def __init__(self) -> None:
        self._coefs: dict[Hashable, list[float]] = defaultdict(list)
        self._vars: dict[Hashable, list[VarData]] = defaultdict(list)
        self._const: dict[Hashable, float] = defaultdict(float)

    def add(self, key: Hashable, coef: float, var: VarData) -> None:
        if coef != 0.0:
            self._coefs[key].append(float(coef))
            self._vars[key].append(var)

    def add_many(self, keys: Iterable[Hashable], coefs: Iterable[float], vars_: Iterable[VarData]) -> None:
        for key, coef, var in zip(keys, coefs, vars_, strict=True):
            if coef != 0.0:
                self._coefs[key].append(float(coef))
                self._vars[key].append(var)

    def add_constant(self, key: Hashable, value: float) -> None:
        self._const[key] += float(value)

    def keys(self) -> set[Hashable]:
        return set(self._coefs) | set(self._const)

    def raw(self, key: Hashable) -> tuple[float, list[float], list[VarData]]:
        """(constant, coefficients, variables) of a key, without building an expression."""
        return self._const.get(key, 0.0), self._coefs.get(key, []), self._vars.get(key, [])

    def has_vars(self, key: Hashable) -> bool:
        return bool(self._vars.get(key))

    def constant(self, key: Hashable) -> float:
        return self._const.get(key, 0.0)

    def evaluate(self, column_of: dict[int, int], values: np.ndarray) -> dict[Hashable, float]:
        """Value of every key for a solution (`column_of`: id(var) -> column; missing = fixed var)."""
        out: dict[Hashable, float] = {}
        for key in self.keys():
            total = self._const.get(key, 0.0)
            for coef, var in zip(self._coefs.get(key, []), self._vars.get(key, []), strict=True):
                col = column_of.get(id(var))
                total += coef * (values[col] if col is not None else (var.value or 0.0))
            out[key] = total
        return out
