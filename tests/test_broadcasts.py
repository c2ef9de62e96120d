"""Flows 3 and 4: subscribing, publishing an issue, delivering it once to everyone."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import ContentSettings, Settings
from bot.content import Issue, load_issue, load_topics
from bot.emulator import ApiCall, FakeTelegram, callback, group_message, private_message
from bot.factory import App, open_app
from bot.publish import preview
from tests.conftest import MODERATOR_CHAT_ID, ROOT, TOKEN, feed, make_settings
from tests.test_menus import data_of

ADMIN, MEMBER = 5001, 5002
SUBSCRIBERS = {101: "ru", 102: "ru", 103: "en", 104: "ru", 105: "en"}


def content_with_new_issue(tmp_path: Path, *, long: bool = False) -> Path:
    """A content dir with the seed issue and a draft of a new one, 2023-10."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "data", content, ignore=shutil.ignore_patterns("*.sqlite3*"))
    issue = yaml.safe_load((ROOT / "data" / "digests" / "2023-09.yaml").read_text(encoding="utf-8"))
    issue["issue"] = "2023-10"
    issue["date"] = "2023-10-31"
    issue["title"] = {"ru": "Дайджест ДСО — октябрь 2023", "en": "MCO digest — October 2023"}
    for article in issue["articles"]:
        article["slug"] = article["slug"][:20] + "-oct"
    if long:  # eight articles of 600-character summaries do not fit one message
        extra = [{**a, "slug": a["slug"] + "2"} for a in issue["articles"][:3]]
        issue["articles"] += extra
        for article in issue["articles"]:
            article["summary"] = {
                k: ((v + " ") * 3)[:600].strip() for k, v in article["summary"].items()
            }
    (content / "digests" / "2023-10.yaml").write_text(
        yaml.safe_dump(issue, allow_unicode=True), encoding="utf-8"
    )
    return content


def draft_of(content: Path, issue_id: str = "2023-10") -> Issue:
    """An issue file as `publish` reads it (a draft is not in the library)."""
    topics = {t.slug for t in load_topics(content / "topics.yaml")}
    return load_issue(content / "digests" / f"{issue_id}.yaml", topics)


@pytest.fixture
def broadcast_settings(telegram: FakeTelegram, tmp_path: Path) -> Settings:
    return make_settings(
        telegram, tmp_path, content_dir=content_with_new_issue(tmp_path),
        broadcast_rate=1000, broadcast_retry_base=0.05, broadcast_progress_every=0.05,
    )  # fmt: skip


@pytest.fixture
async def bapp(broadcast_settings: Settings) -> AsyncIterator[App]:
    async with open_app(broadcast_settings) as app:
        yield app


async def subscribe_all(app: App) -> None:
    for user_id, language in SUBSCRIBERS.items():
        await feed(app, private_message(user_id, "/start", language_code=language))
        await feed(app, private_message(user_id, "/subscribe", language_code=language))


async def publish(app: App, issue_id: str = "2023-10") -> Issue:
    """What publishing does: record the issue (served from now on) and its broadcast."""
    issue = draft_of(app.settings.content_dir, issue_id)
    app.library.add_issue(issue)
    await app.broadcasts.publish(issue)
    return issue


async def publish_october(app: App) -> None:
    """Every subscriber subscribed, and issue 2023-10 published to them (not yet sent)."""
    await subscribe_all(app)
    issue = draft_of(app.settings.content_dir)
    app.library.add_issue(issue)
    assert (await app.broadcasts.publish(issue)).recipients == len(SUBSCRIBERS)


def digests_to(telegram: FakeTelegram, user_id: int) -> list[ApiCall]:
    return [c for c in telegram.calls_of("sendMessage") if c.params["chat_id"] == user_id
            and str(c.params.get("text", "")).startswith("📰") and not c.failed]  # fmt: skip


async def run_broadcast(app: App, issue: str = "2023-10") -> Any:
    claimed = await app.broadcasts.claim()
    assert claimed == issue
    return await asyncio.wait_for(app.broadcaster.run(claimed), 10)


async def test_subscription_is_an_explicit_choice(bapp: App, telegram: FakeTelegram) -> None:
    await feed(bapp, private_message(101, "/start"))
    assert (
        await bapp.db.fetch_one("SELECT 1 FROM subscriptions") is None
    )  # writing is not subscribing

    telegram.clear()
    await feed(bapp, callback(101, "nav:subs"))
    (screen,) = telegram.calls_of("editMessageText")
    assert screen.params["text"].startswith("<b>Подписка</b>\n\nПодпишитесь")
    assert data_of(screen.params["reply_markup"]) == ["sub:on", "nav:home", "nav:home"]

    telegram.clear()
    await feed(bapp, callback(101, "sub:on"))
    (screen,) = telegram.calls_of("editMessageText")
    assert screen.params["text"].startswith("<b>Подписка</b>\n\n🔔 Вы подписаны")
    assert data_of(screen.params["reply_markup"])[0] == "sub:off"
    assert (
        telegram.calls_of("answerCallbackQuery")[0].params["text"] == "Вы подписались на дайджест."
    )
    assert await bapp.db.fetch_one("SELECT user_id FROM subscriptions") is not None

    await feed(bapp, private_message(101, "/unsubscribe"))
    assert await bapp.db.fetch_one("SELECT 1 FROM subscriptions") is None
    await feed(bapp, private_message(101, "/subscribe"))
    assert await bapp.db.fetch_one("SELECT 1 FROM subscriptions") is not None


async def test_publish_preview_confirm_and_delivery_in_each_language(
    bapp: App, telegram: FakeTelegram
) -> None:
    await subscribe_all(bapp)
    await feed(bapp, private_message(103, "/language", language_code="en"))
    await feed(bapp, callback(102, "lg:en", language_code="ru"))  # 102 switched to English
    telegram.chat_members[(MODERATOR_CHAT_ID, ADMIN)] = "administrator"
    telegram.chat_members[(MODERATOR_CHAT_ID, MEMBER)] = "member"

    telegram.clear()
    await feed(bapp, group_message(MODERATOR_CHAT_ID, MEMBER, "/publish 2023-10"))
    (refusal,) = telegram.calls_of("sendMessage")
    assert refusal.params["text"] == "Публиковать могут только администраторы этой группы."

    telegram.clear()
    await feed(bapp, group_message(MODERATOR_CHAT_ID, ADMIN, "/publish 2023-10"))
    texts = [c.params["text"] for c in telegram.calls_of("sendMessage")]
    assert texts[0] == "Предпросмотр (ru):"
    assert texts[1].startswith("📰 <b>Дайджест ДСО — октябрь 2023</b>")
    assert texts[2] == "Предпросмотр (en):"
    assert texts[3].startswith("📰 <b>MCO digest — October 2023</b>")
    assert (
        texts[4] == "Отправить выпуск 2023-10 подписчикам? Получателей: 5 (ru: 3, en: 2)."
        or texts[4] == "Отправить выпуск 2023-10 подписчикам? Получателей: 5 (ru: 2, en: 3)."
    )
    confirm = telegram.calls_of("sendMessage")[4]
    assert data_of(confirm.params["reply_markup"]) == ["pub:confirm:2023-10", "pub:cancel:2023-10"]
    assert await bapp.db.fetch_one("SELECT 1 FROM broadcasts") is None  # nothing before Confirm

    await feed(
        bapp, callback(MEMBER, "pub:confirm:2023-10", chat_id=MODERATOR_CHAT_ID, callback_id="m")
    )
    assert (await telegram.wait_for_call("answerCallbackQuery", callback_query_id="m")).params[
        "show_alert"
    ] is True
    assert await bapp.db.fetch_one("SELECT 1 FROM broadcasts") is None

    telegram.clear()
    await feed(
        bapp, callback(ADMIN, "pub:confirm:2023-10", chat_id=MODERATOR_CHAT_ID, message_id=5)
    )
    started = telegram.calls_of("editMessageText")[0]
    assert started.params["text"] == "📤 Рассылка 2023-10 началась: получателей\u00a0— 5."
    rows = await bapp.db.fetch_all(
        "SELECT user_id, state FROM deliveries WHERE issue = '2023-10' ORDER BY user_id"
    )
    assert [tuple(r) for r in rows] == [(u, "pending") for u in sorted(SUBSCRIBERS)]

    # The topic cards include the new issue at once.
    telegram.clear()
    await feed(bapp, callback(101, "tp:courts:0"))
    assert (
        "ar:2023-10:" in data_of(telegram.calls_of("editMessageText")[0].params["reply_markup"])[0]
    )

    progress = await run_broadcast(bapp)
    assert (progress.sent, progress.failed, progress.blocked, progress.left) == (5, 0, 0, 0)
    for user_id in SUBSCRIBERS:
        (digest,) = digests_to(telegram, user_id)
        english = user_id in (102, 103, 105)
        title = "MCO digest — October 2023" if english else "Дайджест ДСО — октябрь 2023"
        assert digest.params["text"].startswith(f"📰 <b>{title}</b>"), user_id
        buttons = data_of(digest.params["reply_markup"])
        assert buttons[-1] == "sub:stop"
        assert buttons[0].startswith("da:2023-10:")
        label = digest.params["reply_markup"]["inline_keyboard"][0][0]["text"]
        assert label == (
            "📄 Passport and military papers" if english else "📄 Загранпаспорт и\u00a0военкомат"
        )
    states = await bapp.db.fetch_all("SELECT state, count(*) FROM deliveries GROUP BY state")
    assert [tuple(r) for r in states] == [("sent", 5)]
    finished = await bapp.db.fetch_one("SELECT finished_at FROM broadcasts WHERE issue = '2023-10'")
    assert finished is not None
    assert finished[0] is not None

    telegram.clear()
    await feed(bapp, group_message(MODERATOR_CHAT_ID, MEMBER, "/broadcasts"))
    (listing,) = telegram.calls_of("sendMessage")
    assert (
        "2023-10 · завершена · отправлено 5/5 · ошибок 0 · заблокировали 0 · осталось 0"
        in listing.params["text"]
    )


async def test_unsubscribe_button_under_a_digest(bapp: App, telegram: FakeTelegram) -> None:
    await subscribe_all(bapp)
    telegram.clear()
    await feed(bapp, callback(101, "sub:stop", message_id=40))
    (answer,) = telegram.calls_of("answerCallbackQuery")
    assert answer.params["text"].startswith("Вы отписались от дайджеста.")
    assert telegram.calls_of("editMessageText") == []  # the issue stays on screen
    assert await bapp.db.fetch_one("SELECT 1 FROM subscriptions WHERE user_id = 101") is None


async def test_flood_control_mid_broadcast_pauses_everyone(
    bapp: App, telegram: FakeTelegram
) -> None:
    await publish_october(bapp)
    telegram.clear()
    telegram.fail_next(
        "sendMessage",
        status=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        chat_id=103,
    )
    progress = await run_broadcast(bapp)
    assert progress.sent == 5
    attempts = [c for c in telegram.calls_of("sendMessage") if c.params["chat_id"] == 103]
    assert [c.failed for c in attempts] == [True, False]
    assert attempts[1].at - attempts[0].at >= 0.95
    for user_id in SUBSCRIBERS:
        assert len(digests_to(telegram, user_id)) == 1


async def test_blocked_subscribers_are_unsubscribed_and_errors_retried(
    bapp: App, telegram: FakeTelegram
) -> None:
    await publish_october(bapp)
    telegram.clear()
    telegram.block_user(104)
    telegram.fail_next("sendMessage", status=502, description="Bad Gateway", chat_id=105, times=2)
    telegram.drop_connection_next("sendMessage")
    progress = await run_broadcast(bapp)
    assert (progress.sent, progress.blocked, progress.failed) == (4, 1, 0)
    assert await bapp.db.fetch_one("SELECT 1 FROM subscriptions WHERE user_id = 104") is None
    row = await bapp.db.fetch_one("SELECT state, attempts FROM deliveries WHERE user_id = 105")
    assert row is not None
    assert tuple(row) == ("sent", 2)
    for user_id in (101, 102, 103, 105):
        assert len(digests_to(telegram, user_id)) == 1


async def test_restart_mid_broadcast_sends_everyone_exactly_once(
    broadcast_settings: Settings, telegram: FakeTelegram
) -> None:
    settings = broadcast_settings.model_copy(update={"broadcast_rate": 20.0})
    async with open_app(settings) as app:
        await subscribe_all(app)
        await publish(app)
        claimed = await app.broadcasts.claim()
        assert claimed is not None
        task = asyncio.create_task(app.broadcaster.run(claimed))
        await telegram.wait_for(
            lambda _: sum(len(digests_to(telegram, u)) for u in SUBSCRIBERS) >= 2
        )
        app.broadcaster.stop()  # SIGTERM: finish what is in flight, keep the rest pending
        first = await asyncio.wait_for(task, 5)
        assert 2 <= first.sent < 5
    async with open_app(settings) as app:
        claimed = await app.broadcasts.claim()
        assert claimed == "2023-10"  # released at stop, so taken at once
        second = await asyncio.wait_for(app.broadcaster.run(claimed), 10)
        assert second.sent == 5
        assert second.finished
    for user_id in SUBSCRIBERS:
        assert len(digests_to(telegram, user_id)) == 1, user_id


async def test_an_issue_is_never_broadcast_twice(bapp: App, telegram: FakeTelegram) -> None:
    await subscribe_all(bapp)
    issue = draft_of(bapp.settings.content_dir)
    bapp.library.add_issue(issue)
    first = await bapp.broadcasts.publish(issue)
    second = await bapp.broadcasts.publish(issue)
    assert first.recipients == 5
    assert second.recipients is None
    await run_broadcast(bapp)
    assert await bapp.broadcasts.claim() is None
    for user_id in SUBSCRIBERS:
        assert len(digests_to(telegram, user_id)) == 1


async def test_progress_is_shown_in_the_moderators_group(
    broadcast_settings: Settings, telegram: FakeTelegram
) -> None:
    from bot.broadcaster import GroupProgressReporter

    async with open_app(broadcast_settings.model_copy(update={"broadcast_rate": 50.0})) as app:
        await subscribe_all(app)
        await publish(app)
        telegram.clear()
        reporter = GroupProgressReporter(
            app.bot, app.broadcasts, MODERATOR_CHAT_ID, app.localizations.get("ru")
        )
        claimed = await app.broadcasts.claim()
        assert claimed is not None
        await asyncio.wait_for(app.broadcaster.run(claimed, reporter), 10)
    status = [
        c for c in telegram.calls_of("sendMessage") if c.params["chat_id"] == MODERATOR_CHAT_ID
    ]
    assert len(status) == 1
    assert status[0].params["text"].startswith("📤 <b>Рассылка 2023-10</b>\nотправлено ")
    final = telegram.calls_of("editMessageText")[-1]
    assert (
        final.params["text"]
        == "✅ <b>Рассылка 2023-10 завершена</b>\nотправлено 5 из 5 · ошибок 0 · заблокировали 0"
    )


async def test_a_long_issue_is_split_and_parts_are_a_second_apart(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(
        telegram,
        tmp_path,
        content_dir=content_with_new_issue(tmp_path, long=True),
        broadcast_rate=1000,
    )
    async with open_app(settings) as app:
        await feed(app, private_message(101, "/subscribe"))
        await publish(app)
        telegram.clear()
        await run_broadcast(app)
    parts = [c for c in telegram.calls_of("sendMessage") if c.params["chat_id"] == 101]
    assert len(parts) == 2
    assert all(len(c.params["text"]) <= 4096 for c in parts)
    assert "reply_markup" not in parts[0].params
    assert data_of(parts[1].params["reply_markup"])[-1] == "sub:stop"
    assert parts[1].at - parts[0].at >= 1.0


def test_publish_dry_run_prints_the_messages_and_the_counts(tmp_path: Path) -> None:
    content = content_with_new_issue(tmp_path)
    settings = Settings(
        _env_file=None, bot_token="1:x", moderator_chat_id=-1, telegram_api_url="http://127.0.0.1:9",
        database_path=tmp_path / "db.sqlite3", content_dir=content, locales_dir=ROOT / "locales",
    )  # fmt: skip

    async def subscribe() -> None:
        async with open_app(settings) as app:
            for user_id, locale in SUBSCRIBERS.items():
                await app.services.users.locale_of(user_id, locale)
                await app.services.subscriptions.subscribe(user_id)

    asyncio.run(subscribe())
    out = io.StringIO()
    paths = ContentSettings(
        _env_file=None, database_path=settings.database_path, content_dir=content,
        locales_dir=ROOT / "locales",
    )  # fmt: skip
    assert preview(paths, content / "digests" / "2023-10.yaml", out=out) == 0
    printed = out.getvalue()
    assert "=== ru: 3 subscribers, 1 message(s)" in printed
    assert "=== en: 2 subscribers, 1 message(s)" in printed
    assert "📰 <b>MCO digest — October 2023</b>" in printed
    # The buttons are the articles' short titles.
    assert "buttons: 📄 Загранпаспорт и\u00a0военкомат | 📄 Отпуска военнослужащих |" in printed
    assert printed.rstrip().endswith("dry run: 2023-10 would go to 5 subscribers (ru: 3, en: 2)")

    async def nothing_sent() -> None:
        async with open_app(settings) as app:
            assert await app.db.fetch_one("SELECT 1 FROM broadcasts") is None
            assert app.library.issue("2023-10") is None  # still a draft

    asyncio.run(nothing_sent())


def test_publish_dry_run_needs_no_token_and_takes_an_issue_id(tmp_path: Path) -> None:
    """As in a container without the bot's secrets: paths from the environment, the
    draft named by its id, and no database created where there is none."""
    content = content_with_new_issue(tmp_path)
    database = tmp_path / "none-yet" / "bot.sqlite3"
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "PYTHONPATH"}}
    env.update(CONTENT_DIR=str(content), LOCALES_DIR=str(ROOT / "locales"),
               DATABASE_PATH=str(database))  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "bot", "publish", "2023-10", "--dry-run"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "📰 <b>MCO digest — October 2023</b>" in result.stdout
    assert result.stdout.rstrip().endswith(
        "dry run: 2023-10 would go to 0 subscribers (ru: 0, en: 0)"
    )
    assert not database.exists()


async def test_publish_command_broadcasts_from_the_command_line(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    content = content_with_new_issue(tmp_path)
    new_issue = tmp_path / "2023-10.yaml"
    (content / "digests" / "2023-10.yaml").rename(
        new_issue
    )  # a file from the editor, outside digests/
    settings = make_settings(telegram, tmp_path, content_dir=content)
    async with open_app(settings) as app:
        for user_id, locale in SUBSCRIBERS.items():
            await app.services.users.locale_of(user_id, locale)
            await app.services.subscriptions.subscribe(user_id)
    env = {
        **os.environ, "BOT_TOKEN": TOKEN, "MODERATOR_CHAT_ID": str(MODERATOR_CHAT_ID),
        "TELEGRAM_API_URL": telegram.url, "DATABASE_PATH": str(settings.database_path),
        "CONTENT_DIR": str(content), "BROADCAST_RATE": "100",
    }  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "publish", str(new_issue), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    out = stdout.decode()
    assert "issue 2023-10 published: 5 recipients" in out
    assert "broadcast 2023-10: sent 5, failed 0, blocked 0, left 0" in out
    assert "[##############################] 5/5" in stderr.decode()  # the progress bar
    for user_id in SUBSCRIBERS:
        assert len(digests_to(telegram, user_id)) == 1
    assert not (content / "digests" / "2023-10.yaml").exists()  # no file needed to serve it
    async with open_app(settings) as app:  # a restarted bot serves what was published
        assert app.library.latest is not None and app.library.latest.issue == "2023-10"

    # Publishing it again (a corrected text) sends it to nobody twice.
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "publish", str(new_issue), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    assert "was broadcast before: its published text is updated" in stdout.decode()
    for user_id in SUBSCRIBERS:
        assert len(digests_to(telegram, user_id)) == 1


async def test_unsubscribe_on_the_subscription_screen(bapp: App, telegram: FakeTelegram) -> None:
    await feed(bapp, private_message(101, "/subscribe"))
    telegram.clear()
    await feed(bapp, callback(101, "sub:off", message_id=2))
    (screen,) = telegram.calls_of("editMessageText")
    assert screen.params["text"].startswith("<b>Подписка</b>\n\nПодпишитесь")
    assert data_of(screen.params["reply_markup"])[0] == "sub:on"
    (answer,) = telegram.calls_of("answerCallbackQuery")
    assert answer.params["text"] == "Вы отписались. Новые выпуски больше не придут."
    assert await bapp.db.fetch_one("SELECT 1 FROM subscriptions") is None


async def test_an_issue_published_before_buttons_existed_is_still_served(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    """Recorded bodies are what was published: one from before articles had a `button`
    gets its title, cut after a whole word, on the button instead of failing to load."""
    settings = make_settings(telegram, tmp_path)
    seed = yaml.safe_load((ROOT / "data" / "digests" / "2023-09.yaml").read_text(encoding="utf-8"))
    seed.update(issue="2023-08", date="2023-08-31")
    for article in seed["articles"]:
        del article["button"]
    async with open_app(settings) as app:
        await app.broadcasts.broadcasts.save_issue("2023-08", json.dumps(seed), 1.0)
    async with open_app(settings) as app:
        august = app.library.issue("2023-08")
        assert august is not None
        assert august.articles[0].button.ru == "Для загранпаспорта от…"
        assert all(len(a.button.en) <= 32 for a in august.articles)
