"""Long polling that confirms an update only after its work is done.

aiogram's own polling confirms an update as soon as it has started a task for it, so an
update in flight when the process dies is gone — and with it, maybe, a question. Here a
batch from getUpdates is handled first (users in parallel, each user's updates in order)
and its ids recorded; only the next getUpdates call confirms it. After a crash Telegram
redelivers the batch and the recorded ids are skipped, so nothing runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.services.updates import UpdateLog

log = logging.getLogger(__name__)

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.6, jitter=0.1)


def _sender_of(update: Update) -> int:
    """The user (or chat) an update belongs to, to keep that user's updates in order."""
    try:
        event: Any = update.event
    except Exception:  # noqa: BLE001 - an update type aiogram does not know
        return -update.update_id
    user = getattr(event, "from_user", None)
    if user is not None:
        return int(user.id)
    chat = getattr(event, "chat", None)
    return int(chat.id) if chat is not None else -update.update_id


class Poller:
    def __init__(
        self,
        bot: Bot,
        dp: Dispatcher,
        update_log: UpdateLog,
        *,
        timeout: int = 30,
        allowed_updates: list[str] | None = None,
        backoff: BackoffConfig = BACKOFF,
        **handler_kwargs: Any,
    ) -> None:
        self.bot = bot
        self.dp = dp
        self.update_log = update_log
        self.timeout = timeout
        self.allowed_updates = allowed_updates
        self.backoff_config = backoff
        self.handler_kwargs = handler_kwargs
        self.stopping = asyncio.Event()
        self.handled = 0

    def stop(self) -> None:
        """Stop taking updates; the batch in hand is finished first."""
        self.stopping.set()

    async def _fetch(self, offset: int | None) -> list[Update] | None:
        """One getUpdates call; None if asked to stop while waiting."""
        request = GetUpdates(
            offset=offset, timeout=self.timeout, allowed_updates=self.allowed_updates
        )
        timeout = int((self.bot.session.timeout or 60) + self.timeout)
        fetch = asyncio.ensure_future(self.bot(request, request_timeout=timeout))
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not fetch.done():
            fetch.cancel()
            await asyncio.gather(fetch, return_exceptions=True)
            return None
        return fetch.result()

    async def _handle_one(self, update: Update) -> None:
        try:
            await self.dp.feed_update(self.bot, update, **self.handler_kwargs)
        except Exception as error:  # noqa: BLE001 - one bad update must not stop the rest
            log.error("update %s failed: %s", update.update_id, type(error).__name__)

    async def _handle_in_order(self, updates: list[Update]) -> None:
        for update in updates:
            await self._handle_one(update)

    async def handle_batch(self, updates: list[Update]) -> None:
        fresh = set(await self.update_log.unseen([u.update_id for u in updates]))
        by_sender: dict[int, list[Update]] = defaultdict(list)
        for update in updates:
            if update.update_id in fresh:
                by_sender[_sender_of(update)].append(update)
        await asyncio.gather(*(self._handle_in_order(batch) for batch in by_sender.values()))
        await self.update_log.mark_handled(sorted(fresh))
        self.handled += len(fresh)

    async def run(self) -> None:
        backoff = Backoff(config=self.backoff_config)
        offset: int | None = None
        while not self.stopping.is_set():
            try:
                updates = await self._fetch(offset)
            except TelegramRetryAfter as error:
                log.warning("getUpdates: flood control, waiting %s s", error.retry_after)
                await self._pause(error.retry_after)
                continue
            except Exception as error:  # noqa: BLE001 - the network or Telegram failed
                delay = backoff.next_delay
                log.warning(
                    "getUpdates failed (%s); retrying in %.1f s", type(error).__name__, delay
                )
                await self._pause(backoff.next_delay)
                backoff.__next__()
                continue
            backoff.reset()
            if updates is None:
                break
            if updates:
                try:
                    await self.handle_batch(updates)
                except Exception as error:  # noqa: BLE001 - e.g. the database was busy
                    # Not confirmed: the same batch comes again, and what was handled
                    # before the failure is recognised by its recorded id.
                    delay = next(backoff)
                    log.error("a batch failed (%s); retry in %.1f s", type(error).__name__, delay)
                    await self._pause(delay)
                    continue
                offset = updates[-1].update_id + 1
        if offset is not None:
            await self._confirm(offset)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def _confirm(self, offset: int) -> None:
        """Tell Telegram the last batch is done, so it is not redelivered at next start."""
        try:
            await self.bot(GetUpdates(offset=offset, timeout=0, limit=1))
        except Exception as error:  # noqa: BLE001 - the ids are recorded; a redelivery is skipped
            log.info("could not confirm the last updates: %s", type(error).__name__)
