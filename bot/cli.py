"""The `samspil` command line.

    samspil run                       run the bot (long polling)
    samspil migrate                   upgrade the database
    samspil demo                      play a whole dialog against the local emulator
    samspil emulator --port 8081      run the local Bot API emulator on its own
    samspil admin add-coordinator --name "Navn"
    samspil admin add-professional --name "Navn" --title "Titel"
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, Settings, fail, load_settings
from rules.dialog_config import ConfigError as DialogConfigError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="samspil", description="Samspil – Familiedialog in Telegram")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot: long polling, or a webhook server with --webhook")
    run.add_argument("--webhook", action="store_true",
                     help="serve WEBHOOK_URL's path on WEBHOOK_HOST:WEBHOOK_PORT (also when WEBHOOK_URL is set)")
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    demo = sub.add_parser("demo", help="play a whole dialog against the local emulator")
    demo.add_argument("--out", default=None, help="folder for the demo's files (default: a temp folder)")
    emu = sub.add_parser("emulator", help="run the local Bot API emulator")
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--port", type=int, default=8081)
    emu.add_argument("--token", default="123456789:TEST-token")

    admin = sub.add_parser("admin", help="administrator commands")
    asub = admin.add_subparsers(dest="admin_command", required=True)
    c = asub.add_parser("add-coordinator", help="print a registration link for a coordinator")
    c.add_argument("--name", required=True)
    pr = asub.add_parser("add-professional", help="print a registration link for a professional")
    pr.add_argument("--name", required=True)
    pr.add_argument("--title", required=True)
    return p


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    # aiogram logs update ids and handler timings, never message content, at INFO.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # Alembic announces its plugins at INFO on import: noise before any one-line error.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from bot.demo import run_demo

            raise SystemExit(asyncio.run(run_demo(args.out)))
        if args.command == "emulator":
            from bot.emulator import serve_forever

            asyncio.run(serve_forever(args.host, args.port, args.token))
            return
        settings = load_settings()
        _logging(settings)
        if args.command == "run":
            asyncio.run(_run(settings, webhook=args.webhook or bool(settings.webhook_url)))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "admin":
            asyncio.run(_admin(settings, args))
    except (ConfigError, DialogConfigError) as exc:
        fail(f"Configuration error: {exc}")


async def _run(settings: Settings) -> None:
    # Before any import that logs (alembic logs its plugins at INFO when imported):
    # a missing token stops here with exactly one line.
    settings.token  # noqa: B018
    from bot.app import build_app, run_polling

    app = await build_app(settings)
    try:
        await run_polling(app)
    finally:
        await app.close()


async def _migrate(settings: Settings) -> None:
    from storage.db import make_engine, upgrade

    engine = make_engine(settings.database_url, schema=settings.database_schema)
    await upgrade(engine)
    await engine.dispose()
    print("Database is up to date.")


async def _admin(settings: Settings, args: argparse.Namespace) -> None:
    from bot.admin import add_staff

    role = "coordinator" if args.admin_command == "add-coordinator" else "professional"
    link = await add_staff(settings, role=role, name=args.name, title=getattr(args, "title", None))
    print(link)


if __name__ == "__main__":
    main()
