"""Carrying out the outbox: posting tickets and follow-ups to the moderators' group,
delivering answers to users, keeping the cards up to date.

Two lanes run side by side, so a slow group (20 messages a minute) never delays an
answer to a user. A job records each step it completes, so after a crash it resumes
after the last step Telegram confirmed. 429 pauses the whole lane for retry_after;
network errors and 5xx back off; nothing acknowledged is ever dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters

from bot.callbacks import TicketFeedback
from bot.cards import PART_BUDGET, card_markup, card_text, split_text
from bot.config import Settings
from bot.content import CannedAnswer, Library
from bot.http import retry_on_flood
from bot.i18n import L10n, Localizations
from bot.repositories import OutboxJob, TicketMessageRecord, TicketRecord
from bot.services.ledger import DeliveryLedger
from bot.services.questions import GROUP, USER, Job, QuestionService

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024


class _Postpone(Exception):
    """The job cannot run yet (its ticket is not posted); try again shortly."""


class GroupPacer:
    """At most `per_minute` sends in any 60 seconds, the way Telegram counts a group's
    limit: a send waits until the oldest of the last `per_minute` is a minute old."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.sent: deque[float] = deque(maxlen=per_minute)

    def delay(self) -> float:
        if len(self.sent) < self.per_minute:
            return 0.0
        return max(0.0, self.sent[0] + 60.0 - self.clock())

    async def acquire(self) -> None:
        """The group lane is the only caller, so nobody takes the slot meanwhile."""
        wait = self.delay()
        if wait > 0:
            await asyncio.sleep(wait)
        self.sent.append(self.clock())


@dataclass(frozen=True)
class Piece:
    """One message of a ticket or follow-up in the group."""

    kind: str  # card | text | media
    text: str | None = None
    media_kind: str | None = None
    file_id: str | None = None


class Delivery:
    def __init__(
        self,
        bot: Bot,
        ledger: DeliveryLedger,
        questions: QuestionService,
        library: Library,
        localizations: Localizations,
        canned: dict[str, CannedAnswer],
        settings: Settings,
    ) -> None:
        self.bot = bot
        self.ledger = ledger
        self.questions = questions
        self.library = library
        self.localizations = localizations
        self.canned = canned
        self.settings = settings
        self.chat_id = settings.moderator_chat_id
        self.mod = localizations.get(settings.default_locale)
        self.pacer = GroupPacer(settings.group_messages_per_minute)
        self._wake = {GROUP: asyncio.Event(), USER: asyncio.Event()}
        self._paused_until = {GROUP: 0.0, USER: 0.0}
        self._stopping = asyncio.Event()
        self._progress = asyncio.Condition()
        questions.on_enqueue(self.wake)

    def wake(self, lane: str) -> None:
        self._wake[lane].set()

    def stop(self) -> None:
        self._stopping.set()
        for event in self._wake.values():
            event.set()

    async def settle(self) -> None:
        """Wait until the outbox is empty (for tests and benchmarks; bound it yourself)."""
        while await self.ledger.pending() > 0:
            async with self._progress:
                await self._progress.wait()

    async def run(self) -> None:
        """Both lanes until stop(); jobs left from a previous run are resumed first."""
        retry_on_flood.set(False)  # a 429 pauses the lane here, not one request
        await asyncio.gather(self._lane(GROUP), self._lane(USER))

    # ---- the loop --------------------------------------------------------------------

    async def _lane(self, lane: str) -> None:
        while not self._stopping.is_set():
            try:
                await self._lane_round(lane)
            except Exception as error:  # noqa: BLE001 - the database, mostly: keep the lane alive
                log.error("outbox %s lane: %s; going on in 1 s", lane, type(error).__name__)
                await self._sleep(lane, 1.0)

    async def _lane_round(self, lane: str) -> None:
        """One look at the lane: sleep until something is due, or run what is due."""
        self._wake[lane].clear()
        if self._stopping.is_set():  # stop() may have come just before the clear
            return
        pause = self._paused_until[lane] - time.time()
        if pause > 0:
            await self._sleep(lane, pause)
            return
        jobs = await self.ledger.due(lane)
        if not jobs:
            next_at = await self.ledger.next_due_at(lane)
            await self._sleep(lane, 3600 if next_at is None else next_at - time.time())
            return
        for job in jobs:
            if self._stopping.is_set() or self._paused_until[lane] > time.time():
                return
            await self._run(lane, job)

    async def _sleep(self, lane: str, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake[lane].wait(), timeout=seconds)

    def _backoff(self, job: OutboxJob) -> float:
        delay: float = self.settings.outbox_retry_base * 2.0**job.attempts
        return min(delay, self.settings.outbox_retry_max)

    async def _run(self, lane: str, job: OutboxJob) -> None:
        try:
            await self._attempt(lane, job)
        finally:
            async with self._progress:
                self._progress.notify_all()

    async def _attempt(self, lane: str, job: OutboxJob) -> None:
        handler = self._handlers()[Job(job.kind)]
        try:
            await handler(job)
        except TelegramRetryAfter as error:
            # Flood control: the whole lane waits, then this job goes first again.
            self._paused_until[lane] = time.time() + error.retry_after
            log.warning("outbox %s: flood control, pausing %s s", lane, error.retry_after)
            await self.ledger.retry(job, error.retry_after, "retry after")
        except _Postpone:
            await self.ledger.retry(job, self.settings.outbox_retry_base, "waiting for the post")
        except Exception as error:  # noqa: BLE001 - network, 5xx, bot removed: retry later
            delay = self._backoff(job)
            log.warning(
                "outbox job %s (%s) failed: %s; retry in %.1f s",
                job.id, job.kind, type(error).__name__, delay,
            )  # fmt: skip
            await self.ledger.retry(job, delay, type(error).__name__)

    def _handlers(self) -> dict[Job, Callable[[OutboxJob], Awaitable[None]]]:
        return {
            Job.POST_TICKET: self._post_ticket,
            Job.POST_FOLLOW_UP: self._post_follow_up,
            Job.DELIVER_ANSWER: self._deliver_answer,
            Job.EDIT_CARD: self._edit_card,
            Job.CLOSE_TOPIC: self._close_topic,
            Job.REDACT: self._redact,
        }

    # ---- the group -------------------------------------------------------------------

    def _card(self, ticket: TicketRecord, question: TicketMessageRecord | None) -> str:
        reader = self.mod.text("card-reader", pseudonym=self.questions.pseudonym(ticket.user_id))
        return card_text(
            self.mod, self.library, ticket, reader, question,
            show_identity=self.settings.show_user_identity,
        )  # fmt: skip

    async def _ensure_thread(self, ticket: TicketRecord) -> TicketRecord:
        """In forum mode every ticket has its own topic; (re)create it when missing."""
        if not self.settings.moderator_forum or ticket.forum_thread_id is not None:
            return ticket
        await self.pacer.acquire()
        reader = self.questions.pseudonym(ticket.user_id)
        topic = await self.bot.create_forum_topic(
            self.chat_id, name=self.mod.text("forum-topic-name", id=str(ticket.id), reader=reader)
        )
        await self.ledger.set_thread(ticket.id, topic.message_thread_id)
        refreshed = await self.ledger.ticket(ticket.id)
        assert refreshed is not None
        return refreshed

    async def _send_piece(
        self, ticket: TicketRecord, piece: Piece, question: TicketMessageRecord | None
    ) -> Message:
        thread = ticket.forum_thread_id if self.settings.moderator_forum else None
        reply = (
            ReplyParameters(message_id=ticket.card_message_id, allow_sending_without_reply=True)
            if ticket.card_message_id is not None and piece.kind != "card"
            else None
        )
        await self.pacer.acquire()
        try:
            if piece.kind == "card":
                return await self.bot.send_message(
                    self.chat_id,
                    self._card(ticket, question),
                    reply_markup=card_markup(self.mod, ticket),
                    message_thread_id=thread,
                )
            if piece.kind == "text":
                assert piece.text is not None
                return await self.bot.send_message(
                    self.chat_id, piece.text, message_thread_id=thread, reply_parameters=reply
                )
            assert piece.file_id is not None
            assert piece.media_kind is not None
            return await send_media(
                self.bot, self.chat_id, piece.media_kind, piece.file_id,
                caption=piece.text, message_thread_id=thread, reply_parameters=reply,
            )  # fmt: skip
        except TelegramBadRequest as error:
            if "thread not found" in error.message and ticket.forum_thread_id is not None:
                # The topic was deleted: forget it; the retry creates a new one with a card.
                await self.ledger.set_thread(ticket.id, None)
            raise

    async def _post_pieces(
        self,
        job: OutboxJob,
        ticket: TicketRecord,
        pieces: list[Piece],
        question: TicketMessageRecord | None,
    ) -> None:
        step = job.step
        for index in range(step, len(pieces)):
            piece = pieces[index]
            current = await self.ledger.ticket(ticket.id)
            if current is None:
                break  # deleted at the user's request meanwhile
            message = await self._send_piece(current, piece, question)
            link = (self.chat_id, message.message_id)
            if piece.kind == "card":
                await self.ledger.step_done(job, index + 1, card=link)
            else:
                await self.ledger.step_done(job, index + 1, group_messages=[link])
        await self.ledger.finish(job)

    async def _post_ticket(self, job: OutboxJob) -> None:
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        ticket = await self._ensure_thread(ticket)
        question = await self.ledger.question(ticket.id)
        pieces = [Piece("card")]
        if question is not None:
            if question.file_id is not None:
                pieces.append(Piece("media", media_kind=question.kind, file_id=question.file_id))
            if question.text:
                pieces += [Piece("text", text=part) for part in split_text(question.text)[1:]]
        await self._post_pieces(job, ticket, pieces, question)

    async def _post_follow_up(self, job: OutboxJob) -> None:
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        if ticket.card_message_id is None:
            raise _Postpone
        if self.settings.moderator_forum and ticket.forum_thread_id is None:
            # The topic was deleted: a new topic with a fresh card, then the follow-up.
            ticket = await self._ensure_thread(ticket)
            question = await self.ledger.question(ticket.id)
            card = await self._send_piece(ticket, Piece("card"), question)
            await self.ledger.step_done(job, job.step, card=(self.chat_id, card.message_id))
            ticket = await self.ledger.ticket(ticket.id) or ticket
        message = await self.ledger.message(int(job.payload["message"]))
        if message is None:
            await self.ledger.finish(job, "message gone")
            return
        header = self.mod.text("follow-up-header", id=str(ticket.id))
        pieces: list[Piece] = []
        if message.file_id is not None:
            caption = f"{header}\n{message.text or ''}".strip()
            if len(caption) <= CAPTION_LIMIT:
                pieces.append(Piece("media", caption, message.kind, message.file_id))
            else:
                pieces.append(Piece("media", header, message.kind, message.file_id))
                pieces += [
                    Piece("text", text=p) for p in split_text(message.text or "", PART_BUDGET)
                ]
        else:
            parts = split_text(f"{header}\n{message.text or ''}", PART_BUDGET)
            pieces += [Piece("text", text=part) for part in parts]
        await self._post_pieces(job, ticket, pieces, None)

    async def _edit_card(self, job: OutboxJob) -> None:
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        if ticket.card_message_id is None:
            # Not posted yet: the post will show the current state.
            await self.ledger.finish(job)
            return
        question = await self.ledger.question(ticket.id)
        try:
            await self.bot.edit_message_text(
                text=self._card(ticket, question),
                chat_id=self.chat_id,
                message_id=ticket.card_message_id,
                reply_markup=card_markup(self.mod, ticket),
            )
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                log.info("card of a ticket could not be edited: %s", error.message)
        await self.ledger.finish(job)

    async def _close_topic(self, job: OutboxJob) -> None:
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        if self.settings.moderator_forum and ticket.forum_thread_id is not None:
            try:
                await self.bot.close_forum_topic(self.chat_id, ticket.forum_thread_id)
            except TelegramBadRequest as error:
                log.info("forum topic could not be closed: %s", error.message)
        await self.ledger.finish(job)

    async def _redact(self, job: OutboxJob) -> None:
        """Replace a card's text with a note, delete any other copy (as far as Telegram
        allows: old messages may be beyond the bot's reach)."""
        chat_id, message_id = int(job.payload["chat_id"]), int(job.payload["message_id"])
        try:
            if job.payload.get("card"):
                note = self.mod.text(f"card-redacted-{job.payload.get('reason', 'forgotten')}")
                await self.bot.edit_message_text(text=note, chat_id=chat_id, message_id=message_id)
            else:
                await self.bot.delete_message(chat_id, message_id)
        except TelegramBadRequest as error:
            log.info("a moderators' copy could not be redacted: %s", error.message)
            await self.ledger.finish(job, error.message[:200])
            return
        await self.ledger.finish(job)

    # ---- the user --------------------------------------------------------------------

    async def _deliver_answer(self, job: OutboxJob) -> None:
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        user = ticket.user_id
        l10n = self.localizations.get(ticket.locale)
        try:
            if job.step == 0:
                sent = await self._send_answer(job, ticket, l10n)
                await self.ledger.step_done(job, 1, user_messages=[(user, sent)])
            if job.step <= 1:
                footer = await self.bot.send_message(
                    user,
                    l10n.text("answer-footer", id=str(ticket.id)),
                    reply_markup=feedback_markup(l10n, ticket.id),
                )
                await self.ledger.step_done(job, 2, user_messages=[(user, footer.message_id)])
        except TelegramBadRequest as error:
            if "chat not found" not in error.message and "can't be copied" not in error.message:
                raise
            # Permanent: the message cannot reach this user; retrying would loop forever.
            log.warning("an answer cannot be delivered: %s", error.message)
            await self.ledger.set_unreachable(ticket.id, True)
            await self.ledger.enqueue_card_edit(ticket.id)
            self.wake(GROUP)
            await self.ledger.finish(job, error.message[:200])
            return
        except TelegramForbiddenError:
            # The user blocked the bot: the card says so; the answer stays recorded.
            await self.ledger.set_unreachable(ticket.id, True)
            await self.ledger.enqueue_card_edit(ticket.id)
            self.wake(GROUP)
            await self.ledger.finish(job, "blocked")
            return
        if ticket.unreachable:
            await self.ledger.set_unreachable(ticket.id, False)
            await self.ledger.enqueue_card_edit(ticket.id)
            self.wake(GROUP)
        await self.ledger.finish(job)

    async def _send_answer(self, job: OutboxJob, ticket: TicketRecord, l10n: L10n) -> int:
        protect = self.settings.protect_answers
        canned_name = job.payload.get("canned")
        if canned_name:
            canned = self.canned.get(str(canned_name))
            text = canned.text.get(l10n.locale) if canned else ""
            sent = await self.bot.send_message(
                ticket.user_id, l10n.text("answer-canned", text=text), protect_content=protect
            )
            return sent.message_id
        copied = await self.bot.copy_message(
            chat_id=ticket.user_id,
            from_chat_id=int(job.payload["from_chat"]),
            message_id=int(job.payload["message_id"]),
            protect_content=protect,
        )
        return copied.message_id

    async def _live_ticket(self, job: OutboxJob) -> TicketRecord | None:
        ticket = await self.ledger.ticket(job.ticket_id) if job.ticket_id is not None else None
        if ticket is None:
            await self.ledger.finish(job, "ticket gone")
        return ticket


def feedback_markup(l10n: L10n, ticket_id: int) -> InlineKeyboardMarkup:
    def button(key: str, action: str) -> InlineKeyboardButton:
        data = TicketFeedback(action=action, ticket=ticket_id).pack()
        return InlineKeyboardButton(text=l10n.text(key), callback_data=data)

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button("answer-helpful", "up"), button("answer-not-helpful", "down")],
            [button("answer-close", "close")],
        ]
    )


async def send_media(
    bot: Bot,
    chat_id: int,
    kind: str,
    file_id: str,
    *,
    caption: str | None = None,
    message_thread_id: int | None = None,
    reply_parameters: ReplyParameters | None = None,
) -> Message:
    """Send a stored attachment again by its file_id (works while the bot can see it)."""
    common = {
        "chat_id": chat_id,
        "caption": caption,
        "message_thread_id": message_thread_id,
        "reply_parameters": reply_parameters,
    }
    match kind:
        case "photo":
            return await bot.send_photo(photo=file_id, **common)  # type: ignore[arg-type]
        case "voice":
            return await bot.send_voice(voice=file_id, **common)  # type: ignore[arg-type]
        case "video":
            return await bot.send_video(video=file_id, **common)  # type: ignore[arg-type]
        case "audio":
            return await bot.send_audio(audio=file_id, **common)  # type: ignore[arg-type]
        case "animation":
            return await bot.send_animation(animation=file_id, **common)  # type: ignore[arg-type]
    return await bot.send_document(document=file_id, **common)  # type: ignore[arg-type]
