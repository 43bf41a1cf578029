"""Configuration from the environment and an optional `.env` file (pydantic-settings).

A missing or malformed value stops the program with one clear line naming the
variable and exit code 2 (see `load_settings`), never a traceback.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from storage import crypto

TELEGRAM_API_URL = "https://api.telegram.org"
_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{5,100}$")
SUPPORTED_LOCALES = ("da", "en")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = Field(default=None, description="token from BotFather")
    bot_api_url: str = Field(default=TELEGRAM_API_URL, description="base URL of the Bot API server")
    bot_username: str | None = Field(default=None, description="bot username for links; asked from getMe when unset")
    database_url: str = "sqlite+aiosqlite:///./samspil.db"
    # PostgreSQL only: keep Samspil's tables in this schema (e.g. one per municipality).
    database_schema: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    redis_url: str | None = None
    redis_prefix: str = Field(default="samspil", pattern=r"^[A-Za-z0-9_-]{1,40}$")  # several bots, one Redis
    # With Redis: the time to live of one person's conversation lock. Its holder renews it
    # while the update runs, however long (storage/fsm.py HeldLocks); a process killed while
    # handling that person's update leaves it behind for at most this long, and the process
    # that polls next waits for it.
    fsm_lock_seconds: int = Field(default=15, ge=2, le=300)
    # Long polling (bot/polling.py): updates of one batch handled at the same time at most;
    # one person's updates always one after the other. 1: one update after the other.
    update_concurrency: int = Field(default=16, ge=1, le=256)
    default_locale: str = "da"
    timezone: str = "Europe/Copenhagen"
    invite_ttl_days: int = Field(default=14, ge=1, le=365)
    # The coordinator's desk (/dialoger): consent awaited longer than this needs the coordinator.
    consent_wait_days: int = Field(default=7, ge=1, le=365)
    municipality_name: str = Field(default="Kommunen", max_length=120)
    # The referat is the family's own minutes: sent without protect_content (they may save and
    # forward it) unless this is set.
    referat_protect_content: bool = False
    # Where families ask the municipality about their data (its data protection officer): an
    # e-mail address, a phone number or both, shown on the consent card and in "Read more
    # about your data". Empty: the line is left out.
    municipality_privacy_contact: str = Field(default="", max_length=200)
    dialog_config: Path | None = Field(default=None, description="TOML file with input areas and rulers")
    log_level: str = "INFO"
    # Webhook mode (`samspil run --webhook`, or WEBHOOK_URL set): the public URL Telegram
    # posts to, the secret it sends along, and where this process listens.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    # The Mini App (web/): served by the bot's own process on WEB_PORT, reachable by Telegram
    # at WEB_PUBLIC_URL (https, behind the reverse proxy). Unset: no web app, chat only.
    web_public_url: str | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8081, ge=0, le=65535)
    # How long a page's signed initData is accepted, in seconds (Telegram signs it when opened).
    web_auth_max_age: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # What the chat may carry (issue #14): "full" (every text in the chat, as always) or "minimal"
    # (no child's name, free text or document passes through Telegram: notices say that there is
    # something new, with a button into the Mini App). Minimal needs the Mini App: WEB_PUBLIC_URL.
    # Declared after web_public_url: its validator reads that value.
    chat_content: Literal["full", "minimal"] = "full"
    # Quiet hours for family members: nothing is sent between these local times.
    quiet_hours_start: time = time(20, 0)
    quiet_hours_end: time = time(8, 0)
    # A coordinator's routine notices (rules/notice_urgency.py): gathered in a digest at these
    # local times on weekdays ("08:00,14:00"), or sent at once ("at_once"), until the
    # coordinator chooses otherwise with /notifikationer. Urgent notices always go at once.
    coordinator_notices: str = Field(default="digest", pattern=r"^(digest|at_once)$")
    digest_times: str = "08:00,14:00"
    # Delivery of notices (bot/scheduler.py): Telegram allows about 30 messages/s overall
    # and 1/s per chat; stay a little below.
    send_rate: float = Field(default=25.0, gt=0, le=1000)
    send_chat_interval: float = Field(default=1.0, ge=0, le=60)
    send_concurrency: int = Field(default=32, ge=1, le=1000)
    outbox_batch: int = Field(default=200, ge=1, le=10000)
    outbox_lease_seconds: int = Field(default=60, ge=1, le=3600)
    # Answering a person's own action (bot/telegram.py AnswerGuard): a 429 asking to wait
    # up to this many seconds (in all, per update) is waited out; a longer one, or a
    # Telegram outage, sends the answer later through the outbox.
    answer_retry_max_wait: float = Field(default=5.0, ge=0, le=60)
    # Reminders (days before a meeting; days before a task's end, and the hour they go out).
    # Written "3,1" (or as JSON, "[3, 1]"); NoDecode: pydantic-settings would take JSON only.
    meeting_reminder_days: Annotated[list[int], NoDecode] = [3, 1]
    task_reminder_days: Annotated[list[int], NoDecode] = [2, 0]
    reminder_hour: int = Field(default=9, ge=0, le=23)
    # What the municipality must keep when a person's data is erased (/slet_mine_data,
    # `samspil admin erase-person`): kept without the name, free text blanked where not
    # required. Comma-separated from: consents, plan, input, scores (storage/privacy.py).
    keep_on_erase: str = "consents,plan"
    # Encryption at rest (storage/crypto.py): every name and free text is encrypted with
    # DATA_KEY (base64 of 32 bytes; `samspil admin new-key`) or the key in DATA_KEY_FILE.
    # DATA_KEYS_OLD: earlier keys, comma-separated, still accepted for reading (key rotation).
    data_key: SecretStr | None = None
    data_key_file: Path | None = None
    data_keys_old: SecretStr | None = None
    # Closed dialogs are deleted this many days after they were closed (5 years: see README).
    retention_days: int = Field(default=5 * 365, ge=1, le=100 * 365)

    @field_validator("database_schema", "redis_url", "bot_username", "webhook_url", "webhook_secret",
                     "web_public_url",
                     "data_key", "data_key_file", "data_keys_old", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        return None if v == "" else v

    @field_validator("meeting_reminder_days", "task_reminder_days", mode="before")
    @classmethod
    def _days(cls, v: object) -> object:
        if not isinstance(v, str):
            return v
        text = v.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except ValueError:
                raise ValueError("write whole days separated by commas, e.g. 3,1") from None
        try:
            days = [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise ValueError("write whole days separated by commas, e.g. 3,1") from None
        if any(d < 0 or d > 365 for d in days):
            raise ValueError("each day must be between 0 and 365")
        return days

    @field_validator("digest_times")
    @classmethod
    def _digest_times(cls, v: str) -> str:
        from rules.digest import format_times, parse_times

        return format_times(parse_times(v))

    @property
    def digest_time_list(self) -> tuple[time, ...]:
        from rules.digest import parse_times

        return parse_times(self.digest_times)

    @field_validator("web_public_url")
    @classmethod
    def _https(cls, v: str | None) -> str | None:
        # Telegram opens a Mini App only from an https address.
        if v is not None and not v.startswith("https://"):
            raise ValueError("must be the https address of the Mini App, e.g. https://samspil.example.dk")
        return v

    @field_validator("chat_content")
    @classmethod
    def _minimal_needs_the_mini_app(cls, v: str, info: ValidationInfo) -> str:
        if v == "minimal" and not info.data.get("web_public_url"):
            raise ValueError("minimal needs the Mini App: set WEB_PUBLIC_URL too (the pages carry what the chat "
                             "leaves out)")
        return v

    @field_validator("keep_on_erase")
    @classmethod
    def _keep_shape(cls, v: str) -> str:
        from storage.privacy import KEEPABLE

        parts = [p.strip().lower() for p in v.split(",") if p.strip()]
        unknown = [p for p in parts if p not in KEEPABLE]
        if unknown:
            raise ValueError(f"unknown {', '.join(unknown)}; choose from {', '.join(KEEPABLE)}")
        return ",".join(parts)

    @property
    def keep_on_erase_set(self) -> frozenset[str]:
        return frozenset(p for p in self.keep_on_erase.split(",") if p)

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not _TOKEN_RE.match(v.get_secret_value()):
            raise ValueError("does not look like a bot token (digits:letters)")
        return v

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", v.get_secret_value()):
            raise ValueError("1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return v

    @field_validator("webhook_url")
    @classmethod
    def _webhook_shape(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL")
        return v

    @field_validator("data_key")
    @classmethod
    def _data_key_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            crypto.parse_key(v.get_secret_value())
        return v

    @field_validator("data_key_file")
    @classmethod
    def _data_key_file(cls, v: Path | None) -> Path | None:
        if v is not None:
            _read_key_file(v)
        return v

    @field_validator("data_keys_old")
    @classmethod
    def _old_keys_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            for i, part in enumerate(_split_keys(v.get_secret_value()), 1):
                try:
                    crypto.parse_key(part)
                except ValueError as exc:
                    raise ValueError(f"key {i}: {exc}") from None
        return v

    @field_validator("bot_api_url")
    @classmethod
    def _url_shape(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _db_shape(cls, v: str) -> str:
        if not (v.startswith("sqlite+aiosqlite://") or v.startswith("postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        try:
            url = make_url(v)
        except (ArgumentError, ValueError):
            raise ValueError("is not a valid database URL") from None
        # A SQLite file in a folder that does not exist cannot be created: say so now,
        # not with a traceback from the first query.
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" \
                and not url.database.startswith("file:"):
            folder = Path(url.database).expanduser().parent
            if not folder.is_dir():
                raise ValueError(f"the folder {str(folder)!r} does not exist")
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis_shape(cls, v: str | None) -> str | None:
        if v in (None, ""):
            return None
        if not re.match(r"^rediss?://", v):
            raise ValueError("must start with redis:// or rediss://")
        return v

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, v: str) -> str:
        if v not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.upper()
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return v

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def key_ring(self) -> crypto.KeyRing:
        """DATA_KEY (or DATA_KEY_FILE) and DATA_KEYS_OLD as a key ring; ConfigError naming DATA_KEY."""
        if self.data_key is not None and self.data_key_file is not None:
            raise ConfigError("DATA_KEY, DATA_KEY_FILE: set one of them, not both")
        if self.data_key is not None:
            current = crypto.parse_key(self.data_key.get_secret_value())
        elif self.data_key_file is not None:
            current = _read_key_file(self.data_key_file)
        else:
            raise ConfigError("DATA_KEY: missing – names and texts are stored encrypted with it; "
                              "make one with `samspil admin new-key` and set DATA_KEY (or DATA_KEY_FILE)")
        old = [crypto.parse_key(k) for k in _split_keys(
            self.data_keys_old.get_secret_value() if self.data_keys_old else "")]
        return crypto.KeyRing(current, tuple(old))

    def install_key_ring(self) -> crypto.KeyRing:
        """Make this process read and write personal text with these settings' keys."""
        ring = self.key_ring()
        crypto.install(ring)
        return ring

    @property
    def token(self) -> str:
        if self.bot_token is None:
            raise ConfigError("BOT_TOKEN: missing (get one from @BotFather)")
        return self.bot_token.get_secret_value()


def _split_keys(text: str) -> list[str]:
    return [part for part in re.split(r"[,\s]+", text) if part]


def _read_key_file(path: Path) -> bytes:
    try:
        raw = path.expanduser().read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {str(path)!r} ({type(exc).__name__})") from None
    try:
        return crypto.parse_key(raw)
    except ValueError as exc:
        raise ValueError(f"the key in {str(path)!r} {exc}") from None


class ConfigError(Exception):
    """A configuration problem, reported as one line."""


def describe_validation_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    name = str(err["loc"][0]).upper() if err["loc"] else "configuration"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{name}: {msg}"


def load_settings(**overrides: object) -> Settings:
    """Settings, or exit 2 with one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        fail(f"Configuration error: {describe_validation_error(exc)}")
    except SettingsError as exc:  # a value pydantic-settings could not even parse
        fail(f"Configuration error: {exc}")


def fail(line: str, code: int = 2) -> None:  # type: ignore[misc]
    print(line, file=sys.stderr)
    raise SystemExit(code)
