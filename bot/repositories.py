"""Every SQL statement of the bot lives here, behind narrow repository classes.

Repositories never commit: the caller (a service) decides the transaction. Each returns
typed records, not rows, so a PostgreSQL implementation is one new module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.db import Database


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    locale: str
    created_at: int


@dataclass(frozen=True, slots=True)
class FsmRecord:
    state: str | None
    data: dict[str, Any]


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> UserRecord | None:
        row = await self.db.fetch_one(
            "SELECT id, locale, created_at FROM users WHERE id = ?", (user_id,)
        )
        return None if row is None else UserRecord(row[0], row[1], row[2])

    async def insert_if_missing(self, user_id: int, locale: str, now: int) -> UserRecord:
        """Insert a user at first contact; an existing row wins (one statement)."""
        rows = await self.db.fetch_all(
            "INSERT INTO users (id, locale, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET id = id "
            "RETURNING id, locale, created_at",
            (user_id, locale, now),
        )
        row = next(iter(rows))
        return UserRecord(row[0], row[1], row[2])

    async def set_locale(self, user_id: int, locale: str) -> None:
        await self.db.write("UPDATE users SET locale = ? WHERE id = ?", (locale, user_id))

    async def count(self) -> int:
        row = await self.db.fetch_one("SELECT count(*) FROM users")
        return 0 if row is None else int(row[0])


class FsmRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> FsmRecord | None:
        row = await self.db.fetch_one("SELECT state, data FROM fsm_state WHERE key = ?", (key,))
        return None if row is None else FsmRecord(row[0], json.loads(row[1]))

    async def put(
        self, key: str, user_id: int, chat_id: int, state: str | None, data: dict[str, Any]
    ) -> None:
        if state is None and not data:
            await self.db.write("DELETE FROM fsm_state WHERE key = ?", (key,))
            return
        await self.db.write(
            "INSERT INTO fsm_state (key, user_id, chat_id, state, data) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, data = excluded.data",
            (key, user_id, chat_id, state, json.dumps(data, ensure_ascii=False)),
        )

    async def delete_user(self, user_id: int) -> list[str]:
        rows = await self.db.fetch_all(
            "DELETE FROM fsm_state WHERE user_id = ? RETURNING key", (user_id,)
        )
        return [row[0] for row in rows]


class UpdateLogRepository:
    """update_ids already handled, so a redelivered update is not handled twice."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def seen(self, update_ids: list[int]) -> set[int]:
        if not update_ids:
            return set()
        marks = ",".join("?" * len(update_ids))
        rows = await self.db.fetch_all(
            f"SELECT update_id FROM processed_updates WHERE update_id IN ({marks})",  # noqa: S608
            update_ids,
        )
        return {row[0] for row in rows}

    async def mark(self, update_ids: list[int], now: int) -> None:
        if not update_ids:
            return
        await self.db.conn.executemany(
            "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
            [(update_id, now) for update_id in update_ids],
        )

    async def prune(self, older_than: int) -> int:
        return await self.db.write(
            "DELETE FROM processed_updates WHERE processed_at < ?", (older_than,)
        )
