"""The words: plural forms, paging labels, one English term each, Russian typography."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import screens
from bot.content import Issue, Library, load_issue, load_topics
from bot.i18n import Localizations
from tests.conftest import ROOT

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def localizations() -> Localizations:
    return Localizations(ROOT / "locales", "ru")


@pytest.mark.parametrize(
    ("limit", "questions"),
    [(1, "1 вопрос"), (3, "3 вопроса"), (5, "5 вопросов"), (21, "21 вопрос"), (22, "22 вопроса")],
)
def test_ask_too_many_agrees_with_every_number(
    localizations: Localizations, limit: int, questions: str
) -> None:
    text = localizations.get("ru").text("ask-too-many", limit=limit)
    expected = f"У вас уже {questions} без ответа — пока больше задать нельзя."
    assert text.splitlines()[0].replace(NBSP, " ") == expected


def test_ask_preview_more_has_english_plurals(localizations: Localizations) -> None:
    en = localizations.get("en")
    assert en.text("ask-preview-more", count=1) == "(and 1 more character)"
    assert en.text("ask-preview-more", count=2) == "(and 2 more characters)"


def test_paging_labels_point_the_way_they_go(localizations: Localizations) -> None:
    topics = load_topics(ROOT / "data" / "topics.yaml")
    seed = load_issue(ROOT / "data" / "digests" / "2023-09.yaml", {t.slug for t in topics})
    issues = [
        Issue.model_validate(
            {**seed.model_dump(), "issue": f"2022-{month:02d}", "date": f"2022-{month:02d}-28"}
        )
        for month in range(1, 13)
    ]
    library = Library(topics=topics, issues=issues)
    for locale, newer, older in (("ru", "← Новее", "Раньше →"), ("en", "← Newer", "Older →")):
        view = screens.topic_card(localizations.get(locale), library, "courts", 1)
        assert view is not None
        labels = [b.text for row in view.markup.inline_keyboard for b in row]
        assert newer in labels and older in labels
        assert labels.index(newer) < labels.index(older)


def _english_values(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "en" and isinstance(v, str)]
        return found + [s for v in node.values() for s in _english_values(v)]
    if isinstance(node, list):
        return [s for v in node for s in _english_values(v)]
    return []


def _russian_values(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "ru" and isinstance(v, str)]
        return found + [s for v in node.values() for s in _russian_values(v)]
    if isinstance(node, list):
        return [s for v in node for s in _russian_values(v)]
    return []


def _data_files() -> list[Path]:
    """The content people read (search.yaml is a list of words people type, not prose)."""
    return [
        *sorted(p for p in (ROOT / "data").glob("*.yaml") if p.name != "search.yaml"),
        *sorted((ROOT / "data" / "digests").glob("*.yaml")),
    ]


# One English term for each thing, in American spelling (-ize, "canceled").
DRIFT = {
    r"\bmilitary offices?\b": "military enlistment office",
    r"\bmilitary registration and enlistment offices?\b": "military enlistment office",
    r"\bMinistry of Internal Affairs\b": "Interior Ministry (MVD)",
    r"\bdeferment\b": "reservation (бронь), unless the article is about a deferment",
    r"\bservicem[ae]n\b": "service members",
    r"\b(organis|mobilis|recognis|realis|familiaris|apologis|authoris|summaris|criticis)\w*": "-ize",
    r"\b(cancelled|favour|behaviour|defence|colour|centre|licence)\b": "American spelling",
}


def test_english_keeps_one_term_for_each_thing() -> None:
    texts = {f"{path}": "\n".join(_english_values(yaml.safe_load(path.read_text("utf-8"))))
             for path in _data_files()}  # fmt: skip
    for path in sorted((ROOT / "locales" / "en").glob("*.ftl")):
        # The texts, not the keys (`ask-cancelled` is a name, not English).
        source = path.read_text(encoding="utf-8")
        texts[str(path)] = re.sub(r"(?m)^-?[\w-]+ =", "", source)
    problems = [
        f"{where}: {match.group(0)!r} (use {instead})"
        for where, text in texts.items()
        for pattern, instead in DRIFT.items()
        for match in re.finditer(pattern, text, flags=re.IGNORECASE)
    ]
    assert problems == []


def test_russian_content_keeps_dashes_and_short_words_from_wrapping_alone() -> None:
    problems = []
    for path in _data_files():
        for text in _russian_values(yaml.safe_load(path.read_text(encoding="utf-8"))):
            for match in re.finditer(r"(?<![\w-])[вксоуиаяВКСОУИАЯ] | —", text):
                problems.append(
                    f"{path}: ...{text[max(match.start() - 20, 0) : match.end() + 10]}..."
                )
    assert problems == []
