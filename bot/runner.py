"""Starting and stopping the bot process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.broadcaster import GroupProgressReporter
from bot.config import Settings
from bot.factory import App, open_app
from bot.i18n import SUPPORTED_LOCALES, Localizations
from bot.polling import Poller
from bot.webhook import WebhookServer

log = logging.getLogger(__name__)


async def set_commands(bot: Bot, localizations: Localizations) -> None:
    scope = BotCommandScopeAllPrivateChats()
    for locale in (None, *SUPPORTED_LOCALES):
        l10n = localizations.get(locale)
        commands = [
            BotCommand(command="start", description=l10n.text("command-start")),
            BotCommand(command="ask", description=l10n.text("command-ask")),
            BotCommand(command="help", description=l10n.text("command-help")),
            BotCommand(command="language", description=l10n.text("command-language")),
            BotCommand(command="privacy", description=l10n.text("command-privacy")),
        ]
        await bot.set_my_commands(commands, scope=scope, language_code=locale)


async def set_moderator_commands(bot: Bot, localizations: Localizations, chat_id: int) -> None:
    l10n = localizations.get(None)
    commands = [
        BotCommand(command="queue", description=l10n.text("command-queue")),
        BotCommand(command="ticket", description=l10n.text("command-ticket")),
        BotCommand(command="stats", description=l10n.text("command-stats")),
        BotCommand(command="canned", description=l10n.text("command-canned")),
        BotCommand(command="ban", description=l10n.text("command-ban")),
        BotCommand(command="unban", description=l10n.text("command-unban")),
        BotCommand(command="publish", description=l10n.text("command-publish")),
        BotCommand(command="broadcasts", description=l10n.text("command-broadcasts")),
    ]
    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=chat_id))


async def prepare(app: App) -> None:
    """What must happen before the first update is taken."""
    settings = app.settings
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
        await set_moderator_commands(app.bot, app.localizations, settings.moderator_chat_id)
    except TelegramAPIError as error:
        # The bot may not be in the group yet; questions wait in the outbox meanwhile.
        log.warning("cannot set the moderators' commands: %s", type(error).__name__)


@contextlib.asynccontextmanager
async def services(app: App) -> AsyncIterator[None]:
    """Start-up, and the background work beside the updates: the outbox, broadcasts,
    the library sync and retention. Unfinished outbox jobs (a post or an answer from
    before a crash) and unfinished broadcasts resume at once."""
    await prepare(app)
    await app.dp.emit_startup(bot=app.bot, **app.dp.workflow_data)
    reporter = GroupProgressReporter(
        app.bot,
        app.broadcasts,
        app.settings.moderator_chat_id,
        app.localizations.get(app.settings.default_locale),
    )
    stopping = asyncio.Event()
    background = [
        asyncio.create_task(app.delivery.run(), name="delivery"),
        asyncio.create_task(app.broadcaster.run_forever(reporter), name="broadcaster"),
        asyncio.create_task(sync_library(app, stopping), name="library"),
        asyncio.create_task(enforce_retention(app, stopping), name="retention"),
    ]
    try:
        yield
    finally:
        app.delivery.stop()
        app.broadcaster.stop()
        stopping.set()
        await asyncio.gather(*background, return_exceptions=True)
        await app.dp.emit_shutdown(bot=app.bot, **app.dp.workflow_data)
        await app.dp.storage.close()


async def serve(app: App, poller: Poller) -> None:
    """Long polling until the poller is stopped."""
    async with services(app):
        log.info("polling started")
        try:
            await poller.run()
        finally:
            log.info("polling stopped")


async def serve_webhook(app: App, stop: asyncio.Event) -> None:
    """The webhook server until `stop` is set."""
    server = WebhookServer(app)
    async with services(app):
        await server.start(app.settings.webhook_host, app.settings.webhook_port)
        try:
            await stop.wait()
        finally:
            await server.stop()
            log.info("webhook server stopped")


async def sync_library(app: App, stopping: asyncio.Event, every: float = 3.0) -> None:
    """Serve issues that a `publish` command (another process) added, without a restart."""
    since = time.time()
    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=every)
        try:
            for issue, published_at in await app.broadcasts.published_since(since):
                app.library.add_issue(issue)
                since = max(since, published_at)
                log.info("issue %s added to the library", issue.issue)
        except Exception as error:  # noqa: BLE001 - try again at the next look
            log.warning("library sync failed: %s", type(error).__name__)


async def enforce_retention(app: App, stopping: asyncio.Event, every: float = 6 * 3600) -> None:
    """At start and then every few hours: purge expired ticket content, and forget
    handled update ids older than Telegram would redeliver (polling and webhook alike)."""
    while not stopping.is_set():
        try:
            purged = await app.privacy.purge_expired()
            if purged:
                log.info("retention: purged the content of %d tickets", purged)
            await app.update_log.prune()
        except Exception as error:  # noqa: BLE001 - try again at the next round
            log.warning("retention run failed: %s", type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=every)


def create_poller(app: App) -> Poller:
    return Poller(
        app.bot,
        app.dp,
        app.update_log,
        timeout=app.settings.polling_timeout,
        allowed_updates=app.dp.resolve_used_update_types(),
    )


async def run(settings: Settings, *, session: BaseSession | None = None) -> None:
    """Run until SIGTERM/SIGINT: then stop taking updates, finish the ones in hand, close."""
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
