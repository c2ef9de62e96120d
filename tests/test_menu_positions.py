"""Menu positions are written in batches; what a user wrote never waits for one.

A click between menu screens changes only where the user is (the dialog storage's
`screen` and `shown`): the storage defers that write and flushes many in one transaction.
These tests attack what deferring could break: a draft that must survive a crash, a
clean stop, a flush that fails, and /forget while a flush waits for the database."""

from __future__ import annotations

import asyncio
import contextvars
import json
import sqlite3
from typing import Any

import pytest

from bot.config import Settings
from bot.emulator import FakeTelegram, callback, private_message
from bot.factory import App, open_app
from tests.conftest import feed
from tests.test_forget import forget
from tests.test_questions import USER

DRAFT = "Меня вызвали в военкомат повесткой через Госуслуги, что делать?"


async def stored(app: App, user: int = USER) -> tuple[str | None, dict[str, Any]] | None:
    """The user's dialog row as it is in the database, without flushing anything."""
    found = await app.db.fetch_one("SELECT state, data FROM fsm_state WHERE user_id = ?", (user,))
    return None if found is None else (found[0], json.loads(found[1]))


async def browse(app: App) -> None:
    await feed(app, private_message(USER, "/start"))
    await feed(app, callback(USER, "nav:topics"))
    await feed(app, callback(USER, "tp:passport:0"))


async def test_menu_clicks_wait_for_one_flush_and_a_clean_stop_writes_them(
    settings: Settings,
) -> None:
    async with open_app(settings) as app:
        await browse(app)
        assert await stored(app) is None  # three clicks, no statement yet
        assert app.storage.deferred == 1  # only the last position of the user waits
    async with open_app(settings) as app:
        row = await stored(app)
        assert row is not None
        assert row[0] == "Browsing:menu"
        assert row[1]["screen"] == "tp:passport:0"


async def test_a_draft_is_written_before_the_update_is_done(app: App) -> None:
    await browse(app)
    await feed(app, private_message(USER, "/ask"))
    await feed(app, private_message(USER, DRAFT))
    row = await stored(app)
    assert row is not None
    assert row[0] == "AskQuestion:preview"
    assert DRAFT in json.dumps(row[1], ensure_ascii=False)
    # Starting the dialog superseded the deferred position: nothing older can land on it.
    assert app.storage.deferred == 0
    await app.storage.flush()
    assert (await stored(app) or (None, {}))[0] == "AskQuestion:preview"


async def test_a_failed_flush_keeps_the_positions_and_the_newest_wins(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    await browse(app)
    fsm = app.services.dialogs.repo
    write = fsm.put_many

    async def disk_full(*args: Any, **kwargs: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(fsm, "put_many", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        await app.storage.flush()
    assert app.storage.deferred == 1
    await feed(app, callback(USER, "nav:about"))  # a newer position while the disk is full
    monkeypatch.setattr(fsm, "put_many", write)
    await app.storage.flush()
    assert app.storage.deferred == 0
    row = await stored(app)
    assert row is not None
    assert row[1]["screen"] == "nav:about"


async def test_forget_while_a_flush_waits_for_the_database_leaves_no_row(
    app: App, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst moment: a flush starts while /forget's transaction is deleting. Had the
    flush taken the positions before it got the database, it would write the forgotten
    user's row back after the deletion."""
    await browse(app)
    assert app.storage.deferred == 1
    fsm = app.services.privacy.fsm
    delete_user = fsm.delete_user
    flushes: list[asyncio.Task[None]] = []

    async def delete_while_a_flush_starts(user_id: int) -> list[str]:
        # The flush of the background task: a context of its own, outside this transaction.
        flushes.append(asyncio.create_task(app.storage.flush(), context=contextvars.Context()))
        await asyncio.sleep(0)  # one turn of the loop: the flush runs until it must wait
        return await delete_user(user_id)

    monkeypatch.setattr(fsm, "delete_user", delete_while_a_flush_starts)
    await forget(app, telegram)
    assert len(flushes) == 1
    await flushes[0]
    await app.storage.flush()
    assert await stored(app) is None
    assert app.storage.deferred == 0
