"""Putting a screen in front of the user: edit in place, or send anew."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import Nav, Screen, parse_screen
from bot.content import Library
from bot.i18n import L10n
from bot.screens import View, home, render
from bot.states import Browsing

log = logging.getLogger(__name__)


async def remember(state: FSMContext, view: View) -> None:
    """Store the screen the user is on, so a stale click or a restart can restore it."""
    await state.set_state(Browsing.menu)
    await state.update_data(screen=view.screen.pack())


async def current_view(state: FSMContext, l10n: L10n, library: Library) -> View:
    screen = parse_screen((await state.get_data()).get("screen"))
    view = render(screen, l10n, library) if screen is not None else None
    return view or home(l10n)


async def send_view(message: Message, state: FSMContext, view: View) -> None:
    await message.answer(view.text, reply_markup=view.markup)
    await remember(state, view)


async def show_view(callback: CallbackQuery, state: FSMContext, view: View) -> None:
    """Edit the message the button belongs to; send a new one if it cannot be edited."""
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
    await remember(state, view)


HOME = Nav(screen=Screen.HOME)
