"""The central error handler: log without user data, tell the user to try again."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.i18n import L10n, Localizations

log = logging.getLogger(__name__)


async def on_error(
    event: ErrorEvent, bot: Bot, localizations: Localizations, l10n: L10n | None = None
) -> bool:
    # Only the type and the update id: an exception's text can carry user content.
    log.error(
        "update %s failed: %s",
        event.update.update_id,
        type(event.exception).__name__,
        exc_info=log.isEnabledFor(logging.DEBUG),
    )
    texts = l10n or localizations.get(None)
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.text("error-generic"), show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(texts.text("error-generic"))
    except TelegramAPIError as error:
        log.warning("could not tell the user about the error: %s", type(error).__name__)
    return True


def create_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router
