"""Splitting long (HTML) messages for Telegram, and tidying typed text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.text import clean_text, split_message, truncate, utf16_len

TAG = re.compile(r"<(/?)([a-z-]+)[^<>]*>")
ENTITY_START = re.compile(r"&(?![a-z]+;|#[0-9]+;|#x[0-9a-f]+;)", re.IGNORECASE)


def strip_tags(text: str) -> str:
    return TAG.sub("", text)


def assert_fits(chunks: list[str], limit: int) -> None:
    assert chunks, "nothing came back"
    for chunk in chunks:
        assert len(chunk) <= limit
        assert utf16_len(chunk) <= limit
        assert len(chunk.encode("utf-16-le")) // 2 <= limit
        assert chunk.strip(), "an empty message"
        assert strip_tags(chunk).strip(), "a message of only tags"


def assert_same_content(text: str, chunks: list[str], html: bool = True) -> None:
    """The chunks, without tags, are the text without tags, less whitespace at the cuts."""
    original = strip_tags(text) if html else text
    position = 0
    for chunk in chunks:
        piece = strip_tags(chunk) if html else chunk
        while (
            position < len(original)
            and original[position].isspace()
            and not original.startswith(piece, position)
        ):
            position += 1
        assert original.startswith(piece, position), (position, piece[:40])
        position += len(piece)
    assert original[position:].strip() == ""


def assert_well_formed(chunk: str) -> None:
    stack: list[str] = []
    for match in TAG.finditer(chunk):
        closing, name = match.groups()
        if closing:
            assert stack and stack[-1] == name, chunk
            stack.pop()
        else:
            stack.append(name)
    assert not stack, chunk
    # No tag or entity was cut: no stray "<", ">" or unfinished "&...;".
    outside = TAG.sub("", chunk)
    assert "<" not in outside and ">" not in outside, chunk
    assert not ENTITY_START.search(outside), chunk


# --- split_message: examples ------------------------------------------------------


def test_short_text_is_returned_unchanged() -> None:
    assert split_message("Hej") == ["Hej"]
    assert split_message("  Hej  \n") == ["  Hej  \n"]
    text = "x" * 4096
    assert split_message(text) == [text]


def test_nothing_to_send() -> None:
    assert split_message("") == []
    assert split_message(" \n\t ") == []


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_message("abc", 0)


def test_breaks_at_a_blank_line_first() -> None:
    first = "Første afsnit har en linje.\nOg en linje mere."
    second = "Andet afsnit."
    text = f"{first}\n\n{second} " + "ord " * 5
    chunks = split_message(text, len(first) + 10)
    assert chunks[0] == first
    assert_same_content(text, chunks, html=False)


def test_breaks_at_a_line_break_before_a_space() -> None:
    line = "en to tre fire fem"
    text = "\n".join([line] * 6)
    chunks = split_message(text, 2 * len(line) + 5)
    assert chunks == ["\n".join([line] * 2)] * 3


def test_breaks_at_a_space_and_never_inside_a_word() -> None:
    words = [f"ord{n}" for n in range(200)]
    text = " ".join(words)
    chunks = split_message(text, 50)
    assert_fits(chunks, 50)
    assert [w for chunk in chunks for w in chunk.split(" ")] == words


def test_an_early_blank_line_does_not_make_a_tiny_chunk() -> None:
    text = "Hej\n\n" + "ord " * 100
    chunks = split_message(text, 100)
    assert len(chunks[0]) > 50
    assert_same_content(text, chunks, html=False)


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    text = "kort " + "x" * 250 + " slut"
    chunks = split_message(text, 100)
    assert_fits(chunks, 100)
    assert chunks[0] == "kort"
    assert chunks[1] == "x" * 100
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")


def test_counts_utf16_units_for_emoji() -> None:
    text = "😀" * 1000  # 2000 UTF-16 units
    chunks = split_message(text, 301)
    assert_fits(chunks, 301)
    assert all(utf16_len(chunk) == 300 for chunk in chunks[:-1])  # never half an emoji
    assert "".join(chunks) == text


def test_does_not_split_combined_emoji() -> None:
    family = "👨\u200d👩\u200d👧\u200d👦"  # 7 code points, 11 units
    flag = "🇩🇰"
    thumbs = "👍🏽"
    for unit in (family, flag, thumbs, "e\u0301"):
        text = unit * 200
        for limit in (40, 41, 57):
            chunks = split_message(text, limit)
            assert_fits(chunks, limit)
            assert "".join(chunks) == text
            assert all(chunk == unit * (len(chunk) // len(unit)) for chunk in chunks), unit


def test_never_cuts_an_entity() -> None:
    text = "a&amp;b&lt;c&#228;d&#x2764;e " * 100
    for limit in range(20, 40):
        chunks = split_message(text, limit)
        assert_fits(chunks, limit)
        for chunk in chunks:
            assert_well_formed(chunk)
        assert_same_content(text, chunks)


def test_html_false_treats_markup_as_text() -> None:
    text = "<b>" + "x" * 20 + "&amp;" + "</b>"
    chunks = split_message(text, 10, html=False)
    assert "".join(chunks) == text
    assert all(len(chunk) <= 10 for chunk in chunks)


def test_open_tags_are_closed_and_reopened() -> None:
    text = "<b>" + " ".join(["fed"] * 50) + "</b> og <i>" + " ".join(["kursiv"] * 30) + "</i>"
    chunks = split_message(text, 60)
    assert_fits(chunks, 60)
    for chunk in chunks:
        assert_well_formed(chunk)
    assert chunks[0].startswith("<b>") and chunks[0].endswith("</b>")
    assert chunks[1].startswith("<b>")
    assert_same_content(text, chunks)


def test_nested_tags_and_attributes_are_reopened_verbatim() -> None:
    opening = '<a href="https://example.dk/side?a=1&amp;b=2">'
    text = f"<b>Se {opening}<i>{' '.join(['linket'] * 40)}</i></a> her</b>"
    chunks = split_message(text, 120)
    assert_fits(chunks, 120)
    for chunk in chunks:
        assert_well_formed(chunk)
    assert chunks[1].startswith(f"<b>{opening}<i>")
    assert chunks[0].endswith("</i></a></b>")
    assert_same_content(text, chunks)


def test_a_long_tag_is_never_cut() -> None:
    opening = '<a href="https://example.dk/' + "x" * 40 + '">'
    text = ("ord " * 10 + f"{opening}link</a> ") * 10
    chunks = split_message(text, 100)
    assert_fits(chunks, 100)
    for chunk in chunks:
        assert_well_formed(chunk)


def test_a_limit_too_small_for_the_open_tags_is_an_error() -> None:
    text = '<a href="https://example.dk/' + "x" * 40 + '">' + "ord " * 50 + "</a>"
    with pytest.raises(ValueError):
        split_message(text, 30)


def test_a_20000_character_text() -> None:
    paragraph = (
        "Vi er bekymrede for, at <b>Anna</b> ikke får sine venner med hjem &amp; trækker sig "
        "i frikvartererne. 😟 Klasselæreren siger, at hun er glad i timerne.\n"
    ) * 4
    text = "\n".join([paragraph] * 40)
    assert len(text) >= 20_000
    chunks = split_message(text)
    assert_fits(chunks, 4096)
    assert 5 <= len(chunks) <= 7
    for chunk in chunks:
        assert_well_formed(chunk)
        # Whole paragraphs: every chunk starts where a paragraph starts.
        assert chunk.startswith("Vi er bekymrede")
    assert_same_content(text, chunks)


# --- split_message: properties ------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "ord",
        "Æble",
        "barnet",
        "x" * 30,
        "&amp;",
        "&lt;3",
        "&#228;",
        "😀",
        "👨\u200d👩\u200d👧",
        "🇩🇰",
        "a\u0301",
    ]
)
SPACES = st.sampled_from([" ", "  ", "\n", "\n\n", " \n", "\n \n", "\t"])


@st.composite
def plain_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(WORDS, SPACES), min_size=1, max_size=150))
    return "".join(word + space for word, space in parts).rstrip()


def html_text() -> st.SearchStrategy[str]:
    def wrap(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.tuples(st.sampled_from(["b", "i", "u", "code"]), children).map(
            lambda pair: f"<{pair[0]}>{pair[1]}</{pair[0]}>"
        )

    inline = st.recursive(plain_text(), lambda inner: wrap(inner), max_leaves=3)
    return st.lists(st.tuples(inline, SPACES), min_size=1, max_size=8).map(
        lambda parts: "".join(text + space for text, space in parts)
    )


@settings(max_examples=300, deadline=None, database=None)
@given(text=plain_text(), limit=st.integers(min_value=12, max_value=150))
def test_property_plain_text(text: str, limit: int) -> None:
    chunks = split_message(text, limit)
    assert_fits(chunks, limit)
    assert_same_content(text, chunks)
    for chunk in chunks:
        assert_well_formed(chunk)
    # Never inside a word: a chunk ends where the text has whitespace, except in
    # the one word (30 x's) that can be longer than the limit.
    rest = text
    for chunk in chunks[:-1]:
        rest = rest.lstrip()
        assert rest.startswith(chunk)
        rest = rest[len(chunk) :]
        assert rest[:1].isspace() or (chunk.endswith("x") and rest.startswith("x"))


@settings(max_examples=300, deadline=None, database=None)
@given(text=html_text(), limit=st.integers(min_value=40, max_value=250))
def test_property_html(text: str, limit: int) -> None:
    chunks = split_message(text, limit)
    assert_fits(chunks, limit)
    for chunk in chunks:
        assert_well_formed(chunk)
    assert_same_content(text, chunks)


# --- clean_text and truncate -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Hej  ", "Hej"),
        ("a\r\nb\rc\nd", "a\nb\nc\nd"),
        ("a\x00b", "ab"),
        ("bip\x07 esc\x1b[0m del\x7f c1\x85", "bip esc[0m del c1"),
        ("kolonne\tto", "kolonne\tto"),
        ("\n\n  tekst \n\n", "tekst"),
        ("\u200fمرحبا\u200e", "\u200fمرحبا\u200e"),  # direction marks are kept
        ("\u202bRTL\u202c", "\u202bRTL\u202c"),
        ("👨\u200d👩\u200d👧 🇩🇰 👍🏽", "👨\u200d👩\u200d👧 🇩🇰 👍🏽"),
        ("lone\ud800surrogate", "lonesurrogate"),
        ("Æ Ø Å æ ø å", "Æ Ø Å æ ø å"),
        ("\x00\x01\x02", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_truncate() -> None:
    assert truncate("kort", 10) == "kort"
    assert truncate("præcis ti!", 10) == "præcis ti!"
    assert truncate("Sundhedsforhold", 8) == "Sundhed…"
    assert truncate("to ord her", 4) == "to…"  # no space before the ellipsis
    assert truncate("abc", 1) == "…"
    assert len(truncate("x" * 100, 20)) == 20
    with pytest.raises(ValueError):
        truncate("abc", 0)


@settings(max_examples=500, deadline=None, database=None)
@given(text=st.text(max_size=600), limit=st.integers(min_value=2, max_value=200))
def test_property_any_unicode_as_plain_text(text: str, limit: int) -> None:
    chunks = split_message(text, limit, html=False)
    if text.isspace() or not text:
        assert chunks == []
        return
    assert_fits(chunks, limit)
    assert_same_content(text, chunks, html=False)


def test_is_blank_sees_through_invisible_characters() -> None:
    from rules.text import is_blank

    assert is_blank("   \n\t")
    assert is_blank("\u200b\u200f \u2060")
    assert not is_blank("\u200b a")
    assert not is_blank("🙂")
