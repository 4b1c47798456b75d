"""Which setup-link formulation a solve uses: the default big-M rows alone, or with the (l,S)
inequalities (`ls`) or the facility-location rows (`fl`) added, or big-M tightened by the root
cut loop (`cuts`: no rows at build time, solver/engine/cuts.py adds the violated ones;
docs/model.md §8.1)."""

from __future__ import annotations

FORMULATIONS: tuple[str, ...] = ("bigm", "ls", "fl", "cuts")


def formulation_extensions(name: str) -> list:
    """The model extensions that implement formulation `name` (bigm: none; `fl`:
    formulations/setup/facility_location.py, which implies the (l,S) rows, so no combination)."""
    if name in ("bigm", "cuts"):  # `cuts` adds its rows after the build (solver/engine/cuts.py)
        return []
    if name == "ls":  # imported here: the command line lists FORMULATIONS without loading Pyomo
        from formulations.setup.ls_inequalities import add_ls_inequalities

        return [add_ls_inequalities]
    if name == "fl":
        from formulations.setup.facility_location import add_facility_location

        return [add_facility_location]
    raise ValueError(f"unknown formulation {name!r} (known: {', '.join(FORMULATIONS)})")


def tight_extensions(options) -> list:
    """`formulation_extensions(options.formulation)`; SolveOptions without the field give big-M."""
    return formulation_extensions(getattr(options, "formulation", "bigm"))
