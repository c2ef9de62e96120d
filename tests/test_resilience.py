"""A failing database call must not stop the polling loop or an outbox lane."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import FakeTelegram, private_message
from bot.factory import App
from tests.conftest import MODERATOR_CHAT_ID, make_settings
from tests.test_polling import running
from tests.test_questions import ask, posted_card, send


async def test_a_failed_batch_is_taken_again(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(telegram, tmp_path)
    async with running(settings) as (app, _):
        original = app.intake.inbox.record
        failures = [sqlite3.OperationalError("database is locked")]

        async def flaky(entries: Any) -> Any:
            if failures:
                raise failures.pop()
            return await original(entries)

        monkeypatch.setattr(app.intake.inbox, "record", flaky)
        telegram.push_update(private_message(55, "/start"))
        calls = await telegram.wait_for(
            lambda calls: any(
                str(c.params.get("text")).startswith("<b>Здравствуйте!") for c in calls
            )
        )
        assert failures == []  # it did fail once
        # Not told about a moment's fault; the batch came again and was handled.
        texts = [str(c.params["text"]) for c in calls if c.method == "sendMessage"]
        assert len(texts) == 1


async def test_an_outbox_lane_survives_a_database_error(
    live: App, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = live.outbox.ledger.due
    failures = [RuntimeError("disk I/O error")]

    async def flaky(lane: str, limit: int = 20) -> Any:
        if failures and lane == "group":
            raise failures.pop()
        return await original(lane, limit)

    monkeypatch.setattr(live.outbox.ledger, "due", flaky)
    await send(live, await ask(live, telegram))
    card = await posted_card(telegram)
    assert card.params["chat_id"] == MODERATOR_CHAT_ID
    assert failures == []
