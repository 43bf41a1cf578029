"""People playing Samspil on phones against the local emulator.

The demo and the flow tests share these scripts: each step is what a person
does on their phone (send a text, tap a button) followed by waiting for the
bot's answer. Button texts are looked up in the person's language through the
same catalogs the bot uses, so the scripts follow the wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aiogram.utils.i18n import I18n

from bot.admin import add_staff
from bot.scheduler import OutboxScheduler
from core.clock import Clock
from core.config import Settings
from emulator import BotAPIEmulator, ChatMessage, Phone

LINK_RE = re.compile(r"https://t\.me/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]{1,64})")


def link_token(text: str) -> str:
    match = LINK_RE.search(text)
    if not match:
        raise AssertionError(f"no invitation link in {text!r}")
    return match.group(1)


@dataclass
class Person:
    phone: Phone
    name: str
    locale: str = "da"
    token: str | None = None

    def t(self, i18n: I18n, msgid: str) -> str:
        return i18n.gettext(msgid, locale=self.locale)


@dataclass
class Cast:
    """A scripted set of people around one running bot."""

    emu: BotAPIEmulator
    settings: Settings
    i18n: I18n
    clock: Clock
    scheduler: OutboxScheduler | None = None  # to send notices due now before going on
    people: dict[str, Person] = field(default_factory=dict)
    _next_id: int = 1000

    def person(self, name: str, *, locale: str = "da", user_id: int | None = None) -> Person:
        if user_id is None:
            self._next_id += 1
            user_id = self._next_id
        p = Person(self.emu.phone(user_id, name.split()[0], language_code=locale), name, locale)
        self.people[name] = p
        return p

    def t(self, who: Person, msgid: str) -> str:
        return who.t(self.i18n, msgid)

    async def settle(self) -> None:
        """Wait until the bot has handled every update sent so far.

        The bot confirms an update only after handling it (see bot/app.py), so an
        emulator with no pending update and no request in flight means: done. Then
        the notices those updates wrote are sent, until nothing is left.
        """
        while True:
            await self.emu.wait_idle(settle=0)
            if self.scheduler is None or not await self.scheduler.drain():
                return

    def _reply(self, who: Person, mark: int, expect: str | None) -> ChatMessage:
        new = [m for m in who.phone.bot_messages if m.version > mark]
        if expect:
            new = [m for m in new if expect in m.text]
        if not new:
            raise AssertionError(f"{who.name}: no bot reply{f' containing {expect!r}' if expect else ''}; "
                                 f"last: {[m.text[:80] for m in who.phone.bot_messages[-3:]]}")
        return new[-1]

    async def say(self, who: Person, text: str, expect: str | None = None) -> ChatMessage:
        """Send a text; when the bot is done, return its last reply (containing `expect`)."""
        mark = who.phone.mark()
        await who.phone.send(text)
        await self.settle()
        return self._reply(who, mark, expect)

    async def tap(self, who: Person, button: str, expect: str | None = None) -> ChatMessage | None:
        """Tap a button (its English msgid, translated for the person); returns the last reply."""
        return await self.tap_text(who, self.t(who, button), expect)

    async def tap_text(self, who: Person, label: str, expect: str | None = None) -> ChatMessage | None:
        """Tap a button by its literal text (an area name, a number, a dialog)."""
        mark = who.phone.mark()
        await who.phone.tap(label)
        await self.settle()
        new = [m for m in who.phone.bot_messages if m.version > mark]
        if expect is None:
            return new[-1] if new else None
        return self._reply(who, mark, expect)

    # ---- input, sharing, scaling ---------------------------------------------------------------

    async def write_input(self, who: Person, area_label: str, *, worries: str | None,
                          works: str | None, next_steps: str | None, child: str | None = None) -> None:
        """/input (in `child`'s dialog, else the newest, when asked which), an area, the three boxes
        in turn (None skips a box), ending at the review card."""
        await self._in_dialog(who, "/input", child)
        await self.fill_area(who, area_label, worries=worries, works=works, next_steps=next_steps)
        await self.tap(who, "See the draft")

    async def fill_area(self, who: Person, area_label: str, *, worries: str | None, works: str | None,
                        next_steps: str | None) -> None:
        """With the areas in front of them: one area, then its three boxes in turn (None skips a box),
        ending at the last box."""
        await self.tap_text(who, area_label)
        boxes = [worries, works, next_steps]
        for i, text in enumerate(boxes):
            if text:
                await self.say(who, text)
            if i < len(boxes) - 1:
                await self.tap(who, "Next ➡️" if text else "Skip ➡️")

    async def share_input(self, who: Person) -> None:
        """Share the draft on the review card, and the other drafts too when the answer offers it."""
        await self.tap(who, "✅ Share")
        answer = who.phone.bot_messages[-1]
        for row in (answer.reply_markup or {}).get("inline_keyboard", []):
            for button in row:
                if str(button.get("callback_data", "")).startswith("in:share_yes:"):
                    await self.tap_text(who, button["text"])
                    return

    async def scale(self, who: Person, value: int) -> None:
        await self.say(who, "/skala")
        await self.tap_text(who, str(value))
        await self.tap_text(who, self.t(who, "✅ Yes, save {value}").format(value=value))

    # ---- registration and opening ------------------------------------------------------------

    async def register(self, who: Person, role: str = "coordinator", title: str | None = None) -> None:
        link = await add_staff(self.settings, role=role, name=who.name, title=title, clock=self.clock)
        await self.say(who, f"/start {link_token(link)}")

    async def open_dialog(self, coordinator: Person, child: str, age_group: str, purpose: str) -> None:
        await self.say(coordinator, "/ny")
        await self.say(coordinator, child)
        button = "Child (0-14 years)" if age_group == "barn" else "Young person (15-30 years)"
        await self.tap(coordinator, button)
        await self.say(coordinator, purpose)
        await self.tap(coordinator, "✅ Open the dialog")

    async def invite(self, coordinator: Person, who: Person, role_msgid: str, relation: str | None) -> str:
        """Invite `who` (role by its English label); returns their personal link's token."""
        msg = await self.say(coordinator, "/inviter")
        if msg.buttons and msg.text == self.t(coordinator, "Which dialog do you want to invite someone to?"):
            # several dialogs: the newest is last (the name question has a button of its own)
            await self.tap_text(coordinator, msg.buttons[-1][0])
        await self.say(coordinator, who.name)
        reply = await self.tap(coordinator, role_msgid)
        if relation is not None:
            reply = await self.say(coordinator, relation, expect="https://t.me/")
        who.token = link_token(reply.text)
        return who.token

    async def set_contact(self, coordinator: Person, phone: str | None, email: str | None,
                          hours: str | None) -> ChatMessage | None:
        """/kontakt: the coordinator's phone, e-mail and when they can be reached, one step each
        (None skips a step); returns the answer that shows what families see."""
        await self.say(coordinator, "/kontakt")
        reply: ChatMessage | None = None
        for value in (phone, email, hours):
            reply = await self.say(coordinator, value) if value else await self.tap(coordinator, "Skip ➡️")
        return reply

    async def invite_without_telegram(self, coordinator: Person, name: str, role_msgid: str,
                                      relation: str | None) -> ChatMessage | None:
        """/inviter, "📵 No Telegram", the name, the role (its English label), the relation: a
        participant without Telegram (no link); returns the answer."""
        msg = await self.say(coordinator, "/inviter")
        if msg.buttons and msg.text == self.t(coordinator, "Which dialog do you want to invite someone to?"):
            await self.tap_text(coordinator, msg.buttons[-1][0])
        await self.tap(coordinator, "📵 No Telegram")
        await self.say(coordinator, name)
        reply = await self.tap(coordinator, role_msgid)
        if relation is not None:
            reply = await self.say(coordinator, relation)
        return reply

    async def _for_seat(self, coordinator: Person, seat_label: str) -> None:
        """/paa_vegne, then the seat by its label (e.g. "Inge (Mormor)"): that seat's menu."""
        await self.say(coordinator, "/paa_vegne")
        await self.tap_text(coordinator, seat_label)

    async def write_for(self, coordinator: Person, seat_label: str, name: str, area_label: str, *,
                        worries: str | None, works: str | None, next_steps: str | None) -> ChatMessage | None:
        """The coordinator writes input for a participant without Telegram (/paa_vegne): the seat,
        the area, the three boxes in turn (None skips a box), then shares it."""
        await self._for_seat(coordinator, seat_label)
        await self.tap_text(coordinator, self.t(coordinator, "Write input for {name}").format(name=name))
        await self.tap_text(coordinator, area_label)
        for text in (worries, works, next_steps):
            if text:
                await self.say(coordinator, text)
            else:
                await self.tap(coordinator, "Skip this box")
        return await self.tap(coordinator, "Share")

    async def score_for(self, coordinator: Person, seat_label: str, name: str, value: int) -> ChatMessage | None:
        """The coordinator puts the number of a participant without Telegram on the ruler."""
        await self._for_seat(coordinator, seat_label)
        await self.tap_text(coordinator, self.t(coordinator, "Put {name}'s number on the ruler").format(name=name))
        return await self.tap_text(coordinator, str(value))

    async def join(self, who: Person) -> ChatMessage:
        assert who.token, f"{who.name} has no invitation"
        return await self.say(who, f"/start {who.token}")

    async def consent(self, who: Person) -> None:
        await self.tap(who, "Yes, I give my consent")

    # ---- the dialog meeting and Mål & Plan (issue #4) -------------------------------------------

    async def _in_dialog(self, who: Person, command: str, child: str | None = None) -> ChatMessage:
        """Send `command`; if the bot asks which dialog, pick `child`'s (else the newest)."""
        reply = await self.say(who, command)
        if reply.text == self.t(who, "Which dialog is it about?") and reply.buttons:
            labels = [row[0] for row in reply.buttons]
            label = next((b for b in labels if child and child in b), labels[-1])
            reply = await self.tap_text(who, label) or reply
        return reply

    async def schedule_meeting(self, coordinator: Person, when: str, place: str,
                               child: str | None = None) -> ChatMessage:
        """/moede, the time as typed, the place, then send the invitation."""
        await self._in_dialog(coordinator, "/moede", child)
        await self.say(coordinator, when)
        await self.say(coordinator, place)
        return await self.tap(coordinator, "✅ Send the invitation")

    async def rsvp(self, who: Person, coming: bool = True) -> ChatMessage | None:
        """Answer the newest meeting notice: Jeg kommer / Jeg kan ikke."""
        return await self.tap(who, "✅ I'm coming" if coming else "❌ I can't come")

    async def open_meeting(self, coordinator: Person, child: str | None = None) -> ChatMessage | None:
        """On the day: /moede, then Start the meeting (the agenda card)."""
        await self._in_dialog(coordinator, "/moede", child)
        return await self.tap(coordinator, "▶️ Start the meeting")

    async def set_target(self, coordinator: Person, value: int) -> ChatMessage | None:
        """During the meeting: the joint target on the ruler."""
        await self.tap(coordinator, "🎯 Set the joint target")
        return await self.tap_text(coordinator, str(value))

    async def add_goal(self, coordinator: Person, area_label: str, text: str,
                       child: str | None = None) -> ChatMessage:
        """/plan, New goal, the area (its label), the goal's text; ends at the goal's card."""
        await self._in_dialog(coordinator, "/plan", child)
        await self.tap(coordinator, "➕ New goal")
        await self.tap_text(coordinator, area_label)
        return await self.say(coordinator, text)

    async def add_task(self, coordinator: Person, what: str, owner_label: str, start: str,
                       end: str) -> ChatMessage:
        """On the newest goal card: New task, what, who (a button's text), start and end date."""
        await self.tap(coordinator, "➕ New task")
        await self.say(coordinator, what)
        await self.tap_text(coordinator, owner_label)
        await self.say(coordinator, start)
        return await self.say(coordinator, end)

    async def send_plan(self, coordinator: Person, child: str | None = None) -> ChatMessage | None:
        await self._in_dialog(coordinator, "/plan", child)
        return await self.tap(coordinator, "📨 Send the plan for approval")

    async def accept_plan(self, who: Person) -> ChatMessage | None:
        """A consent giver taps Vi er enige on the newest plan notice."""
        return await self.tap(who, "✅ I agree")

    async def close_meeting(self, coordinator: Person, child: str | None = None, *, toggle: tuple[str, ...] = (),
                            summary: str | None = None, next_when: str | None = None,
                            next_place: str | None = None, case_ref: str | None = None) -> ChatMessage | None:
        """/moede, Close the meeting; who was there (tap each name in `toggle` once: present ->
        sent apologies -> absent), the summary (or none), the next meeting (or not yet), the
        case number (optional); then close and send the minutes."""
        await self._in_dialog(coordinator, "/moede", child)
        await self.tap(coordinator, "⏹ Close the meeting")
        for name in toggle:
            await self.tap_text(coordinator, name)
        await self.tap(coordinator, "Next ➡️")
        if summary:
            await self.say(coordinator, summary)
        else:
            await self.tap(coordinator, "No summary ➡️")
        if next_when:
            await self.tap(coordinator, "📅 Plan the next meeting")
            await self.say(coordinator, next_when)
            await self.say(coordinator, next_place or "")
        else:
            await self.tap(coordinator, "Not yet ➡️")
        if case_ref:
            await self.tap(coordinator, "🗂 Case number")
            await self.say(coordinator, case_ref)
        return await self.tap(coordinator, "✅ Close the meeting and send the minutes")

    async def task_done(self, who: Person) -> ChatMessage | None:
        """Udført on the newest task reminder."""
        return await self.tap(who, "✅ Done")

    async def task_help(self, who: Person) -> ChatMessage | None:
        """Brug for hjælp on the newest task reminder."""
        return await self.tap(who, "🆘 Need help")
