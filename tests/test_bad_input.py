"""Forged and stale buttons, unknown commands, stickers, voice, edits, Telegram errors."""

from __future__ import annotations

import pytest

from bot import screens
from bot.emulator import (
    NOT_MODIFIED,
    FakeTelegram,
    callback,
    edited_private_message,
    group_message,
    private_message,
)
from bot.factory import App
from tests.conftest import feed
from tests.test_menus import MAIN_MENU, USER, click, data_of, fsm_screen
from tests.test_questions import message_id_of

STALE_RU = "Эта кнопка больше не действует. Показываю текущий экран."


async def open_topic(app: App, telegram: FakeTelegram, slug: str = "passport") -> None:
    await feed(app, private_message(USER, "/start"))
    await click(app, telegram, f"tp:{slug}:0")
    telegram.clear()


async def test_forged_callbacks_get_a_short_answer_and_the_current_screen(
    app: App, telegram: FakeTelegram
) -> None:
    await open_topic(app, telegram)
    forged = [
        "garbage",
        "nav:no-such-screen",
        "tp:passport:not-a-number",
        "ar:2023-09",
        "lg:fr",
        "",
        "x" * 64,
    ]
    for data in forged:
        await click(app, telegram, data)
        (answer,) = telegram.calls_of("answerCallbackQuery")
        assert answer.params["text"] == STALE_RU, data
        # The message shows the passport card already: no edit that Telegram would
        # refuse as "not modified", and no new message.
        assert telegram.calls_of("editMessageText") == [], data
        assert telegram.calls_of("sendMessage") == []
    assert await fsm_screen(app) == "tp:passport:0"
    # A forged button on ANOTHER message gets the current screen drawn there.
    telegram.register_message(USER, 7, "старое меню")
    await click(app, telegram, "garbage", message_id=7)
    (edit,) = telegram.calls_of("editMessageText")
    assert edit.params["message_id"] == 7
    assert data_of(edit.params["reply_markup"])[-3:] == ["ask:passport", "nav:topics", "nav:home"]


async def test_stale_topic_falls_back_to_the_topic_list(app: App, telegram: FakeTelegram) -> None:
    await open_topic(app, telegram)
    await click(app, telegram, "tp:withdrawn-topic:0")
    (answer,) = telegram.calls_of("answerCallbackQuery")
    assert answer.params["text"] == STALE_RU
    (edit,) = telegram.calls_of("editMessageText")
    assert edit.params["text"].startswith("<b>Темы</b>")
    assert await fsm_screen(app) == "nav:topics"


async def test_stale_article_shows_the_screen_the_user_is_on(
    app: App, telegram: FakeTelegram
) -> None:
    await open_topic(app, telegram, "courts")
    telegram.register_message(USER, 5, "старая статья")
    await click(app, telegram, "ar:2019-01:gone:courts:0", message_id=5)
    assert telegram.calls_of("answerCallbackQuery")[0].params["text"] == STALE_RU
    (edit,) = telegram.calls_of("editMessageText")
    assert "ar:2023-09:reservation-cassation:courts:0" in data_of(edit.params["reply_markup"])


async def test_out_of_range_page_is_clamped(app: App, telegram: FakeTelegram) -> None:
    await open_topic(app, telegram)
    await click(app, telegram, "tp:registration:99")
    (edit,) = telegram.calls_of("editMessageText")
    assert "tp:registration:1" not in data_of(edit.params["reply_markup"])
    assert await fsm_screen(app) == "tp:registration:0"


async def test_unknown_command_gets_a_hint_and_the_current_screen(
    app: App, telegram: FakeTelegram
) -> None:
    await open_topic(app, telegram)
    await feed(app, private_message(USER, "/frobnicate"))
    hint, screen = telegram.calls_of("sendMessage")
    assert hint.params["text"] == "Такой команды я не знаю. Попробуйте /start или /help."
    assert data_of(screen.params["reply_markup"])[-3:] == ["ask:passport", "nav:topics", "nav:home"]


async def test_sticker_voice_and_text_in_a_menu(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/start"))
    sticker = {
        "file_id": "CAAC",
        "file_unique_id": "u1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    voice = {"file_id": "AwAC", "file_unique_id": "u2", "duration": 3}
    for extra in (
        {"sticker": sticker},
        {"voice": voice},
        {"location": {"latitude": 55.7, "longitude": 37.6}},
    ):
        telegram.clear()
        await feed(app, private_message(USER, None, **extra))
        hint, screen = telegram.calls_of("sendMessage")
        assert hint.params["text"].startswith(
            "Такие сообщения я не разбираю, поэтому оно никому не передано."
        )
        assert data_of(screen.params["reply_markup"]) == MAIN_MENU
    # Text in a menu is a question in the user's words: the bot looks in the digest.
    telegram.clear()
    await feed(app, private_message(USER, "можно ли отказаться от службы?"))
    (answer,) = telegram.calls_of("sendMessage")
    assert answer.params["text"].startswith("🔎")


async def test_edited_message_gets_a_clear_answer(app: App, telegram: FakeTelegram) -> None:
    await feed(app, edited_private_message(USER, "исправленный текст", message_id=100))
    (call,) = telegram.calls_of("sendMessage")
    assert call.params["text"].startswith(
        "Исправления в уже отправленных сообщениях до меня не доходят"
    )


async def test_the_same_screen_again_makes_no_request(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/start"))
    (menu,) = telegram.calls_of("sendMessage")
    menu_id = message_id_of(telegram, menu)
    telegram.clear()
    await click(app, telegram, "nav:home", message_id=menu_id)  # the same screen again
    # Telegram would answer 400 "message is not modified": the edit is not made at all.
    assert telegram.calls_of("editMessageText") == []
    assert telegram.calls_of("sendMessage") == []
    assert len(telegram.calls_of("answerCallbackQuery")) == 1


async def test_message_not_modified_from_telegram_is_harmless(
    app: App, telegram: FakeTelegram
) -> None:
    """Where the bot cannot know (another device changed nothing), the 400 is harmless."""
    await feed(app, private_message(USER, "/start"))
    telegram.register_message(USER, 9, "menu")
    telegram.fail_next("editMessageText", status=400, description=NOT_MODIFIED)
    await click(app, telegram, "nav:topics", message_id=9)
    assert telegram.calls_of("sendMessage") == []
    assert await fsm_screen(app) == "nav:topics"


async def test_uneditable_message_gets_the_screen_as_a_new_message(
    app: App, telegram: FakeTelegram
) -> None:
    telegram.expect_rejection("message to edit not found")
    await feed(app, private_message(USER, "/start"))
    await click(app, telegram, "nav:topics", message_id=777)  # not a message the bot knows
    (edit,) = telegram.calls_of("editMessageText")
    assert edit.failed
    (sent,) = telegram.calls_of("sendMessage")
    assert sent.params["text"].startswith("<b>Темы</b>")
    assert await fsm_screen(app) == "nav:topics"


async def test_inaccessible_message_gets_the_screen_as_a_new_message(
    app: App, telegram: FakeTelegram
) -> None:
    update = callback(USER, "nav:about")
    # Telegram sends date 0 for messages older than 48 h (InaccessibleMessage).
    update["callback_query"]["message"] = {
        "chat": {"id": USER, "type": "private"},
        "message_id": 5,
        "date": 0,
    }
    await feed(app, update)
    assert telegram.calls_of("editMessageText") == []
    (sent,) = telegram.calls_of("sendMessage")
    assert "IBAN" in sent.params["text"]


async def test_a_crashing_handler_answers_politely_and_the_bot_goes_on(
    app: App, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object) -> None:
        raise RuntimeError("disk on fire")

    await feed(app, private_message(USER, "/start"))
    monkeypatch.setattr(screens, "about", boom)
    await click(app, telegram, "nav:about")
    (answer,) = telegram.calls_of("answerCallbackQuery")
    assert (
        answer.params["text"]
        == "Что-то пошло не так на нашей стороне. Пожалуйста, попробуйте ещё раз."
    )
    assert answer.params["show_alert"] is True

    monkeypatch.undo()
    await click(app, telegram, "nav:about")
    assert "IBAN" in telegram.calls_of("editMessageText")[0].params["text"]


async def test_group_messages_are_ignored_by_the_private_menus(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, group_message(-100555, USER, "/start"))
    await feed(app, group_message(-100555, USER, "hello"))
    assert telegram.calls == []
    assert await app.db.fetch_one("SELECT id FROM users") is None
