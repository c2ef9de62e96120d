"""/privacy, /mydata and /forget: what is kept, and deleting it on request."""

from __future__ import annotations

import time

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.callbacks import ForgetAction
from bot.config import Settings
from bot.handlers.search import RecentQueries
from bot.i18n import L10n
from bot.services.privacy import PrivacyService
from bot.services.questions import QuestionService


def _date(stamp: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(stamp))


async def privacy_command(message: Message, l10n: L10n, settings: Settings) -> None:
    # What moderators see depends on SHOW_USER_IDENTITY: the text must not promise more.
    await message.answer(
        l10n.text(
            "privacy-text",
            days=settings.retention_days,
            dialog_days=round(settings.dialog_ttl_days),
            identity="shown" if settings.show_user_identity else "hidden",
        )
    )


async def my_data_command(
    message: Message, state: FSMContext, l10n: L10n, privacy: PrivacyService
) -> None:
    assert message.from_user is not None
    stored = await privacy.stored(message.from_user.id)
    # The storage's view, not only the row: a menu position may wait to be written.
    dialog = bool(await state.get_state() or await state.get_data())
    if stored is None:
        await message.answer(l10n.text("mydata-nothing"))
        return
    tickets = ", ".join(
        f"#{ticket_id} ({l10n.text(f'ticket-state-{state}')}, {_date(created)})"
        for ticket_id, state, created in stored.tickets
    )
    await message.answer(
        l10n.text(
            "mydata-text",
            language=l10n.text(f"language-name-{stored.locale}"),
            since=_date(stored.first_contact),
            pseudonym=stored.pseudonym or "—",
            attachments=stored.attachments,
            banned=l10n.text("mydata-yes" if stored.banned else "mydata-no"),
            subscribed=l10n.text("mydata-yes" if stored.subscribed else "mydata-no"),
            tickets=tickets or "—",
            messages=stored.messages,
            deliveries=stored.deliveries,
            dialog=l10n.text("mydata-yes" if stored.dialog_state or dialog else "mydata-no"),
        )
    )


async def forget_command(message: Message, l10n: L10n, questions: QuestionService) -> None:
    yes = ForgetAction(action="confirm").pack()
    no = ForgetAction(action="cancel").pack()
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=l10n.text("forget-yes"), callback_data=yes)],
            [InlineKeyboardButton(text=l10n.text("forget-no"), callback_data=no)],
        ]
    )
    assert message.from_user is not None
    text = l10n.text("forget-confirm")
    if questions.is_banned(message.from_user.id):
        text += "\n\n" + l10n.text("forget-banned-note")
    await message.answer(text, reply_markup=markup)


async def forget_button(
    callback: CallbackQuery,
    callback_data: ForgetAction,
    state: FSMContext,
    l10n: L10n,
    privacy: PrivacyService,
    recent: RecentQueries,
) -> None:
    message = callback.message if isinstance(callback.message, Message) else None
    # A second tap finds the question answered already: no edit Telegram would refuse.
    live = message is not None and message.reply_markup is not None
    if callback_data.action != "confirm":
        if live and message is not None:
            await message.edit_text(l10n.text("forget-kept"))
        await callback.answer()
        return
    await privacy.forget(callback.from_user.id)
    recent.forget(callback.from_user.id)
    if live and message is not None:
        await message.edit_text(l10n.text("forget-done"))
    await callback.answer()
    # Nothing of this dialog may be written back: the state row is gone already.
    await state.set_state(None)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(privacy_command, Command("privacy"))
    router.message.register(my_data_command, Command("mydata"))
    router.message.register(forget_command, Command("forget"))
    router.callback_query.register(forget_button, ForgetAction.filter())
    return router
