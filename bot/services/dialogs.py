"""Dialog state (aiogram's FSM) kept in the database, for the storage in fsm_storage."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.db import Database
from bot.records import FsmRecord
from bot.repositories import FsmRepository


class DialogStates:
    def __init__(
        self, db: Database, repo: FsmRepository, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.repo = repo
        self.clock = clock

    async def get(self, key: str) -> FsmRecord | None:
        return await self.repo.get(key)

    async def put(
        self, key: str, user_id: int, chat_id: int, state: str | None, data: dict[str, Any]
    ) -> None:
        # Joins the handler's transaction if there is one (forget), else its own write.
        await self.repo.put(key, user_id, chat_id, state, data, int(self.clock()))

    async def put_taken(
        self, take: Callable[[], list[tuple[str, int, int, str | None, dict[str, Any]]]]
    ) -> None:
        """Many (key, user, chat, state, data) rows in one transaction; `take` hands them
        over once the transaction holds the write lock."""
        async with self.db.transaction():
            rows = take()
            if rows:
                await self.repo.put_many(rows, int(self.clock()))
