"""The bot's logic, free of aiogram types; `build_services` wires them to the
repositories (the only place that needs to know both)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.config import Settings
from bot.db import Database
from bot.repositories import (
    BanRepository,
    BroadcastRepository,
    DeskRepository,
    FsmRepository,
    InboxRepository,
    OutboxRepository,
    PrivacyRepository,
    RetiredRepository,
    SubscriptionRepository,
    TicketRepository,
    UserRepository,
)
from bot.services.broadcasts import BroadcastService
from bot.services.desk import Counters
from bot.services.dialogs import DialogStates
from bot.services.inbox import InboxService
from bot.services.ledger import DeliveryLedger
from bot.services.privacy import PrivacyService
from bot.services.questions import QuestionService
from bot.services.subscriptions import SubscriptionService
from bot.services.users import UserService


def subscription_service(db: Database) -> SubscriptionService:
    """For the command line, which counts subscribers without building the bot."""
    return SubscriptionService(db, SubscriptionRepository(db))


@dataclass
class Services:
    users: UserService
    dialogs: DialogStates
    questions: QuestionService
    ledger: DeliveryLedger
    subscriptions: SubscriptionService
    broadcasts: BroadcastService
    privacy: PrivacyService
    inbox: InboxService
    counters: Counters


def build_services(
    db: Database,
    settings: Settings,
    *,
    pseudonym_words: Sequence[str],
    forget_dialogs: Callable[[Sequence[str], int | None], None],
) -> Services:
    tickets, outbox = TicketRepository(db), OutboxRepository(db)
    retired, desk = RetiredRepository(db), DeskRepository(db)
    fsm, inbox = FsmRepository(db), InboxRepository(db)
    users = UserService(db, UserRepository(db), pseudonym_words=pseudonym_words)
    questions = QuestionService(
        db, tickets, outbox, BanRepository(db), retired, users,
        max_open_tickets=settings.max_open_tickets,
        questions_per_day=settings.questions_per_day,
        flood_per_minute=settings.flood_messages_per_minute,
    )  # fmt: skip
    subscription_repo = SubscriptionRepository(db)
    privacy = PrivacyService(
        db, PrivacyRepository(db), tickets, retired, outbox, fsm, inbox,
        moderator_chat_id=settings.moderator_chat_id,
        forget_cached=users.forget_cached,
        forget_dialogs=forget_dialogs,
        retention_days=settings.retention_days,
        dialog_ttl_days=settings.dialog_ttl_days,
    )  # fmt: skip
    return Services(
        users=users,
        dialogs=DialogStates(db, fsm),
        questions=questions,
        ledger=DeliveryLedger(db, outbox, tickets, retired, desk),
        subscriptions=SubscriptionService(db, subscription_repo),
        broadcasts=BroadcastService(
            db, BroadcastRepository(db), subscription_repo, lease=settings.broadcast_lease
        ),
        privacy=privacy,
        inbox=InboxService(db, inbox),
        counters=Counters(db, desk),
    )
