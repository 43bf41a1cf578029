"""Names of things every layer shows: roles, age groups, the handbook's three boxes (translated).

Here, below the handlers, so that the PDF reports use the same words as the chat.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from aiogram import html
from aiogram.utils.i18n import gettext as _

from rules.roles import COORDINATOR, NETWORK, PARENT, PARENT_CUSTODY, PROFESSIONAL, YOUNG

if TYPE_CHECKING:
    from storage.models import Dialog


def role_label(role: str) -> str:
    return {
        COORDINATOR: _("Coordinator"),
        PARENT_CUSTODY: _("Parent with custody"),
        PARENT: _("Parent without custody"),
        YOUNG: _("The young person"),
        PROFESSIONAL: _("Professional"),
        NETWORK: _("Network"),
    }[role]


def age_group_label(age_group: str) -> str:
    return {"barn": _("child (0-14 years)"), "ung": _("young person (15-30 years)")}[age_group]


def box_title(box: str) -> str:
    """The handbook's three boxes."""
    return {"worries": _("Worries"), "works": _("What works"), "next_steps": _("What should happen?")}[box]


def written_for(who: str) -> str:
    """What stands instead of the author's name on what the coordinator entered for a participant
    without Telegram (input, their number, their consent): "written by the coordinator for Inge
    (Mormor)". `who` as the caller shows a person (escaped for HTML in a chat, plain in a PDF)."""
    return _("written by the coordinator for {who}").format(who=who)


def author(who: str, *, by_coordinator: bool) -> str:
    """The author line of an input or a number: the person, or `written_for` them."""
    return written_for(who) if by_coordinator else who


# ---- what the chat may carry (CHAT_CONTENT, issue #14) ----------------------------------------------

FULL, MINIMAL = "full", "minimal"

# The mode of the bot whose chat text is being composed: set around each update (bot/chat_content.py)
# and around each round of the outbox scheduler (bot/scheduler.py, bot/digest.py). A context
# variable, not a global: two bots with different modes can run in one process (the tests), and
# each update or round sees its own bot's mode. Unset (the Mini App, the PDFs): full.
_chat_content: ContextVar[str] = ContextVar("samspil_chat_content", default=FULL)


@contextmanager
def chat_content(mode: str) -> Iterator[None]:
    """Compose chat texts in `mode` (FULL or MINIMAL) inside the block."""
    token = _chat_content.set(mode)
    try:
        yield
    finally:
        _chat_content.reset(token)


def minimal() -> bool:
    """Is the chat text being composed now for CHAT_CONTENT=minimal (no name, no free text)?"""
    return _chat_content.get() == MINIMAL


def child_number(dialog_id: int) -> str:
    """The child without a name: the dialog's number only ("barnet (nr. 7)")."""
    return _("the child (no. {number})").format(number=dialog_id)


def neutral_child(dialog: Dialog) -> str:
    return child_number(dialog.id)


def child_in_chat(dialog: Dialog) -> str:
    """The child's name as a chat message shows it (HTML-escaped). Every chat text that
    names the child goes through here, so what the chat may carry is decided in one place:
    with CHAT_CONTENT=minimal it is `neutral_child`."""
    if minimal():
        return neutral_child(dialog)
    return html.quote(dialog.child_name)


def child_on_button(dialog: Dialog) -> str:
    """The child's name as a button label (plain text, no HTML): see `child_in_chat`."""
    if minimal():
        return neutral_child(dialog)
    return dialog.child_name
