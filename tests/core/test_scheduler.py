"""Who reads next and how often: the gate's order and shares, and the rounds the budget allows."""

from __future__ import annotations

import asyncio
import math

import pytest

from console.polling.gate import PriorityGate
from console.scheduler import BACKGROUND, FOCUSED, URGENT, Rounds, expected_intervals


def test_everything_at_its_interval_while_it_fits() -> None:
    assert expected_intervals(10, {2.0: 4}, {15.0: 100}) == Rounds()  # 2/s + 6.7/s
    assert expected_intervals(None, {2.0: 400}, {15.0: 4000}) == Rounds()  # no budget: no limit
    assert expected_intervals(0, {2.0: 1}, {}) == Rounds(math.inf, math.inf)


def test_the_screen_within_its_share_keeps_its_interval_and_the_rest_takes_turns() -> None:
    # 30 on screen every 2 s (15/s) fit in half of 40/s; 470 others every 15 s (31/s) share the other 25/s.
    rounds = expected_intervals(40, {2.0: 30}, {15.0: 470})
    assert rounds.focused == 0.0
    assert rounds.background == pytest.approx(470 / 25)
    assert rounds.expected(2.0, focused=True) == 2.0
    assert rounds.expected(15.0, focused=False) == pytest.approx(18.8)


def test_when_both_want_more_than_their_share_each_gets_its_share() -> None:
    # 500 pipelines at the default budget (10/s): 30 on screen every 2 s want 15/s, 470 others 31/s.
    rounds = expected_intervals(10, {2.0: 30}, {15.0: 470})
    assert rounds.focused == pytest.approx(30 / 5)  # 6 s instead of 2 s: degraded, not starved
    assert rounds.background == pytest.approx(470 / 5)  # every one read once per 94 s


def test_a_class_that_wants_less_than_its_share_leaves_the_rest_to_the_other() -> None:
    # The rest polls slowly (push works): 100 every 60 s want 1.7/s; the screen gets the other 8.3/s.
    rounds = expected_intervals(10, {2.0: 30}, {60.0: 100})
    assert rounds.background == 0.0
    assert rounds.focused == pytest.approx(30 / (10 - 100 / 60))


def test_resources_asking_at_different_intervals_meet_at_one_common_round() -> None:
    # 100 every 15 s and 200 every 60 s (10/s) in 5/s: the 15-second ones slow down to 60 s.
    assert expected_intervals(10, {1.0: 100}, {15.0: 100, 60.0: 200}).background == pytest.approx(60.0)
    # In 4/s even the 60-second ones slow down: all 300 at 75 s.
    assert expected_intervals(8, {1.0: 100}, {15.0: 100, 60.0: 200}).background == pytest.approx(75.0)


class Entries:
    """Callers of one gate, each named, recording the order in which they are let in."""

    def __init__(self, gate: PriorityGate) -> None:
        self.gate = gate
        self.order: list[str] = []
        self.hold = asyncio.Event()

    async def one(self, name: str, priority: object, since: float | None = None, *, hold: bool = False) -> None:
        async with self.gate.turn("GetPipelineState", priority, since):  # type: ignore[arg-type]
            self.order.append(name)
            if hold:
                await self.hold.wait()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_urgent_first_then_the_screen_and_the_rest_take_turns_oldest_first() -> None:
    gate = PriorityGate(None, in_flight=1)
    entries = Entries(gate)
    blocker = asyncio.create_task(entries.one("blocker", BACKGROUND, hold=True))
    await settle()
    callers = [
        ("background read at 5", BACKGROUND, 5.0),
        ("background read at 1", BACKGROUND, 1.0),
        ("background never read", BACKGROUND, None),
        ("screen read at 3", FOCUSED, 3.0),
        ("screen read at 2", FOCUSED, 2.0),
        ("urgent", URGENT, 9.0),
    ]
    tasks = [asyncio.create_task(entries.one(name, level, since)) for name, level, since in callers]
    await settle()
    assert gate.waiting("GetPipelineState") == len(callers)
    entries.hold.set()
    await asyncio.gather(blocker, *tasks)
    assert entries.order == [
        "blocker",
        "urgent",
        "screen read at 2",
        "background never read",
        "screen read at 3",
        "background read at 1",
        "background read at 5",
    ]


async def test_a_waiting_read_moves_up_when_its_resource_comes_on_screen() -> None:
    gate = PriorityGate(None, in_flight=1)
    entries = Entries(gate)
    on_screen: set[str] = set()

    def level(name: str) -> object:
        return lambda: FOCUSED if name in on_screen else BACKGROUND

    blocker = asyncio.create_task(entries.one("blocker", BACKGROUND, hold=True))
    await settle()
    tasks = [asyncio.create_task(entries.one(name, level(name), float(i))) for i, name in enumerate("abc")]
    await settle()
    on_screen.add("c")
    entries.hold.set()
    await asyncio.gather(blocker, *tasks)
    assert entries.order == ["blocker", "c", "a", "b"]


async def test_a_screen_that_always_wants_more_does_not_starve_the_rest() -> None:
    gate = PriorityGate(None, in_flight=1)
    order: list[str] = []
    stop = asyncio.Event()

    async def screen(name: str) -> None:
        while not stop.is_set():
            async with gate.turn("GetPipelineState", FOCUSED):
                order.append(name)
                await asyncio.sleep(0)

    async def rest(name: str) -> None:
        async with gate.turn("GetPipelineState", BACKGROUND):
            order.append(name)
            await asyncio.sleep(0)

    screens = [asyncio.create_task(screen(f"screen-{i}")) for i in range(5)]
    await settle()
    others = [asyncio.create_task(rest(f"other-{i}")) for i in range(10)]
    async with asyncio.timeout(5):
        await asyncio.gather(*others)
    stop.set()
    await asyncio.gather(*screens)
    first_other = next(i for i, name in enumerate(order) if name.startswith("other-"))
    last_other = max(i for i, name in enumerate(order) if name.startswith("other-"))
    # Once the others wait, every second turn is theirs.
    between = order[first_other : last_other + 1]
    assert sum(1 for name in between if name.startswith("screen-")) <= len(others) + 1
