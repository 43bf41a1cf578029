"""The handbook's three columns (Bekymringer | Det der fungerer | Hvad skal ske?) as one flowable.

Each row is one person's input in one area: in every column the date and who
wrote it, then the box's text. A box may hold 10,000 characters, so a row can be
taller than a page: the table splits between rows and, when it must, inside a
row at a line boundary, and the continuation repeats the area and the column
headers ("fortsat"). Lines are broken once, with word widths cached, and drawn
directly on the canvas: a 60-page round renders in well under a second, and
people's text is drawn as text, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from reportlab.lib import colors
from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable

from reports.common import (
    ACCENT,
    FONT,
    FONT_BOLD,
    INK,
    MUTED,
    RULE,
    SHADE,
    clean,
    one_line,
    width_table,
)

BODY_SIZE = 8.5
META_SIZE = 7.4
LEADING = 11.0
PAD = 4.0
TITLE_SIZE = 10.5
TITLE_H = 19.0
MIN_LINES = 3  # never leave fewer lines of a row at the bottom of a page

# Line kinds: (font, size, colour)
_KINDS = {
    "body": (FONT, BODY_SIZE, INK),
    "meta": (FONT_BOLD, META_SIZE, MUTED),
    "muted": (FONT, BODY_SIZE, MUTED),
    "head": (FONT_BOLD, BODY_SIZE, INK),
}

HEADER_FILLS = (colors.HexColor("#FBE3E1"), colors.HexColor("#E1F2E4"), colors.HexColor("#E2ECF8"))


@lru_cache(maxsize=100_000)
def _word_width(font: str, word: str) -> int:
    """Width of a word in 1/1000 of the font size."""
    widths, default = width_table(font)
    get = widths.get
    return sum(get(ord(ch), default) for ch in word)


def break_lines(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line breaking of plain text; words wider than a line are cut by characters."""
    limit = width * 1000.0 / size  # compare in font units
    space = _word_width(font, " ")
    lines: list[str] = []
    for para in text.split("\n"):
        words = para.split()
        if not words:
            if lines and lines[-1] != "":
                lines.append("")
            continue
        current: list[str] = []
        used = 0
        for word in words:
            w = _word_width(font, word)
            if w > limit:
                if current:
                    lines.append(" ".join(current))
                pieces = _cut(word, font, limit)
                lines.extend(pieces[:-1])
                current, used = [pieces[-1]], _word_width(font, pieces[-1])
                continue
            if current and used + space + w > limit:
                lines.append(" ".join(current))
                current, used = [word], w
            else:
                used += (space if current else 0) + w
                current.append(word)
        lines.append(" ".join(current))
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def _cut(word: str, font: str, limit: float) -> list[str]:
    widths, default = width_table(font)
    pieces, start, used = [], 0, 0
    for i, ch in enumerate(word):
        w = widths.get(ord(ch), default)
        if used + w > limit and i > start:
            pieces.append(word[start:i])
            start, used = i, 0
        used += w
    pieces.append(word[start:])
    return pieces


@dataclass(frozen=True)
class Cell:
    """One box of one person: who and when (plain text), and what they wrote (plain text).

    A box with nothing written is left empty in the table (unless the table is given an
    `empty_text` to show instead)."""

    meta: str
    text: str


Line = tuple[str, str]  # (kind, text)


@dataclass
class _Row:
    columns: list[list[Line]]

    @property
    def lines(self) -> int:
        return max((len(c) for c in self.columns), default=0)


class ColumnTable(Flowable):
    """An area's input in columns; splits across pages by row and inside rows."""

    def __init__(self, title: str | None, headers: Sequence[str], rows: Sequence[Sequence[Cell]],
                 *, empty_text: str = "", continued_text: str = "(continued)",
                 fills: Sequence[colors.Color] = HEADER_FILLS) -> None:
        super().__init__()
        self.title = one_line(title) if title is not None else None
        self.headers = [one_line(h) for h in headers]
        self.cells = [list(r) for r in rows]
        self.empty_text = empty_text
        self.continued_text = continued_text
        self.fills = list(fills)
        self._width: float | None = None
        self._rows: list[_Row] | None = None
        self._head: list[list[Line]] | None = None

    # ---- layout ------------------------------------------------------------------------------

    def _column_width(self, width: float) -> float:
        return width / max(1, len(self.headers))

    def _layout(self, width: float) -> None:
        if self._width == width and self._rows is not None:
            return
        inner = self._column_width(width) - 2 * PAD
        self._head = [[("head", t) for t in break_lines(h, FONT_BOLD, BODY_SIZE, inner)] for h in self.headers]
        rows = []
        for cells in self.cells:
            columns = []
            for cell in cells:
                body = break_lines(clean(cell.text), FONT, BODY_SIZE, inner)
                if not body and not self.empty_text:
                    columns.append([])  # an empty box is left out: no date, no name, no dash
                    continue
                lines: list[Line] = [("meta", t) for t in break_lines(one_line(cell.meta), FONT_BOLD,
                                                                       META_SIZE, inner)]
                lines += [("body", t) for t in body] if body else [("muted", self.empty_text)]
                columns.append(lines)
            rows.append(_Row(columns))
        self._rows = rows
        self._width = width

    def _head_height(self) -> float:
        assert self._head is not None
        title = TITLE_H if self.title is not None else 0.0
        return title + max(len(c) for c in self._head) * LEADING + 2 * PAD

    @staticmethod
    def _row_height(row: _Row) -> float:
        return row.lines * LEADING + 2 * PAD

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        self._layout(availWidth)
        assert self._rows is not None
        self.width = availWidth
        self.height = self._head_height() + sum(self._row_height(r) for r in self._rows)
        return self.width, self.height

    def _part(self, title: str | None, rows: list[_Row]) -> ColumnTable:
        part = ColumnTable(None, self.headers, [], empty_text=self.empty_text,
                           continued_text=self.continued_text, fills=self.fills)
        part.title = title
        part._width, part._rows, part._head = self._width, rows, self._head
        return part

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        self._layout(availWidth)
        assert self._rows is not None
        used = self._head_height()
        if used + 2 * PAD + MIN_LINES * LEADING > availHeight:
            return []
        for index, row in enumerate(self._rows):
            height = self._row_height(row)
            if used + height <= availHeight:
                used += height
                continue
            fit = int((availHeight - used - 2 * PAD) // LEADING)
            if fit >= MIN_LINES and row.lines - fit >= 1:
                head = _Row([c[:fit] for c in row.columns])
                inner = self._column_width(availWidth) - 2 * PAD
                tail = _Row([self._continue(c, fit, inner) for c in row.columns])
                first, rest = self._rows[:index] + [head], [tail] + self._rows[index + 1:]
            elif index > 0:
                first, rest = self._rows[:index], self._rows[index:]
            else:
                return []
            rest_title = self._continued(self.title) if self.title is not None else None
            return [self._part(self.title, first), self._part(rest_title, rest)]
        return [self]

    def _continued(self, title: str) -> str:
        return title if title.endswith(self.continued_text) else f"{title} {self.continued_text}"

    def _continue(self, lines: list[Line], fit: int, inner: float) -> list[Line]:
        """The lines left over, under "<who> (continued)"."""
        rest = lines[fit:]
        while rest and rest[0][0] == "meta":
            rest = rest[1:]
        if not rest:
            return []
        meta = " ".join(t for k, t in lines if k == "meta").removesuffix(" " + self.continued_text)
        head = break_lines(f"{meta} {self.continued_text}".strip(), FONT_BOLD, META_SIZE, inner)
        return [("meta", t) for t in head] + rest

    # ---- drawing -----------------------------------------------------------------------------

    def draw(self) -> None:
        assert self._rows is not None and self._head is not None and self._width is not None
        c = self.canv
        width = self._width
        col = self._column_width(width)
        n = len(self.headers)
        y = self.height
        if self.title is not None:
            c.setFillColor(SHADE)
            c.rect(0, y - TITLE_H + 3, width, TITLE_H - 3, stroke=0, fill=1)
            c.setFillColor(ACCENT)
            c.setFont(FONT_BOLD, TITLE_SIZE)
            c.drawString(PAD, y - TITLE_H + 8, self.title)
            y -= TITLE_H
        top = y
        head_h = max(len(h) for h in self._head) * LEADING + 2 * PAD
        for i in range(n):
            c.setFillColor(self.fills[i % len(self.fills)] if self.fills else SHADE)
            c.rect(i * col, y - head_h, col, head_h, stroke=0, fill=1)
            self._text(c, i * col + PAD, y - PAD, self._head[i])
        y -= head_h
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        for row in self._rows:
            height = self._row_height(row)
            c.line(0, y, width, y)
            for i, lines in enumerate(row.columns):
                self._text(c, i * col + PAD, y - PAD, lines)
            y -= height
        c.line(0, y, width, y)
        c.line(0, top, width, top)
        for i in range(n + 1):
            c.line(i * col, top, i * col, y)

    @staticmethod
    def _text(c, x: float, top: float, lines: list[Line]) -> None:  # type: ignore[no-untyped-def]
        """Lines as one PDF text object, written directly: reportlab's TextObject formats every
        line through several layers, which costs a third of a long report's time."""
        if not lines:
            return
        doc = c._doc
        code = ["BT", f"1 0 0 1 {x:.2f} {top - BODY_SIZE:.2f} Tm", f"{LEADING:g} TL"]
        current = None
        font = None
        size = BODY_SIZE
        subset_now = None
        for kind, text in lines:
            if kind != current:
                name, size, colour = _KINDS[kind]
                font = pdfmetrics.getFont(name)
                code.append(f"{colour.red:.3f} {colour.green:.3f} {colour.blue:.3f} rg")
                subset_now, current = None, kind
            for subset, chunk in font.splitString(text, doc):
                if subset != subset_now:
                    code.append(f"{font.getSubsetInternalName(subset, doc)} {size:g} Tf")
                    subset_now = subset
                code.append(f"({escapePDF(chunk)}) Tj")
            code.append("T*")
        code.append("ET")
        c._code.append("\n".join(code))
