"""Search: the evaluation set must not regress, and the engine's pieces work alone."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import statistics
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bench.search import EVAL_PATH, evaluate, load_eval, synthetic_library
from bot.cli import check
from bot.content import ContentError, Issue, Library, Topic, load_files_library
from bot.search import SearchConfig, SearchIndex, load_search_config

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "data"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_files_library(CONTENT)


@pytest.fixture(scope="module")
def config() -> SearchConfig:
    return load_search_config(CONTENT)


@pytest.fixture(scope="module")
def index(library: Library, config: SearchConfig) -> SearchIndex:
    return SearchIndex.build(library, config)


def slugs(index: SearchIndex, query: str, locale: str = "ru") -> list[str]:
    return [hit.slug for hit in index.search(query, locale)]


def first(index: SearchIndex, query: str) -> str | None:
    hits = index.search(query, "ru")
    return hits[0].slug if hits else None


# ------------------------------------------------------------------------ evaluation


def test_evaluation_set_is_as_large_and_mixed_as_promised(library: Library) -> None:
    queries = load_eval()
    in_scope = [q for q in queries if q.expect]
    russian = [q for q in in_scope if q.russian]
    assert len(in_scope) >= 60
    assert len(queries) - len(in_scope) >= 15
    assert 0.6 <= len(russian) / len(in_scope) <= 0.72
    known = {a.slug for i in library.issues for a in i.articles}
    known |= {f"topic:{t.slug}" for t in library.topics}
    assert {label for q in in_scope for label in q.expect} <= known


def test_evaluation_does_not_regress(index: SearchIndex) -> None:
    # Reached when written: hits@1 95.9 %, hits@3 98.6 %, 1 of 41 out of scope suggested.
    result = evaluate(index, load_eval(EVAL_PATH))
    assert result.hits1_rate >= 0.93, result.misses
    assert result.hits3_rate >= 0.97, result.misses
    assert result.suggested_rate <= 0.06, result.misses


# ---------------------------------------------------------------------- small content


def topic(slug: str, ru: str, en: str) -> Topic:
    return Topic.model_validate(
        {"slug": slug, "name": {"ru": ru, "en": en}, "description": {"ru": ru, "en": en}}
    )


def issue(issue_id: str, *articles: dict[str, Any]) -> Issue:
    year, month = map(int, issue_id.split("-"))
    text = {"ru": "Выпуск", "en": "Issue"}
    return Issue.model_validate(
        {
            "issue": issue_id,
            "date": dt.date(year, month, 28),
            "title": text,
            "intro": text,
            "articles": list(articles),
        }
    )


def article(slug: str, ru: str, en: str, title: tuple[str, str] = ("", "")) -> dict[str, Any]:
    return {
        "slug": slug,
        "topics": ["misc"],
        "title": {"ru": title[0] or ru[:100], "en": title[1] or en[:100]},
        "button": {"ru": slug, "en": slug},
        "summary": {"ru": ru, "en": en},
        "text": {"ru": ru, "en": en},
    }


SUMMONS = article(
    "summons",
    "Что делать, если пришла повестка: вручить её могут только лично под подпись",
    "What to do when a summons arrives: it can only be handed over in person",
)
PASSPORT = article(
    "passport",
    "Заграничный паспорт выдают и тем, кто состоит на воинском учёте",
    "A foreign passport is issued to those on the military register as well",
)
OFFICE = article(
    "office",
    "Военный комиссариат не вправе удерживать ваши документы",
    "The military commissariat may not keep your documents",
)
FOREIGN_AGENT = article(
    "agent",
    "Иностранный агент обязан сдавать отчёты в министерство",
    "A foreign agent must report to the ministry",
)
RESERVATION = article(
    "reservation",
    "Бронирование работников от мобилизации оформляет работодатель",
    "The employer arranges the reservation of employees from mobilization",
)


FILLER = [
    article(
        f"filler-{n}",
        f"Студенты очной формы учёбы {n} получают отсрочку до окончания вуза",
        f"Full-time students {n} get a deferment until they graduate",
    )
    for n in range(3)
]


def small(config: SearchConfig, *issues: Issue) -> SearchIndex:
    """The issues beside an older one of other articles: with two or three documents
    every word is in most of them and tells too little (BM25's idf) to be offered."""
    filler = issue("2020-01", *FILLER)
    topics = [topic("misc", "Разное", "Miscellany")]
    return SearchIndex.build(Library(topics=topics, issues=[*issues, filler]), config)


@pytest.fixture(scope="module")
def tiny(config: SearchConfig) -> SearchIndex:
    return small(config, issue("2024-01", SUMMONS, PASSPORT, OFFICE, FOREIGN_AGENT, RESERVATION))


@pytest.mark.parametrize("query", ["повестка", "повестки", "повесткой", "повестку пришла"])
def test_russian_word_forms_meet(tiny: SearchIndex, query: str) -> None:
    assert first(tiny, query) == "summons"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("загранпаспорт", "passport"),
        ("заграничного паспорта", "passport"),
        ("загранник", "passport"),
        ("паспорт для выезда", "passport"),
        ("военкомат", "office"),
        ("военкомата", "office"),
        ("иноагент", "agent"),
        ("иноагентам", "agent"),
        ("бронь", "reservation"),
        ("броня от мобилизации", "reservation"),
        ("draft office", "office"),
        ("international passport", "passport"),
    ],
)
def test_synonyms_and_their_forms_meet(tiny: SearchIndex, query: str, expected: str) -> None:
    assert first(tiny, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("повестак", "summons"),
        ("загранпаспрот", "passport"),
        ("военкамат", "office"),
        ("иноогент", "agent"),
        ("бронирывание", "reservation"),
        ("forein pasport", "passport"),
    ],
)
def test_typos_are_corrected(tiny: SearchIndex, query: str, expected: str) -> None:
    assert first(tiny, query) == expected


def test_typos_of_the_real_digest(index: SearchIndex) -> None:
    assert first(index, "загранпаспрот не дают") == "passport-certificate"
    assert first(index, "электроный реест") == "e-registry-postponed"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "!!! ??? ...",
        "🙂🙂🙂",
        "a",
        "и в на",
        "привет",
        "hi there",
        "спасибо большое",
        "ыыыыыыы ъъъъ",
        "12345",
        "\x00\u202e\ufeff",
    ],
)
def test_nothing_for_empty_or_garbage(index: SearchIndex, query: str) -> None:
    assert index.search(query, "ru") == []


def test_huge_input_is_cut_and_fast(index: SearchIndex) -> None:
    # Only the first 4096 characters are read (the words past them do not count), which
    # bounds the cost of any message; bench.search prints the worst case's time.
    huge = "загранпаспорт военкомат " * 20_000 + "бронь " * 20_000
    hits = index.search(huge, "ru")
    assert hits[0].slug == "passport-certificate"
    assert [hit.slug for hit in hits] == [hit.slug for hit in index.search(huge[:4096], "ru")]
    garbage = "".join(chr(0x400 + (i * 7919) % 0x5000) for i in range(100_000))
    assert index.search(garbage, "ru") == index.search(garbage[:4096], "ru")


def test_limit(index: SearchIndex) -> None:
    assert len(index.search("военкомат мобилизация суд бронь", "ru", limit=1)) == 1
    assert index.search("военкомат", "ru", limit=0) == []


def test_both_languages_whatever_the_locale(index: SearchIndex) -> None:
    for query in ("загранпаспорт справка военкомат", "foreign passport military office"):
        assert slugs(index, query, "ru") == slugs(index, query, "en")
        assert slugs(index, query, "en")[0] == "passport-certificate"


def test_topics_are_found(index: SearchIndex) -> None:
    hits = index.search("суды и обжалование", "ru")
    assert ("topic", "courts", None) in [(h.kind, h.slug, h.issue) for h in hits]


def test_hits_name_the_issue(index: SearchIndex) -> None:
    hit = index.search("бронь мобилизация", "ru")[0]
    assert (hit.kind, hit.issue, hit.slug) == ("article", "2023-09", "reservation-cassation")


# ----------------------------------------------------------------- adding and ties


def test_added_issue_is_searchable_at_once(config: SearchConfig) -> None:
    index = small(config, issue("2024-01", SUMMONS))
    assert index.search("альтернативная гражданская служба", "ru") == []
    ags_article = article(
        "ags",
        "Альтернативная гражданская служба: как подать заявление",
        "Alternative civilian service: how to apply",
    )
    index.add_issue(issue("2024-02", ags_article))
    hits = index.search("альтернативная гражданская служба", "ru")
    assert [(h.issue, h.slug) for h in hits] == [("2024-02", "ags")]
    assert first(index, "повестка") == "summons"


def test_replacing_an_issue_leaves_no_old_copy(config: SearchConfig) -> None:
    index = small(config, issue("2024-01", SUMMONS, PASSPORT))
    index.add_issue(issue("2024-01", SUMMONS))
    assert [h.slug for h in index.search("повестка", "ru")] == ["summons"]
    assert index.search("заграничный паспорт", "ru") == []
    assert index.size == 5  # the topic, one article and the three of the filler


@pytest.mark.parametrize("newest_added_last", [True, False])
def test_newest_issue_first_among_equal_scores(
    config: SearchConfig, newest_added_last: bool
) -> None:
    old, new = issue("2023-11", SUMMONS), issue("2024-03", SUMMONS)
    index = small(config, *((old,) if newest_added_last else (new,)))
    index.add_issue(new if newest_added_last else old)
    hits = index.search("повестка", "ru")
    assert [h.issue for h in hits] == ["2024-03", "2023-11"]
    assert hits[0].score == hits[1].score


def test_adding_an_issue_does_not_analyse_the_others_again(
    library: Library, config: SearchConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = SearchIndex.build(synthetic_library(library, issues=20), config)
    analysed: list[str] = []
    original = index.analyzer.index_terms

    def counting(text: str) -> list[str]:
        analysed.append(text)
        return original(text)

    monkeypatch.setattr(index.analyzer, "index_terms", counting)
    index.add_issue(issue("2030-01", SUMMONS))
    assert len(analysed) == 4  # title, summary, topic names and text of one article
    assert first(index, "повестка") == "summons"


# ------------------------------------------------------------------ speed, privacy


def test_fast_enough_at_500_articles(library: Library, config: SearchConfig) -> None:
    index = SearchIndex.build(synthetic_library(library), config)
    assert index.size > 500
    timings = []
    for query in load_eval():
        start = time.perf_counter()
        index.search(query.text, "ru")
        timings.append(time.perf_counter() - start)
    # The benchmark measures p99 (about 3 ms here); a test on a shared machine checks
    # only that nothing is an order of magnitude off.
    assert statistics.median(timings) < 0.02


def test_query_is_neither_logged_nor_remembered(
    index: SearchIndex, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "меня зовут иваниванов живу улица ленина загранпаспорт"
    before = dict(index.analyzer.vocabulary)
    with caplog.at_level(logging.DEBUG):
        index.search(secret, "ru")
    assert caplog.records == []
    assert index.analyzer.vocabulary == before


# ----------------------------------------------------------------------- the file


def test_search_file_is_validated(tmp_path: Path) -> None:
    (tmp_path / "search.yaml").write_text(
        "synonyms:\n  - name: a\n    words: [x]\n  - name: a\n    words: [y]\n", encoding="utf-8"
    )
    with pytest.raises(ContentError, match="duplicate synonym group"):
        load_search_config(tmp_path)
    (tmp_path / "search.yaml").write_text(
        "synonyms:\n  - name: a\n    words: [и в]\nstopwords:\n  ru: и в\n", encoding="utf-8"
    )
    with pytest.raises(ContentError, match="only stopwords"):
        load_search_config(tmp_path)
    (tmp_path / "search.yaml").write_text("synonyms:\n  - name: Bad Name\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"search\.yaml"):
        load_search_config(tmp_path)


def test_check_command_validates_the_search_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(CONTENT, ROOT / "locales") == []
    assert "synonym groups" in capsys.readouterr().out
    shutil.copytree(CONTENT, tmp_path, dirs_exist_ok=True)
    (tmp_path / "search.yaml").write_text("synonyms: 3\n", encoding="utf-8")
    assert any("search.yaml: synonyms" in p for p in check(tmp_path, ROOT / "locales"))


def test_no_search_file_means_no_synonyms(tmp_path: Path) -> None:
    assert load_search_config(tmp_path) == SearchConfig()


def test_search_file_is_bundled_into_the_wheel() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    bundled = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert bundled["data/search.yaml"] == "bot/_bundled/data/search.yaml"
