"""The invitation letter (handbook 2.1): one page for e-Boks or paper, with the personal link as a QR code.

It says who invites whom to what (the purpose), who else is invited, that the
family's consent comes first, and how to open the invitation in Telegram: scan
the QR code or type the link. The letter always fits one page (the body
shrinks if the purpose or the list of participants is very long).
"""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, KeepInFrame, Spacer, Table, TableStyle

from core.config import Settings
from reports import gather
from reports.common import (
    ACCENT,
    SHADE,
    Frame,
    P,
    U,
    build_pdf,
    content_height,
    content_width,
    fmt_day,
    one_line,
    safe_filename,
    styles,
)
from reports.model import ContactInfo, LetterData, Who
from reports.parts import esc, who_label
from rules.roles import COORDINATOR
from storage.models import Dialog, Participant

QR_SIZE = 4.4 * cm


def letter_data(dialog: Dialog, invitee: Participant, link: str, expires_at: datetime, settings: Settings,
                now: datetime) -> LetterData:
    return LetterData(dialog=gather.dialog_info(dialog, settings), invitee=gather.who(invitee),
                      participants=gather.participants(dialog), link=link, expires_at=expires_at,
                      generated_at=now, contact=contact_of(dialog))


def contact_of(dialog: Dialog) -> ContactInfo | None:
    """The coordinator's contact details (set with /kontakt), from their seat; None when none is set."""
    seat = next((p for p in dialog.participants if p.person_id == dialog.coordinator_id and p.person), None)
    person = seat.person if seat else None
    if person is None or not (person.contact_phone or person.contact_email or person.contact_hours):
        return None
    return ContactInfo(phone=person.contact_phone or "", email=person.contact_email or "",
                       hours=person.contact_hours or "")


def qr_code(link: str, size: float = QR_SIZE) -> Drawing:
    """The link as a QR code, `size` points square (error correction M)."""
    widget = QrCodeWidget(link, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    d = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    d.add(widget)
    return d


def render_letter(data: LetterData) -> bytes:
    st = styles()
    d = data.dialog
    child = esc(d.child_name)
    invitee = data.invitee
    story: list[Flowable] = [
        U(fmt_day(data.generated_at), st.muted),
        Spacer(1, 6),
        U(_("Invitation to a Familiedialog"), st.title),
        Spacer(1, 8),
        P(_("Dear {name}").format(name=esc(invitee.name)), st.body),
        Spacer(1, 6),
        P(_("You are invited to a dialog where we will work together to strengthen the development and "
            "wellbeing of {child}.").format(child=f"<b>{child}</b>"), st.body),
        U(_("The purpose of the dialog is:"), st.h3),
        _boxed(U(d.purpose, st.body)),
        U(_("The following are invited to take part:"), st.h3),
    ]
    story += [U("• " + _person(w), st.body) for w in data.participants]
    story += [
        Spacer(1, 6),
        P(_("We use Samspil, a chat in the Telegram app, to share relevant information, so that we can help "
            "each other support {child} as well as possible.").format(child=child), st.body),
        Spacer(1, 5),
    ]
    if invitee.consent_giver:
        consent = _("The family's consent comes first: you start by giving your consent for everyone invited to "
                    "take part. Nobody else gets in before that. Afterwards you can describe how you experience "
                    "everyday life for {child}: what worries you, what works well – and what you think should "
                    "happen.")
    else:
        consent = _("The family's consent comes first: you get in when the parents with custody (or the young "
                    "person) have given their consent – until then the bot tells you that the dialog is waiting "
                    "for it. Afterwards you can describe how you experience everyday life for {child}: what "
                    "worries you, what works well – and what you think should happen.")
    story.append(P(consent.format(child=child), st.body))
    story.append(Spacer(1, 4))
    story.append(P(_("The other participants give their input too, so that we all have the same overview when "
                     "we meet to find the best solutions for {child}.").format(child=child), st.body))
    story += [U(_("How to open your invitation"), st.h3), _how_to(data, st)]
    story.append(Spacer(1, 8))
    story += _contact(data.contact, st)
    story += [
        Spacer(1, 8),
        U(_("Kind regards"), st.body),
    ]
    if d.coordinator is not None:
        story.append(U(d.coordinator.name, st.cell_bold))
        story.append(U(one_line(d.coordinator.relation) or _("Coordinator"), st.body))
    story.append(U(d.municipality, st.body))
    body = KeepInFrame(content_width(), content_height() - 2, story, mode="shrink")
    footer = _("Invitation · personal link for {name}").format(name=one_line(invitee.name))
    return build_pdf([body], Frame(d.municipality, footer), title=_("Invitation to a Familiedialog"))


def _contact(contact: ContactInfo | None, st) -> list[Flowable]:  # type: ignore[no-untyped-def]
    """"Contact me", and how: the coordinator's phone, e-mail and when they can be reached."""
    if contact is None:
        return [U(_("If you have any questions, you are welcome to contact me."), st.body)]
    lines = [U(_("If you have any questions, you are welcome to contact me:"), st.body)]
    for label, value in ((_("Phone"), contact.phone), (_("E-mail"), contact.email),
                         (_("Best reached"), contact.hours)):
        if value:
            lines.append(P(f"{esc(label)}: <b>{esc(value)}</b>", st.body))
    return lines


def _person(w: Who) -> str:
    if w.role == COORDINATOR:
        return f"{one_line(w.name)} ({_('Coordinator')})"
    return who_label(w)


def _boxed(flowable: Flowable) -> Table:
    table = Table([[flowable]], colWidths=[content_width()])
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), SHADE), ("LEFTPADDING", (0, 0), (-1, -1), 8),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 8), ("TOPPADDING", (0, 0), (-1, -1), 5),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return table


def _how_to(data: LetterData, st) -> Table:  # type: ignore[no-untyped-def]
    steps = [
        U(_("1. Install the free app Telegram on your phone (App Store or Google Play)."), st.body),
        Spacer(1, 3),
        U(_("2. Scan the QR code with the phone's camera – or open this link:"), st.body),
        P(f"<font size=\"7.6\">{esc(data.link)}</font>", st.cell),
        Spacer(1, 3),
        U(_("3. Tap Start in the chat with Samspil."), st.body),
        Spacer(1, 5),
        U(_("The link is personal: it works once, until {date}. Please do not pass it on.").format(
            date=fmt_day(data.expires_at)), st.muted),
    ]
    table = Table([[steps, qr_code(data.link)]], colWidths=[content_width() - QR_SIZE - 0.8 * cm, None])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BOX", (0, 0), (-1, -1), 1, ACCENT),
        ("BACKGROUND", (0, 0), (0, 0), colors.white),
        ("LEFTPADDING", (0, 0), (-1, -1), 9), ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 7), ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
    ]))
    return table


def letter_filename(name: str) -> str:
    return safe_filename(_("invitation"), name)
