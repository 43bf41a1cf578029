"""Issue #6, authorization everywhere: one matrix of every command and every button.

One world is built through the bot as people would do it: the dialog about Freja (the
target, "A") and the dialog about Oliver ("B", another coordinator's), with drafts, shared
input, scores, a meeting, a plan with goals and tasks owned by different people, a
produced and a pending referral, people waiting for the family's approval. Nine people
act: A's coordinator (a professional in B), a parent with custody (who consents), a parent
without custody, a teacher (a professional in A and in B), a network member, a
professional added after the start who waits for the family's approval (a seat, not
joined), a registered professional in no dialog, B's coordinator (a stranger to A), and
someone Samspil has never stored (A active only: no seat anywhere for A's state to matter).

A walks through every state `rules.access` knows: active, paused (the mother withdraws her
consent: a button of the matrix), awaiting consent (set directly, as no flow goes back
there; the content stays, so every button still has something real to name), closed (the
coordinator closes it: a button of the matrix). In each state everyone sends the commands,
taps the buttons (callback data naming A's and B's objects: their own, other people's, the
other dialog's) and answers the conversation steps. What each may do is stated below
(POLICY, then per button what follows from who owns the object), and POLICY is checked
against `rules.access.decide`, so a handler that disagrees with the rules fails here:

- refused: a callback is answered with an alert saying exactly why (a command or a typed
  answer with one message saying it), nothing is shown or changed in the chat, and a
  snapshot of every table is unchanged;
- allowed: the normal screen is shown; what does not change data changes nothing but the
  audit log of reads; what does change data runs last, in an order that keeps the world
  usable (and two of those changes move A to its next state).

To keep the run short, some buttons run in the active state only: those about B (its state
never changes; tapped by one person of each kind of seat there) and those A's other states
refuse at the same gate as one that runs in every state (ACTIVE_ONLY). PDFs are rendered by
a stub: who gets one is the question here, not what is in it (tests/test_reports_*.py).
Afterwards no draft has reached anyone but its author, no child's name anyone without a seat,
and while A was not active nobody was shown anything of its content.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import string
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram.fsm.state import State
from sqlalchemy import select

import handlers.reports
import reports.my_data
import reports.referat
from bot.app import App
from bot.playbook import Cast, Person
from core import texts
from emulator import ChatMessage
from handlers.choose import PickDialogCb
from handlers.common import LanguageCb
from handlers.coordinator import Invite, InviteCb, NewDialog, NewDialogCb
from handlers.desk_views import DeskCb
from handlers.dialog_input import InputCb, InputFlow
from handlers.join import ConsentCb
from handlers.meetings import MeetingCb, MeetingFlow, RsvpCb
from handlers.on_behalf_views import ForCb
from handlers.overview import OverviewCb
from handlers.plan import PlanAnswerCb, PlanCb, PlanFlow, TaskCb
from handlers.privacy import ApproveCb, CloseCb, CloseFlow, ConsentViewCb, EraseCb
from handlers.reports import LetterCb, OverviewPdfCb, RefAnswerCb, RefCb
from handlers.scaling import ScaleCb
from rules.access import (
    ACTIVE,
    AWAITING_CONSENT,
    CLOSED,
    PAUSED,
    STATES,
    Action,
    Refusal,
    Seat,
    decide,
    decide_for,
)
from rules.roles import ROLES, is_consent_giver
from storage import queries as q
from storage.models import Dialog, Goal, InputEntry, Meeting, Participant, Referral, Task
from storage.models import Person as PersonRow
from tests.helpers import snapshot
from tests.helpers_dialog import fresh_routers, open_dialog_with  # noqa: F401 (fresh_routers: an autouse fixture)

PURPOSE_A = "Vi vil styrke Frejas trivsel i skolen og derhjemme."
PURPOSE_B = "Vi vil støtte Oliver i hverdagen."
CHILD = {"a": "Freja", "b": "Oliver"}

ACTORS = ("coord", "mom", "dad", "teacher", "network", "newcomer", "stranger", "other_coord")
# Someone who never used Samspil (no person row at all): in the active state only, as it has
# no seat anywhere for A's state to matter.
UNKNOWN = "unknown"
EVERYONE = (*ACTORS, UNKNOWN)
WRITERS = ("coord", "mom", "dad", "teacher", "network")  # everyone with a joined seat in A
# Buttons about B are tapped by B's coordinator, by a professional there (A's coordinator; the
# teacher holds the same kind of seat), by a consent giver elsewhere and by a stranger to both (the
# father, the grandfather and the newcomer have no seat in B either).
B_ACTORS = ("other_coord", "coord", "mom", "stranger")
NAMES = {
    "coord": "Camilla Tovholder", "mom": "Mette", "dad": "Lars", "teacher": "Hanne", "network": "Bent",
    "newcomer": "Pia", "stranger": "Sven Fremmed", "other_coord": "Kim Tovholder", UNKNOWN: "Ukendt Person",
}

# What must never reach the wrong chat: drafts are their author's alone; A's content is
# for A's joined participants while A is active.
DRAFT = {a: f"KLADDE-{a.upper()}" for a in WRITERS} | {"sofie": "KLADDE-SOFIE"}
A_CONTENT = ("DELT-MOR", "DELT-SKOLE", "MÅL-FREJA", "OPGAVE-FAR", "OPGAVE-LÆRER", "Skolen, lokale 2")
GOALS = {"MÅL-FREJA": "goal:a", "MÅL-OLIVER": "goal:b"}
TASKS = {"OPGAVE-FAR": "task:dad", "OPGAVE-LÆRER": "task:teacher", "OPGAVE-SOFIE": "task:b"}
FRESH_NAME, FRESH_RELATION = "Ole Nabo", "Nabo"  # the participant the coordinator invites in each state

# ==== who may do what (issue #6, the handbook, README "Data protection") ======================
#
# Seat kinds: the dialog's coordinator; a consent giver (a parent with custody, or the
# young person) who has joined; any other participant who has joined; someone invited who
# has not got in (not opened, or waiting for the family's approval); nobody (no seat).
COORD, GIVER, MEMBER, NOT_JOINED, NOBODY = "coordinator", "consent giver", "member", "not joined", None
JOINED = frozenset({COORD, GIVER, MEMBER})
OPEN = frozenset({AWAITING_CONSENT, ACTIVE, PAUSED})  # every state but closed

POLICY: dict[Action, tuple[frozenset[str], frozenset[str]]] = {
    # action               who may it                       in which states of the dialog
    # The content (read, write, scale) only while the family's consent holds: not before
    # it is given, not while it is withdrawn (paused), never after closing. Drafts and
    # tasks are further their owner's alone (checked per button below).
    Action.READ_SHARED: (JOINED, frozenset({ACTIVE})),
    Action.WRITE_INPUT: (JOINED, frozenset({ACTIVE})),
    Action.SCALE: (JOINED, frozenset({ACTIVE})),
    # The coordinator leads the meetings and the plan, in an active dialog only.
    Action.MANAGE: (frozenset({COORD}), frozenset({ACTIVE})),
    # Membership and consent go on while paused (that is how a dialog resumes), not after closing.
    Action.INVITE: (frozenset({COORD}), OPEN),
    Action.CLOSE: (frozenset({COORD}), OPEN),
    Action.HAND_OVER: (frozenset({COORD}), OPEN),
    # The coordinator's own desk (/dialoger): their card of the dialog, in every state.
    Action.DESK: (frozenset({COORD}), frozenset(STATES)),
    Action.CONSENT: (frozenset({GIVER}), OPEN),
    Action.APPROVE: (frozenset({GIVER}), OPEN),
    # What the dialog is about: everyone with a seat, until it is closed (the coordinator always);
    # before the family's consent only those who give it (see policy()).
    Action.VIEW_PURPOSE: (JOINED, OPEN),
}
STATE_REFUSAL = {AWAITING_CONSENT: Refusal.AWAITING_CONSENT, PAUSED: Refusal.PAUSED, CLOSED: Refusal.CLOSED}


def policy(kind: str | None, state: str, action: Action) -> Refusal | None:
    """None when allowed; else the reason the person is told (who they are first, then the state)."""
    if kind is NOBODY:
        return Refusal.NOT_PARTICIPANT
    if kind == NOT_JOINED:
        return Refusal.NOT_JOINED
    who, when = POLICY[action]
    if kind not in who:
        return Refusal.NOT_COORDINATOR if who == {COORD} else Refusal.NOT_CONSENT_GIVER
    if action is Action.VIEW_PURPOSE and kind == MEMBER and state == AWAITING_CONSENT:
        return Refusal.AWAITING_CONSENT  # whom the dialog is about: not before the family said yes
    if state not in when and not (action is Action.VIEW_PURPOSE and kind == COORD):
        return STATE_REFUSAL[state]
    return None


def seat_kind(p: Participant | None) -> str | None:
    if p is None:
        return NOBODY
    if p.role == "coordinator":
        return COORD
    if p.joined_at is None:
        return NOT_JOINED
    return GIVER if p.consent_giver else MEMBER


# ==== Danish texts ================================================================================

_TAG = re.compile(r"<[^>]+>")


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def plain(text: str) -> str:
    """What a chat shows of an HTML text."""
    return html_lib.unescape(_TAG.sub("", text))


@dataclass(frozen=True)
class Out:
    """What a person should get. Refused: one of `texts`, exactly. Allowed: one of `texts` in what is shown."""

    ok: bool
    texts: tuple[str, ...]
    buttons: tuple[tuple[str, ...], ...] | None = None  # allowed: the keyboard of the reply, exactly
    absent: tuple[str, ...] = ()  # allowed: never in what is shown


def ok(*markers: str, buttons: list[list[str]] | None = None, absent: tuple[str, ...] = ()) -> Out:
    return Out(True, markers, tuple(tuple(r) for r in buttons) if buttons is not None else None, absent)


def no(*refusals: str) -> Out:
    return Out(False, refusals)


# Allowed only to someone who is not among the actors (B's parent): reaching it is a failure.
NEVER = Out(True, ("(nobody among the actors may get this far)",))


# ==== the world ===================================================================================


@dataclass
class World:
    cast: Cast
    app: App
    people: dict[str, Person]
    ids: dict[str, int] = field(default_factory=dict)
    dyn: dict[str, int] = field(default_factory=dict)  # ids that change as the matrix runs
    anchor: dict[str, int] = field(default_factory=dict)  # a message of each actor to tap on

    # ---- texts ----

    def tr(self, msgid: str) -> str:
        """The Danish of a msgid, or of the one msgid that starts so (texts too long to repeat here)."""
        catalog = self.app.i18n.locales["da"]._catalog  # noqa: SLF001 (gettext's merged catalog)
        if (msgid, 1) in catalog:  # a text with plural forms (ngettext): the plural
            return catalog[(msgid, 1)]
        if msgid not in catalog:
            found = [k for k in catalog if isinstance(k, str) and k.startswith(msgid)]
            assert len(found) == 1, f"no single msgid starts with {msgid!r}: {found[:3]}"
            msgid = found[0]
        danish = catalog[msgid]
        assert danish, f"not translated: {msgid!r}"
        return danish

    def da(self, msgid: str, **kw: object) -> str:
        return plain(string.Formatter().vformat(self.tr(msgid), (), _Blank(kw)))

    def line(self, msgid: str, **kw: object) -> str:
        """The first line of a text (the rest may hold what the marker need not know)."""
        return self.da(msgid, **kw).split("\n")[0]

    def head(self, msgid: str) -> str:
        """A text up to its first placeholder."""
        cut = plain(self.tr(msgid).split("{")[0]).strip()
        assert len(cut) >= 5, f"too short to recognise: {cut!r} ({msgid!r})"
        return cut

    def call(self, fn: Callable[..., str], *args: object) -> str:
        with self.app.i18n.context(), self.app.i18n.use_locale("da"):
            return plain(fn(*args))

    def refusal(self, reason: Refusal, d: str | None) -> str:
        class _D:
            child_name = CHILD[d] if d else ""

        return self.call(texts.refusal, reason, _D() if d else None)

    @property
    def stale(self) -> str:
        return self.call(texts.stale_button)

    def area(self, key: str) -> str:
        return self.app.dialog_config.area(key).label("da")

    @property
    def ruler(self) -> str:
        return self.app.dialog_config.ruler("barn").name("da")

    def dialog_label(self, d: str, state: str) -> str:
        label = self.da("The dialog about {child}", child=CHILD[d])
        return label if state == ACTIVE else f"{label} (#{self.ids[d]})"


# ---- building it through the bot ----


async def _pick(cast: Cast, who: Person, command: str, child: str) -> ChatMessage:
    reply = await cast.say(who, command)
    if reply.text == "Hvilken dialog drejer det sig om?":
        reply = await cast.tap_text(who, f"Dialogen om {child}")
    return reply


async def _draft(cast: Cast, who: Person, child: str, area: str, text: str) -> None:
    await _pick(cast, who, "/input", child)
    await cast.tap_text(who, area)
    await cast.say(who, text, expect="Gemt i din kladde")


async def _shared(cast: Cast, who: Person, child: str, area: str, text: str) -> None:
    await _draft(cast, who, child, area, text)
    await cast.tap(who, "See the draft")
    await cast.share_input(who)


async def build_world(cast: Cast, app: App) -> World:
    p = {key: cast.person(name) for key, name in NAMES.items()}
    sofie, nina = cast.person("Sofie"), cast.person("Nina")
    coord, kim = p["coord"], p["other_coord"]
    await cast.register(coord)
    await cast.register(kim)
    await cast.register(p["stranger"], "professional", "Sagsbehandler")

    # A: the coordinator, a parent with custody, a parent without, a teacher, a grandfather.
    a = await open_dialog_with(cast, app, coord, "Freja", "barn", PURPOSE_A)
    await cast.invite(coord, p["mom"], "Parent with custody", "Mor")
    await cast.invite(coord, p["dad"], "Parent without custody", "Far")
    await cast.invite(coord, p["teacher"], "Professional", "Klasselærer")
    await cast.invite(coord, p["network"], "Network", "Morfar")
    for who in ("teacher", "dad", "network", "mom"):
        await cast.join(p[who])
    await cast.consent(p["mom"])

    # B: Kim's dialog; the teacher is in it too, and A's coordinator as a professional.
    b = await open_dialog_with(cast, app, kim, "Oliver", "barn", PURPOSE_B)
    await cast.invite(kim, sofie, "Parent with custody", "Mor")
    await cast.invite(kim, p["teacher"], "Professional", "Klasselærer")
    await cast.invite(kim, coord, "Professional", "Familierådgiver")
    for who in (p["teacher"], coord, sofie):
        await cast.join(who)
    await cast.consent(sofie)

    # A's content: shared input, everyone's private draft, a score.
    await _shared(cast, p["mom"], "Freja", "Sundhedsforhold", "DELT-MOR Freja sover dårligt.")
    await _shared(cast, p["teacher"], "Freja", "Dagtilbud, skole og læring", "DELT-SKOLE Freja er alene i frikvarteret.")
    for who in WRITERS:
        await _draft(cast, p[who], "Freja", "Familieforhold", f"{DRAFT[who]} skrevet af {NAMES[who]}.")
    await cast.scale(p["mom"], 6)
    # A meeting everyone has said yes to; a plan (agreed) with tasks for the father and the
    # teacher; a produced and a pending referral.
    await cast.schedule_meeting(coord, "3/12 kl. 14", "Skolen, lokale 2", child=CHILD["a"])
    for who in ("mom", "dad", "teacher", "network"):
        await cast.rsvp(p[who], True)
    await cast.add_goal(coord, "Familieforhold", "MÅL-FREJA Mere ro om aftenen", child=CHILD["a"])
    await cast.add_task(coord, "OPGAVE-FAR Fast sengetid", "Lars (Far)", "1/12", "20/12")
    await cast.add_task(coord, "OPGAVE-LÆRER Legegrupper", "Hanne (Klasselærer)", "1/12", "20/12")
    await cast.send_plan(coord, child=CHILD["a"])
    await cast.accept_plan(p["mom"])
    await _pick(cast, coord, "/indstilling", "Freja")
    await cast.tap(coord, "PPR (Educational Psychological Counselling)")
    await cast.tap(coord, "📨 Ask for approval")
    await cast.tap(p["mom"], "✅ Approve")
    await _pick(cast, coord, "/indstilling", "Freja")
    await cast.tap(coord, "Sundhedstjenesten (the municipal health service for children)")
    await cast.tap(coord, "📨 Ask for approval")
    # A professional added after the start opens the link: the family has not approved her.
    await cast.invite(coord, p["newcomer"], "Professional", "Støttepædagog")
    await cast.join(p["newcomer"])

    # B's content.
    await _shared(cast, sofie, "Oliver", "Familieforhold", "DELT-SOFIE Oliver er glad.")
    await _draft(cast, sofie, "Oliver", "Sundhedsforhold", f"{DRAFT['sofie']} Olivers mor.")
    await cast.schedule_meeting(kim, "10/12 kl. 9", "Rådhuset", child="Oliver")
    await cast.rsvp(p["teacher"], True)
    await cast.rsvp(coord, True)
    await cast.add_goal(kim, "Familieforhold", "MÅL-OLIVER Gode morgener", child="Oliver")
    await cast.add_task(kim, "OPGAVE-SOFIE Morgenrutine", "Sofie (Mor)", "1/12", "20/12")
    await _pick(cast, kim, "/indstilling", "Oliver")
    await cast.tap(kim, "PPR (Educational Psychological Counselling)")
    await cast.tap(kim, "📨 Ask for approval")
    await cast.invite(kim, nina, "Professional", "Talepædagog")  # waits for Sofie's approval
    await cast.say(p[UNKNOWN], "/start")  # greeted; Samspil stores nothing about them

    w = World(cast, app, p)
    await _collect_ids(w, a, b, sofie)
    for key, who in p.items():
        w.anchor[key] = who.phone.bot_messages[0].message_id
    return w


async def _collect_ids(w: World, a: int, b: int, sofie: Person) -> None:
    ids = w.ids
    ids["a"], ids["b"] = a, b
    async with w.app.sessionmaker() as s:
        people = {pr.telegram_id: pr.id for pr in await s.scalars(select(PersonRow))}
        seats = list(await s.scalars(select(Participant)))
        for key, who in [*w.people.items(), ("sofie", sofie)]:
            pid = people.get(who.phone.user_id)
            for d in ("a", "b") if pid is not None else ():
                seat = next((x for x in seats if x.person_id == pid and x.dialog_id == ids[d]), None)
                if seat is not None:
                    ids[f"seat:{key}:{d}"] = seat.id
        ids["seat:nina:b"] = next(x.id for x in seats if x.name == "Nina")
        for e in await s.scalars(select(InputEntry)):
            for key, secret in DRAFT.items():
                if e.worries and e.worries.startswith(secret):
                    ids[f"draft:{key}"] = e.id
            if e.worries and e.worries.startswith("DELT-MOR"):
                ids["shared:mom"] = e.id
            if e.worries and e.worries.startswith("DELT-SKOLE"):
                ids["shared:teacher"] = e.id
        for m in await s.scalars(select(Meeting)):
            ids["meeting:a" if m.dialog_id == a else "meeting:b"] = m.id
        for g in await s.scalars(select(Goal)):
            ids[next(v for k, v in GOALS.items() if g.text.startswith(k))] = g.id
        for t in await s.scalars(select(Task)):
            ids[next(v for k, v in TASKS.items() if t.what.startswith(k))] = t.id
        for r in await s.scalars(select(Referral)):
            ids["ref:b" if r.dialog_id == b else ("ref:produced" if r.status == "produced" else "ref:pending")] = r.id
    for key in ("shared:mom", "shared:teacher", "meeting:a", "meeting:b", "goal:a", "goal:b",
                "task:dad", "task:teacher", "task:b", "ref:produced", "ref:pending", "ref:b",
                *(f"draft:{k}" for k in DRAFT), "seat:newcomer:a", "seat:coord:b", "seat:teacher:b"):
        assert key in ids, key


async def refresh(w: World) -> None:
    """Ids that the matrix itself changes: versions, each writer's newest draft, the newest invitee."""
    async with w.app.sessionmaker() as s:
        for d in ("a", "b"):
            dialog = await s.get(Dialog, w.ids[d])
            w.dyn[f"plan_version:{d}"] = dialog.plan_version
            meeting = await s.get(Meeting, w.ids[f"meeting:{d}"])
            w.dyn[f"meeting_version:{d}"] = meeting.version
        for who in WRITERS:
            seat = w.ids[f"seat:{who}:a"]
            newest = await s.scalar(select(InputEntry.id).where(
                InputEntry.participant_id == seat, InputEntry.shared_at.is_(None)).order_by(InputEntry.id.desc()))
            w.dyn[f"newest_draft:{who}"] = newest or w.ids[f"draft:{who}"]
        w.dyn["newest_goal"] = await s.scalar(select(Goal.id).where(Goal.dialog_id == w.ids["a"]).order_by(
            Goal.id.desc()))
        fresh = await s.scalar(select(Participant.id).where(
            Participant.dialog_id == w.ids["a"], Participant.role == "network").order_by(Participant.id.desc()))
        w.dyn["fresh"] = fresh


# ==== one state of A: who holds which seat, what follows =========================================


@dataclass
class Ctx:
    w: World
    state: str  # A's state (B is always active)
    kinds: dict[tuple[str, str], str | None]
    persons: dict[str, PersonRow | None]

    def dstate(self, d: str) -> str:
        return self.state if d == "a" else ACTIVE

    def gate(self, actor: str, d: str, action: Action) -> Out | None:
        """The dialog-level answer: None when the seat allows `action`, else the refusal."""
        kind = self.kinds[actor, d]
        reason = policy(kind, self.dstate(d), action)
        return None if reason is None else no(self.w.refusal(reason, d if kind else None))

    def seats(self, actor: str) -> list[str]:
        """The dialogs in which the actor has joined, in the order of their ids."""
        return [d for d in ("a", "b") if self.kinds[actor, d] in JOINED]

    def staff_coordinator(self, actor: str) -> bool:
        person = self.persons[actor]
        return person is not None and person.staff_role == "coordinator"


async def read_ctx(w: World, state: str) -> Ctx:
    kinds: dict[tuple[str, str], str | None] = {}
    persons: dict[str, PersonRow | None] = {}
    async with w.app.sessionmaker() as s:
        assert (await s.get(Dialog, w.ids["a"])).state == state
        assert (await s.get(Dialog, w.ids["b"])).state == ACTIVE
        for actor in EVERYONE:
            person = await s.scalar(select(PersonRow).where(PersonRow.telegram_id == w.people[actor].phone.user_id))
            persons[actor] = person
            for d in ("a", "b"):
                kinds[actor, d] = seat_kind(await q.participant_in(s, person, w.ids[d]))
    return Ctx(w, state, kinds, persons)


# ==== the cases ===================================================================================

Expect = Callable[[Ctx, str], Out]
Payload = Callable[[World, str], str]
Fsm = Callable[[World, str], tuple[State, dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # tap | say | step (a typed answer in a conversation step)
    payload: Payload
    expect: Expect
    fsm: Fsm | None = None  # the conversation step the person is in
    fsm_for: str = "allowed"  # allowed: only who passes the gate gets there | all
    mutates: bool = False  # when allowed, it changes data: run last, in the listed order
    fresh: bool = False  # names ids an earlier change made (World.dyn): read them again first
    clean: bool = False  # needs the person outside any conversation step
    once: bool = False  # about B only: run in one state (B's state never changes)
    actors: tuple[str, ...] = ()  # default: everyone (buttons about B: everyone whose seat in B differs)
    unknown: bool = False  # set for the default actors: someone unknown tries it too (A active)

    def __post_init__(self) -> None:
        if not self.actors:
            object.__setattr__(self, "actors", B_ACTORS if self.once else ACTORS)
            object.__setattr__(self, "unknown", True)


def gated(d: str, action: Action, then: Expect) -> Expect:
    def expect(c: Ctx, actor: str) -> Out:
        return c.gate(actor, d, action) or then(c, actor)

    return expect


def const(out: Callable[[World], Out]) -> Expect:
    return lambda c, actor: out(c.w)


def owner_only(owner: Callable[[str], bool], mine: Expect, others: Callable[[World], Out]) -> Expect:
    return lambda c, actor: mine(c, actor) if owner(actor) else others(c.w)


def stale(w: World) -> Out:
    return no(w.stale)


# ---- commands: the dialog is picked from the sender's seats ----

PICK_FLOWS: dict[str, tuple[Action, Callable[[World, str, str, str], str]]] = {
    # flow: (rule action, the normal screen for (world, dialog, actor's seat kind, state))
    "input": (Action.WRITE_INPUT, lambda w, d, k, s: w.line(
        "<b>Your input about {child}</b>", child=CHILD[d])),
    "skala": (Action.SCALE, lambda w, d, k, s: w.line(
        "<b>{ruler}</b> – the dialog about {child}\n\n", ruler=w.ruler, child=CHILD[d])),
    "vurdering": (Action.READ_SHARED, lambda w, d, k, s: w.line(
        "<b>Joint assessment</b> – {ruler}, the dialog about {child}, round {round}",
        ruler=w.ruler, child=CHILD[d], round=1)),
    "oversigt": (Action.READ_SHARED, lambda w, d, k, s: w.line(
        "<b>Overview</b> – the dialog about {child}, round {round}", child=CHILD[d], round=1)),
    "moede": (Action.READ_SHARED, lambda w, d, k, s: w.line(
        "<b>Dialog meeting</b> – the dialog about {child}", child=CHILD[d])),
    "plan": (Action.READ_SHARED, lambda w, d, k, s: w.line(
        "<b>Goals & Plan</b> – the dialog about {child}", child=CHILD[d])),
    "samtykke": (Action.CONSENT, lambda w, d, k, s: w.line(
        "<b>Your consent</b> – the dialog about {child}", child=CHILD[d])),
    "referat": (Action.MANAGE, lambda w, d, k, s: w.head(
        "No meeting has been closed yet, so you get the minutes of round {round} so far, marked "
        "preliminary. When you close the meeting, everyone gets the minutes.")),
    "indstilling": (Action.MANAGE, lambda w, d, k, s: w.line(
        "<b>Referral</b> – the dialog about {child}", child=CHILD[d])),
    "brev": (Action.INVITE, lambda w, d, k, s: w.line(
        "<b>Invitation letter</b> – the dialog about {child}\n\n", child=CHILD[d])),
}
NOT_STAFF = "That command is for coordinators (tovholdere). Type /hjaelp to see what you can do."


def picked(flow: str) -> Expect:
    """A command that works on one dialog: the sender's usable seats decide."""
    action, screen = PICK_FLOWS[flow]

    def expect(c: Ctx, actor: str) -> Out:
        w = c.w
        if flow == "brev" and not c.staff_coordinator(actor):
            return no(w.da(NOT_STAFF))
        seats = c.seats(actor)
        usable = [d for d in seats if c.gate(actor, d, action) is None]
        if len(usable) == 1:
            return ok(screen(w, usable[0], c.kinds[actor, usable[0]], c.dstate(usable[0])))
        if len(usable) > 1:
            return ok("Hvilken dialog drejer det sig om?",
                      buttons=[[w.dialog_label(d, c.dstate(d))] for d in usable])
        if not seats:
            return no(w.da("You are not part of a dialog yet. You join with the personal link "
                           "your coordinator sends you."))
        return no(*(c.gate(actor, d, action).texts[0] for d in seats))  # type: ignore[union-attr]

    return expect


def staff(then: Expect) -> Expect:
    def expect(c: Ctx, actor: str) -> Out:
        return then(c, actor) if c.staff_coordinator(actor) else no(c.w.da(NOT_STAFF))

    return expect


def own_dialog(actor: str) -> str:
    return "b" if actor == "other_coord" else "a"


def coordinated(c: Ctx, actor: str, closed_text: str, screen: Callable[[World, str], str]) -> Out:
    """/inviter, /luk: the coordinator's own dialogs that are not closed."""
    d = own_dialog(actor)
    if c.dstate(d) == CLOSED:
        return no(c.w.da(closed_text))
    return ok(screen(c.w, d), absent=(CHILD["b" if d == "a" else "a"],))


NO_DATA = "Samspil has no data about you."


def known(then: Expect, unknown: Callable[[World], Out]) -> Expect:
    """Someone Samspil does not know gets `unknown`."""
    return lambda c, a: then(c, a) if c.persons[a] is not None else unknown(c.w)


def start_home(c: Ctx, actor: str) -> Out:
    w = c.w
    if c.persons[actor] is None:
        return ok(w.line("Hi! I am Samspil.\n\nHere, a family, the professionals"), absent=tuple(CHILD.values()))
    if actor == "newcomer":
        return ok(w.da("Your invitation is waiting for the family's approval. "
                       "You will get a message here as soon as they have answered."), absent=(CHILD["a"],))
    hidden = tuple(CHILD[d] for d in ("a", "b") if c.kinds[actor, d] in (NOBODY, NOT_JOINED))
    # The coordinator's home ends with /hjaelp; anyone else's is the home card of #12 ("Hej Mette.").
    return ok(w.da("Type /hjaelp to see what you can do."), w.da("Hi {name}.", name=c.persons[actor].name or ""),
              absent=hidden)


ERASE_REFUSED = ("You are the coordinator of dialogs that are not closed. Close them with /luk "
                 "(or have them handed over) before your data can be erased.")


def erase_prompt(c: Ctx, actor: str) -> Out:
    coordinates_open = (actor == "coord" and c.state != CLOSED) or actor == "other_coord"
    return no(c.w.da(ERASE_REFUSED)) if coordinates_open else ok(c.w.line("<b>Erase your data in Samspil?</b>\n\n"))


def command_cases() -> list[Case]:
    cases = [Case(f"/{flow}", "say", lambda w, a, f=flow: f"/{f}", picked(flow)) for flow in PICK_FLOWS]
    cases += [
        Case("/ny", "say", lambda w, a: "/ny", staff(const(lambda w: ok(w.line(
            "<b>New dialog</b> (step 1 of 3)\n\n"))))),
        Case("/inviter", "say", lambda w, a: "/inviter", staff(lambda c, a: coordinated(
            c, a, "You have no open dialogs. Open one with /ny.",
            lambda w, d: w.line("<b>Invite to the dialog about {child}</b>\n\n", child=CHILD[d])))),
        Case("/luk", "say", lambda w, a: "/luk", staff(lambda c, a: coordinated(
            c, a, "You have no open dialogs to close.",
            lambda w, d: w.line("<b>Close the dialog about {child}</b>\n\n", child=CHILD[d])))),
        Case("/dialoger", "say", lambda w, a: "/dialoger", staff(lambda c, a: ok(
            f"{CHILD[own_dialog(a)]} (", absent=(CHILD["b" if own_dialog(a) == "a" else "a"],)))),
        Case("/start", "say", lambda w, a: "/start", start_home),
        # A personal link is its holder's: the mother's, opened again by anyone.
        Case("/start with the mother's invitation link", "say", lambda w, a: f"/start {w.people['mom'].token}",
             lambda c, a: ok(c.w.da("You are already part of the dialog about {child}.", child=CHILD["a"]))
             if a == "mom" else no(c.w.da("This link has already been used. Ask your coordinator for a new one "
                                          "if you need it."))),
        Case("/hjaelp", "say", lambda w, a: "/hjaelp", known(const(lambda w: ok(w.da("<b>What you can do here</b>"))),
                                                           lambda w: ok(w.line("Samspil is where a family")))),
        Case("/sprog", "say", lambda w, a: "/sprog", const(lambda w: ok(w.da("Choose your language:")))),
        Case("/annuller", "say", lambda w, a: "/annuller", const(lambda w: ok(w.da("There is nothing to cancel."))),
             clean=True),
        Case("/mine_data", "say", lambda w, a: "/mine_data", known(const(lambda w: ok(w.head(
            "Here is everything Samspil stores about you and everything you have written: "
            "a file for computers (JSON) and a readable PDF.\n\n"
            "Keep them somewhere safe – they contain personal data."))), lambda w: ok(w.da(NO_DATA)))),
        Case("/slet_mine_data", "say", lambda w, a: "/slet_mine_data", known(erase_prompt, lambda w: ok(w.da(NO_DATA)))),
    ]
    return cases


# ---- buttons ----


def pick_cases() -> list[Case]:
    cases = []
    for d in ("a", "b"):
        for flow, (action, screen) in PICK_FLOWS.items():
            if d == "b" and flow in ("vurdering", "moede", "plan", "indstilling"):
                continue  # the same rule action as oversigt, referat: B's answer is the same
            cases.append(Case(
                f"PickDialogCb({flow}, {d})", "tap",
                lambda w, a, f=flow, d=d: PickDialogCb(flow=f, dialog_id=w.ids[d]).pack(),
                gated(d, action, lambda c, a, s=screen, d=d: ok(s(c.w, d, c.kinds[a, d], c.dstate(d)))),
                once=d == "b"))
    return cases


def own_draft(w: World, actor: str) -> int:
    return w.ids[f"draft:{actor}"] if actor in WRITERS else w.ids["draft:mom"]


def others_draft(w: World, actor: str) -> int:
    return w.ids["draft:dad" if actor == "mom" else "draft:mom"]


def box(w: World, area: str, step: int) -> str:
    return w.line("<b>{area}</b> · step {step} of 3\n\n<b>{title}</b>\n{question}\n<i>{help}</i>",
                  area=w.area(area), step=step)


def review_card(w: World) -> str:
    return w.line("<b>{area}</b> – your draft (only you can see it)", area=w.area("family"))


SHARED_ALREADY = ("That input has already been shared and can no longer be changed. "
                  "You can write new input in the same area.")


def input_cases() -> list[Case]:
    writer = WRITERS.__contains__

    def entry(action: str, d: str, target: Callable[[World, str], int], value: str = "") -> Payload:
        return lambda w, a: InputCb(action=action, dialog_id=w.ids[d], entry_id=target(w, a), value=value).pack()

    def mine(out: Callable[[World], Out]) -> Expect:
        return gated("a", Action.WRITE_INPUT, owner_only(writer, const(out), stale))

    writing: Fsm = lambda w, a: (InputFlow.writing, {  # noqa: E731
        "dialog_id": w.ids["a"], "entry_id": own_draft(w, a), "box": "worries", "append": True})
    return [
        Case("InputCb.area(a, own draft)", "tap", lambda w, a: InputCb(
            action="area", dialog_id=w.ids["a"], value="family").pack(),
            gated("a", Action.WRITE_INPUT, const(lambda w: ok(review_card(w))))),
        Case("InputCb.purpose(a)", "tap", lambda w, a: InputCb(action="purpose", dialog_id=w.ids["a"]).pack(),
             gated("a", Action.WRITE_INPUT, const(lambda w: ok(PURPOSE_A)))),
        Case("InputCb.home(a)", "tap", lambda w, a: InputCb(action="home", dialog_id=w.ids["a"]).pack(),
             gated("a", Action.WRITE_INPUT, lambda c, a: ok(PICK_FLOWS["input"][1](c.w, "a", "", ACTIVE)))),
        Case("InputCb.share(a)", "tap", lambda w, a: InputCb(action="share", dialog_id=w.ids["a"]).pack(),
             gated("a", Action.WRITE_INPUT, const(lambda w: ok(w.head(
                 "You are about to share your input in: {areas}."))))),
        Case("InputCb.review(a, own draft)", "tap", entry("review", "a", own_draft), mine(lambda w: ok(review_card(w)))),
        Case("InputCb.edit(a, own draft)", "tap", entry("edit", "a", own_draft, "worries"),
             mine(lambda w: ok(box(w, "family", 1)))),
        Case("InputCb.delete(a, own draft)", "tap", entry("delete", "a", own_draft), mine(lambda w: ok(w.head(
            "Delete your draft in {area}? What you wrote there will be gone.")))),
        Case("InputCb.next(a, own draft)", "tap", entry("next", "a", own_draft, "worries"),
             mine(lambda w: ok(box(w, "family", 2))), fsm=writing),
        Case("InputCb.review(a, other's draft)", "tap", entry("review", "a", others_draft),
             gated("a", Action.WRITE_INPUT, const(stale))),
        Case("InputCb.edit(a, other's draft)", "tap", entry("edit", "a", others_draft, "works"),
             gated("a", Action.WRITE_INPUT, const(stale))),
        Case("InputCb.delete_yes(a, other's draft)", "tap", entry("delete_yes", "a", others_draft),
             gated("a", Action.WRITE_INPUT, const(stale))),
        Case("InputCb.share_one(a, other's draft)", "tap", entry("share_one", "a", others_draft),
             gated("a", Action.WRITE_INPUT, const(stale))),
        Case("InputCb.edit(a, own shared entry)", "tap", entry(
            "edit", "a", lambda w, a: w.ids["shared:teacher" if a == "teacher" else "shared:mom"], "worries"),
            gated("a", Action.WRITE_INPUT, lambda c, a: no(c.w.da(SHARED_ALREADY)) if a in ("mom", "teacher")
                  else stale(c.w))),
        # Naming the other dialog's draft through A, and A's drafts through B.
        Case("InputCb.review(a, B's draft)", "tap", entry("review", "a", lambda w, a: w.ids["draft:sofie"]),
             gated("a", Action.WRITE_INPUT, const(stale))),
        Case("InputCb.delete_yes(a, B's draft)", "tap", entry("delete_yes", "a", lambda w, a: w.ids["draft:sofie"]),
             gated("a", Action.WRITE_INPUT, const(stale))),
        Case("InputCb.review(b, own A draft)", "tap", entry("review", "b", own_draft),
             gated("b", Action.WRITE_INPUT, const(stale)), once=True),
        Case("InputCb.edit(b, B's draft)", "tap", entry("edit", "b", lambda w, a: w.ids["draft:sofie"], "worries"),
             gated("b", Action.WRITE_INPUT, const(stale)), once=True),
        Case("InputCb.purpose(b)", "tap", lambda w, a: InputCb(action="purpose", dialog_id=w.ids["b"]).pack(),
             gated("b", Action.WRITE_INPUT, const(lambda w: ok(PURPOSE_B))), once=True),
        Case("InputCb.share(b)", "tap", lambda w, a: InputCb(action="share", dialog_id=w.ids["b"]).pack(),
             gated("b", Action.WRITE_INPUT, const(lambda w: ok(w.da("You have no drafts with text to share.")))),
             once=True),
    ]


def input_changes() -> list[Case]:
    """Writing, sharing, a new draft and deleting it, in this order."""
    return [
        Case("typed answer in a box (a, own draft)", "step", lambda w, a: f"TEKST-{a.upper()} mere.",
             gated("a", Action.WRITE_INPUT, const(lambda w: ok(w.head(
                 "✓ Saved in your draft: “{start}”\nWrite more, or go on.")))),
             fsm=lambda w, a: (InputFlow.writing, {"dialog_id": w.ids["a"], "entry_id": own_draft(w, a),
                                                   "box": "worries", "append": True}),
             fsm_for="all", mutates=True),
        Case("InputCb.share_yes(a)", "tap", lambda w, a: InputCb(action="share_yes", dialog_id=w.ids["a"]).pack(),
             gated("a", Action.WRITE_INPUT, const(lambda w: ok(w.head(
                 "✅ Your input about {areas} is shared. The others in the dialog can read it now.")))), mutates=True),
        Case("InputCb.area(a, new draft)", "tap", lambda w, a: InputCb(
            action="area", dialog_id=w.ids["a"], value="development").pack(),
            gated("a", Action.WRITE_INPUT, const(lambda w: ok(box(w, "development", 1)))), mutates=True),
        Case("InputCb.delete_yes(a, own draft)", "tap", lambda w, a: InputCb(
            action="delete_yes", dialog_id=w.ids["a"],
            entry_id=w.dyn[f"newest_draft:{a}"] if a in WRITERS else w.ids["draft:mom"]).pack(),
            gated("a", Action.WRITE_INPUT, owner_only(WRITERS.__contains__, const(lambda w: ok(w.da(
                "The draft is deleted."))), stale)), mutates=True, fresh=True),
        Case("InputCb.area(b, new draft)", "tap", lambda w, a: InputCb(
            action="area", dialog_id=w.ids["b"], value="family").pack(),
            gated("b", Action.WRITE_INPUT, const(lambda w: ok(box(w, "family", 1)))), mutates=True, once=True),
    ]


def scale_cases() -> list[Case]:
    def sk(action: str, d: str, value: int = 0) -> Payload:
        return lambda w, a: ScaleCb(action=action, dialog_id=w.ids[d], round_no=1, value=value).pack()

    return [
        Case("ScaleCb.pick(a, 5)", "tap", sk("pick", "a", 5),
             gated("a", Action.SCALE, const(lambda w: ok(w.head("You chose <b>{value}</b>: {emoji} <b>{field}</b>"))))),
        Case("ScaleCb.again(a)", "tap", sk("again", "a"),
             gated("a", Action.SCALE, lambda c, a: ok(PICK_FLOWS["skala"][1](c.w, "a", "", ACTIVE)))),
        Case("ScaleCb.pick(b, 5)", "tap", sk("pick", "b", 5),
             gated("b", Action.SCALE, const(lambda w: ok(w.head("You chose <b>{value}</b>: {emoji} <b>{field}</b>")))),
             once=True),
    ]


def scale_changes() -> list[Case]:
    saved = const(lambda w: ok(w.head("Saved: <b>{value}</b> {emoji} {field}.")))
    return [
        Case("ScaleCb.confirm(a, 5)", "tap", lambda w, a: ScaleCb(
            action="confirm", dialog_id=w.ids["a"], round_no=1, value=5).pack(),
            gated("a", Action.SCALE, saved), mutates=True),
        Case("ScaleCb.confirm(b, 5)", "tap", lambda w, a: ScaleCb(
            action="confirm", dialog_id=w.ids["b"], round_no=1, value=5).pack(),
            gated("b", Action.SCALE, saved), mutates=True, once=True),
    ]


def overview_cases() -> list[Case]:
    def title(d: str) -> Expect:
        return lambda c, a: ok(PICK_FLOWS["oversigt"][1](c.w, d, "", ACTIVE))

    pdf = const(lambda w: ok(w.da("The PDF is on its way – it comes in a moment.")))
    return [
        Case("OverviewCb.page(a)", "tap", lambda w, a: OverviewCb(dialog_id=w.ids["a"], round_no=1).pack(),
             gated("a", Action.READ_SHARED, title("a"))),
        Case("OverviewCb.areas(a)", "tap", lambda w, a: OverviewCb(
            dialog_id=w.ids["a"], round_no=1, action="areas").pack(),
            gated("a", Action.READ_SHARED, const(lambda w: ok(w.da("Which area do you want to see?"))))),
        Case("OverviewCb.rounds(a)", "tap", lambda w, a: OverviewCb(
            dialog_id=w.ids["a"], round_no=1, action="rounds").pack(),
            gated("a", Action.READ_SHARED, const(lambda w: ok(w.da("Which round do you want to see?"))))),
        Case("OverviewPdfCb(a)", "tap", lambda w, a: OverviewPdfCb(dialog_id=w.ids["a"], round_no=1).pack(),
             gated("a", Action.READ_SHARED, pdf)),
        Case("OverviewCb.page(b, family)", "tap", lambda w, a: OverviewCb(
            dialog_id=w.ids["b"], round_no=1, area="family").pack(), gated("b", Action.READ_SHARED, title("b")),
            once=True),
        Case("OverviewPdfCb(b)", "tap", lambda w, a: OverviewPdfCb(dialog_id=w.ids["b"], round_no=1).pack(),
             gated("b", Action.READ_SHARED, pdf), once=True),
    ]


NOT_STARTED = "The meeting has not started yet. Type /moede to see it."


def meeting_cases() -> list[Case]:
    def mt(action: str, d: str = "a", meeting: str = "a", value: int = 0) -> Payload:
        return lambda w, a: MeetingCb(action=action, dialog_id=w.ids[d], meeting_id=w.ids[f"meeting:{meeting}"],
                                      value=value).pack()

    def manage(d: str, out: Callable[[World], Out]) -> Expect:
        return gated(d, Action.MANAGE, const(out))

    summary: Fsm = lambda w, a: (MeetingFlow.confirm, {  # noqa: E731
        "dialog_id": w.ids["a"], "meeting_id": 0, "version": 0, "starts_at": "2026-12-05T09:00:00+00:00",
        "place": "Rådhuset", "editing": False})
    return [
        Case("MeetingCb.show(a)", "tap", mt("show"), manage("a", lambda w: ok(w.line(
            "<b>Dialog meeting</b> – the dialog about {child}, round {round}", child=CHILD["a"], round=1)))),
        Case("MeetingCb.move(a)", "tap", mt("move"), manage("a", lambda w: ok(w.line(
            "<b>Move the meeting</b> – the dialog about {child}\n\n", child=CHILD["a"])))),
        Case("MeetingCb.cancel(a)", "tap", mt("cancel"), manage("a", lambda w: ok(w.head(
            "Cancel the meeting {when}? Everyone who takes part gets a message.")))),
        Case("MeetingCb.keep(a)", "tap", mt("keep"), manage("a", lambda w: ok(w.da("The meeting stays as planned.")))),
        Case("MeetingCb.start(a)", "tap", mt("start"), manage("a", lambda w: ok(w.head(
            "The meeting can be started on the day itself ({date}).")))),
        Case("MeetingCb.target(a, 5)", "tap", mt("target", value=5), manage("a", lambda w: ok(w.da(NOT_STARTED)))),
        Case("MeetingCb.close_yes(a)", "tap", mt("close_yes"), manage("a", lambda w: ok(w.da(NOT_STARTED)))),
        Case("MeetingCb.send(a) in the summary step", "tap", lambda w, a: MeetingCb(
            action="send", dialog_id=w.ids["a"]).pack(), manage("a", lambda w: ok(w.head(
                "A meeting is already scheduled in this dialog. Type /moede to see it, move it or cancel it."))),
            fsm=summary),
        Case("MeetingCb.abort(a) in the summary step", "tap", lambda w, a: MeetingCb(
            action="abort", dialog_id=w.ids["a"]).pack(), manage("a", lambda w: ok(w.da(
                "Stopped. Nothing was changed."))), fsm=summary),
        Case("MeetingCb.show(a, B's meeting)", "tap", mt("show", "a", "b"), manage("a", stale)),
        Case("MeetingCb.cancel_yes(a, B's meeting)", "tap", mt("cancel_yes", "a", "b"), manage("a", stale)),
        Case("MeetingCb.show(b)", "tap", mt("show", "b", "b"), manage("b", lambda w: ok(w.line(
            "<b>Dialog meeting</b> – the dialog about {child}, round {round}", child="Oliver", round=1))), once=True),
        Case("MeetingCb.cancel(b)", "tap", mt("cancel", "b", "b"), manage("b", lambda w: ok(w.head(
            "Cancel the meeting {when}? Everyone who takes part gets a message."))), once=True),
        Case("RsvpCb(a, coming)", "tap", lambda w, a: RsvpCb(
            meeting_id=w.ids["meeting:a"], version=w.dyn["meeting_version:a"], coming=1).pack(),
            gated("a", Action.READ_SHARED, lambda c, a: stale(c.w) if a == "coord"
                  else ok(c.w.da("Your answer is already recorded.")))),
        Case("RsvpCb(b, coming)", "tap", lambda w, a: RsvpCb(
            meeting_id=w.ids["meeting:b"], version=w.dyn["meeting_version:b"], coming=1).pack(),
            gated("b", Action.READ_SHARED, lambda c, a: stale(c.w) if c.kinds[a, "b"] == COORD
                  else ok(c.w.da("Your answer is already recorded."))), once=True),
        Case("typed time in the meeting step (a)", "step", lambda w, a: "5/12 kl. 10",
             manage("a", lambda w: ok(w.line(
                 "<b>Dialog meeting</b> – the dialog about {child} (step 2 of 2)\n\n", child=CHILD["a"]))),
             fsm=lambda w, a: (MeetingFlow.when, {"dialog_id": w.ids["a"], "meeting_id": 0, "version": 0,
                                                  "place": None}), fsm_for="all"),
    ]


def meeting_changes() -> list[Case]:
    return [
        Case("RsvpCb(a, can't come)", "tap", lambda w, a: RsvpCb(
            meeting_id=w.ids["meeting:a"], version=w.dyn["meeting_version:a"], coming=0).pack(),
            gated("a", Action.READ_SHARED, lambda c, a: stale(c.w) if a == "coord" else ok(c.w.head(
                "Thank you – you have answered: I can't come. The coordinator will be told."))), mutates=True,
            fresh=True),
        Case("MeetingCb.cancel_yes(a)", "tap", lambda w, a: MeetingCb(
            action="cancel_yes", dialog_id=w.ids["a"], meeting_id=w.ids["meeting:a"]).pack(),
            gated("a", Action.MANAGE, const(lambda w: ok(w.da(
                "The meeting is cancelled, and everyone has been told. Type /moede to schedule a new one.")))),
            mutates=True),
    ]


NO_GOAL = "That goal no longer exists. Type /plan to see the plan."
NO_TASK = "That task no longer exists. Type /plan to see the plan."


def plan_cases() -> list[Case]:
    def pc(action: str, d: str = "a", goal: str = "", task: str = "", value: str = "") -> Payload:
        return lambda w, a: PlanCb(action=action, dialog_id=w.ids[d], goal_id=w.ids[goal] if goal else 0,
                                   task_id=w.ids[task] if task else 0, value=value).pack()

    def manage(out: Callable[[World], Out], d: str = "a") -> Expect:
        return gated(d, Action.MANAGE, const(out))

    def plan_head(child: str) -> Callable[[World], Out]:
        return lambda w: ok(w.line("<b>Goals & Plan</b> – the dialog about {child}", child=child))

    t1 = {"goal": "goal:a", "task": "task:dad"}
    return [
        Case("PlanCb.home(a)", "tap", pc("home"), manage(plan_head(CHILD["a"]))),
        Case("PlanCb.goal_new(a)", "tap", pc("goal_new"), manage(lambda w: ok(w.da("Which input area is the goal in?")))),
        Case("PlanCb.goal_area(a)", "tap", pc("goal_area", value="family"), manage(lambda w: ok(w.da(
            "<b>{area}</b>\n\nWrite the goal, e.g. \"The friendships in the class should be strengthened and "
            "supported.\"", area=w.area("family")).split("\n")[-1]))),
        Case("PlanCb.send(a)", "tap", pc("send"), manage(lambda w: ok(w.da("This version of the plan is already agreed.")))),
        Case("PlanCb.goal(a)", "tap", pc("goal", goal="goal:a"), manage(lambda w: ok("MÅL-FREJA"))),
        Case("PlanCb.goal_edit(a)", "tap", pc("goal_edit", goal="goal:a"), manage(lambda w: ok(w.da(
            "Write the goal as it should read now. It reads:")))),
        Case("PlanCb.goal_del(a)", "tap", pc("goal_del", goal="goal:a"), manage(lambda w: ok(w.head(
            "Remove the goal and its {count} task from the plan?")))),
        Case("PlanCb.task_new(a)", "tap", pc("task_new", goal="goal:a"), manage(lambda w: ok(w.head(
            "<b>New task</b> under the goal \"{goal}\"\n\nWhat is to be done? Describe the task in a few sentences.")))),
        Case("PlanCb.task(a)", "tap", pc("task", **t1), manage(lambda w: ok("OPGAVE-FAR"))),
        Case("PlanCb.task_what(a)", "tap", pc("task_what", **t1), manage(lambda w: ok(w.da(
            "Write the task as it should read now.")))),
        Case("PlanCb.task_who(a)", "tap", pc("task_who", **t1), manage(lambda w: ok(w.da(
            "Who is responsible for the task?")))),
        Case("PlanCb.task_period(a)", "tap", pc("task_period", **t1), manage(lambda w: ok(w.da(
            "When does the task start? Write a date, e.g. \"1/12\", \"1. december\" or \"i dag\".")))),
        Case("PlanCb.task_del(a)", "tap", pc("task_del", **t1), manage(lambda w: ok(w.head(
            "Remove the task \"{what}\"?")))),
        Case("PlanCb.task_owner(a) in the who step", "tap", lambda w, a: PlanCb(
            action="task_owner", dialog_id=w.ids["a"], goal_id=w.ids["goal:a"], task_id=w.ids["task:dad"],
            value=str(w.ids["seat:dad:a"])).pack(), manage(lambda w: ok(w.da("Nothing was changed."))),
            fsm=lambda w, a: (PlanFlow.task_who, {"dialog_id": w.ids["a"], "goal_id": w.ids["goal:a"],
                                                  "task_id": w.ids["task:dad"]})),
        # Another dialog's goal and task, named through A.
        Case("PlanCb.goal(a, B's goal)", "tap", pc("goal", goal="goal:b"), manage(lambda w: no(w.da(NO_GOAL)))),
        Case("PlanCb.task_del_yes(a, B's task)", "tap", pc("task_del_yes", goal="goal:a", task="task:b"),
             manage(lambda w: no(w.da(NO_TASK)))),
        Case("PlanCb.home(b)", "tap", pc("home", "b"), manage(plan_head("Oliver"), "b"), once=True),
        Case("PlanCb.goal(b)", "tap", pc("goal", "b", goal="goal:b"), manage(lambda w: ok("MÅL-OLIVER"), "b"),
             once=True),
        Case("typed start date in the plan step (a)", "step", lambda w, a: "1/12",
             manage(lambda w: ok(w.head("Start: {date}"))),
             fsm=lambda w, a: (PlanFlow.task_start, {"dialog_id": w.ids["a"], "goal_id": w.ids["goal:a"],
                                                     "task_id": w.ids["task:dad"]}), fsm_for="all"),
    ]


NOT_GIVER_PLAN = "Only the parents with custody (or the young person) agree to the plan."
NOT_OWNER = "Only the person responsible for the task can answer here."


def plan_answer_cases() -> list[Case]:
    def pa(action: str, d: str) -> Payload:
        return lambda w, a: PlanAnswerCb(action=action, dialog_id=w.ids[d], version=w.dyn[f"plan_version:{d}"]).pack()

    def giver(out: Callable[[World], Out], d: str = "a") -> Expect:
        return gated(d, Action.READ_SHARED, lambda c, a: out(c.w) if c.kinds[a, d] == GIVER
                     else no(c.w.da(NOT_GIVER_PLAN)))

    return [
        Case("PlanAnswerCb.agree(a)", "tap", pa("agree", "a"), giver(lambda w: ok(w.da("The plan is already agreed.")))),
        Case("PlanAnswerCb.comment(a)", "tap", pa("comment", "a"), giver(lambda w: ok(w.da(
            "Write your comment on the plan. The coordinator gets it and will get back to you. "
            "Type /annuller to stop.")))),
        Case("PlanAnswerCb.agree(b)", "tap", pa("agree", "b"), giver(lambda w: NEVER, "b"), once=True),
    ]


def task_cases() -> list[Case]:
    owners = {"task:dad": "dad", "task:teacher": "teacher", "task:b": "sofie"}

    def tk(action: str, task: str, out: Callable[[World], Out], d: str = "a", **kw: Any) -> Case:
        return Case(f"TaskCb.{action}({task})", "tap", lambda w, a: TaskCb(action=action, task_id=w.ids[task]).pack(),
                    gated(d, Action.READ_SHARED, lambda c, a: out(c.w) if a == owners[task] else no(c.w.da(NOT_OWNER))),
                    **kw)

    helped = lambda w: ok(w.da("The coordinator has been told that you need help with the task, "  # noqa: E731
                               "and will contact you."))
    done = lambda w: ok(w.da("Thank you! The task is marked as done, and the coordinator is told."))  # noqa: E731
    return [
        tk("help", "task:dad", helped, mutates=True), tk("help", "task:teacher", helped, mutates=True),
        tk("done", "task:dad", done, mutates=True), tk("done", "task:teacher", done, mutates=True),
        tk("done", "task:b", done, "b", once=True), tk("help", "task:b", helped, "b", once=True),
    ]


def plan_changes() -> list[Case]:
    return [
        Case("typed comment in the plan step (a)", "step", lambda w, a: "KOMMENTAR Vi vil gerne have mere tid.",
             gated("a", Action.READ_SHARED, lambda c, a: ok(c.w.da("Thank you. Your comment is sent to the coordinator."))
                   if c.kinds[a, "a"] == GIVER else no(c.w.refusal(Refusal.NOT_CONSENT_GIVER, "a"))),
             fsm=lambda w, a: (PlanFlow.comment, {"dialog_id": w.ids["a"], "version": w.dyn["plan_version:a"]}),
             fsm_for="all", mutates=True, fresh=True),
        Case("typed goal in the plan step (a)", "step", lambda w, a: "Et nyt mål for Freja.",
             gated("a", Action.MANAGE, const(lambda w: ok(w.head("✓ Saved. The plan is now version {version}."))),),
             fsm=lambda w, a: (PlanFlow.goal_text, {"dialog_id": w.ids["a"], "area": "family", "goal_id": 0}),
             fsm_for="all", mutates=True),
        Case("PlanCb.task_del_yes(a)", "tap", lambda w, a: PlanCb(
            action="task_del_yes", dialog_id=w.ids["a"], goal_id=w.ids["goal:a"], task_id=w.ids["task:teacher"]).pack(),
            gated("a", Action.MANAGE, const(lambda w: ok(w.da("The task is removed.")))), mutates=True),
        Case("PlanCb.goal_del_yes(a)", "tap", lambda w, a: PlanCb(
            action="goal_del_yes", dialog_id=w.ids["a"], goal_id=w.dyn["newest_goal"]).pack(),
            gated("a", Action.MANAGE, const(lambda w: ok(w.da("The goal is removed.")))), mutates=True, fresh=True),
        Case("PlanCb.task_del_yes(b)", "tap", lambda w, a: PlanCb(
            action="task_del_yes", dialog_id=w.ids["b"], goal_id=w.ids["goal:b"], task_id=w.ids["task:b"]).pack(),
            gated("b", Action.MANAGE, const(lambda w: ok(w.da("The task is removed.")))), mutates=True, once=True),
    ]


NOT_ASKED_LETTER = "That person has joined already, or is no longer invited."


def referral_cases() -> list[Case]:
    def rc(action: str, d: str, value: Callable[[World], str] = lambda w: "") -> Payload:
        return lambda w, a: RefCb(action=action, dialog_id=w.ids[d], value=value(w)).pack()

    def ra(answer: str, ref: str) -> Payload:
        return lambda w, a: RefAnswerCb(referral_id=w.ids[ref], answer=answer).pack()

    def answering(d: str, out: Callable[[World], Out]) -> Expect:
        return gated(d, Action.CONSENT, gated(d, Action.READ_SHARED, const(out)))

    return [
        Case("RefCb.to(a)", "tap", rc("to", "a", lambda w: "ppr"), gated("a", Action.MANAGE, const(lambda w: ok(w.head(
            "<b>Referral to {receiver}</b> – the dialog about {child}\n\n"
            "It will contain the purpose, the participants, the latest shared input, the scores over time, "
            "Goals & Plan and what has been tried.\n\n"
            "Before it is made, {names} must approve it here in Samspil. They get a message where they can "
            "read the draft and answer Approve or Refuse. You are told when they have answered."))))),
        Case("RefCb.cancel(a)", "tap", rc("cancel", "a"), gated("a", Action.MANAGE, const(lambda w: ok(w.da(
            "Cancelled. No referral was asked for."))))),
        Case("RefCb.get(a)", "tap", rc("get", "a", lambda w: str(w.ids["ref:produced"])),
             gated("a", Action.MANAGE, const(lambda w: ok(w.head(
                 "📄 The referral to {receiver} about {child}, approved by the parents with custody. Send it on "
                 "securely (e.g. by secure e-mail); it is confidential."))))),
        Case("RefCb.get(a, B's referral)", "tap", rc("get", "a", lambda w: str(w.ids["ref:b"])),
             gated("a", Action.MANAGE, const(stale))),
        Case("RefCb.get(b, A's referral)", "tap", rc("get", "b", lambda w: str(w.ids["ref:produced"])),
             gated("b", Action.MANAGE, const(stale)), once=True),
        Case("RefAnswerCb.view(a)", "tap", ra("view", "ref:pending"), answering("a", lambda w: ok(w.da(
            "The draft is on its way – it comes in a moment.")))),
        Case("RefAnswerCb.yes(a, produced)", "tap", ra("yes", "ref:produced"), answering("a", lambda w: ok(w.da(
            "This referral has already been approved by everyone.")))),
        Case("RefAnswerCb.yes(b)", "tap", ra("yes", "ref:b"), answering("b", lambda w: NEVER), once=True),
        Case("RefAnswerCb.view(b)", "tap", ra("view", "ref:b"), answering("b", lambda w: NEVER), once=True),
    ]


def referral_changes() -> list[Case]:
    def answering(out: Callable[[World], Out]) -> Expect:
        return gated("a", Action.CONSENT, gated("a", Action.READ_SHARED, const(out)))

    return [
        Case("RefAnswerCb.yes(a)", "tap", lambda w, a: RefAnswerCb(referral_id=w.ids["ref:pending"], answer="yes").pack(),
             answering(lambda w: ok(w.da(
                 "Thank you – you have approved the referral. Everyone has now approved it, and the "
                 "coordinator sends it on."))), mutates=True),
        Case("RefAnswerCb.no(a)", "tap", lambda w, a: RefAnswerCb(referral_id=w.ids["ref:pending"], answer="no").pack(),
             answering(lambda w: ok(w.da("This referral has already been approved by everyone."))), mutates=True),
        Case("RefCb.ask(a)", "tap", lambda w, a: RefCb(action="ask", dialog_id=w.ids["a"], value="ppr").pack(),
             gated("a", Action.MANAGE, const(lambda w: ok(w.head(
                 "📨 The referral to {receiver} about {child} has been sent for approval to {names}. "
                 "You are told when they have answered.")))), mutates=True),
        Case("RefCb.ask(b)", "tap", lambda w, a: RefCb(action="ask", dialog_id=w.ids["b"], value="health").pack(),
             gated("b", Action.MANAGE, const(lambda w: ok(w.head(
                 "📨 The referral to {receiver} about {child} has been sent for approval to {names}. "
                 "You are told when they have answered.")))), mutates=True, once=True),
    ]


def letter_cases() -> list[Case]:
    def lc(action: str, d: str, seat: str = "", lang: str = "") -> Payload:
        return lambda w, a: LetterCb(action=action, dialog_id=w.ids[d], participant_id=w.ids[seat] if seat else 0,
                                     lang=lang).pack()

    who = lambda w: ok(w.head(  # noqa: E731
        "<b>Invitation letter for {who}</b>\n\n"
        "The letter carries a new personal link, valid until {date}. The link {name} got earlier stops "
        "working, so give {name} only the letter."))
    return [
        Case("LetterCb.who(a)", "tap", lc("who", "a", "seat:newcomer:a"), gated("a", Action.INVITE, const(who))),
        Case("LetterCb.cancel(a)", "tap", lc("cancel", "a"), gated("a", Action.INVITE, const(lambda w: ok(w.da(
            "Cancelled. No letter was made, and the earlier link still works."))))),
        Case("LetterCb.who(a, a joined parent)", "tap", lc("who", "a", "seat:mom:a"),
             gated("a", Action.INVITE, const(lambda w: no(w.da(NOT_ASKED_LETTER))))),
        Case("LetterCb.who(a, B's newcomer)", "tap", lc("who", "a", "seat:nina:b"),
             gated("a", Action.INVITE, const(lambda w: no(w.da(NOT_ASKED_LETTER))))),
        Case("LetterCb.who(b)", "tap", lc("who", "b", "seat:nina:b"), gated("b", Action.INVITE, const(who)), once=True),
    ]


def letter_changes() -> list[Case]:
    return [
        Case("LetterCb.make(a)", "tap", lambda w, a: LetterCb(
            action="make", dialog_id=w.ids["a"], participant_id=w.ids["seat:newcomer:a"], lang="da").pack(),
            gated("a", Action.INVITE, const(lambda w: ok(w.head(
                "📄 Invitation letter for {who}. Print it or send it by e-Boks. The link in it works once, until "
                "{date}; the link given earlier no longer works.")))), mutates=True),
    ]


NOTHING_TO_WITHDRAW = "Your consent is not given at the moment, so there is nothing to withdraw."
CHANGED_SINCE = "Something in the dialog has changed since you read it. Please read it again before you answer."


def consent_cases() -> list[Case]:
    def cv(action: str, d: str) -> Payload:
        return lambda w, a: ConsentViewCb(action=action, dialog_id=w.ids[d]).pack()

    def own_seat(w: World, actor: str) -> int:
        return w.ids.get(f"seat:{actor}:a", w.ids["seat:mom:a"])

    def cc(answer: str, seat: Callable[[World, str], int]) -> Payload:
        return lambda w, a: ConsentCb(answer=answer, participant_id=seat(w, a), shown="").pack()

    def withdraw_prompt(c: Ctx, a: str) -> Out:
        if c.state == ACTIVE:
            return ok(c.w.line("<b>Withdraw your consent to the dialog about {child}?</b>\n\n", child=CHILD["a"]))
        return ok(c.w.da(NOTHING_TO_WITHDRAW))

    def own_card(answer: str) -> Expect:
        # The card's buttons name a seat: only its holder answers, and only for what was shown.
        def expect(c: Ctx, a: str) -> Out:
            if a in ("stranger", "other_coord"):
                return no(c.w.refusal(Refusal.NOT_PARTICIPANT, None))
            refused = c.gate(a, "a", Action.CONSENT)
            if refused:
                return refused
            if c.state == ACTIVE:  # consent is given: an old card
                return ok(c.w.da("Your consent is already recorded.")) if answer == "given" else stale(c.w)
            return ok(c.w.da(CHANGED_SINCE))
        return expect

    return [
        Case("ConsentViewCb.withdraw(a)", "tap", cv("withdraw", "a"), gated("a", Action.CONSENT, withdraw_prompt)),
        Case("ConsentViewCb.keep(a)", "tap", cv("keep", "a"), gated("a", Action.CONSENT, const(lambda w: ok(w.da(
            "Good – your consent stands."))))),
        Case("ConsentCb.given(a, own seat)", "tap", cc("given", own_seat), own_card("given")),
        Case("ConsentCb.declined(a, own seat)", "tap", cc("declined", own_seat), own_card("declined")),
        Case("ConsentCb.given(a, someone else's seat)", "tap",
             cc("given", lambda w, a: w.ids["seat:dad:a" if a == "mom" else "seat:mom:a"]),
             const(lambda w: no(w.refusal(Refusal.NOT_PARTICIPANT, None)))),
        Case("ConsentCb.given(b, B's parent's seat)", "tap", cc("given", lambda w, a: w.ids["seat:sofie:b"]),
             const(lambda w: no(w.refusal(Refusal.NOT_PARTICIPANT, None))), once=True),
        Case("ConsentViewCb.withdraw(b)", "tap", cv("withdraw", "b"), gated("b", Action.CONSENT, const(lambda w: NEVER)),
             once=True),
        Case("ConsentViewCb.withdraw_yes(b)", "tap", cv("withdraw_yes", "b"),
             gated("b", Action.CONSENT, const(lambda w: NEVER)), once=True),
    ]


def approval_cases() -> list[Case]:
    def ap(answer: str, seat: str) -> Payload:
        return lambda w, a: ApproveCb(answer=answer, participant_id=w.ids[seat]).pack()

    return [
        # The family approves a newcomer; these name her for anyone but the one asked.
        Case("ApproveCb.yes(a, the newcomer)", "tap", ap("yes", "seat:newcomer:a"),
             gated("a", Action.APPROVE, const(lambda w: NEVER)), actors=tuple(x for x in ACTORS if x != "mom")),
        Case("ApproveCb.no(a, the newcomer)", "tap", ap("no", "seat:newcomer:a"),
             gated("a", Action.APPROVE, const(lambda w: NEVER)), actors=tuple(x for x in ACTORS if x != "mom")),
        Case("ApproveCb.yes(b)", "tap", ap("yes", "seat:nina:b"), gated("b", Action.APPROVE, const(lambda w: NEVER)),
             once=True),
        Case("ApproveCb.no(b)", "tap", ap("no", "seat:nina:b"), gated("b", Action.APPROVE, const(lambda w: NEVER)),
             once=True),
    ]


def membership_changes() -> list[Case]:
    """The coordinator invites someone; the mother approves (active, paused) or it was not needed."""
    fresh_who = f"{FRESH_NAME} ({FRESH_RELATION})"

    def approved(c: Ctx, a: str) -> Out:
        if c.state in (ACTIVE, PAUSED):
            return ok(c.w.da("Thank you. {who} can now take part in the dialog about {child}.",
                             who=fresh_who, child=CHILD["a"]))
        return ok(c.w.da("That has already been decided."))

    return [
        Case("typed relation in the invite step (a)", "step", lambda w, a: FRESH_RELATION,
             gated("a", Action.INVITE, const(lambda w: ok(w.da(
                 "✅ {who} is invited to the dialog about {child}.", who=fresh_who, child=CHILD["a"]))),),
             fsm=lambda w, a: (Invite.relation, {"dialog_id": w.ids["a"], "name": FRESH_NAME, "role": "network"}),
             fsm_for="all", mutates=True),
        Case("ApproveCb.yes(a, the one invited now)", "tap", lambda w, a: ApproveCb(
            answer="yes", participant_id=w.dyn["fresh"]).pack(), gated("a", Action.APPROVE, approved),
            mutates=True, fresh=True, actors=("mom",)),
        Case("ApproveCb.no(a, the one invited now)", "tap", lambda w, a: ApproveCb(
            answer="no", participant_id=w.dyn["fresh"]).pack(),
            gated("a", Action.APPROVE, const(lambda w: ok(w.da("That has already been decided.")))),
            mutates=True, actors=("mom",)),
    ]


def close_invite_cases() -> list[Case]:
    def cl(action: str, d: str) -> Payload:
        return lambda w, a: CloseCb(action=action, dialog_id=w.ids[d]).pack()

    def inv(d: str) -> Payload:
        return lambda w, a: InviteCb(action="dialog", value=str(w.ids[d])).pack()

    def reason_prompt(d: str) -> Expect:
        return const(lambda w: ok(w.line("<b>Close the dialog about {child}</b>\n\n", child=CHILD[d])))

    def invite_prompt(d: str) -> Expect:
        return const(lambda w: ok(w.line("<b>Invite to the dialog about {child}</b>\n\n", child=CHILD[d])))

    return [
        Case("CloseCb.dialog(a)", "tap", cl("dialog", "a"), gated("a", Action.CLOSE, reason_prompt("a"))),
        Case("CloseCb.no(a)", "tap", cl("no", "a"), gated("a", Action.CLOSE, const(lambda w: ok(w.da(
            "Cancelled. The dialog is still open."))))),
        Case("typed reason in the close step (a)", "step", lambda w, a: "Målene er nået.",
             gated("a", Action.CLOSE, const(lambda w: ok(w.line(
                 "<b>Close the dialog about {child}?</b>\n\n", child=CHILD["a"])))),
             fsm=lambda w, a: (CloseFlow.reason, {"dialog_id": w.ids["a"]}), fsm_for="all"),
        Case("CloseCb.dialog(b)", "tap", cl("dialog", "b"), gated("b", Action.CLOSE, reason_prompt("b")), once=True),
        Case("CloseCb.yes(b) outside the step", "tap", cl("yes", "b"), gated("b", Action.CLOSE, const(stale)), once=True),
        Case("InviteCb.dialog(a)", "tap", inv("a"), gated("a", Action.INVITE, invite_prompt("a"))),
        # Only who may invite is ever in the role step; for anyone else the button is stale.
        Case("InviteCb.role(a) in the role step", "tap", lambda w, a: InviteCb(action="role", value="network").pack(),
             lambda c, a: stale(c.w) if c.gate(a, "a", Action.INVITE) else ok(c.w.head(
                 "How does {name} know the child? (e.g. Grandfather, Football coach, Neighbour)")),
             fsm=lambda w, a: (Invite.role, {"dialog_id": w.ids["a"], "name": "Ny Person"})),
        Case("InviteCb.dialog(b)", "tap", inv("b"), gated("b", Action.INVITE, invite_prompt("b")), once=True),
    ]


def desk_cases() -> list[Case]:
    """The coordinator's desk (issue #13): a dialog's card, handing it over; only its coordinator."""

    def dk(action: str, d: str) -> Payload:
        return lambda w, a: DeskCb(action=action, dialog_id=w.ids[d]).pack()

    def card(d: str) -> Expect:
        return const(lambda w: ok(f"{CHILD[d]} ("))

    def choose(d: str) -> Expect:
        return const(lambda w: ok(w.line("<b>Hand over the dialog about {child}</b>\n\n", child=CHILD[d])))

    return [
        Case("DeskCb.open(a)", "tap", dk("open", "a"), gated("a", Action.DESK, card("a"))),
        Case("DeskCb.hand(a)", "tap", dk("hand", "a"), gated("a", Action.HAND_OVER, choose("a"))),
        Case("DeskCb.yes(a) outside the step", "tap", dk("yes", "a"), gated("a", Action.HAND_OVER, const(stale))),
        Case("DeskCb.open(b)", "tap", dk("open", "b"), gated("b", Action.DESK, card("b")), once=True),
        Case("DeskCb.hand(b)", "tap", dk("hand", "b"), gated("b", Action.HAND_OVER, choose("b")), once=True),
    ]


def close_changes() -> list[Case]:
    """The mother withdraws (active -> paused); the coordinator closes (awaiting consent -> closed)."""

    def withdrawn(c: Ctx, a: str) -> Out:
        if c.state == ACTIVE:
            return ok(c.w.head("Your consent was withdrawn {when}. The dialog about {child} is paused, and the others "
                               "no longer have access. Your coordinator has been told."))
        return ok(c.w.da(NOTHING_TO_WITHDRAW))

    def closing(c: Ctx, a: str) -> Out:
        if c.state == AWAITING_CONSENT:
            return ok(c.w.da("The dialog about {child} is closed, and everyone in it has been told. "
                             "You can still see it under /dialoger.", child=CHILD["a"]))
        return stale(c.w)  # not in the confirm step: nothing happens

    def confirm_step(w: World, a: str) -> tuple[State, dict[str, Any]]:
        return CloseFlow.confirm, {"dialog_id": w.ids["a"], "reason": "Målene er nået."}

    return [
        Case("ConsentViewCb.withdraw_yes(a)", "tap", lambda w, a: ConsentViewCb(
            action="withdraw_yes", dialog_id=w.ids["a"]).pack(), gated("a", Action.CONSENT, withdrawn), mutates=True),
        Case("CloseCb.yes(a)", "tap", lambda w, a: CloseCb(action="yes", dialog_id=w.ids["a"]).pack(),
             gated("a", Action.CLOSE, closing), fsm=confirm_step, mutates=True),
    ]


def person_cases() -> list[Case]:
    """Not about a dialog: language, starting a new dialog, erasing one's own data."""

    def new_dialog(c: Ctx, a: str) -> Out:
        if c.staff_coordinator(a):
            return ok(c.w.da("Cancelled. Nothing was saved."))
        return no(c.w.da("That command is for coordinators (tovholdere)."))

    return [
        # Choosing a language stores a person for someone unknown: a change.
        Case("LanguageCb(da)", "tap", lambda w, a: LanguageCb(code="da").pack(),
             const(lambda w: ok(w.da("I will write to you in English from now on."))), mutates=True),
        Case("NewDialogCb.cancel in the confirm step", "tap", lambda w, a: NewDialogCb(action="cancel").pack(),
             new_dialog, fsm=lambda w, a: (NewDialog.confirm, {"child_name": "Noah", "age_group": "barn",
                                                               "purpose": "Noahs trivsel."}), fsm_for="all"),
        Case("EraseCb.no", "tap", lambda w, a: EraseCb(action="no").pack(),
             known(const(lambda w: ok(w.da("Nothing was erased."))), stale)),
        Case("EraseCb.yes", "tap", lambda w, a: EraseCb(action="yes").pack(),
             lambda c, a: no(c.w.da(ERASE_REFUSED)) if (a == "other_coord" or c.state != CLOSED) else ok(c.w.da(
                 "Your data has been erased. Samspil no longer knows you.\n\nThank you for taking part.")),
             mutates=True, actors=("other_coord", "coord")),
    ]


def forged_number_cases() -> list[Case]:
    """Numbers no table can hold (made up, not tapped): refused like any id that names nothing."""
    huge = 10**19
    return [
        Case("OverviewCb(a dialog id out of range)", "tap", lambda w, a: f"ov:{huge}:1::0:page", const(stale)),
        Case("TaskCb.done(a task id out of range)", "tap", lambda w, a: f"tk:done:{huge}", const(stale)),
        Case("RefCb.get(a, a referral id out of range)", "tap", lambda w, a: RefCb(
            action="get", dialog_id=w.ids["a"], value=str(huge)).pack(), gated("a", Action.MANAGE, const(stale))),
        Case("InviteCb.dialog(a dialog id out of range)", "tap", lambda w, a: InviteCb(
            action="dialog", value=str(huge)).pack(), const(lambda w: no(w.refusal(Refusal.NOT_PARTICIPANT, None)))),
    ]


def on_behalf_cases() -> list[Case]:
    """Issue #12: the coordinator writes for a participant without Telegram, and for nobody else. The
    world has no such participant: every button names a seat in Telegram, which the coordinator is told
    (after the dialog-level gate, as for anyone)."""
    def fc(action: str, seat: str, value: str = "") -> Payload:
        return lambda w, a: ForCb(action=action, participant_id=w.ids[seat],
                                  value=value or (w.app.dialog_config.areas[0].key if action == "area" else "")).pack()

    def in_telegram(name: str) -> Expect:
        return const(lambda w: no(w.da("{name} uses Telegram and answers for themselves. "
                                       "You write only for participants without Telegram.", name=name)))

    return [
        Case("InviteCb.offline(a) in the name step", "tap",
             lambda w, a: InviteCb(action="offline", value=str(w.ids["a"])).pack(),
             gated("a", Action.INVITE, const(lambda w: ok(w.line(
                 "📵 <b>Without Telegram</b>: the person gets no link, and you write for them.")))),
             fsm=lambda w, a: (Invite.name, {"dialog_id": w.ids["a"]})),
        Case("ForCb.menu(a, a parent in Telegram)", "tap", fc("menu", "seat:mom:a"),
             gated("a", Action.INVITE, in_telegram("Mette"))),
        Case("ForCb.area(a, a parent in Telegram)", "tap", fc("area", "seat:mom:a"),
             gated("a", Action.INVITE, in_telegram("Mette"))),
        Case("ForCb.number(a, the teacher)", "tap", fc("number", "seat:teacher:a", "3"),
             gated("a", Action.INVITE, in_telegram("Hanne"))),
        Case("ForCb.given(a, a parent in Telegram)", "tap", fc("given", "seat:mom:a", "oral"),
             gated("a", Action.INVITE, in_telegram("Mette"))),
        Case("ForCb.menu(b, B's newcomer)", "tap", fc("menu", "seat:nina:b"),
             gated("b", Action.INVITE, in_telegram("Nina")), once=True),
    ]


def all_cases() -> list[Case]:
    """Everything that reads or asks first; then what changes data, in the order it must run."""
    return [
        *command_cases(), *pick_cases(), *input_cases(), *scale_cases(), *overview_cases(), *meeting_cases(),
        *plan_cases(), *plan_answer_cases(), *referral_cases(), *letter_cases(), *consent_cases(),
        *approval_cases(), *close_invite_cases(), *desk_cases(), *forged_number_cases(), *on_behalf_cases(),
        # changes, in this order
        *input_changes(), *scale_changes(), *meeting_changes(), *task_cases(), *plan_changes(),
        *referral_changes(), *letter_changes(), *membership_changes(), *close_changes(), *person_cases(),
    ]


# Run in the active state only: A's other states refuse these at the same gate, for the same
# reason, as one that does run in every state (/oversigt for /vurdering, the draft-creating
# InputCb.area for the other input buttons, PlanCb.task_del_yes for the other plan buttons, and
# so on), or they are not about a dialog at all (language, a new dialog). Every kind of button
# and every change of data still runs in every state, and so does everything about consent,
# membership and closing.
ACTIVE_ONLY = frozenset({
    "/vurdering", "/moede", "/plan", "/indstilling", "/ny", "/hjaelp", "/sprog", "/annuller", "/mine_data",
    "PickDialogCb(vurdering, a)", "PickDialogCb(moede, a)", "PickDialogCb(plan, a)", "PickDialogCb(indstilling, a)",
    "InputCb.purpose(a)", "InputCb.home(a)", "InputCb.share(a)", "InputCb.review(a, own draft)",
    "InputCb.edit(a, own draft)", "InputCb.delete(a, own draft)", "InputCb.next(a, own draft)",
    "InputCb.review(a, other's draft)", "InputCb.edit(a, other's draft)", "InputCb.delete_yes(a, other's draft)",
    "InputCb.share_one(a, other's draft)",
    "InputCb.edit(a, own shared entry)", "InputCb.delete_yes(a, B's draft)", "InputCb.area(a, new draft)",
    "ScaleCb.pick(a, 5)", "ScaleCb.again(a)", "OverviewCb.areas(a)", "OverviewCb.rounds(a)",
    "MeetingCb.show(a)", "MeetingCb.move(a)", "MeetingCb.cancel(a)", "MeetingCb.keep(a)", "MeetingCb.start(a)",
    "MeetingCb.target(a, 5)", "MeetingCb.close_yes(a)", "MeetingCb.send(a) in the summary step",
    "MeetingCb.abort(a) in the summary step", "MeetingCb.show(a, B's meeting)", "MeetingCb.cancel_yes(a, B's meeting)",
    "RsvpCb(a, coming)",
    "PlanCb.home(a)", "PlanCb.goal_new(a)", "PlanCb.goal_area(a)", "PlanCb.send(a)", "PlanCb.goal(a)",
    "PlanCb.goal_edit(a)", "PlanCb.goal_del(a)", "PlanCb.goal_del_yes(a)", "PlanCb.task_new(a)", "PlanCb.task(a)",
    "PlanCb.task_what(a)", "PlanCb.task_who(a)", "PlanCb.task_period(a)", "PlanCb.task_del(a)",
    "PlanCb.task_owner(a) in the who step", "PlanCb.goal(a, B's goal)", "PlanCb.task_del_yes(a, B's task)",
    "typed start date in the plan step (a)", "PlanAnswerCb.comment(a)",
    "TaskCb.help(task:dad)", "TaskCb.help(task:teacher)", "TaskCb.done(task:teacher)",
    "RefCb.to(a)", "RefCb.cancel(a)", "RefCb.get(a, B's referral)", "RefAnswerCb.view(a)",
    "RefAnswerCb.yes(a, produced)", "RefAnswerCb.no(a)", "LetterCb.cancel(a)", "LetterCb.who(a, B's newcomer)",
    "ConsentCb.declined(a, own seat)", "ConsentCb.given(a, someone else's seat)", "ApproveCb.no(a, the newcomer)",
    "LanguageCb(da)", "NewDialogCb.cancel in the confirm step", "EraseCb.no",
    "OverviewCb(a dialog id out of range)", "TaskCb.done(a task id out of range)",
    "RefCb.get(a, a referral id out of range)", "InviteCb.dialog(a dialog id out of range)",
})


# ==== running one state ===========================================================================


@dataclass
class Inst:
    case: Case
    actor: str
    out: Out
    step: tuple[State, dict[str, Any]] | None

    def __str__(self) -> str:
        return f"{self.actor}: {self.case.name}"


def instances(c: Ctx, cases: list[Case], report: Report) -> list[Inst]:
    result = []
    for case in cases:
        if (case.once or case.name in ACTIVE_ONLY) and c.state != ACTIVE:
            continue
        for actor in (*case.actors, UNKNOWN) if case.unknown and c.state == ACTIVE else case.actors:
            try:
                out = case.expect(c, actor)
            except AssertionError as exc:  # a text the table names is not in the catalog
                report.fail(c.state, f"{actor}: {case.name}", f"no expectation: {exc}")
                continue
            step = case.fsm(c.w, actor) if case.fsm and (case.fsm_for == "all" or out.ok) else None
            result.append(Inst(case, actor, out, step))
    return result


async def settle(w: World, *, notices: bool = True) -> None:
    """Every update handled, every document sent (and every notice due, unless told not to)."""
    await w.cast.emu.wait_idle(60, settle=0)
    await w.app.scheduler.finish_making()  # documents being made in a worker thread
    await w.cast.emu.wait_idle(60, settle=0)
    if notices:
        await w.cast.settle()


async def set_step(w: World, actor: str, step: tuple[State, dict[str, Any]] | None) -> None:
    uid = w.people[actor].phone.user_id
    fsm = w.app.dp.fsm.get_context(bot=w.app.bot, chat_id=uid, user_id=uid)
    if step is None:
        await fsm.clear()
        return
    await fsm.set_state(step[0])
    await fsm.set_data(step[1])


def chat(w: World, actor: str) -> dict[int, str]:
    return {m.message_id: m.text for m in w.people[actor].phone.bot_messages}


def keyboard_message(w: World, actor: str) -> int:
    """A text message with buttons to tap on (handlers edit or clear what was tapped)."""
    for m in reversed(w.people[actor].phone.bot_messages):
        if m.kind == "text" and m.document is None and m.buttons:
            return m.message_id
    return w.anchor[actor]


async def send(w: World, inst: Inst, on: int) -> str | None:
    who = w.people[inst.actor]
    payload = inst.case.payload(w, inst.actor)
    if inst.case.kind == "tap":
        return await who.phone.tap_data(on, payload)
    await who.phone.send(payload)
    return None


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def fail(self, state: str, what: object, problem: str) -> None:
        self.failures.append(f"[{state}] {what}: {problem}")


async def check_refused_batch(w: World, state: str, batch: list[Inst], report: Report) -> None:
    """Send every refusal of `batch` at once: alerts by query id, replies in order per person."""
    before = {a: chat(w, a) for a in EVERYONE}
    queries: list[tuple[Inst, str]] = []
    typed: dict[str, list[Inst]] = defaultdict(list)
    for inst in batch:
        qid = await send(w, inst, w.anchor[inst.actor])
        if qid is None:
            typed[inst.actor].append(inst)
        else:
            queries.append((inst, qid))
    await settle(w)
    for inst, qid in queries:
        answer = await w.people[inst.actor].phone.wait_answer(5, query_id=qid)
        if not (answer.show_alert and answer.text in inst.out.texts):
            report.fail(state, inst, f"expected the alert {inst.out.texts[0]!r}, got "
                                     f"{answer.text!r} (alert={answer.show_alert})")
    for actor in EVERYONE:
        now = chat(w, actor)
        changed = [now[i] for i in before[actor] if i in now and now[i] != before[actor][i]]
        new = [m for m in w.people[actor].phone.bot_messages if m.message_id not in before[actor]]
        sent = typed.get(actor, [])
        if changed or len(new) != len(sent):
            report.fail(state, f"{actor} ({len(sent)} refused commands/answers in the batch)",
                        f"the chat changed: edited {changed!r}, new {[m.text[:90] for m in new]!r}")
            continue
        for inst, m in zip(sent, new, strict=True):
            if m.text not in inst.out.texts or m.buttons:
                report.fail(state, inst, f"expected {inst.out.texts!r}, got {m.text!r} {m.buttons}")


def check_shown(state: str, inst: Inst, answer: str | None, shown: list[ChatMessage], report: Report) -> None:
    texts_ = ([answer] if answer else []) + [m.text for m in shown]
    out = inst.out
    if not any(marker in t for marker in out.texts for t in texts_):
        report.fail(state, inst, f"expected the screen {out.texts[0]!r}, got answer {answer!r}, "
                                 f"messages {[t[:100] for t in texts_[1 if answer else 0:]]!r}")
        return
    for secret in out.absent:
        if any(secret in t for t in texts_):
            report.fail(state, inst, f"shows {secret!r}")
    if out.buttons is not None:
        keyboards = [tuple(tuple(r) for r in m.buttons) for m in shown if any(x in m.text for x in out.texts)]
        if out.buttons not in keyboards:
            report.fail(state, inst, f"expected the buttons {out.buttons}, got {keyboards}")


async def run_allowed(w: World, state: str, batch: list[Inst], report: Report, *, notices: bool = False) -> None:
    """At most one instance per person: what each is shown is theirs."""
    marks: list[tuple[Inst, int, str | None]] = []
    for inst in batch:
        if inst.step is not None or inst.case.clean:
            await set_step(w, inst.actor, inst.step)
        on = keyboard_message(w, inst.actor)
        mark = w.people[inst.actor].phone.mark()
        marks.append((inst, mark, await send(w, inst, on)))
    await settle(w, notices=notices)
    for inst, mark, qid in marks:
        who = w.people[inst.actor]
        answer = (await who.phone.wait_answer(5, query_id=qid)).text if qid else None
        shown = [m for m in who.phone.bot_messages if m.version > mark]
        check_shown(state, inst, answer, shown, report)


def table_diff(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]],
               skip: tuple[str, ...] = ()) -> list[str]:
    diffs = []
    for table in before:
        if table in skip or before[table] == after[table]:
            continue
        gone = [r for r in before[table] if r not in after[table]]
        added = [r for r in after[table] if r not in before[table]]
        diffs.append(f"{table}: -{gone[:3]} +{added[:3]}")
    return diffs


def rounds(insts: list[Inst]) -> list[list[Inst]]:
    """Instances grouped so that each person has at most one per round, keeping each person's order."""
    per_actor: dict[str, list[Inst]] = defaultdict(list)
    for inst in insts:
        per_actor[inst.actor].append(inst)
    depth = max((len(v) for v in per_actor.values()), default=0)
    return [[v[i] for v in per_actor.values() if i < len(v)] for i in range(depth)]


def cross_check(c: Ctx, seats: dict[tuple[str, str], Any], report: Report) -> None:
    """The table above and rules.access.decide agree on every seat of the world, in this state."""
    for (actor, d), seat in seats.items():
        for action in Action:
            mine = policy(c.kinds[actor, d], c.dstate(d), action)
            theirs = decide(seat, c.dstate(d), action)
            if (theirs.allowed, theirs.refusal) != (mine is None, mine):
                report.fail(c.state, f"{actor} in {d}: decide({action})", f"rules say {theirs}, the table {mine}")


async def run_state(w: World, state: str, cases: list[Case], report: Report) -> None:
    await settle(w)
    await refresh(w)
    c = await read_ctx(w, state)
    async with w.app.sessionmaker() as s:
        seats = {}
        for actor in EVERYONE:
            person = c.persons[actor]
            for d in ("a", "b"):
                seats[actor, d] = q.seat(await q.participant_in(s, person, w.ids[d]))
    cross_check(c, seats, report)
    insts = instances(c, cases, report)
    refused = [i for i in insts if not i.out.ok]
    allowed = [i for i in insts if i.out.ok and not i.case.mutates]
    changes = [i for i in insts if i.out.ok and i.case.mutates]
    report.counts[f"{state} refused"] += len(refused)
    report.counts[f"{state} allowed"] += len(allowed) + len(changes)
    seen = {a: chat(w, a) for a in EVERYONE}  # what everyone's chat shows as this state begins

    # 1. Refusals change nothing. They go in batches: alerts are told apart by query id, replies
    # by their order; someone answering in a conversation step does that first in a batch.
    for actor in EVERYONE:
        await set_step(w, actor, None)
    before = await snapshot(w.app)
    plain_refused = [i for i in refused if i.step is None]
    stepped = rounds([i for i in refused if i.step is not None])
    chunks = max(len(stepped), -(-len(plain_refused) // 160))
    for k in range(chunks):
        first = stepped[k] if k < len(stepped) else []
        for inst in first:
            await set_step(w, inst.actor, inst.step)
        await check_refused_batch(w, state, first + plain_refused[k::chunks], report)
    after = await snapshot(w.app)
    for diff in table_diff(before, after):
        report.fail(state, "the refusals", f"changed the database: {diff}")

    # 2. What is allowed shows the normal screen; reading changes nothing but the audit log
    # (and, for a PDF someone asked for, the document and its row in the outbox that send it).
    for batch in rounds(allowed):
        await run_allowed(w, state, batch, report)
    for diff in table_diff(after, await snapshot(w.app), skip=("audit_event", "document", "outbox")):
        report.fail(state, "the allowed reads", f"changed the database: {diff}")

    # 3. What changes data, one at a time, in the listed order.
    for inst in changes:
        if inst.case.fresh:
            await refresh(w)
        await run_allowed(w, state, [inst], report)

    # Nothing of A's content reaches anyone while A is not active (in a new message or a new text;
    # an earlier message whose buttons were taken away shows nothing new).
    if state != ACTIVE:
        for actor in EVERYONE:
            for m in w.people[actor].phone.bot_messages:
                if seen[actor].get(m.message_id) != m.text:
                    for secret in A_CONTENT:
                        if secret in m.text:
                            report.fail(state, actor, f"was shown {secret!r}: {m.text[:120]!r}")


def leak_checks(w: World, report: Report) -> None:
    """Over the whole run: drafts stayed their author's, no child's name reached a stranger."""
    for actor in EVERYONE:
        who = w.people[actor]
        texts_ = [m.text for m in who.phone.bot_messages]
        foreign = [s for k, s in DRAFT.items() if k != actor]
        for secret in foreign:
            if any(secret in t for t in texts_):
                report.fail("all", actor, f"was shown the draft {secret}")
        hidden = {"stranger": ("Freja", "Oliver"), "other_coord": ("Freja",), "newcomer": ("Freja", "Oliver"),
                  UNKNOWN: ("Freja", "Oliver"),
                  "mom": ("Oliver",), "dad": ("Oliver",), "network": ("Oliver",)}.get(actor, ())
        for name in hidden:
            if any(name in t for t in texts_):
                report.fail("all", actor, f"learned the name {name!r}: "
                                          f"{next(t for t in texts_ if name in t)[:120]!r}")
        for doc in who.phone.documents:
            if doc.file_name and doc.file_name.endswith(".json"):
                data = json.loads(doc.data)
                dump = json.dumps(data, ensure_ascii=False)
                for secret in foreign:
                    if secret in dump:
                        report.fail("all", actor, f"/mine_data holds the draft {secret}")


async def move_a(w: World, state: str) -> None:
    async with w.app.sessionmaker() as s, s.begin():
        (await s.get(Dialog, w.ids["a"])).state = state


@pytest.fixture
def stub_pdfs(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(*_: object) -> bytes:
        return b"%PDF-1.4\n% a stand-in: who gets a PDF is tested here, not what is in it\n"

    for module, name in ((handlers.reports, "render_overview"), (handlers.reports, "render_referat"),
                         (handlers.reports, "render_referral"), (handlers.reports, "render_letter"),
                         (reports.referat, "render_referat"), (reports.my_data, "render_my_data")):
        monkeypatch.setattr(module, name, fake)


async def test_every_command_and_button_as_everyone_in_every_state(cast: Cast, samspil: App, stub_pdfs: None) -> None:
    assert set(POLICY) == set(Action) and set(STATES) == {AWAITING_CONSENT, ACTIVE, PAUSED, CLOSED}
    w = await build_world(cast, samspil)
    cases = all_cases()
    assert ACTIVE_ONLY <= {case.name for case in cases} and len({case.name for case in cases}) == len(cases)
    report = Report()
    # active -> (the mother withdraws) paused -> (set directly) awaiting consent -> (closed by the coordinator)
    for state, then in ((ACTIVE, PAUSED), (PAUSED, None), (AWAITING_CONSENT, CLOSED), (CLOSED, None)):
        if state == AWAITING_CONSENT:
            await move_a(w, AWAITING_CONSENT)
        await run_state(w, state, cases, report)
        await settle(w)
        if then is not None and (now := await dialog_state_of(w)) != then:
            report.fail(state, "the state change", f"A is {now}, not {then}")
            await move_a(w, then)
    leak_checks(w, report)
    total_refused = sum(v for k, v in report.counts.items() if k.endswith("refused"))
    total_allowed = sum(v for k, v in report.counts.items() if k.endswith("allowed"))
    print(f"\nauthorization matrix: {len(cases)} cases, {total_refused} refused and {total_allowed} allowed "
          f"sends: {dict(report.counts)}")
    if report.failures:
        print("\n".join(report.failures))
    assert not report.failures, f"{len(report.failures)} problems:\n" + "\n".join(report.failures[:150])


async def dialog_state_of(w: World) -> str:
    async with w.app.sessionmaker() as s:
        return (await s.get(Dialog, w.ids["a"])).state


@pytest.mark.parametrize("state", STATES)
def test_the_table_is_what_rules_access_decides_for_every_seat(state: str) -> None:
    """Beyond the seats of the world: every role, joined or not, and no seat, for every action."""
    seats: list[Seat | None] = [None]
    seats += [Seat(role=role, consent_giver=is_consent_giver(role), joined=joined)
              for role in ROLES for joined in (True, False)]
    for seat in seats:
        if seat is None:
            kind = NOBODY
        elif seat.role == "coordinator":
            kind = COORD
        elif not seat.joined:
            kind = NOT_JOINED
        else:
            kind = GIVER if seat.consent_giver else MEMBER
        for action in Action:
            mine, theirs = policy(kind, state, action), decide(seat, state, action)
            assert (theirs.allowed, theirs.refusal) == (mine is None, mine), (seat, action)


# ---- for a participant without Telegram (issue #12): rules.access.decide_for ----------------------


def on_behalf_policy(actor: str | None, target: Seat | None, state: str, action: Action) -> Refusal | None:
    """The coordinator alone, for a seat without Telegram alone, and only what that seat could do
    itself (its consent, input, number: POLICY for the seat's own kind)."""
    if actor is NOBODY:
        return Refusal.NOT_PARTICIPANT
    if actor != COORD:
        return Refusal.NOT_COORDINATOR
    if target is None:
        return Refusal.NOT_PARTICIPANT
    if not target.offline or action not in (Action.CONSENT, Action.WRITE_INPUT, Action.SCALE):
        return Refusal.NOT_OFFLINE
    kind = NOT_JOINED if not target.joined else GIVER if target.consent_giver else MEMBER
    return policy(kind, state, action)


@pytest.mark.parametrize("state", STATES)
def test_on_behalf_table_is_what_rules_access_decides_for_every_seat(state: str) -> None:
    actors: list[Seat | None] = [None]
    actors += [Seat(role=role, consent_giver=is_consent_giver(role), joined=joined)
               for role in ROLES for joined in (True, False)]
    targets: list[Seat | None] = [None]
    targets += [Seat(role=role, consent_giver=is_consent_giver(role), joined=joined, offline=offline)
                for role in ROLES if role != "coordinator" for joined in (True, False) for offline in (True, False)]
    for actor in actors:
        kind = NOBODY if actor is None else COORD if actor.role == "coordinator" else MEMBER
        for target in targets:
            for action in Action:
                mine, theirs = on_behalf_policy(kind, target, state, action), decide_for(actor, target, state, action)
                assert (theirs.allowed, theirs.refusal) == (mine is None, mine), (actor, target, action)
