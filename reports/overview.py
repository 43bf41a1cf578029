"""Samlet oversigt as a PDF ("Hent PDF"): a round's shared input by area, in three columns."""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _
from reportlab.platypus import Flowable, Spacer
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from reports import gather
from reports.common import Frame, U, build_pdf, fmt_day, one_line, safe_filename, styles
from reports.model import OverviewData
from reports.parts import area_label, child_line, entries_story, esc, purpose_block, title_block
from rules.dialog_config import DialogConfig
from storage.models import Dialog


async def overview_data(session: AsyncSession, dialog: Dialog, round_no: int, config: DialogConfig,
                        settings: Settings, now: datetime, area: str | None = None) -> OverviewData:
    """Gather a round's shared input (never drafts, only this dialog's)."""
    return OverviewData(
        dialog=gather.dialog_info(dialog, settings), round_no=round_no,
        entries=await gather.round_entries(session, dialog, round_no, area or None),
        areas=tuple(config.areas), generated_at=now, area=area or None)


def render_overview(data: OverviewData) -> bytes:
    st = styles()
    d = data.dialog
    rows = [(_("Municipality"), esc(d.municipality)),
            (_("Round"), str(data.round_no)),
            (_("Printed"), esc(fmt_day(data.generated_at)))]
    if data.area:
        rows.insert(2, (_("Area"), esc(area_label(data.areas, data.area))))
    story: list[Flowable] = title_block(st, _("Overview of the dialog input"), child_line(d), rows)
    story += purpose_block(st, d)
    story.append(U(_("Shared input in round {round}").format(round=data.round_no), st.h2))
    if data.entries:
        story.append(U(_("Each row is one participant's input in the area, with the date it was shared."),
                       st.muted))
        story.append(Spacer(1, 6))
        story += entries_story(st, data.entries, data.areas)
    else:
        story.append(U(_("Nobody has shared input here yet."), st.body))
    footer = _("Overview · the dialog about {child} · round {round}").format(
        child=one_line(d.child_name), round=data.round_no)
    return build_pdf(story, Frame(d.municipality, footer), title=_("Overview of the dialog input"))


def overview_filename(data: OverviewData) -> str:
    return safe_filename(_("overview"), data.dialog.child_name, _("round"), str(data.round_no))

