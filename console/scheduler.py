"""When each resource is read: intervals by focus and push, backoff after errors, and the rounds the budget allows.

The pieces the watcher composes (the gate that hands out the budget is `console/polling/gate.py`):

- `PollSchedule` says how often a resource asks to be read: `focused` for what is on screen, `background` for
  the rest, `push_safety_net` for the rest of a target whose push queue works.
- `expected_intervals` says how often it really is read when the budget cannot serve every ask: what is on
  screen and the rest share an API's refill (`FOCUS_SHARE` each when both want more than that), and each
  class's resources take turns, the one read longest ago first. Staleness is twice that expected interval.
- `Wake` is how a resource's poll loop is woken early (a push event, a refresh, a change of focus).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from console.config import Intervals

# Levels of the priority gate: lower goes first.
URGENT = 0  # a push event, a refresh asked by a person, a resource that just came into focus
FOCUSED = 1
BACKGROUND = 2

# When what is on screen and the rest both want more of an API than its refill, what is on screen gets this
# share and the rest of the fleet the other: the screen stays live (at a longer interval) and every other
# resource is still read once per round, so nothing is starved and staleness can be told honestly.
FOCUS_SHARE = 0.5

# Wake reasons.
PUSH = "push"
REFRESH = "refresh"
FOCUS = "focus"
RETIME = "retime"  # the interval changed (push went on or off): recompute the wait, do not read now


@dataclass
class PollSchedule:
    """How often each resource asks to be read, from the intervals, what is focused and which targets push."""

    intervals: Intervals
    focused: frozenset[str] = frozenset()
    detail: str | None = None  # the one resource shown in detail (its history kept whole)
    pushing: set[str] = field(default_factory=set)  # target names whose push queue currently works
    # Per target, the safety net its share of the account's budget allows (longer than `push_safety_net`
    # when a large fleet or a team of consoles would otherwise fill the account's buckets).
    safety_net: dict[str, float] = field(default_factory=dict)

    def is_focused(self, key: str) -> bool:
        return key in self.focused

    def interval(self, key: str, target: str) -> float:
        if key in self.focused:
            return self.intervals.focused
        if target in self.pushing:
            net = max(self.intervals.push_safety_net, self.safety_net.get(target, 0.0))
            return max(net, self.intervals.background)
        return self.intervals.background

    def priority(self, key: str) -> int:
        return FOCUSED if key in self.focused else BACKGROUND


def backoff(interval: float, failures: int, cap: float) -> float:
    """The wait before the next read after `failures` failed reads in a row: doubling, up to `cap`."""
    if failures <= 0:
        return interval
    return min(interval * 2.0**failures, max(cap, interval))


@dataclass(frozen=True, slots=True)
class Rounds:
    """The shortest time between two reads the budget allows each class of one API (0: no limit).

    A resource is read every `max(its interval, the floor of its class)`.
    """

    focused: float = 0.0
    background: float = 0.0

    def expected(self, interval: float, focused: bool) -> float:
        return max(interval, self.focused if focused else self.background)


def expected_intervals(
    rate: float | None,
    focused: Mapping[float, int],
    background: Mapping[float, int],
    *,
    focus_share: float = FOCUS_SHARE,
) -> Rounds:
    """How often the resources of one API are really read, when `rate` requests per second is all there is.

    `focused` and `background` count the resources of each class by the interval they ask for. Each class
    gets what it asks for while the two fit in `rate`; when they do not, a class that asks for less than
    its share (`focus_share` for what is on screen, the rest for the others) gets it, and the other class
    the remainder. Inside a class the resource read longest ago goes first, so the resources that ask more
    often than the class's part allows are all read at one common, longer interval (the floor returned).
    """
    if rate is None or rate <= 0:
        return Rounds() if rate is None else Rounds(math.inf, math.inf)
    wants_focused = _demand(focused)
    wants_background = _demand(background)
    if wants_focused + wants_background <= rate:
        return Rounds()
    share = min(max(focus_share, 0.0), 1.0)
    if wants_focused <= share * rate:
        for_focused, for_background = wants_focused, rate - wants_focused
    elif wants_background <= (1 - share) * rate:
        for_focused, for_background = rate - wants_background, wants_background
    else:
        for_focused, for_background = share * rate, (1 - share) * rate
    return Rounds(_floor(focused, for_focused), _floor(background, for_background))


def _demand(counts: Mapping[float, int]) -> float:
    return sum(count / interval if interval > 0 else math.inf for interval, count in counts.items() if count)


def _floor(counts: Mapping[float, int], capacity: float) -> float:
    """The least L with sum(count / max(interval, L)) <= capacity: the common interval of those that ask
    more often than `capacity` allows (0 when every ask fits)."""
    groups = sorted((interval, count) for interval, count in counts.items() if count > 0)
    if not groups or _demand(counts) <= capacity:
        return 0.0
    if capacity <= 0:
        return math.inf
    raised = 0  # resources (the first groups, shortest intervals) read at L instead of their own interval
    rest = _demand(counts)
    for index, (interval, count) in enumerate(groups):
        raised += count
        rest -= count / interval
        if rest >= capacity:
            continue  # even the slower groups alone ask for more: L must be above their intervals too
        floor = raised / (capacity - rest)
        upper = groups[index + 1][0] if index + 1 < len(groups) else math.inf
        if floor <= upper:
            return max(floor, interval)
    return math.inf  # unreachable: with every group raised, rest == 0 < capacity


class Wake:
    """Wakes one poll loop before its next read is due, and says why (a set of reasons).

    One per polled resource, thousands in a large fleet: a future only while its loop sleeps, no `asyncio.Event`
    (an Event keeps a deque of waiters, 0.8 KB, for its whole life)."""

    __slots__ = ("_reasons", "_waiter")

    def __init__(self) -> None:
        self._reasons: frozenset[str] = frozenset()
        self._waiter: asyncio.Future[None] | None = None

    def wake(self, reason: str) -> None:
        self._reasons = self._reasons | {reason}
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @property
    def pending(self) -> frozenset[str]:
        return self._reasons

    async def sleep(self, seconds: float) -> frozenset[str]:
        """Wait `seconds` or until woken; returns the reasons (empty when the time simply ran out)."""
        if not self._reasons and seconds > 0:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(seconds):
                    await waiter
            except TimeoutError:
                pass
            finally:
                self._waiter = None
        reasons = self._reasons
        self._reasons = frozenset()
        return reasons
