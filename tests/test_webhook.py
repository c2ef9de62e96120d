"""Webhook mode over real HTTP on 127.0.0.1: the secret header, health, deduplication."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.emulator import FakeTelegram, private_message
from bot.factory import App, open_app
from bot.webhook import SECRET_HEADER, WebhookServer
from tests.conftest import MODERATOR_CHAT_ID, TOKEN, make_settings
from tests.test_startup import run_bot

SECRET = "s3cret-token_for-webhook"


@pytest.fixture
async def server(telegram: FakeTelegram, tmp_path: Path) -> AsyncIterator[tuple[App, str]]:
    settings = make_settings(
        telegram, tmp_path, webhook_url="https://bot.example.org/hook", webhook_secret=SECRET
    )
    async with open_app(settings) as app:
        webhook = WebhookServer(app, app.intake)
        webhook.guard.header_timeout = 0.3  # slow clients are cut off quickly here
        webhook.guard.max_connections = 5
        port = await webhook.start("127.0.0.1", 0)
        try:
            yield app, f"http://127.0.0.1:{port}"
        finally:
            await webhook.stop()
            await app.intake.stop()


async def post(url: str, body: dict[str, object], secret: str | None) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as http,
        # WEBHOOK_PATH defaults to the path of WEBHOOK_URL: where Telegram delivers.
        http.post(url + "/hook", json=body, headers=headers) as response,
    ):
        return response.status


async def test_requests_without_the_secret_are_refused(
    server: tuple[App, str], telegram: FakeTelegram
) -> None:
    _, url = server
    update = {**private_message(10, "/start"), "update_id": 1}
    assert await post(url, update, None) == 401
    assert await post(url, update, "wrong-secret-value-123") == 401
    assert telegram.calls == []
    assert await post(url, update, SECRET) == 200
    menu = await telegram.wait_for_call("sendMessage", chat_id=10)
    assert menu.params["text"].startswith("<b>Здравствуйте!")


async def test_a_redelivered_update_is_handled_once(
    server: tuple[App, str], telegram: FakeTelegram
) -> None:
    _, url = server
    app, url = server
    update = {**private_message(10, "/help"), "update_id": 77}
    assert await post(url, update, SECRET) == 200
    assert await post(url, update, SECRET) == 200
    await telegram.wait_for_call("sendMessage", chat_id=10)
    assert await app.intake.drain(5)
    assert len(telegram.calls_of("sendMessage")) == 1


async def test_health_and_bad_bodies(server: tuple[App, str]) -> None:
    _, url = server
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok"}
        async with http.post(
            url + "/hook", data=b"not json", headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 400


async def test_an_update_that_cannot_be_recorded_gets_500_and_comes_again(
    server: tuple[App, str], telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database busy (a backup, another process): Telegram must send it again."""
    app, url = server
    original = app.intake.inbox.record
    failures = [sqlite3.OperationalError("database is locked")]

    async def busy(entries: Any) -> Any:
        if failures:
            raise failures.pop()
        return await original(entries)

    monkeypatch.setattr(app.intake.inbox, "record", busy)
    update = {**private_message(30, "/start"), "update_id": 900}
    assert await post(url, update, SECRET) == 500
    assert telegram.calls_of("sendMessage") == []  # a moment's lock is nobody's concern
    assert await post(url, update, SECRET) == 200  # Telegram's retry
    await telegram.wait_for(
        lambda calls: any(str(c.params.get("text")).startswith("<b>Здравствуйте!") for c in calls)
    )


async def test_a_handler_that_hits_a_busy_database_is_tried_again(
    server: tuple[App, str], telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answered 200 on recording; a transient failure while handling is retried by the
    bot itself, not dropped (today: answered 200 and lost)."""
    app, url = server
    app.intake.retry_base = 0.05
    original = app.services.users.locale_of
    failures = [sqlite3.OperationalError("database is locked")] * 2

    async def busy(*args: Any) -> Any:
        if failures:
            raise failures.pop()
        return await original(*args)

    monkeypatch.setattr(app.services.users, "locale_of", busy)
    assert await post(url, {**private_message(31, "/help"), "update_id": 901}, SECRET) == 200
    await telegram.wait_for_call("sendMessage", chat_id=31)
    assert failures == []
    assert await app.intake.drain(5)
    row = await app.db.fetch_one(
        "SELECT attempts, handled_at IS NOT NULL FROM inbox WHERE update_id = 901"
    )
    assert row is not None and tuple(row) == (2, 1)


async def test_slow_clients_are_cut_off(server: tuple[App, str]) -> None:
    _, url = server
    host, port = url.removeprefix("http://").split(":")
    # A connection that never sends its headers is closed after the header timeout.
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /hook HTTP/1.1\r\nHost: x\r\n")  # and then nothing more
    await writer.drain()
    async with asyncio.timeout(5):
        assert await reader.read() == b""  # closed by the server
    writer.close()
    # More connections than the cap: the extra ones are closed at once.
    opened = [await asyncio.open_connection(host, int(port)) for _ in range(6)]
    async with asyncio.timeout(5):
        assert await opened[-1][0].read() == b""
    for _, w in opened:
        w.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_process_in_webhook_mode(telegram: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ, "BOT_TOKEN": TOKEN, "MODERATOR_CHAT_ID": str(MODERATOR_CHAT_ID),
        "TELEGRAM_API_URL": telegram.url, "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port),
    }  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        hook = await telegram.wait_for_call("setWebhook", timeout=20)
        assert hook.params["url"] == "https://bot.example.org/hook"
        assert hook.params["secret_token"] == SECRET
        assert telegram.calls_of("deleteWebhook") == []
        url = f"http://127.0.0.1:{port}"
        assert process.stderr is not None
        async with asyncio.timeout(20):  # until the server says it listens
            while b"webhook server listening" not in await process.stderr.readline():
                pass
        status = await post(
            url, {**private_message(20, "/start", language_code="en"), "update_id": 5}, SECRET
        )
        assert status == 200
        sent = await telegram.wait_for_call("sendMessage", chat_id=20)
        assert sent.params["text"].startswith("<b>Hello!")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert SECRET not in stderr.decode()


def test_webhook_url_without_a_secret_stops_start_up(tmp_path: Path) -> None:
    result = run_bot(
        cwd=tmp_path,
        env={"BOT_TOKEN": TOKEN, "MODERATOR_CHAT_ID": "-1", "WEBHOOK_URL": "https://x.example/h"},
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "consult-bot: setting WEBHOOK_SECRET is required when WEBHOOK_URL is set"
    )
