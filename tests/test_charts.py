"""Charts read the same everywhere (issue 17, *Charts*): one CJK font lookup for every chart,
one tick wording for every money, percent and hour axis (distinct labels, no offset beside the
axis), the sweep's today marker and unit-worded parameter axis, legends beside the bars."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import solver.present.formatting as formatting
from solver.present.charts import scenario_chart, scenario_figure, sweep_chart, sweep_figure
from solver.present.formatting import (
    axis_labels,
    chart_style,
    money_axis,
    percent_axis,
    tick_labels,
)

OTHER_FONT = "DejaVu Sans Mono"  # ships with matplotlib: stands for "the CJK font found" below


# ------------------------------------------------------------------ tick wording


def test_money_ticks_one_scale_and_enough_decimals_to_differ():
    # the sweep's profit axis printed ¥144M four times
    assert tick_labels([144.40e6, 144.42e6, 144.44e6, 144.46e6], "¥") == ["¥144.40M", "¥144.42M", "¥144.44M", "¥144.46M"]
    assert tick_labels([0, 5e7, 1e8, 1.5e8], "¥") == ["¥0", "¥50M", "¥100M", "¥150M"]  # one scale, no 1e8
    assert tick_labels([-2.5e6, 0, 2.5e6], "¥") == ["-¥2.5M", "¥0", "¥2.5M"]
    assert tick_labels([0, 200, 400], "¥") == ["¥0", "¥200", "¥400"]
    assert tick_labels([1.2e9, 1.4e9]) == ["1.2B", "1.4B"]


def test_percent_ticks_without_an_offset():
    # the service-level axis read "+9.083e1" with ticks 0.0045 … 0.0065
    labels = tick_labels([0.908345, 0.908350, 0.908355], suffix="%", factor=100, scaled=False)
    assert labels == ["90.8345%", "90.8350%", "90.8355%"]
    assert tick_labels([0.0, 0.5, 1.0], suffix="%", factor=100, scaled=False) == ["0%", "50%", "100%"]


def _profit_axis(values) -> tuple[list[str], str]:
    fig = Figure()
    ax = fig.subplots()
    ax.plot(range(len(values)), values)
    money_axis(ax, "CNY")
    labels = axis_labels(ax)
    return labels, ax.yaxis.get_offset_text().get_text()


def test_money_axis_on_a_drawn_figure_has_distinct_labels_and_no_offset():
    labels, offset = _profit_axis([143_981_007, 144_254_960, 144_401_330, 144_464_970, 144_467_964])
    assert offset == ""
    assert len(labels) >= 3 and len(set(labels)) == len(labels), labels
    assert all(t.startswith("¥") and t.endswith("M") for t in labels), labels
    labels, offset = _profit_axis([1.2e8, 1.3e8, 1.45e8])  # comparison.png read 1e8 beside the axis
    assert offset == "" and all(t.startswith("¥") for t in labels)


def test_nearly_flat_percent_axis_is_widened_and_labelled_plainly():
    fig = Figure()
    ax = fig.subplots()
    ax.plot([1, 2, 3], [0.908345, 0.908365, 0.908350])
    percent_axis(ax, min_span=0.02)
    labels = axis_labels(ax)
    lo, hi = ax.get_ylim()
    assert hi - lo >= 0.02 - 1e-12
    assert ax.yaxis.get_offset_text().get_text() == ""
    assert all(t.endswith("%") and "e" not in t for t in labels) and len(set(labels)) == len(labels), labels


# ------------------------------------------------------------------ one font lookup


def _sweep_frame(values, profits, service=None) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({"parameter": "p", "value": values, "status": "optimal", "profit": profits,
                         "bound": profits, "marginal_value": np.nan, "point": "grid",
                         "service_level": service if service is not None else [0.9] * n})


def test_every_chart_uses_the_font_the_lookup_found(monkeypatch, tmp_path):
    """The sweep chart drew Chinese names as boxes while the report found a CJK font: every
    chart now draws in `chart_style()`, whose font is the one `cjk_font()` finds."""
    monkeypatch.setattr(formatting, "cjk_font", lambda: OTHER_FONT)
    fonts = []
    real_savefig = Figure.savefig

    def spy(fig, *args, **kwargs):
        fonts.append(matplotlib.rcParams["font.sans-serif"][0])
        fig.draw_without_rendering()
        fonts.extend({t.get_fontname() for ax in fig.axes for t in ax.get_xticklabels() if t.get_text()})
        return real_savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    sweep_chart(_sweep_frame([1.0, 2.0, 3.0], [10.0, 20.0, 25.0]), "capacity:冲压线 P1", tmp_path / "s.png", "CNY")
    scenario_chart(_comparison(), tmp_path / "c.png")
    assert fonts and set(fonts) == {OTHER_FONT}, fonts


def test_with_a_cjk_font_installed_chinese_names_are_drawn_not_boxed():
    """On a machine with a CJK font (fonts-noto-cjk here), the font the charts use has the
    glyphs of the names; without one, the names fall back to their Latin part."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    name = "顺德冲压线 SD-Press"
    with chart_style() as label:
        fig = sweep_figure(_sweep_frame([1.0, 2.0, 3.0], [10.0, 20.0, 25.0]), f"capacity:{name}", "CNY", label=label)
        fig.draw_without_rendering()
        title = fig.axes[0].xaxis.label  # the parameter, named by the data
        font_file = font_manager.findfont(title.get_fontproperties(), fallback_to_default=True)
    if formatting.cjk_font() is None:
        assert label(name) == "SD-Press"
        return
    assert name in title.get_text()
    assert all(FT2Font(font_file).get_char_index(ord(ch)) for ch in "顺德冲压线"), font_file


# ------------------------------------------------------------------ the sweep chart


def _drawn(fig):
    """The renderer of the figure drawn (window extents are in its pixels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _legend_texts(fig) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_sweep_of_a_money_parameter_marks_today_and_words_the_axis_in_yuan():
    values = [287e6, 348.5e6, 410e6, 471.5e6, 533e6]
    df = _sweep_frame(values, [87.9e6, 122.6e6, 144.46e6, 144.46e6, 144.46e6],
                      service=[0.761, 0.863, 0.908345, 0.908355, 0.908350])
    with chart_style() as label:
        fig = sweep_figure(df, "budget:procurement", "CNY", today=410e6, label=label)
        ax, ax2 = fig.axes
        x = axis_labels(ax, "x")
        assert x and all(t.startswith("¥") and t.endswith("M") for t in x), x
        assert "today: ¥410,000,000" in _legend_texts(fig)
        stars = [ln for ln in ax.get_lines() if ln.get_marker() == "*"]
        assert len(stars) == 1 and list(stars[0].get_xdata()) == [410e6]
        right = axis_labels(ax2)
        assert all(t.endswith("%") for t in right) and ax2.yaxis.get_offset_text().get_text() == ""


def test_sweep_of_hours_and_of_a_factor_word_their_axis():
    df = _sweep_frame([315.0, 405.0, 495.0], [143.98e6, 144.40e6, 144.47e6])
    with chart_style() as label:
        fig = sweep_figure(df, "capacity:L1", "CNY", today=450.0, label=label)
        assert all(t.endswith(" h") for t in axis_labels(fig.axes[0], "x"))
        assert "today: 450 h" in _legend_texts(fig)
        fig = sweep_figure(_sweep_frame([0.8, 1.0, 1.2], [1e6, 2e6, 2.5e6]), "demand", "CNY", today=1.0, label=label)
        assert all(t.endswith("×") for t in axis_labels(fig.axes[0], "x"))


def test_sweep_legend_names_exact_and_bracketed_breakpoints():
    # kink at 5 between grid points with the tangents known: bracketed (not at a grid point)
    v = np.array([0.0, 4.0, 8.0, 12.0])
    df = _sweep_frame(v, np.minimum(3 * v, 2 * v + 5)).assign(marginal_value=[3.0, 3.0, 2.0, 2.0])
    with chart_style() as label:
        texts = _legend_texts(sweep_figure(df, "credit_limit", "CNY", label=label))
    assert "the slope changes somewhere here (not located)" in texts
    assert not any(t.startswith("breakpoint") for t in texts)
    df = pd.concat([df, _sweep_frame([5.0], [15.0]).assign(marginal_value=2.5, point="probe")])
    with chart_style() as label:
        texts = _legend_texts(sweep_figure(df, "credit_limit", "CNY", label=label))
    assert "breakpoint: the slope changes here (located exactly)" in texts
    assert "points solved to locate a breakpoint" in texts


def test_a_breakpoint_at_todays_value_stays_visible():
    """Today's green line would hide the breakpoint's dashed line at the same value (the demo's
    credit line: the slope changes exactly at today's ¥15M), so a ring marks it on the curve."""
    v = np.array([0.0, 5.0, 10.0])
    df = _sweep_frame(v, np.minimum(3 * v, 2 * v + 5)).assign(marginal_value=[3.0, 2.5, 2.0])
    with chart_style() as label:
        ax = sweep_figure(df, "credit_limit", "CNY", today=5.0, label=label).axes[0]
    rings = [ln for ln in ax.get_lines() if ln.get_marker() == "o" and ln.get_markerfacecolor() == "none"]
    assert len(rings) == 1 and list(rings[0].get_xdata()) == [5.0] and list(rings[0].get_ydata()) == [15.0]
    assert rings[0].get_zorder() > max(ln.get_zorder() for ln in ax.get_lines() if ln.get_marker() == "*")


def test_sweep_legend_sits_outside_the_plot():
    df = _sweep_frame([1.0, 2.0, 3.0], [10.0, 20.0, 25.0])
    with chart_style() as label:
        fig = sweep_figure(df, "credit_limit", "CNY", today=2.0, label=label)
        renderer = _drawn(fig)
        legend = fig.legends[0].get_window_extent(renderer)
        for ax in fig.axes:
            assert not legend.overlaps(ax.get_window_extent(renderer))


# ------------------------------------------------------------------ the scenario chart


def _comparison():
    rows = pd.DataFrame({"scenario": ["低 low", "base", "high"], "profit": [1.20e8, 1.44e8, 1.61e8],
                         "robust_profit": [1.18e8, 1.43e8, 1.55e8], "service_level": [0.97, 0.91, 0.83],
                         "lowest_cash": [2.1e7, 2.0e7, 2.0e7], "peak_loan": [0.0, 1.5e7, 1.5e7],
                         "budget_used:procurement": [3.6e8, 4.1e8, 4.1e8], "budget_used:production": [2.7e8, 3.0e8, 3.0e8]})
    return SimpleNamespace(rows=lambda: rows, robust={"low": None}, commit=1, currency="CNY",
                           lines=["procurement", "production"])


def test_scenario_chart_words_money_in_yuan_and_keeps_legends_off_the_bars():
    with chart_style() as label:
        fig = scenario_figure(_comparison(), label)
        renderer = _drawn(fig)
        profit, service, cash, budget = fig.axes[:4]
        for ax in (profit, cash, budget):
            labels = axis_labels(ax)
            assert ax.yaxis.get_offset_text().get_text() == "", ax.get_title()  # no 1e8 / 1e7
            assert all(t.startswith("¥") for t in labels) and len(set(labels)) == len(labels), labels
        assert all(t.endswith("%") for t in axis_labels(service))
        legends = [ax.get_legend() for ax in (profit, cash, budget)]
        assert all(lg is not None for lg in legends)
        for ax in fig.axes:
            bars = [p.get_window_extent(renderer) for p in ax.patches if p.get_height()]
            for lg in legends:
                box = lg.get_window_extent(renderer)
                assert not any(box.overlaps(b) for b in bars), ax.get_title()


@pytest.mark.parametrize("unit_param", ["budget:procurement", "line_ceiling:x", "credit_limit", "min_cash",
                                        "budget_pool", "emergency_pool"])
def test_money_parameters_are_money(unit_param):
    from solver.analysis.parametric import Parameter

    assert Parameter.parse(unit_param).unit == "money"
    assert Parameter.parse("capacity:L").unit == "hour" and Parameter.parse("reserve:L").unit == "fraction"
