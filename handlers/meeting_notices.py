"""Dialogmøde's notices, composed when they are sent (core/notices.py): the invitation, a moved
or cancelled meeting, an answer to the invitation (to the coordinator), the reminders before the
meeting, and the thanks after it.

The renderers register when this module is imported; handlers/meetings.py imports it, so they are
there whenever the router is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from core import texts
from core.labels import child_in_chat
from core.notices import RenderContext, Rendered, renderer
from handlers.choose import PickDialogCb
from handlers.meeting_views import counts_line, plan_button, rsvp_keyboard, when_text, who_is_coming
from rules.access import ACTIVE
from storage import meetings as mt
from storage.models import Dialog, Meeting, Participant, Person

MeetingRenderer = Callable[[RenderContext, dict, Meeting, Dialog], Awaitable[Rendered | None]]


def _about_meeting(kind: str, status: str, *, same_version: bool = False,
                   active: bool = True) -> Callable[[MeetingRenderer], MeetingRenderer]:
    """Register the renderer of `kind`, a notice about the meeting in its payload: it is sent only
    while the meeting is in `status` (`same_version`: still at the version the notice was written
    for) and (`active`) its dialog is active. The renderer is called with the meeting and its dialog."""

    def register(fn: MeetingRenderer) -> MeetingRenderer:
        @renderer(kind)
        async def render(ctx: RenderContext, payload: dict) -> Rendered | None:
            meeting = await ctx.session.get(Meeting, payload["meeting_id"])
            if meeting is None or meeting.status != status \
                    or (same_version and meeting.version != payload.get("version")):
                return None
            dialog = await ctx.session.get(Dialog, meeting.dialog_id)
            if active and (dialog is None or dialog.state != ACTIVE):
                return None
            return await fn(ctx, payload, meeting, dialog)

        return fn

    return register


def _scheduled(kind: str) -> Callable[[MeetingRenderer], MeetingRenderer]:
    """A notice about a meeting still scheduled as it was when the notice was written."""
    return _about_meeting(kind, mt.SCHEDULED, same_version=True)


async def _coordinator_name(ctx: RenderContext, dialog: Dialog) -> str:
    coordinator = await ctx.session.get(Person, dialog.coordinator_id)
    return html.quote(coordinator.name or "") if coordinator else ""


@_scheduled("meeting_notice")
async def _meeting_notice(ctx: RenderContext, payload: dict, meeting: Meeting, dialog: Dialog) -> Rendered | None:
    return Rendered(_(
        "📅 <b>Invitation to a dialog meeting</b> – the dialog about {child}\n\n"
        "🗓 {when}\n📍 {place}\n\n"
        "{coordinator} leads the meeting. We go through your input and scores, set a joint target "
        "on the ruler and make a plan together (Goals & Plan).\n\nAre you coming?").format(
            child=child_in_chat(dialog), when=when_text(meeting.starts_at), place=html.quote(meeting.place),
            coordinator=await _coordinator_name(ctx, dialog)), rsvp_keyboard(meeting))


@_scheduled("meeting_moved")
async def _meeting_moved(ctx: RenderContext, payload: dict, meeting: Meeting, dialog: Dialog) -> Rendered | None:
    return Rendered(_(
        "🕑 <b>The dialog meeting has been moved</b> – the dialog about {child}\n\n"
        "New time: {when}\n📍 {place}\n\nAre you coming at the new time?").format(
            child=child_in_chat(dialog), when=when_text(meeting.starts_at), place=html.quote(meeting.place)),
        rsvp_keyboard(meeting))


@_about_meeting("meeting_cancelled", mt.CANCELLED, active=False)
async def _meeting_cancelled(ctx: RenderContext, payload: dict, meeting: Meeting, dialog: Dialog) -> Rendered | None:
    return Rendered(_(
        "✖️ <b>The dialog meeting {when} is cancelled</b> – the dialog about {child}.\n\n"
        "The coordinator will let you know about a new time.").format(
            when=when_text(meeting.starts_at), child=child_in_chat(dialog)))


@_scheduled("meeting_rsvp")
async def _meeting_rsvp(ctx: RenderContext, payload: dict, meeting: Meeting, dialog: Dialog) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None:
        return None
    response = await mt.response_of(ctx.session, meeting.id, p.id)
    if response is None or response.coming != payload["coming"]:
        return None  # changed again since: a later notice tells the latest answer
    _lines, counts = await who_is_coming(ctx.session, dialog, meeting)
    text = _("{who} is coming to the dialog meeting {when} (the dialog about {child}).") if response.coming \
        else _("{who} can't come to the dialog meeting {when} (the dialog about {child}).")
    return Rendered(text.format(who=texts.who(p), when=when_text(meeting.starts_at), child=child_in_chat(dialog))
                    + "\n\n" + counts_line(counts))


@_scheduled("meeting_input_reminder")
async def _input_reminder(ctx: RenderContext, payload: dict, meeting: Meeting, dialog: Dialog) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.joined_at is None or dialog.round_no != meeting.round_no:
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
            child=child_in_chat(dialog), when=when_text(meeting.starts_at), missing=missing),
        InlineKeyboardMarkup(inline_keyboard=rows))


@_scheduled("meeting_day_before")
async def _day_before(ctx: RenderContext, payload: dict, meeting: Meeting, dialog: Dialog) -> Rendered | None:
    response = await mt.response_of(ctx.session, meeting.id, payload["participant_id"])
    if response is None or not response.coming:
        return None
    return Rendered(_(
        "📅 <b>Reminder: dialog meeting tomorrow</b> – the dialog about {child}\n\n"
        "🗓 {when}\n📍 {place}\n\nSee you there.").format(
            child=child_in_chat(dialog), when=when_text(meeting.starts_at), place=html.quote(meeting.place)))


@_about_meeting("meeting_closed", mt.CLOSED)
async def _meeting_closed(ctx: RenderContext, payload: dict, meeting: Meeting, dialog: Dialog) -> Rendered | None:
    # What comes next is on the buttons: the plan now, new input and a new number before the next meeting.
    return Rendered(_(
        "The dialog meeting about {child} is over. Thank you for today.\n\n"
        "You can see the plan here. Before the next meeting, you write new input "
        "and put your number on the ruler again.").format(child=child_in_chat(dialog)),
        InlineKeyboardMarkup(inline_keyboard=[[plan_button(dialog)]]))
