"""A Bot API emulator: an HTTP server that answers like api.telegram.org.

A real `aiogram.Bot` is pointed at it (`TELEGRAM_API_URL`, or
`AiohttpSession(api=TelegramAPIServer.from_base(emulator.url))`). It keeps the chats'
messages, files and forum topics; answers with objects that pass aiogram's validation;
serves getUpdates as a long poll; and refuses what Telegram refuses, with Telegram's
error texts (the sources of each rule are cited where it is enforced; text parsing is
in `bot.emulator.text`). Tests read what the bot did from `calls` and can inject
failures (errors, dropped connections, held requests, blocked users, flood limits).

The control side, used by tests and by the sandbox's web layer: `user_message`,
`group_post`, `press_button`, `edit_user_message` put a user's or a moderator's action
into a chat (with a message id from that chat's sequence) and queue its update;
`history`, `subscribe` show what the chats hold and what changes; `set_member`,
`chat_info`, `block_user` shape the world.

What the emulator never saw is given the benefit of the doubt: tests often feed updates
straight into the Dispatcher, so a callback query the emulator did not deliver may be
answered, and a message id beyond a chat's sequence (the builders number from 100,000)
may be replied to, copied or deleted. An id the emulator handed out and no longer has is
missing, as on Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import json
import math
import re
import socket
import time
import urllib.parse
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.emulator.text import (
    CALLBACK_ANSWER_LIMIT,
    CAPTION_LIMIT,
    TEXT_LIMIT,
    EntityError,
    FormattedText,
    bot_api_error,
    format_text,
)
from bot.emulator.updates import (
    BOT_FIRST_NAME,
    BUILT_FILES,
    DEFAULT_BOT_ID,
    DEFAULT_BOT_USERNAME,
    FileRegistry,
    StoredFile,
    chat_dict,
    command_entities,
    next_callback_id,
    user_dict,
)

__all__ = [
    "BOT_BLOCKED",
    "MESSAGE_TO_EDIT_NOT_FOUND",
    "METHOD_NOT_FOUND",
    "NOT_MODIFIED",
    "ApiCall",
    "Event",
    "FakeTelegram",
    "Rejection",
    "UploadedFile",
    "decode_value",
    "watch_rejections",
]

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
BOT_BLOCKED = "Forbidden: bot was blocked by the user"
METHOD_NOT_FOUND = "Not Found: method not found"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
THREAD_NOT_FOUND = "Bad Request: message thread not found"
FORUM_ICON_COLOR = 7322096
# Client.h MAX_DOWNLOAD_FILE_SIZE: getFile refuses larger files ("file is too big").
MAX_DOWNLOAD_SIZE = 20 << 20
# Telegram keeps a callback query answerable for a short while (about 15 s in practice);
# after that answerCallbackQuery fails with QUERY_ID_INVALID.
CALLBACK_QUERY_TIMEOUT = 15.0
MAX_ALBUM = 10  # MessagesManager::send_message_group: "Too many messages to send as an album"

# No leading zeros: "007" is more likely a code than a number, keep it a string.
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)")

# Methods that answer plain ``true`` and change nothing the emulator keeps.
_TRUE_METHODS = frozenset(
    {
        "deleteWebhook",
        "setWebhook",
        "setMyCommands",
        "deleteMyCommands",
        "setChatMenuButton",
        "sendChatAction",
        "setMyDescription",
        "setMyShortDescription",
        "setMyName",
        "pinChatMessage",
        "unpinChatMessage",
        "setMessageReaction",
    }
)
# send* methods that produce one Message, with the key of their media object.
_SEND_MEDIA: dict[str, str | None] = {
    "sendMessage": None,
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVoice": "voice",
    "sendVideo": "video",
    "sendAudio": "audio",
    "sendAnimation": "animation",
    "sendSticker": "sticker",
    "sendVideoNote": "video_note",
}
_CAPTIONED = frozenset({"photo", "document", "voice", "video", "audio", "animation"})
_EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})
_TOPIC_METHODS = frozenset(
    {
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "deleteForumTopic",
    }
)
# Calls that create messages: these are what Telegram's flood limits count.
_RATE_LIMITED = frozenset(
    {
        *_SEND_MEDIA,
        "sendMediaGroup",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }
)
# Kinds a media group may hold; documents and audio only among their own kind
# (MessagesManager::send_message_group: "<Type> can't be mixed with other media types").
_ALBUM_KINDS = frozenset({"photo", "video", "document", "audio"})
_HOMOGENEOUS = {"document": "Document", "audio": "Audio"}
_MEDIA_KINDS = (
    "photo",
    "document",
    "voice",
    "video",
    "audio",
    "animation",
    "sticker",
    "video_note",
)


def _blockable(method: str) -> bool:
    """Whether a call to a user who blocked the bot fails with 403."""
    return method.startswith(("send", "editMessage")) or method in {
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }


def decode_value(value: str) -> Any:
    """Turn one form field back into a Python value (aiogram sends everything as text)."""
    if value == "true":
        return True
    if value == "false":
        return False
    if _INT_RE.fullmatch(value):
        return int(value)
    if value.startswith(("{", "[")):
        # Plain text may also start with a bracket; only valid JSON is decoded.
        with contextlib.suppress(ValueError):
            return _decode_json(value)
    return value


@functools.lru_cache(maxsize=1024)
def _decode_json(value: str) -> Any:
    """Shared between requests that send the same JSON (a broadcast's keyboard): the
    emulator never mutates a decoded value, and one copy instead of 100,000 saves memory."""
    return json.loads(value)


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part: its name and size (the bytes are kept as a StoredFile)."""

    filename: str
    size: int


@dataclass
class ApiCall:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    token: str
    at: float
    failed: bool = False
    # The undecoded fields (so "42" typed as text stays a str), uploaded files by field
    # name, and the error description when the call failed.
    raw: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    error: str | None = None
    # What the emulator answered (e.g. the Message a send made, with its message_id).
    result: Any = None

    def __str__(self) -> str:
        params = json.dumps(self.params, ensure_ascii=False, default=str)
        if len(params) > 300:
            params = params[:300] + "…"
        suffix = f"  FAILED: {self.error}" if self.failed else ""
        return f"{self.method} {params}{suffix}"


@dataclass(frozen=True)
class Rejection:
    """A 4xx the emulator answered: injected by fail_next, or Telegram's own rule."""

    call: ApiCall
    status: int
    description: str
    injected: bool
    expected: bool

    def __str__(self) -> str:
        origin = "injected" if self.injected else ("expected" if self.expected else "UNEXPECTED")
        return f"{self.status} {self.description} ({origin}) on {self.call.method}"


@dataclass(frozen=True)
class Event:
    """A change in a chat, for whoever watches (the sandbox's page).

    kind: message | edited | deleted | callback_answer | topic | chat_action | rejected
    (a 4xx the emulator answered the bot)."""

    kind: str
    chat_id: int
    data: dict[str, Any]


_rejection_watchers: list[Callable[[Rejection], None]] = []


def watch_rejections(callback: Callable[[Rejection], None]) -> Callable[[], None]:
    """Call `callback` with every 4xx any emulator answers; returns the way to stop."""
    _rejection_watchers.append(callback)

    def stop() -> None:
        with contextlib.suppress(ValueError):
            _rejection_watchers.remove(callback)

    return stop


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


@dataclass
class _Expectation:
    description: str
    method: str | None
    remaining: int | None


@dataclass
class _Message:
    """A message a chat holds, as the API shows it, with what edits compare."""

    chat_id: int
    message_id: int
    sender_id: int
    message: dict[str, Any]
    content: FormattedText | None  # the text, or the caption of a media message
    kind: str  # text | photo | document | ... | service
    markup: dict[str, Any] | None = None
    thread_id: int | None = None

    @property
    def is_caption(self) -> bool:
        return self.kind != "text"


@dataclass
class _Topic:
    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False


@dataclass
class _Query:
    delivered_at: float
    answered: bool = False


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


class _Injected(_ApiError):
    """A failure a test asked for with fail_next."""


def _bad(message: str) -> _ApiError:
    return _ApiError(
        400, message if message.startswith("Bad Request: ") else bot_api_error(message)
    )


class _Window:
    """Sliding-window limiter: at most `capacity` events per `window` seconds."""

    def __init__(self, capacity: int, window: float) -> None:
        self.capacity = capacity
        self.window = window
        self.events: dict[Any, deque[float]] = {}

    @classmethod
    def per_second(cls, rate: float) -> _Window:
        # 30/s -> 30 per 1 s; 0.5/s -> 1 per 2 s.
        capacity = max(1, round(rate))
        return cls(capacity, capacity / rate)

    def wait(self, key: Any, now: float) -> float:
        """Seconds until `key` may send again (0 when it may send now)."""
        events = self.events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) < self.capacity:
            return 0.0
        return events[0] + self.window - now

    def record(self, key: Any, now: float) -> None:
        self.events.setdefault(key, deque()).append(now)


def _markup(value: Any) -> dict[str, Any] | None:
    """The inline keyboard a message ends up with (others are not part of a message)."""
    if isinstance(value, dict) and value.get("inline_keyboard"):
        return value
    return None


def _check_markup(value: Any) -> None:
    """What Telegram's server refuses in an inline keyboard."""
    if not isinstance(value, dict):
        return
    for row in value.get("inline_keyboard") or []:
        for button in row if isinstance(row, list) else []:
            if not isinstance(button, dict):
                continue
            if "callback_data" in button:
                data = button["callback_data"]
                data = data if isinstance(data, str) else json.dumps(data)
                # Bot API docs: callback_data 1-64 bytes; the server answers
                # BUTTON_DATA_INVALID (seen in telegraf/telegraf#79).
                if not 1 <= len(data.encode()) <= 64:
                    raise _bad("BUTTON_DATA_INVALID")
            if not str(button.get("text", "")):
                raise _bad("Text buttons are unallowed in the inline keyboard")


def _chat_key(value: Any) -> int:
    """A numeric chat id; '@name' chat ids get a stable fake negative id."""
    if isinstance(value, bool):
        raise _ApiError(400, "Bad Request: chat not found")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value:
        return -1_000_000_000_000 - zlib.crc32(value.encode())
    raise _ApiError(400, "Bad Request: chat_id is empty")


def _matches(call: ApiCall, key: str, value: Any) -> bool:
    # A str also matches the raw field, so text="42" finds a message whose text was "42".
    if key in call.params and call.params[key] == value:
        return True
    return isinstance(value, str) and call.raw.get(key) == value


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')
_DISPOSITION = re.compile(rb'; name="([^"]*)"(?:; filename="([^"]*)")?')
_FILENAME_STAR = re.compile(rb"filename\*=utf-8''([^;\r\n]+)", re.IGNORECASE)


def _split_multipart(
    body: bytes, boundary: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Fields and files of a multipart/form-data body (RFC 7578, as aiohttp writes it)."""
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in body.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break  # the closing delimiter
        head, _, content = part.partition(b"\r\n\r\n")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        match = _DISPOSITION.search(head)
        if match is None:
            continue
        name = match.group(1).decode()
        encoded = _FILENAME_STAR.search(head)  # RFC 5987: filename*=utf-8''%D0%BF...
        if encoded is not None:
            files[name] = (urllib.parse.unquote(encoded.group(1).decode()), content)
        elif match.group(2) is not None:
            files[name] = (match.group(2).decode(), content)
        else:
            fields[name] = content.decode()
    return fields, files


def _now() -> int:
    return int(time.time())


class FakeTelegram:
    """The Bot API emulator. ``await start()`` before use, ``await stop()`` after."""

    def __init__(
        self,
        *,
        bot_id: int = DEFAULT_BOT_ID,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_name: str = BOT_FIRST_NAME,
        host: str = "127.0.0.1",
        port: int = 0,
        record_calls: bool = True,
    ) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.host = host
        self.port = port
        # Off for benchmarks: a hundred thousand recorded requests cost memory, not speed.
        self.record_calls = record_calls
        self.url = ""
        self.calls: list[ApiCall] = []
        self.rejections: list[Rejection] = []
        self.confirmed_offset = 0
        self.get_updates_calls = 0
        self.rate_limited = 0
        # Messages the bot created, per chat (what a benchmark counts).
        self.sent: Counter[int] = Counter()
        self.total_sent = 0
        self.first_sent_at: float | None = None
        self.chat_members: dict[tuple[int, int], str] = {}
        # Rights of administrators beyond the defaults, per (chat, user).
        self.member_rights: dict[tuple[int, int], dict[str, bool]] = {}
        # Extra fields merged into getChat results, per chat id.
        self.chat_info: dict[int, dict[str, Any]] = {}
        # Names of users, for chats and members: user id -> User fields.
        self.users: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.callback_query_timeout = CALLBACK_QUERY_TIMEOUT
        self.files = FileRegistry(prefix="E")
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], _Message] = {}
        self._topics: dict[tuple[int, int], _Topic] = {}
        self._queries: dict[str, _Query] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._expected: list[_Expectation] = []
        self._drops: dict[str, int] = {}
        self._holds: list[tuple[str, int | None, asyncio.Event]] = []
        self.held: list[ApiCall] = []
        self._limits: list[tuple[_Window, Callable[[int], Any]]] = []
        self._groups = itertools.count(1)
        self._listeners: list[Callable[[Event], None]] = []
        # Replaced by a fresh Event on every change, so waiters wake without polling and a
        # synchronous push_update can notify (an asyncio.Condition needs its lock).
        self._changed = asyncio.Event()
        self._stopping = False
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # A short shutdown timeout: stop() must not wait for pending long polls.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        # Bind the socket ourselves to learn the port the OS picked.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://{self.host}:{port}"
        self._stopping = False

    async def stop(self) -> None:
        self._stopping = True
        self._notify()  # pending long polls return [] right away
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # ----------------------------------------------------------------- recorded calls

    def calls_of(self, *methods: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method in methods]

    def clear(self) -> None:
        self.calls.clear()

    def dump(self) -> str:
        """The recorded calls, one per line, for assertion messages."""
        if not self.calls:
            return "  (no calls)"
        start = self.calls[0].at
        return "\n".join(
            f"  #{i} +{call.at - start:.3f}s {call}" for i, call in enumerate(self.calls)
        )

    async def wait_for(
        self,
        predicate: Callable[[list[ApiCall]], bool],
        timeout: float = 5.0,
    ) -> list[ApiCall]:
        if await self._wait(lambda: predicate(self.calls), timeout):
            return self.calls
        raise AssertionError(f"condition not met within {timeout}s; calls so far:\n{self.dump()}")

    async def wait_for_call(
        self,
        method: str,
        timeout: float = 5.0,
        **match: Any,
    ) -> ApiCall:
        def find() -> ApiCall | None:
            for call in self.calls:
                if call.method == method and all(_matches(call, k, v) for k, v in match.items()):
                    return call
            return None

        if await self._wait(lambda: find() is not None, timeout):
            found = find()
            assert found is not None
            return found
        raise AssertionError(
            f"no {method} call with {match!r} within {timeout}s; calls so far:\n{self.dump()}"
        )

    async def wait_until(self, ready: Callable[[], bool], timeout: float = 5.0) -> None:
        """Until ready() holds (re-checked on every change), or AssertionError."""
        if not await self._wait(ready, timeout):
            raise AssertionError(
                f"condition not met within {timeout}s; calls so far:\n{self.dump()}"
            )

    async def _wait(self, ready: Callable[[], bool], seconds: float) -> bool:
        """Wait until ready() holds, re-checking only when something changed."""
        try:
            async with asyncio.timeout(seconds):
                while True:
                    changed = self._changed  # taken before the check: no lost wake-ups
                    if ready():
                        return True
                    await changed.wait()
        except TimeoutError:
            return ready()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # ----------------------------------------------------------------- rejections

    def rejected(self) -> list[Rejection]:
        """Every 400 the emulator answered by Telegram's rules (not injected)."""
        return [r for r in self.rejections if r.status == 400 and not r.injected]

    def unexpected_rejections(self) -> list[Rejection]:
        return [r for r in self.rejected() if not r.expected]

    def expect_rejection(
        self, description: str, *, method: str | None = None, times: int | None = None
    ) -> None:
        """Declare that a 400 whose description contains `description` is part of the
        test (e.g. a stale button): it is recorded as expected, not as a bot bug."""
        self._expected.append(_Expectation(description, method, times))

    def _is_expected(self, method: str, description: str) -> bool:
        for expectation in self._expected:
            if expectation.description in description and expectation.method in (None, method):
                if expectation.remaining is not None:
                    expectation.remaining -= 1
                    if expectation.remaining <= 0:
                        self._expected.remove(expectation)
                return True
        return False

    def _reject(self, call: ApiCall, error: _ApiError) -> None:
        if not 400 <= error.status < 500:
            return
        injected = isinstance(error, _Injected)
        expected = not injected and self._is_expected(call.method, error.description)
        rejection = Rejection(call, error.status, error.description, injected, expected)
        self.rejections.append(rejection)
        for watcher in list(_rejection_watchers):
            watcher(rejection)
        chat = call.params.get("chat_id")
        self._emit(
            "rejected",
            chat if isinstance(chat, int) else 0,
            method=call.method,
            status=error.status,
            description=error.description,
            injected=injected,
        )

    # ----------------------------------------------------------------- events

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call `listener` with every change in a chat; returns the way to stop."""
        self._listeners.append(listener)

        def stop() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return stop

    def _emit(self, kind: str, chat_id: int, **data: Any) -> None:
        event = Event(kind, chat_id, data)
        for listener in list(self._listeners):
            listener(event)

    # ----------------------------------------------------------------- updates

    def push_update(self, update: dict[str, Any]) -> int:
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        query = update.get("callback_query")
        if isinstance(query, dict) and isinstance(query.get("id"), str):
            # Delivered now: the answer must come within the timeout, and only once.
            self._queries[query["id"]] = _Query(time.monotonic())
        self._updates.append(update)
        self._notify()
        return update_id

    async def wait_updates_confirmed(
        self,
        update_id: int,
        timeout: float = 5.0,
    ) -> None:
        if not await self._wait(lambda: self.confirmed_offset > update_id, timeout):
            raise AssertionError(
                f"update {update_id} not confirmed within {timeout}s "
                f"(confirmed_offset={self.confirmed_offset}, "
                f"getUpdates calls={self.get_updates_calls})"
            )

    # ----------------------------------------------------------------- configuration

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        self._failures.setdefault(method, []).append(
            _Failure(status, description, retry_after, times, chat_id)
        )

    def hold_next(self, method: str, *, chat_id: int | None = None) -> asyncio.Event:
        """The next such call waits unanswered and unapplied until the returned event is
        set. If the client goes away first (the bot process was killed), the call is
        never applied: as if it had not reached Telegram. Held calls are in `held`."""
        release = asyncio.Event()
        self._holds.append((method, chat_id, release))
        return release

    async def _hold(self, request: web.Request, call: ApiCall) -> bool:
        """True to go on with the call, False if the client went away while held."""
        matching = [
            index
            for index, (method, chat_id, _) in enumerate(self._holds)
            if method == call.method and chat_id in (None, call.params.get("chat_id"))
        ]
        if not matching:
            return True
        release = self._holds.pop(matching[0])[2]
        self.held.append(call)
        self._notify()
        while not release.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                call.failed, call.error = True, "abandoned: the client went away while held"
                self._record(call)
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(release.wait(), 0.02)
        return True

    def drop_connection_next(self, method: str, times: int = 1) -> None:
        self._drops[method] = self._drops.get(method, 0) + times

    def block_user(self, chat_id: int) -> None:
        self.blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def set_rate_limit(
        self,
        *,
        per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_group_per_minute: int | None = None,
    ) -> None:
        """Enforce flood limits on message-creating calls; all None turns them off."""
        limits: list[tuple[_Window, Callable[[int], Any]]] = []
        if per_second:
            limits.append((_Window.per_second(per_second), lambda _chat: "all"))
        if per_chat_per_second:
            limits.append((_Window.per_second(per_chat_per_second), lambda chat: chat))
        if per_group_per_minute:
            # Private chats map to None and are skipped below.
            limits.append(
                (_Window(per_group_per_minute, 60.0), lambda chat: chat if chat < 0 else None)
            )
        self._limits = limits

    def set_member(self, chat_id: int, user_id: int, status: str, **rights: bool) -> None:
        """A user's (or the bot's) status in a group, e.g. an administrator without
        can_manage_topics: set_member(group, bot_id, "administrator", can_manage_topics=False)."""
        self.chat_members[(chat_id, user_id)] = status
        self.member_rights[(chat_id, user_id)] = rights

    def set_user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """Name a user: their messages, chat and membership show these fields."""
        user = user_dict(user_id, first_name, username, language_code, last_name)
        self.users[user_id] = user
        return user

    def register_message(
        self,
        chat_id: int,
        message_id: int,
        text: str | None = None,
        reply_markup: Any = None,
        *,
        parse_mode: str | None = None,
    ) -> None:
        """Declare a message the bot sent earlier (e.g. before a restart) so it can be edited."""
        if isinstance(reply_markup, str):
            reply_markup = decode_value(reply_markup)
        elif reply_markup is not None and hasattr(reply_markup, "model_dump"):
            # An aiogram markup object: store what aiogram would send for it.
            reply_markup = json.loads(reply_markup.model_dump_json(exclude_none=True))
        content = format_text(text, parse_mode, allow_empty=False) if text is not None else None
        message = self._base_message(chat_id, message_id, self._bot_user(), None, reply_markup)
        if content is not None:
            message["text"] = content.text
            if content.entities:
                message["entities"] = content.entity_list()
        self._messages[(chat_id, message_id)] = _Message(
            chat_id, message_id, self.bot_id, message, content, "text", _markup(reply_markup)
        )
        self._next_message_id[chat_id] = max(self._next_message_id.get(chat_id, 1), message_id + 1)

    # ----------------------------------------------------------------- persistence

    def snapshot(self) -> dict[str, Any]:
        """Everything the emulator holds, as JSON-ready data (file bytes not included:
        `files.files` has them for whoever stores the snapshot)."""
        return {
            "version": 1,
            "next_update_id": self._next_update_id,
            "confirmed_offset": self.confirmed_offset,
            "updates": self._updates,
            "next_message_id": [[chat, n] for chat, n in self._next_message_id.items()],
            "messages": [
                {
                    "chat_id": m.chat_id,
                    "message_id": m.message_id,
                    "sender_id": m.sender_id,
                    "message": m.message,
                    "content": None
                    if m.content is None
                    else {"text": m.content.text, "entities": list(m.content.entities)},
                    "kind": m.kind,
                    "markup": m.markup,
                    "thread_id": m.thread_id,
                }
                for m in self._messages.values()
            ],
            "topics": [
                {"chat_id": chat, **dataclasses.asdict(topic)}
                for (chat, _), topic in self._topics.items()
            ],
            "users": list(self.users.values()),
            "members": [
                [chat, user, status, self.member_rights.get((chat, user), {})]
                for (chat, user), status in self.chat_members.items()
            ],
            "chat_info": [[chat, info] for chat, info in self.chat_info.items()],
            "blocked": sorted(self.blocked),
            "files": [
                {k: v for k, v in dataclasses.asdict(f).items() if k != "content"}
                for f in self.files.files.values()
            ],
        }

    def restore(self, state: dict[str, Any], content: Callable[[str], bytes | None]) -> None:
        """Take back a snapshot; `content(file_id)` gives the bytes of each stored file."""
        self._next_update_id = int(state["next_update_id"])
        self.confirmed_offset = int(state["confirmed_offset"])
        self._updates = list(state["updates"])
        self._next_message_id = {int(chat): int(n) for chat, n in state["next_message_id"]}
        self._messages = {}
        for m in state["messages"]:
            stored_content = m["content"]
            self._messages[(m["chat_id"], m["message_id"])] = _Message(
                m["chat_id"], m["message_id"], m["sender_id"], m["message"],
                None if stored_content is None
                else FormattedText(stored_content["text"], tuple(stored_content["entities"])),
                m["kind"], m["markup"], m["thread_id"],
            )  # fmt: skip
        self._topics = {}
        for t in state["topics"]:
            fields = {k: v for k, v in t.items() if k != "chat_id"}
            topic = _Topic(**fields)
            self._topics[(t["chat_id"], topic.thread_id)] = topic
        self.users = {int(u["id"]): u for u in state["users"]}
        self.chat_members = {(int(c), int(u)): str(s) for c, u, s, _ in state["members"]}
        self.member_rights = {(int(c), int(u)): dict(r) for c, u, _, r in state["members"]}
        self.chat_info = {int(chat): dict(info) for chat, info in state["chat_info"]}
        self.blocked = {int(chat) for chat in state["blocked"]}
        for fields in state["files"]:
            stored = StoredFile(**fields, content=content(str(fields["file_id"])))
            self.files.files[stored.file_id] = stored
        numbers = [
            int(file_id.rsplit("-", 1)[1])
            for file_id in self.files.files
            if file_id.startswith(self.files.prefix) and file_id.rsplit("-", 1)[-1].isdigit()
        ]
        self.files.skip_to(max(numbers, default=0) + 1)
        self._notify()

    # ----------------------------------------------------------------- the control side

    def history(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages a chat holds now, oldest first (as the API shows them)."""
        found = [m for (chat, _), m in self._messages.items() if chat == chat_id]
        return [m.message for m in sorted(found, key=lambda m: m.message_id)]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        stored = self._messages.get((chat_id, message_id))
        return stored.message if stored is not None else None

    def topics(self, chat_id: int) -> list[dict[str, Any]]:
        return [
            {
                "message_thread_id": t.thread_id,
                "name": t.name,
                "icon_color": t.icon_color,
                "is_closed": t.closed,
            }
            for (chat, _), t in sorted(self._topics.items())
            if chat == chat_id and not t.deleted
        ]

    def upload(
        self,
        kind: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        """A file a user attaches (the sandbox's paperclip): stored with its bytes."""
        return self.files.add(
            kind, content, file_name=file_name, mime_type=mime_type, width=width, height=height
        )

    def file(self, file_id: str) -> StoredFile | None:
        return self.files.get(file_id) or BUILT_FILES.get(file_id)

    def _user(self, user_id: int) -> dict[str, Any]:
        return self.users.get(user_id) or user_dict(user_id, f"User{user_id}", None, None)

    def user_message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        attachment: StoredFile | None = None,
        caption: str | None = None,
        reply_to_message_id: int | None = None,
        media_group_id: str | None = None,
        push: bool = True,
    ) -> dict[str, Any]:
        """A user writes to the bot in their private chat: the message gets the next id of
        that chat's sequence, is kept, and its update is queued (unless push=False)."""
        return self._incoming(
            user_id, user_id, text, attachment, caption, reply_to_message_id, None,
            media_group_id, push,
        )  # fmt: skip

    def group_post(
        self,
        chat_id: int,
        user_id: int,
        text: str | None = None,
        *,
        attachment: StoredFile | None = None,
        caption: str | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
        media_group_id: str | None = None,
        push: bool = True,
    ) -> dict[str, Any]:
        """A member (a moderator) writes in a group, optionally replying or in a topic."""
        if message_thread_id is not None:
            topic = self._topics.get((chat_id, message_thread_id))
            if topic is None or topic.deleted:
                raise ValueError(f"no topic {message_thread_id} in chat {chat_id}")
        return self._incoming(
            chat_id, user_id, text, attachment, caption, reply_to_message_id,
            message_thread_id, media_group_id, push,
        )  # fmt: skip

    def _incoming(
        self,
        chat_id: int,
        user_id: int,
        text: str | None,
        attachment: StoredFile | None,
        caption: str | None,
        reply_to_message_id: int | None,
        thread_id: int | None,
        media_group_id: str | None,
        push: bool,
    ) -> dict[str, Any]:
        if text is None and attachment is None:
            raise ValueError("a message needs a text or an attachment")
        reply = None
        if reply_to_message_id is not None:
            reply = self._messages.get((chat_id, reply_to_message_id))
            if reply is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat_id}")
            if thread_id is None and reply.thread_id is not None:
                thread_id = reply.thread_id  # a reply in a topic stays in the topic
        message_id = self._new_message_id(chat_id)
        message = self._base_message(chat_id, message_id, self._user(user_id), thread_id, None)
        if reply is not None:
            message["reply_to_message"] = _without_reply(reply.message)
        elif thread_id is not None:
            # In a forum, a message in a topic replies to the topic's creation message.
            creation = self._messages.get((chat_id, thread_id))
            if creation is not None:
                message["reply_to_message"] = _without_reply(creation.message)
        content: FormattedText | None
        if attachment is not None:
            kind = attachment.kind
            message[kind] = _media_of(attachment)
            if kind == "animation":
                message["document"] = attachment.media()
            content = FormattedText(caption) if caption else None
            if caption:
                message["caption"] = caption
            if media_group_id is not None:
                message["media_group_id"] = media_group_id
        else:
            assert text is not None
            kind = "text"
            message["text"] = text
            entities = command_entities(text)
            content = FormattedText(text, tuple(entities or ()))
            if entities:
                message["entities"] = entities
        self._messages[(chat_id, message_id)] = _Message(
            chat_id, message_id, user_id, message, content, kind, None, thread_id
        )
        self._emit("message", chat_id, message=message)
        if push:
            self.push_update({"message": message})
        self._notify()
        return message

    def edit_user_message(
        self, chat_id: int, message_id: int, text: str, *, push: bool = True
    ) -> dict[str, Any]:
        """A user edits a text they sent: the chat changes, an edited_message is queued."""
        stored = self._messages.get((chat_id, message_id))
        if stored is None or stored.sender_id == self.bot_id or stored.kind != "text":
            raise ValueError(f"no text message of a user with id {message_id} in chat {chat_id}")
        message = dict(stored.message) | {"text": text, "edit_date": _now()}
        entities = command_entities(text)
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        stored.message = message
        stored.content = FormattedText(text, tuple(entities or ()))
        self._emit("edited", chat_id, message=message)
        if push:
            self.push_update({"edited_message": message})
        return message

    def edit_post(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        entities: list[dict[str, Any]] | None = None,
        push: bool = True,
    ) -> dict[str, Any]:
        """A user or a group member edits a message they sent: the text of a text
        message, the caption of a media message, with the entities the client made
        (bold, links...). The chat changes and an edited_message is queued."""
        stored = self._messages.get((chat_id, message_id))
        if stored is None or stored.sender_id == self.bot_id or stored.kind == "service":
            raise ValueError(f"no message of a user with id {message_id} in chat {chat_id}")
        if not text:
            raise ValueError("an edit needs a text or a caption")
        key, entities_key = (
            ("text", "entities") if stored.kind == "text" else ("caption", "caption_entities")
        )
        message = {k: v for k, v in stored.message.items() if k not in {key, entities_key}}
        message[key] = text
        if entities:
            message[entities_key] = entities
        message["edit_date"] = _now()
        stored.message = message
        stored.content = FormattedText(text, tuple(entities or ()))
        self._emit("edited", chat_id, message=message)
        if push:
            self.push_update({"edited_message": message})
        return message

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Someone deletes a message in their client (a user may delete the bot's
        messages in a private chat): the bot's later edits or copies of it are refused
        as Telegram refuses them ("message to edit not found")."""
        if (chat_id, message_id) not in self._messages:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        self._forget(chat_id, message_id)
        self._notify()

    def press_button(
        self, user_id: int, chat_id: int, message_id: int, data: str
    ) -> dict[str, Any]:
        """A user taps an inline button: only a button the message really has."""
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        buttons = [
            button.get("callback_data")
            for row in (stored.markup or {}).get("inline_keyboard", [])
            for button in row
        ]
        if data not in buttons:
            raise ValueError(f"message {message_id} has no button with data {data!r}")
        query = {
            "id": next_callback_id(),
            "from": self._user(user_id),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": stored.message,
        }
        self.push_update({"callback_query": query})
        return query

    # ----------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        method = request.match_info["method"]
        token = request.match_info["token"]
        raw, files = await self._read_fields(request)
        params = {key: decode_value(value) for key, value in raw.items()}
        uploads = {key: UploadedFile(name, len(data)) for key, (name, data) in files.items()}
        for key, upload in uploads.items():
            params[key] = {"filename": upload.filename, "size": upload.size}

        # getUpdates is not recorded: a polling loop would flood the call log.
        record = method != "getUpdates"
        call = ApiCall(method=method, params=params, token=token, at=at, raw=raw, files=uploads)
        if self._drops.get(method):
            self._drops[method] -= 1
            call.failed, call.error = True, "connection dropped"
            if record:
                self._record(call)
            # Close without answering: the client sees ServerDisconnectedError.
            if request.transport is not None:
                request.transport.close()
            return web.Response()

        if record and self._holds and not await self._hold(request, call):
            return web.Response(status=499)
        try:
            self._check_injected_failure(method, params)
            if not record:
                return await self._get_updates(params)
            result = self._dispatch(call, files)
        except Exception as exc:  # noqa: BLE001 - an emulator bug must surface as an API error
            error = (
                exc
                if isinstance(exc, _ApiError)
                else _ApiError(500, f"Internal Server Error: emulator crashed: {exc!r}")
            )
            call.failed, call.error = True, error.description
            if record:
                self._record(call)
            self._reject(call, error)
            body: dict[str, Any] = {
                "ok": False,
                "error_code": error.status,
                "description": error.description,
            }
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            return web.json_response(body, status=error.status)
        call.result = result
        self._record(call)
        return web.Response(
            text=json.dumps({"ok": True, "result": result}, ensure_ascii=False),
            content_type="application/json",
        )

    def _record(self, call: ApiCall) -> None:
        if self.record_calls:
            self.calls.append(call)
        self._notify()

    @staticmethod
    async def _read_fields(
        request: web.Request,
    ) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
        raw: dict[str, str] = dict(request.query)
        parts: dict[str, tuple[str, bytes]] = {}
        # The header read by hand: aiohttp's request.content_type runs the email parser.
        content_type = request.headers.get("Content-Type", "")
        boundary = _BOUNDARY.search(content_type)
        if content_type.startswith("multipart/form-data") and boundary is not None:
            # aiohttp's own multipart reader costs ~5 ms a request (it escapes every
            # header for a regex); a Bot API request's parts are simple enough to split.
            fields, parts = _split_multipart(await request.read(), boundary.group(1).encode())
            raw |= fields
        elif content_type.startswith("application/json"):
            body = await request.json()
            if isinstance(body, dict):
                for key, value in body.items():
                    raw[key] = value if isinstance(value, str) else json.dumps(value)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    parts[key] = (value.filename, value.file.read())
                elif isinstance(value, bytes | bytearray):
                    raw[key] = value.decode()
                else:
                    raw[key] = value
        # aiogram names file parts randomly and refers to them as "attach://<part>":
        # report them under the field that references them.
        files: dict[str, tuple[str, bytes]] = {}
        for key, value in list(raw.items()):
            if value.startswith("attach://") and value[9:] in parts:
                files[key] = parts.pop(value[9:])
                del raw[key]
        files.update(parts)  # e.g. media-group parts referenced from inside JSON
        return raw, files

    async def _get_updates(self, params: dict[str, Any]) -> web.StreamResponse:
        self.get_updates_calls += 1
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            # Telegram: negative offset keeps only the last -offset updates.
            self._updates = self._updates[offset:]
        self._notify()
        limit = params.get("limit")
        limit = limit if isinstance(limit, int) and 0 < limit <= 100 else 100
        timeout = params.get("timeout")
        if isinstance(timeout, int) and timeout > 0:
            await self._wait(lambda: bool(self._updates) or self._stopping, timeout)
        allowed = params.get("allowed_updates")
        updates = self._updates[:limit]
        if isinstance(allowed, list) and allowed:
            updates = [u for u in updates if any(kind in u for kind in allowed)]
        return web.Response(
            text=json.dumps({"ok": True, "result": updates}, ensure_ascii=False),
            content_type="application/json",
        )

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """GET /file/bot<token>/<file_path>: the bytes getFile pointed at."""
        path = request.match_info["path"]
        for registry in (self.files, BUILT_FILES):
            for stored in registry.files.values():
                if stored.file_path == path:
                    return web.Response(
                        body=stored.data(),
                        content_type=stored.mime_type or "application/octet-stream",
                    )
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    # ----------------------------------------------------------------- methods

    def _dispatch(self, call: ApiCall, files: dict[str, tuple[str, bytes]]) -> Any:
        method, params = call.method, call.params
        chat_id = _chat_key(params["chat_id"]) if "chat_id" in params else None
        if method == "getMe":
            return self._bot_user(full=True)
        if method in _TRUE_METHODS:
            return self._true_method(method, params)
        if method == "answerCallbackQuery":
            return self._answer_callback(call)
        if method == "getFile":
            return self._get_file(call)
        if method == "getChatMember":
            return self._chat_member(self._need(chat_id), params)
        if method == "getChat":
            return self._chat_full_info(self._need(chat_id))
        if method in _EDIT_METHODS:
            return self._edit(method, call, chat_id)
        if method in {"deleteMessage", "deleteMessages"}:
            return self._delete(method, params, self._need(chat_id))
        if method in _TOPIC_METHODS:
            return self._topic(method, call, self._need(chat_id))
        if method in _SEND_MEDIA:
            return self._send(method, call, self._need(chat_id), files)
        if method == "sendMediaGroup":
            return self._send_media_group(call, self._need(chat_id), files)
        if method in {"copyMessage", "forwardMessage"}:
            return self._copy_or_forward(method, call, self._need(chat_id))
        if method in {"copyMessages", "forwardMessages"}:
            return self._copy_many(method, call, self._need(chat_id))
        raise _ApiError(404, METHOD_NOT_FOUND)

    def _check_injected_failure(self, method: str, params: dict[str, Any]) -> None:
        rules = self._failures.get(method, [])
        for rule in rules:
            if rule.chat_id is None or params.get("chat_id") == rule.chat_id:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
                raise _Injected(rule.status, rule.description, rule.retry_after)

    def _deliverable(self, method: str, chat_id: int) -> None:
        """The checks of a call that would create a message, after its content is valid."""
        if chat_id in self.blocked and _blockable(method):
            raise _ApiError(403, BOT_BLOCKED)
        if method in _RATE_LIMITED:
            self._check_rate_limit(chat_id)

    def _check_rate_limit(self, chat_id: int) -> None:
        if not self._limits:
            return
        now = time.monotonic()
        keyed = [(window, key(chat_id)) for window, key in self._limits]
        keyed = [(window, key) for window, key in keyed if key is not None]
        wait = max((window.wait(key, now) for window, key in keyed), default=0.0)
        if wait > 0:
            self.rate_limited += 1
            retry_after = max(1, math.ceil(wait))
            raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for window, key in keyed:
            window.record(key, now)

    @staticmethod
    def _need(chat_id: int | None) -> int:
        if chat_id is None:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        return chat_id

    def _true_method(self, method: str, params: dict[str, Any]) -> bool:
        if method == "deleteWebhook" and params.get("drop_pending_updates") is True:
            self._updates.clear()
        elif method == "sendChatAction" and "chat_id" in params:
            chat_id = _chat_key(params["chat_id"])
            if chat_id in self.blocked:
                raise _ApiError(403, BOT_BLOCKED)
            self._emit("chat_action", chat_id, action=params.get("action"))
        return True

    # ----------------------------------------------------------------- message ids

    def _new_message_id(self, chat_id: int) -> int:
        """The next id of the chat's one sequence (users', moderators' and the bot's)."""
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _lookup(self, chat_id: int, message_id: Any, missing: str) -> _Message | None:
        """The stored message; None if the emulator never saw that id (beyond the chat's
        sequence: trusted); `missing` as a 400 if it handed the id out and no longer has it."""
        if not isinstance(message_id, int) or message_id <= 0:
            raise _bad(missing)
        stored = self._messages.get((chat_id, message_id))
        if stored is not None:
            return stored
        if message_id < self._next_message_id.get(chat_id, 1):
            raise _bad(missing)
        return None

    # ----------------------------------------------------------------- building messages

    def _bot_user(self, *, full: bool = False) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }
        if full:
            user |= {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        return user

    def _private_chat(self, chat_id: int) -> dict[str, Any]:
        user = self._user(chat_id)
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            return self._private_chat(chat_id)
        info = self.chat_info.get(chat_id, {})
        chat = chat_dict(chat_id, str(info.get("title", "Test group")))
        if self._is_forum(chat_id):
            chat["is_forum"] = True
        return chat

    def _base_message(
        self,
        chat_id: int,
        message_id: int,
        sender: dict[str, Any],
        thread_id: int | None,
        reply_markup: Any,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": _now(),
            "chat": self._chat(chat_id),
            "from": sender,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat_id < 0:
                message["is_topic_message"] = True
        markup = _markup(reply_markup)
        if markup is not None:
            message["reply_markup"] = markup
        return message

    def _store_sent(
        self, message: dict[str, Any], kind: str, content: FormattedText | None
    ) -> None:
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        self._messages[(chat_id, message_id)] = _Message(
            chat_id, message_id, self.bot_id, message, content, kind,
            _markup(message.get("reply_markup")), message.get("message_thread_id"),
        )  # fmt: skip
        self.sent[chat_id] += 1
        self.total_sent += 1
        if self.first_sent_at is None:
            self.first_sent_at = time.monotonic()
        self._emit("message", chat_id, message=message)

    def _formatted(
        self, raw: str | None, params: dict[str, Any], prefix: str, *, allow_empty: bool
    ) -> FormattedText | None:
        """A text or caption as Telegram stores it, or its 400."""
        if raw is None:
            return None
        entities = params.get(f"{prefix}entities")
        mode = params.get("parse_mode")
        mode = mode if isinstance(mode, str) else None
        try:
            if entities is None:
                return _format_shared(raw, mode, allow_empty)
            return format_text(raw, mode, entities, allow_empty=allow_empty)
        except EntityError as error:
            raise _bad(str(error)) from None

    def _text_of(self, call: ApiCall) -> FormattedText:
        raw = call.raw.get("text")
        if not raw:
            # Client.cpp get_input_message_text: "Message text is empty"
            raise _bad("Message text is empty")
        content = self._formatted(raw, call.params, "", allow_empty=False)
        assert content is not None
        return content

    def _caption_of(self, call: ApiCall) -> FormattedText | None:
        content = self._formatted(
            call.raw.get("caption"), call.params, "caption_", allow_empty=True
        )
        return content if content is not None and content.text else None

    def _place(self, method: str, params: dict[str, Any], chat_id: int) -> tuple[int | None, Any]:
        """Where a new message goes: its thread (checked) and the message it replies to."""
        thread_id = params.get("message_thread_id")
        if not isinstance(thread_id, int) or thread_id == 0:
            thread_id = None
        if thread_id is not None and chat_id < 0 and self._is_forum(chat_id):
            # Client.cpp check_message_topic: General, deleted or unknown topics are refused.
            # (A fresh emulated group has no General topic: its first topic may get id 1.)
            topic = self._topics.get((chat_id, thread_id))
            if topic is None or topic.deleted:
                raise _ApiError(400, THREAD_NOT_FOUND)
        elif chat_id > 0:
            thread_id = None
        reply = params.get("reply_parameters")
        reply_id: Any = None
        allow_without = False
        if isinstance(reply, dict):
            reply_id = reply.get("message_id")
            allow_without = reply.get("allow_sending_without_reply") is True
            if reply.get("chat_id") not in (None, params.get("chat_id")):
                reply_id = None  # a reply into another chat is not checked here
        elif "reply_to_message_id" in params:
            reply_id = params.get("reply_to_message_id")
            allow_without = params.get("allow_sending_without_reply") is True
        replied = None
        if reply_id is not None:
            try:
                # Client.cpp check_reply_parameters: "message to be replied not found"
                replied = self._lookup(chat_id, reply_id, "message to be replied not found")
            except _ApiError:
                if not allow_without:
                    raise
            if replied is not None and thread_id is None:
                thread_id = replied.thread_id
        return thread_id, replied

    def _send(
        self, method: str, call: ApiCall, chat_id: int, files: dict[str, tuple[str, bytes]]
    ) -> dict[str, Any]:
        params = call.params
        kind = _SEND_MEDIA[method]
        markup = params.get("reply_markup")
        _check_markup(markup)
        content: FormattedText | None
        if kind is None:
            content = self._text_of(call)
            # MessageContent.cpp create_input_message_content: utf8_length(text) >
            # message_text_length_max -> "Message is too long" (code points, not UTF-16).
            if len(content.text) > TEXT_LIMIT:
                raise _bad("Message is too long")
        else:
            content = self._caption_of(call) if kind in _CAPTIONED else None
            if content is not None and len(content.text) > CAPTION_LIMIT:
                raise _bad("Message caption is too long")
            stored_file = self._input_file(kind, params.get(kind), files.get(kind), params)
        thread_id, replied = self._place(method, params, chat_id)
        self._deliverable(method, chat_id)

        message = self._base_message(
            chat_id, self._new_message_id(chat_id), self._bot_user(), thread_id, markup
        )
        if replied is not None:
            message["reply_to_message"] = _without_reply(replied.message)
        if kind is None:
            assert content is not None
            message["text"] = content.text
            if content.entities:
                message["entities"] = content.entity_list()
        else:
            message[kind] = _media_of(stored_file)
            if kind == "animation":
                message["document"] = stored_file.media()  # Telegram fills both
            if kind == "sticker" and "emoji" in params:
                message[kind]["emoji"] = str(params["emoji"])
            if content is not None:
                message["caption"] = content.text
                if content.entities:
                    message["caption_entities"] = content.entity_list()
        if params.get("protect_content") is True:
            message["has_protected_content"] = True
        self._store_sent(message, kind or "text", content)
        return message

    def _input_file(
        self,
        kind: str,
        value: Any,
        upload: tuple[str, bytes] | None,
        params: dict[str, Any],
    ) -> StoredFile:
        """The file a send refers to: an upload (stored, new file_id), a known file_id
        (resent), or one the emulator never saw (trusted: it came in an update a test fed
        straight into the Dispatcher)."""
        if upload is not None:
            name, data = upload
            return self.files.add(
                kind,
                data,
                file_name=name,
                duration=params.get("duration")
                if isinstance(params.get("duration"), int)
                else None,
            )
        if isinstance(value, dict) and "size" in value:  # an upload without its bytes
            return self.files.add(
                kind, size=int(value["size"]), file_name=str(value.get("filename"))
            )
        if isinstance(value, str | int) and str(value):
            file_id = str(value)
            if "://" in file_id:
                return self.files.add(kind, size=1024)  # a URL: Telegram downloads it
            known = self.file(file_id)
            if known is not None:
                return known
            stored = StoredFile(file_id, f"u{zlib.crc32(file_id.encode())}", kind, 1024)
            self.files.files[file_id] = stored
            return stored
        raise _bad(f'Parameter "{kind}" is required')

    def _send_media_group(
        self, call: ApiCall, chat_id: int, files: dict[str, tuple[str, bytes]]
    ) -> list[dict[str, Any]]:
        params = call.params
        media = params.get("media")
        if media is None:
            raise _bad('Parameter "media" is required')
        if not isinstance(media, list):
            raise _bad("Expected an Array of InputMedia")
        if not media:
            raise _bad("There are no messages to send")
        if len(media) > MAX_ALBUM:
            raise _bad("Too many messages to send as an album")
        items: list[tuple[str, StoredFile, FormattedText | None]] = []
        for item in media:
            if not isinstance(item, dict):
                raise _bad("Can't parse InputMedia: expected an Object")
            kind = str(item.get("type", ""))
            if kind == "animation":
                raise _bad(
                    f"Can't parse InputMedia: type \"{kind}\" can't be used in sendMediaGroup"
                )
            if kind not in _ALBUM_KINDS:
                raise _bad(f'Can\'t parse InputMedia: type "{kind}" is unsupported')
            ref = item.get("media")
            upload = None
            if isinstance(ref, str) and ref.startswith("attach://"):
                upload = files.get(ref[9:])
                if upload is None:
                    raise _bad("Can't parse InputMedia: media not found")
            caption_raw = item.get("caption")
            caption = None
            if isinstance(caption_raw, str):
                mode = item.get("parse_mode", params.get("parse_mode"))
                try:
                    caption = format_text(
                        caption_raw, mode, item.get("caption_entities"), allow_empty=True
                    )
                except EntityError as error:
                    raise _bad(str(error)) from None
                if len(caption.text) > CAPTION_LIMIT:
                    raise _bad("Message caption is too long")
                caption = caption if caption.text else None
            items.append((kind, self._input_file(kind, ref, upload, item), caption))
        kinds = {kind for kind, _, _ in items}
        if len(kinds) > 1:
            for kind in sorted(kinds):
                if kind in _HOMOGENEOUS:
                    raise _bad(f"{_HOMOGENEOUS[kind]} can't be mixed with other media types")
        thread_id, replied = self._place("sendMediaGroup", params, chat_id)
        self._deliverable("sendMediaGroup", chat_id)
        # A single item is sent as an ordinary message (MessagesManager: no media album).
        group_id = str(next(self._groups) + 10**17) if len(items) > 1 else None
        messages = []
        for kind, stored_file, caption in items:
            message = self._base_message(
                chat_id, self._new_message_id(chat_id), self._bot_user(), thread_id, None
            )
            if replied is not None:
                message["reply_to_message"] = _without_reply(replied.message)
            if group_id is not None:
                message["media_group_id"] = group_id
            message[kind] = _media_of(stored_file)
            if caption is not None:
                message["caption"] = caption.text
                if caption.entities:
                    message["caption_entities"] = caption.entity_list()
            self._store_sent(message, kind, caption)
            messages.append(message)
        return messages

    def _copy_content(
        self, source: _Message | None, target: dict[str, Any], caption: FormattedText | None
    ) -> tuple[str, FormattedText | None]:
        """Put a source message's content into `target`; returns its kind and content."""
        if source is None:
            # A message the emulator never saw: a copy with a placeholder text.
            content = caption or FormattedText("(a message the emulator has not seen)")
            target["text"] = content.text
            return "text", content
        kind = source.kind
        if kind == "service":
            raise _bad("Message can't be copied")
        if kind == "text":
            assert source.content is not None
            target["text"] = source.content.text
            if source.content.entities:
                target["entities"] = source.content.entity_list()
            return kind, source.content
        for key in (kind, "document") if kind == "animation" else (kind,):
            target[key] = source.message[key]
        result = caption if caption is not None else source.content
        if result is not None and result.text:
            target["caption"] = result.text
            if result.entities:
                target["caption_entities"] = result.entity_list()
        return kind, result

    def _copy_or_forward(self, method: str, call: ApiCall, chat_id: int) -> dict[str, Any]:
        params = call.params
        from_chat = _chat_key(params.get("from_chat_id"))
        noun = "message to copy" if method == "copyMessage" else "message to forward"
        # Client.cpp process_copy_message_query: check_message(..., "message to copy")
        source = self._lookup(from_chat, params.get("message_id"), f"{noun} not found")
        caption = None
        if method == "copyMessage" and "caption" in call.raw:
            caption = self._caption_of(call)
            if caption is not None and len(caption.text) > CAPTION_LIMIT:
                raise _bad("Message caption is too long")
        markup = params.get("reply_markup") if method == "copyMessage" else None
        _check_markup(markup)
        thread_id, replied = self._place(method, params, chat_id)
        self._deliverable(method, chat_id)
        message = self._base_message(
            chat_id, self._new_message_id(chat_id), self._bot_user(), thread_id, markup
        )
        if replied is not None:
            message["reply_to_message"] = _without_reply(replied.message)
        if method == "forwardMessage":
            message["forward_origin"] = self._origin(from_chat, source)
        kind, content = self._copy_content(source, message, caption)
        if params.get("protect_content") is True:
            message["has_protected_content"] = True
        self._store_sent(message, kind, content)
        if method == "copyMessage":
            return {"message_id": message["message_id"]}
        return message

    def _origin(self, from_chat: int, source: _Message | None) -> dict[str, Any]:
        date = source.message["date"] if source is not None else _now()
        if from_chat > 0:
            sender = self._user(source.sender_id if source is not None else from_chat)
            return {"type": "user", "date": date, "sender_user": sender}
        return {"type": "chat", "date": date, "sender_chat": self._chat(from_chat)}

    def _copy_many(self, method: str, call: ApiCall, chat_id: int) -> list[dict[str, Any]]:
        params = call.params
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not ids:
            raise _bad("Message identifiers are not specified")
        if len(ids) > 100:
            raise _bad("Too many message identifiers specified")
        from_chat = _chat_key(params.get("from_chat_id"))
        # Client.cpp check_messages(..., allow_empty=true): missing messages are skipped.
        sources: list[_Message | None] = []
        for message_id in sorted(set(ids)):
            try:
                sources.append(self._lookup(from_chat, message_id, "message not found"))
            except _ApiError:
                continue
        if not sources:
            raise _bad("Messages not found")
        thread_id, _ = self._place(method, params, chat_id)
        self._deliverable(method, chat_id)
        groups: dict[str, str] = {}
        result = []
        for source in sources:
            message = self._base_message(
                chat_id, self._new_message_id(chat_id), self._bot_user(), thread_id, None
            )
            album = source.message.get("media_group_id") if source is not None else None
            if isinstance(album, str):
                message["media_group_id"] = groups.setdefault(
                    album, str(next(self._groups) + 10**17)
                )
            caption = FormattedText("") if params.get("remove_caption") is True else None
            kind, content = self._copy_content(source, message, caption)
            if method == "forwardMessages":
                message["forward_origin"] = self._origin(from_chat, source)
            self._store_sent(message, kind, content if content and content.text else None)
            result.append({"message_id": message["message_id"]})
        return result

    def _edit(self, method: str, call: ApiCall, chat_id: int | None) -> Any:
        params = call.params
        if chat_id is None:
            if "inline_message_id" in params:
                return True  # inline messages: Telegram answers true
            raise _ApiError(400, "Bad Request: chat_id is empty")
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        if chat_id in self.blocked:
            raise _ApiError(403, BOT_BLOCKED)
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            # Client.cpp: check_message(..., "message to edit")
            raise _ApiError(400, MESSAGE_TO_EDIT_NOT_FOUND)
        if stored.sender_id != self.bot_id or stored.kind == "service":
            # MessagesManager::edit_message_*: a bot edits only its own messages.
            raise _bad("Message can't be edited")
        markup = params.get("reply_markup")
        _check_markup(markup)
        new_markup = _markup(markup)
        content: FormattedText | None = stored.content
        if method == "editMessageText":
            if stored.kind != "text":
                raise _bad("There is no text in the message to edit")
            content = self._text_of(call)
            # The length of an edit is checked by the server: MESSAGE_TOO_LONG
            # (teloxide's ApiError::EditedMessageIsTooLong).
            if len(content.text) > TEXT_LIMIT:
                raise _bad("MESSAGE_TOO_LONG")
        elif method == "editMessageCaption":
            if stored.kind not in _CAPTIONED:
                raise _bad("There is no caption in the message to edit")
            content = self._caption_of(call)
            if content is not None and len(content.text) > CAPTION_LIMIT:
                raise _bad("MEDIA_CAPTION_TOO_LONG")
        old = (_content_key(stored.content), stored.markup)
        if (_content_key(content), new_markup) == old:
            raise _ApiError(400, NOT_MODIFIED)
        message = {k: v for k, v in stored.message.items() if k not in {"reply_markup"}}
        message["edit_date"] = _now()
        if new_markup is not None:
            message["reply_markup"] = new_markup
        key, entities_key = (
            ("text", "entities") if stored.kind == "text" else ("caption", "caption_entities")
        )
        message.pop(key, None)
        message.pop(entities_key, None)
        if content is not None and content.text:
            message[key] = content.text
            if content.entities:
                message[entities_key] = content.entity_list()
        stored.message, stored.content, stored.markup = message, content, new_markup
        self._emit("edited", chat_id, message=message)
        return message

    def _delete(self, method: str, params: dict[str, Any], chat_id: int) -> bool:
        if method == "deleteMessages":
            ids = params.get("message_ids")
            if not isinstance(ids, list) or not ids:
                raise _bad("Message identifiers are not specified")
            # Telegram skips the messages it cannot find or delete.
            for message_id in ids:
                self._forget(chat_id, message_id)
            return True
        # Client.cpp process_delete_message_query: check_message(..., "message to delete")
        message_id = params.get("message_id")
        stored = self._lookup(chat_id, message_id, "message to delete not found")
        if (
            stored is not None
            and stored.kind == "service"
            and (chat_id, stored.message_id) in self._topics
        ):
            raise _bad("Message can't be deleted")
        if isinstance(message_id, int):
            self._forget(chat_id, message_id)
        return True

    def _forget(self, chat_id: int, message_id: Any) -> None:
        if self._messages.pop((chat_id, message_id), None) is not None:
            self._emit("deleted", chat_id, message_id=message_id)

    # ----------------------------------------------------------------- callbacks and files

    def _answer_callback(self, call: ApiCall) -> bool:
        params = call.params
        text = call.raw.get("text", "")
        if len(text) > CALLBACK_ANSWER_LIMIT:
            # Bot API docs: 0-200 characters; the server answers MESSAGE_TOO_LONG
            # (eternnoir/pyTelegramBotAPI#500).
            raise _bad("MESSAGE_TOO_LONG")
        query_id = str(call.raw.get("callback_query_id", ""))
        if not query_id:
            raise _bad('Parameter "callback_query_id" is required')
        query = self._queries.get(query_id)
        if query is not None:
            # Client.cpp maps QUERY_ID_INVALID to this text: answered already, or too late.
            if (
                query.answered
                or time.monotonic() - query.delivered_at > self.callback_query_timeout
            ):
                raise _ApiError(400, QUERY_TOO_OLD)
            query.answered = True
        self._emit(
            "callback_answer",
            0,
            query_id=query_id,
            text=text,
            show_alert=params.get("show_alert") is True,
            url=params.get("url"),
        )
        return True

    def _get_file(self, call: ApiCall) -> dict[str, Any]:
        file_id = call.raw.get("file_id", "")
        stored = self.file(file_id)
        if stored is None:
            raise _bad("Wrong file_id or the file is temporarily unavailable")
        if stored.size > MAX_DOWNLOAD_SIZE:
            # Client.cpp do_get_file: more than MAX_DOWNLOAD_FILE_SIZE (20 MB) -> "file is too big"
            raise _bad("File is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    # ----------------------------------------------------------------- forum topics

    def _is_forum(self, chat_id: int) -> bool:
        return chat_id < 0 and bool(self._chat_full_info(chat_id).get("is_forum"))

    def _can(self, chat_id: int, user_id: int, right: str) -> bool:
        status = self.chat_members.get((chat_id, user_id))
        if status is None and user_id == self.bot_id:
            status = "administrator"  # the bot administers its groups unless told otherwise
        if status == "creator":
            return True
        if status != "administrator":
            return False
        return self.member_rights.get((chat_id, user_id), {}).get(right, True)

    def _topic(self, method: str, call: ApiCall, chat_id: int) -> Any:
        params = call.params
        if not self._is_forum(chat_id):
            # ForumTopicManager: "The chat is not a forum"
            raise _bad("The chat is not a forum")
        if method == "createForumTopic":
            if not self._can(chat_id, self.bot_id, "can_manage_topics"):
                raise _bad("Not enough rights to create a topic")
            name = call.raw.get("name", "")
            if not name.strip():
                raise _bad("TOPIC_TITLE_EMPTY")
            if len(name) > 128:
                raise _bad("TOPIC_TITLE_TOO_LONG")
            # A topic's id is the id of its creation service message.
            thread_id = self._new_message_id(chat_id)
            topic = _Topic(thread_id, name, int(params.get("icon_color", FORUM_ICON_COLOR)))
            if "icon_custom_emoji_id" in call.raw:
                topic.icon_custom_emoji_id = str(call.raw["icon_custom_emoji_id"])
            self._topics[(chat_id, thread_id)] = topic
            service = self._base_message(chat_id, thread_id, self._bot_user(), thread_id, None)
            service["forum_topic_created"] = {"name": name, "icon_color": topic.icon_color}
            self._messages[(chat_id, thread_id)] = _Message(
                chat_id, thread_id, self.bot_id, service, None, "service", None, thread_id
            )
            self._emit("topic", chat_id, action="created", topic=self._topic_dict(topic))
            result: dict[str, Any] = {
                "message_thread_id": thread_id,
                "name": name,
                "icon_color": topic.icon_color,
            }
            if topic.icon_custom_emoji_id is not None:
                result["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
            return result
        topic_id = params.get("message_thread_id")
        found = self._topics.get((chat_id, topic_id)) if isinstance(topic_id, int) else None
        if found is None or found.deleted:
            raise _bad("TOPIC_ID_INVALID")
        topic = found
        if method == "editForumTopic":
            new_name = call.raw.get("name")
            emoji = call.raw.get("icon_custom_emoji_id")
            if (new_name is None or new_name == topic.name) and (
                emoji is None or emoji == topic.icon_custom_emoji_id
            ):
                raise _bad("TOPIC_NOT_MODIFIED")
            if new_name is not None:
                topic.name = new_name
            if emoji is not None:
                topic.icon_custom_emoji_id = emoji
            action = "edited"
        elif method in {"closeForumTopic", "reopenForumTopic"}:
            closing = method == "closeForumTopic"
            if topic.closed == closing:
                raise _bad("TOPIC_NOT_MODIFIED")
            topic.closed = closing
            action = "closed" if closing else "reopened"
        else:  # deleteForumTopic: the topic and every message in it go
            topic.deleted = True
            for key, stored in list(self._messages.items()):
                if key[0] == chat_id and stored.thread_id == topic.thread_id:
                    self._forget(chat_id, key[1])
            action = "deleted"
        self._emit("topic", chat_id, action=action, topic=self._topic_dict(topic))
        return True

    @staticmethod
    def _topic_dict(topic: _Topic) -> dict[str, Any]:
        return {
            "message_thread_id": topic.thread_id,
            "name": topic.name,
            "icon_color": topic.icon_color,
            "is_closed": topic.closed,
        }

    # ----------------------------------------------------------------- chats

    def _chat_member(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _ApiError(400, "Bad Request: invalid user_id specified")
        user = self._bot_user() if user_id == self.bot_id else self._user(user_id)
        default = "administrator" if user_id == self.bot_id and chat_id < 0 else "left"
        status = self.chat_members.get((chat_id, user_id), default)
        rights = self.member_rights.get((chat_id, user_id), {})
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            defaults = {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_send_welcome_messages": False,
                "can_pin_messages": True,
                "can_manage_topics": True,
            }
            member |= defaults | {k: v for k, v in rights.items() if k in defaults}
        elif status == "restricted":
            member |= {
                "is_member": True,
                "until_date": 0,
                "can_send_messages": False,
                "can_send_audios": False,
                "can_send_documents": False,
                "can_send_photos": False,
                "can_send_videos": False,
                "can_send_video_notes": False,
                "can_send_voice_notes": False,
                "can_send_polls": False,
                "can_send_other_messages": False,
                "can_add_web_page_previews": False,
                "can_react_to_messages": False,
                "can_edit_tag": False,
                "can_change_info": False,
                "can_invite_users": False,
                "can_pin_messages": False,
                "can_manage_topics": False,
            }
        elif status == "kicked":
            member["until_date"] = 0
        elif status not in {"member", "left"}:
            raise _ApiError(400, f"Bad Request: emulator has no chat member status {status!r}")
        return member

    def _chat_full_info(self, chat_id: int) -> dict[str, Any]:
        info: dict[str, Any] = chat_dict(chat_id) | {
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
        if chat_id > 0:
            user = self._user(chat_id)
            info["first_name"] = user["first_name"]
            if "username" in user:
                info["username"] = user["username"]
        else:
            info |= {"title": "Test group", "is_forum": True}
        return info | self.chat_info.get(chat_id, {})

    def messages_in(self, chat_id: int) -> Iterator[tuple[int, dict[str, Any]]]:
        """(sender id, message) of every message a chat holds, oldest first."""
        for stored in sorted(
            (m for (chat, _), m in self._messages.items() if chat == chat_id),
            key=lambda m: m.message_id,
        ):
            yield stored.sender_id, stored.message


@functools.lru_cache(maxsize=256)
def _format_shared(raw: str, parse_mode: str | None, allow_empty: bool) -> FormattedText:
    """Parsed once per distinct text: a broadcast sends the same parts to everyone."""
    return format_text(raw, parse_mode, allow_empty=allow_empty)


def _content_key(content: FormattedText | None) -> tuple[str, tuple[Any, ...]]:
    if content is None:
        return "", ()
    return content.text, tuple(json.dumps(e, sort_keys=True) for e in content.entities)


def _without_reply(message: dict[str, Any]) -> dict[str, Any]:
    """A replied-to message as Telegram nests it: one level, without its own reply."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _media_of(stored: StoredFile) -> Any:
    """The media field of a Message: photos are a list of sizes, the rest one object."""
    if stored.kind == "photo":
        small = stored.media() | {
            "width": max(1, (stored.width or 800) // 10),
            "height": max(1, (stored.height or 600) // 10),
        }
        return [small, stored.media()]
    return stored.media()
