"""The garbage collector's schedule: what lived a while is frozen, full collections wait for a pause between keys."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from screens import gc_schedule
from screens.gc_schedule import (
    FULL_AT_THE_LATEST,
    FULL_EVERY,
    IDLE_FOR,
    KEY_HOLD,
    NEVER,
    REFREEZE_AFTER_KEY,
    REFREEZE_EVERY,
    GcSchedule,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def collector_as_found() -> Iterator[None]:
    """Every test leaves CPython's collector as it found it (on, its thresholds), whatever its schedule did."""
    thresholds = gc.get_threshold()
    yield
    gc.enable()
    gc.set_threshold(*thresholds)


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


def test_no_collection_runs_between_a_key_and_its_frame() -> None:
    started: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    schedule = GcSchedule()
    schedule.start()
    gc.callbacks.append(seen)
    try:
        schedule.key_pressed()
        assert not gc.isenabled()
        # Cycles enough for many young collections: none starts while the key is drawn.
        kept = [[[i]] for i in range(50_000)]
        assert started == []
        schedule.key_drawn()
        assert gc.isenabled()
        more = [[[i]] for i in range(50_000)]
        assert started  # and they run again once its frame is out
        del kept, more
    finally:
        gc.callbacks.remove(seen)
        schedule.stop()
    assert gc.isenabled()


def test_a_key_that_drew_nothing_gives_the_collector_back_at_a_tick(calls: list[str]) -> None:
    clock = Clock()
    schedule = GcSchedule(clock)
    schedule.start()
    try:
        schedule.key_pressed()
        clock.now += KEY_HOLD / 2
        schedule.tick()
        assert not gc.isenabled()  # its frame may still come
        clock.now += KEY_HOLD / 2
        schedule.tick()
        assert gc.isenabled()
    finally:
        schedule.stop()


def test_the_collector_is_left_alone_when_the_schedule_does_not_run_or_someone_turned_it_off() -> None:
    schedule = GcSchedule()
    schedule.key_pressed()  # not started
    assert gc.isenabled()
    schedule.start()
    gc.disable()
    try:
        schedule.key_pressed()
        schedule.key_drawn()
        assert not gc.isenabled()  # still off, as whoever turned it off left it
    finally:
        gc.enable()
        schedule.stop()
    schedule.start()
    schedule.key_pressed()
    schedule.stop()  # an app that ends in the middle of a key
    assert gc.isenabled()


def test_a_freeze_waits_a_moment_after_a_key(calls: list[str]) -> None:
    clock = Clock()
    schedule = GcSchedule(clock)
    schedule.start()
    calls.clear()
    clock.now += REFREEZE_EVERY
    schedule.key_pressed()
    schedule.key_drawn()
    schedule.tick()
    assert calls == []  # a key just now: its frame first
    clock.now += REFREEZE_AFTER_KEY
    schedule.tick()
    assert calls == ["collect1", "freeze"]
    # Keys that never leave the moment still get one, later.
    calls.clear()
    for _ in range(int(3 * REFREEZE_EVERY)):
        clock.now += 1.0
        schedule.key_pressed()
        schedule.key_drawn()
        schedule.tick()
    assert calls == ["collect1", "freeze"]
