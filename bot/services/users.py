"""Users: first contact, language choice."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from bot.db import Database
from bot.i18n import SUPPORTED_LOCALES, locale_for_language_code
from bot.repositories import UserRepository


class UserService:
    def __init__(
        self,
        db: Database,
        users: UserRepository,
        *,
        cache_size: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.users = users
        self.clock = clock
        # user id -> locale; this process is the only writer of users.locale
        self._locales: OrderedDict[int, str] = OrderedDict()
        self._cache_size = cache_size

    def _remember(self, user_id: int, locale: str) -> None:
        self._locales[user_id] = locale
        self._locales.move_to_end(user_id)
        if len(self._locales) > self._cache_size:
            self._locales.popitem(last=False)

    async def locale_of(self, user_id: int, language_code: str | None) -> str:
        """The user's language; at first contact it is taken from Telegram and stored."""
        locale = self._locales.get(user_id)
        if locale is not None:
            self._locales.move_to_end(user_id)
            return locale
        record = await self.users.get(user_id)
        if record is None:
            async with self.db.transaction():
                record = await self.users.insert_if_missing(
                    user_id, locale_for_language_code(language_code), int(self.clock())
                )
        self._remember(user_id, record.locale)
        return record.locale

    async def set_locale(self, user_id: int, locale: str) -> None:
        if locale not in SUPPORTED_LOCALES:
            raise ValueError(f"unsupported locale {locale!r}")
        async with self.db.transaction():
            await self.users.set_locale(user_id, locale)
        self._remember(user_id, locale)

    def forget_cached(self, user_id: int) -> None:
        self._locales.pop(user_id, None)
