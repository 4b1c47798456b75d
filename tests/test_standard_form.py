"""The compiled model (solver/engine/highs.py `StandardForm`) keeps what its maps point at."""

import gc

import pytest

from formulations.assembly import build_model
from solver.engine.highs import compile_model
from solver.io.loading import load_instance


@pytest.mark.parametrize("materialize", [False, True], ids=["rows", "pyomo"])
def test_columns_keep_their_model_when_only_the_standard_form_is_kept(materialize):
    """A caller may keep only `sf` (the heuristic's windows read each column's family from it).
    A Pyomo VarData holds a weak reference to its parent, so once the collector had run, a
    column of a model nobody else held answered `parent_component()` None (CI hit it in
    tests/test_lp_guided.py, depending on when the collector ran)."""
    sf = compile_model(build_model(load_instance("instances/tiny/rush_basic"), [], materialize=materialize).model)
    gc.collect()
    assert all(v.parent_component() is not None for v in sf.columns)
