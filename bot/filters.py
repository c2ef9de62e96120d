"""Async filters (a sync filter costs a thread hop on every check in aiogram)."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import Chat, TelegramObject


class PrivateChat(Filter):
    async def __call__(self, event: TelegramObject, event_chat: Chat | None = None) -> bool:
        return event_chat is not None and event_chat.type == "private"


class ChatIs(Filter):
    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id

    async def __call__(self, event: TelegramObject, event_chat: Chat | None = None) -> bool:
        return event_chat is not None and event_chat.id == self.chat_id
