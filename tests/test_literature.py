"""Literature importers on small files written here in the original formats.

Only `test_every_real_ttm_file_parses` reads ../shared/literature (and skips when it is absent).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solver.devtools.literature import (
    DEFAULT_LITERATURE_DIR,
    dj_instances,
    import_literature,
    known_values,
    read_dj,
    read_ttm,
    ttm_files,
    ttm_instance,
)
from solver.io.instance_writer import write_instance_folder
from solver.io.loading import load_instance, validate

REPO = Path(__file__).resolve().parents[1]

# 3 items, 4 periods; tabs, CRLF, "40." style numbers, a zero demand, the usual trailer
TTM3 = (
    "3\t4\t\t\r\n"
    "1\t\t\r\n"
    " 100\r\n"
    "1.0\t2.0\t10.\t50.\r\n"
    " 0.50 1.00  5. 30.\r\n"
    "2\t0.5\t0\t20\r\n"
    "10\t0\t5\r\n"
    "  11   12    6\r\n"
    "12 13 7\r\n"
    "13\t14\t8\r\n"
    "  Bi   hi   su   su\r\n"
    "           time cost\r\n"
)


def _ttm16() -> tuple[str, np.ndarray]:
    """16 items, 2 periods: block 1 = items 1..15, block 2 = item 16; X-style trailer, ^Z."""
    n, t = 16, 2
    demand = np.arange(1, n * t + 1, dtype=float).reshape(n, t) * 10  # demand[i, t]
    lines = [f"   {n}   {t}", "    1", " 2000"]
    lines += [f" 1.00 {0.5 + i / 10:.2f}  {10 + i}. {100 + i}." for i in range(n)]
    for r in range(t):
        lines.append(" ".join(f"{int(demand[i, r]):5d}" for i in range(15)))
    for r in range(t):
        lines.append(f"{int(demand[15, r]):5d}")
    lines += [
        "",
        "  Bi   hi   su   su",
        "           time cost",
        " PSIZE,CV,TBO,TSCAP,AVGCAP =      1    1    1    1    7",
    ]
    return "\r\n".join(lines) + "\r\n\x1a" + "\x00" * 20, demand


DJ = {
    "source": "test",
    "bom_format": "[parent, component, quantity_per_parent]",
    "instances": {
        "dj-general": {
            "structure": "general",
            "T": 3,
            "items": [1, 2, 3],
            "bom": [[1, 2, 1], [1, 3, 2], [2, 3, 1]],
            "setup_cost": {"1": 10, "2": 20, "3": 30.5},
            "holding_cost": {"1": 0.3, "2": 0.2, "3": 0.1},
            "external_demand": {"1": [5, 0, 7]},
            "initial_inventory": 0,
            "lead_time": 0,
            "reference_objective": 61.0,
        },
        "dj-serial": {
            "structure": "serial",
            "T": 2,
            "items": [1, 2],
            "bom": [[1, 2, 1]],
            "setup_cost": {"1": 1, "2": 2},
            "holding_cost": {"1": 0.5, "2": 0.25},
            "external_demand": {"1": [3, 4]},
            "initial_inventory": 0,
            "lead_time": 0,
        },
    },
}


@pytest.fixture
def ttm3(tmp_path: Path) -> Path:
    p = tmp_path / "T3.DAT"
    p.write_bytes(TTM3.encode("ascii"))
    return p


@pytest.fixture
def ttm16(tmp_path: Path) -> tuple[Path, np.ndarray]:
    text, demand = _ttm16()
    p = tmp_path / "T16.DAT"
    p.write_bytes(text.encode("latin-1"))
    return p, demand


@pytest.fixture
def dj_json(tmp_path: Path) -> Path:
    p = tmp_path / "dj.json"
    p.write_text(json.dumps(DJ), encoding="utf-8")
    return p


# --- TTM ---------------------------------------------------------------------------------


def test_read_ttm_crlf_tabs(ttm3: Path) -> None:
    d = read_ttm(ttm3)
    assert (d.name, d.n_items, d.n_periods, d.capacity, d.constant) == ("T3", 3, 4, 100.0, 1.0)
    np.testing.assert_array_equal(d.a, [1.0, 0.5, 2.0])
    np.testing.assert_array_equal(d.h, [2.0, 1.0, 0.5])
    np.testing.assert_array_equal(d.st, [10.0, 5.0, 0.0])
    np.testing.assert_array_equal(d.sc, [50.0, 30.0, 20.0])
    np.testing.assert_array_equal(d.demand, [[10, 11, 12, 13], [0, 12, 13, 14], [5, 6, 7, 8]])


def test_read_ttm_two_demand_blocks(ttm16: tuple[Path, np.ndarray]) -> None:
    path, demand = ttm16
    d = read_ttm(path)
    assert (d.n_items, d.n_periods, d.capacity) == (16, 2, 2000.0)
    np.testing.assert_array_equal(d.demand, demand)
    np.testing.assert_array_equal(d.demand[15], [310.0, 320.0])  # item 16 from block 2
    assert d.st[15] == 25.0 and d.sc[15] == 115.0


def test_read_ttm_rejects_short_or_misaligned_files(tmp_path: Path) -> None:
    short = tmp_path / "short.DAT"
    short.write_text(TTM3.split("  Bi")[0].rsplit("13\t14\t8", 1)[0])
    with pytest.raises(ValueError, match="ends before"):
        read_ttm(short)
    extra = tmp_path / "extra.DAT"
    extra.write_text(TTM3.replace("  Bi", "1 2 3\r\n  Bi"))
    with pytest.raises(ValueError, match="unexpected number"):
        read_ttm(extra)
    bad = tmp_path / "bad.DAT"
    bad.write_text(TTM3.replace("0.50", "x.50"))
    with pytest.raises(ValueError, match="expected a number"):
        read_ttm(bad)


def test_ttm_instance_is_the_readme_model(ttm3: Path, tmp_path: Path) -> None:
    toml, t = ttm_instance(ttm3)
    assert toml["periods"] == ["1", "2", "3", "4"] and toml["name"] == "T3"
    assert toml["cash"]["initial"] >= 4 * (50 + 30 + 20)  # setups never limited by cash
    assert list(t["items"]["item"]) == ["P01", "P02", "P03"]
    assert (t["items"]["kind"] == "product").all() and (t["items"]["unit_cost"] == 0).all()
    assert list(t["items"]["holding_cost"]) == [2.0, 1.0, 0.5]
    assert "initial_stock" not in t["items"]  # default 0
    assert t["resources"].to_dict("records") == [{"resource": "R1", "capacity": 100.0}]
    r = t["routings"]
    assert list(r["hours_per_unit"]) == [1.0, 0.5, 2.0]
    assert list(r["setup_hours"]) == [10.0, 5.0, 0.0]
    assert list(r["setup_cost"]) == [50.0, 30.0, 20.0]
    assert t["channels"].to_dict("records") == [{"channel": "K1", "service": "must"}]
    d = t["demand"]
    assert len(d) == 12 and (d["price"] == 0).all()  # zero-demand rows are kept
    row = d[(d["product"] == "P02") & (d["period"] == "1")]
    assert row["quantity"].item() == 0
    folder = write_instance_folder(tmp_path / "inst", toml, t)
    assert validate(folder) == []
    inst = load_instance(folder)
    assert inst.n == 4


def test_ttm_unit_capacity_use_variant(ttm3: Path) -> None:
    toml, t = ttm_instance(ttm3, unit_capacity_use=True, name="T3b")
    assert toml["name"] == "T3b"
    assert (t["routings"]["hours_per_unit"] == 1.0).all()


# --- Dellaert & Jeunet -------------------------------------------------------------------


def test_read_dj(dj_json: Path) -> None:
    data = read_dj(dj_json)
    assert list(data) == ["dj-general", "dj-serial"]
    g = data["dj-general"]
    assert g.n_periods == 3 and g.items == (1, 2, 3)
    assert g.bom == ((1, 2, 1.0), (1, 3, 2.0), (2, 3, 1.0))
    assert g.setup_cost[3] == 30.5 and g.external_demand == {1: (5.0, 0.0, 7.0)}
    assert g.reference_objective == 61.0 and data["dj-serial"].reference_objective is None


def test_dj_instance_all_items_made_on_unconstrained_resource(
    dj_json: Path, tmp_path: Path
) -> None:
    converted = dj_instances(dj_json)
    toml, t = converted["dj-general"]
    kinds = t["items"].set_index("item")["kind"].to_dict()
    assert kinds == {"I1": "product", "I2": "component", "I3": "component"}  # I3 is a leaf
    assert t["resources"]["capacity"].tolist() == [np.inf]
    r = t["routings"].set_index("item")
    assert r["setup_cost"].to_dict() == {"I1": 10.0, "I2": 20.0, "I3": 30.5}
    assert (r["resource"] == "R").all()
    assert t["bom"].to_dict("records") == [
        {"parent": "I1", "child": "I2", "quantity": 1.0},
        {"parent": "I1", "child": "I3", "quantity": 2.0},
        {"parent": "I2", "child": "I3", "quantity": 1.0},
    ]
    assert t["demand"]["quantity"].tolist() == [5.0, 0.0, 7.0]
    assert set(t["demand"]["product"]) == {"I1"}
    assert t["channels"]["service"].tolist() == ["must"]
    assert list(t["items"]["holding_cost"]) == [0.3, 0.2, 0.1]
    for name, (tm, tb) in converted.items():
        folder = write_instance_folder(tmp_path / name, tm, tb)
        assert validate(folder) == []


def test_dj_rejects_demand_on_a_component(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(DJ))
    bad["instances"]["dj-serial"]["external_demand"]["2"] = [1, 1]
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="BOM children"):
        dj_instances(p)


# --- known values and the whole import ---------------------------------------------------


def _fake_literature(root: Path) -> Path:
    (root / "ttm").mkdir(parents=True)
    (root / "dj2000").mkdir()
    (root / "ttm" / "G30.DAT").write_text(TTM3)
    (root / "ttm" / "G53.DAT").write_bytes(_ttm16()[0].encode("latin-1"))
    (root / "ttm" / "known_values.csv").write_text(
        "file,alias,items,periods,optimal_total_cost,note\n"
        'G30.DAT,tr6-15,6,15,37721,"value holds for the variant with every capacity-use '
        'coefficient set to 1.0 (""G30b""); the file as given (fractional coefficients) has '
        'optimum 37809"\n'
        "G53.DAT,tr12-15,12,15,74634,\n"
    )
    (root / "dj2000" / "dj_phase1_subset.json").write_text(json.dumps(DJ))
    (root / "dj2000" / "dj_phase1_known_values.csv").write_text(
        "instance,optimal_objective,status,source\n"
        "dj-general,61.0,proven_optimal,test source\n"
        "dj-other,99.5,proven_optimal,test source\n"
    )
    return root


def test_known_values_maps_tr_aliases_to_files(tmp_path: Path) -> None:
    kv = known_values(_fake_literature(tmp_path / "lit")).set_index("instance")
    assert list(kv.columns[:3]) == ["best_known", "source", "set"]
    assert kv.loc["G30b", "best_known"] == 37721 and kv.loc["G30b", "alias"] == "tr6-15"
    assert kv.loc["G30", "best_known"] == 37809  # the file as given
    assert kv.loc["G53", "best_known"] == 74634 and kv.loc["G53", "alias"] == "tr12-15"
    assert kv.loc["dj-other", "best_known"] == 99.5 and kv.loc["dj-other", "set"] == "dj"


def test_import_literature_writes_folders_and_known_values(tmp_path: Path) -> None:
    lit = _fake_literature(tmp_path / "lit")
    out = tmp_path / "out"
    res = import_literature(lit, out)
    assert sorted(res["instance"]) == ["G30", "G30b", "G53", "dj-general", "dj-serial"]
    for p in res["path"]:
        assert validate(p) == []
    kv = pd.read_csv(out / "known_values.csv")
    assert {"instance", "best_known", "source"} <= set(kv.columns)
    assert res.set_index("instance").loc["G30b", "best_known"] == 37721
    assert np.isnan(res.set_index("instance").loc["dj-serial", "best_known"])
    only_dj = import_literature(lit, tmp_path / "out2", sets=("dj",))
    assert set(only_dj["set"]) == {"dj"}
    assert set(pd.read_csv(tmp_path / "out2" / "known_values.csv")["set"]) == {"dj"}
    with pytest.raises(ValueError):
        import_literature(lit, tmp_path / "out3", sets=("nope",))


def test_default_literature_dir_is_beside_the_repo() -> None:
    assert (REPO / ".." / "shared" / "literature").resolve() == DEFAULT_LITERATURE_DIR


# --- the real files (the only test allowed to skip) --------------------------------------


def test_every_real_ttm_file_parses() -> None:
    ttm_dir = DEFAULT_LITERATURE_DIR / "ttm"
    if not ttm_dir.is_dir():
        pytest.skip(f"literature data absent: {ttm_dir} not found")
    files = ttm_files(DEFAULT_LITERATURE_DIR)
    assert files
    for f in files:
        d = read_ttm(f)
        assert d.n_items in (6, 10, 12, 20, 24, 30) and d.n_periods in (15, 20, 30), f.name
        assert d.capacity > 0 and (d.demand >= 0).all(), f.name
        assert d.demand.shape == (d.n_items, d.n_periods)
