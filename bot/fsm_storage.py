"""aiogram FSM storage in the bot's SQLite database.

A dialog survives a restart because its state is a row. Reads are served from a small
write-through cache (this process is the only writer), so a menu click costs no query
once the user is warm, and a write happens only when the state or data really changes.

While an update is handled (`batch`), writes are held and made once at its end: a
handler that sets the state, then the data, then the data again costs one statement,
and the update is recorded as handled only after that statement succeeded.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from bot.records import FsmRecord
from bot.services.dialogs import DialogStates

_EMPTY = FsmRecord(state=None, data={})


class _Held(dict[str, tuple[StorageKey, FsmRecord]]):
    """The writes held for the update being handled: built key -> (storage key, record).
    Closed once written: a task or timer started by the handler inherits this context
    and must write for itself afterwards, not into a batch nobody will write."""

    open = True


_held: ContextVar[_Held | None] = ContextVar("fsm_held", default=None)


def _open_batch() -> _Held | None:
    held = _held.get()
    return held if held is not None and held.open else None


class SQLiteStorage(BaseStorage):
    def __init__(self, repo: DialogStates, *, cache_size: int = 50_000) -> None:
        self.repo = repo
        self.key_builder = DefaultKeyBuilder(with_destiny=True)
        self._cache: OrderedDict[str, FsmRecord] = OrderedDict()
        self._cache_size = cache_size

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
        if await self._load(built) == record:
            return
        held = _open_batch()
        if held is not None:
            held[built] = (key, record)
        else:
            await self.repo.put(built, key.user_id, key.chat_id, record.state, record.data)
        self._remember(built, record)

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
            built, (key, record) = next(iter(held.items()))
            try:
                await self.repo.put(built, key.user_id, key.chat_id, record.state, record.data)
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

    def forget_keys(self, keys: Iterable[str]) -> None:
        """States deleted in the database (/forget, expiry) must not live on in the cache."""
        held = _open_batch()
        for built in keys:
            self._cache.pop(built, None)
            if held is not None:
                held.pop(built, None)

    async def close(self) -> None:
        self._cache.clear()
