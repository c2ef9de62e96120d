"""What moderators see: the ticket card and its buttons, in the moderators' language."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import ModAction
from bot.content import Library
from bot.i18n import L10n
from bot.repositories import TicketMessageRecord, TicketRecord

# The card holds the header and the start of the question; the rest follows in parts.
CARD_QUESTION_BUDGET = 3500
PART_BUDGET = 4000


def split_text(text: str, first: int = CARD_QUESTION_BUDGET, rest: int = PART_BUDGET) -> list[str]:
    """Cut a long text into message-sized parts, preferring paragraph and line breaks."""
    parts: list[str] = []
    budget = first
    while len(text) > budget:
        cut = max(text.rfind("\n", 0, budget), text.rfind(" ", 0, budget))
        if cut < budget // 2:
            cut = budget
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
        budget = rest
    parts.append(text)
    return parts


def state_text(l10n: L10n, ticket: TicketRecord) -> str:
    match ticket.state:
        case "claimed":
            return l10n.text("card-state-claimed", moderator=ticket.claimed_by_name or "?")
        case "answered":
            return l10n.text("card-state-answered", moderator=ticket.claimed_by_name or "?")
        case "closed":
            return l10n.text("card-state-closed")
    return l10n.text("card-state-new")


def card_text(
    l10n: L10n,
    library: Library,
    ticket: TicketRecord,
    reader: str,
    question: TicketMessageRecord | None,
    *,
    show_identity: bool = False,
) -> str:
    topic = library.topic(ticket.topic) if ticket.topic else None
    text = l10n.text(
        "card-header",
        id=str(ticket.id),
        reader=reader,
        topic=topic.name.get(l10n.locale) if topic else l10n.text("card-no-topic"),
        language=ticket.locale,
        state=state_text(l10n, ticket),
    )
    if show_identity:
        # Only when SHOW_USER_IDENTITY is set: otherwise moderators never see who it is.
        text += "\n" + l10n.text("card-identity", user_id=str(ticket.user_id))
    if ticket.unreachable:
        text += "\n" + l10n.text("card-unreachable")
    if question is not None:
        if question.file_id is not None:
            text += "\n" + l10n.text("card-attachment", kind=l10n.text(f"kind-{question.kind}"))
        if question.text:
            first = split_text(question.text)[0]
            text += "\n\n" + l10n.text("card-question", text=first)
    return text


def card_markup(l10n: L10n, ticket: TicketRecord) -> InlineKeyboardMarkup:
    row = []
    if ticket.state == "new":
        row.append(_button(l10n.text("card-take"), "take", ticket.id))
    if ticket.state != "closed":
        row.append(_button(l10n.text("card-close"), "close", ticket.id))
    row.append(_button(l10n.text("card-ban"), "ban", ticket.id))
    return InlineKeyboardMarkup(inline_keyboard=[row])


def _button(text: str, action: str, ticket_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=ModAction(action=action, ticket=ticket_id).pack()
    )
