"""Charts drawn the same way everywhere: money axes and names drawn as plain text (never TeX).
Numbers are worded by `solver.money`."""

from __future__ import annotations

from solver.money import short_money


def money_axis(ax, currency: str = "", axis: str = "y") -> None:
    """Short money (or plain k/M) tick labels on a matplotlib axis."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _pos: short_money(v, currency))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


# Texts in charts are data (product, line and scenario names) and money ("$408 of $5k"): never
# TeX. With math text on, `P $\nocmd$` stops a chart with a parse error and "$408 … $5k" turns
# into italic math.
PLAIN_TEXT_RC = {"text.parse_math": False, "text.usetex": False}


def plain_text_charts():
    """A matplotlib rc context in which every text is drawn as given; wrap the making *and* the
    saving of a figure in it (tick labels are made when the figure is drawn)."""
    import matplotlib

    return matplotlib.rc_context(PLAIN_TEXT_RC)


def drawn_as_plain_text(make_and_save):
    """Decorator for a function that makes *and* saves a chart: run it in `plain_text_charts()`."""
    import functools

    @functools.wraps(make_and_save)
    def wrapper(*args, **kwargs):
        with plain_text_charts():
            return make_and_save(*args, **kwargs)

    return wrapper
