"""A local Telegram Bot API emulator: developer tooling for the tests, the demo and the benchmarks.

It imports nothing from Samspil: the product talks to it over HTTP exactly as to Telegram,
and the tests play the people on the other side (emulator/botapi.py says how).
"""

from emulator.botapi import (
    DEFAULT_TOKEN,
    BotAPIEmulator,
    CallbackAnswer,
    ChatMessage,
    EntityParseError,
    Group,
    Hold,
    Phone,
    ReceivedDocument,
    SentRecord,
    parse_html,
    serve_forever,
)

__all__ = [
    "DEFAULT_TOKEN",
    "BotAPIEmulator",
    "CallbackAnswer",
    "ChatMessage",
    "EntityParseError",
    "Group",
    "Hold",
    "Phone",
    "ReceivedDocument",
    "SentRecord",
    "parse_html",
    "serve_forever",
]
