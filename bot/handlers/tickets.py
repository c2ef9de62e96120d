"""A user's questions after Send: My questions, rating and closing, adding to a question
(a reply to any of the bot's messages of it, or the "Add" button)."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import screens
from bot.callbacks import AddToTicket, MyTicket, Nav, Screen, TicketFeedback
from bot.handlers.ask import accepted
from bot.handlers.common import show_view
from bot.handlers.fallback import LooksLikeCommand
from bot.i18n import L10n
from bot.services.questions import FollowUp, QuestionService, Refused
from bot.states import AddingToTicket


class ContinuesAlbum(Filter):
    """An item of an album whose first item went to a ticket (clients send an album as
    one message per item, and only some of them carry the reply)."""

    async def __call__(self, message: Message, questions: QuestionService) -> bool | dict[str, Any]:
        if message.media_group_id is None or message.from_user is None:
            return False
        ticket_id = await questions.ticket_of_album(message.from_user.id, message.media_group_id)
        return False if ticket_id is None else {"ticket_id": ticket_id}


class RepliesToTicket(Filter):
    """A reply to one of the bot's messages that belong to a ticket: the "received"
    message, an answer, its footer."""

    async def __call__(self, message: Message, questions: QuestionService) -> bool | dict[str, Any]:
        replied = message.reply_to_message
        if replied is None or message.from_user is None:
            return False
        ticket = await questions.ticket_of_reply(message.from_user.id, replied.message_id)
        return {"ticket_id": ticket.id} if ticket is not None else False


async def my_questions(
    callback: CallbackQuery, state: FSMContext, l10n: L10n, questions: QuestionService
) -> None:
    tickets = await questions.tickets_of(callback.from_user.id)
    await show_view(callback, state, screens.my_questions(l10n, tickets))
    await callback.answer()


async def open_ticket(
    callback: CallbackQuery,
    callback_data: MyTicket,
    state: FSMContext,
    l10n: L10n,
    questions: QuestionService,
) -> None:
    ticket = await questions.ticket_for_user(callback.from_user.id, callback_data.ticket)
    if ticket is None:
        await callback.answer(l10n.text("stale-button"))
        tickets = await questions.tickets_of(callback.from_user.id)
        await show_view(callback, state, screens.my_questions(l10n, tickets))
        return
    messages = await questions.messages(ticket.id)
    await show_view(callback, state, screens.my_ticket(l10n, ticket, messages))
    await callback.answer()


async def feedback(
    callback: CallbackQuery,
    callback_data: TicketFeedback,
    l10n: L10n,
    questions: QuestionService,
) -> None:
    user_id = callback.from_user.id
    ticket = await questions.ticket_for_user(user_id, callback_data.ticket)
    if ticket is None:
        await callback.answer(l10n.text("stale-button"))
        return
    if callback_data.action == "close":
        if ticket.state != "closed":
            await questions.close(ticket.id, "user")
        await callback.answer(l10n.text("ticket-closed-by-user", id=str(ticket.id)))
        message = callback.message
        # A second tap finds the buttons gone already: no edit Telegram would refuse.
        if isinstance(message, Message) and message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
        return
    await questions.rate(user_id, ticket.id, helpful=callback_data.action == "up")
    await callback.answer(l10n.text("answer-rated"))


async def add_button(
    callback: CallbackQuery, callback_data: AddToTicket, state: FSMContext, l10n: L10n,
    questions: QuestionService,
) -> None:  # fmt: skip
    ticket = await questions.ticket_for_user(callback.from_user.id, callback_data.ticket)
    if ticket is None or ticket.purged_at is not None:
        await callback.answer(l10n.text("follow-up-gone"), show_alert=True)
        return
    await state.set_state(AddingToTicket.writing)
    await state.update_data(ticket=ticket.id)
    await callback.answer()
    assert callback.message is not None
    await callback.message.answer(l10n.text("add-prompt", id=str(ticket.id)))


async def _add(message: Message, ticket_id: int, l10n: L10n, questions: QuestionService) -> None:
    assert message.from_user is not None
    incoming = await accepted(message, l10n, questions)
    if incoming is None:
        return
    try:
        result = await questions.follow_up(message.from_user.id, ticket_id, incoming)
    except Refused:
        view = screens.ask_refused(l10n, "follow-up-gone")
        await message.answer(view.text, reply_markup=view.markup)
        return
    if result in (FollowUp.DUPLICATE, FollowUp.MORE_OF_ALBUM):
        return  # said once, for the whole album
    key = "follow-up-reopened" if result is FollowUp.REOPENED else "follow-up-sent"
    await message.answer(l10n.text(key, id=str(ticket_id)))


async def follow_up(
    message: Message, ticket_id: int, l10n: L10n, questions: QuestionService
) -> None:
    await _add(message, ticket_id, l10n, questions)


async def adding(
    message: Message, state: FSMContext, l10n: L10n, questions: QuestionService
) -> None:
    """The message after "Add to the question"."""
    ticket_id = (await state.get_data()).get("ticket")
    await state.set_state(None)
    await state.update_data(ticket=None)
    if not isinstance(ticket_id, int):
        return
    await _add(message, ticket_id, l10n, questions)


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(my_questions, Nav.filter(F.screen == Screen.MY_QUESTIONS))
    router.callback_query.register(open_ticket, MyTicket.filter())
    router.callback_query.register(feedback, TicketFeedback.filter())
    router.callback_query.register(add_button, AddToTicket.filter())
    router.message.register(follow_up, ContinuesAlbum())
    router.message.register(follow_up, RepliesToTicket())
    router.message.register(adding, StateFilter(AddingToTicket.writing), ~LooksLikeCommand())
    return router
