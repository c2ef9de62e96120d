"""What the bot checks before it takes the first update, so a misconfiguration stops it
at once with one line naming the setting instead of retrying forever:

- BOT_TOKEN that Telegram refuses (401);
- MODERATOR_CHAT_ID that is not a group the bot is in, where it cannot post, or where it
  cannot read the moderators' replies;
- MODERATOR_FORUM=true on a group that is not a forum, or without "Manage topics".

While the Bot API cannot be reached at all, it waits and tries again, saying so.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.types import ChatFullInfo, User
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.config import Settings
from bot.faults import is_transient, why

log = logging.getLogger(__name__)

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=60.0, factor=1.6, jitter=0.1)


class StartupError(Exception):
    """A setting is wrong in a way only Telegram can tell; the message names it."""


class StoppedWaiting(Exception):
    """Asked to stop while the Bot API could not be reached yet: not a fault."""


async def _patiently(what: str, call: object, backoff: Backoff, stopping: asyncio.Event) -> object:
    while True:
        try:
            return await call()  # type: ignore[operator]
        except Exception as error:
            if not is_transient(error):
                raise
            delay = next(backoff)
            log.warning("cannot reach the Bot API for %s (%s); retrying in %.0f s", what,
                        why(error), delay)  # fmt: skip
            try:
                await asyncio.wait_for(stopping.wait(), timeout=delay)
            except TimeoutError:
                continue
            raise StoppedWaiting from None


async def preflight(
    bot: Bot, settings: Settings, stopping: asyncio.Event | None = None,
    backoff: BackoffConfig = BACKOFF,
) -> User:  # fmt: skip
    stopping = stopping or asyncio.Event()
    waiting = Backoff(config=backoff)
    chat_id = settings.moderator_chat_id
    try:
        me = await _patiently("getMe", bot.get_me, waiting, stopping)
    except TelegramUnauthorizedError:
        raise StartupError("setting BOT_TOKEN is refused by Telegram (401 Unauthorized)") from None
    assert isinstance(me, User)
    try:
        chat = await _patiently("getChat", lambda: bot.get_chat(chat_id), waiting, stopping)
        member = await _patiently(
            "getChatMember", lambda: bot.get_chat_member(chat_id, me.id), waiting, stopping
        )
    except (TelegramBadRequest, TelegramForbiddenError) as error:
        raise StartupError(
            f"setting MODERATOR_CHAT_ID: no group {chat_id} with this bot in it "
            f"(Telegram: {error.message})"
        ) from None
    assert isinstance(chat, ChatFullInfo)
    if chat.type not in ("group", "supergroup"):
        raise StartupError(
            f"setting MODERATOR_CHAT_ID: chat {chat_id} is a {chat.type}, not a group"
        )
    status = str(getattr(member, "status", "left"))
    status = getattr(getattr(member, "status", None), "value", status)
    if status in ("left", "kicked"):
        raise StartupError(f"setting MODERATOR_CHAT_ID: the bot is not a member of group {chat_id}")
    if status == "restricted" and not getattr(member, "can_send_messages", False):
        raise StartupError(f"setting MODERATOR_CHAT_ID: the bot may not post in group {chat_id}")
    admin = status in ("administrator", "creator")
    if not admin and not me.can_read_all_group_messages:
        raise StartupError(
            "setting MODERATOR_CHAT_ID: the bot cannot see the moderators' replies there: "
            "make it an administrator of the group, or turn privacy mode off in @BotFather"
        )
    if settings.moderator_forum:
        if not chat.is_forum:
            raise StartupError(
                f"setting MODERATOR_FORUM is true, but group {chat_id} is not a forum "
                "(turn Topics on in the group's settings, or set MODERATOR_FORUM=false)"
            )
        if not (status == "creator" or getattr(member, "can_manage_topics", False)):
            raise StartupError(
                "setting MODERATOR_FORUM is true, but the bot lacks the Manage topics right "
                f"in group {chat_id}"
            )
    return me
