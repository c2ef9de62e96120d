"""What one update costs, beside bare aiogram, and how that grows with the database.

The full bot (built by the app factory, real SQLite on disk, the real FSM storage) and
a bare aiogram Dispatcher with one handler that answers with one sendMessage are fed
the same updates in the same run, through Bots whose session records requests without
a network (bench/offline.py). Both are charged the same work per update: parsing its
JSON into an Update, then feeding it. They take turns on slices of the mix (full,
bare, full, bare...), so a slow moment of the machine falls on both; the ratio printed
is the median of the slices'. Then the same mix runs against databases already holding
1,000, 100,000 and 1,000,000 users (and as many tickets, messages, deliveries and FSM
rows), each in its own process so start-up time and peak RSS are its own.

    .venv/bin/python -m bench.updates                  # comparison, profile, growth
    .venv/bin/python -m bench.updates --sizes 1000     # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiosqlite
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, Message, Update

from bench.offline import RecordingSession
from bot.config import Settings
from bot.factory import App, open_app

ROOT = Path(__file__).resolve().parent.parent
MODERATORS = -1001
MODERATOR = 777
TOPICS = ["passport", "registration", "mobilization", "servicemen", "foreign-agents", "courts"]
ARTICLES = {
    "passport": "passport-certificate", "registration": "e-registry-postponed",
    "mobilization": "reservation-cassation", "servicemen": "servicemen-no-leave",
    "foreign-agents": "foreign-agent-appeal", "courts": "reservation-cassation",
}  # fmt: skip
HOT_QUERIES = {
    "user's language": "SELECT id, locale, created_at FROM users WHERE id = 5",
    "FSM state": "SELECT state, data FROM fsm_state WHERE key = 'fsm:5:5:default'",
    "open tickets of a user": "SELECT count(*) FROM tickets WHERE user_id = 5 AND state IN ('new', 'claimed')",
    "ticket of a group message": "SELECT id FROM tickets WHERE id = (SELECT ticket_id FROM group_messages WHERE chat_id = -1001 AND message_id = 5)",
    "ticket of an answer (follow-up)": "SELECT id FROM tickets WHERE id = (SELECT ticket_id FROM user_messages WHERE user_id = 5 AND message_id = 5)",
    "handled update ids": "SELECT update_id FROM inbox WHERE update_id IN (1, 2, 3)",
    "due outbox jobs": "SELECT id FROM outbox WHERE done_at IS NULL AND lane = 'group' AND next_attempt_at <= 0 ORDER BY next_attempt_at, id LIMIT 20",
    "due deliveries": "SELECT d.user_id FROM deliveries d JOIN users u ON u.id = d.user_id WHERE d.issue = '2023-09' AND d.state = 'pending' AND d.next_attempt_at <= 0 ORDER BY d.next_attempt_at LIMIT 64",
    "open queue": "SELECT id FROM tickets WHERE state IN ('new', 'claimed') ORDER BY created_at, id LIMIT 30",
}  # fmt: skip


SLICES = 5  # turns of full bot and bare aiogram


def settings_for(db: Path) -> Settings:
    return Settings(
        _env_file=None, bot_token="42:BENCH", moderator_chat_id=MODERATORS,
        telegram_api_url="http://127.0.0.1:9", database_path=db,
        content_dir=ROOT / "data", locales_dir=ROOT / "locales",
        flood_messages_per_minute=1000, max_open_tickets=1000,
    )  # fmt: skip


# ---- the database before the run ---------------------------------------------------------


async def seed(db: Path, users: int) -> None:
    """`users` users, each with a ticket (answered, its card mapped), a message, a
    delivery and an FSM row: what a deployment has after a year or two."""
    async with open_app(settings_for(db)) as app:
        chunk = 50_000
        issue = app.library.issue("2023-09")
        assert issue is not None
        async with app.db.transaction() as conn:
            # The seed issue is recorded as published at the first start (shipped).
            await conn.execute(
                "INSERT INTO broadcasts (issue, created_at, total, finished_at) VALUES ('2023-09', 0, ?, 1)",
                (users,),
            )
        for start in range(1, users + 1, chunk):
            ids = range(start, min(start + chunk, users + 1))
            async with app.db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO users (id, locale, created_at) VALUES (?, ?, 0)",
                    [(i, "ru" if i % 3 else "en") for i in ids],
                )
                await conn.executemany(
                    "INSERT INTO tickets (id, user_id, submit_key, locale, state, claimed_by, claimed_by_name, card_message_id, created_at, first_answer_at, closed_at) "
                    "VALUES (?, ?, ?, 'ru', ?, 1, 'M', ?, 0, 60, NULL)",
                    [(i, i, f"k{i}", "answered" if i % 2 else "closed", i) for i in ids],
                )
                await conn.executemany(
                    "INSERT INTO ticket_messages (ticket_id, direction, kind, text, created_at) VALUES (?, 'question', 'text', 'Старый вопрос', 0)",
                    [(i,) for i in ids],
                )
                await conn.executemany(
                    "INSERT INTO group_messages (chat_id, message_id, ticket_id) VALUES (?, ?, ?)",
                    [(MODERATORS, i, i) for i in ids],
                )
                await conn.executemany(
                    "INSERT INTO user_messages (user_id, message_id, ticket_id) VALUES (?, ?, ?)",
                    [(i, 10_000_000 + i, i) for i in ids],
                )
                await conn.executemany(
                    "INSERT INTO deliveries (user_id, issue, state, sent_at) VALUES (?, '2023-09', 'sent', 0)",
                    [(i,) for i in ids],
                )
                await conn.executemany(
                    "INSERT INTO subscriptions (user_id, subscribed_at) VALUES (?, 0)",
                    [(i,) for i in ids if i % 2],
                )
                await conn.executemany(
                    "INSERT INTO fsm_state (key, user_id, chat_id, state, data) VALUES (?, ?, ?, 'Browsing:menu', '{\"screen\": \"nav:home\"}')",
                    [(f"fsm:{i}:{i}:default", i, i) for i in ids],
                )
        await app.db.conn.execute("ANALYZE")


# ---- the mix of updates ------------------------------------------------------------------

_update_ids = iter(range(1, 10**9))


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Reader", "language_code": "ru"}


def message(user_id: int, text: str) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": random.randint(1, 10**6), "date": int(time.time()),
                            "chat": {"id": user_id, "type": "private"}, "from": _user(user_id), "text": text}  # fmt: skip
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": next(_update_ids), "message": body}


def click(user_id: int, data: str) -> dict[str, Any]:
    origin = {"message_id": 1, "date": int(time.time()), "chat": {"id": user_id, "type": "private"},
              "from": {"id": 42, "is_bot": True, "first_name": "Bench"}, "text": "menu"}  # fmt: skip
    return {"update_id": next(_update_ids), "callback_query": {
        "id": str(next(_update_ids)), "from": _user(user_id), "chat_instance": "c", "data": data, "message": origin}}  # fmt: skip


def moderator_reply(ticket_id: int) -> dict[str, Any]:
    chat = {"id": MODERATORS, "type": "supergroup", "title": "Moderators"}
    replied = {
        "message_id": ticket_id,
        "date": int(time.time()),
        "chat": chat,
        "from": {"id": 42, "is_bot": True, "first_name": "Bench"},
        "text": "card",
    }
    body = {"message_id": random.randint(10**6, 10**9), "date": int(time.time()), "chat": chat,
            "from": {"id": MODERATOR, "is_bot": False, "first_name": "Lawyer"}, "text": "Ответ юриста", "reply_to_message": replied}  # fmt: skip
    return {"update_id": next(_update_ids), "message": body}


Step = tuple[str, dict[str, Any] | None]  # (kind, update); None: "Send", built at run time


def sessions(users: list[int], answered_tickets: list[int]) -> list[list[Step]]:
    """What a visitor does: the menus, an article; every third asks a question; a
    moderator answers an old ticket as often."""
    result: list[list[Step]] = []
    for n, user_id in enumerate(users):
        topic = TOPICS[n % len(TOPICS)]
        steps: list[Step] = [
            ("/start", message(user_id, "/start")),
            ("menu click", click(user_id, "nav:topics")),
            ("topic card", click(user_id, f"tp:{topic}:0")),
            ("article", click(user_id, f"ar:2023-09:{ARTICLES[topic]}:{topic}:0")),
            ("menu click", click(user_id, "nav:home")),
        ]
        if n % 3 == 0:
            steps += [
                ("ask", click(user_id, f"ask:{topic}")),
                (
                    "question text",
                    message(
                        user_id, "Могут ли отказать в загранпаспорте без справки из военкомата?"
                    ),
                ),
                ("send", None),
                ("moderator reply", moderator_reply(answered_tickets[n % len(answered_tickets)])),
            ]
        result.append(steps)
    return result


async def send_update(app: App, user_id: int) -> dict[str, Any]:
    """The Send click needs the draft key the bot just made."""
    data = await app.storage.get_data(StorageKey(bot_id=42, chat_id=user_id, user_id=user_id))
    return click(user_id, f"dr:send:{data['draft']['key']}")


class RoundTrips:
    """Counts the hops to aiosqlite's thread that the measuring task makes (each costs
    ~100 µs of waiting on two cores): a figure that, unlike time, does not drift. A
    flush in a task of its own is not counted."""

    def __init__(self) -> None:
        self.count = 0
        self.task: asyncio.Task[Any] | None = None
        original: Any = aiosqlite.Connection._execute

        async def counted(connection: aiosqlite.Connection, fn: Any, *args: Any, **kw: Any) -> Any:
            if self.task is not None and asyncio.current_task() is self.task:
                self.count += 1
            return await original(connection, fn, *args, **kw)

        aiosqlite.Connection._execute = counted  # type: ignore[method-assign,assignment]


ROUND_TRIPS = RoundTrips()


async def run_mix(
    app: App,
    plan: list[list[Step]],
    latencies: dict[str, list[float]] | None = None,
    trips: dict[str, list[int]] | None = None,
) -> tuple[list[dict[str, Any]], float]:
    """Feed every step in order: (the raw updates fed, seconds spent parsing and
    feeding them); the latency and round trips of each feed go to `latencies` and
    `trips` by kind."""
    fed: list[dict[str, Any]] = []
    spent = 0.0
    ROUND_TRIPS.task = asyncio.current_task()
    for steps in plan:
        user_id = 0
        for kind, raw in steps:
            if raw is None:  # built from the bot's state: not charged
                raw = await send_update(app, user_id)
            t0 = time.perf_counter()
            update = Update.model_validate(raw, context={"bot": app.bot})
            before = ROUND_TRIPS.count
            t1 = time.perf_counter()
            await app.dp.feed_update(app.bot, update)
            t2 = time.perf_counter()
            spent += t2 - t0
            if latencies is not None:
                latencies[kind].append(t2 - t1)
            if trips is not None:
                trips[kind].append(ROUND_TRIPS.count - before)
            if update.message is not None and update.message.chat.type == "private":
                user_id = update.message.chat.id
            fed.append(raw)
    return fed, spent


def bare_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def answer_message(message: Message, bot: Bot) -> None:
        await bot.send_message(message.chat.id, "ok")

    @dp.callback_query()
    async def answer_click(callback: CallbackQuery, bot: Bot) -> None:
        await bot.send_message(callback.from_user.id, "ok")

    return dp


async def run_bare(dp: Dispatcher, bot: Bot, raws: list[dict[str, Any]]) -> float:
    """Seconds spent parsing and feeding `raws`, as run_mix charges the full bot."""
    spent = 0.0
    for raw in raws:
        t0 = time.perf_counter()
        update = Update.model_validate(raw, context={"bot": bot})
        await dp.feed_update(bot, update)
        spent += time.perf_counter() - t0
    return spent


async def full_beside_bare(
    app: App, plan: list[list[Step]], slices: int
) -> tuple[int, float, float, list[float], dict[str, list[float]], dict[str, list[int]]]:
    """The measured part of the mix in `slices` turns, each fed to the full bot, then
    the same updates to bare aiogram: (updates, full seconds, bare seconds, the ratio
    of each slice, latencies and round trips by kind)."""
    latencies: dict[str, list[float]] = defaultdict(list)
    trips: dict[str, list[int]] = defaultdict(list)
    dp, bot = bare_dispatcher(), Bot("42:BARE", session=RecordingSession())
    warm, _ = await run_mix(app, plan[:20])  # first calls build caches of code paths
    await run_bare(dp, bot, warm)
    plan = plan[20:]
    size = -(-len(plan) // slices)
    count, full, bare, ratios = 0, 0.0, 0.0, []
    for start in range(0, len(plan), size):
        gc.collect()
        fed, full_spent = await run_mix(app, plan[start : start + size], latencies, trips)
        t0 = time.perf_counter()
        await app.storage.flush()  # the menu positions it deferred are the full bot's work
        full_spent += time.perf_counter() - t0
        gc.collect()
        bare_spent = await run_bare(dp, bot, fed)
        count += len(fed)
        full, bare = full + full_spent, bare + bare_spent
        ratios.append(bare_spent / full_spent)
    return count, full, bare, ratios, latencies, trips


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def database_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.glob("bench.sqlite3*"))


# ---- one measured process ----------------------------------------------------------------


async def measure(
    db: Path, size: int, visitors: int, profile: bool, spawned: float
) -> dict[str, Any]:
    """In a fresh process, on a database seeded by another one: start-up, the mix, RSS."""
    db_size = database_size(db.parent)
    t0 = time.perf_counter()
    async with open_app(settings_for(db), session=RecordingSession()) as app:
        startup = time.perf_counter() - t0
        ready = time.time() - spawned  # interpreter, imports and open_app
        rng = random.Random(1)
        users = rng.sample(range(1, size + 1), k=min(visitors, size))
        answered = [u for u in users if u % 2][:100]
        plan = sessions(users, answered)
        if profile:  # a run of its own: only its profile is reported
            await run_mix(app, plan[:20])
            profiler = cProfile.Profile()
            profiler.enable()
            await run_mix(app, plan[20:])
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(10)
            return {"profile": out.getvalue()}
        count, seconds, bare_seconds, ratios, latencies, trips = await full_beside_bare(
            app, plan, SLICES
        )
        plans = {
            name: (await app.db.fetch_all(f"EXPLAIN QUERY PLAN {sql}"))
            for name, sql in HOT_QUERIES.items()
        }
    result: dict[str, Any] = {
        "size": size, "updates": count, "seconds": seconds, "rate": count / seconds,
        "bare_rate": count / bare_seconds, "ratios": ratios, "startup": startup, "ready": ready,
        "db_mb": db_size / 2**20, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "latency": {kind: {"p50_ms": 1000 * percentile(v, 0.5), "p99_ms": 1000 * percentile(v, 0.99), "n": len(v),
                           "trips": statistics.mean(trips[kind])}
                    for kind, v in latencies.items()},
        "plans": {name: [str(row[3]) for row in rows] for name, rows in plans.items()},
    }  # fmt: skip
    return result


def run_in_process(size: int, visitors: int, profile: bool) -> dict[str, Any]:
    """Seed in one process, measure in a fresh one: its own start-up and peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        common = ["--db", str(db), "--visitors", str(visitors)]
        subprocess.run(
            [sys.executable, "-m", "bench.updates", "--seed", str(size), *common],
            cwd=ROOT,
            check=True,
        )
        completed = subprocess.run(
            [sys.executable, "-m", "bench.updates", "--one", str(size), *common, "--spawned", str(time.time())]
            + (["--profile"] if profile else []),
            cwd=ROOT, capture_output=True, text=True, check=True, env=os.environ,
        )  # fmt: skip
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def report(results: list[dict[str, Any]], profiled: dict[str, Any]) -> None:
    base = results[0]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(
        f"\n== the full bot beside bare aiogram ({base['updates']} updates, {base['size']:,} users in the database)"
    )
    ratios = ", ".join(f"{100 * r:.1f}" for r in base["ratios"])
    print(f"full bot   {base['rate']:8.0f} updates/s (parsed and fed)")
    print(f"bare       {base['bare_rate']:8.0f} updates/s (one handler, one sendMessage)")
    print(
        f"ratio      {100 * statistics.median(base['ratios']):8.1f} %   (target: at least 40 %; median of {len(base['ratios'])} turns: {ratios})"
    )
    print("\nper update kind             p50 ms   p99 ms      n   SQLite round trips")
    for kind, f in base["latency"].items():
        print(
            f"  {kind:24s} {f['p50_ms']:7.2f}  {f['p99_ms']:7.2f}  {f['n']:5d}   {f['trips']:6.2f}"
        )
    trips = sum(f["trips"] * f["n"] for f in base["latency"].values())
    print(f"  {'all':24s} {'':7s}  {'':7s}  {base['updates']:5d}   {trips / base['updates']:6.2f}")
    if "profile" in profiled:
        print(
            f"\n== CPU profile of the full bot (a separate run under cProfile, {base['size']:,} users; top 10 by own time)"
        )
        print("\n".join(line for line in profiled["profile"].splitlines() if line.strip())[:4000])
    print(
        "\n== growth             users  updates/s  p99 menu click ms  db MB  open_app s  process ready s  peak RSS MB"
    )
    for r in results:
        p99 = r["latency"]["menu click"]["p99_ms"]
        print(
            f"  {r['size']:>18,} {r['rate']:10.0f} {p99:18.2f} {r['db_mb']:6.1f} {r['startup']:11.3f} {r['ready']:16.2f} {r['rss_mb']:12.0f}"
        )
    last = results[-1]
    print(f"\nthroughput at {last['size']:,} vs {base['size']:,}: {100 * last['rate'] / base['rate']:.1f} %;"
          f" p99 menu click: {100 * last['latency']['menu click']['p99_ms'] / base['latency']['menu click']['p99_ms']:.1f} %")  # fmt: skip
    print("\n== EXPLAIN QUERY PLAN of the hot queries (at the largest size)")
    for name, rows in last["plans"].items():
        print(f"  {name}: " + " | ".join(rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--visitors", type=int, default=1500)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled run")
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed is not None:
        asyncio.run(seed(args.db, args.seed))
        return
    if args.one is not None:
        result = asyncio.run(measure(args.db, args.one, args.visitors, args.profile, args.spawned))
        print(json.dumps(result))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [run_in_process(size, args.visitors, profile=False) for size in sizes]
    profiled = {} if args.no_profile else run_in_process(sizes[0], args.visitors, profile=True)
    report(results, profiled)


if __name__ == "__main__":
    main()
