"""Sales-family conversion: demand given per family is split into product demand by the mix
of families.csv (loader), and a bad mix is rejected naming file, row and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from solver.io.loading import FAMILY_CONVERSION, load_instance, validate
from solver.io.problems import InputError
from tests.helpers import write_mini

ITEMS = """\
    item,kind,unit_cost
    bike,product,10
    ebike,product,30
    """
ROUTINGS = """\
    item,routing,resource,hours_per_unit
    bike,,line1,1
    ebike,,line1,2
    """
RESOURCES = """\
    resource,capacity
    line1,100
    """
DEMAND = """\
    product,channel,period,quantity,price
    bikes,retail,2027-01,100,50
    bikes,retail,2027-02,10,60
    bike,retail,2027-03,4,50
    """


def _write(tmp_path: Path, families: str, demand: str = DEMAND, **tables) -> Path:
    base = dict(items=ITEMS, routings=ROUTINGS, resources=RESOURCES, bom=None, channels=None, terms=None,
                demand=demand, families=families)
    return write_mini(tmp_path / "fam", **{**base, **tables})


def test_family_of_two_products_splits_by_shares(tmp_path: Path) -> None:
    inst = load_instance(_write(tmp_path, "family,product,share\nbikes,bike,0.3\nbikes,ebike,0.7\n"))
    d = inst.demand.set_index(["product", "period"])
    assert d.loc[("bike", "2027-01"), "quantity"] == pytest.approx(30)
    assert d.loc[("ebike", "2027-01"), "quantity"] == pytest.approx(70)
    assert d.loc[("bike", "2027-02"), "quantity"] == pytest.approx(3)
    assert d.loc[("ebike", "2027-02"), "quantity"] == pytest.approx(7)
    assert d.loc[("ebike", "2027-02"), "price"] == 60  # the family row's price
    assert d.loc[("bike", "2027-03"), "quantity"] == 4  # a direct row stays as it is
    assert set(inst.demand["product"]) == {"bike", "ebike"}  # no family left in the plan's demand
    conv = inst.tables[FAMILY_CONVERSION]
    assert len(conv) == 4 and set(conv["family"]) == {"bikes"}
    assert (conv["quantity"] - conv["family_quantity"] * conv["share"]).abs().max() < 1e-12
    assert conv.groupby(["period"])["quantity"].sum().to_dict() == pytest.approx({"2027-01": 100, "2027-02": 10})


def test_per_period_mix_overrides_the_general_one(tmp_path: Path) -> None:
    families = ("family,product,share,period\nbikes,bike,0.3,\nbikes,ebike,0.7,\n"
                "bikes,bike,0.5,2027-02\nbikes,ebike,0.5,2027-02\n")
    inst = load_instance(_write(tmp_path, families))
    d = inst.demand.set_index(["product", "period"])["quantity"]
    assert d[("bike", "2027-01")] == pytest.approx(30) and d[("bike", "2027-02")] == pytest.approx(5)


def test_direct_and_family_rows_of_one_product_add_up_keeping_revenue(tmp_path: Path) -> None:
    demand = DEMAND + "    bike,retail,2027-01,10,80\n"
    inst = load_instance(_write(tmp_path, "family,product,share\nbikes,bike,0.3\nbikes,ebike,0.7\n", demand=demand))
    row = inst.demand[(inst.demand["product"] == "bike") & (inst.demand["period"] == "2027-01")]
    assert len(row) == 1
    assert float(row["quantity"].iloc[0]) == pytest.approx(40)
    assert float(row["price"].iloc[0]) == pytest.approx((30 * 50 + 10 * 80) / 40)


def test_shares_not_summing_to_one_name_file_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "family,product,share\nbikes,bike,0.3\nbikes,ebike,0.6\n")
    with pytest.raises(InputError) as err:
        load_instance(path)
    (p,) = [p for p in err.value.problems if p.is_error]
    assert (p.file, p.row, p.column) == ("families.csv", 2, "share")
    assert "bikes" in p.message and "0.9" in p.message


def test_unknown_family_product_and_clashes_are_errors(tmp_path: Path) -> None:
    families = "family,product,share\nbikes,bike,0.3\nbikes,unicycle,0.7\nbike,ebike,1\n"
    demand = DEMAND + "    scooters,retail,2027-01,5,10\n"
    problems = [p for p in validate(_write(tmp_path, families, demand=demand)) if p.is_error]
    where = {(p.file, p.row, p.column) for p in problems}
    assert ("families.csv", 3, "product") in where  # unknown product
    assert ("families.csv", 4, "family") in where  # a family named like an item
    assert ("demand.csv", 5, "product") in where  # neither a product nor a family


def test_family_without_a_mix_for_the_period(tmp_path: Path) -> None:
    families = "family,product,share,period\nbikes,bike,1,2027-01\n"
    problems = [p for p in validate(_write(tmp_path, families)) if p.is_error]
    assert [(p.file, p.row, p.column) for p in problems] == [("demand.csv", 3, "period")]
    assert "no mix" in problems[0].message
