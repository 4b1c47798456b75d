"""The instance generator: determinism, structural validity, every feature, feasibility.

Feasibility is checked without a solver: the generator promises that the "do nothing" plan
(no production, no purchases, must demand shipped from initial stock) satisfies every
constraint, and `_check_do_nothing_plan` recomputes that plan's stocks, budget and cash.
"""

from __future__ import annotations

import math
import time
import tomllib
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.devtools.generator import (
    LADDER,
    GeneratorParams,
    generate,
    generate_to,
    ladder,
    ladder_toml,
)
from solver.io.instance_writer import toml_dumps, write_instance_folder
from solver.io.loading import validate
from solver.io.schema import TABLE_SPECS

REPO = Path(__file__).resolve().parents[1]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- writer ------------------------------------------------------------------------------


def test_toml_round_trip_with_inf_and_escapes() -> None:
    data = {
        "name": 'caf\u00e9 "A"\\B 家电',
        "periods": ["2027-01", "2027-02"],
        "cash": {"initial": 5.0, "credit_limit": 0, "interest_rate": 1e-05},
        "budget": {"pool": math.inf},
    }
    assert tomllib.loads(toml_dumps(data)) == data
    assert "pool = inf" in toml_dumps(data)


def test_writer_replaces_folder_whole(tmp_path: Path) -> None:
    toml = {"name": "x", "periods": ["1"]}
    items = pd.DataFrame({"item": ["a"], "kind": ["product"], "lead_time": [1.0]})
    out = write_instance_folder(tmp_path / "inst", toml, {"items": items})
    (out / "stale.csv").write_text("old")
    write_instance_folder(tmp_path / "inst", toml, {"items": items})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inst"]  # no temp or old folders
    assert sorted(p.name for p in out.iterdir()) == ["instance.toml", "items.csv"]
    assert (out / "items.csv").read_text() == "item,kind,lead_time\na,product,1\n"


def test_writer_rejects_unknown_tables_and_columns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown table"):
        write_instance_folder(tmp_path / "a", {"periods": ["1"]}, {"itemz": pd.DataFrame()})
    with pytest.raises(ValueError, match="unknown columns"):
        write_instance_folder(
            tmp_path / "b", {"periods": ["1"]}, {"items": pd.DataFrame({"itme": ["a"]})}
        )
    assert not any(tmp_path.iterdir())


# --- ladder --------------------------------------------------------------------------------


def test_ladder_file_is_generated_from_module() -> None:
    text = (REPO / "benchmarks" / "ladder.toml").read_text(encoding="utf-8")
    assert text == ladder_toml(), "run solver.devtools.generator.write_ladder_toml('benchmarks/ladder.toml')"
    assert tomllib.loads(text) == LADDER


def test_ladder_sizes() -> None:
    assert list(LADDER) == ["tiny", "small", "medium", "large", "xl"]
    xl = ladder("xl")
    assert (xl.products, xl.periods, xl.resources, xl.materials) >= (2000, 24, 30, 1000)
    assert xl.products >= 2000 and xl.periods >= 24 and xl.resources >= 30
    assert ladder("small", seed=7).seed == 7
    with pytest.raises(KeyError):
        ladder("huge")


def test_xl_generates_in_seconds() -> None:
    t0 = time.perf_counter()
    _, tables = generate(ladder("xl"))
    assert time.perf_counter() - t0 < 10
    assert (tables["items"]["kind"] == "product").sum() == 2000


# --- determinism -------------------------------------------------------------------------


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate_to(ladder("small", seed=3), tmp_path / "a")
    b = generate_to(ladder("small", seed=3), tmp_path / "b")
    assert _files(a) == _files(b)


def test_different_seed_different_bytes(tmp_path: Path) -> None:
    a = generate_to(ladder("small", seed=3), tmp_path / "a")
    b = generate_to(ladder("small", seed=4), tmp_path / "b")
    fa, fb = _files(a), _files(b)
    assert fa["demand.csv"] != fb["demand.csv"]
    assert fa["bom.csv"] != fb["bom.csv"]


def test_bad_params_rejected() -> None:
    with pytest.raises(ValueError):
        generate(GeneratorParams(products=0))
    with pytest.raises(ValueError):
        generate(GeneratorParams(tightness=0))


# --- structure -----------------------------------------------------------------------------


def _check_structure(toml: dict, t: dict[str, pd.DataFrame]) -> None:
    periods = list(toml["periods"])
    items = t["items"].set_index("item")
    kind = items["kind"]
    made = set(kind.index[kind != "material"])
    products = set(kind.index[kind == "product"])
    terms_ids = set(t["terms"]["terms"]) | {"cash"}
    resources = set(t["resources"]["resource"])

    for name, df in t.items():  # keys unique, columns known
        spec = TABLE_SPECS[name]
        assert set(df.columns) <= set(spec.column_names), name
        assert not df.duplicated([k for k in spec.key if k in df]).any(), name
        if "period" in df:
            assert set(df["period"]) <= set(periods), name

    # references
    assert set(t["demand"]["product"]) <= products
    assert set(t["demand"]["channel"]) <= set(t["channels"]["channel"])
    assert set(t["bom"]["parent"]) <= made
    assert set(t["bom"]["child"]) <= set(kind.index[kind != "product"])
    assert set(t["routings"]["item"]) == made  # every made item has a routing
    assert set(t["routings"]["resource"]) <= resources
    assert set(t["capacity"]["resource"]) <= resources
    assert set(t["open_orders"]["item"]) <= set(kind.index)
    assert set(t["stock_targets"]["item"]) <= set(kind.index)
    assert set(items["terms"].dropna()) <= terms_ids
    assert set(t["channels"]["terms"]) <= terms_ids
    assert set(t["budgets"]["line"]) <= set(t["budget_lines"]["line"])
    lines = set(items["budget_line"].dropna()) | set(t["resources"]["budget_line"])
    assert lines == set(t["budget_lines"]["line"])

    # BOM acyclic
    g = nx.DiGraph(list(zip(t["bom"]["parent"], t["bom"]["child"], strict=True)))
    assert nx.is_directed_acyclic_graph(g)
    assert (t["bom"]["quantity"] > 0).all()

    # terms: shares sum to 1; prepayments only as deep as the lead time; collections lag >= 0
    sums = t["terms"].groupby("terms")["share"].sum()
    assert np.allclose(sums, 1.0, atol=1e-12)
    min_lag = t["terms"].groupby("terms")["lag"].min()
    mats = items[kind == "material"]
    for m, row in mats.iterrows():
        if row["terms"] in min_lag.index:
            assert min_lag[row["terms"]] >= -row["lead_time"], m
    for tid in t["channels"]["terms"]:
        assert tid == "cash" or min_lag[tid] >= 0

    # kind-specific columns are blank where they do not apply
    assert items.loc[list(made), ["moq", "order_cost", "max_stock"]].isna().all().all()
    assert items.loc[list(made), ["terms", "budget_line"]].isna().all().all()
    assert items.loc[mats.index, ["min_lot", "safety_penalty"]].isna().all().all()

    # routings: steps of one routing on different resources; alternatives in another plant
    r = t["routings"]
    plant = t["resources"].set_index("resource")["plant"]
    assert not r.duplicated(["item", "routing", "resource"]).any()
    alt = r[r["routing"] == "alt"].set_index("item")["resource"].map(plant)
    main_first = r[r["routing"] == "main"].groupby("item")["resource"].first().map(plant)
    assert (alt != main_first[alt.index]).all()
    assert (t["resources"]["reserve"] < 1).all()


def _check_do_nothing_plan(toml: dict, t: dict[str, pd.DataFrame]) -> None:
    """The plan "produce and buy nothing, ship must demand from stock" is feasible."""
    periods = list(toml["periods"])
    n = len(periods)
    items = t["items"].set_index("item")
    ch = t["channels"].set_index("channel")
    d = t["demand"]
    must = d[d["channel"].map(ch["service"]) == "must"]
    must_total = must.groupby("product")["quantity"].sum()
    # product stock never negative: initial covers all must demand
    assert (items.loc[must_total.index, "initial_stock"] >= must_total).all()
    # open orders accumulate on top of initial stock
    oo = t["open_orders"]
    open_total = oo.groupby("item")["quantity"].sum().reindex(items.index, fill_value=0)
    # hard minimums (no safety_penalty) are met by initial stock alone (materials only)
    hard = items["safety_penalty"].isna()
    assert (items.loc[hard, "safety_stock"] <= items.loc[hard, "initial_stock"]).all()
    assert (items.loc[hard & (items["kind"] != "material"), "safety_stock"] == 0).all()
    st_ = t["stock_targets"]
    mins = st_[st_["min"].notna()]
    assert items.loc[mins["item"], "safety_penalty"].notna().all()  # target minimums are soft
    # maximums hold for initial + every open order
    cap_stock = items["initial_stock"] + open_total
    assert (items["max_stock"].fillna(np.inf) >= cap_stock).all()
    maxs = st_[st_["max"].notna()]
    assert (maxs["max"].to_numpy() >= cap_stock[maxs["item"]].to_numpy()).all()

    # budget: fixed resource costs are committed every period
    res = t["resources"]
    fixed_by_line = res.groupby("budget_line")["fixed_cost"].sum()
    per = t["budgets"].set_index(["line", "period"])["ceiling"]
    for line, fixed in fixed_by_line.items():
        for p in periods:
            assert per.get((line, p), np.inf) >= fixed
    horizon = t["budget_lines"].set_index("line")["ceiling"].fillna(np.inf)
    for line, fixed in fixed_by_line.items():
        assert horizon[line] >= fixed * n
    assert toml["budget"]["pool"] >= res["fixed_cost"].sum() * n

    # cash: initial pays every period's fixed cost and overhead above min_balance (no loan)
    c = toml["cash"]
    outflow = res["fixed_cost"].sum() + c["overhead"]
    assert c["initial"] - n * outflow >= c["min_balance"]
    assert c["initial_loan"] == 0


params_strategy = st.builds(
    GeneratorParams,
    products=st.integers(1, 12),
    periods=st.integers(1, 8),
    resources=st.integers(1, 5),
    materials=st.integers(1, 10),
    levels=st.integers(1, 4),
    channels=st.integers(1, 5),
    tightness=st.floats(0.05, 2.0),
    seed=st.integers(0, 2**32 - 1),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params_strategy)
def test_structure_and_feasibility_over_many_params(params: GeneratorParams) -> None:
    toml, tables = generate(params)
    _check_structure(toml, tables)
    _check_do_nothing_plan(toml, tables)


@pytest.mark.parametrize("seed", range(5))
def test_tiny_has_every_feature(seed: int) -> None:
    toml, t = generate(ladder("tiny", seed=seed))
    items, r, terms = t["items"], t["routings"], t["terms"]
    kind = items.set_index("item")["kind"]
    # multi-level BOM: a component is both a child and a parent
    assert (set(t["bom"]["child"]) & set(t["bom"]["parent"])) and (kind == "component").any()
    assert (r["routing"] == "alt").any()  # alternative routing
    steps = r.groupby(["item", "routing"]).size()
    assert (steps >= 2).any()  # multi-step routing
    assert (r["setup_hours"] > 0).any() and (r["setup_cost"] > 0).any()
    assert (items["min_lot"] > 0).any()
    assert (items["moq"] > 0).any() and (items["order_cost"] > 0).any()
    assert (terms.groupby("terms").size() >= 2).any()  # several lags
    assert (terms["lag"] < 0).any() and "prepay" in set(items["terms"])
    assert toml["cash"]["credit_limit"] > 0 and toml["cash"]["interest_rate"] > 0
    bl = t["budget_lines"]
    assert bl["ceiling"].notna().any() and len(t["budgets"]) > 0  # horizon and per-period
    assert bl["carryover"].any()
    assert math.isfinite(toml["budget"]["pool"])
    assert toml["budget"]["emergency_pool"] > 0 and toml["budget"]["emergency_premium"] > 0
    assert set(t["channels"]["service"]) == {"must", "backlog", "lost"}
    assert set(t["demand"]["channel"]) == set(t["channels"]["channel"])
    assert t["stock_targets"]["min"].notna().any() and t["stock_targets"]["max"].notna().any()
    assert (items["safety_penalty"] > 0).any()
    assert len(t["capacity"]) > 0 and len(t["open_orders"]) > 0
    assert (t["resources"]["overtime_max"] > 0).any()
    assert t["resources"]["plant"].nunique() == 2


@pytest.mark.parametrize("size", ["tiny", "small", "medium"])
def test_generated_folders_pass_the_loader(tmp_path: Path, size: str) -> None:
    for seed in range(2):
        folder = generate_to(ladder(size, seed=seed), tmp_path / f"{size}-{seed}")
        assert validate(folder) == []


def test_tightness_scales_capacity_and_budgets() -> None:
    loose = generate(ladder("small", tightness=0.5))
    tight = generate(ladder("small", tightness=1.0))
    cap_l = loose[1]["resources"]["capacity"].to_numpy()
    cap_t = tight[1]["resources"]["capacity"].to_numpy()
    assert (cap_t <= cap_l).all() and (cap_t < cap_l).any()
    assert tight[0]["budget"]["pool"] < loose[0]["budget"]["pool"]
    # same seed: only the scaled quantities change, not the demand
    pd.testing.assert_frame_equal(loose[1]["demand"], tight[1]["demand"])


@pytest.mark.solver
@pytest.mark.parametrize("tightness", [0.5, 1.5])
@pytest.mark.parametrize("seed", range(3))
def test_tiny_is_feasible_for_the_solver(tmp_path: Path, seed: int, tightness: float) -> None:
    from solver import load_instance, solve

    folder = generate_to(ladder("tiny", seed=seed, tightness=tightness), tmp_path / "tiny")
    result = solve(load_instance(folder), time_limit=60)
    assert result.status.has_plan, f"{result.status}: {result.message}"
