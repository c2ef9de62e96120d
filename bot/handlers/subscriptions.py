"""Subscribing to the digest: the Subscription screen, /subscribe, /unsubscribe, and the
Unsubscribe button under every digest message."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import screens
from bot.callbacks import Nav, Screen, SubscriptionAction
from bot.handlers.common import send_view, show_view
from bot.i18n import L10n
from bot.services.subscriptions import SubscriptionService


async def subscription_screen(
    callback: CallbackQuery, state: FSMContext, l10n: L10n, subscriptions: SubscriptionService
) -> None:
    subscribed = await subscriptions.is_subscribed(callback.from_user.id)
    await show_view(callback, state, screens.subscription(l10n, subscribed))
    await callback.answer()


async def subscription_button(
    callback: CallbackQuery,
    callback_data: SubscriptionAction,
    state: FSMContext,
    l10n: L10n,
    subscriptions: SubscriptionService,
) -> None:
    user_id = callback.from_user.id
    match callback_data.action:
        case "on":
            await subscriptions.subscribe(user_id)
            await show_view(callback, state, screens.subscription(l10n, True))
            await callback.answer(l10n.text("subscription-done"))
        case "off":
            await subscriptions.unsubscribe(user_id)
            await show_view(callback, state, screens.subscription(l10n, False))
            await callback.answer(l10n.text("subscription-stopped"))
        case _:
            # "stop" under a digest message: keep the issue on screen, just unsubscribe.
            await subscriptions.unsubscribe(user_id)
            await callback.answer(l10n.text("subscription-stopped-digest"), show_alert=True)


async def subscription_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    l10n: L10n,
    subscriptions: SubscriptionService,
) -> None:
    """/subscribe and /unsubscribe."""
    assert message.from_user is not None
    subscribe = command.command == "subscribe"
    if subscribe:
        await subscriptions.subscribe(message.from_user.id)
    else:
        await subscriptions.unsubscribe(message.from_user.id)
    await message.answer(l10n.text("subscription-done" if subscribe else "subscription-stopped"))
    await send_view(message, state, screens.subscription(l10n, subscribe))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(subscription_screen, Nav.filter(F.screen == Screen.SUBSCRIPTION))
    router.callback_query.register(subscription_button, SubscriptionAction.filter())
    router.message.register(subscription_command, Command("subscribe", "unsubscribe"))
    return router
