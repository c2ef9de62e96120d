"""Flow 2: a question goes to the moderators' group and the answer comes back."""

from __future__ import annotations

from typing import Any

from bot.emulator import ApiCall, FakeTelegram, callback, group_message, private_message
from bot.factory import App, open_app
from tests.conftest import MODERATOR_CHAT_ID, delivering, feed, reader_of, settle
from tests.test_menus import data_of

USER = 9001
MOD_A, MOD_B = 7001, 7002
QUESTION = "Могут ли мне отказать в загранпаспорте без справки из военкомата?"


def to_group(telegram: FakeTelegram, method: str = "sendMessage") -> list[ApiCall]:
    return [
        c
        for c in telegram.calls_of(method)
        if c.params.get("chat_id") == MODERATOR_CHAT_ID and not c.failed
    ]


def to_user(telegram: FakeTelegram, method: str, user: int = USER) -> list[ApiCall]:
    return [
        c for c in telegram.calls_of(method) if c.params.get("chat_id") == user and not c.failed
    ]


async def ask(
    app: App,
    telegram: FakeTelegram,
    text: str = QUESTION,
    *,
    user: int = USER,
    entry: str = "nav:ask",
) -> str:
    """Open the ask dialog, write, return the draft key of the preview's Send button."""
    telegram.clear()
    await feed(app, private_message(user, "/start"))
    await feed(app, callback(user, entry))
    await feed(app, private_message(user, text))
    preview = to_user(telegram, "sendMessage", user)[-1]
    send = next(d for d in data_of(preview.params["reply_markup"]) if d.startswith("dr:send:"))
    key = send.removeprefix("dr:send:")
    PREVIEWS[key] = message_id_of(telegram, preview)
    return key


# The message each draft's preview is in, so Send is pressed where it is shown.
PREVIEWS: dict[str, int] = {}


async def send(app: App, key: str, *, user: int = USER, callback_id: str | None = None) -> None:
    message_id = PREVIEWS.get(key, 1)
    await feed(
        app, callback(user, f"dr:send:{key}", callback_id=callback_id, message_id=message_id)
    )


async def posted_card(telegram: FakeTelegram, ticket_id: int = 1) -> ApiCall:
    return (
        await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID, timeout=5)
        if ticket_id == 1
        else await _card_of(telegram, ticket_id)
    )


async def _card_of(telegram: FakeTelegram, ticket_id: int) -> ApiCall:
    calls = await telegram.wait_for(
        lambda calls: any(
            f"<b>#{ticket_id}</b>" in str(c.params.get("text"))
            for c in calls
            if c.params.get("chat_id") == MODERATOR_CHAT_ID and not c.failed
        )
    )
    return next(
        c
        for c in calls
        if f"<b>#{ticket_id}</b>" in str(c.params.get("text"))
        and c.method == "sendMessage"
        and not c.failed
    )


def last_preview(telegram: FakeTelegram, user: int = USER) -> ApiCall:
    """The one preview of the draft as it stands: sent once, then edited in place."""
    return [
        c
        for c in telegram.calls
        if c.method in ("sendMessage", "editMessageText")
        and c.params.get("chat_id") == user
        and not c.failed
        and str(c.params.get("text", "")).startswith(("<b>Ваш вопрос", "<b>Your question"))
    ][-1]


def message_id_of(telegram: FakeTelegram, call: ApiCall) -> int:
    """The id Telegram gave the message a call created."""
    result = call.result[0] if isinstance(call.result, list) else call.result
    assert isinstance(result, dict), call
    return int(result["message_id"])


async def row(app: App, sql: str, *params: Any) -> tuple[Any, ...]:
    found = await app.db.fetch_one(sql, params)
    assert found is not None, sql
    return tuple(found)


async def test_question_reaches_moderators_and_the_answer_comes_back(
    live: App, telegram: FakeTelegram
) -> None:
    app = live
    await feed(app, private_message(USER, "/start", first_name="Ivan", username="ivan_private"))
    await feed(app, callback(USER, "nav:ask"))
    (intro,) = telegram.calls_of("editMessageText")
    assert intro.params["text"].startswith("<b>Задать вопрос</b>")
    assert "Не указывайте имена, адреса, номера частей" in intro.params["text"]
    assert "По голосовому сообщению вас можно узнать" in intro.params["text"]
    assert (await row(app, "SELECT state FROM fsm_state WHERE user_id = ?", USER))[
        0
    ] == "AskQuestion:writing"

    telegram.clear()
    await feed(app, private_message(USER, QUESTION))
    (preview,) = telegram.calls_of("sendMessage")
    assert preview.params["text"].startswith(f"<b>Ваш вопрос:</b>\n{QUESTION}")
    buttons = data_of(preview.params["reply_markup"])
    key = next(d for d in buttons if d.startswith("dr:send:")).removeprefix("dr:send:")
    # First what the digest already says about it, then Send, Start over, Cancel.
    assert buttons == [
        "sg:2023-09:passport-certificate",
        f"dr:send:{key}",
        f"dr:edit:{key}",
        f"dr:cancel:{key}",
    ]
    assert await row(app, "SELECT count(*) FROM tickets") == (0,)

    telegram.clear()
    await send(app, key)
    # The user is told only after the ticket is stored.
    received = next(c for c in telegram.calls if c.method == "editMessageText")
    assert received.params["text"].startswith("✅ <b>Получили — вопрос №1.</b>")
    ticket = await row(app, "SELECT id, user_id, state, topic, locale FROM tickets")
    assert tuple(ticket) == (1, USER, "new", None, "ru")
    stored = await row(app, "SELECT direction, kind, text FROM ticket_messages WHERE ticket_id = 1")
    assert tuple(stored) == ("question", "text", QUESTION)

    card = await posted_card(telegram)
    reader = await reader_of(app, USER)
    assert card.params["text"].startswith(
        f"<b>#1</b> · Читатель {reader}\nТема: — · Язык: ru\nСтатус: 🆕 новое"
    )
    assert QUESTION in card.params["text"]
    for secret in ("Ivan", "ivan_private", str(USER)):
        assert secret not in card.params["text"]
    assert data_of(card.params["reply_markup"]) == ["mod:take:1", "mod:close:1", "mod:ban:1"]
    card_id = message_id_of(telegram, card)
    await settle(app)
    assert (await row(app, "SELECT card_message_id FROM tickets WHERE id = 1")) == (card_id,)

    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    telegram.clear()
    reply = group_message(
        MODERATOR_CHAT_ID,
        MOD_A,
        "Нет, не могут: перечень документов закрыт.",
        reply_to_message_id=card_id,
        first_name="Anna",
    )
    await feed(app, reply)
    copy = await telegram.wait_for_call("copyMessage", chat_id=USER)
    # A copy, not a forward: no author, no "forwarded from"; protect_content per setting.
    assert copy.params == {
        "chat_id": USER,
        "from_chat_id": MODERATOR_CHAT_ID,
        "message_id": reply["message"]["message_id"],
        "protect_content": False,
        "parse_mode": "HTML",
    }
    footer = await telegram.wait_for_call("sendMessage", chat_id=USER)
    assert footer.params["text"].startswith("⬆️ Это ответ на вопрос №1.")
    assert data_of(footer.params["reply_markup"]) == ["fb:up:1", "fb:down:1", "fb:close:1"]
    edit = await telegram.wait_for_call(
        "editMessageText", chat_id=MODERATOR_CHAT_ID, message_id=card_id
    )
    assert "Статус: ✅ ответил(а) Anna" in edit.params["text"]
    state, answered_at = await row(app, "SELECT state, first_answer_at FROM tickets WHERE id = 1")
    assert state == "answered"
    assert answered_at is not None
    answer = await row(
        app, "SELECT kind, text, author FROM ticket_messages WHERE direction = 'answer'"
    )
    assert tuple(answer) == ("text", "Нет, не могут: перечень документов закрыт.", "Anna")


async def answered_ticket(app: App, telegram: FakeTelegram) -> tuple[int, int]:
    """A ticket #1 answered by MOD_A; (card id, id of the answer copy in the user's chat)."""
    key = await ask(app, telegram)
    await send(app, key)
    card = await posted_card(telegram)
    card_id = message_id_of(telegram, card)
    await settle(app)
    telegram.clear()
    await feed(app, group_message(MODERATOR_CHAT_ID, MOD_A, "Ответ", reply_to_message_id=card_id))
    await telegram.wait_for_call("copyMessage", chat_id=USER)
    await telegram.wait_for_call("sendMessage", chat_id=USER)
    await settle(app)
    copied = await row(
        app,
        "SELECT copy_message_id FROM ticket_messages WHERE ticket_id = 1 AND direction = 'answer'",
    )
    # The fake numbers each chat's messages from 1: the menu, the preview, then the copy.
    assert copied == (3,)
    return card_id, int(copied[0])


async def test_follow_up_is_threaded_under_the_card(live: App, telegram: FakeTelegram) -> None:
    card_id, answer_id = await answered_ticket(live, telegram)
    telegram.clear()
    reply_to = {
        "message_id": answer_id,
        "date": 0,
        "chat": {"id": USER, "type": "private"},
        "text": "Ответ",
    }
    await feed(live, private_message(USER, "А если уже отказали устно?", reply_to=reply_to))
    (ack,) = to_user(telegram, "sendMessage")
    assert ack.params["text"] == "Добавили к вопросу №1. Юрист это увидит."
    post = await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID)
    assert post.params["text"] == "↩️ Уточнение к #1:\nА если уже отказали устно?"
    assert post.params["reply_parameters"]["message_id"] == card_id
    assert (await row(live, "SELECT state FROM tickets WHERE id = 1")) == ("claimed",)
    # The follow-up post is mapped too: a moderator may answer by replying to it.
    await settle(live)
    mapped = await live.db.fetch_all("SELECT message_id FROM group_messages WHERE ticket_id = 1")
    follow_up_id = max(r[0] for r in mapped)
    telegram.clear()
    await feed(
        live,
        group_message(
            MODERATOR_CHAT_ID,
            MOD_B,
            "Устный отказ тоже можно обжаловать.",
            reply_to_message_id=follow_up_id,
        ),
    )
    await telegram.wait_for_call("copyMessage", chat_id=USER)
    assert len(list(mapped)) == 3  # the card, the moderator's first answer, the follow-up


async def test_two_moderators_take_the_same_ticket(live: App, telegram: FakeTelegram) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_B)] = "administrator"
    await send(live, await ask(live, telegram))
    card = await posted_card(telegram)
    card_id = message_id_of(telegram, card)
    await settle(live)

    telegram.clear()
    await feed(
        live,
        callback(
            MOD_A, "mod:take:1", chat_id=MODERATOR_CHAT_ID, message_id=card_id, callback_id="a"
        ),
    )
    await feed(
        live,
        callback(
            MOD_B, "mod:take:1", chat_id=MODERATOR_CHAT_ID, message_id=card_id, callback_id="b"
        ),
    )
    first = await telegram.wait_for_call("answerCallbackQuery", callback_query_id="a")
    second = await telegram.wait_for_call("answerCallbackQuery", callback_query_id="b")
    assert first.params["text"] == "Вы взяли #1."
    assert second.params["text"] == "Это обращение уже взял(а) Ivan."
    assert second.params["show_alert"] is True
    claimed = await row(live, "SELECT state, claimed_by FROM tickets WHERE id = 1")
    assert tuple(claimed) == ("claimed", MOD_A)
    edit = await telegram.wait_for_call("editMessageText", chat_id=MODERATOR_CHAT_ID)
    assert "Статус: 🙋 взял(а) Ivan" in edit.params["text"]
    assert data_of(edit.params["reply_markup"]) == ["mod:close:1", "mod:ban:1"]


async def test_a_non_member_cannot_take_a_ticket(live: App, telegram: FakeTelegram) -> None:
    await send(live, await ask(live, telegram))
    await posted_card(telegram)
    telegram.clear()
    await feed(live, callback(666, "mod:take:1", chat_id=MODERATOR_CHAT_ID, callback_id="x"))
    answer = await telegram.wait_for_call("answerCallbackQuery", callback_query_id="x")
    assert answer.params["text"] == "Это могут делать только участники группы модераторов."
    assert (await row(live, "SELECT state, claimed_by FROM tickets WHERE id = 1")) == (
        "new",
        None,
    )
    assert telegram.calls_of("getChatMember")[0].params == {
        "chat_id": MODERATOR_CHAT_ID,
        "user_id": 666,
    }


async def test_flood_control_and_server_errors_on_the_group_post(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.fail_next(
        "sendMessage",
        status=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        chat_id=MODERATOR_CHAT_ID,
    )
    telegram.fail_next("sendMessage", status=500, chat_id=MODERATOR_CHAT_ID)
    await send(live, await ask(live, telegram))
    await telegram.wait_for(lambda _: len(to_group(telegram)) == 1, timeout=8)
    attempts = [
        c for c in telegram.calls_of("sendMessage") if c.params["chat_id"] == MODERATOR_CHAT_ID
    ]
    assert [c.failed for c in attempts] == [True, True, False]
    assert attempts[1].at - attempts[0].at >= 0.95  # waited out retry_after
    await settle(live)
    job = await row(
        live, "SELECT attempts, done_at IS NOT NULL FROM outbox WHERE kind = 'post_ticket'"
    )
    assert tuple(job) == (2, 1)


async def test_answer_to_a_user_who_blocked_the_bot(live: App, telegram: FakeTelegram) -> None:
    await send(live, await ask(live, telegram))
    card_id = message_id_of(telegram, await posted_card(telegram))
    await settle(live)
    telegram.block_user(USER)
    await feed(live, group_message(MODERATOR_CHAT_ID, MOD_A, "Ответ", reply_to_message_id=card_id))
    await telegram.wait_for(
        lambda calls: any("заблокировал бота" in str(c.params.get("text")) for c in calls)
    )
    card = [
        c for c in telegram.calls_of("editMessageText") if "заблокировал бота" in c.params["text"]
    ]
    assert (card[0].params["chat_id"], card[0].params["message_id"]) == (MODERATOR_CHAT_ID, card_id)
    assert to_user(telegram, "copyMessage") == []  # refused, recorded as failed
    assert (await row(live, "SELECT unreachable FROM tickets WHERE id = 1")) == (1,)
    assert (await row(live, "SELECT last_error FROM outbox WHERE kind = 'deliver_answer'")) == (
        "blocked",
    )


async def test_send_pressed_twice_makes_one_ticket(live: App, telegram: FakeTelegram) -> None:
    key = await ask(live, telegram)
    await send(live, key, callback_id="first")
    await send(live, key, callback_id="second")
    again = await telegram.wait_for_call("answerCallbackQuery", callback_query_id="second")
    assert again.params["text"] == "Этот вопрос уже отправлен — №1."
    await posted_card(telegram)
    assert (await row(live, "SELECT count(*) FROM tickets")) == (1,)
    assert (await row(live, "SELECT count(*) FROM outbox WHERE kind = 'post_ticket'")) == (1,)


async def test_redelivered_moderator_reply_is_relayed_once(
    live: App, telegram: FakeTelegram
) -> None:
    await send(live, await ask(live, telegram))
    card_id = message_id_of(telegram, await posted_card(telegram))
    await settle(live)
    reply = group_message(MODERATOR_CHAT_ID, MOD_A, "Ответ", reply_to_message_id=card_id)
    await feed(live, reply)
    await feed(live, reply)
    await telegram.wait_for(lambda _: len(to_user(telegram, "copyMessage")) == 1)
    await telegram.wait_for(
        lambda _: any(
            "ответил(а)" in str(c.params.get("text")) for c in telegram.calls_of("editMessageText")
        )
    )
    assert len(to_user(telegram, "copyMessage")) == 1
    assert (await row(live, "SELECT count(*) FROM ticket_messages WHERE direction = 'answer'")) == (
        1,
    )


async def test_restart_between_acknowledgement_and_group_post(
    telegram: FakeTelegram, settings: Any
) -> None:
    async with open_app(settings) as app:  # the outbox worker never runs: the process "dies"
        await send(app, await ask(app, telegram))
        assert "Получили — вопрос №1" in telegram.calls_of("editMessageText")[-1].params["text"]
        assert to_group(telegram) == []
    telegram.clear()
    async with open_app(settings) as app, delivering(app):
        card = await posted_card(telegram)
        assert QUESTION in card.params["text"]
        await settle(app)
    async with open_app(settings) as app, delivering(app):
        assert await app.outbox.ledger.pending() == 0
    assert len(to_group(telegram)) == 1  # posted once, not again after the second restart


async def test_crash_between_reply_and_delivery_delivers_once_after_restart(
    telegram: FakeTelegram, settings: Any
) -> None:
    async with open_app(settings) as app, delivering(app):
        await send(app, await ask(app, telegram))
        card_id = message_id_of(telegram, await posted_card(telegram))
        await settle(app)
    async with open_app(settings) as app:  # the reply is taken, then the process dies
        await feed(
            app, group_message(MODERATOR_CHAT_ID, MOD_A, "Ответ", reply_to_message_id=card_id)
        )
        assert to_user(telegram, "copyMessage") == []
    async with open_app(settings) as app, delivering(app):
        await telegram.wait_for(lambda _: len(to_user(telegram, "copyMessage")) == 1)
        await telegram.wait_for(
            lambda _: any(
                c.params.get("text", "").startswith("⬆️") for c in to_user(telegram, "sendMessage")
            )
        )
    assert len(to_user(telegram, "copyMessage")) == 1


async def test_banned_user_is_told_once_then_ignored(live: App, telegram: FakeTelegram) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    await send(live, await ask(live, telegram))
    await posted_card(telegram)
    await settle(live)
    await feed(live, callback(MOD_A, "mod:ban:1", chat_id=MODERATOR_CHAT_ID, callback_id="ask"))
    # No one-tap accidents: the card asks first.
    confirm = await telegram.wait_for_call("editMessageReplyMarkup", chat_id=MODERATOR_CHAT_ID)
    assert data_of(confirm.params["reply_markup"]) == ["mod:none:1", "mod:ban-yes:1", "mod:back:1"]
    assert (await row(live, "SELECT state FROM tickets WHERE id = 1")) == ("new",)
    await feed(live, callback(MOD_A, "mod:ban-yes:1", chat_id=MODERATOR_CHAT_ID, callback_id="ban"))
    ban = await telegram.wait_for_call("answerCallbackQuery", callback_query_id="ban")
    assert ban.params["text"] == "Автор #1 заблокирован, его открытые обращения закрыты."
    assert (await row(live, "SELECT state FROM tickets WHERE id = 1")) == ("closed",)

    telegram.clear()
    messages_before = await row(live, "SELECT count(*) FROM ticket_messages")
    await feed(live, private_message(USER, "/ask"))
    await feed(live, private_message(USER, "ещё вопрос"))
    await feed(live, callback(USER, "nav:ask", callback_id="c"))
    notice, pressed = [
        c
        for c in telegram.calls
        if c.params.get("chat_id") == USER or "callback_query_id" in c.params
    ]
    assert notice.method == "sendMessage"
    assert notice.params["text"].startswith(
        "К сожалению, вы больше не можете задавать вопросы через этого бота."
    )
    # What still works is said; a button press is answered, never left spinning.
    assert "/forget — удалить их" in notice.params["text"]
    assert pressed.method == "answerCallbackQuery"
    assert pressed.params["text"].startswith("Эта кнопка для вас больше не работает.")
    assert await row(live, "SELECT count(*) FROM ticket_messages") == messages_before
    assert (await row(live, "SELECT notified FROM bans WHERE user_id = ?", USER)) == (1,)


async def test_a_voice_question_reaches_the_group_as_voice(
    live: App, telegram: FakeTelegram
) -> None:
    await feed(live, private_message(USER, "/ask"))
    voice = {"file_id": "AwACAgIAA-voice", "file_unique_id": "v1", "duration": 12}
    await feed(live, private_message(USER, None, voice=voice, caption="Послушайте, пожалуйста"))
    preview = to_user(telegram, "sendMessage")[-1]
    assert "📎 Вложение: голосовое сообщение" in preview.params["text"]
    key = data_of(preview.params["reply_markup"])[0].removeprefix("dr:send:")
    await send(live, key)
    card = await posted_card(telegram)
    assert "📎 Вложение: голосовое сообщение" in card.params["text"]
    assert "Послушайте, пожалуйста" in card.params["text"]
    sent = await telegram.wait_for_call("sendVoice", chat_id=MODERATOR_CHAT_ID)
    assert sent.params["voice"] == "AwACAgIAA-voice"
    assert sent.params["reply_parameters"]["message_id"] == message_id_of(telegram, card)
