"""The durable inbox: an update is recorded before Telegram is told it arrived, and
marked handled once its handler finished, so nothing in flight is lost in a crash and
nothing redelivered is handled twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from bot.db import Database
from bot.records import InboxEntry
from bot.repositories import InboxRepository


class InboxService:
    def __init__(
        self, db: Database, inbox: InboxRepository, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.inbox = inbox
        self.clock = clock

    async def record(self, entries: Sequence[tuple[int, int, str | None]]) -> set[int]:
        """(update_id, sender, body) of a batch, in one transaction; the ids not seen
        before (update ids restart at random after a week of silence: membership, not
        "highest seen", decides)."""
        async with self.db.transaction():
            return set(await self.inbox.add(entries, self.clock()))

    async def pending(self) -> list[InboxEntry]:
        return await self.inbox.pending()

    async def handled(self, update_id: int) -> None:
        async with self.db.transaction():
            await self.inbox.handled(update_id, int(self.clock()))

    async def attempted(self, update_id: int) -> None:
        async with self.db.transaction():
            await self.inbox.attempted(update_id)

    async def count_handled(self) -> int:
        return await self.inbox.count_handled()
