"""The central error handler: log without user data, tell the user to try again.

Transient failures (the database busy or full, the network) are not handled here: they
propagate to the intake, which tries the update again later."""

from __future__ import annotations

import logging
import traceback

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.types import ErrorEvent

from bot.faults import is_transient, why
from bot.i18n import L10n, Localizations

log = logging.getLogger(__name__)


class NotTransient(Filter):
    async def __call__(self, event: ErrorEvent) -> bool:
        return not is_transient(event.exception)


async def on_error(
    event: ErrorEvent, bot: Bot, localizations: Localizations, l10n: L10n | None = None
) -> bool:
    # Only the type, the update id and (at DEBUG) where it happened: an exception's
    # text can carry user content (pydantic quotes its input, for one).
    log.error("update %s failed: %s", event.update.update_id, why(event.exception))
    if log.isEnabledFor(logging.DEBUG):
        frames = traceback.format_tb(event.exception.__traceback__)
        log.debug("where: %s", "".join(frames).strip())
    texts = l10n or localizations.get(None)
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.text("error-generic"), show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await update.message.answer(texts.text("error-generic"))
    except TelegramAPIError as error:
        log.warning("could not tell the user about the error: %s", why(error))
    return True


def create_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(on_error, NotTransient())
    return router
