"""Dialogmøde (`/moede`): scheduling, answers, reminders, running and closing the meeting.

The coordinator schedules a meeting (time typed the Danish way, then place or
video link, then a summary to confirm); every joined participant gets a notice
with *Jeg kommer* / *Jeg kan ikke*. Each answer reaches the coordinator as a
notice with the running count, and `/moede` shows who is coming. Before the
meeting, those who have not shared input or scaled are reminded; those coming
are reminded the day before. On the day the coordinator starts the meeting
(agenda, who has given what), sets the joint target on the ruler and closes it,
which ends the round and starts the next.

Outbox keys of one meeting all start with ``meet:{meeting_id}:`` and carry the
meeting's version (``meet:{id}:v{version}:...``), so moving a meeting cancels
what was written for the old time with one prefix.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import fmt_date, fmt_datetime
from bot.notices import Notices, RenderContext, Rendered, renderer
from handlers import texts
from handlers.answers import NOT_COMMAND, read_answer
from handlers.choose import Id, PickDialogCb, pick_dialog, seat_for, seat_for_tap
from reports.referat import queue_referat
from rules.access import ACTIVE, Action, decide
from rules.dates import DateParseError, at_local, parse_meeting_time
from rules.dialog_config import DialogConfig
from rules.roles import COORDINATOR
from storage import inputs, outbox
from storage import meetings as mt
from storage import queries as q
from storage.models import Dialog, Meeting, Participant, Person

router = Router(name="meetings")

PLACE_LIMIT = 300
WHEN_LIMIT = 100


class MeetingFlow(StatesGroup):
    # data: dialog_id, meeting_id (0: a new meeting), version (when moving), starts_at, place, editing
    when = State()
    place = State()
    confirm = State()


class MeetingCb(CallbackData, prefix="mt"):
    # send | edit_when | edit_place | same_place | abort | move | cancel | cancel_yes | keep
    # | start | target_menu | target | close | close_yes | show
    action: str
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
    return html.quote(dialog.child_name)


def invitees(dialog: Dialog) -> list[Participant]:
    """Who is called to the meeting: every joined participant but the coordinator, who leads it."""
    return [p for p in dialog.participants
            if p.joined_at is not None and p.person_id is not None and p.role != COORDINATOR]


def _is_coordinator_seat(p: Participant) -> bool:
    return bool(decide(q.seat(p), p.dialog.state, Action.MANAGE))


def _local_date(dt: datetime, settings: Settings):  # type: ignore[no-untyped-def]
    return dt.astimezone(settings.tz).date()


# ---- /moede ----------------------------------------------------------------------------------


@router.message(Command("moede"))
async def meeting_command(message: Message, session: AsyncSession, person: Person | None,
                          state: FSMContext, clock: Clock, settings: Settings,
                          dialog_config: DialogConfig) -> None:
    participant = await pick_dialog(message, session, person, "moede", Action.READ_SHARED)
    if participant is not None:
        await state.clear()
        await show_meeting(message, session, participant, state, clock, settings, dialog_config)


@router.callback_query(PickDialogCb.filter(F.flow == "moede"))
async def meeting_picked(query: CallbackQuery, callback_data: PickDialogCb, session: AsyncSession,
                         person: Person | None, state: FSMContext, clock: Clock, settings: Settings,
                         dialog_config: DialogConfig) -> None:
    participant = await seat_for_tap(query, session, person, callback_data.dialog_id, Action.READ_SHARED)
    if participant is None:
        return
    await query.answer()
    await state.clear()
    await show_meeting(query.message, session, participant, state, clock, settings, dialog_config)


async def show_meeting(message: Message, session: AsyncSession, p: Participant, state: FSMContext,
                       clock: Clock, settings: Settings, config: DialogConfig) -> None:
    dialog = p.dialog
    meeting = await mt.live_meeting(session, dialog.id)
    if not _is_coordinator_seat(p):
        await message.answer(await _participant_view(session, p, meeting),
                             reply_markup=_rsvp_keyboard(meeting) if meeting and meeting.status == mt.SCHEDULED
                             else None, protect_content=True)
        return
    if meeting is None:
        await _ask_when(message, state, dialog, None)
        return
    if meeting.status == mt.OPEN:
        text, keyboard = await agenda_card(session, dialog, meeting, config)
        await message.answer(text, reply_markup=keyboard, protect_content=True)
        return
    text, keyboard = await _coordinator_card(session, dialog, meeting, clock, settings)
    await message.answer(text, reply_markup=keyboard, protect_content=True)


async def _participant_view(session: AsyncSession, p: Participant, meeting: Meeting | None) -> str:
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


def _rsvp_keyboard(meeting: Meeting) -> InlineKeyboardMarkup:
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


async def _coordinator_card(session: AsyncSession, dialog: Dialog, meeting: Meeting, clock: Clock,
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

    def b(label: str, action: str) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(text=label, callback_data=MeetingCb(
            action=action, dialog_id=dialog.id, meeting_id=meeting.id).pack())]

    rows = []
    if _local_date(clock.now(), settings) >= _local_date(meeting.starts_at, settings):
        rows.append(b(_("▶️ Start the meeting"), "start"))
    rows += [b(_("🕑 Move the meeting"), "move"), b(_("✖️ Cancel the meeting"), "cancel")]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


# ---- scheduling and moving: time, place, confirm ----------------------------------------------


async def _ask_when(message: Message, state: FSMContext, dialog: Dialog, meeting: Meeting | None,
                    editing: bool = False) -> None:
    if not editing:
        await state.clear()
        await state.update_data(dialog_id=dialog.id, meeting_id=meeting.id if meeting else 0,
                                version=meeting.version if meeting else 0,
                                place=meeting.place if meeting else None)
    await state.set_state(MeetingFlow.when)
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
    await message.answer(f"{head}\n{examples}\n\n" + _("Type /annuller to stop."))


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


async def _flow_seat(session: AsyncSession, person: Person | None, state: FSMContext
                     ) -> tuple[Participant | None, str | None]:
    """The coordinator's seat for the dialog the conversation is about, or a refusal text."""
    data = await state.get_data()
    p, decision = await seat_for(session, person, int(data.get("dialog_id", 0)), Action.MANAGE)
    if not decision:
        return None, texts.refusal(decision.refusal, p.dialog if p else None)
    return p, None


@router.message(MeetingFlow.when, NOT_COMMAND)
async def got_when(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                   clock: Clock, settings: Settings) -> None:
    p, refused = await _flow_seat(session, person, state)
    if refused:
        await state.clear()
        await message.answer(refused)
        return
    text = await read_answer(message, WHEN_LIMIT)
    if text is None:
        return
    try:
        starts = parse_meeting_time(text, now=clock.now(), tz=settings.tz)
    except DateParseError as exc:
        await message.answer(date_error(exc.code))
        return
    await state.update_data(starts_at=starts.isoformat())
    data = await state.get_data()
    if data.get("editing"):
        await _show_summary(message, state, p.dialog)
        return
    await _ask_place(message, state, p.dialog, moving=bool(data.get("meeting_id")))


async def _ask_place(message: Message, state: FSMContext, dialog: Dialog, moving: bool) -> None:
    await state.set_state(MeetingFlow.place)
    text = _("<b>Dialog meeting</b> – the dialog about {child} (step 2 of 2)\n\n"
             "Where is the meeting? Write the place or paste the video link.").format(child=_child(dialog))
    keyboard = None
    if moving:
        keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text=_("Same place as before"), callback_data=MeetingCb(action="same_place", dialog_id=dialog.id).pack())]])
    await message.answer(text, reply_markup=keyboard)


@router.message(MeetingFlow.place, NOT_COMMAND)
async def got_place(message: Message, session: AsyncSession, person: Person | None,
                    state: FSMContext) -> None:
    p, refused = await _flow_seat(session, person, state)
    if refused:
        await state.clear()
        await message.answer(refused)
        return
    place = await read_answer(message, PLACE_LIMIT)
    if place is None:
        return
    await state.update_data(place=place)
    await _show_summary(message, state, p.dialog)


async def _show_summary(message: Message, state: FSMContext, dialog: Dialog) -> None:
    await state.set_state(MeetingFlow.confirm)
    await state.update_data(editing=False)
    data = await state.get_data()
    moving = bool(data.get("meeting_id"))
    starts = datetime.fromisoformat(data["starts_at"])
    text = "\n".join([
        _("<b>Check the meeting</b> – the dialog about {child}").format(child=_child(dialog)),
        "",
        f"🗓 {when_text(starts)}",
        f"📍 {html.quote(data['place'])}",
        "",
        _("Everyone who takes part gets a message about the new time and can answer "
          "I'm coming / I can't come.") if moving else
        _("When you send the invitation, everyone who takes part gets a message and can answer "
          "I'm coming / I can't come."),
    ])

    def b(label: str, action: str) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(text=label, callback_data=MeetingCb(action=action, dialog_id=dialog.id).pack())]

    await message.answer(text, reply_markup=InlineKeyboardMarkup(inline_keyboard=[
        b(_("✅ Move the meeting and tell everyone") if moving else _("✅ Send the invitation"), "send"),
        b(_("Change the time"), "edit_when"),
        b(_("Change the place"), "edit_place"),
        b(_("Cancel"), "abort"),
    ]), protect_content=True)


@router.message(MeetingFlow.confirm, NOT_COMMAND)
async def confirm_typed(message: Message) -> None:
    await message.answer(_("Please choose with one of the buttons above."))


# ---- the coordinator's buttons ----------------------------------------------------------------


FLOW_ACTIONS = ("send", "edit_when", "edit_place", "same_place", "abort")


@router.callback_query(MeetingCb.filter())
async def meeting_button(query: CallbackQuery, callback_data: MeetingCb, session: AsyncSession,
                         person: Person | None, state: FSMContext, clock: Clock, settings: Settings,
                         notices: Notices, dialog_config: DialogConfig) -> None:
    p = await seat_for_tap(query, session, person, callback_data.dialog_id, Action.MANAGE)
    if p is None:
        return
    dialog, action, msg = p.dialog, callback_data.action, query.message

    if action in FLOW_ACTIONS:
        data = await state.get_data()
        current = await state.get_state()
        expected = MeetingFlow.place.state if action == "same_place" else MeetingFlow.confirm.state
        if current != expected or int(data.get("dialog_id", 0)) != dialog.id:
            await query.answer(texts.stale_button(), show_alert=True)
            return
        await query.answer()
        await msg.edit_reply_markup(reply_markup=None)
        if action == "abort":
            await state.clear()
            await msg.answer(_("Stopped. Nothing was changed."))
        elif action == "edit_when":
            await state.update_data(editing=True)
            await _ask_when(msg, state, dialog, None, editing=True)
        elif action == "edit_place":
            await state.update_data(editing=True)
            await _ask_place(msg, state, dialog, moving=False)
        elif action == "same_place":
            await _show_summary(msg, state, dialog)
        else:
            await _send(msg, session, state, dialog, clock, settings, notices)
        return

    meeting = await session.get(Meeting, callback_data.meeting_id) if callback_data.meeting_id else None
    if meeting is None or meeting.dialog_id != dialog.id:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    now = clock.now()

    if action in ("move", "cancel", "cancel_yes", "start"):
        if meeting.status != mt.SCHEDULED:
            await query.answer(_stale_meeting(meeting), show_alert=True)
            return
        if action == "move":
            await query.answer()
            await _ask_when(msg, state, dialog, meeting)
        elif action == "cancel":
            await query.answer()
            await msg.answer(_("Cancel the meeting {when}? Everyone who takes part gets a message.").format(
                when=when_text(meeting.starts_at)), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
                    InlineKeyboardButton(text=_("Yes, cancel the meeting"), callback_data=MeetingCb(
                        action="cancel_yes", dialog_id=dialog.id, meeting_id=meeting.id).pack()),
                    InlineKeyboardButton(text=_("No, keep the meeting"), callback_data=MeetingCb(
                        action="keep", dialog_id=dialog.id, meeting_id=meeting.id).pack()),
                ]]))
        elif action == "cancel_yes":
            await query.answer()
            await msg.edit_reply_markup(reply_markup=None)
            await outbox.cancel(session, dialog_id=dialog.id, key_prefix=f"meet:{meeting.id}:")
            mt.cancel_meeting(meeting)
            for other in invitees(dialog):
                await notices.add(session, to=other, kind="meeting_cancelled",
                                  key=f"meet:{meeting.id}:cancelled:{other.id}", payload={"meeting_id": meeting.id})
            await msg.answer(_("The meeting is cancelled, and everyone has been told. "
                               "Type /moede to schedule a new one."))
        else:  # start
            if _local_date(now, settings) < _local_date(meeting.starts_at, settings):
                await query.answer(_("The meeting can be started on the day itself ({date}).").format(
                    date=fmt_date(meeting.starts_at)), show_alert=True)
                return
            await query.answer()
            await msg.edit_reply_markup(reply_markup=None)
            mt.open_meeting(meeting, now)
            await outbox.cancel(session, dialog_id=dialog.id, key_prefix=f"meet:{meeting.id}:v{meeting.version}:")
            text, keyboard = await agenda_card(session, dialog, meeting, dialog_config)
            await msg.answer(text, reply_markup=keyboard, protect_content=True)
        return

    if action == "keep":
        await query.answer()
        await msg.edit_text(_("The meeting stays as planned."))
        return
    if action == "show":
        await query.answer()
        await show_meeting(msg, session, p, state, clock, settings, dialog_config)
        return

    # The rest happen during the meeting.
    if meeting.status != mt.OPEN:
        await query.answer(_stale_meeting(meeting), show_alert=True)
        return
    ruler = dialog_config.ruler(dialog.age_group)
    if action == "target_menu":
        await query.answer()
        await msg.answer(_target_question(dialog, ruler), reply_markup=_target_keyboard(dialog, meeting))
    elif action == "target":
        if not 1 <= callback_data.value <= 10:
            await query.answer(texts.stale_button(), show_alert=True)
            return
        await query.answer()
        row = await mt.round_row(session, dialog.id, meeting.round_no, now)
        row.joint_target, row.target_set_at = callback_data.value, now
        field = ruler.field_for(callback_data.value)
        await msg.edit_text(_(
            "🎯 Joint target set: <b>{value}</b> {emoji} {field}\n{bar}\n\n"
            "Everyone can see it under /vurdering. Next on the agenda: Goals & Plan.").format(
                value=callback_data.value, emoji=field.emoji, field=html.quote(field.name(_locale())),
                bar=ruler.bar(callback_data.value)), reply_markup=InlineKeyboardMarkup(inline_keyboard=[
                    [InlineKeyboardButton(text=_("📋 Goals & Plan"), callback_data=PickDialogCb(
                        flow="plan", dialog_id=dialog.id).pack())],
                    [InlineKeyboardButton(text=_("⏹ Close the meeting"), callback_data=MeetingCb(
                        action="close", dialog_id=dialog.id, meeting_id=meeting.id).pack())],
                ]))
    elif action == "close":
        await query.answer()
        await msg.answer(_(
            "Close the meeting? Round {round} ends and round {next} begins: new input and new "
            "scores belong to round {next}, and round {round} is kept as history.").format(
                round=meeting.round_no, next=meeting.round_no + 1),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
                InlineKeyboardButton(text=_("Yes, close the meeting"), callback_data=MeetingCb(
                    action="close_yes", dialog_id=dialog.id, meeting_id=meeting.id).pack()),
                InlineKeyboardButton(text=_("Not yet"), callback_data=MeetingCb(
                    action="show", dialog_id=dialog.id, meeting_id=meeting.id).pack()),
            ]]))
    elif action == "close_yes":
        await query.answer()
        await msg.edit_reply_markup(reply_markup=None)
        new_round = await mt.close_meeting(session, meeting, dialog, now)
        await on_meeting_closed(session, notices, meeting)
        # The report is the minutes: read and rendered now, in this transaction; the outbox
        # sends it to everyone after the commit.
        await queue_referat(session, notices, meeting, config=dialog_config, settings=settings, now=now)
        await msg.answer(_(
            "The meeting is closed. Round {next} has begun: before the next meeting everyone gives new "
            "input and scales again. Remember to send the plan for approval under /plan.").format(
                next=new_round.round_no))
    else:
        await query.answer(texts.stale_button(), show_alert=True)


def _stale_meeting(meeting: Meeting) -> str:
    if meeting.status == mt.CANCELLED:
        return _("That meeting has been cancelled. Type /moede to see where things stand.")
    if meeting.status == mt.CLOSED:
        return _("That meeting has been closed. Type /moede to see where things stand.")
    if meeting.status == mt.OPEN:
        return _("The meeting is already under way. Type /moede to see the agenda.")
    return _("The meeting has not started yet. Type /moede to see it.")


async def _send(msg: Message, session: AsyncSession, state: FSMContext, dialog: Dialog, clock: Clock,
                settings: Settings, notices: Notices) -> None:
    """The confirmed summary: a new meeting, or the moved one, and everyone is told."""
    data = await state.get_data()
    now = clock.now()
    starts = datetime.fromisoformat(data["starts_at"])
    if starts <= now:
        await state.update_data(editing=True)
        await msg.answer(date_error("in_the_past"))
        await _ask_when(msg, state, dialog, None, editing=True)
        return
    meeting_id = int(data.get("meeting_id") or 0)
    if meeting_id:
        meeting = await session.get(Meeting, meeting_id)
        if meeting is None or meeting.dialog_id != dialog.id or meeting.status != mt.SCHEDULED \
                or meeting.version != int(data.get("version", 0)):
            await state.clear()
            await msg.answer(_("The meeting has changed in the meantime. Type /moede to see it as it is now."))
            return
        await outbox.cancel(session, dialog_id=dialog.id, key_prefix=f"meet:{meeting.id}:v{meeting.version}:")
        await mt.move_meeting(session, meeting, starts, data["place"])
        kind = "meeting_moved"
    else:
        if await mt.live_meeting(session, dialog.id) is not None:
            await state.clear()
            await msg.answer(_("A meeting is already scheduled in this dialog. Type /moede to see it, "
                               "move it or cancel it."))
            return
        meeting = await mt.create_meeting(session, dialog, starts, data["place"], now)
        kind = "meeting_notice"
    await state.clear()
    called = invitees(dialog)
    for other in called:
        await notices.add(session, to=other, kind=kind, key=f"meet:{meeting.id}:v{meeting.version}:notice:{other.id}",
                          payload={"meeting_id": meeting.id, "version": meeting.version})
    await write_input_reminders(session, notices, settings, dialog, meeting, now)
    if kind == "meeting_moved":
        reply = _("The meeting is moved to {when}. Everyone has been told and asked again whether they are coming.")
    else:
        reply = ngettext("The invitation is sent to {count} participant. You get a message when they answer, "
                         "and /moede shows who is coming.",
                         "The invitation is sent to {count} participants. You get a message when someone "
                         "answers, and /moede shows who is coming.", len(called))
    await msg.answer(reply.format(when=when_text(meeting.starts_at), count=len(called)))


def _reminder_time(meeting: Meeting, days: int, settings: Settings) -> datetime:
    day = _local_date(meeting.starts_at, settings) - timedelta(days=days)
    return at_local(day, time(settings.reminder_hour), settings.tz)


async def write_input_reminders(session: AsyncSession, notices: Notices, settings: Settings, dialog: Dialog,
                                meeting: Meeting, now: datetime) -> None:
    """'Husk at give dit input og din skalering' rows; whether to send is decided when they are due."""
    for days in sorted(set(settings.meeting_reminder_days), reverse=True):
        due = _reminder_time(meeting, days, settings)
        if due <= now or due >= meeting.starts_at:
            continue
        for p in invitees(dialog):
            await notices.add(session, to=p, kind="meeting_input_reminder",
                              key=f"meet:{meeting.id}:v{meeting.version}:remind{days}:{p.id}",
                              payload={"meeting_id": meeting.id, "version": meeting.version,
                                       "participant_id": p.id}, due_at=due)


async def call_newcomer(session: AsyncSession, notices: Notices, settings: Settings, dialog: Dialog,
                        newcomer: Participant, now: datetime) -> None:
    """Someone joins after the meeting was called: they get the invitation (Jeg kommer /
    Jeg kan ikke) and the same input reminders as everyone else."""
    meeting = await mt.live_meeting(session, dialog.id)
    if meeting is None or meeting.status != mt.SCHEDULED or meeting.starts_at <= now \
            or newcomer.joined_at is None or newcomer.role == COORDINATOR:
        return
    await notices.add(session, to=newcomer, kind="meeting_notice",
                      key=f"meet:{meeting.id}:v{meeting.version}:notice:{newcomer.id}",
                      payload={"meeting_id": meeting.id, "version": meeting.version})
    await write_input_reminders(session, notices, settings, dialog, meeting, now)  # the others' exist: kept


# ---- during the meeting ---------------------------------------------------------------------


async def agenda_card(session: AsyncSession, dialog: Dialog, meeting: Meeting, config: DialogConfig
                      ) -> tuple[str, InlineKeyboardMarkup]:
    """The handbook's agenda, and who has shared input and scaled this round."""
    round_no = meeting.round_no
    authors = await mt.shared_input_authors(session, dialog.id, round_no)
    latest = await inputs.latest_scores(session, dialog, round_no)
    ruler = config.ruler(dialog.age_group)
    status = []
    for p in invitees(dialog):
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

    def b(label: str, **kw: object) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(text=label, callback_data=MeetingCb(
            dialog_id=dialog.id, meeting_id=meeting.id, **kw).pack())]

    return text, InlineKeyboardMarkup(inline_keyboard=[
        b(_("🎯 Set the joint target"), action="target_menu"),
        [InlineKeyboardButton(text=_("📋 Goals & Plan"), callback_data=PickDialogCb(
            flow="plan", dialog_id=dialog.id).pack())],
        b(_("⏹ Close the meeting"), action="close"),
    ])


def _target_question(dialog: Dialog, ruler) -> str:  # type: ignore[no-untyped-def]
    loc = _locale()
    legend = "\n".join(f"{f.emoji} {f.low}-{f.high} {html.quote(f.name(loc))}" for f in ruler.fields)
    return _("<b>Joint target</b> – {ruler}\n\nWhere on the ruler do you want to see {child}'s situation "
             "when you meet next time?\n\n{legend}").format(
        ruler=html.quote(ruler.name(loc)), child=_child(dialog), legend=legend)


def _target_keyboard(dialog: Dialog, meeting: Meeting) -> InlineKeyboardMarkup:
    def b(v: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=str(v), callback_data=MeetingCb(
            action="target", dialog_id=dialog.id, meeting_id=meeting.id, value=v).pack())

    return InlineKeyboardMarkup(inline_keyboard=[[b(v) for v in range(1, 6)], [b(v) for v in range(6, 11)]])


async def on_meeting_closed(session: AsyncSession, notices: Notices, meeting: Meeting) -> None:
    """Called once when the coordinator closes a meeting, in the same transaction.

    The round has ended (`meeting.round_no`) and the next one has begun. Issue #5
    extends this with the meeting report (referat) sent to the participants.
    """
    dialog = await session.get(Dialog, meeting.dialog_id)
    if dialog is None:
        return
    for p in invitees(dialog):
        await notices.add(session, to=p, kind="meeting_closed", key=f"meet:{meeting.id}:closed:{p.id}",
                          payload={"meeting_id": meeting.id})


# ---- Jeg kommer / Jeg kan ikke -------------------------------------------------------------------


@router.callback_query(RsvpCb.filter())
async def rsvp(query: CallbackQuery, callback_data: RsvpCb, session: AsyncSession, person: Person | None,
               clock: Clock, settings: Settings, notices: Notices) -> None:
    meeting = await session.get(Meeting, callback_data.meeting_id)
    if meeting is None:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    # The button names a meeting; the seat is the sender's own, found on the server.
    p = await seat_for_tap(query, session, person, meeting.dialog_id, Action.READ_SHARED)
    if p is None:
        return
    if p.role == COORDINATOR or callback_data.coming not in (0, 1):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    if meeting.status != mt.SCHEDULED or meeting.version != callback_data.version:
        text = _("The meeting has been moved. Please answer the newest message, or type /moede.") \
            if meeting.status == mt.SCHEDULED else _stale_meeting(meeting)
        await query.answer(text, show_alert=True)
        return
    coming = bool(callback_data.coming)
    now = clock.now()
    if not await mt.answer(session, meeting, p, coming, now):
        await query.answer(_("Your answer is already recorded."))
        return
    await query.answer()
    reply = _("Thank you – you have answered: I'm coming.") if coming else \
        _("Thank you – you have answered: I can't come. The coordinator will be told.")
    await query.message.answer(reply + "\n" + _("You can change your answer with /moede."))
    dialog = p.dialog
    coordinator = await session.get(Person, dialog.coordinator_id)
    stamp = now.strftime("%Y%m%d%H%M%S%f")
    await notices.add(session, to=coordinator, kind="meeting_rsvp", dialog_id=dialog.id,
                      key=f"meet:{meeting.id}:v{meeting.version}:rsvp:{p.id}:{int(coming)}:{stamp}",
                      payload={"meeting_id": meeting.id, "version": meeting.version, "participant_id": p.id,
                               "coming": coming})
    if coming:
        due = _reminder_time(meeting, 1, settings)
        if now < due < meeting.starts_at:
            await notices.add(session, to=p, kind="meeting_day_before",
                              key=f"meet:{meeting.id}:v{meeting.version}:daybefore:{p.id}",
                              payload={"meeting_id": meeting.id, "version": meeting.version,
                                       "participant_id": p.id}, due_at=due)


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
            coordinator=await _coordinator_name(ctx, dialog)), _rsvp_keyboard(meeting))


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
        _rsvp_keyboard(meeting))


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
    return Rendered(_(
        "The dialog meeting about {child} is over – thank you for today.\n\n"
        "You can see the plan with /plan. Before the next meeting you give new input and scale again: "
        "that is round {round}.").format(child=_child(dialog), round=meeting.round_no + 1))
