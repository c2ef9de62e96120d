"""Jobs of the group lane: posting tickets and follow-ups, keeping cards and topics up to
date, redacting what must go, reminders, notices.

What a user wrote is always sent as plain text (or escaped inside a card), cut within
Telegram's limits before it is escaped, so it arrives exactly as written.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyParameters,
)

from bot.cards import CAPTION_LIMIT, card_hash, card_markup, card_text, split_text, utf16_len
from bot.config import Settings
from bot.content import Library
from bot.i18n import L10n
from bot.outbox.machine import Postpone
from bot.outbox.media import albums, send_attachments
from bot.records import AttachmentRecord, OutboxJob, TicketMessageRecord, TicketRecord
from bot.services.ledger import DeliveryLedger
from bot.services.questions import QuestionService

log = logging.getLogger(__name__)

REMINDER_KEY = "reminder"
REMINDER_FRESH = 24 * 3600  # after a day the reminder is posted anew (edits notify nobody)
# A 1x1 grey PNG: what an old attachment becomes when Telegram no longer lets the bot
# delete it.
PLACEHOLDER_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a1e8bb6c0000000049454e44ae426082"
)


def _thread_gone(error: TelegramBadRequest) -> bool:
    text = error.message.lower()
    return "thread not found" in text or "topic_id_invalid" in text or "topic_deleted" in text


def _already(error: TelegramBadRequest, *markers: str) -> bool:
    text = error.message.lower()
    return any(marker in text for marker in markers)


@dataclass
class Piece:
    """One send of a ticket or follow-up to the group."""

    kind: str  # card | text | media
    text: str | None = None  # a card's: the hash of what was drawn, once sent
    attachments: list[AttachmentRecord] = field(default_factory=list)


class GroupJobs:
    def __init__(
        self,
        bot: Bot,
        ledger: DeliveryLedger,
        questions: QuestionService,
        library: Library,
        l10n: L10n,
        settings: Settings,
    ) -> None:
        self.bot = bot
        self.ledger = ledger
        self.questions = questions
        self.library = library
        self.mod = l10n
        self.settings = settings
        self.chat_id = settings.moderator_chat_id
        self.forum = settings.moderator_forum

    # ---- shared ----------------------------------------------------------------------

    async def _live_ticket(self, job: OutboxJob) -> TicketRecord | None:
        ticket = await self.ledger.ticket(job.ticket_id) if job.ticket_id is not None else None
        if ticket is None or ticket.purged_at is not None:
            await self.ledger.finish(job, "ticket gone")
            return None
        return ticket

    async def render_card(self, ticket: TicketRecord) -> tuple[str, InlineKeyboardMarkup]:
        messages = await self.ledger.messages(ticket.id)
        question = next((m for m in messages if m.direction == "question"), None)
        notes = [m for m in messages if m.direction == "note"]
        text = card_text(
            self.mod, self.library, ticket, question, notes,
            show_identity=self.settings.show_user_identity, forum=self.forum,
        )  # fmt: skip
        banned = ticket.user_id is not None and self.questions.is_banned(ticket.user_id)
        return text, card_markup(self.mod, ticket, banned=banned)

    async def restore_card(self, ticket: TicketRecord) -> None:
        """Put the card's own buttons back (after a confirmation was declined); a second
        tap on No finds them back already."""
        if ticket.card_message_id is None:
            return
        text, markup = await self.render_card(ticket)
        if card_hash(text, markup) != ticket.card_hash:
            await self._draw_card(ticket, ticket.card_message_id, text, markup)

    async def ask_on_card(self, ticket: TicketRecord, asking: InlineKeyboardMarkup) -> None:
        """The card's buttons become a question (Close #N? Yes · No). Both taps of a
        double tap carry the card as it was before: the second finds it asking already."""
        if ticket.card_message_id is None:
            return
        text, _ = await self.render_card(ticket)
        drawn = card_hash(text, asking)
        if drawn == ticket.card_hash:
            return
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=self.chat_id, message_id=ticket.card_message_id, reply_markup=asking
            )
        except TelegramBadRequest as error:
            if not _already(error, "not modified", "message to edit not found"):
                raise
        await self.ledger.set_card_hash(ticket.id, drawn)

    async def _draw_card(
        self, ticket: TicketRecord, message_id: int, text: str, markup: InlineKeyboardMarkup
    ) -> None:
        """Edit the card to show this, and remember what it shows."""
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=self.chat_id, message_id=message_id, reply_markup=markup
            )
        except TelegramBadRequest as error:
            if not _already(error, "not modified", "message to edit not found"):
                raise
            log.info("a card was not edited: %s", error.message)
        await self.ledger.set_card_hash(ticket.id, card_hash(text, markup))

    async def _ensure_thread(self, job: OutboxJob, ticket: TicketRecord) -> TicketRecord:
        """In forum mode every ticket has its own topic; (re)create it when missing."""
        if not self.forum or ticket.forum_thread_id is not None:
            return ticket
        name = self.mod.text("forum-topic-name", id=str(ticket.id), reader=ticket.pseudonym or "—")
        topic = await self.bot.create_forum_topic(self.chat_id, name=name[:128])
        await self.ledger.set_thread(ticket.id, topic.message_thread_id)
        refreshed = await self.ledger.ticket(ticket.id)
        if refreshed is None:
            raise Postpone  # forgotten meanwhile: the next look finishes the job
        return refreshed

    def _reply(self, ticket: TicketRecord) -> ReplyParameters | None:
        if ticket.card_message_id is None:
            return None
        return ReplyParameters(message_id=ticket.card_message_id, allow_sending_without_reply=True)

    async def _send_piece(self, ticket: TicketRecord, piece: Piece) -> list[Message]:
        thread = ticket.forum_thread_id if self.forum else None
        try:
            if piece.kind == "card":
                text, markup = await self.render_card(ticket)
                sent = await self.bot.send_message(
                    self.chat_id, text, reply_markup=markup, message_thread_id=thread
                )
                piece.text = card_hash(text, markup)
                return [sent]
            if piece.kind == "text":
                assert piece.text is not None
                sent = await self.bot.send_message(
                    self.chat_id, piece.text, parse_mode=None, message_thread_id=thread,
                    reply_parameters=self._reply(ticket),
                )  # fmt: skip
                return [sent]
            return await send_attachments(
                self.bot, self.chat_id, ticket.id, piece.attachments, caption=piece.text,
                message_thread_id=thread, reply_parameters=self._reply(ticket),
            )  # fmt: skip
        except TelegramBadRequest as error:
            if _thread_gone(error) and ticket.forum_thread_id is not None:
                # The topic was deleted: forget it; the retry makes a new one with a card.
                await self.ledger.set_thread(ticket.id, None)
                raise Postpone from None
            raise

    async def _post_pieces(self, job: OutboxJob, ticket: TicketRecord, pieces: list[Piece]) -> None:
        for index in range(job.step, len(pieces)):
            current = await self.ledger.ticket(ticket.id)
            if current is None:
                break  # deleted at the user's request meanwhile
            piece = pieces[index]
            sent = await self._send_piece(current, piece)
            links = [(self.chat_id, message.message_id) for message in sent]
            if piece.kind == "card":
                recorded = await self.ledger.step_done(job, index + 1, card=links[0])
                if recorded:
                    await self.ledger.set_card_hash(ticket.id, piece.text)
            else:
                recorded = await self.ledger.step_done(job, index + 1, group_messages=links)
            if not recorded:
                return  # the ticket vanished on the way: the ledger deletes what was sent
        await self.ledger.finish(job)

    def _media_pieces(
        self, message: TicketMessageRecord, caption: str | None = None
    ) -> list[Piece]:
        pieces = []
        for number, group in enumerate(albums(message.attachments)):
            pieces.append(Piece("media", caption if number == 0 else None, list(group)))
        return pieces

    # ---- the jobs --------------------------------------------------------------------

    async def post_ticket(self, job: OutboxJob) -> None:
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        ticket = await self._ensure_thread(job, ticket)
        question = await self.ledger.question(ticket.id)
        pieces = [Piece("card")]
        if question is not None:
            pieces += self._media_pieces(question)
            if question.text:
                pieces += [Piece("text", text=part) for part in split_text(question.text)[1:]]
        await self._post_pieces(job, ticket, pieces)

    async def post_follow_up(self, job: OutboxJob) -> None:
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        if ticket.card_message_id is None:
            raise Postpone
        if self.forum and ticket.forum_thread_id is None:
            # The topic was deleted: a new topic with a fresh card, then the follow-up.
            ticket = await self._ensure_thread(job, ticket)
            (card,) = await self._send_piece(ticket, Piece("card"))
            await self.ledger.step_done(job, job.step, card=(self.chat_id, card.message_id))
            ticket = await self.ledger.ticket(ticket.id) or ticket
        await self.ledger.close_album(int(job.payload["message"]))
        message = await self.ledger.message(int(job.payload["message"]))
        if message is None:
            await self.ledger.finish(job, "message gone")
            return
        header = self.mod.text("follow-up-header", id=str(ticket.id))
        said = f"{header}\n{message.text}" if message.text else header
        pieces: list[Piece] = []
        if message.attachments and utf16_len(said) <= CAPTION_LIMIT:
            pieces += self._media_pieces(message, caption=said)  # files and words together
        else:
            pieces += [Piece("text", text=part) for part in split_text(said)]
            pieces += self._media_pieces(message)
        await self._post_pieces(job, ticket, pieces)

    async def edit_card(self, job: OutboxJob) -> None:
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        if ticket.card_message_id is None:
            # Not posted yet: the post will show the current state.
            await self.ledger.finish(job)
            return
        text, markup = await self.render_card(ticket)
        if card_hash(text, markup) == ticket.card_hash:
            await self.ledger.finish(job)  # nothing visible changed: no request at all
            return
        await self._draw_card(ticket, ticket.card_message_id, text, markup)
        await self.ledger.finish(job)

    async def _topic(self, job: OutboxJob, close: bool) -> None:
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        if self.forum and ticket.forum_thread_id is not None:
            try:
                if close:
                    await self.bot.close_forum_topic(self.chat_id, ticket.forum_thread_id)
                else:
                    await self.bot.reopen_forum_topic(self.chat_id, ticket.forum_thread_id)
            except TelegramBadRequest as error:
                if not (_already(error, "topic_not_modified") or _thread_gone(error)):
                    raise
        await self.ledger.finish(job)

    async def close_topic(self, job: OutboxJob) -> None:
        await self._topic(job, close=True)

    async def reopen_topic(self, job: OutboxJob) -> None:
        await self._topic(job, close=False)

    async def redact(self, job: OutboxJob) -> None:
        """A card becomes a note; the bot's other copies are deleted (where Telegram no
        longer allows that, they are edited to the note instead)."""
        chat_id, message_id = int(job.payload["chat_id"]), int(job.payload["message_id"])
        note = self.mod.text(f"card-redacted-{job.payload.get('reason', 'forgotten')}")
        try:
            if job.payload.get("card"):
                await self.bot.edit_message_text(text=note, chat_id=chat_id, message_id=message_id)
            else:
                await self.bot.delete_message(chat_id, message_id)
        except TelegramBadRequest as error:
            if _already(error, "not found", "not modified"):
                await self.ledger.finish(job, "already gone")
                return
            if not _already(error, "can't be deleted", "can't be edited"):
                raise
            await self._overwrite(chat_id, message_id, note)
        await self.ledger.finish(job)

    async def _overwrite(self, chat_id: int, message_id: int, note: str) -> None:
        """Telegram refused to delete it (too old): replace what it shows."""
        try:
            await self.bot.edit_message_text(text=note, chat_id=chat_id, message_id=message_id)
        except TelegramBadRequest as error:
            if not _already(error, "no text in the message"):
                raise
            placeholder = InputMediaPhoto(
                media=BufferedInputFile(PLACEHOLDER_PNG, "deleted.png"), caption=note
            )
            await self.bot.edit_message_media(
                media=placeholder, chat_id=chat_id, message_id=message_id
            )

    async def retire_topic(self, job: OutboxJob) -> None:
        """The topic of a forgotten or purged ticket: a neutral name, closed. Deleting it
        would delete the moderators' own messages too."""
        thread = int(job.payload["thread"])
        name = self.mod.text(f"forum-topic-{job.payload.get('reason', 'forgotten')}")
        try:
            await self.bot.edit_forum_topic(self.chat_id, thread, name=name[:128])
            await self.bot.close_forum_topic(self.chat_id, thread)
        except TelegramBadRequest as error:
            if not (_already(error, "topic_not_modified") or _thread_gone(error)):
                raise
        await self.ledger.finish(job)

    async def remind(self, job: OutboxJob) -> None:
        """One message in the group lists what waits too long, edited in place; posted
        anew once a day so the mentions reach people."""
        overdue = await self.questions.overdue(
            self.settings.remind_unclaimed_hours, self.settings.remind_unanswered_hours
        )
        text = self.reminder_text(overdue)
        stored = await self.ledger.desk_value(REMINDER_KEY)
        state = json.loads(stored) if stored else {}
        message_id, posted_at = state.get("message_id"), float(state.get("posted_at", 0))
        if state.get("text") == text:
            await self.ledger.finish(job)
            return
        if message_id is not None and time.time() - posted_at < REMINDER_FRESH:
            try:
                await self.bot.edit_message_text(
                    text=text, chat_id=self.chat_id, message_id=message_id
                )
                await self.ledger.set_desk_value(REMINDER_KEY, json.dumps({**state, "text": text}))
                await self.ledger.finish(job)
                return
            except TelegramBadRequest as error:
                if not _already(error, "message to edit not found", "can't be edited"):
                    raise
        if not overdue:
            await self.ledger.finish(job)
            return
        sent = await self.bot.send_message(self.chat_id, text)
        record = {"message_id": sent.message_id, "posted_at": time.time(), "text": text}
        await self.ledger.set_desk_value(REMINDER_KEY, json.dumps(record))
        await self.ledger.finish(job)

    def reminder_text(self, overdue: list[TicketRecord]) -> str:
        if not overdue:
            return self.mod.text("reminder-none")
        now = time.time()
        lines = [self.mod.text("reminder-title", count=len(overdue))]
        for ticket in overdue:
            waited = now - max(ticket.last_user_at, ticket.claimed_at or 0)
            hours = int(waited // 3600)
            if ticket.state == "claimed" and ticket.claimed_by:
                lines.append(
                    self.mod.text(
                        "reminder-claimed", id=str(ticket.id), hours=hours,
                        moderator=ticket.claimed_by_name or "?",
                        moderator_id=str(ticket.claimed_by),
                    )
                )  # fmt: skip
            else:
                lines.append(self.mod.text("reminder-new", id=str(ticket.id), hours=hours))
        return "\n".join(lines)

    async def group_notice(self, job: OutboxJob) -> None:
        ticket = await self.ledger.ticket(job.ticket_id) if job.ticket_id is not None else None
        error = ticket.post_error if ticket is not None else None
        text = self.mod.text(
            str(job.payload["text"]), id=str(job.ticket_id or "—"), error=(error or "")[:300]
        )
        thread = ticket.forum_thread_id if ticket is not None and self.forum else None
        sent = await self.bot.send_message(self.chat_id, text, message_thread_id=thread)
        await self.ledger.step_done(job, 1, group_messages=[(self.chat_id, sent.message_id)])
        await self.ledger.finish(job)
