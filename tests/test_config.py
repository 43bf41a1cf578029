"""Issue #2, configuration: pydantic-settings from the environment or `.env`, and a bad value
stops the real console entry with one clear line naming the variable and exit code 2."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.config import Settings, load_settings
from tests.helpers import samspil_cli

GOOD_TOKEN = "123456789:AAbbCCddEEff"


def test_defaults_are_danish_and_safe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("BOT_TOKEN", "BOT_API_URL", "DATABASE_URL", "REDIS_URL", "DEFAULT_LOCALE",
                 "TIMEZONE", "INVITE_TTL_DAYS", "MUNICIPALITY_NAME"):
        monkeypatch.delenv(name, raising=False)
    s = Settings(_env_file=None)
    assert s.default_locale == "da"
    assert s.timezone == "Europe/Copenhagen" and str(s.tz) == "Europe/Copenhagen"
    assert s.invite_ttl_days == 14
    assert s.bot_api_url == "https://api.telegram.org"
    assert s.database_url.startswith("sqlite+aiosqlite://")
    assert s.redis_url is None
    assert s.bot_token is None


def test_every_variable_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    values = {
        "BOT_TOKEN": GOOD_TOKEN,
        "BOT_API_URL": "http://127.0.0.1:8081/",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "REDIS_URL": "redis://localhost:6379/0",
        "DEFAULT_LOCALE": "en",
        "TIMEZONE": "Europe/Berlin",
        "INVITE_TTL_DAYS": "7",
        "MUNICIPALITY_NAME": "Faxe Kommune",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    s = Settings(_env_file=None)
    assert s.token == GOOD_TOKEN
    assert s.bot_api_url == "http://127.0.0.1:8081"  # trailing slash dropped
    assert s.database_url == values["DATABASE_URL"]
    assert s.redis_url == "redis://localhost:6379/0"
    assert s.default_locale == "en"
    assert s.timezone == "Europe/Berlin"
    assert s.invite_ttl_days == 7
    assert s.municipality_name == "Faxe Kommune"


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INVITE_TTL_DAYS", raising=False)
    monkeypatch.delenv("MUNICIPALITY_NAME", raising=False)
    (tmp_path / ".env").write_text("INVITE_TTL_DAYS=21\nMUNICIPALITY_NAME=Køge Kommune\n", encoding="utf-8")
    s = Settings()
    assert s.invite_ttl_days == 21
    assert s.municipality_name == "Køge Kommune"


@pytest.mark.parametrize("name, value", [
    ("TIMEZONE", "Mars/Base"),
    ("INVITE_TTL_DAYS", "abc"),
    ("INVITE_TTL_DAYS", "0"),
    ("DATABASE_URL", "mysql://x"),
    ("BOT_TOKEN", "nonsense"),
    ("DEFAULT_LOCALE", "fr"),
    ("REDIS_URL", "http://localhost"),
    ("BOT_API_URL", "ftp://example.org"),
])
def test_a_malformed_value_is_a_validation_error_naming_it(name: str, value: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as exc:
        Settings(_env_file=None)
    assert exc.value.errors()[0]["loc"][0] == name.lower()


# ---- through the real console entry ---------------------------------------------------------

# Every variable goes through the same `load_settings` path; a real process for the cases the
# issue names (each costs a fresh interpreter), the rest in this process below.
BAD = [
    ("TIMEZONE", "Mars/Base"),
    ("INVITE_TTL_DAYS", "abc"),
    ("DATABASE_URL", "mysql://x"),
    ("DATABASE_URL", "sqlite+aiosqlite:////no/such/folder/samspil.db"),
    ("BOT_TOKEN", "nonsense"),
]
MIGRATE_BAD = [BAD[0], BAD[2]]
MORE_BAD = [
    ("INVITE_TTL_DAYS", "-3"),
    ("DEFAULT_LOCALE", "fr"),
    ("REDIS_URL", "http://localhost:6379"),
    ("BOT_API_URL", "not a url"),
    ("MUNICIPALITY_NAME", "K" * 500),
    ("DATABASE_URL", "postgresql+asyncpg://u:p@h:notaport/db"),
    ("MEETING_REMINDER_DAYS", "3,x"),
    ("TASK_REMINDER_DAYS", "[2,"),
    ("MEETING_REMINDER_DAYS", "-1"),
]


def assert_one_clear_line(run, variable: str, cwd: Path) -> None:  # type: ignore[no-untyped-def]
    assert run.code == 2, (run.code, run.stderr)
    assert "Traceback" not in run.stderr
    assert len(run.stderr_lines) == 1, run.stderr
    line = run.stderr_lines[0]
    assert line.startswith("Configuration error: ") and variable in line, line
    assert run.stdout == ""
    # Nothing was started: no database appeared in the working folder.
    assert not list(cwd.glob("*.db*"))


@pytest.mark.parametrize("command, cases", [("run", BAD), ("migrate", MIGRATE_BAD)])
async def test_bad_values_stop_the_program_with_one_line(
    command: str, cases: list[tuple[str, str]], tmp_path: Path,
) -> None:
    async def one(i: int, name: str, value: str):  # type: ignore[no-untyped-def]
        cwd = tmp_path / f"{i}"
        cwd.mkdir()
        env = {"BOT_TOKEN": GOOD_TOKEN, name: value}
        return name, cwd, await samspil_cli(command, cwd=cwd, **env)

    results = await asyncio.gather(*(one(i, n, v) for i, (n, v) in enumerate(cases)))
    for name, cwd, run in results:
        assert_one_clear_line(run, name, cwd)


async def test_run_without_a_token_names_bot_token(tmp_path: Path) -> None:
    run = await samspil_cli("run", cwd=tmp_path)
    assert_one_clear_line(run, "BOT_TOKEN", tmp_path)


async def test_a_bad_value_in_the_dotenv_file_is_reported_the_same_way(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={GOOD_TOKEN}\nTIMEZONE=Mars/Base\n", encoding="utf-8")
    run = await samspil_cli("run", cwd=tmp_path)
    assert_one_clear_line(run, "TIMEZONE", tmp_path)


@pytest.mark.parametrize("name, value", MORE_BAD)
def test_load_settings_exits_2_with_one_line_naming_the_variable(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_TOKEN", GOOD_TOKEN)
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exc:
        load_settings()
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"Configuration error: {name}: "), err


def test_reminder_days_are_written_the_way_people_write_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEETING_REMINDER_DAYS", "5, 2")
    monkeypatch.setenv("TASK_REMINDER_DAYS", "[3, 0]")
    settings = Settings(_env_file=None)
    assert (settings.meeting_reminder_days, settings.task_reminder_days) == ([5, 2], [3, 0])


def test_every_setting_is_in_the_readme_table() -> None:
    """README, "Configuration": one row per setting, so nothing is configurable unseen."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().strip("`") for line in readme.splitlines()
            if line.startswith("| `")}
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in rows]
    assert missing == []
