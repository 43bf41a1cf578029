"""Mål & Plan, the family's side (`/plan`'s answer buttons): a consent giver agrees to the plan
sent for approval or writes a comment on it; a task owner marks a task done or asks for help.
Each handler parses, authorizes (a button declares its seat check), calls one use case of
services/plan.py and renders with handlers/plan_replies.py. The coordinator's side: handlers/plan.py.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.notices import Notices
from handlers import plan_replies as replies
from handlers.answers import NOT_COMMAND, read_answer
from handlers.choose import seat_for
from handlers.home_views import with_next_step
from handlers.plan import PlanFlow, step
from handlers.plan_views import AnswerAction, PlanAnswerCb, TaskAction, TaskCb
from handlers.seats import NO_DIALOG, alert, needs
from rules.access import Action, Refusal
from services import plan
from storage.models import Participant, Person, Task

router = Router(name="plan_answers")

COMMENT_LIMIT = 1000  # characters typed, at most


async def _reply(query: CallbackQuery, callback_answer: CallbackAnswer, toast: str | None, show_alert: bool | None,
                 reply: str | None, *, then: tuple[AsyncSession, Participant, Clock] | None = None) -> None:
    """Answer the tap (a toast, or an alert), then in the chat if there is more to say; `then`
    (session, seat, clock): the person's next step (and its button) follows the answer."""
    callback_answer.text, callback_answer.show_alert = toast, show_alert
    if not reply:
        return
    keyboard = None
    if then is not None:
        session, seat, clock = then
        reply, keyboard = await with_next_step(reply, session, seat, clock.now())
    await query.message.answer(reply, reply_markup=keyboard)


# ---- the consent givers' answers to the plan sent for approval ---------------------------------


def _giver_of_version(callback_answer: CallbackAnswer, data: PlanAnswerCb, seat: Participant) -> bool:
    """Whether the tapper gives consent and the button is about the current version (else: told why)."""
    refused = replies.not_consent_giver() if not seat.consent_giver else \
        replies.plan_changed_since() if data.version != seat.dialog.plan_version else None
    if refused:
        alert(callback_answer, refused)
    return refused is None


@router.callback_query(PlanAnswerCb.filter(F.action == AnswerAction.agree), flags=needs(Action.READ_SHARED))
async def agree(query: CallbackQuery, callback_data: PlanAnswerCb, seat: Participant, session: AsyncSession,
                clock: Clock, notices: Notices, callback_answer: CallbackAnswer) -> None:
    if _giver_of_version(callback_answer, callback_data, seat):
        await _reply(query, callback_answer, *replies.agreed_reply(
            await plan.agree(session, notices, seat, clock.now())), then=(session, seat, clock))


@router.callback_query(PlanAnswerCb.filter(F.action == AnswerAction.comment), flags=needs(Action.READ_SHARED))
async def comment(query: CallbackQuery, callback_data: PlanAnswerCb, seat: Participant, state: FSMContext,
                  callback_answer: CallbackAnswer) -> None:
    if _giver_of_version(callback_answer, callback_data, seat):
        await step(state, PlanFlow.comment, dialog_id=seat.dialog_id, version=seat.dialog.plan_version)
        await query.message.answer(replies.ask_comment())


@router.message(PlanFlow.comment, NOT_COMMAND)
async def got_comment(message: Message, session: AsyncSession, person: Person | None, state: FSMContext,
                      clock: Clock, notices: Notices) -> None:
    data = await state.get_data()
    p, decision = await seat_for(session, person, int(data.get("dialog_id", 0)), Action.READ_SHARED)
    if not decision or not p.consent_giver:
        await state.clear()
        await message.answer(texts.refusal(decision.refusal if not decision else Refusal.NOT_CONSENT_GIVER,
                                           p.dialog if p else None))
        return
    if (text := await read_answer(message, COMMENT_LIMIT)) is None:
        return
    await plan.comment(session, notices, p, int(data.get("version", p.dialog.plan_version)), text, clock.now())
    await state.clear()
    await message.answer(replies.comment_sent())


# ---- Udført / Brug for hjælp: only the person holding the owner's seat answers for a task ------------


async def _task_is_gone(query: CallbackQuery, callback_data: TaskCb, session: AsyncSession) -> bool:
    """A filter: the button names a task no longer in the plan (so it names no dialog either)."""
    return await session.get(Task, callback_data.task_id) is None


@router.callback_query(TaskCb.filter(), _task_is_gone, flags=NO_DIALOG)
async def task_gone_tapped(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    alert(callback_answer, replies.task_gone_from_plan())


@router.callback_query(TaskCb.filter(F.action == TaskAction.done), flags=needs(Action.READ_SHARED))
async def task_done(query: CallbackQuery, callback_data: TaskCb, seat: Participant, session: AsyncSession,
                    clock: Clock, notices: Notices, callback_answer: CallbackAnswer) -> None:
    await _reply(query, callback_answer, *replies.task_reply(
        await plan.mark_done(session, notices, seat, callback_data.task_id, clock.now())), then=(session, seat, clock))


@router.callback_query(TaskCb.filter(F.action == TaskAction.help), flags=needs(Action.READ_SHARED))
async def task_help(query: CallbackQuery, callback_data: TaskCb, seat: Participant, session: AsyncSession,
                    clock: Clock, notices: Notices, callback_answer: CallbackAnswer) -> None:
    await _reply(query, callback_answer, *replies.task_reply(
        await plan.ask_for_help(session, notices, seat, callback_data.task_id, clock.now())))
