"""Drafts are not live: users see what was published (recorded in the database), a file in
digests/ is a draft until then, a broken draft never stops the bot, and the issues the
project ships are served on a fresh install without being broadcast."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
import yaml

from bot.emulator import FakeTelegram, callback, group_message, private_message
from bot.factory import App, open_app
from tests.conftest import ROOT, feed, make_settings
from tests.test_broadcasts import ADMIN, content_with_new_issue, draft_of
from tests.test_menus import buttons, data_of

USER = 701
OCTOBER = "Дайджест ДСО — октябрь 2023"  # the draft's title (tests.test_broadcasts)
SEED_ARTICLES = [
    "passport-certificate",
    "servicemen-no-leave",
    "e-registry-postponed",
    "foreign-agent-appeal",
    "reservation-cassation",
]


async def screen(app: App, telegram: FakeTelegram, data: str) -> tuple[str, list[str]]:
    """Tap a button as USER; the text and the callback data of the screen drawn."""
    telegram.clear()
    await feed(app, callback(USER, data))
    (edit,) = telegram.calls_of("editMessageText")
    return edit.params["text"], data_of(edit.params["reply_markup"])


async def assert_only_september_is_served(app: App, telegram: FakeTelegram) -> None:
    await feed(app, private_message(USER, "/start"))
    text, data = await screen(app, telegram, "nav:latest")
    assert text.startswith("<b>Дайджест ДСО\u00a0— сентябрь 2023</b>")
    assert [d for d in data if d.startswith("ar:")] == [
        f"ar:2023-09:{slug}::0" for slug in SEED_ARTICLES
    ]
    for topic in app.library.topics:
        text, data = await screen(app, telegram, f"tp:{topic.slug}:0")
        assert OCTOBER not in text, topic.slug
        assert not [d for d in data if "2023-10" in d], topic.slug
        assert [d for d in data if d.startswith("ar:2023-09:")], topic.slug
    # A forged or remembered button to the draft's article: a polite answer, no article.
    telegram.clear()
    await feed(app, callback(USER, "ar:2023-10:passport-certificate-oct::0"))
    (answer,) = telegram.calls_of("answerCallbackQuery")
    assert answer.params["text"] == "Эта кнопка больше не действует. Показываю текущий экран."
    assert all(OCTOBER not in c.params["text"] for c in telegram.calls_of("editMessageText"))


async def test_the_seed_is_served_on_a_fresh_database_without_a_broadcast(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(telegram, tmp_path)
    assert not settings.database_path.exists()
    async with open_app(settings) as app:
        assert [i.issue for i in app.library.issues] == ["2023-09"]
        rows = await app.db.fetch_all("SELECT issue FROM published_issues")
        assert [r[0] for r in rows] == ["2023-09"]
        assert await app.db.fetch_one("SELECT 1 FROM broadcasts") is None
        assert await app.db.fetch_one("SELECT 1 FROM deliveries") is None
        await feed(app, private_message(USER, "/start", language_code="en"))
        text, data = await screen(app, telegram, "nav:latest")
        assert text.startswith("<b>Digest from the Movement of Conscientious Objection")
        assert data[0] == "ar:2023-09:passport-certificate::0"
        first = await app.db.fetch_one("SELECT published_at FROM published_issues")
    async with open_app(settings) as app:  # the second start records nothing again
        again = await app.db.fetch_one("SELECT published_at FROM published_issues")
        assert first is not None and again is not None and again[0] == first[0]
        assert await app.db.fetch_one("SELECT 1 FROM broadcasts") is None


async def test_a_draft_is_not_served(telegram: FakeTelegram, tmp_path: Path) -> None:
    content = content_with_new_issue(tmp_path)  # 2023-10.yaml in digests/, never published
    async with open_app(make_settings(telegram, tmp_path, content_dir=content)) as app:
        assert app.library.issue("2023-10") is None
        await assert_only_september_is_served(app, telegram)


async def test_a_broken_draft_is_logged_and_does_not_stop_the_bot(
    telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    content = content_with_new_issue(tmp_path)
    draft = content / "digests" / "2023-10.yaml"
    body = yaml.safe_load(draft.read_text(encoding="utf-8"))
    body["articles"][0]["topics"] = ["astrology"]
    del body["articles"][1]["button"]
    body["date"] = "2023-13-45"
    draft.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    (content / "digests" / "2023-11.yaml").write_text("issue: [unclosed\n", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="bot"):
        async with open_app(make_settings(telegram, tmp_path, content_dir=content)) as app:
            await assert_only_september_is_served(app, telegram)
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"digest file not loaded (not served): {draft}: date: " in "\n".join(logged)
    assert f"{draft}: articles.1.button: Field required" in "\n".join(logged)
    assert any(f"{content / 'digests' / '2023-11.yaml'}: cannot be read" in m for m in logged)


async def test_publishing_a_draft_serves_it_and_a_restart_keeps_it_without_the_file(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    content = content_with_new_issue(tmp_path)
    settings = make_settings(telegram, tmp_path, content_dir=content)
    telegram.chat_members[(settings.moderator_chat_id, ADMIN)] = "administrator"
    async with open_app(settings) as app:
        await feed(app, private_message(USER, "/start"))
        _, data = await screen(app, telegram, "tp:courts:0")
        assert not [d for d in data if "2023-10" in d]
        chat = settings.moderator_chat_id
        await feed(app, group_message(chat, ADMIN, "/publish 2023-10"))
        await feed(app, callback(ADMIN, "pub:confirm:2023-10", chat_id=chat, message_id=5))
        text, data = await screen(app, telegram, "tp:courts:0")
        assert data[0] == "ar:2023-10:foreign-agent-appeal-oct:courts:0"
        assert text.index(OCTOBER) < text.index("сентябрь 2023")
    # What was published is in the database: the file may go (a re-created container).
    (content / "digests" / "2023-10.yaml").unlink()
    async with open_app(settings) as app:
        assert app.library.latest is not None and app.library.latest.issue == "2023-10"
        await feed(app, private_message(USER, "/start"))
        _, data = await screen(app, telegram, "nav:latest")
        assert data[0] == "ar:2023-10:passport-certificate-oct::0"


async def test_a_published_copy_is_served_not_the_edited_file(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    """Editing a published issue's file is drafting a correction: users keep seeing the
    published text until it is published again."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "data", content, ignore=shutil.ignore_patterns("*.sqlite3*"))
    settings = make_settings(telegram, tmp_path, content_dir=content)
    async with open_app(settings):
        pass  # the seed is recorded as published
    seed = content / "digests" / "2023-09.yaml"
    seed.write_text(
        seed.read_text(encoding="utf-8").replace(
            "Загранпаспорт и\u00a0военкомат", "Черновик правки"
        ),
        encoding="utf-8",
    )
    async with open_app(settings) as app:
        await feed(app, private_message(USER, "/start"))
        telegram.clear()
        await feed(app, callback(USER, "nav:latest"))
        (edit,) = telegram.calls_of("editMessageText")
        labels = [text for text, _ in buttons(edit.params["reply_markup"])]
        assert "📄 Загранпаспорт и\u00a0военкомат" in labels
        assert "📄 Черновик правки" not in labels
        published = await app.broadcasts.publish(draft_of(content, "2023-09"))
        assert published.recipients == 0  # nobody subscribed; the text is the new one
        row = await app.db.fetch_one("SELECT body FROM published_issues")
        assert row is not None and "Черновик правки" in row[0]


async def test_a_recorded_issue_that_no_longer_loads_is_skipped_not_fatal(
    telegram: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(telegram, tmp_path)
    async with open_app(settings) as app:
        await app.broadcasts.broadcasts.save_issue("2023-07", '{"issue": "2023-07"}', 2.0)
    with caplog.at_level(logging.INFO, logger="bot"):
        async with open_app(settings) as app:
            assert app.library.issue("2023-07") is None
            assert app.library.issue("2023-09") is not None  # the others are served
    assert any("published issue 2023-07 cannot be served" in r.getMessage() for r in caplog.records)
