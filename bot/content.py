"""Digest issues and topics as data: pydantic models, loading and the in-memory library."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

LOCALES = ("ru", "en")

TopicSlug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,19}$")]
ArticleSlug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,27}$")]
IssueId = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")]


_Trimmed = StringConstraints(strip_whitespace=True, min_length=1)
Name = Annotated[str, _Trimmed, StringConstraints(max_length=200)]
Title = Annotated[str, _Trimmed, StringConstraints(max_length=120)]
# An article's button: what fits on one line of a phone's screen beside its 📄.
BUTTON_MAX = 32
Button = Annotated[str, _Trimmed, StringConstraints(max_length=BUTTON_MAX)]
Summary = Annotated[str, _Trimmed, StringConstraints(max_length=600)]
Intro = Annotated[str, _Trimmed, StringConstraints(max_length=900)]
# An article screen holds the title and the text in one message of 4096 characters.
Body = Annotated[str, _Trimmed, StringConstraints(max_length=3800)]


class _Localized(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def get(self, locale: str) -> str:
        value = getattr(self, locale if locale in LOCALES else LOCALES[0])
        return str(value)


class Localized(_Localized):
    """One text in every language the bot speaks."""

    ru: Name
    en: Name


class ShortText(_Localized):
    ru: Title
    en: Title


class ButtonText(_Localized):
    ru: Button
    en: Button


class SummaryText(_Localized):
    ru: Summary
    en: Summary


class IntroText(_Localized):
    ru: Intro
    en: Intro


class LongText(_Localized):
    ru: Body
    en: Body


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    slug: TopicSlug
    emoji: str = Field(default="", max_length=8)
    name: Localized
    description: Localized


class TopicsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    topics: list[Topic] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> TopicsFile:
        _require_unique("topic slug", (t.slug for t in self.topics))
        return self


class Article(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    slug: ArticleSlug
    topics: list[TopicSlug] = Field(min_length=1)
    title: ShortText
    button: ButtonText  # the short title on every button that opens the article
    summary: SummaryText
    text: LongText

    @model_validator(mode="before")
    @classmethod
    def _stored_before_buttons(cls, data: Any, info: ValidationInfo) -> Any:
        """An issue published before articles had buttons is still served: its button
        is its title, shortened. Files must have one (`check` says so)."""
        if not (info.context or {}).get("stored") or not isinstance(data, dict):
            return data
        if "button" in data or not isinstance(data.get("title"), dict):
            return data
        button = {
            locale: _shorten(str(title), BUTTON_MAX) for locale, title in data["title"].items()
        }
        return {**data, "button": button}


def _shorten(text: str, limit: int) -> str:
    """At most `limit` characters with the "…", cut after a whole word."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if not text[limit - 1].isspace():  # a word is cut: drop it, unless it is the only one
        words = head.rsplit(maxsplit=1)
        head = words[0] if len(words) > 1 else head
    return head.rstrip(" \u00a0,:;—-") + "…"


class Issue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    issue: IssueId
    date: dt.date
    title: ShortText
    intro: IntroText
    articles: list[Article] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Issue:
        _require_unique("article slug", (a.slug for a in self.articles))
        return self

    def article(self, slug: str) -> Article | None:
        return next((a for a in self.articles if a.slug == slug), None)

    @classmethod
    def from_stored(cls, body: str) -> Issue:
        """An issue as `publish` recorded it (JSON in the database)."""
        return cls.model_validate_json(body, context={"stored": True})


def _require_unique(what: str, values: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


class ContentError(Exception):
    """A content file is broken; the message names the file, the field and the problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _describe(path: Path, error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(file)"
        problems.append(f"{path}: {where}: {item['msg']}")
    return problems


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings: pydantic validates them with a clear
    message, where YAML's own resolver would crash on "2023-13-45"."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ContentError([f"{path}: cannot be read: {error}".replace("\n", " ")]) from None


def load_topics(path: Path) -> list[Topic]:
    try:
        return TopicsFile.model_validate(_read_yaml(path)).topics
    except ValidationError as error:
        raise ContentError(_describe(path, error)) from None


def load_issue(path: Path, topic_slugs: set[str]) -> Issue:
    try:
        issue = Issue.model_validate(_read_yaml(path))
    except ValidationError as error:
        raise ContentError(_describe(path, error)) from None
    problems = []
    if path.stem != issue.issue:
        problems.append(f"{path}: issue: {issue.issue!r} does not match the file name")
    for index, article in enumerate(issue.articles):
        for slug in article.topics:
            if slug not in topic_slugs:
                problems.append(f"{path}: articles.{index}.topics: unknown topic {slug!r}")
    if problems:
        raise ContentError(problems)
    return issue


@dataclass(frozen=True, slots=True)
class ArticleRef:
    issue: Issue
    article: Article


_LIBRARY_SERIALS = itertools.count(1)


@dataclass
class Library:
    """Every topic and issue, indexed for the menus; issues newest first."""

    topics: list[Topic]
    issues: list[Issue] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._topics = {t.slug: t for t in self.topics}
        # (serial, version) names this content exactly: screens are cached by it.
        self.serial = next(_LIBRARY_SERIALS)
        self.version = 0
        self._listeners: list[Callable[[Issue], None]] = []
        self._reindex()

    def on_issue(self, listener: Callable[[Issue], None]) -> None:
        """Call `listener(issue)` for every issue added from now on (the search index
        follows publishing this way, without a restart)."""
        self._listeners.append(listener)

    def _reindex(self) -> None:
        self.version += 1
        self.issues.sort(key=lambda i: (i.date, i.issue), reverse=True)
        self._issues = {i.issue: i for i in self.issues}
        by_topic: dict[str, list[ArticleRef]] = {slug: [] for slug in self._topics}
        for issue in self.issues:
            for article in issue.articles:
                for slug in article.topics:
                    # A published issue may name a topic since removed from topics.yaml:
                    # its articles stay in the issue and under their other topics.
                    if slug in by_topic:
                        by_topic[slug].append(ArticleRef(issue, article))
        self._by_topic = by_topic

    def add_issue(self, issue: Issue) -> None:
        """Add or replace a published issue; topic cards include it at once."""
        self.add_issues([issue])

    def add_issues(self, issues: Iterable[Issue]) -> None:
        new = {issue.issue: issue for issue in issues}
        self.issues = [i for i in self.issues if i.issue not in new] + list(new.values())
        self._reindex()
        for issue in new.values():
            for listener in self._listeners:
                listener(issue)

    def topic(self, slug: str) -> Topic | None:
        return self._topics.get(slug)

    def issue(self, issue_id: str) -> Issue | None:
        return self._issues.get(issue_id)

    @property
    def latest(self) -> Issue | None:
        return self.issues[0] if self.issues else None

    def articles_on(self, topic_slug: str) -> list[ArticleRef]:
        return self._by_topic.get(topic_slug, [])

    def article(self, issue_id: str, slug: str) -> ArticleRef | None:
        issue = self._issues.get(issue_id)
        article = issue.article(slug) if issue else None
        return ArticleRef(issue, article) if issue and article else None


@dataclass
class IssueFiles:
    """Every file in digests/: the ones that load, by issue id, and the problems of the
    others (each naming the file and the field)."""

    issues: dict[str, Issue] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def load_issue_files(content_dir: Path, topic_slugs: set[str]) -> IssueFiles:
    """Load every digests/*.yaml, collecting problems instead of stopping at the first.

    A file is only a file: what users see is what was published (the database). Files
    are drafts, and the issues this project ships (see `load_shipped`)."""
    files = IssueFiles()
    for path in sorted((content_dir / "digests").glob("*.yaml")):
        try:
            issue = load_issue(path, topic_slugs)
        except ContentError as error:
            files.problems.extend(error.problems)
        else:
            files.issues[issue.issue] = issue
    return files


SHIPPED_FILE = "shipped-issues.yaml"


class ShippedFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    shipped: list[IssueId] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ShippedFile:
        _require_unique("issue", self.shipped)
        return self


def load_shipped(content_dir: Path) -> list[str]:
    """The issues this project ships as published (`shipped-issues.yaml`): a bot records
    each one as published, without a broadcast, the first time it starts with it. No
    file means none."""
    path = content_dir / SHIPPED_FILE
    if not path.exists():
        return []
    try:
        return ShippedFile.model_validate(_read_yaml(path)).shipped
    except ValidationError as error:
        raise ContentError(_describe(path, error)) from None


def check_content(content_dir: Path) -> tuple[list[str], list[str]]:
    """Validate topics, every digest file (published or draft), the list of shipped
    issues and the canned answers: (a summary line per part, problems)."""
    lines: list[str] = []
    problems: list[str] = []
    try:
        topics = load_topics(content_dir / "topics.yaml")
    except ContentError as error:
        problems.extend(error.problems)
        topics = []
    files = load_issue_files(content_dir, {t.slug for t in topics})
    problems.extend(files.problems)
    try:
        shipped = load_shipped(content_dir)
    except ContentError as error:
        problems.extend(error.problems)
        shipped = []
    digests = content_dir / "digests"
    for issue_id in shipped:
        if not (digests / f"{issue_id}.yaml").exists():
            problems.append(f"{content_dir / SHIPPED_FILE}: shipped: no file {issue_id}.yaml")
    articles = sum(len(issue.articles) for issue in files.issues.values())
    lines.append(
        f"content: {len(topics)} topics, {len(files.issues)} issue files, {articles} articles"
    )
    others = sorted(set(files.issues) - set(shipped))
    lines.append(
        f"shipped as published: {', '.join(shipped) or 'none'}; "
        f"other issue files (drafts unless published): {', '.join(others) or 'none'}"
    )
    try:
        lines.append(f"canned answers: {len(load_canned(content_dir))}")
    except ContentError as error:
        problems.extend(error.problems)
    return lines, problems


class CannedAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
    text: LongText


class CannedFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    canned: list[CannedAnswer] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> CannedFile:
        _require_unique("canned answer name", (c.name for c in self.canned))
        return self


def load_canned(content_dir: Path) -> dict[str, CannedAnswer]:
    """Canned answers by name; no file means none."""
    path = content_dir / "canned.yaml"
    if not path.exists():
        return {}
    try:
        answers = CannedFile.model_validate(_read_yaml(path)).canned
    except ValidationError as error:
        raise ContentError(_describe(path, error)) from None
    return {answer.name: answer for answer in answers}


def load_files_library(content_dir: Path) -> Library:
    """Topics and every issue FILE, drafts too: for tools that judge the content (the
    search benchmark and its evaluation), never for what users are served."""
    topics = load_topics(content_dir / "topics.yaml")
    files = load_issue_files(content_dir, {topic.slug for topic in topics})
    if files.problems:
        raise ContentError(files.problems)
    return Library(topics=topics, issues=list(files.issues.values()))
