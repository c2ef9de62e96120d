"""The HTTP session to the Bot API."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from typing import Any, ClassVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile
from aiohttp import FormData

log = logging.getLogger(__name__)


class MultipartSession(AiohttpSession):
    """aiogram's session, but every request is multipart/form-data.

    aiohttp's default for a form without files is urlencoded, which percent-encodes a
    message byte by byte in Python: about 0.25 ms for a 3,000-character Russian text
    (and 2.6x the bytes on the wire). Multipart carries the text as it is; the Bot API
    accepts it for every method.
    """

    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:
        form = FormData(quote_fields=False, default_to_multipart=True)
        files: dict[str, InputFile] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if not prepared:
                continue
            form.add_field(key, prepared)
        for key, file in files.items():
            form.add_field(key, file.read(bot), filename=file.filename or key)
        return form


class KeepResponseTypes(BaseRequestMiddleware):
    """Holds on to `Response[...]` of each method the bot calls.

    aiogram parametrizes the generic `Response` model per request, and pydantic caches
    parametrized models only weakly: once the garbage collector frees one, the next
    request builds it again (a few milliseconds of schema building, under load many
    times a minute). A strong reference per method type, taken on its first call,
    keeps each built once for the life of the process."""

    _kept: ClassVar[dict[type[Any], Any]] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        kind = type(method)
        if kind not in self._kept:
            self._kept[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return await make_request(bot, method)


# Handlers' requests wait out flood control and try again; the outbox and the broadcast
# turn this off for their tasks, because they pause a whole lane on 429 themselves.
retry_on_flood: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "retry_on_flood", default=True
)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """On 429, sleep retry_after and send again (a bounded number of times): a menu
    click during a flood is answered late rather than lost."""

    def __init__(self, attempts: int = 3, longest_wait: float = 60.0) -> None:
        self.attempts = attempts
        self.longest_wait = longest_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        attempt = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                attempt += 1
                if (
                    not retry_on_flood.get()
                    or attempt >= self.attempts
                    or error.retry_after > self.longest_wait
                ):
                    raise
                log.warning(
                    "flood control on %s: retrying in %s s",
                    method.__api_method__,
                    error.retry_after,
                )
                await asyncio.sleep(error.retry_after)


# Telegram refuses an answer to a button press after about 15 seconds ("query is too
# old"). The intake sets this deadline for the update it hands a handler; an answer
# past it (the update waited out a fault, or was replayed after a restart) is not made.
CALLBACK_ANSWER_WINDOW = 12.0
callback_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "callback_deadline", default=None
)


class StaleCallbackMiddleware(BaseRequestMiddleware):
    """Skips answerCallbackQuery past the update's deadline: Telegram would reject it."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        deadline = callback_deadline.get()
        if (
            isinstance(method, AnswerCallbackQuery)
            and deadline is not None
            and time.time() > deadline
        ):
            log.debug("a late answer to a button press was not sent")
            return Response[TelegramType](ok=True, result=True)
        return await make_request(bot, method)
