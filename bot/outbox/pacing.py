"""The moderators' group's budget: about 20 messages a minute, the way Telegram counts.

Every request that makes, changes or removes a message in the group takes a slot —
cards, parts, card edits, redactions, broadcast progress and the replies to moderators'
commands alike — so none of them can draw a 429 that would pause the whole lane. The
background (the outbox, broadcast progress) leaves a few slots to the moderators, whose
commands are answered first.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, SendMediaGroup, TelegramMethod
from aiogram.methods.base import TelegramType


class Pace(Enum):
    INTERACTIVE = "interactive"  # a handler answering a moderator: may use every slot
    BACKGROUND = "background"  # the outbox: leaves the reserve free
    OPTIONAL = "optional"  # a courtesy (progress): skipped when no slot is free now


group_pace: contextvars.ContextVar[Pace] = contextvars.ContextVar(
    "group_pace", default=Pace.INTERACTIVE
)


class PaceSkipped(Exception):
    """An optional request found the group's budget spent and was not made."""


# Bot API methods that make, change or remove a message or topic in a chat.
_PACED_PREFIXES = ("send", "copy", "forward", "edit", "delete", "stop")
_PACED_FORUM = frozenset(
    {"createForumTopic", "editForumTopic", "closeForumTopic", "reopenForumTopic",
     "deleteForumTopic"}
)  # fmt: skip
_NOT_PACED = frozenset({"sendChatAction", "deleteWebhook", "deleteMyCommands"})


def is_paced(method: TelegramMethod[Any]) -> bool:
    name = method.__api_method__
    if name in _NOT_PACED:
        return False
    return name in _PACED_FORUM or name.startswith(_PACED_PREFIXES)


class GroupPacer:
    """At most `per_minute` slots in any 60 seconds (a sliding minute)."""

    def __init__(
        self,
        per_minute: int,
        *,
        reserve: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.reserve = max(1, per_minute // 5) if reserve is None else reserve
        self.clock = clock
        self.sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _used(self, now: float) -> int:
        while self.sent and now - self.sent[0] >= 60.0:
            self.sent.popleft()
        return len(self.sent)

    def delay(self, count: int = 1, pace: Pace = Pace.INTERACTIVE) -> float:
        """Seconds until `count` slots are free for this kind of request."""
        now = self.clock()
        limit = self.per_minute - (self.reserve if pace is not Pace.INTERACTIVE else 0)
        limit = max(limit, 1)
        count = min(count, limit)
        used = self._used(now)
        if used + count <= limit:
            return 0.0
        # Wait until enough of the oldest slots are a minute old.
        oldest_needed = self.sent[used + count - limit - 1]
        return max(0.0, oldest_needed + 60.0 - now)

    async def acquire(self, count: int = 1, pace: Pace = Pace.INTERACTIVE) -> None:
        async with self._lock:
            while (wait := self.delay(count, pace)) > 0:
                if pace is Pace.OPTIONAL:
                    raise PaceSkipped
                await asyncio.sleep(wait)
            now = self.clock()
            self.sent.extend([now] * count)


class GroupPacing(BaseRequestMiddleware):
    """Takes the group's slots for every paced request to the moderators' chat."""

    def __init__(self, pacer: GroupPacer, chat_id: int) -> None:
        self.pacer = pacer
        self.chat_id = chat_id

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if getattr(method, "chat_id", None) == self.chat_id and is_paced(method):
            count = len(method.media) if isinstance(method, SendMediaGroup) else 1
            await self.pacer.acquire(count, group_pace.get())
        return await make_request(bot, method)
