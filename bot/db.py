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
import sqlite3
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
    # 5: ticket numbers are never reused (AUTOINCREMENT) and a purged ticket keeps no user;
    #    attachments (albums), notes, corrections and deduplication by source message;
    #    stored pseudonyms; the bot's own group messages told from the moderators';
    #    tombstones of retired messages and topics; a durable inbox of updates instead of
    #    the list of handled ids; dialog state that expires; permanent outbox failures;
    #    the desk's own state (reminders) and counters.
    """
    CREATE TABLE tickets_v5 (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id          INTEGER REFERENCES users (id) ON DELETE CASCADE,  -- NULL once purged
        submit_key       TEXT    UNIQUE,
        topic            TEXT,
        locale           TEXT    NOT NULL,
        state            TEXT    NOT NULL DEFAULT 'new'
                         CHECK (state IN ('new', 'claimed', 'answered', 'closed')),
        claimed_by       INTEGER,
        claimed_by_name  TEXT,
        claimed_at       INTEGER,
        forum_thread_id  INTEGER,
        card_message_id  INTEGER,
        card_hash        TEXT,
        rating           INTEGER,
        unreachable      INTEGER NOT NULL DEFAULT 0,
        created_at       INTEGER NOT NULL,
        first_answer_at  INTEGER,
        closed_at        INTEGER,
        closed_by        TEXT,
        reopened         INTEGER NOT NULL DEFAULT 0,
        post_error       TEXT,
        last_user_at     INTEGER NOT NULL DEFAULT 0,
        purged_at        INTEGER
    );
    INSERT INTO tickets_v5 (id, user_id, submit_key, topic, locale, state, claimed_by,
        claimed_by_name, claimed_at, forum_thread_id, card_message_id, rating, unreachable,
        created_at, first_answer_at, closed_at, last_user_at, purged_at)
    SELECT id, user_id, submit_key, topic, locale, state, claimed_by, claimed_by_name,
        CASE WHEN claimed_by IS NOT NULL THEN created_at END, forum_thread_id, card_message_id,
        rating, unreachable, created_at, first_answer_at, closed_at, created_at, purged_at
    FROM tickets;
    DROP TABLE tickets;
    ALTER TABLE tickets_v5 RENAME TO tickets;
    CREATE INDEX tickets_user ON tickets (user_id, state);
    CREATE INDEX tickets_user_created ON tickets (user_id, created_at);
    CREATE INDEX tickets_state ON tickets (state, created_at);
    CREATE INDEX tickets_thread ON tickets (forum_thread_id) WHERE forum_thread_id IS NOT NULL;
    CREATE INDEX tickets_retention ON tickets (state, purged_at);

    CREATE TABLE ticket_messages_v5 (
        id                 INTEGER PRIMARY KEY,
        ticket_id          INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
        direction          TEXT    NOT NULL
                           CHECK (direction IN ('question', 'follow_up', 'answer', 'note')),
        kind               TEXT    NOT NULL,
        text               TEXT,
        author             TEXT,
        created_at         INTEGER NOT NULL,
        source_chat_id     INTEGER,   -- the chat it was written in (user's or moderators')
        source_message_id  INTEGER,
        copy_message_id    INTEGER,   -- an answer's copy in the user's chat (corrections)
        album              TEXT,      -- the media_group_id a follow-up's files came in
        album_open         INTEGER NOT NULL DEFAULT 0,  -- its later items still join it
        UNIQUE (source_chat_id, source_message_id)
    );
    INSERT INTO ticket_messages_v5 (id, ticket_id, direction, kind, text, author, created_at)
    SELECT id, ticket_id, direction, kind, text, author, created_at FROM ticket_messages;
    CREATE TABLE attachments (
        id          INTEGER PRIMARY KEY,
        message_id  INTEGER NOT NULL REFERENCES ticket_messages (id) ON DELETE CASCADE,
        position    INTEGER NOT NULL,
        kind        TEXT    NOT NULL,
        file_id     TEXT,
        file_size   INTEGER,
        extension   TEXT    NOT NULL DEFAULT '',
        UNIQUE (message_id, position)
    );
    INSERT INTO attachments (message_id, position, kind, file_id)
    SELECT id, 0, kind, file_id FROM ticket_messages WHERE file_id IS NOT NULL;
    DROP TABLE ticket_messages;
    ALTER TABLE ticket_messages_v5 RENAME TO ticket_messages;
    CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

    ALTER TABLE group_messages ADD COLUMN role TEXT NOT NULL DEFAULT 'copy';
    UPDATE group_messages SET role = 'card' WHERE EXISTS (
        SELECT 1 FROM tickets t
        WHERE t.id = group_messages.ticket_id AND t.card_message_id = group_messages.message_id);
    UPDATE group_messages SET role = 'moderator' WHERE EXISTS (
        SELECT 1 FROM outbox o WHERE o.kind = 'deliver_answer'
        AND json_extract(o.payload, '$.from_chat') = group_messages.chat_id
        AND json_extract(o.payload, '$.message_id') = group_messages.message_id);
    CREATE TABLE retired_messages (
        chat_id     INTEGER NOT NULL,
        message_id  INTEGER NOT NULL,
        reason      TEXT    NOT NULL,    -- forgotten | expired
        PRIMARY KEY (chat_id, message_id)
    ) WITHOUT ROWID;
    CREATE TABLE retired_threads (
        chat_id     INTEGER NOT NULL,
        thread_id   INTEGER NOT NULL,
        reason      TEXT    NOT NULL,
        PRIMARY KEY (chat_id, thread_id)
    ) WITHOUT ROWID;

    ALTER TABLE users ADD COLUMN pseudonym TEXT;
    CREATE UNIQUE INDEX users_pseudonym ON users (pseudonym);

    ALTER TABLE fsm_state ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
    UPDATE fsm_state SET updated_at = CAST(strftime('%s', 'now') AS INTEGER);
    CREATE INDEX fsm_state_updated ON fsm_state (updated_at);

    CREATE TABLE inbox (
        update_id    INTEGER PRIMARY KEY,
        sender       INTEGER NOT NULL,   -- whose queue; 0 once handled
        body         TEXT,               -- the update until it is handled, then NULL
        received_at  REAL    NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        handled_at   INTEGER
    );
    CREATE INDEX inbox_pending ON inbox (update_id) WHERE handled_at IS NULL;
    CREATE INDEX inbox_handled ON inbox (handled_at);
    INSERT INTO inbox (update_id, sender, received_at, handled_at)
    SELECT update_id, 0, processed_at, processed_at FROM processed_updates;
    DROP TABLE processed_updates;

    CREATE TABLE outbox_v5 (
        -- AUTOINCREMENT: a job deleted with its ticket (/forget) must not hand its id to
        -- a new job, or the old job's last bookkeeping would land on the new one.
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        lane             TEXT    NOT NULL CHECK (lane IN ('group', 'user')),
        kind             TEXT    NOT NULL,
        ticket_id        INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
        payload          TEXT    NOT NULL DEFAULT '{}',
        dedup_key        TEXT    UNIQUE,
        step             INTEGER NOT NULL DEFAULT 0,
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  REAL    NOT NULL,
        last_error       TEXT,
        done_at          INTEGER,
        failed           INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO outbox_v5 (id, lane, kind, ticket_id, payload, dedup_key, step, attempts,
        next_attempt_at, last_error, done_at)
    SELECT id, lane, kind, ticket_id, payload, dedup_key, step, attempts, next_attempt_at,
        last_error, done_at FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v5 RENAME TO outbox;
    CREATE INDEX outbox_due ON outbox (lane, next_attempt_at) WHERE done_at IS NULL;
    CREATE INDEX outbox_failed ON outbox (done_at) WHERE failed = 1;

    CREATE TABLE desk_state (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE counters (
        name   TEXT PRIMARY KEY,
        value  INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

# The WAL is truncated to this size after a checkpoint, so old frames (and the texts in
# them) do not linger in the -wal file between checkpoints.
JOURNAL_SIZE_LIMIT = 4 * 2**20

_transaction_owner: contextvars.ContextVar[Database | None] = contextvars.ContextVar(
    "transaction_owner", default=None
)

# What SQLite says when the database is busy, locked by another process, or the disk is
# full: worth trying again later, unlike a bug.
_TRANSIENT_SQLITE = ("locked", "busy", "disk is full", "disk i/o error", "unable to open")


def is_transient_db_error(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and any(
        marker in str(error).lower() for marker in _TRANSIENT_SQLITE
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
        # Deleted content is overwritten with zeros, whatever the system's SQLite was
        # built with: what /forget and retention remove cannot be read from the file.
        await self._conn.execute("PRAGMA secure_delete=ON")
        await self._conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def schema_version(self) -> int:
        rows = await self.conn.execute_fetchall("PRAGMA user_version")
        return int(next(iter(rows))[0])

    async def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction; return the version.

        Foreign keys are off while a migration runs (SQLite's procedure for rebuilding a
        table: a DROP would otherwise cascade), and checked before it commits."""
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema {version} is newer than this code ({SCHEMA_VERSION})"
            )
        if version == SCHEMA_VERSION:
            return version
        await self.conn.execute("PRAGMA foreign_keys=OFF")
        try:
            for number in range(version, SCHEMA_VERSION):
                async with self.transaction() as conn:
                    for statement in _split_script(MIGRATIONS[number]):
                        await conn.execute(statement)
                    broken = list(await conn.execute_fetchall("PRAGMA foreign_key_check"))
                    if broken:
                        raise RuntimeError(f"migration {number + 1} broke foreign keys")
                    await conn.execute(f"PRAGMA user_version = {number + 1}")
                log.info("database migrated to schema %d", number + 1)
        finally:
            await self.conn.execute("PRAGMA foreign_keys=ON")
        return SCHEMA_VERSION

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database file and truncate it to zero bytes, so deleted
        content survives in neither; False if a reader (another process) kept it from
        finishing (try again later)."""
        async with self._write_lock:
            rows = list(await self.conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"))
        busy = int(rows[0][0]) if rows else 1
        return busy == 0

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

    async def write_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows (one await)."""
        if _transaction_owner.get() is self:
            await self.conn.executemany(sql, rows)
            return
        async with self._write_lock:
            await self.conn.executemany(sql, rows)

    async def write_returning(
        self, sql: str, params: Sequence[Any] = ()
    ) -> Iterable[aiosqlite.Row]:
        """A writing statement with RETURNING (one await), under the write lock."""
        if _transaction_owner.get() is self:
            return await self.conn.execute_fetchall(sql, params)
        async with self._write_lock:
            return await self.conn.execute_fetchall(sql, params)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> Iterable[aiosqlite.Row]:
        return await self.conn.execute_fetchall(sql, params)

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)


def _split_script(script: str) -> list[str]:
    """Split a migration into statements (ours contain no semicolons inside strings)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
