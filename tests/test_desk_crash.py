"""SIGKILL while issue 11's new work is on its way: a moderator's correction of an answer,
and a question's album. After the restart each arrives exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import emulator as emulated
from bot.emulator import ApiCall, FakeTelegram, callback, private_message
from tests.conftest import MODERATOR_CHAT_ID
from tests.test_crash import BotProcess, delivered, send_button

USER, MODERATOR = 3101, 3102


@pytest.fixture(autouse=True)
def quick_restart(telegram: FakeTelegram) -> None:
    """A restart within seconds, while a tap is still answerable (see test_crash)."""
    telegram.callback_query_timeout = 120.0


def message_id(call: ApiCall) -> int:
    result = call.result[0] if isinstance(call.result, list) else call.result
    assert isinstance(result, dict), call
    return int(result["message_id"])


def edits_of(telegram: FakeTelegram, method: str, chat_id: int, message: int) -> list[ApiCall]:
    return [
        c
        for c in telegram.calls_of(method)
        if c.params.get("chat_id") == chat_id and c.params.get("message_id") == message
        and not c.failed
    ]  # fmt: skip


async def handled_so_far(telegram: FakeTelegram, chat_id: int, sender: int) -> None:
    """Until the sender's updates so far are handled and recorded as handled: each
    sender's updates are taken in order, so once a /queue or /help sent now is answered,
    everything before it is done (the kill then hits only the outbox's work, which is
    what these tests are about)."""
    if chat_id == MODERATOR_CHAT_ID:
        telegram.chat_members[(chat_id, sender)] = "member"  # commands are for members
        probe = telegram.group_post(chat_id, sender, "/queue")
    else:
        probe = telegram.user_message(sender, "/help")
    await telegram.wait_for(
        lambda calls: any(
            c.method == "sendMessage" and c.params.get("chat_id") == chat_id
            and (c.result or {}).get("message_id", 0) > probe["message_id"]
            for c in calls
        ),
        timeout=20,
    )  # fmt: skip


async def test_kill_while_a_correction_is_on_its_way(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    bot = BotProcess(telegram, tmp_path)
    await bot.start()
    try:
        telegram.push_update(private_message(USER, "/start"))
        telegram.push_update(callback(USER, "nav:ask", callback_id="a1"))
        telegram.push_update(private_message(USER, "Сколько дней на обжалование?"))
        telegram.push_update(callback(USER, await send_button(telegram), callback_id="send"))
        await telegram.wait_for(
            lambda _: len(delivered(telegram, "sendMessage", MODERATOR_CHAT_ID, "<b>#1</b>")) == 1,
            timeout=20,
        )
        (card,) = delivered(telegram, "sendMessage", MODERATOR_CHAT_ID, "<b>#1</b>")
        answer = telegram.group_post(
            MODERATOR_CHAT_ID, MODERATOR, "Срок — 3 дня.", reply_to_message_id=message_id(card)
        )
        await telegram.wait_for(
            lambda _: len(delivered(telegram, "sendMessage", USER, "⬆️")) == 1, timeout=20
        )
        (copy,) = delivered(telegram, "copyMessage", USER)
        copy_id = message_id(copy)

        # The moderator corrects the answer; the edit is on its way when the process dies.
        telegram.hold_next("editMessageText", chat_id=USER)
        telegram.edit_post(MODERATOR_CHAT_ID, answer["message_id"], "Срок — 10 дней.")
        await telegram.wait_for(lambda _: bool(telegram.held), timeout=20)
        await handled_so_far(telegram, MODERATOR_CHAT_ID, MODERATOR)
        await bot.kill()
    finally:
        await bot.stop()
    assert telegram.message(USER, copy_id)["text"] == "Срок — 3 дня."  # type: ignore[index]

    await bot.start()
    try:
        await telegram.wait_for(
            lambda _: len(edits_of(telegram, "editMessageText", USER, copy_id)) == 1, timeout=20
        )
    finally:
        await bot.stop()
    assert len(edits_of(telegram, "editMessageText", USER, copy_id)) == 1
    assert telegram.message(USER, copy_id)["text"] == "Срок — 10 дней."  # type: ignore[index]
    assert [c.error for c in telegram.held] == ["abandoned: the client went away while held"]
    # Edited in place, not sent again: no "corrected" notice, no second copy.
    assert delivered(telegram, "sendMessage", USER, "✏️") == []
    assert len(delivered(telegram, "copyMessage", USER)) == 1


async def test_kill_while_a_questions_album_is_on_its_way(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    items = [("photo", emulated.photo()) for _ in range(3)]
    bot = BotProcess(telegram, tmp_path)
    await bot.start()
    try:
        telegram.push_update(private_message(USER, "/ask"))
        for update in emulated.album(USER, items, caption="Три страницы решения"):
            telegram.push_update(update)
        send_data = await send_button(telegram)
        await telegram.wait_for(
            lambda calls: any(
                c.method == "editMessageText" and "×3" in str(c.params.get("text")) for c in calls
            ),
            timeout=20,
        )
        telegram.hold_next("sendMediaGroup", chat_id=MODERATOR_CHAT_ID)
        telegram.push_update(callback(USER, send_data, callback_id="send"))
        await telegram.wait_for(lambda _: bool(telegram.held), timeout=20)
        await handled_so_far(telegram, USER, USER)
        await bot.kill()
    finally:
        await bot.stop()

    await bot.start()
    try:
        await telegram.wait_for(
            lambda _: len(delivered(telegram, "sendMediaGroup", MODERATOR_CHAT_ID)) == 1,
            timeout=20,
        )
    finally:
        await bot.stop()
    (album,) = delivered(telegram, "sendMediaGroup", MODERATOR_CHAT_ID)
    assert [m["media"] for m in album.params["media"]] == [m[-1]["file_id"] for _, m in items]
    (card,) = delivered(telegram, "sendMessage", MODERATOR_CHAT_ID, "<b>#1</b>")
    assert album.params["reply_parameters"]["message_id"] == message_id(card)
    assert [c.error for c in telegram.held] == ["abandoned: the client went away while held"]


async def test_kill_while_the_closing_notice_is_on_its_way(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MODERATOR)] = "member"
    closed = "Юристы закрыли вопрос №1 без ответа."
    bot = BotProcess(telegram, tmp_path)
    await bot.start()
    try:
        telegram.push_update(private_message(USER, "/ask"))
        telegram.push_update(private_message(USER, "Меня вызвали в военкомат, что делать?"))
        telegram.push_update(callback(USER, await send_button(telegram), callback_id="send"))
        await telegram.wait_for(
            lambda _: len(delivered(telegram, "sendMessage", MODERATOR_CHAT_ID, "<b>#1</b>")) == 1,
            timeout=20,
        )
        (card,) = delivered(telegram, "sendMessage", MODERATOR_CHAT_ID, "<b>#1</b>")
        card_id = message_id(card)
        # Close, then Yes on the card, as a moderator taps them.
        close = telegram.press_button(MODERATOR, MODERATOR_CHAT_ID, card_id, "mod:close:1")
        await telegram.wait_for_call(
            "answerCallbackQuery", callback_query_id=close["id"], timeout=20
        )
        assert edits_of(telegram, "editMessageReplyMarkup", MODERATOR_CHAT_ID, card_id)
        # Killed with Yes in flight: its answer and the notice are both on their way.
        telegram.hold_next("answerCallbackQuery")
        telegram.hold_next("sendMessage", chat_id=USER)
        telegram.press_button(MODERATOR, MODERATOR_CHAT_ID, card_id, "mod:close-yes:1")
        await telegram.wait_for(lambda _: len(telegram.held) == 2, timeout=20)
        await bot.kill()
    finally:
        await bot.stop()

    await bot.start()
    try:
        await telegram.wait_for(
            lambda _: len(delivered(telegram, "sendMessage", USER, closed)) == 1, timeout=20
        )
        await telegram.wait_for(
            lambda _: any(
                "Статус: 🔒 закрыто" in str(c.params.get("text"))
                for c in edits_of(telegram, "editMessageText", MODERATOR_CHAT_ID, card_id)
            ),
            timeout=20,
        )
    finally:
        await bot.stop()
    assert len(delivered(telegram, "sendMessage", USER, closed)) == 1
    assert [c.error for c in telegram.held] == ["abandoned: the client went away while held"] * 2
    # The tap is taken again after the restart but not answered: the process before may
    # have answered it already (here the answer was lost with it), and Telegram refuses
    # a second answer. The card and the notice are what the moderator sees.
    answers = [c for c in telegram.calls_of("answerCallbackQuery") if not c.failed]
    assert [c for c in answers if "закрыто" in str(c.params.get("text"))] == []
