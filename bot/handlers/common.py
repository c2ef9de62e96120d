"""Putting a screen in front of the user (edit in place, or send anew), and reading what
a user's message brings."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.callbacks import parse_screen
from bot.content import Library
from bot.i18n import L10n
from bot.records import FsmRecord
from bot.screens import View, home, render
from bot.services.questions import FileRef, Incoming, neutral_extension
from bot.states import AddingToTicket, AskQuestion, Browsing

log = logging.getLogger(__name__)


async def remember(state: FSMContext, view: View, message_id: int | None = None) -> None:
    """Store the screen the user is on (so a stale click or a restart can restore it)
    and what that message shows (so showing it again makes no request)."""
    await state.set_state(Browsing.menu)
    await state.update_data(screen=view.screen.pack(), shown=[message_id, view.digest])


# What `remember` keeps: where the user is in the menus and what their message shows.
POSITION_KEYS = frozenset({"screen", "shown"})
_MENU_STATES = frozenset({None, Browsing.menu.state})


def only_position_changed(before: FsmRecord, after: FsmRecord) -> bool:
    """A move between menu screens, nothing else: the storage may defer writing it (a
    lost one costs a user nothing). Starting or leaving a dialog, a draft, a deletion
    are written at once."""
    if before.state not in _MENU_STATES or after.state not in _MENU_STATES or not after.data:
        return False
    rest = {k: v for k, v in before.data.items() if k not in POSITION_KEYS}
    return rest == {k: v for k, v in after.data.items() if k not in POSITION_KEYS}


async def in_dialog(state: FSMContext) -> bool:
    """Writing a question: /help or /language must not end the dialog."""
    current = await state.get_state()
    return current is not None and current.startswith(
        (f"{AskQuestion.__name__}:", f"{AddingToTicket.__name__}:")
    )


async def current_view(state: FSMContext, l10n: L10n, library: Library) -> View:
    screen = parse_screen((await state.get_data()).get("screen"))
    view = render(screen, l10n, library) if screen is not None else None
    return view or home(l10n)


async def send_view(message: Message, state: FSMContext, view: View) -> None:
    sent = await message.answer(view.text, reply_markup=view.markup)
    await remember(state, view, sent.message_id)


async def _shows_already(state: FSMContext, message: Message, view: View) -> bool:
    """True if this message shows exactly this view: Telegram would refuse the edit."""
    shown = (await state.get_data()).get("shown")
    if shown == [message.message_id, view.digest]:
        return True
    return message.text == view.plain and message.reply_markup == view.markup


async def show_view(
    callback: CallbackQuery, state: FSMContext, view: View, *, is_menu: bool = True
) -> None:
    """Edit the message the button belongs to; send a new one if it cannot be edited.
    A menu screen is remembered as the user's current screen; a dialog step is not."""
    message = callback.message
    shown_in: int | None = None
    if isinstance(message, Message):
        shown_in = message.message_id
        if not await _shows_already(state, message, view):
            try:
                await message.edit_text(view.text, reply_markup=view.markup)
            except TelegramBadRequest as error:
                if "message is not modified" not in error.message:
                    # Too old, deleted, or not ours to edit: show the screen anew.
                    log.info("cannot edit a menu message (%s); sending anew", error.message)
                    sent = await message.answer(view.text, reply_markup=view.markup)
                    shown_in = sent.message_id
    elif callback.from_user is not None:
        # The message is inaccessible (older than 48 h): answer in the private chat.
        sent = await callback.bot.send_message(  # type: ignore[union-attr]
            callback.from_user.id, view.text, reply_markup=view.markup
        )
        shown_in = sent.message_id
    if is_menu:
        await remember(state, view, shown_in)
    else:
        await state.update_data(shown=[shown_in, view.digest])


# Animation before document: Telegram sends a GIF as both.
MEDIA_KINDS = ("animation", "document", "voice", "video", "audio")


def incoming_of(message: Message) -> Incoming | None:
    """What a user's message brings to a question: its text or caption and one file;
    None for stickers, locations, contacts, polls..."""
    text = message.text if message.text is not None else message.caption
    file: FileRef | None = None
    if message.photo:
        photo = message.photo[-1]
        file = FileRef("photo", photo.file_id, photo.file_size, "jpg")
    else:
        for kind in MEDIA_KINDS:
            media = getattr(message, kind, None)
            if media is not None:
                name = getattr(media, "file_name", None)
                file = FileRef(kind, media.file_id, media.file_size, neutral_extension(name))
                break
    if text is None and file is None:
        return None
    return Incoming(
        message_id=message.message_id,
        date=int(message.date.timestamp()),
        text=text,
        file=file,
        album=message.media_group_id,
    )
