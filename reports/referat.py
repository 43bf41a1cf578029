"""The meeting report (referat): the minutes of record of a dialogmøde, sent to everyone as a PDF.

Order on the page: the record first, the material after.
1. Title, the dialog; municipality, case reference, time and place, referent (the
   coordinator) and when the document was made; a new edition says what it replaces.
2. Who was there: present, sent apologies, absent (as the coordinator recorded it when
   closing the meeting), and who is not in the dialog yet.
3. What was discussed and decided (the coordinator's summary), and the purpose.
4. The joint ruler: everyone's number before the meeting, the joint target the meeting
   set for the next one (and the one it aimed at), the ruler over time (chart + table).
5. Mål & Plan with where it stands, in plain words.
6. The next meeting, if one is planned.
7. Everyone's shared input before the meeting, per area in the three columns.

`build_referat` gathers and renders (in a thread) in the current locale;
`queue_referat` renders it for every joined participant in their own language and
puts it in the outbox (storage/documents.py) in the caller's transaction; the
scheduler sends it once that transaction has committed. `reissue_referat` does the
same for a new edition when the family agrees a plan after the meeting. Families may
keep their minutes: the document goes without protect_content unless
REFERAT_PROTECT_CONTENT is set. With CHAT_CONTENT=minimal no PDF is made or stored when
the meeting closes: each recipient gets a notice that there is a new document and fetches
it from the Mini App (core/neutral.py NEW_DOCUMENT).
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, Flowable, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.labels import MINIMAL
from core.neutral import NEW_DOCUMENT
from core.notices import Notices
from reports import gather
from reports.chart import RulerChart
from reports.common import (
    ACCENT,
    SHADE,
    Frame,
    P,
    U,
    build_pdf,
    content_width,
    current_locale,
    fmt_day,
    fmt_moment,
    fmt_short_day,
    localized,
    one_line,
    render,
    safe_filename,
    styles,
)
from reports.model import ReferatData, RoundScores, Who
from reports.parts import (
    child_line,
    entries_story,
    esc,
    history_table,
    participants_table,
    plan_table,
    purpose_block,
    scores_table,
    target_line,
    title_block,
    who_label,
)
from rules.access import ACTIVE
from rules.dialog_config import DialogConfig, load_dialog_config
from rules.roles import COORDINATOR
from storage import audit, documents
from storage import meetings as mt
from storage.models import Dialog, Meeting, OutboxMessage, Participant

log = logging.getLogger("samspil.reports")


# ---- gathering -------------------------------------------------------------------------------


async def referat_data(session: AsyncSession, dialog: Dialog, meeting: Meeting | None, config: DialogConfig,
                       settings: Settings, now: datetime, *, edition: int = 1,
                       replaces: datetime | None = None) -> ReferatData:
    """The referat of `meeting` (its round), or, with no meeting closed, of the round so far;
    `edition` 2, 3... replaces the one made at `replaces`."""
    final = meeting is not None and meeting.status == mt.CLOSED
    round_no = meeting.round_no if meeting is not None else dialog.round_no
    following = await gather.next_meeting(session, dialog, meeting) if final else None
    return ReferatData(
        dialog=gather.dialog_info(dialog, settings),
        round_no=round_no,
        participants=gather.participants(dialog),
        entries=await gather.round_entries(session, dialog, round_no),
        history=await gather.score_history(session, dialog, round_no),
        ruler=config.ruler(dialog.age_group),
        areas=tuple(config.areas),
        plan=await gather.plan_info(session, dialog),
        generated_at=now,
        meeting=await gather.meeting_info(session, meeting) if meeting is not None else None,
        next_meeting=await gather.meeting_info(session, following) if following is not None else None,
        final=final,
        edition=edition if final else 1,
        replaces=replaces if final and edition > 1 else None,
    )


async def build_referat(session: AsyncSession, dialog: Dialog, meeting: Meeting | None, config: DialogConfig,
                        settings: Settings, now: datetime | None = None, locale: str | None = None) -> bytes:
    """The referat as PDF bytes, in `locale` (default: the current one); rendered off the event loop."""
    data = await referat_data(session, dialog, meeting, config, settings, now or datetime.now().astimezone())
    return await render(render_referat, data, locale or _current_locale(settings))


def _current_locale(settings: Settings) -> str:
    i18n = I18n.get_current(no_error=True)
    return i18n.current_locale if i18n is not None else settings.default_locale


# ---- rendering -------------------------------------------------------------------------------


def _answer(data: ReferatData, participant_id: int, role: str, joined: bool) -> str:
    """A preliminary referat: the answer to the meeting invitation."""
    if role == COORDINATOR:
        return _("Leads the meeting")
    if not joined:
        return _("Has not joined the dialog yet")
    if data.meeting is None:
        return "–"
    coming = data.meeting.responses.get(participant_id)
    if coming is None:
        return _("No answer")
    return _("Coming") if coming else _("Not coming")


def attendance_groups(data: ReferatData) -> list[tuple[str, list[Who]]]:
    """(label, people) of a closed meeting: present (the referent first), apologies, absent, not joined."""
    marks = data.meeting.attendance if data.meeting is not None else {}
    present = [w for w in data.participants if w.role == COORDINATOR]
    present += [w for w in data.participants if marks.get(w.id) == mt.PRESENT]
    apologies = [w for w in data.participants if marks.get(w.id) == mt.APOLOGIES]
    absent = [w for w in data.participants if marks.get(w.id) == mt.ABSENT]
    outside = [w for w in data.participants if w.role != COORDINATOR and w.id not in marks and not w.joined]
    return [(label, people) for label, people in (
        (_("Present"), present), (_("Sent apologies"), apologies), (_("Absent"), absent),
        (_("Not in the dialog yet"), outside)) if people]


def _names(people: list[Who], referent: Who | None) -> str:
    names = []
    for w in people:
        name = esc(who_label(w))
        if referent is not None and w.id == referent.id:
            name += " – " + esc(_("referent"))
        names.append(name)
    return ", ".join(names)


def _edition_banner(data: ReferatData) -> Flowable:
    st = styles()
    text = _("New edition of {made} – replaces the minutes of {earlier}. The family has agreed to the plan "
             "since the meeting, so the plan below is the one that applies now.").format(
        made=fmt_moment(data.generated_at), earlier=fmt_moment(data.replaces or data.generated_at))
    table = Table([[U(text, st.strong)]], colWidths=[None])
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), SHADE), ("BOX", (0, 0), (-1, -1), 0.8, ACCENT),
                               ("LEFTPADDING", (0, 0), (-1, -1), 6), ("TOPPADDING", (0, 0), (-1, -1), 4),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
    return table


def meeting_date(data: ReferatData) -> datetime:
    return data.meeting.starts_at if data.meeting is not None else data.generated_at


def render_referat(data: ReferatData) -> bytes:
    st = styles()
    d = data.dialog
    m = data.meeting
    title = _("Minutes of the dialog meeting") if data.final else _("Minutes – preliminary")
    rows: list[tuple[str, str]] = [(_("Municipality"), esc(d.municipality))]
    if d.case_ref:
        rows.append((_("Case number"), esc(d.case_ref)))
    if m is not None:
        rows += [(_("Time"), esc(fmt_moment(m.starts_at))), (_("Place"), esc(m.place))]
    if d.coordinator is not None:
        rows.append((_("Referent") if data.final else _("Coordinator"), esc(who_label(d.coordinator))))
    rows.append((_("Made"), esc(fmt_moment(data.generated_at))))
    story: list[Flowable] = title_block(st, title, child_line(d), rows)
    if data.edition > 1:
        story += [Spacer(1, 6), _edition_banner(data)]
    if not data.final:
        story.append(Spacer(1, 4))
        story.append(U(_("The meeting has not been closed yet: this is the state so far."), st.h3))

    if data.final and m is not None:
        story.append(U(_("Who was there"), st.h2))
        for label, people in attendance_groups(data):
            story.append(P(f"<b>{esc(label)}:</b> {_names(people, d.coordinator)}", st.body))
        story.append(U(_("What was discussed and decided"), st.h2))
        if m.summary.strip():
            story.append(U(m.summary, st.body))
        else:
            story.append(U(_("No summary was written when the meeting was closed."), st.muted))
    else:
        story.append(U(_("Participants"), st.h2))
        answers = {w.id: _answer(data, w.id, w.role, w.joined) for w in data.participants}
        story.append(participants_table(st, data.participants, answers, _("Answer to the invitation")))
    story += purpose_block(st, d)

    story.append(U(_("The joint ruler"), st.h2))
    this_round = next((h for h in data.history if h.round_no == data.round_no), RoundScores(data.round_no))
    earlier = next((h.target for h in data.history if h.round_no == data.round_no - 1), None)
    fields = data.ruler.fields
    loc = current_locale()
    story.append(U(_("Everyone's number on the ruler before the meeting. {ruler}: 1 = {low}, 10 = {high}.").format(
        ruler=data.ruler.name(loc), low=fields[0].name(loc), high=fields[-1].name(loc)), st.muted))
    # The chart first: it is as tall as the room left allows (reports/chart.py), and the page
    # breaks before it only when even its smallest size would not fit. The tables after it
    # split between rows and fill what is left of a page.
    next_at = data.next_meeting.starts_at if data.next_meeting is not None else None
    chart = RulerChart(data.history, data.participants, data.ruler, who_label, next_at)
    story.append(CondPageBreak(chart.min_height(content_width())))
    story.append(chart)
    story.append(Spacer(1, 6))
    story += target_line(st, data.ruler, this_round.target, earlier=earlier)
    story.append(Spacer(1, 4))
    story.append(scores_table(st, data.participants, this_round, data.ruler))
    story.append(U(_("The ruler, meeting by meeting"), st.h3))
    story.append(history_table(st, data.participants, data.history, next_at))

    story.append(U(_("Goals & Plan"), st.h2))
    story += plan_table(st, data.plan, data.areas)

    story.append(U(_("Next meeting"), st.h2))
    if data.next_meeting is not None:
        story.append(U(_("{when}, {place}").format(when=fmt_moment(data.next_meeting.starts_at),
                                                  place=one_line(data.next_meeting.place)), st.body))
    else:
        story.append(U(_("No next meeting has been planned yet. The coordinator will plan it."), st.body))

    story.append(CondPageBreak(5 * cm))
    story.append(U(_("Shared input before the meeting") if m is not None else _("Shared input so far"), st.h2))
    if data.entries:
        story.append(Spacer(1, 2))
        story += entries_story(st, data.entries, data.areas)
    else:
        story.append(U(_("Nobody shared input before the meeting."), st.body))

    if data.final:
        footer = _("Minutes · {child} · dialog meeting {date}").format(
            child=one_line(d.child_name), date=fmt_day(meeting_date(data)))
        if data.edition > 1:
            footer += " · " + _("new edition {date}").format(date=fmt_short_day(data.generated_at))
    else:
        footer = _("Minutes – preliminary · {child} · {date}").format(
            child=one_line(d.child_name), date=fmt_day(data.generated_at))
    full_title = f"{title} – {one_line(d.child_name)}, {fmt_day(meeting_date(data))}"
    return build_pdf(story, Frame(d.municipality, footer), title=full_title)


def referat_filename(data: ReferatData) -> str:
    """'referat-emma-2026-12-03.pdf' (the meeting's date); a new edition adds 'udgave-2'."""
    from core.i18n import fmt_date

    day = fmt_date(meeting_date(data), "yyyy-MM-dd")  # the local date
    if not data.final:
        return safe_filename(_("minutes"), data.dialog.child_name, _("preliminary"), day)
    if data.edition > 1:
        return safe_filename(_("minutes"), data.dialog.child_name, day, _("edition"), str(data.edition))
    return safe_filename(_("minutes"), data.dialog.child_name, day)


# ---- sending -----------------------------------------------------------------------------------


def recipients(dialog: Dialog) -> list[Participant]:
    """Every joined participant with a Telegram account, the coordinator included."""
    return [p for p in dialog.participants
            if p.joined_at is not None and p.person is not None and p.person.telegram_id is not None]


def _caption(data: ReferatData) -> str:
    child, day = html.quote(data.dialog.child_name), fmt_day(meeting_date(data))
    if data.edition > 1:
        return _("📄 New edition of the minutes of the dialog meeting about {child} on {date}: the family "
                 "has agreed to the plan. It replaces the minutes you got earlier.").format(child=child, date=day)
    return _("📄 Minutes of the dialog meeting about {child} on {date}: who was there, what was decided, "
             "the ruler and the plan.").format(child=child, date=day)


async def _queue(session: AsyncSession, notices: Notices, dialog: Dialog, meeting: Meeting, key: str, *,
                 config: DialogConfig, settings: Settings, now: datetime, edition: int = 1,
                 replaces: datetime | None = None) -> int:
    """The referat as `meeting` stands now, for every recipient without an outbox row `key`:{id}."""
    keys = {p.id: f"{key}:{p.id}" for p in recipients(dialog)}
    decided = set(await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys.values()))))
    people = [p for p in recipients(dialog) if keys[p.id] not in decided]  # once per edition and person
    if not people:
        return 0
    if settings.chat_content == MINIMAL:
        # Nothing personal passes through Telegram: no PDF is made or stored here; each recipient is
        # told there is a new document and fetches it from the Mini App (its newest edition, made
        # and audited when downloaded). The meeting's edition was counted by the caller.
        for p in people:
            await notices.add(session, to=p.person, kind=NEW_DOCUMENT, key=keys[p.id], dialog_id=dialog.id,
                              payload={"document": "referat", "meeting_id": meeting.id, "edition": edition})
        log.info("referat notice queued dialog_id=%s meeting_id=%s edition=%s recipients=%s", dialog.id,
                 meeting.id, edition, len(people))
        return len(people)
    data = await referat_data(session, dialog, meeting, config, settings, now, edition=edition, replaces=replaces)
    protect = settings.referat_protect_content
    docs: dict[str, int] = {}
    for p in people:
        locale = p.person.locale or settings.default_locale  # type: ignore[union-attr]
        if locale not in docs:
            pdf = await render(render_referat, data, locale)
            with localized(locale):
                caption = _caption(data)
                filename = referat_filename(data)
            doc = await documents.add(session, dialog_id=dialog.id, kind="referat", locale=locale,
                                      filename=filename, caption=caption, pdf=pdf, now=now, protect=protect)
            docs[locale] = doc.id
        # Each recipient gets the meeting's content: an audited read (ids only).
        await audit.record(session, actor_id=p.person_id, dialog_id=dialog.id, action=audit.REPORT_PDF, now=now,
                           role=p.role, round_no=meeting.round_no, meeting_id=meeting.id)
        await notices.add(session, to=p.person, kind=documents.KIND, key=keys[p.id],
                          payload=documents.payload_of(docs[locale]), dialog_id=dialog.id)
    log.info("referat queued dialog_id=%s meeting_id=%s edition=%s recipients=%s", dialog.id, meeting.id,
             data.edition, len(people))
    return len(people)


async def queue_referat(session: AsyncSession, notices: Notices, meeting: Meeting, *, config: DialogConfig,
                        settings: Settings, now: datetime) -> int:
    """Decide the referat of a closed meeting for every joined participant, in their language.

    Call it in the transaction that closes the meeting (after storage.meetings.close_meeting):
    the data is read now, the PDF rendered now (once per language, in a worker thread) and
    stored encrypted with an outbox row per recipient; the scheduler sends it once the
    transaction has committed (retrying on 429 and 5xx, exactly once). If the transaction
    rolls back, nothing is stored and nothing is sent. Returns how many it goes to.
    """
    dialog = await session.get(Dialog, meeting.dialog_id)
    if dialog is None or dialog.state != ACTIVE or meeting.status != mt.CLOSED:
        return 0
    if not meeting.referat_edition:
        meeting.referat_edition, meeting.referat_made_at = 1, now
    return await _queue(session, notices, dialog, meeting, f"referat:{meeting.id}", config=config,
                        settings=settings, now=now)


@lru_cache(maxsize=4)
def _config(path: Path | None) -> DialogConfig:
    return load_dialog_config(path)


async def reissue_referat(session: AsyncSession, notices: Notices, dialog: Dialog, now: datetime, *,
                          config: DialogConfig | None = None) -> int:
    """The family agreed a plan: a new edition of the latest closed meeting's referat, showing the
    plan that applies now, to every participant (replacing the one they got).

    Not while a meeting is under way (its own referat will show the plan), nor before any
    meeting was closed. Once per meeting and plan version. Returns how many it goes to.
    """
    settings = notices.settings
    if dialog.state != ACTIVE:
        return 0
    live = await mt.live_meeting(session, dialog.id)
    if live is not None and live.status == mt.OPEN:
        return 0
    meeting = await gather.latest_closed_meeting(session, dialog.id)
    if meeting is None or not meeting.referat_edition:
        return 0
    key = f"referat:{meeting.id}:plan{dialog.plan_version}"
    if await session.scalar(select(OutboxMessage.id).where(OutboxMessage.key.startswith(key + ":")).limit(1)):
        return 0
    previous = meeting.referat_made_at
    meeting.referat_edition += 1
    meeting.referat_made_at = now
    return await _queue(session, notices, dialog, meeting, key, config=config or _config(settings.dialog_config),
                        settings=settings, now=now, edition=meeting.referat_edition, replaces=previous)
