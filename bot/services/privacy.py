"""What the bot keeps about a person, forgetting it on request, and retention.

Both /forget and retention end with a TRUNCATE checkpoint: with secure_delete on, what
was removed is then readable neither from the database file nor from its WAL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from bot.db import Database
from bot.records import GroupMessage, StoredData
from bot.repositories import (
    FsmRepository,
    InboxRepository,
    OutboxRepository,
    PrivacyRepository,
    RetiredRepository,
    TicketRepository,
)
from bot.services.jobs import GROUP, Job

log = logging.getLogger(__name__)

DAY = 86_400
# Handled update ids are kept a while longer than Telegram redelivers (24 h).
INBOX_KEEP_SECONDS = 48 * 3600
OUTBOX_KEEP_SECONDS = 7 * DAY


class PrivacyService:
    def __init__(
        self,
        db: Database,
        privacy: PrivacyRepository,
        tickets: TicketRepository,
        retired: RetiredRepository,
        outbox: OutboxRepository,
        fsm: FsmRepository,
        inbox: InboxRepository,
        *,
        moderator_chat_id: int,
        forget_cached: Callable[[int], None],
        forget_dialogs: Callable[[Sequence[str], int | None], None],
        retention_days: int,
        dialog_ttl_days: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.privacy = privacy
        self.tickets = tickets
        self.retired = retired
        self.outbox = outbox
        self.fsm = fsm
        self.inbox = inbox
        self.chat_id = moderator_chat_id
        # The users' and the dialogs' caches live outside the repositories.
        self.forget_cached = forget_cached
        self.forget_dialogs = forget_dialogs
        self.retention_days = retention_days
        self.dialog_ttl = dialog_ttl_days * DAY
        self.clock = clock
        self._listeners: list[Callable[[str], None]] = []
        self.checkpoint_pending = False

    def on_enqueue(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    async def stored(self, user_id: int) -> StoredData | None:
        return await self.privacy.stored(user_id)

    async def _retire(self, ticket_ids: Sequence[int], threads: Sequence[int], reason: str) -> int:
        """Inside the caller's transaction: remember why these group messages and topics
        are gone, and queue the redaction of the bot's own copies (a card becomes a
        note, other copies are deleted; the moderators' own messages stay theirs)."""
        messages: list[GroupMessage] = await self.tickets.group_messages(ticket_ids)
        await self.retired.add_messages([(m.chat_id, m.message_id) for m in messages], reason)
        now = self.clock()
        for message in messages:
            if message.role == "moderator":
                continue
            payload = {
                "chat_id": message.chat_id,
                "message_id": message.message_id,
                "card": message.role == "card",
                "reason": reason,
            }
            await self.outbox.add(GROUP, Job.REDACT, None, payload, now)
        for thread in threads:
            await self.retired.add_thread(self.chat_id, thread, reason)
            await self.outbox.add(
                GROUP, Job.RETIRE_TOPIC, None, {"thread": thread, "reason": reason}, now
            )
        return len(messages)

    async def forget(self, user_id: int) -> int:
        """Delete the user, their pseudonym, tickets, messages, attachments,
        subscription, deliveries, dialog state and unhandled updates in ONE transaction,
        and queue the redaction of the moderators' copies; returns how many group
        messages are affected. A post already on its way to the group is deleted as soon
        as Telegram says where it went (the ticket is gone by then: see the ledger)."""
        async with self.db.transaction():
            owned = await self.privacy.tickets_of_user(user_id)
            threads = [thread for _, thread in owned if thread is not None]
            affected = await self._retire([ticket for ticket, _ in owned], threads, "forgotten")
            await self.privacy.delete_user(user_id)
            keys = await self.fsm.delete_user(user_id)
            # Inside the transaction: a deferred menu position cannot be written after it.
            self.forget_dialogs(keys, user_id)
            await self.inbox.forget_sender(user_id)
        self.forget_cached(user_id)
        self._notify()
        await self.checkpoint()
        return affected

    async def purge_expired(self, batch: int = 500) -> int:
        """Purge answered and closed tickets older than the retention period down to what
        statistics need (state, times, language, rating)."""
        cutoff = int(self.clock()) - self.retention_days * DAY
        purged = 0
        while expired := await self.privacy.purgeable(cutoff, batch):
            async with self.db.transaction():
                ids = [ticket for ticket, _ in expired]
                threads = [thread for _, thread in expired if thread is not None]
                await self._retire(ids, threads, "expired")
                for ticket_id in ids:
                    await self.privacy.purge_ticket(ticket_id, int(self.clock()))
            purged += len(expired)
        if purged:
            self._notify()
            await self.checkpoint()
        return purged

    async def expire_dialogs(self) -> int:
        """Abandoned drafts and dialog state older than the TTL are deleted."""
        async with self.db.transaction():
            keys = await self.fsm.delete_older_than(int(self.clock() - self.dialog_ttl))
            self.forget_dialogs(keys, None)
        if keys:
            await self.checkpoint()
        return len(keys)

    async def prune(self) -> None:
        """Handled update ids after Telegram can no longer redeliver them; finished
        outbox jobs after a week."""
        now = int(self.clock())
        async with self.db.transaction():
            await self.inbox.prune(now - INBOX_KEEP_SECONDS)
            await self.outbox.prune(now - OUTBOX_KEEP_SECONDS)

    async def checkpoint(self) -> bool:
        """Truncate the WAL; if another process's reader prevents it, the retention loop
        tries again."""
        done = await self.db.checkpoint()
        self.checkpoint_pending = not done
        if not done:
            log.warning("the WAL could not be truncated yet (a reader holds it); retrying later")
        return done

    async def run_round(self) -> None:
        """One retention round (at start and every few hours)."""
        purged = await self.purge_expired()
        if purged:
            log.info("retention: purged %d tickets", purged)
        expired = await self.expire_dialogs()
        if expired:
            log.info("retention: %d abandoned dialogs expired", expired)
        await self.prune()
        if self.checkpoint_pending:
            await self.checkpoint()

    def _notify(self) -> None:
        for listener in self._listeners:
            listener(GROUP)
