"""Dialogmøde (`/moede`) views: the buttons' callback data, and the cards, questions and
keyboards handlers/meetings.py shows (what /moede shows, scheduling and moving, the meeting under
way, the answers to the invitation).

Closing the meeting has its own cards (handlers/meeting_close_views.py); the flow's notices are
handlers/meeting_notices.py.
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
from handlers.choose import Id, PickDialogCb
from handlers.ruler_views import legend, one_to_ten
from rules.dialog_config import DialogConfig, Ruler
from services.meetings import Answered, Call, Called, Rsvp, attendees, invitees, may_start
from storage import inputs
from storage import meetings as mt
from storage.models import Dialog, Meeting, Participant


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


def button(label: str, action: MeetingAction, dialog: Dialog, meeting: Meeting | None = None,
           value: int = 0) -> InlineKeyboardButton:
    """One of the coordinator's meeting buttons (about `meeting`, when it is there)."""
    return InlineKeyboardButton(text=label, callback_data=MeetingCb(
        action=action, dialog_id=dialog.id, meeting_id=meeting.id if meeting else 0, value=value).pack())


def plan_button(dialog: Dialog) -> InlineKeyboardButton:
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
                 "You will get a message when the coordinator has scheduled one.").format(child=child_in_chat(dialog))
    head = _("<b>Dialog meeting</b> – the dialog about {child}").format(child=child_in_chat(dialog))
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


def counts_line(counts: dict[str, int]) -> str:
    return _("Answers so far: {yes} coming, {no} can't come, {open} not answered.").format(**counts)


async def coordinator_card(session: AsyncSession, dialog: Dialog, meeting: Meeting, now: datetime,
                           settings: Settings) -> tuple[str, InlineKeyboardMarkup]:
    lines, _counts = await who_is_coming(session, dialog, meeting)
    text = "\n".join([
        _("<b>Dialog meeting</b> – the dialog about {child}, round {round}").format(
            child=child_in_chat(dialog), round=meeting.round_no),
        f"🗓 {when_text(meeting.starts_at)}",
        f"📍 {html.quote(meeting.place)}",
        "",
        _("<b>Who is coming?</b>"),
        *(lines or [_("Nobody has joined the dialog yet.")]),
    ])
    rows = []
    if may_start(meeting, now, settings):
        rows.append([button(_("▶️ Start the meeting"), MeetingAction.start, dialog, meeting)])
    rows += [[button(_("🕑 Move the meeting"), MeetingAction.move, dialog, meeting)],
             [button(_("✖️ Cancel the meeting"), MeetingAction.cancel, dialog, meeting)]]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


# ---- scheduling and moving: time, place, confirm ----------------------------------------------------


def when_question(dialog: Dialog, meeting: Meeting | None, editing: bool) -> str:
    examples = _("Write the date and time, e.g. \"12/3 14:00\", \"12.03.2027 kl. 14\" or \"i morgen kl. 9\".")
    if editing:
        head = _("<b>Dialog meeting</b> – the dialog about {child}\n\nWhen is the meeting?").format(
            child=child_in_chat(dialog))
    elif meeting is None:
        head = _("<b>New dialog meeting</b> – the dialog about {child} (step 1 of 2)\n\n"
                 "When is the meeting?").format(child=child_in_chat(dialog))
    else:
        head = _("<b>Move the meeting</b> – the dialog about {child}\n\n"
                 "The meeting is now {when}. When should it be instead?").format(
            child=child_in_chat(dialog), when=when_text(meeting.starts_at))
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
             "Where is the meeting? Write the place or paste the video link.").format(child=child_in_chat(dialog))
    keyboard = None
    if moving:
        keyboard = InlineKeyboardMarkup(inline_keyboard=[[
            button(_("Same place as before"), MeetingAction.same_place, dialog)]])
    return text, keyboard


def summary_card(dialog: Dialog, starts: datetime, place: str, moving: bool) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join([
        _("<b>Check the meeting</b> – the dialog about {child}").format(child=child_in_chat(dialog)),
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
        [button(_("✅ Move the meeting and tell everyone") if moving else _("✅ Send the invitation"),
                MeetingAction.send, dialog)],
        [button(_("Change the time"), MeetingAction.edit_when, dialog)],
        [button(_("Change the place"), MeetingAction.edit_place, dialog)],
        [button(_("Cancel"), MeetingAction.abort, dialog)],
    ])


def cancel_question(dialog: Dialog, meeting: Meeting) -> tuple[str, InlineKeyboardMarkup]:
    return _("Cancel the meeting {when}? Everyone who takes part gets a message.").format(
        when=when_text(meeting.starts_at)), InlineKeyboardMarkup(inline_keyboard=[[
            button(_("Yes, cancel the meeting"), MeetingAction.cancel_yes, dialog, meeting),
            button(_("No, keep the meeting"), MeetingAction.keep, dialog, meeting),
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
            child=child_in_chat(dialog), round=round_no),
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
        [button(_("🎯 Set the joint target"), MeetingAction.target_menu, dialog, meeting)],
        [plan_button(dialog)],
        [button(_("⏹ Close the meeting"), MeetingAction.close, dialog, meeting)],
    ])


def target_question(dialog: Dialog, meeting: Meeting, ruler: Ruler) -> tuple[str, InlineKeyboardMarkup]:
    loc = _locale()
    text = _("<b>Joint target</b> – {ruler}\n\nWhere on the ruler do you want to see {child}'s situation "
             "when you meet next time?\n\n{legend}").format(
        ruler=html.quote(ruler.name(loc)), child=child_in_chat(dialog), legend=legend(ruler))

    def b(v: int) -> InlineKeyboardButton:
        return button(str(v), MeetingAction.target, dialog, meeting, value=v)

    return text, one_to_ten(b)


def target_set_card(dialog: Dialog, meeting: Meeting, ruler: Ruler, value: int
                    ) -> tuple[str, InlineKeyboardMarkup]:
    field = ruler.field_for(value)
    return _(
        "🎯 Joint target set: <b>{value}</b> {emoji} {field}\n{bar}\n\n"
        "Everyone can see it under /vurdering. Next on the agenda: Goals & Plan.").format(
            value=value, emoji=field.emoji, field=html.quote(field.name(_locale())),
            bar=ruler.bar(value)), InlineKeyboardMarkup(inline_keyboard=[
                [plan_button(dialog)],
                [button(_("⏹ Close the meeting"), MeetingAction.close, dialog, meeting)],
            ])


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


