"""Webhook mode: an aiohttp server that takes updates from Telegram.

A request must carry the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token,
or it gets 401 and is not looked at. An update is answered 200 once it is recorded in
the inbox (the same intake as polling): a crash after that loses nothing, and Telegram
is not kept waiting by a slow handler. If it cannot be recorded (the database is busy
or full) the answer is 500 and Telegram sends it again; a redelivered id is skipped.

Slow or greedy clients are limited: at most MAX_CONNECTIONS at once, the request line
and headers within HEADER_TIMEOUT, the body within BODY_TIMEOUT, at most 1 MB.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import weakref
from typing import Any

from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.factory import App
from bot.faults import why
from bot.intake import Intake

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_CONNECTIONS = 100  # Telegram opens at most 40 (setWebhook max_connections)
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
MAX_BODY = 2**20


class _Guard:
    """Connection limits aiohttp does not have: a cap on open connections, and a
    deadline for a new connection to deliver its first request's headers."""

    def __init__(self, max_connections: int, header_timeout: float) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.open = 0
        self.started: weakref.WeakSet[Any] = weakref.WeakSet()

    def wrap(self, factory: Any) -> Any:
        return lambda: _GuardedProtocol(factory(), self)

    def expire(self, transport: asyncio.BaseTransport) -> None:
        if transport not in self.started and not transport.is_closing():
            transport.close()


class _GuardedProtocol(asyncio.Protocol):
    """aiohttp's protocol behind a door that counts and times connections (aiohttp's
    own class has __slots__, so it is wrapped rather than patched)."""

    def __init__(self, inner: Any, guard: _Guard) -> None:
        self.inner = inner
        self.guard = guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.guard.open += 1
        self.inner.connection_made(transport)
        if self.guard.open > self.guard.max_connections:
            transport.close()
            return
        asyncio.get_running_loop().call_later(
            self.guard.header_timeout, self.guard.expire, transport
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.open -= 1
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self.inner.eof_received()
        return result

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class _GuardedSite(web.TCPSite):
    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: _Guard) -> None:
        super().__init__(runner, host, port)
        self.guard = guard

    async def start(self) -> None:
        # TCPSite.start, with the server's protocol factory wrapped by the guard.
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        self._server = await loop.create_server(
            self.guard.wrap(server), self._host, self._port, reuse_address=True
        )


class WebhookServer:
    def __init__(self, app: App, intake: Intake) -> None:
        self.app = app
        self.intake = intake
        settings = app.settings
        assert settings.webhook_secret is not None
        self.secret = settings.webhook_secret.get_secret_value().encode()
        self.path = settings.webhook_listen_path
        self.guard = _Guard(MAX_CONNECTIONS, HEADER_TIMEOUT)
        self._runner: web.AppRunner | None = None
        self._failures = 0  # updates in a row that could not be recorded
        self.port = 0

    def web_app(self) -> web.Application:
        web_app = web.Application(client_max_size=MAX_BODY, middlewares=[self._mark_started])
        web_app.router.add_post(self.path, self.handle_update)
        web_app.router.add_get("/healthz", self.health)
        return web_app

    @web.middleware
    async def _mark_started(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.transport is not None:
            self.guard.started.add(request.transport)
        response: web.StreamResponse = await handler(request)
        return response

    async def start(self, host: str, port: int) -> int:
        self._runner = web.AppRunner(
            self.web_app(), access_log=None, handle_signals=False, shutdown_timeout=30,
            keepalive_timeout=75,
        )  # fmt: skip
        await self._runner.setup()
        site = _GuardedSite(self._runner, host, port, self.guard)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
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
            log.warning("health check: database unavailable (%s)", why(error))
            return web.json_response({"status": "error"}, status=503)
        return web.json_response({"status": "ok"})

    async def handle_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return web.Response(status=401)
        try:
            async with asyncio.timeout(BODY_TIMEOUT):
                body = await request.read()
            update = Update.model_validate_json(body, context={"bot": self.app.bot})
        except TimeoutError:
            return web.Response(status=408)
        except (ValueError, ValidationError):
            return web.Response(status=400)
        try:
            await self.intake.accept([update])
        except Exception as error:  # noqa: BLE001 - not recorded: Telegram sends it again
            log.error("update %s not recorded: %s", update.update_id, why(error))
            # Telegram retries on its own; a sender is told only if it goes on failing.
            self._failures += 1
            await self.intake.tell_unavailable([update], self._failures)
            return web.Response(status=500)
        self._failures = 0
        return web.Response(status=200)
