"""What the bot keeps about a person, forgetting it on request, and retention."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from bot.db import Database
from bot.repositories import OutboxRepository, PrivacyRepository, StoredData
from bot.services.questions import GROUP, Job

DAY = 86_400


class PrivacyService:
    def __init__(
        self,
        db: Database,
        privacy: PrivacyRepository,
        outbox: OutboxRepository,
        *,
        forget_dialog: Callable[[int], Awaitable[None]],
        forget_cached: Callable[[int], None],
        retention_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.privacy = privacy
        self.outbox = outbox
        # The FSM storage and the users' cache live outside the repositories.
        self.forget_dialog = forget_dialog
        self.forget_cached = forget_cached
        self.retention_days = retention_days
        self.clock = clock
        self._listeners: list[Callable[[str], None]] = []

    def on_enqueue(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    async def stored(self, user_id: int) -> StoredData | None:
        return await self.privacy.stored(user_id)

    async def _redact_later(self, messages: list[tuple[int, int, bool]], reason: str) -> None:
        """Queue the moderators' copies for redaction (in the caller's transaction)."""
        now = self.clock()
        for chat_id, message_id, is_card in messages:
            payload = {
                "chat_id": chat_id,
                "message_id": message_id,
                "card": is_card,
                "reason": reason,
            }
            await self.outbox.add(GROUP, Job.REDACT, None, payload, now)

    async def forget(self, user_id: int) -> int:
        """Delete the user, tickets, messages, subscriptions, deliveries and dialog state
        in ONE transaction, and queue the redaction of the moderators' copies; returns
        how many group messages will be redacted."""
        async with self.db.transaction():
            messages = await self.privacy.group_messages_of_user(user_id)
            await self._redact_later(messages, "forgotten")
            await self.privacy.delete_user(user_id)
            await self.forget_dialog(user_id)
        self.forget_cached(user_id)
        self._notify()
        return len(messages)

    async def purge_expired(self, batch: int = 500) -> int:
        """Purge the content of answered and closed tickets older than the retention
        period; statistics keep their counts and times."""
        cutoff = int(self.clock()) - self.retention_days * DAY
        purged = 0
        while ticket_ids := await self.privacy.purgeable(cutoff, batch):
            async with self.db.transaction():
                for ticket_id in ticket_ids:
                    messages = await self.privacy.group_messages_of_ticket(ticket_id)
                    await self._redact_later(messages, "expired")
                    await self.privacy.purge_ticket(ticket_id, int(self.clock()))
            purged += len(ticket_ids)
        if purged:
            self._notify()
        return purged

    def _notify(self) -> None:
        for listener in self._listeners:
            listener(GROUP)
