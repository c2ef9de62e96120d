"""The sandbox without a browser: its settings, its world, the page's API, its data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.emulator import FakeTelegram
from bot.sandbox.runner import (
    BOT_ID,
    GROUP_ID,
    MODERATORS,
    USERS,
    Options,
    Sandbox,
    sandbox_settings,
)

ROOT = Path(__file__).resolve().parent.parent
IVAN = USERS[0].id
ANNA = MODERATORS[0].id


def test_settings_come_from_the_sandbox_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "BOT_TOKEN": "123:real-token",
        "MODERATOR_CHAT_ID": "-100999",
        "DATABASE_PATH": "/srv/production.sqlite3",
        "WEBHOOK_URL": "https://example.org/hook",
        "TELEGRAM_API_URL": "https://api.telegram.org",
    }.items():
        monkeypatch.setenv(name, value)
    (tmp_path / ".env").write_text("BOT_TOKEN=456:from-dotenv\n")
    monkeypatch.chdir(tmp_path)
    settings = sandbox_settings(tmp_path / "data", "http://127.0.0.1:1", forum=True)
    assert settings.bot_token.get_secret_value().startswith(f"{BOT_ID}:")
    assert settings.moderator_chat_id == GROUP_ID
    assert settings.database_path == tmp_path / "data" / "sandbox.sqlite3"
    assert settings.webhook_url is None
    assert settings.telegram_api_url == "http://127.0.0.1:1"
    assert settings.moderator_forum is True


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with Sandbox(Options(port=0, data=tmp_path / "sandbox-data")) as running:
        yield running


async def call(
    sandbox: Sandbox, method: str, path: str, *, origin: str | None = None, **kwargs: Any
) -> tuple[int, Any]:
    headers = {"Origin": origin} if origin else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, sandbox.url + path.lstrip("/"), headers=headers, **kwargs) as r,
    ):
        body = await r.json() if r.content_type == "application/json" else await r.read()
        return r.status, body


async def bot_said(emulator: FakeTelegram, chat_id: int, text: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        for sender, message in emulator.messages_in(chat_id):
            if sender == emulator.bot_id and text in (message.get("text") or ""):
                return message
        return None

    await emulator.wait_until(lambda: find() is not None, 10)
    found = find()
    assert found is not None
    return found


async def test_the_world_and_the_page(sandbox: Sandbox) -> None:
    status, page = await call(sandbox, "GET", "/")
    assert status == 200 and b"Sandbox" in page and b"https://" not in page
    status, state = await call(sandbox, "GET", "/api/state")
    assert status == 200
    assert [u["id"] for u in state["users"]] == [u.id for u in USERS]
    assert {u["language_code"] for u in state["users"]} == {"ru", "en"}
    assert state["group"] == {"id": GROUP_ID, "title": "Moderators (sandbox)", "forum": False}
    emulator = sandbox.emulator
    # The moderators are members of the group, one of them an admin (for /publish).
    statuses = {m.id: emulator.chat_members[(GROUP_ID, m.id)] for m in MODERATORS}
    assert statuses == {ANNA: "administrator", MODERATORS[1].id: "member"}
    for name in ("sandbox.css", "sandbox.js", "favicon.svg"):
        status, _ = await call(sandbox, "GET", f"/static/{name}")
        assert status == 200
    status, _ = await call(sandbox, "GET", "/static/../runner.py")
    assert status == 404


async def test_people_act_through_the_emulator(sandbox: Sandbox) -> None:
    emulator = sandbox.emulator
    status, body = await call(
        sandbox, "POST", "/api/send", data={"chat_id": IVAN, "from_id": IVAN, "text": "/start"}
    )
    assert status == 200 and body["messages"][0]["message_id"] == 1
    menu = await bot_said(emulator, IVAN, "Здравствуйте")
    assert menu["message_id"] == 2  # one sequence: the user's message, then the bot's
    topics = menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    status, body = await call(
        sandbox,
        "POST",
        "/api/press",
        json={"chat_id": IVAN, "message_id": 2, "from_id": IVAN, "data": topics},
    )
    assert status == 200 and body["query_id"]
    await emulator.wait_until(lambda: "edit_date" in (emulator.message(IVAN, 2) or {}), 10)
    # Only a button the message has; only a user in their own chat; only moderators in the group.
    bad: list[tuple[str, dict[str, Any]]] = [
        ("/api/press", {"chat_id": IVAN, "message_id": 2, "from_id": IVAN, "data": "x"}),
        ("/api/send", {"chat_id": IVAN, "from_id": USERS[1].id, "text": "hi"}),
        ("/api/send", {"chat_id": GROUP_ID, "from_id": IVAN, "text": "hi"}),
        ("/api/send", {"chat_id": IVAN, "from_id": IVAN, "text": "x", "reply_to": 99}),
    ]
    for path, payload in bad:
        if path == "/api/press":
            status, body = await call(sandbox, "POST", path, json=payload)
        else:
            status, body = await call(sandbox, "POST", path, data=payload)
        assert status == 400, (path, payload, body)
    # The group's commands work for the sandbox's moderators (members of the fake group).
    await call(
        sandbox, "POST", "/api/send", data={"chat_id": GROUP_ID, "from_id": ANNA, "text": "/queue"}
    )
    await bot_said(emulator, GROUP_ID, "Открытых обращений: 0")
    # Another site in the same browser cannot act.
    status, _ = await call(
        sandbox,
        "POST",
        "/api/send",
        origin="http://evil.example",
        data={"chat_id": IVAN, "from_id": IVAN, "text": "hi"},
    )
    assert status == 403


async def test_files_and_albums(sandbox: Sandbox) -> None:
    emulator = sandbox.emulator
    form = aiohttp.FormData()
    for field, value in {"chat_id": IVAN, "from_id": IVAN, "text": "две страницы"}.items():
        form.add_field(field, str(value))
    form.add_field("file", b"\x89PNG page 1", filename="1.png", content_type="image/png")
    form.add_field("file", b"\x89PNG page 2", filename="2.png", content_type="image/png")
    status, body = await call(sandbox, "POST", "/api/send", data=form)
    assert status == 200
    first, second = body["messages"]
    assert first["media_group_id"] == second["media_group_id"]
    assert first["caption"] == "две страницы" and "caption" not in second
    file_id = first["photo"][-1]["file_id"]
    status, content = await call(sandbox, "GET", f"/api/file/{file_id}")
    assert status == 200 and content == b"\x89PNG page 1"
    assert emulator.file(file_id) is not None


async def test_the_editor_checks_previews_and_publishes(sandbox: Sandbox, tmp_path: Path) -> None:
    emulator = sandbox.emulator
    status, body = await call(sandbox, "GET", "/api/digests")
    assert [d["issue"] for d in body["digests"]] == ["2023-09"]
    broken = aiohttp.FormData()
    broken.add_field("file", b"issue: 2023-10\ntitle: {}\n", filename="2023-10.yaml")
    status, body = await call(sandbox, "POST", "/api/digests", data=broken)
    assert status == 400 and any("2023-10.yaml" in p for p in body["problems"])
    text = (ROOT / "data" / "digests" / "2023-09.yaml").read_text(encoding="utf-8")
    good = aiohttp.FormData()
    good.add_field(
        "file", text.replace('issue: "2023-09"', 'issue: "2023-10"', 1), filename="2023-10.yaml"
    )
    status, body = await call(sandbox, "POST", "/api/digests", data=good)
    assert status == 200 and body["issue"] == "2023-10"
    # Into the sandbox's own content, never the checkout's data/.
    assert (sandbox.data / "content" / "digests" / "2023-10.yaml").exists()
    assert not (ROOT / "data" / "digests" / "2023-10.yaml").exists()

    status, preview = await call(sandbox, "GET", "/api/digests/2023-10/preview")
    assert status == 200
    assert [lang["locale"] for lang in preview["languages"]] == ["ru", "en"]
    ru = preview["languages"][0]["messages"]
    assert ru[0]["text"].startswith("📰 Дайджест ДСО")
    assert ru[0]["entities"][0]["type"] == "bold"
    assert "reply_markup" in ru[-1]

    # A subscribed user gets the issue when the editor publishes it.
    await call(
        sandbox, "POST", "/api/send", data={"chat_id": IVAN, "from_id": IVAN, "text": "/subscribe"}
    )
    await bot_said(emulator, IVAN, "подписались")
    status, body = await call(sandbox, "POST", "/api/digests/2023-10/publish")
    assert status == 200 and body["started"]
    await bot_said(emulator, IVAN, "📰 Дайджест ДСО")
    await bot_said(emulator, GROUP_ID, "Рассылка 2023-10 завершена")
    assert any(
        "/publish 2023-10" in (m.get("text") or "")
        for sender, m in emulator.messages_in(GROUP_ID)
        if sender == ANNA
    )
    counts = await sandbox.app.broadcasts.counts("2023-10")
    assert counts == {"sent": 1}
    status, _ = await call(sandbox, "GET", "/api/digests/..%2Fsecrets/preview")
    assert status in {400, 404}


async def test_a_restart_keeps_the_chats_and_reset_starts_afresh(tmp_path: Path) -> None:
    data = tmp_path / "sandbox-data"
    async with Sandbox(Options(port=0, data=data)) as first:
        await call(
            first, "POST", "/api/send", data={"chat_id": IVAN, "from_id": IVAN, "text": "/start"}
        )
        await bot_said(first.emulator, IVAN, "Здравствуйте")
    async with Sandbox(Options(port=0, data=data)) as second:
        assert [m["message_id"] for m in second.emulator.history(IVAN)] == [1, 2]
        status, body = await call(
            second, "POST", "/api/send", data={"chat_id": IVAN, "from_id": IVAN, "text": "/start"}
        )
        assert status == 200 and body["messages"][0]["message_id"] == 3
        await second.emulator.wait_until(lambda: len(second.emulator.history(IVAN)) == 4, 10)
    async with Sandbox(Options(port=0, data=data, reset=True)) as fresh:
        assert fresh.emulator.history(IVAN) == []
