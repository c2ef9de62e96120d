"""The one place that wires the bot: used by `__main__`, the tests and the benchmarks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation

from bot.broadcaster import Broadcaster
from bot.config import Settings
from bot.content import (
    CannedAnswer,
    ContentError,
    Library,
    load_canned,
    load_issue_files,
    load_shipped,
    load_topics,
)
from bot.db import Database
from bot.delivery import Delivery
from bot.fsm_storage import SQLiteStorage
from bot.handlers import create_root_router
from bot.http import MultipartSession, RetryAfterMiddleware
from bot.i18n import Localizations
from bot.middlewares import BanMiddleware, L10nMiddleware
from bot.moderators import ModeratorDirectory
from bot.repositories import (
    BanRepository,
    BroadcastRepository,
    FsmRepository,
    OutboxRepository,
    PrivacyRepository,
    SubscriptionRepository,
    TicketRepository,
    UpdateLogRepository,
    UserRepository,
)
from bot.services.broadcasts import BroadcastService
from bot.services.ledger import DeliveryLedger
from bot.services.privacy import PrivacyService
from bot.services.questions import QuestionService
from bot.services.subscriptions import SubscriptionService
from bot.services.updates import UpdateLog
from bot.services.users import UserService

log = logging.getLogger(__name__)


def create_bot(settings: Settings, session: BaseSession | None = None) -> Bot:
    if session is None:
        session = MultipartSession(
            api=TelegramAPIServer.from_base(settings.telegram_api_url),
            timeout=settings.request_timeout,
        )
    session.middleware(RetryAfterMiddleware())
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_dispatcher(
    settings: Settings,
    *,
    storage: BaseStorage,
    library: Library,
    localizations: Localizations,
    users: UserService,
    questions: QuestionService,
    moderators: ModeratorDirectory,
    canned: dict[str, CannedAnswer],
    subscriptions: SubscriptionService,
    broadcasts: BroadcastService,
    broadcaster: Broadcaster,
    privacy: PrivacyService,
) -> Dispatcher:
    """Long-lived dependencies go in as workflow data, available to every handler."""
    dp = Dispatcher(
        storage=storage,
        # One update per user at a time: two quick taps cannot race on the same state.
        events_isolation=SimpleEventIsolation(),
        settings=settings,
        library=library,
        localizations=localizations,
        users=users,
        questions=questions,
        moderators=moderators,
        canned=canned,
        subscriptions=subscriptions,
        broadcasts=broadcasts,
        broadcaster=broadcaster,
        privacy=privacy,
    )
    # Bans first: nothing of a banned user reaches the rest (not even first contact).
    dp.update.outer_middleware(BanMiddleware(localizations, questions))
    dp.update.outer_middleware(L10nMiddleware(localizations, users))
    dp.include_router(create_root_router(settings.moderator_chat_id))
    return dp


async def serve_published(
    content_dir: Path, library: Library, broadcasts: BroadcastService
) -> None:
    """Put in the library what users may see: the issues recorded as published (by
    `publish`, or shipped with the project and recorded here the first time). Every other
    file in digests/ is a draft: validated and logged, never served."""
    files = load_issue_files(content_dir, {topic.slug for topic in library.topics})
    for problem in files.problems:
        log.warning("digest file not loaded (not served): %s", problem)
    try:
        shipped = load_shipped(content_dir)
    except ContentError as error:
        for problem in error.problems:
            log.error("shipped issues not read: %s", problem)
        shipped = []
    for issue_id in shipped:
        if issue_id not in files.issues:
            log.error("shipped issue %s not recorded: its file does not load", issue_id)
    recorded = await broadcasts.import_shipped(
        [files.issues[issue_id] for issue_id in shipped if issue_id in files.issues]
    )
    for issue_id in recorded:
        log.info("shipped issue %s recorded as published, without a broadcast", issue_id)
    library.add_issues(issue for issue, _ in await broadcasts.published_since(0))
    served = {issue.issue for issue in library.issues}
    drafts = sorted(set(files.issues) - served)
    if drafts:
        log.info("drafts, not served until published: %s", ", ".join(drafts))


@dataclass
class App:
    """Everything a running bot holds; opened and closed as one."""

    settings: Settings
    db: Database
    library: Library
    localizations: Localizations
    storage: SQLiteStorage
    users: UserService
    questions: QuestionService
    delivery: Delivery
    subscriptions: SubscriptionService
    broadcasts: BroadcastService
    broadcaster: Broadcaster
    privacy: PrivacyService
    update_log: UpdateLog
    bot: Bot
    dp: Dispatcher


@asynccontextmanager
async def open_app(settings: Settings, *, session: BaseSession | None = None) -> AsyncIterator[App]:
    """Load content (fails fast on broken topics or canned answers), open and migrate the
    database, serve what was published, build the bot and the dispatcher; close all of it
    on exit. A broken digest file is logged and skipped: it is a draft, or a shipped issue
    that `check` would have refused."""
    library = Library(topics=load_topics(settings.content_dir / "topics.yaml"))
    canned = load_canned(settings.content_dir)
    localizations = Localizations(settings.locales_dir, settings.default_locale)
    db = Database(settings.database_path)
    await db.connect()
    bot: Bot | None = None
    try:
        await db.migrate()
        storage = SQLiteStorage(FsmRepository(db))
        users = UserService(db, UserRepository(db))
        tickets, outbox = TicketRepository(db), OutboxRepository(db)
        questions = QuestionService(
            db,
            tickets,
            outbox,
            BanRepository(db),
            pseudonym_key=settings.pseudonym_key(),
            max_open_tickets=settings.max_open_tickets,
            flood_per_minute=settings.flood_messages_per_minute,
        )
        await questions.load()
        bot = create_bot(settings, session)
        delivery = Delivery(
            bot,
            DeliveryLedger(db, outbox, tickets),
            questions,
            library,
            localizations,
            canned,
            settings,
        )
        subscription_repo = SubscriptionRepository(db)
        subscriptions = SubscriptionService(db, subscription_repo)
        broadcasts = BroadcastService(
            db, BroadcastRepository(db), subscription_repo, lease=settings.broadcast_lease
        )
        await serve_published(settings.content_dir, library, broadcasts)
        broadcaster = Broadcaster(
            bot,
            broadcasts,
            library,
            localizations,
            rate=settings.broadcast_rate,
            concurrency=settings.broadcast_concurrency,
            retry_base=settings.broadcast_retry_base,
            progress_every=settings.broadcast_progress_every,
        )
        privacy = PrivacyService(
            db,
            PrivacyRepository(db),
            outbox,
            forget_dialog=storage.forget_user,
            forget_cached=users.forget_cached,
            retention_days=settings.retention_days,
        )
        privacy.on_enqueue(delivery.wake)
        dp = create_dispatcher(
            settings,
            storage=storage,
            library=library,
            localizations=localizations,
            users=users,
            questions=questions,
            moderators=ModeratorDirectory(settings.moderator_chat_id),
            canned=canned,
            subscriptions=subscriptions,
            broadcasts=broadcasts,
            broadcaster=broadcaster,
            privacy=privacy,
        )
        yield App(
            settings=settings,
            db=db,
            library=library,
            localizations=localizations,
            storage=storage,
            users=users,
            questions=questions,
            delivery=delivery,
            subscriptions=subscriptions,
            broadcasts=broadcasts,
            broadcaster=broadcaster,
            privacy=privacy,
            update_log=UpdateLog(db, UpdateLogRepository(db)),
            bot=bot,
            dp=dp,
        )
    finally:
        if bot is not None:
            await bot.session.close()
        await db.close()
