"""What the family's pages show: the consent card, the meeting invitation, the plan, the documents.

Server-rendered fragments (web/templates/, every value escaped by Jinja2); every text goes
through gettext here, in Python, so the catalog tool finds it. The consent card is built
as sections: the page shows them, and the same sections as plain text are what is stored
as shown (services.consent), so what a person consented to is exactly what they read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from aiogram.utils.i18n import gettext as _

from core.config import Settings
from core.i18n import fmt_date, fmt_datetime
from core.labels import role_label
from core.texts import retention_period
from rules import consent as consent_rules
from rules.dialog_config import Area
from services.consent import fingerprint
from storage import plan as pl
from storage.models import Dialog, Goal, Meeting, Participant, Person
from web.views import env


def label(p: Participant) -> str:
    """'Mette (Mor)': the name and how they stand (plain: the template escapes)."""
    return f"{p.name} ({p.relation or role_label(p.role)})"


def contact_lines(coordinator: Person | None) -> list[str]:
    if coordinator is None:
        return []
    lines = []
    if coordinator.contact_phone:
        lines.append(_("Phone: {phone}").format(phone=coordinator.contact_phone))
    if coordinator.contact_email:
        lines.append(_("E-mail: {email}").format(email=coordinator.contact_email))
    if coordinator.contact_hours:
        lines.append(_("Best reached: {hours}").format(hours=coordinator.contact_hours))
    return lines


# ---- the consent card ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    heading: str
    lines: list[str]
    listed: bool = False  # shown as a list


@dataclass(frozen=True)
class Card:
    sections: list[Section]
    listed: list[str]  # who takes part, as shown

    @property
    def text(self) -> str:
        """The card as plain text: what is stored as shown."""
        return "\n\n".join("\n".join([s.heading, *(f"• {line}" if s.listed else line for line in s.lines)])
                           for s in self.sections)

    @property
    def shown(self) -> str:
        return fingerprint(self.text)


def consent_card(dialog: Dialog, seat: Participant, coordinator: Person | None, settings: Settings) -> Card:
    """Purpose, who takes part, what is stored, for how long, by whom, that it is voluntary and
    how to withdraw, and how to reach the coordinator (GDPR art. 7(3) and 13), as the chat's card."""
    others = [p for p in dialog.participants if p.role != "coordinator"
              and p.approval not in (consent_rules.PENDING, consent_rules.REFUSED)]
    listed = [label(p) for p in others]
    coordinator_name = (coordinator.name or "") if coordinator else ""
    municipality = settings.municipality_name or _("The municipality")
    data = [_("We keep what you write, your number and your answers. {municipality} is responsible for "
              "your data. It is deleted {period} after the dialog is closed.").format(
        municipality=municipality, period=retention_period(settings))]
    if settings.municipality_privacy_contact.strip():
        data.append(_("Questions about your data: {contact}").format(
            contact=settings.municipality_privacy_contact.strip()))
    sections = [
        Section(_("Hi {name}").format(name=seat.name), [_(
            "{coordinator} has invited you to a dialog where we work together to support "
            "{child}'s development and wellbeing.").format(coordinator=coordinator_name, child=dialog.child_name)]),
        Section(_("The purpose of the dialog ({date})").format(date=fmt_date(dialog.purpose_updated_at)),
                [dialog.purpose]),
        Section(_("Coordinator"), [coordinator_name, *contact_lines(coordinator)]),
        Section(_("Invited"), listed, listed=True),
        Section(_("What happens"), [_(
            "Each of you writes what worries you, what works well and what should happen. "
            "You also give your number on the ruler. Only the people above see what you share.")]),
        Section(_("Your data"), data),
        Section(_("You decide"), [_(
            "Saying yes is voluntary. You can withdraw your consent at any time on this page. "
            "Then the dialog pauses at once. Nobody can see anything in it, and nothing more is shared.")]),
        Section(_("Your answer"), [_("Do you give your consent for the people invited to take part?")]),
    ]
    return Card(sections, listed)


def withdraw_card(dialog: Dialog) -> Card:
    """What a consent giver confirms when withdrawing (stored as shown with the withdrawal)."""
    return Card([Section(_("Withdraw your consent to the dialog about {child}?").format(child=dialog.child_name), [
        _("If you withdraw it:"),
        _("The dialog pauses at once. Nobody can read or write anything in it, and no reminders are sent."),
        _("Your coordinator is told."),
        _("What has been written is kept. But nobody can see it while the dialog is paused."),
        _("You can give your consent again at any time on this page. Then the dialog continues."),
    ])], [])


def _answer_words() -> dict[str, str]:
    return {consent_rules.GIVEN: _("Yes, I give my consent"),
            consent_rules.TALK_FIRST: _("I want to talk to the coordinator first"),
            consent_rules.DECLINED: _("No thanks")}


def consent_page(dialog: Dialog, card: Card, locale: str, *, latest: str | None = None,
                 problem: str | None = None) -> str:
    """The card with its three answers (a consent giver who has not said yes)."""
    now = {consent_rules.TALK_FIRST: _("You have said you want to talk to the coordinator first."),
           consent_rules.DECLINED: _("You have said no thanks. You can change your answer here."),
           consent_rules.WITHDRAWN: _("You have withdrawn your consent. You can give it again here.")}.get(latest or "")
    return env.get_template("samtykke.html").render(
        lang=locale, dialog_id=dialog.id, child=dialog.child_name, sections=card.sections, shown=card.shown,
        answers=list(_answer_words().items()), status=now, problem=problem,
        t={"heading": _("Consent")})


@dataclass(frozen=True)
class Newcomer:
    """Someone added after the start whom this consent giver has not answered about yet."""

    id: int
    text: str  # who would like to add whom, as the chat's card says it


def newcomer(p: Participant, coordinator: Person | None) -> Newcomer:
    return Newcomer(p.id, _("{coordinator} would like to add {who} ({role}) to the dialog. The family decides who "
                            "takes part: {name} only gets in when the parents with custody (or the young person) "
                            "have approved. Do you approve?").format(
        coordinator=(coordinator.name or "") if coordinator else "", who=label(p), role=role_label(p.role),
        name=p.name))


def consent_given_page(dialog: Dialog, given_at: datetime | None, locale: str, *, message: str | None = None,
                       links: bool = False, newcomers: list[Newcomer] | None = None, ok: bool = True) -> str:
    return env.get_template("samtykke_givet.html").render(
        lang=locale, dialog_id=dialog.id, child=dialog.child_name, message=message, links=links, ok=ok,
        given=_("You gave your consent {when}.").format(when=fmt_datetime(given_at)) if given_at else None,
        newcomers=newcomers or [],
        t={"heading": _("Consent"), "newcomer": _("A new participant?"), "approve": _("✅ Approve"),
           "refuse": _("✖️ Refuse"),
           "withdraw_help": _("You can withdraw your consent at any time. Then the dialog pauses at once."),
           "withdraw": _("Withdraw my consent"), "input": _("Write input"), "ruler": _("Put your number on the ruler"),
           "overview": _("See the overview")})


def withdraw_page(dialog: Dialog, card: Card, locale: str) -> str:
    return env.get_template("samtykke_traek.html").render(
        lang=locale, dialog_id=dialog.id, child=dialog.child_name, sections=card.sections, shown=card.shown,
        t={"heading": _("Consent"), "yes": _("Yes, withdraw my consent"), "no": _("No, keep my consent")})


def consent_answered_page(dialog: Dialog, locale: str, *, message: str, contact: list[str] | None = None,
                          ok: bool = True) -> str:
    return env.get_template("samtykke_svar.html").render(
        lang=locale, dialog_id=dialog.id, child=dialog.child_name, message=message, contact=contact or [],
        ok=ok, t={"heading": _("Consent")})


def about_page(dialog: Dialog | None, coordinator: Person | None, locale: str, *, message: str) -> str:
    """For someone who does not give consent: what the dialog is (or, before the family's yes,
    only that it waits: no name)."""
    people = []
    if dialog is not None:
        people = [label(p) for p in dialog.participants if p.role != "coordinator"
                  and p.approval not in (consent_rules.PENDING, consent_rules.REFUSED)]
    return env.get_template("samtykke_om.html").render(
        lang=locale, child=dialog.child_name if dialog else None, purpose=dialog.purpose if dialog else None,
        coordinator=(coordinator.name if coordinator else None) if dialog else None,
        contact=contact_lines(coordinator) if dialog else [], people=people, message=message,
        t={"heading": _("Consent"), "purpose": _("The purpose of the dialog"), "coordinator": _("Coordinator"),
           "invited": _("Invited")})


# ---- the meeting invitation ----------------------------------------------------------------------


def meeting_page(seat: Participant, meeting: Meeting | None, coordinator: Person | None, coming: bool | None,
                 locale: str, *, message: str | None = None, ok: bool = True) -> str:
    dialog = seat.dialog
    leads = (coordinator.name or "") if coordinator else ""
    answer = None if coming is None else _("Your answer: I'm coming.") if coming else _("Your answer: I can't come.")
    return env.get_template("svar.html").render(
        lang=locale, dialog_id=dialog.id, child=dialog.child_name, message=message, ok=ok,
        meeting=meeting, when=fmt_datetime(meeting.starts_at, "full") if meeting else None,
        place=meeting.place if meeting else None, open=meeting is not None and meeting.status == "open",
        leading=seat.role == "coordinator", coming=coming, answer=answer,
        t={"heading": _("Dialog meeting"),
           "none": _("No meeting is planned yet. You will be told when the coordinator calls one."),
           "when": _("Time"), "place": _("Place"),
           "leads": _("{coordinator} leads the meeting.").format(coordinator=leads),
           "what": _("We go through your input and numbers. We set a joint goal on the ruler and make a plan "
                     "together."),
           "question": _("Are you coming?"), "yes": _("I'm coming"), "no": _("I can't come"),
           "no_answer": _("You have not answered yet."),
           "going_on": _("The meeting is going on now."),
           "you_lead": _("You lead this meeting.")})


# ---- the plan ------------------------------------------------------------------------------------


@dataclass
class PlanView:
    seat: Participant
    goals: list[Goal]
    areas: list[Area]
    may_answer: bool = False  # a consent giver the current version was sent to, who has not agreed
    agreed_by_me: bool = False
    waiting: list[Participant] = field(default_factory=list)  # consent givers yet to agree


def plan_page(view: PlanView, locale: str, *, message: str | None = None, ok: bool = True,
              comment: str = "") -> str:
    dialog = view.seat.dialog
    area_label = {a.key: a.label(locale) for a in view.areas}
    status = {pl.OPEN: _("Not done yet"), pl.DONE: _("Done"), pl.HELP: _("Needs help")}
    goals = [{"text": g.text, "area": area_label.get(g.area, ""),
              "tasks": [{"what": t.what, "who": label(t.owner), "status": status.get(t.status, t.status),
                         "done": t.status == pl.DONE,
                         "when": _("{start} to {end}").format(start=fmt_date(t.starts_on, "short"),
                                                              end=fmt_date(t.ends_on, "short"))}
                        for t in g.tasks]} for g in view.goals]
    if not view.goals:
        state = None
    elif pl.is_accepted(dialog):
        state = _("The family has agreed to the plan.")
    else:
        state = _("The plan is a proposal. The family has not agreed to it yet.")
    waiting = ", ".join(p.name for p in view.waiting)
    return env.get_template("plan.html").render(
        lang=locale, dialog_id=dialog.id, child=dialog.child_name, version=dialog.plan_version, goals=goals,
        state=state, message=message, ok=ok, may_answer=view.may_answer, comment=comment,
        mine=_("You have agreed to the plan. It is in force when {names} has agreed as well.").format(names=waiting)
        if view.agreed_by_me and waiting else None,
        t={"heading": _("Goals and plan"),
           "none": _("There is no plan yet. The plan is made together at the dialog meeting."),
           "question": _("Do you agree to the plan?"),
           "agree": _("I agree"), "comment_label": _("Your comment on the plan"),
           "comment_help": _("The coordinator gets it and will get back to you."),
           "send": _("Send my comment")})


# ---- the documents -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    kind: str
    ref: int
    title: str
    detail: str = ""


def documents_page(dialog: Dialog | None, docs: list[Doc], mine: list[Doc], locale: str, *,
                   refusal: str | None = None, others: list[tuple[int, str]] | None = None) -> str:
    return env.get_template("dokumenter.html").render(
        lang=locale, dialog_id=dialog.id if dialog else "", child=dialog.child_name if dialog else None,
        docs=docs, mine=mine, refusal=refusal, others=others or [],
        t={"heading": _("Documents"), "none": _("There are no documents yet. The minutes come after a meeting."),
           "mine": _("Your own data"),
           "mine_help": _("Everything Samspil stores about you and everything you have written."),
           "download": _("Download"), "busy": _("Getting the file …"),
           "saved": _("The file is on its way to your phone."),
           "failed": _("The file could not be fetched. Please try again."),
           "others": _("Your other dialogs")})


def referat_doc(meeting: Meeting) -> Doc:
    return Doc("referat", meeting.id, _("Minutes of the dialog meeting {date}").format(
        date=fmt_date(meeting.starts_at)), _("Who was there, what was decided, the ruler and the plan."))


def overview_doc(dialog: Dialog, round_no: int) -> Doc:
    # round_no is the document's reference, not shown: families never meet the word "runde".
    return Doc("overblik", dialog.id, _("Overview of the shared input"),
               _("What everyone has shared, with names and dates."))


def my_data_docs(person: Person) -> list[Doc]:
    return [Doc("mydata", person.id, _("Your data (PDF)"), _("To read and print.")),
            Doc("mydatajson", person.id, _("Your data (JSON)"), _("A file for computers."))]
