"""A lean fake Bot API for benchmarks: counts messages per chat, enforces Telegram's
limits (scaled), answers with a minimal valid Message. The test suite's FakeTelegram
records and decodes every request, which at thousands of requests a second costs more
CPU than the bot it measures."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections import Counter, deque

from aiohttp import web

CHAT_ID = re.compile(rb'name="chat_id"\r\n(?:[^\r\n]*\r\n)*\r\n(-?\d+)\r\n')
BOT = {"id": 42, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}


class LeanTelegram:
    def __init__(
        self,
        *,
        per_second: float | None = None,
        per_chat_per_second: float | None = None,
        group_per_minute: int | None = None,
    ) -> None:
        self.per_second = per_second
        self.per_chat = per_chat_per_second
        self.group_per_minute = group_per_minute
        self.sent: Counter[int] = Counter()  # successful sends per chat
        self.rate_limited = 0
        self.requests = 0
        self._window: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self._group: dict[int, deque[float]] = {}
        self._message_ids: Counter[int] = Counter()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.changed = asyncio.Event()
        self.first_sent_at: float | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=10 * 2**20)
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _limited(self, chat_id: int, now: float) -> float:
        """Seconds to wait if this send breaks a limit, else 0."""
        if self.per_second is not None:
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.per_second:
                return 1.0 - (now - self._window[0])
        if self.per_chat is not None and chat_id > 0:
            last = self._chat_last.get(chat_id)
            if last is not None and now - last < 1.0 / self.per_chat:
                return 1.0 / self.per_chat - (now - last)
        if self.group_per_minute is not None and chat_id < 0:
            window = self._group.setdefault(chat_id, deque())
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= self.group_per_minute:
                return 60.0 - (now - window[0])
        return 0.0

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.read()
        self.requests += 1
        match = CHAT_ID.search(body)
        chat_id = int(match.group(1)) if match else 0
        if method in ("getMe",):
            return web.json_response({"ok": True, "result": BOT})
        if method in ("sendMessage", "copyMessage", "sendPhoto", "sendDocument"):
            now = time.monotonic()
            wait = self._limited(chat_id, now)
            if wait > 0:
                self.rate_limited += 1
                retry = max(1, math.ceil(wait))
                return web.json_response(
                    {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry}",
                     "parameters": {"retry_after": retry}},
                    status=429,
                )  # fmt: skip
            self._window.append(now)
            self._chat_last[chat_id] = now
            if self.first_sent_at is None:
                self.first_sent_at = now
            if chat_id < 0 and self.group_per_minute is not None:
                self._group.setdefault(chat_id, deque()).append(now)
            self.sent[chat_id] += 1
            self._message_ids[chat_id] += 1
            message_id = self._message_ids[chat_id]
            self.changed.set()
            if method == "copyMessage":
                return web.json_response({"ok": True, "result": {"message_id": message_id}})
            chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
            result = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": BOT,
                "text": ".",
            }
            return web.Response(
                text=json.dumps({"ok": True, "result": result}), content_type="application/json"
            )
        if method == "editMessageText":
            chat = {"id": chat_id, "type": "supergroup"}
            result = {
                "message_id": 1,
                "date": int(time.time()),
                "chat": chat,
                "from": BOT,
                "text": ".",
            }
            return web.json_response({"ok": True, "result": result})
        return web.json_response({"ok": True, "result": True})

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())
