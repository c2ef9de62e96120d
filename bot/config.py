"""Settings from the environment and `.env`, validated once at start."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal

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

    # Questions
    pseudonym_secret: SecretStr | None = None
    max_open_tickets: int = Field(default=3, ge=1)
    flood_messages_per_minute: int = Field(default=6, ge=1)
    protect_answers: bool = False
    moderator_forum: bool = False
    group_messages_per_minute: int = Field(default=20, ge=1)
    outbox_retry_base: float = Field(default=1.0, gt=0)
    outbox_retry_max: float = Field(default=300.0, gt=0)

    # Webhook mode (polling when WEBHOOK_URL is empty)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Inside a container the server must listen on every interface.
    webhook_host: str = "0.0.0.0"  # noqa: S104
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    webhook_path: str = "/telegram/webhook"

    # Privacy
    show_user_identity: bool = False
    retention_days: int = Field(default=90, ge=1)

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

    def pseudonym_key(self) -> bytes:
        """The key of the pseudonyms moderators see. Without PSEUDONYM_SECRET it is
        derived from the token, so rotating the token would rename every reader."""
        if self.pseudonym_secret is not None:
            return self.pseudonym_secret.get_secret_value().encode()
        return hashlib.sha256(b"pseudonym:" + self.bot_token.get_secret_value().encode()).digest()

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
