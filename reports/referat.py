"""The meeting report (referat): the minutes of a dialogmøde, sent to everyone as a PDF.

Order on the page: what the meeting decided first, the material after.
1. Title, the dialog, the meeting's time and place, the coordinator.
2. Purpose.
3. Participants, with their role and their answer to the meeting invitation.
4. Scores of the round, the joint target, and the ruler over all rounds (chart + table).
5. Mål & Plan (area, goal, task, who, period, status) and whether it is agreed.
6. The next meeting, if one is planned.
7. Every participant's shared input of the round, per area in the three columns.

`build_referat` gathers and renders (in a thread) in the current locale;
`queue_referat` renders it for every joined participant in their own language and
puts it in the outbox (storage/documents.py) in the caller's transaction; the
scheduler sends it, with protect_content, once that transaction has committed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import html
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, Flowable, Spacer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.notices import Notices
from reports import gather
from reports.chart import ruler_chart
from reports.common import (
    Frame,
    U,
    build_pdf,
    content_width,
    current_locale,
    fmt_day,
    fmt_moment,
    localized,
    one_line,
    render,
    safe_filename,
    styles,
)
from reports.model import ReferatData, RoundScores
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
from rules.dialog_config import DialogConfig
from rules.roles import COORDINATOR
from storage import audit, documents
from storage import meetings as mt
from storage.models import Dialog, Meeting, OutboxMessage, Participant

log = logging.getLogger("samspil.reports")


# ---- gathering -------------------------------------------------------------------------------


async def referat_data(session: AsyncSession, dialog: Dialog, meeting: Meeting | None, config: DialogConfig,
                       settings: Settings, now: datetime) -> ReferatData:
    """The referat of `meeting` (its round), or, with no meeting closed, of the round so far."""
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


def render_referat(data: ReferatData) -> bytes:
    st = styles()
    d = data.dialog
    title = _("Minutes of the dialog meeting") if data.final else _("Minutes – preliminary")
    rows: list[tuple[str, str]] = []
    if data.meeting is not None:
        rows += [(_("Time"), esc(fmt_moment(data.meeting.starts_at))), (_("Place"), esc(data.meeting.place))]
    rows.append((_("Round"), str(data.round_no)))
    if d.coordinator is not None:
        rows.append((_("Coordinator"), esc(who_label(d.coordinator))))
    rows.append((_("Municipality"), esc(d.municipality)))
    rows.append((_("Made"), esc(fmt_day(data.generated_at))))
    story: list[Flowable] = title_block(st, title, child_line(d), rows)
    if not data.final:
        story.append(Spacer(1, 4))
        story.append(U(_("The meeting of this round has not been closed yet: this is the state so far."),
                       st.h3))
    story += purpose_block(st, d)

    story.append(U(_("Participants"), st.h2))
    answers = {w.id: _answer(data, w.id, w.role, w.joined) for w in data.participants}
    story.append(participants_table(st, data.participants, answers, _("Answer to the invitation")))

    story.append(U(_("The ruler – round {round}").format(round=data.round_no), st.h2))
    this_round = next((h for h in data.history if h.round_no == data.round_no), RoundScores(data.round_no))
    story.append(U(_("Each participant's latest score in this round ({ruler}: 1 general – 10 acute concern).")
                   .format(ruler=data.ruler.name(current_locale())), st.muted))
    story.append(Spacer(1, 3))
    story.append(scores_table(st, data.participants, this_round, data.ruler))
    story.append(Spacer(1, 6))
    story.append(target_line(st, data.ruler, this_round.target))
    story.append(U(_("The ruler over time"), st.h3))
    story.append(ruler_chart(data.history, data.participants, data.ruler, content_width(), who_label))
    story.append(Spacer(1, 6))
    story.append(history_table(st, data.participants, data.history))

    story.append(U(_("Goals & Plan"), st.h2))
    story += plan_table(st, data.plan, data.areas)

    story.append(U(_("Next meeting"), st.h2))
    if data.next_meeting is not None:
        story.append(U(_("{when}, {place}").format(when=fmt_moment(data.next_meeting.starts_at),
                                                  place=one_line(data.next_meeting.place)), st.body))
    else:
        story.append(U(_("No next meeting has been planned yet. The coordinator will plan it."), st.body))

    story.append(CondPageBreak(6 * cm))
    story.append(U(_("Shared input in round {round}").format(round=data.round_no), st.h2))
    if data.entries:
        story.append(Spacer(1, 2))
        story += entries_story(st, data.entries, data.areas)
    else:
        story.append(U(_("Nobody shared input in this round."), st.body))

    footer = _("Minutes · the dialog about {child} · round {round}").format(
        child=one_line(d.child_name), round=data.round_no)
    return build_pdf(story, Frame(d.municipality, footer), title=title)


def referat_filename(child_name: str, round_no: int) -> str:
    return safe_filename(_("minutes"), child_name, _("round"), str(round_no))


# ---- sending -----------------------------------------------------------------------------------


def recipients(dialog: Dialog) -> list[Participant]:
    """Every joined participant with a Telegram account, the coordinator included."""
    return [p for p in dialog.participants
            if p.joined_at is not None and p.person is not None and p.person.telegram_id is not None]


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
    keys = {p.id: f"referat:{meeting.id}:{p.id}" for p in recipients(dialog)}
    decided = set(await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys.values()))))
    people = [p for p in recipients(dialog) if keys[p.id] not in decided]  # once per meeting and person
    if not people:
        return 0
    data = await referat_data(session, dialog, meeting, config, settings, now)
    docs: dict[str, int] = {}
    for p in people:
        locale = p.person.locale or settings.default_locale  # type: ignore[union-attr]
        if locale not in docs:
            pdf = await render(render_referat, data, locale)
            with localized(locale):
                caption = _(
                    "📄 Minutes of the dialog meeting about {child} (round {round}): what the meeting "
                    "went through and agreed.").format(child=html.quote(data.dialog.child_name),
                                                       round=data.round_no)
                filename = referat_filename(data.dialog.child_name, data.round_no)
            doc = await documents.add(session, dialog_id=dialog.id, kind="referat", locale=locale,
                                      filename=filename, caption=caption, pdf=pdf, now=now)
            docs[locale] = doc.id
        # Each recipient gets the round's content: an audited read (ids only).
        await audit.record(session, actor_id=p.person_id, dialog_id=dialog.id, action=audit.REPORT_PDF, now=now,
                           role=p.role, round_no=meeting.round_no, meeting_id=meeting.id)
        await notices.add(session, to=p.person, kind=documents.KIND, key=keys[p.id],
                          payload=documents.payload_of(docs[locale]), dialog_id=dialog.id)
    log.info("referat queued dialog_id=%s round=%s recipients=%s", dialog.id, data.round_no, len(people))
    return len(people)
