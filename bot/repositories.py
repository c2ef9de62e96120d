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
            f"SELECT update_id FROM processed_updates WHERE update_id IN ({marks})",
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


# ---- questions -------------------------------------------------------------------------

TICKET_COLUMNS = (
    "id, user_id, topic, locale, state, claimed_by, claimed_by_name, forum_thread_id, "
    "card_message_id, rating, unreachable, created_at, first_answer_at, closed_at"
)


@dataclass(frozen=True, slots=True)
class TicketRecord:
    id: int
    user_id: int
    topic: str | None
    locale: str
    state: str
    claimed_by: int | None
    claimed_by_name: str | None
    forum_thread_id: int | None
    card_message_id: int | None
    rating: int | None
    unreachable: bool
    created_at: int
    first_answer_at: int | None
    closed_at: int | None


def _ticket(row: Any) -> TicketRecord:
    return TicketRecord(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
        bool(row[10]), row[11], row[12], row[13],
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class TicketMessageRecord:
    id: int
    ticket_id: int
    direction: str
    kind: str
    text: str | None
    file_id: str | None
    author: str | None
    created_at: int


class TicketRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, user_id: int, submit_key: str, topic: str | None, locale: str, now: int
    ) -> tuple[TicketRecord, bool]:
        """Insert a ticket for this Send; (ticket, created). A repeated key returns the
        ticket the first Send made."""
        rows = list(
            await self.db.fetch_all(
                "INSERT INTO tickets (user_id, submit_key, topic, locale, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (submit_key) DO NOTHING "
                f"RETURNING {TICKET_COLUMNS}",
                (user_id, submit_key, topic, locale, now),
            )
        )
        if rows:
            return _ticket(rows[0]), True
        existing = await self.by_submit_key(submit_key)
        assert existing is not None
        return existing, False

    async def by_submit_key(self, submit_key: str) -> TicketRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE submit_key = ?", (submit_key,)
        )
        return None if row is None else _ticket(row)

    async def get(self, ticket_id: int) -> TicketRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)
        )
        return None if row is None else _ticket(row)

    async def by_thread(self, thread_id: int) -> TicketRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE forum_thread_id = ?", (thread_id,)
        )
        return None if row is None else _ticket(row)

    async def by_group_message(self, chat_id: int, message_id: int) -> TicketRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = "
            "(SELECT ticket_id FROM group_messages WHERE chat_id = ? AND message_id = ?)",
            (chat_id, message_id),
        )
        return None if row is None else _ticket(row)

    async def by_user_message(self, user_id: int, message_id: int) -> TicketRecord | None:
        row = await self.db.fetch_one(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE id = "
            "(SELECT ticket_id FROM user_messages WHERE user_id = ? AND message_id = ?)",
            (user_id, message_id),
        )
        return None if row is None else _ticket(row)

    async def of_user(self, user_id: int, limit: int) -> list[TicketRecord]:
        rows = await self.db.fetch_all(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (user_id, limit),
        )
        return [_ticket(row) for row in rows]

    async def count_open_of_user(self, user_id: int) -> int:
        row = await self.db.fetch_one(
            "SELECT count(*) FROM tickets WHERE user_id = ? AND state IN ('new', 'claimed')",
            (user_id,),
        )
        return 0 if row is None else int(row[0])

    async def open_queue(self, limit: int) -> list[TicketRecord]:
        rows = await self.db.fetch_all(
            f"SELECT {TICKET_COLUMNS} FROM tickets WHERE state IN ('new', 'claimed') "
            "ORDER BY created_at, id LIMIT ?",
            (limit,),
        )
        return [_ticket(row) for row in rows]

    async def claim(self, ticket_id: int, moderator_id: int, name: str) -> bool:
        """Claim a new ticket; False if someone has it already (one statement, no race)."""
        changed = await self.db.write(
            "UPDATE tickets SET state = 'claimed', claimed_by = ?, claimed_by_name = ? "
            "WHERE id = ? AND state = 'new'",
            (moderator_id, name, ticket_id),
        )
        return changed == 1

    async def mark_answered(self, ticket_id: int, moderator_id: int, name: str, now: int) -> None:
        await self.db.write(
            "UPDATE tickets SET state = 'answered', "
            "claimed_by = coalesce(claimed_by, ?), claimed_by_name = coalesce(claimed_by_name, ?), "
            "first_answer_at = coalesce(first_answer_at, ?) WHERE id = ? AND state != 'closed'",
            (moderator_id, name, now, ticket_id),
        )

    async def reopen(self, ticket_id: int) -> None:
        """A follow-up on an answered ticket puts it back in the queue, still claimed."""
        await self.db.write(
            "UPDATE tickets SET state = CASE WHEN claimed_by IS NULL THEN 'new' ELSE 'claimed' END "
            "WHERE id = ? AND state = 'answered'",
            (ticket_id,),
        )

    async def close(self, ticket_id: int, now: int) -> bool:
        changed = await self.db.write(
            "UPDATE tickets SET state = 'closed', closed_at = ? WHERE id = ? AND state != 'closed'",
            (now, ticket_id),
        )
        return changed == 1

    async def close_all_of_user(self, user_id: int, now: int) -> list[int]:
        rows = await self.db.fetch_all(
            "UPDATE tickets SET state = 'closed', closed_at = ? "
            "WHERE user_id = ? AND state != 'closed' RETURNING id",
            (now, user_id),
        )
        return [row[0] for row in rows]

    async def rate(self, ticket_id: int, rating: int) -> None:
        await self.db.write("UPDATE tickets SET rating = ? WHERE id = ?", (rating, ticket_id))

    async def set_unreachable(self, ticket_id: int, unreachable: bool) -> None:
        await self.db.write(
            "UPDATE tickets SET unreachable = ? WHERE id = ?", (int(unreachable), ticket_id)
        )

    async def set_card(self, ticket_id: int, message_id: int) -> None:
        await self.db.write(
            "UPDATE tickets SET card_message_id = ? WHERE id = ?", (message_id, ticket_id)
        )

    async def set_thread(self, ticket_id: int, thread_id: int | None) -> None:
        await self.db.write(
            "UPDATE tickets SET forum_thread_id = ? WHERE id = ?", (thread_id, ticket_id)
        )

    async def add_message(
        self,
        ticket_id: int,
        direction: str,
        kind: str,
        text: str | None,
        file_id: str | None,
        now: int,
        author: str | None = None,
    ) -> int:
        rows = await self.db.fetch_all(
            "INSERT INTO ticket_messages (ticket_id, direction, kind, text, file_id, author, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (ticket_id, direction, kind, text, file_id, author, now),
        )
        return int(next(iter(rows))[0])

    async def message(self, message_row_id: int) -> TicketMessageRecord | None:
        row = await self.db.fetch_one(
            "SELECT id, ticket_id, direction, kind, text, file_id, author, created_at "
            "FROM ticket_messages WHERE id = ?",
            (message_row_id,),
        )
        return None if row is None else TicketMessageRecord(*row)

    async def messages(self, ticket_id: int) -> list[TicketMessageRecord]:
        rows = await self.db.fetch_all(
            "SELECT id, ticket_id, direction, kind, text, file_id, author, created_at "
            "FROM ticket_messages WHERE ticket_id = ? ORDER BY id",
            (ticket_id,),
        )
        return [TicketMessageRecord(*row) for row in rows]

    async def link_group_message(self, chat_id: int, message_id: int, ticket_id: int) -> None:
        await self.db.write(
            "INSERT OR IGNORE INTO group_messages (chat_id, message_id, ticket_id) "
            "VALUES (?, ?, ?)",
            (chat_id, message_id, ticket_id),
        )

    async def link_user_message(self, user_id: int, message_id: int, ticket_id: int) -> None:
        await self.db.write(
            "INSERT OR IGNORE INTO user_messages (user_id, message_id, ticket_id) VALUES (?, ?, ?)",
            (user_id, message_id, ticket_id),
        )

    async def counts_by_state(self) -> dict[str, int]:
        rows = await self.db.fetch_all("SELECT state, count(*) FROM tickets GROUP BY state")
        return {row[0]: int(row[1]) for row in rows}

    async def first_answer_delays(self) -> list[int]:
        rows = await self.db.fetch_all(
            "SELECT first_answer_at - created_at FROM tickets WHERE first_answer_at IS NOT NULL"
        )
        return [int(row[0]) for row in rows]


@dataclass(frozen=True, slots=True)
class OutboxJob:
    id: int
    lane: str
    kind: str
    ticket_id: int | None
    payload: dict[str, Any]
    step: int
    attempts: int


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
    ) -> int | None:
        """Queue a job; None if a job with that dedup key exists already."""
        rows = list(
            await self.db.fetch_all(
                "INSERT INTO outbox (lane, kind, ticket_id, payload, dedup_key, next_attempt_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                (lane, kind, ticket_id, json.dumps(payload), dedup_key, now),
            )
        )
        return int(rows[0][0]) if rows else None

    async def due(self, lane: str, now: float, limit: int) -> list[OutboxJob]:
        rows = await self.db.fetch_all(
            "SELECT id, lane, kind, ticket_id, payload, step, attempts FROM outbox "
            "WHERE done_at IS NULL AND lane = ? AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, id LIMIT ?",
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


@dataclass(frozen=True, slots=True)
class BroadcastRecord:
    issue: str
    created_at: int
    finished_at: int | None
    total: int
    status_chat_id: int | None
    status_message_id: int | None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    user_id: int
    locale: str
    attempts: int
    parts_sent: int


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
            await self.db.fetch_all(
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


@dataclass(frozen=True, slots=True)
class StoredData:
    """Everything the bot keeps about one user, for /mydata."""

    locale: str
    first_contact: int
    subscribed: bool
    tickets: list[tuple[int, str, int]]  # id, state, created_at
    messages: int
    deliveries: int
    dialog_state: bool


class PrivacyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def stored(self, user_id: int) -> StoredData | None:
        user = await self.db.fetch_one(
            "SELECT locale, created_at, "
            "EXISTS (SELECT 1 FROM subscriptions WHERE user_id = users.id), "
            "(SELECT count(*) FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id "
            " WHERE t.user_id = users.id AND m.text IS NOT NULL), "
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
            subscribed=bool(user[2]),
            tickets=[(row[0], row[1], row[2]) for row in tickets],
            messages=int(user[3]),
            deliveries=int(user[4]),
            dialog_state=bool(user[5]),
        )

    async def group_messages_of_user(self, user_id: int) -> list[tuple[int, int, bool]]:
        """(chat, message, is_card) of every group message of the user's tickets."""
        rows = await self.db.fetch_all(
            "SELECT g.chat_id, g.message_id, g.message_id = t.card_message_id "
            "FROM group_messages g JOIN tickets t ON t.id = g.ticket_id WHERE t.user_id = ?",
            (user_id,),
        )
        return [(row[0], row[1], bool(row[2])) for row in rows]

    async def delete_user(self, user_id: int) -> None:
        """The user row; tickets, their messages and links, subscriptions, deliveries and
        the tickets' outbox jobs go with it (ON DELETE CASCADE)."""
        await self.db.write("DELETE FROM users WHERE id = ?", (user_id,))

    async def purgeable(self, cutoff: int, limit: int) -> list[int]:
        rows = await self.db.fetch_all(
            "SELECT id FROM tickets WHERE state IN ('answered', 'closed') AND purged_at IS NULL "
            "AND coalesce(closed_at, first_answer_at, created_at) < ? LIMIT ?",
            (cutoff, limit),
        )
        return [row[0] for row in rows]

    async def group_messages_of_ticket(self, ticket_id: int) -> list[tuple[int, int, bool]]:
        rows = await self.db.fetch_all(
            "SELECT g.chat_id, g.message_id, g.message_id = t.card_message_id "
            "FROM group_messages g JOIN tickets t ON t.id = g.ticket_id WHERE t.id = ?",
            (ticket_id,),
        )
        return [(row[0], row[1], bool(row[2])) for row in rows]

    async def purge_ticket(self, ticket_id: int, now: int) -> None:
        """Drop what was said; keep the ticket's state and times for statistics."""
        await self.db.write(
            "UPDATE ticket_messages SET text = NULL, file_id = NULL, author = NULL "
            "WHERE ticket_id = ?",
            (ticket_id,),
        )
        await self.db.write("UPDATE tickets SET purged_at = ? WHERE id = ?", (now, ticket_id))
        await self.db.write("DELETE FROM user_messages WHERE ticket_id = ?", (ticket_id,))
