"""Who sees what: choosing the dialog, drafts, forged callback data, dialogs that are not active.

Issue #3. Callback data only names things; the bot checks the sender's seat on
the server. A refused tap shows nothing and changes nothing.
"""

from __future__ import annotations

import pytest

from core import texts
from handlers.choose import PickDialogCb
from handlers.dialog_input import InputCb
from handlers.overview import OverviewCb
from handlers.scaling import ScaleCb
from rules.access import Refusal
from tests.helpers_dialog import (  # noqa: F401 (fresh_routers: an autouse fixture)
    Family,
    bot_count,
    entries,
    fresh_routers,
    in_danish,
    last_bot,
    new_bot,
    open_dialog_with,
    open_family,
    refusal,
    scores,
    second_dialog,
    set_dialog,
)


@pytest.fixture
async def fam(cast, samspil):
    return await open_family(cast, samspil)


async def _snapshot(fam: Family, *dialog_ids: int) -> list[tuple]:
    rows = []
    for d in dialog_ids:
        rows += [(e.id, e.participant_id, e.round_no, e.area, e.worries, e.works, e.next_steps, e.shared_at)
                 for e in await entries(fam, dialog_id=d)]
    return rows + [(s.id, s.participant_id, s.value) for s in await scores(fam)]


async def test_several_dialogs_pick_one_first_only_active_ones_offered(fam, cast):
    sofie, peter = cast.person("Sofie"), cast.person("Peter")
    oliver = await second_dialog(fam, "Oliver", sofie)
    await second_dialog(fam, "Ida", peter, consent=False)  # the teacher is in, but it awaits consent
    teacher = fam.teacher

    for command in ("/input", "/skala", "/vurdering", "/oversigt"):
        ask = await cast.say(teacher, command)
        assert ask.text == "Hvilken dialog drejer det sig om?", command
        assert ask.buttons == [["Dialogen om Emma"], ["Dialogen om Oliver"]], command

    await cast.say(teacher, "/input")
    home = await cast.tap_text(teacher, "Dialogen om Oliver")
    assert home.text.startswith("Dit input om Oliver")
    await cast.tap_text(teacher, "Familieforhold")
    await cast.say(teacher, "Oliver er glad for frikvartererne.")
    [draft] = await entries(fam, teacher, dialog_id=oliver)
    assert draft.dialog_id == oliver and draft.worries == "Oliver er glad for frikvartererne."
    assert await entries(fam, teacher) == []  # nothing landed in Emma's dialog

    await cast.say(teacher, "/skala")
    ruler = await cast.tap_text(teacher, "Dialogen om Emma")
    assert ruler.text.startswith("Børnelinealen – Emma")

    # People with one active dialog are not asked.
    assert (await cast.say(sofie, "/input")).text.startswith("Dit input om Oliver")
    assert (await cast.say(fam.mom, "/oversigt")).text.startswith("Samlet oversigt – Emma")

    # Oliver's dialog paused: only Emma's is left, so no question.
    await set_dialog(fam, oliver, state="paused")
    assert (await cast.say(teacher, "/input")).text.startswith("Dit input om Emma")


async def test_forged_callback_data_never_reaches_another_dialog_or_draft(fam, cast):
    mom, teacher = fam.mom, fam.teacher
    sofie = cast.person("Sofie")
    oliver = await second_dialog(fam, "Oliver", sofie)
    # Content in Oliver's dialog: a shared entry, a draft, a score.
    await cast.write_input(sofie, "Familieforhold", worries="Olivers hemmelighed.", works=None, next_steps=None)
    await cast.share_input(sofie)
    await cast.write_input(sofie, "Sundhedsforhold", worries="Sofies kladde.", works=None, next_steps=None)
    [shared_b, draft_b] = await entries(fam, sofie, dialog_id=oliver)
    await cast.scale(sofie, 3)
    # And in Emma's dialog: the father's private draft.
    await cast.write_input(fam.dad, "Familieforhold", worries="Fars kladde.", works=None, next_steps=None)
    [draft_dad] = await entries(fam, fam.dad)

    await cast.say(mom, "/input")
    on = last_bot(mom).message_id
    before = await _snapshot(fam, fam.dialog_id, oliver)
    coord_count = bot_count(fam.coord)
    not_yours = refusal(fam, Refusal.NOT_PARTICIPANT)
    stale = in_danish(fam.app, texts.stale_button)
    a, b = fam.dialog_id, oliver

    forged = [
        (OverviewCb(dialog_id=b, round_no=1), not_yours),
        (OverviewCb(dialog_id=b, round_no=1, area="family", page=0, action="areas"), not_yours),
        (PickDialogCb(flow="oversigt", dialog_id=b), not_yours),
        (PickDialogCb(flow="vurdering", dialog_id=b), not_yours),
        (PickDialogCb(flow="input", dialog_id=b), not_yours),
        (PickDialogCb(flow="skala", dialog_id=b), not_yours),
        (InputCb(action="area", dialog_id=b, value="family"), not_yours),
        (InputCb(action="purpose", dialog_id=b), not_yours),
        (InputCb(action="share_yes", dialog_id=b), not_yours),
        (InputCb(action="review", dialog_id=b, entry_id=draft_b.id), not_yours),
        (ScaleCb(action="confirm", dialog_id=b, round_no=1, value=10), not_yours),
        # Her own dialog's id, but someone else's draft (in B, or the father's in A).
        (InputCb(action="review", dialog_id=a, entry_id=draft_b.id), stale),
        (InputCb(action="edit", dialog_id=a, entry_id=draft_b.id, value="worries"), stale),
        (InputCb(action="delete_yes", dialog_id=a, entry_id=draft_b.id), stale),
        (InputCb(action="review", dialog_id=a, entry_id=draft_dad.id), stale),
        (InputCb(action="edit", dialog_id=a, entry_id=draft_dad.id, value="works"), stale),
        (InputCb(action="delete", dialog_id=a, entry_id=draft_dad.id), stale),
        (InputCb(action="delete_yes", dialog_id=a, entry_id=draft_dad.id), stale),
        (InputCb(action="next", dialog_id=a, entry_id=draft_dad.id, value="worries"), stale),
        # Her own dialog, the other dialog's shared entry: not even "already shared".
        (InputCb(action="edit", dialog_id=a, entry_id=shared_b.id, value="worries"), stale),
    ]
    for data, expected in forged:
        mark = mom.phone.mark()
        await mom.phone.tap_data(on, data.pack())
        await cast.settle()
        answer = mom.phone.last_answer
        assert answer is not None and answer.show_alert, data
        assert answer.text == expected, data
        assert new_bot(mom, mark) == [], data  # nothing shown, nothing edited
    assert await _snapshot(fam, fam.dialog_id, oliver) == before  # nothing changed
    assert bot_count(fam.coord) == coord_count  # no alert from a forged 10
    for secret in ("Olivers hemmelighed", "Sofies kladde", "Fars kladde", "Oliver"):
        assert not any(secret in m.text for m in mom.phone.bot_messages), secret

    # The teacher sits in both dialogs, yet a draft is still its author's alone.
    await cast.say(teacher, "/oversigt")
    mark = teacher.phone.mark()
    await teacher.phone.tap_data(last_bot(teacher).message_id,
                                 InputCb(action="review", dialog_id=b, entry_id=draft_b.id).pack())
    await cast.settle()
    assert teacher.phone.last_answer.show_alert and new_bot(teacher, mark) == []


async def test_drafts_never_show_to_others(fam, cast):
    mom, teacher = fam.mom, fam.teacher
    await cast.write_input(mom, "Familieforhold", worries="Mors private kladde.", works="Privat ressource.",
                           next_steps=None)
    await cast.write_input(fam.dad, "Sundhedsforhold", worries="Delt af far.", works=None, next_steps=None)
    await cast.share_input(fam.dad)

    overview = await cast.say(teacher, "/oversigt")
    assert "Delt af far." in overview.text
    await cast.tap(teacher, "Choose area")
    only_family = await cast.tap_text(teacher, "Familieforhold")
    assert only_family.text.endswith("Ingen har delt input her endnu.")
    await cast.say(teacher, "/vurdering")
    home = await cast.say(teacher, "/input")
    assert "Kladder" not in home.text and ["Familieforhold"] in home.buttons
    await cast.tap_text(teacher, "Familieforhold")  # her own, new, empty draft
    for who in (teacher, fam.dad, fam.coord):
        assert not any("private" in m.text.lower() or "Privat ressource" in m.text
                       for m in who.phone.bot_messages)
    [mom_draft] = await entries(fam, mom)
    assert mom_draft.shared_at is None and mom_draft.worries == "Mors private kladde."


async def test_a_dialog_awaiting_consent_shows_nothing(cast, samspil):
    coord, teacher, mom = cast.person("Camilla Tovholder"), cast.person("Hanne"), cast.person("Mette")
    await cast.register(coord)
    dialog_id = await open_dialog_with(cast, samspil, coord, "Emma", "barn", "Vi vil styrke Emmas trivsel.")
    await cast.invite(coord, mom, "Parent with custody", "Mor")
    await cast.invite(coord, teacher, "Professional", "Klasselærer")
    await cast.join(teacher)
    fam = Family(cast, samspil, coord, mom, mom, teacher, dialog_id)
    waiting = refusal(fam, Refusal.AWAITING_CONSENT)
    assert "Familien har ikke givet samtykke endnu" in waiting

    for command in ("/input", "/skala", "/vurdering", "/oversigt"):
        mark = teacher.phone.mark()
        reply = await cast.say(teacher, command)
        assert reply.text == waiting and reply.buttons == [], command
        assert len(new_bot(teacher, mark)) == 1
    for data in (InputCb(action="area", dialog_id=dialog_id, value="family"),
                 OverviewCb(dialog_id=dialog_id, round_no=1),
                 ScaleCb(action="confirm", dialog_id=dialog_id, round_no=1, value=5)):
        mark = teacher.phone.mark()
        await teacher.phone.tap_data(last_bot(teacher).message_id, data.pack())
        await cast.settle()
        assert teacher.phone.last_answer.text == waiting and new_bot(teacher, mark) == []
    assert await entries(fam) == [] and await scores(fam) == []


@pytest.mark.parametrize("state, reason", [("paused", Refusal.PAUSED), ("closed", Refusal.CLOSED)])
async def test_a_paused_or_closed_dialog_shows_nothing_and_takes_nothing(fam, cast, state, reason):
    mom, dad = fam.mom, fam.dad
    await cast.write_input(fam.teacher, "Dagtilbud, skole og læring", worries="Skolens input.", works=None,
                           next_steps=None)
    await cast.share_input(fam.teacher)
    await cast.say(dad, "/skala")
    ruler = last_bot(dad).message_id
    await cast.say(mom, "/input")
    await cast.tap_text(mom, "Familieforhold")
    await cast.say(mom, "Skrevet før pausen.")

    await set_dialog(fam, state=state)
    told = refusal(fam, reason)
    before = await _snapshot(fam, fam.dialog_id)

    # In the middle of a box: the text is not taken.
    reply = await cast.say(mom, "Skrevet efter pausen.")
    assert reply.text == told
    assert await _snapshot(fam, fam.dialog_id) == before
    for command in ("/input", "/skala", "/vurdering", "/oversigt"):
        reply = await cast.say(dad, command)
        assert reply.text == told and reply.buttons == [], command
    # Buttons from before: the notice's "Read it", a number on the ruler.
    for tap in (lambda: dad.phone.tap("Læs det"), lambda: dad.phone.tap("8", message_id=ruler)):
        mark = dad.phone.mark()
        await tap()
        await cast.settle()
        assert dad.phone.last_answer.show_alert and dad.phone.last_answer.text == told
        assert new_bot(dad, mark) == []
    assert await _snapshot(fam, fam.dialog_id) == before
    assert not any("Skolens input." in m.text for m in dad.phone.bot_messages)
