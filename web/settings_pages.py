"""The chat's settings as Mini App pages (issue #14, CHAT_CONTENT=minimal): what `/luk`, `/kontakt`
and `/notifikationer` do, with what is typed kept on the municipality's server instead of in Telegram.

  GET/POST /page/luk?d=ID          the coordinator closes a dialog, with a reason everyone is told
  GET/POST /page/kontakt           the coordinator's own phone, e-mail and when they can be reached;
                                   for anyone else (?d=ID): how to reach the coordinator of that dialog
  POST     /page/kontakt/besked    d, text, key: a short message to the coordinator (not with
                                   CHAT_CONTENT=minimal: no page shows it to the coordinator yet)
  GET/POST /page/notifikationer    how the coordinator's routine notices come: gathered or at once

Every request is one signed transaction as the person (web/visit.py); the rules (rules.access)
decide on the server, and the same use cases as the chat do the work (services/privacy.py close,
services/contact.py, services/digest.py). Input is checked as the chat checks it (the same limits,
CPR numbers refused) before anything is written, so a refused form changes nothing.
Views: web/settings_views.py (the coordinator's) and web/contact_views.py (the family's).
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import time

from aiohttp import web

from core import texts
from core.labels import MINIMAL
from rules import contact as contact_rules
from rules import digest as digest_rules
from rules.access import CLOSED, Action, decide
from rules.cpr import contains_cpr
from rules.roles import STAFF_COORDINATOR
from rules.text import clean_text, is_blank
from services import contact, digest, privacy
from storage import queries as q
from storage.models import Person
from web import contact_views
from web import coordinator_views as coord_views
from web import settings_views as views
from web import views as base_views
from web.visit import Visit, dialog_id_of, signed

log = logging.getLogger("samspil.web")

CLOSE_REASON_LIMIT = 500  # as the chat's /luk (handlers/privacy.py)
KEY = re.compile(r"^[0-9a-f]{16}$")  # a message form's own key: sent twice, it reaches the coordinator once


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/page/luk", signed(page_close))
    router.add_post("/page/luk", signed(close_dialog))
    router.add_get("/page/kontakt", signed(page_contact))
    router.add_post("/page/kontakt", signed(save_details))
    router.add_post("/page/kontakt/besked", signed(send_message))
    router.add_get("/page/notifikationer", signed(page_notices))
    router.add_post("/page/notifikationer", signed(choose_notices))


def _is_coordinator(visit: Visit) -> bool:
    return visit.person is not None and visit.person.staff_role == STAFF_COORDINATOR


def _not_coordinator(visit: Visit) -> web.Response:
    return visit.page(base_views.error(coord_views.not_coordinator(), visit.locale), 403)


def _typed(raw: object, limit: int, *, required: bool) -> tuple[str, str | None]:
    """A typed text, cleaned, and what is wrong with it (None: nothing)."""
    value = clean_text(str(raw or ""))
    if is_blank(value):
        return "", texts.empty_answer() if required else None
    if len(value) > limit:
        return value, texts.too_long(limit)
    if contains_cpr(value):
        return value, texts.cpr_refused()
    return value, None


# ---- /page/luk: closing a dialog ------------------------------------------------------------------


async def page_close(visit: Visit, request: web.Request) -> web.Response:
    dialog_id = dialog_id_of(request)
    if not dialog_id:  # from the chat's /luk without a dialog: which one?
        if not _is_coordinator(visit):
            return _not_coordinator(visit)
        dialogs = [d for d in await q.coordinator_dialogs(visit.session, visit.person) if d.state != CLOSED
                   and decide(q.seat(await q.participant_in(visit.session, visit.person, d.id)), d.state,
                              Action.CLOSE)]
        if len(dialogs) != 1:
            return visit.page(coord_views.choose(dialogs, "luk"))
        dialog_id = dialogs[0].id
    seat, decision = await visit.seat(dialog_id, Action.CLOSE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    return visit.page(views.close_page(seat.dialog, views.Filled(), CLOSE_REASON_LIMIT, visit.app.settings,
                                       visit.locale))


async def close_dialog(visit: Visit, request: web.Request) -> web.Response:
    """As the chat's /luk: the coordinator closes the dialog, everyone in it is told why."""
    form = dict(await request.post())
    seat, decision = await visit.seat(dialog_id_of(request, form), Action.CLOSE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    reason, problem = _typed(form.get("reason"), CLOSE_REASON_LIMIT, required=True)
    if problem is not None:
        filled = views.Filled({"reason": str(form.get("reason", ""))[:CLOSE_REASON_LIMIT * 2]},
                              {"reason": problem})
        return visit.page(views.close_page(seat.dialog, filled, CLOSE_REASON_LIMIT, visit.app.settings,
                                           visit.locale), 400)
    closed = await privacy.close(visit.session, visit.app.notices, seat.dialog_id, reason, visit.now)
    if closed is None:  # closed meanwhile (the rules refuse a closed dialog first; kept for a race)
        return visit.refused(decide(q.seat(seat), CLOSED, Action.CLOSE), seat)
    log.info("web dialog closed dialog=%s by=%s", closed.id, visit.person.id)
    return visit.page(views.closed_page(closed, visit.locale))


# ---- /page/kontakt: the coordinator's details, or how to reach the coordinator --------------------


async def page_contact(visit: Visit, request: web.Request) -> web.Response:
    if _is_coordinator(visit) and not dialog_id_of(request):
        return visit.page(views.details_page(visit.person, views.Filled(), visit.locale))
    return await _family_contact(visit, dialog_id_of(request))


async def _family_contact(visit: Visit, dialog_id: int, *, typed: str = "", problem: str | None = None,
                          message: str | None = None, status: int = 200) -> web.Response:
    person = visit.person
    if not dialog_id and person is not None:  # from the menu: the dialog, if there is one
        seats = [s for s in await q.seats_of(visit.session, person)
                 if decide(q.seat(s), s.dialog.state, Action.VIEW_PURPOSE)]
        if len(seats) == 1:
            dialog_id = seats[0].dialog_id
        elif seats:
            return visit.page(contact_views.choose(seats, visit.locale))
    seat, decision = await visit.seat(dialog_id, Action.VIEW_PURPOSE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    coordinator = await contact.coordinator_of(visit.session, seat.dialog)
    return visit.page(contact_views.contact_page(
        seat, coordinator, visit.locale, key=secrets.token_hex(8), typed=typed, problem=problem, message=message,
        limit=contact.MESSAGE_LIMIT, may_write=_may_write(visit)), status)


def _may_write(visit: Visit) -> bool:
    """A message reaches the coordinator as a chat notice with its text. With CHAT_CONTENT=minimal
    the notice carries no text, and no page shows it yet: so no message is taken there (it would
    be lost); the page gives the coordinator's phone and e-mail instead."""
    return visit.app.settings.chat_content != MINIMAL


async def save_details(visit: Visit, request: web.Request) -> web.Response:
    """As the chat's /kontakt for a coordinator: phone, e-mail and hours; an empty field removes it."""
    if not _is_coordinator(visit):
        return _not_coordinator(visit)
    form = dict(await request.post())
    raw = {name: str(form.get(name, "")) for name in ("phone", "email", "hours")}
    filled = views.Filled({k: v[:300] for k, v in raw.items()})
    phone = contact_rules.phone(raw["phone"]) if raw["phone"].strip() else None
    if raw["phone"].strip() and phone is None:
        filled.problems["phone"] = views.bad_phone()
    email = contact_rules.email(raw["email"]) if raw["email"].strip() else None
    if raw["email"].strip() and email is None:
        filled.problems["email"] = views.bad_email()
    hours, problem = _typed(raw["hours"], contact_rules.HOURS_LIMIT, required=False)
    if problem is not None:
        filled.problems["hours"] = problem
    if filled.problems:
        return visit.page(views.details_page(visit.person, filled, visit.locale), 400)
    await contact.set_details(visit.session, visit.person, phone=phone, email=email, hours=hours or None)
    log.info("web contact details saved by=%s", visit.person.id)
    return visit.page(views.details_page(visit.person, views.Filled(), visit.locale, saved=True))


async def send_message(visit: Visit, request: web.Request) -> web.Response:
    """As the chat's "Write a message to the coordinator": services.contact.send_to_coordinator."""
    form = dict(await request.post())
    dialog_id = dialog_id_of(request, form)
    seat, decision = await visit.seat(dialog_id, Action.VIEW_PURPOSE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    if not _may_write(visit):
        return visit.page(base_views.error(contact_views.no_messages(), visit.locale), 403)
    typed = str(form.get("text", ""))[:contact.MESSAGE_LIMIT * 2]
    text, problem = _typed(typed, contact.MESSAGE_LIMIT, required=True)
    key = str(form.get("key", ""))
    if problem is None and not KEY.match(key):
        problem = contact_views.open_again()
    if problem is not None:
        return await _family_contact(visit, dialog_id, typed=typed, problem=problem, status=400)
    sent = await contact.send_to_coordinator(visit.session, visit.app.notices, seat, text, key=f"web-{key}")
    if sent.outcome != contact.Sent.SENT:
        if sent.refusal is None:  # the coordinator themselves
            return visit.page(base_views.error(contact_views.is_coordinator(), visit.locale), 403)
        return visit.refused(decide(q.seat(seat), seat.dialog.state, Action.VIEW_PURPOSE), seat)
    log.info("web message to coordinator dialog=%s participant=%s", seat.dialog_id, seat.id)
    return await _family_contact(visit, dialog_id, message=contact_views.sent(sent.coordinator))


# ---- /page/notifikationer: how the coordinator's notices come --------------------------------------


def _presets(visit: Visit) -> list[tuple[time, ...]]:
    """DIGEST_TIMES, and each of those times alone (as the chat offers them)."""
    default = visit.app.settings.digest_time_list
    return [default] + ([(t,) for t in default] if len(default) > 1 else [])


def _value(times: tuple[time, ...]) -> str:
    return "digest-" + "-".join(t.strftime("%H%M") for t in times)


async def _notices_view(visit: Visit, person: Person, choice: digest.Choice, *, saved: bool = False,
                        problem: str | None = None, status: int = 200) -> web.Response:
    presets = [(_value(t), t) for t in _presets(visit)]
    return visit.page(views.notices_page(choice, presets, visit.app.settings, visit.locale, saved=saved,
                                         problem=problem), status)


async def page_notices(visit: Visit, request: web.Request) -> web.Response:
    choice = await digest.current(visit.session, visit.app.notices, visit.person, visit.now) \
        if visit.person is not None else None
    if choice is None:
        return _not_coordinator(visit)
    return await _notices_view(visit, visit.person, choice)


async def choose_notices(visit: Visit, request: web.Request) -> web.Response:
    """As the chat's buttons on /notifikationer: services.digest.choose."""
    if visit.person is None or visit.person.staff_role != STAFF_COORDINATOR:
        return _not_coordinator(visit)
    picked = str((await request.post()).get("choice", ""))
    presets = {_value(t): t for t in _presets(visit)}
    if picked == digest_rules.AT_ONCE:
        mode, times = digest_rules.AT_ONCE, None
    elif picked in presets:
        mode, times = digest_rules.DIGEST, presets[picked]
    else:
        current = await digest.current(visit.session, visit.app.notices, visit.person, visit.now)
        assert current is not None
        return await _notices_view(visit, visit.person, current, problem=views.choose_one(), status=400)
    choice = await digest.choose(visit.session, visit.app.notices, visit.person, mode=mode, times=times,
                                 now=visit.now)
    if choice is None:
        return _not_coordinator(visit)
    log.info("web notices chosen by=%s mode=%s", visit.person.id, mode)
    return await _notices_view(visit, visit.person, choice, saved=True)
