"""What the Mini App's pages show: server-rendered HTML, every value escaped by Jinja2.

Texts go through the same gettext catalogs as the chat (msgids here, in Python, so the
catalog tool finds them); the templates only place them.
"""

from __future__ import annotations

from pathlib import Path

from aiogram.utils.i18n import gettext as _
from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.i18n import fmt_date
from core.labels import box_title, role_label
from reports.model import Who
from rules.access import Decision
from rules.dialog_config import Area, Ruler
from services.meeting_room import Room
from services.overblik import Overblik
from storage.inputs import BOXES
from storage.models import InputEntry, Participant
from web import svg

TEMPLATES = Path(__file__).resolve().parent / "templates"

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)


def who_label(w: Who) -> str:
    return f"{w.name} ({w.relation or role_label(w.role)})"


def shell(locale: str) -> str:
    """The page Telegram opens: no personal data; app.js fetches the content with initData."""
    return env.get_template("shell.html").render(
        lang=locale, title="Samspil", loading=_("Loading …"),
        failed=_("The page could not be loaded. Please try again."),
        no_script=_("This page needs JavaScript. You can still do everything in the chat."))


def error(message: str, locale: str) -> str:
    return env.get_template("error.html").render(lang=locale, message=message)


def overblik(data: Overblik, locale: str) -> str:
    d = data.dialog
    people = {w.id: w for w in data.participants}
    current = next((r for r in reversed(data.history) if r.scores), None)
    latest_round = data.history[-1] if data.history else None
    marks = [(people[pid].name, v) for pid, v in sorted(current.scores.items())] if current else []
    target = next((r.target for r in reversed(data.history) if r.target is not None), None)
    rounds = [r.round_no for r in data.history if r.scores or r.target is not None]
    lines = []
    for w in data.participants:
        by_round = {r.round_no: r.scores[w.id] for r in data.history if w.id in r.scores}
        if by_round:
            lines.append((w.name, by_round))
    targets = {r.round_no: r.target for r in data.history if r.target is not None}

    areas = []
    for area in data.areas:
        entries = [e for e in data.entries if e.area == area.key]
        if not entries:
            continue
        boxes = []
        for box in BOXES:
            items = [{"who": who_label(e.author), "when": fmt_date(e.shared_at, "short"),
                      "text": getattr(e, box)} for e in entries if getattr(e, box).strip()]
            boxes.append({"title": box_title(box), "items": items})
        areas.append({"label": area.label(locale), "boxes": boxes})

    status = {"open": _("Not done yet"), "done": _("Done"), "help": _("Needs help")}
    goals = [{"text": g.text, "area": next((a.label(locale) for a in data.areas if a.key == g.area), ""),
              "tasks": [{"what": t.what, "who": who_label(t.owner), "status": status.get(t.status, t.status),
                         "done": t.status == "done",
                         "when": _("{start} to {end}").format(start=fmt_date(t.starts_on, "short"),
                                                              end=fmt_date(t.ends_on, "short"))}
                        for t in g.tasks]}
             for g in data.plan.goals]
    return env.get_template("overblik.html").render(
        lang=locale,
        child=d.child_name,
        t={
            "heading": _("Overview"),
            "ruler": _("The ruler now"),
            "ruler_help": _("Everyone's number on the ruler. 1 is best. The higher the number, the bigger the worry."),
            "no_numbers": _("Nobody has put their number on the ruler yet."),
            "target": _("Joint goal on the ruler"),
            "history": _("The numbers over time"),
            "input": _("What everyone has shared"),
            "no_input": _("Nobody has shared their input yet."),
            "plan": _("Goals and plan"),
            "no_plan": _("There is no plan yet."),
            "plan_agreed": _("The family has agreed to the plan."),
            "plan_proposed": _("The plan is a proposal. The family has not agreed to it yet."),
            "fields": _("What the numbers mean"),
        },
        ruler_svg=svg.ruler_now(data.ruler, marks, target, locale, _("Goal")) if (marks or target) else "",
        marks=[{"who": who_label(people[pid]), "value": v} for pid, v in sorted(current.scores.items())]
        if current else [],
        target=target,
        fields=[{"range": f"{f.low}-{f.high}", "name": f.name(locale), "colour": f.colour, "emoji": f.emoji}
                for f in data.ruler.fields],
        chart_svg=svg.history_chart(rounds, lines, targets, _("Meeting")) if len(rounds) > 1 else "",
        areas=areas,
        goals=goals,
        plan_agreed=data.plan.accepted,
        has_round=latest_round is not None,
    )


def ruler_page(seat: Participant, ruler: Ruler, locale: str, *, saved: int | None = None,
               problem: str | None = None, current: int | None = None) -> str:
    """Linealen: tap a number, read what that field means, then save it."""
    dialog = seat.dialog
    values = []
    for v in range(1, 11):
        f = ruler.field_for(v)
        values.append({"value": v, "emoji": f.emoji, "name": f.name(locale), "description": f.description(locale)})
    saved_field = ruler.field_for(saved) if saved is not None else None
    return env.get_template("linealen.html").render(
        child=dialog.child_name, dialog_id=dialog.id, round_no=dialog.round_no, values=values,
        problem=problem, checked=saved if saved is not None else current,
        now=_("Your number now is {value}. You can change it until the meeting.").format(value=current)
        if current is not None and saved is None else None,
        saved=_("Saved: your number is {value} ({field}). The others can see it.").format(
            value=saved, field=saved_field.name(locale)) if saved_field else None,
        t={"heading": _("The ruler"),
           "question": _("Where is {child} right now? Tap a number.").format(child=dialog.child_name),
           "low": _("1 = all is well"), "high": _("10 = very worried"),
           "save": _("Save my number"), "legend": _("Your number")})


def plain_refusal(decision: Decision, seat: Participant | None) -> str:
    from markupsafe import Markup

    from core import texts  # the chat's words for a refusal

    return str(Markup(texts.refusal(decision.refusal, seat.dialog if seat else None)).striptags())


def input_areas(seat: Participant, areas: list[Area], drafts: set[str], locale: str) -> str:
    dialog = seat.dialog
    return env.get_template("input_areas.html").render(
        child=dialog.child_name, dialog_id=dialog.id,
        areas=[{"key": a.key, "label": a.label(locale), "draft": a.key in drafts} for a in areas],
        t={"heading": _("Write input"), "choose": _("Choose what you want to write about."),
           "draft": _("draft")})


def input_area(seat: Participant, area: Area, entry: InputEntry | None, locale: str, *,
               problem: str | None = None) -> str:
    dialog = seat.dialog
    boxes = [{"box": b, "title": box_title(b), "text": (getattr(entry, b) or "") if entry else "",
              "help": {"worries": _("What are you worried about?"), "works": _("What works well?"),
                       "next_steps": _("What would you like to happen?")}[b]} for b in BOXES]
    return env.get_template("input_area.html").render(
        child=dialog.child_name, dialog_id=dialog.id, area=area.key, area_label=area.label(locale),
        boxes=boxes, problem=problem,
        t={"private": _("Only you can see what you write here, until you share it. It is saved as you write."),
           "share": _("Share input with the participants"),
           "share_help": _("When you share, the others can read it with your name and the date."),
           "back": _("Other areas")})


def input_shared(seat: Participant, area: Area, locale: str) -> str:
    dialog = seat.dialog
    return env.get_template("input_shared.html").render(
        child=dialog.child_name, dialog_id=dialog.id,
        t={"done": _("Your input about {area} is shared. Thank you.").format(area=area.label(locale)),
           "next": _("Put your number on the ruler"), "more": _("Write about another area")})


def meeting_room(room: Room, areas: list[Area], locale: str, *, message: str | None = None, ok: bool = True) -> str:
    """Mødetilstand: the joint ruler with the target set by tapping, and the plan table."""
    dialog = room.seat.dialog
    people = {p.id: p for p in dialog.participants}
    marks = [(people[pid].name, v) for pid, v in sorted(room.numbers.items()) if pid in people]
    area_label = {a.key: a.label(locale) for a in areas}
    owners = [{"id": p.id, "label": f"{p.name} ({p.relation or role_label(p.role)})"} for p in room.owners]
    status = {"open": _("Not done yet"), "done": _("Done"), "help": _("Needs help")}
    goals = [{"id": g.id, "text": g.text, "area": area_label.get(g.area, ""),
              "tasks": [{"id": t.id, "what": t.what, "owner": t.owner_id, "start": t.starts_on.isoformat(),
                         "end": t.ends_on.isoformat(), "status": status.get(t.status, t.status),
                         "owner_label": next((o["label"] for o in owners if o["id"] == t.owner_id), ""),
                         "when": _("{start} to {end}").format(start=fmt_date(t.starts_on, "short"),
                                                              end=fmt_date(t.ends_on, "short"))}
                        for t in g.tasks]} for g in room.goals]
    return env.get_template("moede.html").render(
        child=dialog.child_name, dialog_id=dialog.id, message=message, ok=ok,
        meeting_open=room.meeting is not None and room.meeting.status == "open",
        scheduled_id=room.meeting.id if room.meeting is not None and room.meeting.status == "scheduled" else None,
        ruler_svg=svg.ruler_now(room.ruler, marks, room.target, locale, _("Goal")),
        marks=[{"who": f"{people[pid].name} ({people[pid].relation or role_label(people[pid].role)})",
                "value": v} for pid, v in sorted(room.numbers.items()) if pid in people],
        target=room.target, values=range(1, 11), goals=goals, owners=owners,
        areas=[{"key": a.key, "label": a.label(locale)} for a in areas], plan_agreed=room.plan_agreed,
        t={"heading": _("Meeting mode"), "ruler": _("The ruler now"), "target": _("Joint goal on the ruler"),
           "set_target": _("Set the joint goal"), "not_open": _("When the meeting has started, you can set the joint "
                                                             "goal here."),
           "no_numbers": _("Nobody has put their number on the ruler yet."),
           "plan": _("Goals and plan"), "no_plan": _("There is no plan yet."),
           "goal": _("Goal"), "area": _("Area"), "add_goal": _("Add goal"), "task": _("Task"),
           "who": _("Responsible"), "start": _("Start"), "end": _("End"), "add_task": _("Add task"),
           "save": _("Save"), "remove": _("Remove"), "edit": _("Change"),
           "send": _("Send the plan to the family"),
           "agreed": _("The family has agreed to the plan."),
           "send_help": _("The family says yes to the plan in the chat."),
           "open_meeting": _("Start the meeting")})


def choose_dialog(dialogs: list[tuple[int, str]], page: str, locale: str) -> str:
    """The person's dialogs, to pick one (or: none to show)."""
    return env.get_template("choose.html").render(
        page=page, dialogs=[{"id": d, "child": child} for d, child in dialogs],
        t={"heading": _("Which child is it about?"), "none": _("You are not in an open dialog right now.")})
