"""Who may act on tickets: members of the moderators' group, asked of Telegram and
remembered briefly (getChatMember on every button press would be slow and rate-limited)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

log = logging.getLogger(__name__)

MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})
ADMIN_STATUSES = frozenset({"creator", "administrator"})


class ModeratorDirectory:
    def __init__(
        self, chat_id: int, *, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.chat_id = chat_id
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[int, tuple[str, float]] = {}

    async def _status(self, bot: Bot, user_id: int) -> str | None:
        cached = self._cache.get(user_id)
        now = self.clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member = await bot.get_chat_member(self.chat_id, user_id)
        except TelegramAPIError as error:
            # Unknown means no: a moderator can press again in a moment.
            log.warning("getChatMember failed: %s", type(error).__name__)
            return None
        status = str(member.status.value if hasattr(member.status, "value") else member.status)
        if status == "restricted" and getattr(member, "is_member", False):
            status = "member"
        self._cache[user_id] = (status, now + self.ttl)
        return status

    async def is_member(self, bot: Bot, user_id: int) -> bool:
        return await self._status(bot, user_id) in MEMBER_STATUSES

    async def is_admin(self, bot: Bot, user_id: int) -> bool:
        return await self._status(bot, user_id) in ADMIN_STATUSES
