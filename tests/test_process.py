"""`python -m bot` as a real process against the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import sys
from pathlib import Path

from bot.emulator import FakeTelegram, callback, private_message
from tests.conftest import MODERATOR_CHAT_ID, ROOT, TOKEN
from tests.test_menus import MAIN_MENU, data_of


def stored_screen(database: Path, user_id: int) -> str | None:
    """The screen the bot's database holds for a user, read as another process would."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        row = conn.execute("SELECT data FROM fsm_state WHERE user_id = ?", (user_id,)).fetchone()
    screen: str | None = json.loads(row[0]).get("screen") if row else None
    return screen


async def test_the_process_serves_menus_in_both_languages_and_stops_on_sigterm(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "MODERATOR_CHAT_ID": str(MODERATOR_CHAT_ID),
        "TELEGRAM_API_URL": telegram.url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "POLLING_TIMEOUT": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        telegram.push_update(private_message(10, "/start", language_code="ru"))
        telegram.push_update(private_message(20, "/start", language_code="en"))
        ru = await telegram.wait_for_call("sendMessage", chat_id=10, timeout=20)
        en = await telegram.wait_for_call("sendMessage", chat_id=20, timeout=20)
        assert ru.params["text"].startswith("<b>Здравствуйте!")
        assert en.params["text"].startswith("<b>Hello!")
        assert data_of(en.params["reply_markup"]) == MAIN_MENU
        telegram.push_update(callback(20, "nav:topics", callback_id="t1"))
        edit = await telegram.wait_for_call("editMessageText", chat_id=20, timeout=10)
        assert edit.params["text"].startswith("<b>Topics</b>")
        # The menu position was deferred; the running process writes it within a second
        # or so (re-checked at each of its getUpdates calls).
        database = tmp_path / "bot.sqlite3"
        await telegram.wait_until(lambda: stored_screen(database, 20) == "nav:topics", 10)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert "polling started" in log
    assert "polling stopped" in log
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log


async def test_a_broken_draft_does_not_stop_the_process(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    """A half-written issue in digests/ is reported in the log and the bot serves on."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "data", content, ignore=shutil.ignore_patterns("*.sqlite3*"))
    draft = content / "digests" / "2023-10.yaml"
    draft.write_text('issue: "2023-10"\ndate: 2023-10-31\ntitle: {ru: "Черновик"}\n')
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "MODERATOR_CHAT_ID": str(MODERATOR_CHAT_ID),
        "TELEGRAM_API_URL": telegram.url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "CONTENT_DIR": str(content),
        "POLLING_TIMEOUT": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        telegram.push_update(private_message(10, "/start", language_code="ru"))
        await telegram.wait_for_call("sendMessage", chat_id=10, timeout=20)
        telegram.push_update(callback(10, "nav:latest", callback_id="l1"))
        latest = await telegram.wait_for_call("editMessageText", chat_id=10, timeout=10)
        assert latest.params["text"].startswith("<b>Дайджест ДСО\u00a0— сентябрь 2023</b>")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, stderr.decode()
    log = stderr.decode()
    assert f"digest file not loaded (not served): {draft}: title.en: Field required" in log
    assert f"{draft}: intro: Field required" in log
