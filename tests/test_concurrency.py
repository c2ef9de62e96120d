"""Two updates of one user at once, and commands in the wrong state."""

from __future__ import annotations

import asyncio

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import SimpleEventIsolation

from bot.emulator import FakeTelegram, callback, private_message
from bot.factory import App
from tests.conftest import feed
from tests.test_questions import USER, ask, last_preview


async def test_events_of_one_user_are_isolated(app: App) -> None:
    assert isinstance(app.dp.fsm.events_isolation, SimpleEventIsolation)


async def test_two_sends_at_the_same_moment_make_one_ticket(
    app: App, telegram: FakeTelegram
) -> None:
    key = await ask(app, telegram)
    await asyncio.gather(
        feed(app, callback(USER, f"dr:send:{key}", callback_id="one")),
        feed(app, callback(USER, f"dr:send:{key}", callback_id="two")),
    )
    row = await app.db.fetch_one("SELECT count(*) FROM tickets")
    assert row is not None
    assert row[0] == 1
    answers = sorted(
        str(c.params.get("text"))
        for c in telegram.calls_of("answerCallbackQuery")
        if c.params["callback_query_id"] in ("one", "two")
    )
    # One of them sent it; the other, handled after it (isolation), was told so.
    assert answers == ["None", "Этот вопрос уже отправлен — №1."]


async def test_help_while_writing_keeps_the_draft(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/ask"))
    await feed(app, private_message(USER, "Первая часть вопроса"))
    await feed(app, private_message(USER, "/help"))
    await feed(app, private_message(USER, "вторая часть"))
    state = await app.db.fetch_one("SELECT state FROM fsm_state WHERE user_id = ?", (USER,))
    assert state is not None
    assert state[0] == "AskQuestion:preview"
    preview = last_preview(telegram, USER)
    assert "Первая часть вопроса\n\nвторая часть" in preview.params["text"]


async def test_cancel_outside_a_dialog_is_an_unknown_command(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, private_message(USER, "/start"))
    telegram.clear()
    await feed(app, private_message(USER, "/cancel"))
    hint = telegram.calls_of("sendMessage")[0]
    assert hint.params["text"] == "Такой команды я не знаю. Попробуйте /start или /help."


async def test_cancel_in_a_dialog_drops_the_draft(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/ask"))
    await feed(app, private_message(USER, "черновик"))
    telegram.clear()
    await feed(app, private_message(USER, "/cancel"))
    assert telegram.calls_of("sendMessage")[0].params["text"] == "Отменено. Ничего не отправлено."
    row = await app.db.fetch_one("SELECT state, data FROM fsm_state WHERE user_id = ?", (USER,))
    assert row is not None
    assert row[0] == "Browsing:menu"
    assert "черновик" not in row[1]


async def test_language_while_writing_keeps_the_draft(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/ask"))
    await feed(app, private_message(USER, "Первая часть"))
    await feed(app, private_message(USER, "/language"))
    await feed(app, callback(USER, "lg:en", message_id=3))
    await feed(app, private_message(USER, "second part"))
    state = await app.db.fetch_one("SELECT state FROM fsm_state WHERE user_id = ?", (USER,))
    assert state is not None
    assert state[0] == "AskQuestion:preview"
    preview = last_preview(telegram, USER)
    assert preview.params["text"].startswith("<b>Your question:</b>\nПервая часть\n\nsecond part")


async def test_dialog_state_is_written_once_at_the_end_and_later_timers_write_for_themselves(
    app: App,
) -> None:
    """Within an update the writes are held and made once at its end; a timer the
    handler started (the album's redraw) runs later in the update's context and must
    still reach the database, not a batch that was written already."""
    storage = app.storage
    key = StorageKey(bot_id=42, chat_id=USER, user_id=USER)
    built = storage.key_builder.build(key)
    later_done = asyncio.Event()

    async def later() -> None:
        await storage.set_data(key, {"draft": "redrawn"})
        later_done.set()

    async with storage.batch():
        await storage.set_state(key, "AskQuestion:text")
        await storage.set_data(key, {"draft": "first"})
        await storage.set_data(key, {"draft": "second"})
        assert await app.services.dialogs.get(built) is None  # held, not written yet
        asyncio.get_running_loop().call_later(0.01, lambda: asyncio.ensure_future(later()))
    stored = await app.services.dialogs.get(built)
    assert stored is not None
    assert (stored.state, stored.data) == ("AskQuestion:text", {"draft": "second"})
    await asyncio.wait_for(later_done.wait(), 5)
    stored = await app.services.dialogs.get(built)
    assert stored is not None and stored.data == {"draft": "redrawn"}
