"""The moderators' group: card buttons, answers by reply (or in a ticket's topic),
internal notes, corrections of answers."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Message

from bot.callbacks import ModAction
from bot.cards import confirm_markup
from bot.config import Settings
from bot.handlers.common import incoming_of
from bot.handlers.fallback import LooksLikeCommand
from bot.i18n import L10n
from bot.moderators import ModeratorDirectory
from bot.outbox.group_jobs import GroupJobs
from bot.records import TicketRecord
from bot.services.questions import QuestionService

TELEGRAM_ANONYMOUS_ADMIN = 1087968824
NOTE_COMMAND = "note"


def moderator_name(message_or_callback: Message | CallbackQuery) -> tuple[int, str]:
    user = message_or_callback.from_user
    if user is None or user.id == TELEGRAM_ANONYMOUS_ADMIN:
        return 0, "admin"
    return user.id, user.full_name


def _thread_of(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


class TicketOfMessage(Filter):
    """A moderator's message that belongs to a ticket: a reply to any of the ticket's
    messages, or (forum mode) any message in the ticket's topic."""

    async def __call__(self, message: Message, questions: QuestionService) -> bool | dict[str, Any]:
        replied = message.reply_to_message
        ticket = await questions.ticket_of_group_message(
            message.chat.id, replied.message_id if replied else None, _thread_of(message)
        )
        return {"ticket": ticket} if ticket is not None else False


class FromModerator(Filter):
    async def __call__(
        self, message: Message, bot: Bot, moderators: ModeratorDirectory, settings: Settings
    ) -> bool:
        if message.sender_chat is not None:
            return message.sender_chat.id == settings.moderator_chat_id
        return message.from_user is not None and await moderators.is_member(
            bot, message.from_user.id
        )


async def card_button(
    callback: CallbackQuery,
    callback_data: ModAction,
    bot: Bot,
    l10n: L10n,
    questions: QuestionService,
    moderators: ModeratorDirectory,
    group_jobs: GroupJobs,
) -> None:
    if not await moderators.is_member(bot, callback.from_user.id):
        await callback.answer(l10n.text("mod-not-allowed"), show_alert=True)
        return
    message = callback.message if isinstance(callback.message, Message) else None
    if message is None:
        await callback.answer(l10n.text("mod-stale-button"), show_alert=True)
        return
    # The button acts on the ticket of the message it is on, never on a number alone: a
    # forged button, or one left on a card of a forgotten ticket, acts on nothing.
    ticket = await questions.ticket_of_group_message(message.chat.id, message.message_id, None)
    if ticket is None or ticket.purged_at is not None:
        reason = await questions.retired_reason(message.chat.id, message.message_id, None)
        if reason is None and await _card_on_its_way(questions, callback_data.ticket):
            await callback.answer(l10n.text("mod-card-not-ready"), show_alert=True)
            return
        await callback.answer(l10n.text(f"mod-ticket-{reason or 'gone'}"), show_alert=True)
        return
    if ticket.id != callback_data.ticket:
        await callback.answer(l10n.text("mod-stale-button"), show_alert=True)
        return
    moderator_id, name = moderator_name(callback)
    match callback_data.action:
        case "take":
            result = await questions.claim(ticket.id, moderator_id, name)
            if result.claimed:
                await callback.answer(l10n.text("mod-taken", id=str(ticket.id)))
            elif result.ticket is not None and result.ticket.state == "claimed":
                who = result.ticket.claimed_by_name or "?"
                await callback.answer(
                    l10n.text("mod-already-taken", moderator=who), show_alert=True
                )
            else:
                await callback.answer(l10n.text("mod-not-new"), show_alert=True)
        case "close" | "ban" if ticket.user_id is not None:
            # No one-tap accidents: the card asks first.
            await group_jobs.ask_on_card(
                ticket, confirm_markup(l10n, ticket.id, callback_data.action)
            )
            await callback.answer()
        case "close-yes":
            closed = await questions.close(ticket.id, "moderator")
            key = "mod-closed" if closed is not None else "mod-already-closed"
            await callback.answer(l10n.text(key, id=str(ticket.id)))
        case "ban-yes" if ticket.user_id is not None:
            await questions.ban(ticket.user_id)
            await callback.answer(l10n.text("mod-banned", id=str(ticket.id)), show_alert=True)
        case "unban" if ticket.user_id is not None:
            removed = await questions.unban(ticket.user_id)
            key = "mod-unbanned" if removed else "mod-not-banned"
            await callback.answer(l10n.text(key, id=str(ticket.id)))
        case "reopen":
            reopened = await questions.reopen(ticket.id)
            key = "mod-reopened" if reopened else "mod-not-closed"
            await callback.answer(l10n.text(key, id=str(ticket.id)))
        case "back":
            await group_jobs.restore_card(ticket)
            await callback.answer()
        case "none":
            await callback.answer()
        case _:
            await callback.answer(l10n.text("mod-stale-button"))


async def _card_on_its_way(questions: QuestionService, ticket_id: int) -> bool:
    """Telegram showed the card a moment before the bot recorded where it went."""
    ticket = await questions.ticket(ticket_id)
    return ticket is not None and ticket.card_message_id is None


async def answer(
    message: Message, ticket: TicketRecord, l10n: L10n, questions: QuestionService
) -> None:
    """A moderator's reply: copied to the user (without the moderator's name)."""
    incoming = incoming_of(message)
    if incoming is None or (message.from_user is not None and message.from_user.is_bot):
        # A service message (topic renamed or closed), a sticker, a poll: not an answer.
        return
    if ticket.state == "closed" or ticket.user_id is None:
        await message.reply(l10n.text("mod-ticket-closed", id=str(ticket.id)))
        return
    moderator_id, name = moderator_name(message)
    await questions.answer(
        ticket, moderator_id, name,
        source=(message.chat.id, message.message_id),
        kind=incoming.kind,
        text=incoming.text,
    )  # fmt: skip


async def note_command(
    message: Message, command: CommandObject, l10n: L10n, questions: QuestionService
) -> None:
    """/note <text>, in a ticket's topic or as a reply to one of its messages: for
    colleagues only; it never reaches the user."""
    result = await TicketOfMessage()(message, questions)
    ticket = result["ticket"] if isinstance(result, dict) else None
    text = (command.args or "").strip()
    if ticket is None:
        await message.reply(l10n.text("mod-reply-to-ticket"))
        return
    if not text:
        await message.reply(l10n.text("mod-note-usage"))
        return
    _, name = moderator_name(message)
    await questions.note(ticket, name, text, (message.chat.id, message.message_id))


class RepliesToTheBot(Filter):
    """A reply to one of the bot's own messages, or a message in a forum topic."""

    async def __call__(self, message: Message, bot: Bot) -> bool:
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None:
            return replied.from_user.id == bot.id and not replied.forum_topic_created
        return _thread_of(message) is not None


async def unknown_reply(message: Message, l10n: L10n, questions: QuestionService) -> None:
    """A reply that reaches no ticket is never silence: the moderator learns why."""
    if incoming_of(message) is None or (message.from_user is not None and message.from_user.is_bot):
        return
    replied = message.reply_to_message
    reason = await questions.retired_reason(
        message.chat.id, replied.message_id if replied else None, _thread_of(message)
    )
    if reason is None and replied is None:
        return  # ordinary talk in a topic that was never a ticket's
    await message.reply(l10n.text(f"mod-reply-{reason or 'unknown'}"))


async def correction(message: Message, questions: QuestionService) -> None:
    """A moderator edited an answer: the user's copy is corrected (bot/outbox)."""
    text = message.text if message.text is not None else message.caption
    entities = message.entities if message.text is not None else message.caption_entities
    await questions.correct(
        (message.chat.id, message.message_id), text,
        entities=[e.model_dump(mode="json", exclude_none=True) for e in entities or []],
        caption=message.text is None,
    )  # fmt: skip


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(card_button, ModAction.filter())
    router.message.register(note_command, Command(NOTE_COMMAND), FromModerator())
    router.message.register(answer, TicketOfMessage(), ~LooksLikeCommand())
    router.message.register(unknown_reply, RepliesToTheBot(), ~LooksLikeCommand())
    router.edited_message.register(correction)
    return router
