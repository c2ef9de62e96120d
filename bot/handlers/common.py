"""Putting a screen in front of the user: edit in place, or send anew."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import parse_screen
from bot.content import Library
from bot.i18n import L10n
from bot.screens import View, home, render
from bot.states import AskQuestion, Browsing

log = logging.getLogger(__name__)


async def remember(state: FSMContext, view: View) -> None:
    """Store the screen the user is on, so a stale click or a restart can restore it."""
    await state.set_state(Browsing.menu)
    await state.update_data(screen=view.screen.pack())


async def in_dialog(state: FSMContext) -> bool:
    """Writing a question: /help or /language must not end the dialog."""
    current = await state.get_state()
    return current is not None and current.startswith(f"{AskQuestion.__name__}:")


async def current_view(state: FSMContext, l10n: L10n, library: Library) -> View:
    screen = parse_screen((await state.get_data()).get("screen"))
    view = render(screen, l10n, library) if screen is not None else None
    return view or home(l10n)


async def send_view(message: Message, state: FSMContext, view: View) -> None:
    await message.answer(view.text, reply_markup=view.markup)
    await remember(state, view)


async def show_view(
    callback: CallbackQuery, state: FSMContext, view: View, *, is_menu: bool = True
) -> None:
    """Edit the message the button belongs to; send a new one if it cannot be edited.
    A menu screen is remembered as the user's current screen; a dialog step is not."""
    message = callback.message
    if isinstance(message, Message):
        try:
            await message.edit_text(view.text, reply_markup=view.markup)
        except TelegramBadRequest as error:
            if "message is not modified" not in error.message:
                # Too old, deleted, or not ours to edit: show the screen as a new message.
                log.info("cannot edit a menu message (%s); sending anew", error.message)
                await message.answer(view.text, reply_markup=view.markup)
    elif callback.from_user is not None:
        # The message is inaccessible (older than 48 h): answer in the private chat.
        await callback.bot.send_message(  # type: ignore[union-attr]
            callback.from_user.id, view.text, reply_markup=view.markup
        )
    if is_menu:
        await remember(state, view)


@dataclass(frozen=True, slots=True)
class Content:
    """What a user or moderator sent: a text, or one attachment with its caption."""

    kind: str
    text: str | None
    file_id: str | None


# Animation before document: Telegram sends a GIF as both.
MEDIA_KINDS = ("animation", "document", "voice", "video", "audio")


def content_of(message: Message) -> Content | None:
    """The text or attachment of a message; None for stickers, locations, polls..."""
    if message.text is not None:
        return Content("text", message.text, None)
    if message.photo:
        return Content("photo", message.caption, message.photo[-1].file_id)
    for kind in MEDIA_KINDS:
        media = getattr(message, kind, None)
        if media is not None:
            return Content(kind, message.caption, media.file_id)
    return None
