"""What the coordinator's settings pages show (web/settings_pages.py): closing a dialog, their own
contact details, how their notices come.

Server-rendered fragments (web/templates/, every value escaped by Jinja2); every text goes through
gettext here, in Python, so the catalog tool finds it. Coordinator texts only (tests/test_plain_danish.py
STAFF_MODULES); the family's contact page is web/contact_views.py.
"""

from __future__ import annotations

from datetime import time

from aiogram.utils.i18n import gettext as _

from core.config import Settings
from core.i18n import fmt_datetime, times_text
from core.texts import retention_period
from rules import contact as contact_rules
from rules import digest as digest_rules
from services.digest import Choice
from storage.models import Dialog, Person
from web.coordinator_views import Filled
from web.views import env

__all__ = ["Filled", "bad_email", "bad_phone", "choose_one", "close_page", "closed_page", "details_page",
           "notices_page"]


def _render(template: str, **values: object) -> str:
    return env.get_template(template).render(**values)


# ---- closing a dialog ------------------------------------------------------------------------------


def close_page(dialog: Dialog, filled: Filled, limit: int, settings: Settings, locale: str) -> str:
    return _render("luk.html", lang=locale, dialog_id=dialog.id, child=dialog.child_name, v=filled.values,
                   problems=filled.problems, limit=limit,
                   problem=_("Check what is marked below.") if filled.problems else None, t={
                       "heading": _("Close the dialog"),
                       "what": _("Everyone in the dialog is told that it is closed, and why. Afterwards nobody can "
                                 "see its content in Samspil. The data is kept for {period}, as the law requires, "
                                 "and then deleted.").format(period=retention_period(settings)),
                       "reason": _("Why is the dialog being closed?"),
                       "reason_help": _("Write a short reason, e.g. \"The goals have been reached.\" The "
                                        "participants are told the reason."),
                       "close": _("Yes, close the dialog")})


def closed_page(dialog: Dialog, locale: str) -> str:
    return _render("luk_done.html", lang=locale, child=dialog.child_name, t={
        "heading": _("Close the dialog"),
        "done": _("The dialog about {child} is closed, and everyone in it has been told.").format(
            child=dialog.child_name)})


# ---- the coordinator's contact details ------------------------------------------------------------


def bad_phone() -> str:
    return _("That does not look like a phone number. Write 8 digits, or + and the country code.")


def bad_email() -> str:
    return _("That does not look like an e-mail address. Write it like name@kommune.dk.")


def details_page(person: Person, filled: Filled, locale: str, *, saved: bool = False) -> str:
    values = filled.values or {"phone": person.contact_phone or "", "email": person.contact_email or "",
                               "hours": person.contact_hours or ""}
    return _render("kontakt.html", lang=locale, v=values, problems=filled.problems,
                   limits={"phone": contact_rules.PHONE_LIMIT, "email": contact_rules.EMAIL_LIMIT,
                           "hours": contact_rules.HOURS_LIMIT},
                   saved=_("Saved.") if saved else None,
                   problem=_("Check what is marked below.") if filled.problems else None, t={
                       "heading": _("Your contact details"),
                       "intro": _("The family and the others in your dialogs see these details, so they can reach "
                                  "you. Leave a field empty to remove it."),
                       "phone": _("Phone"), "phone_help": _("E.g. 12 34 56 78"),
                       "email": _("E-mail"),
                       "hours": _("When can you be reached?"), "hours_help": _("E.g. \"Weekdays 9-12\""),
                       "save": _("Save")})


# ---- how the notices come -------------------------------------------------------------------------


def choose_one() -> str:
    return _("Choose one of the ways.")


def notices_page(choice: Choice, presets: list[tuple[str, tuple[time, ...]]], settings: Settings, locale: str,
                 *, saved: bool = False, problem: str | None = None) -> str:
    def shown(times: tuple[time, ...]) -> tuple[time, ...]:
        return digest_rules.effective_times(times, quiet_start=settings.quiet_hours_start,
                                            quiet_end=settings.quiet_hours_end)

    if choice.mode == digest_rules.DIGEST:
        now = _("Now: your notices are gathered in one message at {times} on weekdays.").format(
            times=times_text(shown(choice.times), locale))
        if choice.next_digest is not None:
            now += " " + _("Next time: {when}.").format(when=fmt_datetime(choice.next_digest))
    else:
        now = _("Now: each notice comes at once (but not between {start} and {end}).").format(
            start=times_text([settings.quiet_hours_start], locale), end=times_text([settings.quiet_hours_end], locale))
    options = [{"value": value, "label": _("📬 Gathered at {times} on weekdays").format(
        times=times_text(shown(times), locale)),
        "checked": choice.mode == digest_rules.DIGEST and tuple(choice.times) == tuple(times)}
        for value, times in presets]
    options.append({"value": digest_rules.AT_ONCE, "label": _("🔔 Each at once"),
                    "checked": choice.mode == digest_rules.AT_ONCE})
    return _render("notifikationer.html", lang=locale, options=options, saved=_("Saved.") if saved else None,
                   problem=problem, t={
                       "heading": _("Your notices"), "now": now,
                       "urgent": _("Urgent notices always come at once: a number in the top field of the ruler, "
                                   "consent declined or withdrawn, a wish to talk to you first, a message from a "
                                   "family member, \"Need help\" on a task, and a participant the bot can no "
                                   "longer reach."),
                       "question": _("How do you want the other notices?"), "save": _("Save")})
