"""Starting the sandbox: the emulator, the world in it, the real bot, the page's server.

Nothing here changes how the bot runs: it gets Settings (built in code, from no
environment and no .env), the same `open_app`, the same start-up (`runner.services`)
and the same long polling (`runner.create_poller`), with TELEGRAM_API_URL pointing at
the emulator on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.config import BUNDLED_DIR, PACKAGE_DIR, Settings, resource_dir
from bot.content import ContentError
from bot.emulator import FakeTelegram
from bot.factory import open_app
from bot.runner import create_poller, serve

log = logging.getLogger(__name__)

BOT_ID = 4_242_001
BOT_USERNAME = "consult_sandbox_bot"
GROUP_ID = -1_001_000_000_001
GROUP_TITLE = "Moderators (sandbox)"
# The emulator's rule of thumb for the sandbox: Telegram's bulk and group limits.
MESSAGES_PER_SECOND = 30
GROUP_MESSAGES_PER_MINUTE = 20
SAVE_EVERY = 2.0


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    language_code: str
    username: str | None = None
    role: str = "user"  # user | administrator | member


USERS = (
    Person(5001, "Иван", "ru", "ivan_sandbox"),
    Person(5002, "Мария", "ru", None),
    Person(5003, "Alex", "en", "alex_sandbox"),
)
MODERATORS = (
    Person(7001, "Anna", "en", "anna_lawyer", role="administrator"),
    Person(7002, "Борис", "ru", None, role="member"),
)


class SandboxSettings(Settings):
    """The bot's Settings, taken only from what the sandbox passes: no environment
    variable and no .env file can point the sandbox at a real token or database."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 8080
    data: Path = Path("sandbox-data")
    reset: bool = False
    forum: bool = False
    # The content and texts the bot would serve here (CONTENT_DIR, LOCALES_DIR, as for
    # every command); None: the ones that come with the bot.
    content: Path | None = None
    locales: Path | None = None


def prepare_data(options: Options) -> Path:
    """The sandbox's own folder: its database, the emulator's state, and a copy of the
    content (so an uploaded digest never lands in the checkout's data/)."""
    data = options.data.resolve()
    if options.reset and data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    content = data / "content"
    if not content.exists():
        source = options.content or shipped_content()
        content.mkdir()
        for path in source.glob("*.yaml"):  # topics, canned answers, search words...
            shutil.copyfile(path, content / path.name)
        shutil.copytree(source / "digests", content / "digests")
    return data


def shipped_content() -> Path:
    """The content that comes with the bot: the checkout's data/ or the installed copy
    (a folder that merely happens to be called data/ does not count)."""
    for candidate in (resource_dir("data"), PACKAGE_DIR.parent / "data", BUNDLED_DIR / "data"):
        if (candidate / "topics.yaml").is_file() and (candidate / "digests").is_dir():
            return candidate
    raise ContentError(["no content: neither data/topics.yaml nor the installed copy was found"])


def sandbox_settings(
    data: Path, api_url: str, *, forum: bool, locales: Path | None = None
) -> Settings:
    return SandboxSettings(
        bot_token=f"{BOT_ID}:sandbox-token-not-a-real-one",
        moderator_chat_id=GROUP_ID,
        telegram_api_url=api_url,
        database_path=data / "sandbox.sqlite3",
        content_dir=data / "content",
        locales_dir=locales or resource_dir("locales"),
        moderator_forum=forum,
        polling_timeout=25,
        broadcast_progress_every=1.0,
        outbox_retry_base=0.5,
    )


def build_world(emulator: FakeTelegram, *, forum: bool) -> None:
    """The group, its moderators (members and admins, so buttons and /publish work) and
    the users, as Telegram would describe them."""
    emulator.chat_info[GROUP_ID] = {"title": GROUP_TITLE, "is_forum": forum}
    for person in (*USERS, *MODERATORS):
        emulator.set_user(
            person.id,
            person.first_name,
            username=person.username,
            language_code=person.language_code,
        )
    for moderator in MODERATORS:
        emulator.set_member(GROUP_ID, moderator.id, moderator.role)


class StateFile:
    """The emulator's chats on disk, so a restart keeps them beside the bot's database."""

    def __init__(self, data: Path, emulator: FakeTelegram) -> None:
        self.path = data / "emulator.json"
        self.files = data / "files"
        self.emulator = emulator
        self._saved: str | None = None

    def load(self) -> bool:
        if not self.path.exists():
            return False
        state = json.loads(self.path.read_text(encoding="utf-8"))
        self.emulator.restore(state, self._content)
        self._saved = self.path.read_text(encoding="utf-8")
        return True

    def _content(self, file_id: str) -> bytes | None:
        path = self.files / file_id
        return path.read_bytes() if path.exists() else None

    def save(self) -> None:
        self.files.mkdir(exist_ok=True)
        for stored in self.emulator.files.files.values():
            path = self.files / stored.file_id
            if stored.content is not None and not path.exists():
                path.write_bytes(stored.content)
        text = json.dumps(self.emulator.snapshot(), ensure_ascii=False)
        if text != self._saved:
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(self.path)
            self._saved = text

    async def keep_saving(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), SAVE_EVERY)
            try:
                self.save()
            except OSError as error:
                log.warning("cannot save the sandbox state: %s", error)


class Sandbox:
    """The emulator, the world in it, the real bot and the page's server, as one:
    `async with Sandbox(options) as sandbox:` then `sandbox.url` is the page."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.data = prepare_data(options)
        self.emulator = FakeTelegram(bot_id=BOT_ID, bot_username=BOT_USERNAME, bot_name="Consult")
        self.state = StateFile(self.data, self.emulator)
        self.url = ""
        self.stopping = asyncio.Event()
        self.bot: asyncio.Task[None] | None = None
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> Sandbox:
        from bot.sandbox.web import SandboxWeb  # the page's server, beside the bot

        emulator = self.emulator
        if not self.state.load():
            build_world(emulator, forum=self.options.forum)
        # The forum switch of this start wins over the saved state.
        emulator.chat_info.setdefault(GROUP_ID, {})["is_forum"] = self.options.forum
        emulator.set_rate_limit(
            per_second=MESSAGES_PER_SECOND, per_group_per_minute=GROUP_MESSAGES_PER_MINUTE
        )
        await emulator.start()
        self._stack.push_async_callback(emulator.stop)
        self._stack.callback(self.state.save)
        try:
            settings = sandbox_settings(
                self.data, emulator.url, forum=self.options.forum, locales=self.options.locales
            )
            self.app = await self._stack.enter_async_context(open_app(settings))
            self.web = SandboxWeb(emulator, self.app, forum=self.options.forum)
            self.url = await self.web.start(self.options.host, self.options.port)
            self._stack.push_async_callback(self.web.stop)
            poller = create_poller(self.app)
            self.bot = asyncio.create_task(serve(self.app, poller), name="bot")
            saver = asyncio.create_task(self.state.keep_saving(self.stopping), name="state")

            async def stop_bot() -> None:
                self.stopping.set()
                poller.stop()
                assert self.bot is not None
                await asyncio.gather(self.bot, saver, return_exceptions=True)

            self._stack.push_async_callback(stop_bot)
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    async def wait(self) -> None:
        """Until stop() or the bot's end (an error in it is raised here)."""
        assert self.bot is not None
        waiter = asyncio.create_task(self.stopping.wait())
        await asyncio.wait({self.bot, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self.bot.done() and not self.bot.cancelled() and self.bot.exception() is not None:
            raise self.bot.exception()  # type: ignore[misc]

    def stop(self) -> None:
        self.stopping.set()


async def run_sandbox(options: Options, *, announce: Callable[[str], object] = print) -> None:
    """Until SIGINT/SIGTERM (or the bot stops): the page, the emulator and the bot."""
    loop = asyncio.get_running_loop()
    async with Sandbox(options) as sandbox:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, sandbox.stop)
        try:
            announce(f"Sandbox: {sandbox.url}")
            if options.host not in {"127.0.0.1", "localhost", "::1"}:
                print(
                    f"sandbox: listening on {options.host}: anyone who can reach it can use it",
                    file=sys.stderr,
                )
            await sandbox.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
