"""Questions: drafts, tickets, and what users and moderators do with them.

Every change that Telegram must hear about is queued in the outbox in the SAME
transaction as the change itself, so nothing acknowledged is lost in a crash.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from bot.db import Database
from bot.records import FailedPost, TicketMessageRecord, TicketRecord, TicketStats, WeekStats
from bot.repositories import (
    BanRepository,
    OutboxRepository,
    RetiredRepository,
    TicketRepository,
)
from bot.services.jobs import GROUP, USER, Job, lane_of
from bot.services.users import UserService

# A question may come in several messages (Telegram splits long pastes at 4096); together
# they are stored whole, up to this size.
MAX_QUESTION_CHARS = 12_000
MAX_ATTACHMENTS = 10  # Telegram's album size
# The Bot API hands a bot files up to 20 MB (getFile); a bigger one cannot be passed on
# under a neutral name, so it is refused at once rather than failing later.
MAX_FILE_BYTES = 20 * 2**20
# A message at least this long followed within PASTE_GAP seconds by another one is a
# long text the client split (at 4096 characters): the parts are one piece of text,
# joined without a separator and kept or refused together.
PASTE_PART_MIN = 3000
PASTE_GAP = 2
SEEN_KEPT = 64
# The items of an album come as separate messages, a moment apart: a follow-up with an
# album is posted this long after its first item, with every item that came by then.
ALBUM_SETTLE = 2.0
DAY = 86_400
WEEK = 7 * DAY


class Refusal(StrEnum):
    TOO_MANY_OPEN = "too_many_open"
    DAILY_BUDGET = "daily_budget"
    FLOOD = "flood"
    BANNED = "banned"
    GONE = "gone"  # forgotten, purged, or not this user's


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FileRef:
    kind: str  # photo | document | video | audio | voice | animation
    file_id: str
    size: int | None
    extension: str  # kept for the neutral name moderators see; "" if odd


@dataclass(frozen=True, slots=True)
class Incoming:
    """What one message of a user brings (built from a Telegram message by a handler)."""

    message_id: int
    date: int
    text: str | None = None
    file: FileRef | None = None
    album: str | None = None  # media_group_id

    @property
    def kind(self) -> str:
        return self.file.kind if self.file is not None else "text"


_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,8})$")


def neutral_extension(file_name: str | None) -> str:
    """The extension of a file name, without anything else of the name."""
    found = _EXTENSION.search(file_name or "")
    return found.group(1).lower() if found else ""


class Added(StrEnum):
    TEXT = "text"
    FILE = "file"
    TOO_LONG = "too_long"  # refused whole, the user is told
    REST_OF_REFUSED = "rest_of_refused"  # more of a paste that was refused: silent
    TOO_MANY_FILES = "too_many_files"
    TOO_BIG = "too_big"
    DUPLICATE = "duplicate"  # a redelivered update


@dataclass
class Draft:
    """A question being written, kept in the FSM data between messages."""

    key: str
    topic: str | None = None
    text: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    run_from: int = 0  # where the current paste run starts in `text`
    refusing: bool = False  # the rest of a too-long paste is refused too
    last_date: int = 0
    last_len: int = 0
    preview_id: int | None = None  # the one preview message, edited as the draft grows
    suggested: bool = False  # the user was shown digest articles that may answer it
    drawn: str = ""  # what the preview shows (a View digest): a redraw of it is not made
    pending: list[str] = field(default_factory=list)  # notes for the next redraw (albums)

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and not self.files

    def to_dict(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: that deep-copies every leaf, on every message.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["files"] = [dict(f) for f in self.files]
        data["seen"] = list(self.seen)
        data["pending"] = list(self.pending)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    def file_refs(self) -> list[FileRef]:
        return [
            FileRef(f["kind"], f["file_id"], f.get("size"), f.get("extension", ""))
            for f in self.files
        ]

    def take(self, incoming: Incoming) -> list[Added]:
        """Add one message; what happened to each part of it."""
        if incoming.message_id in self.seen:
            return [Added.DUPLICATE]
        self.seen = [*self.seen[-(SEEN_KEPT - 1) :], incoming.message_id]
        outcomes: list[Added] = []
        if incoming.file is not None:
            outcomes.append(self._take_file(incoming.file))
        if incoming.text:
            outcomes.append(self._take_text(incoming.text, incoming.date))
        else:
            self.last_len, self.last_date = 0, incoming.date
        return outcomes

    def _take_file(self, file: FileRef) -> Added:
        if file.size is not None and file.size > MAX_FILE_BYTES:
            return Added.TOO_BIG
        if len(self.files) >= MAX_ATTACHMENTS:
            return Added.TOO_MANY_FILES
        self.files.append(asdict(file))
        return Added.FILE

    def _take_text(self, text: str, date: int) -> Added:
        continues = self.last_len >= PASTE_PART_MIN and abs(date - self.last_date) <= PASTE_GAP
        self.last_len, self.last_date = len(text), date
        if continues and self.refusing:
            return Added.REST_OF_REFUSED
        if not continues:
            self.run_from, self.refusing = len(self.text), False
        separator = "" if continues or not self.text else "\n\n"
        combined = self.text + separator + text
        if len(combined) > MAX_QUESTION_CHARS:
            # The whole paste goes, not just the part that overflowed.
            self.text, self.refusing = self.text[: self.run_from], True
            return Added.TOO_LONG
        self.text = combined
        return Added.TEXT


@dataclass(frozen=True)
class ClaimResult:
    ticket: TicketRecord | None
    claimed: bool


class FollowUp(StrEnum):
    ADDED = "added"
    REOPENED = "reopened"
    DUPLICATE = "duplicate"
    MORE_OF_ALBUM = "more_of_album"  # another item of an album already being added


@dataclass(frozen=True)
class Stats:
    tickets: TicketStats
    pending_posts: int
    failed_posts: int


@dataclass
class _FloodWindow:
    stamps: deque[float] = field(default_factory=deque)


def message_kind(text: str | None, files: list[FileRef]) -> str:
    if len(files) > 1:
        return "album"
    if files:
        return files[0].kind
    return "text"


class QuestionService:
    def __init__(
        self,
        db: Database,
        tickets: TicketRepository,
        outbox: OutboxRepository,
        bans: BanRepository,
        retired: RetiredRepository,
        users: UserService,
        *,
        max_open_tickets: int = 3,
        questions_per_day: int = 5,
        flood_per_minute: int = 6,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.tickets = tickets
        self.outbox = outbox
        self.bans = bans
        self.retired = retired
        self.users = users
        self.max_open_tickets = max_open_tickets
        self.questions_per_day = questions_per_day
        self.flood_per_minute = flood_per_minute
        self.clock = clock
        self._flood: defaultdict[int, _FloodWindow] = defaultdict(_FloodWindow)
        self._banned: dict[int, bool] = {}  # user id -> told already
        self._listeners: list[Callable[[str], None]] = []

    # ---- wiring --------------------------------------------------------------------

    async def load(self) -> None:
        """Read what must be in memory (bans) at start."""
        self._banned = await self.bans.all()

    def on_enqueue(self, listener: Callable[[str], None]) -> None:
        """Call `listener(lane)` whenever a job is queued (the delivery worker wakes)."""
        self._listeners.append(listener)

    def _queued(self, *lanes: str) -> None:
        for lane in set(lanes):
            for listener in self._listeners:
                listener(lane)

    async def _queue(
        self, job: Job, ticket_id: int | None, payload: dict[str, Any] | None = None,
        dedup: str | None = None, *, delay: float = 0.0,
    ) -> str:  # fmt: skip
        """Queue a job inside the caller's transaction; its lane, to wake after commit."""
        due = self.clock() + delay
        await self.outbox.add(lane_of(job), job, ticket_id, payload or {}, due, dedup)
        return lane_of(job)

    # ---- limits ----------------------------------------------------------------------

    def take_flood_slot(self, user_id: int) -> bool:
        """One message into the question flow; False when the user is over the limit."""
        now = self.clock()
        window = self._flood[user_id].stamps
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= self.flood_per_minute:
            return False
        window.append(now)
        return True

    async def check_can_ask(self, user_id: int, *, excluding: int = 0) -> None:
        """Refused if the user may not ask now; `excluding` leaves out the ticket being
        created in the caller's transaction."""
        if self.is_banned(user_id):
            raise Refused(Refusal.BANNED)
        since = int(self.clock()) - DAY
        open_now, today = await self.tickets.count_of_user(user_id, since, excluding=excluding)
        if open_now >= self.max_open_tickets:
            raise Refused(Refusal.TOO_MANY_OPEN)
        if today >= self.questions_per_day:
            # Closing a question and asking again must not get round the open limit.
            raise Refused(Refusal.DAILY_BUDGET)

    # ---- the user's side -------------------------------------------------------------

    async def submit(
        self, user_id: int, locale: str, draft: Draft, received_message_id: int | None = None
    ) -> tuple[TicketRecord, bool]:
        """Store the ticket, its question and the job to post it, in ONE transaction;
        (ticket, created). Pressing Send again returns the same ticket. The message that
        says "received" belongs to the ticket: a reply to it adds to the question."""
        now = int(self.clock())
        async with self.db.transaction():
            # Created first: pressing Send again finds the same ticket by its unique key
            # (and is not refused); a refusal below rolls the new one back.
            ticket_id, created = await self.tickets.create(
                user_id, draft.key, draft.topic, locale, now
            )
            if created:
                await self.check_can_ask(user_id, excluding=ticket_id)
                await self.users.ensure_pseudonym(user_id)
                files = draft.file_refs()
                row = await self.tickets.add_message(
                    ticket_id, "question", message_kind(draft.text, files), draft.text or None, now
                )
                assert row is not None
                await self._attach(row, files)
                await self._queue(Job.POST_TICKET, ticket_id)
            if received_message_id is not None:
                await self.tickets.link_user_message(user_id, received_message_id, ticket_id)
        if created:
            self._queued(GROUP)
        ticket = await self.tickets.get(ticket_id)
        assert ticket is not None
        return ticket, created

    async def _attach(self, message_row: int, files: list[FileRef]) -> None:
        if files:
            await self.tickets.add_attachments(
                message_row, [(f.kind, f.file_id, f.size, f.extension) for f in files]
            )

    async def follow_up(self, user_id: int, ticket_id: int, incoming: Incoming) -> FollowUp:
        """Something the user adds to a sent question (a reply to the bot's messages of
        it, or after "Add to the question"). A closed question reopens; a purged or
        forgotten one cannot take more."""
        now = int(self.clock())
        files = [incoming.file] if incoming.file is not None else []
        async with self.db.transaction():
            ticket = await self.tickets.get(ticket_id)
            if ticket is None or ticket.user_id != user_id or ticket.purged_at is not None:
                raise Refused(Refusal.GONE)
            if incoming.album is not None and incoming.file is not None:
                row = await self.tickets.open_album(ticket_id, incoming.album)
                if row is not None:
                    file = incoming.file
                    item = (file.kind, file.file_id, file.size, file.extension)
                    await self.tickets.add_to_album(row, item, incoming.text)
                    return FollowUp.MORE_OF_ALBUM
            row = await self.tickets.add_message(
                ticket_id, "follow_up", message_kind(incoming.text, files), incoming.text,
                now, source=(user_id, incoming.message_id),
            )  # fmt: skip
            if row is None:
                return FollowUp.DUPLICATE
            await self._attach(row, files)
            await self.tickets.user_wrote(ticket_id, now)
            # An album's first item waits a moment for the rest, to go as one album.
            delay = 0.0
            if incoming.album is not None:
                await self.tickets.set_album(row, incoming.album)
                delay = ALBUM_SETTLE
            await self._queue(Job.POST_FOLLOW_UP, ticket_id, {"message": row}, delay=delay)
            await self._queue(Job.EDIT_CARD, ticket_id)
            if ticket.state == "closed":
                await self._queue(Job.REOPEN_TOPIC, ticket_id)
        self._queued(GROUP)
        return FollowUp.REOPENED if ticket.state == "closed" else FollowUp.ADDED

    async def submitted(self, submit_key: str) -> TicketRecord | None:
        """The ticket a Send with this draft key created, if any."""
        return await self.tickets.by_submit_key(submit_key)

    async def ticket_of_reply(self, user_id: int, message_id: int) -> TicketRecord | None:
        return await self.tickets.by_user_message(user_id, message_id)

    async def tickets_of(self, user_id: int, limit: int = 10) -> list[TicketRecord]:
        return await self.tickets.of_user(user_id, limit)

    async def ticket_of_album(self, user_id: int, album: str) -> int | None:
        """The ticket an album's first item was added to, for the items after it."""
        return await self.tickets.ticket_of_album(user_id, album)

    async def ticket_for_user(self, user_id: int, ticket_id: int) -> TicketRecord | None:
        ticket = await self.tickets.get(ticket_id)
        return ticket if ticket is not None and ticket.user_id == user_id else None

    async def rate(self, user_id: int, ticket_id: int, helpful: bool) -> TicketRecord | None:
        """One rating per question; pressing the other button replaces it."""
        ticket = await self.ticket_for_user(user_id, ticket_id)
        if ticket is None:
            return None
        async with self.db.transaction():
            if await self.tickets.rate(ticket_id, 1 if helpful else -1):
                await self._queue(Job.EDIT_CARD, ticket_id)
        self._queued(GROUP)
        return ticket

    # ---- both sides ------------------------------------------------------------------

    async def close(self, ticket_id: int, by: str) -> TicketRecord | None:
        """Close a ticket (`by` user or moderator); None if it was not open. A question
        moderators close without an answer is not closed in silence: the user is told."""
        now = int(self.clock())
        async with self.db.transaction():
            before = await self.tickets.get(ticket_id)
            if before is None or not await self.tickets.close(ticket_id, now, by):
                return None
            lanes = [
                await self._queue(Job.EDIT_CARD, ticket_id),
                await self._queue(Job.CLOSE_TOPIC, ticket_id),
            ]
            if by == "moderator" and before.first_answer_at is None:
                lanes.append(
                    await self._queue(Job.NOTIFY_USER, ticket_id, {"text": "closed-unanswered"})
                )
        self._queued(*lanes)
        return await self.tickets.get(ticket_id)

    async def messages(self, ticket_id: int) -> list[TicketMessageRecord]:
        return await self.tickets.messages(ticket_id)

    # ---- the moderators' side --------------------------------------------------------

    async def ticket(self, ticket_id: int) -> TicketRecord | None:
        return await self.tickets.get(ticket_id)

    async def ticket_of_group_message(
        self, chat_id: int, message_id: int | None, thread_id: int | None
    ) -> TicketRecord | None:
        if message_id is not None:
            ticket = await self.tickets.by_group_message(chat_id, message_id)
            if ticket is not None:
                return ticket
        if thread_id is not None:
            return await self.tickets.by_thread(thread_id)
        return None

    async def retired_reason(
        self, chat_id: int, message_id: int | None, thread_id: int | None
    ) -> str | None:
        """Why a group message or topic no longer belongs to a ticket (forgotten or
        expired), if it ever did."""
        return await self.retired.reason(chat_id, message_id, thread_id)

    async def reopen(self, ticket_id: int) -> bool:
        async with self.db.transaction():
            if not await self.tickets.reopen(ticket_id):
                return False
            await self._queue(Job.EDIT_CARD, ticket_id)
            await self._queue(Job.REOPEN_TOPIC, ticket_id)
        self._queued(GROUP)
        return True

    async def claim(self, ticket_id: int, moderator_id: int, name: str) -> ClaimResult:
        async with self.db.transaction():
            claimed = await self.tickets.claim(ticket_id, moderator_id, name, int(self.clock()))
            if claimed:
                await self._queue(Job.EDIT_CARD, ticket_id)
        if claimed:
            self._queued(GROUP)
        return ClaimResult(await self.tickets.get(ticket_id), claimed)

    async def answer(
        self,
        ticket: TicketRecord,
        moderator_id: int,
        name: str,
        *,
        source: tuple[int, int] | None,
        kind: str,
        text: str | None,
        canned: str | None = None,
    ) -> bool:
        """Record a moderator's answer and queue its delivery; False if that message was
        already taken (a redelivered update) or the ticket cannot take answers."""
        if ticket.state == "closed" or ticket.user_id is None:
            return False
        now = int(self.clock())
        async with self.db.transaction():
            row = await self.tickets.add_message(
                ticket.id, "answer", kind, text, now, author=name, source=source
            )
            if row is None:
                return False
            payload: dict[str, Any] = {"message": row}
            if source is not None:
                payload |= {"from_chat": source[0], "message_id": source[1]}
                await self.tickets.link_group_message(source[0], source[1], ticket.id, "moderator")
            else:
                payload["canned"] = canned
            await self._queue(Job.DELIVER_ANSWER, ticket.id, payload)
            await self.tickets.mark_answered(ticket.id, moderator_id, name, now)
            await self._queue(Job.EDIT_CARD, ticket.id)
        self._queued(USER, GROUP)
        return True

    async def correct(
        self,
        source: tuple[int, int],
        text: str | None,
        *,
        entities: list[dict[str, Any]] | None = None,
        caption: bool = False,
    ) -> TicketRecord | None:
        """A moderator edited a message that was an answer: the user's copy is corrected
        (with the edit's formatting). None if that message was no answer (or its ticket
        is gone)."""
        async with self.db.transaction():
            message = await self.tickets.message_from(*source)
            if message is None or message.direction != "answer":
                return None
            ticket = await self.tickets.get(message.ticket_id)
            if ticket is None or ticket.user_id is None:
                return None
            await self.tickets.set_message_text(message.id, text)
            payload = {"message": message.id, "text": text, "entities": entities or [],
                       "caption": caption}  # fmt: skip
            await self._queue(Job.APPLY_CORRECTION, ticket.id, payload)
        self._queued(USER)
        return ticket

    async def note(
        self, ticket: TicketRecord, name: str, text: str, source: tuple[int, int]
    ) -> bool:
        """An internal note: it stays in the group (card and /ticket), never reaches the
        user."""
        async with self.db.transaction():
            row = await self.tickets.add_message(
                ticket.id, "note", "text", text, int(self.clock()), author=name, source=source
            )
            if row is None:
                return False
            await self.tickets.link_group_message(source[0], source[1], ticket.id, "moderator")
            await self._queue(Job.EDIT_CARD, ticket.id)
        self._queued(GROUP)
        return True

    async def link_copies(self, ticket_id: int, chat_id: int, message_ids: list[int]) -> None:
        """The bot's own messages in the group that quote the ticket (/ticket history):
        redacted with it on /forget or at retention."""
        async with self.db.transaction():
            if not await self.tickets.exists(ticket_id):
                return
            for message_id in message_ids:
                await self.tickets.link_group_message(chat_id, message_id, ticket_id, "copy")

    def is_banned(self, user_id: int) -> bool:
        return user_id in self._banned

    async def ban(self, user_id: int) -> list[int]:
        """Ban a user and close their open tickets; the ids closed. Every card of theirs
        shows Unban from now on."""
        now = int(self.clock())
        async with self.db.transaction():
            await self.bans.add(user_id, now)
            closed = await self.tickets.close_all_of_user(user_id, now)
            for ticket in await self.tickets.of_user(user_id, 100):
                await self._queue(Job.EDIT_CARD, ticket.id)
            for ticket_id in closed:
                await self._queue(Job.CLOSE_TOPIC, ticket_id)
        self._banned.setdefault(user_id, False)
        self._queued(GROUP)
        return closed

    async def unban(self, user_id: int) -> bool:
        async with self.db.transaction():
            removed = await self.bans.remove(user_id)
            if removed:
                for ticket in await self.tickets.of_user(user_id, 100):
                    await self._queue(Job.EDIT_CARD, ticket.id)
        self._banned.pop(user_id, None)
        self._queued(GROUP)
        return removed

    async def should_tell_banned(self, user_id: int) -> bool:
        """True once per ban: the first time a banned user writes."""
        if self._banned.get(user_id, True):
            return False
        async with self.db.transaction():
            await self.bans.mark_notified(user_id)
        self._banned[user_id] = True
        return True

    async def queue(self, limit: int = 30) -> list[TicketRecord]:
        return await self.tickets.open_queue(limit)

    async def failed_posts(self, limit: int = 10) -> list[FailedPost]:
        return await self.outbox.failed(limit)

    async def overdue(self, unclaimed_hours: float, unanswered_hours: float) -> list[TicketRecord]:
        now = self.clock()
        return await self.tickets.overdue(
            int(now - unclaimed_hours * 3600), int(now - unanswered_hours * 3600), 30
        )

    async def stats(self, weeks: int = 8) -> Stats:
        now = int(self.clock())
        by_week: defaultdict[str, list[int]] = defaultdict(list)
        for created, delay in await self.tickets.first_answers(now - weeks * WEEK):
            year, week, _ = dt.datetime.fromtimestamp(created, dt.UTC).isocalendar()
            by_week[f"{year}-W{week:02d}"].append(delay)
        delays = await self.tickets.first_answer_delays()
        up, down = await self.tickets.ratings()
        failed = await self.outbox.failed(1000)
        return Stats(
            tickets=TicketStats(
                by_state=await self.tickets.counts_by_state(),
                median_first_answer=statistics.median(delays) if delays else None,
                rated_up=up,
                rated_down=down,
                weeks=[
                    WeekStats(week, len(values), statistics.median(values))
                    for week, values in sorted(by_week.items(), reverse=True)
                ],
            ),
            pending_posts=await self.outbox.pending_count(GROUP),
            failed_posts=len(failed),
        )
