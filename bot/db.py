"""The SQLite connection, its transactions and the versioned schema.

One aiosqlite connection serves the whole process. SQLite allows one writer at a time
anyway, and a single connection lets a write lock (an asyncio.Lock) keep one coroutine's
transaction from swallowing another coroutine's statements.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

# Each entry moves the schema from version N to N+1; PRAGMA user_version holds N.
# Never edit a released entry: append a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: users, FSM state, processed updates
    """
    CREATE TABLE users (
        id          INTEGER PRIMARY KEY,          -- Telegram user id (private chat id)
        locale      TEXT    NOT NULL,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE fsm_state (
        key         TEXT    PRIMARY KEY,
        user_id     INTEGER NOT NULL,
        chat_id     INTEGER NOT NULL,
        state       TEXT,
        data        TEXT    NOT NULL DEFAULT '{}'
    );
    CREATE INDEX fsm_state_user ON fsm_state (user_id);
    CREATE TABLE processed_updates (
        update_id     INTEGER PRIMARY KEY,
        processed_at  INTEGER NOT NULL
    );
    CREATE INDEX processed_updates_at ON processed_updates (processed_at);
    """,
    # 2: questions: tickets, their messages, where they sit in both chats, the outbox, bans
    """
    CREATE TABLE tickets (
        id               INTEGER PRIMARY KEY,       -- the short number users and moderators see
        user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        submit_key       TEXT    NOT NULL UNIQUE,   -- one ticket per Send, however often pressed
        topic            TEXT,
        locale           TEXT    NOT NULL,
        state            TEXT    NOT NULL DEFAULT 'new'
                         CHECK (state IN ('new', 'claimed', 'answered', 'closed')),
        claimed_by       INTEGER,
        claimed_by_name  TEXT,
        forum_thread_id  INTEGER,
        card_message_id  INTEGER,
        rating           INTEGER,
        unreachable      INTEGER NOT NULL DEFAULT 0,
        created_at       INTEGER NOT NULL,
        first_answer_at  INTEGER,
        closed_at        INTEGER
    );
    CREATE INDEX tickets_user ON tickets (user_id, state);
    CREATE INDEX tickets_state ON tickets (state, created_at);
    CREATE INDEX tickets_thread ON tickets (forum_thread_id) WHERE forum_thread_id IS NOT NULL;
    CREATE TABLE ticket_messages (
        id          INTEGER PRIMARY KEY,
        ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        direction   TEXT    NOT NULL CHECK (direction IN ('question', 'follow_up', 'answer')),
        kind        TEXT    NOT NULL,       -- text, photo, document, voice, ...
        text        TEXT,                   -- the text or caption, whole
        file_id     TEXT,
        author      TEXT,                   -- moderator's name (never shown to the user)
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);
    CREATE TABLE group_messages (
        chat_id     INTEGER NOT NULL,
        message_id  INTEGER NOT NULL,
        ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        PRIMARY KEY (chat_id, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX group_messages_ticket ON group_messages (ticket_id);
    CREATE TABLE user_messages (
        user_id     INTEGER NOT NULL,
        message_id  INTEGER NOT NULL,
        ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX user_messages_ticket ON user_messages (ticket_id);
    CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY,
        lane             TEXT    NOT NULL CHECK (lane IN ('group', 'user')),
        kind             TEXT    NOT NULL,
        ticket_id        INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
        payload          TEXT    NOT NULL DEFAULT '{}',
        dedup_key        TEXT    UNIQUE,
        step             INTEGER NOT NULL DEFAULT 0,
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  REAL    NOT NULL,
        last_error       TEXT,
        done_at          INTEGER
    );
    CREATE INDEX outbox_due ON outbox (lane, next_attempt_at) WHERE done_at IS NULL;
    CREATE TABLE bans (
        user_id    INTEGER PRIMARY KEY,
        banned_at  INTEGER NOT NULL,
        notified   INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 3: subscriptions, published issues, broadcasts and one delivery row per subscriber
    """
    CREATE TABLE subscriptions (
        user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
        subscribed_at  INTEGER NOT NULL
    );
    CREATE TABLE published_issues (
        issue         TEXT    PRIMARY KEY,
        body          TEXT    NOT NULL,       -- the validated issue as JSON, for every process
        published_at  REAL    NOT NULL
    );
    CREATE TABLE broadcasts (
        issue              TEXT    PRIMARY KEY REFERENCES published_issues (issue),
        created_at         INTEGER NOT NULL,
        finished_at        INTEGER,
        total              INTEGER NOT NULL,
        lease_owner        TEXT,
        lease_until        REAL    NOT NULL DEFAULT 0,
        status_chat_id     INTEGER,
        status_message_id  INTEGER
    );
    CREATE TABLE deliveries (
        user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        issue            TEXT    NOT NULL REFERENCES broadcasts (issue),
        state            TEXT    NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'sent', 'failed', 'blocked')),
        attempts         INTEGER NOT NULL DEFAULT 0,
        parts_sent       INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  REAL    NOT NULL DEFAULT 0,
        last_error       TEXT,
        sent_at          INTEGER,
        PRIMARY KEY (user_id, issue)          -- a second delivery of an issue is impossible
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_todo ON deliveries (issue, next_attempt_at) WHERE state = 'pending';
    CREATE INDEX deliveries_state ON deliveries (issue, state);
    """,
    # 4: retention: when a ticket's content was purged
    """
    ALTER TABLE tickets ADD COLUMN purged_at INTEGER;
    CREATE INDEX tickets_retention ON tickets (state, purged_at);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

_transaction_owner: contextvars.ContextVar[Database | None] = contextvars.ContextVar(
    "transaction_owner", default=None
)


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not connected")
        return self._conn

    async def connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Create the file private to this user before SQLite opens it; SQLite gives
        # the -wal and -shm files the same mode.
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        os.chmod(self.path, 0o600)
        # isolation_level=None: statements autocommit unless we open a transaction.
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=5000")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def schema_version(self) -> int:
        rows = await self.conn.execute_fetchall("PRAGMA user_version")
        return int(next(iter(rows))[0])

    async def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction; return the version."""
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema {version} is newer than this code ({SCHEMA_VERSION})"
            )
        for number in range(version, SCHEMA_VERSION):
            async with self.transaction() as conn:
                for statement in _split_script(MIGRATIONS[number]):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {number + 1}")
            log.info("database migrated to schema %d", number + 1)
        return SCHEMA_VERSION

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; nested use inside the same task joins the outer one."""
        if _transaction_owner.get() is self:
            yield self.conn
            return
        async with self._write_lock:
            token = _transaction_owner.set(self)
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")
            finally:
                _transaction_owner.reset(token)

    async def write(self, sql: str, params: Sequence[Any] = ()) -> int:
        """A single statement as its own transaction (one await); returns rows changed."""
        if _transaction_owner.get() is self:
            cursor = await self.conn.execute(sql, params)
            return cursor.rowcount
        async with self._write_lock:
            cursor = await self.conn.execute(sql, params)
            return cursor.rowcount

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> Iterable[aiosqlite.Row]:
        return await self.conn.execute_fetchall(sql, params)

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)


def _split_script(script: str) -> list[str]:
    """Split a migration into statements (ours contain no semicolons inside strings)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
