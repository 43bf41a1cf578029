"""Skalering (`/skala`) on the age group's ruler, and Fælles vurdering (`/vurdering`)."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.i18n import fmt_datetime
from core.labels import author, child_in_chat
from core.notices import Notices, RenderContext, Rendered, renderer
from handlers.choose import Id, PickDialogCb, pick_dialog
from handlers.desk_views import open_button
from handlers.home_views import with_next_step
from handlers.ruler_views import legend, one_to_ten
from handlers.seats import alert, needs
from rules.access import Action
from rules.dialog_config import DialogConfig, Ruler
from services import ruler as ruler_service
from storage import audit, inputs
from storage.meetings import latest_target
from storage.models import Participant, Person, Score

router = Router(name="scaling")


class ScaleCb(CallbackData, prefix="sk"):
    action: str  # pick | confirm | again
    dialog_id: Id
    round_no: Id
    value: Id = 0


def _locale() -> str:
    return I18n.get_current().current_locale


def _ruler(p: Participant, config: DialogConfig) -> Ruler:
    return config.ruler(p.dialog.age_group)


# ---- /skala --------------------------------------------------------------------------------


@router.message(Command("skala"))
async def scale_command(message: Message, session: AsyncSession, person: Person | None,
                        dialog_config: DialogConfig) -> None:
    participant = await pick_dialog(message, session, person, "skala", Action.SCALE)
    if participant is not None:
        text, keyboard = _ruler_card(participant, dialog_config)
        await message.answer(text, reply_markup=keyboard)


@router.callback_query(PickDialogCb.filter(F.flow == "skala"), flags=needs(Action.SCALE))
async def scale_picked(query: CallbackQuery, callback_data: PickDialogCb, seat: Participant, session: AsyncSession,
                       person: Person | None, dialog_config: DialogConfig) -> None:
    participant = seat
    text, keyboard = _ruler_card(participant, dialog_config)
    await query.message.answer(text, reply_markup=keyboard)


def _ruler_card(p: Participant, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    ruler = _ruler(p, config)
    loc = _locale()
    text = _(
        "<b>{ruler}</b> – the dialog about {child}\n\n"
        "Where would you place {child}'s situation right now? The ruler starts at "
        "\"{first}\" and the concern rises towards 10.\n\n{legend}\n\n"
        "Tap a number to read what it means.").format(
            ruler=html.quote(ruler.name(loc)), child=child_in_chat(p.dialog),
            first=html.quote(ruler.fields[0].name(loc)), legend=legend(ruler))

    def b(v: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=str(v), callback_data=ScaleCb(
            action="pick", dialog_id=p.dialog_id, round_no=p.dialog.round_no, value=v).pack())

    return text, one_to_ten(b)


# Registered twice: a number picked (or "choose another") reads the tapper's seat alone, so the
# dialog's other participants are not loaded for it; saving tells others and needs them.
@router.callback_query(ScaleCb.filter(), flags=needs(Action.SCALE))
@router.callback_query(ScaleCb.filter(F.action.in_({"pick", "again"})), flags=needs(Action.SCALE, one_seat=True))
async def scale_button(query: CallbackQuery, callback_data: ScaleCb, seat: Participant, session: AsyncSession,
                       person: Person | None, clock: Clock, dialog_config: DialogConfig, notices: Notices, callback_answer: CallbackAnswer) -> None:
    participant = seat
    dialog = participant.dialog
    if callback_data.round_no != dialog.round_no:
        alert(callback_answer, _("That round has ended. Type /skala to place the situation for the new round."))
        return
    ruler = _ruler(participant, dialog_config)
    value = callback_data.value
    if callback_data.action == "again":
        text, keyboard = _ruler_card(participant, dialog_config)
        await query.message.edit_text(text, reply_markup=keyboard)
        return
    if not 1 <= value <= 10 or callback_data.action not in ("pick", "confirm"):
        alert(callback_answer, texts.stale_button())
        return
    field = ruler.field_for(value)
    loc = _locale()
    if callback_data.action == "pick":
        await query.message.edit_text(
            _("You chose <b>{value}</b>: {emoji} <b>{field}</b>\n{bar}\n\n{description}\n\nIs that your number?").format(
                value=value, emoji=field.emoji, field=html.quote(field.name(loc)), bar=ruler.bar(value),
                description=html.quote(field.description(loc))),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[
                [InlineKeyboardButton(text=_("✅ Yes, save {value}").format(value=value), callback_data=ScaleCb(
                    action="confirm", dialog_id=dialog.id, round_no=dialog.round_no, value=value).pack())],
                [InlineKeyboardButton(text=_("Choose another number"), callback_data=ScaleCb(
                    action="again", dialog_id=dialog.id, round_no=dialog.round_no).pack())],
            ]))
        return

    now = clock.now()
    # The same use case as the Mini App's ruler page; a number in the highest field alerts the coordinator.
    placed = await ruler_service.put_number(session, notices, participant, value, callback_data.round_no,
                                            dialog_config, now)
    if placed.outcome != ruler_service.Placed.SAVED:
        alert(callback_answer, texts.stale_button())
        return
    text, keyboard = await with_next_step(_(
        "Saved: <b>{value}</b> {emoji} {field}.\n\nThe others can see your number. "
        "You can change it until the meeting.").format(
            value=value, emoji=field.emoji, field=html.quote(field.name(loc))), session, participant, now)
    await query.message.edit_text(text, reply_markup=keyboard)


@renderer("high_score")
async def _high_score(ctx: RenderContext, payload: dict) -> Rendered | None:
    score = await ctx.session.get(Score, payload["score_id"])
    p = await ctx.session.get(Participant, score.participant_id) if score else None
    if score is None or p is None:
        return None
    ruler = ctx.config.ruler(p.dialog.age_group)
    # staff: the high-score alert goes to the coordinator only
    return Rendered(_(
        "⚠️ <b>High score in the dialog about {child}</b>\n\n"
        "{who} placed the situation at <b>{value}</b> ({field}) on {when}.\n\n"
        "Consider contacting them soon.").format(
            child=child_in_chat(p.dialog), who=texts.who(p), value=score.value,
            field=html.quote(ruler.field_for(score.value).name(_locale())), when=fmt_datetime(score.created_at)),
        InlineKeyboardMarkup(inline_keyboard=[[open_button(p.dialog_id)]]))  # the dialog's card, on the desk


# ---- /vurdering ----------------------------------------------------------------------------


async def _audit_assessment(session: AsyncSession, p: Participant, clock: Clock) -> None:
    """/vurdering is a read of the dialog: into the audit log, in the update's transaction."""
    await audit.record(session, actor_id=p.person_id, dialog_id=p.dialog_id, action=audit.ASSESSMENT_SHOWN,
                       now=clock.now(), role=p.role, round_no=p.dialog.round_no)


@router.message(Command("vurdering"))
async def assessment_command(message: Message, session: AsyncSession, person: Person | None,
                             dialog_config: DialogConfig, clock: Clock) -> None:
    participant = await pick_dialog(message, session, person, "vurdering", Action.READ_SHARED)
    if participant is not None:
        text = await render_assessment(session, participant, dialog_config)
        await _audit_assessment(session, participant, clock)
        await message.answer(text, protect_content=True)


@router.callback_query(PickDialogCb.filter(F.flow == "vurdering"), flags=needs(Action.READ_SHARED))
async def assessment_picked(query: CallbackQuery, callback_data: PickDialogCb, seat: Participant, session: AsyncSession,
                            person: Person | None, dialog_config: DialogConfig, clock: Clock) -> None:
    participant = seat
    text = await render_assessment(session, participant, dialog_config)
    await _audit_assessment(session, participant, clock)
    await query.message.answer(text, protect_content=True)


async def render_assessment(session: AsyncSession, p: Participant, config: DialogConfig) -> str:
    """Everyone's latest shared score this round, side by side; no guesses for the rest."""
    dialog = p.dialog
    ruler = config.ruler(dialog.age_group)
    loc = _locale()
    latest = await inputs.latest_scores(session, dialog, dialog.round_no)
    lines = [_("<b>Joint assessment</b> – {ruler}, the dialog about {child}, round {round}").format(
        ruler=html.quote(ruler.name(loc)), child=child_in_chat(dialog), round=dialog.round_no)]
    # The joint target (fælles mål) the meeting set: this round's, else the latest earlier one.
    target = await latest_target(session, dialog)
    if target is not None:
        field = ruler.field_for(target.joint_target)
        line = _("🎯 Joint target: <b>{value}</b> {field}").format(
            value=target.joint_target, field=html.quote(field.name(loc)))
        if target.round_no != dialog.round_no:
            line += " " + _("(set at the meeting in round {round})").format(round=target.round_no)
        lines.append(f"{line}\n{ruler.bar(target.joint_target)}")
    for other in dialog.participants:
        score = latest.get(other.id)
        if score is None:
            if other.joined_at is not None:
                lines.append(_("{who}: has not scaled yet").format(who=texts.who(other)))
            continue
        field = ruler.field_for(score.value)
        who = author(texts.who(other), by_coordinator=score.written_by_id is not None)
        lines.append(f"{who}: <b>{score.value}</b> {html.quote(field.name(loc))}\n{ruler.bar(score.value)}")
    return "\n\n".join(lines)
