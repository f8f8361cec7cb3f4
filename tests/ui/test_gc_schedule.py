"""The garbage collector's schedule: what lived a while is frozen, full collections wait for a pause between keys."""

from __future__ import annotations

import gc

import pytest

from screens import gc_schedule
from screens.gc_schedule import FULL_AT_THE_LATEST, FULL_EVERY, IDLE_FOR, NEVER, REFREEZE_EVERY, GcSchedule


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the schedule asked of the collector (nothing is really frozen or collected)."""
    seen: list[str] = []
    monkeypatch.setattr(gc_schedule.gc, "freeze", lambda: seen.append("freeze"))
    monkeypatch.setattr(gc_schedule.gc, "unfreeze", lambda: seen.append("unfreeze"))
    monkeypatch.setattr(gc_schedule.gc, "collect", lambda generation=2: seen.append(f"collect{generation}") or 0)
    return seen


def test_start_freezes_and_stop_unfreezes(calls: list[str]) -> None:
    schedule = GcSchedule(Clock())
    schedule.start()
    schedule.stop()
    assert calls == ["freeze", "unfreeze"]


def test_what_survived_the_young_generations_is_frozen_every_few_seconds(calls: list[str]) -> None:
    clock = Clock()
    schedule = GcSchedule(clock)
    schedule.start()
    calls.clear()
    clock.now += REFREEZE_EVERY / 2
    schedule.tick()
    assert calls == []
    clock.now += REFREEZE_EVERY / 2
    schedule.tick()
    assert calls == ["collect1", "freeze"]


def test_a_full_collection_waits_for_a_pause_between_keys(calls: list[str]) -> None:
    clock = Clock()
    schedule = GcSchedule(clock)
    schedule.start()
    clock.now += FULL_EVERY
    schedule.key_pressed()
    calls.clear()
    schedule.tick()
    assert "collect2" not in calls  # a key was just pressed
    clock.now += IDLE_FOR
    calls.clear()
    schedule.tick()
    assert calls == ["unfreeze", "collect2", "freeze"]
    assert schedule.full_collections == 1


def test_an_operator_who_never_pauses_still_gets_a_full_collection(calls: list[str]) -> None:
    clock = Clock()
    schedule = GcSchedule(clock)
    schedule.start()
    while clock.now < 1000.0 + FULL_AT_THE_LATEST:
        clock.now += 1.0
        schedule.key_pressed()
        schedule.tick()
    assert schedule.full_collections == 1


def test_the_real_collector_is_left_as_found() -> None:
    before = gc.get_freeze_count()
    thresholds = gc.get_threshold()
    schedule = GcSchedule()
    schedule.start()
    assert gc.get_freeze_count() >= before
    schedule.stop()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds


def test_cpython_starts_no_full_collection_while_the_schedule_runs() -> None:
    """Only the schedule's own full collections run (at a pause): CPython's would land in the middle of a key."""
    full: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    young, middle, _ = gc.get_threshold()
    schedule = GcSchedule()
    schedule.start()
    gc.callbacks.append(seen)
    try:
        assert gc.get_threshold() == (young, middle, NEVER)
        # Survivors of many young collections: what made CPython collect everything on its own.
        kept = [[[i]] for i in range(300_000)]
        assert full == []
        del kept
    finally:
        gc.callbacks.remove(seen)
        schedule.stop()
