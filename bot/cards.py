"""What moderators see: the ticket card and its buttons, in the group's language, and
how long texts are cut into messages Telegram accepts."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import ModAction
from bot.content import Library
from bot.i18n import L10n
from bot.records import TicketMessageRecord, TicketRecord

# Telegram counts a message's length in UTF-16 code units after entity parsing: 4096
# for a text, 1024 for a caption. The card holds the header and the start of the
# question; the rest follows in parts that leave room for a one-line header.
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CARD_QUESTION_BUDGET = 2800
PART_BUDGET = 3900
NOTES_ON_CARD = 3
NOTE_ON_CARD_CHARS = 200


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut_at(text: str, budget: int) -> int:
    """The index of the longest prefix of `text` within `budget` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > budget:
            return index
    return len(text)


def split_text(text: str, first: int = CARD_QUESTION_BUDGET, rest: int = PART_BUDGET) -> list[str]:
    """Cut a long text into message-sized parts (UTF-16 budgets), preferring line breaks,
    then spaces; never inside a character."""
    parts: list[str] = []
    budget = first
    while utf16_len(text) > budget:
        hard = _cut_at(text, budget)
        cut = max(text.rfind("\n", 0, hard), text.rfind(" ", 0, hard))
        if cut < hard // 2:
            cut = hard
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
        budget = rest
    parts.append(text)
    return [part for part in parts if part] or [""]


def state_text(l10n: L10n, ticket: TicketRecord) -> str:
    match ticket.state:
        case "claimed":
            return l10n.text("card-state-claimed", moderator=ticket.claimed_by_name or "?")
        case "answered":
            return l10n.text("card-state-answered", moderator=ticket.claimed_by_name or "?")
        case "closed":
            return l10n.text("card-state-closed")
    return l10n.text("card-state-new")


def reader_name(l10n: L10n, ticket: TicketRecord) -> str:
    return l10n.text("card-reader", pseudonym=ticket.pseudonym or "—")


def attachments_line(l10n: L10n, message: TicketMessageRecord) -> str | None:
    if not message.attachments:
        return None
    kinds = Counter(a.kind for a in message.attachments)
    listed = ", ".join(
        l10n.text(f"kind-{kind}") + (f" ×{count}" if count > 1 else "")
        for kind, count in kinds.items()
    )
    return l10n.text("card-attachment", kind=listed)


def card_text(
    l10n: L10n,
    library: Library,
    ticket: TicketRecord,
    question: TicketMessageRecord | None,
    notes: list[TicketMessageRecord],
    *,
    show_identity: bool,
    forum: bool,
) -> str:
    topic = library.topic(ticket.topic) if ticket.topic else None
    lines = [
        l10n.text(
            "card-header",
            id=str(ticket.id),
            reader=reader_name(l10n, ticket),
            topic=topic.name.get(l10n.locale) if topic else l10n.text("card-no-topic"),
            language=ticket.locale,
            state=state_text(l10n, ticket),
        )
    ]
    if show_identity and ticket.user_id is not None:
        # Only when SHOW_USER_IDENTITY is set: otherwise moderators never see who it is.
        lines.append(l10n.text("card-identity", user_id=str(ticket.user_id)))
    if ticket.reopened:
        lines.append(l10n.text("card-reopened", count=ticket.reopened))
    if ticket.unreachable:
        lines.append(l10n.text("card-unreachable"))
    if ticket.post_error:
        lines.append(l10n.text("card-post-error", error=ticket.post_error[:200]))
    if ticket.rating:
        lines.append(l10n.text("card-rated-up" if ticket.rating > 0 else "card-rated-down"))
    if question is not None:
        attached = attachments_line(l10n, question)
        if attached:
            lines.append(attached)
    if notes:
        shown = notes[-NOTES_ON_CARD:]
        lines.append(l10n.text("card-notes", count=len(notes)))
        for note in shown:
            text = (note.text or "")[:NOTE_ON_CARD_CHARS]
            lines.append(l10n.text("card-note", author=note.author or "—", text=text))
    lines.append(l10n.text("card-hint-forum" if forum else "card-hint-reply"))
    text = "\n".join(lines)
    if question is not None and question.text:
        text += "\n\n" + l10n.text("card-question", text=split_text(question.text)[0])
    return text


def _button(text: str, action: str, ticket_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=ModAction(action=action, ticket=ticket_id).pack()
    )


def card_markup(l10n: L10n, ticket: TicketRecord, *, banned: bool) -> InlineKeyboardMarkup:
    row = []
    if ticket.state == "new":
        row.append(_button(l10n.text("card-take"), "take", ticket.id))
    if ticket.state == "closed":
        row.append(_button(l10n.text("card-reopen"), "reopen", ticket.id))
    else:
        row.append(_button(l10n.text("card-close"), "close", ticket.id))
    if banned:
        row.append(_button(l10n.text("card-unban"), "unban", ticket.id))
    else:
        row.append(_button(l10n.text("card-ban"), "ban", ticket.id))
    return InlineKeyboardMarkup(inline_keyboard=[row])


def confirm_markup(l10n: L10n, ticket_id: int, action: str) -> InlineKeyboardMarkup:
    """ "Close #N?" / "Ban the author of #N?" on the card itself: no one-tap accidents."""
    question = l10n.text(f"card-confirm-{action}", id=str(ticket_id))
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=question, callback_data=ModAction(action="none", ticket=ticket_id).pack()
                )
            ],
            [
                _button(l10n.text("card-confirm-yes"), f"{action}-yes", ticket_id),
                _button(l10n.text("card-confirm-no"), "back", ticket_id),
            ],
        ]
    )


def card_hash(text: str, markup: InlineKeyboardMarkup) -> str:
    """What the card shows, to skip an edit Telegram would refuse as "not modified"."""
    body = text + json.dumps(markup.model_dump(mode="json", exclude_none=True), sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:32]
