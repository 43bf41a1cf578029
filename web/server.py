"""The Mini App's web server: aiohttp, in the bot's own process (polling or webhook).

Every request for content carries Telegram's signed initData in a header (web/auth.py);
the person is found from it on the server and the same rules and use cases as the chat
decide what they see and do. Responses are never cached and may load nothing from
elsewhere but Telegram's own script.
"""

from __future__ import annotations

import logging
from pathlib import Path

from aiogram.utils.i18n import gettext as _
from aiohttp import web

from core import texts
from rules.access import Action, Decision
from rules.cpr import contains_cpr
from rules.text import clean_text, is_blank
from services import input as input_service
from services import meeting_room
from services import meetings as meetings_service
from services import overblik as overblik_service
from services import plan as plan_service
from services import ruler as ruler_service
from storage import inputs
from storage import queries as q
from storage.models import Participant
from web import coordinator, family, settings_pages, views
from web.visit import APP, App, Handler, Visit, dialog_id_of, signed, speaking

log = logging.getLogger("samspil.web")

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 128 * 1024  # one box at most: 10,000 characters, URL-encoded
CSP = ("default-src 'none'; script-src 'self' https://telegram.org; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors https://web.telegram.org https://webk.telegram.org https://webz.telegram.org")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def make_web_app(app: App) -> web.Application:
    web_app = web.Application(client_max_size=MAX_BODY, middlewares=[security_headers])
    web_app[APP] = app
    web_app.router.add_get("/app", shell)
    web_app.router.add_get("/page/overblik", signed(page_overblik))
    web_app.router.add_get("/page/linealen", signed(page_ruler))
    web_app.router.add_post("/page/linealen", signed(save_number))
    web_app.router.add_get("/page/input", signed(page_input))
    web_app.router.add_post("/page/input/save", signed(save_box))
    web_app.router.add_post("/page/input/share", signed(share_input))
    web_app.router.add_get("/page/moede", signed(page_meeting))
    for action in MEETING_ACTIONS:
        web_app.router.add_post(f"/page/moede/{action}", signed(meeting_action))
    coordinator.add_routes(web_app.router)
    family.add_routes(web_app.router)
    settings_pages.add_routes(web_app.router)
    web_app.router.add_static("/static/", STATIC, append_version=False)
    return web_app


async def shell(request: web.Request) -> web.Response:
    app = request.app[APP]
    with speaking(app, app.settings.default_locale):
        return web.Response(text=views.shell(app.settings.default_locale), content_type="text/html")


async def page_overblik(visit: Visit, request: web.Request) -> web.Response:
    app = visit.app
    dialog_id = dialog_id_of(request)
    if not dialog_id:  # opened from the menu button: which dialog? (one: that one)
        dialogs = await overblik_service.dialogs_of(visit.session, visit.person)
        if len(dialogs) != 1:
            return visit.page(views.choose_dialog(dialogs, "overblik", visit.locale))
        dialog_id = dialogs[0][0]
    data = await overblik_service.overblik(visit.session, visit.person, dialog_id, app.settings,
                                           app.dialog_config, visit.now)
    if isinstance(data, Decision):
        return visit.refused(data, await q.participant_in(visit.session, visit.person, dialog_id))
    return visit.page(views.overblik(data, visit.locale))


async def page_ruler(visit: Visit, request: web.Request) -> web.Response:
    seat, decision = await visit.seat(dialog_id_of(request), Action.SCALE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    mine = (await inputs.latest_scores(visit.session, seat.dialog, seat.dialog.round_no)).get(seat.id)
    return visit.page(views.ruler_page(seat, visit.app.dialog_config.ruler(seat.dialog.age_group), visit.locale,
                                       current=mine.value if mine else None))


async def save_number(visit: Visit, request: web.Request) -> web.Response:
    form = dict(await request.post())
    seat, decision = await visit.seat(dialog_id_of(request, form), Action.SCALE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    ruler = visit.app.dialog_config.ruler(seat.dialog.age_group)
    try:
        value, round_no = int(str(form.get("value", ""))), int(str(form.get("round", "")))
    except ValueError:
        return visit.page(views.ruler_page(seat, ruler, visit.locale, problem=_("Tap a number first.")), 400)
    result = await ruler_service.put_number(visit.session, visit.app.notices, seat, value, round_no,
                                            visit.app.dialog_config, visit.now)
    if result.outcome == ruler_service.Placed.OLD_ROUND:
        return visit.page(views.ruler_page(seat, ruler, visit.locale, problem=_(
            "The meeting has started a new period since you opened the page. Choose your number again.")), 409)
    if result.outcome != ruler_service.Placed.SAVED:
        return visit.page(views.ruler_page(seat, ruler, visit.locale, problem=_("Tap a number first.")), 400)
    return visit.page(views.ruler_page(seat, ruler, visit.locale, saved=value))


def _area(visit: Visit, key: str | None):  # type: ignore[no-untyped-def]
    try:
        return visit.app.dialog_config.area(key or "")
    except KeyError:
        return None


async def page_input(visit: Visit, request: web.Request) -> web.Response:
    """Skriv input: the list of areas, or the three boxes of one area on one screen."""
    seat, decision = await visit.seat(dialog_id_of(request), Action.WRITE_INPUT)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    config = visit.app.dialog_config
    area = _area(visit, request.query.get("a"))
    if area is None:
        drafts = {e.area for e in await input_service.drafts_with_text(visit.session, seat)}
        return visit.page(views.input_areas(seat, config.areas, drafts, visit.locale))
    entry = await inputs.draft_for_area(visit.session, seat, seat.dialog.round_no, area.key)
    return visit.page(views.input_area(seat, area, entry, visit.locale))


async def save_box(visit: Visit, request: web.Request) -> web.Response:
    """One box, as the page holds it now (sent a moment after the person stops typing)."""
    form = dict(await request.post())
    seat, decision = await visit.seat(dialog_id_of(request, form), Action.WRITE_INPUT)
    if not decision or seat is None:
        return web.json_response({"ok": False, "message": views.plain_refusal(decision, seat)}, status=403)
    area, box, text = _area(visit, str(form.get("a", ""))), str(form.get("box", "")), str(form.get("text", ""))
    if area is None or box not in input_service.BOXES:
        return web.json_response({"ok": False, "message": _("That could not be saved. Reload the page.")},
                                 status=400)
    entry = await input_service.open_area(visit.session, seat, area.key, visit.now)
    saved = await input_service.write(visit.session, seat, entry.id, box, text, append=False, now=visit.now)
    message = {
        input_service.Written.SAVED: _("Saved as a draft. Only you can see it."),
        input_service.Written.EMPTY: _("Saved as a draft. Only you can see it."),
        input_service.Written.CPR: texts.cpr_refused(),
        input_service.Written.NO_ROOM: _("There is no room for more in this box."),
        input_service.Written.GONE: _("That could not be saved. Reload the page."),
    }[saved.outcome]
    if saved.outcome == input_service.Written.EMPTY and inputs.box_text(entry, box):
        inputs.write_box(entry, box, "", append=False, now=visit.now)  # the person emptied the box
    ok = saved.outcome in (input_service.Written.SAVED, input_service.Written.EMPTY)
    return web.json_response({"ok": ok, "message": message}, status=200 if ok else 400)


async def share_input(visit: Visit, request: web.Request) -> web.Response:
    form = dict(await request.post())
    seat, decision = await visit.seat(dialog_id_of(request, form), Action.WRITE_INPUT)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    area = _area(visit, str(form.get("a", "")))
    entry = await inputs.draft_for_area(visit.session, seat, seat.dialog.round_no, area.key) if area else None
    if area is None or entry is None or inputs.is_empty(entry):
        return visit.page(views.input_area(seat, area, entry, visit.locale, problem=_(
            "There is nothing to share yet. Write in at least one box first.")) if area else
            views.error(_("That could not be saved. Reload the page."), visit.locale), 400)
    await input_service.share(visit.session, visit.app.notices, seat, visit.now, entry_id=entry.id)
    return visit.page(views.input_shared(seat, area, visit.locale))


# ---- Mødetilstand: the coordinator in the meeting ----------------------------------------------

MEETING_ACTIONS = ("target", "goal", "task", "task_edit", "task_remove", "send")
TEXT_LIMIT = 500  # a goal or a task, as in the chat


async def page_meeting(visit: Visit, request: web.Request) -> web.Response:
    seat, decision = await visit.seat(dialog_id_of(request), Action.MANAGE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    return visit.page(views.meeting_room(await meeting_room.room(visit.session, seat, visit.app.dialog_config),
                                         visit.app.dialog_config.areas, visit.locale))


def _text(form: dict, name: str) -> str | None:
    """A typed text, cleaned; None when empty, too long or holding a CPR number."""
    text = clean_text(str(form.get(name, "")))
    if is_blank(text) or len(text) > TEXT_LIMIT or contains_cpr(text):
        return None
    return text


def _day(form: dict, name: str):  # type: ignore[no-untyped-def]
    from datetime import date

    try:
        return date.fromisoformat(str(form.get(name, "")))
    except ValueError:
        return None


def _int(form: dict, name: str) -> int:
    try:
        return int(str(form.get(name, "")))
    except ValueError:
        return 0


async def meeting_action(visit: Visit, request: web.Request) -> web.Response:
    """One change made in the meeting; the page comes back with what happened."""
    form = dict(await request.post())
    seat, decision = await visit.seat(dialog_id_of(request, form), Action.MANAGE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    action = request.path.rsplit("/", 1)[-1]
    message, ok = await _meeting_change(visit, seat, action, form)
    room = await meeting_room.room(visit.session, seat, visit.app.dialog_config)
    return visit.page(views.meeting_room(room, visit.app.dialog_config.areas, visit.locale, message=message, ok=ok),
                      200 if ok else 400)


async def _meeting_change(visit: Visit, seat: Participant, action: str, form: dict) -> tuple[str, bool]:
    session, dialog, now, config = visit.session, seat.dialog, visit.now, visit.app.dialog_config
    bad_text = _("Write a short text (at most {limit} characters, no CPR number).").format(limit=TEXT_LIMIT)
    if action == "target":
        meeting = await meeting_room.room(session, seat, config)
        if meeting.meeting is None:
            return _("There is no meeting going on. Start it in the chat first."), False
        outcome = await meetings_service.set_target(session, dialog, meeting.meeting, _int(form, "value"), now)
        if outcome == meetings_service.Outcome.DONE:
            return _("The joint goal on the ruler is {value}.").format(value=_int(form, "value")), True
        if outcome == meetings_service.Outcome.NOT_OPEN:
            return _("Start the meeting in the chat first. Then you can set the goal here."), False
        return _("Tap a number first."), False
    if action == "goal":
        text, area = _text(form, "text"), str(form.get("area", ""))
        if text is None:
            return bad_text, False
        if area not in {a.key for a in config.areas}:
            return _("Choose an area."), False
        await plan_service.add_goal(session, dialog, area, text, now)
        return _("The goal is added."), True
    if action in ("task", "task_edit"):
        what, start, end = _text(form, "what"), _day(form, "start"), _day(form, "end")
        if what is None:
            return bad_text, False
        if start is None or end is None:
            return _("Choose a start date and an end date."), False
        if end < start:
            return _("The end date must be on or after the start date."), False
        if action == "task":
            result = await plan_service.add_task(session, dialog, _int(form, "goal"), what=what,
                                                 owner_id=_int(form, "owner"), starts_on=start, ends_on=end, now=now)
        else:
            result = await plan_service.edit_task(session, dialog, _int(form, "task"), what=what,
                                                  owner_id=_int(form, "owner"), period=(start, end))
        if result == plan_service.Missing.OWNER:
            return _("Choose who is responsible."), False
        if isinstance(result, plan_service.Missing):
            return _("That is no longer in the plan. The page shows the plan as it is now."), False
        return (_("The task is added.") if action == "task" else _("The task is saved.")), True
    if action == "task_remove":
        result = await plan_service.remove_task(session, dialog, _int(form, "goal"), _int(form, "task"))
        if isinstance(result, plan_service.Missing):
            return _("That is no longer in the plan. The page shows the plan as it is now."), False
        return _("The task is removed."), True
    sent = await plan_service.send_for_approval(session, visit.app.notices, dialog)
    return {
        plan_service.Sending.SENT: (_("The plan is sent to the family. They answer in the chat."), True),
        plan_service.Sending.ALREADY_SENT: (_("The family already has this plan."), True),
        plan_service.Sending.ALREADY_AGREED: (_("The family has already agreed to the plan."), True),
        plan_service.Sending.NO_TASKS: (_("Add at least one task before you send the plan."), False),
        plan_service.Sending.NO_CONSENT_GIVERS: (_("Nobody in the dialog can agree to the plan yet."), False),
    }[sent.outcome]


async def start_web(app: App, host: str | None = None, port: int | None = None) -> tuple[web.AppRunner, int]:
    """Serve the Mini App on its own port; returns the runner and the port bound."""
    runner = web.AppRunner(make_web_app(app), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host or app.settings.web_host, app.settings.web_port if port is None else port)
    await site.start()
    return runner, runner.addresses[0][1]
