"""A fake Telegram Bot API server for tests.

A real ``aiogram.Bot`` is pointed at it through
``AiohttpSession(api=TelegramAPIServer.from_base(fake.url))``; the server records every
request, answers with objects that pass aiogram's pydantic validation, serves a
getUpdates long-poll queue and can inject failures (errors, dropped connections,
blocked users, rate limits).

Also contains builders for incoming Update dicts (``private_message``, ``callback``,
``group_message``, ``edited_private_message``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import socket
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = [
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_USERNAME",
    "ApiCall",
    "FakeTelegram",
    "UploadedFile",
    "callback",
    "edited_private_message",
    "group_message",
    "private_message",
]

DEFAULT_BOT_ID = 42
DEFAULT_BOT_USERNAME = "consult_test_bot"
BOT_FIRST_NAME = "Consult"

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
BOT_BLOCKED = "Forbidden: bot was blocked by the user"
METHOD_NOT_FOUND = "Not Found: method not found"
FORUM_ICON_COLOR = 7322096

# No leading zeros: "007" is more likely a code than a number, keep it a string.
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)")

# Methods that answer plain ``true``.
_TRUE_METHODS = frozenset(
    {
        "deleteWebhook",
        "setWebhook",
        "setMyCommands",
        "deleteMyCommands",
        "answerCallbackQuery",
        "setChatMenuButton",
        "deleteMessage",
        "deleteMessages",
        "closeForumTopic",
        "reopenForumTopic",
        "editForumTopic",
        "deleteForumTopic",
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
_EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})
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
            return json.loads(value)
    return value


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part; the content itself is not kept."""

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
    # Extras beyond the brief: the undecoded fields (so "42" typed as text stays a str),
    # uploaded files by field name, and the error description when the call failed.
    raw: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    error: str | None = None
    # What the fake answered (e.g. the Message a send made, with its message_id).
    result: Any = None

    def __str__(self) -> str:
        params = json.dumps(self.params, ensure_ascii=False, default=str)
        if len(params) > 300:
            params = params[:300] + "…"
        suffix = f"  FAILED: {self.error}" if self.failed else ""
        return f"{self.method} {params}{suffix}"


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


@dataclass
class _Stored:
    """What Telegram compares for 'message is not modified'."""

    text: str | None
    markup: dict[str, Any] | None
    is_caption: bool = False


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


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


def _chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}


def _utf16_len(text: str) -> int:
    # Telegram entity offsets/lengths are in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram:
    """The fake Bot API server. ``await start()`` before use, ``await stop()`` after."""

    def __init__(
        self, *, bot_id: int = DEFAULT_BOT_ID, bot_username: str = DEFAULT_BOT_USERNAME
    ) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.url = ""
        self.calls: list[ApiCall] = []
        self.confirmed_offset = 0
        self.get_updates_calls = 0
        self.rate_limited = 0
        self.chat_members: dict[tuple[int, int], str] = {}
        # Extra fields merged into getChat results, per chat id.
        self.chat_info: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], _Stored] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._drops: dict[str, int] = {}
        self._holds: list[tuple[str, int | None, asyncio.Event]] = []
        self.held: list[ApiCall] = []
        self._limits: list[tuple[_Window, Callable[[int], Any]]] = []
        self._file_counter = itertools.count(1)
        # Sizes of files users sent, by file_id (getFile refuses those over 20 MB).
        self.file_sizes: dict[str, int] = {}
        # Replaced by a fresh Event on every change, so waiters wake without polling and a
        # synchronous push_update can notify (an asyncio.Condition needs its lock).
        self._changed = asyncio.Event()
        self._stopping = False
        self._runner: web.AppRunner | None = None

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # A short shutdown timeout: stop() must not wait for pending long polls.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        # Bind the socket ourselves to learn the port the OS picked.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{port}"
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

    # ----------------------------------------------------------------- updates

    def push_update(self, update: dict[str, Any]) -> int:
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        update_id = int(update["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
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

    def register_message(
        self, chat_id: int, message_id: int, text: str | None = None, reply_markup: Any = None
    ) -> None:
        """Declare a message the bot sent earlier (e.g. before a restart) so it can be edited."""
        if isinstance(reply_markup, str):
            reply_markup = decode_value(reply_markup)
        elif reply_markup is not None and hasattr(reply_markup, "model_dump"):
            # An aiogram markup object: store what aiogram would send for it.
            reply_markup = json.loads(reply_markup.model_dump_json(exclude_none=True))
        self._messages[(chat_id, message_id)] = _Stored(text, _markup(reply_markup))
        self._next_message_id[chat_id] = max(self._next_message_id.get(chat_id, 1), message_id + 1)

    # ----------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        at = time.monotonic()
        method = request.match_info["method"]
        token = request.match_info["token"]
        raw, files = await self._read_fields(request)
        params = {key: decode_value(value) for key, value in raw.items()}
        for key, upload in files.items():
            params[key] = {"filename": upload.filename, "size": upload.size}

        # getUpdates is not recorded: a polling loop would flood the call log.
        record = method != "getUpdates"
        call = ApiCall(method=method, params=params, token=token, at=at, raw=raw, files=files)
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
            result = self._dispatch(call)
        except Exception as exc:  # noqa: BLE001 - a fake bug must surface as an API error
            error = (
                exc
                if isinstance(exc, _ApiError)
                else _ApiError(500, f"Internal Server Error: fake_telegram crashed: {exc!r}")
            )
            call.failed, call.error = True, error.description
            if record:
                self._record(call)
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
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """The bytes of a file: getFile's file_path, fetched as Telegram serves it."""
        return web.Response(body=b"file:" + request.match_info["path"].encode())

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        self._notify()

    @staticmethod
    async def _read_fields(
        request: web.Request,
    ) -> tuple[dict[str, str], dict[str, UploadedFile]]:
        raw: dict[str, str] = dict(request.query)
        parts: dict[str, UploadedFile] = {}
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                parts[key] = UploadedFile(value.filename, len(value.file.read()))
            elif isinstance(value, bytes | bytearray):
                raw[key] = value.decode()
            else:
                raw[key] = value
        # aiogram names file parts randomly and refers to them as "attach://<part>":
        # report them under the field that references them.
        files: dict[str, UploadedFile] = {}
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
        return web.json_response({"ok": True, "result": self._updates[:limit]})

    # ----------------------------------------------------------------- methods

    def _dispatch(self, call: ApiCall) -> Any:
        method, params = call.method, call.params
        chat_id = _chat_key(params["chat_id"]) if "chat_id" in params else None
        if chat_id is not None and chat_id in self.blocked and _blockable(method):
            raise _ApiError(403, BOT_BLOCKED)
        if chat_id is not None and method in _RATE_LIMITED:
            self._check_rate_limit(chat_id)

        if method == "getMe":
            return self._bot_user(full=True)
        if method in _TRUE_METHODS:
            return self._true_method(method, params, chat_id)
        if method in _SEND_MEDIA:
            return self._send(method, call, self._need(chat_id))
        if method == "sendMediaGroup":
            return self._send_media_group(params, self._need(chat_id))
        if method in _EDIT_METHODS:
            return self._edit(method, call, chat_id)
        if method in {"copyMessage", "forwardMessage"}:
            return self._copy_or_forward(method, call, self._need(chat_id))
        if method in {"copyMessages", "forwardMessages"}:
            target = self._need(chat_id)
            ids = params.get("message_ids")
            if not isinstance(ids, list) or not ids:
                raise _ApiError(400, "Bad Request: message identifiers are not specified")
            return [{"message_id": self._new_message_id(target)} for _ in ids]
        if method == "createForumTopic":
            target = self._need(chat_id)
            topic: dict[str, Any] = {
                # Topic ids are the ids of their creation service messages.
                "message_thread_id": self._new_message_id(target),
                "name": call.raw.get("name", ""),
                "icon_color": params.get("icon_color", FORUM_ICON_COLOR),
            }
            if "icon_custom_emoji_id" in params:
                topic["icon_custom_emoji_id"] = str(call.raw["icon_custom_emoji_id"])
            return topic
        if method == "getChatMember":
            return self._chat_member(self._need(chat_id), params)
        if method == "getFile":
            file_id = str(call.raw.get("file_id", ""))
            if not file_id:
                raise _ApiError(400, "Bad Request: invalid file_id")
            if self.file_sizes.get(file_id, 0) > 20 * 2**20:
                raise _ApiError(400, "Bad Request: file is too big")
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": self.file_sizes.get(file_id, 1024),
                "file_path": f"documents/{file_id}",
            }
        if method == "getChat":
            return self._chat_full_info(self._need(chat_id))
        raise _ApiError(404, METHOD_NOT_FOUND)

    def _check_injected_failure(self, method: str, params: dict[str, Any]) -> None:
        rules = self._failures.get(method, [])
        for rule in rules:
            if rule.chat_id is None or params.get("chat_id") == rule.chat_id:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
                raise _ApiError(rule.status, rule.description, rule.retry_after)

    def _check_rate_limit(self, chat_id: int) -> None:
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

    def _true_method(self, method: str, params: dict[str, Any], chat_id: int | None) -> bool:
        if method == "deleteMessage" and chat_id is not None:
            self._messages.pop((chat_id, params.get("message_id", 0)), None)
        elif method == "deleteMessages" and chat_id is not None:
            for message_id in params.get("message_ids") or []:
                self._messages.pop((chat_id, message_id), None)
        elif method == "deleteWebhook" and params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    # ----------------------------------------------------------------- messages

    def _bot_user(self, *, full: bool = False) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": self.bot_username,
        }
        if full:
            user |= {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        return user

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _message(self, chat_id: int, message_id: int, params: dict[str, Any]) -> dict[str, Any]:
        """The common part of a Message the bot sent into chat_id."""
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": self._bot_user(),
        }
        thread_id = params.get("message_thread_id")
        if isinstance(thread_id, int):
            message["message_thread_id"] = thread_id
            if chat_id < 0:
                message["is_topic_message"] = True
        markup = _markup(params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        return message

    def _file(self, kind: str, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        """A minimal valid media object for a send* call."""
        n = next(self._file_counter)
        value = params.get(kind)
        # A re-sent file_id is echoed; uploads and URLs get a fresh one.
        file_id = value if isinstance(value, str) and "://" not in value else f"fake-{kind}-{n}"
        base: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{kind}{n}"}
        upload = files.get(kind)
        if upload is not None:
            base["file_size"] = upload.size
        duration = params.get("duration") if isinstance(params.get("duration"), int) else 1
        if kind == "photo":
            return [base | {"width": 90, "height": 90}, base | {"width": 800, "height": 800}]
        if kind == "document":
            return base | ({"file_name": upload.filename} if upload else {})
        if kind in {"video", "animation"}:
            return base | {"width": 640, "height": 360, "duration": duration}
        if kind in {"voice", "audio"}:
            return base | {"duration": duration}
        if kind == "video_note":
            return base | {"length": 240, "duration": duration}
        sticker = base | {
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        if "emoji" in params:
            sticker["emoji"] = str(params["emoji"])
        return sticker

    def _send(self, method: str, call: ApiCall, chat_id: int) -> dict[str, Any]:
        params = call.params
        message = self._message(chat_id, self._new_message_id(chat_id), params)
        # Echo the text as sent (raw): "42" must come back as a string.
        text = call.raw.get("text" if method == "sendMessage" else "caption")
        kind = _SEND_MEDIA[method]
        if kind is None:
            if not text:
                raise _ApiError(400, "Bad Request: message text is empty")
            message["text"] = text
            entities_key = "entities"
        else:
            message[kind] = self._file(kind, params, call.files)
            if kind == "animation":
                # Telegram also fills `document` for animations.
                message["document"] = {
                    k: v for k, v in message[kind].items() if k in {"file_id", "file_unique_id"}
                }
            if text is not None:
                message["caption"] = text
            entities_key = "caption_entities"
        entities = params.get(entities_key)
        if isinstance(entities, list):
            message[entities_key] = entities
        self._messages[(chat_id, message["message_id"])] = _Stored(
            text, message.get("reply_markup"), is_caption=kind is not None
        )
        return message

    def _send_media_group(self, params: dict[str, Any], chat_id: int) -> list[dict[str, Any]]:
        media = params.get("media")
        if not isinstance(media, list) or not media:
            raise _ApiError(400, 'Bad Request: parameter "media" is required')
        group_id = str(next(self._file_counter))
        messages = []
        for item in media:
            kind = str(item.get("type", "document"))
            message = self._message(chat_id, self._new_message_id(chat_id), params)
            message["media_group_id"] = group_id
            message[kind] = self._file(kind, {}, {})
            if item.get("caption"):
                message["caption"] = str(item["caption"])
            self._messages[(chat_id, message["message_id"])] = _Stored(
                message.get("caption"), None, is_caption=True
            )
            messages.append(message)
        return messages

    def _copy_or_forward(self, method: str, call: ApiCall, chat_id: int) -> dict[str, Any]:
        params = call.params
        from_chat = params.get("from_chat_id")
        source = self._messages.get((_chat_key(from_chat), params.get("message_id", 0)))
        message_id = self._new_message_id(chat_id)
        if method == "copyMessage":
            text = call.raw.get("caption", source.text if source else None)
            self._messages[(chat_id, message_id)] = _Stored(
                text, _markup(params.get("reply_markup")), source is not None and source.is_caption
            )
            return {"message_id": message_id}
        message = self._message(chat_id, message_id, params)
        origin_id = _chat_key(from_chat)
        message["forward_origin"] = (
            {
                "type": "user",
                "date": int(time.time()),
                "sender_user": {"id": origin_id, "is_bot": False, "first_name": "User"},
            }
            if origin_id > 0
            else {"type": "chat", "date": int(time.time()), "sender_chat": _chat(origin_id)}
        )
        if source is not None and source.text is not None:
            message["caption" if source.is_caption else "text"] = source.text
        self._messages[(chat_id, message_id)] = _Stored(
            source.text if source else None, None, source is not None and source.is_caption
        )
        return message

    def _edit(self, method: str, call: ApiCall, chat_id: int | None) -> Any:
        params = call.params
        if chat_id is None:
            if "inline_message_id" in params:
                return True  # inline messages: Telegram answers true
            raise _ApiError(400, "Bad Request: chat_id is empty")
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise _ApiError(400, MESSAGE_TO_EDIT_NOT_FOUND)
        markup = _markup(params.get("reply_markup"))
        if method == "editMessageText":
            if not call.raw.get("text"):
                raise _ApiError(400, "Bad Request: message text is empty")
            new = _Stored(call.raw["text"], markup, is_caption=False)
        elif method == "editMessageCaption":
            new = _Stored(call.raw.get("caption"), markup, is_caption=True)
        else:
            new = _Stored(stored.text, markup, stored.is_caption)
        if new == stored:
            raise _ApiError(400, NOT_MODIFIED)
        self._messages[(chat_id, message_id)] = new
        message = self._message(chat_id, message_id, params)
        message["edit_date"] = int(time.time())
        if new.text is not None:
            message["caption" if new.is_caption else "text"] = new.text
        entities_key = "caption_entities" if new.is_caption else "entities"
        if isinstance(params.get(entities_key), list):
            message[entities_key] = params[entities_key]
        return message

    # ----------------------------------------------------------------- chats

    def _chat_member(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise _ApiError(400, "Bad Request: invalid user_id specified")
        user: dict[str, Any] = (
            self._bot_user()
            if user_id == self.bot_id
            else {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        )
        status = self.chat_members.get((chat_id, user_id), "left")
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member |= {
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
            raise _ApiError(400, f"Bad Request: fake has no chat member status {status!r}")
        return member

    def _chat_full_info(self, chat_id: int) -> dict[str, Any]:
        info: dict[str, Any] = _chat(chat_id) | {
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
            info["first_name"] = f"User{chat_id}"
        else:
            info |= {"title": "Test group", "is_forum": True}
        return info | self.chat_info.get(chat_id, {})


# --------------------------------------------------------------------- update builders

# User message ids start high so they never collide with the bot's per-chat ids in tests.
_user_message_ids = itertools.count(100_000)
_callback_ids = itertools.count(1)


def _user(
    user_id: int,
    first_name: str,
    username: str | None,
    language_code: str | None,
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username is not None:
        user["username"] = username
    if language_code is not None:
        user["language_code"] = language_code
    return user


def _add_text(message: dict[str, Any], text: str | None) -> None:
    if text is None:
        return
    message["text"] = text
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]


def _bot_author() -> dict[str, Any]:
    return {
        "id": DEFAULT_BOT_ID,
        "is_bot": True,
        "first_name": BOT_FIRST_NAME,
        "username": DEFAULT_BOT_USERNAME,
    }


def _update(kind: str, message: dict[str, Any], update_id: Any) -> dict[str, Any]:
    update: dict[str, Any] = {kind: message}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def private_message(
    user_id: int,
    text: str | None = None,
    *,
    language_code: str | None = "ru",
    first_name: str = "Ivan",
    username: str | None = "ivan_private",
    message_id: int | None = None,
    reply_to: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A private-chat message Update; `extra` goes into the message (update_id= goes on top)."""
    update_id = extra.pop("update_id", None)
    chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
    if username is not None:
        chat["username"] = username
    message: dict[str, Any] = {
        "message_id": message_id if message_id is not None else next(_user_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": _user(user_id, first_name, username, language_code),
    }
    _add_text(message, text)
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    message.update(extra)
    return _update("message", message, update_id)


def callback(
    user_id: int,
    data: str,
    *,
    message_id: int = 1,
    chat_id: int | None = None,
    language_code: str | None = "ru",
    callback_id: str | None = None,
    message_text: str = "menu",
    update_id: int | None = None,
    reply_markup: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A callback_query Update pressed on a bot message (default: in the user's private chat)."""
    chat = _chat(chat_id if chat_id is not None else user_id)
    query: dict[str, Any] = {
        "id": callback_id if callback_id is not None else f"cb{next(_callback_ids)}",
        "from": _user(user_id, "Ivan", "ivan_private", language_code),
        "chat_instance": f"ci{chat['id']}",
        "data": data,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),  # date 0 would make it an InaccessibleMessage
            "chat": chat,
            "from": _bot_author(),
            "text": message_text,
        },
    }
    if reply_markup is not None:
        query["message"]["reply_markup"] = reply_markup
    return _update("callback_query", query, update_id)


def group_message(
    chat_id: int,
    user_id: int,
    text: str | None = None,
    *,
    reply_to_message_id: int | None = None,
    message_thread_id: int | None = None,
    is_topic_message: bool = False,
    first_name: str = "Moderator",
    username: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A supergroup message Update; a reply points at a bot message with that id."""
    update_id = extra.pop("update_id", None)
    chat: dict[str, Any] = {"id": chat_id, "type": "supergroup", "title": "Test group"}
    if message_thread_id is not None or is_topic_message:
        chat["is_forum"] = True
    message: dict[str, Any] = {
        "message_id": next(_user_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": _user(user_id, first_name, username, None),
    }
    _add_text(message, text)
    if message_thread_id is not None:
        message["message_thread_id"] = message_thread_id
    if is_topic_message:
        message["is_topic_message"] = True
    if reply_to_message_id is not None:
        replied: dict[str, Any] = {
            "message_id": reply_to_message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": _bot_author(),
        }
        if message_thread_id is not None:
            replied["message_thread_id"] = message_thread_id
        message["reply_to_message"] = replied
    message.update(extra)
    return _update("message", message, update_id)


def edited_private_message(
    user_id: int, text: str, message_id: int, *, update_id: int | None = None
) -> dict[str, Any]:
    """An edited_message Update for a message the user sent earlier."""
    update = private_message(user_id, text, message_id=message_id)
    message = update.pop("message")
    message["edit_date"] = int(time.time())
    return _update("edited_message", message, update_id)
