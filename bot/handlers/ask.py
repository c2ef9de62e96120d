"""Asking a question: the safety reminder, the draft, its preview, and Send."""

from __future__ import annotations

import secrets

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import screens
from bot.callbacks import AskAbout, DraftAction, Nav, Screen
from bot.content import Library
from bot.handlers.common import Content, content_of, send_view, show_view
from bot.handlers.fallback import LooksLikeCommand
from bot.i18n import L10n
from bot.services.questions import Draft, QuestionService, Refusal, Refused
from bot.states import AskQuestion

# A question may come in several messages (Telegram splits long pastes at 4096);
# together they are stored whole, up to this size.
MAX_QUESTION_CHARS = 12_000


async def _begin(
    user_id: int, topic: str | None, state: FSMContext, l10n: L10n, library: Library,
    questions: QuestionService,
) -> screens.View:  # fmt: skip
    """Start a draft, or explain why the user cannot ask now."""
    try:
        await questions.check_can_ask(user_id)
    except Refused as refused:
        if refused.reason is Refusal.TOO_MANY_OPEN:
            return screens.ask_refused(l10n, "ask-too-many", questions.max_open_tickets)
        return screens.ask_refused(l10n, "banned-notice")
    found = library.topic(topic) if topic else None
    draft = Draft(key=secrets.token_hex(6), topic=found.slug if found else None)
    await state.set_state(AskQuestion.writing)
    await state.set_data({"draft": draft.to_dict()})
    return screens.ask_intro(l10n, draft.key, found.name.get(l10n.locale) if found else None)


async def ask_button(
    callback: CallbackQuery, state: FSMContext, l10n: L10n, library: Library,
    questions: QuestionService, callback_data: AskAbout | None = None,
) -> None:  # fmt: skip
    topic = callback_data.topic if isinstance(callback_data, AskAbout) else None
    view = await _begin(callback.from_user.id, topic, state, l10n, library, questions)
    await show_view(callback, state, view, is_menu=False)
    await callback.answer()


async def ask_command(
    message: Message, state: FSMContext, l10n: L10n, library: Library, questions: QuestionService
) -> None:
    assert message.from_user is not None
    view = await _begin(message.from_user.id, None, state, l10n, library, questions)
    await message.answer(view.text, reply_markup=view.markup)


async def accepted_content(
    message: Message, l10n: L10n, questions: QuestionService
) -> Content | None:
    """What a user's message brings to a question, or None after telling them why not
    (over the flood limit, or a sticker, location, poll...)."""
    assert message.from_user is not None
    if not questions.take_flood_slot(message.from_user.id):
        await message.answer(l10n.text("ask-flood"))
        return None
    content = content_of(message)
    if content is None:
        await message.answer(l10n.text("ask-text-please"))
    return content


async def draft_message(
    message: Message, state: FSMContext, l10n: L10n, questions: QuestionService
) -> None:
    """Every message while writing: add it to the draft and show the preview."""
    assert message.from_user is not None
    data = await state.get_data()
    if "draft" not in data:
        await state.clear()
        return
    draft = Draft.from_dict(data["draft"])
    notes: list[str] = []
    if message.media_group_id is not None:
        if data.get("album") == message.media_group_id:
            return  # the rest of an album: only its first item is kept, as we said
        await state.update_data(album=message.media_group_id)
        notes.append(l10n.text("ask-album-first-only"))
    content = await accepted_content(message, l10n, questions)
    if content is None:
        return
    if content.file_id is not None:
        if draft.file_id is not None:
            notes.append(l10n.text("ask-one-attachment"))
        else:
            draft.kind, draft.file_id = content.kind, content.file_id
    if content.text:
        combined = f"{draft.text}\n\n{content.text}" if draft.text else content.text
        if len(combined) > MAX_QUESTION_CHARS:
            await message.answer(l10n.text("ask-too-long", limit=MAX_QUESTION_CHARS))
            return
        draft.text = combined
    await state.set_state(AskQuestion.preview)
    await state.update_data(draft=draft.to_dict())
    view = screens.ask_preview(l10n, draft, notes)
    await message.answer(view.text, reply_markup=view.markup)


async def draft_action(
    callback: CallbackQuery, callback_data: DraftAction, state: FSMContext, l10n: L10n,
    locale: str, library: Library, questions: QuestionService,
) -> None:  # fmt: skip
    data = await state.get_data()
    draft = Draft.from_dict(data["draft"]) if "draft" in data else None
    if draft is None or draft.key != callback_data.key:
        # Send pressed again after the question went out, or an old preview.
        sent = await questions.submitted(callback_data.key)
        if sent is not None and sent.user_id == callback.from_user.id:
            await callback.answer(l10n.text("ask-already-sent", id=str(sent.id)))
        else:
            await callback.answer(l10n.text("ask-draft-gone"))
        return
    match callback_data.action:
        case "send":
            await _send(callback, state, l10n, locale, questions, draft)
        case "edit":
            draft.text, draft.kind, draft.file_id = "", "text", None
            await state.set_state(AskQuestion.writing)
            await state.update_data(draft=draft.to_dict(), album=None)
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
) -> None:  # fmt: skip
    if draft.is_empty:
        await callback.answer(l10n.text("ask-empty"), show_alert=True)
        return
    try:
        await questions.check_can_ask(callback.from_user.id)
    except Refused:
        view = screens.ask_refused(l10n, "ask-too-many", questions.max_open_tickets)
        await state.set_data({})
        await show_view(callback, state, view)
        await callback.answer()
        return
    # Stored (with the job that posts it) BEFORE the user is told it was received.
    ticket, _ = await questions.submit(callback.from_user.id, locale, draft)
    await state.set_data({})
    await show_view(callback, state, screens.ask_received(l10n, ticket.id))
    await callback.answer()


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
