"""The sandbox in a real browser: `python -m bot sandbox` as a person starts it, driven
by headless Chromium (Debian's, through Playwright): the whole loop from the menu to a
published digest. Screenshots of the main screens are kept in tests/artifacts/ (ignored
by git); README's docs/sandbox.png is a copy of 04-answered.png.

No sleeps: every step waits for what a person would see, with a timeout."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Locator, Page, Request, async_playwright, expect

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Chromium as root needs --no-sandbox; the rest keeps a headless run quiet and offline.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
WAIT = 20_000  # ms: the bot runs in another process on a shared 2-core machine
QUESTION = "Могут ли мне отказать в загранпаспорте, если я не встал на воинский учёт?"
ANSWER = "Нет: справку из военкомата для загранпаспорта требовать не вправе."

pytestmark = pytest.mark.browser


class SandboxProcess:
    """`python -m bot sandbox` in its own folder, on a free port."""

    def __init__(self, tmp_path: Path, *extra: str) -> None:
        self.tmp_path = tmp_path
        self.extra = extra
        self.process: asyncio.subprocess.Process | None = None
        self.url = ""

    async def start(self) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EMULATOR_")}
        # Settings in the environment must not reach the sandbox: these would break it.
        env |= {"BOT_TOKEN": "1:real-looking", "DATABASE_PATH": str(self.tmp_path / "prod.db")}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "sandbox", "--port", "0",
            "--data", str(self.tmp_path / "sandbox-data"), *self.extra,
            cwd=self.tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 60)
        match = re.fullmatch(r"Sandbox: (http://127\.0\.0\.1:\d+/)\n", line.decode())
        assert match, f"unexpected first line {line!r}"
        self.url = match.group(1)
        return self.url

    async def stop(self) -> str:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(self.process.communicate(), 30)
        assert self.process.returncode == 0, stderr.decode()[-3000:]
        assert not (self.tmp_path / "prod.db").exists()
        return stderr.decode()


def chromium_missing() -> bool:
    return not Path(CHROMIUM).exists()


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    if chromium_missing():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(scripts/test-setup.sh installs it)"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Opened:
    """A page, and what went wrong on it: script errors, requests to anywhere else."""

    page: Page
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


async def open_page(browser: Browser, url: str, *, width: int = 1366, height: int = 900) -> Opened:
    # A new context is a fresh profile: no cookies, no storage.
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    opened = Opened(await context.new_page())
    opened.page.on("pageerror", lambda error: opened.errors.append(str(error)))

    def request(sent: Request) -> None:
        if not sent.url.startswith((url, "data:", "blob:")):
            opened.outside.append(sent.url)

    opened.page.on("request", request)
    await opened.page.goto(url)
    return opened


async def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


def last_bot_message(pane: Locator) -> Locator:
    return pane.locator("article.msg.from-bot").last


async def press(pane: Locator, label: str) -> None:
    """Tap the inline button a person would see, by the bot's own text."""
    button = pane.locator("button.kb-btn", has_text=label).last
    await expect(button).to_be_visible(timeout=WAIT)
    await button.click()


async def type_and_enter(pane: Locator, text: str) -> None:
    box = pane.locator("textarea")
    await box.fill(text)
    await box.press("Enter")


async def test_the_whole_loop_in_a_browser(browser: Browser, tmp_path: Path) -> None:
    started = time.monotonic()
    sandbox = SandboxProcess(tmp_path)
    url = await sandbox.start()
    try:
        opened = await open_page(browser, url)
        page = opened.page
        user = page.locator("#user-pane")
        group = page.locator("#group-pane")
        # One page, both panes with their headings, clearly a sandbox, the text box focused.
        await expect(page.locator(".banner .badge")).to_have_text("Sandbox")
        await expect(user.locator("h2")).to_have_text("User's private chat")
        await expect(group.locator("h2")).to_have_text("Moderators' group")
        await expect(user.locator("textarea")).to_be_focused()
        await expect(page.locator("#connection.live")).to_be_visible(timeout=WAIT)

        # The menu: /start from the chat's Start button; real <button>s with the bot's texts.
        await user.get_by_role("button", name="Start").click()
        await expect(user.get_by_role("button", name="📚 Темы")).to_be_visible(timeout=WAIT)
        keyboard = user.locator(".keyboard button")
        assert await keyboard.count() == 7
        assert await page.locator(".keyboard :not(button):not(.kb-row)").count() == 0
        await shot(page, "01-menu")

        # Topics -> a topic card -> an article: each screen edits the same message.
        await press(user, "📚 Темы")
        await press(user, "Загранпаспорт и выезд")
        await press(user, "📄")
        article = last_bot_message(user)
        await expect(article.get_by_role("button", name="✍️ Спросить об этом")).to_be_visible(
            timeout=WAIT
        )
        await expect(article).to_contain_text("Дайджест ДСО — сентябрь 2023")
        await expect(article.locator(".meta")).to_contain_text("edited")
        assert await user.locator("article.msg.from-bot").count() == 1
        await shot(page, "02-article")

        # Ask a question: the intro, the text (Enter sends), the preview, Send.
        await press(user, "🏠 В начало")
        await press(user, "✍️ Задать вопрос")
        await expect(last_bot_message(user)).to_contain_text("Задать вопрос", timeout=WAIT)
        await type_and_enter(user, QUESTION)
        await expect(user.locator("article.msg.out", has_text=QUESTION)).to_be_visible()
        await press(user, "✅ Отправить")
        await expect(user.get_by_text("Получили — вопрос №1.")).to_be_visible(timeout=WAIT)

        # The card reaches the moderators' group, with Take / Close / Ban.
        card = group.locator("article.msg.from-bot", has_text="#1")
        await expect(card).to_be_visible(timeout=WAIT)
        await expect(card).to_contain_text(QUESTION)
        await expect(card.locator("button.kb-btn")).to_have_count(3)
        await shot(page, "03-question-in-the-group")

        # A moderator answers by replying to the card; the answer appears in the user's chat.
        await card.get_by_role("button", name="↩ Reply").click()
        await expect(group.locator(".replying")).to_be_visible()
        await type_and_enter(group, ANSWER)
        answer = user.locator("article.msg.from-bot", has_text=ANSWER)
        await expect(answer).to_be_visible(timeout=WAIT)
        await expect(user.get_by_text("Это ответ на вопрос №1")).to_be_visible(timeout=WAIT)
        await expect(card).to_contain_text("ответил(а) Anna", timeout=WAIT)
        await shot(page, "04-answered")

        # The user subscribes, then the editor previews the digest and publishes it.
        await type_and_enter(user, "/start")
        await press(user, "🔔 Подписка")
        await press(user, "🔔 Подписаться")
        await expect(user.get_by_text("Вы подписались на дайджест.")).to_be_visible(timeout=WAIT)

        editor = page.locator("#editor")
        await editor.scroll_into_view_if_needed()
        await editor.locator("#digest-select").select_option("2023-09")
        await editor.get_by_role("button", name="Preview").click()
        columns = editor.locator("#preview .language")
        await expect(columns).to_have_count(2, timeout=WAIT)
        await expect(columns.first).to_contain_text("1 subscribers")
        await expect(columns.first.locator(".msg").first).to_contain_text("Дайджест ДСО")
        await expect(columns.last.locator(".msg").first).to_contain_text("September 2023")
        await expect(columns.first.locator("button.kb-btn", has_text="Отписаться")).to_be_disabled()
        await editor.locator("#publish-button").click()
        await expect(editor.locator("#progress-text")).to_contain_text("Done.", timeout=WAIT)
        await expect(editor.locator("#progress-text")).to_contain_text("sent 1")
        await shot(page, "05-editor-published")
        digest = user.locator("article.msg.from-bot", has_text="Дайджест ДСО — сентябрь 2023")
        await expect(digest).to_be_visible(timeout=WAIT)
        await expect(digest.locator("button.kb-btn", has_text="🔕 Отписаться")).to_be_visible()
        await page.locator("#user-pane").scroll_into_view_if_needed()
        await shot(page, "06-digest-received")

        # What Telegram refused the bot on the way, as the page shows it (not asserted:
        # the bot's known causes are being fixed; the 400 guard lists them in the suite).
        refused = await page.locator(".notice").all_inner_texts()
        print(f"\nrefusals shown: {refused}")

        # Another sandbox user, in English: their own chat.
        await user.locator("#user-select").select_option(label="Alex (en)")
        await user.get_by_role("button", name="Start").click()
        await expect(user.get_by_role("button", name="📚 Topics")).to_be_visible(timeout=WAIT)

        # The page's own chrome in Russian too.
        await page.locator("#lang-toggle").click()
        await expect(user.locator("h2")).to_have_text("Личный чат пользователя")
        await expect(group.locator("h2")).to_have_text("Группа модераторов")
        await expect(page.locator(".banner .badge")).to_have_text("Песочница")

        # Usable at a phone's width.
        await page.set_viewport_size({"width": 390, "height": 844})
        await expect(user.locator("textarea")).to_be_visible()
        await shot(page, "07-phone")
        assert opened.errors == []
        assert opened.outside == []  # every asset from the sandbox itself: works offline
    finally:
        await sandbox.stop()
    print(f"\nbrowser loop: {time.monotonic() - started:.1f} s")


async def test_forum_mode_with_an_attachment(browser: Browser, tmp_path: Path) -> None:
    """--forum: one topic per ticket; the user attaches a document to the question; a
    moderator answers simply by writing in the ticket's topic."""
    started = time.monotonic()
    sandbox = SandboxProcess(tmp_path, "--forum")
    url = await sandbox.start()
    try:
        opened = await open_page(browser, url)
        page = opened.page
        user = page.locator("#user-pane")
        group = page.locator("#group-pane")
        await expect(group.locator("#group-subtitle")).to_contain_text("forum")
        await user.get_by_role("button", name="Start").click()
        await press(user, "✍️ Задать вопрос")
        scan = tmp_path / "повестка.pdf"
        scan.write_bytes(b"%PDF-1.4 a summons, scanned")
        await user.locator("input[type=file]").set_input_files(str(scan))
        await expect(user.locator(".attached")).to_contain_text("повестка.pdf")
        await type_and_enter(user, "Пришла повестка, что делать?")
        await expect(user.locator("article.msg.out .file")).to_contain_text("повестка.pdf")
        await press(user, "✅ Отправить")
        await expect(user.get_by_text("Получили — вопрос №1.")).to_be_visible(timeout=WAIT)

        # The ticket's own topic appears in the group; its card and the document are in it.
        topic = group.locator(".topics button", has_text="#1")
        await expect(topic).to_be_visible(timeout=WAIT)
        await topic.click()
        await expect(group.locator("article.msg", has_text="Пришла повестка").first).to_be_visible(
            timeout=WAIT
        )
        # The moderators get the file under a neutral name: its own name could say who.
        document = group.locator("article.msg .file", has_text="document-1-1.pdf")
        await expect(document).to_be_visible(timeout=WAIT)
        await expect(group.get_by_text("повестка.pdf")).to_have_count(0)
        href = await document.get_attribute("href")
        assert href is not None
        downloaded = await page.request.get(url.rstrip("/") + href)
        assert await downloaded.body() == b"%PDF-1.4 a summons, scanned"

        # In the topic a plain message is the answer: no reply needed.
        await type_and_enter(group, "Повестку нужно получить лично; отказаться можно письменно.")
        await expect(
            user.locator("article.msg.from-bot", has_text="Повестку нужно получить лично")
        ).to_be_visible(timeout=WAIT)
        await shot(page, "08-forum-topic-answered")
        assert opened.errors == []
    finally:
        await sandbox.stop()
    print(f"\nforum loop: {time.monotonic() - started:.1f} s")
