"""Broadcast benchmark: the real worker, the Bot API emulator, 100,000 subscribers,
SIGKILL at about half, a restart, and a count of duplicates and of the never-delivered.

Time is shortened 20x so one run takes a few minutes: the emulator enforces
600 messages/s (Telegram's ~30/s) and 1/s per chat, and the bot sends at
BROADCAST_RATE 500/s (the default 25/s). CPU per message does not depend on the scale;
a rate far above ~600/s is bounded by aiogram's cost per request on one core (see
--rate 2500).

    .venv/bin/python -m bench.broadcast [--subscribers 100000] [--rate 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ISSUE = "2023-09"
SCALE = 20  # the emulator's 600/s stands for Telegram's 30/s


def worker_env(url: str, db: Path, rate: float) -> dict[str, str]:
    return {
        **os.environ,
        "BOT_TOKEN": "42:BENCH",
        "MODERATOR_CHAT_ID": "-1001",
        "TELEGRAM_API_URL": url,
        "DATABASE_PATH": str(db),
        "CONTENT_DIR": str(ROOT / "data"),
        "LOCALES_DIR": str(ROOT / "locales"),
        "BROADCAST_RATE": str(rate),
        "BROADCAST_LEASE": "3",
        "BROADCAST_RETRY_BASE": "0.05",
    }


async def prepare(db: Path, subscribers: int) -> None:
    """Users and subscriptions written in bulk, then the issue published (one transaction)."""
    from bot.config import Settings
    from bot.factory import open_app

    settings = Settings(
        _env_file=None, bot_token="42:BENCH", moderator_chat_id=-1001,
        telegram_api_url="http://127.0.0.1:9", database_path=db,
        content_dir=ROOT / "data", locales_dir=ROOT / "locales",
    )  # fmt: skip
    async with open_app(settings) as app:
        rows = [(1_000_000 + i, "ru" if i % 3 else "en", 0) for i in range(subscribers)]
        async with app.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO users (id, locale, created_at) VALUES (?, ?, ?)", rows
            )
            await conn.executemany(
                "INSERT INTO subscriptions (user_id, subscribed_at) VALUES (?, 0)",
                [(row[0],) for row in rows],
            )
        issue = app.library.issue(ISSUE)
        assert issue is not None
        result = await app.broadcasts.publish(issue)
        assert result.recipients == subscribers


async def worker() -> None:
    """One bot process: take the broadcast (waiting for a dead holder's lease) and send."""
    from bot.config import load_settings
    from bot.factory import open_app

    async with open_app(load_settings()) as app:
        while (issue := await app.broadcasts.claim()) is None:
            await asyncio.sleep(0.2)  # the killed process's lease has not expired yet
        started = time.perf_counter()
        progress = await app.broadcaster.run(issue)
        elapsed = time.perf_counter() - started
    print(
        json.dumps({"sent": progress.sent - progress.sent_at_start, "seconds": elapsed}), flush=True
    )


def spawn(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.broadcast", "--worker"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def rss_mb(pid: int) -> float:
    """Current resident size of a process (ru_maxrss of a child would count the parent's
    memory at fork, which here holds 100,000 recorded requests)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def sample_rss(pid: int, peak: list[float]) -> None:
    while True:
        peak[0] = max(peak[0], rss_mb(pid))
        await asyncio.sleep(0.25)


def reap(process: subprocess.Popen[str]) -> tuple[int, Any]:
    """Wait for the child and return its exit status and resource usage."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = status
    return status, usage


async def main(subscribers: int, rate: float) -> None:
    from bot.emulator import FakeTelegram

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        started = time.perf_counter()
        await prepare(db, subscribers)
        print(
            f"prepared {subscribers} subscribers and their deliveries in {time.perf_counter() - started:.1f} s"
        )

        # The emulator the tests and the sandbox use, without its call log (100,000
        # recorded requests would cost memory, not speed).
        fake = FakeTelegram(record_calls=False)
        fake.set_rate_limit(per_second=30 * SCALE, per_chat_per_second=1)
        await fake.start()
        env = worker_env(fake.url, db, rate)
        try:
            peak = [0.0]
            first = spawn(env)
            sampler = asyncio.create_task(sample_rss(first.pid, peak))
            t0 = time.perf_counter()
            half = subscribers // 2
            await fake.wait_until(lambda: fake.total_sent >= half, subscribers / rate * 4 + 30)
            first.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            _, usage_first = await asyncio.to_thread(reap, first)
            sampler.cancel()
            t_kill = time.perf_counter()
            sent_before = fake.total_sent
            second = spawn(env)
            sampler = asyncio.create_task(sample_rss(second.pid, peak))
            _, usage_second = await asyncio.to_thread(reap, second)
            sampler.cancel()
            t_end = time.perf_counter()
            assert second.stdout is not None
            report = json.loads(second.stdout.read().strip().splitlines()[-1])
        finally:
            await fake.stop()

    per_chat = fake.sent
    expected = {1_000_000 + i for i in range(subscribers)}
    duplicates = sum(1 for chat, n in per_chat.items() if n > 1 and chat in expected)
    never = len(expected - set(per_chat))
    assert fake.first_sent_at is not None
    first_rate = sent_before / (killed_at - fake.first_sent_at)
    second_rate = report["sent"] / report["seconds"]
    cpu = (
        usage_first.ru_utime + usage_first.ru_stime + usage_second.ru_utime + usage_second.ru_stime
    )
    total_sent = sum(per_chat.values())
    print(
        f"peak RSS of the emulator    {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (this process)"
    )
    print(f"subscribers                 {subscribers}")
    print(
        f"BROADCAST_RATE              {rate:.0f}/s  (server enforces {30 * SCALE}/s, 1/s per chat)"
    )
    print(
        f"achieved before the kill    {first_rate:.0f}/s  ({100 * first_rate / rate:.1f}% of the rate, from the first message)"
    )
    print(
        f"achieved after the restart  {second_rate:.0f}/s  ({100 * second_rate / rate:.1f}% of the rate)"
    )
    print(f"429 responses               {fake.rate_limited}")
    print(f"killed after                {sent_before} messages, {t_kill - t0:.1f} s")
    print(f"CPU per 1,000 messages      {1000 * cpu / total_sent:.3f} s (bot processes, user+sys)")
    print(f"peak RSS of a bot process   {peak[0]:.0f} MB (sampled every 0.25 s)")
    print(
        f"total wall time             {t_end - t0:.1f} s (includes start-ups and the 3 s lease of the killed process)"
    )
    print(f"messages sent               {total_sent}")
    print(f"duplicates                  {duplicates}")
    print(f"never delivered             {never}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=500.0)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker())
    else:
        asyncio.run(main(args.subscribers, args.rate))
