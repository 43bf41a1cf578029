"""Where the Mini App's pages are (WEB_PUBLIC_URL), for the chat's buttons that open them.

No personal data in these addresses: the page and the dialog's number only. Who is asking
travels as Telegram's signed initData in a header (web/auth.py).
"""

from __future__ import annotations

from urllib.parse import urlencode

from core.config import Settings

OVERVIEW, RULER, INPUT, MEETING = "overblik", "linealen", "input", "moede"


def page_url(settings: Settings, page: str, dialog_id: int | None = None) -> str | None:
    """The https address of a page, or None when the Mini App is not set up."""
    if not settings.web_public_url:
        return None
    query = {"p": page} | ({"d": str(dialog_id)} if dialog_id else {})
    return f"{settings.web_public_url.rstrip('/')}/app?{urlencode(query)}"
