"""The one answer to "what is row family F" (and variable family V) for every consumer.

Each model area declares its families beside the rows and variables it adds (`FAMILIES`,
`VARIABLES` in formulations/areas/*.py, formulations/setup/*.py and
formulations/extensions/replan.py); this module only collects them. Order: the areas as the
business reads them (capacity, budget, cash, inventory, sales, production, procurement), then
the setup formulations and the re-plan extension; `limits()` keeps that order (the diagnosis's
weights and the CLI list them so).
"""

from __future__ import annotations

from formulations.areas import budget, capacity, cash, inventory, procurement, production, sales
from formulations.extensions import replan
from formulations.families import RowFamily, VarFamily, undeclared_row, undeclared_var
from formulations.setup import facility_location, ls_inequalities

_MODULES = (capacity, budget, cash, inventory, sales, production, procurement, ls_inequalities,
            facility_location, replan)

ROWS: dict[str, RowFamily] = {f.name: f for m in _MODULES for f in m.FAMILIES}
VARIABLES: dict[str, VarFamily] = {v.name: v for m in _MODULES for v in getattr(m, "VARIABLES", ())}


def row_family(row_or_name) -> RowFamily:
    """The declaration of a row family, from its name, a registry row (`RowRef`) or a Pyomo
    constraint; a family nobody declared reads as itself (no dimensions, no unit)."""
    if isinstance(row_or_name, str):
        name = row_or_name
    else:
        fam = row_or_name.parent_component()
        if isinstance(fam, RowFamily):
            return fam
        name = fam.name
    return ROWS.get(name) or undeclared_row(name)


def var_family(var_or_name) -> VarFamily:
    """The declaration of a variable family, from its name or a Pyomo variable."""
    name = var_or_name if isinstance(var_or_name, str) else var_or_name.parent_component().name
    return VARIABLES.get(name) or undeclared_var(name)


def limits() -> tuple[RowFamily, ...]:
    """The families a planner can change (limits and the opportunity of extra demand)."""
    return tuple(f for f in ROWS.values() if f.limit is not None)


def by_label(label: str) -> RowFamily:
    """The limit family with this business label ("minimum cash")."""
    for f in limits():
        if f.label == label:
            return f
    raise KeyError(label)


def limit_keys() -> dict[str, str]:
    """Command-line name -> business label of every limit family: its declared keys and its
    label written with hyphens ("min-cash", "minimum-cash" -> "minimum cash")."""
    out: dict[str, str] = {}
    for f in limits():
        for key in (*f.limit.keys, f.label.replace(" ", "-")):
            out.setdefault(key, f.label)
    return out
