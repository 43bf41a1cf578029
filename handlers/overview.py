"""Samlet oversigt (`/oversigt`): everyone's shared input of a round, by area.

Long overviews are cut into pages below Telegram's 4,096 characters; the
buttons edit the one message in place instead of flooding the chat.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram import F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core import texts
from core.clock import Clock
from core.i18n import fmt_short
from core.labels import author, child_in_chat
from handlers.choose import Id, PickDialogCb, pick_dialog
from handlers.reports_views import overview_pdf_button
from handlers.seats import alert, needs
from rules.access import Action
from rules.dialog_config import DialogConfig
from rules.text import split_message
from storage import audit, inputs
from storage.inputs import BOXES
from storage.models import InputEntry, Participant, Person

router = Router(name="overview")

READ = needs(Action.READ_SHARED)

PAGE_LIMIT = 3500  # leaves room for the page header under Telegram's 4,096


class OverviewAction(StrEnum):
    """page | areas | rounds: edit this overview in place; read: a notice's "Read it", answered
    in a new message, since the notice may be merged with others that must stay as they are.
    The values are packed into buttons already sent: never change one."""

    page = "page"
    areas = "areas"
    rounds = "rounds"
    read = "read"


class OverviewCb(CallbackData, prefix="ov"):
    dialog_id: Id
    round_no: Id
    area: str = ""
    page: Id = 0
    action: OverviewAction = OverviewAction.page


def _locale() -> str:
    return I18n.get_current().current_locale


async def _audit(session: AsyncSession, p: Participant, action: str, round_no: int, clock: Clock,
                 page: int = 0) -> None:
    """The read goes into the audit log, in the update's transaction (storage/audit.py)."""
    await audit.record(session, actor_id=p.person_id, dialog_id=p.dialog_id, action=action,
                       now=clock.now(), role=p.role, round_no=round_no, page_no=page + 1)


async def _first_page(session: AsyncSession, p: Participant, config: DialogConfig, clock: Clock, round_no: int,
                      area: str = "") -> tuple[str, InlineKeyboardMarkup]:
    """The first page of a round's overview, its read audited."""
    text, keyboard = await render_page(session, p, config, round_no, area, 0)
    await _audit(session, p, audit.OVERVIEW_SHOWN, round_no, clock)
    return text, keyboard


@router.message(Command("oversigt"))
async def overview_command(message: Message, session: AsyncSession, person: Person | None,
                           dialog_config: DialogConfig, clock: Clock) -> None:
    participant = await pick_dialog(message, session, person, "oversigt", Action.READ_SHARED)
    if participant is not None:
        text, keyboard = await _first_page(session, participant, dialog_config, clock, participant.dialog.round_no)
        await message.answer(text, reply_markup=keyboard, protect_content=True)


@router.callback_query(PickDialogCb.filter(F.flow == "oversigt"), flags=READ)
async def overview_picked(query: CallbackQuery, seat: Participant, session: AsyncSession,
                          dialog_config: DialogConfig, clock: Clock) -> None:
    text, keyboard = await _first_page(session, seat, dialog_config, clock, seat.dialog.round_no)
    await query.message.answer(text, reply_markup=keyboard, protect_content=True)


def _known(callback_answer: CallbackAnswer, callback_data: OverviewCb, seat: Participant, config: DialogConfig) -> bool:
    """The button's round and area exist; otherwise it is stale (the tap's alert)."""
    area = callback_data.area
    if 1 <= callback_data.round_no <= seat.dialog.round_no and (not area or area in {a.key for a in config.areas}):
        return True
    alert(callback_answer, texts.stale_button())
    return False


async def _edit(query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup) -> None:
    try:
        await query.message.edit_text(text, reply_markup=keyboard)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            raise


@router.callback_query(OverviewCb.filter(F.action == OverviewAction.read), flags=READ)
async def overview_read(query: CallbackQuery, callback_data: OverviewCb, seat: Participant,
                        session: AsyncSession, dialog_config: DialogConfig, clock: Clock, callback_answer: CallbackAnswer) -> None:
    if _known(callback_answer, callback_data, seat, dialog_config):
        text, keyboard = await _first_page(session, seat, dialog_config, clock, callback_data.round_no,
                                           callback_data.area)
        await query.message.answer(text, reply_markup=keyboard, protect_content=True)


@router.callback_query(OverviewCb.filter(F.action == OverviewAction.areas), flags=READ)
async def overview_areas(query: CallbackQuery, callback_data: OverviewCb, seat: Participant,
                         dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    if _known(callback_answer, callback_data, seat, dialog_config):
        await _edit(query, *_area_picker(seat, dialog_config, callback_data.round_no))


@router.callback_query(OverviewCb.filter(F.action == OverviewAction.rounds), flags=READ)
async def overview_rounds(query: CallbackQuery, callback_data: OverviewCb, seat: Participant,
                          dialog_config: DialogConfig, callback_answer: CallbackAnswer) -> None:
    if _known(callback_answer, callback_data, seat, dialog_config):
        await _edit(query, *_round_picker(seat))


@router.callback_query(OverviewCb.filter(F.action == OverviewAction.page), flags=READ)
async def overview_page(query: CallbackQuery, callback_data: OverviewCb, seat: Participant,
                        session: AsyncSession, dialog_config: DialogConfig, clock: Clock, callback_answer: CallbackAnswer) -> None:
    if _known(callback_answer, callback_data, seat, dialog_config):
        round_no, page = callback_data.round_no, callback_data.page
        text, keyboard = await render_page(session, seat, dialog_config, round_no, callback_data.area, page)
        await _audit(session, seat, audit.OVERVIEW_PAGED, round_no, clock, page)
        await _edit(query, text, keyboard)


async def render_page(session: AsyncSession, p: Participant, config: DialogConfig, round_no: int,
                      area: str, page: int) -> tuple[str, InlineKeyboardMarkup]:
    dialog = p.dialog
    entries = await inputs.shared_entries(session, dialog, round_no, area or None)
    title = _("<b>Overview</b> – the dialog about {child}, round {round}").format(
        child=child_in_chat(dialog), round=round_no)
    if area:
        title += " · " + html.quote(config.area(area).label(_locale()))
    if not entries:
        body = _("Nobody has shared input here yet.")
    else:
        order = [a.key for a in config.areas]
        entries.sort(key=lambda e: (order.index(e.area) if e.area in order else len(order), e.shared_at, e.id))
        blocks, current = [], None
        for e in entries:
            if e.area != current:
                current = e.area
                blocks.append(f"<b>{html.quote(config.area(e.area).label(_locale()).upper())}</b>")
            blocks.append(_entry_block(e))
        body = "\n\n".join(blocks)
    pages = split_message(body, PAGE_LIMIT)
    page = max(0, min(page, len(pages) - 1))
    text = f"{title}\n\n{pages[page]}"
    if len(pages) > 1:
        text += "\n\n" + _("Page {page} of {pages}").format(page=page + 1, pages=len(pages))

    def b(label: str, **kw: object) -> InlineKeyboardButton:
        data = {"dialog_id": dialog.id, "round_no": round_no, "area": area, "page": page} | kw
        return InlineKeyboardButton(text=label, callback_data=OverviewCb(**data).pack())

    rows: list[list[InlineKeyboardButton]] = []
    nav = []
    if page > 0:
        nav.append(b(_("◀️ Previous"), page=page - 1))
    if page + 1 < len(pages):
        nav.append(b(_("Next ▶️"), page=page + 1))
    if nav:
        rows.append(nav)
    rows.append([b(_("Choose area"), action=OverviewAction.areas, page=0)])
    if dialog.round_no > 1:
        rows.append([b(_("Earlier rounds"), action=OverviewAction.rounds, page=0)])
    if entries:  # Hent PDF: the same round (and area) as a document (handlers/reports.py)
        rows.append([overview_pdf_button(dialog.id, round_no, area)])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def _entry_block(e: InputEntry) -> str:
    head = f"<i>{fmt_short(e.shared_at)} · {author(texts.who(e.participant), by_coordinator=e.written_by_id is not None)}</i>"
    parts = [head]
    for box in BOXES:
        body = inputs.box_text(e, box)
        if body:
            parts.append(f"<b>{texts.box_title(box)}:</b> {html.quote(body)}")
    return "\n".join(parts)


def _area_picker(p: Participant, config: DialogConfig, round_no: int) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[InlineKeyboardButton(text=_("All areas"), callback_data=OverviewCb(
        dialog_id=p.dialog_id, round_no=round_no).pack())]]
    rows += [[InlineKeyboardButton(text=a.label(_locale()), callback_data=OverviewCb(
        dialog_id=p.dialog_id, round_no=round_no, area=a.key).pack())] for a in config.areas]
    return _("Which area do you want to see?"), InlineKeyboardMarkup(inline_keyboard=rows)


def _round_picker(p: Participant) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[InlineKeyboardButton(text=_("Round {round}").format(round=r), callback_data=OverviewCb(
        dialog_id=p.dialog_id, round_no=r).pack())] for r in range(p.dialog.round_no, 0, -1)]
    return _("Which round do you want to see?"), InlineKeyboardMarkup(inline_keyboard=rows)
