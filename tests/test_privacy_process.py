"""The privacy promises checked on the real process: the files a SIGKILL leaves behind
after /forget, and everything the bot prints at DEBUG."""

from __future__ import annotations

from pathlib import Path

from bot.emulator import FakeTelegram, callback, group_message, private_message
from tests.conftest import MODERATOR_CHAT_ID
from tests.test_crash import BotProcess, send_button
from tests.test_forget import traces

USER, MODERATOR = 3101, 3102
NAME, USERNAME = "Ярополк", "yaropolk_secret_handle"
QUESTION = "Сын Всеволод Карпов, часть 98765 под Псковом, ему пришла повестка"
ANSWER = "Обжалуйте повестку в Псковском гарнизонном суде"
DRAFT = "Ещё адрес: Псков, улица Мира, дом 3"


async def wait_text(telegram: FakeTelegram, chat_id: int, piece: str) -> None:
    await telegram.wait_for(
        lambda calls: any(
            c.params.get("chat_id") == chat_id
            and piece in str(c.params.get("text"))
            and not c.failed
            for c in calls
        ),
        timeout=20,
    )


async def forget_with_the_buttons(telegram: FakeTelegram) -> None:
    """/forget and Yes, as the user does it, until the bot says it is done."""
    telegram.push_update(private_message(USER, "/forget"))
    asked = await telegram.wait_for(
        lambda calls: any("fg:confirm" in str(c.params.get("reply_markup")) for c in calls),
        timeout=20,
    )
    confirm = next(c for c in asked if "fg:confirm" in str(c.params.get("reply_markup")))
    telegram.push_update(
        callback(
            USER, "fg:confirm", message_id=confirm.result["message_id"],
            reply_markup=confirm.params["reply_markup"], callback_id="forget",
        )
    )  # fmt: skip
    await wait_text(telegram, USER, "мы удалили всё")


async def a_whole_flow(telegram: FakeTelegram) -> None:
    """/start, a question, an answer, a draft: everything that leaves traces."""
    telegram.chat_members[(MODERATOR_CHAT_ID, MODERATOR)] = "member"
    telegram.push_update(private_message(USER, "/start", first_name=NAME, username=USERNAME))
    telegram.push_update(private_message(USER, "/ask", first_name=NAME, username=USERNAME))
    telegram.push_update(private_message(USER, QUESTION, first_name=NAME, username=USERNAME))
    telegram.push_update(callback(USER, await send_button(telegram), callback_id="send"))
    await wait_text(telegram, MODERATOR_CHAT_ID, "Карпов")
    card = next(
        c for c in telegram.calls_of("sendMessage")
        if c.params.get("chat_id") == MODERATOR_CHAT_ID and "Карпов" in str(c.params.get("text"))
    )  # fmt: skip
    telegram.push_update(
        group_message(
            MODERATOR_CHAT_ID, MODERATOR, ANSWER,
            reply_to_message_id=card.result["message_id"], first_name="Олеся",
        )
    )  # fmt: skip
    await telegram.wait_for(lambda _: bool(telegram.calls_of("copyMessage")), timeout=20)
    telegram.push_update(private_message(USER, "/ask", first_name=NAME, username=USERNAME))
    telegram.push_update(private_message(USER, DRAFT, first_name=NAME, username=USERNAME))
    await wait_text(telegram, USER, "Мира")


async def test_nothing_of_a_forgotten_user_is_in_the_files_a_kill_leaves(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    bot = BotProcess(telegram, tmp_path)
    await bot.start()
    database = tmp_path / "bot.sqlite3"
    try:
        await a_whole_flow(telegram)
        # Names and usernames are never stored, not even for a moment.
        assert traces(database, NAME, USERNAME) == []
        assert traces(database, QUESTION, ANSWER, DRAFT) != []
        await forget_with_the_buttons(telegram)
        await bot.kill()  # no clean shutdown, no last checkpoint
    finally:
        await bot.stop()
    assert traces(database, QUESTION, ANSWER, DRAFT, NAME, USERNAME) == []


async def test_debug_logs_hold_no_text_id_name_or_token(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    bot = BotProcess(telegram, tmp_path, "--log-level", "DEBUG")
    await bot.start()
    try:
        await a_whole_flow(telegram)
        telegram.push_update(private_message(USER, "/search " + QUESTION))
        await wait_text(telegram, USER, "🔎")
        telegram.push_update(private_message(USER, "/frobnicate " + QUESTION))
        await wait_text(telegram, USER, "Такой команды я не знаю")
    finally:
        logs = await bot.stop()
    assert "DEBUG" in logs  # the level was really DEBUG
    for secret in (
        QUESTION[:20], "Карпов", ANSWER[:20], DRAFT[:15], NAME, USERNAME, "Олеся",
        str(USER), str(MODERATOR), "TEST-token-never-logged",
    ):  # fmt: skip
        assert secret not in logs, secret


async def test_a_card_that_lands_after_forget_is_deleted_even_if_a_kill_comes_between(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    """The card is on its way when the user forgets; Telegram takes it only afterwards;
    the process dies before its deletion reaches Telegram. After the restart the card
    is deleted all the same: the tombstone and the deletion were recorded with the news
    of where the card landed."""
    bot = BotProcess(telegram, tmp_path)
    await bot.start()
    try:
        card_held = telegram.hold_next("sendMessage", chat_id=MODERATOR_CHAT_ID)
        telegram.push_update(private_message(USER, "/ask"))
        telegram.push_update(private_message(USER, QUESTION))
        telegram.push_update(callback(USER, await send_button(telegram), callback_id="send"))
        await telegram.wait_for(lambda _: len(telegram.held) == 1, timeout=20)
        await forget_with_the_buttons(telegram)
        telegram.hold_next("deleteMessage", chat_id=MODERATOR_CHAT_ID)
        card_held.set()  # Telegram takes the card now, after /forget
        await telegram.wait_for(lambda _: len(telegram.held) == 2, timeout=20)
        (card,) = [
            c for c in telegram.calls_of("sendMessage")
            if c.params.get("chat_id") == MODERATOR_CHAT_ID and not c.failed
        ]  # fmt: skip
        await bot.kill()  # the deletion is on its way, unanswered
    finally:
        await bot.stop()
    await telegram.wait_for(lambda _: telegram.held[-1].error is not None, timeout=20)
    assert telegram.held[-1].error == "abandoned: the client went away while held"

    await bot.start()
    try:
        await telegram.wait_for(
            lambda _: any(not c.failed for c in telegram.calls_of("deleteMessage")), timeout=20
        )
        (deleted,) = [c for c in telegram.calls_of("deleteMessage") if not c.failed]
        telegram.push_update(private_message(MODERATOR, "/help"))  # up and serving
        await wait_text(telegram, MODERATOR, "/ask")
    finally:
        await bot.stop()
    assert deleted.params == {"chat_id": MODERATOR_CHAT_ID, "message_id": card.result["message_id"]}
    # Only one card was ever posted: the forgotten ticket's job did not run again.
    assert len([c for c in telegram.calls_of("sendMessage")
                if c.params.get("chat_id") == MODERATOR_CHAT_ID and not c.failed]) == 1  # fmt: skip
    assert traces(tmp_path / "bot.sqlite3", QUESTION) == []
