"""The ruler over time: each participant's number and the joint target, meeting by meeting.

The five fields of the ruler are horizontal bands in the configured colours
(lightened, so the lines stay readable), 1 at the bottom and 10 at the top,
with the field names at the right. One column per meeting (the numbers people
gave before it); the joint target a meeting set aims at the *next* meeting, so it
is drawn in the next meeting's column (an extra "Next meeting" column when that
meeting has not been held). Each participant is a line with its own colour and
marker shape; the joint target is a thick dark dashed line with diamonds.

Marks never overlap: in a column, the marks of one number stand side by side
(`place_marks`), the joint target next to the participants who gave the same
number, and the marks shrink when many share a number. The chart is a flowable
whose height follows the room left on the page (between a minimum and its full
height), so it does not leave most of a page empty by jumping to the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime

from aiogram.utils.i18n import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from reports.common import (
    FONT,
    FONT_BOLD,
    INK,
    MUTED,
    RULE,
    current_locale,
    fmt_short_day,
    one_line,
)
from reports.model import RoundScores, Who
from rules.dialog_config import SCALE_MAX, SCALE_MIN, Ruler

PALETTE = [
    "#1F77B4", "#D62728", "#2CA02C", "#9467BD", "#8C564B", "#E377C2",
    "#17BECF", "#7F7F7F", "#BCBD22", "#FF7F0E", "#393B79", "#637939",
]
SHAPES = ("circle", "square", "triangle")  # the diamond is the joint target's
TARGET_COLOUR = colors.HexColor("#111111")
TARGET = "target"  # the joint target's key among the marks of a column
MARK = 5.6  # a participant's mark (width), at most
TARGET_MARK = 8.0  # the joint target's diamond (width), at most
GAP = 1.6  # between two marks side by side
PLOT_MAX = 170.0
PLOT_MIN = 76.0  # at its smallest (the marks shrink with the rows, so they never overlap)


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
    return Polygon([x, y + r * 1.2, x + r, y, x, y - r * 1.2, x - r, y], fillColor=colour,
                   strokeColor=colors.white, strokeWidth=0.6)


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


# ---- where the marks go --------------------------------------------------------------------------


def mark_sizes(marks: Sequence[tuple[Hashable, int]], room: float, row: float = 17.0) -> tuple[float, float]:
    """(a participant's mark, the target's diamond) so that the most marks sharing one number
    fit side by side in `room` points, and marks of neighbouring numbers (`row` points apart)
    stay clear of each other (a diamond is 1.2 times as tall as it is wide)."""
    crowd: dict[int, list[Hashable]] = {}
    for key, value in marks:
        crowd.setdefault(value, []).append(key)
    scale = 1.0
    for keys in crowd.values():
        width = sum(TARGET_MARK if k == TARGET else MARK for k in keys) + GAP * (len(keys) - 1)
        if width > room:
            scale = min(scale, max(0.05, (room - GAP * (len(keys) - 1)) / (width - GAP * (len(keys) - 1))))
    scale = min(scale, row * 0.8 / (TARGET_MARK * 1.2), row * 0.85 / MARK)
    return MARK * scale, TARGET_MARK * scale


def place_marks(marks: Sequence[tuple[Hashable, int]], centre: float, room: float, row: float = 17.0
                ) -> dict[Hashable, tuple[float, float]]:
    """The x of each mark of one column (key -> (x, width)), centred on `centre`.

    Marks with the same number stand side by side, `GAP` apart, in the order given, the
    joint target (key `TARGET`) first; marks of different numbers sit on different rows of
    the ruler and keep the centre. Everything stays within `room` around the centre.
    """
    small, big = mark_sizes(marks, room, row)
    by_value: dict[int, list[Hashable]] = {}
    for key, value in sorted(marks, key=lambda kv: kv[0] != TARGET):
        by_value.setdefault(value, []).append(key)
    placed: dict[Hashable, tuple[float, float]] = {}
    for keys in by_value.values():
        widths = [big if k == TARGET else small for k in keys]
        total = sum(widths) + GAP * (len(keys) - 1)
        x = centre - total / 2
        for key, w in zip(keys, widths, strict=True):
            placed[key] = (x + w / 2, w)
            x += w + GAP
    return placed


# ---- the columns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: str
    scores: dict[int, int]  # participant id -> number given before this meeting
    target: int | None  # the joint target aimed at this meeting (set at the one before)


def columns(history: Sequence[RoundScores], next_at: datetime | None = None, last: int = 7) -> list[Column]:
    """One column per meeting (round), and one for the next meeting when a target aims at it."""
    def label(at: datetime | None) -> str:
        return fmt_short_day(at) if at is not None else _("Now")

    out: list[Column] = []
    previous: int | None = None
    for h in history:
        out.append(Column(label(h.meeting_at), dict(h.scores), previous))
        previous = h.target
    if previous is not None:
        out.append(Column(_("Next meeting") if next_at is None else _("Next meeting {date}").format(
            date=fmt_short_day(next_at)), {}, previous))
    return out[-last:] if out else [Column(_("Now"), {}, None)]


# ---- the drawing -----------------------------------------------------------------------------


def ruler_chart(history: Sequence[RoundScores], people: Sequence[Who], ruler: Ruler, width: float,
                label: Callable[[Who], str], *, plot_h: float = PLOT_MAX,
                next_at: datetime | None = None) -> Drawing:
    """A drawing `width` wide; `label(who)` gives the legend text of a participant."""
    locale = current_locale()
    cols = columns(history, next_at)
    scored_ids = {pid for c in cols for pid in c.scores}
    shown = [p for p in people if p.id in scored_ids]
    has_target = any(c.target is not None for c in cols)

    left, right_labels, top_pad, bottom_axis = 26.0, 92.0, 8.0, 22.0
    plot_w = width - left - right_labels
    legend_items = len(shown) + (1 if has_target else 0)
    per_row = 3
    legend_rows = (legend_items + per_row - 1) // per_row
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

    n = len(cols)
    slot = plot_w / n

    def x_of(index: int) -> float:
        return left + slot * (index + 0.5)

    for i, c in enumerate(cols):
        d.add(String(x_of(i), base_y - 12, _fit(one_line(c.label), FONT, 7.2, slot - 2), fontName=FONT,
                     fontSize=7.2, fillColor=INK, textAnchor="middle"))
        if i:
            d.add(Line(left + slot * i, base_y, left + slot * i, base_y - 3, strokeColor=RULE, strokeWidth=0.6))

    # Where every mark of every column goes: side by side where numbers are shared.
    room = slot * 0.86
    placed = []
    for i, c in enumerate(cols):
        marks: list[tuple[Hashable, int]] = [(p.id, c.scores[p.id]) for p in shown if p.id in c.scores]
        if c.target is not None:
            marks.append((TARGET, c.target))
        placed.append(place_marks(marks, x_of(i), room, step))

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

    # Lines first (the joint target's below), then every mark on top, so no line hides a mark.
    marks_to_draw: list[object] = []
    if has_target:
        goal = [(placed[i][TARGET][0], y_of(c.target)) if c.target is not None else None
                for i, c in enumerate(cols)]
        series(goal, TARGET_COLOUR, 2.2, [5, 3])
        for i, c in enumerate(cols):
            if c.target is not None:
                x, w = placed[i][TARGET]
                marks_to_draw.append(_marker("diamond", x, y_of(c.target), w, TARGET_COLOUR))
    for k, p in enumerate(shown):
        colour = colors.HexColor(PALETTE[k % len(PALETTE)])
        shape = SHAPES[(k // len(PALETTE) + k) % len(SHAPES)]
        points: list[tuple[float, float] | None] = []
        for i, c in enumerate(cols):
            value = c.scores.get(p.id)
            points.append((placed[i][p.id][0], y_of(value)) if value else None)
        series(points, colour, 1.3, None)
        for i, point in enumerate(points):
            if point is not None:
                marks_to_draw.append(_marker(shape, point[0], point[1], placed[i][p.id][1], colour))
    for mark in marks_to_draw:
        d.add(mark)

    # Legend.
    col_w = width / per_row
    items: list[tuple[str, colors.Color, str, bool]] = []
    if has_target:
        items.append((_("Joint target on the ruler"), TARGET_COLOUR, "diamond", True))
    for k, p in enumerate(shown):
        items.append((label(p), colors.HexColor(PALETTE[k % len(PALETTE)]),
                      SHAPES[(k // len(PALETTE) + k) % len(SHAPES)], False))
    for i, (text, colour, shape, bold) in enumerate(items):
        row, col = divmod(i, per_row)
        x = col * col_w + 4
        y = legend_h - 10 - row * 13.0
        d.add(Line(x, y + 3, x + 16, y + 3, strokeColor=colour, strokeWidth=2.2 if bold else 1.3,
                   strokeDashArray=[4, 2] if bold else None))
        d.add(_marker(shape, x + 8, y + 3, 7 if bold else 5.5, colour))
        font = FONT_BOLD if bold else FONT
        d.add(String(x + 21, y, _fit(one_line(text), font, 7.5, col_w - 28), fontName=font, fontSize=7.5,
                     fillColor=INK))
    return d


class RulerChart(Flowable):
    """The chart as a flowable: as tall as the room left on the page allows (PLOT_MIN..PLOT_MAX)."""

    def __init__(self, history: Sequence[RoundScores], people: Sequence[Who], ruler: Ruler,
                 label: Callable[[Who], str], next_at: datetime | None = None) -> None:
        super().__init__()
        self.args = (history, people, ruler, label)
        self.next_at = next_at
        self.drawing: Drawing | None = None

    def _make(self, width: float, plot_h: float) -> Drawing:
        history, people, ruler, label = self.args
        return ruler_chart(history, people, ruler, width, label, plot_h=plot_h, next_at=self.next_at)

    def min_height(self, width: float) -> float:
        """The height of the chart at its smallest."""
        return self._make(width, PLOT_MIN).height

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        full = self._make(availWidth, PLOT_MAX)
        extra = full.height - PLOT_MAX
        if availHeight >= full.height or availHeight < extra + PLOT_MIN:
            self.drawing = full  # fits as it is, or goes whole to the next page
        else:
            self.drawing = self._make(availWidth, availHeight - extra - 0.5)
        self.width, self.height = self.drawing.width, self.drawing.height
        return self.width, self.height

    def draw(self) -> None:
        assert self.drawing is not None
        self.drawing.drawOn(self.canv, 0, 0)
