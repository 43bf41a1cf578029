"""Building blocks the documents share: title block, people, input columns, scores, plan."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from xml.sax.saxutils import escape

from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from reportlab.lib import colors
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from core.labels import age_group_label, author, box_title, role_label
from reports.chart import columns, lighten
from reports.columns import Cell, ColumnTable
from reports.common import (
    ACCENT,
    MUTED,
    RULE,
    SHADE,
    Styles,
    U,
    current_locale,
    fmt_day,
    fmt_short_day,
    markup,
    one_line,
)
from reports.model import DialogInfo, Entry, PlanInfo, RoundScores, Who
from rules.dialog_config import Area, Ruler
from storage.inputs import BOXES


def who_label(w: Who) -> str:
    """'Mette (Mor)' as plain text."""
    return f"{one_line(w.name)} ({one_line(w.relation) or role_label(w.role)})"


def area_label(areas: Sequence[Area], key: str) -> str:
    for a in areas:
        if a.key == key:
            return a.label(current_locale())
    return key


def esc(text: str | None) -> str:
    """A short value (a name, a place) inside our own markup."""
    return escape(one_line(text))


def title_block(st: Styles, title: str, subtitle: str, rows: Sequence[tuple[str, str]]) -> list[Flowable]:
    """The document's title, a subtitle line and label/value rows (values already markup)."""
    out: list[Flowable] = [U(title, st.title), U(subtitle, st.subtitle)]
    if rows:
        data = [[U(label, st.cell_bold), Paragraph(value, st.cell)] for label, value in rows]
        table = Table(data, colWidths=[3.4 * cm, None], hAlign="LEFT", splitInRow=1)
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
        ]))
        out.append(table)
    return out


def child_line(dialog: DialogInfo) -> str:
    return _("The dialog about {child} · {age}").format(child=one_line(dialog.child_name),
                                                      age=age_group_label(dialog.age_group))


def purpose_block(st: Styles, dialog: DialogInfo) -> list[Flowable]:
    return [
        U(_("Purpose of the dialog"), st.h2),
        U(dialog.purpose, st.body),
        U(_("Written down {date}").format(date=fmt_day(dialog.purpose_updated_at)), st.muted),
    ]


def _grid(data: list[list[object]], widths: Sequence[float | None], *, header: bool = True,
          extra: Sequence[tuple] = ()) -> Table:
    table = Table(data, colWidths=list(widths), repeatRows=1 if header else 0, splitInRow=1, hAlign="LEFT")
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), SHADE), ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT)]
    table.setStyle(TableStyle(style + list(extra)))
    return table


# ---- people ---------------------------------------------------------------------------------


def participants_table(st: Styles, people: Sequence[Who], third: dict[int, str] | None = None,
                       third_title: str | None = None) -> Table:
    """Name | role (| a third column, e.g. the answer to the meeting invitation)."""
    head = [U(_("Name"), st.cell_bold), U(_("Role"), st.cell_bold)]
    widths: list[float | None] = [6.2 * cm, 6.0 * cm]
    if third is not None:
        head.append(U(third_title or "", st.cell_bold))
        widths.append(None)
    data: list[list[object]] = [head]
    for w in people:
        role = role_label(w.role)
        if w.relation:
            role = f"{one_line(w.relation)} · {role}"
        row: list[object] = [U(w.name, st.cell), U(role, st.cell)]
        if third is not None:
            row.append(U(third.get(w.id, ""), st.cell))
        data.append(row)
    return _grid(data, widths)


# ---- input in the handbook's three columns ----------------------------------------------------------


def entries_story(st: Styles, entries: Sequence[Entry], areas: Sequence[Area]) -> list[Flowable]:
    """Per area (in the configured order), a three-column table: one row per person's entry."""
    order = {a.key: i for i, a in enumerate(areas)}
    by_area: dict[str, list[Entry]] = {}
    for e in sorted(entries, key=lambda e: (order.get(e.area, len(order)), e.shared_at, e.id)):
        by_area.setdefault(e.area, []).append(e)
    headers = [box_title(b) for b in BOXES]
    out: list[Flowable] = []
    for key, rows in by_area.items():
        cells = []
        for e in rows:
            meta = f"{fmt_short_day(e.shared_at)} · {author(who_label(e.author), by_coordinator=e.by_coordinator)}"
            cells.append([Cell(meta, getattr(e, box)) for box in BOXES])
        out.append(ColumnTable(area_label(areas, key).upper(), headers, cells,
                               continued_text=_("(continued)")))
        out.append(Spacer(1, 8))
    return out


# ---- scores ---------------------------------------------------------------------------------------


def field_cell(st: Styles, ruler: Ruler, value: int):  # type: ignore[no-untyped-def]
    field = ruler.field_for(value)
    return U(field.name(current_locale()), st.cell), colors.HexColor(field.colour)


def scores_table(st: Styles, people: Sequence[Who], scores: RoundScores, ruler: Ruler) -> Flowable:
    """Everyone's number before the meeting: name | number | field (with the field's colour)."""
    data: list[list[object]] = [[U(_("Name"), st.cell_bold), U(_("Number on the ruler"), st.cell_bold),
                                 U(_("Field on the ruler"), st.cell_bold)]]
    extra: list[tuple] = []
    row = 1
    for w in people:
        value = scores.scores.get(w.id)
        if value is None:
            continue
        cell, colour = field_cell(st, ruler, value)
        data.append([U(who_label(w), st.cell), U(str(value), st.cell_bold), cell])
        extra.append(("BACKGROUND", (2, row), (2, row), lighten(ruler.field_for(value).colour, 0.55)))
        row += 1
    if row == 1:
        return U(_("Nobody gave a number on the ruler before the meeting."), st.muted)
    return _grid(data, [8.0 * cm, 3.0 * cm, None], extra=extra)


def target_line(st: Styles, ruler: Ruler, target: int | None, *, earlier: int | None = None) -> list[Flowable]:
    """The joint target the meeting set (it aims at the next meeting), and the one it aimed at."""
    out: list[Flowable] = []
    if earlier is not None:
        out.append(U(_("The joint target on the ruler for this meeting was {value} – {field}.").format(
            value=earlier, field=ruler.field_for(earlier).name(current_locale())), st.body))
    if target is None:
        out.append(U(_("No joint target on the ruler was set for the next meeting."), st.body))
    else:
        out.append(U(_("Joint target on the ruler for the next meeting: {value} – {field}").format(
            value=target, field=ruler.field_for(target).name(current_locale())), st.strong))
    return out


def history_table(st: Styles, people: Sequence[Who], history: Sequence[RoundScores],
                  next_at: datetime | None = None) -> Flowable:
    """Numbers per participant (rows) and meeting (columns, as in the chart), the joint target last
    (in the column of the meeting it aims at)."""
    cols = columns(history, next_at)
    ids = {pid for c in cols for pid in c.scores}
    rows = [w for w in people if w.id in ids]
    if not rows:
        return U(_("Nobody has given a number on the ruler yet."), st.muted)
    head = [U(_("Name"), st.cell_bold)] + [U(c.label, st.cell_bold) for c in cols]
    data: list[list[object]] = [head]
    for w in rows:
        data.append([U(who_label(w), st.cell)] + [U(str(c.scores.get(w.id, "–")), st.cell) for c in cols])
    data.append([U(_("Joint target on the ruler"), st.cell_bold)] +
                [U(str(c.target) if c.target else "–", st.cell_bold) for c in cols])
    first = 6.5 * cm
    rest = (17.4 * cm - first) / max(1, len(cols))
    return _grid(data, [first] + [rest] * len(cols),
                 extra=[("LINEABOVE", (0, len(data) - 1), (-1, len(data) - 1), 0.8, ACCENT)])


# ---- Mål & Plan ----------------------------------------------------------------------------------


def short_date(d: date) -> str:
    """'24.11.2026' (da) / '11/24/26' (en)."""
    return format_date(d, "short", locale=current_locale())


def status_label(status: str) -> str:
    return {"done": _("Done"), "help": _("Needs help")}.get(status, _("In progress"))


def plan_status(plan: PlanInfo) -> str:
    """Where the plan stands, in plain words (no version numbers)."""
    if plan.accepted:
        return _("The family has agreed to the plan. It is the plan that applies now.")
    if plan.sent:
        return _("The plan has been sent to the family and is not agreed yet.")
    return _("The plan has not been sent to the family yet.")


def plan_table(st: Styles, plan: PlanInfo, areas: Sequence[Area]) -> list[Flowable]:
    """Area | goal | task | who | period | status; area and goal once per goal."""
    if not plan.goals:
        return [U(_("No plan has been made yet."), st.muted)]
    order = {a.key: i for i, a in enumerate(areas)}
    head = [U(t, st.cell_bold) for t in (_("Area"), _("Goal"), _("Task"), _("Who"), _("Period"), _("Status"))]
    data: list[list[object]] = [head]
    extra: list[tuple] = []
    goals = sorted(enumerate(plan.goals), key=lambda ig: (order.get(ig[1].area, len(order)), ig[0]))
    for _i, goal in goals:
        first = len(data)
        tasks = goal.tasks or ()
        if not tasks:
            data.append([U(area_label(areas, goal.area), st.cell), U(goal.text, st.cell),
                         U(_("No tasks yet"), st.muted), "", "", ""])
        for n, t in enumerate(tasks):
            period = f"{short_date(t.starts_on)} – {short_date(t.ends_on)}"
            data.append([
                U(area_label(areas, goal.area), st.cell) if n == 0 else "",
                U(goal.text, st.cell) if n == 0 else "",
                U(t.what, st.cell), U(who_label(t.owner), st.cell), U(period, st.cell),
                U(status_label(t.status), st.cell_bold if t.status != "open" else st.cell),
            ])
            if n > 0:
                extra.append(("LINEBELOW", (0, len(data) - 2), (1, len(data) - 2), 0, colors.white))
        extra.append(("LINEABOVE", (0, first), (-1, first), 0.8, RULE))
    widths = [2.5 * cm, 3.3 * cm, 4.2 * cm, 3.0 * cm, 2.5 * cm, None]
    return [U(plan_status(plan), st.strong), Spacer(1, 3), _grid(data, widths, extra=extra)]


def tried_story(st: Styles, plan: PlanInfo, areas: Sequence[Area]) -> list[Flowable]:
    """What has been tried: the tasks done (and those that needed help)."""
    done = [(g, t) for g in plan.goals for t in g.tasks if t.status == "done"]
    help_ = [(g, t) for g in plan.goals for t in g.tasks if t.status == "help"]
    if not done and not help_:
        return [U(_("No task of the plan has been marked as done yet."), st.muted)]
    data: list[list[object]] = [[U(t, st.cell_bold) for t in (_("Task"), _("Who"), _("Period"), _("Status"))]]
    for g, t in done + help_:
        status = status_label(t.status)
        if t.status == "done" and t.done_at is not None:
            status = _("Done {date}").format(date=fmt_short_day(t.done_at))
        data.append([
            _stack(st, area_label(areas, g.area), t.what), U(who_label(t.owner), st.cell),
            U(f"{short_date(t.starts_on)} – {short_date(t.ends_on)}", st.cell), U(status, st.cell)])
    return [_grid(data, [8.0 * cm, 3.6 * cm, 3.0 * cm, None])]


def _stack(st: Styles, area: str, what: str) -> Paragraph:
    """The area small and grey above the task."""
    return Paragraph(f'<font color="#{MUTED.hexval()[2:]}" size="7.5">{markup(area)}</font>'
                     f"<br/>{markup(what)}", st.cell)

