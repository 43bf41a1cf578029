"""Plain Danish: every family-facing Danish text of ten words or more is easy to read (LIX).

LIX (Björnsson): words per sentence + the share of long words (more than six letters) in
per cent. Below 25 is a children's book, 25-34 easy, 35-44 a newspaper. Family texts must
stay at 30 or less (README "Plain Danish" has the figures); the test fails above 35.

Which texts: every msgid in the code with a Danish translation, except texts only staff
see: the modules in STAFF_MODULES, and a text whose `_(...)` call has a `# staff:` comment
just above it. Names, placeholders ({child}), HTML tags and /commands are left out.
"""

from __future__ import annotations

import re
import statistics

from babel.messages.extract import extract_from_file

from bot.catalogs import KEYWORDS, ROOT, SOURCES
from core.i18n import make_i18n

LIMIT = 35
GOAL = 30  # the README's goal: none above this
# Modules whose texts only coordinators, administrators or a receiving professional read.
# (handlers/on_behalf_views.py is not one: the others read its "written by the coordinator" notice.)
STAFF_MODULES = {"handlers/coordinator.py", "handlers/coordinator_views.py", "handlers/desk.py",
                 "handlers/desk_views.py", "reports/referral_doc.py", "bot/admin.py", "bot/cli.py",
                 "core/menus.py", "handlers/notifications.py", "handlers/on_behalf.py", "bot/digest.py",
                 "handlers/digest_views.py", "web/coordinator.py", "web/coordinator_views.py",
                 "web/settings_views.py"}

WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
SENTENCE_END = re.compile(r"[.!?:;]+(?=\s|$)|\n")


def lix(text: str) -> float:
    """LIX of a text; a line break ends a sentence too (a list item, a heading)."""
    text = re.sub(r"<[^>]+>|\{\w*\}|/\w+", " ", text).strip()
    words = WORD.findall(text)
    ends = sum(1 for part in SENTENCE_END.split(text) if WORD.search(part))
    long_words = sum(1 for w in words if len(w.replace("-", "")) > 6)
    return len(words) / max(1, ends) + 100 * long_words / max(1, len(words))


def test_lix_of_known_texts() -> None:
    # 9 words, 1 sentence, 1 long word ("knappen"): 9 + 11.1
    assert round(lix("Du kan altid stoppe med et tryk på knappen."), 1) == 20.1
    assert lix("Hej.\nDu er med.") == 2 + 0  # two lines, two sentences, no long words
    assert lix("<b>{child}</b> har det godt.") == 3 + 0  # the name is left out


def family_texts(locale: str = "da") -> list[tuple[str, str]]:
    """(where, text in `locale`) for every family-facing text of ten words or more."""
    i18n = make_i18n()  # the catalogs as the bot reads them
    found = []
    for pkg in SOURCES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            if "migrations" in path.parts or rel in STAFF_MODULES:
                continue
            for lineno, message, comments, _context in extract_from_file(
                    "python", str(path), keywords=KEYWORDS, comment_tags=("staff:",)):
                if comments:
                    continue
                forms = [message] if isinstance(message, str) else list(message)
                for i, msgid in enumerate(forms):
                    danish = (i18n.gettext(msgid, locale=locale) if isinstance(message, str)
                              else i18n.gettext(forms[0], forms[1], 1 + i * 4, locale=locale))
                    if len(WORD.findall(re.sub(r"<[^>]+>|\{\w*\}|/\w+", " ", danish))) >= 10:
                        found.append((f"{rel}:{lineno}", danish))
    return found


def test_family_texts_read_easily() -> None:
    texts = family_texts()
    assert len(texts) > 50, "too few texts found: is the extractor looking in the right place?"
    scores = sorted(((lix(t), where, t) for where, t in texts), reverse=True)
    too_hard = [(round(s, 1), where, t[:80]) for s, where, t in scores if s > LIMIT]
    assert not too_hard, f"{len(too_hard)} family texts above LIX {LIMIT}: {too_hard[:8]}"


def test_family_texts_read_easily_in_english_too() -> None:
    """The second catalog reads as plainly: the same measure over what English readers see
    (the msgid, or the English catalog's plainer wording where it has one)."""
    texts = family_texts("en")
    assert len(texts) > 50
    too_hard = sorted(((round(lix(t), 1), where, t[:80]) for where, t in texts if lix(t) > LIMIT), reverse=True)
    assert not too_hard, f"{len(too_hard)} English family texts above LIX {LIMIT}: {too_hard[:8]}"


def figures(locale: str = "da") -> dict[str, float]:
    scores = sorted(lix(t) for _where, t in family_texts(locale))
    return {"texts": len(scores), "median": statistics.median(scores),
            "p90": scores[int(0.9 * len(scores))], "max": scores[-1],
            "above_goal": sum(1 for s in scores if s > GOAL)}


if __name__ == "__main__":  # python -m tests.test_plain_danish: the figures and the hardest texts
    import sys

    print({k: round(v, 1) for k, v in figures().items()}, "English:", {k: round(v, 1) for k, v in figures("en").items()})
    for score, where, text in sorted(((lix(t), w, t) for w, t in family_texts()), reverse=True)[
            :int(sys.argv[1]) if len(sys.argv) > 1 else 20]:
        print(f"{score:5.1f} {where:40} {text[:110]!r}")
