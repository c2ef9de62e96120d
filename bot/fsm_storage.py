"""aiogram FSM storage in the bot's SQLite database.

A dialog survives a restart because its state is a row. Reads are served from a small
write-through cache (this process is the only writer), so a menu click costs no query
once the user is warm, and a write happens only when the state or data really changes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey

from bot.records import FsmRecord
from bot.services.dialogs import DialogStates

_EMPTY = FsmRecord(state=None, data={})


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
        await self.repo.put(built, key.user_id, key.chat_id, record.state, record.data)
        self._remember(built, record)

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
        for built in keys:
            self._cache.pop(built, None)

    async def close(self) -> None:
        self._cache.clear()
