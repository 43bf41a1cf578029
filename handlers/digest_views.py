"""The short lines of a coordinator's digest (bot/digest.py), for the most frequent routine notices.

Under the child's name in the digest, "Mette (Mor) har delt sit input" says it all; the
notice on its own ("... i dialogen om Emma", with hints and counts) is made by the flow's
renderer, which has already decided that the notice still stands when these are called.
"""

from __future__ import annotations

from aiogram import html
from aiogram.utils.i18n import gettext as _

from core import texts
from core.i18n import fmt_datetime
from core.notices import RenderContext, digest_line
from rules import consent as consent_rules
from storage.models import Consent, Meeting, Participant, Task


async def _who(ctx: RenderContext, participant_id: int) -> str | None:
    p = await ctx.session.get(Participant, participant_id)
    return texts.who(p) if p is not None else None


@digest_line("joined")
async def _joined(ctx: RenderContext, payload: dict) -> str | None:
    p = await ctx.session.get(Participant, payload["participant_id"])
    if p is None:
        return None
    line = _("{who} has opened the link.").format(who=texts.who(p))
    if p.opened_by and not p.consent_giver:  # the coordinator checks it is the right person
        line += " " + _("(Telegram account: {account})").format(account=html.quote(p.opened_by))
    return line


@digest_line("consent_answer")
async def _consent(ctx: RenderContext, payload: dict) -> str | None:
    consent = await ctx.session.get(Consent, payload["consent_id"])
    if consent is None or consent.answer != consent_rules.GIVEN:
        return None
    who = await _who(ctx, consent.participant_id)
    return _("{who} has given consent.").format(who=who) if who else None


@digest_line("dialog_open")
async def _open(ctx: RenderContext, payload: dict) -> str | None:
    return _("The dialog is open: the family has given consent.")


@digest_line("input_shared")
async def _shared(ctx: RenderContext, payload: dict) -> str | None:
    who = await _who(ctx, payload["participant_id"])
    return _("{who} has shared their input.").format(who=who) if who else None


@digest_line("meeting_rsvp")
async def _rsvp(ctx: RenderContext, payload: dict) -> str | None:
    who = await _who(ctx, payload["participant_id"])
    meeting = await ctx.session.get(Meeting, payload["meeting_id"])
    if who is None or meeting is None:
        return None
    text = _("{who} is coming to the meeting {when}.") if payload.get("coming") \
        else _("{who} can't come to the meeting {when}.")
    return text.format(who=who, when=fmt_datetime(meeting.starts_at))


@digest_line("task_done")
async def _task_done(ctx: RenderContext, payload: dict) -> str | None:
    task = await ctx.session.get(Task, payload["task_id"])
    if task is None:
        return None
    return _("✅ {who} has done a task: {what}").format(who=texts.who(task.owner), what=html.quote(task.what))
