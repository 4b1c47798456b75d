"""Long rows handed to the MIP as partial sums (solver/engine/highs.py `split_dense_rows`) keep the model."""

import numpy as np
import pytest

import solver.engine.highs as highs
from formulations.assembly import build_model
from solver.analysis.checker import check_plan
from solver.engine.highs import compile_model, split_dense_rows
from solver.engine.pipeline import solve
from solver.io.loading import load_instance

APPLIANCE = "instances/appliance"


def test_split_rows_evaluate_like_the_original_rows():
    """For any x, the split model's original rows (with the partial sums from `extend`) have the
    activity of the unsplit rows, and every partial-sum row is 0: the models are the same."""
    sf = compile_model(build_model(load_instance(APPLIANCE), [], materialize=False).model)
    split = split_dense_rows(sf, limit=20, chunk_size=7)
    assert split is not None and split.sf.num_cols > sf.num_cols
    x = np.random.default_rng(0).uniform(0, 10, sf.num_cols)
    full = split.extend(x)
    act = split.sf.A @ full
    assert np.allclose(act[: sf.num_rows], sf.A @ x, rtol=1e-12, atol=1e-6)
    assert np.allclose(act[sf.num_rows:], 0.0, atol=1e-6)
    assert np.diff(split.sf.A.tocsr().indptr).max() < np.diff(sf.A.tocsr().indptr).max()  # rows are shorter


@pytest.mark.solver
def test_split_model_solves_to_the_same_optimum(monkeypatch):
    """The appliance plan with every row over 20 entries split equals the unsplit optimum
    (within the gap) and passes the independent checker."""
    inst = load_instance(APPLIANCE)
    plain = solve(inst, time_limit=120)
    monkeypatch.setattr(highs, "DENSE_ROW", 20)
    monkeypatch.setattr(highs, "CHUNK", 7)
    split = solve(inst, time_limit=120)
    assert split.status.has_plan and plain.status.has_plan
    assert abs(split.objective - plain.objective) <= 2e-4 * abs(plain.objective)
    assert len(check_plan(inst, split.tables)) == 0
