"""Questions under load: 10,000 users each send a question in one burst.

Prints how fast tickets are stored durably (the Send updates through the real
Dispatcher, batches of 100 at a time as the poller takes them), and how long the outbox
takes to post every card to the moderators' group against the Bot API emulator
that enforces a group's 20 messages/minute, scaled: the fake and the bot both run at
20 x SCALE per minute. The bot paces the group (at most N posts in any minute) and
shows the backlog in /queue; it does not merge questions, so that moderators can answer
each card by replying to it. Then it checks that no ticket is lost or posted twice.

    .venv/bin/python -m bench.questions [--users 10000] [--scale 600]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Update

from bench.updates import MODERATORS, click, message
from bot.config import Settings
from bot.emulator import FakeTelegram
from bot.factory import open_app
from bot.services.questions import Draft
from bot.states import AskQuestion

ROOT = Path(__file__).resolve().parent.parent
BATCH = 100


async def main(users: int, scale: int) -> None:
    fake = FakeTelegram(record_calls=False)
    fake.set_rate_limit(per_group_per_minute=20 * scale)
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None, bot_token="42:BENCH", moderator_chat_id=MODERATORS,
            telegram_api_url=fake.url, database_path=Path(tmp) / "q.sqlite3",
            content_dir=ROOT / "data", locales_dir=ROOT / "locales",
            group_messages_per_minute=20 * scale, outbox_retry_base=0.05,
        )  # fmt: skip
        async with open_app(settings) as app:
            ids = list(range(1, users + 1))
            for user_id in ids:  # each user has "Ask a question" open
                await app.services.users.locale_of(user_id, "ru")
                key = StorageKey(bot_id=app.bot.id, chat_id=user_id, user_id=user_id)
                await app.storage.set_state(key, AskQuestion.writing)
                await app.storage.set_data(key, {"draft": Draft(key=f"k{user_id}").to_dict()})

            async def feed_all(raws: list[dict[str, Any]]) -> None:
                for start in range(0, len(raws), BATCH):
                    batch = [
                        Update.model_validate(r, context={"bot": app.bot})
                        for r in raws[start : start + BATCH]
                    ]
                    await asyncio.gather(*(app.dp.feed_update(app.bot, u) for u in batch))

            await feed_all(
                [message(u, f"Вопрос номер {u}: можно ли отказаться от службы?") for u in ids]
            )
            worker = asyncio.create_task(app.outbox.run())
            t0 = time.perf_counter()
            await feed_all([click(u, f"dr:send:k{u}") for u in ids])
            stored = time.perf_counter() - t0
            row = await app.db.fetch_one("SELECT count(*) FROM tickets")
            tickets = int(row[0]) if row else 0
            backlog = await app.outbox.ledger.pending("group")
            await fake.wait_until(
                lambda: fake.sent[MODERATORS] >= tickets, users / (20 * scale) * 60 * 3 + 60
            )
            posted = time.perf_counter() - t0
            await asyncio.wait_for(app.outbox.settle(), 30)
            app.outbox.stop()
            await worker
            unposted = await app.db.fetch_one(
                "SELECT count(*) FROM tickets WHERE card_message_id IS NULL"
            )
    await fake.stop()
    real_minutes = tickets / 20
    print(f"users sending a question at once     {users}")
    print(
        f"tickets stored durably               {tickets} in {stored:.1f} s = {tickets / stored:.0f} tickets/s"
    )
    print(f"group posts waiting right after       {backlog} (shown in /queue as the backlog)")
    print(f"group limit (scaled {scale}x)           {20 * scale}/min; the bot paced at the same")
    print(
        f"last card posted after               {posted:.1f} s here = {real_minutes:.0f} min at Telegram's 20/min"
    )
    print(f"429 from the emulator                {fake.rate_limited}")
    print(f"posted to the group                  {fake.sent[MODERATORS]}")
    print(f"duplicates                           {fake.sent[MODERATORS] - tickets}")
    print(f"lost (acknowledged, never posted)    {unposted[0] if unposted else '?'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--scale", type=int, default=600)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.scale))
