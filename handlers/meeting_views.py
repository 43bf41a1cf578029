"""Dialogmøde (`/moede`) views: the buttons' callback data, the cards, questions and keyboards
handlers/meetings.py shows, and the renderers of the flow's notices.

The renderers (`@renderer`) register when this module is imported; handlers/meetings.py
imports it, so they are there whenever the router is.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.config import Settings
from core.i18n import fmt_datetime
from core.labels import child_in_chat
from core.notices import RenderContext, Rendered, renderer
from handlers.choose import Id, PickDialogCb
from rules.access import ACTIVE
from rules.dialog_config import DialogConfig, Ruler
from services.meetings import (
    CASE_REF_LIMIT,
    Answered,
    Call,
    Called,
    Closed,
    Rsvp,
    attendees,
    invitees,
    may_start,
)
from storage import inputs
from storage import meetings as mt
from storage.models import Dialog, Meeting, Participant, Person


class MeetingAction(StrEnum):
    """What a coordinator's meeting button does. The values are packed into buttons already
    sent: never change one."""

    # the summary of a new or moved meeting (a conversation step)
    send = "send"
    edit_when = "edit_when"
    edit_place = "edit_place"
    same_place = "same_place"
    abort = "abort"
    # a scheduled meeting
    move = "move"
    cancel = "cancel"
    cancel_yes = "cancel_yes"
    keep = "keep"
    start = "start"
    # the meeting under way
    target_menu = "target_menu"
    target = "target"
    close = "close"
    close_yes = "close_yes"
    show = "show"
    # closing: who was there, the summary, the next meeting, the case number
    attend = "attend"
    attended = "attended"
    no_summary = "no_summary"
    plan_next = "plan_next"
    no_next = "no_next"
    next_same_place = "next_same_place"
    case_ref = "case_ref"


class MeetingCb(CallbackData, prefix="mt"):
    action: MeetingAction
    dialog_id: Id
    meeting_id: Id = 0
    value: Id = 0


class RsvpCb(CallbackData, prefix="rsvp"):
    meeting_id: Id
    version: Id
    coming: Id  # 1: Jeg kommer, 0: Jeg kan ikke


def _locale() -> str:
    return I18n.get_current().current_locale


def when_text(dt: datetime) -> str:
    """'torsdag den 3. december 2026 kl. 14.00' in the reader's language and the configured zone."""
    return fmt_datetime(dt, "full")


def _child(dialog: Dialog) -> str:
    return child_in_chat(dialog)


def _button(label: str, action: MeetingAction, dialog: Dialog, meeting: Meeting | None = None,
            value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=label, callback_data=MeetingCb(
        action=action, dialog_id=dialog.id, meeting_id=meeting.id if meeting else 0, value=value).pack())


def _plan_button(dialog: Dialog) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("📋 Goals & Plan"), callback_data=PickDialogCb(
        flow="plan", dialog_id=dialog.id).pack())


def stale_meeting(meeting: Meeting) -> str:
    if meeting.status == mt.CANCELLED:
        return _("That meeting has been cancelled. Type /moede to see where things stand.")
    if meeting.status == mt.CLOSED:
        return _("That meeting has been closed. Type /moede to see where things stand.")
    if meeting.status == mt.OPEN:
        return _("The meeting is already under way. Type /moede to see the agenda.")
    return _("The meeting has not started yet. Type /moede to see it.")


# ---- what /moede shows -----------------------------------------------------------------------------


async def participant_view(session: AsyncSession, p: Participant, meeting: Meeting | None) -> str:
    dialog = p.dialog
    if meeting is None:
        return _("No dialog meeting has been scheduled in the dialog about {child} yet. "
                 "You will get a message when the coordinator has scheduled one.").format(child=_child(dialog))
    head = _("<b>Dialog meeting</b> – the dialog about {child}").format(child=_child(dialog))
    place = f"🗓 {when_text(meeting.starts_at)}\n📍 {html.quote(meeting.place)}"
    if meeting.status == mt.OPEN:
        return f"{head}\n\n{place}\n\n" + _("The meeting is under way.")
    response = await mt.response_of(session, meeting.id, p.id)
    if response is None:
        mine = _("You have not answered yet. Are you coming?")
    elif response.coming:
        mine = _("Your answer: I'm coming.")
    else:
        mine = _("Your answer: I can't come.")
    return f"{head}\n\n{place}\n\n{mine}"


def rsvp_keyboard(meeting: Meeting) -> InlineKeyboardMarkup:
    def b(text: str, coming: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=RsvpCb(
            meeting_id=meeting.id, version=meeting.version, coming=coming).pack())

    return InlineKeyboardMarkup(inline_keyboard=[[b(_("✅ I'm coming"), 1), b(_("❌ I can't come"), 0)]])


async def who_is_coming(session: AsyncSession, dialog: Dialog, meeting: Meeting) -> tuple[list[str], dict[str, int]]:
    """One line per invited participant, and the counts."""
    answers = await mt.responses(session, meeting.id)
    lines, counts = [], {"yes": 0, "no": 0, "open": 0}
    for p in invitees(dialog):
        r = answers.get(p.id)
        if r is None:
            counts["open"] += 1
            lines.append(_("❔ {who}: has not answered").format(who=texts.who(p)))
        elif r.coming:
            counts["yes"] += 1
            lines.append(_("✅ {who}: coming").format(who=texts.who(p)))
        else:
            counts["no"] += 1
            lines.append(_("❌ {who}: can't come").format(who=texts.who(p)))
    return lines, counts


def _counts_line(counts: dict[str, int]) -> str:
    return _("Answers so far: {yes} coming, {no} can't come, {open} not answered.").format(**counts)


async def coordinator_card(session: AsyncSession, dialog: Dialog, meeting: Meeting, now: datetime,
                           settings: Settings) -> tuple[str, InlineKeyboardMarkup]:
    lines, _counts = await who_is_coming(session, dialog, meeting)
    text = "\n".join([
        _("<b>Dialog meeting</b> – the dialog about {child}, round {round}").format(
            child=_child(dialog), round=meeting.round_no),
        f"🗓 {when_text(meeting.starts_at)}",
        f"📍 {html.quote(meeting.place)}",
        "",
        _("<b>Who is coming?</b>"),
        *(lines or [_("Nobody has joined the dialog yet.")]),
    ])
    rows = []
    if may_start(meeting, now, settings):
        rows.append([_button(_("▶️ Start the meeting"), MeetingAction.start, dialog, meeting)])
    rows += [[_button(_("🕑 Move the meeting"), MeetingAction.move, dialog, meeting)],
             [_button(_("✖️ Cancel the meeting"), MeetingAction.cancel, dialog, meeting)]]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


# ---- scheduling and moving: time, place, confirm ----------------------------------------------------


def when_question(dialog: Dialog, meeting: Meeting | None, editing: bool) -> str:
    examples = _("Write the date and time, e.g. \"12/3 14:00\", \"12.03.2027 kl. 14\" or \"i morgen kl. 9\".")
    if editing:
        head = _("<b>Dialog meeting</b> – the dialog about {child}\n\nWhen is the meeting?").format(
            child=_child(dialog))
    elif meeting is None:
        head = _("<b>New dialog meeting</b> – the dialog about {child} (step 1 of 2)\n\n"
                 "When is the meeting?").format(child=_child(dialog))
    else:
        head = _("<b>Move the meeting</b> – the dialog about {child}\n\n"
                 "The meeting is now {when}. When should it be instead?").format(
            child=_child(dialog), when=when_text(meeting.starts_at))
    return f"{head}\n{examples}\n\n" + _("Type /annuller to stop.")


def date_error(code: str) -> str:
    return {
        "time_missing": _("Please add a time as well, e.g. \"12/3 kl. 14\"."),
        "invalid_date": _("That date does not exist (or is too far ahead). Please check it and write it "
                          "again, e.g. \"12/3 14:00\"."),
        "in_the_past": _("That time has already passed. Please write a time that lies ahead."),
        "unrecognised": _("I can't read that as a date and time. Write e.g. \"12/3 14:00\", "
                          "\"12.03.2027 kl. 14\" or \"i morgen kl. 9\"."),
    }.get(code, _("I can't read that as a date and time. Write e.g. \"12/3 14:00\", "
                  "\"12.03.2027 kl. 14\" or \"i morgen kl. 9\"."))


def place_question(dialog: Dialog, moving: bool) -> tuple[str, InlineKeyboardMarkup | None]:
    text = _("<b>Dialog meeting</b> – the dialog about {child} (step 2 of 2)\n\n"
             "Where is the meeting? Write the place or paste the video link.").format(child=_child(dialog))
    keyboard = None
    if moving:
        keyboard = InlineKeyboardMarkup(inline_keyboard=[[
            _button(_("Same place as before"), MeetingAction.same_place, dialog)]])
    return text, keyboard


def summary_card(dialog: Dialog, starts: datetime, place: str, moving: bool) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join([
        _("<b>Check the meeting</b> – the dialog about {child}").format(child=_child(dialog)),
        "",
        f"🗓 {when_text(starts)}",
        f"📍 {html.quote(place)}",
        "",
        _("Everyone who takes part gets a message about the new time and can answer "
          "I'm coming / I can't come.") if moving else
        _("When you send the invitation, everyone who takes part gets a message and can answer "
          "I'm coming / I can't come."),
    ])
    return text, InlineKeyboardMarkup(inline_keyboard=[
        [_button(_("✅ Move the meeting and tell everyone") if moving else _("✅ Send the invitation"),
                 MeetingAction.send, dialog)],
        [_button(_("Change the time"), MeetingAction.edit_when, dialog)],
        [_button(_("Change the place"), MeetingAction.edit_place, dialog)],
        [_button(_("Cancel"), MeetingAction.abort, dialog)],
    ])


def cancel_question(dialog: Dialog, meeting: Meeting) -> tuple[str, InlineKeyboardMarkup]:
    return _("Cancel the meeting {when}? Everyone who takes part gets a message.").format(
        when=when_text(meeting.starts_at)), InlineKeyboardMarkup(inline_keyboard=[[
            _button(_("Yes, cancel the meeting"), MeetingAction.cancel_yes, dialog, meeting),
            _button(_("No, keep the meeting"), MeetingAction.keep, dialog, meeting),
        ]])


def called_text(called: Called) -> str:
    """The coordinator's answer to a confirmed summary (services.meetings.call_meeting, move_meeting)."""
    if called.outcome is Call.CHANGED:
        return _("The meeting has changed in the meantime. Type /moede to see it as it is now.")
    if called.outcome is Call.ALREADY_SCHEDULED:
        return _("A meeting is already scheduled in this dialog. Type /moede to see it, "
                 "move it or cancel it.")
    if called.outcome is Call.MOVED:
        return _("The meeting is moved to {when}. Everyone has been told and asked again whether "
                 "they are coming.").format(when=when_text(called.meeting.starts_at))
    return ngettext("The invitation is sent to {count} participant. You get a message when they "
                    "answer, and /moede shows who is coming.",
                    "The invitation is sent to {count} participants. You get a message when "
                    "someone answers, and /moede shows who is coming.", called.invited).format(
                        count=called.invited)


# ---- during the meeting -----------------------------------------------------------------------------


async def agenda_card(session: AsyncSession, dialog: Dialog, meeting: Meeting, config: DialogConfig
                      ) -> tuple[str, InlineKeyboardMarkup]:
    """The handbook's agenda, and who has shared input and scaled this round."""
    round_no = meeting.round_no
    authors = await mt.shared_input_authors(session, dialog.id, round_no)
    latest = await inputs.latest_scores(session, dialog, round_no)
    ruler = config.ruler(dialog.age_group)
    status = []
    for p in attendees(dialog):
        given = _("✅ input") if p.id in authors else _("❔ no input")
        score = latest.get(p.id)
        scaled = _("✅ scaled {value}").format(value=score.value) if score else _("❔ not scaled")
        status.append(f"{texts.who(p)}: {given} · {scaled}")
    target = await mt.latest_target(session, dialog)
    if target is not None and target.round_no == round_no:
        field = ruler.field_for(target.joint_target)
        target_line = _("🎯 Joint target: <b>{value}</b> {emoji} {field}").format(
            value=target.joint_target, emoji=field.emoji, field=html.quote(field.name(_locale())))
    else:
        target_line = _("🎯 Joint target: not set yet")
    text = "\n".join([
        _("<b>The dialog meeting is under way</b> – the dialog about {child}, round {round}").format(
            child=_child(dialog), round=round_no),
        "",
        _("<b>Agenda</b>"),
        _("1. Presentation: everyone introduces themselves"),
        _("2. Review of input and scores (/oversigt and /vurdering)"),
        _("3. Joint target on the ruler"),
        _("4. Goals & Plan (/plan)"),
        "",
        _("<b>Input and scaling in round {round}</b>").format(round=round_no),
        *(status or [_("Nobody has joined the dialog yet.")]),
        "",
        target_line,
    ])
    return text, InlineKeyboardMarkup(inline_keyboard=[
        [_button(_("🎯 Set the joint target"), MeetingAction.target_menu, dialog, meeting)],
        [_plan_button(dialog)],
        [_button(_("⏹ Close the meeting"), MeetingAction.close, dialog, meeting)],
    ])


def target_question(dialog: Dialog, meeting: Meeting, ruler: Ruler) -> tuple[str, InlineKeyboardMarkup]:
    loc = _locale()
    legend = "\n".join(f"{f.emoji} {f.low}-{f.high} {html.quote(f.name(loc))}" for f in ruler.fields)
    text = _("<b>Joint target</b> – {ruler}\n\nWhere on the ruler do you want to see {child}'s situation "
             "when you meet next time?\n\n{legend}").format(
        ruler=html.quote(ruler.name(loc)), child=_child(dialog), legend=legend)

    def b(v: int) -> InlineKeyboardButton:
        return _button(str(v), MeetingAction.target, dialog, meeting, value=v)

    return text, InlineKeyboardMarkup(inline_keyboard=[[b(v) for v in range(1, 6)], [b(v) for v in range(6, 11)]])


def target_set_card(dialog: Dialog, meeting: Meeting, ruler: Ruler, value: int
                    ) -> tuple[str, InlineKeyboardMarkup]:
    field = ruler.field_for(value)
    return _(
        "🎯 Joint target set: <b>{value}</b> {emoji} {field}\n{bar}\n\n"
        "Everyone can see it under /vurdering. Next on the agenda: Goals & Plan.").format(
            value=value, emoji=field.emoji, field=html.quote(field.name(_locale())),
            bar=ruler.bar(value)), InlineKeyboardMarkup(inline_keyboard=[
                [_plan_button(dialog)],
                [_button(_("⏹ Close the meeting"), MeetingAction.close, dialog, meeting)],
            ])


# ---- closing the meeting: the minutes of record ------------------------------------------------------


def attendance_label(status: str) -> str:
    return {mt.PRESENT: _("✅ present"), mt.APOLOGIES: _("🙋 sent apologies")}.get(status, _("➖ absent"))


def attendance_card(dialog: Dialog, meeting: Meeting, marks: dict[int, str]) -> tuple[str, InlineKeyboardMarkup]:
    """Step 1 of closing: who was there (one button per person; a tap moves them on)."""
    text = _("<b>Close the meeting</b> – the dialog about {child} (step 1 of 3)\n\n"
             "Who was there? It is filled in from the answers to the invitation. Tap a name to change it: "
             "present → sent apologies → absent.").format(child=_child(dialog))
    rows = [[_button(f"{p.name} ({p.relation or texts.role_label(p.role)}): {attendance_label(marks[p.id])}",
                     MeetingAction.attend, dialog, meeting, value=p.id)]
            for p in attendees(dialog) if p.id in marks]
    if not rows:
        text += "\n\n" + _("Nobody has joined the dialog yet.")
    rows += [[_button(_("Next ➡️"), MeetingAction.attended, dialog, meeting)],
             [_button(_("Not yet"), MeetingAction.show, dialog, meeting)]]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def summary_question(dialog: Dialog, meeting: Meeting) -> tuple[str, InlineKeyboardMarkup]:
    """Step 2: what was discussed and decided (optional)."""
    text = _("<b>Close the meeting</b> – the dialog about {child} (step 2 of 3)\n\n"
             "What did you talk about, and what did you decide? Write a short summary for the minutes. "
             "Everyone in the dialog gets it. Do not write CPR numbers.").format(child=_child(dialog))
    if meeting.summary:
        text += "\n\n" + _("Written so far:") + f"\n<i>{html.quote(meeting.summary)}</i>\n\n" + _(
            "Write a new summary to replace it, or go on.")
        skip = _("Keep it ➡️")
    else:
        skip = _("No summary ➡️")
    return text, InlineKeyboardMarkup(inline_keyboard=[[_button(skip, MeetingAction.no_summary, dialog, meeting)]])


def next_question(dialog: Dialog, meeting: Meeting) -> tuple[str, InlineKeyboardMarkup]:
    """Step 3: the next meeting, now or later."""
    return _("<b>Close the meeting</b> – the dialog about {child} (step 3 of 3)\n\n"
             "When do you meet next? If you have agreed a time, write it in the minutes now: everyone is "
             "invited when you close the meeting.").format(child=_child(dialog)), InlineKeyboardMarkup(
        inline_keyboard=[[_button(_("📅 Plan the next meeting"), MeetingAction.plan_next, dialog, meeting)],
                         [_button(_("Not yet ➡️"), MeetingAction.no_next, dialog, meeting)]])


def next_when_question(dialog: Dialog) -> str:
    return _("<b>Next dialog meeting</b> – the dialog about {child}\n\nWhen is the next meeting?\n"
             "Write the date and time, e.g. \"12/3 14:00\", \"12.03.2027 kl. 14\" or \"i morgen kl. 9\".").format(
        child=_child(dialog))


def next_place_question(dialog: Dialog, meeting: Meeting) -> tuple[str, InlineKeyboardMarkup]:
    return _("<b>Next dialog meeting</b> – the dialog about {child}\n\n"
             "Where is it? Write the place or paste the video link.").format(child=_child(dialog)), \
        InlineKeyboardMarkup(inline_keyboard=[[_button(_("Same place as this time"), MeetingAction.next_same_place,
                                                       dialog, meeting)]])


def case_ref_question(dialog: Dialog) -> str:
    current = _("Now: {ref}").format(ref=html.quote(dialog.case_ref)) if dialog.case_ref else _("Now: none")
    # staff: the coordinator sets the municipality's case number when closing the meeting
    return _("<b>Case number</b> – the dialog about {child}\n\n"
             "Write the municipality's case number (sagsnummer) for this dialog, e.g. \"27.15.08-A26-1234-26\". "
             "It is shown on the minutes. Never a CPR number. Write \"-\" to remove it.").format(
        child=_child(dialog)) + "\n" + current


def case_ref_problem(problem: str) -> str:
    if problem == "cpr":
        return texts.cpr_refused()
    if problem == "too_long":
        return texts.too_long(CASE_REF_LIMIT)
    return _("Please write the case number with letters or digits.")


def _names(dialog: Dialog, marks: dict[int, str], status: str) -> str:
    return ", ".join(texts.who(p) for p in attendees(dialog) if marks.get(p.id) == status) or "–"


def close_card(dialog: Dialog, meeting: Meeting, marks: dict[int, str], next_at: datetime | None,
               next_place: str | None) -> tuple[str, InlineKeyboardMarkup]:
    """The check before closing: what the minutes will say."""
    summary = html.quote(meeting.summary) if meeting.summary else _("none")
    if len(summary) > 300:
        summary = summary[:300].rsplit(" ", 1)[0] + " …"
    following = (f"{when_text(next_at)}, {html.quote(next_place or '')}" if next_at is not None
                 else _("not planned yet"))
    lines = [
        _("<b>Check the minutes</b> – the dialog about {child}").format(child=_child(dialog)),
        "",
        _("Present: {names}").format(names=_names(dialog, marks, mt.PRESENT)),
        _("Sent apologies: {names}").format(names=_names(dialog, marks, mt.APOLOGIES)),
        _("Absent: {names}").format(names=_names(dialog, marks, mt.ABSENT)),
        _("Summary: {text}").format(text=summary),
        _("Next meeting: {when}").format(when=following),
        _("Case number: {ref}").format(ref=html.quote(dialog.case_ref) if dialog.case_ref else _("none")),
        "",
        _("When you close the meeting, round {round} ends, and everyone in the dialog gets the minutes "
          "(referat) as a PDF.").format(round=meeting.round_no),
    ]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[
        [_button(_("✅ Close the meeting and send the minutes"), MeetingAction.close_yes, dialog, meeting)],
        [_button(_("👥 Who was there"), MeetingAction.close, dialog, meeting),
         _button(_("🗂 Case number"), MeetingAction.case_ref, dialog, meeting)],
        [_button(_("Not yet"), MeetingAction.show, dialog, meeting)],
    ])


def closed_text(closed: Closed) -> str:
    text = _(
        "The meeting is closed. Round {next} has begun: before the next meeting everyone gives new "
        "input and scales again. Remember to send the plan for approval under /plan.").format(
            next=closed.next_round)
    text += "\n\n" + _("Everyone in the dialog gets the minutes (referat) as a PDF. When the family agrees to "
                        "the plan, they get a new edition with the plan.")
    if closed.next_meeting is not None:
        text += "\n\n" + called_text(closed.next_meeting)
    return text


# ---- Jeg kommer / Jeg kan ikke ---------------------------------------------------------------------


def rsvp_refusal(answered: Answered) -> str:
    """Why an answer to the invitation was not recorded (an alert, but for UNCHANGED)."""
    if answered.outcome is Rsvp.MOVED:
        return _("The meeting has been moved. Please answer the newest message, or type /moede.")
    if answered.outcome is Rsvp.NOT_SCHEDULED:
        return stale_meeting(answered.meeting)
    if answered.outcome is Rsvp.UNCHANGED:
        return _("Your answer is already recorded.")
    return texts.stale_button()


def rsvp_thanks(coming: bool) -> str:
    reply = _("Thank you – you have answered: I'm coming.") if coming else \
        _("Thank you – you have answered: I can't come. The coordinator will be told.")
    return reply + "\n" + _("You can change your answer with the buttons in the invitation.")


# ---- notices of this flow, composed when they are sent --------------------------------------------


async def _live(ctx: RenderContext, payload: dict) -> tuple[Meeting, Dialog] | None:
    """The meeting of a notice, if it is still scheduled at the version the notice was written for."""
    meeting = await ctx.session.get(Meeting, payload["meeting_id"])
    if meeting is None or meeting.status != mt.SCHEDULED or meeting.version != payload.get("version"):
        return None
    dialog = await ctx.session.get(Dialog, meeting.dialog_id)
    if dialog is None or dialog.state != ACTIVE:
        return None
    return meeting, dialog


async def _coordinator_name(ctx: RenderContext, dialog: Dialog) -> str:
    coordinator = await ctx.session.get(Person, dialog.coordinator_id)
    return html.quote(coordinator.name or "") if coordinator else ""


@renderer("meeting_notice")
async def _meeting_notice(ctx: RenderContext, payload: dict) -> Rendered | None:
    live = await _live(ctx, payload)
    if live is None:
        return None
    meeting, dialog = live
    return Rendered(_(
        "📅 <b>Invitation to a dialog meeting</b> – the dialog about {child}\n\n"
        "🗓 {when}\n📍 {place}\n\n"
        "{coordinator} leads the meeting. We go through your input and scores, set a joint target "
        "on the ruler and make a plan together (Goals & Plan).\n\nAre you coming?").format(
            child=_child(dialog), when=when_text(meeting.starts_at), place=html.quote(meeting.place),
            coordinator=await _coordinator_name(ctx, dialog)), rsvp_keyboard(meeting))


@renderer("meeting_moved")
async def _meeting_moved(ctx: RenderContext, payload: dict) -> Rendered | None:
    live = await _live(ctx, payload)
    if live is None:
        return None
    meeting, dialog = live
    return Rendered(_(
        "🕑 <b>The dialog meeting has been moved</b> – the dialog about {child}\n\n"
        "New time: {when}\n📍 {place}\n\nAre you coming at the new time?").format(
            child=_child(dialog), when=when_text(meeting.starts_at), place=html.quote(meeting.place)),
        rsvp_keyboard(meeting))


@renderer("meeting_cancelled")
async def _meeting_cancelled(ctx: RenderContext, payload: dict) -> Rendered | None:
    meeting = await ctx.session.get(Meeting, payload["meeting_id"])
    if meeting is None or meeting.status != mt.CANCELLED:
        return None
    dialog = await ctx.session.get(Dialog, meeting.dialog_id)
    return Rendered(_(
        "✖️ <b>The dialog meeting {when} is cancelled</b> – the dialog about {child}.\n\n"
        "The coordinator will let you know about a new time.").format(
            when=when_text(meeting.starts_at), child=_child(dialog)))


@renderer("meeting_rsvp")
async def _meeting_rsvp(ctx: RenderContext, payload: dict) -> Rendered | None:
    live = await _live(ctx, payload)
    p = await ctx.session.get(Participant, payload["participant_id"])
    if live is None or p is None:
        return None
    meeting, dialog = live
    response = await mt.response_of(ctx.session, meeting.id, p.id)
    if response is None or response.coming != payload["coming"]:
        return None  # changed again since: a later notice tells the latest answer
    _lines, counts = await who_is_coming(ctx.session, dialog, meeting)
    text = _("{who} is coming to the dialog meeting {when} (the dialog about {child}).") if response.coming \
        else _("{who} can't come to the dialog meeting {when} (the dialog about {child}).")
    return Rendered(text.format(who=texts.who(p), when=when_text(meeting.starts_at), child=_child(dialog))
                    + "\n\n" + _counts_line(counts))


@renderer("meeting_input_reminder")
async def _input_reminder(ctx: RenderContext, payload: dict) -> Rendered | None:
    live = await _live(ctx, payload)
    p = await ctx.session.get(Participant, payload["participant_id"])
    if live is None or p is None or p.joined_at is None:
        return None
    meeting, dialog = live
    if dialog.round_no != meeting.round_no:
        return None
    has_input = await mt.has_shared_input(ctx.session, p.id, meeting.round_no)
    has_score = await mt.has_score(ctx.session, p.id, meeting.round_no)
    if has_input and has_score:
        return None
    if not has_input and not has_score:
        missing = _("You have not shared your input or placed the situation on the ruler yet.")
    elif not has_input:
        missing = _("You have not shared your input yet.")
    else:
        missing = _("You have not placed the situation on the ruler yet.")
    rows = []
    if not has_input:
        rows.append([InlineKeyboardButton(text=_("✍️ Write your input"), callback_data=PickDialogCb(
            flow="input", dialog_id=dialog.id).pack())])
    if not has_score:
        rows.append([InlineKeyboardButton(text=_("📏 Place it on the ruler"), callback_data=PickDialogCb(
            flow="skala", dialog_id=dialog.id).pack())])
    return Rendered(_(
        "⏰ <b>Remember to give your input and your score before the meeting</b>\n\n"
        "The dialog meeting about {child} is {when}. {missing}").format(
            child=_child(dialog), when=when_text(meeting.starts_at), missing=missing),
        InlineKeyboardMarkup(inline_keyboard=rows))


@renderer("meeting_day_before")
async def _day_before(ctx: RenderContext, payload: dict) -> Rendered | None:
    live = await _live(ctx, payload)
    if live is None:
        return None
    meeting, dialog = live
    response = await mt.response_of(ctx.session, meeting.id, payload["participant_id"])
    if response is None or not response.coming:
        return None
    return Rendered(_(
        "📅 <b>Reminder: dialog meeting tomorrow</b> – the dialog about {child}\n\n"
        "🗓 {when}\n📍 {place}\n\nSee you there.").format(
            child=_child(dialog), when=when_text(meeting.starts_at), place=html.quote(meeting.place)))


@renderer("meeting_closed")
async def _meeting_closed(ctx: RenderContext, payload: dict) -> Rendered | None:
    meeting = await ctx.session.get(Meeting, payload["meeting_id"])
    if meeting is None or meeting.status != mt.CLOSED:
        return None
    dialog = await ctx.session.get(Dialog, meeting.dialog_id)
    if dialog is None or dialog.state != ACTIVE:
        return None
    # What comes next is on the buttons: the plan now, new input and a new number before the next meeting.
    return Rendered(_(
        "The dialog meeting about {child} is over. Thank you for today.\n\n"
        "You can see the plan here. Before the next meeting, you write new input "
        "and put your number on the ruler again.").format(child=_child(dialog)),
        InlineKeyboardMarkup(inline_keyboard=[[_plan_button(dialog)]]))
