"""Local Telegram Bot API emulator.

The real aiogram bot talks to this server over HTTP exactly as it would talk to
``api.telegram.org`` (``TelegramAPIServer.from_base(emu.base_url)``), while tests
and ``samspil demo`` play the people on the other side through :class:`Phone`
objects (in-process) or the small JSON API under ``/_emu/``. People chat with the
bot privately; a :class:`Group` (group, supergroup or channel) is where they may
add the bot and write to it together.

The emulator follows Telegram's semantics where the bot can observe them: update
queue and ``offset`` confirmation, long polling, webhook delivery with
redelivery, message ids per chat, HTML entity parsing, length limits, error
descriptions and HTTP status codes. It also injects faults (429/5xx/blocked
users) so that the bot's error handling can be tested.

Everything runs on one event loop; no locking is needed, but every per-call
operation is keyed by chat so that benchmarks with thousands of sends stay fast.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import collections
import dataclasses
import hashlib
import hmac
import itertools
import json
import logging
import math
import mimetypes
import re
import secrets
import socket
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final

import aiohttp
from aiohttp import web

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
    "sign_web_app_data",
    "serve_forever",
]

logger = logging.getLogger("samspil.emulator")

DEFAULT_TOKEN: Final = "123456789:TEST-token"

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024
MAX_COMMANDS: Final = 100
MAX_DESCRIPTION: Final = 512  # setMyDescription: shown in the empty chat before START
MAX_SHORT_DESCRIPTION: Final = 120  # setMyShortDescription: shown on the bot's profile page

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
_WRONG_FILE: Final = "Bad Request: wrong file identifier/HTTP URL specified"
_WEBHOOK_CONFLICT: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_POLL_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

# Service messages (someone joined or left a group): shown in a group's chat, never
# counted among the bot's own messages.
_SERVICE_KINDS: Final = frozenset({"new_chat_members", "left_chat_member"})
_GROUP_KINDS: Final = ("group", "supergroup", "channel")
# Status of the bot in a group that lets it read and write there.
_PRESENT: Final = frozenset({"member", "administrator"})

# Update types Telegram sends when allowed_updates is empty/unspecified.
_OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_BUTTON_ACTIONS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_SCOPE_TYPES: Final = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_COMMAND_RE: Final = re.compile(r"[a-z0-9_]{1,32}")
_COMMAND_ENTITY_RE: Final = re.compile(
    r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{5,32})?(?![A-Za-z0-9_@])"
)
_SECRET_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")

_FAULT_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_slice(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le", "surrogatepass")
    return raw[2 * offset : 2 * (offset + length)].decode("utf-16-le", "replace")


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class _APIError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(reason: str) -> _APIError:
    return _APIError(400, f"Bad Request: {reason}")


def _for_language(store: dict[str, str], language_code: str | None) -> str:
    """What a person with this Telegram language sees: their language's text, else the default."""
    language = (language_code or "").split("-")[0].lower()
    return store.get(language, store.get("", "")) if language else store.get("", "")


# --------------------------------------------------------------------------------------
# Telegram's HTML parse mode
# --------------------------------------------------------------------------------------


class EntityParseError(ValueError):
    """Raised by :func:`parse_html`; the message is Telegram's reason text."""


_HTML_TAGS: Final = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_SIMPLE_TAG_TYPES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
}
_NAMED_ENTITIES: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# "\0" doubles as the end-of-input sentinel, as in tdlib's NUL-terminated parser.
_SPACES: Final = frozenset(" \t\r\n\v\f\0")
_HTML_SPECIAL: Final = re.compile(r"[<&]")
_ASCII_LETTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS: Final = frozenset("0123456789")
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_LINK_SCHEMES: Final = frozenset({"http", "https", "tg", "ton", "tonsite", "mailto", "ftp"})
_SCHEME_RE: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_BARE_DOMAIN_RE: Final = re.compile(r"^[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}(:\d+)?([/?#]\S*)?$")


def _check_link(url: str) -> str | None:
    """Normalise an ``<a href>`` like Telegram does; ``None`` drops the entity."""
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return None
    match = _SCHEME_RE.match(url)
    if match:
        scheme = match.group(1).lower()
        if scheme not in _LINK_SCHEMES:
            return None
        if scheme in ("http", "https") and not url[len(scheme) + 1 :].lstrip("/"):
            return None
        return url
    if _BARE_DOMAIN_RE.match(url):
        return "http://" + url
    return None


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_index: int
    expandable: bool = False


class _HTMLParser:
    """Port of tdlib's ``parse_html``: same accepted tags, same strictness, same errors.

    Deliberately stricter in one place: an unknown named entity such as ``&nbsp;`` is
    rejected (Telegram shows it literally), because it always means broken escaping.
    """

    def __init__(self, source: str) -> None:
        self.src = source
        self.n = len(source)
        self.out: list[str] = []
        self.u16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []
        self._code_language: tuple[int, int, str] | None = None

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        i = 0
        while i < self.n:
            match = _HTML_SPECIAL.search(self.src, i)
            if match is None:
                self._emit(self.src[i:])
                break
            j = match.start()
            if j > i:
                self._emit(self.src[i:j])
            i = self._entity(j) if self.src[j] == "&" else self._tag(j)
        if self.stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), entities

    # -- helpers ------------------------------------------------------------------------

    def _at(self, i: int) -> str:
        return self.src[i] if i < self.n else "\0"

    def _byte(self, i: int) -> int:
        return len(self.src[:i].encode("utf-8", "surrogatepass"))

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.u16 += _utf16_len(text)

    def _skip_spaces(self, i: int) -> int:
        while i < self.n and self.src[i] in _SPACES:
            i += 1
        return i

    def _decode(self, pos: int) -> tuple[str | None, int]:
        """Decode the character reference at ``pos`` (which is ``&``)."""
        src, n = self.src, self.n
        end = pos + 1
        if end < n and src[end] == "#":
            end += 1
            digits_ok = _DIGITS
            base = 10
            if end < n and src[end] == "x":
                end += 1
                digits_ok, base = _HEX_DIGITS, 16
            start = end
            while end < n and src[end] in digits_ok:
                end += 1
            if end - pos >= 10 or end == start:
                return None, pos
            value = int(src[start:end], base)
            if value == 0 or value >= 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                return None, pos
            char = chr(value)
        else:
            start = end
            while end < n and src[end] in _ASCII_LETTERS:
                end += 1
            name = src[start:end]
            named = _NAMED_ENTITIES.get(name)
            if named is None:
                if name and end < n and src[end] == ";":
                    raise EntityParseError(
                        f'Unsupported HTML entity "&{name};" at byte offset {self._byte(pos)}'
                    )
                return None, pos
            char = named
        if end < n and src[end] == ";":
            end += 1
        return char, end

    def _entity(self, pos: int) -> int:
        char, end = self._decode(pos)
        if char is None:  # a bare "&" is kept literally, as Telegram does
            self._emit("&")
            return pos + 1
        self._emit(char)
        return end

    # -- tags ---------------------------------------------------------------------------

    def _tag(self, begin: int) -> int:
        if self._at(begin + 1) == "/":
            return self._end_tag(begin)
        src = self.src
        i = begin + 1
        while self._at(i) not in _SPACES and self._at(i) != ">":
            i += 1
        if i >= self.n:
            raise EntityParseError(f"Unclosed start tag at byte offset {self._byte(begin)}")
        tag = src[begin + 1 : i].lower()
        if tag not in _HTML_TAGS:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {self._byte(begin)}'
            )
        argument = ""
        expandable = False
        while self._at(i) != ">":
            i = self._skip_spaces(i)
            if self._at(i) == ">":
                break
            if i >= self.n:
                raise EntityParseError(f"Unclosed start tag at byte offset {self._byte(begin)}")
            attr_begin = i
            while self._at(i) not in _SPACES and self._at(i) not in "=>":
                i += 1
            attribute = src[attr_begin:i].lower()
            if not attribute:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self._byte(begin)}'
                )
            i = self._skip_spaces(i)
            if self._at(i) != "=":
                if tag == "blockquote" and attribute == "expandable":
                    expandable = True
                    continue
                if i >= self.n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {self._byte(begin)}")
                raise EntityParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {self._byte(begin)}"
                )
            i = self._skip_spaces(i + 1)
            if i >= self.n:
                raise EntityParseError(
                    f'Unclosed start tag "{tag}" at byte offset {self._byte(begin)}'
                )
            value, i = self._attribute_value(i)
            if i >= self.n:
                raise EntityParseError(f"Unclosed start tag at byte offset {self._byte(begin)}")
            if tag == "a" and attribute == "href":
                argument = value
            elif tag == "code" and attribute == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and attribute == "emoji-id":
                argument = value
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte(begin)}'
            )
        self.stack.append(_OpenTag(tag, argument, self.u16, len(self.out), expandable))
        return i + 1

    def _attribute_value(self, i: int) -> tuple[str, int]:
        src = self.src
        if src[i] not in "'\"":
            # An unquoted name token: letters, digits, periods and hyphens.
            start = i
            while i < self.n and ((src[i].isascii() and src[i].isalnum()) or src[i] in ".-"):
                i += 1
            if self._at(i) not in _SPACES and self._at(i) != ">":
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {self._byte(start)}"
                )
            return src[start:i].lower(), i
        quote = src[i]
        i += 1
        parts: list[str] = []
        while i < self.n and src[i] != quote:
            if src[i] == "&":
                char, end = self._decode(i)
                if char is not None:
                    parts.append(char)
                    i = end
                    continue
            parts.append(src[i])
            i += 1
        if i < self.n:
            i += 1  # the closing quote
        return "".join(parts), i

    def _end_tag(self, begin: int) -> int:
        if not self.stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {self._byte(begin)}")
        i = begin + 2
        while self._at(i) not in _SPACES and self._at(i) != ">":
            i += 1
        end_name = self.src[begin + 2 : i].lower()
        i = self._skip_spaces(i)
        if self._at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {self._byte(begin)}")
        open_tag = self.stack.pop()
        if end_name and end_name != open_tag.name:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self._byte(begin)}, "
                f'expected "</{open_tag.name}>", found "</{end_name}>"'
            )
        self._close(open_tag)
        return i + 1

    def _close(self, tag: _OpenTag) -> None:
        offset = tag.utf16_offset
        length = self.u16 - offset
        if length <= 0:  # Telegram drops empty entities
            return
        last = self.entities[-1] if self.entities else None
        same_range = last is not None and last["offset"] == offset and last["length"] == length
        entity: dict[str, Any] | None = None
        if tag.name in _SIMPLE_TAG_TYPES:
            entity = {"type": _SIMPLE_TAG_TYPES[tag.name]}
        elif tag.name == "a":
            url = _check_link(tag.argument or "".join(self.out[tag.out_index :]))
            if url is not None:
                entity = {"type": "text_link", "url": url}
        elif tag.name == "code":
            if same_range and last is not None and last["type"] == "pre":
                # <code class="language-x"><pre>..</pre></code>
                if tag.argument and "language" not in last:
                    last["language"] = tag.argument
                return
            entity = {"type": "code"}
            self._code_language = (offset, length, tag.argument) if tag.argument else None
        elif tag.name == "pre":
            lang = self._code_language
            if same_range and last is not None and last["type"] == "code":
                # <pre><code class="language-x">..</code></pre> is one pre block
                last.clear()
                last.update({"type": "pre", "offset": offset, "length": length})
                if lang is not None and lang[:2] == (offset, length):
                    last["language"] = lang[2]
                return
            entity = {"type": "pre"}
        elif tag.name == "blockquote":
            entity = {"type": "expandable_blockquote" if tag.expandable else "blockquote"}
        elif tag.name == "tg-emoji" and tag.argument:
            entity = {"type": "custom_emoji", "custom_emoji_id": tag.argument}
        if entity is not None:
            entity["offset"] = offset
            entity["length"] = length
            self.entities.append(entity)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``.

    Entity offsets and lengths are in UTF-16 code units, like the Bot API.
    Raises :class:`EntityParseError` with Telegram's reason text.
    """
    if "<" not in source and "&" not in source:
        return source, []
    return _HTMLParser(source).parse()


def _strip_formatted(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Trim surrounding whitespace like Telegram and shift entities accordingly."""
    stripped = text.strip()
    if stripped == text or not entities:
        return stripped, entities
    left = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(0, entity["offset"] - left)
        end = min(total, entity["offset"] + entity["length"] - left)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


# --------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentRecord:
    """One successful ``sendMessage``/``sendDocument`` call."""

    monotonic: float
    clock: float
    method: str
    chat_id: int
    message_id: int


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot answered to a button tap (``answerCallbackQuery``)."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass(frozen=True)
class ReceivedDocument:
    """A document the bot sent to a person."""

    message_id: int
    file_id: str
    file_name: str | None
    mime_type: str | None
    data: bytes
    caption: str
    protect_content: bool


@dataclass
class ChatMessage:
    """A message of a chat as the people in it see it (a snapshot).

    ``text`` is the plain text (the caption for media); ``html`` is the raw text as
    sent. ``version`` is the chat's change counter when the message was created or
    last edited (compare with :meth:`Phone.mark`). In a group, ``from_id`` is the
    id of the person who sent it (``None`` for the bot's messages and in private
    chats); a service message (someone joined or left) has ``kind``
    ``new_chat_members`` or ``left_chat_member``.
    """

    message_id: int
    from_bot: bool
    text: str
    html: str
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    protect_content: bool
    document: dict[str, Any] | None
    edited: bool
    date: int
    kind: str = "text"
    version: int = 0
    from_id: int | None = None

    @property
    def buttons(self) -> list[list[str]]:
        """Texts of the inline keyboard buttons, row by row."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [[b["text"] for b in row] for row in self.reply_markup["inline_keyboard"]]

    def entity_texts(self) -> list[tuple[str, str]]:
        """``(type, covered text)`` for each entity."""
        return [
            (e["type"], _utf16_slice(self.text, e["offset"], e["length"])) for e in self.entities
        ]


# --------------------------------------------------------------------------------------
# Internal state
# --------------------------------------------------------------------------------------


@dataclass
class _Upload:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _StoredFile:
    kind: str
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def document_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name is not None:
            doc["file_name"] = self.file_name
        if self.mime_type is not None:
            doc["mime_type"] = self.mime_type
        return doc


@dataclass
class _Message:
    message_id: int
    from_bot: bool
    date: int
    kind: str
    text: str = ""
    html: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    protect_content: bool = False
    document: _StoredFile | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # media fields of the Message
    edit_date: int | None = None
    reply_to: int | None = None
    version: int = 0
    sender: dict[str, Any] | None = None  # the person who wrote it, in a group

    def view(self) -> ChatMessage:
        document = None
        if self.document is not None:
            document = {**self.document.document_dict(), "data": self.document.data}
        return ChatMessage(
            message_id=self.message_id,
            from_bot=self.from_bot,
            text=self.text,
            html=self.html,
            entities=[dict(e) for e in self.entities],
            reply_markup=self.reply_markup,
            protect_content=self.protect_content,
            document=document,
            edited=self.edit_date is not None,
            date=self.date,
            kind=self.kind,
            version=self.version,
            from_id=self.sender["id"] if self.sender else None,
        )


class _Chat:
    """A private chat between the bot and one person."""

    def __init__(self, user: dict[str, Any], chat_instance: str) -> None:
        self._setup(user["id"], chat_instance)
        self.user = user
        self.chat_dict: dict[str, Any] = {"id": self.id, "type": "private"}
        for key in ("first_name", "last_name", "username"):
            if user.get(key) is not None:
                self.chat_dict[key] = user[key]

    def _setup(self, chat_id: int, chat_instance: str) -> None:
        self.id: int = chat_id
        self.known = False  # becomes True when the person first contacts the bot
        self.messages: dict[int, _Message] = {}  # insertion order == message_id order
        self.next_message_id = 1
        self.version = 0
        # (version, message_id) per creation/edit, so waiters scan only what is new.
        self.changes: list[tuple[int, int]] = []
        self.chat_instance = chat_instance

    def touch(self, message: _Message | None = None) -> int:
        self.version += 1
        if message is not None:
            message.version = self.version
            self.changes.append((self.version, message.message_id))
        return self.version

    def add(self, message: _Message) -> _Message:
        self.messages[message.message_id] = message
        self.touch(message)
        return message

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


class _GroupChat(_Chat):
    """A group, supergroup or channel: people in it, and the bot when it was added.

    ``known`` is true while the bot may read and write there; ``bot_status`` is the
    bot's ``ChatMember`` status (``left`` until added), ``ever_joined`` whether it
    was ever in it (Telegram then answers 403 rather than "chat not found").
    """

    def __init__(self, chat_id: int, kind: str, title: str, chat_instance: str) -> None:
        self._setup(chat_id, chat_instance)
        self.kind = kind
        self.title = title
        self.user: dict[str, Any] = {}  # no single person: each message has its sender
        self.chat_dict = {"id": chat_id, "type": kind, "title": title}
        self.bot_status = "left"
        self.ever_joined = False
        self.bot_left = False  # the bot left by itself (leaveChat)

    def not_member_error(self) -> _APIError:
        where = {"group": "group chat", "supergroup": "supergroup chat"}.get(self.kind, "channel chat")
        if self.bot_status == "kicked":
            return _APIError(403, f"Forbidden: bot was kicked from the {where}")
        return _APIError(403, f"Forbidden: bot is not a member of the {where}")


@dataclass
class _PendingUpdate:
    update_id: int
    chat_key: int
    payload: dict[str, Any]


@dataclass
class _Fault:
    status: int
    chat_id: int | None
    method: str | None
    retry_after: int | None
    remaining: int
    description: str | None

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.method is not None:
            if self.method.lower() != method.lower():
                return False
        elif method == "getUpdates":  # polling is only faulted when asked for explicitly
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self) -> _APIError:
        if self.status == HTTPStatus.TOO_MANY_REQUESTS:
            retry_after = self.retry_after if self.retry_after is not None else 1
            return _APIError(
                429,
                self.description or f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        description = self.description or _FAULT_DESCRIPTIONS.get(self.status)
        if description is None:
            try:
                description = HTTPStatus(self.status).phrase
            except ValueError:
                description = "Error"
        return _APIError(self.status, description)


class Hold:
    """Requests held on the wire by :meth:`BotAPIEmulator.hold`."""

    def __init__(self, method: str, after: int, via: str | None) -> None:
        self.method = method
        self.after = after
        self.via = via
        self.seen = 0
        self.waiting = 0
        self.reached = asyncio.Event()
        self.released = asyncio.Event()
        self.dropped = False

    def release(self, *, drop: bool = False) -> None:
        """Let the held requests go on, or (drop) answer them with an error, undone.

        Dropping also fails every later call of the method on the same route: a
        killed process's request still in a socket buffer never reaches anyone either.
        """
        self.dropped = drop
        self.released.set()


@dataclass
class _Query:
    chat_id: int
    user_id: int  # who tapped: their phone records the answer
    answered: bool = False


class _Changes:
    """Broadcast "something changed" to any number of async waiters.

    Like ``asyncio.Condition.notify_all`` but callable from sync code without
    holding a lock: each notification sets the current event and replaces it.
    """

    def __init__(self) -> None:
        self.version = 0
        self._event = asyncio.Event()

    def notify(self) -> None:
        self.version += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until ``predicate()`` is true; ``False`` on timeout."""
        # asyncio.timeout (not wait_for) so that a cancellation arriving together
        # with a notification is never swallowed (Python 3.11 wait_for does that).
        try:
            async with asyncio.timeout(max(0.0, timeout)):
                while not predicate():
                    await self._event.wait()
        except TimeoutError:
            return predicate()
        return True

    async def wait_change(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait for the next notification; ``False`` if none came within ``timeout``."""
        if timeout <= 0:
            return False
        try:
            async with asyncio.timeout(timeout):
                await self._event.wait()
        except TimeoutError:
            return False
        return True


class _Params:
    """Request parameters from the query string, a form or a JSON body."""

    def __init__(self, values: dict[str, Any], files: dict[str, _Upload] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        return None if value is None or value == "" else value

    def get_str(self, name: str, *, required: bool = False, error: str | None = None) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise _bad_request(error or f"{name} is empty")
            return None
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def get_int(self, name: str, *, required: bool = False, error: str | None = None) -> int | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise _bad_request(error or f"{name} is empty")
            return None
        if isinstance(value, bool):
            raise _bad_request(f'invalid parameter "{name}"')
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise _bad_request(f'invalid parameter "{name}"') from None

    def peek_int(self, name: str) -> int | None:
        """Best-effort integer, never raising (used to match faults)."""
        try:
            return self.get_int(name)
        except _APIError:
            return None

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return bool(value)
        lowered = str(value).strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise _bad_request(f'invalid parameter "{name}"')

    def get_json(self, name: str, *, error: str | None = None) -> Any:
        value = self.raw(name)
        if value is None or not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(error or f"can't parse {name} JSON object") from None

    def get_file(self, name: str) -> _Upload | str | None:
        """An upload (direct part or ``attach://``) or a file_id/URL string."""
        value = self.raw(name)
        if value is None:
            return self.files.get(name)
        if isinstance(value, _Upload):
            return value
        text = str(value)
        if text.startswith("attach://"):
            upload = self.files.get(text[len("attach://") :])
            if upload is None:
                raise _APIError(400, _WRONG_FILE)
            return upload
        return text


# --------------------------------------------------------------------------------------
# The people side
# --------------------------------------------------------------------------------------


def sign_web_app_data(token: str, fields: dict[str, str]) -> str:
    """Mini App ``initData`` (a query string) with Telegram's `hash` over `fields`."""
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    signed = dict(fields, hash=hmac.new(secret, check.encode(), hashlib.sha256).hexdigest())
    return urllib.parse.urlencode(signed)


class Phone:
    """A person with Telegram open on their phone, chatting privately with the bot."""

    def __init__(self, emulator: BotAPIEmulator, chat: _Chat) -> None:
        self._emu = emulator
        self._chat = chat
        self._cursor = chat.version
        self._last_query_id: str | None = None
        self._answers: dict[str, CallbackAnswer] = {}
        self.last_answer: CallbackAnswer | None = None

    # -- identity -----------------------------------------------------------------------

    @property
    def user_id(self) -> int:
        return self._chat.id

    @property
    def user(self) -> dict[str, Any]:
        """The person's Bot API ``User`` object."""
        return dict(self._chat.user)

    def open_chat(self) -> Phone:
        """The person has talked to the bot before (pressed Start long ago), without an update now.

        Lets a test or benchmark prepare thousands of reachable people at once.
        """
        self._chat.known = True
        return self

    def web_app_init_data(self, auth_date: float | None = None, *, start_param: str | None = None) -> str:
        """What Telegram hands a Mini App this person opens: ``initData``, signed with the
        bot's token as Telegram does (HMAC-SHA256 under the key HMAC("WebAppData", token)).

        `auth_date` (seconds since the epoch) defaults to now; a test whose bot runs on a
        fake clock passes that clock's time.
        """
        fields = {
            "query_id": f"AAH{secrets.token_urlsafe(12)}",
            "user": json.dumps(self.user, separators=(",", ":"), ensure_ascii=False),
            "auth_date": str(int(time.time() if auth_date is None else auth_date)),
        }
        if start_param:
            fields["start_param"] = start_param
        return sign_web_app_data(self._emu.token, fields)

    # -- sending --------------------------------------------------------------------------

    async def send(self, text: str) -> dict[str, Any]:
        """Send a text message; a leading ``/command`` gets a ``bot_command`` entity.

        Like Telegram clients, a text over 4096 characters goes out as several
        messages; the last one is returned.
        """
        if not text.strip():
            raise ValueError("Telegram clients can't send an empty message")
        result: dict[str, Any] = {}
        for start in range(0, len(text), MAX_TEXT_LENGTH):
            part = text[start : start + MAX_TEXT_LENGTH]
            entities: list[dict[str, Any]] = []
            command = _COMMAND_ENTITY_RE.match(part)
            if command:
                length = _utf16_len(command.group(0))
                entities.append({"type": "bot_command", "offset": 0, "length": length})
            result = self._emu._person_message(self._chat, "text", text=part, entities=entities)
        return result

    async def send_photo(
        self, *, caption: str | None = None, data: bytes | None = None
    ) -> dict[str, Any]:
        """Send a photo (three PhotoSize variants, like a real client upload)."""
        data = data or b"\xff\xd8\xff\xe0" + secrets.token_bytes(2048)
        sizes = []
        for width, height, share in ((90, 67, 16), (320, 240, 4), (1280, 960, 1)):
            stored = self._emu._store_file(
                "photo", data[: max(4, len(data) // share)], "photos", ".jpg"
            )
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": len(stored.data),
                }
            )
        return self._emu._person_message(
            self._chat, "photo", text=caption or "", payload={"photo": sizes}
        )

    async def send_sticker(self, emoji: str = "👍") -> dict[str, Any]:
        stored = self._emu._store_file(
            "sticker", b"RIFF" + secrets.token_bytes(512), "stickers", ".webp"
        )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "SamspilTestStickers",
            "file_size": len(stored.data),
        }
        return self._emu._person_message(self._chat, "sticker", payload={"sticker": sticker})

    async def send_voice(self, duration: int = 3) -> dict[str, Any]:
        stored = self._emu._store_file(
            "voice", b"OggS" + secrets.token_bytes(1024), "voice", ".oga"
        )
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return self._emu._person_message(self._chat, "voice", payload={"voice": voice})

    async def send_document(
        self,
        file_name: str = "x.pdf",
        data: bytes = b"%PDF-1.4\n%test\n",
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        stored = self._emu._store_file(
            "document",
            data,
            "documents",
            "",
            file_name=file_name,
            mime_type=mime_type or _guess_mime(file_name, None),
        )
        return self._emu._person_message(
            self._chat,
            "document",
            text=caption or "",
            payload={"document": stored.document_dict()},
            document=stored,
        )

    async def send_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        location = {"latitude": latitude, "longitude": longitude}
        return self._emu._person_message(self._chat, "location", payload={"location": location})

    async def send_contact(
        self,
        phone_number: str,
        first_name: str,
        *,
        last_name: str | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if last_name is not None:
            contact["last_name"] = last_name
        if user_id is not None:
            contact["user_id"] = user_id
        return self._emu._person_message(self._chat, "contact", payload={"contact": contact})

    # -- buttons ---------------------------------------------------------------------------

    async def tap(self, button_text: str, *, message_id: int | None = None) -> str:
        """Tap an inline button by its text; returns the callback query id.

        Searches the given message, or the most recent bot message with an exactly
        matching button, or else the most recent one with a button containing the text.
        """
        message, button = self._find_button(button_text, message_id)
        if "callback_data" not in button:
            kind = next((k for k in _BUTTON_ACTIONS if k in button), "unknown")
            raise AssertionError(
                f"button {button['text']!r} in message {message.message_id} is a {kind} button; "
                "tapping it sends nothing to the bot"
            )
        return self._emu._callback_query(self, message, button["callback_data"])

    async def tap_data(self, message_id: int, data: str) -> str:
        """Send arbitrary (possibly forged) callback data as if tapped on ``message_id``."""
        message = self._chat.messages.get(message_id)
        if message is None:
            raise AssertionError(f"no message {message_id} in the chat with {self.user_id}")
        return self._emu._callback_query(self, message, data)

    def buttons(self, message_id: int | None = None) -> list[list[str]]:
        """Button texts of the latest bot message with an inline keyboard (or of ``message_id``)."""
        if message_id is not None:
            message = self._chat.messages.get(message_id)
            return message.view().buttons if message is not None else []
        for message in reversed(self._chat.messages.values()):
            if message.from_bot and _inline_rows(message.reply_markup):
                return message.view().buttons
        return []

    def _find_button(
        self, button_text: str, message_id: int | None
    ) -> tuple[_Message, dict[str, Any]]:
        if message_id is not None:
            message = self._chat.messages.get(message_id)
            candidates = [message] if message is not None else []
        else:
            candidates = [m for m in reversed(self._chat.messages.values()) if m.from_bot]
        for exact in (True, False):
            for message in candidates:
                for row in _inline_rows(message.reply_markup):
                    for button in row:
                        text = button.get("text", "")
                        if (text == button_text) if exact else (button_text in text):
                            return message, button
        visible = [
            f"  #{m.message_id}: {m.view().buttons}"
            for m in candidates
            if _inline_rows(m.reply_markup)
        ]
        raise AssertionError(
            f"no inline button matching {button_text!r} in the chat with {self.user_id}"
            + (f" (message {message_id})" if message_id is not None else "")
            + "; visible buttons:\n"
            + ("\n".join(visible) if visible else "  (none)")
        )

    # -- reading the chat ---------------------------------------------------------------------

    @property
    def chat(self) -> list[ChatMessage]:
        """The whole chat as the person sees it now (snapshots, oldest first)."""
        return [m.view() for m in self._chat.messages.values()]

    @property
    def bot_messages(self) -> list[ChatMessage]:
        return [m.view() for m in self._chat.messages.values() if m.from_bot]

    @property
    def documents(self) -> list[ReceivedDocument]:
        """Documents the bot sent to this person that are still in the chat."""
        return [
            ReceivedDocument(
                message_id=m.message_id,
                file_id=m.document.file_id,
                file_name=m.document.file_name,
                mime_type=m.document.mime_type,
                data=m.document.data,
                caption=m.text,
                protect_content=m.protect_content,
            )
            for m in self._chat.messages.values()
            if m.from_bot and m.document is not None
        ]

    def mark(self) -> int:
        """Return the chat's change counter and make it the default ``wait_for`` cursor."""
        self._cursor = self._chat.version
        return self._cursor

    async def wait_for(
        self,
        pred_or_substring: Callable[[ChatMessage], bool] | str,
        *,
        after: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the test-facing API
    ) -> ChatMessage:
        """Wait for a bot message, new or edited after the cursor, that matches.

        ``pred_or_substring`` is a predicate on :class:`ChatMessage` or a substring of
        its text. The cursor defaults to the last :meth:`mark`/send/tap of this phone.
        Returns the earliest such change; raises ``AssertionError`` on timeout.
        """
        cursor = self._cursor if after is None else after
        if isinstance(pred_or_substring, str):
            needle = pred_or_substring

            def matches(view: ChatMessage) -> bool:
                return needle in view.text
        else:
            matches = pred_or_substring
        found: list[ChatMessage] = []
        chat = self._chat
        position = bisect.bisect_right(chat.changes, cursor, key=lambda change: change[0])

        def check() -> bool:
            nonlocal position
            while position < len(chat.changes):
                version, message_id = chat.changes[position]
                position += 1
                message = chat.messages.get(message_id)
                # Skip deleted messages and states superseded by a later edit.
                if message is None or not message.from_bot or message.version != version:
                    continue
                view = message.view()
                if matches(view):
                    found.append(view)
                    return True
            return False

        if await self._emu._changes.wait_for(check, timeout):
            return found[-1]
        what = repr(pred_or_substring) if isinstance(pred_or_substring, str) else "predicate"
        raise AssertionError(
            f"no bot message matching {what} for user {self.user_id} after cursor {cursor} "
            f"within {timeout}s; last bot messages:\n{self._describe_recent()}"
        )

    async def wait_answer(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the test-facing API
        *,
        query_id: str | None = None,
    ) -> CallbackAnswer:
        """Wait until the bot answers the last tap (or ``query_id``)."""
        wanted = query_id or self._last_query_id
        if wanted is None:
            raise AssertionError(f"user {self.user_id} has not tapped anything")
        if await self._emu._changes.wait_for(lambda: wanted in self._answers, timeout):
            return self._answers[wanted]
        raise AssertionError(
            f"callback query {wanted} of user {self.user_id} was not answered within {timeout}s"
        )

    def _describe_recent(self, count: int = 6) -> str:
        bot = [m for m in self._chat.messages.values() if m.from_bot][-count:]
        if not bot:
            return "  (no bot messages)"
        lines = []
        for m in bot:
            flags = " [edited]" if m.edit_date is not None else ""
            buttons = f" buttons={m.view().buttons}" if _inline_rows(m.reply_markup) else ""
            doc = f" document={m.document.file_name!r}" if m.document else ""
            lines.append(f"  #{m.message_id} v{m.version}{flags}{doc}: {m.text!r}{buttons}")
        return "\n".join(lines)

    def _record_answer(self, answer: CallbackAnswer) -> None:
        self._answers[answer.query_id] = answer
        self.last_answer = answer


class Group:
    """A group, supergroup or channel: people write in it, and they may add the bot.

    Made with :meth:`BotAPIEmulator.group`. Like Telegram, the bot gets a
    ``my_chat_member`` update when it is added (and the service message naming it
    among ``new_chat_members``); in privacy mode (the default, see
    ``BotAPIEmulator.privacy_mode``) it reads only commands, replies to its own
    messages and mentions of it, unless it is an administrator. In a channel every
    post is a ``channel_post``, and a bot can only be an administrator.
    """

    def __init__(self, emulator: BotAPIEmulator, chat: _GroupChat) -> None:
        self._emu = emulator
        self._chat = chat
        self._cursor = chat.version

    # -- what the group is --------------------------------------------------------------------

    @property
    def id(self) -> int:
        return self._chat.id

    @property
    def title(self) -> str:
        return self._chat.title

    @property
    def kind(self) -> str:
        """``group``, ``supergroup`` or ``channel``."""
        return self._chat.kind

    @property
    def bot_status(self) -> str:
        """The bot's status here: ``left`` (never added, removed or gone), ``member``,
        ``administrator`` or ``kicked``."""
        return self._chat.bot_status

    @property
    def bot_left(self) -> bool:
        """The bot left by itself (``leaveChat``) and has not been added again."""
        return self._chat.bot_left

    # -- the people's side --------------------------------------------------------------------

    def add_bot(self, by: Phone, *, admin: bool = False, notify: bool = True) -> None:
        """``by`` adds the bot (as an administrator if ``admin``; always so in a channel).

        ``notify=False`` puts the bot in without any update, as if it had been added
        long ago while it did not ask for ``my_chat_member`` updates.
        """
        chat = self._chat
        old = chat.bot_status
        new = "administrator" if admin or chat.kind == "channel" else "member"
        if old == new:
            return
        chat.bot_status, chat.known, chat.ever_joined, chat.bot_left = new, True, True, False
        if not notify:
            self._emu._changes.notify()
            return
        self._emu._bot_member_update(chat, by.user, old, new)
        if old not in _PRESENT and chat.kind != "channel":
            self._emu._group_message(
                chat, by.user, "new_chat_members",
                payload={"new_chat_members": [dict(self._emu._bot_user)]},
            )

    def remove_bot(self, by: Phone, *, ban: bool = False) -> None:
        """``by`` removes the bot from the group (``ban``: and forbids adding it again)."""
        chat = self._chat
        old = chat.bot_status
        new = "kicked" if ban else "left"
        if old == new:
            return
        chat.bot_status, chat.known = new, False
        self._emu._bot_member_update(chat, by.user, old, new)

    async def send(self, who: Phone, text: str) -> dict[str, Any]:
        """``who`` writes ``text`` in the group (a post, in a channel); a leading
        ``/command`` (``/command@bot``) gets a ``bot_command`` entity, as in a private chat."""
        if not text.strip():
            raise ValueError("Telegram clients can't send an empty message")
        entities: list[dict[str, Any]] = []
        command = _COMMAND_ENTITY_RE.match(text[:MAX_TEXT_LENGTH])
        if command:
            entities.append(
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command.group(0))}
            )
        return self._emu._group_message(
            self._chat, who.user, "text", text=text[:MAX_TEXT_LENGTH], entities=entities
        )

    async def tap(
        self, who: Phone, button_text: str, *, message_id: int | None = None
    ) -> str:
        """``who`` taps an inline button of a bot message in the group; returns the query id."""
        candidates = (
            [self._chat.messages[message_id]]
            if message_id is not None and message_id in self._chat.messages
            else [m for m in reversed(self._chat.messages.values()) if m.from_bot]
        )
        for exact in (True, False):
            for message in candidates:
                for row in _inline_rows(message.reply_markup):
                    for button in row:
                        text = button.get("text", "")
                        if (text == button_text) if exact else (button_text in text):
                            if "callback_data" not in button:
                                raise AssertionError(
                                    f"button {text!r} in group message {message.message_id} "
                                    "sends nothing to the bot"
                                )
                            return self._emu._group_callback_query(
                                self._chat, who, message, button["callback_data"]
                            )
        raise AssertionError(f"no inline button matching {button_text!r} in group {self.id}")

    async def tap_data(self, who: Phone, message_id: int, data: str) -> str:
        """Arbitrary (possibly forged) callback data, as if tapped on ``message_id``."""
        message = self._chat.messages.get(message_id)
        if message is None:
            raise AssertionError(f"no message {message_id} in group {self.id}")
        return self._emu._group_callback_query(self._chat, who, message, data)

    # -- reading the group ----------------------------------------------------------------------

    @property
    def messages(self) -> list[ChatMessage]:
        """Everything in the group now, service messages included (oldest first)."""
        return [m.view() for m in self._chat.messages.values()]

    @property
    def bot_messages(self) -> list[ChatMessage]:
        """What the bot wrote in the group (not the service message of its leaving)."""
        return [
            m.view()
            for m in self._chat.messages.values()
            if m.from_bot and m.kind not in _SERVICE_KINDS
        ]

    def mark(self) -> int:
        """The group's change counter (compare with ``ChatMessage.version``)."""
        self._cursor = self._chat.version
        return self._cursor


def _inline_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if not markup:
        return []
    rows = markup.get("inline_keyboard")
    return rows if isinstance(rows, list) else []


def _guess_mime(file_name: str | None, declared: str | None) -> str:
    """Telegram derives the MIME type from the file name; fall back to the upload's type."""
    guessed = mimetypes.guess_type(file_name)[0] if file_name else None
    if guessed:
        return guessed
    if declared and declared != "application/octet-stream":
        return declared
    return "application/octet-stream"


# --------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------


_Handler = Callable[[_Params], Awaitable[Any]]


class BotAPIEmulator:
    """An in-process Telegram Bot API server plus the people on the other side."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "samspil_test_bot",
        bot_first_name: str = "Samspil",
        clock: Callable[[], float] = time.time,
    ) -> None:
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self._clock = clock
        self._bot_user = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }

        self.sent: list[SentRecord] = []
        self.internal_errors: list[BaseException] = []  # emulator bugs, for tests to assert on

        self._changes = _Changes()
        self._chats: dict[int, _Chat] = {}
        self._phones: dict[int, Phone] = {}
        self._groups: dict[int, Group] = {}
        self._group_seq = itertools.count(1)
        # Privacy mode (BotFather's default): in a group the bot reads commands, replies
        # to its messages and mentions of it only, unless it is an administrator there.
        self.privacy_mode = True
        self._blocked: set[int] = set()
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._queries: dict[str, _Query] = {}
        self._query_seq = itertools.count(4_000_000_000_000_000_001)
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # setMyDescription / setMyShortDescription, per language ("" = the default one).
        self._descriptions: dict[str, str] = {}
        self._short_descriptions: dict[str, str] = {}

        # Update queue (insertion order == update_id order).
        self._updates: collections.OrderedDict[int, _PendingUpdate] = collections.OrderedDict()
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._polls_waiting = 0
        self._inflight = 0

        # Faults and rate limiting.
        self._faults: list[_Fault] = []
        self._holds: list[Hold] = []
        # How often each Bot API method was called (tests see when a new bot process is up).
        self.calls: collections.Counter[str] = collections.Counter()
        self._global_rate: float | None = None
        self._chat_interval: float | None = None
        self._recent_sends: collections.deque[float] = collections.deque()
        self._last_send_at: dict[int, float] = {}

        # Webhook.
        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_max_connections = 40
        self._webhook_allowed: list[str] | None = None
        self._webhook_targets: list[str] = []
        self._webhook_last_error: tuple[int, str] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_session: aiohttp.ClientSession | None = None
        self._wh_queues: dict[int, collections.deque[int]] = {}
        self._wh_ready: collections.deque[int] = collections.deque()
        self._wh_busy: set[int] = set()
        self._rr = itertools.count()
        self.webhook_timeout = 30.0

        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"

        # The menu button per private chat (0: everyone's default), as setChatMenuButton left it.
        self.menu_buttons: dict[int, dict[str, Any]] = {}
        self._methods: dict[str, tuple[str, _Handler]] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("getUpdates", self._get_updates),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("sendMessage", self._send_message),
            ("editMessageText", self._edit_message_text),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
            ("answerCallbackQuery", self._answer_callback_query),
            ("sendDocument", self._send_document),
            ("getFile", self._get_file),
            ("setMyCommands", self._set_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("setMyDescription", self._set_my_description),
            ("getMyDescription", self._get_my_description),
            ("setMyShortDescription", self._set_my_short_description),
            ("getMyShortDescription", self._get_my_short_description),
            ("setChatMenuButton", self._set_chat_menu_button),
            ("getChatMenuButton", self._get_chat_menu_button),
            ("getChat", self._get_chat),
            ("sendChatAction", self._send_chat_action),
            ("leaveChat", self._leave_chat),
            ("close", self._close),
            ("logOut", self._close),
        ):
            self._methods[name.lower()] = (name, handler)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving; ``port=0`` picks a free port (see :attr:`base_url`)."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        # The same API under a named route (see `base_url_via`).
        app.router.add_route("*", "/via/{via}/bot{token}/{method}", self._handle_api)
        app.router.add_get("/via/{via}/file/bot{token}/{file_path:.+}", self._handle_file)
        self._add_people_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.create_server((host, port))
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        self._host = host
        self._port = sock.getsockname()[1]
        self._closing = False
        logger.debug("emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop the server; pending long polls return immediately."""
        self._closing = True
        self._changes.notify()
        await self._stop_webhook_loop()
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        logger.debug("emulator stopped")

    async def __aenter__(self) -> BotAPIEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` for ``TelegramAPIServer.from_base``."""
        if self._port is None:
            raise RuntimeError("emulator not started")
        host = "127.0.0.1" if self._host in ("", "0.0.0.0", "::") else self._host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}"

    def base_url_via(self, via: str) -> str:
        """The Bot API under a named route: the same bot, but a test can tell one
        process's requests from another's (e.g. a killed process and its successor)."""
        return f"{self.base_url}/via/{via}"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator not started")
        return self._port

    # -- people ------------------------------------------------------------------------------

    def phone(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "da",
    ) -> Phone:
        """The phone of person ``user_id`` (created on first use, then reused)."""
        existing = self._phones.get(user_id)
        if existing is not None:
            return existing
        if user_id <= 0 or user_id == self.bot_id:
            raise ValueError("user_id must be a positive id other than the bot's")
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        chat_instance = str((user_id * 2654435761 + self.bot_id) % 10**19)
        chat = _Chat(user, chat_instance)
        self._chats[user_id] = chat
        phone = Phone(self, chat)
        self._phones[user_id] = phone
        return phone

    def _person_message(
        self,
        chat: _Chat,
        kind: str,
        *,
        text: str = "",
        entities: list[dict[str, Any]] | None = None,
        payload: dict[str, Any] | None = None,
        document: _StoredFile | None = None,
    ) -> dict[str, Any]:
        if chat.id in self._blocked:
            # A Telegram client asks to unblock (and restarts) the bot before writing.
            self.unblock(chat.id)
        chat.known = True
        message = chat.add(
            _Message(
                message_id=chat.new_message_id(),
                from_bot=False,
                date=self._now(),
                kind=kind,
                text=text,
                html=text,
                entities=entities or [],
                payload=payload or {},
                document=document,
            )
        )
        self._phones[chat.id]._cursor = chat.version
        result = self._message_dict(chat, message)
        self._add_update("message", result, chat.id)
        logger.debug("person %s sent a %s message %s", chat.id, kind, message.message_id)
        return result

    def _callback_query(self, phone: Phone, message: _Message, data: str) -> str:
        chat = phone._chat
        query_id = str(next(self._query_seq))
        self._queries[query_id] = _Query(chat.id, chat.id)
        chat.known = True
        phone._cursor = chat.version
        phone._last_query_id = query_id
        query = {
            "id": query_id,
            "from": dict(chat.user),
            "message": self._message_dict(chat, message),
            "chat_instance": chat.chat_instance,
            "data": data,
        }
        self._add_update("callback_query", query, chat.id)
        logger.debug("person %s tapped on message %s", chat.id, message.message_id)
        return query_id

    def block(self, chat_id: int, *, notify: bool = True) -> None:
        """The person blocks the bot: sends/edits to the chat answer 403 until unblocked.

        Like Telegram, a ``my_chat_member`` update (status ``kicked``) is queued when
        ``notify`` is true and the person has talked to the bot before.
        """
        if chat_id in self._blocked:
            return
        self._blocked.add(chat_id)
        self._member_update(chat_id, "member", "kicked", notify)

    def unblock(self, chat_id: int, *, notify: bool = True) -> None:
        if chat_id not in self._blocked:
            return
        self._blocked.discard(chat_id)
        self._member_update(chat_id, "kicked", "member", notify)

    def _member_update(self, chat_id: int, old: str, new: str, notify: bool) -> None:
        chat = self._chats.get(chat_id)
        if notify and chat is not None and chat.known:

            def member(status: str) -> dict[str, Any]:
                result: dict[str, Any] = {"status": status, "user": dict(self._bot_user)}
                if status == "kicked":
                    result["until_date"] = 0
                return result

            self._add_update(
                "my_chat_member",
                {
                    "chat": dict(chat.chat_dict),
                    "from": dict(chat.user),
                    "date": self._now(),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                },
                chat_id,
            )
        self._changes.notify()

    # -- groups --------------------------------------------------------------------------------

    def group(self, title: str, kind: str = "group") -> Group:
        """A new group (``kind`` ``group``, ``supergroup`` or ``channel``), without the bot.

        Ids are negative like Telegram's: ``-4000000001`` for a basic group, ``-100...``
        for a supergroup or channel.
        """
        if kind not in _GROUP_KINDS:
            raise ValueError(f"kind must be one of {_GROUP_KINDS}")
        seq = next(self._group_seq)
        chat_id = -(4_000_000_000 + seq) if kind == "group" else -(1_002_000_000_000 + seq)
        chat_instance = str((abs(chat_id) * 2654435761 + self.bot_id) % 10**19)
        chat = _GroupChat(chat_id, kind, title, chat_instance)
        self._chats[chat_id] = chat
        group = Group(self, chat)
        self._groups[chat_id] = group
        return group

    def _bot_sees(self, chat: _GroupChat, message: _Message) -> bool:
        """Whether Telegram delivers a group message to the bot (privacy mode)."""
        if chat.bot_status not in _PRESENT:
            return False
        if (
            not self.privacy_mode
            or chat.kind == "channel"
            or chat.bot_status == "administrator"
            or message.kind in _SERVICE_KINDS
        ):
            return True
        command = _COMMAND_ENTITY_RE.match(message.text) if message.kind == "text" else None
        if command:
            mention = command.group(1)
            return mention is None or mention[1:].lower() == self.bot_username.lower()
        replied = chat.messages.get(message.reply_to) if message.reply_to else None
        if replied is not None and replied.from_bot:
            return True
        return f"@{self.bot_username}".lower() in message.text.lower()

    def _group_message(
        self,
        chat: _GroupChat,
        sender: dict[str, Any],
        kind: str,
        *,
        text: str = "",
        entities: list[dict[str, Any]] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message = chat.add(
            _Message(
                message_id=chat.new_message_id(),
                from_bot=False,
                date=self._now(),
                kind=kind,
                text=text,
                html=text,
                entities=entities or [],
                payload=payload or {},
                sender=dict(sender),
            )
        )
        result = self._message_dict(chat, message)
        if self._bot_sees(chat, message):
            update_kind = "channel_post" if chat.kind == "channel" else "message"
            self._add_update(update_kind, result, chat.id)
        else:
            self._changes.notify()
        logger.debug("a %s message %s in chat %s", kind, message.message_id, chat.id)
        return result

    def _group_callback_query(
        self, chat: _GroupChat, phone: Phone, message: _Message, data: str
    ) -> str:
        query_id = str(next(self._query_seq))
        self._queries[query_id] = _Query(chat.id, phone.user_id)
        phone._last_query_id = query_id
        query = {
            "id": query_id,
            "from": phone.user,
            "message": self._message_dict(chat, message),
            "chat_instance": chat.chat_instance,
            "data": data,
        }
        self._add_update("callback_query", query, chat.id)
        logger.debug("person %s tapped on message %s in chat %s", phone.user_id,
                     message.message_id, chat.id)
        return query_id

    def _chat_member(self, status: str, chat: _GroupChat) -> dict[str, Any]:
        member: dict[str, Any] = {"status": status, "user": dict(self._bot_user)}
        if status == "kicked":
            member["until_date"] = 0
        if status == "administrator":
            member.update(
                can_be_edited=False, is_anonymous=False, can_manage_chat=True,
                can_delete_messages=True, can_manage_video_chats=True,
                can_restrict_members=True, can_promote_members=False, can_change_info=True,
                can_invite_users=True, can_post_stories=False, can_edit_stories=False,
                can_delete_stories=False, can_send_welcome_messages=False,
            )
            if chat.kind == "channel":
                member.update(can_post_messages=True, can_edit_messages=True)
            else:
                member["can_pin_messages"] = True
        return member

    def _bot_member_update(
        self, chat: _GroupChat, by: dict[str, Any], old: str, new: str
    ) -> None:
        self._add_update(
            "my_chat_member",
            {
                "chat": dict(chat.chat_dict),
                "from": dict(by),
                "date": self._now(),
                "old_chat_member": self._chat_member(old, chat),
                "new_chat_member": self._chat_member(new, chat),
            },
            chat.id,
        )

    # -- fault injection & limits --------------------------------------------------------------

    def inject_fault(
        self,
        status: int,
        *,
        chat_id: int | None = None,
        method: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` matching bot calls with an error, without performing them.

        ``method=None`` matches every method except ``getUpdates`` (name it explicitly
        to fault polling). 429 answers carry ``parameters.retry_after`` (default 1).
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        self._faults.append(_Fault(status, chat_id, method, retry_after, times, description))

    def clear_faults(self) -> None:
        self._faults.clear()

    def set_rate_limit(
        self, global_per_s: float | None = None, per_chat_min_interval: float | None = None
    ) -> None:
        """Answer 429 like Telegram's flood control when sends exceed these limits.

        Applies to sendMessage/sendDocument; ``None`` disables a limit.
        """
        self._global_rate = global_per_s
        self._chat_interval = per_chat_min_interval
        self._recent_sends.clear()
        self._last_send_at.clear()

    def _check_rate(self, chat_id: int) -> None:
        now = time.monotonic()
        if self._global_rate is not None:
            while self._recent_sends and self._recent_sends[0] <= now - 1.0:
                self._recent_sends.popleft()
            if len(self._recent_sends) >= self._global_rate:
                wait = self._recent_sends[0] + 1.0 - now
                self._raise_flood(wait)
        if self._chat_interval is not None:
            last = self._last_send_at.get(chat_id)
            if last is not None and now - last < self._chat_interval:
                self._raise_flood(self._chat_interval - (now - last))

    @staticmethod
    def _raise_flood(wait: float) -> None:
        retry_after = max(1, math.ceil(wait))
        raise _APIError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    def _record_send(self, method: str, chat_id: int, message_id: int) -> None:
        now = time.monotonic()
        self.sent.append(SentRecord(now, self._clock(), method, chat_id, message_id))
        if self._global_rate is not None:
            self._recent_sends.append(now)
        if self._chat_interval is not None:
            self._last_send_at[chat_id] = now

    # -- observing ------------------------------------------------------------------------------

    def pending_updates(self) -> int:
        """Number of updates not yet confirmed by the bot."""
        return len(self._updates)

    @property
    def inflight_requests(self) -> int:
        """Bot API requests being handled right now (long polls excluded)."""
        return self._inflight

    @property
    def long_polls_waiting(self) -> int:
        """getUpdates calls currently waiting for an update."""
        return self._polls_waiting

    @property
    def webhook_url(self) -> str:
        return self._webhook_url

    def commands_for(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The commands set with ``setMyCommands`` for exactly this scope and language."""
        key = (_scope_key(scope), language_code or "")
        return [dict(c) for c in self._commands.get(key, [])]

    def description_for(self, language_code: str | None = None) -> str:
        """The description a person sees in the empty chat before pressing START.

        ``language_code`` is the person's Telegram language (``"en"``, ``"en-GB"``); like
        Telegram, the description set for that language is shown, else the default one
        (set without a language), else nothing (``""``).
        """
        return _for_language(self._descriptions, language_code)

    def short_description_for(self, language_code: str | None = None) -> str:
        """The short description on the bot's profile page, chosen like :meth:`description_for`."""
        return _for_language(self._short_descriptions, language_code)

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the test-facing API
    ) -> None:
        """Wait (on change notifications, not by polling) until ``predicate()`` holds."""
        if not await self._changes.wait_for(predicate, timeout):
            raise AssertionError(f"condition not met within {timeout}s")

    async def wait_idle(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the test-facing API
        *,
        settle: float = 0.05,
    ) -> None:
        """Wait until all updates are confirmed and no bot request is in flight.

        The state must also stay unchanged for ``settle`` seconds: aiogram confirms an
        update (next getUpdates / webhook 200) before its handler task sends anything.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout

        def idle() -> bool:
            return not self._updates and self._inflight == 0

        while True:
            remaining = deadline - loop.time()
            if not await self._changes.wait_for(idle, max(0.0, remaining)):
                raise AssertionError(
                    f"emulator not idle within {timeout}s: {len(self._updates)} pending updates, "
                    f"{self._inflight} requests in flight"
                )
            quiet = min(settle, max(0.0, deadline - loop.time()))
            if not await self._changes.wait_change(quiet) and idle():
                return

    # -- updates -----------------------------------------------------------------------------------

    def _allows(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    def _set_allowed_updates(self, value: Any) -> None:
        if value is None:
            return  # keep the previous setting, as Telegram does
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad_request("can't parse allowed updates")
        self._allowed_updates = frozenset(value) if value else None

    def _add_update(self, kind: str, payload: dict[str, Any], chat_key: int) -> None:
        if not self._allows(kind):
            self._changes.notify()
            return
        update_id = self._next_update_id
        self._next_update_id += 1
        update = _PendingUpdate(update_id, chat_key, {"update_id": update_id, kind: payload})
        self._updates[update_id] = update
        if self._webhook_task is not None:
            self._wh_enqueue(update)
        self._changes.notify()

    def _confirm_before(self, offset: int) -> None:
        changed = False
        while self._updates:
            first = next(iter(self._updates))
            if first >= offset:
                break
            self._updates.popitem(last=False)
            changed = True
        if changed:
            self._changes.notify()

    # -- HTTP: Bot API -----------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json_response(_APIError(401, "Unauthorized").payload(), 401)
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return _json_response(_APIError(404, "Not Found: method not found").payload(), 404)
        name, handler = entry
        self.calls[name] += 1
        counted = name != "getUpdates"  # a waiting long poll is not "work in flight"
        if counted:
            self._inflight += 1
        try:
            try:
                params = await _read_request_params(request)
                result = await self._execute(name, handler, params, via=request.match_info.get("via"))
            except _APIError as error:
                logger.debug("%s -> %s %s", name, error.code, error.description)
                return _json_response(error.payload(), error.code)
            except Exception as exc:  # a bug in the emulator: surface it loudly
                logger.exception("emulator failed handling %s", name)
                self.internal_errors.append(exc)
                error = _APIError(500, "Internal Server Error")
                return _json_response(error.payload(), 500)
            logger.debug("%s -> ok", name)
            return _json_response({"ok": True, "result": result}, 200)
        finally:
            if counted:
                self._inflight -= 1
                self._changes.notify()

    def hold(self, method: str, *, after: int, via: str | None = None) -> Hold:
        """Let `after` calls of `method` through, then hold the next ones on the wire.

        A held call has done nothing yet: a test can kill the bot while a send is in
        flight and know that message was never delivered (`release(drop=True)`).
        `via` limits the hold to calls on that named route (`base_url_via`).
        """
        hold = Hold(method, after, via)
        self._holds.append(hold)
        return hold

    async def _execute(self, name: str, handler: _Handler, params: _Params, *, via: str | None = None) -> Any:
        for hold in list(self._holds):
            if hold.method != name or hold.via != via:
                continue
            if hold.dropped:
                raise _APIError(500, "Internal Server Error: the request was dropped")
            if not hold.released.is_set():
                hold.seen += 1
                if hold.seen > hold.after:
                    hold.waiting += 1
                    hold.reached.set()
                    await hold.released.wait()
                    if hold.dropped:
                        raise _APIError(500, "Internal Server Error: the request was dropped")
        chat_id = params.peek_int("chat_id")
        for fault in self._faults:
            if fault.matches(name, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                logger.debug("injected fault %s for %s", fault.status, name)
                raise fault.error()
        return await handler(params)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _json_response(_APIError(401, "Unauthorized").payload(), 401)
        stored = self._files_by_path.get(request.match_info["file_path"])
        if stored is None:
            return _json_response(_APIError(404, "Not Found").payload(), 404)
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # -- chat helpers ------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    def _chat(self, params: _Params, *, for_send: bool = True) -> _Chat:
        raw = params.raw("chat_id")
        if raw is None:
            raise _bad_request("chat_id is empty")
        try:
            chat_id = int(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            chat_id = None  # e.g. "@username": private chats can't be addressed that way
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if isinstance(chat, _GroupChat) and not chat.known and chat.ever_joined:
            raise chat.not_member_error()
        if chat is None or not chat.known:
            raise _bad_request("chat not found")
        if for_send and chat.id in self._blocked:
            raise _APIError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _message_dict(
        self, chat: _Chat, message: _Message, *, nested: bool = False
    ) -> dict[str, Any]:
        result: dict[str, Any] = {"message_id": message.message_id}
        if isinstance(chat, _GroupChat) and chat.kind == "channel":
            result["sender_chat"] = dict(chat.chat_dict)  # a post is the channel's
        elif message.from_bot:
            result["from"] = dict(self._bot_user)
        else:
            result["from"] = dict(message.sender or chat.user)
        result["chat"] = dict(chat.chat_dict)
        result["date"] = message.date
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if message.protect_content:
            result["has_protected_content"] = True
        if message.reply_to is not None and not nested:
            replied = chat.messages.get(message.reply_to)
            if replied is not None:
                result["reply_to_message"] = self._message_dict(chat, replied, nested=True)
        if message.kind == "text":
            result["text"] = message.text
            if message.entities:
                result["entities"] = [dict(e) for e in message.entities]
        else:
            result.update(message.payload)
            if message.text:
                result["caption"] = message.text
                if message.entities:
                    result["caption_entities"] = [dict(e) for e in message.entities]
        # Like Telegram, a Message carries only an inline keyboard: a reply keyboard (the bot's
        # persistent menu under the text field) is shown to the person, never echoed back.
        if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = message.reply_markup
        return result

    def _formatted(
        self,
        params: _Params,
        text_field: str,
        entities_field: str,
        *,
        required: bool,
        limit: int,
        too_long: str,
    ) -> tuple[str, str, list[dict[str, Any]]]:
        """Return ``(raw, plain, entities)`` after parse_mode processing and checks."""
        raw = params.get_str(text_field) or ""
        explicit = params.get_json(entities_field, error="can't parse entities JSON object")
        parse_mode = (params.get_str("parse_mode") or "").lower()
        if explicit is not None:
            plain, entities = raw, _validate_entities(explicit)
        elif parse_mode == "html":
            try:
                plain, entities = parse_html(raw)
            except EntityParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        elif parse_mode in ("", "markdown", "markdownv2"):
            # Markdown isn't used by Samspil: the markup simply stays in the text.
            plain, entities = raw, []
        else:
            raise _bad_request("unsupported parse_mode")
        plain, entities = _strip_formatted(plain, entities)
        if required and not plain:
            raise _bad_request("message text is empty")
        if len(plain) > limit:
            raise _bad_request(too_long)
        return raw, plain, entities

    def _reply_to(self, params: _Params, chat: _Chat) -> int | None:
        reply = params.get_json(
            "reply_parameters", error="can't parse reply parameters JSON object"
        )
        message_id: int | None = None
        allow_missing = params.get_bool("allow_sending_without_reply")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        elif reply is not None:
            raise _bad_request("can't parse reply parameters JSON object")
        else:
            message_id = params.get_int("reply_to_message_id")
        if message_id is None:
            return None
        if message_id not in chat.messages:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return int(message_id)

    def _bot_message_for_edit(self, params: _Params) -> tuple[_Chat, _Message]:
        if params.raw("inline_message_id") is not None:
            raise _bad_request("message to edit not found")
        chat = self._chat(params)
        message_id = params.get_int(
            "message_id", required=True, error="message identifier is not specified"
        )
        message = chat.messages.get(message_id) if message_id is not None else None
        if message is None:
            raise _bad_request("message to edit not found")
        if not message.from_bot:
            raise _bad_request("message can't be edited")
        return chat, message

    # -- Bot API methods -------------------------------------------------------------------------

    async def _get_me(self, params: _Params) -> dict[str, Any]:
        return {
            **self._bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: _Params) -> list[dict[str, Any]]:
        if self._webhook_url:
            raise _APIError(409, _WEBHOOK_CONFLICT)
        offset = params.get_int("offset") or 0
        limit = params.get_int("limit") or 100
        limit = min(100, max(1, limit))
        timeout = max(0, params.get_int("timeout") or 0)
        self._set_allowed_updates(
            params.get_json("allowed_updates", error="can't parse allowed updates")
        )
        self._poll_generation += 1
        generation = self._poll_generation

        if offset < 0:
            # "-N": the last N updates; everything before them is forgotten.
            keep = list(self._updates)[offset:]
            if keep:
                self._confirm_before(keep[0])
        elif offset > 0:
            self._confirm_before(offset)

        def available() -> bool:
            # Only updates at or after the offset count (ids are increasing).
            return bool(self._updates) and next(reversed(self._updates)) >= offset

        if not available() and timeout > 0 and not self._closing:
            self._polls_waiting += 1
            self._changes.notify()
            try:
                await self._changes.wait_for(
                    lambda: (
                        available()
                        or self._closing
                        or bool(self._webhook_url)
                        or self._poll_generation != generation
                    ),
                    timeout,
                )
            finally:
                self._polls_waiting -= 1
                self._changes.notify()
            if self._poll_generation != generation:
                raise _APIError(409, _POLL_CONFLICT)
            if self._webhook_url:
                raise _APIError(409, _WEBHOOK_CONFLICT)
            if offset > 0:
                self._confirm_before(offset)
        return [u.payload for u in itertools.islice(self._updates.values(), limit)]

    async def _set_webhook(self, params: _Params) -> bool:
        url = params.get_str("url") or ""
        if not url:
            await self._remove_webhook(params.get_bool("drop_pending_updates"))
            return True
        if not url.startswith(("http://", "https://")):
            # Real Telegram insists on HTTPS; plain HTTP is allowed for local bots.
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get_str("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise _bad_request("secret token contains unallowed characters")
        max_connections = params.get_int("max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise _bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = params.get_json("allowed_updates", error="can't parse allowed updates")
        self._set_allowed_updates(allowed)
        if params.get_bool("drop_pending_updates"):
            self._drop_pending()
        self._webhook_url = url
        self._webhook_secret = secret
        self._webhook_max_connections = max_connections
        self._webhook_allowed = allowed if isinstance(allowed, list) else self._webhook_allowed
        if self._webhook_task is None:
            self._start_webhook_loop()
        logger.debug("webhook set")
        self._changes.notify()
        return True

    async def _delete_webhook(self, params: _Params) -> bool:
        await self._remove_webhook(params.get_bool("drop_pending_updates"))
        return True

    async def _get_webhook_info(self, params: _Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook_url:
            info["max_connections"] = self._webhook_max_connections
            if self._webhook_allowed is not None:
                info["allowed_updates"] = list(self._webhook_allowed)
            if self._webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _send_message(self, params: _Params) -> dict[str, Any]:
        chat = self._chat(params)
        raw, plain, entities = self._formatted(
            params,
            "text",
            "entities",
            required=True,
            limit=MAX_TEXT_LENGTH,
            too_long="message is too long",
        )
        markup = _parse_markup(params)
        reply_to = self._reply_to(params, chat)
        self._check_rate(chat.id)
        message = chat.add(
            _Message(
                message_id=chat.new_message_id(),
                from_bot=True,
                date=self._now(),
                kind="text",
                text=plain,
                html=raw,
                entities=entities,
                reply_markup=markup,
                protect_content=params.get_bool("protect_content"),
                reply_to=reply_to,
            )
        )
        self._record_send("sendMessage", chat.id, message.message_id)
        self._changes.notify()
        return self._message_dict(chat, message)

    async def _send_document(self, params: _Params) -> dict[str, Any]:
        chat = self._chat(params)
        source = params.get_file("document")
        if source is None:
            raise _bad_request("there is no document in the request")
        raw, plain, entities = self._formatted(
            params,
            "caption",
            "caption_entities",
            required=False,
            limit=MAX_CAPTION_LENGTH,
            too_long="message caption is too long",
        )
        markup = _parse_markup(params)
        reply_to = self._reply_to(params, chat)
        if isinstance(source, _Upload):
            if not source.data:
                raise _bad_request("file must be non-empty")
            if len(source.data) > MAX_UPLOAD_BYTES:
                raise _APIError(413, "Request Entity Too Large")
            stored: _StoredFile | None = None
        else:
            stored = self._files.get(source)
            if stored is None:
                if source.startswith(("http://", "https://")):
                    raise _bad_request("failed to get HTTP URL content")
                raise _APIError(400, _WRONG_FILE)
            if stored.kind != "document":
                raise _bad_request(f"can't use file of type {stored.kind.capitalize()} as Document")
        self._check_rate(chat.id)
        if stored is None:
            assert isinstance(source, _Upload)
            stored = self._store_file(
                "document",
                source.data,
                "documents",
                "",
                file_name=source.filename or "document",
                mime_type=_guess_mime(source.filename, source.content_type),
            )
        message = chat.add(
            _Message(
                message_id=chat.new_message_id(),
                from_bot=True,
                date=self._now(),
                kind="document",
                text=plain,
                html=raw,
                entities=entities,
                reply_markup=markup,
                protect_content=params.get_bool("protect_content"),
                document=stored,
                payload={"document": stored.document_dict()},
                reply_to=reply_to,
            )
        )
        self._record_send("sendDocument", chat.id, message.message_id)
        self._changes.notify()
        return self._message_dict(chat, message)

    async def _get_file(self, params: _Params) -> dict[str, Any]:
        file_id = params.get_str("file_id", required=True)
        stored = self._files.get(file_id or "")
        if stored is None:
            raise _bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    async def _edit_message_text(self, params: _Params) -> dict[str, Any]:
        chat, message = self._bot_message_for_edit(params)
        raw, plain, entities = self._formatted(
            params,
            "text",
            "entities",
            required=True,
            limit=MAX_TEXT_LENGTH,
            too_long="message is too long",
        )
        if message.kind != "text":
            raise _bad_request("there is no text in the message to edit")
        # Like Telegram, omitting reply_markup removes the inline keyboard.
        markup = _parse_markup(params, inline_only=True)
        if (
            plain == message.text
            and entities == message.entities
            and markup == message.reply_markup
        ):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message.text, message.html, message.entities = plain, raw, entities
        message.reply_markup = markup
        message.edit_date = self._now()
        chat.touch(message)
        self._changes.notify()
        return self._message_dict(chat, message)

    async def _edit_message_reply_markup(self, params: _Params) -> dict[str, Any]:
        chat, message = self._bot_message_for_edit(params)
        markup = _parse_markup(params, inline_only=True)
        if markup == message.reply_markup:
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message.reply_markup = markup
        message.edit_date = self._now()
        chat.touch(message)
        self._changes.notify()
        return self._message_dict(chat, message)

    async def _delete_message(self, params: _Params) -> bool:
        chat = self._chat(params, for_send=False)
        message_id = params.get_int(
            "message_id", required=True, error="message identifier is not specified"
        )
        if chat.messages.pop(message_id or 0, None) is None:
            raise _bad_request("message to delete not found")
        chat.touch()
        self._changes.notify()
        return True

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.get_str("callback_query_id", required=True, error="query_id is empty")
        query = self._queries.get(query_id or "")
        if query is None or query.answered:
            raise _APIError(400, _QUERY_TOO_OLD)
        text = params.get_str("text")
        if text is not None and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        answer = CallbackAnswer(
            query_id=query_id or "",
            text=text,
            show_alert=params.get_bool("show_alert"),
            url=params.get_str("url"),
            cache_time=params.get_int("cache_time") or 0,
        )
        phone = self._phones.get(query.user_id)
        if phone is not None:
            phone._record_answer(answer)
        self._changes.notify()
        return True

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.get_json("commands", error="can't parse commands JSON object")
        if commands is None:
            raise _bad_request("commands is empty")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise _bad_request("too many commands")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("command description is invalid")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(params)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        self._changes.notify()
        return True

    async def _delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        self._changes.notify()
        return True

    async def _get_my_commands(self, params: _Params) -> list[dict[str, Any]]:
        return [dict(c) for c in self._commands.get(self._commands_key(params), [])]

    def _commands_key(self, params: _Params) -> tuple[str, str]:
        scope = params.get_json("scope", error="can't parse BotCommandScope JSON object")
        try:
            key = _scope_key(scope)
        except ValueError as exc:
            raise _bad_request(str(exc)) from None
        if scope and scope.get("type") in ("chat", "chat_administrators", "chat_member"):
            self._chat(_Params({"chat_id": scope.get("chat_id")}), for_send=False)
        language = params.get_str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2,3}", language):
            raise _bad_request("invalid language code specified")
        return key, language

    async def _set_chat_menu_button(self, params: _Params) -> bool:
        """The button beside the text field: the commands (default) or a Mini App, for one
        private chat (`chat_id`) or everyone's default."""
        button = params.get_json("menu_button", error="can't parse menu button JSON object") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
            raise _bad_request("can't parse menu button JSON object")
        if button["type"] == "web_app":
            if not isinstance(button.get("text"), str) or not button["text"].strip():
                raise _bad_request("menu button text is empty")
            _check_web_app(button.get("web_app"))
        self.menu_buttons[params.get_int("chat_id") or 0] = button
        self._changes.notify()
        return True

    async def _get_chat_menu_button(self, params: _Params) -> dict[str, Any]:
        chat_id = params.get_int("chat_id") or 0
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(0) or {"type": "commands"}

    async def _set_my_description(self, params: _Params) -> bool:
        self._set_text(params, "description", self._descriptions, MAX_DESCRIPTION)
        return True

    async def _get_my_description(self, params: _Params) -> dict[str, Any]:
        return {"description": self._get_text(params, self._descriptions)}

    async def _set_my_short_description(self, params: _Params) -> bool:
        self._set_text(params, "short_description", self._short_descriptions, MAX_SHORT_DESCRIPTION)
        return True

    async def _get_my_short_description(self, params: _Params) -> dict[str, Any]:
        return {"short_description": self._get_text(params, self._short_descriptions)}

    def _set_text(self, params: _Params, name: str, store: dict[str, str], limit: int) -> None:
        """An empty or missing text removes the one for that language (the default included)."""
        language = self._description_language(params)
        text = params.get_str(name) or ""
        if _utf16_len(text) > limit:
            raise _bad_request(f"{name.replace('_', ' ')} is too long")
        if text.strip():
            store[language] = text
        else:
            store.pop(language, None)
        self._changes.notify()

    def _get_text(self, params: _Params, store: dict[str, str]) -> str:
        language = self._description_language(params)
        return store.get(language, store.get("", ""))

    @staticmethod
    def _description_language(params: _Params) -> str:
        language = params.get_str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad_request("invalid language code specified")
        return language

    async def _get_chat(self, params: _Params) -> dict[str, Any]:
        chat = self._chat(params, for_send=False)
        return {
            **chat.chat_dict,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    async def _send_chat_action(self, params: _Params) -> bool:
        self._chat(params)
        action = params.get_str("action", required=True)
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    async def _leave_chat(self, params: _Params) -> bool:
        chat = self._chat(params, for_send=False)
        if not isinstance(chat, _GroupChat):
            raise _bad_request("chat member status can't be changed in private chats")
        old = chat.bot_status
        chat.bot_status, chat.known, chat.bot_left = "left", False, True
        if chat.kind != "channel":
            chat.add(
                _Message(
                    message_id=chat.new_message_id(),
                    from_bot=True,
                    date=self._now(),
                    kind="left_chat_member",
                    payload={"left_chat_member": dict(self._bot_user)},
                )
            )
        # Like Telegram, the bot hears of its own leaving.
        self._bot_member_update(chat, self._bot_user, old, "left")
        return True

    async def _close(self, params: _Params) -> bool:
        return True

    # -- files -------------------------------------------------------------------------------------

    def _store_file(
        self,
        kind: str,
        data: bytes,
        folder: str,
        extension: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> _StoredFile:
        seq = next(self._file_seq)
        if file_name and not extension and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        stored = _StoredFile(
            kind=kind,
            file_id=f"{kind[:2].upper()}ACAgIAAxkBAAI{seq:06d}{secrets.token_urlsafe(12)}",
            file_unique_id=f"AgAD{seq:06d}{secrets.token_urlsafe(4)}",
            file_path=f"{folder}/file_{seq}{extension}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    # -- webhook -------------------------------------------------------------------------------------

    def set_webhook_targets(self, urls: Iterable[str] | None) -> None:
        """Deliver webhook updates round-robin to these URLs instead of the webhook URL.

        Stands in for a load balancer in front of several bot processes; the webhook
        itself must still be set with ``setWebhook``. ``None``/empty restores normal
        delivery. Updates of one chat are still delivered strictly one after another.
        """
        self._webhook_targets = list(urls or [])
        self._changes.notify()

    def _next_target(self) -> str:
        targets = self._webhook_targets or [self._webhook_url]
        return targets[next(self._rr) % len(targets)]

    def _drop_pending(self) -> None:
        self._updates.clear()
        self._wh_queues.clear()
        self._wh_ready.clear()
        self._changes.notify()

    async def _remove_webhook(self, drop_pending: bool) -> None:
        self._webhook_url = ""
        self._webhook_secret = None
        self._webhook_allowed = None
        self._webhook_last_error = None
        await self._stop_webhook_loop()
        if drop_pending:
            self._drop_pending()
        self._changes.notify()

    def _start_webhook_loop(self) -> None:
        self._wh_queues.clear()
        self._wh_ready.clear()
        self._wh_busy.clear()
        for update in self._updates.values():
            self._wh_enqueue(update)
        self._webhook_task = asyncio.create_task(self._webhook_loop(), name="emulator-webhook")

    async def _stop_webhook_loop(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._wh_queues.clear()
        self._wh_ready.clear()
        self._wh_busy.clear()

    def _wh_enqueue(self, update: _PendingUpdate) -> None:
        queue = self._wh_queues.get(update.chat_key)
        if queue is None:
            queue = self._wh_queues[update.chat_key] = collections.deque()
        queue.append(update.update_id)
        if len(queue) == 1 and update.chat_key not in self._wh_busy:
            self._wh_ready.append(update.chat_key)

    async def _webhook_loop(self) -> None:
        if self._webhook_session is None or self._webhook_session.closed:
            self._webhook_session = aiohttp.ClientSession()
        tasks: set[asyncio.Task[None]] = set()

        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            self._changes.notify()  # a connection slot is free again

        try:
            while True:
                await self._changes.wait_for(
                    lambda: bool(self._wh_ready) and len(tasks) < self._webhook_max_connections,
                    3600.0,
                )
                while self._wh_ready and len(tasks) < self._webhook_max_connections:
                    chat_key = self._wh_ready.popleft()
                    queue = self._wh_queues.get(chat_key)
                    if not queue or chat_key in self._wh_busy:
                        continue
                    self._wh_busy.add(chat_key)
                    task = asyncio.create_task(self._deliver(chat_key, queue[0]))
                    tasks.add(task)
                    task.add_done_callback(done)
        finally:
            for task in list(tasks):
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _deliver(self, chat_key: int, update_id: int) -> None:
        """Deliver one update until the bot acknowledges it with a 2xx answer."""
        try:
            attempt = 0
            while update_id in self._updates and self._webhook_url:
                if await self._post_update(self._updates[update_id]):
                    return
                # Telegram redelivers failed updates; keep the backoff short for tests.
                await asyncio.sleep(min(1.0, 0.05 * 2**attempt))
                attempt += 1
        finally:
            self._wh_busy.discard(chat_key)
            queue = self._wh_queues.get(chat_key)
            if queue and queue[0] == update_id:
                queue.popleft()
            if queue:
                self._wh_ready.append(chat_key)  # a stale duplicate is skipped as busy
            else:
                self._wh_queues.pop(chat_key, None)
            self._changes.notify()

    async def _post_update(self, update: _PendingUpdate) -> bool:
        session = self._webhook_session
        assert session is not None
        url = self._next_target()
        headers = {}
        if self._webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook_secret
        try:
            async with session.post(
                url,
                json=update.payload,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                if not 200 <= response.status < 300:
                    self._webhook_error(
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
                    return False
                try:
                    reply = await _read_webhook_reply(response)
                except (aiohttp.ClientError, ValueError) as exc:
                    logger.debug("unreadable webhook reply: %s", type(exc).__name__)
                    reply = None
        except (TimeoutError, aiohttp.ClientError) as exc:
            self._webhook_error(f"Connection error: {type(exc).__name__}")
            return False
        except Exception as exc:  # e.g. a malformed URL: keep retrying, don't kill the chat
            self._webhook_error(f"Delivery error: {type(exc).__name__}")
            return False
        # Acknowledged: the update is gone. A method in the reply is then executed,
        # counted as in flight so wait_idle() doesn't see a gap.
        if reply is not None:
            self._inflight += 1
        self._updates.pop(update.update_id, None)
        self._changes.notify()
        if reply is not None:
            try:
                await self._execute_reply(*reply)
            finally:
                self._inflight -= 1
                self._changes.notify()
        return True

    def _webhook_error(self, message: str) -> None:
        logger.debug("webhook delivery failed: %s", message)
        self._webhook_last_error = (self._now(), message)
        self._changes.notify()

    async def _execute_reply(self, method: str, params: _Params) -> None:
        entry = self._methods.get(method.lower())
        if entry is None:
            logger.debug("webhook reply with unknown method")
            return
        name, handler = entry
        try:
            await self._execute(name, handler, params)
        except _APIError as error:  # Telegram silently drops failed reply calls
            logger.debug("webhook reply %s failed: %s", name, error.description)
        except Exception as exc:
            logger.exception("emulator failed executing webhook reply %s", name)
            self.internal_errors.append(exc)

    # -- HTTP: people side ------------------------------------------------------------------------

    def _add_people_routes(self, app: web.Application) -> None:
        app.router.add_post("/_emu/users/{user_id}/send", self._emu_send)
        app.router.add_post("/_emu/users/{user_id}/tap", self._emu_tap)
        app.router.add_get("/_emu/users/{user_id}/chat", self._emu_chat)
        app.router.add_get("/_emu/users/{user_id}/wait", self._emu_wait)
        app.router.add_post("/_emu/faults", self._emu_faults)
        app.router.add_post("/_emu/block", self._emu_block)
        app.router.add_post("/_emu/rate_limit", self._emu_rate_limit)
        app.router.add_get("/_emu/sent", self._emu_sent)
        app.router.add_get("/_emu/state", self._emu_state)
        app.router.add_post("/_emu/groups", self._emu_group_new)
        app.router.add_post("/_emu/groups/{chat_id}/{action}", self._emu_group_act)
        app.router.add_get("/_emu/groups/{chat_id}/chat", self._emu_group_chat)

    @staticmethod
    async def _emu_body(request: web.Request) -> dict[str, Any]:
        if not request.body_exists:
            return {}
        try:
            body = await request.json()
        except ValueError:
            raise _bad_request("body must be a JSON object") from None
        if not isinstance(body, dict):
            raise _bad_request("body must be a JSON object")
        return body

    def _emu_phone(self, request: web.Request, body: dict[str, Any] | None = None) -> Phone:
        try:
            user_id = int(request.match_info["user_id"])
        except ValueError:
            raise _bad_request("user_id must be an integer") from None
        phone = self._phones.get(user_id)
        if phone is not None:
            return phone
        if body is None:
            raise _APIError(404, "Not Found: unknown user")
        try:
            return self.phone(
                user_id,
                str(body.get("first_name") or f"User {user_id}"),
                last_name=body.get("last_name"),
                username=body.get("username"),
                language_code=body.get("language_code", "da"),
            )
        except ValueError as exc:
            raise _bad_request(str(exc)) from None

    def _emu_group(self, request: web.Request) -> Group:
        try:
            chat_id = int(request.match_info["chat_id"])
        except ValueError:
            raise _bad_request("chat_id must be an integer") from None
        group = self._groups.get(chat_id)
        if group is None:
            raise _APIError(404, "Not Found: unknown group")
        return group

    def _emu_member(self, body: dict[str, Any]) -> Phone:
        phone = self._phones.get(int(body["user_id"]))
        if phone is None:
            raise _APIError(404, "Not Found: unknown user")
        return phone

    async def _emu_group_new(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            body = await self._emu_body(request)
            group = self.group(str(body.get("title") or "Gruppe"), str(body.get("kind", "group")))
            return {"id": group.id, "kind": group.kind, "title": group.title}

        return await _emu_call(action)

    async def _emu_group_act(self, request: web.Request) -> web.Response:
        """POST /_emu/groups/{id}/add_bot|remove_bot|send|tap with ``user_id`` in the body."""

        async def action() -> Any:
            body = await self._emu_body(request)
            group = self._emu_group(request)
            who = self._emu_member(body)
            what = request.match_info["action"]
            if what == "add_bot":
                group.add_bot(who, admin=bool(body.get("admin")), notify=body.get("notify", True))
                return True
            if what == "remove_bot":
                group.remove_bot(who, ban=bool(body.get("ban")))
                return True
            if what == "send":
                if not isinstance(body.get("text"), str) or not body["text"]:
                    raise _bad_request("text is empty")
                return await group.send(who, body["text"])
            if what == "tap":
                message_id = body.get("message_id")
                if body.get("button_text") is not None:
                    query_id = await group.tap(who, str(body["button_text"]), message_id=message_id)
                elif message_id is not None and body.get("data") is not None:
                    query_id = await group.tap_data(who, int(message_id), str(body["data"]))
                else:
                    raise _bad_request("button_text or (message_id, data) is required")
                return {"callback_query_id": query_id}
            raise _APIError(404, "Not Found: unknown action")

        return await _emu_call(action)

    async def _emu_group_chat(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            group = self._emu_group(request)
            return {
                "bot_status": group.bot_status,
                "bot_left": group.bot_left,
                "messages": [_view_json(m) for m in group.messages],
            }

        return await _emu_call(action)

    async def _emu_send(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            body = await self._emu_body(request)
            phone = self._emu_phone(request, body)
            kind = body.get("kind", "text")
            caption = body.get("caption")
            if kind == "text":
                if not isinstance(body.get("text"), str) or not body["text"]:
                    raise _bad_request("text is empty")
                return await phone.send(body["text"])
            if kind == "photo":
                return await phone.send_photo(caption=caption)
            if kind == "sticker":
                return await phone.send_sticker(body.get("emoji", "👍"))
            if kind == "voice":
                return await phone.send_voice(int(body.get("duration", 3)))
            if kind == "document":
                data = (
                    base64.b64decode(body["data_base64"])
                    if body.get("data_base64")
                    else b"%PDF-1.4\n"
                )
                return await phone.send_document(
                    body.get("file_name", "x.pdf"),
                    data,
                    mime_type=body.get("mime_type"),
                    caption=caption,
                )
            if kind == "location":
                return await phone.send_location(float(body["latitude"]), float(body["longitude"]))
            raise _bad_request(f"unknown kind {kind!r}")

        return await _emu_call(action)

    async def _emu_tap(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            body = await self._emu_body(request)
            phone = self._emu_phone(request)
            message_id = body.get("message_id")
            if body.get("button_text") is not None:
                query_id = await phone.tap(str(body["button_text"]), message_id=message_id)
            elif message_id is not None and body.get("data") is not None:
                query_id = await phone.tap_data(int(message_id), str(body["data"]))
            else:
                raise _bad_request("button_text or (message_id, data) is required")
            return {"callback_query_id": query_id}

        return await _emu_call(action)

    async def _emu_chat(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            phone = self._emu_phone(request)
            return {"cursor": phone._chat.version, "messages": [_view_json(m) for m in phone.chat]}

        return await _emu_call(action)

    async def _emu_wait(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            phone = self._emu_phone(request)
            text = request.query.get("text", "")
            after = int(request.query["after"]) if "after" in request.query else None
            timeout = float(request.query.get("timeout", "10"))
            try:
                return _view_json(await phone.wait_for(text, after=after, timeout=timeout))
            except AssertionError as exc:
                raise _APIError(408, str(exc)) from None

        return await _emu_call(action)

    async def _emu_faults(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            body = await self._emu_body(request)
            if "status" not in body:
                raise _bad_request("status is required")
            self.inject_fault(
                int(body["status"]),
                chat_id=body.get("chat_id"),
                method=body.get("method"),
                retry_after=body.get("retry_after"),
                times=int(body.get("times", 1)),
                description=body.get("description"),
            )
            return True

        return await _emu_call(action)

    async def _emu_block(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            body = await self._emu_body(request)
            chat_id = int(body["chat_id"])
            if body.get("blocked", True):
                self.block(chat_id)
            else:
                self.unblock(chat_id)
            return True

        return await _emu_call(action)

    async def _emu_rate_limit(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            body = await self._emu_body(request)
            self.set_rate_limit(body.get("global_per_s"), body.get("per_chat_min_interval"))
            return True

        return await _emu_call(action)

    async def _emu_sent(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            return [dataclasses.asdict(r) for r in self.sent]

        return await _emu_call(action)

    async def _emu_state(self, request: web.Request) -> web.Response:
        async def action() -> Any:
            return {
                "pending_updates": len(self._updates),
                "inflight_requests": self._inflight,
                "long_polls_waiting": self._polls_waiting,
                "webhook_url": self._webhook_url,
            }

        return await _emu_call(action)


# --------------------------------------------------------------------------------------
# Module helpers
# --------------------------------------------------------------------------------------


def _json_response(body: Any, status: int) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


async def _emu_call(action: Callable[[], Awaitable[Any]]) -> web.Response:
    try:
        result = await action()
    except _APIError as error:
        return _json_response(error.payload(), error.code)
    except AssertionError as exc:
        return _json_response(_APIError(400, str(exc)).payload(), 400)
    except (KeyError, TypeError, ValueError) as exc:
        return _json_response(_APIError(400, f"Bad Request: {exc}").payload(), 400)
    return _json_response({"ok": True, "result": result}, 200)


def _view_json(view: ChatMessage) -> dict[str, Any]:
    data = dataclasses.asdict(view)
    if view.document is not None:
        document = dict(view.document)
        document["data_base64"] = base64.b64encode(document.pop("data")).decode("ascii")
        data["document"] = document
    return data


async def _read_request_params(request: web.Request) -> _Params:
    """Collect parameters like Telegram: query string, then form/multipart or JSON body."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, _Upload] = {}
    if request.body_exists:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise _bad_request("JSON body must be an object")
            values.update(body)
        elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge:
                raise _APIError(413, "Request Entity Too Large") from None
            except ValueError:
                raise _bad_request("can't parse request body") from None
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = _Upload(value.filename, value.content_type, value.file.read())
                elif isinstance(value, (bytes, bytearray)):
                    values[key] = bytes(value).decode("utf-8", "replace")
                else:
                    values[key] = value
    return _Params(values, files)


async def _read_webhook_reply(response: aiohttp.ClientResponse) -> tuple[str, _Params] | None:
    """Extract a Bot API call that the bot returned in its webhook answer, if any."""
    if response.content_type == "multipart/form-data":
        values: dict[str, Any] = {}
        files: dict[str, _Upload] = {}
        reader = aiohttp.MultipartReader(response.headers, response.content)
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            data = await part.read()
            if part.filename is not None:
                files[part.name] = _Upload(
                    part.filename, part.headers.get("Content-Type"), bytes(data)
                )
            else:
                values[part.name] = bytes(data).decode("utf-8")
    elif response.content_type == "application/json":
        body = await response.json(content_type=None)
        if not isinstance(body, dict):
            return None
        values, files = dict(body), {}
    else:
        return None
    method = values.pop("method", None)
    if not isinstance(method, str) or not method:
        return None
    return method, _Params(values, files)


def _validate_entities(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _bad_request("can't parse entities JSON object")
    entities = []
    for entity in value:
        if (
            not isinstance(entity, dict)
            or not isinstance(entity.get("type"), str)
            or not isinstance(entity.get("offset"), int)
            or not isinstance(entity.get("length"), int)
            or entity["offset"] < 0
        ):
            raise _bad_request("can't parse MessageEntity JSON object")
        if entity["length"] > 0:
            entities.append(dict(entity))
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _parse_markup(params: _Params, *, inline_only: bool = False) -> dict[str, Any] | None:
    markup = params.get_json("reply_markup", error="can't parse reply keyboard markup JSON object")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return _validate_inline_keyboard(markup["inline_keyboard"])
    if inline_only:
        raise _bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not isinstance(button, (str, dict)) or (
                    isinstance(button, dict) and not isinstance(button.get("text"), str)
                ):
                    raise _bad_request(
                        'can\'t parse keyboard button: Field "text" must be of type String'
                    )
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise _bad_request("can't parse reply keyboard markup JSON object")


def _validate_inline_keyboard(rows: Any) -> dict[str, Any] | None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    kept = []
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise _bad_request(
                    "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
                )
            if not isinstance(button.get("text"), str):
                raise _bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            actions = [key for key in _BUTTON_ACTIONS if key in button]
            if not actions:
                raise _bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if (
                    not isinstance(data, str)
                    or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise _bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not url or any(c.isspace() for c in url):
                    raise _bad_request("BUTTON_URL_INVALID")
            if "web_app" in button:
                _check_web_app(button["web_app"])
        if row:
            kept.append(row)
    # An empty keyboard is the same as no keyboard (Telegram drops empty rows).
    return {"inline_keyboard": kept} if kept else None


def _check_web_app(info: Any) -> None:
    """A Mini App's address: Telegram opens only https pages."""
    url = info.get("url") if isinstance(info, dict) else None
    if not isinstance(url, str) or not url.startswith("https://") or any(c.isspace() for c in url):
        raise _bad_request("BUTTON_TYPE_INVALID: the web app URL must be https")


def _scope_key(scope: Any) -> str:
    """Canonical JSON of a BotCommandScope; ``""`` for the default scope."""
    if scope is None:
        return ""
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
        raise ValueError("can't parse BotCommandScope JSON object")
    if scope["type"] == "default":
        return ""
    canonical: dict[str, Any] = {"type": scope["type"]}
    for key in ("chat_id", "user_id"):
        if key in scope:
            value = scope[key]
            canonical[key] = (
                int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value
            )
    needs = {
        "chat": ("chat_id",),
        "chat_administrators": ("chat_id",),
        "chat_member": ("chat_id", "user_id"),
    }
    for key in needs.get(scope["type"], ()):
        if key not in canonical:
            raise ValueError(f"{key} is empty")
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------------------
# Standalone use
# --------------------------------------------------------------------------------------


async def serve_forever(
    host: str = "127.0.0.1", port: int = 8081, token: str = DEFAULT_TOKEN
) -> None:
    """Run an emulator until cancelled (``python -m emulator``)."""
    emulator = BotAPIEmulator(token)
    await emulator.start(host, port)
    logger.info("Bot API emulator for bot %s listening on %s", emulator.bot_id, emulator.base_url)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m emulator", description="Local Telegram Bot API emulator for Samspil."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        asyncio.run(serve_forever(args.host, args.port, args.token))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
