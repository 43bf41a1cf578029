"""Issue #2, `/ny`, `/inviter` and `/dialoger`: opening a dialog step by step, inviting with
personal single-use links (stored only as hashes), several dialogs, the coordinator's list."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from bot.playbook import Cast, Person
from core.clock import FakeClock
from emulator import BotAPIEmulator
from rules.tokens import hash_token
from storage.models import FsmRecord, Invitation, Participant, Registration
from tests.helpers import (
    PURPOSE,
    da,
    dialogs,
    fresh_routers,  # noqa: F401
    fsm,
    new_bot,
    new_coordinator,
    open_dialog,
    participants,
    saw,
    snapshot,
)


async def to_summary(cast: Cast, coord: Person, child: str, purpose: str) -> str:
    await cast.say(coord, "/ny", expect="Hvad er barnets fornavn?")
    reply = await cast.say(coord, child, expect="Hvor gammel er")
    assert reply.buttons == [["Barn (0-14 år)"], ["Ung (15-30 år)"]]
    await cast.tap(coord, "Child (0-14 years)", expect="trin 3 af 3")
    summary = await cast.say(coord, purpose, expect="Tjek dialogen")
    assert summary.buttons == [["✅ Opret dialogen"], ["Ret navnet"], ["Ret aldersgruppen"],
                               ["Ret formålet"], ["Annuller"]]
    return summary.text


async def test_ny_asks_name_age_purpose_and_every_edit_path_works(cast: Cast, samspil: App) -> None:
    coord = await new_coordinator(cast)
    text = await to_summary(cast, coord, "Ema", "Første udkast.")
    assert "Barn: Ema\nAldersgruppe: barn (0-14 år)\nFormål:\nFørste udkast." in text
    assert await dialogs(samspil) == []  # nothing stored before confirming

    # Edit the name: asked again, then straight back to the summary.
    reply = await cast.tap(coord, "Change the name", expect="Hvad er barnets fornavn?")
    summary = await cast.say(coord, "Emma", expect="Tjek dialogen")
    assert "Barn: Emma\n" in summary.text and "barn (0-14 år)" in summary.text

    # Edit the age group.
    reply = await cast.tap(coord, "Change the age group", expect="Hvor gammel er barnet?")
    assert reply.buttons == [["Barn (0-14 år)"], ["Ung (15-30 år)"]]
    summary = await cast.tap(coord, "Young person (15-30 years)", expect="Tjek dialogen")
    assert "Aldersgruppe: ung (15-30 år)" in summary.text and "Barn: Emma\n" in summary.text

    # Edit the purpose.
    await cast.tap(coord, "Change the purpose", expect="Hvad er formålet med dialogen?")
    summary = await cast.say(coord, PURPOSE, expect="Tjek dialogen")
    assert summary.text.endswith("Formål:\n" + PURPOSE)
    assert "ung (15-30 år)" in summary.text
    assert await dialogs(samspil) == []

    reply = await cast.tap(coord, "✅ Open the dialog", expect="Dialogen om Emma er oprettet")
    assert reply.buttons == [["Inviter en deltager"]]
    [dialog] = await dialogs(samspil)
    assert (dialog.child_name, dialog.age_group, dialog.purpose, dialog.state) == (
        "Emma", "ung", PURPOSE, "awaiting_consent")
    [seat] = await participants(samspil, dialog.id)
    assert (seat.role, seat.name, seat.joined_at is not None) == ("coordinator", "Camilla Tovholder", True)
    assert (await fsm(samspil, coord))[0] is None  # the conversation is over


async def test_ny_cancel_stores_nothing(cast: Cast, samspil: App) -> None:
    coord = await new_coordinator(cast)
    before = await snapshot(samspil)
    await to_summary(cast, coord, "Noah", "Noahs trivsel.")
    reply = await cast.tap(coord, "Cancel", expect="Annulleret")
    assert reply.text == da(samspil, "Cancelled. Nothing was saved.")
    assert await snapshot(samspil) == before
    assert await dialogs(samspil) == []
    assert (await fsm(samspil, coord))[0] is None


async def invite_one(cast: Cast, coord: Person, name: str, role_msgid: str, relation: str | None) -> str:
    """/inviter for the coordinator's only dialog; returns the text with the link."""
    await cast.say(coord, "/inviter", expect="Hvad hedder personen?")
    reply = await cast.say(coord, name, expect="Hvilken rolle har")
    assert reply.buttons == [["Forælder med forældremyndighed"], ["Forælder uden forældremyndighed"],
                             ["Den unge"], ["Fagperson"], ["Netværk"]]
    reply = await cast.tap(coord, role_msgid)
    if relation is not None:
        reply = await cast.say(coord, relation, expect="https://t.me/")
    assert reply is not None and "https://t.me/samspil_test_bot?start=" in reply.text
    assert reply.protect_content
    return reply.text


async def test_inviter_asks_name_role_relation_and_derives_the_consent_giver(
    cast: Cast, samspil: App,
) -> None:
    coord = await new_coordinator(cast)
    dialog_id = await open_dialog(cast, samspil, coord)

    text = await invite_one(cast, coord, "Mette", "Parent with custody", "Mor")
    assert "✅ Mette (Mor) er inviteret til dialogen om Emma." in text
    assert "Mette skal give samtykke." in text
    # The expiry date in Danish: 23 November + INVITE_TTL_DAYS (14).
    assert "Linket kan bruges én gang og udløber den 7. december 2026:" in text
    assert text.splitlines()[-1].startswith("https://t.me/samspil_test_bot?start=")

    mark = coord.phone.mark()
    await cast.say(coord, "/inviter")
    await cast.say(coord, "Lars")
    ask = await cast.tap(coord, "Parent without custody")
    assert ask is not None and ask.text == "Hvad skal der stå ud for Lars? (fx Mor eller Far)"
    text = (await cast.say(coord, "Far", expect="https://t.me/")).text
    assert "Lars (Far)" in text and "samtykke" not in text
    assert len([m for m in new_bot(coord, mark) if "https://t.me/" in m.text]) == 1

    await cast.say(coord, "/inviter")
    await cast.say(coord, "Sofie")
    # The young person of a dialog about a child (0-14) is under 16: no link (Telegram's terms in the
    # EU), she takes part without Telegram; no relation asked (tests/test_flow_without_telegram.py).
    refused = (await cast.tap(coord, "The young person", expect="Sofie kan ikke få et link.")).text
    assert "https://t.me/" not in refused
    text = (await cast.tap_text(coord, "📵 Sofie er med uden Telegram", expect="uden Telegram")).text
    assert "Sofie (Den unge) er med i dialogen om Emma – uden Telegram." in text
    assert "Du skriver for Sofie: samtykke" in text and "https://t.me/" not in text

    await cast.say(coord, "/inviter")
    await cast.say(coord, "Hanne")
    ask = await cast.tap(coord, "Professional")
    assert ask is not None and "Hvad arbejder Hanne som?" in ask.text
    text = (await cast.say(coord, "Klasselærer", expect="https://t.me/")).text
    assert "Hanne (Klasselærer)" in text and "samtykke" not in text

    await cast.say(coord, "/inviter")
    await cast.say(coord, "Ole")
    ask = await cast.tap(coord, "Network")
    assert ask is not None and "Hvordan kender Ole barnet?" in ask.text
    await cast.say(coord, "Morfar", expect="https://t.me/")

    seats = [(p.name, p.role, p.relation, p.consent_giver, p.person_id)
             for p in await participants(samspil, dialog_id) if p.role != "coordinator"]
    assert seats == [
        ("Mette", "parent_custody", "Mor", True, None),
        ("Lars", "parent", "Far", False, None),
        ("Sofie", "young", None, True, None),
        ("Hanne", "professional", "Klasselærer", False, None),
        ("Ole", "network", "Morfar", False, None),
    ]
    assert (await fsm(samspil, coord))[0] is None


def db_bytes(db_path: Path) -> bytes:
    """The database as it lies on disk: the main file and the WAL (recent writes live there)."""
    parts = [db_path, db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-journal")]
    return b"".join(p.read_bytes() for p in parts if p.exists())


async def test_tokens_are_random_url_safe_short_and_stored_only_as_hashes(
    cast: Cast, samspil: App, db_path: Path,
) -> None:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    dialog_id = await open_dialog(cast, samspil, coord)
    people = [cast.person(n) for n in ("Mette", "Lars", "Hanne")]
    tokens = [await cast.invite(coord, p, role, rel) for p, role, rel in zip(
        people, ["Parent with custody", "Parent with custody", "Professional"], ["Mor", "Far", "Lærer"],
        strict=True)]

    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert len(token) <= 64
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128

    async with samspil.sessionmaker() as s:
        invitations = list(await s.scalars(select(Invitation).order_by(Invitation.id)))
        registration = await s.scalar(select(Registration))
        fsm_rows = [(r.key, r.state, r.data) for r in await s.scalars(select(FsmRecord))]
    every_value = repr(await snapshot(samspil)) + repr(fsm_rows)
    assert [i.token_hash for i in invitations] == [hash_token(t) for t in tokens]
    assert registration is not None and registration.used_at is not None
    on_disk = db_bytes(db_path)
    assert hash_token(tokens[0]).encode() in on_disk  # the search does see what is stored
    for token in tokens:
        assert token not in every_value
        assert token.encode() not in on_disk

    # Each link works once: Mette joins, the link is then used up.
    await cast.join(people[0])
    async with samspil.sessionmaker() as s:
        inv = await s.scalar(select(Invitation).where(Invitation.token_hash == hash_token(tokens[0])))
        seat = await s.get(Participant, inv.participant_id)
    assert inv.used_at is not None and seat.person_id is not None and seat.dialog_id == dialog_id


async def test_an_invitation_link_works_until_invite_ttl_days(cast: Cast, samspil: App, clock: FakeClock) -> None:
    coord = await new_coordinator(cast)
    await open_dialog(cast, samspil, coord)
    teacher, neighbour = cast.person("Hanne"), cast.person("Ole")
    await cast.invite(coord, teacher, "Professional", "Klasselærer")
    await cast.invite(coord, neighbour, "Network", "Nabo")
    clock.advance(days=13, hours=23)
    assert "Familien har ikke givet samtykke endnu" in (await cast.join(teacher)).text
    clock.advance(hours=2)  # 14 days and 1 hour after the invitation
    reply = await cast.join(neighbour)
    assert reply.text == da(samspil, "This link has expired. Ask your coordinator for a new one.")


async def test_with_several_dialogs_inviter_asks_which(cast: Cast, samspil: App) -> None:
    coord = await new_coordinator(cast)
    emma = await open_dialog(cast, samspil, coord, "Emma")
    noah = await open_dialog(cast, samspil, coord, "Noah", "ung", "Noahs trivsel i fritiden.")

    reply = await cast.say(coord, "/inviter", expect="Hvilken dialog vil du invitere nogen til?")
    assert reply.buttons == [[f"Emma (#{emma})"], [f"Noah (#{noah})"]]
    await cast.tap_text(coord, f"Noah (#{noah})", expect="Inviter til dialogen om Noah")
    await cast.say(coord, "Sara")
    await cast.tap(coord, "The young person", expect="Er Sara under 16 år?")
    reply = await cast.tap(coord, "No, 16 or older", expect="https://t.me/")
    assert "Sara (Den unge) er inviteret til dialogen om Noah." in reply.text

    # The button under a new dialog's confirmation goes straight to that dialog.
    await cast.tap(coord, "Invite one more", expect="Inviter til dialogen om Noah")
    await cast.say(coord, "Bo")
    await cast.tap(coord, "Network")
    await cast.say(coord, "Træner", expect="https://t.me/")

    assert [p.name for p in await participants(samspil, emma)] == ["Camilla Tovholder"]
    assert [p.name for p in await participants(samspil, noah)] == ["Camilla Tovholder", "Sara", "Bo"]


async def test_dialoger_lists_dialogs_with_state_and_who_has_joined(
    cast: Cast, samspil: App, emu: BotAPIEmulator,
) -> None:
    coord = await new_coordinator(cast)
    reply = await cast.say(coord, "/dialoger")
    assert reply.text == "Du har ingen dialoger endnu. Opret en med /ny."

    emma = await open_dialog(cast, samspil, coord, "Emma")
    mom, teacher = cast.person("Mette"), cast.person("Hanne")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, teacher, "Professional", "Klasselærer")
    noah = await open_dialog(cast, samspil, coord, "Noah", "ung", "Noahs trivsel i fritiden.")
    dad, grandpa = cast.person("Lars"), cast.person("Ole")
    await cast.invite(coord, dad, "Parent with custody", "Far")
    await cast.invite(coord, grandpa, "Network", "Morfar")
    sara = await open_dialog(cast, samspil, coord, "Sara", "barn", "Saras trivsel.")

    await cast.join(teacher)
    await cast.join(mom)
    await cast.consent(mom)  # Emma's dialog opens
    await cast.join(grandpa)  # Noah's still waits for Lars

    mark = coord.phone.mark()
    listing = await cast.say(coord, "/dialoger")
    # The desk (issue #13): what needs the coordinator first; Emma's dialog is open and has no meeting.
    assert listing.text.startswith("Dine dialoger · Kræver handling\n1 af dine 3 åbne dialoger kræver dig nu.")
    assert f"📅 Emma (#{emma}) – Intet møde aftalt" in listing.text
    listing = await cast.tap_text(coord, "Alle")
    assert f"✅ Noah (#{noah}) – Venter på samtykke" in listing.text
    assert f"✅ Sara (#{sara}) – Venter på samtykke" in listing.text
    cards = []
    for label in (f"📅 Emma (#{emma})", f"✅ Noah (#{noah})", f"✅ Sara (#{sara})"):
        cards.append((await cast.tap_text(coord, label)).text)
        await cast.tap_text(coord, "⬅️ Tilbage til listen")
    text = "\n\n".join(cards)
    # Each dialog's card: which Telegram account opened each link (the emulator's phones have a
    # first name only).
    assert (f"Emma (barn (0-14 år)) · #{emma}\nÅben\n✅ Mette (Mor) – Telegram: Mette\n"
            "✅ Hanne (Klasselærer) – Telegram: Hanne") in text
    assert (f"Noah (ung (15-30 år)) · #{noah}\nVenter på samtykke fra: Lars\n"
            "⏳ Lars (Far)\n✅ Ole (Morfar) – Telegram: Ole") in text
    assert (f"Sara (barn (0-14 år)) · #{sara}\n"
            "Venter på samtykke: Inviter forældrene med forældremyndighed (eller den unge).\n"
            "Der er ikke inviteret nogen deltagere endnu.") in text
    assert "✅ er med · ⏳ har ikke åbnet linket endnu" in text
    assert all(m.protect_content for m in new_bot(coord, mark))
    assert saw(coord, "Mette (Mor) har åbnet invitationen til dialogen om Emma.")
