"""The README's demo block is what the demo commands print today (wall-clock times aside).

Regenerate it with `python -m solver.devtools.demo README.md` after a change that moves a figure.
"""

from pathlib import Path

import pytest

from solver.devtools.demo import block_of, demo_outputs, normalise, render_block

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.solver
def test_readme_demo_block_is_a_real_run():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    fresh = render_block(demo_outputs(ROOT))
    assert normalise(block_of(readme)) == normalise(fresh), (
        "README demo block is stale: run `python -m solver.devtools.demo README.md`")


def test_normalise_drops_only_wall_clock_figures():
    text = "time  build 0.06 s, solve 8.70 s; re-solved for the top 9 in 83.6 s; profit ¥144,464,970"
    assert normalise(text) == "time  build … s, solve … s; re-solved for the top 9 in … s; profit ¥144,464,970"
