"""The router tree: scope filters on the parents, one module per feature."""

from __future__ import annotations

from aiogram import Router

from bot.filters import ChatIs, PrivateChat
from bot.handlers import (
    ask,
    desk,
    errors,
    fallback,
    menu,
    moderation,
    privacy,
    publishing,
    search,
    subscriptions,
    tickets,
)


def create_root_router(moderator_chat_id: int) -> Router:
    root = Router(name="root")

    private = Router(name="private")
    private.message.filter(PrivateChat())
    private.edited_message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    # Order matters:
    # - the menus first: most updates are menu clicks and commands, and aiogram tries
    #   routers in order (each one tried costs filter checks); their Nav filter leaves
    #   the screens of the other features to those features;
    # - replies to the bot's messages of a ticket add to it even while a new draft is
    #   open, so tickets come before ask, whose draft handler takes every other message
    #   in its states;
    # - privacy before ask: /forget and /privacy work in the middle of a draft;
    # - moderator commands are refused in private chats before the fallback;
    # - search takes the free text nothing else took (at the menu, on any screen that
    #   takes no text); fallback catches the rest (stickers, voice, unknown commands).
    private.include_routers(
        menu.create_router(),
        tickets.create_router(),
        subscriptions.create_router(),
        privacy.create_router(),
        ask.create_router(),
        desk.create_private_refusals(),
        search.create_router(),
        fallback.create_router(),
    )

    moderators = Router(name="moderators")
    moderators.message.filter(ChatIs(moderator_chat_id))
    moderators.edited_message.filter(ChatIs(moderator_chat_id))
    moderators.callback_query.filter(ChatIs(moderator_chat_id))
    # Commands first, then answers (a reply that is a command is not an answer).
    moderators.include_routers(
        desk.create_router(), publishing.create_router(), moderation.create_router()
    )

    root.include_routers(private, moderators, errors.create_router())
    return root
