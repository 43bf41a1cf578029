"""The local Bot API emulator, exercised through a real aiogram Bot over HTTP.

No test sleeps for a fixed time: every wait is on a condition (the emulator's
change notifications, a long poll answering, a server-side timeout).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from emulator import BotAPIEmulator, EntityParseError, parse_html

TOKEN = "123456789:TEST-token"
METTE = 1001
LARS = 1002


# --------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------


@pytest.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(TOKEN) as emulator:
        yield emulator
    assert emulator.internal_errors == []


def make_bot(emu: BotAPIEmulator, **kwargs: Any) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    return Bot(emu.token, session=session, **kwargs)


@pytest.fixture
async def bot(emu: BotAPIEmulator) -> AsyncIterator[Bot]:
    bot = make_bot(emu)
    yield bot
    await bot.session.close()


@pytest.fixture
async def http(emu: BotAPIEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emu.base_url) as session:
        yield session


async def known_phone(emu: BotAPIEmulator, user_id: int = METTE, name: str = "Mette"):
    """A person who has written to the bot (so the bot may message them)."""
    phone = emu.phone(user_id, name)
    await phone.send("/start")
    return phone


async def raw_call(
    http: aiohttp.ClientSession, method: str, *, token: str = TOKEN, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with http.post(f"/bot{token}/{method}", **kwargs) as response:
        return response.status, await response.json()


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


class Receiver:
    """A tiny webhook endpoint on port 0 that records deliveries."""

    def __init__(
        self,
        respond: Callable[[dict[str, Any]], Awaitable[web.StreamResponse]] | None = None,
    ) -> None:
        self.received: list[dict[str, Any]] = []
        self.secrets: list[str | None] = []
        self.fail_next = 0
        self._respond = respond
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        update = await request.json()
        self.received.append(update)
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        if self.fail_next:
            self.fail_next -= 1
            return web.Response(status=500, text="boom")
        if self._respond is not None:
            return await self._respond(update)
        return web.json_response({})

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@contextlib.asynccontextmanager
async def polling(dp: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=30))
    try:
        yield
    finally:
        await dp.stop_polling()
        await task


# --------------------------------------------------------------------------------------
# Basics
# --------------------------------------------------------------------------------------


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456789
    assert me.is_bot is True
    assert me.first_name == "Samspil"
    assert me.username == "samspil_test_bot"
    assert me.supports_inline_queries is False


async def test_unauthorized_and_unknown_method(
    emu: BotAPIEmulator, http: aiohttp.ClientSession
) -> None:
    status, body = await raw_call(http, "getMe", token="999:wrong")
    assert status == 401
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    status, body = await raw_call(http, "sendPigeon")
    assert status == 404
    assert body["description"] == "Not Found: method not found"

    status, body = await raw_call(http, "GETME")  # method names are case-insensitive
    assert status == 200 and body["result"]["id"] == 123456789

    wrong = Bot("999:wrong", session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))
    with pytest.raises(TelegramUnauthorizedError):
        await wrong.get_me()
    await wrong.session.close()


async def test_parameters_from_json_query_and_form(
    emu: BotAPIEmulator, http: aiohttp.ClientSession
) -> None:
    phone = await known_phone(emu)
    status, body = await raw_call(
        http, "sendMessage", json={"chat_id": METTE, "text": "json", "protect_content": True}
    )
    assert status == 200 and body["result"]["has_protected_content"] is True

    status, body = await raw_call(
        http, "sendMessage", params={"chat_id": str(METTE), "text": "query"}
    )
    assert status == 200 and body["result"]["text"] == "query"

    status, body = await raw_call(
        http,
        "sendMessage",
        data={"chat_id": str(METTE), "text": "form", "protect_content": "false"},
    )
    assert status == 200 and "has_protected_content" not in body["result"]

    status, body = await raw_call(http, "sendMessage", data={"text": "who?"})
    assert status == 400 and body["description"] == "Bad Request: chat_id is empty"

    assert [m.text for m in phone.bot_messages] == ["json", "query", "form"]


# --------------------------------------------------------------------------------------
# getUpdates
# --------------------------------------------------------------------------------------


async def test_get_updates_offset_confirms(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = emu.phone(METTE, "Mette", username="mette")
    await phone.send("hej")
    await phone.send("/start TOKEN123")

    updates = await bot.get_updates()
    assert [u.message.text for u in updates] == ["hej", "/start TOKEN123"]
    first, second = updates
    assert second.update_id == first.update_id + 1
    assert first.message.from_user.id == METTE
    assert first.message.from_user.language_code == "da"
    assert first.message.chat.type == "private"
    entity = second.message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)

    # Without an offset nothing is confirmed: the same updates come again.
    assert [u.update_id for u in await bot.get_updates()] == [first.update_id, second.update_id]
    assert emu.pending_updates() == 2

    again = await bot.get_updates(offset=first.update_id + 1)
    assert [u.update_id for u in again] == [second.update_id]
    assert emu.pending_updates() == 1

    assert await bot.get_updates(offset=second.update_id + 1) == []
    assert emu.pending_updates() == 0

    for text in ("a", "b", "c"):
        await phone.send(text)
    limited = await bot.get_updates(limit=2)
    assert [u.message.text for u in limited] == ["a", "b"]
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last] == ["c"]
    assert emu.pending_updates() == 1


async def test_person_long_text_is_split_like_a_client(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = emu.phone(METTE, "Mette")
    await phone.send("å" * 5000)
    assert [len(u.message.text) for u in await bot.get_updates()] == [4096, 904]
    with pytest.raises(ValueError):
        await phone.send("   ")


async def test_long_poll_wakes_up_when_an_update_arrives(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = emu.phone(METTE, "Mette")
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await emu.wait_until(lambda: emu.long_polls_waiting == 1)
    assert not poll.done()

    await phone.send("vågn op")
    updates = await asyncio.wait_for(poll, timeout=5)
    assert [u.message.text for u in updates] == ["vågn op"]
    assert emu.long_polls_waiting == 0


async def test_long_poll_times_out_with_no_updates(bot: Bot) -> None:
    assert await bot.get_updates(timeout=1) == []


async def test_stop_releases_waiting_long_poll() -> None:
    emulator = BotAPIEmulator(TOKEN)
    await emulator.start()
    bot = make_bot(emulator)
    poll = asyncio.create_task(bot.get_updates(timeout=50))
    await emulator.wait_until(lambda: emulator.long_polls_waiting == 1)
    await asyncio.wait_for(emulator.stop(), timeout=5)
    assert await asyncio.wait_for(poll, timeout=5) == []
    await bot.session.close()


async def test_wait_idle_tracks_unconfirmed_updates(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = emu.phone(METTE, "Mette")
    await emu.wait_idle(timeout=1)
    await phone.send("hej")
    with pytest.raises(AssertionError, match="1 pending updates"):
        await emu.wait_idle(timeout=0.2)
    updates = await bot.get_updates()
    await bot.get_updates(offset=updates[-1].update_id + 1)
    await emu.wait_idle(timeout=2)


# --------------------------------------------------------------------------------------
# Messages: text, HTML and limits
# --------------------------------------------------------------------------------------


async def test_html_is_parsed_like_telegram(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = await known_phone(emu)
    raw = "&lt;b&gt; er <b>fed</b> &amp; <i>kursiv</i> &#x27;citat&#39; Tom & Jerry"
    sent = await bot.send_message(METTE, raw, parse_mode="HTML")
    expected = "<b> er fed & kursiv 'citat' Tom & Jerry"
    assert sent.text == expected
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 7, 3),
        ("italic", 13, 6),
    ]

    seen = phone.chat[-1]
    assert seen.from_bot and seen.text == expected and seen.html == raw
    assert seen.entity_texts() == [("bold", "fed"), ("italic", "kursiv")]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("Hej <b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("2 < 3", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
    ],
)
async def test_malformed_html_is_rejected(
    emu: BotAPIEmulator, bot: Bot, text: str, reason: str
) -> None:
    phone = await known_phone(emu)
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(METTE, text, parse_mode="HTML")
    assert caught.value.message == f"Bad Request: can't parse entities: {reason}"
    assert phone.bot_messages == []
    assert emu.sent == []


async def test_text_length_limits(emu: BotAPIEmulator, bot: Bot, http: aiohttp.ClientSession):
    phone = await known_phone(emu)
    await bot.send_message(METTE, "x" * 4096)
    # Markup does not count: the limit applies after entity parsing.
    await bot.send_message(METTE, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(METTE, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(METTE, "  \n ")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(METTE, "<b> </b>", parse_mode="HTML")
    status, body = await raw_call(http, "sendMessage", data={"chat_id": str(METTE)})
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    assert [len(m.text) for m in phone.bot_messages] == [4096, 4096]


async def test_surrounding_whitespace_is_trimmed(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = await known_phone(emu)
    sent = await bot.send_message(METTE, "\n  <b>Hej</b> du \n", parse_mode="HTML")
    assert sent.text == "Hej du"
    assert phone.chat[-1].entity_texts() == [("bold", "Hej")]


async def test_callback_data_limits(emu: BotAPIEmulator, bot: Bot) -> None:
    await known_phone(emu)
    await bot.send_message(METTE, "ok", reply_markup=keyboard([("Ja", "æ" * 32)]))  # 64 bytes
    for data in ("x" * 65, "ø" * 33, ""):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(METTE, "no", reply_markup=keyboard([("Nej", data)]))
        assert caught.value.message == "Bad Request: BUTTON_DATA_INVALID"


async def test_button_without_action_is_rejected(
    emu: BotAPIEmulator, http: aiohttp.ClientSession
) -> None:
    await known_phone(emu)
    markup = json.dumps({"inline_keyboard": [[{"text": "Bare tekst"}]]})
    status, body = await raw_call(
        http, "sendMessage", data={"chat_id": str(METTE), "text": "x", "reply_markup": markup}
    )
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse inline keyboard button:")


async def test_unknown_chat_is_rejected(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.phone(LARS, "Lars")  # has a phone but never wrote to the bot
    for chat_id in (424242, LARS):
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(chat_id, "hej")
        assert caught.value.message == "Bad Request: chat not found"


async def test_reply_parameters(emu: BotAPIEmulator, bot: Bot) -> None:
    await known_phone(emu)
    person_message = (await bot.get_updates())[0].message
    sent = await bot.send_message(
        METTE, "svar", reply_parameters=ReplyParameters(message_id=person_message.message_id)
    )
    assert sent.reply_to_message.text == "/start"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(METTE, "svar", reply_parameters=ReplyParameters(message_id=999))


async def test_get_chat_and_chat_action(emu: BotAPIEmulator, bot: Bot) -> None:
    await known_phone(emu)
    chat = await bot.get_chat(METTE)
    assert (chat.id, chat.type, chat.first_name) == (METTE, "private", "Mette")
    assert await bot.send_chat_action(METTE, "typing") is True
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(555)


# --------------------------------------------------------------------------------------
# Editing, deleting, buttons and callback answers
# --------------------------------------------------------------------------------------


async def test_edit_message_text_and_errors(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = await known_phone(emu)
    kb = keyboard([("Ja", "yes"), ("Nej", "no")])
    sent = await bot.send_message(METTE, "Spørgsmål?", reply_markup=kb)
    cursor = phone.mark()

    edited = await bot.edit_message_text(
        "<b>Nyt</b> spørgsmål?",
        chat_id=METTE,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=kb,
    )
    assert edited.text == "Nyt spørgsmål?" and edited.edit_date is not None
    view = await phone.wait_for("Nyt spørgsmål", after=cursor)
    assert view.edited and view.message_id == sent.message_id
    assert view.buttons == [["Ja", "Nej"]]
    assert len(phone.chat) == 2  # edited in place, not appended

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(
            "<b>Nyt</b> spørgsmål?",
            chat_id=METTE,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=kb,
        )
    assert caught.value.message.startswith("Bad Request: message is not modified: specified new")

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=METTE, message_id=9999)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=METTE, message_id=1)  # the person's /start

    # Like Telegram, an edit without reply_markup removes the inline keyboard.
    await bot.edit_message_text("Uden knapper", chat_id=METTE, message_id=sent.message_id)
    assert phone.buttons(sent.message_id) == []


async def test_edit_reply_markup_and_delete(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = await known_phone(emu)
    sent = await bot.send_message(METTE, "Vælg", reply_markup=keyboard([("A", "a")]))
    await bot.edit_message_reply_markup(
        chat_id=METTE, message_id=sent.message_id, reply_markup=keyboard([("B", "b")])
    )
    assert phone.buttons() == [["B"]]
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=METTE, message_id=sent.message_id, reply_markup=keyboard([("B", "b")])
        )

    assert await bot.delete_message(METTE, sent.message_id) is True
    assert sent.message_id not in [m.message_id for m in phone.chat]
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.delete_message(METTE, sent.message_id)
    assert caught.value.message == "Bad Request: message to delete not found"


async def test_tap_and_answer_callback_query(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = await known_phone(emu)
    await bot.send_message(METTE, "Gammel", reply_markup=keyboard([("Ja", "old")]))
    sent = await bot.send_message(
        METTE, "Ny", reply_markup=keyboard([("Ja, tak", "yes-contains")], [("Ja", "yes")])
    )
    await bot.get_updates(offset=-1)
    offset = (await bot.get_updates())[-1].update_id + 1

    query_id = await phone.tap("Ja")  # exact match on the newest message wins
    await phone.tap("tak")  # no exact match: a button containing the text
    updates = await bot.get_updates(offset=offset)
    first, second = (u.callback_query for u in updates)
    assert first.id == query_id and first.data == "yes"
    assert second.data == "yes-contains"
    assert first.from_user.id == METTE and first.chat_instance
    assert first.message.message_id == sent.message_id
    assert first.message.reply_markup.inline_keyboard[1][0].text == "Ja"

    assert await bot.answer_callback_query(query_id, text="Gemt", show_alert=True) is True
    answer = await phone.wait_answer(query_id=query_id)
    assert (answer.text, answer.show_alert) == ("Gemt", True)
    assert phone.last_answer == answer

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.answer_callback_query(query_id)  # already answered
    assert caught.value.message == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")


async def test_tap_without_matching_button_lists_visible_buttons(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    phone = await known_phone(emu)
    await bot.send_message(METTE, "Vælg", reply_markup=keyboard([("Ja", "y"), ("Nej", "n")]))
    with pytest.raises(AssertionError, match=r"(?s)Perhaps.*\[\['Ja', 'Nej'\]\]"):
        await phone.tap("Perhaps")
    assert phone.buttons() == [["Ja", "Nej"]]
    query_id = await phone.tap_data(phone.bot_messages[-1].message_id, "forged:42")
    update = (await bot.get_updates())[-1]
    assert update.callback_query.id == query_id and update.callback_query.data == "forged:42"


async def test_wait_for_timeout_shows_the_chat(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = await known_phone(emu)
    await bot.send_message(METTE, "Velkommen til Samspil")
    with pytest.raises(AssertionError, match="Velkommen til Samspil"):
        await phone.wait_for("Farvel", timeout=0.2)
    # The cursor: a message sent before mark() no longer matches by default.
    assert (await phone.wait_for("Velkommen")).text == "Velkommen til Samspil"
    phone.mark()
    with pytest.raises(AssertionError):
        await phone.wait_for("Velkommen", timeout=0.2)


# --------------------------------------------------------------------------------------
# Documents and files
# --------------------------------------------------------------------------------------


async def test_send_document_round_trip(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = await known_phone(emu)
    data = b"%PDF-1.4\n" + bytes(range(256)) * 40
    sent = await bot.send_document(
        METTE,
        BufferedInputFile(data, filename="referat.pdf"),
        caption="<b>Referat</b> fra mødet",
        parse_mode="HTML",
        protect_content=True,
    )
    document = sent.document
    assert (document.file_name, document.mime_type, document.file_size) == (
        "referat.pdf",
        "application/pdf",
        len(data),
    )
    assert sent.caption == "Referat fra mødet"
    assert sent.caption_entities[0].type == "bold"
    assert sent.has_protected_content is True

    [received] = phone.documents
    assert received.data == data
    assert (received.file_name, received.caption, received.protect_content) == (
        "referat.pdf",
        "Referat fra mødet",
        True,
    )
    assert phone.chat[-1].document["data"] == data

    again = await bot.send_document(METTE, document.file_id)  # by file_id
    assert again.document.file_unique_id == document.file_unique_id
    assert phone.documents[-1].data == data
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_document(METTE, "nonsense-file-id")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(METTE, document.file_id, caption="c" * 1025)


async def test_raw_multipart_document_field(
    emu: BotAPIEmulator, http: aiohttp.ClientSession
) -> None:
    phone = await known_phone(emu)
    form = aiohttp.FormData()
    form.add_field("chat_id", str(METTE))
    form.add_field("document", b"a;b\n1;2\n", filename="plan.csv", content_type="text/csv")
    status, body = await raw_call(http, "sendDocument", data=form)
    assert status == 200, body
    assert body["result"]["document"]["mime_type"] == "text/csv"
    assert phone.documents[0].data == b"a;b\n1;2\n"


async def test_bot_downloads_a_document_from_a_person(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = emu.phone(METTE, "Mette")
    await phone.send_document("indkaldelse.pdf", b"%PDF-1.4 hello")
    [update] = await bot.get_updates()
    document = update.message.document
    assert (document.file_name, document.mime_type) == ("indkaldelse.pdf", "application/pdf")
    file = await bot.get_file(document.file_id)
    downloaded = await bot.download_file(file.file_path)
    assert downloaded.read() == b"%PDF-1.4 hello"


async def test_person_media_updates_parse_in_aiogram(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = emu.phone(METTE, "Mette", last_name="Hansen", language_code="en")
    await phone.send_photo(caption="billede")
    await phone.send_sticker()
    await phone.send_voice(duration=4)
    await phone.send_location(55.68, 12.57)
    await phone.send_contact("+4512345678", "Ole")
    photo, sticker, voice, location, contact = (u.message for u in await bot.get_updates())
    assert photo.photo[-1].width == 1280 and photo.caption == "billede"
    assert photo.from_user.language_code == "en" and photo.chat.last_name == "Hansen"
    assert (sticker.sticker.type, sticker.sticker.is_animated) == ("regular", False)
    assert (voice.voice.duration, voice.voice.mime_type) == (4, "audio/ogg")
    assert (location.location.latitude, location.location.longitude) == (55.68, 12.57)
    assert contact.contact.phone_number == "+4512345678"
    assert [m.kind for m in phone.chat] == ["photo", "sticker", "voice", "location", "contact"]


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------


async def test_commands_per_scope_and_language(emu: BotAPIEmulator, bot: Bot) -> None:
    await known_phone(emu)
    danish = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="hjaelp", description="Hjælp"),
    ]
    english = [BotCommand(command="help", description="Help")]
    mine = [BotCommand(command="admin", description="Administration")]
    private = BotCommandScopeAllPrivateChats()

    assert await bot.set_my_commands(danish) is True
    assert await bot.set_my_commands(english, scope=private, language_code="en") is True
    assert await bot.set_my_commands(mine, scope=BotCommandScopeChat(chat_id=METTE)) is True

    assert [c.command for c in await bot.get_my_commands()] == ["start", "hjaelp"]
    assert [c.command for c in await bot.get_my_commands(scope=private, language_code="en")] == [
        "help"
    ]
    assert await bot.get_my_commands(scope=private) == []  # no fallback between keys
    assert emu.commands_for() == [
        {"command": "start", "description": "Start"},
        {"command": "hjaelp", "description": "Hjælp"},
    ]
    assert emu.commands_for({"type": "default"}) == emu.commands_for()
    assert emu.commands_for({"type": "all_private_chats"}, "en")[0]["command"] == "help"
    assert emu.commands_for({"type": "chat", "chat_id": METTE})[0]["command"] == "admin"
    assert emu.commands_for({"chat_id": str(METTE), "type": "chat"})[0]["command"] == "admin"

    assert await bot.delete_my_commands(scope=private, language_code="en") is True
    assert emu.commands_for({"type": "all_private_chats"}, "en") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start!", description="x")])
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.set_my_commands(mine, scope=BotCommandScopeChat(chat_id=777))


async def test_descriptions_per_language_with_fallback_to_the_default(emu: BotAPIEmulator, bot: Bot) -> None:
    # Nothing set: the chat before START is empty.
    assert (await bot.get_my_description()).description == ""
    assert (await bot.get_my_short_description()).short_description == ""
    assert emu.description_for("da") == "" and emu.short_description_for() == ""

    assert await bot.set_my_description("Samspil på dansk.") is True
    assert await bot.set_my_description("Samspil in English.", language_code="en") is True
    assert await bot.set_my_short_description("Kort.") is True
    assert await bot.set_my_short_description("Short.", language_code="en") is True

    assert (await bot.get_my_description()).description == "Samspil på dansk."
    assert (await bot.get_my_description(language_code="en")).description == "Samspil in English."
    # A language without its own text gets the default one, like Telegram.
    assert (await bot.get_my_description(language_code="de")).description == "Samspil på dansk."
    assert (await bot.get_my_short_description(language_code="en")).short_description == "Short."
    assert (await bot.get_my_short_description(language_code="pl")).short_description == "Kort."

    # What a person sees before pressing START, by their Telegram language.
    assert emu.description_for("en") == emu.description_for("en-GB") == "Samspil in English."
    assert emu.description_for("da") == emu.description_for(None) == "Samspil på dansk."
    assert emu.description_for("de") == "Samspil på dansk."
    assert emu.short_description_for("EN") == "Short." and emu.short_description_for("da") == "Kort."

    # An empty text removes that language's own text.
    assert await bot.set_my_description("", language_code="en") is True
    assert emu.description_for("en") == "Samspil på dansk."
    assert await bot.set_my_short_description() is True
    assert emu.short_description_for("da") == "" and emu.short_description_for("en") == "Short."


async def test_description_limits_and_language_codes(
    emu: BotAPIEmulator, bot: Bot, http: aiohttp.ClientSession
) -> None:
    assert await bot.set_my_description("d" * 512) is True
    assert await bot.set_my_short_description("s" * 120, language_code="en") is True
    with pytest.raises(TelegramBadRequest, match="Bad Request: description is too long"):
        await bot.set_my_description("d" * 513, language_code="da")
    with pytest.raises(TelegramBadRequest, match="Bad Request: short description is too long"):
        await bot.set_my_short_description("s" * 121)
    # Counted in UTF-16 code units: an emoji takes two.
    with pytest.raises(TelegramBadRequest, match="short description is too long"):
        await bot.set_my_short_description("🙂" * 61)
    for code in ("eng", "EN", "en-GB"):
        with pytest.raises(TelegramBadRequest, match="invalid language code specified"):
            await bot.set_my_description("x", language_code=code)
        with pytest.raises(TelegramBadRequest, match="invalid language code specified"):
            await bot.get_my_short_description(language_code=code)
    # A refused call changed nothing.
    assert emu.description_for() == "d" * 512 and emu.description_for("da") == "d" * 512
    assert emu.short_description_for("en") == "s" * 120 and emu.short_description_for() == ""

    status, body = await raw_call(http, "setMyDescription", json={"description": "x" * 600})
    assert (status, body) == (400, {"ok": False, "error_code": 400,
                                    "description": "Bad Request: description is too long"})
    status, body = await raw_call(http, "getMyShortDescription", data={"language_code": "en"})
    assert (status, body) == (200, {"ok": True, "result": {"short_description": "s" * 120}})

    emu.inject_fault(500, method="setMyDescription")
    with pytest.raises(TelegramServerError):
        await bot.set_my_description("never stored")
    assert emu.description_for() == "d" * 512


# --------------------------------------------------------------------------------------
# Faults, blocking and rate limits
# --------------------------------------------------------------------------------------


async def test_injected_faults(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = await known_phone(emu)
    await known_phone(emu, LARS, "Lars")

    emu.inject_fault(429, method="sendMessage", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(METTE, "a")
    assert caught.value.retry_after == 7
    assert "Too Many Requests: retry after 7" in caught.value.message
    await bot.send_message(METTE, "b")  # only the next call was faulted

    emu.inject_fault(500, chat_id=METTE, times=2)
    await bot.send_message(LARS, "other chat is fine")
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(METTE, "c")
    await bot.send_message(METTE, "d")

    emu.inject_fault(502, method="editMessageText")
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.edit_message_text("e", chat_id=METTE, message_id=2)

    assert [m.text for m in phone.bot_messages] == ["b", "d"]  # faulted calls did nothing
    assert [(r.method, r.chat_id) for r in emu.sent] == [
        ("sendMessage", METTE),
        ("sendMessage", LARS),
        ("sendMessage", METTE),
    ]


async def test_blocked_user(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = await known_phone(emu)
    sent = await bot.send_message(METTE, "hej", reply_markup=keyboard([("A", "a")]))
    await bot.get_updates(offset=-1)
    offset = (await bot.get_updates())[-1].update_id + 1

    emu.block(METTE)
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(METTE, "er du der?")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text("x", chat_id=METTE, message_id=sent.message_id)
    with pytest.raises(TelegramForbiddenError):
        await bot.send_document(METTE, BufferedInputFile(b"x", "x.txt"))
    [update] = await bot.get_updates(offset=offset)
    assert update.my_chat_member.new_chat_member.status == "kicked"

    emu.unblock(METTE)
    await bot.send_message(METTE, "velkommen tilbage")
    assert phone.bot_messages[-1].text == "velkommen tilbage"


async def test_rate_limit(emu: BotAPIEmulator, bot: Bot) -> None:
    await known_phone(emu)
    await known_phone(emu, LARS, "Lars")
    emu.set_rate_limit(per_chat_min_interval=10)
    await bot.send_message(METTE, "1")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(METTE, "2")
    assert caught.value.retry_after == 10
    await bot.send_message(LARS, "other chat")

    emu.set_rate_limit(global_per_s=2)
    await bot.send_message(METTE, "3")
    await bot.send_message(LARS, "4")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(METTE, "5")
    assert caught.value.retry_after == 1
    emu.set_rate_limit(None, None)
    await bot.send_message(METTE, "6")
    assert len({(r.chat_id, r.message_id) for r in emu.sent}) == len(emu.sent) == 5
    assert all(a.monotonic <= b.monotonic for a, b in zip(emu.sent, emu.sent[1:], strict=False))


# --------------------------------------------------------------------------------------
# Webhook
# --------------------------------------------------------------------------------------


async def test_webhook_delivery_secret_and_redelivery(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = emu.phone(METTE, "Mette")
    async with Receiver() as receiver:
        receiver.fail_next = 1
        assert await bot.set_webhook(receiver.url, secret_token="s3cret-token") is True
        info = await bot.get_webhook_info()
        assert info.url == receiver.url and info.pending_update_count == 0

        await phone.send("hej")
        await emu.wait_until(lambda: emu.pending_updates() == 0)
        assert len(receiver.received) == 2  # a 500, then redelivered
        assert receiver.received[0] == receiver.received[1]
        assert receiver.received[0]["message"]["text"] == "hej"
        assert receiver.secrets == ["s3cret-token", "s3cret-token"]
        info = await bot.get_webhook_info()
        assert "500" in info.last_error_message

        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()

        assert await bot.delete_webhook() is True
        await phone.send("efter")
        assert [u.message.text for u in await bot.get_updates()] == ["efter"]
        assert len(receiver.received) == 2


async def test_webhook_drop_pending_updates(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = emu.phone(METTE, "Mette")
    await phone.send("gammel")
    async with Receiver() as receiver:
        await bot.set_webhook(receiver.url, drop_pending_updates=True)
        assert emu.pending_updates() == 0
        await phone.send("ny")
        await emu.wait_until(lambda: len(receiver.received) == 1 and emu.pending_updates() == 0)
        assert receiver.received[0]["message"]["text"] == "ny"
        receiver.fail_next = 1_000  # the bot is down: updates stay pending
        await phone.send("tabt")
        await emu.wait_until(lambda: len(receiver.received) >= 2)
        assert await bot.delete_webhook(drop_pending_updates=True) is True
        assert emu.pending_updates() == 0
        assert (await bot.get_webhook_info()).url == ""


async def test_webhook_reply_method_is_executed(emu: BotAPIEmulator, bot: Bot) -> None:
    phone = emu.phone(METTE, "Mette")

    async def respond(update: dict[str, Any]) -> web.StreamResponse:
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "svar"})

    async with Receiver(respond) as receiver:
        await bot.set_webhook(receiver.url)
        await phone.send("spørgsmål")
        assert (await phone.wait_for("svar")).from_bot
        await emu.wait_idle()
        assert len(receiver.received) == 1


async def test_webhook_with_aiogram_handler_answering_in_response(emu: BotAPIEmulator) -> None:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> Any:
        return message.answer(f"Ekko: <i>{html.escape(message.text)}</i>")

    dp = Dispatcher()
    dp.include_router(router)
    bot = make_bot(emu, default=DefaultBotProperties(parse_mode="HTML"))
    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="abc").register(
        app, path="/webhook"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/webhook", secret_token="abc")
        phone = emu.phone(METTE, "Mette")
        await phone.send("<hej> & farvel")
        reply = await phone.wait_for("Ekko")
        assert reply.text == "Ekko: <hej> & farvel"
        assert reply.entity_texts() == [("italic", "<hej> & farvel")]
    finally:
        await runner.cleanup()
        await bot.session.close()


async def test_webhook_targets_round_robin_keep_chat_order(emu: BotAPIEmulator, bot: Bot) -> None:
    arrivals: list[tuple[int, str]] = []

    async def respond(update: dict[str, Any]) -> web.StreamResponse:
        message = update["message"]
        arrivals.append((message["chat"]["id"], message["text"]))
        return web.json_response({})

    async with Receiver(respond) as first, Receiver(respond) as second:
        first.fail_next = 2  # failures must not reorder a chat's updates
        await bot.set_webhook(first.url, max_connections=10)
        emu.set_webhook_targets([first.url, second.url])
        phones = [emu.phone(2000 + i, f"Person {i}") for i in range(3)]
        for n in range(5):
            for phone in phones:
                await phone.send(f"m{n}")
        await emu.wait_until(lambda: emu.pending_updates() == 0)

    assert first.received and second.received
    for phone in phones:
        texts = [text for chat_id, text in arrivals if chat_id == phone.user_id]
        assert texts == [f"m{n}" for n in range(5)]


# --------------------------------------------------------------------------------------
# The people-side HTTP API
# --------------------------------------------------------------------------------------


async def test_people_http_api(emu: BotAPIEmulator, bot: Bot, http: aiohttp.ClientSession):
    async def emu_post(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        async with http.post(path, json=body) as response:
            return response.status, await response.json()

    async def emu_get(path: str) -> dict[str, Any]:
        async with http.get(path) as response:
            assert response.status == 200
            return (await response.json())["result"]

    status, body = await emu_post(
        f"/_emu/users/{LARS}/send", {"text": "/start abc", "first_name": "Lars"}
    )
    assert status == 200 and body["result"]["text"] == "/start abc"
    [update] = await bot.get_updates()
    assert update.message.from_user.first_name == "Lars"

    await bot.send_message(LARS, "Vælg", reply_markup=keyboard([("Ja", "yes")]))
    status, body = await emu_post(f"/_emu/users/{LARS}/tap", {"button_text": "Ja"})
    assert status == 200 and body["result"]["callback_query_id"]
    status, body = await emu_post(f"/_emu/users/{LARS}/tap", {"button_text": "Måske"})
    assert status == 400 and "Måske" in body["description"]
    status, body = await emu_post(f"/_emu/users/{LARS}/tap", {"message_id": 2, "data": "forged"})
    assert status == 200

    for kind in ("photo", "sticker", "voice"):
        assert (await emu_post(f"/_emu/users/{LARS}/send", {"kind": kind}))[0] == 200
    status, body = await emu_post(
        f"/_emu/users/{LARS}/send",
        {"kind": "document", "file_name": "a.txt", "data_base64": base64.b64encode(b"hi").decode()},
    )
    assert status == 200 and body["result"]["document"]["file_name"] == "a.txt"
    status, body = await emu_post(
        f"/_emu/users/{LARS}/send", {"kind": "location", "latitude": 55.0, "longitude": 12.0}
    )
    assert status == 200

    await bot.send_document(LARS, BufferedInputFile(b"PDFDATA", "plan.pdf"), caption="Plan")
    chat = await emu_get(f"/_emu/users/{LARS}/chat")
    assert chat["cursor"] > 0
    last = chat["messages"][-1]
    assert last["from_bot"] and last["text"] == "Plan"
    assert base64.b64decode(last["document"]["data_base64"]) == b"PDFDATA"

    status, _ = await emu_post(
        "/_emu/faults", {"status": 429, "retry_after": 3, "method": "sendMessage"}
    )
    assert status == 200
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(LARS, "x")

    await emu_post("/_emu/block", {"chat_id": LARS, "blocked": True})
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(LARS, "x")
    await emu_post("/_emu/block", {"chat_id": LARS, "blocked": False})
    await bot.send_message(LARS, "igen")

    sent = await emu_get("/_emu/sent")
    assert [r["method"] for r in sent] == ["sendMessage", "sendDocument", "sendMessage"]

    wait = asyncio.create_task(
        http.get(
            f"/_emu/users/{LARS}/wait", params={"text": "senere", "after": str(chat["cursor"])}
        )
    )
    await bot.send_message(LARS, "kommer senere")
    async with await wait as response:
        assert response.status == 200
        assert (await response.json())["result"]["text"] == "kommer senere"

    async with http.get("/_emu/users/31337/chat") as response:
        assert response.status == 404


# --------------------------------------------------------------------------------------
# Groups, supergroups and channels
# --------------------------------------------------------------------------------------


async def test_group_ids_look_like_telegrams(emu: BotAPIEmulator) -> None:
    group, supergroup, channel = (emu.group("Familien"), emu.group("Personalet", "supergroup"),
                                  emu.group("Nyt", "channel"))
    assert group.id < 0 and not str(group.id).startswith("-100")
    assert str(supergroup.id).startswith("-100") and str(channel.id).startswith("-100")
    assert (group.kind, supergroup.kind, channel.kind) == ("group", "supergroup", "channel")
    assert group.bot_status == "left" and not group.bot_left
    with pytest.raises(ValueError):
        emu.group("x", "private")


async def test_adding_the_bot_to_a_group_queues_my_chat_member_and_the_service_message(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    mette = emu.phone(METTE, "Mette")
    group = emu.group("Familien")
    with pytest.raises(TelegramBadRequest, match="chat not found"):  # not in it yet
        await bot.send_message(group.id, "hej")
    group.add_bot(by=mette)
    member_update, joined = await bot.get_updates()
    change = member_update.my_chat_member
    assert change.chat.id == group.id and change.chat.type == "group"
    assert change.chat.title == "Familien" and change.from_user.id == METTE
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "member")
    assert change.new_chat_member.user.id == emu.bot_id
    assert joined.message.chat.id == group.id and joined.message.from_user.id == METTE
    assert [u.id for u in joined.message.new_chat_members] == [emu.bot_id]
    assert group.bot_status == "member"
    assert [m.kind for m in group.messages] == ["new_chat_members"] and group.bot_messages == []

    admins = emu.group("Personalet", "supergroup")
    admins.add_bot(by=mette, admin=True)
    [promoted, _] = await bot.get_updates(offset=joined.update_id + 1)
    assert promoted.my_chat_member.chat.type == "supergroup"
    assert promoted.my_chat_member.new_chat_member.status == "administrator"


async def test_group_messages_reach_the_bot_like_in_privacy_mode(emu: BotAPIEmulator, bot: Bot) -> None:
    mette, lars = emu.phone(METTE, "Mette"), emu.phone(LARS, "Lars")
    group = emu.group("Familien")
    await group.send(mette, "/start")  # the bot is not in the group: nothing reaches it
    assert emu.pending_updates() == 0
    group.add_bot(by=mette, notify=False)  # added long ago: no update now
    assert emu.pending_updates() == 0
    await group.send(mette, "/oversigt")
    await group.send(lars, "hej alle sammen")  # privacy mode: not for the bot
    await group.send(lars, "/start@other_bot")
    await group.send(lars, f"@{emu.bot_username} hjælp")
    await group.send(lars, "/start@samspil_test_bot abc")
    updates = await bot.get_updates()
    texts = [(u.message.from_user.id, u.message.text) for u in updates]
    assert texts == [(METTE, "/oversigt"), (LARS, f"@{emu.bot_username} hjælp"),
                     (LARS, "/start@samspil_test_bot abc")]
    command = updates[0].message
    assert command.chat.type == "group" and command.entities[0].type == "bot_command"
    assert [m.from_id for m in group.messages] == [METTE, METTE, LARS, LARS, LARS, LARS]
    assert not (await bot.get_me()).can_read_all_group_messages

    emu.privacy_mode = False
    await group.send(lars, "nu læser botten alt")
    [update] = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert update.message.text == "nu læser botten alt"


async def test_the_bot_writes_in_a_group_and_people_tap_its_buttons(emu: BotAPIEmulator, bot: Bot) -> None:
    mette, lars = emu.phone(METTE, "Mette"), emu.phone(LARS, "Lars")
    group = emu.group("Personalet", "supergroup")
    group.add_bot(by=mette, notify=False)
    sent = await bot.send_message(group.id, "Vælg", reply_markup=keyboard([("Ja", "yes")]))
    assert sent.chat.id == group.id and sent.chat.type == "supergroup"
    assert [m.text for m in group.bot_messages] == ["Vælg"]
    await bot.edit_message_text("Vælg nu", chat_id=group.id, message_id=sent.message_id,
                                reply_markup=keyboard([("Ja", "yes")]))
    query_id = await group.tap(lars, "Ja")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query.id == query_id and query.data == "yes" and query.from_user.id == LARS
    assert query.message.chat.id == group.id and query.message.text == "Vælg nu"
    await bot.answer_callback_query(query_id, text="Kun privat", show_alert=True)
    answer = await lars.wait_answer()
    assert answer.text == "Kun privat" and answer.show_alert
    await group.tap_data(mette, sent.message_id, "forged")
    [update] = await bot.get_updates(offset=update.update_id + 1)
    assert update.callback_query.data == "forged" and update.callback_query.from_user.id == METTE
    with pytest.raises(AssertionError, match="Nej"):
        await group.tap(lars, "Nej")
    assert mette.chat == [] and lars.chat == []  # nothing of it in their private chats


@pytest.mark.parametrize(("kind", "where"), [("group", "group chat"), ("supergroup", "supergroup chat")])
async def test_leave_chat_ends_the_bots_membership(
    emu: BotAPIEmulator, bot: Bot, kind: str, where: str
) -> None:
    mette = await known_phone(emu)
    group = emu.group("Familien", kind)
    group.add_bot(by=mette)
    await bot.send_message(group.id, "farvel")
    offset = (await bot.get_updates())[-1].update_id + 1
    assert await bot.leave_chat(group.id) is True
    assert group.bot_left and group.bot_status == "left"
    assert [m.kind for m in group.messages] == ["new_chat_members", "text", "left_chat_member"]
    assert [m.text for m in group.bot_messages] == ["farvel"]
    [gone] = await bot.get_updates(offset=offset)
    change = gone.my_chat_member
    assert change.from_user.id == emu.bot_id and change.chat.id == group.id
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("member", "left")

    for call in (lambda: bot.send_message(group.id, "er I der?"),
                 lambda: bot.leave_chat(group.id), lambda: bot.get_chat(group.id)):
        with pytest.raises(TelegramForbiddenError) as caught:
            await call()
        assert caught.value.message == f"Forbidden: bot is not a member of the {where}"
    assert await bot.get_updates(offset=gone.update_id + 1) == []
    await group.send(mette, "/start")  # the bot is gone: nothing reaches it
    assert emu.pending_updates() == 0
    with pytest.raises(TelegramBadRequest, match="can't be changed in private chats"):
        await bot.leave_chat(METTE)

    group.add_bot(by=mette)  # added again
    assert not group.bot_left and group.bot_status == "member"
    await bot.send_message(group.id, "hej igen")
    assert group.bot_messages[-1].text == "hej igen"
    group.remove_bot(by=mette, ban=True)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked"):
        await bot.send_message(group.id, "hallo?")


async def test_a_channel_gets_the_bot_as_administrator_and_sends_channel_posts(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    mette = emu.phone(METTE, "Mette")
    channel = emu.group("Nyt fra skolen", "channel")
    channel.add_bot(by=mette)
    await channel.send(mette, "Godmorgen")
    added, post = await bot.get_updates()
    assert added.my_chat_member.chat.type == "channel"
    assert added.my_chat_member.new_chat_member.status == "administrator"
    assert post.channel_post.text == "Godmorgen" and post.channel_post.sender_chat.id == channel.id
    assert post.channel_post.from_user is None
    await bot.leave_chat(channel.id)
    with pytest.raises(TelegramForbiddenError, match="not a member of the channel chat"):
        await bot.send_message(channel.id, "x")


async def test_groups_over_the_people_http_api(
    emu: BotAPIEmulator, bot: Bot, http: aiohttp.ClientSession
) -> None:
    async def emu_post(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        async with http.post(path, json=body) as response:
            return response.status, await response.json()

    emu.phone(METTE, "Mette")
    status, body = await emu_post("/_emu/groups", {"title": "Familien", "kind": "supergroup"})
    assert status == 200 and body["result"]["kind"] == "supergroup"
    group_id = body["result"]["id"]
    assert (await emu_post(f"/_emu/groups/{group_id}/add_bot", {"user_id": METTE}))[0] == 200
    status, body = await emu_post(f"/_emu/groups/{group_id}/send", {"user_id": METTE, "text": "/start"})
    assert status == 200 and body["result"]["chat"]["id"] == group_id
    await bot.send_message(group_id, "Vælg", reply_markup=keyboard([("Ja", "yes")]))
    status, body = await emu_post(f"/_emu/groups/{group_id}/tap", {"user_id": METTE, "button_text": "Ja"})
    assert status == 200 and body["result"]["callback_query_id"]
    assert [u.event_type for u in await bot.get_updates()] == [
        "my_chat_member", "message", "message", "callback_query"]
    await bot.leave_chat(group_id)
    async with http.get(f"/_emu/groups/{group_id}/chat") as response:
        chat = (await response.json())["result"]
    assert chat["bot_left"] and chat["bot_status"] == "left"
    assert [m["kind"] for m in chat["messages"]] == [
        "new_chat_members", "text", "text", "left_chat_member"]
    assert (await emu_post(f"/_emu/groups/{group_id}/send", {"user_id": 4242, "text": "x"}))[0] == 404
    assert (await emu_post("/_emu/groups/-1/send", {"user_id": METTE, "text": "x"}))[0] == 404


# --------------------------------------------------------------------------------------
# The whole loop: a real Dispatcher polling the emulator
# --------------------------------------------------------------------------------------


async def test_dispatcher_polling_full_loop(emu: BotAPIEmulator) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            "Velkommen! <b>Vælg</b> en mulighed",
            reply_markup=keyboard([("Ja tak", "yes"), ("Nej", "no")]),
        )

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"Du skrev: {html.escape(message.text)}")

    @router.callback_query(F.data == "yes")
    async def yes(callback: CallbackQuery) -> None:
        await callback.answer("Godt valg")
        await callback.message.edit_text("Du valgte <i>ja</i>")

    dp = Dispatcher()
    dp.include_router(router)
    bot = make_bot(emu, default=DefaultBotProperties(parse_mode="HTML"))

    mette = emu.phone(METTE, "Mette")
    lars = emu.phone(LARS, "Lars")
    async with polling(dp, bot):
        await mette.send("/start")
        welcome = await mette.wait_for("Velkommen")
        assert welcome.buttons == [["Ja tak", "Nej"]]
        assert welcome.entity_texts() == [("bold", "Vælg")]

        await lars.send("<hej> & farvel")
        assert (await lars.wait_for("Du skrev")).text == "Du skrev: <hej> & farvel"

        await mette.tap("Ja tak")
        edited = await mette.wait_for(lambda m: m.edited)
        assert edited.message_id == welcome.message_id
        assert edited.text == "Du valgte ja" and edited.buttons == []
        assert (await mette.wait_answer()).text == "Godt valg"

        await emu.wait_idle()
        assert emu.pending_updates() == 0
        assert [m.text for m in lars.bot_messages] == ["Du skrev: <hej> & farvel"]


# --------------------------------------------------------------------------------------
# The HTML parser on its own
# --------------------------------------------------------------------------------------


def test_parse_html_entities_and_offsets() -> None:
    text, entities = parse_html(
        '😀 <b>fed <i>og kursiv</i></b> <a href="https://example.com/?a=1&amp;b=2">link</a>'
    )
    assert text == "😀 fed og kursiv link"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 13},  # the emoji is two UTF-16 units
        {"type": "italic", "offset": 7, "length": 9},
        {"type": "text_link", "url": "https://example.com/?a=1&b=2", "offset": 17, "length": 4},
    ]


def test_parse_html_other_tags() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        '<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span>'
        "<blockquote expandable>q</blockquote><u>u</u><s>s</s><code>c</code>"
    )
    assert text == "x = 1stqusc"
    assert [e["type"] for e in entities] == [
        "pre",
        "spoiler",
        "spoiler",
        "expandable_blockquote",
        "underline",
        "strikethrough",
        "code",
    ]
    assert entities[0]["language"] == "python"


def test_parse_html_literal_ampersands_and_numeric_references() -> None:
    assert parse_html("A & B &co &#229;&#xE6; &#0; &lt") == ("A & B &co åæ &#0; <", [])


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b foo>x</b>", 'Expected equal sign in declaration of an attribute of the tag "b"'),
        ("æ</b>", "Unexpected end tag at byte offset 2"),  # byte offsets, not characters
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
    ],
)
def test_parse_html_errors(source: str, reason: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value).startswith(reason)


# --------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------


async def test_many_concurrent_sends(emu: BotAPIEmulator, bot: Bot) -> None:
    phones = [await known_phone(emu, 3000 + i, f"P{i}") for i in range(20)]
    assert emu.phone(3000, "someone else") is phones[0]  # one phone per person
    await asyncio.gather(
        *(bot.send_message(phone.user_id, f"besked {n}") for n in range(25) for phone in phones)
    )
    assert len(emu.sent) == 500
    for phone in phones:
        ids = [m.message_id for m in phone.bot_messages]
        assert ids == sorted(set(ids)) and len(ids) == 25
    await emu.wait_until(lambda: emu.inflight_requests == 0)
