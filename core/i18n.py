"""Danish-first i18n: gettext catalogs compiled at start-up, a person's locale, dates.

Catalogs live in `locales/<lang>/LC_MESSAGES/*.po`, one file per flow so that
translators (and developers) touch small files; at start-up every language's
files are merged and compiled into one `samspil.mo` for aiogram's `I18n`.
No manual compile step exists.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _  # noqa: F401  (re-exported for handlers)
from aiogram.utils.i18n import lazy_gettext as __  # noqa: F401
from babel.dates import format_date, format_datetime, format_time
from babel.lists import format_list
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import locales

DOMAIN = "samspil"
LOCALES_DIR = Path(locales.__file__).parent
LANGUAGES = ("da", "en")


def _po_files(src: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for lang_dir in sorted(p for p in src.iterdir() if p.is_dir() and p.name in LANGUAGES):
        found[lang_dir.name] = sorted((lang_dir / "LC_MESSAGES").glob("*.po"))
    return found


def compile_catalogs(src: Path = LOCALES_DIR, out: Path | None = None) -> Path:
    """Merge and compile the .po files; returns the directory for `I18n(path=...)`.

    The output goes to a directory keyed by the catalogs' content, so several
    processes starting at once reuse one compilation, and a read-only install works.
    """
    files = _po_files(src)
    digest = hashlib.sha256()
    for lang, paths in files.items():
        for p in paths:
            digest.update(lang.encode() + p.name.encode() + p.read_bytes())
    if out is None:
        out = Path(tempfile.gettempdir()) / f"samspil-locales-{digest.hexdigest()[:16]}"
    for lang, paths in files.items():
        target = out / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if target.exists():
            continue
        merged = Catalog(locale=lang, domain=DOMAIN)
        for p in paths:
            with p.open("rb") as fh:
                cat = read_po(fh, locale=lang)
            for msg in cat:
                if msg.id and msg.string and not msg.fuzzy:
                    merged[msg.id] = msg
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, merged)
        os.replace(tmp, target)
    return out


def make_i18n(default_locale: str = "da") -> I18n:
    return I18n(path=compile_catalogs(), default_locale=default_locale, domain=DOMAIN)


def locale_for(user: User | None, chosen: str | None, default: str = "da") -> str:
    """A person's chosen language, else their Telegram app's, else Danish."""
    if chosen in LANGUAGES:
        return chosen  # type: ignore[return-value]
    code = (user.language_code or "") if user else ""
    lang = code.split("-")[0].lower()
    return lang if lang in LANGUAGES else default


class SamspilI18nMiddleware(I18nMiddleware):
    """Picks the locale from the person's stored choice (loaded by the session middleware)."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        return locale_for(data.get("event_from_user"), data.get("person_locale"),
                          self.i18n.default_locale)


# --- dates and times in the person's locale and the configured time zone -------------

_tz: Any = None


def set_timezone(tz: Any) -> None:
    global _tz
    _tz = tz


def current_timezone() -> Any:
    """The configured time zone (None before the app has set it)."""
    return _tz


def _locale() -> str:
    try:
        return I18n.get_current().current_locale
    except LookupError:
        return "da"


def fmt_date(d: date | datetime, fmt: str = "long") -> str:
    if isinstance(d, datetime):
        d = d.astimezone(_tz).date() if _tz else d.date()
    return format_date(d, format=fmt, locale=_locale())


def fmt_datetime(dt: datetime, fmt: str = "long") -> str:
    """E.g. da: '12. marts 2027 kl. 14.00', en: 'March 12, 2027 at 2:00 PM'."""
    local = dt.astimezone(_tz) if _tz else dt
    loc = _locale()
    day = format_date(local.date(), format=fmt, locale=loc)
    clock = format_time(local.time(), format="short", locale=loc)
    return _("{date} at {time}").format(date=day, time=clock)


def fmt_short(dt: datetime) -> str:
    """Compact date for lists: '12.03.2027'."""
    return format_datetime(dt, format="short", tzinfo=_tz, locale=_locale()).split(" ")[0]


def clock_text(t: time, locale: str) -> str:
    """"8.00" / "8:00 AM" (Danish without the leading zero: "kl. 8.00")."""
    return format_time(t, format="H.mm" if locale.startswith("da") else "short", locale=locale)


def times_text(times: Sequence[time], locale: str) -> str:
    """"8.00 og 14.00" / "8:00 AM and 2:00 PM"."""
    return format_list([clock_text(t, locale) for t in times], locale=locale)
