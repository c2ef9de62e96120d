"""Fluent texts: loading, lookup with a fallback chain, and the locale checks.

Every user-facing string comes from `locales/<lang>/*.ftl`. Handlers receive an `L10n`
for the user's language; a key missing there falls back to the default language.
String arguments are HTML-escaped here, because the bot sends HTML; pass `Html(...)`
for a fragment that is already safe markup.
"""

from __future__ import annotations

import ast
import html
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fluent.runtime import FluentBundle, FluentResource
from fluent.syntax import FluentParser, Visitor
from fluent.syntax import ast as ftl

log = logging.getLogger(__name__)

SUPPORTED_LOCALES = ("ru", "en")
# Telegram language codes whose speakers are best served in Russian.
RUSSIAN_SPEAKING = frozenset({"ru", "uk", "be", "kk", "ky"})


def locale_for_language_code(language_code: str | None) -> str:
    """ru for ru/uk/be/kk/ky (and their regional variants), en otherwise."""
    base = (language_code or "").split("-")[0].lower()
    return "ru" if base in RUSSIAN_SPEAKING else "en"


class Html(str):
    """A string that is already safe HTML and must not be escaped again."""

    __slots__ = ()


def _escape(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Html):
        return html.escape(value, quote=False)
    return value


class L10n:
    """The texts of one language, with the default language as fallback."""

    def __init__(self, locale: str, bundles: list[FluentBundle]) -> None:
        self.locale = locale
        self._bundles = bundles

    def text(self, key: str, /, **args: Any) -> str:
        safe = {name: _escape(value) for name, value in args.items()}
        # fluent.runtime refuses to insert a value over 2,500 characters ("{???}"):
        # long values go in as placeholders and are put in after formatting.
        long_values = {
            name: value
            for name, value in safe.items()
            if isinstance(value, str) and len(value) > 1000
        }
        for name in long_values:
            safe[name] = _PLACEHOLDER.format(name)
        for bundle in self._bundles:
            if bundle.has_message(key):
                message = bundle.get_message(key)
                if message.value is None:
                    continue
                value, errors = bundle.format_pattern(message.value, safe)
                if errors:
                    log.warning("text %s: %s", key, "; ".join(type(e).__name__ for e in errors))
                text = str(value)
                for name, long_value in long_values.items():
                    text = text.replace(_PLACEHOLDER.format(name), long_value)
                return text
        # A missing key is a bug that `check` reports; show the key, never crash.
        log.warning("text %s is missing", key)
        return key

    def words(self, key: str) -> list[str]:
        """A text that is a list of words (e.g. the words pseudonyms are made of)."""
        return self.text(key).split()


_PLACEHOLDER = "\x00{}\x00"


class Localizations:
    """All locales loaded from a directory; `get(locale)` gives the L10n for a user."""

    def __init__(self, locales_dir: Path, default_locale: str) -> None:
        self.default_locale = default_locale
        self.bundles: dict[str, FluentBundle] = {}
        for locale in SUPPORTED_LOCALES:
            bundle = FluentBundle([locale], use_isolating=False)
            for path in sorted((locales_dir / locale).glob("*.ftl")):
                bundle.add_resource(FluentResource(path.read_text(encoding="utf-8")))
            self.bundles[locale] = bundle
        self._l10n = {locale: L10n(locale, self._chain(locale)) for locale in SUPPORTED_LOCALES}

    def _chain(self, locale: str) -> list[FluentBundle]:
        chain = [self.bundles[locale]]
        if locale != self.default_locale:
            chain.append(self.bundles[self.default_locale])
        return chain

    def get(self, locale: str | None) -> L10n:
        return self._l10n.get(locale or self.default_locale, self._l10n[self.default_locale])


# ---- checks ---------------------------------------------------------------------------


@dataclass
class _MessageInfo:
    variables: set[str]
    where: str


def _variables(node: ftl.BaseNode) -> set[str]:
    found: set[str] = set()

    class Collector(Visitor):
        def visit_VariableReference(self, ref: ftl.VariableReference) -> None:
            found.add(ref.id.name)

    Collector().visit(node)
    return found


# Tags Telegram's HTML parse mode accepts; anything else makes it refuse the message.
TELEGRAM_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
     "tg-spoiler", "tg-emoji", "blockquote", "span"}
)  # fmt: skip
_TAG = re.compile(r"</?([^\s>/]+)")


def _unsupported_tags(message: ftl.Message) -> list[str]:
    found: list[str] = []

    class Collector(Visitor):
        def visit_TextElement(self, element: ftl.TextElement) -> None:
            found.extend(t for t in _TAG.findall(element.value) if t not in TELEGRAM_TAGS)

    Collector().visit(message)
    return found


def _parse_locale(locale_dir: Path, problems: list[str]) -> dict[str, _MessageInfo]:
    messages: dict[str, _MessageInfo] = {}
    parser = FluentParser()
    files = sorted(locale_dir.glob("*.ftl"))
    if not files:
        problems.append(f"{locale_dir}: no .ftl files")
    for path in files:
        source = path.read_text(encoding="utf-8")
        for entry in parser.parse(source).body:
            if isinstance(entry, ftl.Junk):
                line = source.count("\n", 0, entry.span.start) + 1 if entry.span else 0
                notes = "; ".join(str(a.message) for a in entry.annotations)
                problems.append(f"{path}:{line}: syntax error: {notes}")
            elif isinstance(entry, ftl.Message):
                name = entry.id.name
                for tag in _unsupported_tags(entry):
                    problems.append(f"{path}: {name}: <{tag}> is not HTML Telegram accepts")
                if name in messages:
                    problems.append(f"{path}: {name}: defined twice")
                if entry.value is None:
                    problems.append(f"{path}: {name}: has no value")
                messages[name] = _MessageInfo(_variables(entry), str(path))
    return messages


@dataclass(frozen=True)
class TextCall:
    key: str
    arguments: frozenset[str] | None  # None: the call passes **kwargs, names unknown
    where: str


def find_text_calls(source_dir: Path) -> Iterator[TextCall]:
    """Every `<something>.text("key", name=...)` in the bot's code."""
    for path in sorted(source_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "text"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                continue
            names = {kw.arg for kw in node.keywords}
            arguments = None if None in names else frozenset(n for n in names if n)
            yield TextCall(node.args[0].value, arguments, f"{path}:{node.lineno}")


# Keys the code builds at run time (f"ticket-state-{state}"), so the scan cannot see them.
DYNAMIC_KEYS = (
    *(f"language-name-{locale}" for locale in SUPPORTED_LOCALES),
    *(f"ticket-state-{s}" for s in ("new", "claimed", "answered", "closed")),
    *(f"kind-{k}" for k in ("text", "photo", "document", "voice", "video", "audio")),
    "kind-animation", "kind-other",
    *(f"{p}-{d}" for p in ("thread", "mod-history") for d in ("question", "follow_up", "answer")),
    *(f"mod-{what}-{why}" for what in ("ticket", "reply")
      for why in ("forgotten", "expired")),
    "mod-ticket-gone", "mod-reply-unknown", "forum-topic-forgotten", "forum-topic-expired",
    "card-confirm-close", "card-confirm-ban", "closed-unanswered", "post-failed-notice",
    "mod-history-note", "ask-daily-budget", "kind-album",
    *(f"command-{name}" for name in ("start", "ask", "search", "help", "language", "privacy",
      "queue", "ticket", "stats", "note", "canned", "ban", "unban", "publish", "broadcasts")),
    "about-text", "help-text", "ask-too-many", "banned-notice", "follow-up-gone",
    "my-questions-title", "my-questions-empty", "subscription-active", "subscription-inactive",
    "broadcast-status", "broadcast-done", "broadcasts-done", "broadcasts-running",
    "publish-confirm", "publish-cancel", "card-redacted-forgotten", "card-redacted-expired",
)  # fmt: skip


def check_locales(locales_dir: Path, source_dir: Path | None = None) -> list[str]:
    """Problems with the texts: syntax, keys missing from a locale, variables the
    code does not supply, keys the code asks for that do not exist."""
    problems: list[str] = []
    parsed = {loc: _parse_locale(locales_dir / loc, problems) for loc in SUPPORTED_LOCALES}
    all_keys = set().union(*(set(m) for m in parsed.values()))
    for locale, messages in parsed.items():
        for key in sorted(all_keys - set(messages)):
            problems.append(f"{locales_dir / locale}: {key}: missing (present in another locale)")
    for key in DYNAMIC_KEYS:
        if key not in all_keys:
            problems.append(f"{locales_dir}: {key}: missing (the code uses it)")
    if source_dir is not None:
        for call in find_text_calls(source_dir):
            if call.key not in all_keys:
                problems.append(f"{call.where}: text {call.key!r} does not exist in locales")
                continue
            if call.arguments is None:
                continue
            for locale, messages in parsed.items():
                info = messages.get(call.key)
                if info is None:
                    continue
                for name in sorted(info.variables - call.arguments):
                    problems.append(
                        f"{call.where}: {call.key}: variable ${name} used in {locale} "
                        "is not supplied"
                    )
    return problems
