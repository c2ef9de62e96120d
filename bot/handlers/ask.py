"""Asking a question: the safety reminder, the draft, its one preview, and Send."""

from __future__ import annotations

import asyncio
import contextlib
import secrets

from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import screens
from bot.callbacks import AskAbout, DraftAction, Nav, Screen
from bot.content import Library
from bot.handlers.common import incoming_of, send_view, show_view
from bot.handlers.fallback import LooksLikeCommand
from bot.i18n import L10n
from bot.search import SearchIndex, find
from bot.services.desk import Counters
from bot.services.questions import (
    MAX_ATTACHMENTS,
    MAX_QUESTION_CHARS,
    Added,
    Draft,
    Incoming,
    QuestionService,
    Refusal,
    Refused,
)
from bot.states import AskQuestion

# The items of an album arrive as separate messages, maybe in separate batches: the
# preview is redrawn once they stop coming, not once per item.
ALBUM_SETTLE = 1.0
_REFUSALS = {
    Refusal.TOO_MANY_OPEN: "ask-too-many",
    Refusal.DAILY_BUDGET: "ask-daily-budget",
    Refusal.BANNED: "banned-notice",
}


def refusal_view(l10n: L10n, questions: QuestionService, refused: Refused) -> screens.View:
    key = _REFUSALS.get(refused.reason, "ask-too-many")
    limit = (
        questions.questions_per_day
        if refused.reason is Refusal.DAILY_BUDGET
        else questions.max_open_tickets
    )
    return screens.ask_refused(l10n, key, limit)


async def begin(
    user_id: int, topic: str | None, state: FSMContext, l10n: L10n, library: Library,
    questions: QuestionService, text: str = "", *, suggested: bool = False,
) -> screens.View:  # fmt: skip
    """Start a draft (optionally with a text already in it, e.g. a search), or explain
    why the user cannot ask now."""
    try:
        await questions.check_can_ask(user_id)
    except Refused as refused:
        return refusal_view(l10n, questions, refused)
    found = library.topic(topic) if topic else None
    draft = Draft(
        key=secrets.token_hex(6), topic=found.slug if found else None, text=text,
        suggested=suggested,
    )  # fmt: skip
    await state.set_state(AskQuestion.preview if text else AskQuestion.writing)
    await state.set_data({"draft": draft.to_dict()})
    if text:
        return screens.ask_preview(l10n, draft, [])
    return screens.ask_intro(l10n, draft.key, found.name.get(l10n.locale) if found else None)


async def ask_button(
    callback: CallbackQuery, state: FSMContext, l10n: L10n, library: Library,
    questions: QuestionService, callback_data: AskAbout | None = None,
) -> None:  # fmt: skip
    topic = callback_data.topic if isinstance(callback_data, AskAbout) else None
    view = await begin(callback.from_user.id, topic, state, l10n, library, questions)
    await show_view(callback, state, view, is_menu=False)
    await callback.answer()


async def ask_command(
    message: Message, state: FSMContext, l10n: L10n, library: Library, questions: QuestionService
) -> None:
    assert message.from_user is not None
    view = await begin(message.from_user.id, None, state, l10n, library, questions)
    await message.answer(view.text, reply_markup=view.markup)


async def accepted(message: Message, l10n: L10n, questions: QuestionService) -> Incoming | None:
    """What a user's message brings to a question, or None after telling them why not
    (over the flood limit, or a sticker, location, poll...)."""
    assert message.from_user is not None
    if not questions.take_flood_slot(message.from_user.id):
        await message.answer(l10n.text("ask-flood"))
        return None
    incoming = incoming_of(message)
    if incoming is None:
        await message.answer(l10n.text("ask-text-please"))
    return incoming


def _notes(l10n: L10n, outcomes: list[Added]) -> list[str]:
    notes = []
    if Added.TOO_MANY_FILES in outcomes:
        notes.append(l10n.text("ask-too-many-files", limit=MAX_ATTACHMENTS))
    if Added.TOO_BIG in outcomes:
        notes.append(l10n.text("ask-file-too-big"))
    return notes


async def draft_message(
    message: Message, state: FSMContext, l10n: L10n, questions: QuestionService,
    bot: Bot, dispatcher: Dispatcher, library: Library, search: SearchIndex,
) -> None:  # fmt: skip
    """Every message while writing: add it to the draft and update the one preview."""
    data = await state.get_data()
    if "draft" not in data:
        await state.clear()
        return
    draft = Draft.from_dict(data["draft"])
    # An album item over the flood limit would be lost: albums are counted as one.
    if message.media_group_id is not None and data.get("album") == message.media_group_id:
        incoming = incoming_of(message)
        if incoming is None:
            return
    else:
        incoming = await accepted(message, l10n, questions)
        if incoming is None:
            return
    outcomes = draft.take(incoming)
    if outcomes == [Added.DUPLICATE] or outcomes == [Added.REST_OF_REFUSED]:
        return
    if Added.TOO_LONG in outcomes:
        await message.answer(l10n.text("ask-too-long", limit=MAX_QUESTION_CHARS))
    notes = _notes(l10n, outcomes)
    if not notes and not {Added.TEXT, Added.FILE} & set(outcomes):
        # Nothing was added: the preview shows the draft as it is (a redraw would be
        # refused by Telegram as "not modified"); only the paste's state is kept.
        await state.update_data(draft=draft.to_dict())
        return
    await state.set_state(AskQuestion.preview)
    if message.media_group_id is not None and draft.preview_id is not None:
        # The rest of the album is on its way: one redraw when it stops coming.
        draft.pending += [o for o in outcomes if o in (Added.TOO_MANY_FILES, Added.TOO_BIG)]
        await state.update_data(draft=draft.to_dict(), album=message.media_group_id)
        _refresh_later(dispatcher, bot, state, l10n, draft.key, library, search)
        return
    await state.update_data(draft=draft.to_dict(), album=message.media_group_id)
    await _show_preview(message.chat.id, bot, state, l10n, draft, notes, library, search)


async def _show_preview(
    chat_id: int, bot: Bot, state: FSMContext, l10n: L10n, draft: Draft, notes: list[str],
    library: Library, search: SearchIndex,
) -> None:  # fmt: skip
    # What the digest may already answer, before a lawyer's time is spent on it.
    suggestions = find(search, library, draft.text, l10n.locale)[0] if draft.text else []
    draft.suggested = draft.suggested or bool(suggestions)
    notes = _notes(l10n, [Added(o) for o in draft.pending]) + notes
    draft.pending = []
    view = screens.ask_preview(l10n, draft, notes, suggestions)
    if draft.preview_id is not None and view.digest == draft.drawn:
        await state.update_data(draft=draft.to_dict())
        return  # it shows this already: Telegram would refuse the edit
    shown = False
    if draft.preview_id is not None:
        try:
            await bot.edit_message_text(
                text=view.text, chat_id=chat_id, message_id=draft.preview_id,
                reply_markup=view.markup,
            )  # fmt: skip
            shown = True
        except TelegramBadRequest as error:
            # Deleted by the user, or too old to edit: a new preview takes its place.
            shown = "not modified" in error.message
    if not shown:
        sent = await bot.send_message(chat_id, view.text, reply_markup=view.markup)
        draft.preview_id = sent.message_id
    draft.drawn = view.digest
    await state.update_data(draft=draft.to_dict())


_pending_refresh: dict[str, asyncio.TimerHandle] = {}


def _refresh_later(
    dispatcher: Dispatcher, bot: Bot, state: FSMContext, l10n: L10n, key: str,
    library: Library, search: SearchIndex,
) -> None:  # fmt: skip
    """Redraw the preview once the album's items stop coming; under the user's event
    lock, so it cannot cross a Send pressed meanwhile."""
    loop = asyncio.get_running_loop()
    if key in _pending_refresh:
        _pending_refresh.pop(key).cancel()

    async def refresh() -> None:
        _pending_refresh.pop(key, None)
        async with dispatcher.fsm.events_isolation.lock(state.key):
            data = await state.get_data()
            if "draft" not in data or data["draft"].get("key") != key:
                return  # sent or dropped meanwhile
            draft = Draft.from_dict(data["draft"])
            with contextlib.suppress(TelegramBadRequest):
                await _show_preview(state.key.chat_id, bot, state, l10n, draft, [], library, search)

    _pending_refresh[key] = loop.call_later(ALBUM_SETTLE, lambda: asyncio.ensure_future(refresh()))


async def draft_action(
    callback: CallbackQuery, callback_data: DraftAction, state: FSMContext, l10n: L10n,
    locale: str, library: Library, questions: QuestionService, counters: Counters,
) -> None:  # fmt: skip
    data = await state.get_data()
    draft = Draft.from_dict(data["draft"]) if "draft" in data else None
    if draft is None or draft.key != callback_data.key:
        # Send pressed again after the question went out, or an old preview.
        sent = await questions.submitted(callback_data.key)
        if sent is not None and sent.user_id == callback.from_user.id:
            # Also after a crash between the commit and "received": say it now.
            await show_view(callback, state, screens.ask_received(l10n, sent.id))
            await callback.answer(l10n.text("ask-already-sent", id=str(sent.id)))
        else:
            await callback.answer(l10n.text("ask-draft-gone"))
        return
    match callback_data.action:
        case "send":
            if await _send(callback, state, l10n, locale, questions, draft) and draft.suggested:
                await counters.count("asked-after-suggestion")
        case "edit":
            fresh = Draft(key=draft.key, topic=draft.topic)
            await state.set_state(AskQuestion.writing)
            await state.update_data(draft=fresh.to_dict(), album=None)
            topic = library.topic(draft.topic) if draft.topic else None
            view = screens.ask_intro(
                l10n, draft.key, topic.name.get(l10n.locale) if topic else None
            )
            await show_view(callback, state, view, is_menu=False)
            await callback.answer()
        case _:
            await state.set_data({})
            await show_view(callback, state, screens.home(l10n))
            await callback.answer(l10n.text("ask-cancelled"))


async def _send(
    callback: CallbackQuery, state: FSMContext, l10n: L10n, locale: str,
    questions: QuestionService, draft: Draft,
) -> bool:  # fmt: skip
    """Send the draft; True if a new ticket was made."""
    if draft.is_empty:
        await callback.answer(l10n.text("ask-empty"), show_alert=True)
        return False
    message_id = callback.message.message_id if callback.message is not None else None
    try:
        # Stored (with the job that posts it) BEFORE the user is told it was received.
        ticket, created = await questions.submit(callback.from_user.id, locale, draft, message_id)
    except Refused as refused:
        await state.set_data({})
        await show_view(callback, state, refusal_view(l10n, questions, refused))
        await callback.answer()
        return False
    await state.set_data({})
    await show_view(callback, state, screens.ask_received(l10n, ticket.id))
    await callback.answer()
    return created


async def cancel_command(message: Message, state: FSMContext, l10n: L10n) -> None:
    await state.set_data({})
    await message.answer(l10n.text("ask-cancelled"))
    await send_view(message, state, screens.home(l10n))


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(ask_button, Nav.filter(F.screen == Screen.ASK))
    router.callback_query.register(ask_button, AskAbout.filter())
    router.callback_query.register(draft_action, DraftAction.filter())
    router.message.register(ask_command, Command("ask"))
    router.message.register(cancel_command, Command("cancel"), StateFilter(AskQuestion))
    # Commands pass through to the menus and the fallback; everything else is the draft.
    router.message.register(draft_message, StateFilter(AskQuestion), ~LooksLikeCommand())
    return router
