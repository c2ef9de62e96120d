"""Self-test of the fake Bot API server, driven by a real aiogram Bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

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
    Message,
    Update,
)

from tests.fake_telegram import (
    NOT_MODIFIED,
    FakeTelegram,
    callback,
    edited_private_message,
    group_message,
    private_message,
)

TOKEN = "42:TEST-token"
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
    second = await bot.send_message(GROUP, "42", message_thread_id=7, disable_notification=True)
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
    assert (second.message_id, second.chat.type, second.message_thread_id) == (1, "supergroup", 7)
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
    assert group_call.params["message_thread_id"] == 7


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
