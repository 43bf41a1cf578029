"""Text hygiene and Telegram-sized messages.

Telegram counts a message's length in UTF-16 code units (an emoji outside the
BMP counts twice) and refuses more than 4096, so long texts are split here.
The bot sends escaped HTML, so a split never cuts an entity like ``&amp;`` or a
tag, and formatting open across a split is closed and reopened.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["TELEGRAM_LIMIT", "clean_text", "split_message", "truncate", "utf16_len"]

TELEGRAM_LIMIT = 4096
ELLIPSIS = "…"

# Tag, entity, or a single code point. A tag name must follow "<" at once, so a
# stray "< 5" in text is not mistaken for a tag.
_HTML_ATOM = re.compile(
    r"<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?>"
    r"|&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);"
    r"|.",
    re.DOTALL,
)
_ANY_CHAR = re.compile(r".", re.DOTALL)

# Break classes, best first: blank line, line break, space, anywhere.
_PARAGRAPH, _LINE, _SPACE, _HARD = 3, 2, 1, 0


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@dataclass(frozen=True, slots=True)
class _Atom:
    start: int
    end: int
    units: int
    tag: str | None = None  # lower-case name for tags
    closing: bool = False
    whitespace: bool = False
    glue_before: bool = False  # belongs to the previous character (combining mark, ZWJ, ...)


def _glues(char: str) -> bool:
    """True if ``char`` must not start a chunk: it modifies the character before it."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or code == 0x200D  # zero-width joiner
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tone modifiers
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
    )


def _is_visible(atom: _Atom) -> bool:
    return atom.tag is None and not atom.whitespace


def _atoms(text: str, html: bool) -> list[_Atom]:
    atoms: list[_Atom] = []
    regional_run = 0  # flags are pairs of regional indicators
    for match in (_HTML_ATOM if html else _ANY_CHAR).finditer(text):
        piece = match.group()
        name = match.group("name") if html else None
        if name is not None:
            atoms.append(
                _Atom(
                    match.start(),
                    match.end(),
                    utf16_len(piece),
                    name.lower(),
                    bool(match.group("close")),
                )
            )
            regional_run = 0
            continue
        glue = False
        if len(piece) == 1:
            is_regional = 0x1F1E6 <= ord(piece) <= 0x1F1FF
            glue = _glues(piece) or (is_regional and regional_run % 2 == 1)
            if atoms and atoms[-1].end == match.start() and text[atoms[-1].start] == "\u200d":
                glue = True  # the character after a ZWJ belongs to the same emoji
            regional_run = regional_run + 1 if is_regional else 0
        else:
            regional_run = 0
        atoms.append(
            _Atom(
                match.start(),
                match.end(),
                utf16_len(piece),
                whitespace=piece.isspace(),
                glue_before=glue,
            )
        )
    return atoms


@dataclass(frozen=True, slots=True)
class _Cut:
    end: int  # atoms[start:end] go into this chunk
    resume: int  # the next chunk starts at this atom (whitespace between is dropped)
    stack: tuple[tuple[str, str], ...]  # tags open at the cut: (name, opening tag)
    content: int  # UTF-16 units of the chunk's own text


def _closers(stack: tuple[tuple[str, str], ...]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _update_stack(stack: list[tuple[str, str]], atom: _Atom, text: str) -> None:
    if atom.tag is None:
        return
    if not atom.closing:
        stack.append((atom.tag, text[atom.start : atom.end]))
        return
    for index in range(len(stack) - 1, -1, -1):
        if stack[index][0] == atom.tag:
            del stack[index]
            return  # an unmatched closing tag is left alone


def split_message(text: str, limit: int = TELEGRAM_LIMIT, *, html: bool = True) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters and UTF-16 units.

    Breaks at a blank line, else a line break, else a space (whitespace at the
    break is dropped); inside a word only when one word is longer than the room.
    With ``html`` (the default) entities and tags are never cut, and tags open
    at a break are closed at the end of the chunk and reopened in the next one.
    Raises ValueError if ``limit`` cannot hold even the reopened tags and one
    character.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    if not text or text.isspace():
        return []
    if utf16_len(text) <= limit:
        return [text]

    atoms = _atoms(text, html)
    count = len(atoms)
    # For each whitespace atom: where its run ends and what kind of break it is.
    # For each position: whether anything visible follows (a chunk of only tags
    # and spaces would be an empty message).
    run_end = [0] * count
    run_newlines = [0] * (count + 1)
    visible_after = [False] * (count + 1)
    for index in range(count - 1, -1, -1):
        atom = atoms[index]
        visible_after[index] = visible_after[index + 1] or _is_visible(atom)
        if atom.whitespace:
            follows = index + 1 < count and atoms[index + 1].whitespace
            run_end[index] = run_end[index + 1] if follows else index + 1
            newline = int(text[atom.start] == "\n")
            run_newlines[index] = newline + (run_newlines[index + 1] if follows else 0)
    run_class = [min(n + 1, _PARAGRAPH) for n in run_newlines]
    total_units = sum(atom.units for atom in atoms)
    units_before = [0] * (count + 1)
    for index, atom in enumerate(atoms):
        units_before[index + 1] = units_before[index] + atom.units

    chunks: list[str] = []
    stack: tuple[tuple[str, str], ...] = ()
    # Leading whitespace is dropped (Telegram would strip it anyway).
    start = run_end[0] if atoms[0].whitespace else 0
    while start < count:
        prefix = "".join(opening for _, opening in stack)
        room = limit - utf16_len(prefix)
        if total_units - units_before[start] <= room:
            chunks.append(prefix + text[atoms[start].start :])
            break
        cut = _find_cut(text, atoms, start, stack, room, run_end, run_class, visible_after)
        body = text[atoms[start].start : atoms[cut.end - 1].end]
        chunks.append(prefix + body + _closers(cut.stack))
        stack, start = cut.stack, cut.resume
    return chunks


def _find_cut(
    text: str,
    atoms: list[_Atom],
    start: int,
    stack: tuple[tuple[str, str], ...],
    room: int,
    run_end: list[int],
    run_class: list[int],
    visible_after: list[bool],
) -> _Cut:
    """The best place to end the chunk that starts at ``atoms[start]``."""
    best: dict[int, _Cut] = {}
    last_resort: _Cut | None = None  # a hard cut that may split a combined character
    open_tags = list(stack)
    used = 0
    visible = False
    index = start
    while index < len(atoms):
        atom = atoms[index]
        if index > start and visible:
            frozen = tuple(open_tags)
            fits = used + sum(len(name) + 3 for name, _ in frozen) <= room
            if fits and atom.whitespace and not atoms[index - 1].whitespace:
                resume = run_end[index]
                if resume == len(atoms) or visible_after[resume]:
                    best[run_class[index]] = _Cut(index, resume, frozen, used)
            elif fits and not atom.whitespace and visible_after[index]:
                cut = _Cut(index, index, frozen, used)
                last_resort = cut
                if not atom.glue_before:
                    best[_HARD] = cut
        if used + atom.units > room:
            break
        used += atom.units
        _update_stack(open_tags, atom, text)
        visible = visible or _is_visible(atom)
        index += 1

    # A better kind of break wins if it still fills at least half the room;
    # otherwise the latest break of any whitespace kind, and only then a hard cut.
    for kind in (_PARAGRAPH, _LINE, _SPACE):
        if kind in best and best[kind].content * 2 >= room:
            return best[kind]
    soft = [best[kind] for kind in (_PARAGRAPH, _LINE, _SPACE) if kind in best]
    if soft:
        return max(soft, key=lambda cut: cut.end)
    if _HARD in best:
        return best[_HARD]
    if last_resort is not None:
        return last_resort
    raise ValueError("the limit is too small for the open tags and the next character")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Tidy typed text: strip, LF line ends, no control characters except \\n and \\t.

    Direction marks, zero-width joiners and emoji are kept. Lone surrogates are
    removed too: they cannot be stored as UTF-8.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def truncate(text: str, n: int) -> str:
    """``text`` cut to at most ``n`` characters, ending in "…" if it was cut."""
    if n < 1:
        raise ValueError("n must be positive")
    if len(text) <= n:
        return text
    return text[: n - 1].rstrip() + ELLIPSIS


def is_blank(text: str) -> bool:
    """Nothing a reader could see: whitespace and invisible format characters only."""
    return not any(not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc") for ch in text)
