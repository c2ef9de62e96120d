"""Fixtures: the Bot API emulator on 127.0.0.1, settings pointing at it, the app built by the
same factory as `__main__`, and helpers to feed updates as a user would."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.emulator import DEFAULT_BOT_ID, FakeTelegram, Rejection, watch_rejections
from bot.factory import App, open_app

ROOT = Path(__file__).resolve().parent.parent
MODERATOR_CHAT_ID = -1001234567890
TOKEN = "42:TEST-token-never-logged"  # the emulator's bot is id 42

_update_ids = itertools.count(1_000)

# The guard against 400s Telegram would answer: a test fails when the emulator refused
# one of the bot's requests by Telegram's rules ("message is not modified", "query is
# too old", HTML it cannot parse...) and the test did not declare it with
# `telegram.expect_rejection(...)`. EMULATOR_STRICT_400=0 turns it off for a look
# around; EMULATOR_400_REPORT=<file> lists what trips it.
STRICT_400 = os.environ.get("EMULATOR_STRICT_400", "1") == "1"
REPORT_400 = os.environ.get("EMULATOR_400_REPORT")


@pytest.fixture(autouse=True)
def unexpected_400s(request: pytest.FixtureRequest) -> Iterator[list[Rejection]]:
    seen: list[Rejection] = []
    stop = watch_rejections(seen.append)
    try:
        yield seen
    finally:
        stop()
    if request.node.get_closest_marker("refusals_expected"):
        return
    bad = [r for r in seen if r.status == 400 and not r.injected and not r.expected]
    if bad and REPORT_400:
        with open(REPORT_400, "a", encoding="utf-8") as report:
            for rejection in bad:
                report.write(f"{request.node.nodeid}\t{rejection.call.method}\t")
                report.write(f"{rejection.description}\n")
    if bad and STRICT_400:
        lines = "\n".join(f"  {r}" for r in bad)
        pytest.fail(f"the emulator refused requests as Telegram would:\n{lines}", pytrace=False)


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    # The bot is an administrator of the moderators' group, as README says it must be.
    fake.chat_members[(MODERATOR_CHAT_ID, DEFAULT_BOT_ID)] = "administrator"
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def make_settings(telegram: FakeTelegram, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "moderator_chat_id": MODERATOR_CHAT_ID,
        "telegram_api_url": telegram.url,
        "database_path": tmp_path / "bot.sqlite3",
        "content_dir": ROOT / "data",
        "locales_dir": ROOT / "locales",
        "request_timeout": 5,
        "polling_timeout": 1,
        # Retries and pacing in milliseconds, not seconds: tests wait on outcomes.
        "outbox_retry_base": 0.05,
        "outbox_retry_max": 0.5,
        "group_messages_per_minute": 100_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(telegram: FakeTelegram, tmp_path: Path) -> Settings:
    return make_settings(telegram, tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    async with open_app(settings) as opened:
        yield opened


@asynccontextmanager
async def delivering(app: App) -> AsyncIterator[App]:
    """The outbox worker running beside the dispatcher, as in `serve`."""
    task = asyncio.create_task(app.outbox.run())
    try:
        yield app
    finally:
        app.outbox.stop()
        await asyncio.wait_for(task, 5)


@pytest.fixture
async def live(app: App) -> AsyncIterator[App]:
    """The app with its outbox worker running."""
    async with delivering(app) as running:
        yield running


async def settle(app: App, timeout: float = 5.0) -> None:
    """Until the outbox is empty: every post and delivery done and recorded."""
    await asyncio.wait_for(app.outbox.settle(), timeout)


async def feed(app: App, update: dict[str, Any]) -> Any:
    """Feed one update through the real Dispatcher, as polling would."""
    update = {"update_id": next(_update_ids), **update}
    return await app.dp.feed_raw_update(app.bot, update)


async def reader_of(app: App, user_id: int) -> str:
    """The pseudonym stored for a user (what moderators see after "Читатель")."""
    row = await app.db.fetch_one("SELECT pseudonym FROM users WHERE id = ?", (user_id,))
    assert row is not None and row[0], f"user {user_id} has no pseudonym"
    return str(row[0])
