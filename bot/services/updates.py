"""Which updates were already handled, so a redelivered one is skipped."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.db import Database
from bot.repositories import UpdateLogRepository

# Telegram keeps an unconfirmed update for 24 h; remember handled ids a while longer.
KEEP_SECONDS = 48 * 3600


class UpdateLog:
    def __init__(
        self, db: Database, repo: UpdateLogRepository, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.repo = repo
        self.clock = clock

    async def unseen(self, update_ids: list[int]) -> list[int]:
        # Set membership, not "highest seen": update_id restarts at random after a
        # week without updates.
        seen = await self.repo.seen(update_ids)
        return [update_id for update_id in update_ids if update_id not in seen]

    async def mark_handled(self, update_ids: list[int]) -> None:
        async with self.db.transaction():
            await self.repo.mark(update_ids, int(self.clock()))

    async def prune(self) -> int:
        async with self.db.transaction():
            return await self.repo.prune(int(self.clock()) - KEEP_SECONDS)
