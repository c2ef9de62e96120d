"""The moderators' commands: /queue, /ticket, /stats, /canned, /ban and /unban. A wrong
argument is answered with what was wrong, never with silence."""

from __future__ import annotations

import time

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.cards import MESSAGE_LIMIT, reader_name, split_text, utf16_len
from bot.content import CannedAnswer, Library
from bot.handlers.moderation import FromModerator, TicketOfMessage, moderator_name
from bot.i18n import L10n
from bot.records import TicketRecord
from bot.services.desk import Counters
from bot.services.questions import QuestionService

MODERATOR_COMMANDS = (
    "queue", "ticket", "stats", "note", "canned", "ban", "unban", "publish", "broadcasts",
)  # fmt: skip


def age(seconds: float, l10n: L10n) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return l10n.text("age-minutes", count=minutes)
    if minutes < 48 * 60:
        return l10n.text("age-hours", count=minutes // 60)
    return l10n.text("age-days", count=minutes // 1440)


async def _ticket_of(message: Message, questions: QuestionService) -> TicketRecord | None:
    result = await TicketOfMessage()(message, questions)
    return result["ticket"] if isinstance(result, dict) else None


PART = MESSAGE_LIMIT - 196
HISTORY_CHUNK = 3000


def _pack(lines: list[str], separator: str) -> list[str]:
    """Whole lines (each a complete HTML fragment) into messages within the limit."""
    parts: list[str] = [""]
    for line in lines:
        if parts[-1] and utf16_len(parts[-1]) + utf16_len(line) + len(separator) > PART:
            parts.append("")
        parts[-1] = f"{parts[-1]}{separator}{line}" if parts[-1] else line
    return parts


async def reply_long(message: Message, lines: list[str], separator: str = "\n") -> list[int]:
    """A long reply in parts, cut only between lines (each a complete HTML fragment)."""
    sent = [await message.reply(part) for part in _pack(lines, separator) if part]
    return [s.message_id for s in sent]


async def queue_command(
    message: Message, l10n: L10n, questions: QuestionService, library: Library
) -> None:
    tickets = await questions.queue()
    now = time.time()
    lines = [l10n.text("mod-queue", count=len(tickets))]
    for ticket in tickets:
        topic = library.topic(ticket.topic) if ticket.topic else None
        lines.append(
            l10n.text(
                "mod-queue-item",
                id=str(ticket.id),
                age=age(now - ticket.created_at, l10n),
                # The wait counts from the reader's last word, not from the first.
                wait=age(now - ticket.last_user_at, l10n),
                state=l10n.text(f"ticket-state-{ticket.state}"),
                topic=topic.name.get(l10n.locale) if topic else "—",
                reader=reader_name(l10n, ticket),
            )
        )
    stats = await questions.stats()
    if stats.pending_posts:
        lines.append("\n" + l10n.text("mod-backlog", count=stats.pending_posts))
    failed = await questions.failed_posts()
    if failed:
        lines.append("\n" + l10n.text("mod-failed-posts", count=stats.failed_posts))
        for post in failed[:5]:
            lines.append(
                l10n.text("mod-failed-post", id=str(post.ticket_id or "—"), error=post.error[:150])
            )
    await reply_long(message, lines)


async def ticket_command(
    message: Message, command: CommandObject, l10n: L10n, questions: QuestionService
) -> None:
    arg = (command.args or "").strip().lstrip("#")
    if not arg.isdigit():
        await message.reply(l10n.text("mod-ticket-usage"))
        return
    # isdigit() alone would let a 20-digit number overflow SQLite's integer.
    ticket = await questions.ticket(int(arg)) if len(arg) < 12 else None
    if ticket is None:
        await message.reply(l10n.text("mod-ticket-none", id=arg[:20]))
        return
    lines = [
        l10n.text(
            "mod-ticket-head",
            id=str(ticket.id),
            reader=ticket.pseudonym or "—",
            state=l10n.text(f"ticket-state-{ticket.state}"),
        )
    ]
    if ticket.rating:
        lines.append(l10n.text("card-rated-up" if ticket.rating > 0 else "card-rated-down"))
    for item in await questions.messages(ticket.id):
        stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(item.created_at))
        files = f" [{len(item.attachments)} 📎]" if item.attachments else ""
        raw = (item.text or l10n.text(f"kind-{item.kind}")) + files
        # Cut what the user wrote before it is escaped: no part can break the markup.
        first, *rest = split_text(raw, HISTORY_CHUNK, HISTORY_CHUNK)
        key = f"mod-history-{item.direction}"
        lines.append(l10n.text(key, time=stamp, author=item.author or "—", text=first))
        lines += [l10n.text("mod-history-more", text=chunk) for chunk in rest]
    sent = await reply_long(message, lines, "\n\n")
    # These copies quote the user: they go with the ticket on /forget and at retention.
    await questions.link_copies(ticket.id, message.chat.id, sent)


async def stats_command(
    message: Message, l10n: L10n, questions: QuestionService, counters: Counters
) -> None:
    stats = await questions.stats()
    tickets = stats.tickets
    median = tickets.median_first_answer
    rated = tickets.rated_up + tickets.rated_down
    lines = [
        l10n.text(
            "mod-stats",
            new=tickets.by_state.get("new", 0),
            claimed=tickets.by_state.get("claimed", 0),
            answered=tickets.by_state.get("answered", 0),
            closed=tickets.by_state.get("closed", 0),
            median=age(median, l10n) if median is not None else "—",
            backlog=stats.pending_posts,
            failed=stats.failed_posts,
        ),
        l10n.text(
            "mod-stats-ratings",
            rated=rated,
            positive=round(100 * tickets.rated_up / rated) if rated else 0,
            up=tickets.rated_up,
            down=tickets.rated_down,
        ),
    ]
    if tickets.weeks:
        lines.append(l10n.text("mod-stats-weeks"))
        for week in tickets.weeks:
            median_week = week.median_first_answer
            lines.append(
                l10n.text(
                    "mod-stats-week", week=week.week, answered=week.answered,
                    median=age(median_week, l10n) if median_week is not None else "—",
                )
            )  # fmt: skip
    counts = await counters.all()
    lines.append(
        l10n.text(
            "mod-stats-search",
            searches=counts.get("search", 0),
            found=counts.get("search-found", 0),
            opened=counts.get("suggestion-opened", 0),
            asked=counts.get("asked-after-suggestion", 0),
        )
    )
    await message.reply("\n".join(lines))


async def canned_command(
    message: Message,
    command: CommandObject,
    l10n: L10n,
    questions: QuestionService,
    canned: dict[str, CannedAnswer],
) -> None:
    name = (command.args or "").strip()
    names = ", ".join(sorted(canned)) or "—"
    if not name:
        await message.reply(l10n.text("mod-canned-usage", names=names))
        return
    if name not in canned:
        await message.reply(l10n.text("mod-canned-unknown", name=name[:40], names=names))
        return
    ticket = await _ticket_of(message, questions)
    if ticket is None:
        await message.reply(l10n.text("mod-reply-to-ticket"))
        return
    if ticket.state == "closed" or ticket.user_id is None:
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
    ticket = await _ticket_of(message, questions)
    if ticket is None or ticket.user_id is None:
        await message.reply(l10n.text("mod-reply-to-ticket"))
        return
    if command.command == "ban":
        await questions.ban(ticket.user_id)
        await message.reply(l10n.text("mod-banned", id=str(ticket.id)))
    else:
        removed = await questions.unban(ticket.user_id)
        key = "mod-unbanned" if removed else "mod-not-banned"
        await message.reply(l10n.text(key, id=str(ticket.id)))


async def only_in_group(message: Message, l10n: L10n) -> None:
    """A moderator command outside the moderators' group."""
    await message.answer(l10n.text("mod-only-in-group"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(queue_command, Command("queue"), FromModerator())
    router.message.register(ticket_command, Command("ticket"), FromModerator())
    router.message.register(stats_command, Command("stats"), FromModerator())
    router.message.register(canned_command, Command("canned"), FromModerator())
    router.message.register(ban_command, Command("ban", "unban"), FromModerator())
    return router


def create_private_refusals() -> Router:
    router = Router(name=__name__ + ".private")
    router.message.register(only_in_group, Command(*MODERATOR_COMMANDS))
    return router
