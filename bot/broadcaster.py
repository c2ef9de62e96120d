"""Sending a broadcast: every pending delivery, once, within Telegram's limits.

The global pace is `rate` messages a second (slots spaced 1/rate apart, so no second
ever holds more); one chat gets at most one message a second (the parts of a long
issue are spaced by PART_GAP). TelegramRetryAfter pauses ALL sending for retry_after;
403 (blocked, deactivated) marks the subscriber blocked and unsubscribes them; network
errors and 5xx retry with backoff up to MAX_ATTEMPTS, then the delivery is failed.
A delivery is marked sent right after Telegram confirms it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup

from bot.content import Library
from bot.http import retry_on_flood
from bot.i18n import L10n, Localizations
from bot.outbox.pacing import Pace, PaceSkipped, group_pace
from bot.records import DeliveryRecord
from bot.screens import digest_message
from bot.services.broadcasts import BroadcastService

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
PART_GAP = 1.1  # seconds between two parts to the same chat (Telegram: ~1 message/s/chat)
GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")


@dataclass
class Progress:
    issue: str
    total: int
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    started: float = field(default_factory=time.monotonic)
    sent_at_start: int = 0
    finished: bool = False

    @property
    def left(self) -> int:
        return max(self.total - self.sent - self.failed - self.blocked, 0)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return (self.sent - self.sent_at_start) / elapsed if elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        return self.left / self.rate if self.rate > 0 else None


ProgressCallback = Callable[[Progress], Awaitable[None]]


class Pacer:
    """Slots `1/rate` seconds apart; a pause (429) moves every later slot."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_slot = time.monotonic()

    def pause(self, seconds: float) -> None:
        self.next_slot = max(self.next_slot, time.monotonic() + seconds)

    async def acquire(self) -> None:
        now = time.monotonic()
        slot = max(now, self.next_slot)
        self.next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


def _discard(in_flight: dict[int, asyncio.Task[None]], user_id: int, _: object) -> None:
    in_flight.pop(user_id, None)


class Broadcaster:
    def __init__(
        self,
        bot: Bot,
        service: BroadcastService,
        library: Library,
        localizations: Localizations,
        *,
        rate: float,
        concurrency: int = 16,
        retry_base: float = 1.0,
        progress_every: float = 5.0,
    ) -> None:
        self.bot = bot
        self.service = service
        self.library = library
        self.localizations = localizations
        self.rate = rate
        self.concurrency = concurrency
        self.retry_base = retry_base
        self.progress_every = progress_every
        self.pacer = Pacer(rate)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._rendered: dict[tuple[str, str], tuple[list[str], InlineKeyboardMarkup]] = {}

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """A broadcast was just created: start it now rather than at the next look."""
        self._wake.set()

    async def run_forever(
        self, on_progress: ProgressCallback | None = None, idle: float = 5.0
    ) -> None:
        """Take unfinished broadcasts one by one (also those left by a dead process)."""
        while not self._stopping.is_set():
            try:
                issue = await self.service.claim()
            except Exception as error:  # noqa: BLE001 - the database was busy: look again
                log.error("broadcasts: cannot look for work: %s", type(error).__name__)
                issue = None
            if issue is None:
                self._wake.clear()
                if self._stopping.is_set():  # stop() may have come just before the clear
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=idle)
                continue
            try:
                await self.run(issue, on_progress)
            except Exception as error:  # noqa: BLE001 - released; taken again at the next look
                log.error("broadcast %s stopped: %s", issue, type(error).__name__)

    async def run(self, issue: str, on_progress: ProgressCallback | None = None) -> Progress:
        """Send one broadcast until nothing is pending (or stop()); the lease must be held."""
        token = retry_on_flood.set(False)  # a 429 pauses all sending here
        try:
            return await self._run(issue, on_progress)
        finally:
            retry_on_flood.reset(token)

    async def _run(self, issue: str, on_progress: ProgressCallback | None) -> Progress:
        record = await self.service.get(issue)
        counts = await self.service.counts(issue)
        progress = Progress(
            issue=issue,
            total=record.total if record else sum(counts.values()),
            sent=counts.get("sent", 0),
            failed=counts.get("failed", 0),
            blocked=counts.get("blocked", 0),
        )
        progress.sent_at_start = progress.sent
        in_flight: dict[int, asyncio.Task[None]] = {}
        last_report = last_renew = time.monotonic()
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                if now - last_renew > self.service.lease / 3:
                    if not await self.service.renew(issue):
                        log.warning("broadcast %s: lease lost, stopping here", issue)
                        break
                    last_renew = now
                if on_progress is not None and now - last_report >= self.progress_every:
                    await on_progress(progress)
                    last_report = now
                due = [
                    d
                    for d in await self.service.due(issue, self.concurrency * 4)
                    if d.user_id not in in_flight
                ]
                if not due:
                    if in_flight:
                        await asyncio.wait(
                            in_flight.values(), return_when=asyncio.FIRST_COMPLETED, timeout=1.0
                        )
                        continue
                    next_at = await self.service.next_due_at(issue)
                    if next_at is None:
                        break
                    await self._sleep(min(max(next_at - time.time(), 0.01), 1.0))
                    continue
                for delivery in due:
                    while len(in_flight) >= self.concurrency:
                        await asyncio.wait(in_flight.values(), return_when=asyncio.FIRST_COMPLETED)
                    if self._stopping.is_set():
                        break
                    await self.pacer.acquire()
                    task = asyncio.create_task(self._deliver(issue, delivery, progress))
                    in_flight[delivery.user_id] = task
                    task.add_done_callback(functools.partial(_discard, in_flight, delivery.user_id))
            if in_flight:
                await asyncio.gather(*in_flight.values(), return_exceptions=True)
            if not self._stopping.is_set() and await self.service.next_due_at(issue) is None:
                await self.service.finish(issue)
                progress.finished = True
        finally:
            if not progress.finished:
                await self.service.release(issue)
        if on_progress is not None:
            await on_progress(progress)
        return progress

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def _render(self, issue_id: str, locale: str) -> tuple[list[str], InlineKeyboardMarkup] | None:
        key = (issue_id, locale)
        if key not in self._rendered:
            issue = self.library.issue(issue_id)
            if issue is None:
                return None
            self._rendered[key] = digest_message(self.localizations.get(locale), issue)
        return self._rendered[key]

    async def _deliver(self, issue: str, delivery: DeliveryRecord, progress: Progress) -> None:
        rendered = self._render(issue, delivery.locale)
        if rendered is None:
            await self.service.retry(
                issue, delivery.user_id, 60, "issue not loaded", count_attempt=False
            )
            return
        parts, markup = rendered
        index = delivery.parts_sent
        last = index >= len(parts) - 1
        try:
            await self.bot.send_message(
                delivery.user_id,
                parts[min(index, len(parts) - 1)],
                reply_markup=markup if last else None,
            )
        except TelegramRetryAfter as error:
            # Everyone waits: Telegram counts the bot, not the chat.
            self.pacer.pause(error.retry_after)
            await self.service.retry(
                issue, delivery.user_id, error.retry_after, "retry after", count_attempt=False
            )
            return
        except TelegramForbiddenError as error:
            await self.service.blocked(issue, delivery.user_id, error.message[:200])
            progress.blocked += 1
            return
        except TelegramBadRequest as error:
            if any(marker in error.message for marker in GONE):
                await self.service.blocked(issue, delivery.user_id, error.message[:200])
                progress.blocked += 1
            else:
                await self._failed_attempt(issue, delivery, error.message[:200], progress)
            return
        except Exception as error:  # noqa: BLE001 - network, 5xx: retry with backoff
            await self._failed_attempt(issue, delivery, type(error).__name__, progress)
            return
        if last:
            await self.service.sent(issue, delivery.user_id)
            progress.sent += 1
        else:
            await self.service.part_sent(issue, delivery.user_id, index + 1, PART_GAP)

    async def _failed_attempt(
        self, issue: str, delivery: DeliveryRecord, error: str, progress: Progress
    ) -> None:
        if delivery.attempts + 1 >= MAX_ATTEMPTS:
            await self.service.failed(issue, delivery.user_id, error)
            progress.failed += 1
            return
        delay = self.retry_base * 2.0**delivery.attempts
        await self.service.retry(issue, delivery.user_id, delay, error)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class GroupProgressReporter:
    """One status message per broadcast in the moderators' group, edited as it goes."""

    def __init__(self, bot: Bot, service: BroadcastService, chat_id: int, l10n: L10n) -> None:
        self.bot = bot
        self.service = service
        self.chat_id = chat_id
        self.l10n = l10n
        self._last: dict[str, str] = {}

    def text(self, progress: Progress) -> str:
        return self.l10n.text(
            "broadcast-done" if progress.finished else "broadcast-status",
            issue=progress.issue,
            sent=progress.sent,
            failed=progress.failed,
            blocked=progress.blocked,
            left=progress.left,
            total=progress.total,
            rate=f"{progress.rate:.1f}",
            eta=format_eta(progress.eta_seconds),
        )

    async def __call__(self, progress: Progress) -> None:
        # A courtesy: it takes a slot of the group's budget only if one is free now
        # (the final report waits for one).
        token = group_pace.set(Pace.INTERACTIVE if progress.finished else Pace.OPTIONAL)
        try:
            await self._report(progress)
        except PaceSkipped:
            pass
        finally:
            group_pace.reset(token)

    async def _report(self, progress: Progress) -> None:
        text = self.text(progress)
        if self._last.get(progress.issue) == text:
            return  # nothing moved: Telegram would refuse the edit as "not modified"
        try:
            record = await self.service.get(progress.issue)
            if record is not None and record.status_message_id is not None:
                await self.bot.edit_message_text(
                    text=text,
                    chat_id=record.status_chat_id or self.chat_id,
                    message_id=record.status_message_id,
                )
            else:
                sent = await self.bot.send_message(self.chat_id, text)
                await self.service.set_status_message(progress.issue, self.chat_id, sent.message_id)
            self._last[progress.issue] = text
        except TelegramAPIError as error:
            # Progress is a courtesy: never let it stop the broadcast.
            log.info("broadcast progress not shown: %s", type(error).__name__)
