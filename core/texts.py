"""Texts several flows share: role names, refusals, how a participant is shown.

Everything a person sees goes through gettext (`_`); the msgids are English and
the Danish catalog (locales/da) is the one people read first.
"""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from core.config import Settings
from core.labels import age_group_label, box_title, child_in_chat, role_label  # noqa: F401 (used by the flows)
from rules.access import Refusal
from storage.models import Dialog, Participant


def who(p: Participant) -> str:
    """'Mette (Mor)' — escaped for HTML; the relation or title says how they stand."""
    extra = p.relation or role_label(p.role)
    return f"{html.quote(p.name)} ({html.quote(extra)})"


def refusal(reason: Refusal | None, dialog: Dialog | None = None) -> str:
    child = child_in_chat(dialog) if dialog else ""
    return {
        Refusal.NOT_PARTICIPANT: _("You are not part of that dialog."),
        Refusal.NOT_JOINED: _("You have not opened your invitation to that dialog yet."),
        # No name: someone with a forwarded link must not learn whom the dialog is about.
        Refusal.AWAITING_CONSENT: awaiting_consent(),
        Refusal.PAUSED: _(
            "The dialog about {child} is paused because consent was withdrawn. "
            "Talk to the coordinator if you have questions."
        ).format(child=child),
        Refusal.CLOSED: _("The dialog about {child} has been closed.").format(child=child),
        Refusal.NOT_COORDINATOR: _("Only the coordinator can do that."),
        Refusal.NOT_CONSENT_GIVER: _("Only the parents with custody (or the young person) give consent."),
        # staff: only the coordinator writes on behalf of others
        Refusal.NOT_OFFLINE: _("Only for a participant without Telegram. Everyone else does it themselves."),
        None: _("That is not possible right now."),
    }[reason]


def awaiting_consent() -> str:
    return _("The dialog you were invited to is waiting for the family's consent. "
             "You will get a message as soon as it opens.")


def stale_button() -> str:
    return _("That button is no longer active. Type /hjaelp to see what you can do.")


def text_expected() -> str:
    return _("I can only read text here. Please write your answer as a message.")


def too_long(limit: int) -> str:
    return _("That is too long: at most {limit} characters here. Please shorten it and send it again.").format(limit=limit)


def cpr_refused() -> str:
    return _(
        "It looks like there is a CPR number in your text. Samspil never stores CPR numbers. "
        "Please write it again without the number."
    )


def empty_answer() -> str:
    return _("The answer is empty. Please write a few words.")




def retention_period(settings: Settings) -> str:
    """How long a closed dialog's data is kept (RETENTION_DAYS): "5 years", or days when not whole years."""
    days = int(getattr(settings, "retention_days", 0) or 0)
    if not days:
        return _("the retention period")
    if days % 365 == 0:
        return ngettext("{n} year", "{n} years", days // 365).format(n=days // 365)
    return ngettext("{n} day", "{n} days", days).format(n=days)
