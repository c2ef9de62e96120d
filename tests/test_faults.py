"""Nothing lost, nobody stalled: the desk under faults, floods and misconfiguration.

Each test breaks the bot the way a hostile user, an unlucky operator or Telegram would:
a refused post, a busy or full database, a redelivered update, a reply to a message no
ticket knows, a second process, a flood of questions from one account, a wrong setting."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageText,
    GetChatMember,
    SendMediaGroup,
    SendMessage,
)
from aiogram.types import InputMediaPhoto, Update
from aiogram.utils.backoff import BackoffConfig

from bot.config import Settings
from bot.emulator import (
    DEFAULT_BOT_ID,
    FakeTelegram,
    callback,
    group_message,
    photo,
    private_message,
)
from bot.factory import App, open_app
from bot.outbox.pacing import GroupPacer, GroupPacing, Pace, PaceSkipped, group_pace
from tests.conftest import MODERATOR_CHAT_ID, delivering, feed, make_settings, settle
from tests.test_crash import BotProcess
from tests.test_polling import running
from tests.test_questions import (
    MOD_A,
    USER,
    answered_ticket,
    ask,
    row,
    send,
    to_group,
    to_user,
)

OTHER = 9002


# ---- a refusal is not a transient error ---------------------------------------------------


async def ask_with_photo(app: App, telegram: FakeTelegram, caption: str = "Вот повестка") -> None:
    await feed(app, private_message(USER, "/ask"))
    await feed(app, private_message(USER, None, photo=photo(), caption=caption))
    preview = [
        c
        for c in to_user(telegram, "sendMessage")
        if "dr:send:" in str(c.params.get("reply_markup"))
    ][-1]
    key = next(
        b["callback_data"] for r in preview.params["reply_markup"]["inline_keyboard"]
        for b in r if b["callback_data"].startswith("dr:send:")
    )  # fmt: skip
    await feed(app, callback(USER, key, message_id=preview.result["message_id"]))


async def test_a_post_telegram_refuses_stops_and_the_card_and_queue_say_why(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    telegram.fail_next(
        "sendPhoto", status=400, description="Bad Request: wrong file identifier/HTTP URL specified",
        chat_id=MODERATOR_CHAT_ID,
    )  # fmt: skip
    await ask_with_photo(live, telegram)
    await settle(live)
    # Tried once, not forever.
    assert len(telegram.calls_of("sendPhoto")) == 1
    card = await telegram.wait_for_call("editMessageText", chat_id=MODERATOR_CHAT_ID)
    assert (
        "⚠️ Telegram не принял часть обращения: Bad Request: wrong file identifier"
        in card.params["text"]
    )
    assert (
        await row(live, "SELECT failed, done_at IS NOT NULL FROM outbox WHERE kind = 'post_ticket'")
    ) == (1, 1)
    queue = group_message(MODERATOR_CHAT_ID, MOD_A, "/queue")
    await feed(live, queue)
    listing = next(
        c for c in to_group(telegram) if "Открытых обращений" in str(c.params.get("text"))
    )
    assert "⚠️ Не опубликовано из-за отказа Telegram: 1" in listing.params["text"]
    assert "#1: Bad Request: wrong file identifier" in listing.params["text"]


async def test_a_refusal_about_the_bots_rights_is_retried_not_dropped(
    live: App, telegram: FakeTelegram
) -> None:
    telegram.fail_next(
        "sendPhoto", status=400, description="Bad Request: not enough rights to send photos to the chat",
        chat_id=MODERATOR_CHAT_ID,
    )  # fmt: skip
    await ask_with_photo(live, telegram)
    await telegram.wait_for(
        lambda _: len([c for c in telegram.calls_of("sendPhoto") if not c.failed]) == 1
    )
    await settle(live)
    assert (await row(live, "SELECT failed FROM outbox WHERE kind = 'post_ticket'")) == (0,)


# ---- nothing acknowledged is lost ------------------------------------------------------------


def lock_database(path: Path) -> sqlite3.Connection:
    """Another process writing (a backup, a `publish`): the database is busy."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    return other


async def answer_while_locked(
    app: App, telegram: FakeTelegram
) -> tuple[dict[str, Any], sqlite3.Connection]:
    """A moderator's reply, taken into the inbox just before another process locks the
    database for writing: its handler meets the lock."""
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    await send(app, await ask(app, telegram, "Что делать с повесткой?"))
    await settle(app)
    card_id = (await row(app, "SELECT card_message_id FROM tickets WHERE id = 1"))[0]
    await app.db.conn.execute("PRAGMA busy_timeout=200")  # meet the lock quickly
    app.intake.retry_base = 0.05
    telegram.clear()
    reply = group_message(
        MODERATOR_CHAT_ID, MOD_A, "Не ходите без юриста.", reply_to_message_id=card_id
    )
    update = Update.model_validate({"update_id": 777_001, **reply}, context={"bot": app.bot})
    await app.intake.accept([update])
    return reply, lock_database(app.settings.database_path)  # before the handler runs


async def test_a_moderators_reply_survives_a_busy_database(
    live: App, telegram: FakeTelegram
) -> None:
    _, other = await answer_while_locked(live, telegram)
    try:
        # Handling fails while the lock is held, and is tried again, not dropped.
        await telegram.wait_for(lambda _: live.intake.retried >= 2)
        assert telegram.calls_of("copyMessage") == []
    finally:
        other.rollback()
        other.close()
    await telegram.wait_for_call("copyMessage", chat_id=USER)
    assert await live.intake.drain(5)
    assert (await row(live, "SELECT count(*) FROM ticket_messages WHERE direction = 'answer'")) == (
        1,
    )
    assert (await row(live, "SELECT count(*) FROM inbox WHERE handled_at IS NULL")) == (0,)


async def test_a_reply_that_cannot_be_taken_is_said_in_the_group(
    live: App, telegram: FakeTelegram
) -> None:
    live.intake.give_up_after = 0.5
    reply, other = await answer_while_locked(live, telegram)
    try:
        told = await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID, timeout=10)
    finally:
        other.rollback()
        other.close()
    assert told.params["text"].startswith("❌ Не удалось принять это сообщение")
    assert told.params["reply_parameters"]["message_id"] == reply["message"]["message_id"]
    assert telegram.calls_of("copyMessage") == []


async def test_a_reply_to_a_bot_message_no_ticket_knows_gets_a_note(
    live: App, telegram: FakeTelegram
) -> None:
    """E.g. a card posted twice when a kill came after Telegram took it: the copy that is
    linked to nothing must not swallow an answer in silence."""
    telegram.chat_members[(MODERATOR_CHAT_ID, MOD_A)] = "member"
    await send(live, await ask(live, telegram))
    await settle(live)
    telegram.clear()
    orphan = group_message(MODERATOR_CHAT_ID, MOD_A, "Ответ на дубль", reply_to_message_id=999)
    await feed(live, orphan)
    note = await telegram.wait_for_call("sendMessage", chat_id=MODERATOR_CHAT_ID)
    assert note.params["text"].startswith("Это сообщение бота не относится ни к одному обращению")
    assert telegram.calls_of("copyMessage") == []
    # Talk among moderators that replies to no bot message stays quiet.
    telegram.clear()
    await feed(live, group_message(MODERATOR_CHAT_ID, MOD_A, "коллеги, кто возьмёт?"))
    await settle(live)
    assert telegram.calls == []


async def test_a_redelivered_follow_up_is_added_once(live: App, telegram: FakeTelegram) -> None:
    _, answer_id = await answered_ticket(live, telegram)
    await settle(live)
    reply_to = {
        "message_id": answer_id,
        "date": 0,
        "chat": {"id": USER, "type": "private"},
        "text": "Ответ",
    }
    follow_up = private_message(USER, "А если уже вручили?", reply_to=reply_to)
    telegram.clear()
    await feed(live, follow_up)
    await feed(live, follow_up)  # the same message again, as a new update after a crash
    await settle(live)
    assert (
        await row(live, "SELECT count(*) FROM ticket_messages WHERE direction = 'follow_up'")
    ) == (1,)
    assert len([c for c in to_group(telegram) if "Уточнение" in str(c.params.get("text"))]) == 1


async def test_only_one_process_serves_a_database_and_a_crash_never_leaves_it_locked(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    first = BotProcess(telegram, tmp_path)
    await first.start()
    try:
        await telegram.wait_for_call("setMyCommands", timeout=20)
        second = BotProcess(telegram, tmp_path)
        await second.start()
        assert second.process is not None
        _, stderr = await asyncio.wait_for(second.process.communicate(), 30)
        assert second.process.returncode == 2
        line = stderr.decode().strip()
        assert line.startswith("consult-bot: another consult-bot process (pid ")
        assert "\n" not in line
        await first.kill()
        # The kernel dropped the dead process's lock: a new one serves.
        third = BotProcess(telegram, tmp_path)
        await third.start()
        telegram.push_update(private_message(USER, "/start"))
        await telegram.wait_for_call("sendMessage", chat_id=USER, timeout=20)
        await third.stop()
    finally:
        await first.stop()


# ---- one user cannot stall everyone ------------------------------------------------------


async def test_closing_and_asking_again_meets_the_daily_budget(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with (
        open_app(make_settings(telegram, tmp_path, questions_per_day=2)) as app,
        delivering(app),
    ):
        for n in (1, 2):
            await send(app, await ask(app, telegram, f"вопрос {n}"))
            await app.questions.close(n, "user")
        await feed(app, private_message(USER, "/ask"))
        refusal = to_user(telegram, "sendMessage")[-1]
        assert refusal.params["text"].startswith("За последние сутки вы уже задали 2 вопроса")
        assert (await row(app, "SELECT count(*) FROM tickets")) == (2,)


async def test_the_groups_budget_is_shared_by_taking_turns(
    live: App, telegram: FakeTelegram
) -> None:
    release = telegram.hold_next("sendMessage", chat_id=MODERATOR_CHAT_ID)
    await send(live, await ask(live, telegram, "первый вопрос А"))
    await telegram.wait_for(lambda _: bool(telegram.held))
    for text in ("второй вопрос А", "третий вопрос А"):
        await send(live, await ask(live, telegram, text))
    await send(live, await ask(live, telegram, "вопрос Б", user=OTHER), user=OTHER)
    release.set()
    await settle(live)
    order = [
        m["text"].rsplit("\n", 1)[-1]
        for m in telegram.history(MODERATOR_CHAT_ID)
        if str(m.get("text", "")).startswith("#")
    ]
    # B's only question comes before A's third: nobody can fill the group's budget alone.
    assert order == ["первый вопрос А", "второй вопрос А", "вопрос Б", "третий вопрос А"]


class Recorder:
    def __init__(self) -> None:
        self.made: list[str] = []

    async def __call__(self, bot: Any, method: Any) -> Any:
        self.made.append(method.__api_method__)
        return None


async def test_every_message_making_request_to_the_group_takes_a_slot() -> None:
    now = [0.0]
    pacer = GroupPacer(20, reserve=4, clock=lambda: now[0])
    pacing = GroupPacing(pacer, MODERATOR_CHAT_ID)
    made = Recorder()
    group = MODERATOR_CHAT_ID
    calls = [
        SendMessage(chat_id=group, text="card"),
        EditMessageText(chat_id=group, message_id=1, text="card edited"),
        DeleteMessage(chat_id=group, message_id=2),
        SendMediaGroup(
            chat_id=group, media=[InputMediaPhoto(media="a"), InputMediaPhoto(media="b")]
        ),
        GetChatMember(chat_id=group, user_id=1),  # not a message
        AnswerCallbackQuery(callback_query_id="x"),  # not the group's
        SendMessage(chat_id=USER, text="a user's chat"),  # not the group
    ]
    token = group_pace.set(Pace.BACKGROUND)
    try:
        for method in calls:
            await pacing(made, None, method)  # type: ignore[arg-type]
    finally:
        group_pace.reset(token)
    assert len(made.made) == len(calls)
    assert len(pacer.sent) == 1 + 1 + 1 + 2  # card, edit, redaction, an album of two


async def test_progress_edits_wait_for_nothing_when_the_budget_is_spent() -> None:
    now = [0.0]
    pacer = GroupPacer(5, reserve=1, clock=lambda: now[0])
    for _ in range(4):
        await pacer.acquire(1, Pace.BACKGROUND)
    with pytest.raises(PaceSkipped):
        await pacer.acquire(1, Pace.OPTIONAL)
    assert len(pacer.sent) == 4


async def test_a_full_disk_backs_off_more_and_more_and_tells_a_user_once(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(telegram, tmp_path)
    growing = BackoffConfig(min_delay=0.05, max_delay=2.0, factor=2.0, jitter=0.0)
    async with running(settings, growing) as (app, _):
        original = app.intake.inbox.record
        attempts: list[float] = []

        async def full(entries: Any) -> Any:
            attempts.append(time.monotonic())
            if len(attempts) <= 4:
                raise sqlite3.OperationalError("database or disk is full")
            return await original(entries)

        monkeypatch.setattr(app.intake.inbox, "record", full)
        for text in ("/start", "/help"):
            telegram.push_update(private_message(USER, text))
        await telegram.wait_for(
            lambda calls: any(
                str(c.params.get("text")).startswith("<b>Как пользоваться") for c in calls
            ),
            timeout=10,
        )
        gaps = [b - a for a, b in itertools.pairwise(attempts[:5])]
        # Each pause longer than the one before (0.05, 0.1, 0.2, 0.4 s), not every second.
        assert gaps == sorted(gaps) and gaps[-1] > 3 * gaps[0], gaps
        told = [
            c
            for c in telegram.calls_of("sendMessage")
            if "технические неполадки" in str(c.params.get("text"))
        ]
        assert len(told) == 1  # one user, one outage: told once


# ---- misconfiguration is named at start ----------------------------------------------------


async def run_until_exit(telegram: FakeTelegram, tmp_path: Path, **env: str) -> tuple[int, str]:
    bot = BotProcess(telegram, tmp_path, **env)
    await bot.start()
    assert bot.process is not None
    _, stderr = await asyncio.wait_for(bot.process.communicate(), 40)
    text = stderr.decode().strip()
    assert "Traceback" not in text, text
    # Start-up logs (the database migrated...) may come first; the verdict is one line.
    return int(bot.process.returncode or 0), text.splitlines()[-1]


async def test_a_token_telegram_refuses_stops_the_bot_naming_it(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    telegram.fail_next("getMe", status=401, description="Unauthorized")
    code, line = await run_until_exit(telegram, tmp_path)
    assert (code, line) == (
        2,
        "consult-bot: setting BOT_TOKEN is refused by Telegram (401 Unauthorized)",
    )


@pytest.mark.parametrize(
    ("world", "env", "says"),
    [
        ("no chat", {}, "setting MODERATOR_CHAT_ID: no group -1001234567890 with this bot in it"),
        ("left", {}, "setting MODERATOR_CHAT_ID: the bot is not a member of group -1001234567890"),
        ("member, privacy mode", {}, "the bot cannot see the moderators' replies there"),
        (
            "not a forum",
            {"MODERATOR_FORUM": "true"},
            "setting MODERATOR_FORUM is true, but group -1001234567890 is not a forum",
        ),
        ("no topics right", {"MODERATOR_FORUM": "true"}, "the bot lacks the Manage topics right"),
    ],
)
async def test_a_moderators_group_the_bot_cannot_work_in_stops_it_naming_the_setting(
    telegram: FakeTelegram, tmp_path: Path, world: str, env: dict[str, str], says: str
) -> None:
    match world:
        case "no chat":
            telegram.fail_next("getChat", status=400, description="Bad Request: chat not found")
        case "left":
            telegram.set_member(MODERATOR_CHAT_ID, DEFAULT_BOT_ID, "left")
        case "member, privacy mode":
            telegram.set_member(MODERATOR_CHAT_ID, DEFAULT_BOT_ID, "member")
        case "not a forum":
            telegram.chat_info[MODERATOR_CHAT_ID] = {"is_forum": False}
        case "no topics right":
            telegram.set_member(
                MODERATOR_CHAT_ID, DEFAULT_BOT_ID, "administrator", can_manage_topics=False
            )
    code, line = await run_until_exit(telegram, tmp_path, **env)
    assert code == 2, line
    assert line.startswith("consult-bot: ") and says in line
    assert "\n" not in line


async def test_an_unreachable_api_is_waited_for_and_said_so(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    bot = BotProcess(telegram, tmp_path, TELEGRAM_API_URL="http://127.0.0.1:9")  # nothing listens
    await bot.start()
    assert bot.process is not None and bot.process.stderr is not None
    async with asyncio.timeout(30):
        while b"cannot reach the Bot API" not in await bot.process.stderr.readline():
            pass
    await bot.stop()  # SIGTERM while waiting: a clean stop, exit 0


def test_a_positive_moderator_chat_id_is_named(tmp_path: Path) -> None:
    from tests.test_startup import run_bot

    result = run_bot(cwd=tmp_path, env={"BOT_TOKEN": "42:abc", "MODERATOR_CHAT_ID": "12345"})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("consult-bot: setting MODERATOR_CHAT_ID is invalid: ")
    assert "group" in result.stderr


def test_webhook_path_follows_webhook_url() -> None:
    settings = Settings(
        _env_file=None, bot_token="42:abc", moderator_chat_id=-1001,
        webhook_url="https://bot.example.org/hook", webhook_secret="s" * 16,
    )  # fmt: skip
    assert settings.webhook_listen_path == "/hook"
    explicit = settings.model_copy(update={"webhook_path": "/other"})
    assert explicit.webhook_listen_path == "/other"
