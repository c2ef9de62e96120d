"""Updates, from long polling or the webhook, on their way to the handlers.

1. A batch is recorded in the inbox (one transaction) BEFORE Telegram is told it
   arrived (by the next getUpdates' offset, or the webhook's 200): an update in flight
   when the process dies is handled after the restart, a redelivered one is skipped.
2. Each sender's updates are handled in order by that sender's own worker; senders run
   side by side, so a slow chat or a wait for flood control holds back nobody else.
3. A private user over USER_UPDATES_PER_MINUTE: the rest is dropped unread, before any
   handler work, and they are told once a minute.
4. A handler that failed for a transient reason (the database busy, locked or full,
   the network) is tried again with a growing delay; only after `give_up_after` is the
   update dropped, and its sender told plainly that it was not taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ReplyParameters, Update

from bot.faults import is_transient, why
from bot.http import CALLBACK_ANSWER_WINDOW, callback_deadline
from bot.i18n import Localizations, locale_for_language_code
from bot.services.inbox import InboxService

log = logging.getLogger(__name__)

FLOOD_WINDOW = 60.0
MARK_RETRY_FOR = 30.0
UNAVAILABLE_AFTER = 3  # failed attempts to record a batch before senders are told


def sender_of(update: Update) -> int:
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


def _private_chat(update: Update) -> bool:
    event: Any = update.message or update.edited_message
    if event is not None:
        return bool(event.chat.type == "private")
    query = update.callback_query
    return query is not None and (query.message is None or query.message.chat.type == "private")


_DROPPED_KEYS = ("last_name", "username", "contact", "location", "venue", "forward_origin")


def _strip_names(value: Any) -> Any:
    """What a handler never needs of a private user's update, removed before it is
    stored even for a moment: names, usernames, contacts, places, forward origins."""
    if isinstance(value, dict):
        cleaned = {k: _strip_names(v) for k, v in value.items() if k not in _DROPPED_KEYS}
        if "first_name" in cleaned:
            cleaned["first_name"] = "-"
        return cleaned
    if isinstance(value, list):
        return [_strip_names(item) for item in value]
    return value


def stored_body(update: Update) -> str:
    data = update.model_dump(mode="json", exclude_none=True)
    if _private_chat(update):
        data = _strip_names(data)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@dataclass
class _Queued:
    update: Update
    received_at: float
    # Taken again after a restart: the process before may have answered its button press
    # already, and Telegram refuses a second answer, so none is made.
    replayed: bool = False


class Intake:
    def __init__(
        self,
        bot: Bot,
        dp: Dispatcher,
        inbox: InboxService,
        localizations: Localizations,
        *,
        moderator_chat_id: int,
        group_locale: str,
        updates_per_minute: int,
        retry_base: float = 0.5,
        retry_max: float = 60.0,
        give_up_after: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot = bot
        self.dp = dp
        self.inbox = inbox
        self.localizations = localizations
        self.chat_id = moderator_chat_id
        self.group_l10n = localizations.get(group_locale)
        self.updates_per_minute = updates_per_minute
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.give_up_after = give_up_after
        self.clock = clock
        self._queues: dict[int, deque[_Queued]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._stopping = asyncio.Event()
        self._flood: dict[int, deque[float]] = {}
        self._flood_told: dict[int, float] = {}
        self._unavailable_told: set[int] = set()
        self._telling: set[asyncio.Future[None]] = set()
        self.handled = 0
        self.dropped = 0
        self.retried = 0  # transient failures tried again (for tests and the health check)

    # ---- taking updates in -------------------------------------------------------------

    async def resume(self) -> int:
        """Updates recorded but not handled before the last stop (or crash), in order."""
        pending = await self.inbox.pending()
        for entry in pending:
            update = Update.model_validate_json(entry.body, context={"bot": self.bot})
            self._enqueue(entry.sender, update, entry.received_at, replayed=True)
        if pending:
            log.info("resuming %d updates taken before the last stop", len(pending))
        return len(pending)

    async def accept(self, updates: Sequence[Update]) -> int:
        """Record a batch durably, then hand its new updates to their senders' workers;
        how many were new. Raises if the inbox cannot be written: then nothing may be
        confirmed to Telegram."""
        # A flood is cut at the door, before any handler work: the rest is dropped unread.
        over = [self._over_limit(sender_of(u), u) for u in updates]
        entries = [
            (u.update_id, sender_of(u), None if drop else stored_body(u))
            for u, drop in zip(updates, over, strict=True)
        ]
        fresh = await self.inbox.record(entries)
        self._unavailable_told.clear()  # the database works (again)
        now = self.clock()
        for update, (update_id, sender, body) in zip(updates, entries, strict=True):
            if update_id not in fresh:
                continue
            if body is None:
                self._dropped(sender, update)
            else:
                self._enqueue(sender, update, now)
        return len(fresh)

    def _enqueue(
        self, sender: int, update: Update, received_at: float, *, replayed: bool = False
    ) -> None:
        self._queues.setdefault(sender, deque()).append(_Queued(update, received_at, replayed))
        self._idle.clear()
        if sender not in self._workers:
            self._workers[sender] = asyncio.create_task(self._work(sender))

    # ---- handling ----------------------------------------------------------------------

    async def _work(self, sender: int) -> None:
        queue = self._queues[sender]
        try:
            while queue and not self._stopping.is_set():
                await self._handle(sender, queue[0])
                queue.popleft()
        finally:
            del self._workers[sender]
            if not queue:
                self._queues.pop(sender, None)
            if not self._workers:
                self._idle.set()

    async def _handle(self, sender: int, item: _Queued) -> None:
        update = item.update
        deadline = 0.0 if item.replayed else item.received_at + CALLBACK_ANSWER_WINDOW
        token = callback_deadline.set(deadline)
        try:
            done = await self._feed(update)
        finally:
            callback_deadline.reset(token)
        if done:
            await self._mark(update.update_id)
            self.handled += 1

    async def _feed(self, update: Update) -> bool:
        """Feed until handled; False only if asked to stop meanwhile (the update stays
        in the inbox for the next start)."""
        started = self.clock()
        attempt = 0
        while True:
            try:
                await self.dp.feed_update(self.bot, update)
                return True
            except Exception as error:  # noqa: BLE001 - only transient errors get here
                if not is_transient(error):
                    # Raised by the error handler itself: trying again would not help.
                    log.error("update %s failed: %s", update.update_id, why(error))
                    return True
                if self.clock() - started >= self.give_up_after:
                    log.error("update %s given up after %d tries: %s", update.update_id,
                              attempt + 1, why(error))  # fmt: skip
                    await self._tell_not_taken(update)
                    return True
                delay = min(self.retry_base * 2.0**attempt, self.retry_max)
                attempt += 1
                self.retried += 1
                log.warning("update %s: %s; trying again in %.1f s", update.update_id,
                            why(error), delay)  # fmt: skip
                with contextlib.suppress(Exception):
                    await self.inbox.attempted(update.update_id)
                if await self._stopped_within(delay):
                    return False

    async def _mark(self, update_id: int) -> None:
        """Mark handled; a database busy for a moment must not make the update run
        again at the next start."""
        started = self.clock()
        delay = self.retry_base
        while True:
            try:
                await self.inbox.handled(update_id)
                return
            except Exception as error:  # noqa: BLE001 - busy or full: try a little longer
                if self.clock() - started > MARK_RETRY_FOR:
                    log.error("update %s handled but not marked: %s", update_id, why(error))
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        return self._stopping.is_set()

    # ---- floods, and telling people ------------------------------------------------------

    def _over_limit(self, sender: int, update: Update) -> bool:
        if sender <= 0 or not _private_chat(update):
            return False  # the moderators are never throttled
        now = self.clock()
        window = self._flood.setdefault(sender, deque())
        while window and now - window[0] >= FLOOD_WINDOW:
            window.popleft()
        if len(window) >= self.updates_per_minute:
            return True
        window.append(now)
        return False

    def _l10n_of(self, update: Update) -> Any:
        event: Any = update.callback_query or update.message or update.edited_message
        user = getattr(event, "from_user", None)
        code = getattr(user, "language_code", None)
        return self.localizations.get(locale_for_language_code(code))

    def _dropped(self, sender: int, update: Update) -> None:
        """Too many updates from one user: not read at all; told once a minute (in the
        background: the poller must not wait for it)."""
        self.dropped += 1
        now = self.clock()
        if now - self._flood_told.get(sender, 0.0) < FLOOD_WINDOW:
            if update.callback_query is not None:
                self._background(update.callback_query.answer())
            return
        self._flood_told[sender] = now
        self._background(self._tell(sender, update, self._l10n_of(update).text("flood-dropped")))

    def _background(self, request: Any) -> None:
        task = asyncio.ensure_future(self._quietly(request))
        self._telling.add(task)
        task.add_done_callback(self._telling.discard)

    async def _tell(self, sender: int, update: Update, text: str) -> None:
        if update.callback_query is not None:
            await self._quietly(update.callback_query.answer(text[:200], show_alert=True))
        else:
            await self._quietly(self.bot.send_message(sender, text))

    async def _tell_not_taken(self, update: Update) -> None:
        message = update.message
        if message is not None and message.chat.id == self.chat_id:
            reply = ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True)
            text = self.group_l10n.text("mod-not-taken")
            await self._quietly(self.bot.send_message(self.chat_id, text, reply_parameters=reply))
        elif _private_chat(update):
            await self._tell(
                sender_of(update), update, self._l10n_of(update).text("error-not-taken")
            )

    async def tell_unavailable(self, updates: Sequence[Update], failures: int) -> None:
        """The inbox cannot be written (a full disk, a long lock): the updates stay
        unconfirmed and come again. Once it has failed a few times running (a lock held
        for a moment is nobody's concern), each sender is told once per outage that we
        will get to it."""
        if failures < UNAVAILABLE_AFTER:
            return
        for update in updates:
            sender = sender_of(update)
            if sender in self._unavailable_told:
                continue
            self._unavailable_told.add(sender)
            if _private_chat(update):
                await self._tell(sender, update, self._l10n_of(update).text("service-unavailable"))
            elif update.message is not None and update.message.chat.id == self.chat_id:
                await self._quietly(
                    self.bot.send_message(self.chat_id, self.group_l10n.text("mod-unavailable"))
                )

    @staticmethod
    async def _quietly(request: Any) -> None:
        try:
            await request
        except TelegramAPIError as error:
            log.info("could not tell a sender: %s", why(error))

    # ---- stopping ----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    async def drain(self, within: float | None = None) -> bool:
        """Wait until every update in hand is handled; False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    async def stop(self, within: float = 30.0) -> None:
        """Finish the updates in hand (those waiting to be retried stay in the inbox for
        the next start), then stop."""
        if not await self.drain(within):
            log.warning("stopping with %d senders' updates unhandled", len(self._workers))
        self._stopping.set()
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
