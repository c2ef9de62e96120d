"""Self-test of the Bot API emulator, driven by a real aiogram Bot (and raw HTTP where
aiogram would not send what Telegram must refuse)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BufferedInputFile,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaLivePhoto,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)

from bot.emulator import (
    NOT_MODIFIED,
    Event,
    FakeTelegram,
    Rejection,
    album,
    audio,
    callback,
    document,
    edited_private_message,
    group_message,
    photo,
    private_message,
    video,
    voice,
    watch_rejections,
)

# These tests provoke Telegram's refusals on purpose: the 400 guard leaves them alone.
pytestmark = pytest.mark.refusals_expected

TOKEN = "42:TEST-token"
MediaItem = (
    InputMediaAudio | InputMediaDocument | InputMediaLivePhoto | InputMediaPhoto | InputMediaVideo
)
USER = 1001
GROUP = -1001234567890


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.url))
    bot = Bot(TOKEN, session=session)
    yield bot
    await bot.session.close()


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=x, callback_data=x.lower())] for x in labels]
    )


@pytest.mark.asyncio
async def test_get_me(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.first_name, me.username) == (
        42,
        True,
        "Consult",
        fake.bot_username,
    )
    assert fake.calls[0].method == "getMe"
    assert fake.calls[0].token == TOKEN


@pytest.mark.asyncio
async def test_send_message_records_decoded_params(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "hello", reply_markup=keyboard("A", "B"))
    topic = await bot.create_forum_topic(GROUP, "Topic")  # message 1 of the group
    second = await bot.send_message(
        GROUP, "42", message_thread_id=topic.message_thread_id, disable_notification=True
    )
    third = await bot.send_message(USER, "again")

    assert isinstance(sent, Message)
    assert (sent.message_id, sent.chat.id, sent.chat.type, sent.text) == (
        1,
        USER,
        "private",
        "hello",
    )
    assert sent.from_user is not None
    assert sent.from_user.id == 42
    assert isinstance(sent.reply_markup, InlineKeyboardMarkup)
    assert [[b.callback_data for b in row] for row in sent.reply_markup.inline_keyboard] == [
        ["a"],
        ["b"],
    ]
    assert (second.message_id, second.chat.type, second.message_thread_id) == (2, "supergroup", 1)
    assert second.text == "42"  # echoed as sent, not as the decoded int
    assert third.message_id == 2  # ids count per chat

    call = await fake.wait_for_call("sendMessage", chat_id=USER, text="hello")
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "A", "callback_data": "a"}],
            [{"text": "B", "callback_data": "b"}],
        ]
    }
    group_call = await fake.wait_for_call("sendMessage", text="42")
    assert group_call is fake.calls_of("sendMessage")[1]
    assert group_call.params["chat_id"] == GROUP
    assert group_call.params["text"] == 42
    assert group_call.raw["text"] == "42"
    assert group_call.params["disable_notification"] is True
    assert group_call.params["message_thread_id"] == topic.message_thread_id


@pytest.mark.asyncio
async def test_edit_not_modified_and_not_found(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "menu", reply_markup=keyboard("A"))
    edited = await bot.edit_message_text(
        "menu 2", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard("A")
    )
    assert isinstance(edited, Message)
    assert (edited.text, edited.message_id) == ("menu 2", sent.message_id)

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "menu 2", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard("A")
        )
    assert fake.calls[-1].failed
    assert fake.calls[-1].error == NOT_MODIFIED

    # Same text, different keyboard: that is a modification.
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=keyboard("B")
    )

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)

    fake.register_message(USER, 999, "old", reply_markup=keyboard("A"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("old", chat_id=USER, message_id=999, reply_markup=keyboard("A"))
    await bot.edit_message_text("new", chat_id=USER, message_id=999)
    assert (await bot.send_message(USER, "after")).message_id == 1000

    await bot.delete_message(USER, 999)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("newer", chat_id=USER, message_id=999)


@pytest.mark.asyncio
async def test_fail_next(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=429, description="Too Many Requests", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(USER, "one")
    assert info.value.retry_after == 3
    await bot.send_message(USER, "two")
    assert [c.failed for c in fake.calls_of("sendMessage")] == [True, False]

    fake.fail_next("sendMessage", chat_id=GROUP, times=2)
    await bot.send_message(USER, "other chat is not affected")
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(GROUP, "x")
    await bot.send_message(GROUP, "x")


@pytest.mark.asyncio
async def test_block_user(fake: FakeTelegram, bot: Bot) -> None:
    fake.block_user(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    with pytest.raises(TelegramForbiddenError):
        await bot.copy_message(USER, from_chat_id=GROUP, message_id=5)
    await bot.send_message(USER + 1, "others still work")
    assert fake.calls_of("sendMessage")[0].failed


@pytest.mark.asyncio
async def test_drop_connection(fake: FakeTelegram, bot: Bot) -> None:
    fake.drop_connection_next("sendMessage")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "lost")
    sent = await bot.send_message(USER, "retried")
    assert sent.text == "retried"
    assert [c.failed for c in fake.calls_of("sendMessage")] == [True, False]


@pytest.mark.asyncio
async def test_long_poll_wakes_on_push(fake: FakeTelegram, bot: Bot) -> None:
    pending = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for(lambda _calls: fake.get_updates_calls >= 1)
    update_id = fake.push_update(private_message(USER, "/start"))
    # Well under the 5 s long-poll timeout: the push must wake the poll.
    updates = await asyncio.wait_for(pending, 2)
    assert [u.update_id for u in updates] == [update_id] == [1]
    assert updates[0].message is not None
    assert updates[0].message.text == "/start"

    # Not confirmed yet: the same update comes again.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [1]

    second = fake.push_update(callback(USER, "topic:1"))
    assert second == 2
    assert fake.confirmed_offset == 0
    updates = await bot.get_updates(offset=update_id + 1, timeout=0)
    await fake.wait_updates_confirmed(update_id, timeout=1)
    assert fake.confirmed_offset == 2
    assert [u.update_id for u in updates] == [2]
    assert updates[0].callback_query is not None

    await bot.get_updates(offset=3, timeout=0)
    assert await bot.get_updates(timeout=0) == []
    assert fake.calls == []  # getUpdates is not recorded


@pytest.mark.asyncio
async def test_long_poll_times_out_empty(fake: FakeTelegram, bot: Bot) -> None:
    assert await asyncio.wait_for(bot.get_updates(timeout=1), 3) == []
    with pytest.raises(AssertionError, match="not confirmed"):
        await fake.wait_updates_confirmed(5, timeout=0.05)


@pytest.mark.asyncio
async def test_rate_limit_per_group(fake: FakeTelegram, bot: Bot) -> None:
    fake.set_rate_limit(per_group_per_minute=20)
    for i in range(20):
        await bot.send_message(GROUP, f"m{i}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(GROUP, "m20")
    assert 1 <= info.value.retry_after <= 60
    assert "Too Many Requests: retry after" in info.value.message
    assert fake.rate_limited == 1
    await bot.send_message(USER, "private chats are not group-limited")


@pytest.mark.asyncio
async def test_rate_limit_per_chat(fake: FakeTelegram, bot: Bot) -> None:
    fake.set_rate_limit(per_chat_per_second=1)
    await bot.send_message(USER, "a")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(USER, "b")
    assert info.value.retry_after == 1
    await bot.send_message(USER + 1, "another chat")


@pytest.mark.asyncio
async def test_chat_member_and_chat(fake: FakeTelegram, bot: Bot) -> None:
    fake.chat_members[(GROUP, USER)] = "administrator"
    fake.chat_members[(GROUP, USER + 1)] = "kicked"
    admin = await bot.get_chat_member(GROUP, USER)
    assert isinstance(admin, ChatMemberAdministrator)
    assert admin.user.id == USER
    assert isinstance(await bot.get_chat_member(GROUP, USER + 1), ChatMemberBanned)
    assert isinstance(await bot.get_chat_member(GROUP, USER + 2), ChatMemberLeft)
    for status in ("creator", "member", "restricted"):
        fake.chat_members[(GROUP, USER)] = status
        assert (await bot.get_chat_member(GROUP, USER)).status == status

    chat = await bot.get_chat(GROUP)
    assert (chat.id, chat.type, chat.is_forum) == (GROUP, "supergroup", True)
    assert (await bot.get_chat(USER)).type == "private"


@pytest.mark.asyncio
async def test_media_topics_copies_and_unknown(fake: FakeTelegram, bot: Bot) -> None:
    photo = await bot.send_photo(
        USER, BufferedInputFile(b"x" * 10, filename="p.jpg"), caption="pic"
    )
    assert photo.photo is not None
    assert photo.caption == "pic"
    call = fake.calls_of("sendPhoto")[0]
    assert call.files["photo"].filename == "p.jpg"
    assert call.files["photo"].size == 10
    assert call.params["photo"] == {"filename": "p.jpg", "size": 10}

    doc = await bot.send_document(GROUP, BufferedInputFile(b"abc", filename="a.pdf"))
    assert doc.document is not None
    assert doc.document.file_name == "a.pdf"
    voice = await bot.send_voice(USER, "existing-file-id")
    assert voice.voice is not None
    assert voice.voice.file_id == "existing-file-id"
    assert (await bot.send_sticker(USER, "stk")).sticker is not None
    assert (await bot.send_video(USER, "vid")).video is not None
    assert (await bot.send_audio(USER, "aud")).audio is not None
    assert (await bot.send_animation(USER, "ani")).animation is not None

    topic = await bot.create_forum_topic(GROUP, "Question #1")
    assert (topic.name, topic.icon_color) == ("Question #1", 7322096)
    posted = await bot.send_message(GROUP, "q", message_thread_id=topic.message_thread_id)
    assert posted.message_thread_id == topic.message_thread_id
    assert await bot.close_forum_topic(GROUP, topic.message_thread_id)

    copied = await bot.copy_message(GROUP, from_chat_id=USER, message_id=photo.message_id)
    assert copied.message_id == posted.message_id + 1
    many = await bot.copy_messages(GROUP, from_chat_id=USER, message_ids=[1, 2])
    assert [m.message_id for m in many] == [copied.message_id + 1, copied.message_id + 2]
    forwarded = await bot.forward_message(GROUP, from_chat_id=USER, message_id=photo.message_id)
    assert forwarded.caption == "pic"
    assert forwarded.forward_origin is not None

    assert await bot.send_chat_action(USER, "typing")
    assert await bot.answer_callback_query("cb1", text="ok")
    assert await bot.set_my_commands([])  # empty list is omitted by aiogram: still fine

    with pytest.raises(TelegramNotFound, match="method not found"):
        await bot.get_user_profile_photos(USER)
    assert fake.calls[-1].method == "getUserProfilePhotos"
    assert fake.calls[-1].failed


@pytest.mark.asyncio
async def test_wait_for_timeout_dumps_calls(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER, "visible in the dump")
    with pytest.raises(AssertionError, match="visible in the dump"):
        await fake.wait_for_call("sendMessage", timeout=0.05, text="never")
    fake.clear()
    assert fake.calls == []


@pytest.mark.asyncio
async def test_wait_for_wakes_on_new_call(fake: FakeTelegram, bot: Bot) -> None:
    # The waiter task runs (finds nothing, starts waiting) before the request is served.
    waiter = asyncio.create_task(fake.wait_for_call("sendMessage", timeout=2, text="late"))
    await bot.send_message(USER, "late")
    call = await waiter
    assert call.params["chat_id"] == USER


def test_builders_validate() -> None:
    updates = [
        private_message(USER, "/start payload", update_id=7),
        private_message(USER, None, sticker=None, caption="c"),
        callback(USER, "menu:open", message_id=3),
        callback(USER, "x", chat_id=GROUP),
        group_message(
            GROUP, USER, "answer", reply_to_message_id=5, message_thread_id=9, is_topic_message=True
        ),
        edited_private_message(USER, "fixed", message_id=12),
    ]
    parsed = [Update.model_validate(u | {"update_id": u.get("update_id", 1)}) for u in updates]
    start = parsed[0].message
    assert start is not None
    assert start.entities is not None
    assert (start.entities[0].type, start.entities[0].length) == ("bot_command", 6)
    assert parsed[0].update_id == 7
    cq = parsed[2].callback_query
    assert cq is not None
    assert isinstance(cq.message, Message)
    reply = parsed[4].message
    assert reply is not None
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == 5
    assert reply.is_topic_message
    assert parsed[5].edited_message is not None


@pytest.mark.asyncio
async def test_real_polling_loop(fake: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    try:
        update_id = fake.push_update(private_message(USER, "hi"))
        call = await fake.wait_for_call("sendMessage", text="echo: hi")
        assert call.params["chat_id"] == USER
        await fake.wait_updates_confirmed(update_id)
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)


# --------------------------------------------------------------------------- strict like Telegram


async def api(fake: FakeTelegram, method: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    """A raw Bot API request (JSON-encoded fields as aiogram sends them)."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/bot{TOKEN}/{method}", data=form) as response,
    ):
        return response.status, await response.json()


async def refused(fake: FakeTelegram, method: str, **fields: Any) -> str:
    status, body = await api(fake, method, **fields)
    assert status == 400 and body["ok"] is False, body
    description: str = body["description"]
    return description


HTML_ERRORS = [
    # tdlib parse_html: the wording and the byte offset of each refusal.
    ("a < b", 'Unsupported start tag "" at byte offset 2'),
    ("<x>hi</x>", 'Unsupported start tag "x" at byte offset 0'),
    ("Ответ <br>", 'Unsupported start tag "br" at byte offset 11'),  # 5 letters of 2 bytes
    ("<b>bold", "Can't find end tag corresponding to start tag b"),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("<b", "Unclosed start tag at byte offset 0"),
    ('<a href="x', "Unclosed start tag at byte offset 0"),
    ("<b>x</b", "Unclosed end tag at byte offset 4"),
    ("<span>s</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<a href=ab"c>x</a>', "Unexpected end of name token at byte offset 8"),
    ("<b =1>x</b>", 'Empty attribute name in the tag "b" at byte offset 0'),
    ("<tg-emoji emoji-id=x>🙂</tg-emoji>", "Invalid custom emoji identifier specified"),
]


@pytest.mark.parametrize(("text", "error"), HTML_ERRORS)
async def test_html_errors_are_telegrams(fake: FakeTelegram, text: str, error: str) -> None:
    description = await refused(fake, "sendMessage", chat_id=USER, text=text, parse_mode="HTML")
    assert description == f"Bad Request: can't parse entities: {error}"
    assert [r.description for r in fake.rejected()] == [description]
    assert not fake.rejected()[0].injected


async def test_html_is_parsed_into_text_and_entities(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        USER,
        "<b>Жирный</b> <i>курсив</i> <u>u</u> <s>s</s> <tg-spoiler>sp</tg-spoiler> "
        '<a href="https://example.org/a?b=1&amp;c=2">ссылка</a> <code>c</code> '
        '<pre><code class="language-python">x = 1</code></pre> '
        "<blockquote expandable>цитата</blockquote> 😀 AT&T &lt;3 &#x41;&#66; &nbsp;",
        parse_mode="HTML",
    )
    assert sent.text == ("Жирный курсив u s sp ссылка c x = 1 цитата 😀 AT&T <3 AB &nbsp;")
    assert sent.entities is not None
    kinds = [(e.type, e.offset, e.length) for e in sent.entities]
    assert kinds == [
        ("bold", 0, 6),
        ("italic", 7, 6),
        ("underline", 14, 1),
        ("strikethrough", 16, 1),
        ("spoiler", 18, 2),
        ("text_link", 21, 6),
        ("code", 28, 1),
        ("pre", 30, 5),
        ("expandable_blockquote", 36, 6),
    ]
    assert sent.entities[5].url == "https://example.org/a?b=1&c=2"
    assert sent.entities[7].language == "python"
    # The emoji takes two UTF-16 units: offsets after it are counted in UTF-16.
    after = await bot.send_message(USER, "😀 <b>x</b>", parse_mode="HTML")
    assert after.entities is not None
    assert (after.entities[0].offset, after.entities[0].length) == (3, 1)


async def test_without_parse_mode_the_text_is_literal(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(USER, "<b>not bold</b> a < b & c")
    assert sent.text == "<b>not bold</b> a < b & c"
    assert sent.entities is None
    given = await bot.send_message(
        USER, "bold here", entities=[MessageEntity(type="bold", offset=0, length=4)]
    )
    assert given.entities is not None and given.entities[0].type == "bold"
    description = await refused(
        fake,
        "sendMessage",
        chat_id=USER,
        text="short",
        entities=[{"type": "bold", "offset": 2, "length": 10}],
    )
    assert description == (
        "Bad Request: entity beginning at UTF-16 offset 2 ends after the end of the text "
        "at UTF-16 offset 12"
    )


async def test_text_limits_count_characters_after_parsing(fake: FakeTelegram, bot: Bot) -> None:
    # 4096 characters after parsing: the tags do not count, an emoji counts once
    # (TDLib: utf8_length), though it is two UTF-16 units.
    await bot.send_message(USER, "<b>" + "я" * 4095 + "</b>!", parse_mode="HTML")
    await bot.send_message(USER, "😀" * 4096)
    for text in ("я" * 4097, "😀" * 4097):
        with pytest.raises(TelegramBadRequest) as info:
            await bot.send_message(USER, text)
        assert info.value.message == "Bad Request: message is too long"
    assert await refused(fake, "sendMessage", chat_id=USER, text="") == (
        "Bad Request: message text is empty"
    )
    for blank in ("   ", "<b></b>", "\n \n"):
        assert (
            await refused(fake, "sendMessage", chat_id=USER, text=blank, parse_mode="HTML")
            == "Bad Request: text must be non-empty"
        )
    assert await refused(fake, "sendMessage", chat_id=USER, text="x" * 40_000) == (
        "Bad Request: text is too long"
    )
    # Leading and trailing blanks are trimmed, as Telegram does.
    trimmed = await bot.send_message(USER, "\n  hello  \n")
    assert trimmed.text == "hello"
    photo_file = BufferedInputFile(b"p", filename="p.jpg")
    await bot.send_photo(USER, photo_file, caption="ж" * 1024)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_photo(USER, photo_file, caption="ж" * 1025)
    assert info.value.message == "Bad Request: message caption is too long"


async def test_callback_data_and_answer_limits(fake: FakeTelegram, bot: Bot) -> None:
    def markup(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="b", callback_data=data)]]
        )

    await bot.send_message(USER, "ok", reply_markup=markup("я" * 32))  # 64 bytes
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_message(USER, "too long", reply_markup=markup("я" * 32 + "x"))  # 65 bytes
    assert info.value.message == "Bad Request: BUTTON_DATA_INVALID"
    await bot.answer_callback_query("q1", text="ж" * 200)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.answer_callback_query("q2", text="ж" * 201)
    assert info.value.message == "Bad Request: MESSAGE_TOO_LONG"


async def test_callback_queries_expire_and_are_answered_once(fake: FakeTelegram, bot: Bot) -> None:
    menu = await bot.send_message(USER, "menu", reply_markup=keyboard("A"))
    query = fake.press_button(USER, USER, menu.message_id, "a")
    assert query["message"]["text"] == "menu"
    assert await bot.answer_callback_query(query["id"], text="ok")
    with pytest.raises(TelegramBadRequest) as info:
        await bot.answer_callback_query(query["id"])
    assert info.value.message == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    fake.callback_query_timeout = 0.0  # as if 15 s had passed since the tap
    late = fake.press_button(USER, USER, menu.message_id, "a")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(late["id"])
    # A query the emulator never delivered (a test fed it to the Dispatcher) is accepted.
    assert await bot.answer_callback_query("never-delivered")
    with pytest.raises(ValueError, match="no button"):
        fake.press_button(USER, USER, menu.message_id, "forged")


async def test_edit_delete_and_reply_refusals(fake: FakeTelegram, bot: Bot) -> None:
    question = fake.user_message(USER, "my question")
    with pytest.raises(TelegramBadRequest) as info:
        await bot.edit_message_text("changed", chat_id=USER, message_id=question["message_id"])
    assert info.value.message == "Bad Request: message can't be edited"

    sent = await bot.send_message(USER, "to delete")
    assert await bot.delete_message(USER, sent.message_id)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.delete_message(USER, sent.message_id)
    assert info.value.message == "Bad Request: message to delete not found"

    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_message(
            USER, "reply", reply_parameters=ReplyParameters(message_id=sent.message_id)
        )
    assert info.value.message == "Bad Request: message to be replied not found"
    lenient = await bot.send_message(
        USER,
        "reply anyway",
        reply_parameters=ReplyParameters(
            message_id=sent.message_id, allow_sending_without_reply=True
        ),
    )
    assert lenient.reply_to_message is None
    reply = await bot.send_message(
        USER, "a reply", reply_parameters=ReplyParameters(message_id=question["message_id"])
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "my question"

    photo_message = await bot.send_photo(USER, BufferedInputFile(b"p", filename="p.jpg"))
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=USER, message_id=photo_message.message_id)
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=USER, message_id=lenient.message_id, caption="c")
    with pytest.raises(TelegramBadRequest) as info:
        await bot.edit_message_text("я" * 4097, chat_id=USER, message_id=reply.message_id)
    assert info.value.message == "Bad Request: MESSAGE_TOO_LONG"


async def test_user_and_bot_messages_share_one_sequence(fake: FakeTelegram, bot: Bot) -> None:
    first = fake.user_message(USER, "/start")
    answer = await bot.send_message(USER, "menu")
    second = fake.user_message(USER, "hello", reply_to_message_id=answer.message_id)
    assert (first["message_id"], answer.message_id, second["message_id"]) == (1, 2, 3)
    assert first["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert second["reply_to_message"]["message_id"] == 2
    card = await bot.send_message(GROUP, "card")
    post = fake.group_post(GROUP, 7001, "answer", reply_to_message_id=card.message_id)
    assert (card.message_id, post["message_id"]) == (1, 2)
    updates = await bot.get_updates(timeout=0)
    assert [u.message.message_id for u in updates if u.message] == [1, 3, 2]
    assert [m["message_id"] for m in fake.history(USER)] == [1, 2, 3]
    edited = fake.edit_user_message(USER, second["message_id"], "hello again")
    assert edited["text"] == "hello again"


async def test_forum_topics(fake: FakeTelegram, bot: Bot) -> None:
    fake.chat_info[GROUP] = {"is_forum": False}
    with pytest.raises(TelegramBadRequest) as info:
        await bot.create_forum_topic(GROUP, "#1")
    assert info.value.message == "Bad Request: the chat is not a forum"
    fake.chat_info[GROUP] = {"is_forum": True}
    fake.set_member(GROUP, fake.bot_id, "administrator", can_manage_topics=False)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.create_forum_topic(GROUP, "#1")
    assert info.value.message == "Bad Request: not enough rights to create a topic"
    fake.set_member(GROUP, fake.bot_id, "administrator")
    topic = await bot.create_forum_topic(GROUP, "#1 · Reader")
    thread = topic.message_thread_id
    post = await bot.send_message(GROUP, "card", message_thread_id=thread)
    assert (post.message_thread_id, post.is_topic_message) == (thread, True)
    assert await bot.edit_forum_topic(GROUP, thread, name="#1 · renamed")
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(GROUP, thread, name="#1 · renamed")
    assert await bot.close_forum_topic(GROUP, thread)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.close_forum_topic(GROUP, thread)
    assert info.value.message == "Bad Request: TOPIC_NOT_MODIFIED"
    assert await bot.reopen_forum_topic(GROUP, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.reopen_forum_topic(GROUP, thread)
    reply = fake.group_post(GROUP, 7001, "in the topic", message_thread_id=thread)
    assert (reply["message_thread_id"], reply["is_topic_message"]) == (thread, True)
    assert fake.topics(GROUP) == [
        {"message_thread_id": thread, "name": "#1 · renamed", "icon_color": 7322096,
         "is_closed": False}
    ]  # fmt: skip
    assert await bot.delete_forum_topic(GROUP, thread)
    assert fake.message(GROUP, post.message_id) is None  # its messages went with it
    for unknown in (thread, 999):
        with pytest.raises(TelegramBadRequest) as info:
            await bot.send_message(GROUP, "lost", message_thread_id=unknown)
        assert info.value.message == "Bad Request: message thread not found"
    with pytest.raises(TelegramBadRequest, match="TOPIC_ID_INVALID"):
        await bot.close_forum_topic(GROUP, thread)


async def test_files_users_send_can_be_downloaded(fake: FakeTelegram, bot: Bot) -> None:
    sizes = photo(b"\xff\xd8jpeg-bytes")
    scan = document("повестка.pdf", b"%PDF-1.4 scan")
    update = private_message(USER, None, photo=sizes, caption="фото")
    parsed = Update.model_validate(update | {"update_id": 1})
    assert parsed.message is not None and parsed.message.photo is not None
    assert scan["file_name"] == "повестка.pdf" and scan["file_size"] == 13
    for file_id, content in ((sizes[-1]["file_id"], b"\xff\xd8jpeg-bytes"),
                             (scan["file_id"], b"%PDF-1.4 scan")):  # fmt: skip
        described = await bot.get_file(file_id)
        assert described.file_path and described.file_size == len(content)
        assert await download(fake, described.file_path) == content
    for kind, media in (("voice", voice()), ("video", video()), ("audio", audio())):
        fields: dict[str, Any] = {kind: media}
        assert Update.model_validate(private_message(USER, None, **fields) | {"update_id": 2})
        assert (await bot.get_file(media["file_id"])).file_size == 1024
    huge = document("film.mkv", size=21 * 2**20)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.get_file(huge["file_id"])
    assert info.value.message == "Bad Request: file is too big"
    with pytest.raises(TelegramBadRequest, match="wrong file_id"):
        await bot.get_file("no-such-file")
    pages = album(USER, [("photo", photo()), ("photo", photo())], caption="две страницы")
    groups = {u["message"]["media_group_id"] for u in pages}
    assert len(groups) == 1 and pages[0]["message"]["caption"] == "две страницы"

    # A re-sent file keeps its id and metadata; an upload gets a new id and its bytes.
    resent = await bot.send_document(GROUP, scan["file_id"], caption="copy")
    assert resent.document is not None
    assert (resent.document.file_id, resent.document.file_name) == (scan["file_id"], "повестка.pdf")
    uploaded = await bot.send_document(USER, BufferedInputFile(b"abc", filename="a.txt"))
    assert uploaded.document is not None and uploaded.document.file_name == "a.txt"
    assert uploaded.document.file_id not in (scan["file_id"],)
    path = (await bot.get_file(uploaded.document.file_id)).file_path
    assert path is not None and await download(fake, path) == b"abc"


async def download(fake: FakeTelegram, path: str) -> bytes:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{fake.url}/file/bot{TOKEN}/{path}") as response,
    ):
        assert response.status == 200
        return await response.read()


async def test_media_groups_and_copies(fake: FakeTelegram, bot: Bot) -> None:
    def photos(n: int) -> list[MediaItem]:
        return [
            InputMediaPhoto(media=BufferedInputFile(b"p%d" % i, filename=f"{i}.jpg"))
            for i in range(n)
        ]

    sent = await bot.send_media_group(USER, [*photos(1), InputMediaVideo(media="vid")])
    assert [m.message_id for m in sent] == [1, 2]
    assert sent[0].media_group_id is not None
    assert sent[0].media_group_id == sent[1].media_group_id
    (single,) = await bot.send_media_group(USER, photos(1))
    assert single.media_group_id is None  # one item is an ordinary message
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_media_group(USER, photos(11))
    assert info.value.message == "Bad Request: too many messages to send as an album"
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_media_group(USER, [*photos(1), InputMediaDocument(media="doc")])
    assert info.value.message == "Bad Request: document can't be mixed with other media types"
    docs = await bot.send_media_group(
        USER, [InputMediaDocument(media="d1", caption="<b>1</b>", parse_mode="HTML"),
               InputMediaDocument(media="d2")],
    )  # fmt: skip
    assert docs[0].caption == "1"

    copies = await bot.copy_messages(GROUP, from_chat_id=USER, message_ids=[1, 2, 999_999])
    assert [c.message_id for c in copies] == [1, 2, 3]
    copied = fake.history(GROUP)
    assert copied[0]["media_group_id"] == copied[1]["media_group_id"]
    assert copied[0]["media_group_id"] != sent[0].media_group_id
    assert "photo" in copied[0] and "video" in copied[1]
    await bot.delete_message(USER, 1)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.copy_message(GROUP, from_chat_id=USER, message_id=1)
    assert info.value.message == "Bad Request: message to copy not found"


async def test_rejections_are_recorded_and_can_be_expected(fake: FakeTelegram, bot: Bot) -> None:
    seen: list[Rejection] = []
    stop = watch_rejections(seen.append)
    try:
        fake.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
        with pytest.raises(TelegramBadRequest):
            await bot.send_message(USER, "injected")
        fake.expect_rejection("message is not modified", method="editMessageText")
        menu = await bot.send_message(USER, "menu")
        with pytest.raises(TelegramBadRequest):
            await bot.edit_message_text("menu", chat_id=USER, message_id=menu.message_id)
        with pytest.raises(TelegramBadRequest):
            await bot.send_message(USER, "<oops>", parse_mode="HTML")
    finally:
        stop()
    assert [(r.injected, r.expected) for r in seen] == [
        (True, False),
        (False, True),
        (False, False),
    ]
    assert [r.call.method for r in fake.rejected()] == ["editMessageText", "sendMessage"]
    (unexpected,) = fake.unexpected_rejections()
    assert "can't parse entities" in unexpected.description
    assert "UNEXPECTED" in str(unexpected)


async def test_events_show_what_changes(fake: FakeTelegram, bot: Bot) -> None:
    events: list[Event] = []
    stop = fake.subscribe(events.append)
    fake.user_message(USER, "hi")
    sent = await bot.send_message(USER, "menu", reply_markup=keyboard("A"))
    await bot.edit_message_text("menu 2", chat_id=USER, message_id=sent.message_id)
    await bot.delete_message(USER, sent.message_id)
    await bot.answer_callback_query("q", text="done", show_alert=True)
    stop()
    await bot.send_message(USER, "unseen")
    assert [(e.kind, e.chat_id) for e in events] == [
        ("message", USER),
        ("message", USER),
        ("edited", USER),
        ("deleted", USER),
        ("callback_answer", 0),
    ]
    assert events[2].data["message"]["text"] == "menu 2"
    assert events[4].data == {"query_id": "q", "text": "done", "show_alert": True, "url": None}


async def test_members_edit_their_posts_and_users_delete_messages(
    fake: FakeTelegram, bot: Bot
) -> None:
    card = await bot.send_message(GROUP, "card")
    text = fake.group_post(GROUP, 7001, "Answer", reply_to_message_id=card.message_id)
    picture = fake.upload("photo", b"\x89PNG-sample")
    media = fake.group_post(GROUP, 7001, attachment=picture, caption="Sample")
    taken = await bot.get_updates(timeout=0)  # the posts' own updates
    offset = taken[-1].update_id + 1

    bold = [{"type": "bold", "offset": 0, "length": 7}]
    edited = fake.edit_post(GROUP, text["message_id"], "Answer, corrected", entities=bold)
    assert (edited["text"], edited["entities"], "edit_date" in edited) == (
        "Answer, corrected", bold, True,
    )  # fmt: skip
    recaptioned = fake.edit_post(GROUP, media["message_id"], "Sample, corrected")
    assert recaptioned["caption"] == "Sample, corrected"
    assert "text" not in recaptioned
    updates = await bot.get_updates(offset=offset, timeout=0)
    assert [u.edited_message.message_id for u in updates if u.edited_message] == [
        text["message_id"], media["message_id"],
    ]  # fmt: skip
    # A copy carries the edited content.
    copy = await bot.copy_message(USER, GROUP, text["message_id"])
    assert fake.message(USER, copy.message_id)["text"] == "Answer, corrected"  # type: ignore[index]
    with pytest.raises(ValueError, match="no message of a user"):
        fake.edit_post(GROUP, card.message_id, "the bot's own")

    # The user deletes the copy in their client: editing it is refused as Telegram does.
    fake.delete_message(USER, copy.message_id)
    assert fake.message(USER, copy.message_id) is None
    with pytest.raises(TelegramBadRequest) as info:
        await bot.edit_message_text("fixed", chat_id=USER, message_id=copy.message_id)
    assert info.value.message == "Bad Request: message to edit not found"
    with pytest.raises(ValueError, match="no message"):
        fake.delete_message(USER, copy.message_id)
