"""Issue #12, "Done when": a new parent walks from the invitation link to the plan by buttons alone.

Mette types no slash command at all: she opens her link (Telegram sends `/start <token>` for
her), gives consent by button, reaches the input by a button, writes three boxes in one area and
shares, puts her number on the ruler, answers the meeting invitation and agrees to the plan.
Every step is reached by a button of the one before, or from the home card and the main menu
(handlers/home.py). The coordinator sets things up and may use commands.

Buttons of the input flow are found by their callback data (`in:<action>:...`), not their
wording, so the test follows that flow's own changes.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.playbook import Cast, Person
from core.clock import FakeClock
from emulator import ChatMessage
from rules.dialog_config import load_dialog_config
from storage.models import Consent, InputEntry, MeetingResponse, Participant, PlanAnswer, Score
from tests.helpers import (
    da,
    fresh_routers,  # noqa: F401 (an autouse fixture)
    fsm,
    new_coordinator,
    open_dialog,
)
from tests.sql_count import SqlCount, counted

WORRIES = "Emma er ked af det om morgenen og vil ikke i skole."
WORKS = "Hun elsker at tegne, og hun har en god veninde i klassen."
NEXT_STEPS = "Vi ønsker, at hun får en voksen, hun kan gå til i frikvarteret."
MENU = ["Mit næste skridt", "Skriv input", "Linealen", "Overblik"]


# ---- finding buttons by what they do ----------------------------------------------------------------


def _buttons(message: ChatMessage) -> list[dict]:  # type: ignore[type-arg]
    return [b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row]


def find_button(who: Person, match) -> tuple[ChatMessage, dict] | None:  # type: ignore[no-untyped-def,type-arg]
    """The newest bot message's button whose callback data satisfies `match`."""
    for message in reversed(who.phone.bot_messages):
        for button in _buttons(message):
            if match(button.get("callback_data", "")):
                return message, button
    return None


def action(prefix: str, name: str):  # type: ignore[no-untyped-def]
    """Callback data `prefix:name:...` (e.g. the input flow's `in:share:...`)."""
    return lambda data: data.split(":")[:2] == [prefix, name]


async def press(cast: Cast, who: Person, match, what: str) -> ChatMessage | None:  # type: ignore[no-untyped-def]
    found = find_button(who, match)
    assert found is not None, f"{who.name}: no button to {what}; last: {[m.text[:60] for m in who.phone.bot_messages[-3:]]}"
    message, button = found
    mark = who.phone.mark()
    await who.phone.tap_data(message.message_id, button["callback_data"])
    await cast.settle()
    new = [m for m in who.phone.bot_messages if m.version > mark]
    return new[-1] if new else None


def menu_of(message: ChatMessage) -> list[str]:
    """The reply keyboard (main menu) a message carries, as its labels."""
    rows = (message.reply_markup or {}).get("keyboard", [])
    return [b["text"] if isinstance(b, dict) else b for row in rows for b in row]


async def next_step_to(cast: Cast, who: Person, flow: str) -> ChatMessage | None:
    """Take the next step to `flow` (a PickDialogCb button: `pick:<flow>:<dialog>`): the button under the
    last answer if there is one, else from the home card behind the menu's "Mit næste skridt"."""
    if find_button(who, action("pick", flow)) is None:
        home = await cast.say(who, "Mit næste skridt")
        assert home.buttons, home.text
    return await press(cast, who, action("pick", flow), f"go to {flow}")


async def seat(app: App, name: str) -> Participant:
    async with app.sessionmaker() as s:
        return next(p for p in await s.scalars(select(Participant)) if p.name == name)


# ---- the walk ----------------------------------------------------------------------------------------


async def test_a_new_parent_walks_from_the_link_to_the_plan_by_buttons_alone(
    cast: Cast, samspil: App, clock: FakeClock,
) -> None:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord)
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    area = load_dialog_config().areas[0]

    # The link: the consent card.
    card = await cast.join(mom)
    assert "Hvis du siger ja, giver du dit samtykke" in card.text or card.buttons, card.text

    # Consent by button: thanks with the main menu, then the next step with its button.
    mark = mom.phone.mark()
    await press(cast, mom, action("consent", "given"), "give consent")
    answers = [m for m in mom.phone.bot_messages if m.version > mark]
    thanks = next(m for m in answers if m.text.startswith("Tak. Dit samtykke er gemt"))
    assert "Dialogen om Emma er nu i gang." in thanks.text and "/hjaelp" not in thanks.text
    assert menu_of(thanks) == MENU
    assert thanks.reply_markup.get("is_persistent") is True
    step = answers[-1]
    assert step.text == ("Næste skridt: Skriv, hvad du er bekymret for, hvad der går godt, "
                         "og hvad du ønsker, der skal ske.")
    assert step.buttons == [["✏️ Skriv dit input"]]

    # The input by that button: the areas; one area, three boxes, and sharing.
    areas = await press(cast, mom, action("pick", "input"), "write input")
    assert area.label_da in [b for row in areas.buttons for b in row] or any(
        area.label_da in b for row in areas.buttons for b in row)
    await press(cast, mom, lambda d: action("in", "area")(d) and d.endswith(f":{area.key}"), "pick an area")
    for i, text in enumerate([WORRIES, WORKS, NEXT_STEPS]):
        await cast.say(mom, text)
        if i < 2:
            await press(cast, mom, action("in", "next"), "go on to the next box")
    def share(d: str) -> bool:
        return action("in", "share")(d) or action("in", "share_one")(d)

    for _ in range(3):  # to the draft and its share button, whichever buttons the flow shows
        if find_button(mom, share) is not None:
            break
        await press(cast, mom, lambda d: action("in", "next")(d) or action("in", "review")(d), "see the draft")
    await press(cast, mom, share, "share")
    if any(action("in", "share_yes")(b.get("callback_data", "")) for b in _buttons(mom.phone.bot_messages[-1])):
        await press(cast, mom, action("in", "share_yes"), "confirm sharing")
    async with samspil.sessionmaker() as s:
        [entry] = list(await s.scalars(select(InputEntry).where(InputEntry.dialog_id == dialog_id)))
    assert (entry.area, entry.worries, entry.works, entry.next_steps) == (area.key, WORRIES, WORKS, NEXT_STEPS)
    assert entry.shared_at is not None

    # The ruler by the next step's button; then she is done for now.
    ruler = await next_step_to(cast, mom, "skala")
    assert "linealen" in ruler.text.lower() or ruler.buttons
    await cast.tap_text(mom, "7")
    saved = await press(cast, mom, action("sk", "confirm"), "save the number")
    assert saved.text.startswith("Gemt: 7")
    assert "Du er færdig for nu. Jeg skriver til dig, når der er noget nyt." in saved.text
    assert saved.buttons == []

    # The coordinator calls a meeting; from the menu she sees it is next, and answers.
    await cast.schedule_meeting(coord, "3/12 kl. 14", "Skolen, mødelokale 2")
    home = await cast.say(mom, "Mit næste skridt")
    assert home.text.startswith("Hej Mette.\n\nEmma\nDu er inviteret til dialogmøde")
    assert "dialogen om" not in home.text  # one dialog: the child's name, not "dialogen om Emma"
    assert home.buttons[0] == ["🗓 Svar på invitationen"]
    meeting = await press(cast, mom, action("pick", "moede"), "see the meeting")
    assert "3. december 2026" in meeting.text
    answered = await press(cast, mom, lambda d: d.startswith("rsvp:") and d.endswith(":1"), "say I'm coming")
    assert "Du er færdig for nu." in answered.text

    # The coordinator makes the plan and sends it; from the menu she reads it and agrees.
    await cast.add_goal(coord, load_dialog_config().areas[1].label_da, "Emma skal trives i frikvarteret.")
    await cast.add_task(coord, "Aftale en fast voksen i frikvarteret.", "Camilla Tovholder", "1/12", "18/12")
    await cast.send_plan(coord)
    home = await cast.say(mom, "Mit næste skridt")
    assert "Planen er sendt til dig. Læs den, og sig, om du er enig." in home.text
    plan = await press(cast, mom, action("pick", "plan"), "read the plan")
    assert "Emma skal trives i frikvarteret." in plan.text
    agreed = await press(cast, mom, action("pa", "agree"), "agree")
    assert "Du er færdig for nu." in agreed.text

    # What was stored.
    me = await seat(samspil, "Mette")
    async with samspil.sessionmaker() as s:
        consents = [c.answer for c in await s.scalars(select(Consent).where(Consent.participant_id == me.id))]
        scores = [x.value for x in await s.scalars(select(Score).where(Score.participant_id == me.id))]
        rsvps = [r.coming for r in await s.scalars(select(MeetingResponse).where(
            MeetingResponse.participant_id == me.id))]
        plan_answers = [a.agrees for a in await s.scalars(select(PlanAnswer).where(PlanAnswer.participant_id == me.id))]
    assert (consents, scores, rsvps, plan_answers) == (["given"], [7], [True], [True])

    # She typed no command: only her link (opened for her as /start <token>), box texts and menu taps.
    typed = [m.text for m in mom.phone.chat if not m.from_bot]
    assert [t for t in typed if t.startswith("/")] == [f"/start {mom.token}"]
    assert set(typed) - {f"/start {mom.token}", WORRIES, WORKS, NEXT_STEPS} <= set(MENU)


# ---- the menu in the middle of a step --------------------------------------------------------------


async def parent_in_open_dialog(cast: Cast, samspil: App, name: str = "Mette", locale: str = "da") -> Person:
    coord = await new_coordinator(cast)
    await open_dialog(cast, samspil, coord)
    mom = cast.person(name, locale=locale)
    await cast.invite(coord, mom, "Parent with custody", "Mor" if locale == "da" else "Mother")
    await cast.join(mom)
    await cast.consent(mom)
    return mom


async def test_menu_entries_mid_input_step_are_never_stored_as_input(cast: Cast, samspil: App) -> None:
    mom = await parent_in_open_dialog(cast, samspil)
    areas = load_dialog_config().areas
    nothing_meant = da(samspil, "I'm not sure what you mean. Tap the button to see what is next for you, "
                                "or type /hjaelp.")
    for area, label in zip(areas, MENU, strict=False):
        await cast.say(mom, "Skriv input")  # the menu: the areas
        await press(cast, mom, lambda d, a=area: action("in", "area")(d) and d.endswith(f":{a.key}"), "pick an area")
        if area is areas[0]:
            await cast.say(mom, WORRIES)  # saved in the first box at once
        assert (await fsm(samspil, mom))[0] == "InputFlow:writing"
        reply = await cast.say(mom, label)
        assert reply.text != nothing_meant
        if label == "Skriv input":
            assert find_button(mom, action("in", "area")) is not None
        else:  # the step is left; what she wrote is kept
            assert (await fsm(samspil, mom))[0] is None, label
        if label == "Linealen":
            assert reply.buttons[:2] == [["1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]

    home = await cast.say(mom, "Mit næste skridt")
    assert "Du har skrevet input, som kun du kan se. Del det, når du er klar." in home.text
    assert home.buttons[0] == ["📤 Se og del dit input"]
    async with samspil.sessionmaker() as s:
        entries = list(await s.scalars(select(InputEntry).order_by(InputEntry.id)))
    assert entries[0].worries == WORRIES and not entries[0].works and not entries[0].next_steps
    boxes = [e.worries or "" for e in entries] + [e.works or "" for e in entries] + [e.next_steps or "" for e in entries]
    assert not any(label in box for label in MENU for box in boxes)
    assert all(e.shared_at is None for e in entries)


async def test_the_menu_leaves_kept_loose_text_kept(cast: Cast, samspil: App) -> None:
    mom = await parent_in_open_dialog(cast, samspil)
    await cast.say(mom, "Emma sover dårligt igen.")
    state, data = await fsm(samspil, mom)
    assert state == "LooseText:kept"
    for label in MENU:
        await cast.say(mom, label)
        assert await fsm(samspil, mom) == (state, data), label  # the question stays open, the text kept
    # The question's buttons still work afterwards.
    assert find_button(mom, action("loose", "drop")) is not None


async def test_english_menu_labels_work_too(cast: Cast, samspil: App) -> None:
    mom = await parent_in_open_dialog(cast, samspil, "Mette", locale="en")
    consent_thanks = next(m for m in mom.phone.bot_messages if menu_of(m))
    assert menu_of(consent_thanks) == ["My next step", "Write input", "The ruler", "Overview"]
    home = await cast.say(mom, "My next step")
    assert home.text.startswith("Hi Mette.\n\nEmma\nWrite what worries you")
    assert home.buttons[0] == ["✏️ Write your input"]
    # A label in the other language is understood as well (the keyboard outlives a change of language).
    ruler = await cast.say(mom, "Linealen")
    assert ruler.buttons[:2] == [["1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]


# ---- a parent in two dialogs; the home's cost -----------------------------------------------------


async def test_a_parent_in_two_dialogs_sees_each_childs_next_step_for_the_same_few_queries(
    cast: Cast, samspil: App, clock: FakeClock,
) -> None:
    from services import home as home_service
    from storage.models import Person as PersonRow

    coord = await new_coordinator(cast)
    await open_dialog(cast, samspil, coord, child="Emma")
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.join(mom)
    await cast.consent(mom)

    async def home_cost() -> tuple[int, list]:  # type: ignore[type-arg]
        # Only this code's statements: a scheduler round may run beside it on the same engine.
        counter = SqlCount(samspil)
        try:
            async with samspil.sessionmaker() as s:
                person = await s.scalar(select(PersonRow).where(PersonRow.telegram_id == mom.phone.user_id))
                with counter.here() as statements:
                    homes = await home_service.home(s, person, clock.now())
        finally:
            counter.close()
        return counted(statements), homes

    one, homes = await home_cost()
    assert [h.next.step for h in homes] == ["write_input"]

    await open_dialog(cast, samspil, coord, child="Oskar")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.join(mom)
    await cast.consent(mom)
    await cast.say(mom, "Linealen")  # the menu asks which dialog
    await cast.tap_text(mom, "Dialogen om Oskar")
    await cast.tap_text(mom, "3")
    saved = await press(cast, mom, action("sk", "confirm"), "save the number")
    assert "Næste skridt:" in saved.text  # Oskar's input is still to come
    two, homes = await home_cost()
    assert len(homes) == 2
    assert 0 < two <= one + 2, (one, two)  # the dialogs' rows load with the seats; the facts cost the same

    home = await cast.say(mom, "Mit næste skridt")
    assert home.text.startswith("Hej Mette.\n\nEmma\n")
    assert "\n\nOskar\n" in home.text
    labels = [row[0] for row in home.buttons]
    assert any(label.startswith("Emma: ") for label in labels)
    assert any(label.startswith("Oskar: ") for label in labels)
