"""The kinds of outbox work a service can queue, and the two lanes they run in."""

from __future__ import annotations

from enum import StrEnum

GROUP = "group"  # the moderators' group, paced to its limit
USER = "user"  # private chats with users


class Job(StrEnum):
    POST_TICKET = "post_ticket"
    POST_FOLLOW_UP = "post_follow_up"
    EDIT_CARD = "edit_card"
    CLOSE_TOPIC = "close_topic"
    REOPEN_TOPIC = "reopen_topic"
    REDACT = "redact"
    RETIRE_TOPIC = "retire_topic"
    REMIND = "remind"
    GROUP_NOTICE = "group_notice"
    DELIVER_ANSWER = "deliver_answer"
    APPLY_CORRECTION = "apply_correction"
    NOTIFY_USER = "notify_user"


LANE_OF: dict[Job, str] = {
    Job.DELIVER_ANSWER: USER,
    Job.APPLY_CORRECTION: USER,
    Job.NOTIFY_USER: USER,
}


def lane_of(job: Job) -> str:
    return LANE_OF.get(job, GROUP)
