"""Search over the digest: the articles and topics that answer a question in the user's words.

No aiogram here. Build one `SearchIndex` at start (`SearchIndex.build`), add each newly
published issue with `add_issue`, and call `search` from a handler: it is synchronous and
takes about a millisecond (a few for a long message), so it runs on the event loop.

How it works: words are reduced to Snowball stems (Russian and English), the words of one
synonym group (`data/search.yaml`) also become one shared token, a word the content does
not have is corrected to the nearest word it has (typos), and documents are ranked with
BM25F over title, summary, topic names and text in both languages. A hit must score
`min_score` or more and hold enough of the question's words: an unrelated suggestion
misleads someone in danger, so a question the digest does not cover gets an empty list.

Privacy: the query is user content. Nothing here logs it, stores it or caches it; only
the words of the content are remembered between calls.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Protocol

import Stemmer
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.content import ArticleRef, ContentError, Issue, Library, Topic, _describe, _read_yaml

# ---------------------------------------------------------------------------- the file


class SynonymGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
    words: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]] = Field(
        min_length=1
    )


class Stopwords(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ru: str = ""
    en: str = ""

    def all(self) -> list[str]:
        return words_of(f"{self.ru} {self.en}")


class SearchConfig(BaseModel):
    """`data/search.yaml`: synonym groups and stopwords."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    synonyms: list[SynonymGroup] = Field(default_factory=list)
    stopwords: Stopwords = Field(default_factory=Stopwords)

    @model_validator(mode="after")
    def _unique(self) -> SearchConfig:
        seen: set[str] = set()
        for group in self.synonyms:
            if group.name in seen:
                raise ValueError(f"duplicate synonym group {group.name!r}")
            seen.add(group.name)
        return self


def load_search_config(content_dir: Path) -> SearchConfig:
    """`content_dir/search.yaml`; no file means no synonyms (search still works, worse)."""
    path = content_dir / "search.yaml"
    if not path.exists():
        return SearchConfig()
    try:
        config = SearchConfig.model_validate(_read_yaml(path))
    except ValidationError as error:
        raise ContentError(_describe(path, error)) from None
    stop = set(config.stopwords.all())
    problems = [
        f"{path}: synonyms.{index}.words: {phrase!r} has only stopwords"
        for index, group in enumerate(config.synonyms)
        for phrase in group.words
        if all(word in stop for word in words_of(phrase))
    ]
    if problems:
        raise ContentError(problems)
    return config


# ----------------------------------------------------------------------- morphology

_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[а-я]")


def cyrillic(word: str) -> bool:
    return _CYRILLIC.search(word) is not None


def words_of(text: str) -> list[str]:
    """Lower-case words; ё is е, as most people type it."""
    return _WORD.findall(text.lower().replace("ё", "е"))


class Morphology(Protocol):
    """Reduces a word to the form under which it is indexed."""

    def term(self, word: str) -> str: ...

    def is_word(self, word: str) -> bool:
        """True if the word is known to be spelt right (then it is never corrected)."""
        ...


class StemMorphology:
    """Snowball stems: Russian for Cyrillic words, English for the rest. No dictionary, so
    no word counts as known: a word the content lacks may be corrected as a typo."""

    def __init__(self) -> None:
        self._russian = Stemmer.Stemmer("russian").stemWord
        self._english = Stemmer.Stemmer("english").stemWord

    def term(self, word: str) -> str:
        stem = self._russian if cyrillic(word) else self._english
        return str(stem(word))

    def is_word(self, word: str) -> bool:
        return False


# ------------------------------------------------------------------------- analysis


class Analyzer:
    """Text to index terms: stopwords out, words to terms, synonym phrases to a concept.

    A concept token ("~military-office") is added beside the words of the phrase, so an
    article with "военный комиссариат" and a query with "военкомат" meet on it.
    """

    def __init__(self, morphology: Morphology, config: SearchConfig) -> None:
        self.morphology = morphology
        self._stop = set(config.stopwords.all())
        self._stop_terms = {morphology.term(word) for word in self._stop}
        # Term of every content word seen ("" for a stopword); never a query's word.
        self.vocabulary: dict[str, str] = {}
        # Words of the synonym file: a typo may be corrected to one ("загранпаспрот").
        self.synonym_words: set[str] = set()
        phrases: dict[str, set[tuple[tuple[str, ...], str]]] = {}
        for group in config.synonyms:
            for phrase in group.words:
                words = words_of(phrase)
                self.synonym_words.update(words)
                terms = tuple(self._terms(words, remember=True))
                if terms:
                    phrases.setdefault(terms[0], set()).add((terms, "~" + group.name))
        # Longest phrase first, so "draft office" wins over "draft".
        self._phrases = {
            first: sorted(options, key=lambda option: (-len(option[0]), option))
            for first, options in phrases.items()
        }

    def term(self, word: str) -> str:
        """The word's term, or "" if it says nothing (a stopword, a lone letter)."""
        term = self.vocabulary.get(word)
        if term is None:
            term = self._term(word)
        return term

    def _term(self, word: str) -> str:
        if (len(word) < 2 and not word.isdigit()) or word in self._stop:
            return ""
        term = self.morphology.term(word)
        return "" if term in self._stop_terms else term

    def _terms(self, words: Iterable[str], *, remember: bool) -> list[str]:
        vocabulary, out = self.vocabulary, []
        for word in words:
            term = vocabulary.get(word)
            if term is None:
                term = self._term(word)
                if remember:
                    vocabulary[word] = term
            if term:
                out.append(term)
        return out

    def concepts(self, terms: Sequence[str]) -> list[tuple[int, int, str]]:
        """(start, length, concept) of each synonym phrase in a sequence of terms."""
        found = []
        for start, first in enumerate(terms):
            for phrase, concept in self._phrases.get(first, ()):
                if tuple(terms[start : start + len(phrase)]) == phrase:
                    found.append((start, len(phrase), concept))
                    break
        return found

    def index_terms(self, text: str) -> list[str]:
        """Terms and concepts of a content text; its words are remembered."""
        terms = self._terms(words_of(text), remember=True)
        return terms + [concept for _, _, concept in self.concepts(terms)]


# -------------------------------------------------------------------------- the index


@dataclass(frozen=True, slots=True)
class SearchHit:
    """An article (its issue id and slug) or a topic (its slug; issue is None)."""

    kind: Literal["article", "topic"]
    slug: str
    issue: str | None
    score: float


@dataclass(frozen=True, slots=True)
class Tuning:
    """Ranking constants. Field weights: where a word stands says how much it tells."""

    title: float = 3.0
    summary: float = 2.0
    topics: float = 1.0
    text: float = 1.0
    k1: float = 1.2
    b: float = 0.5
    # A word corrected as a typo counts a little less than one typed right.
    typo_weight: float = 0.8
    # An article answers; a topic card is a list one tap further: at a similar score the
    # article comes first.
    topic_weight: float = 0.8
    # Below min_score nothing is offered; beside the best, nothing under rel_cut of it.
    min_score: float = 3.0
    rel_cut: float = 0.4
    # How much of a query is read (Telegram's message limit), how many words are
    # corrected, and how many of its most telling terms are scored (bounds a long one).
    max_query_chars: int = 4096
    max_typo_lookups: int = 12
    max_query_terms: int = 40
    min_typo_length: int = 5
    # Weights are recomputed for every document only when the average length of a
    # field has moved this much since they were (adding an issue is otherwise local).
    reweigh_drift: float = 0.2


_NO_DATE = dt.date.min


@dataclass(frozen=True, slots=True)
class _Doc:
    serial: int
    kind: Literal["article", "topic"]
    slug: str
    issue: str | None
    date: dt.date
    # Term counts and length of each field.
    fields: dict[str, tuple[Counter[str], int]]
    terms: frozenset[str]

    @property
    def order(self) -> tuple[bool, int, int]:
        """Among equal scores: articles before topics, newest issue first, then as the
        issue lists them."""
        return (self.kind == "topic", -self.date.toordinal(), self.serial)


@dataclass(frozen=True, slots=True)
class _Query:
    weights: dict[str, float]
    # For each distinct word of the query, the terms that stand for it (its own, concepts).
    words: list[frozenset[str]]


class SearchIndex:
    """Articles of every issue, and the topics, searchable in Russian and English."""

    def __init__(self, library: Library, analyzer: Analyzer, tuning: Tuning | None = None) -> None:
        self.analyzer = analyzer
        self.tuning = tuning or Tuning()
        self._topic_names = {t.slug: f"{t.name.ru} {t.name.en}" for t in library.topics}
        self._serials = itertools.count()
        self._docs: dict[int, _Doc] = {}
        self._postings: dict[str, list[tuple[int, float]]] = {}
        self._averages: dict[str, float] = {}
        docs = [self._topic_doc(topic) for topic in library.topics]
        for issue in library.issues:
            docs.extend(self._issue_docs(issue))
        self._add(docs)

    @classmethod
    def build(
        cls,
        library: Library,
        config: SearchConfig,
        *,
        morphology: Morphology | None = None,
        tuning: Tuning | None = None,
    ) -> SearchIndex:
        """Index every topic and article of the library."""
        return cls(library, Analyzer(morphology or StemMorphology(), config), tuning)

    def add_issue(self, issue: Issue) -> None:
        """Add an issue, or replace the one with its id: searchable at once. Only its
        articles are analysed."""
        docs = self._issue_docs(issue)
        if any(doc.issue == issue.issue for doc in self._docs.values()):
            self._docs = {s: d for s, d in self._docs.items() if d.issue != issue.issue}
            self._averages = {}  # Weigh and post everything again, without the old copy.
        self._add(docs)

    @property
    def size(self) -> int:
        """Documents indexed: topics and articles."""
        return len(self._docs)

    # ------------------------------------------------------------------ building

    def _doc(
        self, kind: Literal["article", "topic"], slug: str, issue: Issue | None, **texts: str
    ) -> _Doc:
        fields = {}
        for name, text in texts.items():
            terms = self.analyzer.index_terms(text)
            fields[name] = (Counter(terms), len(terms))
        return _Doc(
            next(self._serials),
            kind,
            slug,
            issue.issue if issue else None,
            issue.date if issue else _NO_DATE,
            fields,
            frozenset(term for counts, _ in fields.values() for term in counts),
        )

    def _topic_doc(self, topic: Topic) -> _Doc:
        return self._doc(
            "topic",
            topic.slug,
            None,
            title=f"{topic.name.ru} {topic.name.en}",
            summary=f"{topic.description.ru} {topic.description.en}",
        )

    def _issue_docs(self, issue: Issue) -> list[_Doc]:
        return [
            self._doc(
                "article",
                article.slug,
                issue,
                title=f"{article.title.ru} {article.title.en}",
                summary=f"{article.summary.ru} {article.summary.en}",
                topics=" ".join(self._topic_names.get(slug, "") for slug in article.topics),
                text=f"{article.text.ru} {article.text.en}",
            )
            for article in issue.articles
        ]

    def _add(self, docs: list[_Doc]) -> None:
        self._docs.update((doc.serial, doc) for doc in docs)
        lengths: dict[str, list[int]] = {}
        for doc in self._docs.values():
            for name, (_, length) in doc.fields.items():
                lengths.setdefault(name, []).append(length)
        averages = {name: max(1.0, sum(ls) / len(ls)) for name, ls in lengths.items()}
        old = self._averages
        drift = self.tuning.reweigh_drift
        if set(averages) != set(old) or any(
            abs(averages[name] - old[name]) > drift * old[name] for name in averages
        ):
            # BM25 normalises by the average length: weigh every document again.
            self._averages, self._postings, docs = averages, {}, list(self._docs.values())
        for doc in docs:
            for term, weight in self._weigh(doc).items():
                self._postings.setdefault(term, []).append((doc.serial, weight))
        self._typo_candidates = self._candidates()

    def _weigh(self, doc: _Doc) -> dict[str, float]:
        """BM25F: field-weighted, length-normalised term frequency, then saturated."""
        tuning, averages = self.tuning, self._averages
        combined: dict[str, float] = {}
        for name, (counts, length) in doc.fields.items():
            norm = getattr(tuning, name) / (1 - tuning.b + tuning.b * length / averages[name])
            for term, count in counts.items():
                combined[term] = combined.get(term, 0.0) + count * norm
        boost = tuning.topic_weight if doc.kind == "topic" else 1.0
        k1 = tuning.k1
        return {term: boost * tf * (k1 + 1) / (tf + k1) for term, tf in combined.items()}

    def _candidates(self) -> dict[str, list[str]]:
        """Words of the content by first letter, the most widespread first: what a typo
        is corrected to."""
        spread: Counter[str] = Counter()
        for word, term in self.analyzer.vocabulary.items():
            posted = self._postings.get(term)
            if posted is not None and len(word) >= self.tuning.min_typo_length - 1:
                spread[word] = len(posted)
        for word in self.analyzer.synonym_words:
            if word not in spread and len(word) >= self.tuning.min_typo_length - 1:
                spread[word] = 0
        by_initial: dict[str, list[str]] = {}
        for word, _ in spread.most_common():
            by_initial.setdefault(word[0], []).append(word)
        return by_initial

    # ----------------------------------------------------------------- searching

    def _correct(self, word: str) -> str | None:
        """The content word a typo most likely meant, or None."""
        allowed = 1 if len(word) <= 7 else 2
        # Typos rarely hit the first letter; comparing within it keeps the lookup short.
        candidates = self._typo_candidates.get(word[0], ())
        match = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=allowed)
        return match[0] if match else None

    def _idf(self, term: str) -> float:
        posted = len(self._postings.get(term, ()))
        return math.log(1 + (len(self._docs) - posted + 0.5) / (posted + 0.5))

    def _analyse(self, query: str) -> _Query:
        """Terms of a query with their weights, and what stands for each word. Not kept."""
        tuning, analyzer = self.tuning, self.analyzer
        terms: list[str] = []
        weights: dict[str, float] = {}
        lookups = 0
        for word in words_of(query[: tuning.max_query_chars]):
            term = analyzer.term(word)
            if not term:
                continue
            weight = 1.0
            if (
                term not in self._postings
                and len(word) >= tuning.min_typo_length
                and lookups < tuning.max_typo_lookups
                and not word.isdigit()
                and not analyzer.morphology.is_word(word)
            ):
                lookups += 1
                corrected = self._correct(word)
                if corrected is not None:
                    term, weight = analyzer.term(corrected), tuning.typo_weight
            terms.append(term)
            weights[term] = max(weights.get(term, 0.0), weight)
        meanings: dict[str, set[str]] = {term: {term} for term in terms}
        for start, length, concept in analyzer.concepts(terms):
            weights[concept] = 1.0
            for term in terms[start : start + length]:
                meanings[term].add(concept)
        if len(weights) > tuning.max_query_terms:
            # A long message: score its most telling terms only, which bounds the time.
            telling = sorted(weights, key=lambda t: -weights[t] * self._idf(t))
            weights = {term: weights[term] for term in telling[: tuning.max_query_terms]}
        return _Query(weights, [frozenset(m) for m in meanings.values()])

    def _holds_enough(self, query: _Query, doc: _Doc) -> bool:
        """A hit must hold the one word of a one- or two-word question and two words of a
        longer one: a single shared word ("получить", "документы") proves nothing."""
        needed = min(2, (len(query.words) + 1) // 2)
        held = sum(1 for meanings in query.words if not meanings.isdisjoint(doc.terms))
        return held >= needed

    def _scores(self, query: _Query) -> dict[int, float]:
        scores: dict[int, float] = {}
        for term, weight in query.weights.items():
            posted = self._postings.get(term)
            if posted:
                factor = weight * self._idf(term)
                for serial, saturated in posted:
                    scores[serial] = scores.get(serial, 0.0) + factor * saturated
        return scores

    def search(self, query: str, locale: str, limit: int = 3) -> list[SearchHit]:
        """Up to `limit` hits, best first, newest issue first among equal scores; an empty
        list when nothing answers the query well enough.

        Both languages are searched whatever `locale` is, since people type in either;
        hits are ids, which the caller shows in the user's language.
        """
        del locale
        if limit <= 0:
            return []
        analysed = self._analyse(query)
        tuning, docs = self.tuning, self._docs
        # Rounded, so that equal texts score equal and the order decides between them.
        ranked = sorted(
            (-round(score, 9), docs[serial].order, serial)
            for serial, score in self._scores(analysed).items()
            if score >= tuning.min_score
        )
        hits: list[SearchHit] = []
        floor = tuning.min_score
        for negative, _, serial in ranked:
            score, doc = -negative, docs[serial]
            if score < floor or len(hits) == limit:
                break
            if not self._holds_enough(analysed, doc):
                continue
            if not hits:
                floor = max(floor, score * tuning.rel_cut)
            hits.append(SearchHit(doc.kind, doc.slug, doc.issue, score))
        return hits


RESULTS = 3


def find(
    index: SearchIndex, library: Library, text: str, locale: str, limit: int = RESULTS
) -> tuple[list[ArticleRef], list[Topic]]:
    """The articles and topics that answer `text` (already newest first among equals)."""
    articles: list[ArticleRef] = []
    topics: list[Topic] = []
    for hit in index.search(text, locale, limit):
        if hit.kind == "article" and hit.issue is not None:
            ref = library.article(hit.issue, hit.slug)
            if ref is not None:
                articles.append(ref)
        else:
            topic = library.topic(hit.slug)
            if topic is not None:
                topics.append(topic)
    return articles, topics
