"""A chart of figures per month (bar or line) as PNG bytes, drawn with matplotlib's Agg canvas.

The figure is built without pyplot (no global state, no display, safe in a web worker). Labels are
given in Chinese and English: the Chinese ones are drawn only when a CJK font is installed
(geodata.plot_fonts), otherwise the English ones, so a picture never shows tofu boxes.
"""

from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from geodata.plot_fonts import has_cjk_font, text_properties

COLOURS = ("#1f6fb2", "#2e9d57", "#d98a1c", "#b23b3b")


def _label(pair) -> str:
    """The Chinese or English half of a (zh, en) label, by whether Chinese can be drawn."""
    if isinstance(pair, str):
        return pair
    zh, en = pair
    return zh if has_cjk_font() else en


def monthly_chart_png(
    series: list[tuple[tuple[str, str], list[float]]],
    *,
    kind: str = "bar",
    title: tuple[str, str] | None = None,
    y_label: tuple[str, str] | None = None,
    width_in: float = 6.4,
    height_in: float = 3.2,
    dpi: int = 150,
) -> bytes:
    """A bar (grouped) or line chart of 12 monthly values per series, as PNG bytes.

    `series` is [((label_zh, label_en), [v_jan, …, v_dec]), …]; the x axis is months 1–12.
    """
    if kind not in ("bar", "line"):
        raise ValueError(f"kind must be 'bar' or 'line', not {kind!r}")
    figure = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    months = list(range(1, 13))
    text = text_properties()
    width = 0.8 / max(len(series), 1)
    for number, (label, values) in enumerate(series):
        if len(values) != 12:
            raise ValueError("each series needs 12 monthly values")
        colour = COLOURS[number % len(COLOURS)]
        if kind == "bar":
            offset = (number - (len(series) - 1) / 2) * width
            axes.bar([m + offset for m in months], values, width, label=_label(label), color=colour)
        else:
            axes.plot(months, values, marker="o", label=_label(label), color=colour)
    axes.set_xticks(months)
    axes.set_xticklabels([str(m) for m in months])
    axes.set_xlabel(_label(("月份", "Month")), **text)
    if y_label:
        axes.set_ylabel(_label(y_label), **text)
    if title:
        axes.set_title(_label(title), **text)
    axes.yaxis.get_major_locator().set_params(integer=True)
    highest = max((max(values) for _label, values in series), default=0)
    axes.set_ylim(0, max(highest * 1.15, 1))  # an empty year still has an axis from 0 to 1
    axes.grid(axis="y", alpha=0.3)
    if series:
        axes.legend(prop={"family": text["fontfamily"]} if text else None, frameon=False)
    figure.tight_layout()
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
