"""What a notice says in the chat with CHAT_CONTENT=minimal: that there is something new, and a
button into the Mini App where it is (issue #14).

The scheduler (bot/scheduler.py) renders every notice with its kind's renderer first: that
decides whether it still stands (a moved meeting's old invitation, a task already done: None,
nothing is sent) and what it would have said. With CHAT_CONTENT=minimal that text and its
buttons are thrown away and `neutral` gives the notice's chat form instead: a fixed text from
the catalogs for its group of kinds (at most a meeting's date and time, never its place), a
`web_app` button to the page that shows the content (core/webapp.py), and for a meeting
invitation the two answers, which carry no content. No name (the child is "barnet (nr. 7)" on a
coordinator's buttons, core/labels.py), no free text, no document: a document becomes "There
is a new document for you" with a button to the page it is downloaded from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.i18n import gettext as _

from core.config import Settings
from core.i18n import fmt_datetime
from core.labels import child_number
from core.notices import RenderContext, Rendered, renderer
from core.webapp import (
    CALL_MEETING,
    CLOSE_DIALOG,
    CLOSE_MEETING,
    CONSENT,
    CONTACT,
    DOCUMENTS,
    INPUT,
    INVITATION,
    INVITE,
    MEETING,
    NEW_DIALOG,
    NOTIFICATIONS,
    OVERVIEW,
    PLAN,
    RULER,
    page_url,
)
from rules.notice_urgency import URGENT, urgency
from rules.roles import STAFF_COORDINATOR
from storage.models import Meeting, Participant

# A document for someone in minimal mode: no PDF is stored or sent, the person fetches it from
# the Mini App's Dokumenter page (reports/referat.py, services/documents.py queue this instead).
# Payload: {"document": <kind>, ...ids}.
NEW_DOCUMENT = "new_document"
# Kinds sent as they are: an answer to the person's own action sent later (composed by the
# minimal chat's handlers, handlers/minimal.py) and a digest gathered in minimal mode.
AS_COMPOSED = frozenset({"answer"})


class RsvpCb(CallbackData, prefix="rsvp"):
    """"Jeg kommer / Jeg kan ikke" on a meeting invitation: the same callback data as the full
    chat's buttons (handlers/meeting_views.RsvpCb), so a button sent before the mode changed
    still works; handled in minimal mode by handlers/minimal.py."""

    meeting_id: int
    version: int
    coming: int  # 1: Jeg kommer, 0: Jeg kan ikke


# ---- the pages' buttons ---------------------------------------------------------------------------


def page_label(page: str) -> str:
    return {
        CONSENT: _("📝 Read and answer"),
        INVITATION: _("🗓 See the meeting"),
        PLAN: _("📋 See the plan"),
        DOCUMENTS: _("📄 Get the document"),
        OVERVIEW: _("📊 Overview"),
        INPUT: _("✏️ Write input"),
        RULER: _("📏 The ruler"),
        MEETING: _("🖥 Meeting mode"),
        NEW_DIALOG: _("➕ New dialog"),
        INVITE: _("👥 Participants"),
        CALL_MEETING: _("🗓 The meeting"),
        CLOSE_MEETING: _("⏹ Close the meeting"),
        CLOSE_DIALOG: _("🔒 Close the dialog"),
        CONTACT: _("📞 Contact"),
        NOTIFICATIONS: _("🔔 Your notices"),
    }[page]


def page_button(settings: Settings, page: str, dialog_id: int | None = None, *,
                numbered: bool = False, label: str | None = None) -> InlineKeyboardButton | None:
    """A `web_app` button that opens `page` (of the dialog); None without the Mini App.
    `numbered`: the dialog's number on the label ("📋 Se planen · barnet (nr. 7)"), for a
    coordinator who has several dialogs."""
    url = page_url(settings, page, dialog_id)
    if url is None:
        return None
    text = label or page_label(page)
    if numbered and dialog_id:
        text = f"{text} · {child_number(dialog_id)}"
    return InlineKeyboardButton(text=text, web_app=WebAppInfo(url=url))


def rsvp_buttons(meeting: Meeting) -> list[InlineKeyboardButton]:
    def b(text: str, coming: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=RsvpCb(
            meeting_id=meeting.id, version=meeting.version, coming=coming).pack())

    return [b(_("✅ I'm coming"), 1), b(_("❌ I can't come"), 0)]


# ---- the groups of notices ------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    text: Callable[[], str]  # may hold {when}: the meeting's date and time
    pages: tuple[str, ...] = ()  # the buttons, for everyone but the dialog's coordinator
    coordinator_pages: tuple[str, ...] | None = None  # theirs, when other than `pages`
    rsvp: bool = False  # the answers to a meeting invitation
    without_when: Callable[[], str] | None = None  # the text when the meeting is not found


def _meeting_news() -> str:
    return _("There is news about a dialog meeting. Tap the button to see the time and place.")


GROUPS: dict[str, Group] = {
    "meeting_called": Group(lambda: _(
        "You are invited to a dialog meeting {when}. Tap the button to see where, and to answer."),
        (INVITATION,), rsvp=True, without_when=_meeting_news),
    "meeting_moved": Group(lambda: _(
        "The dialog meeting has been moved to {when}. Tap the button to see where, and to answer."),
        (INVITATION,), rsvp=True, without_when=_meeting_news),
    "meeting_cancelled": Group(lambda: _(
        "The dialog meeting {when} has been cancelled. The coordinator will tell you about a new time."),
        (OVERVIEW,), without_when=lambda: _("A dialog meeting has been cancelled.")),
    "meeting_soon": Group(lambda: _(
        "Remember the dialog meeting {when}. Tap the button to see where."),
        (INVITATION,), without_when=_meeting_news),
    "meeting_answer": Group(lambda: _(
        "Someone has answered the invitation to the dialog meeting. Tap the button to see who is coming."),
        (INVITATION,), coordinator_pages=(CALL_MEETING,)),
    "meeting_over": Group(lambda: _(
        "The dialog meeting is over. Thank you for today. Tap the button to see the plan."),
        (PLAN,)),
    "input_reminder": Group(lambda: _(
        "Remember to write your input and put your number on the ruler before the dialog meeting {when}."),
        (INPUT, RULER), without_when=lambda: _(
            "Remember to write your input and put your number on the ruler before the dialog meeting.")),
    "plan_sent": Group(lambda: _(
        "The plan has been sent to you. Tap the button to read it and say if you agree."), (PLAN,)),
    "plan": Group(lambda: _("There is news in the plan. Tap the button to read it."), (PLAN,)),
    "task_new": Group(lambda: _("You have a task in the plan. Tap the button to see it."), (PLAN,)),
    "task": Group(lambda: _("Remember your task. Tap the button to see it."), (PLAN,)),
    "input": Group(lambda: _("There is new input in the dialog. Tap the button to read it."), (OVERVIEW,)),
    "document": Group(lambda: _("There is a new document for you. Tap the button to get it."), (DOCUMENTS,)),
    "people": Group(lambda: _("There is news about who takes part in the dialog. Tap the button to see it."),
                    (OVERVIEW,), coordinator_pages=(INVITE,)),
    "approval": Group(lambda: _(
        "Someone new is to join the dialog. The family decides. Tap the button to read more."), (CONSENT,)),
    "open": Group(lambda: _("The dialog is open now. Tap the button to see what is next for you."), (OVERVIEW,)),
    "access": Group(lambda: _(
        "Your access to a dialog in Samspil has changed. If you have questions, talk to the coordinator.")),
    "closed": Group(lambda: _("A dialog in Samspil has been closed. Nothing more can be seen or added there.")),
    "other": Group(lambda: _("There is news in Samspil. Tap the button to see it."), (OVERVIEW,)),
}

# Every notice kind the bot has, by group; a kind not named here is "other" (a test checks
# that every kind is named: tests/test_minimal_mode.py).
KIND_GROUPS: dict[str, str] = {
    "meeting_notice": "meeting_called",
    "meeting_moved": "meeting_moved",
    "meeting_cancelled": "meeting_cancelled",
    "meeting_day_before": "meeting_soon",
    "meeting_rsvp": "meeting_answer",
    "meeting_closed": "meeting_over",
    "meeting_input_reminder": "input_reminder",
    "plan_review": "plan_sent",
    "plan_comment": "plan",
    "plan_accepted": "plan",
    "task_done": "plan",
    "task_help": "plan",
    "plan_all_done": "plan",
    "overdue_digest": "plan",
    "tasks_assigned": "task_new",
    "task_reminder": "task",
    "input_shared": "input",
    "input_shared_for": "input",
    "document": "document",
    NEW_DOCUMENT: "document",
    "document_lost": "document",
    "joined": "people",
    "consent_answer": "people",
    "newcomer_approved": "people",
    "newcomer_refused": "people",
    "seat_removed": "people",
    "person_erased": "people",
    "unreachable": "people",
    "newcomer_approval": "approval",
    "dialog_open": "open",
    "dialog_resumed": "open",
    "newcomer_welcome": "open",
    "invitation_withdrawn": "access",
    "seat_removed_you": "access",
    "handover_old": "access",
    "dialog_closed": "closed",
    "high_score": "other",
    "family_message": "other",
    "referral_request": "other",
    "referral_progress": "other",
    "referral_refused": "other",
    "referral_ready": "other",
    "handover": "other",
    "handover_new": "other",
    "digest": "other",  # gathered in full mode (one gathered in minimal mode is sent as it is)
    "answer": "other",  # never used: sent as composed
}


def urgent_text() -> str:
    return _("There is something in a dialog that you should look at soon. Tap the button to see it.")


async def neutral(ctx: RenderContext, payload: dict[str, Any], rendered: Rendered) -> Rendered:
    """The chat form of a notice in minimal mode (`rendered`: what its renderer made, which still
    stands; only its `silent` is kept)."""
    kind = ctx.row.kind
    if kind in AS_COMPOSED or (kind == "digest" and payload.get("neutral")):
        return rendered
    group = GROUPS[KIND_GROUPS.get(kind, "other")]
    dialog_id = ctx.row.dialog_id or payload.get("dialog_id")
    coordinator = ctx.person.staff_role == STAFF_COORDINATOR
    meeting = await ctx.session.get(Meeting, payload["meeting_id"]) if payload.get("meeting_id") else None
    if meeting is not None:
        dialog_id = dialog_id or meeting.dialog_id
    if not dialog_id and payload.get("participant_id"):  # e.g. a newcomer to approve: their dialog's page
        about = await ctx.session.get(Participant, payload["participant_id"])
        dialog_id = about.dialog_id if about is not None else None
    text = group.text()
    if "{when}" in text:
        text = text.format(when=fmt_datetime(meeting.starts_at, "full")) if meeting is not None \
            else (group.without_when or group.text)()
    if coordinator and urgency(kind, payload) == URGENT:
        text = urgent_text()
    pages = group.coordinator_pages if coordinator and group.coordinator_pages is not None else group.pages
    rows: list[list[InlineKeyboardButton]] = []
    if group.rsvp and meeting is not None and not coordinator:
        rows.append(rsvp_buttons(meeting))
    for page in pages:
        button = page_button(ctx.settings, page, dialog_id, numbered=coordinator)
        if button is not None:
            rows.append([button])
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None, silent=rendered.silent)


@renderer(NEW_DOCUMENT)
async def _new_document(ctx: RenderContext, payload: dict[str, Any]) -> Rendered | None:
    """A document to fetch from the Mini App (never sent itself): the same words in either mode."""
    rendered = Rendered("")
    return await neutral(ctx, payload, rendered)
