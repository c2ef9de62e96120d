"""A failing database call must not stop the polling loop or an outbox lane."""

from __future__ import annotations

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
        original = app.update_log.unseen
        failures = [RuntimeError("database is locked")]

        async def flaky(update_ids: list[int]) -> list[int]:
            if failures:
                raise failures.pop()
            return await original(update_ids)

        monkeypatch.setattr(app.update_log, "unseen", flaky)
        telegram.push_update(private_message(55, "/start"))
        sent = await telegram.wait_for_call("sendMessage", chat_id=55)
        assert sent.params["text"].startswith("<b>Здравствуйте!")
        assert failures == []  # it did fail once


async def test_an_outbox_lane_survives_a_database_error(
    live: App, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = live.delivery.ledger.due
    failures = [RuntimeError("disk I/O error")]

    async def flaky(lane: str, limit: int = 20) -> Any:
        if failures and lane == "group":
            raise failures.pop()
        return await original(lane, limit)

    monkeypatch.setattr(live.delivery.ledger, "due", flaky)
    await send(live, await ask(live, telegram))
    card = await posted_card(telegram)
    assert card.params["chat_id"] == MODERATOR_CHAT_ID
    assert failures == []
