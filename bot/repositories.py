"""Every SQL statement of the bot lives here, behind narrow repository classes.

Repositories never commit: the caller (a service) decides the transaction. Each returns
typed records (`bot.records`), not rows, so a PostgreSQL implementation is one new module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.db import Database
from bot.records import (
    AttachmentRecord,
    BroadcastRecord,
    DeliveryRecord,
    FailedPost,
    FsmRecord,
    GroupMessage,
    InboxEntry,
    OutboxJob,
    StoredData,
    TicketMessageRecord,
    TicketRecord,
    UserRecord,
)


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


class UserRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> UserRecord | None:
        row = await self.db.fetch_one(
            "SELECT id, locale, created_at, pseudonym FROM users WHERE id = ?", (user_id,)
        )
        return None if row is None else UserRecord(row[0], row[1], row[2], row[3])

    async def insert_if_missing(self, user_id: int, locale: str, now: int) -> UserRecord:
        """Insert a user at first contact; an existing row wins (one statement)."""
        rows = await self.db.write_returning(
            "INSERT INTO users (id, locale, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET id = id "
            "RETURNING id, locale, created_at, pseudonym",
            (user_id, locale, now),
        )
        row = next(iter(rows))
        return UserRecord(row[0], row[1], row[2], row[3])

    async def set_locale(self, user_id: int, locale: str) -> None:
        await self.db.write("UPDATE users SET locale = ? WHERE id = ?", (locale, user_id))

    async def take_pseudonym(self, user_id: int, candidate: str) -> str | None:
        """The user's pseudonym: the one they have, else `candidate`, now theirs. None if
        another user has the candidate (the unique index says so) or there is no such user."""
        rows = list(
            await self.db.write_returning(
                "UPDATE OR IGNORE users SET pseudonym = coalesce(pseudonym, ?) WHERE id = ? "
                "RETURNING pseudonym",
                (candidate, user_id),
            )
        )
        return str(rows[0][0]) if rows else None


_FSM_UPSERT = (
    "INSERT INTO fsm_state (key, user_id, chat_id, state, data, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
    "data = excluded.data, updated_at = excluded.updated_at"
)


class FsmRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> FsmRecord | None:
        row = await self.db.fetch_one("SELECT state, data FROM fsm_state WHERE key = ?", (key,))
        return None if row is None else FsmRecord(row[0], json.loads(row[1]))

    async def put(
        self,
        key: str,
        user_id: int,
        chat_id: int,
        state: str | None,
        data: dict[str, Any],
        now: int,
    ) -> None:
        if state is None and not data:
            await self.db.write("DELETE FROM fsm_state WHERE key = ?", (key,))
            return
        await self.db.write(
            _FSM_UPSERT, (key, user_id, chat_id, state, json.dumps(data, ensure_ascii=False), now)
        )

    async def put_many(
        self, rows: Sequence[tuple[str, int, int, str | None, dict[str, Any]]], now: int
    ) -> None:
        """Rows that hold a state or data (never a deletion), in one statement."""
        await self.db.write_many(
            _FSM_UPSERT,
            [(key, user, chat, state, json.dumps(data, ensure_ascii=False), now)
             for key, user, chat, state, data in rows],
        )  # fmt: skip

    async def delete_user(self, user_id: int) -> list[str]:
        rows = await self.db.write_returning(
            "DELETE FROM fsm_state WHERE user_id = ? RETURNING key", (user_id,)
        )
        return [row[0] for row in rows]

    async def delete_older_than(self, cutoff: int) -> list[str]:
        rows = await self.db.write_returning(
            "DELETE FROM fsm_state WHERE updated_at < ? RETURNING key", (cutoff,)
        )
        return [row[0] for row in rows]


class InboxRepository:
    """Updates recorded before Telegram is told they arrived, until they are handled."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, entries: Sequence[tuple[int, int, str | None]], now: float) -> list[int]:
        """(update_id, sender, body) rows; the ids that were new (a redelivered update,
        handled or not, is already there). A row without a body is one dropped unread
        (a flood): it is recorded as handled, only so a redelivery is skipped."""
        if not entries:
            return []
        marks = ",".join("(?, ?, ?, ?, ?)" for _ in entries)
        params: list[Any] = []
        for update_id, sender, body in entries:
            dropped = body is None
            params += [
                update_id,
                0 if dropped else sender,
                body,
                now,
                int(now) if dropped else None,
            ]
        rows = await self.db.write_returning(
            f"INSERT INTO inbox (update_id, sender, body, received_at, handled_at) VALUES {marks} "
            "ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
            params,
        )
        return [int(row[0]) for row in rows]

    async def pending(self) -> list[InboxEntry]:
        rows = await self.db.fetch_all(
            "SELECT update_id, sender, body, received_at, attempts FROM inbox "
            "WHERE handled_at IS NULL ORDER BY update_id"
        )
        return [InboxEntry(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    async def handled(self, update_id: int, now: int) -> None:
        # The body and the sender are only needed until the update is handled.
        await self.db.write(
            "UPDATE inbox SET body = NULL, sender = 0, handled_at = ? WHERE update_id = ?",
            (now, update_id),
        )

    async def attempted(self, update_id: int) -> None:
        await self.db.write(
            "UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ?", (update_id,)
        )

    async def forget_sender(self, sender: int) -> None:
        """A forgotten user's updates that are not handled yet are dropped."""
        await self.db.write(
            "UPDATE inbox SET body = NULL, sender = 0, handled_at = coalesce(handled_at, 0) "
            "WHERE sender = ?",
            (sender,),
        )

    async def prune(self, older_than: int) -> int:
        return await self.db.write(
            "DELETE FROM inbox WHERE handled_at IS NOT NULL AND handled_at < ?", (older_than,)
        )

    async def count_handled(self) -> int:
        row = await self.db.fetch_one("SELECT count(*) FROM inbox WHERE handled_at IS NOT NULL")
        return 0 if row is None else int(row[0])


# ---- questions -------------------------------------------------------------------------

TICKET_COLUMNS = (
    "t.id, t.user_id, u.pseudonym, t.topic, t.locale, t.state, t.claimed_by, "
    "t.claimed_by_name, t.claimed_at, t.forum_thread_id, t.card_message_id, t.rating, "
    "t.unreachable, t.created_at, t.first_answer_at, t.closed_at, t.closed_by, t.reopened, "
    "t.post_error, t.last_user_at, t.purged_at, t.card_hash"
)
TICKETS = "tickets t LEFT JOIN users u ON u.id = t.user_id"
MESSAGE_COLUMNS = (
    "id, ticket_id, direction, kind, text, author, created_at, source_chat_id, "
    "source_message_id, copy_message_id"
)


def _ticket(row: Any) -> TicketRecord:
    return TicketRecord(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
        row[10], row[11], bool(row[12]), row[13], row[14], row[15], row[16], row[17],
        row[18], row[19], row[20], row[21],
    )  # fmt: skip


def _message(row: Any, attachments: tuple[AttachmentRecord, ...] = ()) -> TicketMessageRecord:
    return TicketMessageRecord(*tuple(row), attachments=attachments)  # type: ignore[misc]


class TicketRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, user_id: int, submit_key: str, topic: str | None, locale: str, now: int
    ) -> tuple[int, bool]:
        """Insert a ticket for this Send; (id, created). A repeated key returns the
        ticket the first Send made."""
        rows = list(
            await self.db.write_returning(
                "INSERT INTO tickets (user_id, submit_key, topic, locale, created_at, "
                "last_user_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (submit_key) DO NOTHING "
                "RETURNING id",
                (user_id, submit_key, topic, locale, now, now),
            )
        )
        if rows:
            return int(rows[0][0]), True
        row = await self.db.fetch_one("SELECT id FROM tickets WHERE submit_key = ?", (submit_key,))
        assert row is not None
        return int(row[0]), False

    async def _one(self, where: str, params: Sequence[Any]) -> TicketRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {TICKET_COLUMNS} FROM {TICKETS} WHERE {where}", params
        )
        return None if row is None else _ticket(row)

    async def get(self, ticket_id: int) -> TicketRecord | None:
        return await self._one("t.id = ?", (ticket_id,))

    async def by_submit_key(self, submit_key: str) -> TicketRecord | None:
        return await self._one("t.submit_key = ?", (submit_key,))

    async def by_thread(self, thread_id: int) -> TicketRecord | None:
        return await self._one("t.forum_thread_id = ?", (thread_id,))

    async def by_group_message(self, chat_id: int, message_id: int) -> TicketRecord | None:
        return await self._one(
            "t.id = (SELECT ticket_id FROM group_messages WHERE chat_id = ? AND message_id = ?)",
            (chat_id, message_id),
        )

    async def by_user_message(self, user_id: int, message_id: int) -> TicketRecord | None:
        return await self._one(
            "t.id = (SELECT ticket_id FROM user_messages WHERE user_id = ? AND message_id = ?)",
            (user_id, message_id),
        )

    async def of_user(self, user_id: int, limit: int) -> list[TicketRecord]:
        rows = await self.db.fetch_all(
            f"SELECT {TICKET_COLUMNS} FROM {TICKETS} WHERE t.user_id = ? ORDER BY t.id DESC "
            "LIMIT ?",
            (user_id, limit),
        )
        return [_ticket(row) for row in rows]

    async def count_of_user(
        self, user_id: int, since: int, *, excluding: int = 0
    ) -> tuple[int, int]:
        """(open tickets, tickets created since `since`) of a user, leaving out one ticket
        (the one being created)."""
        row = await self.db.fetch_one(
            "SELECT coalesce(sum(state IN ('new', 'claimed')), 0), "
            "coalesce(sum(created_at >= ?), 0) FROM tickets WHERE user_id = ? AND id != ?",
            (since, user_id, excluding),
        )
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    async def open_queue(self, limit: int) -> list[TicketRecord]:
        rows = await self.db.fetch_all(
            f"SELECT {TICKET_COLUMNS} FROM {TICKETS} WHERE t.state IN ('new', 'claimed') "
            "ORDER BY t.created_at, t.id LIMIT ?",
            (limit,),
        )
        return [_ticket(row) for row in rows]

    async def overdue(self, new_before: int, claimed_before: int, limit: int) -> list[TicketRecord]:
        """New tickets nobody took since `new_before`, taken ones unanswered since
        `claimed_before` (counted from the later of the claim and the user's last word)."""
        rows = await self.db.fetch_all(
            f"SELECT {TICKET_COLUMNS} FROM {TICKETS} WHERE "
            "(t.state = 'new' AND t.last_user_at < ?) OR "
            "(t.state = 'claimed' AND max(coalesce(t.claimed_at, 0), t.last_user_at) < ?) "
            "ORDER BY t.created_at, t.id LIMIT ?",
            (new_before, claimed_before, limit),
        )
        return [_ticket(row) for row in rows]

    async def claim(self, ticket_id: int, moderator_id: int, name: str, now: int) -> bool:
        """Claim a new ticket; False if someone has it already (one statement, no race)."""
        changed = await self.db.write(
            "UPDATE tickets SET state = 'claimed', claimed_by = ?, claimed_by_name = ?, "
            "claimed_at = ? WHERE id = ? AND state = 'new'",
            (moderator_id, name, now, ticket_id),
        )
        return changed == 1

    async def mark_answered(self, ticket_id: int, moderator_id: int, name: str, now: int) -> None:
        await self.db.write(
            "UPDATE tickets SET state = 'answered', "
            "claimed_by = coalesce(claimed_by, ?), claimed_by_name = coalesce(claimed_by_name, ?), "
            "claimed_at = coalesce(claimed_at, ?), first_answer_at = coalesce(first_answer_at, ?) "
            "WHERE id = ? AND state != 'closed'",
            (moderator_id, name, now, now, ticket_id),
        )

    async def user_wrote(self, ticket_id: int, now: int) -> None:
        """The author added to the ticket: an answered one goes back to the queue (still
        claimed), a closed one reopens."""
        await self.db.write(
            "UPDATE tickets SET last_user_at = ?, "
            "reopened = reopened + (state = 'closed'), "
            "closed_at = CASE WHEN state = 'closed' THEN NULL ELSE closed_at END, "
            "closed_by = CASE WHEN state = 'closed' THEN NULL ELSE closed_by END, "
            "state = CASE WHEN state IN ('answered', 'closed') THEN "
            "  (CASE WHEN claimed_by IS NULL THEN 'new' ELSE 'claimed' END) ELSE state END "
            "WHERE id = ? AND purged_at IS NULL",
            (now, ticket_id),
        )

    async def reopen(self, ticket_id: int) -> bool:
        changed = await self.db.write(
            "UPDATE tickets SET state = CASE WHEN claimed_by IS NULL THEN 'new' ELSE 'claimed' "
            "END, reopened = reopened + 1, closed_at = NULL, closed_by = NULL "
            "WHERE id = ? AND state = 'closed' AND purged_at IS NULL",
            (ticket_id,),
        )
        return changed == 1

    async def close(self, ticket_id: int, now: int, by: str) -> bool:
        changed = await self.db.write(
            "UPDATE tickets SET state = 'closed', closed_at = ?, closed_by = ? "
            "WHERE id = ? AND state != 'closed'",
            (now, by, ticket_id),
        )
        return changed == 1

    async def close_all_of_user(self, user_id: int, now: int) -> list[int]:
        rows = await self.db.write_returning(
            "UPDATE tickets SET state = 'closed', closed_at = ?, closed_by = 'ban' "
            "WHERE user_id = ? AND state != 'closed' RETURNING id",
            (now, user_id),
        )
        return [row[0] for row in rows]

    async def rate(self, ticket_id: int, rating: int) -> bool:
        changed = await self.db.write(
            "UPDATE tickets SET rating = ? WHERE id = ? AND rating IS NOT ?",
            (rating, ticket_id, rating),
        )
        return changed == 1

    async def set_unreachable(self, ticket_id: int, unreachable: bool) -> bool:
        changed = await self.db.write(
            "UPDATE tickets SET unreachable = ? WHERE id = ? AND unreachable != ?",
            (int(unreachable), ticket_id, int(unreachable)),
        )
        return changed == 1

    async def set_card(self, ticket_id: int, message_id: int) -> None:
        await self.db.write(
            "UPDATE tickets SET card_message_id = ?, card_hash = NULL WHERE id = ?",
            (message_id, ticket_id),
        )

    async def set_card_hash(self, ticket_id: int, card_hash: str | None) -> None:
        await self.db.write("UPDATE tickets SET card_hash = ? WHERE id = ?", (card_hash, ticket_id))

    async def set_thread(self, ticket_id: int, thread_id: int | None) -> None:
        await self.db.write(
            "UPDATE tickets SET forum_thread_id = ? WHERE id = ?", (thread_id, ticket_id)
        )

    async def set_post_error(self, ticket_id: int, error: str | None) -> None:
        await self.db.write("UPDATE tickets SET post_error = ? WHERE id = ?", (error, ticket_id))

    async def exists(self, ticket_id: int) -> bool:
        row = await self.db.fetch_one("SELECT 1 FROM tickets WHERE id = ?", (ticket_id,))
        return row is not None

    # ---- messages and attachments --------------------------------------------------

    async def add_message(
        self,
        ticket_id: int,
        direction: str,
        kind: str,
        text: str | None,
        now: int,
        *,
        author: str | None = None,
        source: tuple[int, int] | None = None,
    ) -> int | None:
        """A message of the ticket; None if the message it came from was recorded
        already (a redelivered update)."""
        rows = list(
            await self.db.write_returning(
                "INSERT INTO ticket_messages (ticket_id, direction, kind, text, author, "
                "created_at, source_chat_id, source_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (source_chat_id, source_message_id) DO NOTHING RETURNING id",
                (
                    ticket_id, direction, kind, text, author, now,
                    source[0] if source else None, source[1] if source else None,
                ),
            )
        )  # fmt: skip
        return int(rows[0][0]) if rows else None

    async def add_attachments(
        self, message_id: int, items: Sequence[tuple[str, str, int | None, str]]
    ) -> None:
        """(kind, file_id, file_size, extension) in order."""
        await self.db.write_many(
            "INSERT INTO attachments (message_id, position, kind, file_id, file_size, extension) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (message_id, n, kind, fid, size, ext)
                for n, (kind, fid, size, ext) in enumerate(items)
            ],
        )

    async def _attachments(self, message_ids: Sequence[int]) -> dict[int, list[AttachmentRecord]]:
        if not message_ids:
            return {}
        rows = await self.db.fetch_all(
            "SELECT id, message_id, position, kind, file_id, file_size, extension FROM attachments "
            f"WHERE message_id IN ({_marks(message_ids)}) ORDER BY message_id, position",
            list(message_ids),
        )
        found: dict[int, list[AttachmentRecord]] = {}
        for row in rows:
            found.setdefault(row[1], []).append(AttachmentRecord(*tuple(row)))
        return found

    async def message(self, message_row_id: int) -> TicketMessageRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {MESSAGE_COLUMNS} FROM ticket_messages WHERE id = ?", (message_row_id,)
        )
        if row is None:
            return None
        attachments = await self._attachments([row[0]])
        return _message(row, tuple(attachments.get(row[0], ())))

    async def open_album(self, ticket_id: int, album: str) -> int | None:
        """The follow-up an album's earlier items went into, while it waits to be posted
        (its post closes the album before it reads the files)."""
        row = await self.db.fetch_one(
            "SELECT id FROM ticket_messages WHERE ticket_id = ? AND album = ? "
            "AND album_open = 1 ORDER BY id DESC LIMIT 1",
            (ticket_id, album),
        )
        return None if row is None else int(row[0])

    async def ticket_of_album(self, user_id: int, album: str) -> int | None:
        """The ticket an album of this user's went to as a follow-up (its later items carry
        neither the reply nor the state its first item came with)."""
        row = await self.db.fetch_one(
            "SELECT m.ticket_id FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id "
            "WHERE m.album = ? AND t.user_id = ? AND t.purged_at IS NULL "
            "ORDER BY m.id DESC LIMIT 1",
            (album, user_id),
        )
        return None if row is None else int(row[0])

    async def set_album(self, message_row_id: int, album: str) -> None:
        await self.db.write(
            "UPDATE ticket_messages SET album = ?, album_open = 1 WHERE id = ?",
            (album, message_row_id),
        )

    async def close_album(self, message_row_id: int) -> None:
        await self.db.write(
            "UPDATE ticket_messages SET album_open = 0 WHERE id = ?", (message_row_id,)
        )

    async def add_to_album(
        self, message_row_id: int, item: tuple[str, str, int | None, str], text: str | None
    ) -> None:
        """One more file (and caption) of an album that waits to be posted; the same file
        again (a redelivered item) is not added twice."""
        added = await self.db.write(
            "INSERT INTO attachments (message_id, position, kind, file_id, file_size, extension) "
            "SELECT ?, coalesce(max(position) + 1, 0), ?, ?, ?, ? FROM attachments "
            "WHERE message_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM attachments WHERE message_id = ? AND file_id = ?)",
            (message_row_id, *item, message_row_id, message_row_id, item[1]),
        )
        if added and text:
            await self.db.write(
                "UPDATE ticket_messages SET text = CASE WHEN text IS NULL OR text = '' THEN ? "
                "ELSE text || char(10) || ? END WHERE id = ?",
                (text, text, message_row_id),
            )

    async def message_from(self, chat_id: int, message_id: int) -> TicketMessageRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {MESSAGE_COLUMNS} FROM ticket_messages "
            "WHERE source_chat_id = ? AND source_message_id = ?",
            (chat_id, message_id),
        )
        return None if row is None else _message(row)

    async def messages(self, ticket_id: int) -> list[TicketMessageRecord]:
        rows = list(
            await self.db.fetch_all(
                f"SELECT {MESSAGE_COLUMNS} FROM ticket_messages WHERE ticket_id = ? ORDER BY id",
                (ticket_id,),
            )
        )
        attachments = await self._attachments([row[0] for row in rows])
        return [_message(row, tuple(attachments.get(row[0], ()))) for row in rows]

    async def set_message_text(self, message_row_id: int, text: str | None) -> None:
        await self.db.write(
            "UPDATE ticket_messages SET text = ? WHERE id = ?", (text, message_row_id)
        )

    async def set_copy(self, message_row_id: int, copy_message_id: int) -> None:
        await self.db.write(
            "UPDATE ticket_messages SET copy_message_id = ? WHERE id = ?",
            (copy_message_id, message_row_id),
        )

    # ---- where the ticket's messages are -------------------------------------------

    async def link_group_message(
        self, chat_id: int, message_id: int, ticket_id: int, role: str
    ) -> None:
        await self.db.write(
            "INSERT OR IGNORE INTO group_messages (chat_id, message_id, ticket_id, role) "
            "VALUES (?, ?, ?, ?)",
            (chat_id, message_id, ticket_id, role),
        )

    async def link_user_message(self, user_id: int, message_id: int, ticket_id: int) -> None:
        await self.db.write(
            "INSERT OR IGNORE INTO user_messages (user_id, message_id, ticket_id) VALUES (?, ?, ?)",
            (user_id, message_id, ticket_id),
        )

    async def group_messages(self, ticket_ids: Sequence[int]) -> list[GroupMessage]:
        if not ticket_ids:
            return []
        rows = await self.db.fetch_all(
            "SELECT chat_id, message_id, role FROM group_messages "
            f"WHERE ticket_id IN ({_marks(ticket_ids)})",
            list(ticket_ids),
        )
        return [GroupMessage(row[0], row[1], row[2]) for row in rows]

    # ---- statistics ----------------------------------------------------------------

    async def counts_by_state(self) -> dict[str, int]:
        rows = await self.db.fetch_all("SELECT state, count(*) FROM tickets GROUP BY state")
        return {row[0]: int(row[1]) for row in rows}

    async def first_answers(self, since: int) -> list[tuple[int, int]]:
        """(created_at, seconds to the first answer) of tickets answered since `since`."""
        rows = await self.db.fetch_all(
            "SELECT created_at, first_answer_at - created_at FROM tickets "
            "WHERE first_answer_at IS NOT NULL AND first_answer_at >= ?",
            (since,),
        )
        return [(int(row[0]), int(row[1])) for row in rows]

    async def first_answer_delays(self) -> list[int]:
        rows = await self.db.fetch_all(
            "SELECT first_answer_at - created_at FROM tickets WHERE first_answer_at IS NOT NULL"
        )
        return [int(row[0]) for row in rows]

    async def ratings(self) -> tuple[int, int]:
        row = await self.db.fetch_one(
            "SELECT coalesce(sum(rating > 0), 0), coalesce(sum(rating < 0), 0) FROM tickets"
        )
        return (0, 0) if row is None else (int(row[0]), int(row[1]))


class RetiredRepository:
    """Tombstones of the group messages and topics of forgotten or purged tickets: no
    ticket, no user, only why they are gone, so a reply to one gets a clear note."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_messages(self, messages: Sequence[tuple[int, int]], reason: str) -> None:
        await self.db.write_many(
            "INSERT OR IGNORE INTO retired_messages (chat_id, message_id, reason) VALUES (?, ?, ?)",
            [(chat, message, reason) for chat, message in messages],
        )

    async def add_thread(self, chat_id: int, thread_id: int, reason: str) -> None:
        await self.db.write(
            "INSERT OR IGNORE INTO retired_threads (chat_id, thread_id, reason) VALUES (?, ?, ?)",
            (chat_id, thread_id, reason),
        )

    async def reason(
        self, chat_id: int, message_id: int | None, thread_id: int | None
    ) -> str | None:
        if message_id is not None:
            row = await self.db.fetch_one(
                "SELECT reason FROM retired_messages WHERE chat_id = ? AND message_id = ?",
                (chat_id, message_id),
            )
            if row is not None:
                return str(row[0])
        if thread_id is not None:
            row = await self.db.fetch_one(
                "SELECT reason FROM retired_threads WHERE chat_id = ? AND thread_id = ?",
                (chat_id, thread_id),
            )
            if row is not None:
                return str(row[0])
        return None


class OutboxRepository:
    """Work for Telegram that must happen even if the process dies first."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        lane: str,
        kind: str,
        ticket_id: int | None,
        payload: dict[str, Any],
        now: float,
        dedup_key: str | None = None,
    ) -> int | None:  # `now`: when it is due (later, to wait for the rest of an album)
        """Queue a job; None if a job with that dedup key exists already."""
        rows = list(
            await self.db.write_returning(
                "INSERT INTO outbox (lane, kind, ticket_id, payload, dedup_key, next_attempt_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                (lane, kind, ticket_id, json.dumps(payload), dedup_key, now),
            )
        )
        return int(rows[0][0]) if rows else None

    async def due(self, lane: str, now: float, limit: int) -> list[OutboxJob]:
        """Due jobs, taking turns between users: everyone's oldest job comes before
        anyone's second, so one person cannot fill the group's budget. A user's own
        jobs stay in the order they were queued."""
        rows = await self.db.fetch_all(
            "SELECT id, lane, kind, ticket_id, payload, step, attempts FROM ("
            " SELECT o.*, row_number() OVER ("
            "  PARTITION BY coalesce(t.user_id, -o.id) ORDER BY o.id) AS turn"
            " FROM outbox o LEFT JOIN tickets t ON t.id = o.ticket_id"
            " WHERE o.done_at IS NULL AND o.lane = ? AND o.next_attempt_at <= ?"
            ") ORDER BY turn, id LIMIT ?",
            (lane, now, limit),
        )
        return [OutboxJob(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]

    async def next_due_at(self, lane: str) -> float | None:
        row = await self.db.fetch_one(
            "SELECT min(next_attempt_at) FROM outbox WHERE done_at IS NULL AND lane = ?", (lane,)
        )
        return None if row is None or row[0] is None else float(row[0])

    async def advance(self, job_id: int, step: int, payload: dict[str, Any]) -> None:
        await self.db.write(
            "UPDATE outbox SET step = ?, payload = ? WHERE id = ?",
            (step, json.dumps(payload), job_id),
        )

    async def finish(self, job_id: int, now: int, error: str | None = None) -> None:
        await self.db.write(
            "UPDATE outbox SET done_at = ?, last_error = ? WHERE id = ?", (now, error, job_id)
        )

    async def fail(self, job_id: int, now: int, error: str) -> None:
        """Done for good: Telegram refused it (a 400), trying again would change nothing."""
        await self.db.write(
            "UPDATE outbox SET done_at = ?, last_error = ?, failed = 1 WHERE id = ?",
            (now, error, job_id),
        )

    async def retry_later(self, job_id: int, at: float, error: str) -> None:
        await self.db.write(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
            "WHERE id = ?",
            (at, error, job_id),
        )

    async def pending_count(self, lane: str | None = None) -> int:
        if lane is None:
            row = await self.db.fetch_one("SELECT count(*) FROM outbox WHERE done_at IS NULL")
        else:
            row = await self.db.fetch_one(
                "SELECT count(*) FROM outbox WHERE done_at IS NULL AND lane = ?", (lane,)
            )
        return 0 if row is None else int(row[0])

    async def failed(self, limit: int) -> list[FailedPost]:
        rows = await self.db.fetch_all(
            "SELECT ticket_id, kind, last_error FROM outbox WHERE failed = 1 "
            "ORDER BY done_at DESC LIMIT ?",
            (limit,),
        )
        return [FailedPost(row[0], row[1], row[2] or "") for row in rows]

    async def prune(self, older_than: int) -> int:
        return await self.db.write(
            "DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < ?", (older_than,)
        )


class BanRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> dict[int, bool]:
        rows = await self.db.fetch_all("SELECT user_id, notified FROM bans")
        return {row[0]: bool(row[1]) for row in rows}

    async def add(self, user_id: int, now: int) -> bool:
        changed = await self.db.write(
            "INSERT OR IGNORE INTO bans (user_id, banned_at) VALUES (?, ?)", (user_id, now)
        )
        return changed == 1

    async def remove(self, user_id: int) -> bool:
        return await self.db.write("DELETE FROM bans WHERE user_id = ?", (user_id,)) == 1

    async def mark_notified(self, user_id: int) -> None:
        await self.db.write("UPDATE bans SET notified = 1 WHERE user_id = ?", (user_id,))


class DeskRepository:
    """The moderators' desk's own small state (the reminder message) and counters."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        row = await self.db.fetch_one("SELECT value FROM desk_state WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    async def put(self, key: str, value: str | None) -> None:
        if value is None:
            await self.db.write("DELETE FROM desk_state WHERE key = ?", (key,))
            return
        await self.db.write(
            "INSERT INTO desk_state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def count(self, name: str, by: int = 1) -> None:
        await self.db.write(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (name, by),
        )

    async def counters(self) -> dict[str, int]:
        rows = await self.db.fetch_all("SELECT name, value FROM counters")
        return {row[0]: int(row[1]) for row in rows}


# ---- subscriptions and broadcasts --------------------------------------------------------


class SubscriptionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, user_id: int, now: int) -> bool:
        changed = await self.db.write(
            "INSERT OR IGNORE INTO subscriptions (user_id, subscribed_at) VALUES (?, ?)",
            (user_id, now),
        )
        return changed == 1

    async def remove(self, user_id: int) -> bool:
        return await self.db.write("DELETE FROM subscriptions WHERE user_id = ?", (user_id,)) == 1

    async def exists(self, user_id: int) -> bool:
        row = await self.db.fetch_one("SELECT 1 FROM subscriptions WHERE user_id = ?", (user_id,))
        return row is not None

    async def count_by_locale(self) -> dict[str, int]:
        rows = await self.db.fetch_all(
            "SELECT u.locale, count(*) FROM subscriptions s JOIN users u ON u.id = s.user_id "
            "GROUP BY u.locale"
        )
        return {row[0]: int(row[1]) for row in rows}


BROADCAST_COLUMNS = "issue, created_at, finished_at, total, status_chat_id, status_message_id"


class BroadcastRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save_issue(self, issue: str, body: str, now: float) -> None:
        await self.db.write(
            "INSERT INTO published_issues (issue, body, published_at) VALUES (?, ?, ?) "
            "ON CONFLICT (issue) DO UPDATE SET body = excluded.body, "
            "published_at = excluded.published_at",
            (issue, body, now),
        )

    async def save_issue_if_missing(self, issue: str, body: str, now: float) -> bool:
        """Record an issue as published unless it already is; True if it was recorded."""
        changed = await self.db.write(
            "INSERT INTO published_issues (issue, body, published_at) VALUES (?, ?, ?) "
            "ON CONFLICT (issue) DO NOTHING",
            (issue, body, now),
        )
        return changed == 1

    async def issues_since(self, since: float) -> list[tuple[str, str, float]]:
        rows = await self.db.fetch_all(
            "SELECT issue, body, published_at FROM published_issues WHERE published_at > ? "
            "ORDER BY published_at",
            (since,),
        )
        return [(row[0], row[1], float(row[2])) for row in rows]

    async def create(self, issue: str, now: int) -> int | None:
        """A broadcast with one pending delivery per current subscriber; None if this issue
        was broadcast already. The caller's transaction makes it all-or-nothing."""
        created = await self.db.write(
            "INSERT OR IGNORE INTO broadcasts (issue, created_at, total) VALUES (?, ?, 0)",
            (issue, now),
        )
        if created != 1:
            return None
        total = await self.db.write(
            "INSERT OR IGNORE INTO deliveries (user_id, issue) "
            "SELECT user_id, ? FROM subscriptions",
            (issue,),
        )
        await self.db.write("UPDATE broadcasts SET total = ? WHERE issue = ?", (total, issue))
        return total

    async def get(self, issue: str) -> BroadcastRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {BROADCAST_COLUMNS} FROM broadcasts WHERE issue = ?", (issue,)
        )
        return None if row is None else BroadcastRecord(*row)

    async def all(self, limit: int) -> list[BroadcastRecord]:
        rows = await self.db.fetch_all(
            f"SELECT {BROADCAST_COLUMNS} FROM broadcasts ORDER BY created_at DESC LIMIT ?",
            (limit,),
        )
        return [BroadcastRecord(*row) for row in rows]

    async def claim_unfinished(self, owner: str, now: float, lease: float) -> str | None:
        """Take the oldest unfinished broadcast nobody holds (or whose holder died)."""
        rows = list(
            await self.db.write_returning(
                "UPDATE broadcasts SET lease_owner = ?, lease_until = ? WHERE issue = "
                "(SELECT issue FROM broadcasts WHERE finished_at IS NULL "
                " AND (lease_until < ? OR lease_owner = ?) ORDER BY created_at LIMIT 1) "
                "RETURNING issue",
                (owner, now + lease, now, owner),
            )
        )
        return str(rows[0][0]) if rows else None

    async def renew(self, issue: str, owner: str, until: float) -> bool:
        changed = await self.db.write(
            "UPDATE broadcasts SET lease_until = ? WHERE issue = ? AND lease_owner = ?",
            (until, issue, owner),
        )
        return changed == 1

    async def release(self, issue: str, owner: str) -> None:
        await self.db.write(
            "UPDATE broadcasts SET lease_until = 0 WHERE issue = ? AND lease_owner = ?",
            (issue, owner),
        )

    async def finish(self, issue: str, now: int) -> None:
        await self.db.write(
            "UPDATE broadcasts SET finished_at = ?, lease_until = 0 WHERE issue = ?", (now, issue)
        )

    async def set_status_message(self, issue: str, chat_id: int, message_id: int) -> None:
        await self.db.write(
            "UPDATE broadcasts SET status_chat_id = ?, status_message_id = ? WHERE issue = ?",
            (chat_id, message_id, issue),
        )

    async def due(self, issue: str, now: float, limit: int) -> list[DeliveryRecord]:
        rows = await self.db.fetch_all(
            "SELECT d.user_id, u.locale, d.attempts, d.parts_sent FROM deliveries d "
            "JOIN users u ON u.id = d.user_id "
            "WHERE d.issue = ? AND d.state = 'pending' AND d.next_attempt_at <= ? "
            "ORDER BY d.next_attempt_at LIMIT ?",
            (issue, now, limit),
        )
        return [DeliveryRecord(*row) for row in rows]

    async def next_due_at(self, issue: str) -> float | None:
        row = await self.db.fetch_one(
            "SELECT min(next_attempt_at) FROM deliveries WHERE issue = ? AND state = 'pending'",
            (issue,),
        )
        return None if row is None or row[0] is None else float(row[0])

    async def counts(self, issue: str) -> dict[str, int]:
        rows = await self.db.fetch_all(
            "SELECT state, count(*) FROM deliveries WHERE issue = ? GROUP BY state", (issue,)
        )
        return {row[0]: int(row[1]) for row in rows}

    async def mark_sent(self, issue: str, user_id: int, now: int) -> None:
        await self.db.write(
            "UPDATE deliveries SET state = 'sent', sent_at = ?, last_error = NULL "
            "WHERE issue = ? AND user_id = ?",
            (now, issue, user_id),
        )

    async def mark_part_sent(self, issue: str, user_id: int, parts: int, next_at: float) -> None:
        await self.db.write(
            "UPDATE deliveries SET parts_sent = ?, next_attempt_at = ? "
            "WHERE issue = ? AND user_id = ?",
            (parts, next_at, issue, user_id),
        )

    async def mark_final(self, issue: str, user_id: int, state: str, error: str) -> None:
        await self.db.write(
            "UPDATE deliveries SET state = ?, last_error = ? WHERE issue = ? AND user_id = ?",
            (state, error, issue, user_id),
        )

    async def postpone(
        self, issue: str, user_id: int, at: float, error: str, *, count_attempt: bool
    ) -> None:
        await self.db.write(
            "UPDATE deliveries SET next_attempt_at = ?, last_error = ?, "
            "attempts = attempts + ? WHERE issue = ? AND user_id = ?",
            (at, error, int(count_attempt), issue, user_id),
        )


# ---- privacy -----------------------------------------------------------------------------


class PrivacyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def stored(self, user_id: int) -> StoredData | None:
        user = await self.db.fetch_one(
            "SELECT locale, created_at, pseudonym, "
            "EXISTS (SELECT 1 FROM subscriptions WHERE user_id = users.id), "
            "EXISTS (SELECT 1 FROM bans WHERE user_id = users.id), "
            "(SELECT count(*) FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id "
            " WHERE t.user_id = users.id AND m.text IS NOT NULL), "
            "(SELECT count(*) FROM attachments a JOIN ticket_messages m ON m.id = a.message_id "
            " JOIN tickets t ON t.id = m.ticket_id "
            " WHERE t.user_id = users.id AND a.file_id IS NOT NULL), "
            "(SELECT count(*) FROM deliveries WHERE user_id = users.id), "
            "EXISTS (SELECT 1 FROM fsm_state WHERE user_id = users.id) "
            "FROM users WHERE id = ?",
            (user_id,),
        )
        if user is None:
            return None
        tickets = await self.db.fetch_all(
            "SELECT id, state, created_at FROM tickets WHERE user_id = ? ORDER BY id", (user_id,)
        )
        return StoredData(
            locale=user[0],
            first_contact=user[1],
            pseudonym=user[2],
            subscribed=bool(user[3]),
            banned=bool(user[4]),
            tickets=[(row[0], row[1], row[2]) for row in tickets],
            messages=int(user[5]),
            attachments=int(user[6]),
            deliveries=int(user[7]),
            dialog_state=bool(user[8]),
        )

    async def tickets_of_user(self, user_id: int) -> list[tuple[int, int | None]]:
        """(ticket, forum thread) of every ticket of the user."""
        rows = await self.db.fetch_all(
            "SELECT id, forum_thread_id FROM tickets WHERE user_id = ?", (user_id,)
        )
        return [(row[0], row[1]) for row in rows]

    async def delete_user(self, user_id: int) -> None:
        """The user row; tickets, their messages, attachments and links, subscriptions,
        deliveries and the tickets' outbox jobs go with it (ON DELETE CASCADE)."""
        await self.db.write("DELETE FROM users WHERE id = ?", (user_id,))

    async def purgeable(self, cutoff: int, limit: int) -> list[tuple[int, int | None]]:
        rows = await self.db.fetch_all(
            "SELECT id, forum_thread_id FROM tickets "
            "WHERE state IN ('answered', 'closed') AND purged_at IS NULL "
            "AND coalesce(closed_at, first_answer_at, created_at) < ? LIMIT ?",
            (cutoff, limit),
        )
        return [(row[0], row[1]) for row in rows]

    async def purge_ticket(self, ticket_id: int, now: int) -> None:
        """Keep what statistics need (state, times, language, rating); drop what was
        said, who said it, and every link to either chat."""
        await self.db.write(
            "UPDATE ticket_messages SET text = NULL, author = NULL WHERE ticket_id = ?",
            (ticket_id,),
        )
        await self.db.write(
            "DELETE FROM attachments WHERE message_id IN "
            "(SELECT id FROM ticket_messages WHERE ticket_id = ?)",
            (ticket_id,),
        )
        await self.db.write(
            "UPDATE ticket_messages SET source_chat_id = NULL, source_message_id = NULL, "
            "copy_message_id = NULL WHERE ticket_id = ?",
            (ticket_id,),
        )
        await self.db.write("DELETE FROM user_messages WHERE ticket_id = ?", (ticket_id,))
        await self.db.write("DELETE FROM group_messages WHERE ticket_id = ?", (ticket_id,))
        await self.db.write(
            "DELETE FROM outbox WHERE ticket_id = ? AND done_at IS NOT NULL", (ticket_id,)
        )
        await self.db.write(
            "UPDATE tickets SET user_id = NULL, submit_key = NULL, topic = NULL, "
            "claimed_by = NULL, claimed_by_name = NULL, forum_thread_id = NULL, "
            "card_message_id = NULL, card_hash = NULL, post_error = NULL, purged_at = ? "
            "WHERE id = ?",
            (now, ticket_id),
        )
