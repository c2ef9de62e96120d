"""Starting and stopping the bot process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.broadcaster import GroupProgressReporter
from bot.config import Settings
from bot.factory import App, open_app
from bot.faults import why
from bot.handlers.desk import MODERATOR_COMMANDS
from bot.i18n import SUPPORTED_LOCALES, Localizations
from bot.lock import serving
from bot.polling import Poller
from bot.preflight import StoppedWaiting, preflight
from bot.services.jobs import Job
from bot.webhook import WebhookServer

log = logging.getLogger(__name__)

PRIVATE_COMMANDS = ("start", "ask", "search", "help", "language", "privacy")
DESK_WATCH_EVERY = 15 * 60.0
# How often the menu positions the dialog storage defers are written (what a crash loses).
FLUSH_POSITIONS_EVERY = 1.0


async def set_commands(bot: Bot, localizations: Localizations) -> None:
    scope = BotCommandScopeAllPrivateChats()
    for locale in (None, *SUPPORTED_LOCALES):
        l10n = localizations.get(locale)
        commands = [
            BotCommand(command=name, description=l10n.text(f"command-{name}"))
            for name in PRIVATE_COMMANDS
        ]
        await bot.set_my_commands(commands, scope=scope, language_code=locale)


async def set_moderator_commands(bot: Bot, app: App) -> None:
    l10n = app.localizations.get(app.settings.group_locale)
    commands = [
        BotCommand(command=name, description=l10n.text(f"command-{name}"))
        for name in MODERATOR_COMMANDS
    ]
    await bot.set_my_commands(
        commands, scope=BotCommandScopeChat(chat_id=app.settings.moderator_chat_id)
    )


async def prepare(app: App, stopping: asyncio.Event | None = None) -> None:
    """What must happen before the first update is taken: the settings only Telegram
    can judge, the webhook or its removal, the command menus."""
    settings = app.settings
    await preflight(app.bot, settings, stopping)
    if settings.webhook_url:
        assert settings.webhook_secret is not None
        await app.bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=app.dp.resolve_used_update_types(),
            drop_pending_updates=False,
        )
    else:
        await app.bot.delete_webhook(drop_pending_updates=False)
    await set_commands(app.bot, app.localizations)
    try:
        await set_moderator_commands(app.bot, app)
    except TelegramAPIError as error:
        log.warning("cannot set the moderators' commands: %s", why(error))


@contextlib.asynccontextmanager
async def services(app: App) -> AsyncIterator[None]:
    """The background work beside the updates: the outbox, broadcasts, the library
    sync, retention and reminders. Unfinished outbox jobs (a post or an answer from
    before a crash) and unfinished broadcasts resume at once."""
    await app.dp.emit_startup(bot=app.bot, **app.dp.workflow_data)
    reporter = GroupProgressReporter(
        app.bot,
        app.broadcasts,
        app.settings.moderator_chat_id,
        app.localizations.get(app.settings.group_locale),
    )
    stopping = asyncio.Event()
    background = [
        asyncio.create_task(app.outbox.run(), name="outbox"),
        asyncio.create_task(app.broadcaster.run_forever(reporter), name="broadcaster"),
        asyncio.create_task(every(3.0, stopping, library_sync(app)), name="library"),
        asyncio.create_task(
            every(FLUSH_POSITIONS_EVERY, stopping, app.storage.flush), name="menus"
        ),
        asyncio.create_task(every(6 * 3600, stopping, app.privacy.run_round), name="retention"),
        asyncio.create_task(
            every(DESK_WATCH_EVERY, stopping, lambda: watch_desk(app)), name="desk"
        ),
    ]
    try:
        yield
    finally:
        app.outbox.stop()
        app.broadcaster.stop()
        stopping.set()
        await asyncio.gather(*background, return_exceptions=True)
        await app.dp.emit_shutdown(bot=app.bot, **app.dp.workflow_data)
        await app.dp.storage.close()


async def every(
    seconds: float, stopping: asyncio.Event, work: Callable[[], Awaitable[object]]
) -> None:
    """Run `work` now and then every `seconds` until stopping; a failure waits for the
    next round."""
    while not stopping.is_set():
        try:
            await work()
        except Exception as error:  # noqa: BLE001 - try again at the next round
            log.warning("background work failed: %s", why(error))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=seconds)


def library_sync(app: App) -> Callable[[], Awaitable[None]]:
    """Serve issues that a `publish` command (another process) added, without a restart."""
    since = time.time()

    async def sync() -> None:
        nonlocal since
        for issue, published_at in await app.broadcasts.published_since(since):
            app.library.add_issue(issue)
            since = max(since, published_at)
            log.info("issue %s added to the library", issue.issue)

    return sync


async def watch_desk(app: App) -> None:
    """Queue a reminder when what waits too long has changed since the last one."""
    overdue = await app.questions.overdue(
        app.settings.remind_unclaimed_hours, app.settings.remind_unanswered_hours
    )
    signature = json.dumps([(t.id, t.state) for t in overdue])
    if signature != await app.services.ledger.desk_value("reminder-signature"):
        await app.services.ledger.enqueue(Job.REMIND)
        await app.services.ledger.set_desk_value("reminder-signature", signature)
        app.outbox.wake("group")


async def serve(app: App, poller: Poller) -> None:
    """Long polling until the poller is stopped."""
    try:
        await prepare(app, poller.stopping)
    except StoppedWaiting:
        return
    async with services(app):
        log.info("polling started")
        log.debug("updates asked for: %s", ", ".join(poller.allowed_updates or ["all"]))
        try:
            await poller.run()
        finally:
            log.info("polling stopped")


async def serve_webhook(app: App, stop: asyncio.Event) -> None:
    """The webhook server until `stop` is set."""
    server = WebhookServer(app, app.intake)
    try:
        await prepare(app, stop)
    except StoppedWaiting:
        return
    await app.intake.resume()
    async with services(app):
        await server.start(app.settings.webhook_host, app.settings.webhook_port)
        try:
            await stop.wait()
        finally:
            await server.stop()
            await app.intake.stop()
            log.info("webhook server stopped")


def create_poller(app: App) -> Poller:
    return Poller(
        app.bot,
        app.intake,
        timeout=app.settings.polling_timeout,
        allowed_updates=app.dp.resolve_used_update_types(),
    )


async def run(settings: Settings, *, session: BaseSession | None = None) -> None:
    """Run until SIGTERM/SIGINT: then stop taking updates, finish the ones in hand, close."""
    with serving(settings.database_path):
        async with open_app(settings, session=session) as app:
            loop = asyncio.get_running_loop()
            if settings.webhook_url:
                stop = asyncio.Event()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, stop.set)
                main = serve_webhook(app, stop)
            else:
                poller = create_poller(app)
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, poller.stop)
                main = serve(app, poller)
            try:
                await main
            finally:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
