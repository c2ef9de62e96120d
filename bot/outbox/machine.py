"""The outbox machine: lanes, retries and steps. It knows no job; jobs are handlers
registered by kind (bot/outbox/jobs.py), so adding a job does not touch the machine.

Two lanes run side by side, so a slow group (20 messages a minute) never delays an
answer to a user. The group lane takes turns between users (the ledger's order) and runs
under the group's pace. A job records each step it completes, so after a crash it resumes
after the last step Telegram confirmed.

Failures:
- 429: the whole lane waits retry_after, then the same job goes first;
- network errors, 5xx, a database that is busy or full: the job (or the lane) backs off,
  growing up to OUTBOX_RETRY_MAX;
- 400 that says the bot lacks rights or the chat is gone: as above (an admin can mend it);
- any other 400: Telegram refuses this content for good; the job stops and the ledger
  records why (the card or the group says what could not be posted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter

from bot.http import retry_on_flood
from bot.outbox.pacing import Pace, group_pace
from bot.records import OutboxJob
from bot.services.jobs import GROUP, USER
from bot.services.ledger import DeliveryLedger

log = logging.getLogger(__name__)

JobHandler = Callable[[OutboxJob], Awaitable[None]]

# A 400 with one of these is about the bot's place in the chat, not the message: it may
# be mended (the bot re-added, given rights), so the job waits instead of failing.
_MENDABLE = (
    "not enough rights",
    "have no rights",
    "chat not found",
    "chat_write_forbidden",
    "bot is not a member",
    "need administrator rights",
)


class Postpone(Exception):
    """The job cannot run yet (e.g. its ticket's card is not posted); try again soon."""


def is_mendable(error: TelegramBadRequest) -> bool:
    text = error.message.lower()
    return any(marker in text for marker in _MENDABLE)


class Outbox:
    def __init__(
        self,
        ledger: DeliveryLedger,
        handlers: Mapping[str, JobHandler],
        *,
        retry_base: float,
        retry_max: float,
    ) -> None:
        self.ledger = ledger
        self.handlers = handlers
        self.retry_base = retry_base
        self.retry_max = retry_max
        self._wake = {GROUP: asyncio.Event(), USER: asyncio.Event()}
        self._paused_until = {GROUP: 0.0, USER: 0.0}
        self._lane_failures = {GROUP: 0, USER: 0}
        self._stopping = asyncio.Event()
        self._progress = asyncio.Condition()

    def wake(self, lane: str) -> None:
        self._wake[lane].set()

    def stop(self) -> None:
        self._stopping.set()
        for event in self._wake.values():
            event.set()

    async def settle(self) -> None:
        """Wait until the outbox is empty (for tests and benchmarks; bound it yourself)."""
        while await self.ledger.pending() > 0:
            async with self._progress:
                await self._progress.wait()

    async def run(self) -> None:
        """Both lanes until stop(); jobs left from a previous run are resumed first."""
        retry_on_flood.set(False)  # a 429 pauses the lane here, not one request
        await asyncio.gather(self._lane(GROUP), self._lane(USER))

    def backoff(self, attempts: int) -> float:
        delay: float = self.retry_base * 2.0**attempts
        return min(delay, self.retry_max) * random.uniform(0.9, 1.1)

    # ---- the loop --------------------------------------------------------------------

    async def _lane(self, lane: str) -> None:
        group_pace.set(Pace.BACKGROUND)
        while not self._stopping.is_set():
            try:
                await self._lane_round(lane)
                self._lane_failures[lane] = 0
            except Exception as error:  # noqa: BLE001 - the database, mostly: keep the lane alive
                # Growing, not every second: a full disk stays full for a while.
                delay = self.backoff(self._lane_failures[lane])
                self._lane_failures[lane] += 1
                log.error(
                    "outbox %s lane: %s; going on in %.1f s", lane, type(error).__name__, delay
                )
                await self._sleep(lane, delay)

    async def _lane_round(self, lane: str) -> None:
        """One look at the lane: sleep until something is due, or run what is due."""
        self._wake[lane].clear()
        if self._stopping.is_set():  # stop() may have come just before the clear
            return
        pause = self._paused_until[lane] - time.time()
        if pause > 0:
            await self._sleep(lane, pause)
            return
        jobs = await self.ledger.due(lane)
        if not jobs:
            next_at = await self.ledger.next_due_at(lane)
            await self._sleep(lane, 3600 if next_at is None else next_at - time.time())
            return
        for job in jobs:
            if self._stopping.is_set() or self._paused_until[lane] > time.time():
                return
            await self._run(lane, job)

    async def _sleep(self, lane: str, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake[lane].wait(), timeout=seconds)

    async def _run(self, lane: str, job: OutboxJob) -> None:
        try:
            await self._attempt(lane, job)
        finally:
            async with self._progress:
                self._progress.notify_all()

    async def _attempt(self, lane: str, job: OutboxJob) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            log.error("outbox job %s: no handler for %s", job.id, job.kind)
            await self.ledger.post_failed(job, f"unknown job {job.kind}")
            return
        try:
            await handler(job)
        except TelegramRetryAfter as error:
            # Flood control: the whole lane waits, then this job goes first again.
            self._paused_until[lane] = time.time() + error.retry_after
            log.warning("outbox %s: flood control, pausing %s s", lane, error.retry_after)
            await self.ledger.retry(job, error.retry_after, "retry after")
        except Postpone:
            await self.ledger.retry(job, self.retry_base, "waiting for the post")
        except TelegramBadRequest as error:
            if is_mendable(error):
                await self._retry(job, "bad request: the bot's rights or the chat")
            else:
                log.warning("outbox job %s (%s): Telegram refused it for good", job.id, job.kind)
                await self.ledger.post_failed(job, error.message[:300])
        except TelegramForbiddenError:
            await self._retry(job, "forbidden")  # the bot was removed from the group
        except Exception as error:  # noqa: BLE001 - network, 5xx, the database: retry later
            await self._retry(job, type(error).__name__)

    async def _retry(self, job: OutboxJob, reason: str) -> None:
        delay = self.backoff(job.attempts)
        log.warning(
            "outbox job %s (%s) failed: %s; retry in %.1f s", job.id, job.kind, reason, delay
        )
        await self.ledger.retry(job, delay, reason)
