"""Subscribing to the digest: the Subscription screen, /subscribe, /unsubscribe, and the
Unsubscribe button under every digest message."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
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


async def subscribe_command(
    message: Message, state: FSMContext, l10n: L10n, subscriptions: SubscriptionService
) -> None:
    assert message.from_user is not None
    await subscriptions.subscribe(message.from_user.id)
    await message.answer(l10n.text("subscription-done"))
    await send_view(message, state, screens.subscription(l10n, True))


async def unsubscribe_command(
    message: Message, state: FSMContext, l10n: L10n, subscriptions: SubscriptionService
) -> None:
    assert message.from_user is not None
    await subscriptions.unsubscribe(message.from_user.id)
    await message.answer(l10n.text("subscription-stopped"))
    await send_view(message, state, screens.subscription(l10n, False))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(subscription_screen, Nav.filter(F.screen == Screen.SUBSCRIPTION))
    router.callback_query.register(subscription_button, SubscriptionAction.filter())
    router.message.register(subscribe_command, Command("subscribe"))
    router.message.register(unsubscribe_command, Command("unsubscribe"))
    return router
