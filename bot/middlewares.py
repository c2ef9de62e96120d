"""Outer middlewares on `dp.update`, so every update type passes through them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import Chat, TelegramObject, User

from bot.i18n import Localizations, locale_for_language_code
from bot.services.questions import QuestionService
from bot.services.users import UserService


class L10nMiddleware(BaseMiddleware):
    """Hands handlers `l10n` (and `locale`) in the user's language.

    In a private chat the user is registered at first contact and their stored choice
    wins; elsewhere (the moderators' group) Telegram's language_code is used and
    nothing is stored.
    """

    def __init__(self, localizations: Localizations, users: UserService) -> None:
        self.localizations = localizations
        self.users = users

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is not None and not user.is_bot and chat is not None and chat.type == "private":
            locale = await self.users.locale_of(user.id, user.language_code)
        elif user is not None and chat is None:
            locale = locale_for_language_code(user.language_code)
        else:
            locale = self.localizations.default_locale
        data["locale"] = locale
        data["l10n"] = self.localizations.get(locale)
        return await handler(event, data)


class BanMiddleware(BaseMiddleware):
    """A banned user is told once, then ignored: nothing they send is handled or stored."""

    def __init__(self, localizations: Localizations, questions: QuestionService) -> None:
        self.localizations = localizations
        self.questions = questions

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is None or chat is None or chat.type != "private":
            return await handler(event, data)
        if not self.questions.is_banned(user.id):
            return await handler(event, data)
        if await self.questions.should_tell_banned(user.id):
            l10n = self.localizations.get(locale_for_language_code(user.language_code))
            bot: Bot = data["bot"]
            await bot.send_message(chat.id, l10n.text("banned-notice"))
        return None
