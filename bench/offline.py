"""A Bot API session without a network: records each request and answers it with a
valid result, validated by aiogram exactly as a real response would be."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

BOT_USER = {"id": 42, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
MESSAGE_METHODS = {
    "sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto", "sendDocument",
    "sendVoice", "editMessageCaption",
}  # fmt: skip


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self._ids = itertools.count(1)

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name in MESSAGE_METHODS:
            chat_id = int(params.get("chat_id") or 1)
            chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
            return {"message_id": next(self._ids), "date": int(time.time()), "chat": chat,
                    "from": BOT_USER, "text": "."}  # fmt: skip
        if name == "copyMessage":
            return {"message_id": next(self._ids)}
        if name == "getMe":
            return BOT_USER
        if name == "getChatMember":
            return {
                "status": "member",
                "user": {"id": int(params.get("user_id") or 1), "is_bot": False, "first_name": "M"},
            }
        return True

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        name = method.__api_method__
        self.calls[name] += 1
        params = method.model_dump(warnings=False)
        # Through aiogram's own response check, like a real answer from Telegram.
        raw = json.dumps({"ok": True, "result": self._result(name, params)})
        response: Response[TelegramType] = self.check_response(bot, method, 200, raw)
        return response.result  # type: ignore[return-value]

    async def stream_content(
        self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
        chunk_size: int = 65536, raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # fmt: skip
        yield b""

    async def close(self) -> None:
        pass
