"""Where the Mini App's pages are (WEB_PUBLIC_URL), for the chat's buttons that open them.

No personal data in these addresses: the page and the dialog's number only. Who is asking
travels as Telegram's signed initData in a header (web/auth.py).
"""

from __future__ import annotations

from urllib.parse import urlencode

from core.config import Settings

OVERVIEW, RULER, INPUT, MEETING = "overblik", "linealen", "input", "moede"
# The pages that carry what the chat leaves out with CHAT_CONTENT=minimal (lowercase letters
# only: web/static/app.js loads /page/<name>). For the family: the consent card, a meeting
# invitation with its answer, the plan to accept, the PDFs to download. For the coordinator:
# a new dialog, inviting someone, calling a meeting, closing it (the minutes).
CONSENT, INVITATION, PLAN, DOCUMENTS = "samtykke", "svar", "plan", "dokumenter"
NEW_DIALOG, INVITE, CALL_MEETING, CLOSE_MEETING = "ny", "inviter", "indkald", "afslut"
# The chat's settings as pages: closing a dialog (coordinator), the contact details (the
# coordinator's own; for everyone else how to reach the coordinator and a message to them),
# how the coordinator's notices come.
CLOSE_DIALOG, CONTACT, NOTIFICATIONS = "luk", "kontakt", "notifikationer"


def page_url(settings: Settings, page: str, dialog_id: int | None = None) -> str | None:
    """The https address of a page, or None when the Mini App is not set up."""
    if not settings.web_public_url:
        return None
    query = {"p": page} | ({"d": str(dialog_id)} if dialog_id else {})
    return f"{settings.web_public_url.rstrip('/')}/app?{urlencode(query)}"
