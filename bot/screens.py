"""What each menu screen shows: its text and its inline keyboard.

Pure functions of the user's language and the library, so handlers stay thin and the
same screen can be drawn by a button, a command, a deep link or a restore after a
stale click.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import (
    AddToTicket,
    ArticleView,
    AskAbout,
    DigestArticle,
    DraftAction,
    MyTicket,
    Nav,
    Screen,
    SearchAsk,
    SetLanguage,
    SubscriptionAction,
    Suggested,
    TicketFeedback,
    TopicCard,
)
from bot.content import Article, ArticleRef, Issue, Library, Topic
from bot.i18n import SUPPORTED_LOCALES, Html, L10n
from bot.records import TicketMessageRecord, TicketRecord
from bot.services.questions import Draft

# A topic card holds as many summaries as fit in one message, with room to spare.
CARD_PAGE_BUDGET = 3500


class Keyboard:
    """Rows of inline buttons. (aiogram's InlineKeyboardBuilder deep-copies every button
    on as_markup(): a third of the cost of drawing a screen.)"""

    def __init__(self) -> None:
        self.rows: list[list[InlineKeyboardButton]] = []

    def row(self, *buttons: InlineKeyboardButton) -> None:
        self.rows.append(list(buttons))

    def as_markup(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=self.rows)


_P = ParamSpec("_P")
_R = TypeVar("_R")
_MEMO: dict[tuple[Any, ...], Any] = {}
MEMO_LIMIT = 10_000


def _key_part(arg: Any) -> Any:
    if isinstance(arg, L10n):
        return arg.locale
    if isinstance(arg, Library):
        return (arg.serial, arg.version)
    return arg


def memoized(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """A menu screen depends only on the language, the library and its arguments, so it
    is drawn once and reused (the library's version is part of the key)."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        key = (func.__name__, *map(_key_part, args), *sorted(kwargs.items()))
        if key in _MEMO:
            return _MEMO[key]  # type: ignore[no-any-return]
        if len(_MEMO) >= MEMO_LIMIT:
            _MEMO.clear()
        view = _MEMO[key] = func(*args, **kwargs)
        return view

    return wrapper


_TAG = re.compile(r"<[^>]+>")


def plain_text(markup_text: str) -> str:
    """What Telegram shows of an HTML text (and returns as message.text)."""
    return html.unescape(_TAG.sub("", markup_text)).strip()


@dataclass(frozen=True, slots=True)
class View:
    text: str
    markup: InlineKeyboardMarkup
    screen: CallbackData  # what to remember as the user's current screen
    # What the screen shows, to tell whether a message shows it already.
    digest: str = field(init=False)
    plain: str = field(init=False)

    def __post_init__(self) -> None:
        body = self.text + self.markup.model_dump_json(exclude_none=True)
        object.__setattr__(
            self, "digest", hashlib.blake2b(body.encode(), digest_size=8).hexdigest()
        )
        object.__setattr__(self, "plain", plain_text(self.text))


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def article_button(l10n: L10n, article: Article, data: CallbackData) -> InlineKeyboardButton:
    """Every button that opens an article shows its short `button` title (at most 32
    characters, so a phone shows it whole), never the cut-off headline."""
    return _button("📄 " + article.button.get(l10n.locale), data)


def _back_home(l10n: L10n, back: CallbackData) -> list[InlineKeyboardButton]:
    return [
        _button(l10n.text("nav-back"), back),
        _button(l10n.text("nav-home"), Nav(screen=Screen.HOME)),
    ]


@memoized
def home(l10n: L10n) -> View:
    kb = Keyboard()
    kb.row(
        _button(l10n.text("menu-topics"), Nav(screen=Screen.TOPICS)),
        _button(l10n.text("menu-latest"), Nav(screen=Screen.LATEST)),
    )
    kb.row(_button(l10n.text("menu-ask"), Nav(screen=Screen.ASK)))
    kb.row(
        _button(l10n.text("menu-subscription"), Nav(screen=Screen.SUBSCRIPTION)),
        _button(l10n.text("menu-my-questions"), Nav(screen=Screen.MY_QUESTIONS)),
    )
    kb.row(
        _button(l10n.text("menu-language"), Nav(screen=Screen.LANGUAGE)),
        _button(l10n.text("menu-about"), Nav(screen=Screen.ABOUT)),
    )
    return View(l10n.text("menu-title"), kb.as_markup(), Nav(screen=Screen.HOME))


@memoized
def topics(l10n: L10n, library: Library) -> View:
    kb = Keyboard()
    for topic in library.topics:
        label = f"{topic.emoji} {topic.name.get(l10n.locale)}".strip()
        kb.row(_button(label, TopicCard(slug=topic.slug)))
    kb.row(*_back_home(l10n, Nav(screen=Screen.HOME)))
    return View(l10n.text("topics-title"), kb.as_markup(), Nav(screen=Screen.TOPICS))


def _card_item(l10n: L10n, ref: ArticleRef) -> str:
    locale = l10n.locale
    return l10n.text(
        "topic-card-item",
        title=ref.article.title.get(locale),
        summary=ref.article.summary.get(locale),
        issue=ref.issue.title.get(locale),
    )


def _paginate(items: list[str], budget: int) -> list[list[int]]:
    """Indices of items per page, each page's text within the budget."""
    pages: list[list[int]] = [[]]
    used = 0
    for index, item in enumerate(items):
        if pages[-1] and used + len(item) > budget:
            pages.append([])
            used = 0
        pages[-1].append(index)
        used += len(item) + 2
    return pages


@memoized
def topic_card(l10n: L10n, library: Library, slug: str, page: int = 0) -> View | None:
    topic = library.topic(slug)
    if topic is None:
        return None
    locale = l10n.locale
    refs = library.articles_on(slug)
    items = [_card_item(l10n, ref) for ref in refs]
    pages = _paginate(items, CARD_PAGE_BUDGET)
    page = min(max(page, 0), len(pages) - 1)
    shown = pages[page]
    body = "\n\n".join(items[i] for i in shown) if shown else l10n.text("topic-card-empty")
    text = l10n.text(
        "topic-card",
        emoji=topic.emoji,
        name=topic.name.get(locale),
        description=topic.description.get(locale),
        articles=Html(body),
    )
    if len(pages) > 1:
        text += "\n\n" + l10n.text("topic-card-page", page=page + 1, pages=len(pages))
    kb = Keyboard()
    for i in shown:
        ref = refs[i]
        data = ArticleView(issue=ref.issue.issue, slug=ref.article.slug, origin=slug, page=page)
        kb.row(article_button(l10n, ref.article, data))
    paging = []
    if page > 0:
        paging.append(_button(l10n.text("nav-newer"), TopicCard(slug=slug, page=page - 1)))
    if page < len(pages) - 1:
        paging.append(_button(l10n.text("nav-older"), TopicCard(slug=slug, page=page + 1)))
    if paging:
        kb.row(*paging)
    kb.row(_button(l10n.text("topic-ask"), AskAbout(topic=slug)))
    kb.row(*_back_home(l10n, Nav(screen=Screen.TOPICS)))
    return View(text, kb.as_markup(), TopicCard(slug=slug, page=page))


def _article_text(l10n: L10n, ref: ArticleRef) -> str:
    locale = l10n.locale
    return l10n.text(
        "article-view",
        title=ref.article.title.get(locale),
        issue=ref.issue.title.get(locale),
        text=ref.article.text.get(locale),
    )


@memoized
def article(
    l10n: L10n, library: Library, issue_id: str, slug: str, origin: str = "", page: int = 0
) -> View | None:
    ref = library.article(issue_id, slug)
    if ref is None:
        return None
    text = _article_text(l10n, ref)
    back: CallbackData
    if origin and library.topic(origin) is not None:
        back = TopicCard(slug=origin, page=page)
    else:
        back = Nav(screen=Screen.LATEST)
    topic = origin if library.topic(origin) is not None else ref.article.topics[0]
    kb = Keyboard()
    kb.row(_button(l10n.text("topic-ask"), AskAbout(topic=topic)))
    kb.row(*_back_home(l10n, back))
    return View(
        text, kb.as_markup(), ArticleView(issue=issue_id, slug=slug, origin=origin, page=page)
    )


def _latest_item(l10n: L10n, item: Article) -> str:
    return l10n.text("latest-item", title=item.title.get(l10n.locale))


@memoized
def latest(l10n: L10n, library: Library) -> View:
    issue = library.latest
    kb = Keyboard()
    if issue is None:
        kb.row(*_back_home(l10n, Nav(screen=Screen.HOME)))
        return View(l10n.text("latest-empty"), kb.as_markup(), Nav(screen=Screen.LATEST))
    locale = l10n.locale
    contents = "\n".join(_latest_item(l10n, a) for a in issue.articles)
    text = l10n.text(
        "latest-view",
        title=issue.title.get(locale),
        intro=issue.intro.get(locale),
        contents=Html(contents),
    )
    for item in issue.articles:
        data = ArticleView(issue=issue.issue, slug=item.slug)
        kb.row(article_button(l10n, item, data))
    kb.row(*_back_home(l10n, Nav(screen=Screen.HOME)))
    return View(text, kb.as_markup(), Nav(screen=Screen.LATEST))


@memoized
def language(l10n: L10n) -> View:
    kb = Keyboard()
    for locale in SUPPORTED_LOCALES:
        name = l10n.text(f"language-name-{locale}")
        mark = "✓ " if locale == l10n.locale else ""
        kb.row(_button(mark + name, SetLanguage(locale=locale)))
    kb.row(*_back_home(l10n, Nav(screen=Screen.HOME)))
    return View(l10n.text("language-title"), kb.as_markup(), Nav(screen=Screen.LANGUAGE))


def _simple(l10n: L10n, key: str, screen: Screen) -> View:
    kb = Keyboard()
    kb.row(*_back_home(l10n, Nav(screen=Screen.HOME)))
    return View(l10n.text(key), kb.as_markup(), Nav(screen=screen))


@memoized
def about(l10n: L10n) -> View:
    return _simple(l10n, "about-text", Screen.ABOUT)


@memoized
def help_screen(l10n: L10n) -> View:
    return _simple(l10n, "help-text", Screen.HELP)


def render(data: CallbackData, l10n: L10n, library: Library) -> View | None:
    """The view for a screen's callback data; None if it points at nothing that exists."""
    if isinstance(data, TopicCard):
        return topic_card(l10n, library, data.slug, data.page)
    if isinstance(data, ArticleView):
        return article(l10n, library, data.issue, data.slug, data.origin, data.page)
    if isinstance(data, Nav):
        match data.screen:
            case Screen.HOME:
                return home(l10n)
            case Screen.TOPICS:
                return topics(l10n, library)
            case Screen.LATEST:
                return latest(l10n, library)
            case Screen.LANGUAGE:
                return language(l10n)
            case Screen.ABOUT:
                return about(l10n)
            case Screen.HELP:
                return help_screen(l10n)
    return None


# ---- questions ---------------------------------------------------------------------------

PREVIEW_BUDGET = 3000


def ask_intro(l10n: L10n, draft_key: str, topic_name: str | None) -> View:
    kb = Keyboard()
    kb.row(_button(l10n.text("ask-cancel"), DraftAction(action="cancel", key=draft_key)))
    text = l10n.text("ask-intro")
    if topic_name:
        text = l10n.text("ask-topic", topic=topic_name) + "\n\n" + text
    return View(text, kb.as_markup(), Nav(screen=Screen.ASK))


def ask_preview(
    l10n: L10n, draft: Draft, notes: list[str], suggestions: list[ArticleRef] | None = None
) -> View:
    """The one preview of a draft (edited as the draft grows), with the articles that may
    already answer it."""
    shown = draft.text
    if len(shown) > PREVIEW_BUDGET:
        more = len(shown) - PREVIEW_BUDGET
        shown = shown[:PREVIEW_BUDGET] + "…\n" + l10n.text("ask-preview-more", count=more)
    parts = [*notes, l10n.text("ask-preview", text=shown or "—")]
    if draft.files:
        kinds: dict[str, int] = {}
        for item in draft.files:
            kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
        listed = ", ".join(
            l10n.text(f"kind-{kind}") + (f" ×{count}" if count > 1 else "")
            for kind, count in kinds.items()
        )
        parts.append(l10n.text("ask-preview-attachment", kind=listed))
    kb = Keyboard()
    if suggestions:
        parts.append(l10n.text("ask-preview-suggestions"))
        for ref in suggestions:
            data = Suggested(issue=ref.issue.issue, slug=ref.article.slug)
            kb.row(article_button(l10n, ref.article, data))
    kb.row(_button(l10n.text("ask-send"), DraftAction(action="send", key=draft.key)))
    kb.row(
        _button(l10n.text("ask-edit"), DraftAction(action="edit", key=draft.key)),
        _button(l10n.text("ask-cancel"), DraftAction(action="cancel", key=draft.key)),
    )
    return View("\n\n".join(parts), kb.as_markup(), Nav(screen=Screen.ASK))


def ask_received(l10n: L10n, ticket_id: int) -> View:
    kb = Keyboard()
    kb.row(_button(l10n.text("ask-add"), AddToTicket(ticket=ticket_id)))
    kb.row(
        _button(l10n.text("menu-my-questions"), Nav(screen=Screen.MY_QUESTIONS)),
        _button(l10n.text("nav-home"), Nav(screen=Screen.HOME)),
    )
    return View(
        l10n.text("ask-received", id=str(ticket_id)), kb.as_markup(), Nav(screen=Screen.HOME)
    )


def ask_refused(l10n: L10n, key: str, limit: int = 0) -> View:
    kb = Keyboard()
    kb.row(
        _button(l10n.text("menu-my-questions"), Nav(screen=Screen.MY_QUESTIONS)),
        _button(l10n.text("nav-home"), Nav(screen=Screen.HOME)),
    )
    return View(l10n.text(key, limit=limit), kb.as_markup(), Nav(screen=Screen.HOME))


def _state_label(l10n: L10n, ticket: TicketRecord) -> str:
    return l10n.text(f"ticket-state-{ticket.state}")


def my_questions(l10n: L10n, tickets: list[TicketRecord]) -> View:
    kb = Keyboard()
    for ticket in tickets:
        label = l10n.text("my-questions-item", id=str(ticket.id), state=_state_label(l10n, ticket))
        kb.row(_button(label, MyTicket(ticket=ticket.id)))
    if not tickets:
        kb.row(_button(l10n.text("menu-ask"), AskAbout(topic="")))
    kb.row(*_back_home(l10n, Nav(screen=Screen.HOME)))
    key = "my-questions-title" if tickets else "my-questions-empty"
    return View(l10n.text(key), kb.as_markup(), Nav(screen=Screen.MY_QUESTIONS))


THREAD_BUDGET = 3600
THREAD_ITEM_LIMIT = 700


def my_ticket(l10n: L10n, ticket: TicketRecord, messages: list[TicketMessageRecord]) -> View:
    items: list[str] = []
    for message in messages:
        text = message.text or l10n.text(f"kind-{message.kind}")
        if len(text) > THREAD_ITEM_LIMIT:
            text = text[:THREAD_ITEM_LIMIT] + "…"
        items.append(l10n.text(f"thread-{message.direction}", text=text))
    # Newest last, and only as much of the history as fits one message.
    body: list[str] = []
    used = 0
    for item in reversed(items):
        if used + len(item) > THREAD_BUDGET:
            break
        body.insert(0, item)
        used += len(item) + 2
    text = l10n.text(
        "my-ticket",
        id=str(ticket.id),
        state=_state_label(l10n, ticket),
        thread=Html("\n\n".join(body)),
    )
    kb = Keyboard()
    if ticket.state != "closed":
        kb.row(_button(l10n.text("answer-close"), TicketFeedback(action="close", ticket=ticket.id)))
    kb.row(*_back_home(l10n, Nav(screen=Screen.MY_QUESTIONS)))
    return View(text, kb.as_markup(), MyTicket(ticket=ticket.id))


# ---- subscriptions and digest messages ---------------------------------------------------

DIGEST_BUDGET = 3900


@memoized
def subscription(l10n: L10n, subscribed: bool) -> View:
    kb = Keyboard()
    if subscribed:
        kb.row(_button(l10n.text("subscription-off"), SubscriptionAction(action="off")))
    else:
        kb.row(_button(l10n.text("subscription-on"), SubscriptionAction(action="on")))
    kb.row(*_back_home(l10n, Nav(screen=Screen.HOME)))
    key = "subscription-active" if subscribed else "subscription-inactive"
    return View(l10n.text(key), kb.as_markup(), Nav(screen=Screen.SUBSCRIPTION))


def digest_message(l10n: L10n, issue: Issue) -> tuple[list[str], InlineKeyboardMarkup]:
    """An issue as subscribers get it: parts of at most one message each, the buttons
    (each article, Unsubscribe) under the last part."""
    locale = l10n.locale
    head = l10n.text("digest-head", title=issue.title.get(locale))
    items = [
        l10n.text(
            "digest-item", title=article.title.get(locale), summary=article.summary.get(locale)
        )
        for article in issue.articles
    ]
    items.append(l10n.text("digest-footer"))
    parts = [head]
    for item in items:
        if len(parts[-1]) + 2 + len(item) > DIGEST_BUDGET:
            parts.append(item)
        else:
            parts[-1] += "\n\n" + item
    kb = Keyboard()
    for article in issue.articles:
        data = DigestArticle(issue=issue.issue, slug=article.slug)
        kb.row(article_button(l10n, article, data))
    kb.row(_button(l10n.text("digest-unsubscribe"), SubscriptionAction(action="stop")))
    return parts, kb.as_markup()


@memoized
def digest_article(l10n: L10n, library: Library, issue_id: str, slug: str) -> View | None:
    """An article opened from a digest message: a message of its own, so the issue
    stays where it was."""
    ref = library.article(issue_id, slug)
    if ref is None:
        return None
    text = _article_text(l10n, ref)
    kb = Keyboard()
    kb.row(_button(l10n.text("topic-ask"), AskAbout(topic=ref.article.topics[0])))
    kb.row(
        _button(l10n.text("menu-topics"), Nav(screen=Screen.TOPICS)),
        _button(l10n.text("nav-home"), Nav(screen=Screen.HOME)),
    )
    return View(text, kb.as_markup(), ArticleView(issue=issue_id, slug=slug))


# ---- search ------------------------------------------------------------------------------


def search_results(
    l10n: L10n, library: Library, articles: list[ArticleRef], topics: list[Topic]
) -> View:
    """What the digest offers for a question in the user's words, or, honestly, that it
    offers nothing; either way a lawyer can be asked."""
    locale = l10n.locale
    kb = Keyboard()
    if not articles and not topics:
        text = l10n.text("search-nothing")
    else:
        lines = [l10n.text("search-results")]
        for ref in articles:
            lines.append(
                l10n.text(
                    "search-item",
                    title=ref.article.title.get(locale),
                    issue=ref.issue.title.get(locale),
                )
            )
            kb.row(
                article_button(
                    l10n, ref.article, Suggested(issue=ref.issue.issue, slug=ref.article.slug)
                )
            )
        for topic in topics:
            label = f"{topic.emoji} {topic.name.get(locale)}".strip()
            lines.append(l10n.text("search-topic", name=label))
            kb.row(_button(label, TopicCard(slug=topic.slug)))
        lines.append(l10n.text("search-not-it"))
        text = "\n".join(lines)
    kb.row(_button(l10n.text("search-ask"), SearchAsk()))
    kb.row(_button(l10n.text("nav-home"), Nav(screen=Screen.HOME)))
    # Restored after a stale click as the menu: the results are not kept anywhere.
    return View(text, kb.as_markup(), Nav(screen=Screen.HOME))
