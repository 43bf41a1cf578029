"""Closing a dialog meeting, as the coordinator sees it: who was there, the summary, the next
meeting, the case number, the check of the minutes before they go out, and what closing did.
handlers/meeting_close.py shows them; the buttons' callback data is handlers/meeting_views.py's.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from core import texts
from core.labels import child_in_chat
from handlers.meeting_views import MeetingAction, button, called_text, when_text
from services.meetings import CASE_REF_LIMIT, Closed, attendees
from storage import meetings as mt
from storage.models import Dialog, Meeting


def attendance_label(status: str) -> str:
    return {mt.PRESENT: _("✅ present"), mt.APOLOGIES: _("🙋 sent apologies")}.get(status, _("➖ absent"))


def attendance_card(dialog: Dialog, meeting: Meeting, marks: dict[int, str]) -> tuple[str, InlineKeyboardMarkup]:
    """Step 1 of closing: who was there (one button per person; a tap moves them on)."""
    text = _("<b>Close the meeting</b> – the dialog about {child} (step 1 of 3)\n\n"
             "Who was there? It is filled in from the answers to the invitation. Tap a name to change it: "
             "present → sent apologies → absent.").format(child=child_in_chat(dialog))
    rows = [[button(f"{p.name} ({p.relation or texts.role_label(p.role)}): {attendance_label(marks[p.id])}",
                    MeetingAction.attend, dialog, meeting, value=p.id)]
            for p in attendees(dialog) if p.id in marks]
    if not rows:
        text += "\n\n" + _("Nobody has joined the dialog yet.")
    rows += [[button(_("Next ➡️"), MeetingAction.attended, dialog, meeting)],
             [button(_("Not yet"), MeetingAction.show, dialog, meeting)]]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def summary_question(dialog: Dialog, meeting: Meeting) -> tuple[str, InlineKeyboardMarkup]:
    """Step 2: what was discussed and decided (optional)."""
    text = _("<b>Close the meeting</b> – the dialog about {child} (step 2 of 3)\n\n"
             "What did you talk about, and what did you decide? Write a short summary for the minutes. "
             "Everyone in the dialog gets it. Do not write CPR numbers.").format(child=child_in_chat(dialog))
    if meeting.summary:
        text += "\n\n" + _("Written so far:") + f"\n<i>{html.quote(meeting.summary)}</i>\n\n" + _(
            "Write a new summary to replace it, or go on.")
        skip = _("Keep it ➡️")
    else:
        skip = _("No summary ➡️")
    return text, InlineKeyboardMarkup(inline_keyboard=[[button(skip, MeetingAction.no_summary, dialog, meeting)]])


def next_question(dialog: Dialog, meeting: Meeting) -> tuple[str, InlineKeyboardMarkup]:
    """Step 3: the next meeting, now or later."""
    return _("<b>Close the meeting</b> – the dialog about {child} (step 3 of 3)\n\n"
             "When do you meet next? If you have agreed a time, write it in the minutes now: everyone is "
             "invited when you close the meeting.").format(child=child_in_chat(dialog)), InlineKeyboardMarkup(
        inline_keyboard=[[button(_("📅 Plan the next meeting"), MeetingAction.plan_next, dialog, meeting)],
                         [button(_("Not yet ➡️"), MeetingAction.no_next, dialog, meeting)]])


def next_when_question(dialog: Dialog) -> str:
    return _("<b>Next dialog meeting</b> – the dialog about {child}\n\nWhen is the next meeting?\n"
             "Write the date and time, e.g. \"12/3 14:00\", \"12.03.2027 kl. 14\" or \"i morgen kl. 9\".").format(
        child=child_in_chat(dialog))


def next_place_question(dialog: Dialog, meeting: Meeting) -> tuple[str, InlineKeyboardMarkup]:
    return _("<b>Next dialog meeting</b> – the dialog about {child}\n\n"
             "Where is it? Write the place or paste the video link.").format(child=child_in_chat(dialog)), \
        InlineKeyboardMarkup(inline_keyboard=[[button(_("Same place as this time"), MeetingAction.next_same_place,
                                                      dialog, meeting)]])


def case_ref_question(dialog: Dialog) -> str:
    current = _("Now: {ref}").format(ref=html.quote(dialog.case_ref)) if dialog.case_ref else _("Now: none")
    # staff: the coordinator sets the municipality's case number when closing the meeting
    return _("<b>Case number</b> – the dialog about {child}\n\n"
             "Write the municipality's case number (sagsnummer) for this dialog, e.g. \"27.15.08-A26-1234-26\". "
             "It is shown on the minutes. Never a CPR number. Write \"-\" to remove it.").format(
        child=child_in_chat(dialog)) + "\n" + current


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
        _("<b>Check the minutes</b> – the dialog about {child}").format(child=child_in_chat(dialog)),
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
        [button(_("✅ Close the meeting and send the minutes"), MeetingAction.close_yes, dialog, meeting)],
        [button(_("👥 Who was there"), MeetingAction.close, dialog, meeting),
         button(_("🗂 Case number"), MeetingAction.case_ref, dialog, meeting)],
        [button(_("Not yet"), MeetingAction.show, dialog, meeting)],
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
