"""An active dialog to play in: a coordinator, two parents with custody who consent, a teacher.

Flow tests call `open_family(cast, samspil)`; everything goes through the bot as
people would do it (registration link, /ny, /inviter, the links, consent).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.app import App
from bot.playbook import Cast, Person
from emulator import ChatMessage
from rules.access import Refusal
from storage.models import Dialog, InputEntry, Participant, Score
from tests.helpers import fresh_routers  # noqa: F401 (an autouse fixture for the modules importing it)

PURPOSE = "Vi vil styrke Emmas trivsel i skolen og derhjemme."


@dataclass
class Family:
    cast: Cast
    app: App
    coord: Person
    mom: Person
    dad: Person
    teacher: Person
    dialog_id: int

    @property
    def everyone(self) -> list[Person]:
        return [self.coord, self.mom, self.dad, self.teacher]


async def open_dialog_with(cast: Cast, samspil: App, coord: Person, child: str, age_group: str,
                           purpose: str) -> int:
    """The coordinator opens a dialog; returns its id (the newest of theirs)."""
    await cast.open_dialog(coord, child, age_group, purpose)
    async with samspil.sessionmaker() as s:
        return await s.scalar(select(Dialog.id).order_by(Dialog.id.desc()).limit(1))


async def open_family(cast: Cast, samspil: App, *, child: str = "Emma", age_group: str = "barn",
                      purpose: str = PURPOSE) -> Family:
    coord = cast.person("Camilla Tovholder")
    await cast.register(coord)
    dialog_id = await open_dialog_with(cast, samspil, coord, child, age_group, purpose)
    mom, dad, teacher = cast.person("Mette"), cast.person("Lars"), cast.person("Hanne")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, dad, "Parent with custody", "Far")
    await cast.invite(coord, teacher, "Professional", "Klasselærer")
    await cast.join(teacher)
    await cast.join(mom)
    await cast.join(dad)
    await cast.consent(mom)
    await cast.consent(dad)
    family = Family(cast, samspil, coord, mom, dad, teacher, dialog_id)
    assert await dialog_state(family) == "active"
    return family


# ---- reading what was stored ---------------------------------------------------------------


async def dialog_state(fam: Family, dialog_id: int | None = None) -> str:
    async with fam.app.sessionmaker() as s:
        return (await s.get(Dialog, dialog_id or fam.dialog_id)).state


async def set_dialog(fam: Family, dialog_id: int | None = None, **values: object) -> None:
    """Change the dialog row directly (state, round_no) as later issues will."""
    async with fam.app.sessionmaker() as s, s.begin():
        dialog = await s.get(Dialog, dialog_id or fam.dialog_id)
        for key, value in values.items():
            setattr(dialog, key, value)


async def participant_id(fam: Family, who: Person, dialog_id: int | None = None) -> int:
    async with fam.app.sessionmaker() as s:
        rows = await s.scalars(select(Participant).where(
            Participant.dialog_id == (dialog_id or fam.dialog_id)))
        for p in rows:
            if p.person is not None and p.person.telegram_id == who.phone.user_id:
                return p.id
    raise AssertionError(f"{who.name} has no seat in dialog {dialog_id or fam.dialog_id}")


async def entries(fam: Family, who: Person | None = None, dialog_id: int | None = None) -> list[InputEntry]:
    """Input entries of the dialog (of one person), oldest first."""
    async with fam.app.sessionmaker() as s:
        stmt = select(InputEntry).where(InputEntry.dialog_id == (dialog_id or fam.dialog_id))
        if who is not None:
            stmt = stmt.where(InputEntry.participant_id == await participant_id(fam, who, dialog_id))
        return list(await s.scalars(stmt.order_by(InputEntry.id)))


async def scores(fam: Family, who: Person | None = None) -> list[Score]:
    async with fam.app.sessionmaker() as s:
        stmt = select(Score).where(Score.dialog_id == fam.dialog_id)
        if who is not None:
            stmt = stmt.where(Score.participant_id == await participant_id(fam, who))
        return list(await s.scalars(stmt.order_by(Score.id)))


def bot_count(who: Person) -> int:
    return len(who.phone.bot_messages)


def last_bot(who: Person) -> ChatMessage:
    return who.phone.bot_messages[-1]


def new_bot(who: Person, mark: int) -> list[ChatMessage]:
    """Bot messages created or edited after `mark` (a Phone.mark())."""
    return [m for m in who.phone.bot_messages if m.version > mark]


def in_danish(app: App, text_fn, *args: object) -> str:  # type: ignore[no-untyped-def]
    """What a shared text (core/texts.py) says in Danish, and that it is translated.

    For texts other flows own, so their wording can change without breaking these tests.
    """
    with app.i18n.context(), app.i18n.use_locale("en"):
        english = text_fn(*args)
    with app.i18n.context(), app.i18n.use_locale("da"):
        danish = text_fn(*args)
    assert danish != english, f"not translated to Danish: {english!r}"
    return danish


async def second_dialog(fam: Family, child: str, parent: Person, *, teacher: bool = True,
                        consent: bool = True) -> int:
    """The same coordinator opens another dialog with `parent` (custody) and, if asked, the teacher."""
    cast = fam.cast
    dialog_id = await open_dialog_with(cast, fam.app, fam.coord, child, "barn",
                                       f"Vi vil støtte {child} i hverdagen.")
    await cast.invite(fam.coord, parent, "Parent with custody", "Mor")
    if teacher:
        await cast.invite(fam.coord, fam.teacher, "Professional", "Klasselærer")
        await cast.join(fam.teacher)
    await cast.join(parent)
    if consent:
        await cast.consent(parent)
    assert await dialog_state(fam, dialog_id) == ("active" if consent else "awaiting_consent")
    return dialog_id


def refusal(fam: Family, reason: Refusal, child: str = "Emma") -> str:
    """What the bot says, in Danish, when it refuses someone in the dialog about `child`."""
    from core import texts

    class _D:  # texts.refusal only reads the child's name
        child_name = child

    return in_danish(fam.app, texts.refusal, reason, _D())


async def snapshot_of_content(app: App) -> dict:  # type: ignore[type-arg]
    """Every business row (tests/helpers.snapshot) without the record of handled updates."""
    from tests.helpers import snapshot

    rows = await snapshot(app)
    rows.pop("processed_update", None)
    return rows
