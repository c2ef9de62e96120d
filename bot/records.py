"""Typed records the repositories return and the rest of the bot reads.

They live apart from `repositories.py` (the module that holds SQL), so screens, cards,
handlers and the outbox jobs can read a ticket without importing any SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    locale: str
    created_at: int
    pseudonym: str | None = None


@dataclass(frozen=True, slots=True)
class FsmRecord:
    state: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TicketRecord:
    id: int
    user_id: int | None  # None once retention purged the ticket
    pseudonym: str | None  # the author's, stored with the user
    topic: str | None
    locale: str
    state: str  # new | claimed | answered | closed
    claimed_by: int | None
    claimed_by_name: str | None
    claimed_at: int | None
    forum_thread_id: int | None
    card_message_id: int | None
    rating: int | None
    unreachable: bool
    created_at: int
    first_answer_at: int | None
    closed_at: int | None
    closed_by: str | None  # user | moderator | ban
    reopened: int  # how often a closed ticket came back
    post_error: str | None  # what Telegram refused to post to the group
    last_user_at: int  # the author's last message: what the queue's wait counts from
    purged_at: int | None
    card_hash: str | None  # of the card last drawn in the group, to skip identical edits

    @property
    def is_open(self) -> bool:
        return self.state in ("new", "claimed")


@dataclass(frozen=True, slots=True)
class AttachmentRecord:
    id: int
    message_id: int  # the ticket message it belongs to
    position: int
    kind: str  # photo | document | video | audio | voice | animation
    file_id: str | None  # None once purged
    file_size: int | None
    extension: str  # of the neutral name the group sees ("document-1.pdf"); may be ""


@dataclass(frozen=True, slots=True)
class TicketMessageRecord:
    id: int
    ticket_id: int
    direction: str  # question | follow_up | answer | note
    kind: str  # text | photo | document | album | ...
    text: str | None
    author: str | None  # a moderator's name (never shown to the user)
    created_at: int
    source_chat_id: int | None
    source_message_id: int | None
    copy_message_id: int | None  # an answer's copy in the user's chat
    attachments: tuple[AttachmentRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupMessage:
    """A message in the moderators' group that belongs to a ticket."""

    chat_id: int
    message_id: int
    role: str  # card | copy (the bot's other posts) | moderator (a moderator's own)


@dataclass(frozen=True, slots=True)
class OutboxJob:
    id: int
    lane: str
    kind: str
    ticket_id: int | None
    payload: dict[str, Any]
    step: int
    attempts: int


@dataclass(frozen=True, slots=True)
class FailedPost:
    ticket_id: int | None
    kind: str
    error: str


@dataclass(frozen=True, slots=True)
class InboxEntry:
    update_id: int
    sender: int
    body: str
    received_at: float
    attempts: int


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


@dataclass(frozen=True, slots=True)
class StoredData:
    """Everything the bot keeps about one user, for /mydata."""

    locale: str
    first_contact: int
    pseudonym: str | None
    subscribed: bool
    banned: bool
    tickets: list[tuple[int, str, int]]  # id, state, created_at
    messages: int
    attachments: int
    deliveries: int
    dialog_state: bool


@dataclass(frozen=True, slots=True)
class WeekStats:
    week: str  # ISO week, "2026-W48"
    answered: int
    median_first_answer: float | None


@dataclass(frozen=True, slots=True)
class TicketStats:
    by_state: dict[str, int]
    median_first_answer: float | None
    rated_up: int
    rated_down: int
    weeks: list[WeekStats] = field(default_factory=list)
