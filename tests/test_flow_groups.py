"""Issue #10 point 2: Samspil works in private chats only.

People add the bot to a group (the family's group chat, a staff group), a supergroup or a
channel and type there: every command, a text while the same person is mid-step in /input
in their private chat, a tap on a button of a bot message in the group, a personal
invitation link. The bot says once, in the group and without any name, that it works only
in a private chat (with a button that opens one) and leaves; nothing of a dialog is shown
there and nothing is read or written: no row, no conversation step, no record of the update.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import func, select

from bot.app import App
from bot.playbook import Cast, Person
from emulator import BotAPIEmulator, ChatMessage, Group
from storage.models import FsmRecord, ProcessedUpdate
from tests.helpers import snapshot
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    PURPOSE,
    Family,
    entries,
    fresh_routers,
    open_family,
)

KINDS = ["group", "supergroup"]
WORRY = "Emma sover dårligt og græder hver morgen før skole."
MID_STEP_TEXT = "Emma har haft en svær uge i klassen."
NOTICE_DA = ("Samspil virker kun i en privat chat med mig. Tryk på knappen for at åbne den. "
             "Jeg forlader denne chat nu.")
NOTICE_EN = ("Samspil only works in a private chat with me. Tap the button to open it. "
             "I am leaving this chat now.")
ALERT_DA = "Samspil virker kun i en privat chat med mig."
BOT_LINK = "https://t.me/samspil_test_bot"

# Every command the bot knows (core/menus.py and the handlers' Command filters), in Danish
# and English spellings, and addressed to the bot as group clients do (/cmd@bot).
PARTICIPANT_COMMANDS = ["/start", "/start@samspil_test_bot", "/input", "/skala", "/vurdering",
                        "/oversigt", "/moede", "/plan", "/samtykke", "/mine_data",
                        "/slet_mine_data", "/hjaelp", "/help", "/sprog", "/language",
                        "/annuller", "/cancel", "/oversigt@samspil_test_bot"]
COORDINATOR_COMMANDS = ["/ny", "/inviter", "/dialoger", "/brev", "/referat", "/indstilling", "/luk"]


@pytest.fixture
async def fam(cast: Cast, samspil: App) -> Family:
    """An active dialog about Emma in which the mother has shared what worries her."""
    family = await open_family(cast, samspil)
    await cast.write_input(family.mom, "Familieforhold", worries=WORRY, works=None, next_steps=None)
    await cast.share_input(family.mom)
    [entry] = await entries(family, family.mom)
    assert entry.shared_at is not None
    overview = await cast.say(family.dad, "/oversigt")
    assert WORRY in overview.text  # what must never show in a group
    return family


# ---- what the bot keeps, what people saw ----------------------------------------------------


async def conversations(app: App) -> list[tuple[Any, ...]]:
    """Every stored conversation step (the fsm_state table, with Redis too)."""
    async with app.sessionmaker() as s:
        return [(r.key, r.state, r.data) for r in await s.scalars(select(FsmRecord).order_by(FsmRecord.key))]


async def step_of(app: App, who: Person) -> tuple[str | None, dict[str, Any]]:
    """The person's conversation step in their private chat (either storage)."""
    uid = who.phone.user_id
    context = app.dp.fsm.resolve_context(app.bot, chat_id=uid, user_id=uid)
    return await context.get_state(), await context.get_data()


async def texts_written(fam: Family) -> list[tuple[Any, ...]]:
    return [(e.id, e.participant_id, e.worries, e.works, e.next_steps, e.shared_at)
            for e in await entries(fam)]


async def handled_updates(app: App) -> int:
    async with app.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0


def private_chats(people: list[Person]) -> dict[str, list[tuple[int, int]]]:
    return {p.name: [(m.message_id, m.version) for m in p.phone.chat] for p in people}


class Unchanged:
    """Everything a group update must leave as it was, taken before and compared after."""

    def __init__(self, cast: Cast, app: App, emu: BotAPIEmulator, people: list[Person]) -> None:
        self.cast, self.app, self.emu, self.people = cast, app, emu, people

    async def take(self) -> dict[str, Any]:
        return {
            "rows": await snapshot(self.app),
            "handled updates": await handled_updates(self.app),
            "conversation steps": await conversations(self.app),
            "private chats": private_chats(self.people),
        }

    def _watch(self, obj: Any, name: str) -> None:
        """Record every use of a group's conversation key (chat ids of groups are negative)."""
        original = getattr(obj, name)

        def watched(*args: Any, **kwargs: Any) -> Any:
            key = kwargs.get("key", args[0] if args else None)
            if getattr(key, "chat_id", 0) < 0:
                self.group_keys.append((name, key.chat_id))
            return original(*args, **kwargs)

        setattr(obj, name, watched)
        self.watched.append((obj, name))

    async def __aenter__(self) -> Unchanged:
        await self.cast.settle()
        # Not even read: the conversation storage and its lock never see a group's key.
        self.group_keys: list[tuple[str, int]] = []
        self.watched: list[tuple[Any, str]] = []
        for name in ("get_state", "get_data", "set_state", "set_data"):
            self._watch(self.app.dp.storage, name)
        self._watch(self.app.dp.fsm.events_isolation, "lock")
        self.before = await self.take()
        self.steps = {p.name: await step_of(self.app, p) for p in self.people}
        self.sent_from = len(self.emu.sent)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for obj, name in self.watched:
            delattr(obj, name)
        if exc[0] is not None:
            return
        await self.cast.settle()
        assert self.group_keys == [], "the conversation storage was asked about a group"
        after = await self.take()
        for what, value in self.before.items():
            assert after[what] == value, f"{what} changed"
        for p in self.people:
            assert await step_of(self.app, p) == self.steps[p.name], f"{p.name}'s step changed"
        private = [r for r in self.emu.sent[self.sent_from:] if r.chat_id > 0]
        assert private == [], "the bot wrote to a private chat"


def nothing_of_the_dialog(group: Group, fam: Family, *extra: str) -> None:
    """No name, no text of the dialog, no document anywhere in the group."""
    names = ["Emma", "Camilla", "Tovholder", "Mette", "Lars", "Hanne", "Klasselærer", "Mor", "Far"]
    for message in group.bot_messages:
        assert message.document is None and message.kind == "text"
        for fragment in [*names, WORRY, PURPOSE, *extra]:
            assert fragment not in message.text, f"{fragment!r} shown in the group"
            assert fragment not in str(message.reply_markup), f"{fragment!r} in a group button"


def the_notice(message: ChatMessage, text: str = NOTICE_DA, button: str = "Åbn Samspil") -> None:
    assert message.text == text
    [[open_it]] = message.reply_markup["inline_keyboard"]
    assert open_it == {"text": button, "url": BOT_LINK}
    assert not message.protect_content  # nothing personal in it


def said_once_and_left(group: Group, emu: BotAPIEmulator) -> None:
    [notice] = group.bot_messages
    the_notice(notice)
    assert group.bot_left and group.bot_status == "left"
    assert group.messages[-1].kind == "left_chat_member"
    assert [r.chat_id for r in emu.sent if r.chat_id == group.id] == [group.id]


# ---- the bot is added to a group ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_added_to_a_group_it_says_once_without_names_and_leaves(
        fam: Family, cast: Cast, samspil: App, emu: BotAPIEmulator, kind: str) -> None:
    mom = fam.mom
    group = emu.group("Familien Jensen", kind)
    async with Unchanged(cast, samspil, emu, fam.everyone):
        group.add_bot(by=mom.phone)  # my_chat_member, then the service message naming the bot
        await cast.settle()
    said_once_and_left(group, emu)
    nothing_of_the_dialog(group, fam, "Jensen")
    assert emu.calls["leaveChat"] == 1

    # Added again, and before the bot gets to it the mother asks for the overview and the
    # father for his dialogs: still one message, and it leaves again.
    again = emu.group("Familien igen", kind)
    async with Unchanged(cast, samspil, emu, fam.everyone):
        again.add_bot(by=mom.phone)
        await again.send(mom.phone, "/oversigt")
        await again.send(fam.dad.phone, "/start")
        await again.send(fam.coord.phone, "/dialoger")
        await cast.settle()
    said_once_and_left(again, emu)
    nothing_of_the_dialog(again, fam)
    assert emu.calls["leaveChat"] == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_every_command_a_mid_step_text_a_tap_and_a_link_in_a_group_show_and_change_nothing(
        fam: Family, cast: Cast, samspil: App, emu: BotAPIEmulator, kind: str) -> None:
    """Each in a group of its own where the bot already is (added before it asked for
    my_chat_member updates), as an administrator so it reads every message."""
    coord, mom = fam.coord, fam.mom
    nurse = cast.person("Sundhedsplejerske Birte")
    token = await cast.invite(coord, nurse, "Professional", "Sundhedsplejerske")
    # The mother is mid-step in her private chat: /input, an area, the first box waits.
    await cast.say(mom, "/input")
    step1 = await cast.tap_text(mom, "Familieforhold", expect="trin 1 af 3")
    waiting = await step_of(samspil, mom)
    assert waiting[0] is not None
    drafts = await texts_written(fam)
    # Buttons from the private chats, as an earlier version of the bot could have left
    # them in a group: the input areas and the overview's.
    overview = await cast.say(fam.dad, "/oversigt")
    buttons = [b for m in (step1, overview) for row in m.reply_markup["inline_keyboard"] for b in row
               if "callback_data" in b]
    assert len(buttons) >= 2

    def new_group(n: int) -> Group:
        group = emu.group(f"Gruppe {n}", kind)
        group.add_bot(by=mom.phone, admin=True, notify=False)
        return group

    groups: list[Group] = []
    async with Unchanged(cast, samspil, emu, [*fam.everyone, nurse]):
        plays: list[tuple[Person, str]] = [(mom, c) for c in PARTICIPANT_COMMANDS]
        plays += [(coord, c) for c in [*COORDINATOR_COMMANDS, *PARTICIPANT_COMMANDS]]
        plays += [(nurse, f"/start {token}"), (mom, f"/start {token}"),
                  (mom, MID_STEP_TEXT), (mom, "Hej, kan I se det her?")]
        for who, text in plays:
            group = new_group(len(groups))
            groups.append(group)
            await group.send(who.phone, text)
            await cast.settle()
            said_once_and_left(group, emu)
            nothing_of_the_dialog(group, fam, MID_STEP_TEXT)
        for button in buttons:
            group = new_group(len(groups))
            groups.append(group)
            markup = InlineKeyboardMarkup.model_validate({"inline_keyboard": [[button]]})
            posted = await samspil.bot.send_message(group.id, "Vælg", reply_markup=markup)
            for who in (mom, coord):
                await group.tap_data(who.phone, posted.message_id, button["callback_data"])
                await cast.settle()
                answer = who.phone.last_answer
                assert answer is not None and answer.text == ALERT_DA and answer.show_alert
            assert [m.text for m in group.bot_messages] == ["Vælg", NOTICE_DA]
            the_notice(group.bot_messages[-1])
            assert group.bot_left
            nothing_of_the_dialog(group, fam)
    assert await texts_written(fam) == drafts  # the text typed in the group is no draft
    assert emu.calls["leaveChat"] == len(groups)
    assert nurse.phone.chat == []  # the link used in a group did nothing

    # Her private conversation goes on where it was.
    saved = await cast.say(mom, MID_STEP_TEXT)
    assert "✓ Gemt i din kladde" in saved.text


async def test_a_channel_an_english_speaker_and_being_removed(
        fam: Family, cast: Cast, samspil: App, emu: BotAPIEmulator) -> None:
    english = cast.person("Ann Smith", locale="en")
    channel = emu.group("Nyt fra skolen", "channel")
    staff = emu.group("Staff", "supergroup")
    removed = emu.group("Familien", "group")
    async with Unchanged(cast, samspil, emu, [*fam.everyone, english]):
        channel.add_bot(by=fam.teacher.phone)
        staff.add_bot(by=english.phone)
        removed.add_bot(by=fam.mom.phone, notify=False)
        removed.remove_bot(by=fam.dad.phone)  # taken out of the group: nothing to say, nowhere
        await cast.settle()
    [post] = channel.bot_messages
    the_notice(post)
    assert channel.bot_left
    [notice] = staff.bot_messages
    the_notice(notice, NOTICE_EN, "Open Samspil")
    assert staff.bot_left
    assert removed.bot_messages == [] and not removed.bot_left
    assert emu.calls["leaveChat"] == 2


async def test_private_chats_work_as_before_blocking_included(
        fam: Family, cast: Cast, samspil: App, emu: BotAPIEmulator) -> None:
    group = emu.group("Familien", "group")
    group.add_bot(by=fam.mom.phone)
    await cast.settle()
    assert group.bot_left
    emu.block(fam.dad.phone.user_id)  # a private my_chat_member (kicked) reaches the bot now
    emu.unblock(fam.dad.phone.user_id)
    await cast.settle()
    assert emu.internal_errors == []
    overview = await cast.say(fam.dad, "/oversigt")
    assert WORRY in overview.text
    assert await handled_updates(samspil) > 0


async def test_inline_mode_and_channel_posts_it_does_not_ask_for(
        fam: Family, cast: Cast, samspil: App, emu: BotAPIEmulator) -> None:
    """Updates outside allowed_updates, as if Telegram sent them anyway (fed straight in)."""
    mom = fam.mom.phone.user
    channel = emu.group("Nyt fra skolen", "channel")
    channel.add_bot(by=fam.teacher.phone, notify=False)
    chat = {"id": channel.id, "type": "channel", "title": channel.title}
    updates = [
        {"update_id": 900001, "inline_query": {"id": "1", "from": mom, "query": "Emma", "offset": ""}},
        {"update_id": 900002, "chosen_inline_result": {"result_id": "1", "from": mom, "query": "Emma"}},
        {"update_id": 900003, "callback_query": {"id": "2", "from": mom, "chat_instance": "1",
                                                 "inline_message_id": "AAA", "data": "ov:1"}},
        {"update_id": 900004, "channel_post": {"message_id": 1, "date": 0, "chat": chat,
                                               "sender_chat": chat, "text": "/oversigt"}},
    ]
    answered = emu.calls["answerCallbackQuery"]
    async with Unchanged(cast, samspil, emu, fam.everyone):
        for raw in updates:
            await samspil.dp.feed_raw_update(samspil.bot, raw)
    [post] = channel.bot_messages
    the_notice(post)
    assert channel.bot_left and emu.calls["leaveChat"] == 1
    assert emu.calls["answerCallbackQuery"] == answered  # the inline button: not even answered
