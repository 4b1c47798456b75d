"""Charts drawn the same way everywhere: one font lookup, one tick wording, names as plain text.

Every chart (the report's, the sweep's, the scenario comparison's, the benchmark plots) is made
*and saved* inside `chart_style()`: a CJK-capable font first when one is installed (item,
resource and channel names are often Chinese: without it they are drawn as empty boxes), texts
drawn as given (never TeX), and the minus sign a font surely has.

Axes get their tick labels from `tick_wording` (`money_axis`, `percent_axis`, `quantity_axis`):
one scale for every tick of an axis (¥140M … ¥146M, not ¥1.4e8), as many decimals as the ticks
need to differ (¥144.2M, ¥144.4M rather than ¥144M four times), and never an offset or
exponent beside the axis (`+9.083e1`). Numbers in texts are worded by `solver.money`.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from solver.money import SYMBOLS

# --------------------------------------------------------------------------- fonts

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC",
             "Hiragino Sans GB", "Droid Sans Fallback", "AR PL UMing CN", "Arial Unicode MS")
_CJK_FILE_HINTS = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy", "msyh", "simhei", "simsun",
                   "pingfang", "droidsansfallback", "uming", "ukai", "arialuni", "notosanssc")
LATIN_FONT = "DejaVu Sans"  # matplotlib's own: always there


@cache
def cjk_font() -> str | None:
    """The name of an installed CJK-capable font matplotlib can use, or None (looked up once)."""
    from matplotlib import font_manager as fm

    def known() -> set[str]:
        return {f.name for f in fm.fontManager.ttflist}

    names = known()
    for name in CJK_FONTS:
        if name in names:
            return name

    def key(path: str) -> str:
        return Path(path).name.lower().replace("-", "").replace("_", "")

    try:  # matplotlib's font cache predates fonts installed later: look at the system fonts
        found = [p for p in fm.findSystemFonts() if any(h in key(p) for h in _CJK_FILE_HINTS)]
        for path in sorted(found)[:12]:  # every weight, so that bold text finds its face
            try:
                fm.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    except Exception:  # font discovery is best effort; the charts work without it
        return None
    names = known()
    return next((n for n in CJK_FONTS if n in names), None) or next(
        (n for n in sorted(names) if "CJK" in n or "Han Sans" in n), None)


def label_maker(has_cjk: bool) -> Callable[[object], str]:
    """Names as chart labels: unchanged with a CJK font; else their Latin part (if any), so that
    `挂机空调 AC-12K` reads `AC-12K` rather than four boxes and the code."""
    if has_cjk:
        return str

    def latin(name: object) -> str:
        name = str(name)
        if name.isascii():
            return name
        parts = [p for p in re.split(r"\s+", name) if p and p.isascii()]
        return " ".join(parts) if parts else name

    return latin


# Texts in charts are data (product, line and scenario names) and money ("$408 of $5k"): never
# TeX. With math text on, `P $\nocmd$` stops a chart with a parse error and "$408 … $5k" turns
# into italic math.
PLAIN_TEXT_RC = {"text.parse_math": False, "text.usetex": False}


def chart_rc(font: str | None = None) -> dict:
    """The rc settings of every chart: `font` (a CJK font, found by `cjk_font()` when not given)
    before matplotlib's own, plain text, an ASCII minus (CJK fonts lack U+2212)."""
    font = cjk_font() if font is None else font
    return {"font.family": "sans-serif", "font.sans-serif": ([font] if font else []) + [LATIN_FONT],
            "axes.unicode_minus": False, **PLAIN_TEXT_RC}


@contextmanager
def chart_style(extra: dict | None = None) -> Iterator[Callable[[object], str]]:
    """The one context every chart is made and saved in (tick labels are made when the figure
    is drawn, so the saving must be inside too), with `extra` rc settings. Yields the label
    function for data names (`label_maker`). Missing-glyph warnings are silenced: without a CJK font, the labels
    already fall back to the Latin part of the names."""
    import matplotlib

    font = cjk_font()
    with matplotlib.rc_context({**chart_rc(font), **(extra or {})}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        yield label_maker(font is not None)


def drawn_in_chart_style(make_and_save):
    """Decorator for a function that makes *and* saves a chart: run it in `chart_style()`."""
    import functools

    @functools.wraps(make_and_save)
    def wrapper(*args, **kwargs):
        with chart_style():
            return make_and_save(*args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------- tick labels

SCALES = ((1e9, "B"), (1e6, "M"), (1e3, "k"))


def tick_labels(values: Sequence[float], prefix: str = "", suffix: str = "", factor: float = 1.0,
                scaled: bool = True, scale_from: float = 1e3) -> list[str]:
    """Labels for the ticks `values` of one axis: one scale for all (k, M, B of the largest,
    when `scaled` and the largest reaches `scale_from`), the fewest decimals that write every
    tick exactly (at most 6; beyond, the fewest that keep them apart), `prefix` after the sign
    (¥) and `suffix` after the number (%, h); zero is plain 0. `factor` multiplies first (100
    for fractions shown as percent)."""
    xs = [float(v) * factor for v in values]
    finite = [abs(x) for x in xs if math.isfinite(x)]
    top = max(finite, default=0.0)
    div, unit = next(((d, u) for d, u in SCALES if scaled and top >= max(d, scale_from)), (1.0, ""))
    scaled_xs = [x / div for x in xs]
    decimals = _decimals([x for x in scaled_xs if math.isfinite(x)])
    out = []
    for x in scaled_xs:
        if not math.isfinite(x):
            out.append("∞" if x > 0 else "-∞" if x < 0 else "")
            continue
        text = f"{abs(x):,.{decimals}f}"
        if float(text.replace(",", "")) == 0:
            out.append(f"{prefix}0{suffix}")
            continue
        out.append(f"{'-' if x < 0 else ''}{prefix}{text}{unit}{suffix}")
    return out


def _decimals(xs: Sequence[float], most: int = 6) -> int:
    for d in range(most + 1):
        if all(abs(round(x, d) - x) <= 1e-9 * max(1.0, abs(x)) for x in xs):
            return d
    for d in range(most + 1, 12):  # not round numbers: enough to tell them apart
        if len({round(x, d) for x in xs}) == len(set(xs)):
            return d
    return most


@cache
def _tick_wording_class():
    """`TickWording`, made on first use (matplotlib is imported only by commands that draw)."""
    from matplotlib.ticker import Formatter

    class TickWording(Formatter):
        """A matplotlib tick formatter worded by `tick_labels` (all ticks of the axis together)."""

        def __init__(self, prefix: str = "", suffix: str = "", factor: float = 1.0, scaled: bool = True,
                     scale_from: float = 1e3):
            self.words = {"prefix": prefix, "suffix": suffix, "factor": factor, "scaled": scaled, "scale_from": scale_from}
            self._labels: dict[float, str] = {}

        def set_locs(self, locs) -> None:
            super().set_locs(locs)
            locs = [float(v) for v in locs]
            self._labels = dict(zip(locs, tick_labels(locs, **self.words), strict=True))

        def __call__(self, x, pos=None) -> str:
            if x in self._labels:
                return self._labels[x]
            return tick_labels([x], **self.words)[0]  # one value alone

        def get_offset(self) -> str:
            return ""  # never "+9.083e1" or "1e8" beside the axis

    return TickWording


def tick_wording(prefix: str = "", suffix: str = "", factor: float = 1.0, scaled: bool = True,
                 scale_from: float = 1e3):
    """A matplotlib tick formatter worded by `tick_labels`: all ticks of an axis together, no
    offset or exponent beside the axis."""
    return _tick_wording_class()(prefix, suffix, factor, scaled, scale_from)


def currency_symbol(currency: str) -> str:
    return SYMBOLS.get(str(currency).upper(), "")


def _axis(ax, axis: str):
    return ax.yaxis if axis == "y" else ax.xaxis


def money_axis(ax, currency: str = "", axis: str = "y"):
    """Money ticks: ¥140M, ¥142.5M (no symbol for an empty or unknown currency)."""
    fmt = tick_wording(prefix=currency_symbol(currency))
    _axis(ax, axis).set_major_formatter(fmt)
    return fmt


def quantity_axis(ax, axis: str = "y", suffix: str = ""):
    """Units or hours: 1,200, 8,000, 125k, 3M (with `suffix`, e.g. ' h'); whole numbers up to
    a hundred thousand."""
    fmt = tick_wording(suffix=suffix, scale_from=1e5)
    _axis(ax, axis).set_major_formatter(fmt)
    return fmt


def percent_axis(ax, axis: str = "y", fraction: bool = True, min_span: float | None = None):
    """Percent ticks (90.8%, 90.85%) for fractions (`fraction`) or values already in percent.
    `min_span` (in the data's units) widens a nearly flat axis around its middle, so that a
    change in the fifth digit is not drawn as a cliff."""
    fmt = tick_wording(suffix="%", factor=100.0 if fraction else 1.0, scaled=False)
    _axis(ax, axis).set_major_formatter(fmt)
    if min_span:
        lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
        if hi - lo < min_span:
            mid = (lo + hi) / 2
            (ax.set_ylim if axis == "y" else ax.set_xlim)(mid - min_span / 2, mid + min_span / 2)
    return fmt


def axis_labels(ax, axis: str = "y") -> list[str]:
    """The tick label texts of an axis as drawn (the figure is drawn first): what tests check
    and what a reader sees."""
    ax.figure.draw_without_rendering()
    ticks = (ax.yaxis if axis == "y" else ax.xaxis).get_ticklabels()
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    lo, hi = min(lo, hi), max(lo, hi)
    pos = (lambda t: t.get_position()[1]) if axis == "y" else (lambda t: t.get_position()[0])
    return [t.get_text() for t in ticks if lo - 1e-9 * abs(hi - lo) <= pos(t) <= hi + 1e-9 * abs(hi - lo)]
