"""The family's pages of the Mini App: consent, the meeting invitation, the plan, the documents.

With CHAT_CONTENT=minimal the chat only rings the bell and opens these pages; in full mode
they are more pages beside the chat. Each request is signed (web/visit.py), decided by
rules.access on the server with the person's own seat, and calls the same use case as
the chat's button (services.consent, services.meetings, services.plan), so nobody sees or
changes anything the chat would not let them. The documents page hands out short-lived
download addresses (web/downloads.py).

  GET  /page/samtykke?d=ID    the consent card (a consent giver), or what the dialog is (others)
  POST /page/samtykke         d, answer=given|talk_first|declined|withdrawn, shown
  POST /page/samtykke/godkend d, newcomer, answer=yes|no: a participant added after the start
                              (the consent card shows who waits for this consent giver's answer)
  GET  /page/svar?d=ID        the next meeting and the person's answer
  POST /page/svar             d, coming=1|0 (meeting, version: the invitation the page showed)
  GET  /page/plan?d=ID        the plan; agree / comment for a consent giver it was sent to
  POST /page/plan/agree       d, version
  POST /page/plan/comment     d, version, text
  GET  /page/dokumenter?d=ID  the documents this person may have, each with a download button
  POST /page/dokumenter/link  d, kind, ref -> {"ok", "url", "name"}
  GET  /file/<token>          the document (web/downloads.py)
"""

from __future__ import annotations

import logging

from aiogram.utils.i18n import gettext as _
from aiohttp import web
from markupsafe import Markup

from core import texts
from core.i18n import fmt_datetime
from rules import consent as consent_rules
from rules.access import ACTIVE, PAUSED, Action, Decision, Refusal, decide
from rules.cpr import contains_cpr
from rules.text import clean_text, is_blank
from services import consent
from services import downloads as download_service
from services import meetings as meetings_service
from services import overblik as overblik_service
from services import plan as plan_service
from storage import meetings as mt
from storage import plan as pl
from storage import privacy as pv
from storage import queries as q
from storage.models import Dialog, Participant, Person
from web import downloads, views
from web import family_views as fv
from web.visit import Visit, dialog_id_of, signed

log = logging.getLogger("samspil.web")

COMMENT_LIMIT = 1000  # a comment on the plan, as in the chat


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/page/samtykke", signed(page_consent))
    router.add_post("/page/samtykke", signed(answer_consent))
    router.add_post("/page/samtykke/godkend", signed(approve_newcomer))
    router.add_get("/page/svar", signed(page_meeting))
    router.add_post("/page/svar", signed(answer_meeting))
    router.add_get("/page/plan", signed(page_plan))
    router.add_post("/page/plan/agree", signed(agree_plan))
    router.add_post("/page/plan/comment", signed(comment_plan))
    router.add_get("/page/dokumenter", signed(page_documents))
    router.add_post("/page/dokumenter/link", signed(downloads.link))
    downloads.add_routes(router)


# ---- consent -------------------------------------------------------------------------------------


def _card(visit: Visit):  # type: ignore[no-untyped-def]
    """The card as this page shows it (services.consent.Card): the text stored as shown."""

    async def card(dialog: Dialog, seat: Participant) -> tuple[str, list[str]]:
        made = fv.consent_card(dialog, seat, await visit.session.get(Person, dialog.coordinator_id),
                               visit.app.settings)
        return made.text, made.listed

    return card


async def _consent_view(visit: Visit, seat: Participant, *, withdraw: bool = False) -> web.Response:
    """What a consent giver sees now: the card to answer, or that consent is given."""
    dialog = seat.dialog
    consents = await pv.consents_of(visit.session, seat)
    latest = consents[-1].answer if consents else None
    if latest == consent_rules.GIVEN:
        if withdraw:
            return visit.page(fv.withdraw_page(dialog, fv.withdraw_card(dialog), visit.locale))
        return visit.page(fv.consent_given_page(dialog, consents[-1].created_at, visit.locale,
                                                links=dialog.state == ACTIVE,
                                                newcomers=await _newcomers(visit, seat)))
    coordinator = await visit.session.get(Person, dialog.coordinator_id)
    card = fv.consent_card(dialog, seat, coordinator, visit.app.settings)
    return visit.page(fv.consent_page(dialog, card, visit.locale, latest=latest))


async def _newcomers(visit: Visit, seat: Participant) -> list[fv.Newcomer]:
    """The people added after the start who wait for this consent giver's answer (as the chat asks them)."""
    dialog = seat.dialog
    if not decide(q.seat(seat), dialog.state, Action.APPROVE):
        return []
    coordinator = await visit.session.get(Person, dialog.coordinator_id)
    waiting = []
    for p in dialog.participants:
        if p.approval == consent_rules.PENDING and seat.id in {a.id for a in pv.approvers(dialog, p)} \
                and seat.id not in await pv.approval_answers(visit.session, p):
            waiting.append(fv.newcomer(p, coordinator))
    return waiting


async def approve_newcomer(visit: Visit, request: web.Request) -> web.Response:
    """As the chat's "✅ Approve / ✖️ Refuse" on a new participant: services.consent.approve."""
    form = dict(await request.post())
    seat, decision = await visit.seat(dialog_id_of(request, form), Action.APPROVE)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    answer, newcomer_id = str(form.get("answer", "")), _int(form, "newcomer") or 0
    newcomer = await visit.session.get(Participant, newcomer_id) if newcomer_id else None
    if answer not in ("yes", "no") or newcomer is None or newcomer.dialog_id != seat.dialog_id:
        return await _approval_again(visit, seat, _("Choose one of the answers."), 400)
    result = await consent.approve(visit.session, visit.app.notices, visit.app.settings, visit.person, newcomer.id,
                                   answer == "yes", now=visit.now)
    outcome, dialog = result.outcome, seat.dialog
    if outcome == consent.Approved.REFUSED:
        return visit.refused(Decision(False, result.refusal), seat)
    if outcome in (consent.Approved.STALE, consent.Approved.DECIDED):
        return await _approval_again(visit, seat, _("That has already been decided."), 409)
    if outcome == consent.Approved.ANSWERED:
        return await _approval_again(visit, seat, _("You have already answered."), 409)
    log.info("newcomer answered from page dialog_id=%s participant_id=%s newcomer_id=%s outcome=%s",
             dialog.id, seat.id, newcomer.id, outcome.value)
    who = fv.label(newcomer)
    if outcome == consent.Approved.APPROVED:
        message = _("Thank you. {who} can now take part in the dialog about {child}.").format(
            who=who, child=dialog.child_name)
    elif outcome == consent.Approved.NOT_APPROVED:
        message = _("You have said no to {who}. The invitation is withdrawn, and the coordinator is told.").format(
            who=who)
    else:
        message = _("Thank you. {who} gets in when {names} has also approved.").format(
            who=who, names=", ".join(a.name for a in result.waiting))
    return await _approval_again(visit, seat, message, 200)


async def _approval_again(visit: Visit, seat: Participant, message: str, status: int) -> web.Response:
    """The consent page with the people still waiting for this consent giver, and what happened."""
    consents = await pv.consents_of(visit.session, seat)
    given = consents[-1].created_at if consents and consents[-1].answer == consent_rules.GIVEN else None
    dialog = seat.dialog
    await visit.session.refresh(dialog, ["participants"])
    return visit.page(fv.consent_given_page(dialog, given, visit.locale, message=message, ok=status == 200,
                                            links=dialog.state == ACTIVE, newcomers=await _newcomers(visit, seat)),
                      status)


async def page_consent(visit: Visit, request: web.Request) -> web.Response:
    seat, decision = await visit.seat(dialog_id_of(request), Action.CONSENT)
    if seat is None:
        return visit.refused(decision, seat)
    if not decision:
        if decision.refusal != Refusal.NOT_CONSENT_GIVER:
            return visit.refused(decision, seat)
        # Not theirs to give: what the dialog is, if they may know whom it is about.
        dialog = seat.dialog
        if not decide(q.seat(seat), dialog.state, Action.VIEW_PURPOSE):
            return visit.page(fv.about_page(None, None, visit.locale, message=texts.awaiting_consent()))
        return visit.page(fv.about_page(dialog, await visit.session.get(Person, dialog.coordinator_id),
                                        visit.locale, message=_(
                                            "The family gives consent to the dialog. You do not have to do "
                                            "anything here.")))
    return await _consent_view(visit, seat, withdraw=request.query.get("withdraw") == "1")


async def answer_consent(visit: Visit, request: web.Request) -> web.Response:
    form = dict(await request.post())
    seat, decision = await visit.seat(dialog_id_of(request, form), Action.CONSENT)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    answer, shown = str(form.get("answer", "")), str(form.get("shown", ""))
    if answer == consent_rules.WITHDRAWN:
        return await _withdraw(visit, seat, shown)
    result = await consent.answer(visit.session, visit.app.notices, seat, answer, shown=shown, card=_card(visit),
                                  locale=visit.locale, now=visit.now)
    dialog = result.dialog
    if result.outcome == consent.Answered.REFUSED:
        return visit.refused(decide(q.seat(seat), dialog.state, Action.CONSENT), seat)
    if result.outcome == consent.Answered.STALE:
        return await _again(visit, seat, _("Choose one of the answers."), 400)
    if result.outcome == consent.Answered.ALREADY_GIVEN:
        return await _again(visit, seat, _("Your consent is already recorded."), 200)
    if result.outcome == consent.Answered.CHANGED:
        return await _again(visit, seat, _("Something in the dialog has changed since you read it. "
                                           "Please read it again before you answer."), 409)
    outcome = result.recorded
    assert outcome is not None
    log.info("consent from page dialog_id=%s participant_id=%s answer=%s", dialog.id, seat.id, answer)
    if answer == consent_rules.GIVEN:
        names = ", ".join(p.name for p in outcome.missing)
        message = _("Thank you. Your consent was recorded {when}.").format(when=fmt_datetime(visit.now))
        if outcome.state_after == PAUSED:
            message += " " + _("The dialog continues when {names} has also given consent.").format(names=names)
        elif outcome.state_after != ACTIVE:
            message += " " + _("The dialog starts when {names} has also given consent.").format(names=names)
        elif outcome.state_before == PAUSED:
            message += " " + _("The dialog about {child} continues.").format(child=dialog.child_name)
        else:
            message += " " + _("The dialog about {child} is now open.").format(child=dialog.child_name)
        return visit.page(fv.consent_given_page(dialog, None, visit.locale, message=message,
                                                links=outcome.state_after == ACTIVE))
    coordinator = await visit.session.get(Person, dialog.coordinator_id)
    if answer == consent_rules.TALK_FIRST:
        name = (coordinator.name or "") if coordinator else ""
        message = _("That is perfectly fine. {name} has been told and will contact you.").format(name=name)
        contact = fv.contact_lines(coordinator)
        if contact:
            message += " " + _("You can also reach {name} yourself:").format(name=name)
        return visit.page(fv.consent_answered_page(dialog, visit.locale, message=message, contact=contact))
    return visit.page(fv.consent_answered_page(dialog, visit.locale, ok=False, message=_(
        "You have said no thanks. The dialog does not start and nobody else gets access. Your coordinator "
        "will be told. If you change your mind, you can answer again on this page.")))


async def _again(visit: Visit, seat: Participant, problem: str, status: int) -> web.Response:
    """The consent page as it reads now, with what was wrong."""
    consents = await pv.consents_of(visit.session, seat)
    latest = consents[-1].answer if consents else None
    dialog = seat.dialog
    if latest == consent_rules.GIVEN:
        return visit.page(fv.consent_given_page(dialog, consents[-1].created_at, visit.locale, message=problem,
                                                links=dialog.state == ACTIVE), status)
    card = fv.consent_card(dialog, seat, await visit.session.get(Person, dialog.coordinator_id), visit.app.settings)
    return visit.page(fv.consent_page(dialog, card, visit.locale, latest=latest, problem=problem), status)


async def _withdraw(visit: Visit, seat: Participant, shown: str) -> web.Response:
    dialog = seat.dialog
    card = fv.withdraw_card(dialog)
    if shown != card.shown:  # the confirmation the page showed is not this one: ask again
        return visit.page(fv.withdraw_page(dialog, card, visit.locale), 409)
    done = await consent.withdraw(visit.session, visit.app.notices, seat, card=_card(visit), text_shown=card.text,
                                  locale=visit.locale, now=visit.now)
    if not done.withdrawn:
        return await _again(visit, seat, _(
            "Your consent is not given at the moment, so there is nothing to withdraw."), 200)
    log.info("consent withdrawn from page dialog_id=%s participant_id=%s", dialog.id, seat.id)
    when = fmt_datetime(visit.now)
    message = (_("Your consent was withdrawn {when}. The dialog about {child} is paused, and the others no longer "
                 "have access. Your coordinator has been told.") if done.state_after == PAUSED else
               _("Your consent was withdrawn {when}. The dialog about {child} does not start without it. "
                 "Your coordinator has been told.")).format(when=when, child=dialog.child_name)
    return visit.page(fv.consent_answered_page(dialog, visit.locale, message=message))


# ---- the meeting invitation ----------------------------------------------------------------------


async def _meeting_view(visit: Visit, seat: Participant, *, message: str | None = None, ok: bool = True,
                        status: int = 200) -> web.Response:
    dialog = seat.dialog
    meeting = await mt.live_meeting(visit.session, dialog.id)
    answer = await mt.response_of(visit.session, meeting.id, seat.id) if meeting is not None else None
    coordinator = await visit.session.get(Person, dialog.coordinator_id)
    return visit.page(fv.meeting_page(seat, meeting, coordinator, answer.coming if answer else None, visit.locale,
                                      message=message, ok=ok), status)


async def page_meeting(visit: Visit, request: web.Request) -> web.Response:
    seat, decision = await visit.seat(dialog_id_of(request), Action.READ_SHARED)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    return await _meeting_view(visit, seat)


def _int(form: dict, name: str) -> int | None:
    raw = str(form.get(name, ""))
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


async def answer_meeting(visit: Visit, request: web.Request) -> web.Response:
    form = dict(await request.post())
    seat, decision = await visit.seat(dialog_id_of(request, form), Action.READ_SHARED)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    coming = _int(form, "coming")
    live = await mt.live_meeting(visit.session, seat.dialog_id)
    meeting_id, version = _int(form, "meeting"), _int(form, "version")
    if meeting_id is None:  # the contract's short form: the meeting the dialog has now
        meeting_id, version = (live.id, live.version) if live is not None else (0, 0)
    if coming not in (0, 1):
        return await _meeting_view(visit, seat, message=_("Tap one of the answers."), ok=False, status=400)
    answered = await meetings_service.answer_invitation(visit.session, visit.app.notices, visit.app.settings, seat,
                                                        meeting_id, version or 0, coming, visit.now)
    outcome = answered.outcome
    if outcome is meetings_service.Rsvp.RECORDED:
        return await _meeting_view(visit, seat, message=_("Thank you – you have answered: I'm coming.") if coming
                                   else _("Thank you – you have answered: I can't come. The coordinator will be "
                                          "told."))
    if outcome is meetings_service.Rsvp.UNCHANGED:
        return await _meeting_view(visit, seat, message=_("Your answer is already recorded."))
    if outcome is meetings_service.Rsvp.MOVED:
        return await _meeting_view(visit, seat, ok=False, status=409, message=_(
            "The meeting has been moved since you opened the page. See the new time, and answer again."))
    if outcome is meetings_service.Rsvp.NOT_SCHEDULED:
        return await _meeting_view(visit, seat, ok=False, status=409, message=_(
            "You can no longer answer this invitation. The meeting has started, ended or been cancelled."))
    return await _meeting_view(visit, seat, ok=False, status=400, message=_(
        "That answer could not be saved. The page shows the meeting as it is now."))


# ---- the plan ------------------------------------------------------------------------------------


async def _plan_view(visit: Visit, seat: Participant) -> fv.PlanView:
    dialog = seat.dialog
    config = visit.app.dialog_config
    goals = pl.sort_goals(await pl.goals_of(visit.session, dialog.id), [a.key for a in config.areas])
    view = fv.PlanView(seat, goals, config.areas)
    if seat.consent_giver and dialog.plan_version > 0 and not pl.is_accepted(dialog) \
            and await pl.review_sent(visit.session, dialog, seat.id):
        answers = await pl.answers_for(visit.session, dialog.id, dialog.plan_version)
        mine = answers.get(seat.id)
        view.agreed_by_me = mine is not None and mine.agrees
        view.may_answer = not view.agreed_by_me
        view.waiting = [g for g in pl.consent_givers(dialog) if not (answers.get(g.id) and answers[g.id].agrees)]
    return view


async def page_plan(visit: Visit, request: web.Request) -> web.Response:
    seat, decision = await visit.seat(dialog_id_of(request), Action.READ_SHARED)
    if not decision or seat is None:
        return visit.refused(decision, seat)
    return visit.page(fv.plan_page(await _plan_view(visit, seat), visit.locale))


async def _giver(visit: Visit, form: dict) -> tuple[Participant | None, web.Response | None]:
    """The seat of a consent giver the current plan was sent to, or the page's answer why not."""
    seat, decision = await visit.seat(_dialog(form), Action.READ_SHARED)
    if not decision or seat is None:
        return None, visit.refused(decision, seat)
    if not seat.consent_giver:
        return None, visit.page(views.error(Markup(texts.refusal(Refusal.NOT_CONSENT_GIVER, seat.dialog)),
                                            visit.locale), 403)
    return seat, None


def _dialog(form: dict) -> int:
    raw = str(form.get("d", ""))
    return int(raw) if raw.isdigit() and len(raw) <= 18 else 0


async def agree_plan(visit: Visit, request: web.Request) -> web.Response:
    form = dict(await request.post())
    seat, refused = await _giver(visit, form)
    if seat is None:
        assert refused is not None
        return refused
    dialog = seat.dialog
    view = await _plan_view(visit, seat)
    if _int(form, "version") != dialog.plan_version:
        return visit.page(fv.plan_page(view, visit.locale, ok=False, message=_(
            "The plan has changed since you opened the page. Read the newest version below before you answer.")),
            409)
    if pl.is_accepted(dialog):
        return visit.page(fv.plan_page(view, visit.locale, message=_("The plan is already agreed.")))
    if not view.may_answer and not view.agreed_by_me:
        return visit.page(fv.plan_page(view, visit.locale, ok=False, message=_(
            "The plan has not been sent to you yet. The coordinator sends it after the meeting.")), 409)
    agreed = await plan_service.agree(visit.session, visit.app.notices, seat, visit.now)
    message = {
        plan_service.Answering.ALREADY_AGREED: _("The plan is already agreed."),
        plan_service.Answering.ALREADY_RECORDED: _("Your answer is already recorded."),
        plan_service.Answering.IN_FORCE: _("Thank you! Everyone has now agreed to the plan, and the work can "
                                           "begin. Everyone with a task will be told."),
        plan_service.Answering.SAVED: _("Thank you, your answer is saved."),
    }[agreed.outcome]
    log.info("plan agreed from page dialog_id=%s participant_id=%s outcome=%s", dialog.id, seat.id,
             agreed.outcome.value)
    return visit.page(fv.plan_page(await _plan_view(visit, seat), visit.locale, message=message))


async def comment_plan(visit: Visit, request: web.Request) -> web.Response:
    form = dict(await request.post())
    seat, refused = await _giver(visit, form)
    if seat is None:
        assert refused is not None
        return refused
    dialog = seat.dialog
    view = await _plan_view(visit, seat)
    typed = str(form.get("text", ""))
    text = clean_text(typed)
    version = _int(form, "version")
    problem = None
    if version is None or not 1 <= version <= dialog.plan_version:
        problem = _("The plan has changed since you opened the page. Read the newest version below.")
    elif pl.is_accepted(dialog):
        problem = _("The plan is already agreed.")
    elif not (view.may_answer or view.agreed_by_me):
        problem = _("The plan has not been sent to you yet. The coordinator sends it after the meeting.")
    elif is_blank(text):
        problem = texts.empty_answer()
    elif len(text) > COMMENT_LIMIT:
        problem = texts.too_long(COMMENT_LIMIT)
    elif contains_cpr(text):
        problem = texts.cpr_refused()
    if problem is not None:
        return visit.page(fv.plan_page(view, visit.locale, ok=False, message=Markup(problem).striptags(),
                                       comment=typed[:COMMENT_LIMIT * 2]), 400)
    await plan_service.comment(visit.session, visit.app.notices, seat, version or dialog.plan_version, text,
                               visit.now)
    log.info("plan comment from page dialog_id=%s participant_id=%s", dialog.id, seat.id)
    return visit.page(fv.plan_page(view, visit.locale, message=_("Thank you. Your comment is sent to the "
                                                                   "coordinator.")))


# ---- the documents -------------------------------------------------------------------------------


async def page_documents(visit: Visit, request: web.Request) -> web.Response:
    person = visit.person
    if person is None:
        return visit.refused(decide(None, "", Action.READ_SHARED), None)
    mine = fv.my_data_docs(person)
    dialog_id = dialog_id_of(request)
    if not dialog_id:  # from the menu: which dialog? (one: that one)
        dialogs = await overblik_service.dialogs_of(visit.session, person)
        if len(dialogs) != 1:
            return visit.page(fv.documents_page(None, [], mine, visit.locale, others=dialogs))
        dialog_id = dialogs[0][0]
    seat = await q.participant_in(visit.session, person, dialog_id)
    if seat is None:
        return visit.refused(decide(None, "", Action.READ_SHARED), None)
    offered = await download_service.offered(visit.session, seat)
    if not offered.decision:
        refusal = Markup(texts.refusal(offered.decision.refusal, seat.dialog)).striptags()
        return visit.page(fv.documents_page(None, [], mine, visit.locale, refusal=refusal))
    docs = [fv.referat_doc(m) for m in offered.referats]
    if offered.overview_round is not None:
        docs.append(fv.overview_doc(seat.dialog, offered.overview_round))
    return visit.page(fv.documents_page(seat.dialog, docs, mine, visit.locale))
