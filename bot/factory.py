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
from bot.fsm_storage import SQLiteStorage
from bot.handlers import create_root_router
from bot.handlers.common import only_position_changed
from bot.handlers.search import RecentQueries
from bot.http import (
    KeepResponseTypes,
    MultipartSession,
    RetryAfterMiddleware,
    StaleCallbackMiddleware,
)
from bot.i18n import Localizations
from bot.intake import Intake
from bot.middlewares import BanMiddleware, FsmBatchMiddleware, L10nMiddleware
from bot.moderators import ModeratorDirectory
from bot.outbox.group_jobs import GroupJobs
from bot.outbox.jobs import build_outbox
from bot.outbox.machine import Outbox
from bot.outbox.pacing import GroupPacer, GroupPacing
from bot.search import SearchIndex, load_search_config
from bot.services import Services, build_services
from bot.services.broadcasts import BroadcastService
from bot.services.privacy import PrivacyService
from bot.services.questions import QuestionService

log = logging.getLogger(__name__)


def create_bot(settings: Settings, pacer: GroupPacer, session: BaseSession | None = None) -> Bot:
    if session is None:
        session = MultipartSession(
            api=TelegramAPIServer.from_base(settings.telegram_api_url),
            timeout=settings.request_timeout,
        )
    # Outermost first: a late button answer is never made; a 429 on a handler's request
    # is waited out; every message-making request to the group takes a slot of its pace.
    session.middleware(KeepResponseTypes())
    session.middleware(StaleCallbackMiddleware())
    session.middleware(RetryAfterMiddleware())
    session.middleware(GroupPacing(pacer, settings.moderator_chat_id))
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def create_dispatcher(
    settings: Settings,
    services: Services,
    *,
    storage: BaseStorage,
    library: Library,
    localizations: Localizations,
    moderators: ModeratorDirectory,
    canned: dict[str, CannedAnswer],
    broadcaster: Broadcaster,
    group_jobs: GroupJobs,
    search: SearchIndex,
) -> Dispatcher:
    """Long-lived dependencies go in as workflow data, available to every handler."""
    dp = Dispatcher(
        storage=storage,
        # One update per user at a time: two quick taps cannot race on the same state.
        events_isolation=SimpleEventIsolation(),
        settings=settings,
        library=library,
        localizations=localizations,
        users=services.users,
        questions=services.questions,
        moderators=moderators,
        canned=canned,
        subscriptions=services.subscriptions,
        broadcasts=services.broadcasts,
        broadcaster=broadcaster,
        privacy=services.privacy,
        counters=services.counters,
        group_jobs=group_jobs,
        search=search,
        # What a user last searched for, in memory only (for "Ask a lawyer").
        recent=RecentQueries(),
    )
    if isinstance(storage, SQLiteStorage):
        dp.update.outer_middleware(FsmBatchMiddleware(storage))
    # Bans first: nothing of a banned user reaches the rest (not even first contact),
    # except what lets them see and delete their data.
    dp.update.outer_middleware(BanMiddleware(localizations, services.questions))
    dp.update.outer_middleware(L10nMiddleware(localizations, services.users, settings))
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
    services: Services
    outbox: Outbox
    group_jobs: GroupJobs
    broadcaster: Broadcaster
    pacer: GroupPacer
    intake: Intake
    bot: Bot
    dp: Dispatcher

    # Short names for what the runner and the tests reach for most.
    @property
    def questions(self) -> QuestionService:
        return self.services.questions

    @property
    def privacy(self) -> PrivacyService:
        return self.services.privacy

    @property
    def broadcasts(self) -> BroadcastService:
        return self.services.broadcasts


@asynccontextmanager
async def open_app(settings: Settings, *, session: BaseSession | None = None) -> AsyncIterator[App]:
    """Load content (fails fast on broken topics or canned answers), open and migrate the
    database, serve what was published, build the bot and the dispatcher; close all of it
    on exit. A broken digest file is logged and skipped: it is a draft, or a shipped issue
    that `check` would have refused."""
    library = Library(topics=load_topics(settings.content_dir / "topics.yaml"))
    canned = load_canned(settings.content_dir)
    search_config = load_search_config(settings.content_dir)
    localizations = Localizations(settings.locales_dir, settings.default_locale)
    db = Database(settings.database_path)
    await db.connect()
    bot: Bot | None = None
    storage_box: list[SQLiteStorage] = []
    try:
        await db.migrate()
        services = build_services(
            db, settings,
            pseudonym_words=localizations.get(settings.group_locale).words("pseudonym-words"),
            forget_dialogs=lambda keys, user_id: storage_box[0].forget(keys, user_id),
        )  # fmt: skip
        storage = SQLiteStorage(services.dialogs, deferrable=only_position_changed)
        storage_box.append(storage)
        await services.questions.load()
        pacer = GroupPacer(settings.group_messages_per_minute)
        bot = create_bot(settings, pacer, session)
        outbox, group_jobs = build_outbox(
            bot, services.ledger, services.questions, library, localizations, canned, settings
        )
        await serve_published(settings.content_dir, library, services.broadcasts)
        search = SearchIndex.build(library, search_config)
        library.on_issue(search.add_issue)  # a published issue is searchable at once
        broadcaster = Broadcaster(
            bot,
            services.broadcasts,
            library,
            localizations,
            rate=settings.broadcast_rate,
            concurrency=settings.broadcast_concurrency,
            retry_base=settings.broadcast_retry_base,
            progress_every=settings.broadcast_progress_every,
        )
        services.privacy.on_enqueue(outbox.wake)
        dp = create_dispatcher(
            settings,
            services,
            storage=storage,
            library=library,
            localizations=localizations,
            moderators=ModeratorDirectory(settings.moderator_chat_id),
            canned=canned,
            broadcaster=broadcaster,
            group_jobs=group_jobs,
            search=search,
        )
        intake = Intake(
            bot, dp, services.inbox, localizations,
            moderator_chat_id=settings.moderator_chat_id,
            group_locale=settings.group_locale,
            updates_per_minute=settings.user_updates_per_minute,
        )  # fmt: skip
        yield App(
            settings=settings,
            db=db,
            library=library,
            localizations=localizations,
            storage=storage,
            services=services,
            outbox=outbox,
            group_jobs=group_jobs,
            broadcaster=broadcaster,
            pacer=pacer,
            intake=intake,
            bot=bot,
            dp=dp,
        )
    finally:
        if storage_box:
            try:
                await storage_box[0].close()  # the deferred menu positions
            except Exception as error:  # noqa: BLE001 - closing anyway
                log.warning("menu positions not written at close: %s", error)
        if bot is not None:
            await bot.session.close()
        await db.close()
