"""Money and quantities as people read them (solver/money.py)."""

from __future__ import annotations

import math

from solver.money import money, quantity


def test_amounts_whole_to_the_cent_print_without_cents():
    # a solver's float dust next to whole amounts: one row must read ¥7 | ¥16 | ¥25
    assert [money(v) for v in (6.999999999, 16.0, 25.000000001)] == ["¥7", "¥16", "¥25"]


def test_cents_stay_where_they_are_real_and_large_amounts_are_whole():
    assert money(2089.4) == "¥2,089"
    assert money(12.5) == "¥12.50"
    assert money(-0.25) == "-¥0.25"
    assert money(1234567.891) == "¥1,234,568"
    assert money(3.14159, digits=3) == "¥3.142"


def test_missing_infinite_and_unknown_currency():
    assert money(None) == "—" and money(math.nan) == "—"
    assert money(math.inf) == "∞" and money(-math.inf) == "−∞"
    assert money(1500, "XYZ") == "1,500 XYZ"


def test_quantities_drop_float_dust():
    assert quantity(51755.00000000001) == "51,755"
    assert quantity(2.5) == "2.5"
