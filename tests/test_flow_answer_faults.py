"""Issue #10, point 4: Telegram refusing the answer to a person's own action never loses the action.

The emulator fails calls on the acting person's own chat: a short 429 is waited out and
the person sees the normal answer once; a 5xx (or a 429 asking for longer than
ANSWER_RETRY_MAX_WAIT) keeps what the person did, and the answer reaches them through the
outbox, once, with working buttons. Nobody is left on a screen with no way forward.
Flows: consent, sharing input, sending a meeting invitation, agreeing to the plan; and
the guard's bounds on their own (bot/telegram.py).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import AnswerCallbackQuery, SendMessage
from sqlalchemy import select, text

from bot.app import App
from bot.playbook import Cast, Person
from bot.telegram import AnswerGuard, answer_guard
from core.clock import FakeClock
from emulator import BotAPIEmulator
from storage.fsm import current_session
from storage.models import Consent, Dialog, Meeting, OutboxMessage, PlanAnswer
from tests.helpers import da, saw
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    entries,
    fresh_routers,
    new_bot,
    open_dialog_with,
    open_family,
    participant_id,
)

PLACE = "Skolen, mødelokale 2"


@pytest.fixture
def guard(samspil: App) -> AnswerGuard:
    """The running bot's guard, with a short backoff (the real one waits 1.7 s in all)."""
    found = answer_guard(samspil.bot)
    assert found is not None, "the bot has no AnswerGuard"
    found.backoff = (0.01, 0.02, 0.03)
    return found


def tries(guard: AnswerGuard) -> int:
    return 1 + len(guard.backoff)


def uid(who: Person) -> int:
    return who.phone.user_id


async def answer_rows(app: App) -> list[OutboxMessage]:
    async with app.sessionmaker() as s:
        return list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "answer")
                                    .order_by(OutboxMessage.id)))


def texts_with(who: Person, fragment: str) -> list[str]:
    return [m.text for m in saw(who, fragment)]


async def says_fallback(cast: Cast, app: App, who: Person) -> None:
    """Typing at this point gets the general answer, not "choose with one of the buttons above"."""
    reply = await cast.say(who, "Hvad nu?")
    # (Text outside a step is kept and the person asked what to do with it: handlers/loose_text.py.)
    assert reply.text == da(app, "I have kept what you wrote. What shall I do with it?")
    assert reply.buttons


# ---- (1) consent ------------------------------------------------------------------------------


async def test_consent_is_kept_and_answered_when_telegram_fails_on_the_parents_chat(
    cast: Cast, samspil: App, emu: BotAPIEmulator, clock: FakeClock, guard: AnswerGuard,
) -> None:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    dialog_id = await open_dialog_with(cast, samspil, coord, "Emma", "barn", "Vi vil styrke Emmas trivsel.")
    mom, dad = cast.person("Mette"), cast.person("Lars")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, dad, "Parent with custody", "Far")
    await cast.join(mom)
    await cast.join(dad)

    # Mette: a 429 on her chat (the first call, removing the card's buttons) is waited out.
    emu.inject_fault(429, chat_id=uid(mom), retry_after=1)
    await cast.tap(mom, "Yes, I give my consent")
    assert texts_with(mom, "Tak. Dit samtykke er gemt") == [
        "Tak. Dit samtykke er gemt 23. november 2026 kl. 10.00.\n\n"
        "Dialogen går i gang, når Lars også har givet samtykke."]
    assert saw(mom, "Hvis du siger ja, giver du dit samtykke")[-1].buttons == []
    assert await answer_rows(samspil) == []  # nothing had to wait in the outbox

    # Lars: Telegram fails on his chat more often than the bot tries, and once more.
    emu.inject_fault(502, chat_id=uid(dad), method="editMessageReplyMarkup", times=tries(guard))
    emu.inject_fault(502, chat_id=uid(dad), method="sendMessage", times=tries(guard) + 1)
    await cast.tap(dad, "Yes, I give my consent")
    async with samspil.sessionmaker() as s:
        stored = [(c.participant_id, c.answer) for c in await s.scalars(
            select(Consent).where(Consent.dialog_id == dialog_id).order_by(Consent.id))]
        dialog = await s.get(Dialog, dialog_id)
    assert [answer for _, answer in stored] == ["given", "given"]  # his consent counts
    assert dialog.state == "active"
    assert saw(mom, "Dialogen om Emma er nu i gang")  # the others were told
    assert texts_with(dad, "Tak. Dit samtykke er gemt") == []  # the scheduler's first try failed too

    clock.advance(seconds=5)  # the scheduler's backoff
    await cast.settle()
    opened = da(samspil, "The dialog about {child} is now open.")
    [thanks] = texts_with(dad, "Tak. Dit samtykke er gemt")
    # Sent later, it may come together with his next step (#12), which waited behind it.
    assert thanks.startswith("Tak. Dit samtykke er gemt 23. november 2026 kl. 10.00.\n\n" + opened.format(child="Emma"))
    rows = await answer_rows(samspil)  # the thanks, and the next step queued behind it (#12)
    assert [(row.status, row.body) for row in rows] == [("sent", None)] * len(rows)  # no text kept once sent
    assert 1 <= len(rows) <= 2

    # His card kept its buttons (their removal failed): a tap is answered, and removes them now.
    assert saw(dad, "Hvis du siger ja, giver du dit samtykke")[-1].buttons != []
    await cast.tap(dad, "Yes, I give my consent")
    assert dad.phone.last_answer.text == "Dit samtykke er allerede gemt."
    assert saw(dad, "Hvis du siger ja, giver du dit samtykke")[-1].buttons == []
    assert len(texts_with(dad, "Tak. Dit samtykke er gemt")) == 1


# ---- (2) sharing input ------------------------------------------------------------------------


async def test_shared_input_is_kept_and_answered_when_telegram_fails_on_the_authors_chat(
    cast: Cast, samspil: App, emu: BotAPIEmulator, clock: FakeClock, guard: AnswerGuard,
) -> None:
    fam = await open_family(cast, samspil)
    mom, dad = fam.mom, fam.dad
    shared_da = "✅ Dit input om Familieforhold er delt. De andre i dialogen kan læse det nu."

    def shared_answers(who):  # type: ignore[no-untyped-def]
        return [t[:len(shared_da)] for t in texts_with(who, "er delt. De andre")]

    # Mette shares while Telegram fails on her chat: the input is shared, the answer comes later.
    await cast.write_input(mom, "Familieforhold", worries="Vi taler ikke sammen.", works=None, next_steps=None)
    emu.inject_fault(503, chat_id=uid(mom), times=2 * tries(guard))  # the buttons' removal, then the answer
    await cast.tap(mom, "✅ Share")
    assert [e.shared_at for e in await entries(fam, mom)] == [clock.now()]
    assert texts_with(dad, "Mette (Mor) har delt sit input") != []
    assert shared_answers(mom) == [shared_da]  # through the outbox, once
    [row] = await answer_rows(samspil)
    assert row.status == "sent"
    assert (await cast.say(mom, "/input")).buttons  # she goes on as usual

    # Lars: a 429 asking for 30 s (more than ANSWER_RETRY_MAX_WAIT) on the question before
    # sharing all his drafts (from the area list): the question, with its buttons, waits in
    # the outbox, encrypted, until then.
    await cast.write_input(dad, "Familieforhold", worries="Vi skændes tit.", works=None, next_steps=None)
    await cast.tap(dad, "Another input area")
    mark = dad.phone.mark()
    emu.inject_fault(429, chat_id=uid(dad), method="sendMessage", retry_after=30)
    await cast.tap_text(dad, "✅ Del min kladde")
    assert [m for m in new_bot(dad, mark) if not m.edited] == []
    async with samspil.sessionmaker() as s:
        raw = (await s.execute(text("SELECT body, payload, status FROM outbox WHERE kind = 'answer' "
                                    "ORDER BY id DESC LIMIT 1"))).one()
    assert raw.status == "pending" and raw.payload == "{}"
    assert raw.body.startswith("v1:") and "dele" not in raw.body  # encrypted at rest

    clock.advance(seconds=30)
    await cast.settle()
    [ask] = [m for m in new_bot(dad, mark) if not m.edited]
    assert ask.text.startswith("Du er ved at dele dit input i: Familieforhold.")
    assert ask.buttons == [["Ja, del nu", "Ikke endnu"]]

    # Its buttons work; a short 429 on the way is waited out.
    emu.inject_fault(429, chat_id=uid(dad), method="sendMessage", retry_after=1)
    await cast.tap(dad, "Yes, share now")
    assert shared_answers(dad) == [shared_da]
    assert all(e.shared_at is not None for e in await entries(fam, dad))
    assert [r.status for r in await answer_rows(samspil)] == ["sent", "sent"]
    await says_fallback(cast, samspil, dad)


# ---- (3) sending a meeting invitation -----------------------------------------------------------


async def test_the_meeting_is_called_when_telegram_fails_on_the_coordinators_chat(
    cast: Cast, samspil: App, emu: BotAPIEmulator, clock: FakeClock, guard: AnswerGuard,
) -> None:
    fam = await open_family(cast, samspil)
    coord = fam.coord
    await cast.say(coord, "/moede")
    await cast.say(coord, "3/12 kl. 14")
    summary = await cast.say(coord, PLACE)
    assert summary.buttons[0] == ["✅ Send indkaldelsen"]

    # Send indkaldelsen while Telegram fails: the meeting is called, the answer comes later.
    emu.inject_fault(500, chat_id=uid(coord), times=2 * tries(guard))
    await cast.tap(coord, "✅ Send the invitation")
    async with samspil.sessionmaker() as s:
        [meeting] = list(await s.scalars(select(Meeting)))
        notices = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "meeting_notice")))
    assert meeting.status == "scheduled" and len(notices) == 3
    for who in (fam.mom, fam.dad, fam.teacher):
        assert len(texts_with(who, "Indkaldelse til dialogmøde")) == 1
    assert texts_with(coord, "Indkaldelsen er sendt") == [
        "Indkaldelsen er sendt til 3 deltagere. Du får besked, når nogen svarer, og /moede viser, hvem der kommer."]
    # Not stuck at "choose with one of the buttons above" with no buttons anywhere.
    await says_fallback(cast, samspil, coord)

    # /moede shows the meeting with its buttons; moving it works, and a short 429 is waited out.
    card = await cast.say(coord, "/moede")
    assert card.buttons == [["🕑 Flyt mødet"], ["✖️ Aflys mødet"]]
    await cast.tap(coord, "🕑 Move the meeting")
    await cast.say(coord, "10/12 kl. 15.30")
    await cast.tap(coord, "Same place as before")
    emu.inject_fault(429, chat_id=uid(coord), retry_after=1)
    await cast.tap(coord, "✅ Move the meeting and tell everyone")
    assert texts_with(coord, "Mødet er flyttet til") == [
        "Mødet er flyttet til torsdag den 10. december 2026 kl. 15.30. "
        "Alle har fået besked og er blevet spurgt igen, om de kommer."]
    for who in (fam.mom, fam.dad, fam.teacher):
        assert len(texts_with(who, "Mødet om Emma er flyttet")) == 1
    assert [r.status for r in await answer_rows(samspil)] == ["sent"]  # only the first went that way


# ---- (4) agreeing to the plan -------------------------------------------------------------------


async def test_agreeing_to_the_plan_is_kept_when_telegram_fails_on_the_parents_chat(
    cast: Cast, samspil: App, emu: BotAPIEmulator, clock: FakeClock, guard: AnswerGuard,
) -> None:
    fam = await open_family(cast, samspil)
    coord, mom, dad = fam.coord, fam.mom, fam.dad
    await cast.add_goal(coord, "Udvikling og adfærd", "Emmas venskaber skal styrkes.")
    await cast.add_task(coord, "Fælles spisning med vennerne.", "Lars (Far)", "1/12", "18/12")
    await cast.send_plan(coord)

    # Mette agrees; a short 429 on her chat is waited out.
    emu.inject_fault(429, chat_id=uid(mom), retry_after=1)
    await cast.accept_plan(mom)
    assert [t.split("\n\n")[0] for t in texts_with(mom, "Tak, dit svar er gemt")] == [
        "Tak, dit svar er gemt. Planen gælder, når Lars (Far) også har sagt ja."]  # then her next step (#12)

    # Lars agrees while Telegram fails on his chat: the plan is in force, he is answered later.
    emu.inject_fault(502, chat_id=uid(dad), times=tries(guard))
    await cast.accept_plan(dad)
    async with samspil.sessionmaker() as s:
        answers = [(a.participant_id, a.agrees) for a in await s.scalars(select(PlanAnswer).order_by(PlanAnswer.id))]
    assert answers == [(await participant_id(fam, mom), True), (await participant_id(fam, dad), True)]
    async with samspil.sessionmaker() as s:
        dialog = await s.get(Dialog, fam.dialog_id)
        assert dialog.plan_accepted_version == dialog.plan_version
    thanks = texts_with(dad, "Tak! Nu er alle enige om planen")
    assert len(thanks) == 1  # through the outbox (perhaps together with his task notice)
    assert texts_with(dad, "Planen for Emma er godkendt")
    assert [r.status for r in await answer_rows(samspil)] == ["sent"]
    # The plan's buttons still answer him: the plan is agreed already.
    await cast.accept_plan(dad)
    assert dad.phone.last_answer.text == da(samspil, "The plan is already agreed.")
    assert len(texts_with(dad, "Tak! Nu er alle enige om planen")) == 1


# ---- files, the data export, and messages the handler changes after sending ------------------------


async def test_a_file_telegram_refuses_is_asked_for_again_and_a_waiting_answer_is_exported(
    cast: Cast, samspil: App, emu: BotAPIEmulator, clock: FakeClock, guard: AnswerGuard,
) -> None:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)

    # /mine_data while Telegram refuses files: the first is tried and tried again, the second
    # waits behind it; the person is told once to ask again (the files are not stored).
    emu.inject_fault(502, chat_id=uid(coord), method="sendDocument", times=tries(guard))
    mark = coord.phone.mark()
    await cast.say(coord, "/mine_data")
    assert coord.phone.documents == []
    assert [m.text for m in new_bot(coord, mark)][1:] == [
        "Beklager, Telegram tog ikke imod filen lige nu, så den blev ikke sendt. Bed om den igen."]
    await cast.say(coord, "/mine_data")
    assert [d.file_name.rsplit(".", 1)[1] for d in coord.phone.documents] == ["json", "pdf"]

    # An answer that waits for a long 429 is part of what is stored about the person.
    emu.inject_fault(429, chat_id=uid(coord), method="sendMessage", retry_after=60)
    mark = coord.phone.mark()
    await coord.phone.send("/hjaelp")
    await cast.settle()
    assert new_bot(coord, mark) == []
    await cast.say(coord, "/mine_data")
    data = json.loads(coord.phone.documents[-2].data)
    [waiting] = data["messages_waiting"]
    assert "/ny" in waiting["text"]  # the coordinator's help
    mark = coord.phone.mark()
    clock.advance(seconds=60)
    await cast.settle()
    assert [m.html for m in new_bot(coord, mark)] == [waiting["text"]]  # the help (as HTML), now
    assert all(r.body is None for r in await answer_rows(samspil))


async def test_a_handler_editing_or_deleting_an_answer_that_waits_changes_the_waiting_row(
    cast: Cast, samspil: App, guard: AnswerGuard,
) -> None:
    from aiogram.methods import DeleteMessage, EditMessageReplyMarkup, EditMessageText
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    make_request, calls = _failing(*(_5xx() for _ in range(2 * tries(guard))))
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Ja", callback_data="x:1")]])
    async with samspil.sessionmaker() as session, session.begin():
        session.info["notices"] = samspil.notices
        first = await _call(guard, make_request, SendMessage(chat_id=uid(coord), text="Et"), session)
        second = await _call(guard, make_request, SendMessage(chat_id=uid(coord), text="To"), session)
        assert (first.message_id, second.message_id, first.chat.id) == (-1, -2, uid(coord))
        assert len(calls) == tries(guard)  # the second waited behind the first, untried
        assert await _call(guard, make_request, EditMessageText(
            chat_id=uid(coord), message_id=-1, text="Et, rettet", reply_markup=keyboard), session) is True
        assert await _call(guard, make_request, EditMessageReplyMarkup(
            chat_id=uid(coord), message_id=-1, reply_markup=None), session) is True
        assert await _call(guard, make_request, DeleteMessage(chat_id=uid(coord), message_id=-2), session) is True
    rows = await answer_rows(samspil)
    assert [(r.status, r.body and json.loads(r.body)) for r in rows] == [
        ("pending", {"text": "Et, rettet", "keyboard": None, "protect": False}), ("cancelled", None)]
    await cast.settle()
    assert coord.phone.bot_messages[-1].text == "Et, rettet"
    assert not any(m.text == "To" for m in coord.phone.bot_messages)


# ---- the guard's bounds ---------------------------------------------------------------------------


class _Session:
    """Stands in for the update's database session: the guard only acts while one is set."""

    def __init__(self) -> None:
        self.info: dict[str, Any] = {}


def _failing(*errors: Exception) -> tuple[Callable[..., Awaitable[Any]], list[str]]:
    calls: list[str] = []
    pending = list(errors)

    async def make_request(bot: Bot, method: Any) -> Any:
        calls.append(type(method).__name__)
        if pending:
            raise pending.pop(0)
        return "ok"

    return make_request, calls


def _guard(max_wait: float = 5) -> tuple[AnswerGuard, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return AnswerGuard(max_wait, backoff=(0.2, 0.5, 1.0), sleep=sleep), slept


SEND = SendMessage(chat_id=1, text="hej")
TAP = AnswerCallbackQuery(callback_query_id="1")


def _429(seconds: int) -> TelegramRetryAfter:
    return TelegramRetryAfter(method=SEND, message="Too Many Requests", retry_after=seconds)


def _5xx() -> TelegramServerError:
    return TelegramServerError(method=SEND, message="Bad Gateway")


async def _call(guard: AnswerGuard, make_request: Callable[..., Awaitable[Any]], method: Any,
                session: _Session | None) -> Any:
    token = current_session.set(session)  # type: ignore[arg-type]
    try:
        return await guard(make_request, None, method)  # type: ignore[arg-type]
    finally:
        current_session.reset(token)


async def test_the_guard_waits_out_a_short_429_within_its_budget_per_update() -> None:
    guard, slept = _guard(max_wait=5)
    session = _Session()
    make_request, calls = _failing(_429(2), _429(3))
    assert await _call(guard, make_request, SEND, session) == "ok"
    assert (slept, len(calls)) == ([2, 3], 3)
    # The same update has no waiting left: the next 429 is not waited out (nothing to queue
    # it with here, so it is raised; in the bot the answer goes to the outbox).
    make_request, calls = _failing(_429(1))
    with pytest.raises(TelegramRetryAfter):
        await _call(guard, make_request, SEND, session)
    assert (slept, len(calls)) == ([2, 3], 1)
    # A new update has its own budget; a 429 longer than the bound is never waited for.
    make_request, calls = _failing(_429(6))
    with pytest.raises(TelegramRetryAfter):
        await _call(guard, make_request, SEND, _Session())
    assert (slept, len(calls)) == ([2, 3], 1)


async def test_the_guard_tries_a_5xx_again_with_backoff_then_gives_up() -> None:
    guard, slept = _guard()
    make_request, calls = _failing(_5xx(), TelegramNetworkError(method=SEND, message="timeout"))
    assert await _call(guard, make_request, SEND, _Session()) == "ok"
    assert slept == [0.2, 0.5]
    slept.clear()
    make_request, calls = _failing(*(_5xx() for _ in range(10)))
    with pytest.raises(TelegramServerError):
        await _call(guard, make_request, SEND, _Session())
    assert (slept, len(calls)) == ([0.2, 0.5, 1.0], 4)
    # A button's answer that cannot be given is left out: the update goes on.
    slept.clear()
    make_request, calls = _failing(*(_5xx() for _ in range(10)))
    assert await _call(guard, make_request, TAP, _Session()) is True
    assert len(calls) == 4


async def test_the_guard_leaves_other_errors_and_sends_outside_an_update_alone() -> None:
    guard, slept = _guard()
    make_request, calls = _failing(TelegramBadRequest(method=SEND, message="Bad Request: chat not found"))
    with pytest.raises(TelegramBadRequest):
        await _call(guard, make_request, SEND, _Session())
    assert len(calls) == 1
    # The outbox scheduler's own sends (no update being handled) keep their own retry logic.
    make_request, calls = _failing(_429(1))
    with pytest.raises(TelegramRetryAfter):
        await _call(guard, make_request, SEND, None)
    make_request, calls = _failing(_5xx())
    with pytest.raises(TelegramServerError):
        await _call(guard, make_request, SEND, None)
    assert slept == [] and len(calls) == 1


def test_answer_bodies_are_json_of_text_buttons_and_protection() -> None:
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    from bot.telegram import _body

    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Ja", callback_data="x:1")]])
    assert json.loads(_body("Hej", markup, protect=False)) == {
        "text": "Hej", "keyboard": {"inline_keyboard": [[{"text": "Ja", "callback_data": "x:1"}]]},
        "protect": False}
