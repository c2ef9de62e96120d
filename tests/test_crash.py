"""SIGKILL at the worst moments of the ask → answer and broadcast flows: after a restart
nothing acknowledged is lost and nothing is sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from bot.emulator import ApiCall, FakeTelegram, callback, group_message, private_message
from bot.factory import open_app
from tests.conftest import MODERATOR_CHAT_ID, TOKEN, make_settings

USER, MODERATOR = 3001, 3002


class BotProcess:
    """`python -m bot` against the fake, killed or stopped like in production."""

    def __init__(self, telegram: FakeTelegram, tmp_path: Path, *args: str, **extra: str) -> None:
        self.args = args
        self.env = {
            **os.environ, "BOT_TOKEN": TOKEN, "MODERATOR_CHAT_ID": str(MODERATOR_CHAT_ID),
            "TELEGRAM_API_URL": telegram.url, "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "POLLING_TIMEOUT": "1", "OUTBOX_RETRY_BASE": "0.1", "BROADCAST_LEASE": "1",
            "BROADCAST_RATE": "100", **extra,
        }  # fmt: skip
        self.cwd = tmp_path
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *self.args, cwd=self.cwd, env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        # communicate(), not wait(): it drains and closes the stderr pipe, so no transport
        # is left to be collected after the loop closed (an "unraisable" warning, which
        # the suite turns into an error of whichever test runs next).
        await asyncio.wait_for(self.process.communicate(), 10)

    async def stop(self) -> str:
        """SIGTERM, and what the process wrote to stderr."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(self.process.communicate(), 30)
            assert self.process.returncode == 0, stderr.decode()
            return stderr.decode()
        return ""


async def send_button(telegram: FakeTelegram) -> str:
    """The callback data of Send on the preview the bot showed."""
    calls = await telegram.wait_for(
        lambda calls: any("dr:send:" in str(c.params.get("reply_markup")) for c in calls),
        timeout=20,
    )
    markup: Any = next(c for c in calls if "dr:send:" in str(c.params.get("reply_markup"))).params[
        "reply_markup"
    ]
    return next(
        str(b["callback_data"])
        for row in markup["inline_keyboard"]
        for b in row
        if str(b.get("callback_data", "")).startswith("dr:send:")
    )


def delivered(telegram: FakeTelegram, method: str, chat_id: int, starts: str = "") -> list[ApiCall]:
    return [
        c for c in telegram.calls_of(method)
        if c.params.get("chat_id") == chat_id and not c.failed and str(c.params.get("text", "")).startswith(starts)
    ]  # fmt: skip


async def test_kill_during_the_group_post_and_during_the_answer(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    bot = BotProcess(telegram, tmp_path)
    await bot.start()
    try:
        telegram.push_update(private_message(USER, "/start"))
        telegram.push_update(callback(USER, "nav:ask", callback_id="a1"))
        telegram.push_update(private_message(USER, "Можно ли отказаться от призыва по убеждениям?"))
        send_data = await send_button(telegram)

        # 1. Killed while the card is on its way to the group (after "received").
        telegram.hold_next("sendMessage", chat_id=MODERATOR_CHAT_ID)
        telegram.push_update(callback(USER, send_data, callback_id="send"))
        await telegram.wait_for(lambda _: bool(telegram.held), timeout=10)
        await telegram.wait_for(
            lambda calls: any(
                "Получили — вопрос №1" in str(c.params.get("text"))
                for c in calls
                if c.method == "editMessageText"
            ),
            timeout=10,
        )
        await bot.kill()
    finally:
        await bot.stop()

    await bot.start()
    try:
        await telegram.wait_for(
            lambda _: len(delivered(telegram, "sendMessage", MODERATOR_CHAT_ID, "<b>#1</b>")) == 1,
            timeout=20,
        )
        # The fake numbers a chat's messages from 1: the card is the group's only one.
        card_id = len(delivered(telegram, "sendMessage", MODERATOR_CHAT_ID))
        assert card_id == 1

        # 2. Killed while the answer is on its way to the user.
        telegram.hold_next("copyMessage", chat_id=USER)
        telegram.push_update(
            group_message(
                MODERATOR_CHAT_ID,
                MODERATOR,
                "Да: подайте заявление на АГС.",
                reply_to_message_id=card_id,
            )
        )
        await telegram.wait_for(lambda _: len(telegram.held) == 2, timeout=10)
        await bot.kill()
    finally:
        await bot.stop()

    await bot.start()
    try:
        await telegram.wait_for(
            lambda _: len(delivered(telegram, "copyMessage", USER)) == 1, timeout=20
        )
        await telegram.wait_for(
            lambda _: len(delivered(telegram, "sendMessage", USER, "⬆️")) == 1, timeout=20
        )
    finally:
        await bot.stop()
    assert (
        len(delivered(telegram, "sendMessage", MODERATOR_CHAT_ID, "<b>#1</b>")) == 1
    )  # the card once
    assert len(delivered(telegram, "copyMessage", USER)) == 1  # the answer once
    assert [c.error for c in telegram.held] == ["abandoned: the client went away while held"] * 2


async def test_kill_before_the_user_is_told_received(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    bot = BotProcess(telegram, tmp_path)
    await bot.start()
    try:
        telegram.push_update(private_message(USER, "/ask"))
        telegram.push_update(private_message(USER, "Что делать с повесткой?"))
        send_data = await send_button(telegram)
        # Both things Send does after its commit are held: telling the user "received"
        # and posting the card. Nothing of it reaches "Telegram" before the kill.
        telegram.hold_next("editMessageText", chat_id=USER)
        telegram.hold_next("sendMessage", chat_id=MODERATOR_CHAT_ID)
        telegram.push_update(callback(USER, send_data, callback_id="s"))
        await telegram.wait_for(lambda _: len(telegram.held) == 2, timeout=10)
        await bot.kill()
    finally:
        await bot.stop()
    await bot.start()
    try:
        # The Send was taken into the inbox before the kill: handled again after the
        # restart, it finds the stored ticket and the user is told it was received.
        # (Its button answer is too late for Telegram by now, so none is made.)
        await telegram.wait_for(
            lambda calls: any(
                c.method == "editMessageText"
                and c.params.get("chat_id") == USER
                and "Получили — вопрос №1" in str(c.params.get("text"))
                and not c.failed
                for c in calls
            ),
            timeout=20,
        )
        await telegram.wait_for(
            lambda _: len(delivered(telegram, "sendMessage", MODERATOR_CHAT_ID, "<b>#1</b>")) == 1,
            timeout=20,
        )
    finally:
        await bot.stop()
    assert len(delivered(telegram, "sendMessage", MODERATOR_CHAT_ID, "<b>#")) == 1


async def test_kill_mid_broadcast(telegram: FakeTelegram, tmp_path: Path) -> None:
    subscribers = [4001, 4002, 4003, 4004, 4005, 4006]
    settings = make_settings(telegram, tmp_path)
    async with open_app(settings) as app:
        for user_id in subscribers:
            await app.services.users.locale_of(user_id, "ru")
            await app.services.subscriptions.subscribe(user_id)
        issue = app.library.issue("2023-09")
        assert issue is not None
        assert (await app.broadcasts.publish(issue)).recipients == len(subscribers)
    telegram.hold_next("sendMessage", chat_id=4004)
    # One request at a time: when 4004's is held, every earlier one is done and recorded,
    # so the kill lands in a known place (the in-flight window is the benchmark's matter).
    bot = BotProcess(telegram, tmp_path, BROADCAST_CONCURRENCY="1")
    await bot.start()
    try:
        await telegram.wait_for(lambda _: bool(telegram.held), timeout=20)
        await bot.kill()
    finally:
        await bot.stop()
    await bot.start()
    try:
        await telegram.wait_for(
            lambda _: all(
                len(delivered(telegram, "sendMessage", u, "📰")) >= 1 for u in subscribers
            ),
            timeout=20,
        )
    finally:
        await bot.stop()
    for user_id in subscribers:
        assert len(delivered(telegram, "sendMessage", user_id, "📰")) == 1, user_id
    async with open_app(settings) as app:
        rows = await app.db.fetch_all("SELECT state, count(*) FROM deliveries GROUP BY state")
        assert [tuple(r) for r in rows] == [("sent", len(subscribers))]
