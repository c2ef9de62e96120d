"""Nothing left behind: /forget, retention and pseudonyms against a careful attacker.

Each test attacks one promise of README's "Privacy & security" on a path that broke it:
a card still on its way, the bot's other copies, reused ticket numbers, the bytes on
disk, a banned user, what retention keeps, abandoned drafts, guessable pseudonyms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import FakeTelegram, callback, group_message, photo, private_message
from bot.factory import App, open_app
from tests.conftest import MODERATOR_CHAT_ID, delivering, feed, make_settings, reader_of, settle
from tests.test_privacy import count, forget_press
from tests.test_questions import (
    MOD_A,
    USER,
    answered_ticket,
    ask,
    message_id_of,
    posted_card,
    row,
    send,
    to_group,
)

OTHER = 9002
SECRET = "Мой брат Кирилл Соколов служит в части 54321 под Белгородом"
ANSWER = "Кириллу стоит обратиться в военную прокуратуру Белгорода"
DRAFT = "черновик: улица Пушкина, дом 17, квартира 4"


async def forget(app: App, telegram: FakeTelegram, user: int = USER) -> None:
    await feed(app, private_message(user, "/forget"))
    await feed(app, forget_press(telegram, user=user))


def in_group(telegram: FakeTelegram) -> dict[int, dict[str, Any]]:
    """The moderators' group as it stands now: message id -> message."""
    return {m["message_id"]: m for m in telegram.history(MODERATOR_CHAT_ID)}


def visible(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


# ---- /forget really forgets ------------------------------------------------------------


async def test_a_card_on_its_way_when_the_user_forgets_is_deleted_once_it_lands(
    live: App, telegram: FakeTelegram
) -> None:
    release = telegram.hold_next("sendMessage", chat_id=MODERATOR_CHAT_ID)
    await send(live, await ask(live, telegram, SECRET))
    await telegram.wait_for(lambda _: bool(telegram.held))  # the card is on its way
    await forget(live, telegram)
    assert await count(live, "tickets") == 0
    release.set()  # Telegram accepts the card only now, after /forget
    deleted = await telegram.wait_for_call("deleteMessage", chat_id=MODERATOR_CHAT_ID)
    card = next(c for c in to_group(telegram) if SECRET[:20] in str(c.params.get("text")))
    assert deleted.params["message_id"] == message_id_of(telegram, card)
    await settle(live)
    assert all(SECRET[:20] not in visible(m) for m in in_group(telegram).values())
    # No job of the forgotten ticket is left to post anything later.
    assert await count(live, "outbox WHERE done_at IS NULL") == 0


async def test_a_follow_up_on_its_way_when_the_user_forgets_is_deleted_once_it_lands(
    live: App, telegram: FakeTelegram
) -> None:
    _, answer_id = await answered_ticket(live, telegram)
    await settle(live)
    release = telegram.hold_next("sendMessage", chat_id=MODERATOR_CHAT_ID)
    reply_to = {
        "message_id": answer_id,
        "date": 0,
        "chat": {"id": USER, "type": "private"},
        "text": "Ответ",
    }
    await feed(live, private_message(USER, SECRET, reply_to=reply_to))
    await telegram.wait_for(lambda _: bool(telegram.held))
    await forget(live, telegram)
    release.set()
    await telegram.wait_for(
        lambda _: (
            all(SECRET[:20] not in visible(m) for m in in_group(telegram).values())
            and telegram.calls_of("deleteMessage") != []
        ),
    )


async def test_every_copy_the_bot_made_goes_and_the_moderators_own_stay(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    long_question = SECRET + " " + "подробности " * 400  # a card and a part
    await feed(live, private_message(USER, "/ask"))
    await feed(live, private_message(USER, None, photo=photo(), caption=long_question))
    preview = [
        c
        for c in telegram.calls_of("sendMessage")
        if "dr:send:" in str(c.params.get("reply_markup"))
    ][-1]
    key = next(
        b["callback_data"]
        for r in preview.params["reply_markup"]["inline_keyboard"]
        for b in r
        if b["callback_data"].startswith("dr:send:")
    )
    await feed(live, callback(USER, key, message_id=message_id_of(telegram, preview)))
    await settle(live)
    card_id = (await row(live, "SELECT card_message_id FROM tickets WHERE id = 1"))[0]
    answer = group_message(MODERATOR_CHAT_ID, MOD_A, ANSWER, reply_to_message_id=card_id)
    await feed(live, answer)
    await settle(live)
    await feed(
        live, group_message(MODERATOR_CHAT_ID, MOD_A, "/ticket 1")
    )  # the history quotes the user
    await settle(live)
    before = in_group(telegram)
    quoting = [i for i, m in before.items() if SECRET[:20] in visible(m)]
    assert len(quoting) >= 2  # the card and the /ticket history at least
    await forget(live, telegram)
    await settle(live)
    after = in_group(telegram)
    # The card says it was deleted; every other copy is gone.
    assert visible(after[card_id]) == "🗑 Удалено по просьбе пользователя."
    assert after[card_id].get("reply_markup") is None
    for message in after.values():
        assert SECRET[:20] not in visible(message)
        assert "photo" not in message or message["message_id"] == card_id
    # The moderator's own answer stays theirs: nothing tried to delete it.
    own = answer["message"]["message_id"]
    assert own not in [c.params["message_id"] for c in telegram.calls_of("deleteMessage")]


async def test_forum_topic_of_a_forgotten_ticket_is_renamed_and_closed(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(telegram, tmp_path, moderator_forum=True)
    async with open_app(settings) as app, delivering(app):
        await send(app, await ask(app, telegram, SECRET))
        await posted_card(telegram)
        await settle(app)
        reader = await reader_of(app, USER)
        (topic,) = telegram.topics(MODERATOR_CHAT_ID)
        assert reader in topic["name"]
        await forget(app, telegram)
        await settle(app)
        (topic,) = telegram.topics(MODERATOR_CHAT_ID)
        assert topic["name"] == "🗑 удалено по просьбе пользователя"
        assert topic["is_closed"] is True
        # A moderator still writing there is told the ticket is gone; nothing is sent.
        telegram.clear()
        await feed(
            app,
            group_message(
                MODERATOR_CHAT_ID, MOD_A, "Вы тут?",
                message_thread_id=topic["message_thread_id"], is_topic_message=True,
            ),
        )  # fmt: skip
        note = await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID)
        assert note.params["text"].startswith("Это обращение удалено по просьбе пользователя")
        assert telegram.calls_of("copyMessage") == []


async def test_a_reply_to_a_forgotten_card_gets_a_clear_note_never_silence(
    live: App, telegram: FakeTelegram
) -> None:
    card_id, _ = await answered_ticket(live, telegram)
    await forget(live, telegram)
    await settle(live)
    telegram.clear()
    late = group_message(MODERATOR_CHAT_ID, MOD_A, "И ещё одно", reply_to_message_id=card_id)
    await feed(live, late)
    note = await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID)
    assert note.params["text"] == (
        "Это обращение удалено по просьбе пользователя — ваше сообщение никому не отправлено."
    )
    assert note.params["reply_parameters"]["message_id"] == late["message"]["message_id"]
    assert telegram.calls_of("copyMessage") == []


async def test_ticket_numbers_are_never_reused_and_old_buttons_act_on_nothing(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "administrator"
    await send(live, await ask(live, telegram, "первый вопрос"))
    await settle(live)
    old_card = (await row(live, "SELECT card_message_id FROM tickets WHERE id = 1"))[0]
    await forget(live, telegram)
    await send(live, await ask(live, telegram, "вопрос другого человека", user=OTHER), user=OTHER)
    await settle(live)
    assert [r[0] for r in await live.db.fetch_all("SELECT id FROM tickets")] == [2]
    # Ban pressed on the forgotten ticket's card: nobody is banned.
    telegram.clear()
    await feed(
        live,
        callback(
            MOD_A,
            "mod:ban-yes:1",
            chat_id=MODERATOR_CHAT_ID,
            message_id=old_card,
            callback_id="old",
        ),
    )
    answer = await telegram.wait_for_call("answerCallbackQuery", callback_query_id="old")
    assert answer.params["text"].startswith("Это обращение удалено по просьбе пользователя")
    # A forged button naming the new ticket, pressed on the old card: checked against the
    # message it is on, it acts on nothing either.
    await feed(
        live,
        callback(
            MOD_A,
            "mod:ban-yes:2",
            chat_id=MODERATOR_CHAT_ID,
            message_id=old_card,
            callback_id="forged",
        ),
    )
    forged = await telegram.wait_for_call("answerCallbackQuery", callback_query_id="forged")
    assert "Ничего не изменено" in forged.params["text"]
    assert await count(live, "bans") == 0
    assert (await row(live, "SELECT state FROM tickets WHERE id = 2")) == ("new",)


async def test_a_banned_user_keeps_the_right_to_leave(live: App, telegram: FakeTelegram) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    await send(live, await ask(live, telegram, SECRET))
    await settle(live)
    await feed(live, private_message(USER, "/subscribe"))
    await live.questions.ban(USER)
    for command, starts in (
        ("/privacy", "<b>Ваша конфиденциальность</b>"),
        ("/mydata", "<b>Что мы храним о вас</b>"),
        ("/unsubscribe", "Вы отписались."),
    ):
        telegram.clear()
        await feed(live, private_message(USER, command))
        first = next(c for c in telegram.calls_of("sendMessage") if c.params["chat_id"] == USER)
        assert first.params["text"].startswith(starts), command
    assert await count(live, "subscriptions") == 0
    # Any other button is answered (never left spinning), with what still works.
    telegram.clear()
    await feed(live, callback(USER, "nav:home", callback_id="spin"))
    pressed = await telegram.wait_for_call("answerCallbackQuery", callback_query_id="spin")
    assert "/forget" in pressed.params["text"]
    telegram.clear()
    await feed(live, private_message(USER, "/forget"))
    (asked,) = [c for c in telegram.calls_of("sendMessage") if c.params["chat_id"] == USER]
    assert "Запись о блокировке останется" in asked.params["text"]
    await feed(live, forget_press(telegram))
    for table in ("users", "tickets", "ticket_messages", "fsm_state"):
        assert await count(live, table) == 0, table
    assert await count(live, "bans") == 1  # only the account number and a date


# ---- no trace on disk --------------------------------------------------------------------


def raw_files(database: Path) -> dict[str, bytes]:
    found = {}
    for suffix in ("", "-wal", "-shm"):
        path = database.with_name(database.name + suffix)
        found[suffix or "db"] = path.read_bytes() if path.exists() else b""
    return found


def traces(database: Path, *texts: str) -> list[tuple[str, str]]:
    return [
        (name, text)
        for name, data in raw_files(database).items()
        for text in texts
        if text.encode("utf-8") in data
    ]


async def test_no_text_of_a_forgotten_user_can_be_read_from_the_files(
    live: App, telegram: FakeTelegram
) -> None:
    card_id, _ = await answered_ticket(live, telegram)
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    await feed(live, group_message(MODERATOR_CHAT_ID, MOD_A, ANSWER, reply_to_message_id=card_id))
    await settle(live)
    await feed(live, private_message(USER, "/ask"))
    await feed(live, private_message(USER, DRAFT))
    path = live.settings.database_path
    question = (await row(live, "SELECT text FROM ticket_messages WHERE direction = 'question'"))[0]
    assert traces(path, question, ANSWER, DRAFT), "the texts are on disk before /forget"
    await forget(live, telegram)
    await settle(live)
    assert traces(path, question, ANSWER, DRAFT) == []
    assert path.with_name(path.name + "-wal").stat().st_size < 200_000


async def test_retention_leaves_no_text_on_disk_and_keeps_only_what_statistics_need(
    live: App, telegram: FakeTelegram
) -> None:
    card_id, _ = await answered_ticket(live, telegram)
    await feed(live, callback(USER, "fb:up:1"))
    await settle(live)
    question = (await row(live, "SELECT text FROM ticket_messages WHERE direction = 'question'"))[0]
    await live.db.write("UPDATE tickets SET first_answer_at = first_answer_at - 91 * 86400")
    await live.privacy.run_round()
    await settle(live)
    kept = await row(
        live,
        "SELECT user_id, topic, claimed_by, claimed_by_name, submit_key, card_message_id, "
        "state, locale, rating, created_at IS NOT NULL FROM tickets WHERE id = 1",
    )
    assert kept == (None, None, None, None, None, None, "answered", "ru", 1, 1)
    for table in ("group_messages", "user_messages", "attachments"):
        assert await count(live, table) == 0, table
    assert traces(live.settings.database_path, question) == []
    # A later reply to the redacted card reaches nobody and restores nothing.
    telegram.clear()
    late = group_message(MODERATOR_CHAT_ID, MOD_A, "Дополнение", reply_to_message_id=card_id)
    await feed(live, late)
    note = await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID)
    assert note.params["text"].startswith("Содержание этого обращения удалено по истечении срока")
    await settle(live)
    assert telegram.calls_of("copyMessage") == []
    assert telegram.calls_of("editMessageText") == []


async def test_abandoned_drafts_and_dialog_state_expire(live: App, telegram: FakeTelegram) -> None:
    await feed(live, private_message(USER, "/ask"))
    await feed(live, private_message(USER, DRAFT))
    await feed(live, private_message(OTHER, "/start"))
    await live.storage.flush()  # OTHER's menu position waits for it
    assert await count(live, "fsm_state") == 2
    # USER's draft was last touched four days ago (the default TTL is three).
    await live.db.write(
        "UPDATE fsm_state SET updated_at = updated_at - 4 * 86400 WHERE user_id = ?", (USER,)
    )
    await live.privacy.run_round()
    assert [r[0] for r in await live.db.fetch_all("SELECT user_id FROM fsm_state")] == [OTHER]
    assert traces(live.settings.database_path, DRAFT) == []
    # The dialog's cache forgot it too: the next message starts afresh, not in the draft.
    telegram.clear()
    await feed(live, private_message(USER, "привет"))
    assert not any("Ваш вопрос" in str(c.params.get("text")) for c in telegram.calls)


# ---- pseudonyms --------------------------------------------------------------------------


async def test_pseudonyms_are_random_unique_stored_and_forgotten(
    live: App, telegram: FakeTelegram
) -> None:
    await send(live, await ask(live, telegram, "вопрос первый"))
    await send(live, await ask(live, telegram, "вопрос второй"))
    await send(live, await ask(live, telegram, "вопрос третьего", user=OTHER), user=OTHER)
    await settle(live)
    mine, theirs = await reader_of(live, USER), await reader_of(live, OTHER)
    assert mine != theirs
    assert re.fullmatch(r"[А-ЯЁ][а-яё]+-\d{3,}", mine), mine
    assert str(USER) not in mine
    cards = [visible(m) for m in in_group(telegram).values() if visible(m).startswith("#")]
    assert [f"Читатель {mine}" in card for card in cards] == [True, True, False]
    # The database itself refuses a second user with the same pseudonym.
    with pytest.raises(Exception, match="UNIQUE"):
        await live.db.write("UPDATE users SET pseudonym = ? WHERE id = ?", (mine, OTHER))
    await forget(live, telegram)
    assert await live.db.fetch_one("SELECT 1 FROM users WHERE pseudonym = ?", (mine,)) is None
    # Back after /forget: a new pseudonym, not linked to the old one.
    await send(live, await ask(live, telegram, "снова я"))
    assert await reader_of(live, USER) != mine


async def test_a_taken_pseudonym_is_never_given_twice(
    live: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = live.services.users
    await users.locale_of(1, "ru")
    await users.locale_of(2, "ru")
    first = await users.ensure_pseudonym(1)
    picks = iter([first, first, "Кедр-123", "Кедр-998", "Кедр-999"])
    monkeypatch.setattr(users, "_candidate", lambda digits: next(picks))
    assert await users.ensure_pseudonym(2) == "Кедр-123"  # the collision was retried
    # Unchanged on every card: a fresh candidate never replaces the one the user has.
    assert await users.ensure_pseudonym(1) == first
    assert await users.ensure_pseudonym(2) == "Кедр-123"


async def test_the_forget_confirmation_is_honest_about_what_telegram_allows(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, private_message(USER, "/forget"))
    (asked,) = telegram.calls_of("sendMessage")
    assert "насколько это позволяет Telegram" in asked.params["text"]
    assert "Сообщения, которые юристы написали сами, останутся у них" in asked.params["text"]


async def test_privacy_text_follows_show_user_identity(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    for show, says in (
        (False, "без вашего имени, аккаунта и идентификатора"),
        (True, "ссылку на ваш аккаунт"),
    ):
        async with open_app(
            make_settings(telegram, tmp_path / str(show), show_user_identity=show)
        ) as app:
            telegram.clear()
            await feed(app, private_message(USER, "/privacy"))
            (text,) = [c.params["text"] for c in telegram.calls_of("sendMessage")]
            assert says in text, show
            assert ("без вашего имени" in text) is (not show)
