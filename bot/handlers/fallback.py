"""What nothing else took in a private chat: a polite answer and the current screen.

Registered last in the private router, so it only sees what the feature routers skipped.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.content import Library
from bot.handlers.common import current_view, send_view, show_view
from bot.i18n import L10n


class LooksLikeCommand(Filter):
    async def __call__(self, message: Message) -> bool:
        return bool(message.text and message.text.startswith("/"))


async def unknown_command(
    message: Message, state: FSMContext, l10n: L10n, library: Library
) -> None:
    await message.answer(l10n.text("unknown-command"))
    await send_view(message, state, await current_view(state, l10n, library))


async def anything_else(message: Message, state: FSMContext, l10n: L10n, library: Library) -> None:
    """Stickers, voice, free text in a menu: the bot works with buttons here."""
    await message.answer(l10n.text("fallback-use-buttons"))
    await send_view(message, state, await current_view(state, l10n, library))


async def edited(message: Message, l10n: L10n) -> None:
    await message.answer(l10n.text("edit-not-supported"))


async def stale_button(
    callback: CallbackQuery, state: FSMContext, l10n: L10n, library: Library
) -> None:
    """A forged or outdated button: a short answer and the screen the user is on."""
    await callback.answer(l10n.text("stale-button"))
    await show_view(callback, state, await current_view(state, l10n, library))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(unknown_command, LooksLikeCommand())
    router.message.register(anything_else)
    router.edited_message.register(edited)
    router.callback_query.register(stale_button)
    return router
