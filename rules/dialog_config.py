"""The municipality's input areas and rulers (Børnelinealen, Ungelinealen).

The configuration is a TOML file (see ``dialog_config.toml`` next to this module
for the default) validated with pydantic. Every problem becomes a
:class:`ConfigError` with one line that names the file and what is wrong, so an
administrator can fix it without reading a traceback.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

__all__ = [
    "AGE_GROUPS",
    "DEFAULT_CONFIG_PATH",
    "SCALE_MAX",
    "SCALE_MIN",
    "Area",
    "ConfigError",
    "DialogConfig",
    "Ruler",
    "RulerField",
    "load_dialog_config",
]

SCALE_MIN = 1
SCALE_MAX = 10
AGE_GROUPS: tuple[str, ...] = ("barn", "ung")
DEFAULT_CONFIG_PATH = Path(__file__).with_name("dialog_config.toml")

# Area keys travel inside 64-byte Telegram callback data, so they stay short ASCII.
_KEY_RE = re.compile(r"[a-z0-9_]{1,16}")
_COLOUR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
_EMPTY = "⬜"


class ConfigError(Exception):
    """The dialog configuration cannot be used; the message is one readable line."""


def _is_english(locale: str | None) -> bool:
    return locale is not None and locale.lower().startswith("en")


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


class _Model(BaseModel):
    # extra="forbid" turns a misspelt setting into an error instead of a silent default.
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Area(_Model):
    """One input area (inputområde), e.g. Sundhedsforhold, with an optional one-line plain
    explanation shown when a person chooses an area."""

    key: str
    label_da: str
    label_en: str
    explanation_da: str = ""
    explanation_en: str = ""

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: str) -> str:
        if not _KEY_RE.fullmatch(value):
            raise ValueError(f"key {value!r} must be 1-16 characters of a-z, 0-9 and _")
        return value

    @field_validator("label_da", "label_en")
    @classmethod
    def _check_label(cls, value: str) -> str:
        return _non_empty(value)

    def label(self, locale: str | None = "da") -> str:
        return self.label_en if _is_english(locale) else self.label_da

    def explanation(self, locale: str | None = "da") -> str:
        """The area's one-line explanation ("" when the configuration gives none)."""
        return self.explanation_en if _is_english(locale) else self.explanation_da


class RulerField(_Model):
    """One of a ruler's fields, e.g. 3-4 "Let bekymring"."""

    low: int
    high: int
    name_da: str
    name_en: str
    description_da: str
    description_en: str
    colour: str
    emoji: str

    @field_validator("name_da", "name_en", "description_da", "description_en", "emoji")
    @classmethod
    def _check_text(cls, value: str) -> str:
        return _non_empty(value)

    @field_validator("colour")
    @classmethod
    def _check_colour(cls, value: str) -> str:
        if not _COLOUR_RE.fullmatch(value):
            raise ValueError(f"colour {value!r} must be a hex colour like #2E9E44")
        return value.upper()

    @model_validator(mode="after")
    def _check_range(self) -> RulerField:
        if not SCALE_MIN <= self.low <= self.high <= SCALE_MAX:
            raise ValueError(
                f"low={self.low}, high={self.high} must satisfy "
                f"{SCALE_MIN} <= low <= high <= {SCALE_MAX}"
            )
        return self

    def name(self, locale: str | None = "da") -> str:
        return self.name_en if _is_english(locale) else self.name_da

    def description(self, locale: str | None = "da") -> str:
        return self.description_en if _is_english(locale) else self.description_da

    def contains(self, score: int) -> bool:
        return self.low <= score <= self.high


def _check_score(score: int) -> None:
    # bool is an int subclass; True must not pass as the score 1.
    if isinstance(score, bool) or not isinstance(score, int) or not SCALE_MIN <= score <= SCALE_MAX:
        raise ValueError(f"score must be an integer from {SCALE_MIN} to {SCALE_MAX}, not {score!r}")


class Ruler(_Model):
    """A 1-10 ruler split into fields of rising concern."""

    name_da: str
    name_en: str
    fields: list[RulerField]

    @field_validator("name_da", "name_en")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _non_empty(value)

    @model_validator(mode="after")
    def _check_fields(self) -> Ruler:
        if not self.fields:
            raise ValueError("a ruler needs at least one field")
        expected = SCALE_MIN
        for number, field in enumerate(self.fields, start=1):
            if field.low != expected:
                problem = "overlaps the one before" if field.low < expected else "leaves a gap"
                raise ValueError(
                    f"field {number} ({field.name_da}) starts at {field.low} but should start at "
                    f"{expected}: it {problem}; fields must be in rising order and cover "
                    f"{SCALE_MIN}-{SCALE_MAX} without gaps or overlaps"
                )
            expected = field.high + 1
        if expected != SCALE_MAX + 1:
            raise ValueError(f"the fields end at {expected - 1} but must cover up to {SCALE_MAX}")
        return self

    def name(self, locale: str | None = "da") -> str:
        return self.name_en if _is_english(locale) else self.name_da

    def field_for(self, score: int) -> RulerField:
        """The field a score falls in; ValueError outside 1..10."""
        _check_score(score)
        return next(field for field in self.fields if field.contains(score))

    def is_highest_field(self, score: int) -> bool:
        """True for a score in the most serious field: the coordinator must be alerted."""
        return self.field_for(score) is self.fields[-1]

    def bar(self, score: int) -> str:
        """A 10-character picture, e.g. score 4 -> 🟩🟩🟨🟨⬜⬜⬜⬜⬜⬜."""
        _check_score(score)
        return "".join(
            self.field_for(position).emoji if position <= score else _EMPTY
            for position in range(SCALE_MIN, SCALE_MAX + 1)
        )


class DialogConfig(_Model):
    """Input areas (in display order) and one ruler per age group."""

    areas: list[Area]
    rulers: dict[str, Ruler]

    @field_validator("areas")
    @classmethod
    def _check_areas(cls, areas: list[Area]) -> list[Area]:
        if not areas:
            raise ValueError("at least one input area is needed")
        seen: set[str] = set()
        for area in areas:
            if area.key in seen:
                raise ValueError(f"the key {area.key!r} is used by more than one area")
            seen.add(area.key)
        return areas

    @field_validator("rulers")
    @classmethod
    def _check_rulers(cls, rulers: dict[str, Ruler]) -> dict[str, Ruler]:
        unknown = sorted(set(rulers) - set(AGE_GROUPS))
        if unknown:
            raise ValueError(
                f"unknown age group {unknown[0]!r}; expected {' and '.join(AGE_GROUPS)}"
            )
        missing = [group for group in AGE_GROUPS if group not in rulers]
        if missing:
            raise ValueError(f"the ruler for age group {missing[0]!r} is missing")
        return rulers

    def area(self, key: str) -> Area:
        for area in self.areas:
            if area.key == key:
                return area
        raise KeyError(key)

    def ruler(self, age_group: str) -> Ruler:
        return self.rulers[age_group]


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _describe(error: Any) -> str:
    if error["type"] == "value_error":
        message = str(error["ctx"]["error"])
    elif error["type"] == "missing":
        message = "is missing"
    elif error["type"] == "extra_forbidden":
        message = "is not a known setting"
    else:
        message = error["msg"][:1].lower() + error["msg"][1:]
    where = _location(error["loc"])
    return f"{where}: {message}" if where else message


def load_dialog_config(path: str | Path | None = None) -> DialogConfig:
    """Load and validate a dialog configuration; None loads the packaged default."""
    source = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the file ({exc.strerror or exc})") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: the file is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        # The message carries "(at line N, column M)".
        raise ConfigError(f"{source}: TOML syntax error: {exc}") from exc
    try:
        return DialogConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigError(f"{source}: {_describe(errors[0])}{more}") from None
