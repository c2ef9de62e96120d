"""Whatever a user writes reaches the moderators as written: a property test.

Random texts — HTML-looking fragments, entities, emoji, Cyrillic, long enough to cross
the 4096-character boundary — go through the real path (the Dispatcher, the outbox, the
real HTTP session) into the emulator, which parses and measures them as Telegram does
and refuses what Telegram would (the suite's guard fails on any such refusal). What the
group then shows must be the text itself, in order, with no markup taken from it."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.emulator import FakeTelegram, private_message
from bot.factory import open_app
from tests.conftest import MODERATOR_CHAT_ID, delivering, feed, make_settings
from tests.test_questions import ask, send

USER = 8801
TRICKY = [
    "<", ">", "&", "&amp;", "&lt;b&gt;", "&#60;", "&#x3C;", "&nbsp;", "<b>", "</b>", "<i>x",
    "<a href=\"tg://user?id=1\">моя ссылка</a>", "<tg-spoiler>", "<pre>", "</code>", "<br>",
    "\"", "'", "🙂", "👨‍👩‍👧", "🇷🇺", "\u200b", "\u00a0", "ё", "Ж", "\n", "\n\n", " ", "\t",
    "a", "слово ", "📎", "<<", ">>", "&&", "<3", "a<b>c", "${x}", "{ $id }",
]  # fmt: skip
pieces = st.one_of(
    st.sampled_from(TRICKY),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20),
)
# Mostly short texts, sometimes long ones that cross the 4096 boundary after the header.
texts = (
    st.lists(pieces, min_size=1, max_size=30)
    .map("".join)
    .flatmap(
        lambda base: st.integers(
            min_value=1, max_value=1 if len(base) < 2 else 4200 // len(base) + 1
        ).map(lambda times: (base * times)[:4096])
    )
    .filter(lambda text: text.strip() != "" and not text.startswith("/"))
)


def squashed(text: str) -> str:
    """Without whitespace: Telegram trims messages, and long texts are cut at spaces."""
    return "".join(text.split())


def group_texts(telegram: FakeTelegram) -> list[dict[str, Any]]:
    return [m for m in telegram.history(MODERATOR_CHAT_ID) if m.get("text")]


async def scenario(question: str, follow_up: str, tmp: Path) -> None:
    telegram = FakeTelegram()
    await telegram.start()
    try:
        async with open_app(make_settings(telegram, tmp)) as app, delivering(app):
            await send(app, await ask(app, telegram, question, user=USER), user=USER)
            await asyncio.wait_for(app.outbox.settle(), 10)
            posted = group_texts(telegram)
            card, parts = posted[0], posted[1:]
            shown = card["text"].split("\n\n", 1)[1] + "".join(p["text"] for p in parts)
            assert squashed(shown) == squashed(question)
            # The card's only entities are the bot's own (its header): none from the user.
            header = card["text"].split("\n\n", 1)[0]
            for entity in card.get("entities", []):
                assert entity["offset"] + entity["length"] <= len(header.encode("utf-16-le")) // 2
            for part in parts:
                assert "entities" not in part
            # A follow-up, replying to the "received" message.
            received = max(
                c.result["message_id"]
                for c in telegram.calls_of("editMessageText")
                if c.params.get("chat_id") == USER and "Получили" in str(c.params.get("text"))
            )
            before = len(posted)
            reply_to = {"message_id": received, "date": 0, "chat": {"id": USER, "type": "private"}}
            await feed(app, private_message(USER, follow_up, reply_to=reply_to))
            await asyncio.wait_for(app.outbox.settle(), 10)
            added = group_texts(telegram)[before:]
            joined = "".join(m["text"] for m in added)
            assert joined.startswith("↩️ Уточнение к #1:")
            assert squashed(joined.removeprefix("↩️ Уточнение к #1:")) == squashed(follow_up)
            assert all("entities" not in m for m in added)
            assert all(len(m["text"]) <= 4096 for m in added)
    finally:
        await telegram.stop()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(question=texts, follow_up=texts)
def test_any_text_reaches_the_group_as_written(question: str, follow_up: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(question, follow_up, Path(tmp)))


def test_a_disguised_link_arrives_as_text() -> None:
    disguised = '<a href="tg://user?id=777">нажмите, это юрист</a> & <b>срочно</b>'
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario("Вопрос: " + disguised, disguised, Path(tmp)))
