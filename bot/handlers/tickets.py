"""A user's questions after Send: My questions, rating and closing, follow-ups."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import screens
from bot.callbacks import MyTicket, Nav, Screen, TicketFeedback
from bot.handlers.ask import accepted_content
from bot.handlers.common import show_view
from bot.i18n import L10n
from bot.services.questions import QuestionService, Refused


class RepliesToTicket(Filter):
    """A reply to one of the bot's messages that belong to a ticket (an answer)."""

    async def __call__(self, message: Message, questions: QuestionService) -> bool | dict[str, Any]:
        replied = message.reply_to_message
        if replied is None or message.from_user is None:
            return False
        ticket = await questions.ticket_of_reply(message.from_user.id, replied.message_id)
        return {"ticket": ticket} if ticket is not None else False


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
            await questions.close(ticket.id)
        await callback.answer(l10n.text("ticket-closed-by-user", id=str(ticket.id)))
        if callback.message is not None:
            await callback.message.edit_reply_markup(reply_markup=None)  # type: ignore[union-attr]
        return
    await questions.rate(user_id, ticket.id, helpful=callback_data.action == "up")
    await callback.answer(l10n.text("answer-rated"))


async def follow_up(message: Message, ticket: Any, l10n: L10n, questions: QuestionService) -> None:
    assert message.from_user is not None
    content = await accepted_content(message, l10n, questions)
    if content is None:
        return
    try:
        await questions.follow_up(
            message.from_user.id, ticket, content.kind, content.text, content.file_id
        )
    except Refused:
        view = screens.ask_refused(l10n, "follow-up-closed")
        await message.answer(view.text, reply_markup=view.markup)
        return
    await message.answer(l10n.text("follow-up-sent", id=str(ticket.id)))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(my_questions, Nav.filter(F.screen == Screen.MY_QUESTIONS))
    router.callback_query.register(open_ticket, MyTicket.filter())
    router.callback_query.register(feedback, TicketFeedback.filter())
    router.message.register(follow_up, RepliesToTicket())
    return router
