"""One user floods; how long do the others wait?

The whole bot as `python -m bot` runs it (the app factory, the poller, the intake, the
outbox) in this process, against the Bot API emulator over HTTP on 127.0.0.1, which
enforces Telegram's limits: 1 message a second per chat (with 429s past it) and 30 a
second in all. One user sends `--flood` messages as fast as a client can; at the same
time `--others` users each send /start at a random moment. For each of them: the time
from the update being queued at "Telegram" to the bot's answer reaching it.

    .venv/bin/python -m bench.flood [--flood 200] [--others 60] [--spread 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bot.config import Settings
from bot.emulator import FakeTelegram, private_message
from bot.factory import open_app
from bot.polling import Poller
from bot.runner import serve

ROOT = Path(__file__).resolve().parent.parent
GROUP = -1001
FLOODER = 10_000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(flood: int, others: int, spread: float) -> None:
    fake = FakeTelegram(record_calls=True)
    fake.set_rate_limit(per_second=30, per_chat_per_second=1)
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None, bot_token="42:BENCH", moderator_chat_id=GROUP,
            telegram_api_url=fake.url, database_path=Path(tmp) / "flood.sqlite3",
            content_dir=ROOT / "data", locales_dir=ROOT / "locales", polling_timeout=1,
        )  # fmt: skip
        async with open_app(settings) as app:
            poller = Poller(app.bot, app.intake, timeout=1)
            serving = asyncio.create_task(serve(app, poller))
            await fake.wait_until(lambda: len(fake.calls_of("setMyCommands")) == 4, 30)
            sent_at: dict[int, float] = {}
            rng = random.Random(7)
            arrivals = sorted((rng.uniform(0, spread), 20_000 + n) for n in range(others))

            async def flooder() -> None:
                for n in range(flood):
                    fake.push_update(private_message(FLOODER, f"сообщение {n}"))
                    if n % 20 == 19:
                        await asyncio.sleep(0)  # a client sends in bursts

            async def visitors() -> None:
                started = time.monotonic()
                for at, user_id in arrivals:
                    await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
                    sent_at[user_id] = time.monotonic()
                    fake.push_update(private_message(user_id, "/start"))

            begun = time.monotonic()
            await asyncio.gather(flooder(), visitors())

            def answered() -> dict[int, float]:
                found: dict[int, float] = {}
                for call in fake.calls_of("sendMessage"):
                    chat = call.params.get("chat_id")
                    if isinstance(chat, int) and chat in sent_at and not call.failed:
                        found.setdefault(chat, call.at)
                return found

            await fake.wait_until(lambda: len(answered()) == others, 120)
            latencies = [answered()[user] - sent_at[user] for user in sent_at]
            flood_answers = len(
                [c for c in fake.calls_of("sendMessage") if c.params.get("chat_id") == FLOODER]
            )
            print(f"machine: {os.cpu_count()} cores")
            print(
                f"one user sent {flood} messages at once; {others} others sent /start "
                f"over {spread:.0f} s"
            )
            print(
                f"others' /start answered: p50 {statistics.median(latencies) * 1000:.0f} ms, "
                f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
                f"max {max(latencies) * 1000:.0f} ms (target: p99 under 1 s)"
            )
            print(
                f"the flood: {app.intake.dropped} updates dropped unread, "
                f"{flood_answers} messages sent to the flooder, "
                f"{fake.rate_limited} answers of 429 from the emulator, "
                f"{time.monotonic() - begun:.1f} s in all"
            )
            poller.stop()
            await asyncio.wait_for(serving, 30)
    await fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flood", type=int, default=200)
    parser.add_argument("--others", type=int, default=60)
    parser.add_argument("--spread", type=float, default=10.0)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.flood, arguments.others, arguments.spread))
