"""What the coordinator sees when writing for a participant without Telegram, and the notice the
others get when that input is shared (marked "written by the coordinator for ...")."""

from __future__ import annotations

from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from core import texts
from core.i18n import fmt_date
from core.labels import child_in_chat, child_on_button, written_for
from core.notices import RenderContext, Rendered, renderer
from handlers.choose import Id
from handlers.coordinator_views import InviteAction, InviteCb, invite_button
from handlers.overview import OverviewCb
from handlers.ruler_views import legend, one_to_ten
from rules import consent as consent_rules
from rules.access import ACTIVE, CLOSED, Refusal
from rules.dialog_config import DialogConfig, Ruler
from rules.roles import TELEGRAM_MIN_AGE
from services import on_behalf
from storage import inputs
from storage.inputs import BOXES
from storage.models import Consent, Dialog, InputEntry, Participant


class ForAction(StrEnum):
    MENU = "menu"  # what the coordinator can do for the participant now
    CONSENT = "consent"  # the consent card to go through with them, and their answers
    GIVEN = "given"  # value: oral | paper; shown: the card's fingerprint
    DECLINED = "declined"  # as GIVEN
    WITHDRAW = "withdraw"  # ask how they withdrew (shown: the card's fingerprint)
    WITHDRAWN = "withdrawn"  # value: oral | paper
    INPUT = "input"  # choose an area
    AREA = "area"  # value: the area's key
    SKIP = "skip"  # leave the box asked empty (entry_id)
    SHARE = "share"
    DELETE = "delete"  # entry_id: ask first
    DELETE_YES = "delete_yes"
    SCORE = "score"  # the ruler's numbers
    NUMBER = "number"  # value: 1..10


class ForCb(CallbackData, prefix="for"):
    action: ForAction
    participant_id: Id  # the seat without Telegram (its dialog is the one checked)
    value: str = ""
    shown: str = ""
    entry_id: Id = 0


def _locale() -> str:
    return I18n.get_current().current_locale


def button(text: str, action: ForAction, seat: Participant, **kw: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ForCb(action=action, participant_id=seat.id, **kw).pack())


def menu_button(seat: Participant) -> InlineKeyboardButton:
    return button(_("Write for {name}").format(name=seat.name), ForAction.MENU, seat)


def back_row(seat: Participant) -> list[InlineKeyboardButton]:
    return [button(_("Back to {name}").format(name=seat.name), ForAction.MENU, seat)]


def refused(result: on_behalf.For) -> str:
    """Why the coordinator cannot do that for the seat (an alert)."""
    seat = result.seat
    if result.refusal is Refusal.NOT_JOINED and seat is not None:
        return _("The family has not approved {name} yet. You will be told when they have.").format(
            name=html.quote(seat.name))
    if result.refusal is Refusal.NOT_OFFLINE and seat is not None and not seat.offline:
        return _("{name} uses Telegram and answers for themselves. "
                 "You write only for participants without Telegram.").format(name=html.quote(seat.name))
    return texts.refusal(result.refusal, result.named)


# ---- the seat's menu -------------------------------------------------------------------------------


def _how(consent: Consent) -> str:
    return _("on paper") if consent.given_how == on_behalf.PAPER else _("orally")


def consent_line(seat: Participant, latest: Consent | None) -> str:
    """'Inge has given consent orally on 23 November 2026 (written by the coordinator)'."""
    name = html.quote(seat.name)
    if latest is None or latest.answer in (consent_rules.TALK_FIRST,):
        return _("Consent: {name} has not answered yet.").format(name=name)
    how, date = _how(latest), fmt_date(latest.created_at)
    if latest.answer == consent_rules.GIVEN:
        text = _("{name} has given consent {how} on {date}.")
    elif latest.answer == consent_rules.DECLINED:
        text = _("{name} has said no thanks {how} on {date}.")
    else:
        text = _("{name} has withdrawn their consent {how} on {date}.")
    return text.format(name=name, how=how, date=date)


def menu(seat: Participant, latest: Consent | None, shared: int, drafts: int, number: int | None,
         ) -> tuple[str, InlineKeyboardMarkup | None]:
    dialog = seat.dialog
    name = html.quote(seat.name)
    lines = [_("<b>{who}</b> takes part without Telegram in the dialog about {child}. "
               "You write for {name}. Everyone sees it as \"{marking}\".").format(
        who=texts.who(seat), child=child_in_chat(dialog), name=name, marking=written_for(name))]
    if seat.consent_giver:
        lines.append(consent_line(seat, latest))
    rows: list[list[InlineKeyboardButton]] = []
    given = latest is not None and latest.answer == consent_rules.GIVEN
    if seat.joined_at is None:
        lines.append(_("The family has not approved {name} yet.").format(name=name))
    elif dialog.state == ACTIVE:
        lines.append(_("Input shared: {shared}. Drafts: {drafts}.").format(shared=shared, drafts=drafts))
        lines.append(_("Number on the ruler: {number}.").format(number=number if number is not None else "–"))
        rows.append([button(_("Write input for {name}").format(name=seat.name), ForAction.INPUT, seat)])
        rows.append([button(_("Put {name}'s number on the ruler").format(name=seat.name), ForAction.SCORE, seat)])
    elif dialog.state != CLOSED:
        lines.append(_("You can write input for {name} when the family has given consent.").format(name=name))
    if seat.consent_giver and seat.joined_at is not None and dialog.state != CLOSED:
        if given:
            rows.append([button(_("{name} withdraws consent").format(name=seat.name), ForAction.WITHDRAW, seat)])
        else:
            rows.append([button(_("Write {name}'s consent").format(name=seat.name), ForAction.CONSENT, seat)])
    return "\n\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


# ---- consent -------------------------------------------------------------------------------------------


def consent_intro(seat: Participant) -> str:
    return _("<b>Consent for {name}</b>\n\n"
             "Go through this text with {name}, orally or on paper. Then tap what {name} answered.").format(
        name=html.quote(seat.name))


def consent_keyboard(seat: Participant, shown: str) -> InlineKeyboardMarkup:
    name = seat.name
    return InlineKeyboardMarkup(inline_keyboard=[
        [button(_("✅ {name} said yes – orally").format(name=name), ForAction.GIVEN, seat,
                value=on_behalf.ORAL, shown=shown)],
        [button(_("✅ {name} said yes – on paper").format(name=name), ForAction.GIVEN, seat,
                value=on_behalf.PAPER, shown=shown)],
        [button(_("{name} said no thanks").format(name=name), ForAction.DECLINED, seat,
                value=on_behalf.ORAL, shown=shown)],
        back_row(seat),
    ])


def withdraw_question(seat: Participant, shown: str) -> tuple[str, InlineKeyboardMarkup]:
    name = seat.name
    return (_("Has {name} withdrawn their consent? Then the dialog pauses for everyone "
              "until consent is given again.").format(name=html.quote(name)),
            InlineKeyboardMarkup(inline_keyboard=[
                [button(_("Yes, {name} said so orally").format(name=name), ForAction.WITHDRAWN, seat,
                        value=on_behalf.ORAL, shown=shown)],
                [button(_("Yes, {name} wrote it on paper").format(name=name), ForAction.WITHDRAWN, seat,
                        value=on_behalf.PAPER, shown=shown)],
                back_row(seat),
            ]))


def consent_recorded(seat: Participant, record: on_behalf.ConsentRecord) -> str:
    assert record.consent is not None
    lines = [_("Saved: {line}").format(line=consent_line(seat, record.consent))]
    dialog = seat.dialog
    if record.consent.answer == consent_rules.GIVEN:
        if record.state_after == ACTIVE:
            lines.append(_("Everyone has given consent. The dialog about {child} is open now.").format(
                child=child_in_chat(dialog)))
        elif record.missing:
            lines.append(_("Consent is still missing from: {names}.").format(
                names=", ".join(html.quote(p.name) for p in record.missing)))
    elif record.state_after != ACTIVE and dialog.state != CLOSED:
        lines.append(_("Nobody has access to the dialog until everyone has given consent."))
    return "\n\n".join(lines)


# ---- input -----------------------------------------------------------------------------------------------


def area_picker(seat: Participant, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[button(a.label(_locale()), ForAction.AREA, seat, value=a.key)] for a in config.areas]
    rows.append(back_row(seat))
    return (_("Which area does {name} want to write about?").format(name=html.quote(seat.name)),
            InlineKeyboardMarkup(inline_keyboard=rows))


def box_question(box: str, name: str) -> str:
    return {
        "worries": _("What is {name} worried about?"),
        "works": _("What works well, as {name} sees it?"),
        "next_steps": _("What would {name} like to happen?"),
    }[box].format(name=html.quote(name))


def ask_box(seat: Participant, entry: InputEntry, box: str, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    step = BOXES.index(box) + 1
    text = _("<b>{area}</b> – for {name} ({step} of 3)\n\n{question}\nWrite it in {name}'s own words.").format(
        area=html.quote(config.area(entry.area).label(_locale())), name=html.quote(seat.name), step=step,
        question=box_question(box, seat.name))
    return text, InlineKeyboardMarkup(inline_keyboard=[
        [button(_("Skip this box"), ForAction.SKIP, seat, entry_id=entry.id, value=box)]])


def review(seat: Participant, entry: InputEntry, config: DialogConfig) -> tuple[str, InlineKeyboardMarkup]:
    parts = [_("<b>{area}</b> – draft for {name} (only you can see it)").format(
        area=html.quote(config.area(entry.area).label(_locale())), name=html.quote(seat.name))]
    for box in BOXES:
        body = inputs.box_text(entry, box)
        parts.append(f"<b>{texts.box_title(box)}</b>\n" + (html.quote(body) if body else _("<i>(empty)</i>")))
    parts.append(_("When you share it, everyone sees it as \"{marking}\".").format(
        marking=written_for(html.quote(seat.name))))
    return "\n\n".join(parts), InlineKeyboardMarkup(inline_keyboard=[
        [button(_("Share"), ForAction.SHARE, seat)],
        [button(_("Another area"), ForAction.INPUT, seat)],
        [button(_("Delete the draft"), ForAction.DELETE, seat, entry_id=entry.id)],
    ])


def delete_question(seat: Participant, entry: InputEntry) -> tuple[str, InlineKeyboardMarkup]:
    return (_("Delete {name}'s draft? It cannot be undone.").format(name=html.quote(seat.name)),
            InlineKeyboardMarkup(inline_keyboard=[
                [button(_("Yes, delete it"), ForAction.DELETE_YES, seat, entry_id=entry.id)],
                back_row(seat),
            ]))


def shared_text(seat: Participant, count: int) -> str:
    return _("Shared. The others can read it in the overview, marked \"{marking}\".").format(
        marking=written_for(html.quote(seat.name))) if count else _("There was nothing to share.")


# ---- the ruler ---------------------------------------------------------------------------------------------


def ruler_card(seat: Participant, ruler: Ruler) -> tuple[str, InlineKeyboardMarkup]:
    loc = _locale()
    text = _("<b>{ruler}</b> – {name}'s number\n\n"
             "Ask {name} where {child} is on the ruler right now. Then tap {name}'s number.\n\n{legend}").format(
        ruler=html.quote(ruler.name(loc)), name=html.quote(seat.name), child=child_in_chat(seat.dialog),
        legend=legend(ruler))

    def b(v: int) -> InlineKeyboardButton:
        return button(str(v), ForAction.NUMBER, seat, value=str(v))

    return text, one_to_ten(b, back_row(seat))


def scored(seat: Participant, ruler: Ruler, value: int) -> str:
    field = ruler.field_for(value)
    return _("Saved: {name}'s number is <b>{value}</b> {emoji} {field}. Everyone sees it as \"{marking}\".").format(
        name=html.quote(seat.name), value=value, emoji=field.emoji, field=html.quote(field.name(_locale())),
        marking=written_for(html.quote(seat.name)))


# ---- /paa_vegne ------------------------------------------------------------------------------------------


def seat_list(seats: list[Participant], several_dialogs: bool) -> tuple[str, InlineKeyboardMarkup | None]:
    if not seats:
        return _("Nobody in your dialogs takes part without Telegram. "
                 "To add someone, type /inviter and tap \"No Telegram\"."), None

    def label(p: Participant) -> str:
        who = f"{p.name} ({p.relation or texts.role_label(p.role)})"
        return f"{who} – {child_on_button(p.dialog)}" if several_dialogs else who

    return (_("Who do you want to write for?"),
            InlineKeyboardMarkup(inline_keyboard=[[button(label(p), ForAction.MENU, p)] for p in seats]))


# ---- the notice: input shared for someone without Telegram ----------------------------------------------


@renderer("input_shared_for")
async def _input_shared_for(ctx: RenderContext, payload: dict) -> Rendered | None:
    seat = await ctx.session.get(Participant, payload["participant_id"])
    if seat is None or seat.dialog.state != ACTIVE:
        return None
    dialog: Dialog = seat.dialog
    return Rendered(
        _("New input in the dialog about {child}: {marking}.").format(
            child=child_in_chat(dialog), marking=written_for(texts.who(seat))),
        InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
            text=_("Read it"), callback_data=OverviewCb(dialog_id=dialog.id, round_no=payload["round_no"],
                                                        action="read").pack())]]))


# ---- /inviter: someone without Telegram ------------------------------------------------------------------


def offline_invite_button(dialog: Dialog, text: str | None = None) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text or _("📵 No Telegram"), callback_data=InviteCb(
        action=InviteAction.OFFLINE, value=str(dialog.id)).pack())


def name_keyboard(dialog: Dialog) -> InlineKeyboardMarkup:
    """Under the name question: the way in for someone without Telegram."""
    return InlineKeyboardMarkup(inline_keyboard=[[offline_invite_button(dialog)]])


def offline_note() -> str:
    return _("📵 <b>Without Telegram</b>: the person gets no link, and you write for them.")


def offline_name_prompt() -> str:
    return offline_note() + "\n\n" + _("What is the person's name? (e.g. Inge Hansen)")


def age_question(name: str) -> tuple[str, InlineKeyboardMarkup]:
    def b(text: str, value: str) -> list[InlineKeyboardButton]:
        return [InlineKeyboardButton(text=text, callback_data=InviteCb(action=InviteAction.AGE, value=value).pack())]

    return (_("Is {name} under 16?").format(name=html.quote(name)),
            InlineKeyboardMarkup(inline_keyboard=[b(_("Yes, under 16"), "under"), b(_("No, 16 or older"), "over")]))


def under_16(name: str, dialog: Dialog) -> tuple[str, InlineKeyboardMarkup]:
    """Inviting a young person under 16 by link is refused: the reason, and the way that works."""
    quoted = html.quote(name)
    return (_("{name} cannot get a link: Telegram requires users in the EU to be at least {age}.\n\n"
              "{name} can take part without Telegram. Then you write for {name}: consent, input and "
              "the number on the ruler.").format(name=quoted, age=TELEGRAM_MIN_AGE),
            InlineKeyboardMarkup(inline_keyboard=[
                [offline_invite_button(dialog, _("📵 {name} takes part without Telegram").format(name=name))],
                [InlineKeyboardButton(text=_("Cancel"), callback_data=InviteCb(action=InviteAction.CANCEL).pack())],
            ]))


def offline_added(added: on_behalf.Added, dialog: Dialog) -> tuple[str, InlineKeyboardMarkup]:
    seat = added.participant
    name = html.quote(seat.name)
    lines = [_("✅ {who} takes part in the dialog about {child} – without Telegram.").format(
        who=texts.who(seat), child=child_in_chat(dialog))]
    if seat.consent_giver:
        lines.append(_("{name} gets no link. You write for {name}: their consent, their input and their number "
                       "on the ruler. Everyone sees it as \"{marking}\".").format(name=name, marking=written_for(name)))
    else:
        lines.append(_("{name} gets no link. You write for {name}: their input and their number on the ruler. "
                       "Everyone sees it as \"{marking}\".").format(name=name, marking=written_for(name)))
    if added.asked is not None:
        lines.append(_("The dialog has started, so the family decides: {names} will be asked to approve {name}. "
                       "You will be told when they have answered.").format(
            names=", ".join(html.quote(a.name) for a in added.asked), name=name))
    lines.append(_("You find {name} again with /paa_vegne.").format(name=name))
    return "\n\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[
        [menu_button(seat)], [invite_button(_("Invite one more"), dialog)]])
