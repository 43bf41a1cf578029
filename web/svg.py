"""The two pictures of the Overblik page, drawn on the server as SVG (no script, no library).

Readable without colour: every field carries its numbers and name, every mark its initials,
and the page lists the same numbers as text beside the picture.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

from rules.dialog_config import Ruler

WIDTH = 340
CELL = WIDTH / 10


def initials(name: str) -> str:
    parts = [p for p in name.split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def _field_rects(ruler: Ruler, y: float, height: float, locale: str) -> list[str]:
    out = []
    for f in ruler.fields:
        x = (f.low - 1) * CELL
        w = (f.high - f.low + 1) * CELL
        out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{height}" fill="{escape(f.colour)}" '
                   f'fill-opacity="0.35" stroke="#888" stroke-width="0.5"><title>{escape(f.name(locale))}'
                   f'</title></rect>')
    for v in range(1, 11):
        out.append(f'<text x="{(v - 0.5) * CELL:.1f}" y="{y + height - 4}" text-anchor="middle" '
                   f'class="num">{v}</text>')
    return out


def ruler_now(ruler: Ruler, marks: list[tuple[str, int]], target: int | None, locale: str,
              target_label: str) -> str:
    """One ruler with everyone's number as a mark; marks on the same number stack upwards,
    so none hides another; the joint target is a dashed line with its own label row."""
    stacks: dict[int, list[str]] = defaultdict(list)
    for name, value in marks:
        stacks[value].append(initials(name))
    rows = max((len(s) for s in stacks.values()), default=0)
    mark_h = 22
    top = 18  # the target's label row
    bar_y = top + rows * mark_h + 4
    height = bar_y + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'class="ruler" aria-hidden="true">']
    parts += _field_rects(ruler, bar_y, 26, locale)
    for value, people in sorted(stacks.items()):
        cx = (value - 0.5) * CELL
        for i, who in enumerate(people):
            cy = bar_y - 4 - mark_h / 2 - i * mark_h
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="10" class="mark"/>'
                         f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" class="initials">'
                         f'{escape(who)}</text>')
    if target is not None:
        x = (target - 0.5) * CELL
        parts.append(f'<line x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{bar_y + 26}" class="target"/>'
                     f'<text x="{min(max(x, 24), WIDTH - 24):.1f}" y="{top - 6}" text-anchor="middle" '
                     f'class="target-label">{escape(target_label)} {target}</text>')
    parts.append("</svg>")
    return "".join(parts)


def history_chart(rounds: list[int], lines: list[tuple[str, dict[int, int]]], targets: dict[int, int],
                  round_label: str) -> str:
    """Each person's number per meeting (x) on 1-10 (y); the target as a dashed step."""
    if not rounds:
        return ""
    left, right, top, bottom = 26, 10, 10, 26
    h = 180
    plot_w = WIDTH - left - right
    plot_h = h - top - bottom
    n = len(rounds)

    def x(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else i * plot_w / (n - 1))

    def y(v: float) -> float:
        return top + plot_h - (v - 1) * plot_h / 9

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {h}" role="img" class="chart" '
             f'aria-hidden="true">']
    for v in (1, 5, 10):
        parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" class="num">{v}</text>')
    for i in range(n):
        parts.append(f'<text x="{x(i):.1f}" y="{h - 8}" text-anchor="middle" class="num">'
                     f'{escape(round_label)} {i + 1}</text>')
    for k, (name, by_round) in enumerate(lines):
        pts = [(x(i), y(by_round[r])) for i, r in enumerate(rounds) if r in by_round]
        if len(pts) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            parts.append(f'<polyline points="{path}" class="line line{k % 6}"/>')
        for px, py in pts:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="9" class="mark line{k % 6}"/>'
                         f'<text x="{px:.1f}" y="{py + 4:.1f}" text-anchor="middle" class="initials">'
                         f'{escape(initials(name))}</text>')
    for i, r in enumerate(rounds):
        if r in targets:
            parts.append(f'<line x1="{x(i) - 14:.1f}" x2="{x(i) + 14:.1f}" y1="{y(targets[r]):.1f}" '
                         f'y2="{y(targets[r]):.1f}" class="target"/>')
    parts.append("</svg>")
    return "".join(parts)
