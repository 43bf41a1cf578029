"""The ruler over time: each participant's score and the joint target per round.

The five fields of the ruler are horizontal bands in the configured colours
(lightened, so the lines stay readable), 1 at the bottom and 10 at the top,
with the field names at the right. Each participant is a line with its own
colour and marker shape; the joint target is a thick dark dashed line with
diamonds. Points that would sit on top of each other are spread a little sideways.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.utils.i18n import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from reports.common import FONT, FONT_BOLD, INK, MUTED, RULE, current_locale, one_line
from reports.model import RoundScores, Who
from rules.dialog_config import SCALE_MAX, SCALE_MIN, Ruler

PALETTE = [
    "#1F77B4", "#D62728", "#2CA02C", "#9467BD", "#8C564B", "#E377C2",
    "#17BECF", "#7F7F7F", "#BCBD22", "#FF7F0E", "#393B79", "#637939",
]
SHAPES = ("circle", "square", "triangle", "diamond")
TARGET_COLOUR = colors.HexColor("#111111")


def lighten(hex_colour: str, amount: float = 0.68) -> colors.Color:
    """The colour mixed with white (amount 0: as is, 1: white)."""
    base = colors.HexColor(hex_colour)
    return colors.Color(base.red + (1 - base.red) * amount, base.green + (1 - base.green) * amount,
                        base.blue + (1 - base.blue) * amount)


def _marker(shape: str, x: float, y: float, size: float, colour: colors.Color) -> object:
    r = size / 2
    if shape == "circle":
        return Circle(x, y, r, fillColor=colour, strokeColor=colors.white, strokeWidth=0.6)
    if shape == "square":
        return Rect(x - r, y - r, size, size, fillColor=colour, strokeColor=colors.white, strokeWidth=0.6)
    if shape == "triangle":
        return Polygon([x - r, y - r, x + r, y - r, x, y + r * 1.1], fillColor=colour,
                       strokeColor=colors.white, strokeWidth=0.6)
    return Polygon([x, y + r * 1.2, x + r * 1.1, y, x, y - r * 1.2, x - r * 1.1, y], fillColor=colour,
                   strokeColor=colors.white, strokeWidth=0.6)


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def ruler_chart(history: Sequence[RoundScores], people: Sequence[Who], ruler: Ruler, width: float,
                label: Callable[[Who], str]) -> Drawing:
    """A drawing `width` wide; `label(who)` gives the legend text of a participant."""
    locale = current_locale()
    rounds = [h.round_no for h in history] or [1]
    scored_ids = {pid for h in history for pid in h.scores}
    shown = [p for p in people if p.id in scored_ids]
    has_target = any(h.target is not None for h in history)

    left, right_labels, top_pad, bottom_axis = 26.0, 92.0, 8.0, 22.0
    plot_w = width - left - right_labels
    plot_h = 170.0
    legend_items = len(shown) + (1 if has_target else 0)
    columns = 3
    legend_rows = (legend_items + columns - 1) // columns
    legend_h = legend_rows * 13.0 + (6 if legend_rows else 0)
    height = top_pad + plot_h + bottom_axis + legend_h
    d = Drawing(width, height)
    base_y = legend_h + bottom_axis
    step = plot_h / (SCALE_MAX - SCALE_MIN + 1)

    def y_of(value: float) -> float:
        return base_y + (value - SCALE_MIN + 0.5) * step

    # Bands: the ruler's fields, in their colours.
    for f in ruler.fields:
        y0 = base_y + (f.low - SCALE_MIN) * step
        h = (f.high - f.low + 1) * step
        d.add(Rect(left, y0, plot_w, h, fillColor=lighten(f.colour), strokeColor=None, strokeWidth=0))
        d.add(Rect(left + plot_w, y0, 5, h, fillColor=colors.HexColor(f.colour), strokeColor=None,
                   strokeWidth=0))
        name = _fit(one_line(f.name(locale)), FONT, 7.2, right_labels - 10)
        d.add(String(left + plot_w + 8, y0 + h / 2 - 2.5, name, fontName=FONT, fontSize=7.2, fillColor=INK))
    # Scale numbers and light grid lines.
    for v in range(SCALE_MIN, SCALE_MAX + 1):
        d.add(String(left - 6, y_of(v) - 2.6, str(v), fontName=FONT, fontSize=7, fillColor=MUTED,
                     textAnchor="end"))
        d.add(Line(left, y_of(v), left + plot_w, y_of(v), strokeColor=colors.Color(1, 1, 1, 0.7),
                   strokeWidth=0.4))
    d.add(Rect(left, base_y, plot_w, plot_h, fillColor=None, strokeColor=RULE, strokeWidth=0.6))

    n = len(rounds)
    slot = plot_w / n

    def x_of(index: int) -> float:
        return left + slot * (index + 0.5)

    for i, r in enumerate(rounds):
        d.add(String(x_of(i), base_y - 12, _("Round {round}").format(round=r), fontName=FONT, fontSize=7.5,
                     fillColor=INK, textAnchor="middle"))
        if i:
            d.add(Line(left + slot * i, base_y, left + slot * i, base_y - 3, strokeColor=RULE, strokeWidth=0.6))

    spread = min(3.2, slot / max(4, len(shown) + 2))
    marker = 5.6 if len(shown) <= 6 else 4.6

    def series(points: list[tuple[float, float] | None], colour: colors.Color, line_width: float,
               dash: list[float] | None) -> None:
        run: list[float] = []
        for point in points + [None]:
            if point is None:
                if len(run) >= 4:
                    d.add(PolyLine(run, strokeColor=colour, strokeWidth=line_width, strokeDashArray=dash))
                run = []
            else:
                run += [point[0], point[1]]

    index_of = {r: i for i, r in enumerate(rounds)}
    # The joint target first, so that the participants' points stay visible on top of it.
    if has_target:
        goal = [(x_of(index_of[h.round_no]), y_of(h.target)) if h.target else None for h in history]
        series(goal, TARGET_COLOUR, 2.4, [5, 3])
        for point in goal:
            if point is not None:
                d.add(_marker("diamond", point[0], point[1], 8.5, TARGET_COLOUR))
    for k, p in enumerate(shown):
        colour = colors.HexColor(PALETTE[k % len(PALETTE)])
        shape = SHAPES[(k // len(PALETTE) + k) % len(SHAPES)]
        offset = (k - (len(shown) - 1) / 2) * spread
        points: list[tuple[float, float] | None] = []
        for h in history:
            value = h.scores.get(p.id)
            points.append((x_of(index_of[h.round_no]) + offset, y_of(value)) if value else None)
        series(points, colour, 1.3, None)
        for point in points:
            if point is not None:
                d.add(_marker(shape, point[0], point[1], marker, colour))

    # Legend.
    col_w = width / columns
    items: list[tuple[str, colors.Color, str, bool]] = []
    if has_target:
        items.append((_("Joint target"), TARGET_COLOUR, "diamond", True))
    for k, p in enumerate(shown):
        items.append((label(p), colors.HexColor(PALETTE[k % len(PALETTE)]),
                      SHAPES[(k // len(PALETTE) + k) % len(SHAPES)], False))
    for i, (text, colour, shape, bold) in enumerate(items):
        row, col = divmod(i, columns)
        x = col * col_w + 4
        y = legend_h - 10 - row * 13.0
        d.add(Line(x, y + 3, x + 16, y + 3, strokeColor=colour, strokeWidth=2.2 if bold else 1.3,
                   strokeDashArray=[4, 2] if bold else None))
        d.add(_marker(shape, x + 8, y + 3, 7 if bold else 5.5, colour))
        font = FONT_BOLD if bold else FONT
        d.add(String(x + 21, y, _fit(one_line(text), font, 7.5, col_w - 28), fontName=font, fontSize=7.5,
                     fillColor=INK))
    return d
