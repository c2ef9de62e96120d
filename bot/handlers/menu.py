"""The menus: /start (with deep links), /help, /language and every navigation button."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import screens
from bot.callbacks import ArticleView, DigestArticle, Nav, Screen, SetLanguage, TopicCard
from bot.content import Library
from bot.handlers.common import current_view, in_dialog, remember, send_view, show_view
from bot.i18n import SUPPORTED_LOCALES, L10n, Localizations
from bot.services.users import UserService

DEEP_LINK_TOPIC = "topic_"
# The screens this module draws; Ask, Subscription and My questions belong to their
# features' routers.
MENU_SCREENS = frozenset(
    {Screen.HOME, Screen.TOPICS, Screen.LATEST, Screen.LANGUAGE, Screen.ABOUT, Screen.HELP}
)


async def start(
    message: Message, command: CommandObject, state: FSMContext, l10n: L10n, library: Library
) -> None:
    args = (command.args or "").strip()
    if args.startswith(DEEP_LINK_TOPIC):
        view = screens.topic_card(l10n, library, args.removeprefix(DEEP_LINK_TOPIC))
        if view is not None:
            await send_view(message, state, view)
            return
    if args:
        await message.answer(l10n.text("deep-link-unknown"))
    await send_view(message, state, screens.home(l10n))


async def help_command(message: Message, state: FSMContext, l10n: L10n) -> None:
    view = screens.help_screen(l10n)
    if await in_dialog(state):
        await message.answer(view.text)  # the draft stays open
        return
    await send_view(message, state, view)


async def language_command(message: Message, state: FSMContext, l10n: L10n) -> None:
    view = screens.language(l10n)
    if await in_dialog(state):
        await message.answer(view.text, reply_markup=view.markup)
        return
    await send_view(message, state, view)


async def navigate(
    callback: CallbackQuery, callback_data: Nav, state: FSMContext, l10n: L10n, library: Library
) -> None:
    view = screens.render(callback_data, l10n, library) or screens.home(l10n)
    await show_view(callback, state, view)
    await callback.answer()


async def open_item(
    callback: CallbackQuery,
    callback_data: TopicCard | ArticleView,
    state: FSMContext,
    l10n: L10n,
    library: Library,
) -> None:
    """A topic card or an article; one that no longer exists gets a short answer and
    the list of topics (for a topic) or the screen the user is on (for an article)."""
    view = screens.render(callback_data, l10n, library)
    if view is None:
        await callback.answer(l10n.text("stale-button"))
        if isinstance(callback_data, TopicCard):
            fallback = screens.topics(l10n, library)
        else:
            fallback = await current_view(state, l10n, library)
        await show_view(callback, state, fallback)
        return
    await show_view(callback, state, view)
    await callback.answer()


async def digest_article(
    callback: CallbackQuery, callback_data: DigestArticle, state: FSMContext, l10n: L10n,
    library: Library,
) -> None:  # fmt: skip
    """An article button under a digest issue (or a suggestion): the article comes as a
    new message; the message with the button stays as it is."""
    view = screens.digest_article(l10n, library, callback_data.issue, callback_data.slug)
    if view is None:
        await callback.answer(l10n.text("stale-button"))
        return
    await callback.answer()
    sent = await callback.bot.send_message(  # type: ignore[union-attr]
        callback.from_user.id, view.text, reply_markup=view.markup
    )
    if not await in_dialog(state):
        await remember(state, view, sent.message_id)


async def set_language(
    callback: CallbackQuery,
    callback_data: SetLanguage,
    state: FSMContext,
    l10n: L10n,
    library: Library,
    localizations: Localizations,
    users: UserService,
) -> None:
    if callback_data.locale not in SUPPORTED_LOCALES:
        await callback.answer(l10n.text("stale-button"))
        await show_view(callback, state, await current_view(state, l10n, library))
        return
    await users.set_locale(callback.from_user.id, callback_data.locale)
    chosen = localizations.get(callback_data.locale)
    keep_dialog = await in_dialog(state)
    await show_view(callback, state, screens.language(chosen), is_menu=not keep_dialog)
    await callback.answer(chosen.text("language-changed"))


def create_router() -> Router:
    # Routers are built per Dispatcher (not at import) so tests and benchmarks can build
    # several dispatchers in one process.
    router = Router(name=__name__)
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.message.register(language_command, Command("language"))
    router.callback_query.register(navigate, Nav.filter(F.screen.in_(MENU_SCREENS)))
    router.callback_query.register(open_item, TopicCard.filter())
    router.callback_query.register(open_item, ArticleView.filter())
    router.callback_query.register(digest_article, DigestArticle.filter())
    router.callback_query.register(set_language, SetLanguage.filter())
    return router
