"""Search in the user's own words: free text outside a dialog, /search <words>, and
"Ask a lawyer" from the results. The text is never logged or stored: only counted."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from aiogram import Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import screens
from bot.callbacks import SearchAsk, Suggested
from bot.content import Library
from bot.handlers.ask import begin
from bot.handlers.common import in_dialog, remember, show_view
from bot.i18n import L10n
from bot.search import SearchIndex, find
from bot.services.desk import Counters
from bot.services.questions import MAX_QUESTION_CHARS, QuestionService


class RecentQueries:
    """Each user's last search text, in this process's memory only and for a few
    minutes, so "Ask a lawyer" can start the draft with it. It is never written to the
    database, a log or a file; a restart forgets it."""

    def __init__(
        self, ttl: float = 900.0, limit: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.limit = limit
        self.clock = clock
        self._texts: OrderedDict[int, tuple[float, str]] = OrderedDict()

    def remember(self, user_id: int, text: str) -> None:
        self._texts[user_id] = (self.clock(), text)
        self._texts.move_to_end(user_id)
        while len(self._texts) > self.limit:
            self._texts.popitem(last=False)

    def take(self, user_id: int) -> str | None:
        found = self._texts.pop(user_id, None)
        if found is None or self.clock() - found[0] > self.ttl:
            return None
        return found[1]

    def forget(self, user_id: int) -> None:
        self._texts.pop(user_id, None)


class FreeText(Filter):
    """A text that is not a command (stickers, voice and the rest go to the fallback)."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.text) and not (message.text or "").startswith("/")


async def _answer(
    message: Message, text: str, state: FSMContext, l10n: L10n, library: Library,
    search: SearchIndex, recent: RecentQueries, counters: Counters,
) -> None:  # fmt: skip
    assert message.from_user is not None
    articles, topics = find(search, library, text, l10n.locale)
    await counters.count("search")
    if articles or topics:
        await counters.count("search-found")
    recent.remember(message.from_user.id, text[:MAX_QUESTION_CHARS])
    view = screens.search_results(l10n, library, articles, topics)
    sent = await message.answer(view.text, reply_markup=view.markup)
    if not await in_dialog(state):
        await remember(state, view, sent.message_id)


async def search_text(
    message: Message, state: FSMContext, l10n: L10n, library: Library, search: SearchIndex,
    recent: RecentQueries, counters: Counters,
) -> None:  # fmt: skip
    """A question typed at the menu (or any screen that takes no text)."""
    assert message.text is not None
    await _answer(message, message.text, state, l10n, library, search, recent, counters)


async def search_command(
    message: Message, command: CommandObject, state: FSMContext, l10n: L10n, library: Library,
    search: SearchIndex, recent: RecentQueries, counters: Counters,
) -> None:  # fmt: skip
    words = (command.args or "").strip()
    if not words:
        await message.answer(l10n.text("search-prompt"))
        return
    await _answer(message, words, state, l10n, library, search, recent, counters)


async def ask_from_search(
    callback: CallbackQuery, state: FSMContext, l10n: L10n, library: Library,
    questions: QuestionService, recent: RecentQueries,
) -> None:  # fmt: skip
    """ "Ask a lawyer": the draft starts with what the user typed (if it is still in
    memory), and its preview asks them to check it before sending."""
    text = recent.take(callback.from_user.id) or ""
    view = await begin(
        callback.from_user.id, None, state, l10n, library, questions, text=text, suggested=True
    )
    await show_view(callback, state, view, is_menu=False)
    if text:
        # The preview lives in the results' message: further messages edit it.
        data = await state.get_data()
        if "draft" in data and callback.message is not None:
            data["draft"]["preview_id"] = callback.message.message_id
            await state.update_data(draft=data["draft"])
    await callback.answer()


async def open_suggestion(
    callback: CallbackQuery, callback_data: Suggested, l10n: L10n, library: Library,
    counters: Counters,
) -> None:  # fmt: skip
    """A suggested article opens as a message of its own: the results, or the draft's
    preview, stay where they are."""
    view = screens.digest_article(l10n, library, callback_data.issue, callback_data.slug)
    if view is None:
        await callback.answer(l10n.text("stale-button"))
        return
    await counters.count("suggestion-opened")
    await callback.answer()
    await callback.bot.send_message(  # type: ignore[union-attr]
        callback.from_user.id, view.text, reply_markup=view.markup
    )


def create_router() -> Router:
    """Before the fallback: free text that nothing else took is a search."""
    router = Router(name=__name__)
    router.message.register(search_command, Command("search"))
    router.callback_query.register(ask_from_search, SearchAsk.filter())
    router.callback_query.register(open_suggestion, Suggested.filter())
    router.message.register(search_text, FreeText())
    return router
