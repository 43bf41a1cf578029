"""One signed request to the Mini App: who is asking, in which language, in one transaction.

Every page module (`web/server.py`, and the pages added beside it) wraps its handlers in
`signed`: Telegram's initData is checked (web/auth.py), the person is found on the server,
the page runs in one database transaction in their language, and notices it queued go out
after the commit, as after a chat update.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import texts
from core.clock import Clock
from core.config import Settings
from core.i18n import locale_for
from core.notices import Notices
from rules.access import Action, Decision, decide
from rules.dialog_config import DialogConfig
from storage import queries as q
from storage.models import Participant, Person
from web import views
from web.auth import HEADER, NotSigned, Refused, check_init_data

log = logging.getLogger("samspil.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class App(Protocol):
    """What the web app needs of the running bot (bot/app.py's App has it): the same
    settings, database, words, clock and notices as the chat, so a page and a chat step
    apply the same use cases in the same way."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    i18n: I18n
    clock: Clock
    notices: Notices
    dialog_config: DialogConfig


APP = web.AppKey("samspil", App)


@dataclass
class Visit:
    """One signed request: who is asking, in which language, and the transaction it runs in."""

    app: App
    session: AsyncSession
    person: Person | None
    locale: str
    now: datetime

    async def seat(self, dialog_id: int, action: Action) -> tuple[Participant | None, Decision]:
        """The person's seat in the dialog and whether the rules allow `action` there."""
        seat = await q.participant_in(self.session, self.person, dialog_id)
        return seat, decide(q.seat(seat), seat.dialog.state if seat else "", action)

    def page(self, body: str, status: int = 200) -> web.Response:
        return web.Response(status=status, text=body, content_type="text/html")

    def refused(self, decision: Decision, seat: Participant | None) -> web.Response:
        # The chat's own words for a refusal (HTML-escaped there).
        message = Markup(texts.refusal(decision.refusal, seat.dialog if seat else None))
        return self.page(views.error(message, self.locale), 403)


Page = Callable[[Visit, web.Request], Awaitable[web.Response]]


@contextmanager
def speaking(app: App, locale: str) -> Iterator[None]:
    """Texts (and dates) in `locale` while a page is made, as the i18n middleware does in the chat."""
    with app.i18n.context(), app.i18n.use_locale(locale):
        yield


def _refusal_text(reason: Refused) -> str:
    return {
        Refused.MISSING: _("Open this page from the button in your chat with Samspil."),
        Refused.FORGED: _("This page could not check who you are. Open it again from the chat."),
        Refused.EXPIRED: _("This page has been open too long. Close it and open it again from the chat."),
    }[reason]


def signed(page: Page) -> Handler:
    """Check initData, then run `page` in one transaction as that person, in their language."""

    async def handle(request: web.Request) -> web.Response:
        app = request.app[APP]
        settings = app.settings
        now = app.clock.now()
        try:
            init = check_init_data(settings.token, request.headers.get(HEADER), now,
                                   timedelta(seconds=settings.web_auth_max_age))
        except NotSigned as refused:
            log.info("web refused reason=%s", refused.reason.value)
            with speaking(app, settings.default_locale):
                return web.Response(status=401, content_type="text/html", text=views.error(
                    _refusal_text(refused.reason), settings.default_locale))
        async with app.sessionmaker() as session:
            async with session.begin():
                person = await session.scalar(select(Person).where(Person.telegram_id == init.user.id))
                locale = locale_for(None, person.locale if person else init.user.language_code,
                                    settings.default_locale)
                with speaking(app, locale):
                    response = await page(Visit(app, session, person, locale, now), request)
            # Committed: notices this request wrote can go out now (as after an update).
            if session.info.pop("outbox_due_now", False):
                app.notices.wake()
            return response

    return handle


MAX_ID = 2**31 - 1  # a database integer: anything larger names no dialog (and PostgreSQL would refuse it)


def dialog_id_of(request: web.Request, form: dict | None = None) -> int:
    """The dialog a page is about (`d`), or 0 when it names none."""
    raw = (form or {}).get("d") or request.query.get("d", "")
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        return 0
    return number if 0 < number <= MAX_ID else 0


