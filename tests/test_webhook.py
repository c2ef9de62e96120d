"""Webhook mode over real HTTP on 127.0.0.1: the secret header, health, deduplication."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

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
        webhook = WebhookServer(app)
        port = await webhook.start("127.0.0.1", 0)
        try:
            yield app, f"http://127.0.0.1:{port}"
        finally:
            await webhook.stop()


async def post(url: str, body: dict[str, object], secret: str | None) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url + "/telegram/webhook", json=body, headers=headers) as response,
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
    (menu,) = telegram.calls_of("sendMessage")
    assert menu.params["text"].startswith("<b>Здравствуйте!")


async def test_a_redelivered_update_is_handled_once(
    server: tuple[App, str], telegram: FakeTelegram
) -> None:
    _, url = server
    update = {**private_message(10, "/help"), "update_id": 77}
    assert await post(url, update, SECRET) == 200
    assert await post(url, update, SECRET) == 200
    assert len(telegram.calls_of("sendMessage")) == 1


async def test_health_and_bad_bodies(server: tuple[App, str]) -> None:
    _, url = server
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok"}
        async with http.post(
            url + "/telegram/webhook", data=b"not json", headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 400


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
