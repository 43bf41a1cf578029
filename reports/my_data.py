"""`/mine_data`'s readable PDF: everything stored about a person and written by them.

Plain data in (the export, storage.privacy.export_person, and its labels translated
beforehand in the person's language), bytes out; run in a worker thread. The font is the
one every Samspil PDF embeds (reports/common.py), and one document is built at a time.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from html import unescape
from typing import Any
from xml.sax.saxutils import escape

from aiogram.utils.i18n import gettext as _

from core.i18n import fmt_date, fmt_datetime
from core.labels import box_title, role_label
from reports.common import FONT, FONT_BOLD, RENDER_LOCK, current_locale, register_fonts
from rules import consent as consent_rules
from rules.dialog_config import DialogConfig

_TAG = re.compile(r"<[^>]+>")


def labels(config: DialogConfig, now: datetime) -> dict[str, Any]:
    """Every text the PDF needs, translated in the current language before the worker thread
    (the chat's /mine_data and the Mini App's download use the same)."""
    loc = current_locale()
    return {
        "title": _("Your data in Samspil"),
        "intro": _("Everything Samspil stores about you and everything you have written, on {date}."),
        "exported": fmt_datetime(now),
        "person": _("About you"), "name": _("Name"), "telegram": _("Telegram id"),
        "language": _("Language"), "created": _("Registered"), "role": _("Role"),
        "seats": _("Your dialogs"), "consents": _("Your consent answers"),
        "shown": _("What you were shown"), "approvals": _("Your answers about new participants"),
        "input": _("Your input"), "draft": _("draft – only you can see it"), "shared": _("shared"),
        "scores": _("Your scores"), "meetings": _("Your answers to meeting invitations"),
        "plan_answers": _("Your answers to plans"), "tasks": _("Your tasks"),
        "audit": _("Log of your actions"), "none": _("Nothing."),
        "coming": _("coming"), "not_coming": _("not coming"), "agrees": _("agreed"),
        "comment": _("comment"), "approved": _("approved"), "refused": _("refused"),
        "dialog": _("The dialog about {child}"),
        "boxes": {box: box_title(box) for box in ("worries", "works", "next_steps")},
        "answers": {
            consent_rules.GIVEN: _("consent given"),
            consent_rules.TALK_FIRST: _("wanted to talk to the coordinator first"),
            consent_rules.DECLINED: _("said no thanks"),
            consent_rules.WITHDRAWN: _("consent withdrawn"),
        },
        "roles": {r: role_label(r) for r in ("coordinator", "parent_custody", "parent", "young",
                                               "professional", "network")},
        "areas": {a.key: a.label(loc) for a in config.areas},
    }


def render_my_data(data: dict[str, Any], labels: dict[str, Any]) -> bytes:
    """A plain, readable PDF of the export (reportlab, DejaVu Sans)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    register_fonts()
    with RENDER_LOCK:
        font, bold = FONT, FONT_BOLD
        body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
        small = ParagraphStyle("small", parent=body, fontSize=8.5, leading=11)
        h1 = ParagraphStyle("h1", fontName=bold, fontSize=18, leading=22, spaceAfter=8)
        h2 = ParagraphStyle("h2", fontName=bold, fontSize=13, leading=17, spaceBefore=12, spaceAfter=4)
        L = labels

        def p(text: Any, style: ParagraphStyle = body) -> Paragraph:
            return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)

        def kv(label: str, value: Any) -> Paragraph:
            mark = "" if label.endswith(("?", ":")) else ":"
            return Paragraph(f"<font name='{bold}'>{escape(label)}{mark}</font> "
                             + escape(str(value if value is not None else "–")).replace("\n", "<br/>"), body)

        def plain(html_text: str) -> str:
            return unescape(_TAG.sub("", html_text or ""))

        def when(iso: str | None) -> str:
            """An ISO time or date from the export, in the reader's language and time zone."""
            if not iso:
                return "–"
            if len(iso) == 10:
                return fmt_date(date.fromisoformat(iso))
            return fmt_datetime(datetime.fromisoformat(iso))

        dialogs = {s["dialog_id"]: s["child"] for s in data["seats"]}

        def dialog_name(dialog_id: int) -> str:
            return L["dialog"].format(child=dialogs.get(dialog_id, f"#{dialog_id}"))

        story: list[Any] = [p(L["title"], h1), p(L["intro"].format(date=L["exported"]), small), Spacer(1, 6)]
        person = data["person"]
        story += [p(L["person"], h2), kv(L["name"], person["name"]), kv(L["telegram"], person["telegram_id"]),
                  kv(L["language"], person["language"]), kv(L["created"], when(person["created_at"]))]
        story.append(p(L["seats"], h2))
        for s in data["seats"] or [None]:
            if s is None:
                story.append(p(L["none"]))
                continue
            story.append(p(f"{dialog_name(s['dialog_id'])}: {s['name']} – {L['roles'].get(s['role'], s['role'])}"
                           + (f" ({s['relation']})" if s["relation"] else "")))
        story.append(p(L["consents"], h2))
        for c in data["consents"] or [None]:
            if c is None:
                story.append(p(L["none"]))
                continue
            story.append(kv(f"{when(c['at'])} · {dialog_name(c['dialog_id'])}", L["answers"].get(c["answer"], c["answer"])))
            story.append(p(f"{L['shown']}: {plain(c['text_shown'])}", small))
        if data["approvals_given"]:
            story.append(p(L["approvals"], h2))
            for a in data["approvals_given"]:
                story.append(p(f"{when(a['at'])} · {dialog_name(a['dialog_id'])}: "
                               f"{L['approved'] if a['approved'] else L['refused']}"))
        story.append(p(L["input"], h2))
        for e in data["input_entries"] or [None]:
            if e is None:
                story.append(p(L["none"]))
                continue
            status = L["shared"] if e["status"] == "shared" else L["draft"]
            story.append(Paragraph(f"<font name='{bold}'>{escape(L['areas'].get(e['area'], e['area']))}</font>"
                                   f" · {escape(dialog_name(e['dialog_id']))} · {escape(status)}"
                                   f" · {escape(when(e['shared_at'] or e['updated_at']))}", body))
            for box in ("worries", "works", "next_steps"):
                if e[box]:
                    story.append(kv(L["boxes"][box], e[box]))
            story.append(Spacer(1, 4))
        story.append(p(L["scores"], h2))
        for s in data["scores"] or [None]:
            story.append(p(L["none"]) if s is None else p(f"{when(s['at'])} · {dialog_name(s['dialog_id'])}: {s['value']}"))
        if data["meeting_responses"]:
            story.append(p(L["meetings"], h2))
            for r in data["meeting_responses"]:
                story.append(p(f"{when(r['meeting_starts_at'])} · {dialog_name(r['dialog_id'])}: "
                               f"{L['coming'] if r['coming'] else L['not_coming']}"))
        if data["plan_answers"]:
            story.append(p(L["plan_answers"], h2))
            for a in data["plan_answers"]:
                line = f"{when(a['at'])} · {dialog_name(a['dialog_id'])}: " + (L["agrees"] if a["agrees"] else L["comment"])
                story.append(p(line + (f" – {a['comment']}" if a["comment"] else "")))
        if data["tasks"]:
            story.append(p(L["tasks"], h2))
            for t in data["tasks"]:
                story.append(p(f"{dialog_name(t['dialog_id'])}: {t['what']} ({when(t['starts_on'])} – {when(t['ends_on'])})"))
        if data["audit"]:
            story.append(p(L["audit"], h2))
            for a in data["audit"]:
                story.append(p(f"{when(a.get('at'))} · {a.get('action')} · #{a.get('dialog_id') or ''}", small))

        out = io.BytesIO()
        doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=2 * cm,
                                bottomMargin=2 * cm, title=L["title"], author="Samspil")
        doc.build(story)
        return out.getvalue()
