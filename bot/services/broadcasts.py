"""Publishing an issue and the bookkeeping of its broadcast.

`publish` writes the issue, the broadcast and one pending delivery per subscriber in
ONE transaction; (user, issue) is the primary key of a delivery, so nobody can get an
issue twice from two broadcasts. A process holds a broadcast through a lease it renews,
so the bot and a `publish` command never send the same broadcast at once, and a
process that died leaves it to the next one.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from bot.content import Issue
from bot.db import Database
from bot.records import BroadcastRecord, DeliveryRecord
from bot.repositories import BroadcastRepository, SubscriptionRepository

log = logging.getLogger(__name__)

LEASE_SECONDS = 30.0


@dataclass(frozen=True)
class PublishResult:
    issue: str
    recipients: int | None  # None: this issue was broadcast before


class BroadcastService:
    def __init__(
        self,
        db: Database,
        broadcasts: BroadcastRepository,
        subscriptions: SubscriptionRepository,
        clock: Callable[[], float] = time.time,
        *,
        lease: float = LEASE_SECONDS,
    ) -> None:
        self.db = db
        self.lease = lease
        self.broadcasts = broadcasts
        self.subscriptions = subscriptions
        self.clock = clock
        self.owner = uuid.uuid4().hex

    async def publish(self, issue: Issue) -> PublishResult:
        now = self.clock()
        async with self.db.transaction():
            await self.broadcasts.save_issue(issue.issue, issue.model_dump_json(), now)
            recipients = await self.broadcasts.create(issue.issue, int(now))
        return PublishResult(issue.issue, recipients)

    async def import_shipped(self, issues: list[Issue]) -> list[str]:
        """Record the issues this project ships as published, without a broadcast, unless
        they already are (a copy published with `publish` is kept). Returns those recorded."""
        now = self.clock()
        recorded = []
        async with self.db.transaction():
            for issue in issues:
                if await self.broadcasts.save_issue_if_missing(
                    issue.issue, issue.model_dump_json(), now
                ):
                    recorded.append(issue.issue)
        return recorded

    async def published_since(self, since: float) -> list[tuple[Issue, float]]:
        """The issues published after `since`. One whose recorded body no longer loads is
        logged and skipped, so it cannot take the others (or the bot) down with it."""
        issues = []
        for issue_id, body, at in await self.broadcasts.issues_since(since):
            try:
                issues.append((Issue.from_stored(body), at))
            except ValidationError as error:
                log.error(
                    "published issue %s cannot be served: %d problem(s), first at %s",
                    issue_id,
                    error.error_count(),
                    ".".join(str(part) for part in error.errors()[0]["loc"]),
                )
        return issues

    async def subscribers_by_locale(self) -> dict[str, int]:
        return await self.subscriptions.count_by_locale()

    # ---- the lease ---------------------------------------------------------------------

    async def claim(self) -> str | None:
        async with self.db.transaction():
            return await self.broadcasts.claim_unfinished(self.owner, self.clock(), self.lease)

    async def renew(self, issue: str) -> bool:
        async with self.db.transaction():
            return await self.broadcasts.renew(issue, self.owner, self.clock() + self.lease)

    async def release(self, issue: str) -> None:
        async with self.db.transaction():
            await self.broadcasts.release(issue, self.owner)

    async def finish(self, issue: str) -> None:
        async with self.db.transaction():
            await self.broadcasts.finish(issue, int(self.clock()))

    # ---- deliveries --------------------------------------------------------------------

    async def due(self, issue: str, limit: int) -> list[DeliveryRecord]:
        return await self.broadcasts.due(issue, self.clock(), limit)

    async def next_due_at(self, issue: str) -> float | None:
        return await self.broadcasts.next_due_at(issue)

    async def counts(self, issue: str) -> dict[str, int]:
        return await self.broadcasts.counts(issue)

    async def get(self, issue: str) -> BroadcastRecord | None:
        return await self.broadcasts.get(issue)

    async def recent(self, limit: int = 10) -> list[BroadcastRecord]:
        return await self.broadcasts.all(limit)

    async def sent(self, issue: str, user_id: int) -> None:
        async with self.db.transaction():
            await self.broadcasts.mark_sent(issue, user_id, int(self.clock()))

    async def part_sent(self, issue: str, user_id: int, parts: int, gap: float) -> None:
        async with self.db.transaction():
            await self.broadcasts.mark_part_sent(issue, user_id, parts, self.clock() + gap)

    async def blocked(self, issue: str, user_id: int, error: str) -> None:
        """The user blocked the bot or is gone: stop sending to them at all."""
        async with self.db.transaction():
            await self.broadcasts.mark_final(issue, user_id, "blocked", error)
            await self.subscriptions.remove(user_id)

    async def failed(self, issue: str, user_id: int, error: str) -> None:
        async with self.db.transaction():
            await self.broadcasts.mark_final(issue, user_id, "failed", error)

    async def retry(
        self, issue: str, user_id: int, delay: float, error: str, *, count_attempt: bool = True
    ) -> None:
        async with self.db.transaction():
            await self.broadcasts.postpone(
                issue, user_id, self.clock() + delay, error, count_attempt=count_attempt
            )

    async def set_status_message(self, issue: str, chat_id: int, message_id: int) -> None:
        async with self.db.transaction():
            await self.broadcasts.set_status_message(issue, chat_id, message_id)
