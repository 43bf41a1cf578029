"""What every Samspil PDF shares: the embedded font, safe text, styles, the page frame.

- **Font.** DejaVu Sans (regular and bold, `reports/fonts/`, licence beside it) is
  embedded in every document: Danish, German, Polish, Greek, Cyrillic, Arabic
  letters and many symbols have glyphs (❤, ☺, ☀, ✔ among the emoji). An emoji the
  font has no glyph for is printed as a clean word in brackets, in the document's
  language ("(tommel op)", "(glad)", "(flag DK)", else "(emoji)"; a whole sequence,
  skin tones and joiners included, is one word); any other character it lacks
  becomes one "□", so nothing renders as an empty box or crashes.
- **Text people wrote** is never markup: :func:`markup` escapes it for
  reportlab's paragraph parser, so ``<b>`` and ``&`` appear as written. The
  column tables (reports/columns.py) draw text directly and need no escaping.
- **Page frame.** Every page carries the municipality, "Fortroligt" and
  "Side x af y" (:class:`NumberedCanvas` draws it once the page count is known).
- **Locale.** Renderers translate with gettext (`_`) and format dates with
  core.i18n in the current locale; :func:`localized` sets one up, also outside the
  bot (the benchmark, a script).
- **Threads.** Renderers are synchronous and pure (plain data in, bytes out); the
  bot runs them with ``asyncio.to_thread``. reportlab keeps some global state, so
  one document is built at a time (`RENDER_LOCK`); the event loop stays free.
"""

from __future__ import annotations

import io
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate

FONT_DIR = Path(__file__).with_name("fonts")
FONT = "SamspilSans"
FONT_BOLD = "SamspilSans-Bold"
REPLACEMENT = "\u25a1"  # □

# Binary (compressed) streams instead of ASCII85: smaller files and a third less time.
rl_config.useA85 = 0

# Colours of the documents (the ruler's field colours come from the configuration).
INK = colors.HexColor("#1B1B1B")
MUTED = colors.HexColor("#5F6368")
ACCENT = colors.HexColor("#1F4E79")
CONFIDENTIAL = colors.HexColor("#A4161A")
RULE = colors.HexColor("#B8BEC6")
SHADE = colors.HexColor("#EEF2F6")

PAGE = A4
MARGIN_X = 1.7 * cm
MARGIN_TOP = 2.3 * cm
MARGIN_BOTTOM = 1.9 * cm

RENDER_LOCK = threading.Lock()
_font_lock = threading.Lock()
_glyphs: frozenset[int] = frozenset()
_widths: dict[str, tuple[dict[int, int], int]] = {}


def register_fonts() -> None:
    """Register DejaVu Sans once per process (idempotent, thread-safe)."""
    global _glyphs
    if _glyphs:
        return
    with _font_lock:
        if _glyphs:
            return
        regular = TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf"))
        bold = TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        pdfmetrics.registerFont(regular)
        pdfmetrics.registerFont(bold)
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)
        for font in (regular, bold):
            _widths[font.fontName] = (font.face.charWidths, font.face.defaultWidth)
        # A character counts as printable when both weights have it. Only the Basic
        # Multilingual Plane: reportlab writes the text layer (ToUnicode) of characters
        # beyond it wrongly, so the few emoji DejaVu has are replaced like the others.
        _glyphs = frozenset(cp for cp in regular.face.charToGlyph if cp <= 0xFFFF) & frozenset(
            bold.face.charToGlyph)


def has_glyph(char: str) -> bool:
    register_fonts()
    return ord(char) in _glyphs


def width_table(font: str) -> tuple[dict[int, int], int]:
    """(code point -> width in 1/1000 em, default width) of a registered font."""
    register_fonts()
    return _widths[font]


# ---- text people wrote ---------------------------------------------------------------------

_JOINERS = {0x200D}  # zero-width joiner: the next missing character belongs to the same emoji
_SILENT = {0x200B, 0x200C, 0x2060, 0xFEFF, 0x20E3, 0x200E, 0x200F}


def _silent(cp: int) -> bool:
    """Invisible helpers of emoji and scripts: variation selectors, skin tones, tags, bidi marks."""
    return (cp in _SILENT or 0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF
            or 0xE0000 <= cp <= 0xE007F or 0xE0100 <= cp <= 0xE01EF or 0x202A <= cp <= 0x202E
            or 0x2066 <= cp <= 0x2069)


def _regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


@lru_cache(maxsize=4096)
def _safe_char(ch: str) -> bool:
    cp = ord(ch)
    return ch == "\n" or (cp >= 32 and not 0x7F <= cp < 0xA0 and cp in _glyphs and not _silent(cp)
                          and cp not in _JOINERS)


def _plain(text: str) -> bool:
    """Every distinct character can be drawn as it is (the common case: checked per distinct char)."""
    return all(_safe_char(ch) for ch in set(text))


# Emoji the font lacks, printed as a word: (Danish, English) per group of code points.
_EMOJI_WORDS: tuple[tuple[str, str, str], ...] = (
    ("😀😃😄😁😆😊🙂😉😇😎🥳😅😌😋🙃😺😸", "glad", "happy"),
    ("😂🤣😹", "griner", "laughing"),
    ("😍🥰😘😻", "forelsket", "in love"),
    ("😢😭😿", "græder", "crying"),
    ("😞😔🙁😕😣😖😥😓", "ked af det", "sad"),
    ("😠😡🤬😤😾", "vred", "angry"),
    ("😟😰😨😧😦😬😱🙀", "bekymret", "worried"),
    ("😴😪🥱😩😫", "træt", "tired"),
    ("🤔🧐", "tænker", "thinking"),
    ("😐😑😶🫤", "neutral", "neutral"),
    ("🤒🤕🤢🤮🤧😷", "syg", "ill"),
    ("🤗🫂", "kram", "hug"),
    ("👍", "tommel op", "thumbs up"),
    ("👎", "tommel ned", "thumbs down"),
    ("👏🙌", "klapper", "applause"),
    ("🙏", "tak", "thank you"),
    ("💪", "stærk", "strong"),
    ("👋", "vinker", "waving"),
    ("👌", "ok", "ok"),
    ("💕💖💗💓💞💘💝💙💚💛💜🧡🖤🤍🤎💟❣", "hjerte", "heart"),
    ("💔", "knust hjerte", "broken heart"),
    ("✅☑", "ja", "yes"),
    ("❌❎🚫⛔", "nej", "no"),
    ("❓❔", "spørgsmål", "question"),
    ("❗❕‼", "vigtigt", "important"),
    ("⭐🌟✨💫", "stjerne", "star"),
    ("🎉🎊🎈🎂🎁", "fest", "party"),
    ("🌸🌹🌷🌻🌼💐🌺", "blomst", "flower"),
    ("🌞🌤⛅", "sol", "sun"),
    ("🌧⛈🌩☔", "regn", "rain"),
    ("⚽🏀🏈⚾🎾🏐🏃🚴🏊", "sport", "sport"),
    ("📚📖📝✏📓", "skole", "school"),
    ("🏫", "skole", "school"),
    ("🏠🏡", "hjem", "home"),
    ("👪", "familie", "family"),
    ("👶", "baby", "baby"),
    ("👧", "pige", "girl"),
    ("👦", "dreng", "boy"),
    ("👩", "kvinde", "woman"),
    ("👨", "mand", "man"),
    ("🐶🐕🐱🐈🐰🐴", "dyr", "animal"),
    ("🍕🍔🍎🍌🍰🍪🍫", "mad", "food"),
    ("📱💻🎮", "skærm", "screen"),
    ("⏰⌛⏳", "tid", "time"),
)
_EMOJI_WORD = {ch: (da, en) for chars, da, en in _EMOJI_WORDS for ch in chars}
_PEOPLE = set("👨👩👧👦👶🧑🧒👪")


def _emoji_word(chars: list[str]) -> str:
    """The word for one emoji sequence (its visible characters, joiners and modifiers left out)."""
    danish = current_locale() == "da"
    if all(_regional(ord(c)) for c in chars):
        code = "".join(chr(ord("A") + ord(c) - 0x1F1E6) for c in chars)
        return f"flag {code}" if len(chars) == 2 else "flag"
    if sum(c in _PEOPLE for c in chars) >= 2:
        return "familie" if danish else "family"
    words = _EMOJI_WORD.get(chars[0])
    if words is None:
        return "emoji"
    return words[0] if danish else words[1]


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return (ch in _EMOJI_WORD or _regional(cp) or 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF
            or 0x2B00 <= cp <= 0x2BFF or 0x2190 <= cp <= 0x21FF or 0x2300 <= cp <= 0x23FF)


def clean(text: str | None) -> str:
    """Text safe to draw with the embedded font: every character drawn is one the font has.

    Control characters go (a tab becomes a space, line breaks stay), invisible emoji
    helpers go. An emoji the font lacks becomes a word in brackets in the current
    language ("(tommel op)"); a flag (two regional letters) or a joined emoji family is one
    emoji. Any other character the font lacks becomes one "□".
    """
    register_fonts()
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _plain(text):
        return text
    out: list[str] = []
    emoji: list[str] = []  # the visible characters of the emoji sequence being read
    joined = False  # a zero-width joiner follows the emoji being read
    space_after = False  # a word was written: a visible character after it gets a space

    def flush() -> None:
        nonlocal joined, space_after
        if emoji:
            if out and out[-1] not in (" ", "\n"):
                out.append(" ")
            out.append(f"({_emoji_word(emoji)})")
            emoji.clear()
            space_after = True
        joined = False

    def visible(ch: str) -> None:
        nonlocal space_after
        flush()
        if space_after and ch not in (" ", "\n", ".", ",", "!", "?", ":", ";", ")"):
            out.append(" ")
        space_after = False
        out.append(ch)

    for ch in text:
        cp = ord(ch)
        if ch == "\n":
            visible(ch)
            continue
        if ch == "\t":
            ch, cp = " ", 32
        if cp < 32 or 0x7F <= cp < 0xA0:
            continue
        if cp in _JOINERS:
            joined = bool(emoji)
            continue
        if _silent(cp) or (cp not in _glyphs and unicodedata.category(ch) in ("Mn", "Me", "Cf")):
            continue  # skin tones, variation selectors, marks the font lacks: nothing to see
        missing = cp not in _glyphs
        if missing and _is_emoji(ch):
            if emoji and not joined and not (_regional(cp) and len(emoji) == 1 and _regional(ord(emoji[0]))):
                flush()
            emoji.append(ch)
            joined = False
            continue
        if emoji and joined and _is_emoji(ch):
            emoji.append(ch)  # a drawable emoji joined to one being read (❤ in a couple)
            joined = False
            continue
        visible(REPLACEMENT if missing else ch)
    flush()
    return "".join(out)


def markup(text: str | None) -> str:
    """Text for a Paragraph: cleaned, escaped (so "<b>" stays literal), line breaks kept."""
    return escape(clean(text)).replace("\n", "<br/>")


def one_line(text: str | None) -> str:
    """A name or label on one line: cleaned, whitespace collapsed."""
    return re.sub(r"\s+", " ", clean(text)).strip()


# ---- styles --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    body: ParagraphStyle
    strong: ParagraphStyle
    small: ParagraphStyle
    muted: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle


def styles() -> Styles:
    register_fonts()
    base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, textColor=INK, alignment=TA_LEFT)
    return Styles(
        title=ParagraphStyle("title", parent=base, fontName=FONT_BOLD, fontSize=17, leading=21,
                             textColor=ACCENT, spaceAfter=2),
        subtitle=ParagraphStyle("subtitle", parent=base, fontSize=10.5, leading=14, textColor=MUTED,
                                spaceAfter=8),
        h2=ParagraphStyle("h2", parent=base, fontName=FONT_BOLD, fontSize=12.5, leading=16,
                          textColor=ACCENT, spaceBefore=12, spaceAfter=5, keepWithNext=1),
        h3=ParagraphStyle("h3", parent=base, fontName=FONT_BOLD, fontSize=10, leading=13,
                          spaceBefore=6, spaceAfter=3, keepWithNext=1),
        body=base,
        strong=ParagraphStyle("strong", parent=base, fontName=FONT_BOLD, fontSize=10, leading=14),
        small=ParagraphStyle("small", parent=base, fontSize=8, leading=10.5),
        muted=ParagraphStyle("muted", parent=base, fontSize=8.5, leading=11.5, textColor=MUTED),
        cell=ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        cell_bold=ParagraphStyle("cell_bold", parent=base, fontName=FONT_BOLD, fontSize=8.5, leading=11),
    )


def P(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of trusted markup (our own texts with escaped values inside)."""
    return Paragraph(text, style)


def U(text: str | None, style: ParagraphStyle) -> Paragraph:
    """A paragraph of untrusted text (anything a person wrote)."""
    return Paragraph(markup(text), style)


# ---- locale --------------------------------------------------------------------------------

_standalone: I18n | None = None


@contextmanager
def localized(locale: str) -> Iterator[None]:
    """Translate and format in `locale`: inside the bot its I18n, elsewhere a compiled one."""
    global _standalone
    current = I18n.get_current(no_error=True)
    if current is not None:
        with current.use_locale(locale):
            yield
        return
    if _standalone is None:
        from core.i18n import make_i18n

        _standalone = make_i18n()
    with _standalone.context(), _standalone.use_locale(locale):
        yield


def current_locale() -> str:
    current = I18n.get_current(no_error=True)
    return current.current_locale if current is not None else "da"


def fmt_day(value: date | datetime) -> str:
    from core.i18n import fmt_date

    return fmt_date(value, "long")


def fmt_short_day(value: datetime) -> str:
    from core.i18n import fmt_short

    return fmt_short(value)


def fmt_moment(value: datetime) -> str:
    from core.i18n import fmt_datetime

    return fmt_datetime(value, "long")


# ---- the page frame ------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """What every page of one document shows around its content."""

    municipality: str
    footer: str  # e.g. "Referat · dialogen om Emma · runde 2"


def _chrome(c: rl_canvas.Canvas, frame: Frame, page: int, pages: int) -> None:
    width, height = PAGE
    top = height - 1.25 * cm
    c.saveState()
    c.setFillColor(ACCENT)
    c.setFont(FONT_BOLD, 9)
    c.drawString(MARGIN_X, top, one_line(frame.municipality))
    c.setFillColor(MUTED)
    c.setFont(FONT, 8)
    c.drawString(MARGIN_X + pdfmetrics.stringWidth(one_line(frame.municipality), FONT_BOLD, 9) + 6, top,
                 "· " + _("Samspil – Familiedialog"))
    c.setFillColor(CONFIDENTIAL)
    c.setFont(FONT_BOLD, 9)
    c.drawRightString(width - MARGIN_X, top, _("CONFIDENTIAL"))
    c.setStrokeColor(RULE)
    c.setLineWidth(0.6)
    c.line(MARGIN_X, top - 5, width - MARGIN_X, top - 5)
    bottom = 1.05 * cm
    c.line(MARGIN_X, bottom + 10, width - MARGIN_X, bottom + 10)
    c.setFillColor(MUTED)
    c.setFont(FONT, 7.5)
    footer = one_line(frame.footer)
    limit = width - 2 * MARGIN_X - 3 * cm
    while footer and pdfmetrics.stringWidth(footer, FONT, 7.5) > limit:
        footer = footer[:-2] + "…"
    c.drawString(MARGIN_X, bottom, footer)
    c.drawRightString(width - MARGIN_X, bottom, _("Page {page} of {pages}").format(page=page, pages=pages))
    c.restoreState()


def _canvas_maker(frame: Frame) -> Callable[..., rl_canvas.Canvas]:
    class NumberedCanvas(rl_canvas.Canvas):
        """Holds the pages until the end, then draws the frame with "Side x af y" on each."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self._pages: list[dict[str, object]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                _chrome(self, frame, number, total)
                rl_canvas.Canvas.showPage(self)
            rl_canvas.Canvas.save(self)

    return NumberedCanvas


def build_pdf(story: Sequence[Flowable], frame: Frame, *, title: str) -> bytes:
    """Lay out `story` on A4 pages with the frame; returns the PDF's bytes. The document's
    title and language (the current locale: /Lang) are in its metadata; viewers show the
    title instead of the file name."""
    register_fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=PAGE, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM, title=one_line(title), author=one_line(frame.municipality),
        creator="Samspil", subject=one_line(title), lang=current_locale(), displayDocTitle=True,
    )
    with RENDER_LOCK:
        doc.build(list(story), canvasmaker=_canvas_maker(frame))
    return buf.getvalue()


def content_width() -> float:
    return PAGE[0] - 2 * MARGIN_X


def content_height() -> float:
    return PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM


def safe_filename(*parts: str) -> str:
    """'referat-emma-runde-2.pdf': ASCII letters, digits and dashes only."""
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
    words = []
    for part in parts:
        text = unicodedata.normalize("NFKD", part.translate(table)).encode("ascii", "ignore").decode()
        text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
        if text:
            words.append(text)
    return ("-".join(words) or "samspil")[:80] + ".pdf"


async def render(fn: Callable[[object], bytes], data: object, locale: str) -> bytes:
    """Run a synchronous renderer in a worker thread, in `locale`; the event loop stays free.

    The data must be gathered first (plain dataclasses): the thread touches no database.
    """
    import asyncio

    def run() -> bytes:
        with localized(locale):
            return fn(data)

    return await asyncio.to_thread(run)
