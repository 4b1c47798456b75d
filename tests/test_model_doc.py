"""docs/model.md names every variable and row family the code registers, and nothing else.

The repository states its own model in docs/model.md (users do not have the project's
contract). A row family or variable added to the code without a word there, or renamed in one
place only, fails here. Names are collected from built models, not from reading the code: the
appliance model (every family of the contract), the tight formulations `ls` and `fl`, the
re-plan and rush-order extensions and the sequential baseline's cut and slack blocks — each
built on the appliance instance in well under a second and never solved. A scan of the source
for `RowFamily("<family>", …)` and `<block>.<name> = pyo.Var/Constraint(…)` covers modules no
build here reaches.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo
import pytest

from formulations.assembly import BuiltModel, build_model
from formulations.extensions.replan import (
    OrderHours,
    change_penalty,
    choose_orders,
    deliver_by,
    hold_decisions,
    protect_orders,
    release_reserve,
)
from formulations.setup.variants import FORMULATIONS, formulation_extensions
from solver import load_instance
from solver.analysis.sequential import _elastic, finance_cut
from solver.engine.results import Result
from solver.engine.status import Status
from solver.io.schema import INSTANCE_KEYS, TABLES

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "model.md"
APPLIANCE = ROOT / "instances" / "appliance"
# sections the code's docstrings cite ("MODEL.md §4.4" = "docs/model.md §4.4")
SECTIONS = ("## 1. Sets", "## 2. Instance format", "## 3. Variables", "## 4. Constraints",
            *(f"### 4.{k} " for k in range(1, 10)), "## 5. Objective", "## 6. Results", "## 7. Edge rules")


def registered_names(built: BuiltModel) -> set[str]:
    """Row families of the registry plus every Var and Constraint component, by full name."""
    names = set(built.ctx.rows.families)
    for kind in (pyo.Var, pyo.Constraint):
        names |= {c.name for c in built.model.component_objects(kind, descend_into=True)}
    return names


def _plan_as_tables(built: BuiltModel) -> Result:
    """A plan given as its production and purchases tables (one lot per routing and material in
    period 1): what the sequential baseline's finance cut reads from an operations plan."""
    m = built.model
    prod = pd.DataFrame([(i, r, t, 1.0, 1) for (i, r, t) in m.production.x if t == 1],
                        columns=["item", "routing", "t", "quantity", "setup"])
    pur = pd.DataFrame([(i, t, 1.0, 1) for (i, t) in m.procurement.q if t == 1],
                       columns=["item", "t", "quantity", "order_placed"])
    return Result(status=Status.OPTIMAL, message="plan given as tables", objective=math.nan, bound=math.nan,
                  gap=math.nan, kpis={}, tables={"production": prod, "purchases": pur})


def models(materialize: bool) -> dict[str, BuiltModel]:
    """The appliance model built plain, with each tight formulation, with every re-plan and
    rush-order extension, and as the sequential baseline's cut model (never solved)."""
    inst = load_instance(APPLIANCE)
    base = build_model(inst, materialize=materialize)
    out = {"base": base}
    for name in FORMULATIONS:
        out[name] = build_model(inst, formulation_extensions(name), materialize=materialize)

    product, channel = inst.tables["demand"].loc[0, ["product", "channel"]]
    res = inst.tables["resources"]
    finite = res.loc[res["capacity"] < math.inf, "resource"].tolist()
    replan = [
        hold_decisions({}, periods={1}, how="fix"),
        change_penalty({}, rate=1.0),
        choose_orders([(product, channel, 10.0)]),  # before release_reserve, which reads accept
        release_reserve(dict.fromkeys(finite, 0.1), [OrderHours(product, channel, {finite[0]: 1.0}, {finite[0]: 2.0})],
                        last_t=inst.n),
        deliver_by([(product, channel, inst.n - 1, False)]),  # bounds only: no names of its own
        protect_orders({}, ()),
    ]
    out["replan"] = build_model(inst, replan, materialize=materialize)
    out["sequential"] = build_model(inst, [finance_cut(_plan_as_tables(base), "period"), _elastic],
                                    materialize=materialize)
    return out


@pytest.fixture(scope="module")
def code_names() -> set[str]:
    names: set[str] = set()
    for built in models(materialize=True).values():
        names |= registered_names(built)
    return names


def source_names() -> tuple[set[str], set[str]]:
    """(row families declared by `RowFamily("…", …)`, leaf names of `x.<leaf> = pyo.Var/Constraint(…)`)
    over every module of the two packages."""
    families: set[str] = set()
    leaves: set[str] = set()
    for path in sorted([*(ROOT / "formulations").rglob("*.py"), *(ROOT / "solver").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "RowFamily"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                families.add(node.args[0].value)
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Attribute) and node.value.func.attr in ("Var", "Constraint")):
                leaves |= {t.attr for t in node.targets if isinstance(t, ast.Attribute)}
    return families, leaves


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_registered_name_is_documented(code_names):
    text = doc_text()
    missing = sorted(name for name in code_names if f"`{name}`" not in text)
    assert not missing, f"registered by the code but not in docs/model.md (in backticks): {missing}"


def test_every_row_family_and_component_in_the_source_is_documented():
    text = doc_text()
    families, leaves = source_names()
    assert {"capacity.hours", "budget.commit", "fl.cover", "finance_cut.scale"} <= families  # the scan finds the declarations
    missing = sorted(f for f in families if f"`{f}`" not in text)
    assert not missing, f"row families added in the code but not in docs/model.md: {missing}"
    documented_leaves = set(re.findall(r"`[a-z_]+\.([a-z_]+)`", text))
    undocumented = sorted(leaves - documented_leaves)
    assert not undocumented, f"Var/Constraint components with no `<block>.<name>` in docs/model.md: {undocumented}"


def test_every_declared_family_is_documented():
    """The registry (formulations/registry.py) declares each row and variable family once;
    each is in docs/model.md under its registered name."""
    from formulations.registry import ROWS, VARIABLES

    text = doc_text()
    missing = sorted(name for name in [*ROWS, *VARIABLES] if f"`{name}`" not in text)
    assert not missing, f"declared in the registry but not in docs/model.md: {missing}"


def test_the_doc_names_no_component_the_code_lacks(code_names):
    blocks = {name.split(".")[0] for name in code_names}
    # `cash.initial` is an instance.toml key and `capacity.csv` an input file, not components
    inputs = {k.path for k in INSTANCE_KEYS} | {t.file for t in TABLES}
    named = {f"{b}.{c}" for b, c in re.findall(r"`([a-z_]+)\.([a-z_]+)`", doc_text()) if b in blocks}
    stale = sorted(named - code_names - inputs)
    assert not stale, f"docs/model.md names components the code does not register: {stale}"


def test_the_cited_sections_exist_in_order():
    text = doc_text()
    at = [text.find(f"\n{heading}") for heading in SECTIONS]
    assert all(pos >= 0 for pos in at), [h for h, pos in zip(SECTIONS, at, strict=True) if pos < 0]
    assert at == sorted(at)


def test_readme_and_architecture_link_the_model():
    for doc in (ROOT / "README.md", ROOT / "docs" / "ARCHITECTURE.md"):
        assert "model.md" in doc.read_text(encoding="utf-8"), doc


# ---------------------------------------------------------------- rows added one way

def test_every_row_is_added_under_its_family_declaration():
    """Blocks, setup formulations, re-plans and the sequential baseline all hand their rows to
    the registry under the family's declaration: no Pyomo constraint of their own (the model
    solve() compiles has none), and each row's family is the declared object itself, the one
    the registry answers with (finance_cut.scale is declared in solver/analysis/sequential.py,
    which formulations/registry.py cannot import)."""
    from formulations.families import RowFamily
    from formulations.registry import ROWS

    for label, built in models(materialize=False).items():
        assert not list(built.model.component_objects(pyo.Constraint, descend_into=True)), label
        families = {ref.parent_component().name: ref.parent_component() for ref in built.ctx.rows.refs}
        assert all(isinstance(f, RowFamily) for f in families.values()), label
        assert all(ROWS[name] is f for name, f in families.items() if name != "finance_cut.scale"), label
        assert set(built.ctx.rows.families) == set(families), label


def test_rows_that_constrain_the_finished_model_follow_the_models_own_rows():
    """Re-plan rows are added while the extensions run, before the capacity, stock, cash and
    budget rows exist; they are placed after all of them, where they were as Pyomo rows (the
    HiGHS model, hence every plan, unchanged)."""
    refs = models(materialize=False)["replan"].ctx.rows.refs
    blocks = [ref.parent_component().name.partition(".")[0] for ref in refs]
    first_replan = blocks.index("replan")
    assert set(blocks[first_replan:]) == {"replan"}
    assert {"capacity", "inventory", "cash", "budget"} <= set(blocks[:first_replan])


def test_a_row_index_that_does_not_match_its_family_is_refused():
    from formulations.areas.capacity import HOURS
    from formulations.rows import Rows

    rows = Rows()
    with pytest.raises(ValueError, match=r"capacity\.hours: index \('A2',\) does not match its dimensions"):
        rows.add_many(HOURS, [("A2",)], [[]], [[]], upper=8.0)
    with pytest.raises(ValueError, match="capacity.hours"), rows.batch(HOURS) as batch:
        batch.add(("A1", 1), [], [], upper=8.0)
        batch.add("A2", [], [], upper=8.0)
    assert len(rows) == 0 and rows.ptr == [0]  # a batch that raises leaves no row behind
    with pytest.raises(ValueError, match=r"capacity\.hours: 2 rows, 1 coefficient lists, 2 variable lists"):
        rows.add_many(HOURS, [("A1", 1), ("A1", 2)], [[]], [[], []])
    rows.add_many(HOURS, [("A1", 1), ("A1", 2)], [[], []], [[], []], upper=[8.0, 9.0])
    assert [ref.name for ref in rows.refs] == ["capacity.hours[A1,1]", "capacity.hours[A1,2]"] and rows.upper == [8.0, 9.0]
