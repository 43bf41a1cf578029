"""What the input flow shows: the area list, the box prompt, the draft, sharing.

One card at a time carries live buttons (handlers/dialog_input.py removes them from the
card before); the answer to a typed box is this module's prompt again, edited in place.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from core import texts
from core.i18n import fmt_date
from core.labels import child_in_chat
from core.notices import RenderContext, Rendered, renderer
from handlers.choose import Id
from handlers.overview import OverviewCb
from rules.access import ACTIVE
from rules.dialog_config import DialogConfig
from rules.text import split_message
from services.input import BOX_LIMIT
from storage import inputs
from storage.inputs import BOXES
from storage.models import Dialog, InputEntry, Participant


class InputAction(StrEnum):
    area = "area"  # open an area: its draft (review) or the first box
    purpose = "purpose"  # the dialog's purpose
    home = "home"  # the area list
    next = "next"  # on from a box (value: the box)
    review = "review"  # the draft as a whole
    edit = "edit"  # write a box again (value: the box); the next message replaces it
    delete = "delete"  # ask before deleting a draft
    delete_yes = "delete_yes"
    share_one = "share_one"  # share this draft now (the card says what sharing means)
    share = "share"  # ask before sharing all drafts at once
    share_yes = "share_yes"  # share all drafts now


class InputCb(CallbackData, prefix="in"):
    action: InputAction
    dialog_id: Id
    entry_id: Id = 0
    value: str = ""  # an area key or a box name


def _locale() -> str:
    return I18n.get_current().current_locale


def _cb(action: InputAction, dialog_id: int, entry_id: int = 0, value: str = "") -> str:
    return InputCb(action=action, dialog_id=dialog_id, entry_id=entry_id, value=value).pack()


def _button(text: str, action: InputAction, dialog_id: int, entry_id: int = 0, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=_cb(action, dialog_id, entry_id, value))


def area_label(config: DialogConfig, key: str) -> str:
    """An area's label (not HTML); a key no longer configured shows as itself."""
    try:
        return config.area(key).label(_locale())
    except KeyError:
        return key


def area_list(config: DialogConfig, keys: list[str] | set[str]) -> str:
    """Area labels in the configured order, joined (not HTML)."""
    order = [a.key for a in config.areas]
    ordered = sorted(keys, key=lambda k: order.index(k) if k in order else len(order))
    return ", ".join(area_label(config, k) for k in ordered)


def share_means() -> str:
    return _("When you share, the others in the dialog can read it, with your name. "
             "You cannot change it afterwards, but you can always write more.")


# ---- the area list ---------------------------------------------------------------------------


def home(p: Participant, entries: list[InputEntry], config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    """The person's input in this dialog, and the areas to write in, each with its explanation."""
    drafts = {e.area for e in entries if e.shared_at is None and not inputs.is_empty(e)}
    shared = {e.area for e in entries if e.shared_at is not None}
    lines = [_("<b>Your input about {child}</b>").format(child=child_in_chat(p.dialog))]
    if drafts:
        lines.append(_("✏️ Drafts only you can see: {areas}").format(areas=html.quote(area_list(config, drafts))))
    if shared:
        lines.append(_("✅ Shared: {areas}").format(areas=html.quote(area_list(config, shared))))
    choose = [_("What do you want to write about? Choose an area:")]
    for area in config.areas:
        explanation = area.explanation(_locale())
        choose.append(f"• <b>{html.quote(area.label(_locale()))}</b>"
                      + (f": {html.quote(explanation)}" if explanation else ""))
    lines.append("\n".join(choose))
    rows: list[list[InlineKeyboardButton]] = []
    if drafts:
        rows.append([_button(ngettext("✅ Share my draft", "✅ Share my {count} drafts", len(drafts)).format(
            count=len(drafts)), InputAction.share, p.dialog_id)])
    for area in config.areas:
        mark = "✏️ " if area.key in drafts else ("✅ " if area.key in shared else "")
        rows.append([_button(mark + area.label(_locale()), InputAction.area, p.dialog_id, value=area.key)])
    rows.append([_button(_("Show purpose"), InputAction.purpose, p.dialog_id)])
    return "\n\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def purpose(dialog: Dialog) -> str:
    return _("<b>The purpose of the dialog</b> ({date})\n\n{purpose}").format(
        date=fmt_date(dialog.purpose_updated_at), purpose=html.quote(dialog.purpose))


# ---- the three boxes -------------------------------------------------------------------------


def box_question(box: str) -> str:
    return {
        "worries": _("What are you worried about?"),
        "works": _("What works well? (resources)"),
        "next_steps": _("What would you like to happen? (suggested goals)"),
    }[box]


def box_help(box: str) -> str:
    return {
        "worries": _("Write in your own words how you experience it."),
        "works": _("It can be small things – what goes well in everyday life."),
        "next_steps": _("What would make a difference? What should we aim for together?"),
    }[box]


def _quote_start(text: str, limit: int = 40) -> str:
    line = " ".join(text.split())
    return html.quote(line if len(line) <= limit else line[:limit].rstrip() + "…")


def prompt(entry: InputEntry, box: str, config: DialogConfig, *, append: bool,
           saved: str | None = None, room_left: int = BOX_LIMIT) -> tuple[str, InlineKeyboardMarkup]:
    """A box's question and buttons. `saved`: the message just saved in it (the prompt is then
    the acknowledgement, edited in place of the one before)."""
    step = BOXES.index(box) + 1
    last = step == len(BOXES)
    text = _("<b>{area}</b> · step {step} of 3\n\n<b>{title}</b>\n{question}\n<i>{help}</i>").format(
        area=html.quote(area_label(config, entry.area)), step=step, title=texts.box_title(box),
        question=box_question(box), help=box_help(box))
    current = inputs.box_text(entry, box)
    if saved is not None:
        text += "\n\n" + _("✓ Saved in your draft: “{start}”\nWrite more, or go on.").format(start=_quote_start(saved))
        if room_left < 2_000:
            text += "\n" + ngettext("There is room for {count} more character in this box.",
                                    "There is room for {count} more characters in this box.",
                                    room_left).format(count=f"{room_left:,}".replace(",", "."))
    elif current and not append:
        text += "\n\n" + _("What you wrote before is below. Your next message replaces it.")
    elif current:
        text += "\n\n" + _("You have already written something here; what you send now is added.")
    else:
        text += "\n\n" + _("Write as much as you like, in one or more messages. "
                           "Only you can see it until you share it.")
    rows: list[list[InlineKeyboardButton]] = []
    if last:
        if not inputs.is_empty(entry):
            text += "\n\n" + share_means()
            rows.append([_button(_("✅ Share now"), InputAction.share_one, entry.dialog_id, entry.id)])
    else:
        rows.append([_button(_("Next ➡️") if current else _("Skip ➡️"), InputAction.next, entry.dialog_id,
                             entry.id, box)])
    rows.append([_button(_("See the draft"), InputAction.review, entry.dialog_id, entry.id)])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def earlier_text(entry: InputEntry, box: str) -> list[str]:
    """What a box held, to copy from when it is written again (in chunks Telegram takes)."""
    current = inputs.box_text(entry, box)
    return split_message(html.quote(current)) if current else []


def no_room() -> str:
    return _("There is no room for that in this box (at most {limit} characters in all). "
             "Nothing was added. Shorten it, or go on to the next box.").format(
        limit=f"{BOX_LIMIT:,}".replace(",", "."))


def draft_gone() -> str:
    return _("That draft no longer exists. Type /input to start again.")


# ---- the draft, sharing, deleting -----------------------------------------------------------


def render_entry(entry: InputEntry) -> str:
    parts = []
    for box in BOXES:
        body = inputs.box_text(entry, box)
        parts.append(f"<b>{texts.box_title(box)}</b>\n" + (html.quote(body) if body else _("<i>(empty)</i>")))
    return "\n\n".join(parts)


def review(entry: InputEntry, config: DialogConfig) -> tuple[list[str], InlineKeyboardMarkup]:
    """The draft in chunks Telegram takes (the buttons go under the last): "Share" first,
    "Delete" last."""
    head = _("<b>{area}</b> – your draft (only you can see it)").format(area=html.quote(area_label(config, entry.area)))
    d, e = entry.dialog_id, entry.id
    body = f"{head}\n\n{render_entry(entry)}"
    rows: list[list[InlineKeyboardButton]] = []
    if not inputs.is_empty(entry):
        body += "\n\n" + share_means()
        rows.append([_button(_("✅ Share"), InputAction.share_one, d, e)])
    rows += [[_button(_("Edit: {box}").format(box=texts.box_title(box)), InputAction.edit, d, e, box)] for box in BOXES]
    rows.append([_button(_("Another input area"), InputAction.home, d)])
    rows.append([_button(_("Delete the draft"), InputAction.delete, d, e)])
    return split_message(body), InlineKeyboardMarkup(inline_keyboard=rows)


def ask_delete(entry: InputEntry, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    return _("Delete your draft in {area}? What you wrote there will be gone.").format(
        area=html.quote(area_label(config, entry.area))), InlineKeyboardMarkup(inline_keyboard=[[
            _button(_("Yes, delete"), InputAction.delete_yes, entry.dialog_id, entry.id),
            _button(_("No, keep it"), InputAction.review, entry.dialog_id, entry.id)]])


def deleted() -> str:
    return _("The draft is deleted.")


def ask_share_all(dialog_id: int, drafts: list[InputEntry], config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    return _("You are about to share your input in: {areas}.\n\n"
             "Then the other participants can read it, with your name and the date. "
             "Shared input cannot be changed, but you can always add new input.").format(
        areas=html.quote(area_list(config, [e.area for e in drafts]))), InlineKeyboardMarkup(inline_keyboard=[[
            _button(_("Yes, share now"), InputAction.share_yes, dialog_id),
            _button(_("Not yet"), InputAction.home, dialog_id)]])


def nothing_to_share() -> str:
    return _("You have no drafts with text to share.")


def already_shared() -> str:
    return _("That input has already been shared and can no longer be changed. "
             "You can write new input in the same area.")


def shared(p: Participant, entries: list[InputEntry], remaining: list[InputEntry],
           config: DialogConfig) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """What was shared, and the drafts still private (with a button to share them too). The
    handler adds the person's next step (handlers/home_views.py)."""
    text = _("✅ Your input about {areas} is shared. The others in the dialog can read it now.").format(
        areas=html.quote(area_list(config, [e.area for e in entries])))
    rows: list[list[InlineKeyboardButton]] = []
    if remaining:
        text += "\n\n" + _("✏️ Drafts only you can see: {areas}").format(
            areas=html.quote(area_list(config, [e.area for e in remaining])))
        rows.append([_button(ngettext("✅ Share the other draft too", "✅ Share the other {count} drafts too",
                                      len(remaining)).format(count=len(remaining)), InputAction.share_yes, p.dialog_id)])
    return text, rows


# ---- the notice to the others ----------------------------------------------------------------


@renderer("input_shared")
async def _input_shared(ctx: RenderContext, payload: dict) -> Rendered | None:
    author = await ctx.session.get(Participant, payload["participant_id"])
    if author is None or author.dialog.state != ACTIVE:
        return None
    dialog = author.dialog
    return Rendered(
        _("{who} has shared their input in the dialog about {child}.").format(
            who=texts.who(author), child=child_in_chat(dialog)),
        InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text=_("Read it"), callback_data=OverviewCb(dialog_id=dialog.id, round_no=payload["round_no"],
                                                 action="read").pack())]]))
