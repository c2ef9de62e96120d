"""The moderators' group: card buttons, answers by reply, and the group's commands."""

from __future__ import annotations

import time
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Message

from bot.callbacks import ModAction
from bot.cards import split_text
from bot.config import Settings
from bot.content import CannedAnswer, Library
from bot.handlers.common import content_of
from bot.handlers.fallback import LooksLikeCommand
from bot.i18n import L10n
from bot.moderators import ModeratorDirectory
from bot.repositories import TicketRecord
from bot.services.questions import QuestionService

MODERATOR_COMMANDS = (
    "queue", "ticket", "stats", "canned", "ban", "unban", "publish", "broadcasts",
)  # fmt: skip
TELEGRAM_ANONYMOUS_ADMIN = 1087968824
MESSAGE_LIMIT = 4000


def moderator_name(message_or_callback: Message | CallbackQuery) -> tuple[int, str]:
    user = message_or_callback.from_user
    if user is None or user.id == TELEGRAM_ANONYMOUS_ADMIN:
        return 0, "admin"
    return user.id, user.full_name


class TicketOfMessage(Filter):
    """A moderator's message that belongs to a ticket: a reply to any of the ticket's
    messages, or (forum mode) any message in the ticket's topic."""

    async def __call__(self, message: Message, questions: QuestionService) -> bool | dict[str, Any]:
        replied = message.reply_to_message
        thread = message.message_thread_id if message.is_topic_message else None
        ticket = await questions.ticket_of_group_message(
            message.chat.id, replied.message_id if replied else None, thread
        )
        return {"ticket": ticket} if ticket is not None else False


async def card_button(
    callback: CallbackQuery,
    callback_data: ModAction,
    bot: Bot,
    l10n: L10n,
    questions: QuestionService,
    moderators: ModeratorDirectory,
) -> None:
    if not await moderators.is_member(bot, callback.from_user.id):
        await callback.answer(l10n.text("mod-not-allowed"), show_alert=True)
        return
    ticket = await questions.ticket(callback_data.ticket)
    if ticket is None:
        await callback.answer(l10n.text("mod-ticket-gone"), show_alert=True)
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
        case "close":
            closed = await questions.close(ticket.id)
            key = "mod-closed" if closed is not None else "mod-already-closed"
            await callback.answer(l10n.text(key, id=str(ticket.id)))
        case "ban":
            await questions.ban(ticket.user_id)
            await callback.answer(l10n.text("mod-banned", id=str(ticket.id)), show_alert=True)
        case _:
            await callback.answer(l10n.text("stale-button"))


async def answer(
    message: Message, ticket: TicketRecord, l10n: L10n, questions: QuestionService
) -> None:
    """A moderator's reply: copied to the user (without the moderator's name)."""
    content = content_of(message)
    if content is None or (message.from_user is not None and message.from_user.is_bot):
        # A service message (topic renamed or closed), a sticker, a poll: not an answer.
        return
    if ticket.state == "closed":
        await message.reply(l10n.text("mod-ticket-closed", id=str(ticket.id)))
        return
    moderator_id, name = moderator_name(message)
    await questions.answer(
        ticket, moderator_id, name,
        source=(message.chat.id, message.message_id),
        kind=content.kind,
        text=content.text,
        file_id=content.file_id,
    )  # fmt: skip


async def _ticket_of_command(message: Message, questions: QuestionService) -> TicketRecord | None:
    result = await TicketOfMessage()(message, questions)
    return result["ticket"] if isinstance(result, dict) else None


async def canned_command(
    message: Message,
    command: CommandObject,
    l10n: L10n,
    questions: QuestionService,
    canned: dict[str, CannedAnswer],
) -> None:
    name = (command.args or "").strip()
    ticket = await _ticket_of_command(message, questions)
    if not name or name not in canned or ticket is None:
        names = ", ".join(sorted(canned)) or "—"
        await message.reply(l10n.text("mod-canned-usage", names=names))
        return
    if ticket.state == "closed":
        await message.reply(l10n.text("mod-ticket-closed", id=str(ticket.id)))
        return
    moderator_id, moderator = moderator_name(message)
    await questions.answer(
        ticket, moderator_id, moderator, source=None, kind="text",
        text=canned[name].text.get(ticket.locale), canned=name,
    )  # fmt: skip


async def ban_command(
    message: Message, command: CommandObject, l10n: L10n, questions: QuestionService
) -> None:
    ticket = await _ticket_of_command(message, questions)
    if ticket is None:
        await message.reply(l10n.text("mod-reply-to-ticket"))
        return
    if command.command == "ban":
        await questions.ban(ticket.user_id)
        await message.reply(l10n.text("mod-banned", id=str(ticket.id)))
    else:
        removed = await questions.unban(ticket.user_id)
        key = "mod-unbanned" if removed else "mod-not-banned"
        await message.reply(l10n.text(key, id=str(ticket.id)))


def _age(seconds: float, l10n: L10n) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return l10n.text("age-minutes", count=minutes)
    if minutes < 48 * 60:
        return l10n.text("age-hours", count=minutes // 60)
    return l10n.text("age-days", count=minutes // 1440)


async def queue_command(
    message: Message, l10n: L10n, questions: QuestionService, library: Library
) -> None:
    tickets = await questions.queue()
    now = time.time()
    lines = []
    for ticket in tickets:
        topic = library.topic(ticket.topic) if ticket.topic else None
        lines.append(
            l10n.text(
                "mod-queue-item",
                id=str(ticket.id),
                age=_age(now - ticket.created_at, l10n),
                state=l10n.text(f"ticket-state-{ticket.state}"),
                topic=topic.name.get(l10n.locale) if topic else "—",
                reader=questions.pseudonym(ticket.user_id),
            )
        )
    stats = await questions.stats()
    text = l10n.text("mod-queue", count=len(tickets)) + ("\n" + "\n".join(lines) if lines else "")
    if stats.pending_posts:
        text += "\n\n" + l10n.text("mod-backlog", count=stats.pending_posts)
    await _reply_long(message, text)


async def ticket_command(
    message: Message, command: CommandObject, l10n: L10n, questions: QuestionService
) -> None:
    arg = (command.args or "").strip().lstrip("#")
    # isdigit() alone would let a 20-digit number overflow SQLite's integer.
    ticket = await questions.ticket(int(arg)) if arg.isdigit() and len(arg) < 12 else None
    if ticket is None:
        await message.reply(l10n.text("mod-ticket-usage"))
        return
    lines = [
        l10n.text(
            "mod-ticket-head",
            id=str(ticket.id),
            reader=questions.pseudonym(ticket.user_id),
            state=l10n.text(f"ticket-state-{ticket.state}"),
        )
    ]
    for item in await questions.messages(ticket.id):
        stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(item.created_at))
        lines.append(
            l10n.text(
                f"mod-history-{item.direction}",
                time=stamp,
                author=item.author or "—",
                text=item.text or l10n.text(f"kind-{item.kind}"),
            )
        )
    await _reply_long(message, "\n\n".join(lines))


async def stats_command(message: Message, l10n: L10n, questions: QuestionService) -> None:
    stats = await questions.stats()
    median = stats.median_first_answer
    await message.reply(
        l10n.text(
            "mod-stats",
            new=stats.by_state.get("new", 0),
            claimed=stats.by_state.get("claimed", 0),
            answered=stats.by_state.get("answered", 0),
            closed=stats.by_state.get("closed", 0),
            median=_age(median, l10n) if median is not None else "—",
            backlog=stats.pending_posts,
        )
    )


async def _reply_long(message: Message, text: str) -> None:
    for part in split_text(text, MESSAGE_LIMIT, MESSAGE_LIMIT):
        await message.reply(part)


async def only_in_group(message: Message, l10n: L10n) -> None:
    """A moderator command outside the moderators' group."""
    await message.answer(l10n.text("mod-only-in-group"))


class FromModerator(Filter):
    async def __call__(
        self, message: Message, bot: Bot, moderators: ModeratorDirectory, settings: Settings
    ) -> bool:
        if message.sender_chat is not None:
            return message.sender_chat.id == settings.moderator_chat_id
        return message.from_user is not None and await moderators.is_member(
            bot, message.from_user.id
        )


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(card_button, ModAction.filter())
    router.message.register(queue_command, Command("queue"), FromModerator())
    router.message.register(ticket_command, Command("ticket"), FromModerator())
    router.message.register(stats_command, Command("stats"), FromModerator())
    router.message.register(canned_command, Command("canned"), FromModerator())
    router.message.register(ban_command, Command("ban", "unban"), FromModerator())
    router.message.register(answer, TicketOfMessage(), ~LooksLikeCommand())
    return router


def create_private_refusals() -> Router:
    router = Router(name=__name__ + ".private")
    router.message.register(only_in_group, Command(*MODERATOR_COMMANDS))
    return router
