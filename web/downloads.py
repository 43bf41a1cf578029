"""Downloads from the Mini App: a signed, short-lived address for one document.

A signed page asks for the address (`POST /page/dokumenter/link`, with initData like every
page request); the answer is `{"ok": true, "url": "/file/<token>", "name": "x.pdf"}`, and
the page's script hands it to `Telegram.WebApp.downloadFile` (or opens it). `GET
/file/<token>` needs no initData (a phone's download manager does not send it): the token
is the proof. It names one person, one kind of document, one object and when it expires
(`DOWNLOAD_TTL`, by the app's clock), signed with HMAC-SHA256; ids only, nothing personal
readable in it. A forged or expired token gets 403 and a plain page. The rules are asked
again when the file is fetched: someone who lost access meanwhile gets nothing.

The key: derived from DATA_KEY (the current key of the data key ring) with its own label,
not from the bot token. Telegram knows the bot token (it signs initData with it); only
the municipality's servers hold the data key, so nobody outside them can make a download
address. Rotating the data key makes the addresses of the last few minutes stop working,
which a page answers by making a new one.

Kinds are registered in `MAKERS` (`@maker("kind")`); web/family.py's pages offer
`referat`, `overblik` and `mydata`/`mydatajson` from here, and other page modules add
their own (the coordinator's invitation letter). A maker gets an `Asked` and returns a
`File` or None (not for this person, or no longer there). With `asked.fetching` False
(making the address) it only checks and names the file: it writes nothing. With True it
may record the read (audit) and gathers the data; the PDF is rendered afterwards, out of
the database transaction, in a worker thread (`reports.common.render`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.labels import MINIMAL
from reports.common import localized, render, safe_filename
from reports.my_data import labels as my_data_labels
from reports.my_data import render_my_data
from reports.overview import overview_filename, render_overview
from reports.referat import meeting_date, referat_filename, render_referat
from services import downloads as service
from storage import crypto
from storage.models import Person
from web import views
from web.visit import APP, App, Visit, speaking

log = logging.getLogger("samspil.web")

DOWNLOAD_TTL = timedelta(minutes=5)
_LABEL = b"samspil/download-address/v1"
_TOKEN = re.compile(r"^([0-9]{1,18})\.([a-z]{1,20})\.([0-9]{1,18})\.([0-9]{1,12})\.([a-z]{2,3})\.([A-Za-z0-9_-]{43})$")


# ---- the registry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """Who asks for which document, in the transaction of the request."""

    session: AsyncSession
    person: Person
    ref: int  # the object's id (a meeting, a dialog, a participant, the person ...), as the kind reads it
    app: App
    now: datetime
    locale: str  # the language of the page that made the address (the PDF's language)
    fetching: bool  # False: only check and name the file (nothing written); True: the download


@dataclass(frozen=True)
class File:
    name: str  # the file name the phone saves it under
    render: Callable[[], Awaitable[bytes]]  # called after the checks, outside the transaction
    media_type: str = "application/pdf"


Maker = Callable[[Asked], Awaitable[File | None]]
MAKERS: dict[str, Maker] = {}


def maker(kind: str) -> Callable[[Maker], Maker]:
    """Register the maker of a kind of document (lowercase letters only)."""
    if not re.fullmatch(r"[a-z]{1,20}", kind):
        raise ValueError(f"a document kind is lowercase letters: {kind!r}")

    def register(fn: Maker) -> Maker:
        if kind in MAKERS:
            raise ValueError(f"two makers for document kind {kind!r}")
        MAKERS[kind] = fn
        return fn

    return register


# ---- the token ---------------------------------------------------------------------------------


def _key() -> bytes:
    return hmac.new(crypto.ring().current, _LABEL, hashlib.sha256).digest()


def _mac(payload: str) -> str:
    import base64

    digest = hmac.new(_key(), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(person_id: int, kind: str, ref: int, expires: datetime, locale: str) -> str:
    payload = f"{person_id}.{kind}.{ref}.{int(expires.timestamp())}.{locale}"
    return f"{payload}.{_mac(payload)}"


@dataclass(frozen=True)
class Token:
    person_id: int
    kind: str
    ref: int
    expires: datetime
    locale: str

    def expired(self, now: datetime) -> bool:
        return now >= self.expires


def read_token(token: str) -> Token | None:
    """The token's content if we signed it (expired or not); None: forged or malformed."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    payload = token.rsplit(".", 1)[0]
    if not hmac.compare_digest(_mac(payload), match.group(6)):
        return None
    from datetime import UTC

    return Token(int(match.group(1)), match.group(2), int(match.group(3)),
                 datetime.fromtimestamp(int(match.group(4)), UTC), match.group(5))


def address(person: Person, kind: str, ref: int, now: datetime, locale: str) -> str:
    return "/file/" + make_token(person.id, kind, ref, now + DOWNLOAD_TTL, locale)


# ---- the two requests --------------------------------------------------------------------------


def _ref(raw: object) -> int:
    text = str(raw or "")
    return int(text) if text.isdigit() and len(text) <= 18 else -1


async def link(visit: Visit, request: web.Request) -> web.Response:
    """POST /page/dokumenter/link (kind, ref): a download address for this person, or why not."""
    form = dict(await request.post())
    kind, ref = str(form.get("kind", "")), _ref(form.get("ref"))
    make = MAKERS.get(kind)
    if visit.person is None or make is None or ref < 0:
        return web.json_response({"ok": False, "message": not_yours()}, status=403 if make else 400)
    file = await make(Asked(visit.session, visit.person, ref, visit.app, visit.now, visit.locale, fetching=False))
    if file is None:
        return web.json_response({"ok": False, "message": not_yours()}, status=403)
    return web.json_response({"ok": True, "url": address(visit.person, kind, ref, visit.now, visit.locale),
                              "name": file.name})


async def fetch(request: web.Request) -> web.StreamResponse:
    """GET /file/<token>: the document, if the token is ours, fresh, and the rules still agree."""
    app = request.app[APP]
    now = app.clock.now()
    token = read_token(request.match_info.get("token", ""))
    locale = token.locale if token is not None and token.locale in ("da", "en") else app.settings.default_locale
    with speaking(app, locale):
        if token is None or token.expired(now) or token.kind not in MAKERS:
            log.info("download refused reason=%s", "forged" if token is None else "expired")
            return _refused(_("This download link does not work any more. Go back to the page and tap the "
                              "button again."), locale)
        async with app.sessionmaker() as session:
            async with session.begin():
                person = await session.get(Person, token.person_id)
                file = None if person is None else await MAKERS[token.kind](
                    Asked(session, person, token.ref, app, now, locale, fetching=True))
        if file is None:
            log.info("download refused reason=rules kind=%s", token.kind)
            return _refused(not_yours(), locale)
        body = await file.render()
    log.info("download kind=%s person_id=%s", token.kind, token.person_id)
    return web.Response(body=body, content_type=file.media_type, headers={
        "Content-Disposition": content_disposition(file.name),
        "Cache-Control": "no-store",
    })


def not_yours() -> str:
    return _("You cannot get this document. It may no longer be there.")


def _refused(message: str, locale: str) -> web.Response:
    return web.Response(status=403, content_type="text/html",
                        text=views.env.get_template("file_refused.html").render(lang=locale, message=message))


def content_disposition(name: str) -> str:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "samspil.pdf"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def add_routes(router: web.UrlDispatcher) -> None:
    """GET /file/<token> (the link's POST is signed: web/family.py registers it with the pages)."""
    router.add_get("/file/{token}", fetch)


# ---- the kinds the family pages offer ----------------------------------------------------------


def _neutral(settings: Settings) -> bool:
    """CHAT_CONTENT=minimal: file names carry no child's name (they pass through the Telegram app)."""
    return settings.chat_content == MINIMAL


@maker("referat")
async def _referat(asked: Asked) -> File | None:
    """A closed meeting's minutes (ref: the meeting), as they read now."""
    app = asked.app
    data = await service.referat(asked.session, asked.person, asked.ref, config=app.dialog_config,
                                 settings=app.settings, now=asked.now, fetching=asked.fetching)
    if data is None:
        return None
    with localized(asked.locale):
        name = (safe_filename(_("minutes"), meeting_date(data).astimezone(app.settings.tz).date().isoformat())
                if _neutral(app.settings) else referat_filename(data))
    return File(name, lambda: render(render_referat, data, asked.locale))


@maker("overblik")
async def _overview(asked: Asked) -> File | None:
    """The newest round's shared input (ref: the dialog), as the chat's Hent PDF."""
    app = asked.app
    data = await service.overview(asked.session, asked.person, asked.ref, config=app.dialog_config,
                                  settings=app.settings, now=asked.now, fetching=asked.fetching)
    if data is None:
        return None
    with localized(asked.locale):
        name = (safe_filename(_("overview"), _("round"), str(data.round_no)) if _neutral(app.settings)
                else overview_filename(data))
    return File(name, lambda: render(render_overview, data, asked.locale))


def _stamp(asked: Asked) -> str:
    return asked.now.astimezone(asked.app.settings.tz).strftime("%Y-%m-%d")


@maker("mydata")
async def _my_data(asked: Asked) -> File | None:
    """Everything stored about the person (ref: their own person id), readable (as /mine_data)."""
    data = await service.my_data(asked.session, asked.person, asked.ref, now=asked.now, fetching=asked.fetching)
    if data is None:
        return None
    labels = my_data_labels(asked.app.dialog_config, asked.now) if asked.fetching else {}
    return File(f"samspil-mine-data-{_stamp(asked)}.pdf",
                lambda: render(lambda d: render_my_data(d, labels), data, asked.locale))


@maker("mydatajson")
async def _my_data_json(asked: Asked) -> File | None:
    """The same as a file for computers (JSON), as /mine_data sends it beside the PDF."""
    data = await service.my_data(asked.session, asked.person, asked.ref, now=asked.now, fetching=asked.fetching)
    if data is None:
        return None

    async def as_json() -> bytes:
        return json.dumps(data, ensure_ascii=False, indent=2).encode()

    return File(f"samspil-mine-data-{_stamp(asked)}.json", as_json, "application/json")
