"""The real polling loop over HTTP against the fake Bot API, and restarts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiogram.types import Update
from aiogram.utils.backoff import BackoffConfig

from bot.config import Settings
from bot.emulator import FakeTelegram, callback, private_message
from bot.factory import App, open_app
from bot.polling import Poller
from bot.runner import serve
from tests.conftest import MODERATOR_CHAT_ID, make_settings
from tests.test_menus import MAIN_MENU, data_of

USER = 777
FAST = BackoffConfig(min_delay=0.01, max_delay=0.05, factor=1.5, jitter=0.0)


@asynccontextmanager
async def running(
    settings: Settings, backoff: BackoffConfig = FAST
) -> AsyncIterator[tuple[App, Poller]]:
    """The bot as `python -m bot` runs it, in this event loop; stopped like SIGTERM."""
    async with open_app(settings) as app:
        poller = Poller(
            app.bot,
            app.intake,
            timeout=1,
            allowed_updates=app.dp.resolve_used_update_types(),
            backoff=backoff,
        )
        task = asyncio.create_task(serve(app, poller))
        try:
            yield app, poller
        finally:
            poller.stop()
            await asyncio.wait_for(task, 5)


async def test_click_through_over_real_polling(telegram: FakeTelegram, tmp_path: Path) -> None:
    settings = make_settings(telegram, tmp_path)
    async with running(settings):
        # Start-up: the command menu in both languages and the default.
        await telegram.wait_for(lambda calls: len(telegram.calls_of("setMyCommands")) == 4)
        *commands, moderators = telegram.calls_of("setMyCommands")
        assert [c.params.get("language_code") for c in commands] == [None, "ru", "en"]
        assert commands[0].params["scope"] == {"type": "all_private_chats"}
        names = [c["command"] for c in commands[2].params["commands"]]
        assert names == ["start", "ask", "search", "help", "language", "privacy"]
        assert moderators.params["scope"] == {"type": "chat", "chat_id": MODERATOR_CHAT_ID}
        names = [c["command"] for c in moderators.params["commands"]]
        assert names == [
            "queue",
            "ticket",
            "stats",
            "note",
            "canned",
            "ban",
            "unban",
            "publish",
            "broadcasts",
        ]
        assert commands[2].params["commands"][0]["description"] == "Main menu"
        assert commands[1].params["commands"][0]["description"] == "Главное меню"

        telegram.clear()
        telegram.push_update(private_message(USER, "/start"))
        sent = await telegram.wait_for_call("sendMessage", chat_id=USER)
        assert data_of(sent.params["reply_markup"]) == MAIN_MENU

        steps = [
            ("nav:topics", "<b>Темы</b>"),
            ("tp:mobilization:0", "📨 <b>"),
            (
                "ar:2023-09:reservation-cassation:mobilization:0",
                "<b>Бронь помогает при мобилизации",
            ),
            ("tp:mobilization:0", "📨 <b>"),  # Back
            ("nav:home", "<b>Здравствуйте!"),
        ]
        for number, (data, text_start) in enumerate(steps):
            telegram.clear()
            telegram.push_update(callback(USER, data, message_id=1, callback_id=f"cb{number}"))
            edit = await telegram.wait_for_call("editMessageText", chat_id=USER, message_id=1)
            assert edit.params["text"].startswith(text_start), data
            await telegram.wait_for_call("answerCallbackQuery", callback_query_id=f"cb{number}")
        last = telegram.push_update(private_message(USER, "/help"))
        await telegram.wait_for_call("sendMessage", chat_id=USER)

    # Stopping confirmed everything handled, and the ids are recorded for deduplication.
    assert telegram.confirmed_offset == last + 1
    async with open_app(settings) as app:
        rows = await app.db.fetch_all("SELECT update_id, body, sender FROM inbox")
        assert len(list(rows)) == len(steps) + 2
        # Once handled, nothing of an update is kept but its id (for deduplication).
        assert {(body, sender) for _, body, sender in rows} == {(None, 0)}


async def test_redelivered_updates_are_not_handled_twice(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(telegram, tmp_path)
    update = {**private_message(USER, "/start"), "update_id": 5000}
    async with running(settings) as (_, poller):
        telegram.push_update(dict(update))
        await telegram.wait_for_call("sendMessage", chat_id=USER)
        await telegram.wait_for(lambda _: poller.handled == 1)
    # As if the process died before confirming: Telegram delivers the same update again.
    telegram.confirmed_offset = 0
    telegram.clear()
    async with running(settings) as (_, poller):
        telegram.push_update(dict(update))
        follow_up = telegram.push_update({**private_message(USER, "/help"), "update_id": 5001})
        await telegram.wait_updates_confirmed(follow_up - 1)
        await telegram.wait_for_call("sendMessage", chat_id=USER)
        await telegram.wait_for(lambda _: poller.handled == 1)
    sent = telegram.calls_of("sendMessage")
    assert len(sent) == 1
    assert sent[0].params["text"].startswith("<b>Как пользоваться ботом</b>")


async def test_network_errors_and_flood_control_do_not_stop_polling(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(telegram, tmp_path)
    async with running(settings):
        await telegram.wait_for(lambda calls: len(telegram.calls_of("setMyCommands")) == 4)
        telegram.drop_connection_next("getUpdates", times=2)
        telegram.fail_next("getUpdates", status=502, description="Bad Gateway")
        telegram.push_update(private_message(USER, "/start"))
        sent = await telegram.wait_for_call("sendMessage", chat_id=USER)
        assert data_of(sent.params["reply_markup"]) == MAIN_MENU


async def test_dialog_state_and_language_survive_a_restart(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(telegram, tmp_path)
    async with running(settings):
        telegram.push_update(private_message(USER, "/start", language_code="ru"))
        await telegram.wait_for_call("sendMessage", chat_id=USER)
        telegram.push_update(callback(USER, "lg:en", callback_id="c1"))
        await telegram.wait_for_call("answerCallbackQuery", callback_query_id="c1")
        telegram.push_update(callback(USER, "tp:courts:0", callback_id="c2"))
        await telegram.wait_for_call("answerCallbackQuery", callback_query_id="c2")

    telegram.clear()
    async with running(settings) as (app, _):
        row = await app.db.fetch_one("SELECT state, data FROM fsm_state WHERE user_id = ?", (USER,))
        assert row is not None
        state, data = row[0], json.loads(row[1])
        assert (state, data["screen"]) == ("Browsing:menu", "tp:courts:0")
        # A sticker after the restart: the hint and the screen are in English, the courts card.
        telegram.push_update(
            private_message(
                USER,
                None,
                language_code="ru",
                voice={"file_id": "v", "file_unique_id": "v", "duration": 1},
            )
        )
        await telegram.wait_for(lambda calls: len(telegram.calls_of("sendMessage")) == 2)
        hint, screen = telegram.calls_of("sendMessage")
        assert hint.params["text"].startswith(
            "I can't read this kind of message, so it was not passed on to anyone."
        )
        assert screen.params["text"].startswith("⚖️ <b>Courts and appeals</b>")
        assert "tp:courts:0" not in data_of(screen.params["reply_markup"])
        assert data_of(screen.params["reply_markup"])[-2:] == ["nav:topics", "nav:home"]


async def test_handled_update_ids_are_forgotten_after_two_days(app: App) -> None:
    updates = [
        Update.model_validate({**private_message(USER, "/help"), "update_id": n}) for n in (1, 2)
    ]
    assert await app.intake.accept(updates) == 2
    assert await app.intake.drain(5)
    await app.db.write("UPDATE inbox SET handled_at = handled_at - 49 * 3600 WHERE update_id = 1")
    await app.privacy.prune()
    rows = await app.db.fetch_all("SELECT update_id FROM inbox")
    assert [r[0] for r in rows] == [2]
    # Id 2 is still known: a redelivery of it is skipped; id 1 would be new again.
    assert await app.intake.accept(updates) == 1


async def test_one_flooding_user_does_not_stall_the_others(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    """One user sends 40 messages while the bot waits out flood control in their chat:
    another user's /help is answered at once, and the flood is cut off, told once."""
    settings = make_settings(telegram, tmp_path, user_updates_per_minute=30)
    async with running(settings) as (app, _):
        await telegram.wait_for(lambda calls: len(telegram.calls_of("setMyCommands")) == 4)
        flooder, other = 5001, 5002
        telegram.fail_next(
            "sendMessage", status=429, description="Too Many Requests: retry after 3",
            retry_after=3, chat_id=flooder, times=1,
        )  # fmt: skip
        for n in range(40):
            telegram.push_update(private_message(flooder, f"сообщение {n}"))
        telegram.push_update(private_message(other, "/help"))
        help_answer = await telegram.wait_for_call("sendMessage", chat_id=other, timeout=2)
        # The flooder's first reply is still waiting out its 429 when the other is served.
        flooder_ok = [
            c
            for c in telegram.calls_of("sendMessage")
            if c.params["chat_id"] == flooder and not c.failed
        ]
        assert flooder_ok == [] or flooder_ok[0].at > help_answer.at
        assert help_answer.params["text"].startswith("<b>Как пользоваться ботом</b>")
        await telegram.wait_for(lambda _: app.intake.dropped == 10, timeout=20)
        told = [
            c for c in telegram.calls_of("sendMessage")
            if c.params["chat_id"] == flooder and "Слишком много сообщений" in str(c.params["text"])
        ]  # fmt: skip
        assert len(told) == 1
