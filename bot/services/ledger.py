"""The outbox's bookkeeping: which job is due, how far it got, what it produced.

Each call is its own transaction, so what a job did in Telegram is recorded before the
job takes its next step; after a crash it resumes from the last recorded step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.db import Database
from bot.records import OutboxJob, TicketMessageRecord, TicketRecord
from bot.repositories import (
    DeskRepository,
    OutboxRepository,
    RetiredRepository,
    TicketRepository,
)
from bot.services.jobs import Job, lane_of


class DeliveryLedger:
    def __init__(
        self,
        db: Database,
        outbox: OutboxRepository,
        tickets: TicketRepository,
        retired: RetiredRepository,
        desk: DeskRepository,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.tickets = tickets
        self.retired = retired
        self.desk = desk
        self.clock = clock

    async def due(self, lane: str, limit: int = 20) -> list[OutboxJob]:
        return await self.outbox.due(lane, self.clock(), limit)

    async def next_due_at(self, lane: str) -> float | None:
        return await self.outbox.next_due_at(lane)

    async def pending(self, lane: str | None = None) -> int:
        return await self.outbox.pending_count(lane)

    async def ticket(self, ticket_id: int) -> TicketRecord | None:
        return await self.tickets.get(ticket_id)

    async def question(self, ticket_id: int) -> TicketMessageRecord | None:
        messages = await self.tickets.messages(ticket_id)
        return next((m for m in messages if m.direction == "question"), None)

    async def messages(self, ticket_id: int) -> list[TicketMessageRecord]:
        return await self.tickets.messages(ticket_id)

    async def message(self, row_id: int) -> TicketMessageRecord | None:
        return await self.tickets.message(row_id)

    async def close_album(self, row_id: int) -> None:
        """The album of a follow-up is about to be posted: later items start another."""
        async with self.db.transaction():
            await self.tickets.close_album(row_id)

    async def step_done(
        self,
        job: OutboxJob,
        step: int,
        payload: dict[str, Any] | None = None,
        *,
        card: tuple[int, int] | None = None,
        group_messages: list[tuple[int, int]] | None = None,
        user_messages: list[tuple[int, int]] | None = None,
        copy_of: tuple[int, int] | None = None,
    ) -> bool:
        """Record a step's results and the job's progress together. False if the ticket
        vanished while the step was on its way (the user asked to be forgotten): what it
        produced in the group is then deleted at once, and the job is over."""
        ticket_id = job.ticket_id
        async with self.db.transaction():
            if ticket_id is not None and not await self.tickets.exists(ticket_id):
                produced = ([card] if card else []) + (group_messages or [])
                await self.retired.add_messages(produced, "forgotten")
                for chat_id, message_id in produced:
                    payload = {"chat_id": chat_id, "message_id": message_id, "card": False}
                    await self.outbox.add(
                        lane_of(Job.REDACT), Job.REDACT, None, payload, self.clock()
                    )
                await self.outbox.finish(job.id, int(self.clock()), "ticket gone")
                return False
            if ticket_id is not None:
                if card is not None:
                    await self.tickets.set_card(ticket_id, card[1])
                    await self.tickets.link_group_message(card[0], card[1], ticket_id, "card")
                for chat_id, message_id in group_messages or []:
                    await self.tickets.link_group_message(chat_id, message_id, ticket_id, "copy")
                for user_id, message_id in user_messages or []:
                    await self.tickets.link_user_message(user_id, message_id, ticket_id)
                if copy_of is not None:
                    await self.tickets.set_copy(*copy_of)
            await self.outbox.advance(job.id, step, payload if payload is not None else job.payload)
        return True

    async def set_thread(self, ticket_id: int, thread_id: int | None) -> None:
        """The ticket's forum topic; None when it was deleted and must be recreated."""
        async with self.db.transaction():
            await self.tickets.set_thread(ticket_id, thread_id)

    async def set_unreachable(self, ticket_id: int, unreachable: bool) -> None:
        """The card says whether the user can be reached; redrawn only on a change."""
        async with self.db.transaction():
            if await self.tickets.set_unreachable(ticket_id, unreachable):
                await self._add(Job.EDIT_CARD, ticket_id)

    async def set_card_hash(self, ticket_id: int, card_hash: str | None) -> None:
        async with self.db.transaction():
            await self.tickets.set_card_hash(ticket_id, card_hash)

    async def post_failed(self, job: OutboxJob, error: str) -> None:
        """Telegram refused a post for good: the job stops, the card says what could not
        be posted (or, without a card, a notice goes to the group)."""
        async with self.db.transaction():
            await self.outbox.fail(job.id, int(self.clock()), error)
            if job.ticket_id is None or not await self.tickets.exists(job.ticket_id):
                return
            await self.tickets.set_post_error(job.ticket_id, error)
            ticket = await self.tickets.get(job.ticket_id)
            if ticket is not None and ticket.card_message_id is not None:
                await self._add(Job.EDIT_CARD, job.ticket_id)
            else:
                await self._add(Job.GROUP_NOTICE, job.ticket_id, {"text": "post-failed-notice"})

    async def finish(self, job: OutboxJob, error: str | None = None) -> None:
        async with self.db.transaction():
            await self.outbox.finish(job.id, int(self.clock()), error)

    async def retry(self, job: OutboxJob, delay: float, error: str) -> None:
        async with self.db.transaction():
            await self.outbox.retry_later(job.id, self.clock() + delay, error)

    async def _add(
        self, kind: Job, ticket_id: int | None, payload: dict[str, Any] | None = None
    ) -> None:
        await self.outbox.add(lane_of(kind), kind, ticket_id, payload or {}, self.clock())

    async def enqueue(
        self, kind: Job, ticket_id: int | None = None, payload: dict[str, Any] | None = None,
        dedup: str | None = None,
    ) -> bool:  # fmt: skip
        async with self.db.transaction():
            added = await self.outbox.add(
                lane_of(kind), kind, ticket_id, payload or {}, self.clock(), dedup
            )
        return added is not None

    async def desk_value(self, key: str) -> str | None:
        return await self.desk.get(key)

    async def set_desk_value(self, key: str, value: str | None) -> None:
        async with self.db.transaction():
            await self.desk.put(key, value)
