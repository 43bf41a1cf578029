"""What the coordinator's pages of the Mini App show (web/coordinator.py): a new dialog, inviting
someone, calling a meeting (moving, cancelling it), closing it.

Server-rendered HTML, every value escaped by Jinja2 (the environment of web/views.py). The
texts are msgids here, in Python, so the catalog tool finds them; the templates only place them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from core.i18n import fmt_date, fmt_datetime
from core.labels import role_label
from rules.consent import PENDING, REFUSED
from rules.roles import AGE_GROUPS, COORDINATOR, INVITABLE, TELEGRAM_MIN_AGE, YOUNG
from services.meetings import Call, Called, Closed
from storage import meetings as mt
from storage.models import Dialog, Meeting, MeetingResponse, Participant
from web.views import env

LETTER = "letter"  # the download kind of an invitation letter (web/downloads.py)


@dataclass
class Filled:
    """What the person typed into a form, and what is wrong with it (field -> message)."""

    values: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def who(p: Participant) -> str:
    """'Mette Hansen (Mor)': the relation or title, else the role."""
    return f"{p.name} ({p.relation or role_label(p.role)})"


def _render(template: str, **values: object) -> str:
    return env.get_template(template).render(**values)


def _message(text: str | None, ok: bool) -> dict[str, object] | None:
    return {"text": text, "ok": ok} if text else None


# ---- coordinators only; a page without a dialog -------------------------------------------------


def not_coordinator() -> str:
    return _("Only a registered coordinator (tovholder) can do this. Ask your administrator for a registration link.")


def no_dialogs(locale: str, *, meetings: bool) -> str:
    """No dialog for this page: none open, or (`meetings`) none where the family has consented yet."""
    return _render("coord_none.html", lang=locale, t={
        "heading": _("No open dialog") if not meetings else _("No meeting yet"),
        "text": _("You have no open dialog right now.") if not meetings else _(
            "None of your dialogs can have a meeting yet. The family gives consent first."),
        "new": _("Open a new dialog")})


def choose(dialogs: list[Dialog], page: str) -> str:
    return _render("choose.html", page=page, dialogs=[
        {"id": d.id, "child": f"{d.child_name} (#{d.id})"} for d in dialogs], t={
        "heading": _("Which child is it about?"), "none": _("You have no open dialog right now.")})


# ---- what a form asks for, when it is left empty --------------------------------------------------


def ask_child() -> str:
    return _("Write the child's first name.")


def ask_age() -> str:
    return _("Choose the age group.")


def ask_purpose() -> str:
    return _("Write the purpose of the dialog.")


def ask_name() -> str:
    return _("Write the person's name.")


def ask_role() -> str:
    return _("Choose the person's role.")


def ask_relation() -> str:
    return _("Write how the person stands to the child, or their job title.")


def ask_date() -> str:
    return _("Choose the date of the meeting.")


def ask_place() -> str:
    return _("Write the place, or paste the video link.")


def attendance_problem() -> str:
    return _("Choose present, sent apologies or absent for each person.")


# ---- /page/ny ---------------------------------------------------------------------------------


def age_choice(age_group: str) -> str:
    """An age group as a choice of its own (as the chat's buttons), not inside a sentence."""
    return {"barn": _("Child (0-14 years)"), "ung": _("Young person (15-30 years)")}[age_group]


def new_dialog(filled: Filled, limits: dict[str, int]) -> str:
    return _render("ny.html", v=filled.values, problems=filled.problems, limits=limits,
                   ages=[{"key": a, "label": age_choice(a)} for a in AGE_GROUPS],
                   problem=_("Please check what is marked below.") if filled.problems else None,
                   t={"heading": _("New dialog"),
                      "child": _("The child's first name"),
                      "child_help": _("Only the first name – never a CPR number."),
                      "age": _("Age group"),
                      "purpose": _("The purpose of the dialog"),
                      "purpose_help": _("Write it the way you and the family talked about it, e.g. \"We want "
                                        "to work together so that Emma feels safe at school again.\""),
                      "open": _("Open the dialog")})


def dialog_opened(dialog: Dialog) -> str:
    return _render("ny_done.html", dialog_id=dialog.id, child=dialog.child_name,
                   age=age_choice(dialog.age_group), purpose=dialog.purpose,
                   t={"done": _("The dialog about {child} is open for invitations.").format(child=dialog.child_name),
                      "next": _("Now invite the participants – the parents with custody first, as they give "
                                "consent."),
                      "age": _("Age group"), "purpose": _("Purpose"), "number": _("Dialog no."),
                      "invite": _("Invite a participant")})


# ---- /page/inviter ------------------------------------------------------------------------------


@dataclass
class Link:
    """A personal link just made (its token is in no database: shown once)."""

    participant: Participant
    url: str
    expires_at: datetime
    fresh: bool = False  # a new link for someone invited earlier (the old one stops working)
    asked: list[Participant] | None = None  # the family is asked to approve the person


def _status(p: Participant) -> str:
    if p.approval == REFUSED:
        return _("The family said no")
    if p.approval == PENDING:
        return _("Waiting for the family's approval")
    if p.offline:
        return _("Without Telegram: you write for them")
    if p.joined_at is not None:
        return _("Has joined")
    return _("Invited – has not opened the link yet")


def invite_page(dialog: Dialog, waiting: list[Participant], filled: Filled, limits: dict[str, int], *,
                link: Link | None = None, offline_added: tuple[Participant, list[Participant] | None] | None = None,
                message: str | None = None, ok: bool = True) -> str:
    """The form to invite someone, what was just done, and everyone invited so far."""
    waiting_ids = {p.id for p in waiting if not p.offline}
    people = [{"id": p.id, "who": who(p), "status": _status(p), "waiting": p.id in waiting_ids}
              for p in sorted(dialog.participants, key=lambda p: p.id)
              if p.role != COORDINATOR and p.removed_at is None]
    just = None
    if link is not None:
        p = link.participant
        lines = [_("✅ {who} is invited.").format(who=who(p)) if not link.fresh else
                 _("A new link for {who} is made. The earlier link no longer works.").format(who=who(p))]
        if link.asked is not None:
            lines.append(_("The dialog has started, so the family decides: {names} will be asked to approve {name}. "
                           "The link only works once they have approved, and you will be told.").format(
                names=", ".join(a.name for a in link.asked), name=p.name))
        elif p.consent_giver and not link.fresh:
            lines.append(_("{name} gives consent: nobody else gets in before the consent givers have said yes.")
                         .format(name=p.name))
        just = {"lines": lines, "url": link.url, "participant": p.id,
                "pass_on": _("Pass on this personal link to {name}, e.g. by text message, e-mail, e-Boks or on "
                             "paper. It can be used once and expires on {date}.").format(
                    name=p.name, date=fmt_date(link.expires_at))}
    elif offline_added is not None:
        p, asked = offline_added
        lines = [_("✅ {who} takes part – without Telegram.").format(who=who(p)),
                 _("{name} gets no link. You write for {name} in the chat (/paa_vegne): their consent, their input "
                   "and their number on the ruler.").format(name=p.name)
                 if p.consent_giver else
                 _("{name} gets no link. You write for {name} in the chat (/paa_vegne): their input and their "
                   "number on the ruler.").format(name=p.name)]
        if asked is not None:
            lines.append(_("The dialog has started, so the family decides: {names} will be asked to approve {name}. "
                           "You will be told when they have answered.").format(
                names=", ".join(a.name for a in asked), name=p.name))
        just = {"lines": lines}
    return _render(
        "inviter.html", dialog_id=dialog.id, child=dialog.child_name, just=just, people=people,
        v=filled.values, problems=filled.problems, limits=limits, message=_message(message, ok),
        problem=_("Please check what is marked below.") if filled.problems else None,
        roles=[{"key": r, "label": role_label(r)} for r in INVITABLE], young=YOUNG,
        young_asks_age=dialog.age_group != "barn",
        t={"heading": _("Invite"),
           "copy_link": _("Copy the link"), "copied": _("Copied"),
           "copy_help": _("Tap the link to select it, or use the button."),
           "letter": _("Invitation letter (PDF)"),
           "busy": _("Getting the file …"), "saved": _("The file is on its way to your phone."),
           "failed": _("The file could not be fetched. Please try again."),
           "letter_help": _("For e-Boks or paper: the letter has a QR code with a new personal link. "
                            "The link above then stops working, so pass on one of them."),
           "form": _("Invite a person"), "again": _("Invite one more"),
           "name": _("Name"), "name_help": _("E.g. Mette Hansen"),
           "role": _("Role in the dialog"),
           "relation": _("Relation or job title"),
           "relation_help": _("Shown next to the name: e.g. Mother, Grandfather, Class teacher. "
                              "Not for the young person."),
           "offline": _("Takes part without Telegram (no link: you write for them)"),
           "over16": _("The young person is {age} or older (Telegram's minimum age in the EU)").format(
               age=TELEGRAM_MIN_AGE),
           "invite": _("Invite"),
           "people": _("Invited so far"), "nobody": _("Nobody is invited yet."),
           "new_link": _("New link"),
           "new_link_help": _("The link is only shown when it is made. A new link replaces the old one.")})


def person_gone() -> str:
    return _("That person has joined already, or is no longer invited.")


def under_16(age: int = TELEGRAM_MIN_AGE) -> str:
    return _("A child cannot get a link: Telegram requires users in the EU to be at least {age}. Tick \"Takes part "
             "without Telegram\": then you write for the child.").format(age=age)


def age_unknown(age: int = TELEGRAM_MIN_AGE) -> str:
    return _("Telegram requires users in the EU to be at least {age}. Tick that the young person is {age} or older, "
             "or tick \"Takes part without Telegram\".").format(age=age)


# ---- /page/indkald ------------------------------------------------------------------------------


def when(dt: datetime) -> str:
    return fmt_datetime(dt, "full")


def date_problem(code: str) -> str:
    """Why a meeting's date and time could not be used (rules.dates.DateParseError codes)."""
    return {
        "time_missing": _("Please choose a time as well."),
        "invalid_date": _("That date does not exist (or is too far ahead). Please check it."),
        "in_the_past": _("That time has already passed. Please choose a time that lies ahead."),
    }.get(code, _("The date or time cannot be read. Choose them again, e.g. 12/3/2027 and 14:00."))


def _answers(invitees: list[Participant], answers: dict[int, MeetingResponse]) -> tuple[list[dict[str, str]], str]:
    rows, counts = [], {"yes": 0, "no": 0, "open": 0}
    for p in invitees:
        r = answers.get(p.id)
        key = "open" if r is None else ("yes" if r.coming else "no")
        counts[key] += 1
        rows.append({"who": who(p), "answer": {"open": _("has not answered"), "yes": _("coming"),
                                               "no": _("can't come")}[key], "key": key})
    return rows, _("Answers so far: {yes} coming, {no} can't come, {open} not answered.").format(**counts)


def call_page(dialog: Dialog, filled: Filled, limits: dict[str, int], *, message: str | None = None,
              ok: bool = True) -> str:
    """No meeting is called: the form (date, time, place)."""
    return _render("indkald.html", dialog_id=dialog.id, child=dialog.child_name, meeting=None,
                   v=filled.values, problems=filled.problems, limits=limits, message=_message(message, ok),
                   problem=_("Please check what is marked below.") if filled.problems else None,
                   t=_call_texts())


def meeting_page(dialog: Dialog, meeting: Meeting, invitees: list[Participant], answers: dict[int, MeetingResponse],
                 filled: Filled, limits: dict[str, int], *, may_start: bool, message: str | None = None,
                 ok: bool = True) -> str:
    """The called meeting: when, where, who is coming; start (on the day), move, cancel. Or, when it
    is under way, the way to Mødetilstand and to closing it."""
    rows, counts = _answers(invitees, answers)
    return _render(
        "indkald.html", dialog_id=dialog.id, child=dialog.child_name, message=_message(message, ok),
        meeting={"id": meeting.id, "version": meeting.version, "when": when(meeting.starts_at),
                 "place": meeting.place, "open": meeting.status == mt.OPEN, "may_start": may_start,
                 "start_later": _("You can start the meeting on the day itself ({date}).").format(
                     date=fmt_date(meeting.starts_at))},
        answers=rows, counts=counts, v=filled.values, problems=filled.problems, limits=limits,
        problem=_("Please check what is marked below.") if filled.problems else None,
        t=_call_texts())


def _call_texts() -> dict[str, str]:
    return {
        "heading": _("Dialog meeting"),
        "new": _("Call a dialog meeting"),
        "new_help": _("Everyone who has joined gets an invitation and answers whether they are coming."),
        "date": _("Date"), "time": _("Time"),
        "place": _("Place or video link"), "place_help": _("E.g. Skolen, lokale 2"),
        "send": _("Send the invitation"),
        "called": _("The meeting is called"),
        "who": _("Who is coming?"), "nobody": _("Nobody has joined the dialog yet."),
        "start": _("Start the meeting"),
        "move": _("Move the meeting"),
        "move_help": _("Everyone is told and asked again whether they are coming."),
        "move_send": _("Move the meeting"),
        "cancel": _("Cancel the meeting"),
        "cancel_help": _("Everyone who was invited is told that the meeting is cancelled."),
        "cancel_yes": _("Yes, cancel the meeting"),
        "under_way": _("The meeting is under way."),
        "moede": _("Meeting mode: the ruler and the plan"),
        "close": _("Close the meeting"),
    }


def called(result: Called) -> str:
    """The answer to a meeting called or moved (services.meetings.call_meeting, move_meeting)."""
    if result.outcome is Call.MOVED and result.meeting is not None:
        return _("The meeting is moved to {when}. Everyone has been told and asked again whether they are "
                 "coming.").format(when=when(result.meeting.starts_at))
    return ngettext("The invitation is sent to {count} participant. You see their answer here.",
                    "The invitation is sent to {count} participants. You see their answers here.",
                    result.invited).format(count=result.invited)


def meeting_changed() -> str:
    return _("The meeting has changed in the meantime. The page shows it as it is now.")


def already_called() -> str:
    return _("A meeting is already called in this dialog. You can move it or cancel it here.")


def cancelled() -> str:
    return _("The meeting is cancelled, and everyone has been told. You can call a new one.")


# ---- /page/afslut and starting the meeting ------------------------------------------------------


def no_meeting(dialog: Dialog) -> str:
    return _render("afslut_none.html", dialog_id=dialog.id, child=dialog.child_name, t={
        "heading": _("Close the meeting"),
        "text": _("No meeting is under way in this dialog."),
        "call": _("Call a dialog meeting")})


def too_early(meeting: Meeting) -> str:
    return _("The meeting can be started on the day itself ({date}).").format(date=fmt_date(meeting.starts_at))


def not_started() -> str:
    return _("The meeting has not started yet. Start it first.")


def started() -> str:
    return _("The meeting has started. Set the joint goal and make the plan here; close the meeting when you "
             "are done.")


def attendance_label(status: str) -> str:
    return {mt.PRESENT: _("Present"), mt.APOLOGIES: _("Sent apologies"), mt.ABSENT: _("Absent")}[status]


def close_page(dialog: Dialog, meeting: Meeting, people: list[Participant], marks: dict[int, str], filled: Filled,
               limits: dict[str, int], *, message: str | None = None, ok: bool = True) -> str:
    """Closing the open meeting: who was there, a summary, the case number."""
    return _render(
        "afslut.html", dialog_id=dialog.id, child=dialog.child_name, meeting_id=meeting.id,
        when=when(meeting.starts_at), place=meeting.place, message=_message(message, ok),
        people=[{"id": p.id, "who": who(p), "mark": marks.get(p.id, mt.ABSENT)} for p in people],
        statuses=[{"key": s, "label": attendance_label(s)} for s in mt.ATTENDANCE],
        v=filled.values, problems=filled.problems, limits=limits,
        problem=_("Please check what is marked below.") if filled.problems else None,
        t={"heading": _("Close the meeting"),
           "who": _("Who was there?"),
           "who_help": _("Filled in from the answers to the invitation. Change what is not right."),
           "nobody": _("Nobody but you was invited."),
           "summary": _("Summary (optional)"),
           "summary_help": _("What was discussed and decided. It goes in the minutes (referat)."),
           "case_ref": _("Case number (optional)"),
           "case_ref_help": _("The municipality's case number, on the minutes. Never a CPR number."),
           "close": _("Close the meeting and send the minutes"),
           "close_help": _("The round ends and the next begins. Everyone gets the minutes (referat)."),
           "moede": _("Back to meeting mode")})


def case_ref_problem(problem: str, limit: int) -> str:
    from core import texts

    if problem == "cpr":
        return texts.cpr_refused()
    if problem == "too_long":
        return texts.too_long(limit)
    return _("Please write the case number with letters or digits.")


def meeting_closed(dialog: Dialog, result: Closed) -> str:
    return _render("afslut_done.html", dialog_id=dialog.id, child=dialog.child_name, t={
        "heading": _("Dialog meeting"), "done": _("The meeting is closed."),
        "round": _("Round {next} has begun: before the next meeting everyone gives new input and puts their "
                   "number on the ruler again.").format(next=result.next_round),
        "minutes": _("Everyone in the dialog gets the minutes (referat). When the family agrees to the plan, "
                     "they get a new edition with the plan."),
        "plan": _("Remember to send the plan to the family."),
        "moede": _("Meeting mode: the plan"),
        "call": _("Call the next meeting")})
