"""Every class of bad input is reported with file, row, column and what was expected, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import MINI_TABLES, MINI_TOML, folder_to_workbook, write_mini

from solver.io.loading import load_instance, validate
from solver.io.problems import InputError, Problem


def errors(folder: Path, scenario: str = "base") -> list[Problem]:
    return [p for p in validate(folder, scenario) if p.is_error]


def warnings(folder: Path) -> list[Problem]:
    return [p for p in validate(folder) if not p.is_error]


def find(problems: list[Problem], file: str, row: int | None, column: str | None, text: str = "",
         expected: str = "") -> Problem:
    """The one problem at (file, row, column) whose message contains `text`."""
    hits = [p for p in problems if (p.file, p.row, p.column) == (file, row, column) and text in p.message]
    assert len(hits) == 1, f"no single {file}:{row}:{column} {text!r} in\n" + "\n".join(map(str, problems))
    assert expected in hits[0].expected, hits[0]
    return hits[0]


def test_valid_mini_instance_has_no_problems(tmp_path: Path) -> None:
    """Its one warning: channel 'web' is named only in demand and gets the default terms."""
    (warning,) = validate(write_mini(tmp_path))
    assert (warning.file, warning.row, warning.column, warning.severity) == ("demand.csv", 4, "channel", "warning")
    assert "channel 'web' is not in channels.csv: it gets the defaults (terms 'cash', service 'lost')" in warning.message


# ----------------------------------------------------------------- files and columns


@pytest.mark.parametrize("name", ["items", "demand", "resources", "routings"])
def test_missing_required_file(tmp_path: Path, name: str) -> None:
    problems = errors(write_mini(tmp_path, **{name: None}))
    find(problems, f"{name}.csv", None, None, "required file is missing", f"{name}.csv")
    with pytest.raises(InputError):
        load_instance(tmp_path)


def test_missing_instance_toml_and_a_table_reported_together(tmp_path: Path) -> None:
    problems = errors(write_mini(tmp_path, toml=None, routings=None))
    find(problems, "instance.toml", None, None, "required file is missing", "instance.toml")
    find(problems, "routings.csv", None, None, "required file is missing")


def test_missing_path(tmp_path: Path) -> None:
    problems = errors(tmp_path / "nowhere")
    assert len(problems) == 1 and "does not exist" in problems[0].message


def test_missing_and_unknown_columns_with_suggestion(tmp_path: Path) -> None:
    demand = "product,channel,period,quantiy,prise\nbike,retail,2027-01,1,2\n"
    problems = errors(write_mini(tmp_path, demand=demand))
    find(problems, "demand.csv", 1, "quantity", "required column 'quantity' is missing", "product, channel, period, quantity")
    p = find(problems, "demand.csv", 1, "quantiy", "unknown column 'quantiy'", "one of: product, channel")
    assert "did you mean 'quantity'?" in p.message
    assert "did you mean 'price'?" in find(problems, "demand.csv", 1, "prise").message
    assert len(problems) == 3  # no per-row noise for the missing column


def test_duplicate_header_and_unnamed_column_with_data(tmp_path: Path) -> None:
    resources = "resource,capacity,capacity,\nline1,100,100,x\npaint,inf,inf,\n"
    problems = errors(write_mini(tmp_path, resources=resources))
    find(problems, "resources.csv", 1, "capacity", "appears twice", "each column once")
    find(problems, "resources.csv", 2, None, "column 4 has no header but holds 'x'")


def test_unknown_table_file_is_a_warning(tmp_path: Path) -> None:
    folder = write_mini(tmp_path, budgts="line,period,ceiling\n")
    p = find(warnings(folder), "budgts.csv", None, None, "unknown table file")
    assert "did you mean 'budgets.csv'?" in p.message
    load_instance(folder)


# ----------------------------------------------------------------- cells


def test_bad_cells_all_reported_at_once(tmp_path: Path) -> None:
    items = """\
        item,kind,unit_cost,holding_cost,lead_time,initial_stock,max_stock,safety_stock
        bike,product,abc,nan,1.5,-3,,inf
        frame,compnent,1,1,x,0,inf,
        ,material,1,1,1,0,,
        steel,material,1,1,1,0,,
        """
    problems = errors(write_mini(tmp_path, items=items))
    find(problems, "items.csv", 2, "unit_cost", "'abc' is not a number", "a number >= 0")
    find(problems, "items.csv", 2, "holding_cost", "NaN is not a valid value", "a number >= 0")
    find(problems, "items.csv", 2, "lead_time", "1.5 is not an integer", "an integer >= 0")
    find(problems, "items.csv", 3, "lead_time", "'x' is not a number", "an integer >= 0")
    find(problems, "items.csv", 2, "initial_stock", "-3 is negative", "a number >= 0")
    find(problems, "items.csv", 2, "safety_stock", "inf is not allowed", "a number >= 0")
    p = find(problems, "items.csv", 3, "kind", "'compnent' is not allowed", "one of: product, component, material")
    assert "did you mean 'component'?" in p.message
    find(problems, "items.csv", 4, "item", "required value is blank", "a name")


def test_bool_above_max_and_inf_where_allowed(tmp_path: Path) -> None:
    folder = write_mini(
        tmp_path,
        budget_lines="line,ceiling,carryover\nproduction,inf,maybe\nprocurement,-inf,yes\n",
        terms="terms,lag,share\nnet30,1,1.5\n",
    )
    problems = errors(folder)
    find(problems, "budget_lines.csv", 2, "carryover", "'maybe' is not true or false", "true or false")
    find(problems, "budget_lines.csv", 3, "ceiling", "-inf is not allowed", "a number >= 0, or inf")
    find(problems, "terms.csv", 2, "share", "1.5 is above 1", "a number between 0 and 1")
    assert not [p for p in problems if p.column == "ceiling" and p.row == 2]


def test_reserve_must_be_below_one(tmp_path: Path) -> None:
    resources = "resource,capacity,reserve\nline1,100,1\npaint,inf,0.2\n"
    problems = errors(write_mini(tmp_path, resources=resources))
    find(problems, "resources.csv", 2, "reserve", "1 is above", "0 <= reserve < 1")
    assert len(problems) == 1


def test_many_bad_rows_are_capped_with_a_summary(tmp_path: Path) -> None:
    rows = "".join(f"bike,retail,2027-01,x{i},\n" for i in range(50))
    problems = errors(write_mini(tmp_path, demand="product,channel,period,quantity,price\n" + rows))
    quantity = [p for p in problems if p.column == "quantity"]
    assert len(quantity) == 21 and quantity[-1].row is None and "30 more rows" in quantity[-1].message


def test_ragged_row_with_extra_cells(tmp_path: Path) -> None:
    demand = "product,channel,period,quantity\nbike,retail,2027-01,1,oops\nbike,web,2027-02,1,,\n"
    problems = errors(write_mini(tmp_path, demand=demand))
    assert [(p.row, p.column) for p in problems] == [(2, None)]
    assert "no header but holds 'oops'" in problems[0].message


# ----------------------------------------------------------------- references and keys


def test_unknown_references(tmp_path: Path) -> None:
    folder = write_mini(
        tmp_path,
        bom="parent,child,quantity\nbike,frame,1\nframe,stel,1\n",
        routings="item,resource,hours_per_unit\nbike,line1,1\nframe,lin1,1\n",
        channels="channel,terms\nretail,net31\n",
        demand="product,channel,period,quantity\nbike,retail,2027-13,1\n",
        capacity="resource,period,capacity\nline1,2027-04,10\n",
        open_orders="item,period,quantity\nwheel,2027-01,1\n",
    )
    problems = errors(folder)
    p = find(problems, "bom.csv", 3, "child", "unknown item 'stel'", "an item of items.csv")
    assert "did you mean 'steel'?" in p.message
    find(problems, "routings.csv", 3, "resource", "unknown resource 'lin1'", "a resource of resources.csv")
    find(problems, "channels.csv", 2, "terms", "unknown terms 'net31'", "a terms id of terms.csv or the built-in 'cash'")
    find(problems, "demand.csv", 2, "period", "period '2027-13' is not one of", "2027-01, 2027-02, 2027-03")
    find(problems, "capacity.csv", 2, "period", "period '2027-04'")
    find(problems, "open_orders.csv", 2, "item", "unknown item 'wheel'")


def test_duplicate_keys_but_additive_tables_add(tmp_path: Path) -> None:
    demand = """\
        product,channel,period,quantity,scenario
        bike,retail,2027-01,10,
        bike,retail,2027-02,12,base
        bike,web,2027-03,5,base
        bike,retail,2027-01,3,base
        bike,retail,2027-01,3,high
        """
    folder = write_mini(
        tmp_path,
        demand=demand,
        resources="resource,capacity\nline1,100\npaint,1\nline1,5\n",
        open_orders="item,period,quantity\nsteel,2027-01,1\nsteel,2027-01,2\n",
    )
    problems = errors(folder)
    p = find(problems, "demand.csv", 5, "product", "duplicate key", "each (product, channel, period, scenario) once")
    assert "product='bike', channel='retail', period='2027-01', scenario='base' (first on row 2)" in p.message
    find(problems, "resources.csv", 4, "resource", "duplicate key resource='line1' (first on row 2)")
    assert len(problems) == 2  # bom (frame, steel) twice and open orders twice add up


def test_scenario_without_rows_is_zero_demand_but_a_misspelt_one_an_error(tmp_path: Path) -> None:
    folder = write_mini(tmp_path)
    assert errors(folder, scenario="high") == []
    found = [p for p in validate(folder, "high") if not p.is_error]
    find(found, "demand.csv", None, "scenario", "no demand rows for scenario 'high': it is planned with zero demand")
    assert not any("has no demand row" in p.message for p in found)  # one warning, not one per product
    assert load_instance(folder, "high").tables["demand"].empty
    find(errors(folder, scenario="bsae"), "demand.csv", None, "scenario",
         "no demand rows for scenario 'bsae'; did you mean 'base'?", "base")


def test_empty_demand_table_is_a_warning(tmp_path: Path) -> None:
    folder = write_mini(tmp_path, demand="product,channel,period,quantity,price\n")
    assert errors(folder) == []
    find(warnings(folder), "demand.csv", None, "scenario", "planned with zero demand")


# ----------------------------------------------------------------- structure rules


def test_bom_cycle_named(tmp_path: Path) -> None:
    items = MINI_TABLES["items"] + "        wheel,component,1\n"
    bom = "parent,child,quantity\nbike,frame,1\nframe,wheel,1\nwheel,frame,2\nframe,steel,1\n"
    routings = MINI_TABLES["routings"] + "        wheel,,line1,1\n"
    problems = errors(write_mini(tmp_path, items=items, bom=bom, routings=routings))
    p = find(problems, "bom.csv", 3, "child", "BOM cycle", "acyclic")
    assert p.message in ("BOM cycle frame → wheel → frame", "BOM cycle wheel → frame → wheel")
    assert len(problems) == 1


def test_bom_parent_material_child_product_and_demand_non_product(tmp_path: Path) -> None:
    folder = write_mini(
        tmp_path,
        bom="parent,child,quantity\nbike,frame,1\nframe,steel,1\nsteel,frame,1\nframe,bike,1\n",
        demand="product,channel,period,quantity\nbike,retail,2027-01,1\nframe,retail,2027-01,1\n",
    )
    problems = errors(folder)
    find(problems, "bom.csv", 4, "parent", "'steel' is a material", "a product or component")
    find(problems, "bom.csv", 5, "child", "'bike' is a product", "a component or material")
    cycle = [p for p in problems if p.file == "bom.csv" and p.message.startswith("BOM cycle")]
    assert len(cycle) == 1 and cycle[0].column == "child"  # one cycle named per strongly connected part
    find(problems, "demand.csv", 3, "product", "'frame' is a component, not a product", "a product")


def test_routings_for_made_items_only(tmp_path: Path) -> None:
    routings = "item,resource,hours_per_unit\nbike,line1,1\nsteel,line1,1\n"
    problems = errors(write_mini(tmp_path, routings=routings))
    find(problems, "items.csv", 3, "item", "'frame' is made but has no routing", "routings.csv")
    find(problems, "routings.csv", 3, "item", "'steel' is a material", "a product or component")
    assert len(problems) == 2


def test_columns_not_applying_to_the_kind(tmp_path: Path) -> None:
    items = """\
        item,kind,moq,order_cost,terms,budget_line,min_lot
        bike,product,5,1,cash,capex,
        frame,component,,,,,2
        steel,material,,,,,3
        """
    problems = errors(write_mini(tmp_path, items=items))
    for column in ("moq", "order_cost", "terms", "budget_line"):
        find(problems, "items.csv", 2, column, f"'{column}' is filled for product 'bike'", "applies only to materials")
    find(problems, "items.csv", 4, "min_lot", "'min_lot' is filled for material 'steel'", "applies only to made items")
    assert len(problems) == 5


def test_terms_shares_and_lags(tmp_path: Path) -> None:
    terms = """\
        terms,lag,share
        net30,-1,0.5
        net30,1,0.5
        half,0,0.5
        half,1,0.4999999999
        pre,-2,0.3
        pre,0,0.6
        """
    items = MINI_TABLES["items"] + "        coil,material,1,2,,pre,,,,\n"
    bom = MINI_TABLES["bom"] + "        frame,coil,1\n"
    channels = "channel,terms\nretail,net30\nweb,half\n"
    problems = errors(write_mini(tmp_path, terms=terms, items=items, bom=bom, channels=channels))
    find(problems, "terms.csv", 6, "share", "shares of terms 'pre' sum to 0.9", "summing to 1")
    find(problems, "terms.csv", 2, "lag", "channel 'retail' collects by it", "lag >= 0 for collection terms")
    assert len(problems) == 2  # 'half' within 1e-6; pre lag -2 = -lead_time of coil is allowed


def test_prepayment_beyond_lead_time(tmp_path: Path) -> None:
    terms = "terms,lag,share\nnet30,-2,1\n"  # steel has lead_time 1
    problems = errors(write_mini(tmp_path, terms=terms, channels="channel\nretail\n"))
    p = find(problems, "terms.csv", 2, "lag", "material 'steel' has lead_time 1", "lag >= -lead_time")
    assert len(problems) == 1, p


def test_stock_target_min_above_max(tmp_path: Path) -> None:
    targets = "item,period,min,max\nbike,2027-01,5,4\nframe,2027-02,101,\nsteel,2027-03,1,\n"
    problems = errors(write_mini(tmp_path, stock_targets=targets))
    find(problems, "stock_targets.csv", 2, "min", "min 5 is above max 4", "min <= max")
    find(problems, "stock_targets.csv", 3, "min", "min 101 is above max 100")
    assert len(problems) == 2
    items = MINI_TABLES["items"].replace("frame,component,4,1,,,,,,100", "frame,component,4,1,,,,,101,100")
    problems = errors(write_mini(tmp_path / "b", items=items))
    find(problems, "items.csv", 3, "safety_stock", "safety_stock 101 is above the item's max_stock", "<= max_stock")


# ----------------------------------------------------------------- instance.toml


def test_toml_unknown_keys_sections_types_and_periods(tmp_path: Path) -> None:
    toml = """\
        name = 5
        periods = ["a", "b", "a"]
        colour = "red"

        [cash]
        initail = 5
        credit_limit = "lots"
        interest_rate = -0.1

        [budgte]
        pool = 1
        """
    problems = errors(write_mini(tmp_path, toml=toml))
    find(problems, "instance.toml", 1, "name", "5 is not a string", "a quoted string")
    find(problems, "instance.toml", 2, "periods", "period 'a' is listed twice", "each period label once")
    find(problems, "instance.toml", 3, "colour", "unknown key 'colour'")
    assert "did you mean 'cash.initial'?" in find(problems, "instance.toml", 6, "cash.initail").message
    find(problems, "instance.toml", 7, "cash.credit_limit", "'lots' is not a number", "a number >= 0")
    find(problems, "instance.toml", 8, "cash.interest_rate", "-0.1 is negative")
    p = find(problems, "instance.toml", 10, "budgte", "unknown section [budgte]", "[cash], [budget], [policy]")
    assert "did you mean 'budget'?" in p.message


def test_toml_syntax_error_and_missing_periods(tmp_path: Path) -> None:
    find(errors(write_mini(tmp_path / "a", toml="name = \n")), "instance.toml", 1, None, "not valid TOML")
    find(errors(write_mini(tmp_path / "b", toml="name = 'x'\n")), "instance.toml", None, "periods",
         "required key 'periods' is missing")
    find(errors(write_mini(tmp_path / "c", toml="periods = 0\n")), "instance.toml", 1, "periods", "", "integer >= 1")


def test_pool_accepts_inf_but_credit_limit_not(tmp_path: Path) -> None:
    toml = MINI_TOML.replace("credit_limit = 500", "credit_limit = inf") + "[budget]\npool = inf\n"
    problems = errors(write_mini(tmp_path, toml=toml))
    find(problems, "instance.toml", 7, "cash.credit_limit", "inf is not allowed here", "a number >= 0")
    assert len(problems) == 1


# ----------------------------------------------------------------- warnings


def test_warnings_do_not_fail_the_load(tmp_path: Path) -> None:
    items = MINI_TABLES["items"] + "        scooter,product,1,0,,,,,,\n        glue,material,1,3,,,,,,\n"
    routings = MINI_TABLES["routings"] + "        scooter,,line1,1\n"
    toml = MINI_TOML + "initial_loan = 600\n"
    channels = MINI_TABLES["channels"] + "        export,cash,lost\n"
    folder = write_mini(tmp_path, items=items, routings=routings, toml=toml, channels=channels)
    found = warnings(folder)
    find(found, "items.csv", 5, "item", "product 'scooter' has no demand row in scenario 'base'")
    find(found, "items.csv", 6, "item", "material 'glue' is not used in any BOM")
    find(found, "items.csv", 6, "lead_time", "lead_time 3 is not shorter than the horizon (3 periods)")
    find(found, "channels.csv", 3, "channel", "channel 'export' is never used in demand")
    find(found, "instance.toml", None, "cash.initial_loan", "initial_loan 600 exceeds credit_limit 500")
    find(found, "demand.csv", 4, "channel", "channel 'web' is not in channels.csv")
    assert len(found) == 6 and all(p.severity == "warning" for p in found)
    assert errors(folder) == []
    assert load_instance(folder).cash.initial_loan == 600.0


# ----------------------------------------------------------------- workbooks


def test_workbook_problems_name_sheet_and_row(tmp_path: Path) -> None:
    folder = write_mini(tmp_path / "f", demand="product,channel,period,quantity\nbike,retail,2027-01,1\nbike,web,2027-02,-4\n",
                        routings=None)
    book = folder_to_workbook(folder, tmp_path / "plan.xlsx",
                              [("periods", "2027-01,2027-02,2027-03"), ("cash.initail", 1), ("cash.initial_loan", "x")])
    problems = errors(book)
    find(problems, "plan.xlsx[demand]", 3, "quantity", "-4 is negative", "a number >= 0")
    find(problems, "plan.xlsx[routings]", None, None, "required sheet is missing")
    find(problems, "plan.xlsx[instance]", 3, "cash.initail", "unknown key")
    find(problems, "plan.xlsx[instance]", 4, "cash.initial_loan", "'x' is not a number")
    assert str(find(problems, "plan.xlsx[instance]", 4, "cash.initial_loan")).startswith(
        "plan.xlsx[instance], row 4, key 'cash.initial_loan'")


# ----------------------------------------------------------------- names that match nothing

BUDGETS_OK = """\
    line,period,ceiling
    procurement,2027-01,100
    procurement,2027-02,100
    procurement,2027-03,100
    production,2027-01,500
    production,2027-02,500
    production,2027-03,500
    """


def test_budget_lines_matching_the_charged_ones_are_clean(tmp_path: Path) -> None:
    folder = write_mini(tmp_path, budgets=BUDGETS_OK, budget_lines="line,ceiling\nprocurement,250\nfinishing,90\n")
    assert [p for p in validate(folder) if p.column in ("line", "budget_line", "period")] == []


def test_misspelt_budget_line_in_budgets_is_an_error(tmp_path: Path) -> None:
    """`procurment` in one row: January's procurement ceiling would silently become unlimited
    and a phantom line appear; the row is named, with the line it probably means."""
    folder = write_mini(tmp_path, budgets=BUDGETS_OK.replace("procurement,2027-01", "procurment,2027-01"))
    p = find(errors(folder), "budgets.csv", 2, "line", "budget line 'procurment' is charged by no material or resource")
    assert "did you mean 'procurement' (charged by material 'steel', items.csv row 4)?" in p.message
    w = find(warnings(folder), "budgets.csv", 3, "period", "budget line 'procurement' has per-period ceilings for 2 of 3 periods")
    assert "2027-01 left unlimited" in w.message
    with pytest.raises(InputError):
        load_instance(folder)


def test_misspelt_line_in_budget_lines_is_an_error_an_unrelated_one_a_warning(tmp_path: Path) -> None:
    folder = write_mini(tmp_path, budget_lines="line,ceiling\nprocurment,250\nmarketing,90\n")
    find(errors(folder), "budget_lines.csv", 2, "line", "budget line 'procurment' is charged by no material or resource, so its ceilings limit nothing; did you mean 'procurement'")
    w = find(warnings(folder), "budget_lines.csv", 3, "line", "budget line 'marketing' is charged by no material or resource, so its ceilings limit nothing")
    assert "did you mean" not in w.message


def test_material_charging_a_misspelt_line_is_an_error(tmp_path: Path) -> None:
    """glue charges procurement (the default), steel `procurment`: steel would escape the
    procurement ceilings unseen."""
    items = MINI_TABLES["items"].replace("steel,material,2,1,50,net30,,", "steel,material,2,1,50,net30,procurment,") + "        glue,material,1,0,,,,,,\n"
    bom = MINI_TABLES["bom"] + "        frame,glue,1\n"
    folder = write_mini(tmp_path, items=items, bom=bom, budgets=BUDGETS_OK)
    p = find(errors(folder), "items.csv", 4, "budget_line", "budget line 'procurment' (charged by material 'steel') has no ceiling")
    assert "did you mean 'procurement'?" in p.message


def test_undeclared_charged_line_is_unlimited_without_a_word(tmp_path: Path) -> None:
    """The mini's resource `paint` charges `finishing`, which no budget file names: no
    ceiling is the documented default, and the name is like no other."""
    assert [p for p in validate(write_mini(tmp_path, budgets=BUDGETS_OK)) if "finishing" in p.message] == []


def test_misspelt_demand_channel_is_an_error(tmp_path: Path) -> None:
    demand = MINI_TABLES["demand"] + "        bike,retial,2027-02,3,50\n        bike,retial,2027-03,3,50\n"
    p = find(errors(write_mini(tmp_path, demand=demand)), "demand.csv", 5, "channel",
             "channel 'retial' is not in channels.csv; did you mean 'retail'?", "a channel of channels.csv")
    assert "used on 2 rows: 5, 6" in p.message


def test_period_did_you_mean(tmp_path: Path) -> None:
    demand = "product,channel,period,quantity\nbike,retail,2027-1,1\n"
    find(errors(write_mini(tmp_path, demand=demand)), "demand.csv", 2, "period",
         "period '2027-1' is not one of the instance's periods; did you mean '2027-01'?")


def test_misspelt_names_in_the_appliance_instance(tmp_path: Path) -> None:
    """The two of issue 14 §8 in the shipped instance: one budgets.csv row `procurment`, one
    demand row `电商 Ecommerce` (channels.csv declares `电商 E-commerce`)."""
    import shutil

    folder = shutil.copytree(Path(__file__).resolve().parents[1] / "instances" / "appliance", tmp_path / "a")
    assert errors(folder) == []
    budgets = (folder / "budgets.csv").read_text(encoding="utf-8")
    (folder / "budgets.csv").write_text(budgets.replace("procurement,2027-01,", "procurment,2027-01,"), encoding="utf-8")
    demand = (folder / "demand.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(k for k, line in enumerate(demand) if ",电商 E-commerce," in line)
    demand[row] = demand[row].replace("电商 E-commerce", "电商 Ecommerce")
    (folder / "demand.csv").write_text("".join(demand), encoding="utf-8")
    problems = errors(folder)
    find(problems, "budgets.csv", 2, "line", "budget line 'procurment'")
    find(problems, "demand.csv", row + 1, "channel", "channel '电商 Ecommerce' is not in channels.csv; did you mean '电商 E-commerce'?")
    assert len(problems) == 2


# ----------------------------------------------------------------- shape and size of the input


def test_ten_thousand_unknown_columns_are_capped_with_a_count(tmp_path: Path) -> None:
    extra = [f"x{k}" for k in range(10_000)]
    demand = "product,channel,period,quantity,price," + ",".join(extra) + "\n" + "bike,retail,2027-01,10,50" + ",1" * 10_000 + "\n"
    problems = errors(write_mini(tmp_path, demand=demand))
    unknown = [p for p in problems if p.message.startswith("unknown column")]
    assert len(unknown) == 20 and unknown[0].column == "x0"
    find(problems, "demand.csv", None, None, "… and 9980 more unknown columns")
    assert len(problems) == 21


def test_many_unknown_keys_and_files_are_capped_too(tmp_path: Path) -> None:
    toml = MINI_TOML + "".join(f"key{k} = 1\n" for k in range(50))
    folder = write_mini(tmp_path, toml=toml)
    for k in range(30):
        (folder / f"extra{k}.csv").write_text("a\n1\n", encoding="utf-8")
    problems = validate(folder)
    assert sum(p.message.startswith("unknown key") for p in problems) == 20
    find(problems, "instance.toml", None, None, "… and 30 more unknown keys")
    assert sum(p.message.startswith("unknown table file") for p in problems) == 20
    assert sum("… and 10 more unknown table files" in p.message for p in problems) == 1


@pytest.mark.parametrize("name", ["items", "budgets", "instance"])
def test_a_directory_in_place_of_a_file_is_named_as_such(tmp_path: Path, name: str) -> None:
    folder = write_mini(tmp_path, **({"toml": None} if name == "instance" else {name: None}))
    file = "instance.toml" if name == "instance" else f"{name}.csv"
    (folder / file).mkdir()
    p = find(errors(folder), file, None, None, "is a directory, not a file")
    assert "missing" not in p.message


def test_input_over_the_size_limit_is_refused_before_reading(tmp_path: Path, monkeypatch, caplog) -> None:
    """A limit of 0.002 MB (2,000 bytes, set by the environment variable) against a demand.csv
    of ~3 kB: refused, naming the file, its size and how to raise the limit; the other
    files are still checked. Raised, it loads, and a file above LARGE_INPUT_MB is announced."""
    import solver.io.loading as loading

    demand = MINI_TABLES["demand"] + "".join(f"        bike,retail,2027-01,1,50,s{k}\n" for k in range(100))
    demand = demand.replace("quantity,price", "quantity,price,scenario")
    folder = write_mini(tmp_path, demand=demand, routings="item,resource,hours_per_unit\nbike,nowhere,1\n")
    size = (folder / "demand.csv").stat().st_size
    assert size > 2000
    monkeypatch.setenv(loading.MAX_INPUT_ENV, "0.002")
    problems = errors(folder)
    p = find(problems, "demand.csv", None, None, f"the file is {size / 1e6:,.1f} MB, above the input limit of 0.0 MB")
    assert loading.MAX_INPUT_ENV in p.expected
    find(problems, "routings.csv", 2, "resource", "unknown resource 'nowhere'")
    monkeypatch.setenv(loading.MAX_INPUT_ENV, "1")
    monkeypatch.setattr(loading, "LARGE_INPUT_MB", 0.001)
    with caplog.at_level("WARNING", logger="solver.io.loading"):
        assert not [p for p in errors(folder) if p.file == "demand.csv"]
    assert any(r.getMessage().startswith("reading demand.csv: ") for r in caplog.records)
    monkeypatch.setenv(loading.MAX_INPUT_ENV, "lots")
    find(errors(folder), f"environment variable {loading.MAX_INPUT_ENV}", None, None, "'lots' is not a size in MB")


def test_workbook_over_the_size_limit_is_refused_by_its_unpacked_size(tmp_path: Path, monkeypatch) -> None:
    import zipfile

    import solver.io.loading as loading

    book = folder_to_workbook(write_mini(tmp_path / "f"), tmp_path / "plan.xlsx", [("periods", "2027-01,2027-02,2027-03")])
    packed = book.stat().st_size
    unpacked = sum(i.file_size for i in zipfile.ZipFile(book).infolist())
    assert unpacked > packed
    monkeypatch.setenv(loading.MAX_INPUT_ENV, str((packed + unpacked) / 2 / 1e6))
    (p,) = errors(book)
    assert (p.file, p.row, p.column) == ("plan.xlsx", None, None)
    assert p.message.startswith("the file unpacks to ")


def test_cli_refuses_an_oversized_input_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    folder = write_mini(tmp_path / "i")
    env = {**os.environ, "PRODBUDGET_MAX_INPUT_MB": "0.0001"}
    done = subprocess.run([sys.executable, "-m", "solver.cli", "validate", str(folder)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "above the input limit" in done.stderr
