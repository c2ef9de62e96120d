"""Long polling that confirms a batch only once it is recorded in the inbox.

aiogram's own polling confirms an update as soon as it has started a task for it, so an
update in flight when the process dies is gone — and with it, maybe, a question. Here a
batch from getUpdates is first written to the inbox (bot/intake.py); only the next
getUpdates call confirms it, and the next batch is fetched at once, while the handlers
work: a slow handler never delays the next fetch, and one user's updates never wait for
another's. If the inbox cannot be written (a full disk), the batch is not confirmed and
is fetched again after a growing pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.faults import why
from bot.intake import Intake

log = logging.getLogger(__name__)

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=60.0, factor=1.6, jitter=0.1)


class Poller:
    def __init__(
        self,
        bot: Bot,
        intake: Intake,
        *,
        timeout: int = 30,
        allowed_updates: list[str] | None = None,
        backoff: BackoffConfig = BACKOFF,
    ) -> None:
        self.bot = bot
        self.intake = intake
        self.timeout = timeout
        self.allowed_updates = allowed_updates
        self.backoff_config = backoff
        self.stopping = asyncio.Event()

    @property
    def handled(self) -> int:
        return self.intake.handled

    def stop(self) -> None:
        """Stop taking updates; the ones in hand are finished first."""
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

    async def run(self) -> None:
        await self.intake.resume()
        fetch_backoff = Backoff(config=self.backoff_config)
        store_backoff = Backoff(config=self.backoff_config)
        offset: int | None = None
        while not self.stopping.is_set():
            try:
                updates = await self._fetch(offset)
            except TelegramRetryAfter as error:
                log.warning("getUpdates: flood control, waiting %s s", error.retry_after)
                await self._pause(error.retry_after)
                continue
            except Exception as error:  # noqa: BLE001 - the network or Telegram failed
                delay = next(fetch_backoff)
                log.warning("getUpdates failed (%s); retrying in %.1f s", why(error), delay)
                await self._pause(delay)
                continue
            fetch_backoff.reset()
            if updates is None:
                break
            if not updates:
                continue
            try:
                await self.intake.accept(updates)
            except Exception as error:  # noqa: BLE001 - the database is busy or full
                # Not confirmed: the same batch comes again; what was recorded before the
                # failure is recognised by its id.
                delay = next(store_backoff)
                log.error("updates not recorded (%s); retry in %.1f s", why(error), delay)
                await self.intake.tell_unavailable(updates, store_backoff.counter)
                await self._pause(delay)
                continue
            store_backoff.reset()
            offset = updates[-1].update_id + 1
        await self.intake.stop()
        if offset is not None:
            await self._confirm(offset)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def _confirm(self, offset: int) -> None:
        """Tell Telegram the last batch is recorded, so it is not redelivered."""
        try:
            await self.bot(GetUpdates(offset=offset, timeout=0, limit=1))
        except Exception as error:  # noqa: BLE001 - it is recorded; a redelivery is skipped
            log.info("could not confirm the last updates: %s", why(error))
