"""Configuration from the environment and an optional `.env` file (pydantic-settings).

A missing or malformed value stops the program with one clear line naming the
variable and exit code 2 (see `load_settings`), never a traceback.
"""

from __future__ import annotations

import re
import sys
from datetime import time
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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
    default_locale: str = "da"
    timezone: str = "Europe/Copenhagen"
    invite_ttl_days: int = Field(default=14, ge=1, le=365)
    municipality_name: str = Field(default="Kommunen", max_length=120)
    dialog_config: Path | None = Field(default=None, description="TOML file with input areas and rulers")
    log_level: str = "INFO"
    # Webhook mode (`samspil run --webhook`, or WEBHOOK_URL set): the public URL Telegram
    # posts to, the secret it sends along, and where this process listens.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    # Quiet hours for family members: nothing is sent between these local times.
    quiet_hours_start: time = time(20, 0)
    quiet_hours_end: time = time(8, 0)
    # Delivery of notices (bot/scheduler.py): Telegram allows about 30 messages/s overall
    # and 1/s per chat; stay a little below.
    send_rate: float = Field(default=25.0, gt=0, le=1000)
    send_chat_interval: float = Field(default=1.0, ge=0, le=60)
    send_concurrency: int = Field(default=32, ge=1, le=1000)
    outbox_batch: int = Field(default=200, ge=1, le=10000)
    outbox_lease_seconds: int = Field(default=60, ge=1, le=3600)
    # Reminders (days before a meeting; days before a task's end, and the hour they go out).
    meeting_reminder_days: list[int] = [3, 1]
    task_reminder_days: list[int] = [2, 0]
    reminder_hour: int = Field(default=9, ge=0, le=23)

    @field_validator("database_schema", "redis_url", "bot_username", "webhook_url", "webhook_secret",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        return None if v == "" else v

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not _TOKEN_RE.match(v.get_secret_value()):
            raise ValueError("does not look like a bot token (digits:letters)")
        return v

    @field_validator("webhook_url")
    @classmethod
    def _webhook_shape(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be an http(s) URL")
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

    @property
    def token(self) -> str:
        if self.bot_token is None:
            raise ConfigError("BOT_TOKEN: missing (get one from @BotFather)")
        return self.bot_token.get_secret_value()


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


def fail(line: str, code: int = 2) -> None:  # type: ignore[misc]
    print(line, file=sys.stderr)
    raise SystemExit(code)
