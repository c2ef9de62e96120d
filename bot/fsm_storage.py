"""aiogram FSM storage in the bot's SQLite database.

A dialog survives a restart because its state is a row. Reads are served from a small
write-through cache (this process is the only writer), so a menu click costs no query
once the user is warm, and a write happens only when the state or data really changes.

While an update is handled (`batch`), writes are held and made once at its end: a
handler that sets the state, then the data, then the data again costs one statement,
and the update is recorded as handled only after that statement succeeded.

A write that only moves the user's position in the menus (`deferrable` says which) is
not worth a statement per click: it is deferred and written with the others in one
transaction by `flush` (every second, and when many are waiting). A crash loses at most
that second of menu positions; a draft, or anything else a user wrote, is never deferred.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from contextvars import Context, ContextVar
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from bot.records import FsmRecord
from bot.services.dialogs import DialogStates

log = logging.getLogger(__name__)

_EMPTY = FsmRecord(state=None, data={})
# (what the database or the deferred writes hold, what the handler left): may it wait?
Deferrable = Callable[[FsmRecord, FsmRecord], bool]
# Deferred writes waiting before one is flushed without waiting for the timer.
DEFER_LIMIT = 512


def _never(before: FsmRecord, after: FsmRecord) -> bool:
    return False


class _Held(dict[str, tuple[StorageKey, FsmRecord, FsmRecord]]):
    """The writes held for the update being handled: built key -> (storage key, record,
    the record before the update). Closed once written: a task or timer started by the
    handler inherits this context and must write for itself afterwards, not into a
    batch nobody will write."""

    open = True


_held: ContextVar[_Held | None] = ContextVar("fsm_held", default=None)


def _open_batch() -> _Held | None:
    held = _held.get()
    return held if held is not None and held.open else None


class SQLiteStorage(BaseStorage):
    def __init__(
        self,
        repo: DialogStates,
        *,
        cache_size: int = 50_000,
        deferrable: Deferrable = _never,
        defer_limit: int = DEFER_LIMIT,
    ) -> None:
        self.repo = repo
        self.key_builder = DefaultKeyBuilder(with_destiny=True)
        self._cache: OrderedDict[str, FsmRecord] = OrderedDict()
        self._cache_size = cache_size
        self._deferrable = deferrable
        self._defer_limit = defer_limit
        self._deferred: dict[str, tuple[StorageKey, FsmRecord]] = {}
        self._flushing: asyncio.Task[None] | None = None

    async def _load(self, key: str) -> FsmRecord:
        record = self._cache.get(key)
        if record is not None:
            self._cache.move_to_end(key)
            return record
        record = await self.repo.get(key) or _EMPTY
        self._remember(key, record)
        return record

    def _remember(self, key: str, record: FsmRecord) -> None:
        self._cache[key] = record
        self._cache.move_to_end(key)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _store(self, key: StorageKey, built: str, record: FsmRecord) -> None:
        """Write only when the state or the data really changed."""
        before = await self._load(built)
        if before == record:
            return
        held = _open_batch()
        if held is not None:
            # The first write of the update keeps what was there before it.
            held[built] = (key, record, held[built][2] if built in held else before)
        else:
            await self._write(built, key, record, before)
        self._remember(built, record)

    async def _write(
        self, built: str, key: StorageKey, record: FsmRecord, before: FsmRecord
    ) -> None:
        if self._deferrable(before, record):
            self._defer(built, key, record)
            return
        # This write supersedes a deferred one of the same key, which must not land later.
        self._deferred.pop(built, None)
        await self.repo.put(built, key.user_id, key.chat_id, record.state, record.data)

    def _defer(self, built: str, key: StorageKey, record: FsmRecord) -> None:
        self._deferred[built] = (key, record)
        if len(self._deferred) >= self._defer_limit and self._flushing is None:
            # A context of its own: not inside the caller's transaction or held batch.
            self._flushing = asyncio.create_task(self._flush_in_background(), context=Context())

    async def _flush_in_background(self) -> None:
        try:
            await self.flush()
        except Exception as error:  # noqa: BLE001 - kept for the next flush
            log.warning("menu positions not written yet: %s", error)
        finally:
            self._flushing = None

    @property
    def deferred(self) -> int:
        """How many menu positions wait for the next flush."""
        return len(self._deferred)

    async def flush(self) -> None:
        """Write the deferred menu positions in one transaction. They are taken inside it,
        so /forget (which deletes in a transaction too) cannot be overtaken by a write
        of a position taken before it; if the write fails they wait for the next flush.
        When it returns, what was deferred before the call is written."""
        running = self._flushing
        if running is not None and running is not asyncio.current_task():
            await asyncio.gather(running, return_exceptions=True)
        if not self._deferred:
            return
        taken: dict[str, tuple[StorageKey, FsmRecord]] = {}

        def take() -> list[tuple[str, int, int, str | None, dict[str, Any]]]:
            taken.update(self._deferred)
            self._deferred.clear()
            return [(built, key.user_id, key.chat_id, record.state, record.data)
                    for built, (key, record) in taken.items()]  # fmt: skip

        try:
            await self.repo.put_taken(take)
        except BaseException:
            for built, (key, record) in taken.items():
                # Still what the user sees (nothing newer was written or deferred).
                if built not in self._deferred and self._cache.get(built) is record:
                    self._deferred[built] = (key, record)
            raise

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Hold the writes of one update and make them when it ends, failed or not."""
        if _open_batch() is not None:  # nested: the outer batch writes
            yield
            return
        held = _Held()
        token = _held.set(held)
        try:
            yield
        finally:
            _held.reset(token)
            held.open = False
            await self._write_held(held)

    async def _write_held(self, held: _Held) -> None:
        while held:
            built, (key, record, before) = next(iter(held.items()))
            try:
                await self._write(built, key, record, before)
            except BaseException:
                # Not written: the cache must not claim it was (the update is retried).
                for unwritten in held:
                    self._cache.pop(unwritten, None)
                raise
            del held[built]

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        built = self.key_builder.build(key)
        current = await self._load(built)
        value = state.state if isinstance(state, State) else state
        await self._store(key, built, FsmRecord(value, current.data))

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._load(self.key_builder.build(key))).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        built = self.key_builder.build(key)
        current = await self._load(built)
        await self._store(key, built, FsmRecord(current.state, dict(data)))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self._load(self.key_builder.build(key))).data)

    def forget(self, keys: Iterable[str], user_id: int | None = None) -> None:
        """States deleted in the database (/forget, expiry) must not live on in the cache,
        nor be written again by a held or deferred write; with `user_id` (/forget), every
        held or deferred write of that user is dropped too, even of a key the database
        never had. Called inside the deleting transaction, before `flush` can take them."""
        held = _open_batch()
        doomed = set(keys)
        if user_id is not None:
            keys_of = [(b, k) for b, (k, _) in self._deferred.items()]
            keys_of += [(b, k) for b, (k, _, _) in (held or {}).items()]
            doomed.update(built for built, key in keys_of if key.user_id == user_id)
        for built in doomed:
            self._cache.pop(built, None)
            self._deferred.pop(built, None)
            if held is not None:
                held.pop(built, None)

    async def close(self) -> None:
        """Writes what is deferred (a clean stop loses no menu position)."""
        await self.flush()
        self._cache.clear()
