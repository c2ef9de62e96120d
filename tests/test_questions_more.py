"""Flow 2, continued: forum topics, the draft's bad input, limits, My questions, answers
with media, moderator commands and closed tickets."""

from __future__ import annotations

import html
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml

from bot import emulator as emulated
from bot.emulator import ApiCall, FakeTelegram, callback, group_message, private_message
from bot.factory import App, open_app
from tests.conftest import (
    MODERATOR_CHAT_ID,
    ROOT,
    delivering,
    feed,
    make_settings,
    reader_of,
    settle,
)
from tests.test_menus import buttons, data_of
from tests.test_questions import (
    MOD_A,
    MOD_B,
    QUESTION,
    USER,
    answered_ticket,
    ask,
    message_id_of,
    posted_card,
    row,
    send,
    to_group,
    to_user,
)

OTHER = 9002
EN_USER = 9003
OUTSIDER = 6660

# The exact Russian texts (locales/ru/bot.ftl), written out so a changed text fails here.
TEXT_PLEASE = (
    "Такое сообщение я принять не могу. Пожалуйста, напишите вопрос текстом "
    "(можно приложить фото, документ или голосовое сообщение)."
)
# Fluent formats the number for ru: "12 000" with a no-break space.
TOO_LONG = (
    "Вопрос получается слишком длинным: в нём может быть не больше 12\u00a0000 символов. "
    "Последнее сообщение не добавлено — пожалуйста, отправьте его короче."
)
FLOOD = "Вы отправляете сообщения слишком часто. Подождите минуту и попробуйте снова."
DRAFT_GONE = "Этот черновик больше не действует и не был отправлен юристу."
EMPTY = "Вопрос пустой. Сначала напишите его."
CANCELLED = "Отменено. Ничего не отправлено."
TOO_MANY_ONE = (
    "У\u00a0вас уже 1\u00a0вопрос без ответа\u00a0— пока больше задать нельзя.\n\n"
    "Дождитесь ответа юриста или закройте один из вопросов в\u00a0разделе «Мои вопросы»."
)
STALE = "Эта кнопка больше не действует. Показываю текущий экран."
RATED = "Спасибо за отзыв!"
FOLLOW_UP_CLOSED = (
    "Этот вопрос уже закрыт, поэтому ваше сообщение юристу не передано. "
    "Если нужна ещё помощь, задайте новый вопрос."
)
MOD_ONLY_IN_GROUP = "Эта команда работает только в группе модераторов."
TICKET_USAGE = "Как пользоваться: /ticket <номер>"
CANNED_USAGE = (
    "Ответьте на обращение командой /canned <название>. Доступны: passport, safety, thanks"
)
PASSPORT_TOPIC = "Загранпаспорт и\u00a0выезд"
INTRO_HEAD = "<b>Задать вопрос</b>"
MENU_TITLE_HEAD = "<b>Здравствуйте! Это бот-консультант ДСО.</b>"
HOME_BUTTONS = [
    "nav:topics",
    "nav:latest",
    "nav:ask",
    "nav:subs",
    "nav:mine",
    "nav:lang",
    "nav:about",
]
# What Telegram accepts in parse_mode=HTML; any other "<...>" is a 400 "Unsupported start tag".
TELEGRAM_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "tg-emoji", "code", "pre", "blockquote",
    }
)  # fmt: skip


# ---- helpers -------------------------------------------------------------------------------


def visible(text: str) -> str:
    """What a user sees of an HTML message, as Telegram parses it: every "<" opens a tag,
    and a tag Telegram does not know makes it refuse the whole message."""
    out: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        out.append(text[pos:start])
        end = text.find(">", start)
        assert end != -1, f"Telegram refuses it (unclosed start tag): {text!r}"
        inner = text[start + 1 : end].lstrip("/").split()
        name = inner[0].lower() if inner else ""
        assert name in TELEGRAM_TAGS, f"Telegram refuses it (unsupported tag <{name}>): {text!r}"
        pos = end + 1
    out.append(text[pos:])
    return html.unescape("".join(out))


@asynccontextmanager
async def running(telegram: FakeTelegram, tmp_path: Path, **overrides: Any) -> AsyncIterator[App]:
    """An app with its own settings and its outbox worker running."""
    async with open_app(make_settings(telegram, tmp_path, **overrides)) as app, delivering(app):
        yield app


async def fsm(app: App, user: int = USER) -> tuple[str | None, dict[str, Any]]:
    await app.storage.flush()  # menu positions are written in batches
    found = await app.db.fetch_one(
        "SELECT state, data FROM fsm_state WHERE user_id = ? AND chat_id = ?", (user, user)
    )
    if found is None:
        return None, {}
    data: dict[str, Any] = json.loads(found[1])
    return found[0], data


async def draft(app: App, user: int = USER) -> dict[str, Any]:
    _, data = await fsm(app, user)
    assert "draft" in data, data
    value: dict[str, Any] = data["draft"]
    return value


async def open_draft(
    app: App, telegram: FakeTelegram, *, user: int = USER, entry: str = "nav:ask"
) -> str:
    """/start, then the ask button; the new draft's key. The call log is cleared after."""
    await feed(app, private_message(user, "/start"))
    await feed(app, callback(user, entry))
    assert (await fsm(app, user))[0] == "AskQuestion:writing"
    key = str((await draft(app, user))["key"])
    telegram.clear()
    return key


def photo(tag: str) -> list[dict[str, Any]]:
    """The sizes of one photo as Telegram sends them, smallest first."""
    return [
        {"file_id": f"AgAD-{tag}-small", "file_unique_id": f"{tag}-s", "width": 90, "height": 90},
        {"file_id": f"AgAD-{tag}-big", "file_unique_id": f"{tag}-b", "width": 1280, "height": 960},
    ]


def only(calls: list[ApiCall]) -> ApiCall:
    assert len(calls) == 1, calls
    return calls[0]


def user_texts(telegram: FakeTelegram, user: int = USER) -> list[str]:
    return [str(c.params.get("text")) for c in to_user(telegram, "sendMessage", user)]


def callback_answer(telegram: FakeTelegram, callback_id: str) -> ApiCall:
    return only(
        [
            c
            for c in telegram.calls_of("answerCallbackQuery")
            if c.params.get("callback_query_id") == callback_id
        ]
    )


async def card_id_of(app: App, ticket_id: int = 1) -> int:
    """The card's message id as the bot recorded it (after the outbox has run)."""
    await settle(app)
    (card_id,) = await row(app, "SELECT card_message_id FROM tickets WHERE id = ?", ticket_id)
    assert isinstance(card_id, int)
    return card_id


async def new_ticket(
    app: App,
    telegram: FakeTelegram,
    text: str = QUESTION,
    *,
    user: int = USER,
    entry: str = "nav:ask",
) -> int:
    """Ask and send; the card's message id once it is posted."""
    await send(app, await ask(app, telegram, text, user=user, entry=entry), user=user)
    (ticket_id,) = await row(
        app, "SELECT id FROM tickets WHERE user_id = ? ORDER BY id DESC LIMIT 1", user
    )
    return await card_id_of(app, int(ticket_id))


async def answer_by_reply(
    app: App, telegram: FakeTelegram, card_id: int, text: str, *, user: int = USER
) -> None:
    """MOD_A ("Anna") answers by replying to the card; waits until the user has it."""
    before = len(to_user(telegram, "copyMessage", user))
    await feed(
        app,
        group_message(
            MODERATOR_CHAT_ID, MOD_A, text, reply_to_message_id=card_id, first_name="Anna"
        ),
    )
    await telegram.wait_for(lambda _: len(to_user(telegram, "copyMessage", user)) > before)
    await settle(app)


async def user_message_ids(app: App, ticket_id: int = 1) -> list[int]:
    """Ids of the ticket's messages in the user's chat: answer copies and footers."""
    rows = await app.db.fetch_all(
        "SELECT message_id FROM user_messages WHERE ticket_id = ? ORDER BY message_id",
        (ticket_id,),
    )
    return [int(r[0]) for r in rows]


def reply_to(message_id: int, user: int = USER) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": user, "type": "private"},
        "text": "Ответ",
    }


def words(word: str, length: int) -> str:
    """A text of exactly `length` characters made of `word` and spaces."""
    return ((word + " ") * (length // (len(word) + 1) + 1))[:length]


def squashed(text: str) -> str:
    return "".join(text.split())


# ---- 1. forum mode -----------------------------------------------------------------------


async def test_forum_ticket_gets_a_topic_and_a_plain_message_there_is_the_answer(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running(telegram, tmp_path, moderator_forum=True) as app:
        await send(app, await ask(app, telegram))
        topic = await telegram.wait_for_call("createForumTopic")
        reader = await reader_of(app, USER)
        assert topic.params == {"chat_id": MODERATOR_CHAT_ID, "name": f"#1 · {reader}"}
        card = await posted_card(telegram)
        await settle(app)
        thread, card_id = await row(
            app, "SELECT forum_thread_id, card_message_id FROM tickets WHERE id = 1"
        )
        assert thread == 1  # the fake's first message id in the group: the topic's id
        assert card.params["message_thread_id"] == thread
        assert card.params["text"].startswith(f"<b>#1</b> · Читатель {reader}\n")
        assert card_id == 2

        telegram.clear()
        plain = group_message(
            MODERATOR_CHAT_ID,
            MOD_A,
            "Нет, справку требовать не вправе.",
            message_thread_id=thread,
            is_topic_message=True,
            first_name="Anna",
        )
        assert "reply_to_message" not in plain["message"]
        await feed(app, plain)
        copy = await telegram.wait_for_call("copyMessage", chat_id=USER)
        assert copy.params["from_chat_id"] == MODERATOR_CHAT_ID
        assert copy.params["message_id"] == plain["message"]["message_id"]
        await settle(app)
        answer = await row(
            app, "SELECT kind, text, author FROM ticket_messages WHERE direction = 'answer'"
        )
        assert answer == ("text", "Нет, справку требовать не вправе.", "Anna")
        assert (await row(app, "SELECT state FROM tickets WHERE id = 1")) == ("answered",)
        # A message in another topic (the General one) belongs to no ticket.
        telegram.clear()
        await feed(
            app,
            group_message(
                MODERATOR_CHAT_ID,
                MOD_A,
                "Коллеги, обед",
                message_thread_id=999,
                is_topic_message=True,
            ),
        )
        await settle(app)
        assert telegram.calls_of("copyMessage") == []


async def test_forum_topic_is_closed_with_the_ticket(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    async with running(telegram, tmp_path, moderator_forum=True) as app:
        await send(app, await ask(app, telegram))
        await posted_card(telegram)
        await settle(app)
        thread, card_id = await row(
            app, "SELECT forum_thread_id, card_message_id FROM tickets WHERE id = 1"
        )
        assert telegram.calls_of("closeForumTopic") == []
        telegram.clear()
        await feed(
            app, callback(MOD_A, "mod:close:1", chat_id=MODERATOR_CHAT_ID, message_id=card_id)
        )
        # Nothing is closed until the moderator confirms on the card.
        assert (await row(app, "SELECT state FROM tickets WHERE id = 1")) == ("new",)
        await feed(
            app,
            callback(
                MOD_A,
                "mod:close-yes:1",
                chat_id=MODERATOR_CHAT_ID,
                message_id=card_id,
                callback_id="close",
            ),
        )
        assert callback_answer(telegram, "close").params["text"] == "#1 закрыто."
        closed = await telegram.wait_for_call("closeForumTopic")
        assert closed.params == {"chat_id": MODERATOR_CHAT_ID, "message_thread_id": thread}
        edit = await telegram.wait_for_call("editMessageText", message_id=card_id)
        assert "Статус: 🔒 закрыто" in edit.params["text"]
        await settle(app)
        assert len(telegram.calls_of("closeForumTopic")) == 1
        assert (await row(app, "SELECT state FROM tickets WHERE id = 1")) == ("closed",)


async def test_deleted_forum_topic_is_recreated_with_a_fresh_card_for_a_follow_up(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running(telegram, tmp_path, moderator_forum=True) as app:
        await send(app, await ask(app, telegram))
        await posted_card(telegram)
        await settle(app)
        old_thread, old_card = await row(
            app, "SELECT forum_thread_id, card_message_id FROM tickets WHERE id = 1"
        )
        await feed(
            app,
            group_message(
                MODERATOR_CHAT_ID,
                MOD_A,
                "Ответ",
                message_thread_id=old_thread,
                is_topic_message=True,
            ),
        )
        await telegram.wait_for_call("copyMessage", chat_id=USER)
        await settle(app)
        answer_copy = (await user_message_ids(app))[0]

        # Someone deleted the topic: posting into it fails.
        telegram.clear()
        telegram.fail_next(
            "sendMessage",
            status=400,
            description="Bad Request: message thread not found",
            chat_id=MODERATOR_CHAT_ID,
        )
        await feed(
            app, private_message(USER, "А если отказали устно?", reply_to=reply_to(answer_copy))
        )
        follow_up_text = "↩️ Уточнение к #1:\nА если отказали устно?"
        await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID, text=follow_up_text)
        await settle(app)

        reader = await reader_of(app, USER)
        (topic,) = telegram.calls_of("createForumTopic")
        assert topic.params == {"chat_id": MODERATOR_CHAT_ID, "name": f"#1 · {reader}"}
        new_thread, new_card = await row(
            app, "SELECT forum_thread_id, card_message_id FROM tickets WHERE id = 1"
        )
        assert new_thread not in (None, old_thread)
        assert new_card != old_card
        posts = [
            c for c in telegram.calls_of("sendMessage") if c.params["chat_id"] == MODERATOR_CHAT_ID
        ]
        assert [c.failed for c in posts] == [True, False, False], telegram.dump()
        failed, card, follow_up = posts
        assert failed.params["message_thread_id"] == old_thread
        assert failed.params["text"] == follow_up_text
        assert card.params["message_thread_id"] == new_thread
        assert card.params["text"].startswith(f"<b>#1</b> · Читатель {reader}\n")
        assert QUESTION in card.params["text"]
        assert topic.at < card.at < follow_up.at
        assert follow_up.params["text"] == follow_up_text
        assert follow_up.params["message_thread_id"] == new_thread
        assert follow_up.params["reply_parameters"]["message_id"] == new_card


async def test_service_messages_in_a_forum_topic_are_not_answers(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    """A moderator renaming or closing the topic in Telegram's UI makes a service message
    in it; that is not an answer (and Telegram cannot copy it)."""
    async with running(telegram, tmp_path, moderator_forum=True) as app:
        await send(app, await ask(app, telegram))
        await posted_card(telegram)
        await settle(app)
        (thread,) = await row(app, "SELECT forum_thread_id FROM tickets WHERE id = 1")
        telegram.clear()
        services: list[dict[str, Any]] = [
            {"forum_topic_edited": {"name": "#1 · срочно"}},
            {"forum_topic_closed": {}},
        ]
        for service in services:
            await feed(
                app,
                group_message(
                    MODERATOR_CHAT_ID,
                    MOD_A,
                    None,
                    message_thread_id=thread,
                    is_topic_message=True,
                    **service,
                ),
            )
        await settle(app)
        assert telegram.calls_of("copyMessage") == [], telegram.dump()
        assert (await row(app, "SELECT state FROM tickets WHERE id = 1")) == ("new",)
        assert (
            await row(app, "SELECT count(*) FROM ticket_messages WHERE direction = 'answer'")
        ) == (0,)


# ---- 2. the draft: bad input, attachments, long texts, Edit / Cancel / Send ---------------


async def test_stickers_locations_contacts_and_polls_are_not_a_question(
    app: App, telegram: FakeTelegram
) -> None:
    await open_draft(app, telegram)
    sticker = {
        "file_id": "CAACAgIAAxk-sticker",
        "file_unique_id": "st1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    poll = {
        "id": "5000000001",
        "question": "Идти в военкомат?",
        "options": [
            {"persistent_id": "a", "text": "Да", "voter_count": 0},
            {"persistent_id": "b", "text": "Нет", "voter_count": 0},
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": False,
        "members_only": False,
    }
    inputs: dict[str, dict[str, Any]] = {
        "sticker": {"sticker": sticker},
        "location": {"location": {"latitude": 55.75, "longitude": 37.61}},
        "contact": {"contact": {"phone_number": "+70000000000", "first_name": "Пётр"}},
        "poll": {"poll": poll},
    }
    for kind, extra in inputs.items():
        telegram.clear()
        await feed(app, private_message(USER, None, **extra))
        (reply,) = to_user(telegram, "sendMessage")
        assert reply.params["text"] == TEXT_PLEASE, kind
        assert "reply_markup" not in reply.params, kind
        state, data = await fsm(app)
        assert state == "AskQuestion:writing", kind
        assert data["draft"]["text"] == "", kind
        assert data["draft"]["files"] == [], kind
    assert (await row(app, "SELECT count(*) FROM tickets")) == (0,)


async def test_photo_with_caption_is_the_attachment_and_follows_the_card(
    live: App, telegram: FakeTelegram
) -> None:
    key = await open_draft(live, telegram)
    caption = "Вот что мне выдали в МВД. Это законно?"
    await feed(live, private_message(USER, None, photo=photo("refusal"), caption=caption))
    preview = only(to_user(telegram, "sendMessage"))
    assert preview.params["text"].startswith(f"<b>Ваш вопрос:</b>\n{caption}\n\n")
    assert "\n\n📎 Вложение: фото" in preview.params["text"]
    assert f"dr:send:{key}" in data_of(preview.params["reply_markup"])
    stored = await draft(live)
    assert [f["file_id"] for f in stored["files"]] == ["AgAD-refusal-big"]
    assert stored["text"] == caption

    telegram.clear()
    await send(live, key)
    sent_photo = await telegram.wait_for_call("sendPhoto", chat_id=MODERATOR_CHAT_ID)
    card = only(to_group(telegram))
    card_id = await card_id_of(live)
    assert card.at < sent_photo.at
    assert caption in card.params["text"]
    assert "📎 Вложение:" in card.params["text"]
    assert sent_photo.params["photo"] == "AgAD-refusal-big"
    assert sent_photo.params["reply_parameters"]["message_id"] == card_id
    assert len(to_group(telegram, "sendPhoto")) == 1
    question = await row(
        live,
        "SELECT m.kind, m.text, a.file_id FROM ticket_messages m "
        "JOIN attachments a ON a.message_id = m.id WHERE m.direction = 'question'",
    )
    assert question == ("photo", caption, "AgAD-refusal-big")


async def test_an_album_reaches_the_moderators_as_one_album(
    live: App, telegram: FakeTelegram
) -> None:
    key = await open_draft(live, telegram)
    album = "13579246801357924"
    pages = ["page1", "page2", "page3"]
    await feed(
        live,
        private_message(
            USER, None, photo=photo(pages[0]), caption="Три страницы", media_group_id=album
        ),
    )
    preview = only(to_user(telegram, "sendMessage"))
    assert preview.params["text"].startswith("<b>Ваш вопрос:</b>\nТри страницы")
    preview_id = message_id_of(telegram, preview)
    telegram.clear()
    for page in pages[1:]:
        # The items come one by one (maybe in separate batches): no message per item.
        await feed(live, private_message(USER, None, photo=photo(page), media_group_id=album))
    assert [c for c in telegram.calls if c.params.get("chat_id") == USER] == []
    # Once they stop coming, the one preview is redrawn with all of them.
    redrawn = await telegram.wait_for_call("editMessageText", chat_id=USER, message_id=preview_id)
    assert redrawn.params["text"].endswith("📎 Вложение: фото ×3")
    stored = await draft(live)
    assert [f["file_id"] for f in stored["files"]] == [f"AgAD-{p}-big" for p in pages]

    telegram.clear()
    await send(live, key)
    group = await telegram.wait_for_call("sendMediaGroup", chat_id=MODERATOR_CHAT_ID)
    await settle(live)
    card = only(to_group(telegram))
    assert card.at < group.at
    assert "📎 Вложение: фото ×3" in card.params["text"]
    assert [m["media"] for m in group.params["media"]] == [f"AgAD-{p}-big" for p in pages]
    assert group.params["reply_parameters"]["message_id"] == await card_id_of(live)
    # Every item of the album is the ticket's: a reply to any of them is an answer.
    mapped = await live.db.fetch_all("SELECT role FROM group_messages WHERE ticket_id = 1")
    assert sorted(r[0] for r in mapped) == ["card", "copy", "copy", "copy"]


async def test_files_of_a_question_keep_no_name_and_a_file_over_20_mb_is_refused(
    live: App, telegram: FakeTelegram
) -> None:
    key = await open_draft(live, telegram)
    await feed(live, private_message(USER, None, photo=photo("first"), caption="Повестка"))
    named = emulated.document("Petrov_Petr_passport_4512.pdf", size=52_000)
    await feed(live, private_message(USER, None, document=named))
    huge = emulated.document("scan.pdf", size=21 * 2**20)
    telegram.clear()
    await feed(live, private_message(USER, None, document=huge))
    (note,) = to_user(telegram, "sendMessage") or [
        c for c in telegram.calls_of("editMessageText") if c.params.get("chat_id") == USER
    ]
    assert "больше 20 МБ" in note.params["text"]
    assert [f["file_id"] for f in (await draft(live))["files"]] == [
        "AgAD-first-big",
        named["file_id"],
    ]

    telegram.clear()
    await send(live, key)
    document = await telegram.wait_for_call("sendDocument", chat_id=MODERATOR_CHAT_ID)
    await settle(live)
    # Downloaded and uploaded again under a neutral name: the original never travels.
    assert telegram.calls_of("getFile")[0].params["file_id"] == named["file_id"]
    assert document.files["document"].filename == "document-1-2.pdf"
    for call in telegram.calls:
        assert "Petrov" not in json.dumps(call.params, ensure_ascii=False), call
    assert to_group(telegram, "sendPhoto")[0].params["photo"] == "AgAD-first-big"


async def test_two_long_messages_are_one_question_posted_in_parts(
    live: App, telegram: FakeTelegram
) -> None:
    key = await open_draft(live, telegram)
    # One long paste the client split at 4096: the parts arrive a moment apart.
    first, second = words("первое", 4000), words("второе", 4000)
    await feed(live, private_message(USER, first))
    await feed(live, private_message(USER, second))
    # One preview, edited as the draft grows: never a second live Send button.
    (preview,) = to_user(telegram, "sendMessage")
    (edited,) = to_user(telegram, "editMessageText")
    assert edited.params["message_id"] == message_id_of(telegram, preview)
    assert all(len(p.params["text"]) <= 4096 for p in (preview, edited))
    assert data_of(edited.params["reply_markup"])[0] == f"dr:send:{key}"

    telegram.clear()
    await send(live, key)
    await settle(live)
    # Joined exactly as the client split it: no blank line inserted mid-text.
    whole = first + second
    (text,) = await row(live, "SELECT text FROM ticket_messages WHERE direction = 'question'")
    assert text == whole
    card_id = await card_id_of(live)
    card, *parts = to_group(telegram)
    assert card.params["text"].startswith("<b>#1</b>")
    assert parts, "the rest of the question must follow the card"
    for part in parts:
        assert part.params["reply_parameters"]["message_id"] == card_id
    assert all(len(c.params["text"]) <= 4096 for c in (card, *parts))
    shown = card.params["text"].split("\n\n", 1)[1] + "".join(p.params["text"] for p in parts)
    assert squashed(shown) == squashed(whole)


async def test_preview_of_a_long_draft_shows_its_beginning(
    app: App, telegram: FakeTelegram
) -> None:
    await open_draft(app, telegram)
    text = words("длинный", 3000)
    await feed(app, private_message(USER, text))
    preview = only(to_user(telegram, "sendMessage"))
    assert preview.params["text"].startswith(f"<b>Ваш вопрос:</b>\n{text[:2000]}")
    assert len(preview.params["text"]) <= 4096
    assert data_of(preview.params["reply_markup"])[0].startswith("dr:send:")


async def test_a_paste_over_12000_characters_is_refused_whole(
    app: App, telegram: FakeTelegram
) -> None:
    await open_draft(app, telegram)
    await feed(app, private_message(USER, "Короткое вступление.", date=int(time.time()) - 60))
    # 13,000 characters pasted: the client sends 4096 + 4096 + 4096 + 712.
    paste = words("слово", 13_000)
    parts = [paste[i : i + 4096] for i in range(0, len(paste), 4096)]
    assert [len(p) for p in parts] == [4096, 4096, 4096, 712]
    telegram.clear()
    for part in parts:
        await feed(app, private_message(USER, part))
    told = [t for t in user_texts(telegram) if t == TOO_LONG]
    assert told == [TOO_LONG]  # said once, for the whole paste
    # Nothing of the paste is kept (not its first parts, not its last), the rest is.
    assert (await draft(app))["text"] == "Короткое вступление."


async def test_a_separate_message_over_the_limit_is_refused_alone(
    app: App, telegram: FakeTelegram
) -> None:
    await open_draft(app, telegram)
    long_ago = int(time.time()) - 600
    await feed(app, private_message(USER, words("раз", 3900), date=long_ago))
    await feed(app, private_message(USER, words("два", 3900), date=long_ago + 300))
    await feed(app, private_message(USER, words("три", 3900), date=long_ago + 400))
    before = await draft(app)
    # Separate messages are separate paragraphs.
    assert before["text"] == "\n\n".join(words(w, 3900) for w in ("раз", "два", "три"))
    telegram.clear()
    await feed(app, private_message(USER, words("четыре", 400)))
    (reply,) = to_user(telegram, "sendMessage")
    assert reply.params["text"] == TOO_LONG
    assert (await draft(app))["text"] == before["text"]


async def test_edit_clears_the_draft_and_send_then_refuses_the_empty_draft(
    app: App, telegram: FakeTelegram
) -> None:
    key = await open_draft(app, telegram)
    await feed(app, private_message(USER, None, photo=photo("x"), caption="Черновик"))
    assert (await draft(app))["files"][0]["file_id"] == "AgAD-x-big"
    telegram.clear()
    await feed(app, callback(USER, f"dr:edit:{key}", message_id=2, callback_id="edit"))
    intro = only(telegram.calls_of("editMessageText"))
    assert intro.params["text"].startswith(INTRO_HEAD)
    assert data_of(intro.params["reply_markup"]) == [f"dr:cancel:{key}"]
    state, data = await fsm(app)
    assert state == "AskQuestion:writing"
    assert data["draft"]["key"] == key
    assert (data["draft"]["text"], data["draft"]["files"]) == ("", [])

    # Send on the preview shown before Edit: the draft is empty now.
    telegram.clear()
    await feed(app, callback(USER, f"dr:send:{key}", message_id=2, callback_id="send"))
    refused = callback_answer(telegram, "send")
    assert refused.params["text"] == EMPTY
    assert refused.params["show_alert"] is True
    assert (await row(app, "SELECT count(*) FROM tickets")) == (0,)
    assert (await row(app, "SELECT count(*) FROM outbox")) == (0,)
    assert (await fsm(app))[0] == "AskQuestion:writing"


async def test_cancel_leaves_no_ticket_and_shows_the_main_menu(
    app: App, telegram: FakeTelegram
) -> None:
    key = await open_draft(app, telegram)
    await feed(app, private_message(USER, QUESTION))
    telegram.clear()
    await feed(app, callback(USER, f"dr:cancel:{key}", message_id=2, callback_id="cancel"))
    assert callback_answer(telegram, "cancel").params["text"] == CANCELLED
    menu = only(telegram.calls_of("editMessageText"))
    assert menu.params["text"].startswith(MENU_TITLE_HEAD)
    assert data_of(menu.params["reply_markup"]) == HOME_BUTTONS
    assert (await row(app, "SELECT count(*) FROM tickets")) == (0,)
    state, data = await fsm(app)
    assert state == "Browsing:menu"
    assert "draft" not in data
    # Sending it afterwards changes nothing.
    await feed(app, callback(USER, f"dr:send:{key}", callback_id="late"))
    assert callback_answer(telegram, "late").params["text"] == DRAFT_GONE
    assert (await row(app, "SELECT count(*) FROM tickets")) == (0,)


async def test_send_from_a_stale_draft_is_refused(app: App, telegram: FakeTelegram) -> None:
    old = await open_draft(app, telegram)
    await feed(app, private_message(USER, "Первый черновик"))
    await feed(app, callback(USER, f"dr:cancel:{old}"))
    new = await open_draft(app, telegram)
    assert new != old
    await feed(app, private_message(USER, "Второй черновик"))
    telegram.clear()
    await feed(app, callback(USER, f"dr:send:{old}", callback_id="stale"))
    assert callback_answer(telegram, "stale").params["text"] == DRAFT_GONE
    assert (await row(app, "SELECT count(*) FROM tickets")) == (0,)
    assert (await draft(app))["text"] == "Второй черновик"
    assert (await draft(app))["key"] == new


# ---- 3. limits ---------------------------------------------------------------------------


async def test_too_many_open_tickets(telegram: FakeTelegram, tmp_path: Path) -> None:
    async with running(telegram, tmp_path, max_open_tickets=1) as app:
        await send(app, await ask(app, telegram))
        await posted_card(telegram)
        telegram.clear()
        await feed(app, callback(USER, "nav:ask", callback_id="again"))
        shown = only(telegram.calls_of("editMessageText"))
        assert shown.params["text"] == TOO_MANY_ONE
        assert data_of(shown.params["reply_markup"]) == ["nav:mine", "nav:home"]
        state, data = await fsm(app)
        assert state != "AskQuestion:writing"
        assert "draft" not in data

        telegram.clear()
        await feed(app, private_message(USER, "/ask"))
        assert user_texts(telegram) == [TOO_MANY_ONE]
        assert "draft" not in (await fsm(app))[1]
        await feed(app, private_message(USER, "Ещё один вопрос"))
        assert (await row(app, "SELECT count(*) FROM tickets")) == (1,)
        assert "draft" not in (await fsm(app))[1]


async def test_the_third_message_in_a_minute_is_flood(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running(telegram, tmp_path, flood_messages_per_minute=2) as app:
        await open_draft(app, telegram)
        await feed(app, private_message(USER, "Раз"))
        await feed(app, private_message(USER, "Два"))
        assert (await draft(app))["text"] == "Раз\n\nДва"
        telegram.clear()
        await feed(app, private_message(USER, "Три"))
        assert user_texts(telegram) == [FLOOD]
        assert (await draft(app))["text"] == "Раз\n\nДва"


# ---- 4. a question about a topic -----------------------------------------------------------


async def test_ask_about_a_topic_stores_the_topic_and_the_card_names_it(
    live: App, telegram: FakeTelegram
) -> None:
    await open_draft(live, telegram, entry="ask:passport")
    assert (await draft(live))["topic"] == "passport"
    await feed(live, private_message(USER, QUESTION))
    key = str((await draft(live))["key"])
    await send(live, key)
    card = await posted_card(telegram)
    assert f"\nТема: {PASSPORT_TOPIC} · Язык: ru\n" in card.params["text"]
    assert (await row(live, "SELECT topic FROM tickets WHERE id = 1")) == ("passport",)


async def test_ask_about_a_topic_shows_the_topic_in_the_intro(
    app: App, telegram: FakeTelegram
) -> None:
    await feed(app, private_message(USER, "/start"))
    telegram.clear()
    await feed(app, callback(USER, "ask:passport"))
    intro = only(telegram.calls_of("editMessageText"))
    assert intro.params["text"].startswith(f"Тема: <b>{PASSPORT_TOPIC}</b>\n\n{INTRO_HEAD}")


# ---- 5. my questions -----------------------------------------------------------------------


async def test_my_questions_lists_and_opens_the_users_tickets(
    live: App, telegram: FakeTelegram
) -> None:
    card_id = await new_ticket(live, telegram)
    await answer_by_reply(live, telegram, card_id, "Нет, не могут.")
    await new_ticket(live, telegram, "Второй вопрос: а выезд?")
    await new_ticket(live, telegram, "Чужой вопрос", user=OTHER)

    telegram.clear()
    await feed(live, callback(USER, "nav:mine", callback_id="mine"))
    listing = only(telegram.calls_of("editMessageText"))
    assert listing.params["text"] == "<b>Мои вопросы</b>"
    assert buttons(listing.params["reply_markup"]) == [
        ("№2 · 🆕 ждёт ответа", "mt:2"),
        ("№1 · ✅ есть ответ", "mt:1"),
        ("‹ Назад", "nav:home"),
        ("🏠 В начало", "nav:home"),
    ]

    telegram.clear()
    await feed(live, callback(USER, "mt:1", callback_id="open"))
    thread = only(telegram.calls_of("editMessageText"))
    assert thread.params["text"] == (
        "<b>Вопрос №1</b> · ✅ есть ответ\n\n"
        f"🙋 <b>Вы:</b> {QUESTION}\n\n"
        "🧑‍⚖️ <b>Юрист:</b> Нет, не могут."
    )
    assert data_of(thread.params["reply_markup"]) == ["fb:close:1", "nav:mine", "nav:home"]

    telegram.clear()
    await feed(live, callback(USER, "mt:3", callback_id="foreign"))
    assert callback_answer(telegram, "foreign").params["text"] == STALE
    shown = only(telegram.calls_of("editMessageText"))
    assert "Чужой вопрос" not in shown.params["text"]
    assert data_of(shown.params["reply_markup"])[:2] == ["mt:2", "mt:1"]


async def test_my_question_with_a_long_thread_shows_its_items(
    live: App, telegram: FakeTelegram
) -> None:
    question = words("вопрос", 3000)
    card_id = await new_ticket(live, telegram, question)
    first_answer = words("ответ", 1000)
    await answer_by_reply(live, telegram, card_id, first_answer)
    follow_up = words("уточнение", 1000)
    answer_copy = (await user_message_ids(live))[0]
    await feed(live, private_message(USER, follow_up, reply_to=reply_to(answer_copy)))
    await settle(live)
    second_answer = words("дополнение", 1000)
    await answer_by_reply(live, telegram, card_id, second_answer)

    telegram.clear()
    await feed(live, callback(USER, "mt:1"))
    thread = only(telegram.calls_of("editMessageText"))
    assert thread.params["text"] == (
        "<b>Вопрос №1</b> · ✅ есть ответ\n\n"
        f"🙋 <b>Вы:</b> {question[:700]}…\n\n"
        f"🧑‍⚖️ <b>Юрист:</b> {first_answer[:700]}…\n\n"
        f"🙋 <b>Вы:</b> {follow_up[:700]}…\n\n"
        f"🧑‍⚖️ <b>Юрист:</b> {second_answer[:700]}…"
    )


async def test_user_closes_from_the_answer_footer(live: App, telegram: FakeTelegram) -> None:
    card_id, _ = await answered_ticket(live, telegram)
    await settle(live)
    footer_id = (await user_message_ids(live))[-1]
    footer = [c for c in to_user(telegram, "sendMessage") if "fb:close:1" in str(c.params)][-1]
    telegram.clear()
    pressed = callback(
        USER, "fb:close:1", message_id=footer_id, callback_id="close",
        reply_markup=footer.params["reply_markup"],
    )  # fmt: skip
    await feed(live, pressed)
    assert callback_answer(telegram, "close").params["text"] == "Вопрос №1 закрыт."
    keyboard_gone = only(telegram.calls_of("editMessageReplyMarkup"))
    assert keyboard_gone.params["chat_id"] == USER
    assert keyboard_gone.params["message_id"] == footer_id
    assert "reply_markup" not in keyboard_gone.params
    edit = await telegram.wait_for_call(
        "editMessageText", chat_id=MODERATOR_CHAT_ID, message_id=card_id
    )
    assert "Статус: 🔒 закрыто" in edit.params["text"]
    assert data_of(edit.params["reply_markup"]) == ["mod:reopen:1", "mod:ban:1"]
    state, closed_at = await row(live, "SELECT state, closed_at FROM tickets WHERE id = 1")
    assert state == "closed"
    assert closed_at is not None


async def test_user_rates_an_answer(live: App, telegram: FakeTelegram) -> None:
    await answered_ticket(live, telegram)
    await settle(live)
    footer_id = (await user_message_ids(live))[-1]
    assert (await row(live, "SELECT rating FROM tickets WHERE id = 1")) == (None,)
    telegram.clear()
    await feed(live, callback(USER, "fb:up:1", message_id=footer_id, callback_id="up"))
    assert callback_answer(telegram, "up").params["text"] == RATED
    assert (await row(live, "SELECT rating, state FROM tickets WHERE id = 1")) == (1, "answered")
    # Someone else's ticket cannot be rated.
    telegram.clear()
    await feed(live, callback(OTHER, "fb:down:1", callback_id="forged"))
    assert callback_answer(telegram, "forged").params["text"] == STALE
    assert (await row(live, "SELECT rating FROM tickets WHERE id = 1")) == (1,)


# ---- 6. an answer with a photo -------------------------------------------------------------


async def test_moderator_answers_with_a_photo(live: App, telegram: FakeTelegram) -> None:
    card_id = await new_ticket(live, telegram)
    telegram.clear()
    reply = group_message(
        MODERATOR_CHAT_ID,
        MOD_A,
        None,
        reply_to_message_id=card_id,
        photo=photo("sample"),
        caption="Образец заявления",
        first_name="Anna",
    )
    await feed(live, reply)
    copy = await telegram.wait_for_call("copyMessage", chat_id=USER)
    assert copy.params["from_chat_id"] == MODERATOR_CHAT_ID
    assert copy.params["message_id"] == reply["message"]["message_id"]
    await settle(live)
    answer = await row(
        live, "SELECT kind, text, author FROM ticket_messages WHERE direction = 'answer'"
    )
    # The answer travels as a copy of the moderator's message; its text is kept.
    assert answer == ("photo", "Образец заявления", "Anna")
    assert (await row(live, "SELECT state FROM tickets WHERE id = 1")) == ("answered",)


# ---- 7. moderator commands ---------------------------------------------------------------


def command(text: str, *, user: int = MOD_A, reply_to_card: int | None = None) -> dict[str, Any]:
    return group_message(
        MODERATOR_CHAT_ID, user, text, reply_to_message_id=reply_to_card, first_name="Anna"
    )


async def group_reply(telegram: FakeTelegram, update: dict[str, Any]) -> ApiCall:
    """The bot's reply in the group to this command message."""
    message_id = update["message"]["message_id"]
    calls = await telegram.wait_for(
        lambda calls: any(
            c.method == "sendMessage"
            and c.params.get("chat_id") == MODERATOR_CHAT_ID
            and (c.params.get("reply_parameters") or {}).get("message_id") == message_id
            for c in calls
        )
    )
    return next(
        c
        for c in calls
        if c.method == "sendMessage"
        and c.params.get("chat_id") == MODERATOR_CHAT_ID
        and (c.params.get("reply_parameters") or {}).get("message_id") == message_id
    )


async def test_commands_of_non_members_are_ignored(live: App, telegram: FakeTelegram) -> None:
    card_id = await new_ticket(live, telegram)
    telegram.clear()
    for text in ("/queue", "/ticket 1", "/stats", "/canned passport", "/ban", "/unban"):
        await feed(live, command(text, user=OUTSIDER, reply_to_card=card_id))
    await settle(live)
    assert [c for c in telegram.calls if c.method.startswith(("send", "copy"))] == []
    assert telegram.calls_of("getChatMember")[0].params == {
        "chat_id": MODERATOR_CHAT_ID,
        "user_id": OUTSIDER,
    }
    assert (await row(live, "SELECT state FROM tickets WHERE id = 1")) == ("new",)
    assert (await row(live, "SELECT count(*) FROM bans")) == (0,)
    assert (await row(live, "SELECT count(*) FROM ticket_messages")) == (1,)


async def test_queue_lists_open_tickets_oldest_first(live: App, telegram: FakeTelegram) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    await new_ticket(live, telegram, "Первый")
    await new_ticket(live, telegram, "Второй", user=OTHER, entry="ask:passport")
    card3 = await new_ticket(live, telegram, "Третий")
    card4 = await new_ticket(live, telegram, "Четвёртый")
    await feed(live, callback(MOD_A, "mod:take:3", chat_id=MODERATOR_CHAT_ID, message_id=card3))
    await answer_by_reply(live, telegram, card4, "Ответ на четвёртый")
    card5 = await new_ticket(live, telegram, "Пятый", user=OTHER)
    await feed(
        live, callback(MOD_A, "mod:close-yes:5", chat_id=MODERATOR_CHAT_ID, message_id=card5)
    )
    await settle(live)
    # #2 was asked three hours ago, and its reader added to it an hour ago.
    await live.db.write(
        "UPDATE tickets SET created_at = created_at - 10800, last_user_at = last_user_at - 3600 "
        "WHERE id = 2"
    )

    telegram.clear()
    queue = command("/queue")
    await feed(live, queue)
    reply = await group_reply(telegram, queue)
    me, other = [await reader_of(live, u) for u in (USER, OTHER)]
    assert reply.params["text"] == (
        "<b>Открытых обращений: 3</b>\n"
        f"#2 · ждёт 1 ч (задан 3 ч назад) · 🆕 ждёт ответа · {PASSPORT_TOPIC} · Читатель {other}\n"
        f"#1 · ждёт 0 мин (задан 0 мин назад) · 🆕 ждёт ответа · — · Читатель {me}\n"
        f"#3 · ждёт 0 мин (задан 0 мин назад) · 🙋 юрист готовит ответ · — · Читатель {me}"
    )


async def test_ticket_command_shows_the_history(live: App, telegram: FakeTelegram) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    card_id = await new_ticket(live, telegram)
    await answer_by_reply(live, telegram, card_id, "Нет, не могут.")
    stamps = [
        time.strftime("%Y-%m-%d %H:%M", time.gmtime(r[0]))
        for r in await live.db.fetch_all("SELECT created_at FROM ticket_messages ORDER BY id")
    ]
    telegram.clear()
    history = command("/ticket 1")
    await feed(live, history)
    reply = await group_reply(telegram, history)
    reader = await reader_of(live, USER)
    assert reply.params["text"] == (
        f"<b>#1</b> · Читатель {reader} · ✅ есть ответ\n\n"
        f"[{stamps[0]}] <b>Вопрос:</b> {QUESTION}\n\n"
        f"[{stamps[1]}] <b>Ответ (Anna):</b> Нет, не могут."
    )


async def test_ticket_command_shows_a_long_question_whole(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    question = words("подробно", 3000)
    await new_ticket(live, telegram, question)
    (created_at,) = await row(live, "SELECT created_at FROM ticket_messages WHERE id = 1")
    stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(created_at))
    telegram.clear()
    history = command("/ticket 1")
    await feed(live, history)
    reply = await group_reply(telegram, history)
    reader = await reader_of(live, USER)
    assert reply.params["text"] == (
        f"<b>#1</b> · Читатель {reader} · 🆕 ждёт ответа\n\n[{stamp}] <b>Вопрос:</b> {question}"
    )


async def test_ticket_command_without_a_number_shows_the_usage(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    for text in ("/ticket", "/ticket abc"):
        telegram.clear()
        usage = command(text)
        await feed(live, usage)
        reply = await group_reply(telegram, usage)
        assert visible(reply.params["text"]) == TICKET_USAGE, text
    # A number that is no ticket: said so, by number.
    telegram.clear()
    missing = command("/ticket 99")
    await feed(live, missing)
    reply = await group_reply(telegram, missing)
    assert (
        reply.params["text"] == "Обращения #99 нет (возможно, оно удалено по просьбе пользователя)."
    )


async def test_ticket_command_with_a_huge_number_shows_the_usage(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    huge = command("/ticket 99999999999999999999")
    await feed(live, huge)
    reply = await group_reply(telegram, huge)
    # No overflow: a number SQLite cannot hold is simply no ticket.
    assert reply.params["text"].startswith("Обращения #99999999999999999999 нет")


async def test_stats_counts_states_and_the_median_time_to_answer(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    for n in (1, 2, 3):
        card_id = await new_ticket(live, telegram, f"Вопрос {n}")
        await answer_by_reply(live, telegram, card_id, f"Ответ {n}")
    # First answers after 10 min, 2 h and 50 h: the median is 2 h (the mean would be 17 h).
    for ticket_id, delay in ((1, 600), (2, 7200), (3, 180_000)):
        await live.db.write(
            "UPDATE tickets SET created_at = first_answer_at - ? WHERE id = ?", (delay, ticket_id)
        )
    await feed(
        live, callback(MOD_A, "mod:close-yes:3", chat_id=MODERATOR_CHAT_ID, message_id=card_id)
    )
    await new_ticket(live, telegram, "Вопрос 4")
    await feed(live, callback(USER, "fb:up:1", callback_id="r1"))
    await feed(live, callback(USER, "fb:down:2", callback_id="r2"))
    await feed(live, callback(USER, "fb:up:2", callback_id="r3"))  # a change replaces it
    await feed(live, callback(USER, "fb:up:3", callback_id="r4"))
    await feed(live, callback(USER, "fb:down:3", callback_id="r5"))
    await settle(live)

    telegram.clear()
    stats = command("/stats")
    await feed(live, stats)
    reply = await group_reply(telegram, stats)
    week = time.strftime("%G-W%V", time.gmtime())
    assert reply.params["text"].split("\n") == [
        "<b>Обращения</b>",
        "новых: 1 · в работе: 0 · с ответом: 2 · закрытых: 1",
        "Медианное время до первого ответа: 2 ч",
        "Ждут публикации: 0 · не опубликовано из-за отказа Telegram: 0",
        "Оценки ответов: 3 · помогло — 67% (👍 2 · 👎 1)",
        "<b>Время до первого ответа по неделям</b>",
        f"{week}: ответов — 3, медиана — 2 ч",
        "Поиск: запросов — 0, с найденным ответом — 0, открыто статей из подсказок — 0, "
        "вопросов после подсказки — 0",
    ]


def canned_text(name: str, locale: str) -> str:
    loaded = yaml.safe_load((ROOT / "data" / "canned.yaml").read_text(encoding="utf-8"))
    for item in loaded["canned"]:
        if item["name"] == name:
            return str(item["text"][locale]).strip()
    raise AssertionError(f"no canned answer {name!r}")


async def test_canned_answer_goes_to_the_user_in_the_tickets_language(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    await feed(live, private_message(EN_USER, "/start", language_code="en"))
    ru_card = await new_ticket(live, telegram)
    en_card = await new_ticket(live, telegram, "Do they need a certificate?", user=EN_USER)
    assert (await row(live, "SELECT locale FROM tickets WHERE id = 2")) == ("en",)

    for user, card_id, locale in ((USER, ru_card, "ru"), (EN_USER, en_card, "en")):
        telegram.clear()
        await feed(live, command("/canned passport", reply_to_card=card_id))
        await telegram.wait_for_call("sendMessage", chat_id=user)
        await settle(live)
        answer, footer = to_user(telegram, "sendMessage", user)
        assert visible(answer.params["text"]) == canned_text("passport", locale)
        assert footer.params["text"].startswith("⬆️")
        assert to_user(telegram, "copyMessage", user) == []

    rows = await live.db.fetch_all(
        "SELECT ticket_id, kind, text, author FROM ticket_messages WHERE direction = 'answer' "
        "ORDER BY ticket_id"
    )
    answers = [(r[0], r[1], str(r[2]).strip(), r[3]) for r in rows]
    assert answers == [
        (1, "text", canned_text("passport", "ru"), "Anna"),
        (2, "text", canned_text("passport", "en"), "Anna"),
    ]
    states = await live.db.fetch_all("SELECT state, claimed_by FROM tickets ORDER BY id")
    assert [tuple(s) for s in states] == [("answered", MOD_A), ("answered", MOD_A)]


async def test_canned_with_an_unknown_name_shows_the_usage(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    card_id = await new_ticket(live, telegram)
    telegram.clear()
    wrong = command("/canned nope", reply_to_card=card_id)
    await feed(live, wrong)
    reply = await group_reply(telegram, wrong)
    # What was wrong, and what there is.
    assert reply.params["text"] == "Заготовки «nope» нет. Доступны: passport, safety, thanks"
    telegram.clear()
    bare = command("/canned", reply_to_card=card_id)
    await feed(live, bare)
    assert visible((await group_reply(telegram, bare)).params["text"]) == CANNED_USAGE
    await settle(live)
    assert to_user(telegram, "sendMessage") == []
    assert (await row(live, "SELECT state FROM tickets WHERE id = 1")) == ("new",)


async def test_ban_and_unban_by_reply_to_the_card(live: App, telegram: FakeTelegram) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    card_id = await new_ticket(live, telegram)
    telegram.clear()
    ban = command("/ban", reply_to_card=card_id)
    await feed(live, ban)
    banned = await group_reply(telegram, ban)
    assert banned.params["text"] == "Автор #1 заблокирован, его открытые обращения закрыты."
    assert (await row(live, "SELECT user_id FROM bans")) == (USER,)
    assert (await row(live, "SELECT state FROM tickets WHERE id = 1")) == ("closed",)

    telegram.clear()
    unban = command("/unban", reply_to_card=card_id)
    await feed(live, unban)
    unbanned = await group_reply(telegram, unban)
    assert unbanned.params["text"] == "Автор #1 разблокирован."
    assert (await row(live, "SELECT count(*) FROM bans")) == (0,)
    # The user may ask again.
    telegram.clear()
    await feed(live, private_message(USER, "/ask"))
    assert user_texts(telegram)[0].startswith(INTRO_HEAD)


async def test_moderator_commands_in_a_private_chat_are_refused(
    app: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    for text in ("/queue", "/ticket 1", "/stats", "/canned passport", "/ban", "/unban"):
        telegram.clear()
        await feed(app, private_message(MOD_A, text))
        assert user_texts(telegram, MOD_A) == [MOD_ONLY_IN_GROUP], text
    # Also while a question is being written: the draft does not take the command.
    await open_draft(app, telegram, user=MOD_A)
    await feed(app, private_message(MOD_A, "/queue"))
    assert user_texts(telegram, MOD_A) == [MOD_ONLY_IN_GROUP]
    assert (await draft(app, MOD_A))["text"] == ""


# ---- 8, 9. closed tickets ------------------------------------------------------------------


async def test_moderator_reply_to_a_closed_ticket_is_not_sent(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_B)] = "member"
    card_id = await new_ticket(live, telegram)
    await feed(
        live, callback(MOD_B, "mod:close-yes:1", chat_id=MODERATOR_CHAT_ID, message_id=card_id)
    )
    await settle(live)
    telegram.clear()
    late = group_message(MODERATOR_CHAT_ID, MOD_A, "Поздний ответ", reply_to_message_id=card_id)
    await feed(live, late)
    reply = await group_reply(telegram, late)
    assert reply.params["text"] == "#1 закрыто, ответ не отправлен."
    await settle(live)
    assert telegram.calls_of("copyMessage") == []
    assert [c for c in telegram.calls if c.params.get("chat_id") == USER] == []
    assert (await row(live, "SELECT count(*) FROM ticket_messages WHERE direction = 'answer'")) == (
        0,
    )


async def test_follow_up_on_a_closed_ticket_reopens_it(live: App, telegram: FakeTelegram) -> None:
    card_id, answer_id = await answered_ticket(live, telegram)
    await settle(live)
    await feed(live, callback(USER, "fb:close:1"))
    await settle(live)
    assert (await row(live, "SELECT state FROM tickets WHERE id = 1")) == ("closed",)
    telegram.clear()
    await feed(live, private_message(USER, "А ещё вопрос", reply_to=reply_to(answer_id)))
    ack = only(to_user(telegram, "sendMessage"))
    assert ack.params["text"] == "Вопрос №1 снова открыт — юрист увидит ваше сообщение."
    post = await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID)
    assert post.params["text"] == "↩️ Уточнение к #1:\nА ещё вопрос"
    card = await telegram.wait_for_call(
        "editMessageText", chat_id=MODERATOR_CHAT_ID, message_id=card_id
    )
    assert "↩️ Снова открыто после закрытия: 1 раз" in card.params["text"]
    # Back with the moderator who answered it.
    assert (await row(live, "SELECT state, reopened FROM tickets WHERE id = 1")) == ("claimed", 1)
