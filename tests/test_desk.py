"""Issue 11, the desk a legal team works at every day, driven as its people would: users
(in Russian and in English) send albums, add to their questions, are told what happened;
moderators correct answers, confirm Close and Ban, get reminders, write notes, rate and
count, and work in their group's language."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot import emulator as emulated
from bot.emulator import ApiCall, FakeTelegram, callback, group_message, private_message
from bot.factory import App
from bot.handlers import ask as ask_handlers
from bot.runner import watch_desk
from bot.services.jobs import Job
from tests.conftest import MODERATOR_CHAT_ID, TOKEN, feed, make_settings, reader_of, settle
from tests.test_broadcasts import SUBSCRIBERS, content_with_new_issue
from tests.test_menus import buttons, data_of
from tests.test_questions import MOD_A, USER, message_id_of, row, to_group, to_user
from tests.test_questions_more import (
    EN_USER,
    answer_by_reply,
    card_id_of,
    command,
    draft,
    group_reply,
    new_ticket,
    only,
    reply_to,
    running,
    user_message_ids,
)

LOCALES = ["ru", "en"]
READERS = 9100  # more users, 9101...
USERS = {"ru": USER, "en": EN_USER}

# What users read (locales/*/bot.ftl), written out so that a changed text fails here.
TEXTS: dict[str, dict[str, str]] = {
    "ru": {
        "preview": "<b>Ваш вопрос:</b>",
        "attached": "📎 Вложение: ",
        "photo": "фото",
        "document": "документ",
        "received": "✅ <b>Получили — вопрос №{id}.</b>",
        "added": "Добавили к вопросу №{id}. Юрист это увидит.",
        "add-prompt": (
            "Напишите, что хотите добавить к вопросу №{id}. Следующее ваше сообщение получит юрист."
        ),
        "add-button": "➕ Дополнить вопрос",
        "reopened": "Вопрос №{id} снова открыт — юрист увидит ваше сообщение.",
        "closed-unanswered": (
            "Юристы закрыли вопрос №{id} без ответа. Если он ещё актуален, задайте его, "
            "пожалуйста, заново — можно подробнее описать ситуацию."
        ),
        "ask": "✍️ Задать вопрос",
        "mine": "🗂 Мои вопросы",
        "intro": "<b>Задать вопрос</b>",
        "corrected": "✏️ Юрист исправил ответ на вопрос №{id}. Исправленный ответ — ниже.",
        "too-many-files": "К вопросу можно приложить не больше 10 файлов — остальные я не добавил.",
        "caption": "Вот три страницы, которые мне выдали",
        "question": "Могут ли мне отказать в загранпаспорте без справки из военкомата?",
        "more": "И ещё: мне 27 лет, служить не хочу по убеждениям.",
        "unsubscribe": "🔕 Отписаться",
    },
    "en": {
        "preview": "<b>Your question:</b>",
        "attached": "📎 Attached: ",
        "photo": "photo",
        "document": "document",
        "received": "✅ <b>Received — question #{id}.</b>",
        "added": "Added to question #{id}. The lawyer will see it.",
        "add-prompt": (
            "Write what you would like to add to question #{id}. The lawyer will get your next "
            "message."
        ),
        "add-button": "➕ Add to the question",
        "reopened": "Question #{id} is open again; the lawyer will see your message.",
        "closed-unanswered": (
            "The lawyers closed question #{id} without an answer. If it still matters to you, "
            "please ask it again — perhaps with a bit more about your situation."
        ),
        "ask": "✍️ Ask a question",
        "mine": "🗂 My questions",
        "intro": "<b>Ask a question</b>",
        "corrected": (
            "✏️ The lawyer corrected the answer to question #{id}. The corrected answer follows."
        ),
        "too-many-files": "A question can have up to 10 files; I did not add the rest.",
        "caption": "Here are the three pages they gave me",
        "question": "Can they refuse me a passport without a certificate from the draft office?",
        "more": "Also: I am 27 and I object to service on grounds of conscience.",
        "unsubscribe": "🔕 Unsubscribe",
    },
}
# The group speaks GROUP_LOCALE (ru unless set).
FOLLOW_UP = "↩️ Уточнение к #{id}:"
REOPENED_CARD = "↩️ Снова открыто после закрытия: 1 раз"
by_locale = pytest.mark.parametrize("locale", LOCALES)


def text(locale: str, key: str, **values: Any) -> str:
    return TEXTS[locale][key].format(**values)


# ---- helpers -------------------------------------------------------------------------------


async def greet(app: App, locale: str) -> int:
    """A user whose Telegram speaks `locale` writes /start: their language is stored."""
    user = USERS[locale]
    await feed(app, private_message(user, "/start", language_code=locale))
    return user


async def open_draft(app: App, telegram: FakeTelegram, locale: str) -> tuple[int, str]:
    """The user, and the key of the draft they opened with "Ask a question"."""
    user = await greet(app, locale)
    await feed(app, callback(user, "nav:ask", language_code=locale))
    key = str((await draft(app, user))["key"])
    telegram.clear()
    return user, key


def album(user: int, items: list[tuple[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    return emulated.album(user, items, **extra)


def photos(count: int) -> list[tuple[str, Any]]:
    return [("photo", emulated.photo()) for _ in range(count)]


def big_id(item: tuple[str, Any]) -> str:
    """The file id of a photo's largest size (what the bot keeps), or of a document."""
    kind, media = item
    return str(media[-1]["file_id"] if kind == "photo" else media["file_id"])


async def preview_of(telegram: FakeTelegram, user: int) -> ApiCall:
    """The one preview message (a sendMessage with a live Send button)."""
    await telegram.wait_for(lambda _: bool(live_sends(telegram, user)))
    return only(live_sends(telegram, user))


def live_sends(telegram: FakeTelegram, user: int) -> list[ApiCall]:
    """Every message the bot SENT to the user carrying a Send button of a draft."""
    return [
        c
        for c in to_user(telegram, "sendMessage", user)
        if any(d.startswith("dr:send:") for d in data_of(c.params.get("reply_markup") or {}))
    ]


def user_edits(telegram: FakeTelegram, user: int, message_id: int) -> list[ApiCall]:
    return [
        c
        for c in to_user(telegram, "editMessageText", user)
        if c.params["message_id"] == message_id
    ]


async def press_send(app: App, user: int, key: str, preview_id: int, locale: str) -> None:
    await feed(app, callback(user, f"dr:send:{key}", message_id=preview_id, language_code=locale))


def file_names(call: ApiCall) -> list[str]:
    return sorted(upload.filename for upload in call.files.values())


def no_call_mentions(telegram: FakeTelegram, secret: str) -> None:
    for call in telegram.calls:
        shown = json.dumps([call.params, call.raw], ensure_ascii=False, default=str)
        shown += " ".join(upload.filename for upload in call.files.values())
        assert secret not in shown, call


async def follow_ups(app: App, ticket_id: int = 1) -> list[tuple[Any, ...]]:
    rows = await app.db.fetch_all(
        "SELECT kind, text FROM ticket_messages WHERE ticket_id = ? AND direction = 'follow_up' "
        "ORDER BY id",
        (ticket_id,),
    )
    return [tuple(r) for r in rows]


async def attachments_of_follow_ups(app: App, ticket_id: int = 1) -> list[str]:
    rows = await app.db.fetch_all(
        "SELECT a.file_id FROM attachments a JOIN ticket_messages m ON m.id = a.message_id "
        "WHERE m.ticket_id = ? AND m.direction = 'follow_up' ORDER BY m.id, a.position",
        (ticket_id,),
    )
    return [str(r[0]) for r in rows]


def moderator(telegram: FakeTelegram, *users: int) -> None:
    for user in users:
        telegram.chat_members[(MODERATOR_CHAT_ID, user)] = "member"


def press(user: int, data: str, card_id: int, callback_id: str | None = None) -> dict[str, Any]:
    """A moderator presses a button on the message `card_id` in the group."""
    return callback(
        user, data, chat_id=MODERATOR_CHAT_ID, message_id=card_id, callback_id=callback_id
    )


def answer_text(telegram: FakeTelegram, callback_id: str) -> str:
    calls = [
        c
        for c in telegram.calls_of("answerCallbackQuery")
        if c.params.get("callback_query_id") == callback_id
    ]
    return str(only(calls).params.get("text"))


# ---- 1. albums -----------------------------------------------------------------------------


@by_locale
async def test_a_question_with_an_album_of_photos_reaches_the_group_as_one_album(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user, key = await open_draft(live, telegram, locale)
    items = photos(4)
    updates = album(user, items, caption=text(locale, "caption"), language_code=locale)
    await feed(live, updates[0])
    preview = await preview_of(telegram, user)
    preview_id = message_id_of(telegram, preview)
    assert preview.params["text"].startswith(
        f"{text(locale, 'preview')}\n{text(locale, 'caption')}"
    )
    # The rest come one by one, in later updates (another polling batch): no message each.
    for update in updates[1:3]:
        await feed(live, update)
    assert [c for c in telegram.calls if c.params.get("chat_id") == user] == [preview]
    await feed(live, updates[3])
    redrawn = await telegram.wait_for_call("editMessageText", chat_id=user, message_id=preview_id)
    assert f"{text(locale, 'attached')}{text(locale, 'photo')} ×4" in redrawn.params["text"]
    assert live_sends(telegram, user) == [preview]
    assert [f["file_id"] for f in (await draft(live, user))["files"]] == [big_id(i) for i in items]

    telegram.clear()
    await press_send(live, user, key, preview_id, locale)
    group = await telegram.wait_for_call("sendMediaGroup", chat_id=MODERATOR_CHAT_ID)
    await settle(live)
    card = only(to_group(telegram))
    card_id = await card_id_of(live)
    assert card.at < group.at
    assert "📎 Вложение: фото ×4" in card.params["text"]
    assert text(locale, "caption") in card.params["text"]
    assert [m["type"] for m in group.params["media"]] == ["photo"] * 4
    assert [m["media"] for m in group.params["media"]] == [big_id(i) for i in items]
    assert group.params["reply_parameters"]["message_id"] == card_id
    assert to_group(telegram, "sendPhoto") == []
    stored = await live.db.fetch_all(
        "SELECT a.kind, a.file_id FROM attachments a JOIN ticket_messages m "
        "ON m.id = a.message_id WHERE m.direction = 'question' ORDER BY a.position"
    )
    assert [tuple(r) for r in stored] == [("photo", big_id(i)) for i in items]
    assert (await row(live, "SELECT kind, text FROM ticket_messages WHERE id = 1")) == (
        "album", text(locale, "caption"),
    )  # fmt: skip


@by_locale
async def test_an_album_of_documents_travels_under_neutral_names(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user, key = await open_draft(live, telegram, locale)
    items = [
        ("document", emulated.document(f"Petrov_Petr_military_id_{n}.pdf", size=3000 + n))
        for n in range(3)
    ]
    updates = album(user, items, caption=text(locale, "caption"), language_code=locale)
    for update in updates:
        await feed(live, update)
    preview = await preview_of(telegram, user)
    preview_id = message_id_of(telegram, preview)
    await telegram.wait_for(
        lambda _: any(
            f"{text(locale, 'document')} ×3" in str(c.params.get("text"))
            for c in user_edits(telegram, user, preview_id)
        )
    )

    telegram.clear()
    await press_send(live, user, key, preview_id, locale)
    group = await telegram.wait_for_call("sendMediaGroup", chat_id=MODERATOR_CHAT_ID)
    await settle(live)
    assert [m["type"] for m in group.params["media"]] == ["document"] * 3
    # Each one downloaded (getFile) and uploaded again under a neutral name.
    assert sorted(c.params["file_id"] for c in telegram.calls_of("getFile")) == sorted(
        big_id(i) for i in items
    )
    assert file_names(group) == ["document-1-1.pdf", "document-1-2.pdf", "document-1-3.pdf"]
    assert group.params["reply_parameters"]["message_id"] == await card_id_of(live)
    no_call_mentions(telegram, "Petrov")
    no_call_mentions(telegram, "military_id")


@by_locale
async def test_more_than_ten_files_the_rest_is_refused_and_the_user_told(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user, key = await open_draft(live, telegram, locale)
    items = photos(10)
    for update in album(user, items, caption=text(locale, "caption"), language_code=locale):
        await feed(live, update)
    preview_id = message_id_of(telegram, await preview_of(telegram, user))
    await telegram.wait_for(lambda _: bool(user_edits(telegram, user, preview_id)))
    # The eleventh file, sent on its own: not added, and the preview says why.
    telegram.clear()
    extra = emulated.document("scan.pdf", size=4000)
    await feed(live, private_message(user, None, document=extra, language_code=locale))
    note = only(user_edits(telegram, user, preview_id))
    assert note.params["text"].startswith(text(locale, "too-many-files"))
    files = (await draft(live, user))["files"]
    assert [f["file_id"] for f in files] == [big_id(i) for i in items]

    telegram.clear()
    await press_send(live, user, key, preview_id, locale)
    group = await telegram.wait_for_call("sendMediaGroup", chat_id=MODERATOR_CHAT_ID)
    await settle(live)
    assert [m["media"] for m in group.params["media"]] == [big_id(i) for i in items]
    assert to_group(telegram, "sendDocument") == []
    assert telegram.calls_of("getFile") == []


@by_locale
async def test_more_than_ten_photos_in_two_albums_the_user_is_told(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user, _ = await open_draft(live, telegram, locale)
    for update in album(user, photos(10), language_code=locale):
        await feed(live, update)
    preview_id = message_id_of(telegram, await preview_of(telegram, user))
    await telegram.wait_for(lambda _: bool(user_edits(telegram, user, preview_id)))
    telegram.clear()
    for update in album(user, photos(2), language_code=locale):
        await feed(live, update)
    # Once the second album stops coming, the preview is redrawn (or a note sent).
    await telegram.wait_for(
        lambda calls: any(c.params.get("chat_id") == user for c in calls), timeout=3
    )
    assert len((await draft(live, user))["files"]) == 10
    told = [c.params["text"] for c in telegram.calls if c.params.get("chat_id") == user]
    assert any(text(locale, "too-many-files") in str(t) for t in told), told


async def answered(app: App, telegram: FakeTelegram, locale: str) -> tuple[int, int, int]:
    """A ticket #1 of the locale's user, answered by MOD_A: (user, card id, answer copy)."""
    user = await greet(app, locale)
    card_id = await new_ticket(app, telegram, text(locale, "question"), user=user)
    await answer_by_reply(app, telegram, card_id, "Нет, не могут.", user=user)
    return user, card_id, (await user_message_ids(app))[0]


@by_locale
async def test_a_follow_up_album_reaches_the_group_as_one_album(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user, card_id, answer_copy = await answered(live, telegram, locale)
    items = photos(3)
    updates = album(
        user, items, caption=text(locale, "more"), reply_to=reply_to(answer_copy, user),
        language_code=locale,
    )  # fmt: skip
    telegram.clear()
    for update in updates:
        await feed(live, update)
    group = await telegram.wait_for_call("sendMediaGroup", chat_id=MODERATOR_CHAT_ID)
    await settle(live)
    assert [m["media"] for m in group.params["media"]] == [big_id(i) for i in items]
    assert group.params["media"][0]["caption"].startswith(FOLLOW_UP.format(id=1))
    assert group.params["reply_parameters"]["message_id"] == card_id
    assert to_group(telegram, "sendPhoto") == []
    assert [c.params["text"] for c in to_user(telegram, "sendMessage", user)] == [
        text(locale, "added", id=1)
    ]
    assert await attachments_of_follow_ups(live) == [big_id(i) for i in items]


@by_locale
async def test_a_follow_up_document_travels_under_a_neutral_name(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user, card_id, answer_copy = await answered(live, telegram, locale)
    named = emulated.document("Ivanov_Ivan_summons_2024.pdf", size=5000)
    telegram.clear()
    await feed(
        live,
        private_message(
            user, None, document=named, caption=text(locale, "more"),
            reply_to=reply_to(answer_copy, user), language_code=locale,
        ),
    )  # fmt: skip
    assert only(to_user(telegram, "sendMessage", user)).params["text"] == text(
        locale, "added", id=1
    )
    sent = await telegram.wait_for_call("sendDocument", chat_id=MODERATOR_CHAT_ID)
    await settle(live)
    assert only(telegram.calls_of("getFile")).params["file_id"] == named["file_id"]
    assert file_names(sent) == ["document-1-1.pdf"]
    assert sent.params["reply_parameters"]["message_id"] == card_id
    # the words travel as the file's caption: one message, nothing to match up
    assert sent.params["caption"] == f"{FOLLOW_UP.format(id=1)}\n{text(locale, 'more')}"
    assert to_group(telegram) == []
    no_call_mentions(telegram, "Ivanov")
    assert await attachments_of_follow_ups(live) == [named["file_id"]]


@by_locale
async def test_documents_added_with_the_add_button_arrive_as_one_album(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user = await greet(live, locale)
    card_id = await new_ticket(live, telegram, text(locale, "question"), user=user)
    await feed(live, callback(user, "add:1", language_code=locale))
    items = [("document", emulated.document(f"Sidorov_call_up_{n}.pdf", size=900)) for n in (1, 2)]
    telegram.clear()
    for update in album(user, items, language_code=locale):
        await feed(live, update)
    group = await telegram.wait_for_call("sendMediaGroup", chat_id=MODERATOR_CHAT_ID)
    await settle(live)
    assert [m["type"] for m in group.params["media"]] == ["document", "document"]
    assert group.params["reply_parameters"]["message_id"] == card_id
    assert all(name.startswith("document-1-") for name in file_names(group))
    no_call_mentions(telegram, "Sidorov")
    assert await attachments_of_follow_ups(live) == [big_id(i) for i in items]


# ---- 2. adding to a sent question -------------------------------------------------------


@by_locale
async def test_a_reply_to_received_adds_to_the_question(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user, key = await open_draft(live, telegram, locale)
    await feed(live, private_message(user, text(locale, "question"), language_code=locale))
    preview_id = message_id_of(telegram, await preview_of(telegram, user))
    telegram.clear()
    await press_send(live, user, key, preview_id, locale)
    received = only(user_edits(telegram, user, preview_id))
    assert received.params["text"].startswith(text(locale, "received", id=1))
    assert buttons(received.params["reply_markup"])[0] == (text(locale, "add-button"), "add:1")
    card_id = await card_id_of(live)

    telegram.clear()
    await feed(
        live,
        private_message(
            user, text(locale, "more"), reply_to=reply_to(preview_id, user), language_code=locale
        ),
    )
    ack = only(to_user(telegram, "sendMessage", user))
    assert ack.params["text"] == text(locale, "added", id=1)
    post = await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID)
    assert post.params["text"] == f"{FOLLOW_UP.format(id=1)}\n{text(locale, 'more')}"
    assert post.params["reply_parameters"]["message_id"] == card_id
    await settle(live)
    assert await follow_ups(live) == [("text", text(locale, "more"))]
    # The follow-up is the ticket's: a moderator's reply to it is an answer.
    follow_up_id = message_id_of(telegram, post)
    await feed(
        live,
        group_message(MODERATOR_CHAT_ID, MOD_A, "Ответ", reply_to_message_id=follow_up_id),
    )
    await telegram.wait_for_call("copyMessage", chat_id=user)


@by_locale
async def test_the_add_button_then_a_message_adds_to_the_question(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user = await greet(live, locale)
    card_id = await new_ticket(live, telegram, text(locale, "question"), user=user)
    telegram.clear()
    await feed(live, callback(user, "add:1", callback_id="add", language_code=locale))
    pressed = only(telegram.calls_of("answerCallbackQuery"))
    assert pressed.params["callback_query_id"] == "add"
    assert "text" not in pressed.params  # answered, without a notice
    prompt = only(to_user(telegram, "sendMessage", user))
    assert prompt.params["text"] == text(locale, "add-prompt", id=1)

    telegram.clear()
    await feed(live, private_message(user, text(locale, "more"), language_code=locale))
    assert only(to_user(telegram, "sendMessage", user)).params["text"] == text(
        locale, "added", id=1
    )
    post = await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID)
    assert post.params["text"] == f"{FOLLOW_UP.format(id=1)}\n{text(locale, 'more')}"
    assert post.params["reply_parameters"]["message_id"] == card_id
    await settle(live)
    assert await follow_ups(live) == [("text", text(locale, "more"))]
    assert (await row(live, "SELECT state FROM tickets WHERE id = 1")) == ("new",)
    # Only the next message: the one after it is not added.
    await feed(live, private_message(user, "а где мой вопрос?", language_code=locale))
    await settle(live)
    assert len(await follow_ups(live)) == 1


# ---- 3. told what happened --------------------------------------------------------------


@by_locale
async def test_closed_without_an_answer_the_user_is_told_and_a_follow_up_reopens_it(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    moderator(telegram, MOD_A)
    user = await greet(live, locale)
    card_id = await new_ticket(live, telegram, text(locale, "question"), user=user)
    telegram.clear()
    await feed(live, press(MOD_A, "mod:close:1", card_id))
    assert to_user(telegram, "sendMessage", user) == []  # nothing before Yes
    await feed(live, press(MOD_A, "mod:close-yes:1", card_id))
    notice = await telegram.wait_for_call("sendMessage", chat_id=user)
    assert notice.params["text"] == text(locale, "closed-unanswered", id=1)
    assert buttons(notice.params["reply_markup"]) == [
        (text(locale, "ask"), "ask:"),
        (text(locale, "mine"), "nav:mine"),
    ]
    await settle(live)
    assert (await row(live, "SELECT state, closed_by FROM tickets WHERE id = 1")) == (
        "closed", "moderator",
    )  # fmt: skip

    # The user answers the notice: the question is open again, the card says so.
    notice_id = message_id_of(telegram, notice)
    telegram.clear()
    await feed(
        live,
        private_message(
            user, text(locale, "more"), reply_to=reply_to(notice_id, user), language_code=locale
        ),
    )
    ack = only(to_user(telegram, "sendMessage", user))
    assert ack.params["text"] == text(locale, "reopened", id=1)
    post = await telegram.wait_for_call(
        "sendMessage",
        chat_id=MODERATOR_CHAT_ID,
        text=f"{FOLLOW_UP.format(id=1)}\n{text(locale, 'more')}",
    )
    assert post.params["reply_parameters"]["message_id"] == card_id
    card = await telegram.wait_for_call(
        "editMessageText", chat_id=MODERATOR_CHAT_ID, message_id=card_id
    )
    assert REOPENED_CARD in card.params["text"]
    assert "Статус: 🆕 новое" in card.params["text"]
    assert data_of(card.params["reply_markup"]) == ["mod:take:1", "mod:close:1", "mod:ban:1"]
    await settle(live)
    assert (await row(live, "SELECT state, reopened FROM tickets WHERE id = 1")) == ("new", 1)

    # "Ask a question" under the notice opens a new question.
    telegram.clear()
    await feed(live, callback(user, "ask:", message_id=notice_id, language_code=locale))
    intro = only(to_user(telegram, "editMessageText", user))
    assert intro.params["text"].startswith(text(locale, "intro"))


async def test_closing_an_answered_question_sends_the_user_no_notice(
    live: App, telegram: FakeTelegram
) -> None:
    moderator(telegram, MOD_A)
    user, card_id, _ = await answered(live, telegram, "ru")
    telegram.clear()
    await feed(live, press(MOD_A, "mod:close-yes:1", card_id))
    await settle(live)
    assert [c for c in telegram.calls if c.params.get("chat_id") == user] == []
    assert (await row(live, "SELECT state FROM tickets WHERE id = 1")) == ("closed",)
    assert (await row(live, "SELECT count(*) FROM outbox WHERE kind = 'notify_user'")) == (0,)


@by_locale
async def test_in_forum_mode_a_follow_up_after_closing_reopens_the_topic(
    telegram: FakeTelegram, tmp_path: Path, locale: str
) -> None:
    moderator(telegram, MOD_A)
    async with running(telegram, tmp_path, moderator_forum=True) as app:
        user = await greet(app, locale)
        card_id = await new_ticket(app, telegram, text(locale, "question"), user=user)
        (thread,) = await row(app, "SELECT forum_thread_id FROM tickets WHERE id = 1")
        telegram.clear()
        await feed(app, press(MOD_A, "mod:close-yes:1", card_id))
        notice = await telegram.wait_for_call("sendMessage", chat_id=user)
        assert notice.params["text"] == text(locale, "closed-unanswered", id=1)
        await telegram.wait_for_call("closeForumTopic", message_thread_id=thread)
        await settle(app)
        assert telegram.topics(MODERATOR_CHAT_ID)[0]["is_closed"] is True

        telegram.clear()
        await feed(
            app,
            private_message(
                user, text(locale, "more"), reply_to=reply_to(message_id_of(telegram, notice), user),
                language_code=locale,
            ),
        )  # fmt: skip
        reopen = await telegram.wait_for_call("reopenForumTopic")
        assert reopen.params == {"chat_id": MODERATOR_CHAT_ID, "message_thread_id": thread}
        post = await telegram.wait_for_call(
            "sendMessage", chat_id=MODERATOR_CHAT_ID, message_thread_id=thread
        )
        assert post.params["text"] == f"{FOLLOW_UP.format(id=1)}\n{text(locale, 'more')}"
        card = await telegram.wait_for_call("editMessageText", message_id=card_id)
        assert REOPENED_CARD in card.params["text"]
        await settle(app)
        assert telegram.topics(MODERATOR_CHAT_ID)[0]["is_closed"] is False
        assert (await row(app, "SELECT state, reopened FROM tickets WHERE id = 1")) == ("new", 1)


# ---- 4. one preview ---------------------------------------------------------------------


@by_locale
async def test_every_message_of_a_draft_edits_the_one_preview(
    app: App, telegram: FakeTelegram, locale: str
) -> None:
    user, key = await open_draft(app, telegram, locale)
    parts = [text(locale, "question"), text(locale, "more"), "2023", "Спасибо / Thank you"]
    start = int(time.time()) - 600
    for n, part in enumerate(parts):
        # A minute apart: separate messages, not the parts of one long paste.
        await feed(app, private_message(user, part, date=start + 60 * n, language_code=locale))
    await feed(
        app,
        private_message(
            user, None, photo=emulated.photo(), caption="ещё фото", language_code=locale
        ),
    )
    preview = only(live_sends(telegram, user))
    preview_id = message_id_of(telegram, preview)
    edits = user_edits(telegram, user, preview_id)
    assert len(edits) == 4
    # Nothing else was sent to the user: no second preview, no second live Send.
    assert to_user(telegram, "sendMessage", user) == [preview]
    last = edits[-1].params
    assert last["text"].startswith(f"{text(locale, 'preview')}\n" + "\n\n".join(parts))
    assert f"{text(locale, 'attached')}{text(locale, 'photo')}" in last["text"]
    assert f"dr:send:{key}" in data_of(last["reply_markup"])
    assert (await draft(app, user))["preview_id"] == preview_id


@by_locale
async def test_a_text_right_after_an_album_updates_the_preview_without_a_refused_edit(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user, key = await open_draft(live, telegram, locale)
    items = photos(2)
    for update in album(user, items, language_code=locale):
        await feed(live, update)
    # Clients send a long comment to an album as a text message of its own.
    await feed(live, private_message(user, text(locale, "question"), language_code=locale))
    preview_id = message_id_of(telegram, await preview_of(telegram, user))
    # Until the album's redraw (due ALBUM_SETTLE after its last item) has had its turn.
    await telegram.wait_until(lambda: key not in ask_handlers._pending_refresh)
    await press_send(live, user, key, preview_id, locale)  # waits for the redraw's lock
    await telegram.wait_for_call("sendMediaGroup", chat_id=MODERATOR_CHAT_ID)
    assert telegram.unexpected_rejections() == []
    shown = user_edits(telegram, user, preview_id)[0].params["text"]
    assert text(locale, "question") in shown
    assert f"{text(locale, 'photo')} ×2" in shown


# ---- 5. a digest message stays ---------------------------------------------------------


async def delivered_digest(app: App, telegram: FakeTelegram, locale: str) -> tuple[int, ApiCall]:
    """The seed issue broadcast to a subscriber: (the user, the issue's message with the
    buttons)."""
    user = await greet(app, locale)
    await feed(app, private_message(user, "/subscribe", language_code=locale))
    issue = app.library.issue("2023-09")
    assert issue is not None
    assert (await app.broadcasts.publish(issue)).recipients == 1
    claimed = await app.broadcasts.claim()
    assert claimed == "2023-09"
    await asyncio.wait_for(app.broadcaster.run(claimed), 10)
    with_buttons = [
        c
        for c in to_user(telegram, "sendMessage", user)
        if "sub:stop" in json.dumps(c.params.get("reply_markup"))
    ]
    return user, only(with_buttons)


@by_locale
async def test_an_article_button_under_a_digest_opens_a_new_message_and_the_digest_stays(
    app: App, telegram: FakeTelegram, locale: str
) -> None:
    user, digest = await delivered_digest(app, telegram, locale)
    digest_id = message_id_of(telegram, digest)
    markup = digest.params["reply_markup"]
    shown_before = telegram.message(user, digest_id)
    assert buttons(markup)[-1] == (text(locale, "unsubscribe"), "sub:stop")
    articles = [d for d in data_of(markup) if d.startswith("da:")]
    assert len(articles) >= 2

    for n, data in enumerate(articles[:2]):
        telegram.clear()
        await feed(
            app,
            callback(
                user, data, message_id=digest_id, reply_markup=markup, callback_id=f"a{n}",
                language_code=locale,
            ),
        )  # fmt: skip
        _, issue_id, slug = data.split(":")
        ref = app.library.article(issue_id, slug)
        assert ref is not None
        article = only(to_user(telegram, "sendMessage", user))
        assert article.params["text"].startswith(
            f"<b>{ref.article.title.get(locale)}</b>\n<i>{ref.issue.title.get(locale)}</i>"
        )
        assert data_of(article.params["reply_markup"]) == [
            f"ask:{ref.article.topics[0]}", "nav:topics", "nav:home",
        ]  # fmt: skip
        assert only(telegram.calls_of("answerCallbackQuery")).params["callback_query_id"] == f"a{n}"
        # The digest message is not edited, not deleted: it and its Unsubscribe stay.
        touched = [c for c in telegram.calls if c.method.startswith(("edit", "delete"))]
        assert touched == []
    assert telegram.message(user, digest_id) == shown_before


# ---- 6. corrections --------------------------------------------------------------------


BOLD_FIRST_WORD = [{"type": "bold", "offset": 0, "length": 4}]


async def answer_in_group(
    app: App,
    telegram: FakeTelegram,
    card_id: int,
    user: int,
    answer: str,
    *,
    photo: bool = False,
) -> tuple[int, int]:
    """MOD_A answers in the group the emulator keeps (text, or a photo with a caption):
    (the moderator's message id, the id of the copy in the user's chat)."""
    before = len(to_user(telegram, "copyMessage", user))
    if photo:
        picture = telegram.upload("photo", b"\xff\xd8 sample statement", width=800, height=600)
        post = telegram.group_post(
            MODERATOR_CHAT_ID, MOD_A, attachment=picture, caption=answer,
            reply_to_message_id=card_id, push=False,
        )  # fmt: skip
    else:
        post = telegram.group_post(
            MODERATOR_CHAT_ID, MOD_A, answer, reply_to_message_id=card_id, push=False
        )
    await feed(app, {"message": post})
    await telegram.wait_for(lambda _: len(to_user(telegram, "copyMessage", user)) > before)
    await settle(app)
    copy = to_user(telegram, "copyMessage", user)[-1]
    return int(post["message_id"]), message_id_of(telegram, copy)


async def moderator_edits(
    app: App, telegram: FakeTelegram, message_id: int, new: str, entities: Any = None
) -> None:
    edited = telegram.edit_post(MODERATOR_CHAT_ID, message_id, new, entities=entities, push=False)
    await feed(app, {"edited_message": edited})


async def stored_answer(app: App) -> tuple[Any, ...]:
    return await row(
        app, "SELECT text, copy_message_id FROM ticket_messages WHERE direction = 'answer'"
    )


@by_locale
async def test_an_edited_answer_corrects_the_users_copy(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user = await greet(live, locale)
    card_id = await new_ticket(live, telegram, text(locale, "question"), user=user)
    answer_id, copy_id = await answer_in_group(
        live, telegram, card_id, user, "Нет, могут отказать."
    )
    telegram.clear()
    corrected = "Нет, не могут отказать: перечень документов закрыт (срок < 10 дней)."
    await moderator_edits(live, telegram, answer_id, corrected, BOLD_FIRST_WORD)
    edit = await telegram.wait_for_call("editMessageText", chat_id=user)
    await settle(live)
    assert edit.params["message_id"] == copy_id
    assert edit.params["text"] == corrected
    assert edit.params["entities"] == BOLD_FIRST_WORD
    assert "parse_mode" not in edit.params  # the text goes as written, entities and all
    shown = telegram.message(user, copy_id)
    assert shown is not None
    assert (shown["text"], shown["entities"]) == (corrected, BOLD_FIRST_WORD)
    assert [c.method for c in telegram.calls if c.params.get("chat_id") == user] == [
        "editMessageText"
    ]
    assert await stored_answer(live) == (corrected, copy_id)


@by_locale
async def test_an_edited_caption_corrects_the_users_copy(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user = await greet(live, locale)
    card_id = await new_ticket(live, telegram, text(locale, "question"), user=user)
    answer_id, copy_id = await answer_in_group(
        live, telegram, card_id, user, "Образец заявления на АГС", photo=True
    )
    assert telegram.message(user, copy_id)["photo"]  # type: ignore[index]
    telegram.clear()
    corrected = "Образец заявления на АГС: подайте его за 6 месяцев до призыва."
    await moderator_edits(live, telegram, answer_id, corrected, BOLD_FIRST_WORD)
    edit = await telegram.wait_for_call("editMessageCaption", chat_id=user)
    await settle(live)
    assert edit.params["message_id"] == copy_id
    assert edit.params["caption"] == corrected
    assert edit.params["caption_entities"] == BOLD_FIRST_WORD
    assert "parse_mode" not in edit.params
    assert telegram.message(user, copy_id)["caption"] == corrected  # type: ignore[index]
    assert telegram.calls_of("editMessageText") == []
    assert await stored_answer(live) == (corrected, copy_id)


@by_locale
async def test_when_the_copy_cannot_be_edited_the_correction_is_sent_again(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    user = await greet(live, locale)
    card_id = await new_ticket(live, telegram, text(locale, "question"), user=user)
    answer_id, copy_id = await answer_in_group(live, telegram, card_id, user, "Срок — 3 дня.")
    # The user deleted the answer in their chat: Telegram refuses the edit.
    telegram.delete_message(user, copy_id)
    telegram.expect_rejection("message to edit not found", method="editMessageText", times=1)
    telegram.clear()
    corrected = "Срок — 10 дней с получения повестки."
    await moderator_edits(live, telegram, answer_id, corrected)
    copy = await telegram.wait_for_call("copyMessage", chat_id=user)
    await settle(live)
    refused = only(telegram.calls_of("editMessageText"))
    assert (refused.failed, refused.params["message_id"]) == (True, copy_id)
    notice = only(to_user(telegram, "sendMessage", user))
    assert notice.params["text"] == text(locale, "corrected", id=1)
    assert notice.at < copy.at
    assert (copy.params["from_chat_id"], copy.params["message_id"]) == (
        MODERATOR_CHAT_ID,
        answer_id,
    )
    new_copy = message_id_of(telegram, copy)
    assert telegram.message(user, new_copy)["text"] == corrected  # type: ignore[index]
    assert await stored_answer(live) == (corrected, new_copy)
    # The new copy is the ticket's: the user may reply to it.
    telegram.clear()
    await feed(
        live,
        private_message(user, text(locale, "more"), reply_to=reply_to(new_copy, user),
                        language_code=locale),
    )  # fmt: skip
    assert only(to_user(telegram, "sendMessage", user)).params["text"] == text(
        locale, "added", id=1
    )


async def test_a_copy_too_old_to_edit_gets_the_corrected_caption_sent_again(
    live: App, telegram: FakeTelegram
) -> None:
    card_id = await new_ticket(live, telegram)
    answer_id, copy_id = await answer_in_group(
        live, telegram, card_id, USER, "Образец заявления", photo=True
    )
    # Telegram no longer lets the bot edit it (older than 48 hours).
    telegram.fail_next(
        "editMessageCaption", status=400, description="Bad Request: message can't be edited"
    )
    telegram.clear()
    corrected = "Образец заявления (новая редакция)"
    await moderator_edits(live, telegram, answer_id, corrected)
    copy = await telegram.wait_for_call("copyMessage", chat_id=USER)
    await settle(live)
    assert [c.failed for c in telegram.calls_of("editMessageCaption")] == [True]
    assert only(to_user(telegram, "sendMessage")).params["text"] == text("ru", "corrected", id=1)
    new_copy = message_id_of(telegram, copy)
    shown = telegram.message(USER, new_copy)
    assert shown is not None
    assert (bool(shown["photo"]), shown["caption"]) == (True, corrected)
    assert await stored_answer(live) == (corrected, new_copy)
    assert telegram.message(USER, copy_id) is not None  # the old copy is left as it was


async def test_in_forum_mode_an_edited_answer_in_the_topic_corrects_the_copy(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running(telegram, tmp_path, moderator_forum=True) as app:
        await new_ticket(app, telegram)
        (thread,) = await row(app, "SELECT forum_thread_id FROM tickets WHERE id = 1")
        post = telegram.group_post(
            MODERATOR_CHAT_ID, MOD_A, "Срок — 3 дня.", message_thread_id=thread, push=False
        )
        await feed(app, {"message": post})
        copy = await telegram.wait_for_call("copyMessage", chat_id=USER)
        await settle(app)
        telegram.clear()
        await moderator_edits(app, telegram, post["message_id"], "Срок — 10 дней.")
        edit = await telegram.wait_for_call("editMessageText", chat_id=USER)
        await settle(app)
        assert (edit.params["message_id"], edit.params["text"]) == (
            message_id_of(telegram, copy), "Срок — 10 дней.",
        )  # fmt: skip
        assert to_user(telegram, "sendMessage") == []


async def test_an_edit_of_a_message_that_is_no_answer_does_nothing(
    live: App, telegram: FakeTelegram
) -> None:
    moderator(telegram, MOD_A)
    card_id = await new_ticket(live, telegram)
    talk = telegram.group_post(MODERATOR_CHAT_ID, MOD_A, "Коллеги, кто возьмёт #1?", push=False)
    await feed(live, {"message": talk})
    note = telegram.group_post(
        MODERATOR_CHAT_ID, MOD_A, "/note он из части 12345", reply_to_message_id=card_id,
        push=False,
    )  # fmt: skip
    await feed(live, {"message": note})
    await settle(live)
    jobs_before = await row(live, "SELECT count(*) FROM outbox")
    telegram.clear()
    await moderator_edits(live, telegram, talk["message_id"], "Коллеги, кто возьмёт #1 и #2?")
    await moderator_edits(live, telegram, note["message_id"], "/note он из части 54321")
    await settle(live)
    assert [c for c in telegram.calls if c.params.get("chat_id") == USER] == []
    assert telegram.calls_of("copyMessage", "editMessageText", "sendMessage") == []
    assert await row(live, "SELECT count(*) FROM outbox") == jobs_before
    assert (await row(live, "SELECT count(*) FROM ticket_messages WHERE direction = 'answer'")) == (
        0,
    )


# ---- 7. no one-tap accidents ------------------------------------------------------------

CARD_BUTTONS_RU = {
    "take": ("🙋 Взять", "take"),
    "close": ("🔒 Закрыть", "close"),
    "ban": ("🚫 Заблокировать", "ban"),
    "reopen": ("↩️ Открыть снова", "reopen"),
    "unban": ("✅ Разблокировать", "unban"),
}


def card_buttons(ticket_id: int, *names: str) -> list[tuple[str, str]]:
    return [(CARD_BUTTONS_RU[n][0], f"mod:{CARD_BUTTONS_RU[n][1]}:{ticket_id}") for n in names]


def confirm_buttons(ticket_id: int, question: str, action: str) -> list[tuple[str, str]]:
    return [
        (question, f"mod:none:{ticket_id}"),
        ("✅ Да", f"mod:{action}-yes:{ticket_id}"),
        ("✖️ Нет", f"mod:back:{ticket_id}"),
    ]


def card_edits(telegram: FakeTelegram, card_id: int) -> list[ApiCall]:
    return [
        c
        for c in telegram.calls
        if c.method in ("editMessageText", "editMessageReplyMarkup")
        and c.params.get("chat_id") == MODERATOR_CHAT_ID
        and c.params.get("message_id") == card_id
        and not c.failed
    ]


async def state_of(app: App, ticket_id: int = 1) -> str:
    (state,) = await row(app, "SELECT state FROM tickets WHERE id = ?", ticket_id)
    return str(state)


@pytest.mark.parametrize("forum", [False, True], ids=["reply-mode", "forum"])
async def test_close_asks_first_no_restores_and_a_closed_card_offers_reopen(
    telegram: FakeTelegram, tmp_path: Path, forum: bool
) -> None:
    moderator(telegram, MOD_A)
    async with running(telegram, tmp_path, moderator_forum=forum) as app:
        card_id = await new_ticket(app, telegram)
        posted = only([c for c in to_group(telegram) if message_id_of(telegram, c) == card_id])
        telegram.clear()
        await feed(app, press(MOD_A, "mod:close:1", card_id, "close"))
        confirm = only(card_edits(telegram, card_id))
        assert confirm.method == "editMessageReplyMarkup"
        assert buttons(confirm.params["reply_markup"]) == confirm_buttons(1, "Закрыть #1?", "close")
        assert "text" not in only(telegram.calls_of("answerCallbackQuery")).params
        assert await state_of(app) == "new"

        # The question on the card is no button; No puts the card's buttons back.
        telegram.clear()
        await feed(app, press(MOD_A, "mod:none:1", card_id))
        assert card_edits(telegram, card_id) == []
        await feed(app, press(MOD_A, "mod:back:1", card_id))
        restored = only(card_edits(telegram, card_id))
        assert restored.params["text"] == posted.params["text"]
        assert buttons(restored.params["reply_markup"]) == card_buttons(1, "take", "close", "ban")
        assert await state_of(app) == "new"
        assert telegram.calls_of("closeForumTopic") == []

        telegram.clear()
        await feed(app, press(MOD_A, "mod:close:1", card_id))
        await feed(app, press(MOD_A, "mod:close-yes:1", card_id, "yes"))
        assert answer_text(telegram, "yes") == "#1 закрыто."
        await settle(app)
        closed = card_edits(telegram, card_id)[-1]
        assert "Статус: 🔒 закрыто" in closed.params["text"]
        assert buttons(closed.params["reply_markup"]) == card_buttons(1, "reopen", "ban")
        assert await state_of(app) == "closed"
        assert len(telegram.calls_of("closeForumTopic")) == (1 if forum else 0)

        telegram.clear()
        await feed(app, press(MOD_A, "mod:reopen:1", card_id, "reopen"))
        assert answer_text(telegram, "reopen") == "#1 снова открыто."
        await settle(app)
        reopened = card_edits(telegram, card_id)[-1]
        assert "Статус: 🆕 новое" in reopened.params["text"]
        assert REOPENED_CARD in reopened.params["text"]
        assert buttons(reopened.params["reply_markup"]) == card_buttons(1, "take", "close", "ban")
        assert (await row(app, "SELECT state, reopened, closed_at FROM tickets WHERE id = 1")) == (
            "new", 1, None,
        )  # fmt: skip
        if forum:
            (thread,) = await row(app, "SELECT forum_thread_id FROM tickets WHERE id = 1")
            assert only(telegram.calls_of("reopenForumTopic")).params == {
                "chat_id": MODERATOR_CHAT_ID, "message_thread_id": thread,
            }  # fmt: skip
            assert telegram.topics(MODERATOR_CHAT_ID)[0]["is_closed"] is False
        else:
            assert telegram.calls_of("reopenForumTopic") == []
        # Open again: an answer goes to the user.
        await answer_by_reply(app, telegram, card_id, "Ответ после повторного открытия")


async def test_ban_asks_first_then_every_card_of_the_author_offers_unban(
    live: App, telegram: FakeTelegram
) -> None:
    moderator(telegram, MOD_A)
    card1 = await new_ticket(live, telegram, "Первый вопрос")
    card2 = await new_ticket(live, telegram, "Второй вопрос")
    telegram.clear()
    await feed(live, press(MOD_A, "mod:ban:1", card1))
    confirm = only(card_edits(telegram, card1))
    assert buttons(confirm.params["reply_markup"]) == confirm_buttons(
        1, "Заблокировать автора #1?", "ban"
    )
    assert (await row(live, "SELECT count(*) FROM bans")) == (0,)
    await feed(live, press(MOD_A, "mod:back:1", card1))
    assert buttons(card_edits(telegram, card1)[-1].params["reply_markup"]) == card_buttons(
        1, "take", "close", "ban"
    )
    assert (await row(live, "SELECT count(*) FROM bans")) == (0,)

    telegram.clear()
    await feed(live, press(MOD_A, "mod:ban:1", card1))
    await feed(live, press(MOD_A, "mod:ban-yes:1", card1, "ban"))
    assert answer_text(telegram, "ban") == "Автор #1 заблокирован, его открытые обращения закрыты."
    await settle(live)
    assert (await row(live, "SELECT user_id FROM bans")) == (USER,)
    assert [await state_of(live, 1), await state_of(live, 2)] == ["closed", "closed"]
    for ticket_id, card_id in ((1, card1), (2, card2)):
        shown = card_edits(telegram, card_id)[-1]
        assert buttons(shown.params["reply_markup"]) == card_buttons(ticket_id, "reopen", "unban")

    # Unban from the other card: the author may ask again, the cards offer Ban again.
    telegram.clear()
    await feed(live, press(MOD_A, "mod:unban:2", card2, "unban"))
    assert answer_text(telegram, "unban") == "Автор #2 разблокирован."
    await settle(live)
    assert (await row(live, "SELECT count(*) FROM bans")) == (0,)
    for ticket_id, card_id in ((1, card1), (2, card2)):
        shown = card_edits(telegram, card_id)[-1]
        assert buttons(shown.params["reply_markup"]) == card_buttons(ticket_id, "reopen", "ban")
    telegram.clear()
    await feed(live, private_message(USER, "/ask"))
    assert only(to_user(telegram, "sendMessage")).params["text"].startswith(text("ru", "intro"))


async def test_a_button_of_another_ticket_or_a_forged_one_acts_on_nothing(
    live: App, telegram: FakeTelegram
) -> None:
    moderator(telegram, MOD_A)
    card1 = await new_ticket(live, telegram, "Первый вопрос")
    await new_ticket(live, telegram, "Чужой вопрос", user=9002)
    telegram.clear()
    presses = [
        ("mod:close-yes:2", card1),  # the other ticket's number on this card
        ("mod:ban-yes:2", card1),
        ("mod:close-yes:1", 424242),  # no card at all
        ("mod:ban-yes:1", 424242),
        ("mod:explode:1", card1),  # no such action
    ]
    for n, (data, message_id) in enumerate(presses):
        await feed(live, press(MOD_A, data, message_id, f"p{n}"))
    await settle(live)
    for n, (data, _) in enumerate(presses):
        answer = answer_text(telegram, f"p{n}")
        assert answer in (
            "Эта кнопка устарела или относится к другому сообщению. Ничего не изменено.",
            "Этого обращения больше нет.",
        ), data
    assert [await state_of(live, 1), await state_of(live, 2)] == ["new", "new"]
    assert (await row(live, "SELECT count(*) FROM bans")) == (0,)
    assert [c for c in telegram.calls if c.method.startswith(("edit", "send", "close"))] == []


async def test_a_double_tap_on_close_shows_the_confirmation_once(
    live: App, telegram: FakeTelegram
) -> None:
    moderator(telegram, MOD_A)
    card_id = await new_ticket(live, telegram)
    telegram.clear()
    # Both taps carry the card as the phone showed it before the first one took effect.
    await feed(live, press(MOD_A, "mod:close:1", card_id, "tap1"))
    await feed(live, press(MOD_A, "mod:close:1", card_id, "tap2"))
    assert telegram.unexpected_rejections() == []
    assert (
        "text"
        not in only(
            [
                c
                for c in telegram.calls_of("answerCallbackQuery")
                if c.params["callback_query_id"] == "tap2"
            ]
        ).params
    )
    assert len(card_edits(telegram, card_id)) == 1
    assert await state_of(live) == "new"


async def test_a_double_tap_on_no_restores_the_card_once(live: App, telegram: FakeTelegram) -> None:
    moderator(telegram, MOD_A)
    card_id = await new_ticket(live, telegram)
    await feed(live, press(MOD_A, "mod:close:1", card_id))
    telegram.clear()
    await feed(live, press(MOD_A, "mod:back:1", card_id, "no1"))
    await feed(live, press(MOD_A, "mod:back:1", card_id, "no2"))
    await settle(live)
    assert telegram.unexpected_rejections() == []
    assert len(card_edits(telegram, card_id)) == 1
    assert len(telegram.calls_of("answerCallbackQuery")) == 2


# ---- 8. reminders --------------------------------------------------------------------------


REMINDERS = {
    "ru": {
        "title": "⏰ <b>Ждут слишком долго: {count}</b>",
        "new": "• #{id} — никто не взял, ждёт {hours} ч",
        "claimed": '• #{id} — взял(а) <a href="tg://user?id={mod}">Ivan</a>, ответа нет {hours} ч',
        "none": "✅ Сейчас нет вопросов, которые ждут слишком долго.",
    },
    "en": {
        "title": "⏰ <b>Waiting too long: {count}</b>",
        "new": "• #{id} — nobody has taken it, waiting {hours} h",
        "claimed": (
            '• #{id} — taken by <a href="tg://user?id={mod}">Ivan</a>, no answer for {hours} h'
        ),
        "none": "✅ No question is waiting too long right now.",
    },
}


async def age_ticket(app: App, ticket_id: int, seconds: int) -> None:
    """As if the ticket had been asked (and taken) `seconds` earlier."""
    await app.db.write(
        "UPDATE tickets SET created_at = created_at - ?, last_user_at = last_user_at - ?, "
        "claimed_at = claimed_at - ? WHERE id = ?",
        (seconds, seconds, seconds, ticket_id),
    )


async def remind(app: App) -> None:
    await watch_desk(app)
    await settle(app)


@pytest.mark.parametrize("group_locale", LOCALES)
async def test_one_reminder_lists_what_waits_too_long_and_is_edited_in_place(
    telegram: FakeTelegram, tmp_path: Path, group_locale: str
) -> None:
    moderator(telegram, MOD_A)
    says = REMINDERS[group_locale]
    async with running(
        telegram, tmp_path, remind_unclaimed_hours=0.5, remind_unanswered_hours=1.5,
        group_locale=group_locale, max_open_tickets=4,
    ) as app:  # fmt: skip
        cards = [await new_ticket(app, telegram, f"Вопрос {n}") for n in (1, 2, 3, 4)]
        await feed(app, press(MOD_A, "mod:take:2", cards[1]))
        await feed(app, press(MOD_A, "mod:take:4", cards[3]))
        await settle(app)
        telegram.clear()
        await remind(app)  # nothing waits too long yet: nothing is posted
        assert telegram.calls == []
        await age_ticket(app, 1, 2 * 3600 + 60)  # new for 2 h: over 0.5 h
        await age_ticket(app, 2, 3 * 3600 + 60)  # taken 3 h ago, no answer: over 1.5 h
        await age_ticket(app, 4, 3600)  # taken an hour ago: not yet

        telegram.clear()
        slots = len(app.pacer.sent)
        await remind(app)
        reminder = only(to_group(telegram))
        assert len(app.pacer.sent) == slots + 1  # counted against the group's pace
        assert reminder.params["text"] == "\n".join(
            [
                says["title"].format(count=2),
                says["claimed"].format(id=2, mod=MOD_A, hours=3),
                says["new"].format(id=1, hours=2),
            ]
        )
        reminder_id = message_id_of(telegram, reminder)
        # The moderator who took #2 is mentioned: a link Telegram turns into a mention.
        shown = telegram.message(MODERATOR_CHAT_ID, reminder_id)
        assert shown is not None
        mentions = [e for e in shown.get("entities", []) if e["type"] == "text_mention"]
        assert [e["user"]["id"] for e in mentions] == [MOD_A]

        # #3 now waits too long as well: the same message is edited, no new one.
        await age_ticket(app, 3, 3600)
        telegram.clear()
        slots = len(app.pacer.sent)
        await remind(app)
        edit = only(telegram.calls_of("editMessageText"))
        assert len(app.pacer.sent) == slots + 1
        assert (edit.params["chat_id"], edit.params["message_id"]) == (
            MODERATOR_CHAT_ID,
            reminder_id,
        )
        assert edit.params["text"] == "\n".join(
            [
                says["title"].format(count=3),
                says["claimed"].format(id=2, mod=MOD_A, hours=3),
                says["new"].format(id=1, hours=2),
                says["new"].format(id=3, hours=1),
            ]
        )
        assert to_group(telegram) == []

        # Nothing changed: no request at all, whether the watch or a queued reminder runs.
        telegram.clear()
        slots = len(app.pacer.sent)
        await remind(app)
        await app.services.ledger.enqueue(Job.REMIND)
        app.outbox.wake("group")
        await settle(app)
        assert telegram.calls == []
        assert len(app.pacer.sent) == slots

        # All answered: the same message says so.
        for card_id in cards[:3]:
            await answer_by_reply(app, telegram, card_id, "Ответ")
        telegram.clear()
        await remind(app)
        done = only(telegram.calls_of("editMessageText"))
        assert (done.params["message_id"], done.params["text"]) == (reminder_id, says["none"])
        assert to_group(telegram) == []


# ---- 9. ratings ----------------------------------------------------------------------------

RATED_UP = "Оценка читателя: 👍 помогло"
RATED_DOWN = "Оценка читателя: 👎 не помогло"
THANKS = {"ru": "Спасибо за отзыв!", "en": "Thank you for the feedback!"}


async def ticket_history(app: App, telegram: FakeTelegram, ticket_id: int = 1) -> str:
    telegram.clear()
    history = command(f"/ticket {ticket_id}")
    await feed(app, history)
    return str((await group_reply(telegram, history)).params["text"])


@by_locale
async def test_a_rating_shows_on_the_card_and_in_ticket_and_a_change_replaces_it(
    live: App, telegram: FakeTelegram, locale: str
) -> None:
    moderator(telegram, MOD_A)
    user, card_id, _ = await answered(live, telegram, locale)
    footer_id = (await user_message_ids(live))[-1]
    assert RATED_UP not in await ticket_history(live, telegram)

    telegram.clear()
    await feed(live, callback(user, "fb:up:1", message_id=footer_id, callback_id="up"))
    assert answer_text(telegram, "up") == THANKS[locale]
    await settle(live)
    card = card_edits(telegram, card_id)[-1]
    assert RATED_UP in card.params["text"]
    assert (await ticket_history(live, telegram)).split("\n\n")[1] == RATED_UP
    assert (await row(live, "SELECT rating FROM tickets WHERE id = 1")) == (1,)

    # The other button replaces the rating: one rating per answer.
    telegram.clear()
    await feed(live, callback(user, "fb:down:1", message_id=footer_id, callback_id="down"))
    await settle(live)
    card = card_edits(telegram, card_id)[-1]
    assert RATED_DOWN in card.params["text"]
    assert RATED_UP not in card.params["text"]
    history = await ticket_history(live, telegram)
    assert RATED_DOWN in history
    assert RATED_UP not in history
    assert (await row(live, "SELECT rating FROM tickets WHERE id = 1")) == (-1,)

    # The same button again changes nothing, and the card is not redrawn.
    telegram.clear()
    await feed(live, callback(user, "fb:down:1", message_id=footer_id, callback_id="again"))
    await settle(live)
    assert answer_text(telegram, "again") == THANKS[locale]
    assert card_edits(telegram, card_id) == []


@pytest.mark.parametrize("group_locale", LOCALES)
async def test_stats_share_of_positive_ratings_and_medians_per_week(
    telegram: FakeTelegram, tmp_path: Path, group_locale: str
) -> None:
    """Extends test_stats_counts_states_and_the_median_time_to_answer (one week, ru):
    two weeks with their own medians, in the group's language."""
    moderator(telegram, MOD_A)
    async with running(telegram, tmp_path, group_locale=group_locale) as app:
        for n in range(1, 6):
            card_id = await new_ticket(app, telegram, f"Вопрос {n}", user=READERS + n)
            await answer_by_reply(app, telegram, card_id, f"Ответ {n}", user=READERS + n)
        # First answers on Wednesday noon (UTC) of last week: 10 min, 1 h, 3 h (median 1 h);
        # and three weeks ago: 4 h, 6 h (median 5 h). Mid-week: no case falls on a boundary.
        today = int(time.time()) // 86_400 * 86_400
        monday = today - time.gmtime(today).tm_wday * 86_400
        recent, older = monday - 5 * 86_400 + 12 * 3600, monday - 19 * 86_400 + 12 * 3600
        for ticket_id, delay, answered_at in (
            (1, 600, recent), (2, 3600, recent), (3, 10_800, recent), (4, 14_400, older),
            (5, 21_600, older),
        ):  # fmt: skip
            await app.db.write(
                "UPDATE tickets SET first_answer_at = ?, created_at = ? WHERE id = ?",
                (answered_at, answered_at - delay, ticket_id),
            )
        await feed(app, callback(READERS + 1, "fb:up:1"))
        await feed(app, callback(READERS + 2, "fb:down:2"))
        await feed(app, callback(READERS + 3, "fb:down:3"))
        await feed(app, callback(READERS + 3, "fb:up:3"))  # changed their mind: 👍
        await feed(app, callback(READERS + 4, "fb:down:4"))
        await settle(app)
        weeks = [time.strftime("%G-W%V", time.gmtime(t)) for t in (recent, older)]

        telegram.clear()
        stats = command("/stats")
        await feed(app, stats)
        lines = (await group_reply(telegram, stats)).params["text"].split("\n")
    if group_locale == "ru":
        assert "Медианное время до первого ответа: 3 ч" in lines
        assert "Оценки ответов: 4 · помогло — 50% (👍 2 · 👎 2)" in lines
        week_lines = [
            f"{weeks[0]}: ответов — 3, медиана — 1 ч",
            f"{weeks[1]}: ответов — 2, медиана — 5 ч",
        ]
        head = "<b>Время до первого ответа по неделям</b>"
    else:
        assert "Median time to the first answer: 3 h" in lines
        assert "Ratings of answers: 4 · helpful: 50% (👍 2 · 👎 2)" in lines
        week_lines = [f"{weeks[0]}: 3 answered, median 1 h", f"{weeks[1]}: 2 answered, median 5 h"]
        head = "<b>Time to the first answer, by week</b>"
    start = lines.index(head)
    assert lines[start + 1 : start + 3] == week_lines


# ---- 10. internal notes ----------------------------------------------------------------

FORUM_HINT = (
    "<i>Всё, что вы пишете в этой теме, получит читатель. Заметка для коллег: /note текст</i>"
)
REPLY_HINT = (
    "<i>Чтобы ответить читателю, ответьте на это сообщение. Заметка для коллег: /note текст "
    "(тоже ответом)</i>"
)
NOTE = "он из части 12345 — не упоминать <в ответе>"
NOTE_ON_CARD = (
    "📝 Заметки для коллег (1):\n• Anna: он из части 12345 — не упоминать &lt;в ответе&gt;"
)
NOTE_IN_HISTORY = "<b>Заметка (Anna):</b> он из части 12345 — не упоминать &lt;в ответе&gt;"


async def notes_of(app: App) -> list[tuple[Any, ...]]:
    rows = await app.db.fetch_all(
        "SELECT author, text FROM ticket_messages WHERE direction = 'note' ORDER BY id"
    )
    return [tuple(r) for r in rows]


async def test_in_forum_mode_a_note_stays_in_the_group_and_a_plain_message_is_the_answer(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    moderator(telegram, MOD_A)
    async with running(telegram, tmp_path, moderator_forum=True) as app:
        card_id = await new_ticket(app, telegram)
        posted = only([c for c in to_group(telegram) if message_id_of(telegram, c) == card_id])
        assert FORUM_HINT in posted.params["text"]  # the card says how, nobody must remember
        (thread,) = await row(app, "SELECT forum_thread_id FROM tickets WHERE id = 1")

        telegram.clear()
        note = group_message(
            MODERATOR_CHAT_ID, MOD_A, f"/note {NOTE}", message_thread_id=thread,
            is_topic_message=True, first_name="Anna",
        )  # fmt: skip
        await feed(app, note)
        await settle(app)
        assert [c for c in telegram.calls if c.params.get("chat_id") == USER] == []
        card = only(card_edits(telegram, card_id))
        assert NOTE_ON_CARD in card.params["text"]
        assert FORUM_HINT in card.params["text"]
        assert await notes_of(app) == [("Anna", NOTE)]
        # A note is no answer: the ticket still waits for one.
        assert (await row(app, "SELECT state, first_answer_at FROM tickets WHERE id = 1")) == (
            "new", None,
        )  # fmt: skip
        assert NOTE_IN_HISTORY in await ticket_history(app, telegram)
        await settle(app)
        assert [c for c in telegram.calls if c.params.get("chat_id") == USER] == []

        # Anything else written in the topic goes to the reader.
        telegram.clear()
        plain = group_message(
            MODERATOR_CHAT_ID, MOD_A, "Справку требовать не вправе.", message_thread_id=thread,
            is_topic_message=True, first_name="Anna",
        )  # fmt: skip
        await feed(app, plain)
        copy = await telegram.wait_for_call("copyMessage", chat_id=USER)
        assert copy.params["message_id"] == plain["message"]["message_id"]
        await settle(app)
        assert (await row(app, "SELECT state FROM tickets WHERE id = 1")) == ("answered",)


async def test_in_reply_mode_a_note_is_a_reply_and_other_talk_stays_in_the_group(
    live: App, telegram: FakeTelegram
) -> None:
    moderator(telegram, MOD_A)
    card_id = await new_ticket(live, telegram)
    posted = only([c for c in to_group(telegram) if message_id_of(telegram, c) == card_id])
    assert REPLY_HINT in posted.params["text"]

    telegram.clear()
    note = group_message(
        MODERATOR_CHAT_ID, MOD_A, f"/note {NOTE}", reply_to_message_id=card_id, first_name="Anna"
    )
    await feed(live, note)
    await settle(live)
    assert [c for c in telegram.calls if c.params.get("chat_id") == USER] == []
    assert NOTE_ON_CARD in only(card_edits(telegram, card_id)).params["text"]
    assert await notes_of(live) == [("Anna", NOTE)]
    assert NOTE_IN_HISTORY in await ticket_history(live, telegram)

    # Talk that replies to nothing stays in the group: no request, nothing stored.
    messages_before = await row(live, "SELECT count(*) FROM ticket_messages")
    telegram.clear()
    await feed(live, group_message(MODERATOR_CHAT_ID, MOD_A, "Кто возьмёт #1? Я занята."))
    await settle(live)
    assert telegram.calls == []
    assert await row(live, "SELECT count(*) FROM ticket_messages") == messages_before
    # A /note that replies to nothing is told how.
    lost = group_message(MODERATOR_CHAT_ID, MOD_A, "/note куда это?")
    await feed(live, lost)
    reply = await group_reply(telegram, lost)
    assert reply.params["text"] == "Отправьте эту команду ответом на сообщение обращения."
    assert len(await notes_of(live)) == 1


# ---- 11. the group speaks its language -------------------------------------------------

ADMIN = 5001


async def test_group_locale_en_makes_cards_commands_and_errors_english(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    moderator(telegram, MOD_A)
    async with running(telegram, tmp_path, group_locale="en") as app:
        card_id = await new_ticket(app, telegram)  # a Russian-speaking reader
        reader = await reader_of(app, USER)
        card = only([c for c in to_group(telegram) if message_id_of(telegram, c) == card_id])
        assert card.params["text"] == (
            f"<b>#1</b> · Reader {reader}\nTopic: — · Language: ru\nStatus: 🆕 new\n"
            "<i>To answer the reader, reply to this message. A note for colleagues: /note text "
            f"(as a reply too)</i>\n\n{TEXTS['ru']['question']}"
        )
        assert buttons(card.params["reply_markup"]) == [
            ("🙋 Take", "mod:take:1"), ("🔒 Close", "mod:close:1"), ("🚫 Ban", "mod:ban:1"),
        ]  # fmt: skip
        telegram.clear()
        await feed(app, press(MOD_A, "mod:close:1", card_id))
        assert buttons(only(card_edits(telegram, card_id)).params["reply_markup"]) == [
            ("Close #1?", "mod:none:1"), ("✅ Yes", "mod:close-yes:1"), ("✖️ No", "mod:back:1"),
        ]  # fmt: skip
        await feed(app, press(MOD_A, "mod:back:1", card_id))
        await feed(app, press(6660, "mod:take:1", card_id, "outsider"))
        assert answer_text(telegram, "outsider") == (
            "Only members of the moderators' group can do this."
        )

        replies = {
            "/ticket 99": "There is no ticket #99 (it may have been deleted at the user's request).",
            "/ticket": "Usage: /ticket &lt;number&gt;",
            "/canned nosuch": (
                "There is no canned answer “nosuch”. Available: passport, safety, thanks"
            ),
            "/queue": (
                "<b>Open tickets: 1</b>\n"
                f"#1 · waiting 0 min (asked 0 min ago) · 🆕 waiting · — · Reader {reader}"
            ),
        }
        for typed, expected in replies.items():
            telegram.clear()
            sent = command(typed, reply_to_card=card_id if typed.startswith("/canned") else None)
            await feed(app, sent)
            assert (await group_reply(telegram, sent)).params["text"] == expected, typed
        telegram.clear()
        stats = command("/stats")
        await feed(app, stats)
        lines = (await group_reply(telegram, stats)).params["text"].split("\n")
        assert lines[:2] == ["<b>Tickets</b>", "new: 1 · taken: 0 · answered: 0 · closed: 0"]

        # The reader's follow-up reaches the group in English, the reader is told in Russian.
        telegram.clear()
        received = (await user_message_ids(app))[0]
        await feed(app, private_message(USER, "Ещё деталь", reply_to=reply_to(received)))
        assert only(to_user(telegram, "sendMessage")).params["text"] == text("ru", "added", id=1)
        post = await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID)
        assert post.params["text"] == "↩️ Follow-up to #1:\nЕщё деталь"

        await feed(app, press(MOD_A, "mod:close-yes:1", card_id))
        await settle(app)
        telegram.clear()
        late = group_message(MODERATOR_CHAT_ID, MOD_A, "Поздно", reply_to_message_id=card_id)
        await feed(app, late)
        assert (await group_reply(telegram, late)).params["text"] == (
            "#1 is closed; the answer was not sent."
        )
        telegram.clear()
        await feed(app, press(MOD_A, "mod:reopen:1", card_id, "reopen"))
        assert answer_text(telegram, "reopen") == "#1 is open again."
        card_now = await telegram.wait_for_call("editMessageText", message_id=card_id)
        assert "↩️ Reopened after closing: once" in card_now.params["text"]
        # A reply to a bot message that is no ticket's is told why, in English too.
        telegram.clear()
        queue = command("/queue")
        await feed(app, queue)
        listing = await group_reply(telegram, queue)
        stray = group_message(
            MODERATOR_CHAT_ID, MOD_A, "?", reply_to_message_id=message_id_of(telegram, listing)
        )
        # From the bot as its token names it (the emulator's own bot user is id 42).
        stray["message"]["reply_to_message"]["from"]["id"] = app.bot.id
        await feed(app, stray)
        assert (
            (await group_reply(telegram, stray))
            .params["text"]
            .startswith("This bot message belongs to no ticket")
        )


@pytest.mark.parametrize("group_locale", LOCALES)
async def test_publish_without_or_with_an_unknown_issue_lists_the_issues(
    telegram: FakeTelegram, tmp_path: Path, group_locale: str
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, ADMIN)] = "administrator"
    says = {
        "ru": "Выпуска «{name}» нет. Есть файлы: 2023-09. Пример: /publish 2023-10",
        "en": "There is no issue “{name}”. Issue files: 2023-09. For example: /publish 2023-10",
    }[group_locale]
    async with running(telegram, tmp_path, group_locale=group_locale) as app:
        for typed, name in (("/publish", "—"), ("/publish 2099-01", "2099-01")):
            telegram.clear()
            sent = command(typed, user=ADMIN)
            await feed(app, sent)
            assert (await group_reply(telegram, sent)).params["text"] == says.format(name=name)
            assert len(to_group(telegram)) == 1  # no preview, no confirmation
        assert await app.db.fetch_one("SELECT 1 FROM broadcasts") is None


# ---- 12. publishing from the command line shows its progress in the group --------------

BROADCAST_DONE = {
    "ru": "✅ <b>Рассылка 2023-10 завершена</b>\nотправлено 5 из 5 · ошибок 0 · заблокировали 0",
    "en": "✅ <b>Broadcast 2023-10 finished</b>\nsent 5 of 5 · failed 0 · blocked 0",
}
BROADCAST_GOING = {"ru": "📤 <b>Рассылка 2023-10</b>\n", "en": "📤 <b>Broadcast 2023-10</b>\n"}


@pytest.mark.parametrize("group_locale", LOCALES)
async def test_publish_from_the_command_line_shows_its_progress_in_the_group(
    telegram: FakeTelegram, tmp_path: Path, group_locale: str
) -> None:
    content = content_with_new_issue(tmp_path)
    settings = make_settings(telegram, tmp_path, content_dir=content)
    async with running(telegram, tmp_path, content_dir=content) as app:
        for user_id, locale in SUBSCRIBERS.items():
            await app.services.users.locale_of(user_id, locale)
            await app.services.subscriptions.subscribe(user_id)
    env = {
        **os.environ, "BOT_TOKEN": TOKEN, "MODERATOR_CHAT_ID": str(MODERATOR_CHAT_ID),
        "TELEGRAM_API_URL": telegram.url, "DATABASE_PATH": str(settings.database_path),
        "CONTENT_DIR": str(content), "BROADCAST_RATE": "20", "BROADCAST_PROGRESS_EVERY": "0.05",
        "GROUP_LOCALE": group_locale,
    }  # fmt: skip
    telegram.clear()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "publish", "2023-10", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert "broadcast 2023-10: sent 5, failed 0, blocked 0, left 0" in stdout.decode()
    # One status message in the group, edited as the broadcast goes, ending with the result.
    status = only(to_group(telegram))
    status_id = message_id_of(telegram, status)
    assert status.params["text"].startswith((BROADCAST_GOING[group_locale], "✅"))
    edits = [
        c for c in to_group(telegram, "editMessageText") if c.params["message_id"] == status_id
    ]
    texts = [status.params["text"], *(c.params["text"] for c in edits)]
    assert texts[-1] == BROADCAST_DONE[group_locale]
    assert all(t.startswith(BROADCAST_GOING[group_locale]) for t in texts[:-1])
    async with running(telegram, tmp_path, content_dir=content) as app:
        record = await row(
            app, "SELECT status_chat_id, status_message_id FROM broadcasts WHERE issue = '2023-10'"
        )
        assert record == (MODERATOR_CHAT_ID, status_id)
