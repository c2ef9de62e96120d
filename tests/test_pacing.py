"""The group pacer keeps Telegram's 20 messages a minute for the moderators' group."""

from __future__ import annotations

from bot.delivery import GroupPacer


async def test_twenty_in_any_minute_then_wait_for_the_oldest() -> None:
    now = [1000.0]
    pacer = GroupPacer(20, clock=lambda: now[0])
    for _ in range(20):
        assert pacer.delay() == 0.0
        await pacer.acquire()  # no wait: the slot is free
        now[0] += 1.0  # one a second: twenty in the first twenty seconds
    assert pacer.delay() == 40.0  # the 21st waits until the first is a minute old
    now[0] += 40.0
    assert pacer.delay() == 0.0
