"""Trend charts drawn server-side as SVG with pygal (no JavaScript; the same SVG can go into a
PDF). Liver values are plotted as multiples of the ULN reported with each result (docs/domain.md §9
design note) against the 2×ULN taper line and the 20×ULN urgent line (label §2.1, §5.1);
platelets and troponin-I against the patient's baseline (label §5; docs/domain.md §9)."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pygal
from pygal.etree import etree
from pygal.style import Style

from monitoring.flags import PLATELET_LOW, TAPER_BLOCK_ULN_MULTIPLE, URGENT_ULN_MULTIPLE

CHARTS = {
    "liver": "Liver: ALT, AST and bilirubin (×ULN)",
    "platelets": "Platelets (10^9/L)",
    "troponin": "Troponin-I (ng/L)",
}

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    colors=("#0d6efd", "#6f42c1", "#d63384", "#fd7e14", "#dc3545", "#198754"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
    tooltip_font_size=12,
)


def _config(title: str, y_title: str, **extra) -> dict:
    return dict(
        title=title,
        x_title="Days since infusion",
        y_title=y_title,
        style=_STYLE,
        js=[],  # no script: served as an <img> and under a strict CSP
        css=["file://style.css", "file://graph.css"],  # pygal's own CSS, inlined, no URL fetched
        width=760,
        height=430,
        dots_size=4,
        show_x_guides=False,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        margin_bottom=36,  # room for a second legend row (pygal under-counts it)
        truncate_legend=-1,
        print_values=False,
        xrange=extra.pop("xrange", None),
        **extra,
    )


def _svg(chart) -> bytes:
    """The chart as SVG bytes without pygal's config <script> (js=[] drops only the external
    scripts): the image needs no JavaScript and the response's CSP allows none."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if child.tag == "script":
                parent.remove(child)
    return etree.tostring(tree, encoding="utf-8", xml_declaration=True)


def _line(value: float, x_max: float, label: str) -> dict:
    return dict(
        title=label,
        values=[(0, value), (x_max, value)],
        stroke_style={"width": 3, "dasharray": "10, 4"},
        show_dots=False,
    )


def _x_max(points: list[tuple[float, float]]) -> float:
    return max([84.0] + [x for x, _ in points])


# ×ULN ticks on the liver chart's log axis (values are plotted as log10 so that only y is
# logarithmic; pygal's XY "logarithmic" would bend the day axis too).
LIVER_TICKS = (0.25, 0.5, 1, 2, 5, 10, 20, 50)


def _log(value: float) -> float:
    return math.log10(max(value, 0.1))


def liver_chart(series: dict[str, list[tuple[int, Decimal]]]) -> bytes:
    """ALT, AST and bilirubin as ×ULN by day, with the 2× and 20× lines, on a log scale so
    both a 0.5× and a 25× value stay readable."""
    all_points = [(x, float(y)) for points in series.values() for x, y in points]
    x_max = _x_max(all_points)
    top = max([30.0] + [y * 1.3 for _, y in all_points])
    ticks = [t for t in LIVER_TICKS if t <= top]
    chart = pygal.XY(
        **_config(
            "Liver panel (×ULN, log scale)",
            "× upper limit of normal",
            xrange=(0, x_max),
            range=(_log(0.2), _log(top)),
            y_labels=[{"label": f"{t:g}×", "value": _log(t)} for t in ticks],
        )
    )
    for label, points in series.items():
        chart.add(label, [(x, _log(float(y))) for x, y in points])
    chart.add(**_line(_log(float(TAPER_BLOCK_ULN_MULTIPLE)), x_max, "2×ULN: no taper"))
    chart.add(**_line(_log(float(URGENT_ULN_MULTIPLE)), x_max, "20×ULN: urgent"))
    return _svg(chart)


def baseline_chart(
    title: str, y_title: str, points: list[tuple[int, Decimal]], baseline: Decimal | None, low_line: Decimal | None
) -> bytes:
    """One analyte's values by day, with its baseline (and a fixed threshold line, if any)."""
    values = [(x, float(y)) for x, y in points]
    x_max = _x_max(values)
    top = max([float(baseline or 0), float(low_line or 0)] + [y for _, y in values] + [1.0]) * 1.15
    chart = pygal.XY(**_config(title, y_title, xrange=(0, x_max), range=(0, top), include_x_axis=True))
    chart.add(title.split(" (")[0], values)
    if baseline is not None:
        chart.add(**_line(float(baseline), x_max, f"Baseline {baseline.normalize():f}"))
    if low_line is not None:
        chart.add(**_line(float(low_line), x_max, f"{low_line} (TMA watch)"))
    return _svg(chart)


def chart_svg(name: str, results, baseline: dict[str, Decimal], infused_on: date) -> bytes:
    """Render chart ``name`` (a CHARTS key) from the case's results (Result rows with draw)."""
    by_analyte: dict[str, list[tuple[int, Decimal]]] = {}
    for result in results:
        day = (result.collected_at.date() - infused_on).days
        if result.analyte in ("alt", "ast", "tbili"):
            if not result.uln_canonical:
                continue
            value = result.value_canonical / result.uln_canonical
        else:
            value = result.value_canonical
        by_analyte.setdefault(result.analyte, []).append((day, value))
    if name == "liver":
        labels = {"alt": "ALT", "ast": "AST", "tbili": "Total bilirubin"}
        return liver_chart({label: by_analyte.get(key, []) for key, label in labels.items()})
    if name == "platelets":
        return baseline_chart(
            "Platelets (10^9/L)",
            "Platelets, 10^9/L",
            by_analyte.get("platelets", []),
            baseline.get("platelets"),
            PLATELET_LOW,
        )
    return baseline_chart(
        "Troponin-I (ng/L)", "Troponin-I, ng/L", by_analyte.get("troponin_i", []), baseline.get("troponin_i"), None
    )
