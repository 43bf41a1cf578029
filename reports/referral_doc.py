"""The referral (indstilling) to PPR or Sundhedstjenesten as a PDF.

What the receiver reads: who the child is (first name, age group), who refers
and when, the purpose, the participants, the ruler over time, what has been
tried (tasks done, tasks that needed help), the current plan, the latest shared
input, and the consent: who approved and when. Until every consent giver has
approved it is a draft ("UDKAST"), shown only to those who must approve it.
"""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _
from reportlab.lib import colors
from reportlab.lib.units import cm
from reportlab.platypus import CondPageBreak, Flowable, Spacer, Table, TableStyle
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from reports import gather
from reports.chart import RulerChart
from reports.common import (
    CONFIDENTIAL,
    Frame,
    Styles,
    U,
    build_pdf,
    content_width,
    current_locale,
    fmt_day,
    fmt_moment,
    one_line,
    safe_filename,
    styles,
)
from reports.model import Approval, ReferralData
from reports.parts import (
    child_line,
    entries_story,
    esc,
    history_table,
    participants_table,
    plan_table,
    purpose_block,
    title_block,
    tried_story,
    who_label,
)
from reports.referrals import Referral
from rules.dialog_config import DialogConfig
from storage.models import Dialog


def receiver_name(receiver: str) -> str:
    return {"ppr": _("PPR (Educational Psychological Counselling)"),
            "health": _("Sundhedstjenesten (the municipal health service for children)")}[receiver]


def receiver_short(receiver: str) -> str:
    return {"ppr": _("PPR"), "health": _("Sundhedstjenesten")}[receiver]


async def referral_data(session: AsyncSession, dialog: Dialog, referral: Referral, config: DialogConfig,
                        settings: Settings, now: datetime, *, draft: bool) -> ReferralData:
    """What the referral shows: input and scores as they were when it was asked for."""
    as_of = referral.requested_at
    entries_round = await gather.latest_input_round(session, dialog, as_of)
    approvals = tuple(
        Approval(who=gather.who(a.participant), approves=a.approves, answered_at=a.answered_at)
        for a in referral.answers)
    return ReferralData(
        dialog=gather.dialog_info(dialog, settings), receiver=referral.receiver,
        participants=gather.participants(dialog),
        entries=await gather.round_entries(session, dialog, entries_round, as_of=as_of),
        entries_round=entries_round,
        history=await gather.score_history(session, dialog, referral.round_no, as_of=as_of),
        ruler=config.ruler(dialog.age_group), areas=tuple(config.areas),
        plan=await gather.plan_info(session, dialog, as_of=as_of), approvals=approvals,
        requested_at=referral.requested_at, generated_at=now, draft=draft)


def _banner(text: str) -> Table:
    st = styles()
    table = Table([[U(text, st.h3)]], colWidths=[content_width()])
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 1.2, CONFIDENTIAL),
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#FDECEC")),
        ("LEFTPADDING", (0, 0), (-1, -1), 8), ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]))
    return table


def render_referral(data: ReferralData) -> bytes:
    st = styles()
    d = data.dialog
    title = _("Referral to {receiver}").format(receiver=receiver_short(data.receiver))
    rows = [(_("To"), esc(receiver_name(data.receiver)))]
    if d.coordinator is not None:
        rows.append((_("From"), esc(f"{who_label(d.coordinator)}, {one_line(d.municipality)}")))
    rows.append((_("Asked for"), esc(fmt_day(data.requested_at))))
    if d.activated_at is not None:
        rows.append((_("Dialog since"), esc(fmt_day(d.activated_at))))
    rows.append((_("Rounds"), str(d.round_no)))
    story: list[Flowable] = title_block(st, title, child_line(d), rows)
    if data.draft:
        story += [Spacer(1, 6), _banner(_(
            "DRAFT for approval: this referral is produced only when every parent with custody "
            "(or the young person) has approved it."))]
    story += purpose_block(st, d)

    story.append(U(_("Participants in the dialog"), st.h2))
    story.append(participants_table(st, data.participants))

    story.append(U(_("The ruler over time"), st.h2))
    story.append(U(_("Each participant's score per round ({ruler}: 1 general – 10 acute concern) and the "
                     "joint target set at the meetings.").format(ruler=data.ruler.name(current_locale())), st.muted))
    story.append(Spacer(1, 4))
    story.append(RulerChart(data.history, data.participants, data.ruler, who_label))
    story.append(Spacer(1, 6))
    story.append(history_table(st, data.participants, data.history))

    story.append(U(_("What has been tried"), st.h2))
    story += tried_story(st, data.plan, data.areas)

    story.append(U(_("Goals & Plan"), st.h2))
    story += plan_table(st, data.plan, data.areas)

    story.append(U(_("Consent"), st.h2))
    story += _consent(st, data.approvals, data.draft)

    story.append(CondPageBreak(6 * cm))
    story.append(U(_("The latest shared input (round {round})").format(round=data.entries_round), st.h2))
    if data.entries:
        story += entries_story(st, data.entries, data.areas)
    else:
        story.append(U(_("Nobody has shared input yet."), st.body))
    footer = _("Referral to {receiver} · {child}").format(receiver=receiver_short(data.receiver),
                                                          child=one_line(d.child_name))
    if data.draft:
        footer = _("DRAFT") + " · " + footer
    return build_pdf(story, Frame(d.municipality, footer), title=title)


def _consent(st: Styles, approvals: tuple[Approval, ...], draft: bool) -> list[Flowable]:
    lines = []
    for a in approvals:
        if a.approves and a.answered_at is not None:
            state = _("approved {when}").format(when=fmt_moment(a.answered_at))
        elif a.approves is False:
            state = _("refused")
        else:
            state = _("has not answered yet")
        lines.append(U(f"{who_label(a.who)}: {state}", st.body))
    if not draft:
        lines.insert(0, U(_("Every parent with custody (or the young person) has approved this referral in "
                            "Samspil:"), st.body))
    return lines or [U(_("Nobody has been asked."), st.muted)]


def referral_filename(receiver: str, child_name: str, draft: bool) -> str:
    parts = [_("draft")] if draft else []
    return safe_filename(*parts, _("referral"), receiver_short(receiver), child_name)
