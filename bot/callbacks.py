"""Callback data factories: every inline button's payload (at most 64 bytes)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class Screen(StrEnum):
    HOME = "home"
    TOPICS = "topics"
    LATEST = "latest"
    ASK = "ask"
    SUBSCRIPTION = "subs"
    MY_QUESTIONS = "mine"
    LANGUAGE = "lang"
    ABOUT = "about"
    HELP = "help"


class Nav(CallbackData, prefix="nav"):
    """A fixed screen of the menu."""

    screen: Screen


class TopicCard(CallbackData, prefix="tp"):
    slug: str
    page: int = 0


class ArticleView(CallbackData, prefix="ar"):
    issue: str
    slug: str
    # where Back leads: a topic slug, or "" for the latest issue
    origin: str = ""
    page: int = 0


class SetLanguage(CallbackData, prefix="lg"):
    locale: str


# Every factory that describes a screen a user can be on, for restoring it from FSM data.
SCREEN_FACTORIES: tuple[type[CallbackData], ...] = (Nav, TopicCard, ArticleView)


def parse_screen(packed: str | None) -> CallbackData | None:
    if not packed:
        return None
    for factory in SCREEN_FACTORIES:
        try:
            return factory.unpack(packed)
        except (TypeError, ValueError):
            continue
    return None


class AskAbout(CallbackData, prefix="ask"):
    """Start a question, remembering the topic it came from ("" for none)."""

    topic: str = ""


class DraftAction(CallbackData, prefix="dr"):
    action: str  # send | edit | cancel
    key: str  # the draft's key, so a button of an old draft cannot send a newer one


class MyTicket(CallbackData, prefix="mt"):
    ticket: int


class TicketFeedback(CallbackData, prefix="fb"):
    action: str  # up | down | close
    ticket: int


class ModAction(CallbackData, prefix="mod"):
    # take | close | close-yes | ban | ban-yes | unban | reopen | back | none
    action: str
    ticket: int


class AddToTicket(CallbackData, prefix="add"):
    """ "Add to the question" under the message that says it was received."""

    ticket: int


class DigestArticle(CallbackData, prefix="da"):
    """An article button under a delivered digest issue: opens it as a new message, so
    the issue (and its Unsubscribe button) stays in the chat."""

    issue: str
    slug: str


class SubscriptionAction(CallbackData, prefix="sub"):
    action: str  # on | off


class PublishAction(CallbackData, prefix="pub"):
    action: str  # confirm | cancel
    issue: str


class ForgetAction(CallbackData, prefix="fg"):
    action: str  # confirm | cancel


class Suggested(CallbackData, prefix="sg"):
    """An article the bot suggested (search results, a draft's preview): opens it as a
    new message, so the results or the draft stay."""

    issue: str
    slug: str


class SearchAsk(CallbackData, prefix="sq"):
    """ "Ask a lawyer" under search results: a draft that starts with what was typed."""

    go: int = 1
