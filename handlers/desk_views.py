"""What the coordinator's desk shows: the list of dialogs by what needs the coordinator now,
a dialog's card with its actions, the steps of handing a dialog over, and the notices a
handover sends (to the new coordinator, the old one, and everyone in the dialog)."""

from __future__ import annotations

from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import fmt_date, fmt_short
from core.labels import child_in_chat, child_on_button
from core.notices import RenderContext, Rendered, renderer
from handlers.choose import Id, PickDialogCb
from handlers.coordinator_views import InviteAction, InviteCb, dialog_block
from handlers.privacy_views import CloseAction, CloseCb
from rules.access import ACTIVE, CLOSED
from rules.consent import PENDING
from rules.desk import Filter, Item, Need, Page, Reason
from services import handover as ho
from storage.models import Dialog, Person


class DeskAction(StrEnum):
    LIST = "list"  # filter, page
    OPEN = "open"  # a dialog's card (filter, page: the list to go back to)
    SEEN = "seen"  # mark the dialog's alerts and messages as seen
    HAND = "hand"  # hand over: the coordinators to choose from (page)
    HAND_TO = "to"  # hand over to person_id: the note
    HAND_SKIP = "skip"  # no note
    HAND_YES = "yes"  # confirmed
    HAND_NO = "no"  # cancelled


class DeskCb(CallbackData, prefix="desk"):
    action: DeskAction
    dialog_id: Id = 0
    view: Filter = Filter.ALL
    page: Id = 0
    person_id: Id = 0


def _b(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


# ---- the list ----------------------------------------------------------------------------------

EMOJI = {
    Reason.ALERT: "⚠️", Reason.CONSENT_REFUSED: "⛔", Reason.MESSAGE: "✉️", Reason.HELP: "🆘",
    Reason.CONSENT_WAITING: "⏳", Reason.INPUT_MISSING: "📝", Reason.NO_MEETING: "📅", Reason.OVERDUE: "⏰",
    Reason.PLAN_WAITING: "📋",
}


def need_text(need: Need, item: Item) -> str:
    """One need in words (plain text, no HTML)."""
    n, f = need.count, item.facts
    if need.reason is Reason.ALERT:
        return ngettext("A high number on the ruler, not seen yet", "{n} high numbers on the ruler, not seen yet",
                        n).format(n=n)
    if need.reason is Reason.CONSENT_REFUSED:
        return _("Consent declined or withdrawn")
    if need.reason is Reason.MESSAGE:
        parts = []
        if f.talk_first:
            parts.append(_("Wants to talk to you before consenting"))
        if f.messages:
            parts.append(ngettext("A message from the family, not seen yet", "{n} messages from the family, not seen yet",
                                  f.messages).format(n=f.messages))
        return " · ".join(parts)
    if need.reason is Reason.HELP:
        return ngettext("A task needs help", "{n} tasks need help", n).format(n=n)
    if need.reason is Reason.CONSENT_WAITING:
        if not f.consent_givers:
            return _("No one to give consent yet: invite the parents with custody (or the young person)")
        return ngettext("Waiting for consent for {n} day", "Waiting for consent for {n} days", n).format(n=n)
    if need.reason is Reason.INPUT_MISSING:
        when = fmt_short(need.at) if need.at else ""
        return ngettext("Meeting {when}: {n} person has not given input or their number yet",
                        "Meeting {when}: {n} people have not given input or their number yet", n).format(n=n, when=when)
    if need.reason is Reason.NO_MEETING:
        if f.last_closed_at is not None:
            return _("No new meeting scheduled since the last one")
        return _("No meeting scheduled")
    if need.reason is Reason.OVERDUE:
        return ngettext("A task is overdue", "{n} tasks are overdue", n).format(n=n)
    return _("The plan is waiting for the family's agreement")


def state_text(dialog: Dialog) -> str:
    if dialog.state == CLOSED:
        return _("Closed {date}").format(date=fmt_date(dialog.closed_at, "short")) if dialog.closed_at else _("Closed")
    if dialog.state == ACTIVE:
        return _("In order")
    if dialog.state == "paused":
        return _("Paused: consent was withdrawn")
    return _("Waiting for consent")


def _mark(item: Item) -> str:
    top = item.top
    if top is not None:
        return EMOJI[top.reason]
    return "🔒" if item.facts.state == CLOSED else "✅"


def item_line(item: Item, dialog: Dialog) -> str:
    """One line of the list (HTML)."""
    top = item.top
    what = html.quote(need_text(top, item)) if top else html.quote(state_text(dialog))
    more = len(item.needs) - 1
    if more > 0:
        what += " " + ngettext("(+{n} more)", "(+{n} more)", more).format(n=more)
    return f"{_mark(item)} <b>{child_in_chat(dialog)}</b> (#{dialog.id}) – {what}"


def filter_label(which: Filter) -> str:
    return {Filter.ALL: _("All dialogs"), Filter.ACTION: _("Needs action"), Filter.CLOSED: _("Closed dialogs")}[which]


def desk_list(items: list[Item], page: Page[Item], which: Filter, dialogs: dict[int, Dialog], needing: int
              ) -> tuple[str, InlineKeyboardMarkup]:
    """The list: a heading, one line per dialog on this page, a button per dialog, filters, paging."""
    total = len([i for i in items if i.facts.state != CLOSED])
    head = "<b>" + _("Your dialogs") + "</b> · " + html.quote(filter_label(which))
    if needing:
        lines = [head, ngettext("{n} of your {total} open dialogs needs you now.",
                                "{n} of your {total} open dialogs need you now.", needing).format(n=needing, total=total)]
    else:
        lines = [head, _("Nothing needs you right now.")]
    if page.pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=page.number + 1, pages=page.pages))
    body = [item_line(i, dialogs[i.dialog_id]) for i in page.items]
    if not body:
        body = [_("No dialogs here.") if which is not Filter.CLOSED else _("You have no closed dialogs.")]
    text = "\n".join(lines) + "\n\n" + "\n".join(body)
    rows = [[_b(f"{_mark(i)} {child_on_button(dialogs[i.dialog_id])} (#{i.dialog_id})",
                DeskCb(action=DeskAction.OPEN, dialog_id=i.dialog_id, view=which, page=page.number))]
            for i in page.items]
    if page.pages > 1:
        nav = []
        if page.number > 0:
            nav.append(_b("◀️ " + _("Previous"), DeskCb(action=DeskAction.LIST, view=which, page=page.number - 1)))
        if page.number < page.pages - 1:
            nav.append(_b(_("Next") + " ▶️", DeskCb(action=DeskAction.LIST, view=which, page=page.number + 1)))
        rows.append(nav)
    labels = {Filter.ALL: _("All dialogs"), Filter.ACTION: _("Needs action ({n})").format(n=needing),
              Filter.CLOSED: _("Closed dialogs")}
    rows.append([_b(("• " if f is which else "") + labels[f], DeskCb(action=DeskAction.LIST, view=f))
                 for f in (Filter.ALL, Filter.ACTION, Filter.CLOSED)])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


# ---- a dialog's card ---------------------------------------------------------------------------


async def card(session: AsyncSession, item: Item, dialog: Dialog, which: Filter, page: int
               ) -> tuple[str, InlineKeyboardMarkup]:
    """The dialog: who is in it and how far, what needs the coordinator, and buttons into the flows."""
    text = await dialog_block(session, dialog)
    legend = _("✅ has joined · ⏳ has not opened the link yet")
    if any(p.approval == PENDING for p in dialog.participants):
        legend += "\n" + _("🕓 waiting for the family's approval")
    text += "\n<i>" + legend + "</i>"
    if item.needs:
        text += "\n\n<b>" + _("Needs you now:") + "</b>\n" + "\n".join(
            f"{EMOJI[n.reason]} {html.quote(need_text(n, item))}" for n in item.needs)
    d = dialog.id
    rows: list[list[InlineKeyboardButton]] = []
    if item.facts.unseen_alerts or item.facts.messages or item.facts.talk_first:
        rows.append([_b(_("👁 Mark as seen"), DeskCb(action=DeskAction.SEEN, dialog_id=d, view=which, page=page))])
    if dialog.state == ACTIVE:
        rows.append([_b(_("📅 Meeting"), PickDialogCb(flow="moede", dialog_id=d)),
                     _b(_("🎯 Goals & plan"), PickDialogCb(flow="plan", dialog_id=d))])
        rows.append([_b(_("📄 Minutes (PDF)"), PickDialogCb(flow="referat", dialog_id=d)),
                     _b(_("📊 Overview"), PickDialogCb(flow="oversigt", dialog_id=d))])
    if dialog.state != CLOSED:
        rows.append([_b(_("➕ Invite"), InviteCb(action=InviteAction.DIALOG, value=str(d))),
                     _b(_("✉️ Invitation letter"), PickDialogCb(flow="brev", dialog_id=d))])
        rows.append([_b(_("🔁 Hand over"), DeskCb(action=DeskAction.HAND, dialog_id=d)),
                     _b(_("🔒 Close"), CloseCb(action=CloseAction.DIALOG, dialog_id=d))])
    rows.append([_b(_("⬅️ Back to the list"), DeskCb(action=DeskAction.LIST, view=which, page=page))])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


# ---- handing over ------------------------------------------------------------------------------


def _person_label(p: Person) -> str:
    return f"{p.name} ({p.title})" if p.title else (p.name or "")


def choose_receiver(dialog: Dialog, people: list[Person], page: Page[Person] | None = None,
                    shown: list[Person] | None = None) -> tuple[str, InlineKeyboardMarkup]:
    back = [_b(_("Cancel"), DeskCb(action=DeskAction.OPEN, dialog_id=dialog.id))]
    if not people:
        return (_("There is no other registered coordinator to hand the dialog about {child} to. An administrator "
                  "registers one with: samspil admin add-coordinator").format(child=child_in_chat(dialog)),
                InlineKeyboardMarkup(inline_keyboard=[back]))
    text = _("<b>Hand over the dialog about {child}</b>\n\nWho takes over? Choose a registered coordinator.").format(
        child=child_in_chat(dialog))
    rows = [[_b(_person_label(p), DeskCb(action=DeskAction.HAND_TO, dialog_id=dialog.id, person_id=p.id))]
            for p in (shown if shown is not None else people)]
    if page is not None and page.pages > 1:
        text += "\n" + _("Page {page} of {pages}").format(page=page.number + 1, pages=page.pages)
        nav = []
        if page.number > 0:
            nav.append(_b("◀️ " + _("Previous"), DeskCb(action=DeskAction.HAND, dialog_id=dialog.id, page=page.number - 1)))
        if page.number < page.pages - 1:
            nav.append(_b(_("Next") + " ▶️", DeskCb(action=DeskAction.HAND, dialog_id=dialog.id, page=page.number + 1)))
        rows.append(nav)
    rows.append(back)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def ask_note(dialog: Dialog, to: Person) -> tuple[str, InlineKeyboardMarkup]:
    return (_("Write a short note for {name}: what should they know first about the dialog about {child}? "
              "They will also see everything that has happened in it.").format(
                name=html.quote(to.name or ""), child=child_in_chat(dialog)),
            InlineKeyboardMarkup(inline_keyboard=[
                [_b(_("Hand over without a note"), DeskCb(action=DeskAction.HAND_SKIP, dialog_id=dialog.id,
                                                           person_id=to.id))],
                [_b(_("Cancel"), DeskCb(action=DeskAction.HAND_NO, dialog_id=dialog.id))]]))


def confirm(dialog: Dialog, to: Person, note: str | None) -> tuple[str, InlineKeyboardMarkup]:
    text = _("<b>Hand the dialog about {child} over to {name}?</b>").format(
        child=child_in_chat(dialog), name=html.quote(to.name or ""))
    if note:
        text += "\n\n" + _("<b>Note:</b> {note}").format(note=html.quote(note))
    text += "\n\n" + _("{name} becomes the coordinator and sees everything in the dialog. The family and the "
                       "participants are told who their coordinator is now. You will no longer have access to "
                       "the dialog.").format(name=html.quote(to.name or ""))
    return text, InlineKeyboardMarkup(inline_keyboard=[
        [_b(_("Yes, hand it over"), DeskCb(action=DeskAction.HAND_YES, dialog_id=dialog.id, person_id=to.id))],
        [_b(_("Cancel"), DeskCb(action=DeskAction.HAND_NO, dialog_id=dialog.id))]])


def handed(result: ho.Handover) -> str:
    return _("✅ The dialog about {child} is now {name}'s. {name}, the family and the participants are told. "
             "You no longer have access to it.").format(child=child_in_chat(result.dialog),
                                                        name=html.quote(result.new.name or ""))


def not_handed(result: ho.Handover) -> str:
    if result.outcome is ho.Handed.SAME:
        return _("{name} is the coordinator of that dialog already.").format(
            name=html.quote(result.new.name or "") if result.new else "")
    if result.outcome is ho.Handed.CONSENT_SEAT:
        return _("{name} gives consent in that dialog and cannot also be its coordinator.").format(
            name=html.quote(result.new.name or "") if result.new else "")
    if result.outcome is ho.Handed.NOT_COORDINATOR:
        return _("That person is no longer a registered coordinator. Choose another one.")
    return _("The dialog has been closed and cannot be handed over.")


# ---- the notices a handover sends -------------------------------------------------------------


def open_button(dialog_id: int) -> InlineKeyboardButton:
    return _b(_("Open the dialog"), DeskCb(action=DeskAction.OPEN, dialog_id=dialog_id))


@renderer(ho.TO_NEW)
async def _to_new(ctx: RenderContext, payload: dict) -> Rendered | None:
    dialog = await ctx.session.get(Dialog, payload["dialog_id"])
    if dialog is None or dialog.coordinator_id != ctx.person.id:
        return None  # handed on again meanwhile
    old = await ctx.session.get(Person, payload["from_person_id"]) if payload.get("from_person_id") else None
    text = _("🔁 <b>You are now the coordinator of the dialog about {child}</b> (#{id})").format(
        child=child_in_chat(dialog), id=dialog.id)
    name = html.quote(old.name or "") if old is not None else ""
    if payload.get("by_admin"):
        text += "\n" + _("An administrator handed it over to you from {name}.").format(name=name)
    else:
        text += "\n" + _("{name} handed it over to you.").format(name=name)
    if ctx.row.body:
        text += "\n\n" + _("<b>Note:</b> {note}").format(note=html.quote(ctx.row.body))
    text += "\n\n" + _("You can see everything that has happened in the dialog. The family and the participants "
                       "have been told that you are their coordinator now.")
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=[[open_button(dialog.id)]]))


@renderer(ho.TO_OLD)
async def _to_old(ctx: RenderContext, payload: dict) -> Rendered | None:
    dialog = await ctx.session.get(Dialog, payload["dialog_id"])
    new = await ctx.session.get(Person, payload["to_person_id"])
    if dialog is None or new is None:
        return None
    return Rendered(_("An administrator has handed the dialog about {child} (#{id}) over to {name}. "
                      "You no longer have access to it.").format(
                        child=child_in_chat(dialog), id=dialog.id, name=html.quote(new.name or "")))
