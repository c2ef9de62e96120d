"""Flow 1 (topic menus) and flow 5 (languages), through the real Dispatcher and HTTP."""

from __future__ import annotations

import json
from typing import Any

from bot.emulator import FakeTelegram, callback, private_message
from bot.factory import App
from tests.conftest import feed

USER = 501


def buttons(markup: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(text, callback_data) of every inline button, row by row."""
    assert markup is not None
    return [(b["text"], b["callback_data"]) for row in markup["inline_keyboard"] for b in row]


def data_of(markup: dict[str, Any] | None) -> list[str]:
    return [data for _, data in buttons(markup)]


async def fsm_screen(app: App, user_id: int = USER) -> str | None:
    await app.storage.flush()  # menu positions are written in batches
    row = await app.db.fetch_one(
        "SELECT state, data FROM fsm_state WHERE user_id = ? AND chat_id = ?", (user_id, user_id)
    )
    assert row is not None
    assert row[0] == "Browsing:menu"
    screen: str | None = json.loads(row[1]).get("screen")
    return screen


async def click(
    app: App, telegram: FakeTelegram, data: str, *, user: int = USER, **kw: Any
) -> None:
    telegram.clear()
    await feed(app, callback(user, data, **kw))


MAIN_MENU = ["nav:topics", "nav:latest", "nav:ask", "nav:subs", "nav:mine", "nav:lang", "nav:about"]


async def test_start_shows_main_menu_in_russian_and_registers_user(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, private_message(USER, "/start", language_code="ru"))

    (call,) = telegram.calls_of("sendMessage")
    assert call.params["chat_id"] == USER
    assert call.params["parse_mode"] == "HTML"
    assert call.params["text"].startswith("<b>Здравствуйте! Это бот-консультант ДСО.</b>")
    assert data_of(call.params["reply_markup"]) == MAIN_MENU
    assert buttons(call.params["reply_markup"])[0][0] == "📚 Темы"
    row = await app.db.fetch_one("SELECT locale FROM users WHERE id = ?", (USER,))
    assert row is not None and row[0] == "ru"
    assert await fsm_screen(app) == "nav:home"
    # Nothing about the user but the id and the language is stored.
    columns = [r[1] for r in await app.db.fetch_all("PRAGMA table_info(users)")]
    assert columns == ["id", "locale", "created_at", "pseudonym"]
    # A pseudonym is given only to someone who asks a question.
    row = await app.db.fetch_one("SELECT pseudonym FROM users WHERE id = ?", (USER,))
    assert row is not None and row[0] is None


async def test_language_from_telegram_at_first_contact(app: App, telegram: FakeTelegram) -> None:
    cases = {
        601: ("uk", "ru"),
        602: ("be", "ru"),
        603: ("kk", "ru"),
        604: ("ky", "ru"),
        605: ("en", "en"),
        606: ("de", "en"),
        607: (None, "en"),
        608: ("ru-RU", "ru"),
    }
    for user_id, (code, _) in cases.items():
        await feed(app, private_message(user_id, "/start", language_code=code))
    for user_id, (_, expected) in cases.items():
        row = await app.db.fetch_one("SELECT locale FROM users WHERE id = ?", (user_id,))
        assert row is not None and row[0] == expected, (user_id, code)
    english = [c for c in telegram.calls_of("sendMessage") if c.params["chat_id"] == 605]
    assert english[0].params["text"].startswith("<b>Hello! This is the MCO consultation bot.</b>")


async def test_click_through_topics_to_an_article_and_back(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, private_message(USER, "/start"))
    menu_id = 1  # the fake numbers the bot's messages in each chat from 1

    await click(app, telegram, "nav:topics", message_id=menu_id)
    (edit,) = telegram.calls_of("editMessageText")
    assert edit.params["message_id"] == menu_id
    assert edit.params["text"].startswith("<b>Темы</b>")
    assert data_of(edit.params["reply_markup"]) == [
        "tp:passport:0",
        "tp:registration:0",
        "tp:mobilization:0",
        "tp:servicemen:0",
        "tp:foreign-agents:0",
        "tp:courts:0",
        "nav:home",
        "nav:home",
    ]
    assert telegram.calls_of("answerCallbackQuery")
    assert telegram.calls_of("sendMessage") == []  # navigation never spams the chat

    await click(app, telegram, "tp:passport:0", message_id=menu_id)
    (edit,) = telegram.calls_of("editMessageText")
    text = edit.params["text"]
    assert "<b>Для загранпаспорта от призывников требуют документы" in text
    assert "<b>Электронный реестр воинского учёта не заработает в\u00a02023\u00a0году</b>" in text
    assert data_of(edit.params["reply_markup"]) == [
        "ar:2023-09:passport-certificate:passport:0",
        "ar:2023-09:e-registry-postponed:passport:0",
        "ask:passport",
        "nav:topics",
        "nav:home",
    ]
    # Article buttons carry the short titles, whole (the headlines are in the text).
    assert [label for label, _ in buttons(edit.params["reply_markup"])][:2] == [
        "📄 Загранпаспорт и\u00a0военкомат",
        "📄 Электронный реестр отложен",
    ]
    assert await fsm_screen(app) == "tp:passport:0"

    await click(app, telegram, "ar:2023-09:e-registry-postponed:passport:0", message_id=menu_id)
    (edit,) = telegram.calls_of("editMessageText")
    assert edit.params["text"].startswith(
        "<b>Электронный реестр воинского учёта не заработает в\u00a02023\u00a0году</b>\n<i>Дайджест ДСО"
    )
    assert "2025" in edit.params["text"]
    assert data_of(edit.params["reply_markup"]) == ["ask:passport", "tp:passport:0", "nav:home"]

    await click(app, telegram, "tp:passport:0", message_id=menu_id)  # Back
    assert "tp:passport:0" not in data_of(
        telegram.calls_of("editMessageText")[0].params["reply_markup"]
    )
    await click(app, telegram, "nav:home", message_id=menu_id)
    (edit,) = telegram.calls_of("editMessageText")
    assert data_of(edit.params["reply_markup"]) == MAIN_MENU
    assert await fsm_screen(app) == "nav:home"


async def test_topic_card_lists_newest_issue_first(app: App, telegram: FakeTelegram) -> None:
    from bot.content import Issue

    old = app.library.latest
    assert old is not None
    newer = Issue.model_validate(
        {
            **old.model_dump(),
            "issue": "2023-10",
            "date": "2023-10-31",
            "title": {"ru": "Дайджест — октябрь 2023", "en": "Digest — October 2023"},
        }
    )
    app.library.add_issue(newer)
    await feed(app, private_message(USER, "/start topic_courts"))
    (call,) = telegram.calls_of("sendMessage")
    text = call.params["text"]
    assert text.index("октябрь 2023") < text.index("сентябрь 2023")
    assert data_of(call.params["reply_markup"])[0] == "ar:2023-10:foreign-agent-appeal:courts:0"


async def test_latest_digest_and_about(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/start", language_code="en"))
    await click(app, telegram, "nav:latest")
    (edit,) = telegram.calls_of("editMessageText")
    assert edit.params["text"].startswith(
        "<b>Digest from the Movement of Conscientious Objection — September 2023</b>"
    )
    assert [d for d in data_of(edit.params["reply_markup"]) if d.startswith("ar:")] == [
        "ar:2023-09:passport-certificate::0",
        "ar:2023-09:servicemen-no-leave::0",
        "ar:2023-09:e-registry-postponed::0",
        "ar:2023-09:foreign-agent-appeal::0",
        "ar:2023-09:reservation-cassation::0",
    ]
    assert [label for label, data in buttons(edit.params["reply_markup"]) if data[:3] == "ar:"] == [
        "📄 Passport and military papers",
        "📄 Leave for service members",
        "📄 Electronic registry postponed",
        "📄 Foreign agent status appeal",
        "📄 Reservation: cassation courts",
    ]
    await click(app, telegram, "ar:2023-09:servicemen-no-leave::0")
    (edit,) = telegram.calls_of("editMessageText")
    assert data_of(edit.params["reply_markup"])[-2:] == ["nav:latest", "nav:home"]

    await click(app, telegram, "nav:about")
    (edit,) = telegram.calls_of("editMessageText")
    assert "IBAN: <code>FI35 8146 9710 3001 03</code>" in edit.params["text"]
    assert (
        "TON: <code>EQBHbOCI1TvoA0AwShcrekk01Q2YaJ4b2Vrwc6fzux3F7iEA</code>" in edit.params["text"]
    )


async def test_language_switch_applies_at_once_and_sticks(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/language"))
    (call,) = telegram.calls_of("sendMessage")
    assert buttons(call.params["reply_markup"])[:2] == [
        ("✓ Русский", "lg:ru"),
        ("English", "lg:en"),
    ]

    await click(app, telegram, "lg:en")
    (edit,) = telegram.calls_of("editMessageText")
    assert edit.params["text"].startswith("<b>Language</b>")
    assert buttons(edit.params["reply_markup"])[:2] == [
        ("Русский", "lg:ru"),
        ("✓ English", "lg:en"),
    ]
    (answer,) = telegram.calls_of("answerCallbackQuery")
    assert answer.params["text"] == "The bot now speaks English."
    row = await app.db.fetch_one("SELECT locale FROM users WHERE id = ?", (USER,))
    assert row is not None and row[0] == "en"

    # Telegram still says "ru", the stored choice wins.
    telegram.clear()
    await feed(app, private_message(USER, "/start", language_code="ru"))
    assert telegram.calls_of("sendMessage")[0].params["text"].startswith("<b>Hello!")


async def test_deep_links(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/start topic_foreign-agents"))
    (call,) = telegram.calls_of("sendMessage")
    assert call.params["text"].startswith("🏷️ <b>")
    assert await fsm_screen(app) == "tp:foreign-agents:0"

    telegram.clear()
    await feed(app, private_message(USER, "/start topic_nonexistent"))
    first, second = telegram.calls_of("sendMessage")
    assert first.params["text"] == "Эта ссылка устарела. Вот главное меню."
    assert data_of(second.params["reply_markup"]) == MAIN_MENU


async def test_help_command(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/help", language_code="en"))
    (call,) = telegram.calls_of("sendMessage")
    assert call.params["text"].startswith("<b>How to use the bot</b>")
    assert "/language — change the language" in call.params["text"]
