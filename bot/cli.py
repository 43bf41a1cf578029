"""The `samspil` command line.

    samspil run                       run the bot (long polling)
    samspil migrate                   upgrade the database
    samspil demo                      play a whole dialog against the local emulator
    samspil emulator --port 8081      run the local Bot API emulator on its own
    samspil admin add-coordinator --name "Navn"
    samspil admin add-professional --name "Navn" --title "Titel"
    samspil admin new-key                          print a fresh DATA_KEY
    samspil admin rotate-key --new-key-file F      re-encrypt everything with a new key
    samspil admin audit --dialog N [--names]       who read or did what in a dialog
    samspil admin purge [--dry-run]                delete what is past retention
    samspil admin erase-person --telegram-id N     erase a person's data on request (or --person-id, or
                                                   --participant-id for a participant without Telegram)
    samspil admin transfer-dialog --dialog N --to M --note "..."   hand a dialog to another coordinator
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import logging
import sys
from pathlib import Path

from bot.gc_on_loop import freeze_start_up, run_collecting_on_the_loop
from core.config import ConfigError, Settings, fail, load_settings
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
    demo.add_argument("--web", action="store_true",
                      help="keep the finished demo running with its Mini App, and print each person's URL")
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
    asub.add_parser("new-key", help="print a fresh data key (base64) for DATA_KEY or DATA_KEY_FILE")
    rk = asub.add_parser("rotate-key", help="re-encrypt every name and text with a new data key")
    new = rk.add_mutually_exclusive_group(required=True)
    new.add_argument("--new-key-file", help="file holding the new key (from `samspil admin new-key`)")
    new.add_argument("--new-key", help="the new key itself (prefer --new-key-file: no shell history)")
    rk.add_argument("--batch-size", type=int, default=200, help="rows per transaction (default 200)")
    au = asub.add_parser("audit", help="print a dialog's audit log: who read or did what, and when")
    au.add_argument("--dialog", type=int, required=True, help="the dialog's id")
    au.add_argument("--names", action="store_true", help="show names (personal data: for the DPO)")
    pu = asub.add_parser("purge", help="delete closed dialogs past RETENTION_DAYS, expired links, old rows")
    pu.add_argument("--dry-run", action="store_true", help="only show what would be deleted")
    er = asub.add_parser("erase-person", help="erase a person's personal data on request (KEEP_ON_ERASE is kept, "
                                              "without the name)")
    who = er.add_mutually_exclusive_group(required=True)
    who.add_argument("--telegram-id", type=int, help="the person's Telegram user id")
    who.add_argument("--person-id", type=int, help="the person's id in Samspil")
    who.add_argument("--participant-id", type=int, help="a participant without Telegram (no person): their seat's id")
    tr = asub.add_parser("transfer-dialog", help="hand a dialog over to another registered coordinator; "
                                                 "everyone in it is told")
    tr.add_argument("--dialog", type=int, required=True, help="the dialog's id")
    tr.add_argument("--to", type=int, required=True, help="the new coordinator's person id or Telegram id")
    tr.add_argument("--note", default=None, help="a short note for the new coordinator")
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
    # On SIGTERM aiogram cancels the update being handled; its transaction rolls back
    # (the update was not confirmed and comes again) and the pool reports the
    # cancelled rollback with a traceback. That is the shutdown, not a fault.
    logging.getLogger("sqlalchemy.pool").addFilter(_not_a_cancelled_rollback)


def _not_a_cancelled_rollback(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    return not isinstance(exc, asyncio.CancelledError)


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from bot.demo import run_demo

            raise SystemExit(asyncio.run(run_demo(args.out, web=args.web)))
        if args.command == "emulator":
            from emulator import serve_forever

            asyncio.run(serve_forever(args.host, args.port, args.token))
            return
        if args.command == "admin" and args.admin_command == "new-key":
            from storage.crypto import new_key

            print(new_key())
            return
        settings = load_settings()
        _logging(settings)
        if args.command == "run":
            # A crash below Python (a segfault in an extension) leaves the Python stack on
            # stderr, the log: file, line and function names only, never values.
            faulthandler.enable()
            # The garbage collector runs between the loop's callbacks (bot/gc_on_loop.py: on
            # PostgreSQL the process crashed now and then with automatic collection).
            asyncio.run(run_collecting_on_the_loop(_run(settings, webhook=args.webhook or bool(settings.webhook_url))))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "admin":
            asyncio.run(_admin(settings, args))
    except (ConfigError, DialogConfigError) as exc:
        fail(f"Configuration error: {exc}")


async def _run(settings: Settings, *, webhook: bool = False) -> None:
    # Before any import that logs (alembic logs its plugins at INFO when imported):
    # a missing token stops here with exactly one line.
    settings.token  # noqa: B018
    if webhook and not settings.webhook_url:
        raise ConfigError("WEBHOOK_URL: required in webhook mode (the public https URL Telegram posts to)")
    settings.key_ring()  # no data key: one line naming DATA_KEY, before anything starts
    from bot.app import build_app, run_polling

    app = await build_app(settings)
    if settings.web_public_url:  # the Mini App, in this process, on its own port
        from web.server import start_web

        runner, port = await start_web(app)
        app.closers.append(runner.cleanup)
        logging.getLogger("samspil.web").info("mini app serving port=%s", port)
    # Start-up's objects live as long as the process: out of every later collection.
    frozen = freeze_start_up()
    logging.getLogger("samspil").info("start-up objects frozen count=%s", frozen)
    try:
        if webhook:
            from bot.webhook import run_webhook

            await run_webhook(app)
        else:
            await run_polling(app)
    finally:
        await app.close()


async def _migrate(settings: Settings) -> None:
    from storage.db import make_engine, upgrade

    # Upgrading encrypts what an older version stored as plaintext: it needs the key.
    settings.install_key_ring()
    engine = make_engine(settings.database_url, schema=settings.database_schema)
    await upgrade(engine)
    await engine.dispose()
    print("Database is up to date.")


def _read_text(path: str) -> str:
    return Path(path).expanduser().read_text(encoding="ascii")


async def _admin(settings: Settings, args: argparse.Namespace) -> None:
    settings.install_key_ring()  # before importing aiogram (seconds): no key, one line at once
    from bot import admin
    from bot.admin import add_staff

    if args.admin_command == "erase-person":
        print("\n".join(await admin.erase_person(settings, telegram_id=args.telegram_id, person_id=args.person_id,
                                                 participant_id=args.participant_id)))
        return
    if args.admin_command == "transfer-dialog":
        print("\n".join(await admin.transfer_dialog(settings, dialog_id=args.dialog, to=args.to, note=args.note)))
        return
    if args.admin_command in ("rotate-key", "audit", "purge"):
        if args.admin_command == "rotate-key":
            if args.new_key_file:
                try:
                    text = await asyncio.to_thread(_read_text, args.new_key_file)
                except (OSError, UnicodeDecodeError) as exc:
                    raise ConfigError(f"--new-key-file: cannot read {args.new_key_file!r} "
                                      f"({type(exc).__name__})") from None
            else:
                text = args.new_key
            lines = await admin.rotate_key(settings, text, batch_size=max(1, args.batch_size))
        elif args.admin_command == "audit":
            lines = await admin.audit_log(settings, args.dialog, names=args.names)
        else:
            lines = await admin.purge(settings, dry_run=args.dry_run)
        print("\n".join(lines))
        return

    role = "coordinator" if args.admin_command == "add-coordinator" else "professional"
    link = await add_staff(settings, role=role, name=args.name, title=getattr(args, "title", None))
    print(link)


if __name__ == "__main__":
    main()
