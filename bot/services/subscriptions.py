"""Subscriptions: an explicit choice, undone with one tap."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.db import Database
from bot.repositories import SubscriptionRepository


class SubscriptionService:
    def __init__(
        self, db: Database, subscriptions: SubscriptionRepository,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.db = db
        self.subscriptions = subscriptions
        self.clock = clock

    async def is_subscribed(self, user_id: int) -> bool:
        return await self.subscriptions.exists(user_id)

    async def subscribe(self, user_id: int) -> bool:
        """True if the user was not subscribed before."""
        async with self.db.transaction():
            return await self.subscriptions.add(user_id, int(self.clock()))

    async def unsubscribe(self, user_id: int) -> bool:
        async with self.db.transaction():
            return await self.subscriptions.remove(user_id)

    async def count_by_locale(self) -> dict[str, int]:
        return await self.subscriptions.count_by_locale()
