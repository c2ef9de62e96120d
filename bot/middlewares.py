"""Outer middlewares on `dp.update`, so every update type passes through them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update, User

from bot.callbacks import ForgetAction, SubscriptionAction
from bot.config import Settings
from bot.fsm_storage import SQLiteStorage
from bot.i18n import Localizations, locale_for_language_code
from bot.services.questions import QuestionService
from bot.services.users import UserService

# What a banned user may still do: see what is kept about them, delete it, stop the
# digest. Leaving must never depend on good behaviour.
BANNED_MAY = frozenset({"privacy", "mydata", "forget", "unsubscribe"})
_BANNED_MAY_PRESS = (
    ForgetAction.__prefix__ + ":",
    SubscriptionAction(action="off").pack(),
    SubscriptionAction(action="stop").pack(),
)


def private_user(data: dict[str, Any]) -> User | None:
    """The person behind an update in a private chat with the bot, if it is one."""
    user: User | None = data.get("event_from_user")
    chat: Chat | None = data.get("event_chat")
    if user is None or user.is_bot or chat is None or chat.type != "private":
        return None
    return user


def _command_of(message: Message) -> str | None:
    text = message.text or ""
    if not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else None


class FsmBatchMiddleware(BaseMiddleware):
    """The dialog state an update changes is written once, when its handling ends."""

    def __init__(self, storage: SQLiteStorage) -> None:
        self.storage = storage

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.storage.batch():
            return await handler(event, data)


class L10nMiddleware(BaseMiddleware):
    """Hands handlers `l10n` (and `locale`) in the user's language.

    In a private chat the user is registered at first contact and their stored choice
    wins; elsewhere (the moderators' group) the group's language is used and nothing
    is stored.
    """

    def __init__(
        self, localizations: Localizations, users: UserService, settings: Settings
    ) -> None:
        self.localizations = localizations
        self.users = users
        self.group_locale = settings.group_locale

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
            locale = self.group_locale
        data["locale"] = locale
        data["l10n"] = self.localizations.get(locale)
        return await handler(event, data)


class BanMiddleware(BaseMiddleware):
    """A banned user is told once, then ignored: nothing they send is handled or stored
    — except /privacy, /mydata, /forget and /unsubscribe, and the buttons of those. Any
    other button press is answered (never left spinning)."""

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
        assert isinstance(event, Update)
        if event.message is not None and _command_of(event.message) in BANNED_MAY:
            return await handler(event, data)
        query: CallbackQuery | None = event.callback_query
        if query is not None and (query.data or "").startswith(_BANNED_MAY_PRESS):
            return await handler(event, data)
        l10n = self.localizations.get(locale_for_language_code(user.language_code))
        if query is not None:
            await query.answer(l10n.text("banned-button"), show_alert=True)
            return None
        if await self.questions.should_tell_banned(user.id):
            bot: Bot = data["bot"]
            await bot.send_message(user.id, l10n.text("banned-notice"))
        return None
