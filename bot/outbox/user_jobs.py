"""Jobs of the user lane: answers (copied, so no moderator's name travels), their
corrections, and notices to the user."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity

from bot.callbacks import AskAbout, Nav, Screen, TicketFeedback
from bot.config import Settings
from bot.content import CannedAnswer
from bot.i18n import L10n, Localizations
from bot.records import OutboxJob, TicketRecord
from bot.services.ledger import DeliveryLedger

log = logging.getLogger(__name__)

# Permanent for this user: retrying would loop forever.
_UNREACHABLE = ("chat not found", "can't be copied", "user is deactivated", "bot was blocked")


def feedback_markup(l10n: L10n, ticket_id: int) -> InlineKeyboardMarkup:
    def button(key: str, action: str) -> InlineKeyboardButton:
        data = TicketFeedback(action=action, ticket=ticket_id).pack()
        return InlineKeyboardButton(text=l10n.text(key), callback_data=data)

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button("answer-helpful", "up"), button("answer-not-helpful", "down")],
            [button("answer-close", "close")],
        ]
    )


class UserJobs:
    def __init__(
        self,
        bot: Bot,
        ledger: DeliveryLedger,
        localizations: Localizations,
        canned: dict[str, CannedAnswer],
        settings: Settings,
    ) -> None:
        self.bot = bot
        self.ledger = ledger
        self.localizations = localizations
        self.canned = canned
        self.settings = settings

    async def _live_ticket(self, job: OutboxJob) -> TicketRecord | None:
        ticket = await self.ledger.ticket(job.ticket_id) if job.ticket_id is not None else None
        if ticket is None or ticket.user_id is None:
            await self.ledger.finish(job, "ticket gone")
            return None
        return ticket

    async def _unreachable(self, job: OutboxJob, ticket: TicketRecord, reason: str) -> None:
        """The user blocked the bot or is gone: the card says so; the answer stays."""
        log.warning("a message cannot reach its user: %s", reason)
        await self.ledger.set_unreachable(ticket.id, True)
        await self.ledger.finish(job, reason[:200])

    async def deliver_answer(self, job: OutboxJob) -> None:
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        assert ticket.user_id is not None
        user = ticket.user_id
        l10n = self.localizations.get(ticket.locale)
        try:
            if job.step == 0:
                sent = await self._send_answer(job, user, l10n)
                copy = (int(job.payload["message"]), sent) if "message" in job.payload else None
                if not await self.ledger.step_done(
                    job, 1, user_messages=[(user, sent)], copy_of=copy
                ):
                    return
            if job.step <= 1:
                footer = await self.bot.send_message(
                    user,
                    l10n.text("answer-footer", id=str(ticket.id)),
                    reply_markup=feedback_markup(l10n, ticket.id),
                )
                await self.ledger.step_done(job, 2, user_messages=[(user, footer.message_id)])
        except TelegramBadRequest as error:
            if not any(marker in error.message for marker in _UNREACHABLE):
                raise
            await self._unreachable(job, ticket, error.message)
            return
        except TelegramForbiddenError:
            await self._unreachable(job, ticket, "blocked")
            return
        if ticket.unreachable:
            await self.ledger.set_unreachable(ticket.id, False)
        await self.ledger.finish(job)

    async def _send_answer(self, job: OutboxJob, user: int, l10n: L10n) -> int:
        protect = self.settings.protect_answers
        canned_name = job.payload.get("canned")
        if canned_name:
            canned = self.canned.get(str(canned_name))
            text = canned.text.get(l10n.locale) if canned else ""
            sent = await self.bot.send_message(
                user, l10n.text("answer-canned", text=text), protect_content=protect
            )
            return sent.message_id
        copied = await self.bot.copy_message(
            chat_id=user,
            from_chat_id=int(job.payload["from_chat"]),
            message_id=int(job.payload["message_id"]),
            protect_content=protect,
        )
        return copied.message_id

    async def apply_correction(self, job: OutboxJob) -> None:
        """A moderator edited an answer: the user's copy is edited to match; where
        Telegram refuses (the copy was deleted, or is too old), the corrected answer is
        sent again, marked as a correction."""
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        assert ticket.user_id is not None
        message = await self.ledger.message(int(job.payload["message"]))
        if message is None or message.source_message_id is None:
            await self.ledger.finish(job, "nothing to correct")
            return
        if message.copy_message_id is None:
            # Not delivered yet: the delivery copies the message as it is now.
            await self.ledger.finish(job)
            return
        entities = [MessageEntity.model_validate(e) for e in job.payload.get("entities") or []]
        text = str(job.payload.get("text") or "")
        try:
            if job.step == 0:
                await self._edit_copy(ticket.user_id, message.copy_message_id, text, entities, job)
                await self.ledger.finish(job)
                return
        except TelegramForbiddenError:
            await self._unreachable(job, ticket, "blocked")
            return
        except TelegramBadRequest as error:
            if "not modified" in error.message:
                await self.ledger.finish(job)
                return
            if not any(m in error.message for m in ("not found", "can't be edited")):
                raise
            if not await self.ledger.step_done(job, 1):
                return
        await self._resend(job, ticket, message.source_chat_id, message.source_message_id)

    async def _edit_copy(
        self, user: int, copy_id: int, text: str, entities: list[MessageEntity], job: OutboxJob
    ) -> None:
        if job.payload.get("caption"):
            await self.bot.edit_message_caption(
                chat_id=user, message_id=copy_id, caption=text, caption_entities=entities,
                parse_mode=None,
            )  # fmt: skip
        else:
            await self.bot.edit_message_text(
                text=text, chat_id=user, message_id=copy_id, entities=entities, parse_mode=None
            )

    async def _resend(
        self, job: OutboxJob, ticket: TicketRecord, from_chat: int | None, message_id: int
    ) -> None:
        assert ticket.user_id is not None
        assert from_chat is not None
        l10n = self.localizations.get(ticket.locale)
        if job.step <= 1:
            await self.bot.send_message(
                ticket.user_id, l10n.text("answer-corrected", id=str(ticket.id))
            )
            if not await self.ledger.step_done(job, 2):
                return
        copied = await self.bot.copy_message(
            chat_id=ticket.user_id, from_chat_id=from_chat, message_id=message_id,
            protect_content=self.settings.protect_answers,
        )  # fmt: skip
        row = int(job.payload["message"])
        await self.ledger.step_done(
            job, 3, user_messages=[(ticket.user_id, copied.message_id)],
            copy_of=(row, copied.message_id),
        )  # fmt: skip
        await self.ledger.finish(job)

    async def notify_user(self, job: OutboxJob) -> None:
        """A notice about the user's ticket (closed without an answer), with a way on."""
        ticket = await self._live_ticket(job)
        if ticket is None:
            return
        assert ticket.user_id is not None
        l10n = self.localizations.get(ticket.locale)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=l10n.text("menu-ask"),
                        callback_data=AskAbout(topic=ticket.topic or "").pack(),
                    ),
                    InlineKeyboardButton(
                        text=l10n.text("menu-my-questions"),
                        callback_data=Nav(screen=Screen.MY_QUESTIONS).pack(),
                    ),
                ]
            ]
        )
        try:
            sent = await self.bot.send_message(
                ticket.user_id, l10n.text(str(job.payload["text"]), id=str(ticket.id)),
                reply_markup=markup,
            )  # fmt: skip
        except TelegramForbiddenError:
            await self._unreachable(job, ticket, "blocked")
            return
        await self.ledger.step_done(job, 1, user_messages=[(ticket.user_id, sent.message_id)])
        await self.ledger.finish(job)
