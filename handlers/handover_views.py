"""What a family member and the dialog's other participants are told when a dialog is handed
to another coordinator (services/handover.py): who their coordinator is now, and how to reach them.

Apart from the coordinator's desk (handlers/desk_views.py), because families read it.
"""

from __future__ import annotations

from aiogram import html
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from core.labels import child_in_chat
from core.notices import RenderContext, Rendered, renderer
from handlers.contact_views import contact_button, contact_lines
from rules.access import shows_child_name
from services import handover as ho
from storage import queries as q
from storage.models import Participant, Person


@renderer(ho.TO_MEMBERS)
async def _to_members(ctx: RenderContext, payload: dict) -> Rendered | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None or p.person_id != ctx.person.id or p.dialog.coordinator_id != payload["coordinator_id"]:
        return None  # no longer in the dialog, or it has been handed on again
    dialog = p.dialog
    coordinator = await ctx.session.get(Person, dialog.coordinator_id)
    name = html.quote(coordinator.name or "") if coordinator else ""
    named = shows_child_name(q.seat(p), dialog.state)
    if named:
        text = _("<b>{child} has a new coordinator: {name}</b>").format(child=child_in_chat(dialog), name=name)
    else:
        text = _("<b>Your coordinator in Samspil is now {name}</b>").format(name=name)
    text += "\n" + _("{name} has taken over the dialog and can see everything in it, as the coordinator "
                     "before could.").format(name=name)
    lines = contact_lines(coordinator)
    if lines:
        text += "\n\n" + _("You reach {name} here:").format(name=name) + "\n" + lines
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[contact_button(dialog.id)]]) if named else None
    return Rendered(text, keyboard)
