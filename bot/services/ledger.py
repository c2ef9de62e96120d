"""The outbox's bookkeeping: which job is due, how far it got, what it produced.

Each call is its own transaction, so what a job did in Telegram is recorded before
the job takes its next step; after a crash it resumes from the last recorded step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.db import Database
from bot.repositories import (
    OutboxJob,
    OutboxRepository,
    TicketMessageRecord,
    TicketRecord,
    TicketRepository,
)
from bot.services.questions import GROUP, Job


class DeliveryLedger:
    def __init__(
        self,
        db: Database,
        outbox: OutboxRepository,
        tickets: TicketRepository,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.tickets = tickets
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

    async def message(self, row_id: int) -> TicketMessageRecord | None:
        return await self.tickets.message(row_id)

    async def step_done(
        self,
        job: OutboxJob,
        step: int,
        payload: dict[str, Any] | None = None,
        *,
        card: tuple[int, int] | None = None,
        group_messages: list[tuple[int, int]] | None = None,
        user_messages: list[tuple[int, int]] | None = None,
        thread: int | None = None,
    ) -> None:
        """Record a step's results and the job's progress together."""
        ticket_id = job.ticket_id
        async with self.db.transaction():
            if ticket_id is not None:
                if thread is not None:
                    await self.tickets.set_thread(ticket_id, thread)
                if card is not None:
                    await self.tickets.set_card(ticket_id, card[1])
                    await self.tickets.link_group_message(card[0], card[1], ticket_id)
                for chat_id, message_id in group_messages or []:
                    await self.tickets.link_group_message(chat_id, message_id, ticket_id)
                for user_id, message_id in user_messages or []:
                    await self.tickets.link_user_message(user_id, message_id, ticket_id)
            await self.outbox.advance(job.id, step, payload if payload is not None else job.payload)

    async def set_thread(self, ticket_id: int, thread_id: int | None) -> None:
        """The ticket's forum topic; None when it was deleted and must be recreated."""
        async with self.db.transaction():
            await self.tickets.set_thread(ticket_id, thread_id)

    async def set_unreachable(self, ticket_id: int, unreachable: bool) -> None:
        async with self.db.transaction():
            await self.tickets.set_unreachable(ticket_id, unreachable)

    async def finish(self, job: OutboxJob, error: str | None = None) -> None:
        async with self.db.transaction():
            await self.outbox.finish(job.id, int(self.clock()), error)

    async def retry(self, job: OutboxJob, delay: float, error: str) -> None:
        async with self.db.transaction():
            await self.outbox.retry_later(job.id, self.clock() + delay, error)

    async def enqueue_card_edit(self, ticket_id: int) -> None:
        async with self.db.transaction():
            await self.outbox.add(GROUP, Job.EDIT_CARD, ticket_id, {}, self.clock())
