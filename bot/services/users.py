"""Users: first contact, language choice, and the pseudonym moderators know them by."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from bot.db import Database
from bot.i18n import SUPPORTED_LOCALES, locale_for_language_code
from bot.repositories import UserRepository

# A pseudonym is a word and a number ("Кедр-417"): short enough to say on a call. The
# number grows a digit whenever a few random picks collide, so the space never runs out.
PSEUDONYM_TRIES_PER_LENGTH = 8


class UserService:
    def __init__(
        self,
        db: Database,
        users: UserRepository,
        *,
        pseudonym_words: Sequence[str],
        cache_size: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not pseudonym_words:
            raise ValueError("pseudonyms need at least one word")
        self.db = db
        self.users = users
        self.words = tuple(pseudonym_words)
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

    def _candidate(self, digits: int) -> str:
        word = self.words[secrets.randbelow(len(self.words))]
        low = 10 ** (digits - 1)
        return f"{word}-{low + secrets.randbelow(9 * low)}"

    async def ensure_pseudonym(self, user_id: int) -> str:
        """The user's pseudonym, picked at random the first time (in the caller's
        transaction, if any): not derived from the Telegram id, unique in the database,
        shown unchanged on every card, and gone with /forget."""
        async with self.db.transaction():
            digits = 3
            while True:
                for _ in range(PSEUDONYM_TRIES_PER_LENGTH):
                    # One statement in the common case: it keeps a pseudonym the user
                    # has, or gives them this one.
                    pseudonym = await self.users.take_pseudonym(user_id, self._candidate(digits))
                    if pseudonym is not None:
                        return pseudonym
                    if await self.users.get(user_id) is None:
                        raise LookupError("no such user")
                digits += 1

    def forget_cached(self, user_id: int) -> None:
        self._locales.pop(user_id, None)
