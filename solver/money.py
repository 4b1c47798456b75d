"""Money and quantities written as people read them: one set of rules for the terminal, the
report, the charts, the web pages and every text an analysis returns (a limit, a diagnosis, a
rush answer). Pure functions with no dependencies, so every layer may use them."""

from __future__ import annotations

import math

SYMBOLS = {"CNY": "¥", "RMB": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(value: float | None, currency: str = "CNY", digits: int | None = None) -> str:
    """¥1,234,567 (cents only below 1,000 when not whole to the cent, unless `digits` is
    given): a solver's 6.9999999 is ¥7, as its neighbours ¥16 and ¥25 are."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if digits is None:
        digits = 2 if abs(value) < 1000 and round(value, 2) != round(value) else 0
    sym = SYMBOLS.get(currency.upper(), "")
    sign = "-" if value < 0 else ""
    text = f"{abs(value):,.{digits}f}"
    return f"{sign}{sym}{text}" if sym else f"{sign}{text} {currency}"


def quantity(value: float) -> str:
    """Units: 3,150 (whole, or 100 and more), 2.5 (below 100, up to 4 significant digits)."""
    if abs(value - round(value)) < 1e-6 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def short_money(value: float, currency: str = "") -> str:
    """Axis ticks: ¥12.3M, ¥450k (no symbol for an empty or unknown currency)."""
    sym = SYMBOLS.get(currency.upper(), "")
    a = abs(value)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            text = f"{a / div:.3g}{suffix}"
            break
    else:
        text = f"{a:.3g}"
    sign = "−" if value < 0 else ""
    return f"{sign}{sym}{text}"
