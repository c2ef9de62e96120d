"""Every outbox job by kind: adding a job means a method in group_jobs or user_jobs and a
line here, never a change to the machine."""

from __future__ import annotations

from aiogram import Bot

from bot.config import Settings
from bot.content import CannedAnswer, Library
from bot.i18n import Localizations
from bot.outbox.group_jobs import GroupJobs
from bot.outbox.machine import JobHandler, Outbox
from bot.outbox.user_jobs import UserJobs
from bot.services.jobs import Job
from bot.services.ledger import DeliveryLedger
from bot.services.questions import QuestionService


def build_outbox(
    bot: Bot,
    ledger: DeliveryLedger,
    questions: QuestionService,
    library: Library,
    localizations: Localizations,
    canned: dict[str, CannedAnswer],
    settings: Settings,
) -> tuple[Outbox, GroupJobs]:
    group = GroupJobs(
        bot, ledger, questions, library, localizations.get(settings.group_locale), settings
    )
    user = UserJobs(bot, ledger, localizations, canned, settings)
    handlers: dict[str, JobHandler] = {
        Job.POST_TICKET: group.post_ticket,
        Job.POST_FOLLOW_UP: group.post_follow_up,
        Job.EDIT_CARD: group.edit_card,
        Job.CLOSE_TOPIC: group.close_topic,
        Job.REOPEN_TOPIC: group.reopen_topic,
        Job.REDACT: group.redact,
        Job.RETIRE_TOPIC: group.retire_topic,
        Job.REMIND: group.remind,
        Job.GROUP_NOTICE: group.group_notice,
        Job.DELIVER_ANSWER: user.deliver_answer,
        Job.APPLY_CORRECTION: user.apply_correction,
        Job.NOTIFY_USER: user.notify_user,
    }
    outbox = Outbox(
        ledger, handlers, retry_base=settings.outbox_retry_base, retry_max=settings.outbox_retry_max
    )
    questions.on_enqueue(outbox.wake)
    return outbox, group
