"""The group pacer keeps Telegram's 20 messages a minute for the moderators' group."""

from __future__ import annotations

from bot.outbox.pacing import GroupPacer, Pace


async def test_twenty_in_any_minute_then_wait_for_the_oldest() -> None:
    now = [1000.0]
    pacer = GroupPacer(20, reserve=0, clock=lambda: now[0])
    for _ in range(20):
        assert pacer.delay() == 0.0
        await pacer.acquire()  # no wait: the slot is free
        now[0] += 1.0  # one a second: twenty in the first twenty seconds
    assert pacer.delay() == 40.0  # the 21st waits until the first is a minute old
    now[0] += 40.0
    assert pacer.delay() == 0.0


async def test_the_background_leaves_the_reserve_to_moderators() -> None:
    now = [1000.0]
    pacer = GroupPacer(20, reserve=4, clock=lambda: now[0])
    for _ in range(16):
        await pacer.acquire(1, Pace.BACKGROUND)
    # The outbox has used its share: it waits, a moderator's command does not.
    assert pacer.delay(1, Pace.BACKGROUND) == 60.0
    assert pacer.delay(1, Pace.INTERACTIVE) == 0.0
    for _ in range(4):
        await pacer.acquire(1, Pace.INTERACTIVE)
    assert pacer.delay(1, Pace.INTERACTIVE) == 60.0
    # An album of 10 needs 10 slots at once.
    now[0] += 60.0
    assert pacer.delay(10, Pace.BACKGROUND) == 0.0
