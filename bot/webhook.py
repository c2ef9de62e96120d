"""Webhook mode: an aiohttp server that takes updates from Telegram.

A request must carry the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token,
or it gets 401 and is not looked at. An update is answered 200 only after it has been
handled and recorded (not "in the background"), so if the process dies mid-way
Telegram sends it again; a redelivered update id is recognised and skipped.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.factory import App

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class WebhookServer:
    def __init__(self, app: App) -> None:
        self.app = app
        settings = app.settings
        assert settings.webhook_secret is not None
        self.secret = settings.webhook_secret.get_secret_value().encode()
        self.path = settings.webhook_path
        self._runner: web.AppRunner | None = None
        self.port = 0

    def web_app(self) -> web.Application:
        web_app = web.Application(client_max_size=2 * 2**20)
        web_app.router.add_post(self.path, self.handle_update)
        web_app.router.add_get("/healthz", self.health)
        return web_app

    async def start(self, host: str, port: int) -> int:
        self._runner = web.AppRunner(
            self.web_app(), access_log=None, handle_signals=False, shutdown_timeout=30
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port
        log.info("webhook server listening on port %d", self.port)
        return self.port

    async def stop(self) -> None:
        """Stop taking requests; the ones being handled finish first."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def health(self, request: web.Request) -> web.Response:
        try:
            await self.app.db.fetch_one("SELECT 1")
        except Exception as error:  # noqa: BLE001 - health reports, never raises
            log.warning("health check: database unavailable (%s)", type(error).__name__)
            return web.json_response({"status": "error"}, status=503)
        return web.json_response({"status": "ok"})

    async def handle_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return web.Response(status=401)
        try:
            data: Any = await request.json()
            update = Update.model_validate(data, context={"bot": self.app.bot})
        except (ValueError, ValidationError):
            return web.Response(status=400)
        if not await self.app.update_log.unseen([update.update_id]):
            return web.Response(status=200)  # a redelivery of what was handled already
        try:
            await self.app.dp.feed_update(self.app.bot, update)
        except Exception as error:  # noqa: BLE001 - Telegram will send it again
            log.error("update %s failed: %s", update.update_id, type(error).__name__)
            return web.Response(status=500)
        await self.app.update_log.mark_handled([update.update_id])
        return web.Response(status=200)
