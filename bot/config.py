"""Settings from the environment and `.env`, validated once at start."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Locale = Literal["ru", "en"]

PACKAGE_DIR = Path(__file__).resolve().parent
# Where a non-editable install keeps its copy of locales/ and data/ (see pyproject).
BUNDLED_DIR = PACKAGE_DIR / "_bundled"


def resource_dir(name: str) -> Path:
    """`./name` when run from a checkout, else the copy bundled into the wheel."""
    for candidate in (Path.cwd() / name, PACKAGE_DIR.parent / name, BUNDLED_DIR / name):
        if candidate.is_dir():
            return candidate
    return Path.cwd() / name


class ContentSettings(BaseSettings):
    """Where the content, the texts and the database are: all that `check`, `publish
    --dry-run` and the sandbox need, read from the same environment as the bot but
    without requiring its token."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    database_path: Path = Field(default_factory=lambda: Path("data") / "consult-bot.sqlite3")
    default_locale: Locale = "ru"
    content_dir: Path = Field(default_factory=lambda: resource_dir("data"))
    locales_dir: Path = Field(default_factory=lambda: resource_dir("locales"))


class Settings(ContentSettings):
    """Everything the running bot needs."""

    bot_token: SecretStr
    moderator_chat_id: int
    telegram_api_url: str = "https://api.telegram.org"
    # How long a request to the Bot API may take before it counts as a network error.
    request_timeout: float = Field(default=60.0, gt=0)
    polling_timeout: int = Field(default=30, ge=0, le=50)

    # The moderators' group speaks this language (cards, commands, errors).
    group_locale: Locale = "ru"

    # Questions
    max_open_tickets: int = Field(default=3, ge=1)
    # New questions one user may send in 24 hours (closing one does not give it back).
    questions_per_day: int = Field(default=5, ge=1)
    flood_messages_per_minute: int = Field(default=6, ge=1)
    # Updates one user may send a minute before the rest are dropped unread (they are
    # told once): a flood from one account must not slow anyone else down.
    user_updates_per_minute: int = Field(default=30, ge=1)
    protect_answers: bool = False
    moderator_forum: bool = False
    group_messages_per_minute: int = Field(default=20, ge=1)
    outbox_retry_base: float = Field(default=1.0, gt=0)
    outbox_retry_max: float = Field(default=300.0, gt=0)
    remind_unclaimed_hours: float = Field(default=24.0, gt=0)
    remind_unanswered_hours: float = Field(default=48.0, gt=0)

    # Webhook mode (polling when WEBHOOK_URL is empty)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Inside a container the server must listen on every interface.
    webhook_host: str = "0.0.0.0"  # noqa: S104
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    # Empty: the path of WEBHOOK_URL (so the bot serves where Telegram delivers).
    webhook_path: str = ""

    # Privacy
    show_user_identity: bool = False
    retention_days: int = Field(default=90, ge=1)
    # Abandoned drafts and dialog state (the screen a user was on) are deleted after this.
    dialog_ttl_days: float = Field(default=3.0, gt=0)

    # Broadcasts
    broadcast_rate: float = Field(default=25.0, gt=0)
    broadcast_concurrency: int = Field(default=16, ge=1)
    broadcast_retry_base: float = Field(default=2.0, gt=0)
    broadcast_progress_every: float = Field(default=5.0, gt=0)
    # How long a process holds a broadcast without renewing; after a crash the next
    # process takes over once it has expired.
    broadcast_lease: float = Field(default=30.0, ge=1)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{16,256}", value.get_secret_value()
        ):
            raise ValueError("must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        return self

    @property
    def webhook_listen_path(self) -> str:
        """Where the webhook server takes updates: WEBHOOK_PATH, or the path of
        WEBHOOK_URL, so a URL ending in /hook is served at /hook."""
        if self.webhook_path:
            return self.webhook_path
        path = urlsplit(self.webhook_url or "").path
        return path if path and path != "/" else "/telegram/webhook"

    @field_validator("moderator_chat_id")
    @classmethod
    def _group_id(cls, value: int) -> int:
        # Groups and supergroups have negative ids; a positive one is a person.
        if value >= 0:
            raise ValueError("must be the id of a group (a negative number, like -100123…)")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path_shape(cls, value: str) -> str:
        if value and not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        # "<bot id>:<secret>"; checked here so a typo stops the bot before any request.
        bot_id, _, secret = value.get_secret_value().partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("must look like 123456:ABC-DEF (as given by @BotFather)")
        return value


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming it."""


def describe_validation_error(error: ValidationError) -> str:
    first = error.errors()[0]
    if not first["loc"]:  # a rule across settings: its message names them
        return "setting " + str(first["msg"]).removeprefix("Value error, ")
    name = ".".join(str(part) for part in first["loc"]).upper()
    if first["type"] == "missing":
        return f"setting {name} is required but not set"
    # Never echo the input: it may be the token.
    return f"setting {name} is invalid: {first['msg']}"


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None


def load_content_settings(**overrides: object) -> ContentSettings:
    """The paths only: for commands that read content and texts but talk to no one."""
    try:
        return ContentSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
