"""What people in danger need: pseudonyms, /privacy, /mydata, /forget, retention, logs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import FakeTelegram, callback, group_message, private_message
from bot.factory import App, open_app
from tests.conftest import MODERATOR_CHAT_ID, delivering, feed, make_settings, settle
from tests.test_questions import (
    MOD_A,
    USER,
    answered_ticket,
    ask,
    message_id_of,
    posted_card,
    send,
    to_group,
    to_user,
)

SECRET_TEXT = "Мой сын служит в части 12345 в Курске, фамилия Петров"


def forget_press(
    telegram: FakeTelegram, data: str = "fg:confirm", user: int = USER
) -> dict[str, Any]:
    """A press on the /forget question as Telegram sends it: with the message it is on."""
    asked = [
        c for c in telegram.calls_of("sendMessage")
        if c.params.get("chat_id") == user and "fg:confirm" in str(c.params.get("reply_markup"))
    ][-1]  # fmt: skip
    return callback(
        user, data, message_id=asked.result["message_id"], reply_markup=asked.params["reply_markup"]
    )


async def count(app: App, table: str) -> int:
    row = await app.db.fetch_one(f"SELECT count(*) FROM {table}")  # noqa: S608 - a test's own table names
    assert row is not None
    return int(row[0])


async def test_privacy_statement(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/privacy"))
    (answer,) = telegram.calls_of("sendMessage")
    assert answer.params["text"].startswith("<b>Ваша конфиденциальность</b>")
    assert (
        "удаляется через 90 дней после ответа юриста или закрытия вопроса" in answer.params["text"]
    )
    assert "автоудаление" in answer.params["text"]


async def test_my_data_shows_what_is_stored(live: App, telegram: FakeTelegram) -> None:
    await send(live, await ask(live, telegram))
    await feed(live, private_message(USER, "/subscribe"))
    telegram.clear()
    await feed(live, private_message(USER, "/mydata"))
    # The card may be posted to the group meanwhile: only the user's chat is read here.
    (answer,) = [c for c in telegram.calls_of("sendMessage") if c.params.get("chat_id") == USER]
    text = answer.params["text"]
    assert text.startswith("<b>Что мы храним о вас</b>")
    assert "Язык: Русский" in text
    assert "Подписка на дайджест: да" in text
    assert "Вопросы: #1 (🆕 ждёт ответа, " in text
    assert "Сохранённых текстов вопросов и ответов: 1" in text


async def test_my_data_counts_a_menu_position_not_written_yet(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, private_message(USER, "/start"))
    assert app.storage.deferred == 1  # the home screen waits for the next flush
    telegram.clear()
    await feed(app, private_message(USER, "/mydata"))
    (answer,) = telegram.calls_of("sendMessage")
    assert (
        "Сохранённое состояние чата (открытый экран, черновик вопроса): да" in answer.params["text"]
    )


async def test_forget_deletes_everything_in_one_go_and_redacts_the_cards(
    live: App, telegram: FakeTelegram
) -> None:
    card_id, _ = await answered_ticket(live, telegram)
    await feed(live, private_message(USER, "/subscribe"))
    await feed(live, private_message(USER, "/forget"))
    confirm = to_user(telegram, "sendMessage")[-1]
    assert confirm.params["text"].startswith("<b>Удалить всё, что мы о вас храним?</b>")
    assert [
        b["callback_data"] for row in confirm.params["reply_markup"]["inline_keyboard"] for b in row
    ] == ["fg:confirm", "fg:cancel"]

    confirm_press = forget_press(telegram)
    await feed(live, forget_press(telegram, "fg:cancel"))
    assert await count(live, "tickets") == 1

    telegram.clear()
    await feed(live, confirm_press)
    done = next(c for c in telegram.calls_of("editMessageText") if c.params["chat_id"] == USER)
    assert done.params["text"].startswith("✅ Готово: мы удалили всё")
    assert "удалите и этот чат" in done.params["text"]
    for table in (
        "users",
        "tickets",
        "ticket_messages",
        "group_messages",
        "user_messages",
        "subscriptions",
        "deliveries",
        "fsm_state",
    ):
        assert await count(live, table) == 0, table
    await settle(live)
    redacted = telegram.calls_of("editMessageText")[-1]
    assert (redacted.params["chat_id"], redacted.params["message_id"]) == (
        MODERATOR_CHAT_ID,
        card_id,
    )
    assert redacted.params["text"] == "🗑 Удалено по просьбе пользователя."
    assert "reply_markup" not in redacted.params
    # The card is edited, not deleted; the moderator's own answer stays theirs.
    assert telegram.calls_of("deleteMessage") == []


async def test_retention_purges_old_answered_tickets_but_keeps_counts(
    live: App, telegram: FakeTelegram
) -> None:
    card_id, _ = await answered_ticket(live, telegram)
    await live.db.write("UPDATE tickets SET first_answer_at = first_answer_at - 91 * 86400")
    assert await live.privacy.purge_expired() == 1
    row = await live.db.fetch_one("SELECT count(*), count(text) FROM ticket_messages")
    assert row is not None
    assert tuple(row) == (2, 0)
    ticket = await live.db.fetch_one("SELECT state, purged_at IS NOT NULL FROM tickets")
    assert ticket is not None
    assert tuple(ticket) == ("answered", 1)
    await settle(live)
    redacted = telegram.calls_of("editMessageText")[-1]
    assert (redacted.params["chat_id"], redacted.params["message_id"]) == (
        MODERATOR_CHAT_ID,
        card_id,
    )
    assert redacted.params["text"] == "🗑 Содержание обращения удалено по истечении срока хранения."
    stats = await live.questions.stats()
    assert stats.tickets.by_state == {"answered": 1}
    assert await live.privacy.purge_expired() == 0  # once


async def test_identity_is_shown_only_when_the_setting_says_so(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    for show, expected in ((False, False), (True, True)):
        telegram.clear()
        settings = make_settings(telegram, tmp_path / str(show), show_user_identity=show)
        async with open_app(settings) as app, delivering(app):
            await send(app, await ask(app, telegram))
            card = await posted_card(telegram)
            assert (f'href="tg://user?id={USER}"' in card.params["text"]) is expected
            assert (str(USER) in card.params["text"]) is expected


async def test_no_user_text_id_or_name_in_logs_at_info(
    live: App, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await feed(live, private_message(USER, "/start", first_name="Sergei", username="sergei_secret"))
    key = await ask(live, telegram, SECRET_TEXT)
    telegram.fail_next("sendMessage", status=500, chat_id=MODERATOR_CHAT_ID)  # a warning is logged
    await send(live, key)
    await settle(live)
    card_id = message_id_of(telegram, to_group(telegram)[0])
    await feed(
        live,
        group_message(
            MODERATOR_CHAT_ID,
            MOD_A,
            "Ответ: обратитесь в суд по месту жительства",
            reply_to_message_id=card_id,
            first_name="Olga",
        ),
    )
    await telegram.wait_for_call("copyMessage", chat_id=USER)
    await feed(live, private_message(USER, "/frobnicate " + SECRET_TEXT))
    await feed(live, callback(USER, "garbage:" + str(USER)))
    informative = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert informative, "the flow logs something at INFO or above"
    for record in informative:
        line = record.getMessage() + (record.exc_text or "")
        for secret in (
            SECRET_TEXT,
            "Петров",
            str(USER),
            "Sergei",
            "sergei_secret",
            "обратитесь в суд",
            "TEST-token-never-logged",
        ):
            assert secret not in line, (secret, line)


async def test_flood_control_on_a_menu_answer_is_waited_out(
    app: App, telegram: FakeTelegram
) -> None:
    telegram.fail_next(
        "sendMessage",
        status=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        chat_id=USER,
    )
    await feed(app, private_message(USER, "/start"))
    attempts = telegram.calls_of("sendMessage")
    assert [c.failed for c in attempts] == [True, False]
    assert attempts[1].at - attempts[0].at >= 0.95
    assert attempts[1].params["text"].startswith("<b>Здравствуйте!")
