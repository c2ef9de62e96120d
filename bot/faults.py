"""Which failures are worth trying again: the database busy, locked or full, the network,
Telegram's 5xx and flood control. Everything else is a bug or a refusal, and trying
again would change nothing."""

from __future__ import annotations

import asyncio

import aiohttp
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from bot.db import is_transient_db_error

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    TelegramNetworkError,
    TelegramServerError,
    TelegramRetryAfter,
    TimeoutError,
    asyncio.TimeoutError,
    aiohttp.ClientError,
    ConnectionError,
)


def is_transient(error: BaseException) -> bool:
    return isinstance(error, _TRANSIENT_TYPES) or is_transient_db_error(error)


def why(error: BaseException) -> str:
    """A short reason for a log line: the type only (a message may carry user text)."""
    return type(error).__name__
