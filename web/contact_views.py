"""What the family's contact page shows (web/settings_pages.py, /page/kontakt?d=ID): who the
coordinator is, how to reach them, and a short message to them.

Server-rendered (web/templates/kontakt_familie.html, every value escaped by Jinja2); the texts go
through gettext here. Family texts: plain Danish, measured by tests/test_plain_danish.py.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from storage.models import Participant, Person
from web.family_views import contact_lines
from web.views import env


def choose(seats: list[Participant], locale: str) -> str:
    return env.get_template("choose.html").render(lang=locale, page="kontakt", dialogs=[
        {"id": s.dialog_id, "child": s.dialog.child_name} for s in seats], t={
        "heading": _("Which child is it about?"), "none": ""})


def open_again() -> str:
    return _("The message could not be sent from this page. Close it and open it again from the chat.")


def no_messages() -> str:
    return _("You cannot send a message to the coordinator here yet. Call or write to the coordinator.")


def is_coordinator() -> str:
    return _("You are the coordinator of this dialog.")


def sent(coordinator: Person | None) -> str:
    return _("✓ Sent to the coordinator, {name}. They will get back to you.").format(
        name=(coordinator.name or "") if coordinator else "")


def contact_page(seat: Participant, coordinator: Person | None, locale: str, *, key: str, limit: int,
                 typed: str = "", problem: str | None = None, message: str | None = None,
                 may_write: bool = True) -> str:
    name = (coordinator.name or "") if coordinator else ""
    lines = contact_lines(coordinator)
    return env.get_template("kontakt_familie.html").render(
        lang=locale, dialog_id=seat.dialog_id, child=seat.dialog.child_name, lines=lines, key=key, limit=limit,
        typed=typed, problem=problem, message=message, may_write=may_write, t={
            "heading": _("Contact"),
            "who": _("Your coordinator is {name}").format(name=name),
            "none": _("{name} has not added a phone number or e-mail yet.").format(name=name),
            "write": _("Write a short message to {name}").format(name=name),
            "write_help": _("Only {name} gets it. Do not write a CPR number.").format(name=name),
            "send": _("Send")})
