"""Questions: from a user's draft to a ticket, through the moderators, back as an answer.

Every change that must reach Telegram is written to the outbox in the same transaction
as the change itself, so an acknowledged question or a moderator's answer survives any
crash; `bot/delivery.py` carries the outbox out.
"""

from __future__ import annotations

import hashlib
import hmac
import statistics
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.db import Database
from bot.repositories import (
    BanRepository,
    OutboxRepository,
    TicketMessageRecord,
    TicketRecord,
    TicketRepository,
)

GROUP = "group"
USER = "user"


class Job(StrEnum):
    POST_TICKET = "post_ticket"
    POST_FOLLOW_UP = "post_follow_up"
    DELIVER_ANSWER = "deliver_answer"
    EDIT_CARD = "edit_card"
    CLOSE_TOPIC = "close_topic"
    REDACT = "redact"  # a moderators' copy of something forgotten or expired


@dataclass
class Draft:
    """A question being written: one text (possibly from several messages) and at most
    one attachment."""

    key: str
    topic: str | None = None
    text: str = ""
    kind: str = "text"
    file_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "topic": self.topic,
            "text": self.text,
            "kind": self.kind,
            "file_id": self.file_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        return cls(
            key=str(data["key"]),
            topic=data.get("topic"),
            text=str(data.get("text", "")),
            kind=str(data.get("kind", "text")),
            file_id=data.get("file_id"),
        )

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and self.file_id is None


class Refusal(StrEnum):
    TOO_MANY_OPEN = "too_many_open"
    FLOOD = "flood"
    BANNED = "banned"
    CLOSED = "closed"


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class ClaimResult:
    ticket: TicketRecord | None
    claimed: bool


@dataclass(frozen=True)
class Stats:
    by_state: dict[str, int]
    median_first_answer: float | None
    pending_posts: int


@dataclass
class _FloodWindow:
    stamps: deque[float] = field(default_factory=deque)


def pseudonym(key: bytes, user_id: int) -> str:
    """A stable label for a user ("7F3A"), not reversible without the key."""
    digest = hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()
    return digest[:4].upper()


class QuestionService:
    def __init__(
        self,
        db: Database,
        tickets: TicketRepository,
        outbox: OutboxRepository,
        bans: BanRepository,
        *,
        pseudonym_key: bytes,
        max_open_tickets: int = 3,
        flood_per_minute: int = 6,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.tickets = tickets
        self.outbox = outbox
        self.bans = bans
        self.pseudonym_key = pseudonym_key
        self.max_open_tickets = max_open_tickets
        self.flood_per_minute = flood_per_minute
        self.clock = clock
        self._flood: defaultdict[int, _FloodWindow] = defaultdict(_FloodWindow)
        self._banned: dict[int, bool] = {}  # user id -> told already
        self._listeners: list[Callable[[str], None]] = []

    # ---- wiring --------------------------------------------------------------------

    async def load(self) -> None:
        """Read what must be in memory (bans) at start."""
        self._banned = await self.bans.all()

    def on_enqueue(self, listener: Callable[[str], None]) -> None:
        """Call `listener(lane)` whenever a job is queued (the delivery worker wakes)."""
        self._listeners.append(listener)

    def _queued(self, *lanes: str) -> None:
        for lane in lanes:
            for listener in self._listeners:
                listener(lane)

    def pseudonym(self, user_id: int) -> str:
        return pseudonym(self.pseudonym_key, user_id)

    # ---- limits ----------------------------------------------------------------------

    def take_flood_slot(self, user_id: int) -> bool:
        """One message into the question flow; False when the user is over the limit."""
        now = self.clock()
        window = self._flood[user_id].stamps
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.flood_per_minute:
            return False
        window.append(now)
        return True

    async def check_can_ask(self, user_id: int) -> None:
        if self.is_banned(user_id):
            raise Refused(Refusal.BANNED)
        if await self.tickets.count_open_of_user(user_id) >= self.max_open_tickets:
            raise Refused(Refusal.TOO_MANY_OPEN)

    # ---- the user's side -------------------------------------------------------------

    async def submit(self, user_id: int, locale: str, draft: Draft) -> tuple[TicketRecord, bool]:
        """Store the ticket, its question and the job to post it, in ONE transaction;
        (ticket, created). Pressing Send again returns the same ticket."""
        now = self.clock()
        async with self.db.transaction():
            ticket, created = await self.tickets.create(
                user_id, draft.key, draft.topic, locale, int(now)
            )
            if created:
                await self.tickets.add_message(
                    ticket.id, "question", draft.kind, draft.text or None, draft.file_id, int(now)
                )
                await self.outbox.add(GROUP, Job.POST_TICKET, ticket.id, {}, now)
        if created:
            self._queued(GROUP)
        return ticket, created

    async def follow_up(
        self, user_id: int, ticket: TicketRecord, kind: str, text: str | None, file_id: str | None
    ) -> None:
        if ticket.user_id != user_id:
            raise Refused(Refusal.CLOSED)
        if ticket.state == "closed":
            raise Refused(Refusal.CLOSED)
        now = self.clock()
        async with self.db.transaction():
            row_id = await self.tickets.add_message(
                ticket.id, "follow_up", kind, text, file_id, int(now)
            )
            await self.tickets.reopen(ticket.id)
            await self.outbox.add(GROUP, Job.POST_FOLLOW_UP, ticket.id, {"message": row_id}, now)
            await self.outbox.add(GROUP, Job.EDIT_CARD, ticket.id, {}, now)
        self._queued(GROUP)

    async def submitted(self, submit_key: str) -> TicketRecord | None:
        """The ticket a Send with this draft key created, if any."""
        return await self.tickets.by_submit_key(submit_key)

    async def ticket_of_reply(self, user_id: int, message_id: int) -> TicketRecord | None:
        return await self.tickets.by_user_message(user_id, message_id)

    async def tickets_of(self, user_id: int, limit: int = 10) -> list[TicketRecord]:
        return await self.tickets.of_user(user_id, limit)

    async def ticket_for_user(self, user_id: int, ticket_id: int) -> TicketRecord | None:
        ticket = await self.tickets.get(ticket_id)
        return ticket if ticket is not None and ticket.user_id == user_id else None

    async def rate(self, user_id: int, ticket_id: int, helpful: bool) -> TicketRecord | None:
        ticket = await self.ticket_for_user(user_id, ticket_id)
        if ticket is None:
            return None
        async with self.db.transaction():
            await self.tickets.rate(ticket_id, 1 if helpful else -1)
        return ticket

    # ---- both sides ------------------------------------------------------------------

    async def close(self, ticket_id: int) -> TicketRecord | None:
        """Close a ticket; None if there is no such open ticket."""
        now = self.clock()
        async with self.db.transaction():
            if not await self.tickets.close(ticket_id, int(now)):
                return None
            await self.outbox.add(GROUP, Job.EDIT_CARD, ticket_id, {}, now)
            await self.outbox.add(GROUP, Job.CLOSE_TOPIC, ticket_id, {}, now)
        self._queued(GROUP)
        return await self.tickets.get(ticket_id)

    async def messages(self, ticket_id: int) -> list[TicketMessageRecord]:
        return await self.tickets.messages(ticket_id)

    # ---- the moderators' side --------------------------------------------------------

    async def ticket(self, ticket_id: int) -> TicketRecord | None:
        return await self.tickets.get(ticket_id)

    async def ticket_of_group_message(
        self, chat_id: int, message_id: int | None, thread_id: int | None
    ) -> TicketRecord | None:
        if message_id is not None:
            ticket = await self.tickets.by_group_message(chat_id, message_id)
            if ticket is not None:
                return ticket
        if thread_id is not None:
            return await self.tickets.by_thread(thread_id)
        return None

    async def claim(self, ticket_id: int, moderator_id: int, name: str) -> ClaimResult:
        async with self.db.transaction():
            claimed = await self.tickets.claim(ticket_id, moderator_id, name)
            if claimed:
                await self.outbox.add(GROUP, Job.EDIT_CARD, ticket_id, {}, self.clock())
        if claimed:
            self._queued(GROUP)
        return ClaimResult(await self.tickets.get(ticket_id), claimed)

    async def answer(
        self,
        ticket: TicketRecord,
        moderator_id: int,
        name: str,
        *,
        source: tuple[int, int] | None,
        kind: str,
        text: str | None,
        file_id: str | None = None,
        canned: str | None = None,
    ) -> bool:
        """Record a moderator's answer and queue its delivery; False if that message was
        already taken (a redelivered update) or the ticket is closed."""
        if ticket.state == "closed":
            return False
        now = self.clock()
        payload: dict[str, Any] = {}
        if source is not None:
            payload = {"from_chat": source[0], "message_id": source[1]}
            dedup = f"answer:{source[0]}:{source[1]}"
        else:
            payload = {"canned": canned}
            dedup = None
        async with self.db.transaction():
            job = await self.outbox.add(USER, Job.DELIVER_ANSWER, ticket.id, payload, now, dedup)
            if job is None:
                return False
            row_id = await self.tickets.add_message(
                ticket.id, "answer", kind, text, file_id, int(now), author=name
            )
            await self.outbox.advance(job, 0, {**payload, "message": row_id})
            await self.tickets.mark_answered(ticket.id, moderator_id, name, int(now))
            if source is not None:
                await self.tickets.link_group_message(source[0], source[1], ticket.id)
            await self.outbox.add(GROUP, Job.EDIT_CARD, ticket.id, {}, now)
        self._queued(USER, GROUP)
        return True

    def is_banned(self, user_id: int) -> bool:
        return user_id in self._banned

    async def ban(self, user_id: int) -> list[int]:
        """Ban a user and close their open tickets; the ids closed."""
        now = self.clock()
        async with self.db.transaction():
            await self.bans.add(user_id, int(now))
            closed = await self.tickets.close_all_of_user(user_id, int(now))
            for ticket_id in closed:
                await self.outbox.add(GROUP, Job.EDIT_CARD, ticket_id, {}, now)
                await self.outbox.add(GROUP, Job.CLOSE_TOPIC, ticket_id, {}, now)
        self._banned.setdefault(user_id, False)
        self._queued(GROUP)
        return closed

    async def unban(self, user_id: int) -> bool:
        async with self.db.transaction():
            removed = await self.bans.remove(user_id)
        self._banned.pop(user_id, None)
        return removed

    async def should_tell_banned(self, user_id: int) -> bool:
        """True once per ban: the first time a banned user writes."""
        if self._banned.get(user_id, True):
            return False
        async with self.db.transaction():
            await self.bans.mark_notified(user_id)
        self._banned[user_id] = True
        return True

    async def queue(self, limit: int = 30) -> list[TicketRecord]:
        return await self.tickets.open_queue(limit)

    async def stats(self) -> Stats:
        delays = await self.tickets.first_answer_delays()
        return Stats(
            by_state=await self.tickets.counts_by_state(),
            median_first_answer=statistics.median(delays) if delays else None,
            pending_posts=await self.outbox.pending_count(GROUP),
        )
