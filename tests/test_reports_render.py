"""The PDF renderers on plain data (issue #5): what the text layer says, fonts, markup, QR, splitting."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from core.i18n import set_timezone
from reports.columns import break_lines
from reports.common import FONT, REPLACEMENT, clean, localized, markup, width_table
from reports.letter import render_letter
from reports.model import (
    Approval,
    ContactInfo,
    DialogInfo,
    Entry,
    LetterData,
    MeetingInfo,
    OverviewData,
    PlanGoal,
    PlanInfo,
    PlanTask,
    ReferatData,
    ReferralData,
    RoundScores,
    Who,
)
from reports.overview import render_overview
from reports.referat import render_referat
from reports.referral_doc import render_referral
from rules.dialog_config import load_dialog_config

CONFIG = load_dialog_config()
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
COORD = Who(1, "Camilla Holm", "coordinator", "Familierådgiver")
MOM = Who(2, "Mette Ærø", "parent_custody", "Mor", consent_giver=True)
DAD = Who(3, "Lars Østergård", "parent_custody", "Far", consent_giver=True)
TEACHER = Who(4, "Hanne Åberg", "professional", "Klasselærer")
NEW = Who(5, "Morfar Bent", "network", "Morfar", joined=False)
PEOPLE = (COORD, MOM, DAD, TEACHER, NEW)
DIALOG = DialogInfo(7, "Emma", "barn", "Vi vil styrke Emmas trivsel i skolen & derhjemme.", NOW, 2,
                    "Faxe Kommune", COORD, NOW)
MARKUP = "Hun skrev <b>fed</b> & <script>alert(1)</script> selv"
ARABIC = "مرحبا بكم في الحوار"
EMOJI = "Glad 😀👨‍👩‍👧🇩🇰 👍🏽 ❤️ ✅ 🟩 slut"
LINK = "https://t.me/samspil_test_bot?start=AbCdEfGhIjKlMnOpQrStUvWxYz012345"


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    """Extracted text with line breaks and runs of spaces as single spaces (lines wrap anywhere)."""
    return re.sub(r"\s+", " ", text)


def entries(round_tag: str = "runde 2") -> tuple[Entry, ...]:
    return (
        Entry(1, "school", TEACHER, NOW, worries=MARKUP, works=f"Hun er god til matematik ({round_tag}).",
              next_steps=""),
        Entry(2, "family", MOM, NOW + timedelta(hours=1), worries=ARABIC, works=EMOJI,
              next_steps="Mere ro om aftenen – æøå ÆØÅ, Grüße, Zażółć gęślą jaźń."),
    )


def plan() -> PlanInfo:
    return PlanInfo((
        PlanGoal("school", "Emma skal føle sig tryg i skolen", (
            PlanTask("Ugentlig samtale med klasselæreren", TEACHER, date(2026, 12, 1), date(2026, 12, 18), "done",
                     NOW),
            PlanTask("Pause-kort i timerne", TEACHER, date(2026, 12, 1), date(2027, 3, 31), "open"),
        )),
        PlanGoal("family", "Mere ro om aftenen", (
            PlanTask("Fast sengetid kl. 20", DAD, date(2026, 12, 1), date(2026, 12, 31), "help"),
        )),
    ), version=3, accepted=True)


HISTORY = (RoundScores(1, {2: 7, 3: 6, 4: 5}, 4, datetime(2026, 10, 8, 12, 0, tzinfo=UTC)),
           RoundScores(2, {2: 5, 3: 5, 4: 4}, 3, datetime(2026, 12, 3, 13, 0, tzinfo=UTC)))
SUMMARY = "Vi talte om aftenerne 😊. Vi besluttede en fast sengetid."


def referat_data(**kw: object) -> ReferatData:
    meeting = MeetingInfo(11, 2, datetime(2026, 12, 3, 13, 0, tzinfo=UTC), "Skolen, mødelokale 2", "closed",
                          NOW, {2: True, 3: False}, {2: "present", 3: "apologies", 4: "absent"}, SUMMARY)
    nxt = MeetingInfo(12, 3, datetime(2027, 2, 4, 13, 0, tzinfo=UTC), "Rådhuset, lokale 4", "scheduled")
    data = ReferatData(DIALOG, 2, PEOPLE, entries(), HISTORY, CONFIG.ruler("barn"), tuple(CONFIG.areas), plan(),
                       NOW, meeting, nxt, True)
    return replace(data, **kw)


@pytest.fixture(autouse=True)
def danish():
    """Danish, and dates in Copenhagen time (as the bot sets them at start-up)."""
    set_timezone(ZoneInfo("Europe/Copenhagen"))
    with localized("da"):
        yield


# ---- text people wrote ---------------------------------------------------------------------------


def test_clean_keeps_what_the_font_has_and_prints_emoji_as_a_clean_word():
    assert clean("æøå ÆØÅ Grüße Zażółć ąęł") == "æøå ÆØÅ Grüße Zażółć ąęł"
    assert clean(ARABIC) == ARABIC
    assert clean("a\tb\x00c\x1bd\r\ne") == "a bcd\ne"
    # A family (three people joined by ZWJ), a flag (two regional letters), a thumb with skin tone:
    # one word each, in the document's language. A heart with a variation selector keeps the heart.
    assert clean("👨‍👩‍👧") == "(familie)"
    assert clean("🇩🇰🇸🇪") == "(flag DK) (flag SE)"
    assert clean("👍🏽") == "(tommel op)"
    assert clean("❤️") == "❤"
    assert clean("😀 ✅") == "(glad) (ja)"
    assert clean("Tak😊, ses") == "Tak (glad), ses"
    assert clean("🦩") == "(emoji)"  # an emoji without a word of its own
    with localized("en"):
        assert clean("👍 😢") == "(thumbs up) (crying)"
    # A character of a script the font lacks (not an emoji) is still one box.
    assert clean("中文") == REPLACEMENT * 2
    assert clean(None) == "" and clean("") == ""


def test_emoji_people_typed_never_print_as_tofu():
    """Every character drawn is in the embedded font's cmap (both weights), and none is "□"."""
    from reports.common import has_glyph

    for text in ("Tak 👍❤️😊", EMOJI, "🎉🙏💪 godt gået 👏🏼👋", "👩‍👩‍👦 og 🐶"):
        drawn = clean(text)
        assert REPLACEMENT not in drawn, drawn
        assert all(has_glyph(ch) for ch in drawn if ch != "\n"), drawn
    text = flat(text_of(render_overview(overview(entries_=(replace(entries()[1], works="Tak 👍❤️😊"),)))))
    assert "Tak (tommel op) ❤ (glad)" in text and REPLACEMENT not in text


def test_markup_is_escaped_for_paragraphs():
    assert markup("<b>x</b> & <br/>\nny linje") == "&lt;b&gt;x&lt;/b&gt; &amp; &lt;br/&gt;<br/>ny linje"


def test_lines_never_overflow_and_long_words_are_cut():
    widths, default = width_table(FONT)
    text = "kort " + "x" * 500 + " " + "ord " * 200 + "\n\nny afsnit"
    lines = break_lines(text, FONT, 8.5, 150)
    for line in lines:
        assert sum(widths.get(ord(c), default) for c in line) * 8.5 / 1000 <= 150 + 0.01
    assert "".join(lines).replace(" ", "").count("x") == 500
    assert lines[-2:] == ["", "ny afsnit"]


# ---- the overview ---------------------------------------------------------------------------------


def overview(entries_: tuple[Entry, ...] = (), **kw: object) -> OverviewData:
    return replace(OverviewData(DIALOG, 2, entries_ or entries(), tuple(CONFIG.areas), NOW), **kw)


def test_the_overview_shows_the_round_by_area_in_three_columns_with_date_name_and_role():
    pdf = render_overview(overview())
    text = text_of(pdf)
    for expected in ("Samlet oversigt – dialoginput", "Faxe Kommune", "Emma", "FORTROLIGT", "Side 1 af 1",
                     "Formålet med dialogen", "Vi vil styrke Emmas trivsel i skolen & derhjemme.",
                     "DAGTILBUD, SKOLE OG LÆRING", "FAMILIEFORHOLD", "Bekymringer", "Det der fungerer",
                     "Hvad skal ske?", "23.11.2026 · Hanne Åberg (Klasselærer)", "Mette Ærø (Mor)",
                     "Hun er god til matematik (runde 2).", "Før møde"):
        assert expected in flat(text), expected
    # Written markup is text, Danish and other Latin letters survive, Arabic letters are glyphs.
    assert "<b>fed</b> & <script>alert(1)</script>" in flat(text)
    assert "Mere ro om aftenen – æøå ÆØÅ, Grüße, Zażółć gęślą jaźń." in flat(text)
    assert set(ARABIC.replace(" ", "")) <= set(text)
    assert "Glad (glad) (familie) (flag DK) (tommel op) ❤ (ja) (emoji) slut" in flat(text)
    # Areas come in the configured order (Familieforhold before Dagtilbud).
    assert text.index("FAMILIEFORHOLD") < text.index("DAGTILBUD")  # the configured order


def test_a_box_longer_than_a_page_continues_on_the_next_pages_with_every_word():
    words = [f"ord{i:04d}" for i in range(1500)]  # about 12,000 characters in one box
    long = Entry(3, "health", MOM, NOW, worries=" ".join(words), works="Kort.", next_steps="")
    pdf = render_overview(overview((long,)))
    text = text_of(pdf)
    assert pages(pdf) >= 3
    assert re.findall(r"ord\d{4}", text) == words  # all, in order, nothing lost or doubled
    assert "SUNDHEDSFORHOLD (fortsat)" in text and "Mette Ærø (Mor) (fortsat)" in flat(text)
    assert f"Side 1 af {pages(pdf)}" in text and f"Side {pages(pdf)} af {pages(pdf)}" in text
    assert text.count("FORTROLIGT") == pages(pdf)


def test_an_area_filter_and_an_empty_round_read_clearly():
    only = render_overview(overview(area="family", entries_=(entries()[1],)))
    text = text_of(only)
    assert "Inputområde" in text and "Familieforhold" in text and "DAGTILBUD" not in text
    empty = text_of(render_overview(replace(overview(), entries=())))
    assert "Ingen har delt input her endnu." in empty


def test_the_overview_in_english():
    with localized("en"):
        text = text_of(render_overview(overview()))
    assert "Overview of the dialog input" in text and "Worries" in text and "CONFIDENTIAL" in text
    assert "Page 1 of 1" in text


# ---- the referat -------------------------------------------------------------------------------------


def test_the_referat_is_the_minutes_of_record():
    data = referat_data(dialog=replace(DIALOG, case_ref="27.15.08-A26-1234-26"))
    pdf = render_referat(data)
    text = text_of(pdf)
    f = flat(text)
    for expected in (
        "Referat af dialogmøde", "Dialogen om Emma", "Kommune Faxe Kommune", "Sagsnummer 27.15.08-A26-1234-26",
        "Skolen, mødelokale 2", "3. december 2026 kl. 14.00", "Referent Camilla Holm (Familierådgiver)",
        "Udarbejdet 23. november 2026 kl. 10.00",
        # who was there, as recorded when the meeting was closed
        "Hvem var med", "Til stede: Camilla Holm (Familierådgiver) – referent, Mette Ærø (Mor)",
        "Meldt afbud: Lars Østergård (Far)", "Ikke til stede: Hanne Åberg (Klasselærer)",
        "Ikke med i dialogen endnu: Morfar Bent (Morfar)",
        # what was discussed and decided
        "Det talte vi om, og det besluttede vi", "Vi talte om aftenerne (glad). Vi besluttede en fast sengetid.",
        # everyone's numbers, the target this meeting aimed at and the one it set for the next
        "Den fælles lineal", "Mette Ærø (Mor) 5", "Det fælles mål på linealen for dette møde var 4 – Let bekymring.",
        "Fælles mål på linealen til næste møde: 3 – Let bekymring", "Almen – barnet trives", "Akut bekymring",
        # the ruler meeting by meeting: the target in the column of the meeting it aims at
        "08.10.2026", "03.12.2026", "Næste møde 04.02.2027", "Fælles mål på linealen – 4 3",
        # the plan, in plain words
        "Mål & Plan", "Emma skal føle sig tryg i skolen", "Ugentlig samtale med klasselæreren", "Udført",
        "I gang", "Brug for hjælp", "01.12.2026 – 18.12.2026",
        "Familien har godkendt planen. Det er den plan, der gælder nu.",
        # next meeting
        "Næste møde", "4. februar 2027 kl. 14.00, Rådhuset, lokale 4",
        # the input before the meeting
        "Delt input før mødet", "Hun er god til matematik (runde 2).",
    ):
        assert expected in f, expected
    assert "<b>fed</b> & <script>alert(1)</script>" in f
    assert "FORTROLIGT" in text and re.search(r"Side 1 af \d+", text)
    # Plain Danish: no rounds, versions or "skalering" of its own (what people wrote may say anything).
    own = f.replace("(runde 2)", "")
    for never in ("Runde", "runde", "version", "skaleret", "Skalering", REPLACEMENT):
        assert never not in own, never
    # An empty box prints nothing: no date and name followed by "–".
    assert "23.11.2026 · Hanne Åberg (Klasselærer) –" not in f and " – 23.11.2026" not in f


def test_the_plan_status_reads_plainly():
    sent = flat(text_of(render_referat(referat_data(plan=replace(plan(), accepted=False, sent=True)))))
    assert "Planen er sendt til familien. Den er ikke godkendt endnu." in sent
    unsent = flat(text_of(render_referat(referat_data(plan=replace(plan(), accepted=False)))))
    assert "Planen er ikke sendt til familien endnu." in unsent


def test_a_new_edition_says_what_it_replaces():
    later = NOW + timedelta(days=2)
    text = flat(text_of(render_referat(referat_data(edition=2, replaces=NOW, generated_at=later))))
    assert ("Ny udgave 25. november 2026 kl. 10.00. Den erstatter referatet fra 23. november 2026 kl. 10.00."
            in text)
    assert "ny udgave 25.11.2026" in text
    first = flat(text_of(render_referat(referat_data())))
    assert "Ny udgave" not in first


def test_the_pdf_carries_its_language_and_title():
    pdf = render_referat(referat_data())
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "Referat af dialogmøde – Emma, 3. december 2026"
    assert reader.trailer["/Root"]["/Lang"] == "da"
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"]
    with localized("en"):
        english = PdfReader(io.BytesIO(render_referat(referat_data())))
    assert english.trailer["/Root"]["/Lang"] == "en"
    assert english.metadata.title.startswith("Minutes of the dialog meeting – Emma")


def test_the_first_page_is_not_left_mostly_empty():
    """The chart no longer jumps whole to page 2 and leaves page 1 with a hole: what is drawn on
    page 1 reaches down to the last fifth of the page."""
    pdfium = pytest.importorskip("pypdfium2")
    data = referat_data(dialog=replace(DIALOG, case_ref="27.15.08-A26-1234-26"))
    for variant in (data, replace(data, edition=2, replaces=NOW)):
        page = pdfium.PdfDocument(render_referat(variant))[0]
        image = page.render(scale=1).to_pil().convert("L")
        width, height = image.size
        footer = int(height * 0.9)  # the page frame's footer line is below this
        pixels = image.tobytes()
        rows = [y for y in range(int(height * 0.1), footer) if min(pixels[y * width:(y + 1) * width]) < 200]
        assert rows and rows[-1] > height * 0.84, rows[-1] / height


def test_a_preliminary_referat_and_one_without_anything_yet():
    text = flat(text_of(render_referat(referat_data(final=False, next_meeting=None))))
    assert "Referat – foreløbigt" in text and "Mødet er ikke afsluttet endnu" in text
    bare = referat_data(meeting=None, next_meeting=None, entries=(), history=(RoundScores(1),),
                        plan=PlanInfo(), final=False, round_no=1)
    text = flat(text_of(render_referat(bare)))
    assert "Ingen gav et tal på linealen før mødet." in text
    assert "Der er ikke lavet en plan endnu." in text
    assert "Der er ikke sat et nyt møde endnu." in text
    assert "Ingen delte input før mødet." in text


def test_the_chart_draws_every_meeting_and_survives_many_participants():
    people = (COORD,) + tuple(Who(10 + i, f"Deltager {i}", "network", f"Ven {i}") for i in range(12))
    history = tuple(RoundScores(r, {10 + i: (i + r) % 10 + 1 for i in range(12) if (i + r) % 4}, r % 10 + 1,
                                datetime(2026, r, 10, 12, 0, tzinfo=UTC))
                    for r in range(1, 7))
    text = flat(text_of(render_referat(referat_data(participants=people, history=history, round_no=6))))
    for r in range(1, 7):
        assert f"10.{r:02d}.2026" in text
    assert "Deltager 11 (Ven 11)" in text


# ---- where the marks go on the ruler ------------------------------------------------------------------


def _overlaps(placed: dict, marks: list[tuple[object, int]], row: float) -> list[tuple[object, object]]:
    """Pairs of marks whose boxes overlap (x from the placement, y from the number)."""
    value = dict(marks)
    keys = list(placed)
    bad = []
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            (xa, wa), (xb, wb) = placed[a], placed[b]
            ha, hb = wa * 1.2, wb * 1.2  # a diamond is 1.2 times as tall as wide
            if abs(xa - xb) < (wa + wb) / 2 and abs(value[a] - value[b]) * row < (ha + hb) / 2:
                bad.append((a, b))
    return bad


def test_marks_never_overlap_the_target_stands_next_to_a_participant():
    from reports.chart import TARGET, place_marks

    for room, row, marks in (
        (110.0, 17.0, [(1, 5), (2, 5), (3, 5), (TARGET, 5), (4, 4)]),  # three people and the target on 5
        (40.0, 7.6, [(i, 6) for i in range(12)] + [(TARGET, 6)]),  # twelve on one number, a narrow column
        (60.0, 7.6, [(i, (i % 3) + 4) for i in range(9)] + [(TARGET, 5)]),  # neighbouring numbers, small rows
        (110.0, 17.0, [(1, 3), (TARGET, 3)]),
    ):
        placed = place_marks(marks, centre=100.0, room=room, row=row)
        assert set(placed) == {k for k, _v in marks}
        assert _overlaps(placed, marks, row) == [], (room, row, marks)
        for x, w in placed.values():
            assert 100 - room / 2 - 0.01 <= x - w / 2 and x + w / 2 <= 100 + room / 2 + 0.01
    # The target is not drawn on top of the participant with its number: it stands beside it.
    placed = place_marks([(1, 3), (TARGET, 3)], centre=100.0, room=110.0)
    assert placed[TARGET][0] != placed[1][0]


def test_the_target_is_drawn_at_the_meeting_it_aims_at():
    from reports.chart import columns

    cols = columns(HISTORY, next_at=datetime(2027, 2, 4, 13, 0, tzinfo=UTC))
    assert [(c.label, c.target) for c in cols] == [
        ("08.10.2026", None), ("03.12.2026", 4), ("Næste møde 04.02.2027", 3)]
    assert cols[0].scores == {2: 7, 3: 6, 4: 5} and cols[2].scores == {}


# ---- the referral -------------------------------------------------------------------------------------


def referral(draft: bool) -> ReferralData:
    approvals = (Approval(MOM, True, NOW), Approval(DAD, None if draft else True, None if draft else NOW))
    return ReferralData(DIALOG, "ppr", PEOPLE, entries(), 2, HISTORY, CONFIG.ruler("barn"), tuple(CONFIG.areas),
                        plan(), approvals, NOW, NOW, draft)


def test_the_referral_draft_and_the_produced_referral():
    draft = flat(text_of(render_referral(referral(draft=True))))
    assert "Indstilling til PPR" in draft and "UDKAST" in draft
    assert "Lars Østergård (Far): har ikke svaret endnu" in draft
    final = flat(text_of(render_referral(referral(draft=False))))
    assert "UDKAST" not in final
    for expected in ("Pædagogisk Psykologisk Rådgivning", "Camilla Holm (Familierådgiver), Faxe Kommune",
                     "Formålet med dialogen", "Deltagere i dialogen", "Det har vi afprøvet",
                     "Ugentlig samtale med klasselæreren", "Udført 23.11.2026", "Mål & Plan", "Samtykke",
                     "Mette Ærø (Mor): godkendt 23. november 2026 kl. 10.00",
                     "Det seneste delte input (runde 2)", "<b>fed</b> & <script>alert(1)</script>"):
        assert expected in final, expected


# ---- the invitation letter ------------------------------------------------------------------------------


def letter(who: Who) -> LetterData:
    return LetterData(replace(DIALOG, purpose="Formål med <b>markup</b> & mere"), who, PEOPLE, LINK,
                      NOW + timedelta(days=14), NOW)


def test_the_letter_is_one_page_with_purpose_participants_consent_and_how_to_open():
    pdf = render_letter(letter(MOM))
    assert pages(pdf) == 1
    text = flat(text_of(pdf))
    for expected in ("Invitation til Familiedialog", "Kære Mette Ærø", "Formål med <b>markup</b> & mere",
                     "De her er inviteret til at være med", "Camilla Holm (Tovholder)", "Lars Østergård (Far)",
                     "Morfar Bent (Morfar)", "Først giver du dit samtykke", "Telegram", "Scan QR-koden",
                     "7. december 2026", "Med venlig hilsen", "Faxe Kommune"):
        assert expected.lower() in text.lower(), expected
    assert "AbCdEfGhIjKlMnOpQrStUvWxYz012345" in text.replace(" ", "")
    other = flat(text_of(render_letter(letter(TEACHER))))
    assert "når forældrene med forældremyndighed" in other


def test_the_letter_says_how_to_reach_the_coordinator():
    # "Contact me" with the coordinator's phone, e-mail and hours (set with /kontakt).
    data = replace(letter(MOM), contact=ContactInfo(phone="12 34 56 78", email="camilla.holm@faxe.dk",
                                                    hours="man-fre 8-15"))
    pdf = render_letter(data)
    assert pages(pdf) == 1
    text = flat(text_of(pdf))
    for expected in ("Så kontakt mig gerne:", "Telefon: 12 34 56 78", "Mail: camilla.holm@faxe.dk",
                     "Træffes bedst: man-fre 8-15"):
        assert expected in text, expected
    # Only what is set is shown; with nothing set the letter reads as before.
    assert "Mail:" not in flat(text_of(render_letter(replace(data, contact=ContactInfo(phone="12 34 56 78")))))
    assert "Så kontakt mig gerne." in flat(text_of(render_letter(letter(MOM))))


def test_a_very_long_purpose_still_fits_one_page():
    data = replace(letter(MOM), dialog=replace(DIALOG, purpose="Et langt formål. " * 120))
    assert pages(render_letter(data)) == 1


def test_the_qr_code_opens_the_personal_link():
    pdfium = pytest.importorskip("pypdfium2")
    zxingcpp = pytest.importorskip("zxingcpp")
    pdf = render_letter(letter(MOM))
    image = pdfium.PdfDocument(pdf)[0].render(scale=2).to_pil()
    found = zxingcpp.read_barcodes(image)
    assert [r.text for r in found] == [LINK]
