"""Outer middlewares on `dp.update`, so every update type passes through them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import Chat, TelegramObject, User

from bot.i18n import Localizations, locale_for_language_code
from bot.services.questions import QuestionService
from bot.services.users import UserService


def private_user(data: dict[str, Any]) -> User | None:
    """The person behind an update in a private chat with the bot, if it is one."""
    user: User | None = data.get("event_from_user")
    chat: Chat | None = data.get("event_chat")
    if user is None or user.is_bot or chat is None or chat.type != "private":
        return None
    return user


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
        user = private_user(data)
        sender: User | None = data.get("event_from_user")
        if user is not None:
            locale = await self.users.locale_of(user.id, user.language_code)
        elif sender is not None and data.get("event_chat") is None:  # an inline button
            locale = locale_for_language_code(sender.language_code)
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
        user = private_user(data)
        if user is None or not self.questions.is_banned(user.id):
            return await handler(event, data)
        if await self.questions.should_tell_banned(user.id):
            l10n = self.localizations.get(locale_for_language_code(user.language_code))
            bot: Bot = data["bot"]
            await bot.send_message(user.id, l10n.text("banned-notice"))
        return None
