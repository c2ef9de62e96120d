"""The HTTP session to the Bot API."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.types import InputFile
from aiohttp import FormData


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
