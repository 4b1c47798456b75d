"""The hand-off benchmark's reference builder (benchmarks/reference_builder.py) builds the same
model as our route: same size and the same LP relaxation optimum on generated instances, so the
reference cannot silently drift away from the model it is compared with."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import highspy
import numpy as np
import pytest

from formulations.assembly import build_model
from solver.devtools.generator import generate_to, ladder
from solver.engine.highs import compile_model
from solver.io.loading import load_instance

pytestmark = pytest.mark.solver

REFERENCE = Path(__file__).resolve().parents[1] / "benchmarks" / "reference_builder.py"


def _reference_module():
    """Loaded by path: benchmarks/ is not a package, and putting it on sys.path would let
    benchmarks/formulations.py shadow the `formulations` package."""
    name = "prodbudget_reference_builder"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REFERENCE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _lp_optimum(lp: highspy.HighsLp) -> float:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value


@pytest.mark.parametrize(
    "size, overrides",
    [("tiny", {}), ("small", {}), ("small", {"seed": 3, "tightness": 1.2}), ("tiny", {"levels": 1, "channels": 5})],
)
def test_reference_builds_our_model(tmp_path, size, overrides):
    inst = load_instance(generate_to(ladder(size, **overrides), tmp_path / "inst"))
    ref = _reference_module().build_reference(inst)
    sf = compile_model(build_model(inst, materialize=False).model)

    assert (ref.num_rows, ref.num_cols, ref.A.nnz) == (sf.num_rows, sf.num_cols, sf.A.nnz)
    assert ref.is_integer.sum() == sf.num_integers
    ours = _lp_optimum(sf.to_lp(integer=False))
    theirs = _lp_optimum(ref.to_lp(integer=False))
    assert theirs == pytest.approx(ours, rel=1e-7, abs=1e-6)


def test_reference_frames_hold_every_column(tmp_path):
    inst = load_instance(generate_to(ladder("tiny"), tmp_path / "inst"))
    ref = _reference_module().build_reference(inst)
    values = np.arange(ref.num_cols, dtype=float)
    frames = ref.frames(values)
    assert sum(len(df) for df in frames.values()) == ref.num_cols
    assert frames["production.x"].columns.tolist() == ["item", "routing", "t", "value"]
