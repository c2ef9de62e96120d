"""The router tree: scope filters on the parents, one module per feature."""

from __future__ import annotations

from aiogram import Router

from bot.filters import PrivateChat
from bot.handlers import errors, fallback, menu


def create_root_router() -> Router:
    root = Router(name="root")

    private = Router(name="private")
    private.message.filter(PrivateChat())
    private.edited_message.filter(PrivateChat())
    private.callback_query.filter(PrivateChat())
    # Order matters: fallback catches everything the feature routers did not take.
    private.include_routers(menu.create_router(), fallback.create_router())

    root.include_routers(private, errors.create_router())
    return root
