"""Issue #12 (#10 in the issue's own numbering), people who are not in Telegram: a grandparent
without a smartphone, a young person under 16. The coordinator adds them without a link and enters
their consent, input and number for them; everyone sees it marked "skrevet af tovholderen for ...",
in the chat and in the PDFs. Inviting a young person under 16 by link is refused, with the way
that works instead."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from bot import admin
from bot.app import App
from bot.playbook import Cast, Person
from core.clock import FakeClock
from core.config import ConfigError, Settings
from handlers.on_behalf_views import ForAction, ForCb
from reports import gather
from reports.model import OverviewData, ReferatData
from reports.overview import render_overview
from reports.referat import render_referat
from storage import audit
from storage.models import AuditEvent, Consent, Dialog, InputEntry, Invitation, Participant, Score
from tests.helpers import (  # noqa: F401
    da,
    fresh_routers,
    new_bot,
    new_coordinator,
    open_dialog,
    participants,
    saw,
)
from tests.helpers_dialog import open_family

MARK = "skrevet af tovholderen for"


def t(app: App, msgid: str, **kw: object) -> str:
    """The Danish of a msgid, filled in."""
    return da(app, msgid).format(**kw)


def pdf_text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


async def seat_named(app: App, dialog_id: int, name: str) -> Participant:
    return next(p for p in await participants(app, dialog_id) if p.name == name)


async def add_offline(cast: Cast, app: App, coord: Person, name: str, role: str, relation: str | None) -> str:
    """/inviter, "Uden Telegram" under the name question, name, role (relation): the answer's text."""
    ask = await cast.say(coord, "/inviter", expect="Hvad hedder personen?")
    assert ask.buttons == [[da(app, "📵 No Telegram")]]
    await cast.tap(coord, "📵 No Telegram", expect="Der er intet link")
    await cast.say(coord, name)
    reply = await cast.tap(coord, role)
    if relation is not None:
        reply = await cast.say(coord, relation)
    assert reply is not None
    return reply.text


async def write_for(cast: Cast, app: App, coord: Person, name: str, area: str, boxes: list[str | None]) -> None:
    """From the seat's menu: write input in `area`, box by box (None skips one), and share it."""
    await cast.tap_text(coord, t(app, "Write input for {name}", name=name))
    await cast.tap_text(coord, area, expect=t(app, "What is {name} worried about?", name=name))
    for text in boxes:
        if text is None:
            await cast.tap(coord, "Skip this box")
        else:
            await cast.say(coord, text)
    review = coord.phone.bot_messages[-1]
    assert "kladde for" in review.text and MARK in review.text
    await cast.tap(coord, "Share", expect="Delt.")


async def test_a_grandmother_without_telegram_her_input_is_marked_for_everyone(cast: Cast, samspil: App) -> None:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord)
    text = await add_offline(cast, samspil, coord, "Inge", "Network", "Mormor")
    assert "✅ Inge (Mormor) er med i dialogen om Emma – uden Telegram." in text
    assert "Inge får ikke et link." in text and "https://t.me/" not in text
    inge = await seat_named(samspil, dialog_id, "Inge")
    assert (inge.offline, inge.person_id, inge.consent_giver, inge.role) == (True, None, False, "network")
    async with samspil.sessionmaker() as s:
        assert list(await s.scalars(select(Invitation).where(Invitation.participant_id == inge.id))) == []

    # Before the family's consent there is nothing to write: the menu says so.
    menu = await cast.tap_text(coord, t(samspil, "Write for {name}", name="Inge"))
    assert menu is not None and t(samspil, "You can write input for {name} when the family has given consent.",
                                  name="Inge") in menu.text
    assert menu.buttons == []

    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.join(mom)
    card = saw(mom, "Inge (Mormor)")
    assert card, "the consent card lists the grandmother"
    await cast.consent(mom)

    # /paa_vegne finds her again; the coordinator writes what she said, box by box, and shares it.
    listed = await cast.say(coord, "/paa_vegne")
    assert listed.buttons == [["Inge (Mormor)"]]
    await cast.tap_text(coord, "Inge (Mormor)", expect=MARK)
    area = samspil.dialog_config.areas[0].label("da")
    await write_for(cast, samspil, coord, "Inge", area, ["Hun sover dårligt.", None, "Mere ro om aftenen."])

    async with samspil.sessionmaker() as s:
        entry = await s.scalar(select(InputEntry).where(InputEntry.participant_id == inge.id))
        coord_id = (await s.get(Dialog, dialog_id)).coordinator_id
    assert entry is not None and entry.shared_at is not None and entry.written_by_id == coord_id
    assert (entry.worries, entry.works, entry.next_steps) == ("Hun sover dårligt.", None, "Mere ro om aftenen.")

    # The mother is told, marked, and reads it marked in /oversigt.
    notice = saw(mom, "Nyt input i dialogen om Emma")
    assert notice and f"{MARK} Inge (Mormor)" in notice[-1].text
    overview = await cast.say(mom, "/oversigt", expect="Hun sover dårligt.")
    assert f"{MARK} Inge (Mormor)" in overview.text

    # Her number on the ruler, shown marked in /vurdering.
    await cast.tap_text(coord, t(samspil, "Back to {name}", name="Inge"))
    await cast.tap_text(coord, t(samspil, "Put {name}'s number on the ruler", name="Inge"))
    await cast.tap_text(coord, "4", expect="Gemt: Inges tal er")
    async with samspil.sessionmaker() as s:
        score = await s.scalar(select(Score).where(Score.participant_id == inge.id))
    assert score is not None and score.value == 4 and score.written_by_id == coord_id
    assessment = await cast.say(mom, "/vurdering")
    assert f"{MARK} Inge (Mormor): 4" in assessment.text.replace("<b>", "").replace("</b>", "")

    # Every action on her behalf is in the audit log, with the coordinator as the actor.
    async with samspil.sessionmaker() as s:
        events = [(e.action, e.actor_id, e.participant_id) for e in await s.scalars(
            select(AuditEvent).where(AuditEvent.action.like("on_behalf.%")).order_by(AuditEvent.id))]
    assert (audit.OFFLINE_SEAT_ADDED, coord_id, inge.id) in events
    assert (audit.ON_BEHALF_INPUT_SHARED, coord_id, inge.id) in events
    assert (audit.ON_BEHALF_SCORE, coord_id, inge.id) in events
    assert {a for a, _, _ in events} >= {audit.ON_BEHALF_INPUT_WRITTEN}

    # The PDFs: the overview and the referat show the marking too.
    async with samspil.sessionmaker() as s:
        dialog = await s.get(Dialog, dialog_id)
        info = gather.dialog_info(dialog, samspil.settings)
        entries = await gather.round_entries(s, dialog, 1)
        history = await gather.score_history(s, dialog, 1)
        people = gather.participants(dialog)
    assert [e.by_coordinator for e in entries] == [True]
    assert history[0].by_coordinator == frozenset({inge.id})
    areas = tuple(samspil.dialog_config.areas)
    with samspil.i18n.context(), samspil.i18n.use_locale("da"):
        overview_pdf = render_overview(OverviewData(info, 1, entries, areas, score.created_at))
        referat_pdf = render_referat(ReferatData(info, 1, people, entries, history, samspil.dialog_config.ruler(
            "barn"), areas, await _plan(samspil, dialog_id), score.created_at, final=False))
    assert f"{MARK} Inge (Mormor)" in pdf_text(overview_pdf)
    assert pdf_text(referat_pdf).count(f"{MARK} Inge (Mormor)") >= 2  # her input and her number


async def _plan(app: App, dialog_id: int):  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as s:
        return await gather.plan_info(s, await s.get(Dialog, dialog_id))


async def test_the_coordinator_records_an_offline_consent_and_the_dialog_opens_when_all_said_yes(
    cast: Cast, samspil: App,
) -> None:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord, "Noah", "ung", "Noahs trivsel i fritiden.")
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")

    # The young person: "under 16?" yes -> no link, the reason and the way that works.
    await cast.say(coord, "/inviter", expect="Hvad hedder personen?")
    await cast.say(coord, "Sara")
    ask = await cast.tap(coord, "The young person", expect="Er Sara under 16 år?")
    assert ask is not None
    refused = await cast.tap(coord, "Yes, under 16")
    assert refused is not None and "Sara kan ikke få et link. I EU skal man være mindst 16 år" in refused.text
    assert "https://t.me/" not in refused.text
    assert refused.buttons == [[t(samspil, "📵 {name} takes part without Telegram", name="Sara")],
                               [da(samspil, "Cancel")]]
    added = await cast.tap_text(coord, t(samspil, "📵 {name} takes part without Telegram", name="Sara"))
    assert added is not None and "✅ Sara (Den unge) er med i dialogen om Noah – uden Telegram." in added.text
    sara = await seat_named(samspil, dialog_id, "Sara")
    assert (sara.offline, sara.consent_giver, sara.person_id) == (True, True, None)

    # The mother says yes in the bot: the dialog still waits for Sara.
    await cast.join(mom)
    await cast.consent(mom)
    async with samspil.sessionmaker() as s:
        assert (await s.get(Dialog, dialog_id)).state == "awaiting_consent"

    # The coordinator goes through the card with Sara and records her yes, given orally.
    await cast.tap_text(coord, t(samspil, "Write for {name}", name="Sara"))
    await cast.tap_text(coord, t(samspil, "Write {name}'s consent", name="Sara"), expect="Hej Sara")
    done = await cast.tap_text(coord, t(samspil, "✅ {name} said yes – orally", name="Sara"), expect="Gemt:")
    assert done is not None and "Sara har givet samtykke mundtligt den" in done.text
    assert "Alle har givet samtykke. Dialogen om Noah er åben nu." in done.text
    async with samspil.sessionmaker() as s:
        dialog = await s.get(Dialog, dialog_id)
        consent = await s.scalar(select(Consent).where(Consent.participant_id == sara.id))
    assert dialog.state == "active"
    assert consent is not None and consent.answer == "given" and consent.given_how == "oral"
    assert consent.recorded_by_id == dialog.coordinator_id and "Hej Sara" in consent.text_shown
    await cast.settle()
    assert saw(mom, "Noah"), "the mother hears that the dialog is open"

    # Sara withdraws (she told the coordinator on paper): the dialog pauses.
    await cast.tap_text(coord, t(samspil, "Back to {name}", name="Sara"))
    await cast.tap_text(coord, t(samspil, "{name} withdraws consent", name="Sara"))
    await cast.tap_text(coord, t(samspil, "Yes, {name} wrote it on paper", name="Sara"), expect="Gemt:")
    async with samspil.sessionmaker() as s:
        assert (await s.get(Dialog, dialog_id)).state == "paused"


async def test_a_young_person_of_a_childs_dialog_gets_no_link_and_cancel_saves_nothing(
    cast: Cast, samspil: App,
) -> None:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord)  # a child (0-14): under 16 without asking
    await cast.say(coord, "/inviter")
    await cast.say(coord, "Sofie")
    refused = await cast.tap(coord, "The young person")
    assert refused is not None and "Sofie kan ikke få et link" in refused.text
    await cast.tap(coord, "Cancel", expect=da(samspil, "Cancelled. Nothing was saved."))
    assert [p.name for p in await participants(samspil, dialog_id)] == ["Camilla Tovholder"]


async def test_nobody_but_the_coordinator_writes_for_anyone(cast: Cast, samspil: App) -> None:
    fam = await open_family(cast, samspil)
    await cast.say(fam.coord, "/inviter")
    await cast.tap(fam.coord, "📵 No Telegram")
    await cast.say(fam.coord, "Inge")
    await cast.tap(fam.coord, "Network")
    await cast.say(fam.coord, "Mormor", expect="uden Telegram")
    inge = await seat_named(samspil, fam.dialog_id, "Inge")
    assert inge.approval == "pending" and inge.joined_at is None  # the family decides, as for anyone
    for parent in (fam.mom, fam.dad):
        await cast.tap(parent, "✅ Approve")
    inge = await seat_named(samspil, fam.dialog_id, "Inge")
    assert inge.approval == "approved" and inge.joined_at is not None
    await cast.settle()
    assert saw(fam.coord, "Inge er med uden Telegram. Du skriver for Inge med /paa_vegne.")
    mette = await seat_named(samspil, fam.dialog_id, "Mette")
    area = samspil.dialog_config.areas[0].key

    # The family and the teacher forge the coordinator's buttons: refused, nothing changes.
    for who in (fam.mom, fam.teacher):
        for action, kw in ((ForAction.MENU, {}), (ForAction.AREA, {"value": area}), (ForAction.NUMBER, {"value": "3"}),
                           (ForAction.GIVEN, {"value": "oral"})):
            data = ForCb(action=action, participant_id=inge.id, **kw).pack()
            await who.phone.tap_data(who.phone.bot_messages[-1].message_id, data)
            await cast.settle()
            answer = who.phone.last_answer
            assert answer is not None and answer.show_alert, (who.name, action)
            assert answer.text == da(samspil, "Only the coordinator can do that."), (who.name, action)

    # The coordinator cannot write for someone who uses Telegram.
    await fam.coord.phone.tap_data(fam.coord.phone.bot_messages[-1].message_id,
                                   ForCb(action=ForAction.AREA, participant_id=mette.id, value=area).pack())
    await cast.settle()
    answer = fam.coord.phone.last_answer
    assert answer is not None and answer.show_alert and answer.text == t(
        samspil, "{name} uses Telegram and answers for themselves. "
                 "You write only for participants without Telegram.", name="Mette")
    await fam.coord.phone.tap_data(fam.coord.phone.bot_messages[-1].message_id,
                                   ForCb(action=ForAction.NUMBER, participant_id=mette.id, value="2").pack())
    await cast.settle()
    assert fam.coord.phone.last_answer.show_alert
    async with samspil.sessionmaker() as s:
        assert list(await s.scalars(select(InputEntry).where(InputEntry.written_by_id.is_not(None)))) == []
        assert list(await s.scalars(select(Score))) == []


async def test_the_data_of_a_participant_without_telegram_can_be_erased(
    cast: Cast, samspil: App, settings: Settings, clock: FakeClock,
) -> None:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord)
    await add_offline(cast, samspil, coord, "Inge", "Network", "Mormor")
    mom = cast.person("Mette")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.join(mom)
    await cast.consent(mom)
    await cast.say(coord, "/paa_vegne")
    await cast.tap_text(coord, "Inge (Mormor)")
    area = samspil.dialog_config.areas[0].label("da")
    await write_for(cast, samspil, coord, "Inge", area, ["INGE-SKREV Hun sover dårligt.", None, None])
    inge = await seat_named(samspil, dialog_id, "Inge")

    mark = coord.phone.mark()
    lines = await admin.erase_person(settings, participant_id=inge.id, clock=clock)
    assert lines[0] == f"Erased person {inge.id}: 1 seat(s)." and "Inge" not in "\n".join(lines)
    await cast.settle()
    assert any("har fået sine personoplysninger slettet" in m.text for m in new_bot(coord, mark))
    async with samspil.sessionmaker() as s:
        seat = await s.get(Participant, inge.id)
        left = [e.worries for e in await s.scalars(select(InputEntry))]
    assert seat is not None and seat.name != "Inge" and seat.person_id is None
    assert "INGE-SKREV Hun sover dårligt." not in left  # KEEP_ON_ERASE keeps consents and plan, not input
    with pytest.raises(ConfigError):  # already erased
        await admin.erase_person(settings, participant_id=inge.id, clock=clock)
    mette = await seat_named(samspil, dialog_id, "Mette")
    with pytest.raises(ConfigError):  # a seat in Telegram is erased by its person, not by its seat
        await admin.erase_person(settings, participant_id=mette.id, clock=clock)
