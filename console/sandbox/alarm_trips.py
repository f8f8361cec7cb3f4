"""The traffic's alarm trips: now and then an alarm fires while a wave bakes, so bakes fail and roll back.

A fleet whose alarms never fire shows every bake succeeding, and nobody learns from the sandbox what a
failed bake and an automatic rollback look like. So each onSuccess CloudWatchAlarm bake, when the traffic
first sees it, gets one draw: with the chance `traffic.alarm_trips` one of its watched alarms goes to ALARM
at a drawn moment inside the bake (so the rule fails and the stage's result, FAIL or ROLLBACK, engages) and
back to OK a drawn while later (about as long as the bake), as a real error spike would. The draws come
from a `random.Random` per pipeline seeded from `--seed`, so the same seed trips the same bakes of the same
history. An alarm several pipelines watch fails every bake watching it while it fires, as in AWS.

The planner only decides; the traffic sets the alarm states over the sandbox's own CloudWatch API, exactly
as `aws cloudwatch set-alarm-state` would, so the alarm history shows who did it and why.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from console.sandbox.codepipeline.conditions import Bake

# Where in the bake the alarm fires, as fractions of the bake (never at its very start or end).
FIRES_WITHIN = (0.1, 0.9)
# How long a tripped alarm stays in ALARM, as multiples of the bake's length: long enough to see, short
# enough that the next revision's bake (and the other pipelines watching the same alarm) mostly pass.
LASTS = (0.5, 1.5)


@dataclass
class Trip:
    """One alarm that will fire during one bake, and clear later."""

    pipeline: str
    region: str
    alarm: str
    rule_id: str
    fires_at: datetime
    clears_at: datetime
    fired: bool = False
    cleared: bool = False


@dataclass(frozen=True)
class AlarmChange:
    """An alarm state the traffic sets now."""

    region: str
    alarm: str
    state: str  # ALARM or OK
    reason: str


class AlarmTrips:
    """Decides which bakes see an alarm fire, and when each tripped alarm fires and clears."""

    def __init__(self, chance: float, seed: int) -> None:
        self.chance = chance
        self.seed = seed
        self.trips: list[Trip] = []  # the trips not yet cleared, oldest first
        self.planned = 0  # every trip planned so far
        self._seen: set[str] = set()  # rule ids of the bakes already drawn for
        self._rngs: dict[str, random.Random] = {}

    def consider(self, bakes: Iterable[Bake]) -> list[Trip]:
        """Draw once for every bake not seen before; returns the trips planned now."""
        planned = []
        current = set()
        for bake in sorted(bakes, key=lambda b: (b.start, b.pipeline, b.rule_id)):
            current.add(bake.rule_id)
            if bake.rule_id in self._seen:
                continue
            self._seen.add(bake.rule_id)
            rng = self._rngs.setdefault(bake.pipeline, random.Random(f"{self.seed}:alarm-trips:{bake.pipeline}"))
            if self.chance <= 0 or rng.random() >= self.chance:
                continue
            alarm = rng.choice(sorted(bake.alarms))
            fires_at = bake.start + (bake.end - bake.start) * rng.uniform(*FIRES_WITHIN)
            clears_at = fires_at + (bake.end - bake.start) * rng.uniform(*LASTS)
            trip = Trip(bake.pipeline, bake.region, alarm, bake.rule_id, fires_at, clears_at)
            self.trips.append(trip)
            self.planned += 1
            planned.append(trip)
        self._seen &= current  # a bake that ended never comes back
        return planned

    def due(self, now: datetime) -> list[AlarmChange]:
        """The alarm states to set at `now`: trips that fire, and alarms no trip holds in ALARM any more."""
        changes = []
        for trip in self.trips:
            if not trip.fired and trip.fires_at <= now:
                trip.fired = True
                reason = f"Sandbox traffic: an error spike during the bake of {trip.pipeline}"
                changes.append(AlarmChange(trip.region, trip.alarm, "ALARM", reason))
        for trip in self.trips:
            if trip.fired and not trip.cleared and trip.clears_at <= now:
                trip.cleared = True
                holding = any(
                    t.fired and not t.cleared and (t.region, t.alarm) == (trip.region, trip.alarm) for t in self.trips
                )
                if not holding:
                    reason = "Sandbox traffic: the error spike is over"
                    changes.append(AlarmChange(trip.region, trip.alarm, "OK", reason))
        self.trips = [t for t in self.trips if not t.cleared]
        return changes

    def next_due(self) -> datetime | None:
        """When `due` has something to do next (None: nothing planned)."""
        times = [t.clears_at if t.fired else t.fires_at for t in self.trips if not t.cleared]
        return min(times, default=None)
