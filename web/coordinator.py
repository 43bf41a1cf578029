"""The coordinator's pages of the Mini App (issue #14, CHAT_CONTENT=minimal): what the chat's `/ny`,
`/inviter` and `/moede` do, with the content on the municipality's server instead of in Telegram.

  GET/POST /page/ny                a new dialog (child's first name, age group, purpose)
  GET/POST /page/inviter           invite someone (name, role, relation; or without Telegram) and
                                   show their personal link once; POST /page/inviter/link: a new
                                   link for someone who has not joined (the old one stops working)
  GET/POST /page/indkald           call a meeting (date, time, place); POST /page/indkald/move and
                                   /page/indkald/cancel
  GET/POST /page/afslut            close the open meeting: who was there, summary, case number
  POST     /page/moede/open        start the meeting on its day (then Mødetilstand, /page/moede)

Every request is one signed transaction as the person (web/visit.py); the rules (rules.access)
decide on the server, and the same use cases as the chat do the work (services/membership.py,
services/on_behalf.py, services/meetings.py, services/documents.py). Input is checked before
anything is written, so a refused form changes nothing. Views: web/coordinator_views.py.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from aiogram.utils.i18n import gettext as _
from aiohttp import web

from core import texts
from core.config import Settings
from reports.common import localized, render, safe_filename
from reports.letter import letter_data, letter_filename, render_letter
from rules.access import ACTIVE, CLOSED, Action, decide
from rules.cpr import contains_cpr
from rules.dates import DateParseError, parse_meeting_time
from rules.roles import (
    AGE_GROUPS,
    INVITABLE,
    STAFF_COORDINATOR,
    asks_relation,
    asks_telegram_age,
    under_telegram_age,
)
from rules.text import clean_text, is_blank
from services import documents as docs
from services import meeting_room, membership, on_behalf
from services import meetings as meetings_service
from services.meetings import Call, Outcome
from storage import meetings as mt
from storage import queries as q
from storage.models import Meeting, Participant
from web import coordinator_views as views
from web import downloads
from web import views as base_views
from web.visit import App, Visit, dialog_id_of, signed

log = logging.getLogger("samspil.web")

# The same limits as the chat's steps (handlers/answers.py, handlers/meetings.py, services/meetings.py).
NAME_LIMIT = 60  # the child's first name
PERSON_NAME_LIMIT = 80
RELATION_LIMIT = 60
PURPOSE_LIMIT = 2000
PLACE_LIMIT = 300
WHEN_LIMIT = 100
LIMITS = {"child": NAME_LIMIT, "purpose": PURPOSE_LIMIT, "name": PERSON_NAME_LIMIT, "relation": RELATION_LIMIT,
          "place": PLACE_LIMIT, "summary": meetings_service.SUMMARY_LIMIT,
          "case_ref": meetings_service.CASE_REF_LIMIT}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/page/ny", signed(page_new_dialog))
    router.add_post("/page/ny", signed(open_dialog))
    router.add_get("/page/inviter", signed(page_invite))
    router.add_post("/page/inviter", signed(invite))
    router.add_post("/page/inviter/link", signed(new_link))
    router.add_get("/page/indkald", signed(page_call))
    router.add_post("/page/indkald", signed(call_meeting))
    router.add_post("/page/indkald/move", signed(move_meeting))
    router.add_post("/page/indkald/cancel", signed(cancel_meeting))
    router.add_get("/page/afslut", signed(page_close))
    router.add_post("/page/afslut", signed(close_meeting))
    router.add_post("/page/moede/open", signed(open_meeting))


# ---- reading a form -----------------------------------------------------------------------------


class Form:
    """A posted form read field by field; what is wrong is kept beside its field (nothing is written
    while anything is)."""

    def __init__(self, data: dict) -> None:  # type: ignore[type-arg]
        self.data = data
        self.filled = views.Filled()

    def raw(self, name: str) -> str:
        value = str(self.data.get(name, ""))
        self.filled.values[name] = value
        return value

    def text(self, name: str, limit: int, *, empty: str | None = None) -> str:
        """A typed text, cleaned; "" when empty (a problem if `empty` says how to ask for it)."""
        value = clean_text(self.raw(name))
        if is_blank(value):
            if empty is not None:
                self.filled.problems[name] = empty
            return ""
        if len(value) > limit:
            self.filled.problems[name] = texts.too_long(limit)
        elif contains_cpr(value):
            self.filled.problems[name] = texts.cpr_refused()
        return value

    def problem(self, name: str, message: str) -> None:
        self.filled.problems.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.filled.problems


def _int(value: object) -> int:
    """A row id from a form: a positive whole number a database column holds, else 0 (no row)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 10 else 0


def _is_coordinator(visit: Visit) -> bool:
    return visit.person is not None and visit.person.staff_role == STAFF_COORDINATOR


def _not_coordinator(visit: Visit) -> web.Response:
    return visit.page(base_views.error(views.not_coordinator(), visit.locale), 403)


async def _dialog_or_choice(visit: Visit, request: web.Request, page: str, action: Action,
                            form: dict | None = None) -> int | web.Response:  # type: ignore[type-arg]
    """The dialog a page is about: `d`, or the coordinator's only dialog where `action` is allowed;
    with several, the page to choose one."""
    dialog_id = dialog_id_of(request, form)
    if dialog_id:
        return dialog_id
    if not _is_coordinator(visit):
        return _not_coordinator(visit)
    dialogs = [d for d in await q.coordinator_dialogs(visit.session, visit.person) if d.state != CLOSED
               and (action is Action.INVITE or d.state == ACTIVE)]
    if not dialogs:
        return visit.page(views.no_dialogs(visit.locale, meetings=action is Action.MANAGE))
    if len(dialogs) == 1:
        return dialogs[0].id
    return visit.page(views.choose(dialogs, page))


# ---- /page/ny: a new dialog ---------------------------------------------------------------------


async def page_new_dialog(visit: Visit, request: web.Request) -> web.Response:
    if not _is_coordinator(visit):
        return _not_coordinator(visit)
    return visit.page(views.new_dialog(views.Filled(), LIMITS))


async def open_dialog(visit: Visit, request: web.Request) -> web.Response:
    """As the chat's /ny: a coordinator opens a dialog, awaiting the family's consent."""
    if not _is_coordinator(visit):
        return _not_coordinator(visit)
    form = Form(dict(await request.post()))
    child = form.text("child", NAME_LIMIT, empty=views.ask_child())
    age_group = form.raw("age_group")
    if age_group not in AGE_GROUPS:
        form.problem("age_group", views.ask_age())
    purpose = form.text("purpose", PURPOSE_LIMIT, empty=views.ask_purpose())
    if not form.ok:
        return visit.page(views.new_dialog(form.filled, LIMITS), 400)
    dialog = await membership.open_dialog(visit.session, visit.person, child_name=child, age_group=age_group,
                                          purpose=purpose, now=visit.now)
    log.info("web dialog opened dialog=%s by=%s", dialog.id, visit.person.id)
    return visit.page(views.dialog_opened(dialog))


# ---- /page/inviter: invite someone --------------------------------------------------------------


async def _link(app: App, token: str) -> str:
    """The personal link t.me/<bot>?start=<token>: BOT_USERNAME, else the running bot's own name
    (getMe, asked once by aiogram; bot/app.py's App has the bot)."""
    settings = app.settings
    username = settings.bot_username.lstrip("@") if settings.bot_username else (
        (await app.bot.me()).username or "")  # type: ignore[attr-defined]
    return f"https://t.me/{username}?start={token}"


async def _invite_page(visit: Visit, seat: Participant, filled: views.Filled | None = None, status: int = 200,
                       **shown: object) -> web.Response:
    dialog = seat.dialog
    await visit.session.refresh(dialog, ["participants"])  # with whoever was just added
    return visit.page(views.invite_page(dialog, docs.waiting(dialog), filled or views.Filled(), LIMITS,
                                        **shown), status)  # type: ignore[arg-type]


async def page_invite(visit: Visit, request: web.Request) -> web.Response:
    chosen = await _dialog_or_choice(visit, request, "inviter", Action.INVITE)
    if isinstance(chosen, web.Response):
        return chosen
    seat, decision = await visit.seat(chosen, Action.INVITE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    return await _invite_page(visit, seat)


async def invite(visit: Visit, request: web.Request) -> web.Response:
    """As the chat's /inviter: a seat and its personal link (shown once), or a seat without Telegram."""
    form = Form(dict(await request.post()))
    seat, decision = await visit.seat(dialog_id_of(request, form.data), Action.INVITE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    dialog = seat.dialog
    name = form.text("name", PERSON_NAME_LIMIT, empty=views.ask_name())
    role = form.raw("role")
    offline = form.raw("offline") == "1"
    over16 = form.raw("over16") == "1"
    relation: str | None = None
    if role not in INVITABLE:
        form.problem("role", views.ask_role())
    elif asks_relation(role):
        relation = form.text("relation", RELATION_LIMIT, empty=views.ask_relation())
    elif not offline and under_telegram_age(role, dialog.age_group):
        form.problem("offline", views.under_16())
    elif not offline and asks_telegram_age(role, dialog.age_group) and not over16:
        form.problem("over16", views.age_unknown())
    if not form.ok:
        return await _invite_page(visit, seat, form.filled, 400)
    if offline:
        added = await on_behalf.add(visit.session, visit.app.notices, visit.person, dialog, name=name, role=role,
                                    relation=relation, now=visit.now)
        log.info("web participant added offline dialog=%s participant=%s", dialog.id, added.participant.id)
        return await _invite_page(visit, seat, offline_added=(added.participant, added.asked))
    invited = await membership.invite(visit.session, visit.app.notices, dialog, name=name, role=role,
                                      relation=relation, now=visit.now, ttl_days=visit.app.settings.invite_ttl_days)
    log.info("web participant invited dialog=%s participant=%s", dialog.id, invited.participant.id)
    link = views.Link(invited.participant, await _link(visit.app, invited.token),
                      docs.link_expires(visit.app.settings, visit.now), asked=invited.asked)
    return await _invite_page(visit, seat, link=link)


async def new_link(visit: Visit, request: web.Request) -> web.Response:
    """A new personal link for someone who has not joined (as /brev makes one for the letter): the
    link is stored hashed only, so it cannot be shown again later; the earlier one stops working."""
    form = dict(await request.post())
    seat, decision = await visit.seat(dialog_id_of(request, form), Action.INVITE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    target = await visit.session.get(Participant, _int(form.get("participant")) or -1)
    made = None if target is None or target.offline else await docs.letter(
        visit.session, seat, target.id, settings=visit.app.settings, now=visit.now)
    if made is None:  # joined, no longer invited, or takes part without Telegram (no link)
        return await _invite_page(visit, seat, status=409, message=views.person_gone(), ok=False)
    link = views.Link(made.target, await _link(visit.app, made.token), made.expires_at, fresh=True)
    return await _invite_page(visit, seat, link=link)


# ---- /page/indkald: call, move, cancel a meeting ------------------------------------------------


def _when(form: Form, visit: Visit) -> datetime | None:
    """The meeting's date and time from the form: a date input's ISO date (or a date typed the Danish
    way, "12/3") and a time ("14:00", "14.30"), read as the chat reads them (rules/dates.py)."""
    day, clock = clean_text(form.raw("date")), clean_text(form.raw("time"))
    if is_blank(day):
        form.problem("date", views.ask_date())
        return None
    if is_blank(clock):
        form.problem("time", views.date_problem("time_missing"))
        return None
    try:
        iso = date.fromisoformat(day)
        day = f"{iso.day}/{iso.month}/{iso.year}"
    except ValueError:
        pass  # typed: "12/3", "i morgen", "fredag" ...
    typed = f"{day} kl. {clock.removeprefix('kl.').strip()}"
    if len(typed) > WHEN_LIMIT:
        form.problem("date", views.date_problem("unrecognised"))
        return None
    try:
        return parse_meeting_time(typed, now=visit.now, tz=visit.app.settings.tz)
    except DateParseError as exc:
        form.problem("time" if exc.code in ("time_missing", "in_the_past") else "date", views.date_problem(exc.code))
        return None


async def _meeting_seat(visit: Visit, request: web.Request, form: dict | None = None  # type: ignore[type-arg]
                        ) -> tuple[Participant | None, web.Response | None]:
    seat, decision = await visit.seat(dialog_id_of(request, form), Action.MANAGE)
    if not decision or seat is None:
        return None, visit.refused(decision, seat)
    return seat, None


async def _call_page(visit: Visit, seat: Participant, filled: views.Filled | None = None, status: int = 200, *,
                     message: str | None = None, ok: bool = True) -> web.Response:
    """The meeting as it stands: the form to call one, the called one, or the one under way."""
    dialog = seat.dialog
    meeting = await mt.live_meeting(visit.session, dialog.id)
    if meeting is None:
        return visit.page(views.call_page(dialog, filled or views.Filled(), LIMITS, message=message, ok=ok), status)
    if filled is None:  # the move form starts from the meeting as it is
        local = meeting.starts_at.astimezone(visit.app.settings.tz)
        filled = views.Filled({"date": local.date().isoformat(), "time": local.strftime("%H:%M"),
                               "place": meeting.place})
    answers = await mt.responses(visit.session, meeting.id)
    return visit.page(views.meeting_page(
        dialog, meeting, meetings_service.invitees(dialog), answers, filled, LIMITS,
        may_start=meetings_service.may_start(meeting, visit.now, visit.app.settings), message=message, ok=ok), status)


async def page_call(visit: Visit, request: web.Request) -> web.Response:
    chosen = await _dialog_or_choice(visit, request, "indkald", Action.MANAGE)
    if isinstance(chosen, web.Response):
        return chosen
    seat, decision = await visit.seat(chosen, Action.MANAGE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    return await _call_page(visit, seat)


def _place(form: Form) -> str:
    return form.text("place", PLACE_LIMIT, empty=views.ask_place())


async def call_meeting(visit: Visit, request: web.Request) -> web.Response:
    """As the chat's /moede: a new meeting; everyone who has joined is invited."""
    form = Form(dict(await request.post()))
    seat, refused = await _meeting_seat(visit, request, form.data)
    if seat is None:
        return refused  # type: ignore[return-value]
    starts_at, place = _when(form, visit), _place(form)
    if not form.ok or starts_at is None:
        return await _call_page(visit, seat, form.filled, 400)
    result = await meetings_service.call_meeting(visit.session, visit.app.notices, visit.app.settings, seat.dialog,
                                                 starts_at, place, visit.now)
    if result.outcome is Call.ALREADY_SCHEDULED:
        return await _call_page(visit, seat, status=409, message=views.already_called(), ok=False)
    if result.outcome is Call.IN_THE_PAST:
        form.problem("time", views.date_problem("in_the_past"))
        return await _call_page(visit, seat, form.filled, 400)
    log.info("web meeting called dialog=%s meeting=%s", seat.dialog_id, result.meeting.id)
    return await _call_page(visit, seat, message=views.called(result))


async def _scheduled(visit: Visit, seat: Participant, form: dict) -> Meeting | None:  # type: ignore[type-arg]
    meeting = await meetings_service.meeting_of(visit.session, seat.dialog, _int(form.get("meeting")))
    return meeting if meeting is not None and meeting.status == mt.SCHEDULED else None


async def move_meeting(visit: Visit, request: web.Request) -> web.Response:
    form = Form(dict(await request.post()))
    seat, refused = await _meeting_seat(visit, request, form.data)
    if seat is None:
        return refused  # type: ignore[return-value]
    meeting = await _scheduled(visit, seat, form.data)
    if meeting is None:
        return await _call_page(visit, seat, status=409, message=views.meeting_changed(), ok=False)
    starts_at, place = _when(form, visit), _place(form)
    if not form.ok or starts_at is None:
        return await _call_page(visit, seat, form.filled, 400)
    result = await meetings_service.move_meeting(visit.session, visit.app.notices, visit.app.settings, seat.dialog,
                                                 meeting.id, _int(form.data.get("version")), starts_at, place,
                                                 visit.now)
    if result.outcome is Call.CHANGED:
        return await _call_page(visit, seat, status=409, message=views.meeting_changed(), ok=False)
    if result.outcome is Call.IN_THE_PAST:
        form.problem("time", views.date_problem("in_the_past"))
        return await _call_page(visit, seat, form.filled, 400)
    log.info("web meeting moved dialog=%s meeting=%s", seat.dialog_id, meeting.id)
    return await _call_page(visit, seat, message=views.called(result))


async def cancel_meeting(visit: Visit, request: web.Request) -> web.Response:
    form = dict(await request.post())
    seat, refused = await _meeting_seat(visit, request, form)
    if seat is None:
        return refused  # type: ignore[return-value]
    meeting = await _scheduled(visit, seat, form)
    if meeting is None or await meetings_service.cancel_meeting(visit.session, visit.app.notices, seat.dialog,
                                                                meeting) is not Outcome.DONE:
        return await _call_page(visit, seat, status=409, message=views.meeting_changed(), ok=False)
    log.info("web meeting cancelled dialog=%s meeting=%s", seat.dialog_id, meeting.id)
    return await _call_page(visit, seat, message=views.cancelled())


# ---- starting and closing the meeting -----------------------------------------------------------


async def open_meeting(visit: Visit, request: web.Request) -> web.Response:
    """As the chat's "Start the meeting": on its day; then Mødetilstand (/page/moede)."""
    form = dict(await request.post())
    seat, refused = await _meeting_seat(visit, request, form)
    if seat is None:
        return refused  # type: ignore[return-value]
    meeting = await _scheduled(visit, seat, form)
    if meeting is None:
        return await _call_page(visit, seat, status=409, message=views.meeting_changed(), ok=False)
    outcome = await meetings_service.open_meeting(visit.session, visit.app.settings, seat.dialog, meeting, visit.now)
    if outcome is Outcome.TOO_EARLY:
        return await _call_page(visit, seat, status=409, message=views.too_early(meeting), ok=False)
    if outcome is not Outcome.DONE:
        return await _call_page(visit, seat, status=409, message=views.meeting_changed(), ok=False)
    log.info("web meeting opened dialog=%s meeting=%s", seat.dialog_id, meeting.id)
    room = await meeting_room.room(visit.session, seat, visit.app.dialog_config)
    return visit.page(base_views.meeting_room(room, visit.app.dialog_config.areas, visit.locale,
                                              message=views.started(), ok=True))


async def _close_page(visit: Visit, seat: Participant, filled: views.Filled | None = None, status: int = 200, *,
                      message: str | None = None, ok: bool = True) -> web.Response:
    dialog = seat.dialog
    meeting = await mt.live_meeting(visit.session, dialog.id)
    if meeting is None:
        return visit.page(views.no_meeting(dialog), status)
    if meeting.status != mt.OPEN:
        return await _call_page(visit, seat, status=status, message=message or views.not_started(), ok=False)
    marks = await meetings_service.attendance_of(visit.session, dialog, meeting)
    if filled is None:
        filled = views.Filled({"summary": meeting.summary or "", "case_ref": dialog.case_ref or ""})
    else:  # what was chosen stays chosen
        for pid in marks:
            chosen = filled.values.get(f"attendance_{pid}")
            if chosen in mt.ATTENDANCE:
                marks[pid] = chosen
    return visit.page(views.close_page(dialog, meeting, meetings_service.attendees(dialog), marks, filled, LIMITS,
                                       message=message, ok=ok), status)


async def page_close(visit: Visit, request: web.Request) -> web.Response:
    chosen = await _dialog_or_choice(visit, request, "afslut", Action.MANAGE)
    if isinstance(chosen, web.Response):
        return chosen
    seat, decision = await visit.seat(chosen, Action.MANAGE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    return await _close_page(visit, seat)


async def close_meeting(visit: Visit, request: web.Request) -> web.Response:
    """As the chat's closing steps: who was there, the summary, the case number, then close: the
    round ends, the next begins, and everyone gets the referat through the outbox."""
    form = Form(dict(await request.post()))
    seat, refused = await _meeting_seat(visit, request, form.data)
    if seat is None:
        return refused  # type: ignore[return-value]
    dialog = seat.dialog
    meeting = await meetings_service.meeting_of(visit.session, dialog, _int(form.raw("meeting")))
    if meeting is None or meeting.status != mt.OPEN:
        return await _close_page(visit, seat, status=409, message=views.meeting_changed(), ok=False)
    summary = form.text("summary", meetings_service.SUMMARY_LIMIT)
    case_ref = " ".join(form.raw("case_ref").split())
    if case_ref and (problem := meetings_service.case_ref_problem(case_ref)) is not None:
        form.problem("case_ref", views.case_ref_problem(problem, meetings_service.CASE_REF_LIMIT))
    marks: dict[int, str] = {}
    invited = {p.id for p in meetings_service.attendees(dialog)}
    for key in list(form.data):
        if key.startswith("attendance_"):
            pid, status = _int(key.removeprefix("attendance_")), form.raw(key)
            if pid not in invited or status not in mt.ATTENDANCE:
                form.problem("attendance", views.attendance_problem())
            marks[pid] = status
    if not form.ok:
        return await _close_page(visit, seat, form.filled, 400)
    session = visit.session
    if await meetings_service.record_attendance(session, dialog, meeting, marks) is not Outcome.DONE:
        return await _close_page(visit, seat, form.filled, 400)  # checked above: not reached
    meetings_service.record_summary(meeting, summary or None)
    meetings_service.set_case_ref(dialog, case_ref or None)
    closed = await meetings_service.close_meeting(session, visit.app.notices, visit.app.dialog_config,
                                                  visit.app.settings, dialog, meeting, visit.now)
    log.info("web meeting closed dialog=%s meeting=%s", dialog.id, meeting.id)
    return visit.page(views.meeting_closed(dialog, closed))


# ---- the invitation letter (download kind `letter`, web/downloads.py) ---------------------------


@downloads.maker(views.LETTER)
async def _letter(asked: downloads.Asked) -> downloads.File | None:
    """The invitation letter of a participant who has not joined (ref: the participant), for the
    dialog's coordinator (Action.INVITE, as /brev). The personal link is stored hashed only, so the
    letter carries a new one, made when the letter is fetched (services.documents.letter, audited);
    the earlier link stops working then. Making the address only checks and writes nothing."""
    session, app = asked.session, asked.app
    target = await session.get(Participant, asked.ref) if asked.ref > 0 else None
    if target is None or target.offline:
        return None
    seat = await q.participant_in(session, asked.person, target.dialog_id)
    if seat is None or not decide(q.seat(seat), seat.dialog.state, Action.INVITE):
        return None
    if await docs.letter_target(session, seat.dialog, target.id) is None:
        return None  # joined meanwhile, or no longer invited
    with localized(asked.locale):
        name = (safe_filename(_("invitation"), str(target.id)) if _neutral(app.settings)
                else letter_filename(target.name))
    if not asked.fetching:
        return downloads.File(name, _nothing)
    made = await docs.letter(session, seat, target.id, settings=app.settings, now=asked.now)
    if made is None:
        return None
    data = letter_data(seat.dialog, made.target, await _link(app, made.token), made.expires_at, app.settings,
                       asked.now)
    return downloads.File(name, lambda: render(render_letter, data, asked.locale))


async def _nothing() -> bytes:
    return b""


def _neutral(settings: Settings) -> bool:
    """CHAT_CONTENT=minimal: the file name carries no one's name (it passes the Telegram app)."""
    return getattr(settings, "chat_content", "full") == "minimal"
