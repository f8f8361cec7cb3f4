"""The fleet views' row cache (screens/fleet/view.py `RowCache`): a picture of 2,000 pipelines builds again only
the rows that read differently, and a row turns stale by the clock without a new picture."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from console.codepipeline.model import SERVICE, pipelines_of
from console.model import FleetState
from screens.fleet.pipelines import PipelineView
from screens.fleet.rows import PipelineRow, target_labels
from screens.fleet.view import SEARCH_BATCH, Frame, RowCache
from screens.widgets.wave_board import SLOT_WIDE
from tests.ui.conftest import FIXED_NOW, WAVES, fleet_picture

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Thing:
    key: str
    read_at: datetime | None
    status: str = "Succeeded"


def built_rows(
    cache: RowCache[Thing, tuple[str, str, bool]],
    things: dict[str, Thing],
    state: FleetState,
    now: datetime,
    epoch: object = 0,
) -> list[tuple[str, str, bool]]:
    return cache.rows(list(things), things, state, now, epoch, lambda t, stale: (t.key, t.status, stale))


def test_only_what_changed_is_built_again() -> None:
    things = {f"p{i}": Thing(f"p{i}", NOW) for i in range(2000)}
    state = FleetState(default_stale_after=30.0)
    cache: RowCache[Thing, tuple[str, str, bool]] = RowCache()
    first = built_rows(cache, things, state, NOW)
    assert cache.built == 2000
    again = built_rows(cache, things, state, NOW + timedelta(seconds=5))
    assert cache.built == 0
    assert all(a is b for a, b in zip(first, again, strict=True))
    things["p7"] = replace(things["p7"], status="Failed")
    rows = built_rows(cache, things, state, NOW + timedelta(seconds=6))
    assert cache.built == 1
    assert rows[7] == ("p7", "Failed", False)
    # A new epoch (the shown minute, the slot's width) builds every row again.
    built_rows(cache, things, state, NOW + timedelta(seconds=6), epoch=1)
    assert cache.built == 2000


def test_a_row_turns_stale_by_the_clock_and_back_with_a_new_read() -> None:
    things = {"a": Thing("a", NOW), "b": Thing("b", NOW - timedelta(seconds=20))}
    state = FleetState(default_stale_after=30.0, stale_after={"a": 60.0})
    cache: RowCache[Thing, tuple[str, str, bool]] = RowCache()
    assert [r[2] for r in built_rows(cache, things, state, NOW)] == [False, False]
    # 15 s later: b (30 s after a read 20 s before NOW) is stale, a (60 s) is not; only b is built again.
    rows = built_rows(cache, things, state, NOW + timedelta(seconds=15))
    assert [r[2] for r in rows] == [False, True]
    assert cache.built == 1
    # Stale stays stale without a new read, however long.
    built_rows(cache, things, state, NOW + timedelta(hours=1))
    assert cache.built == 1  # a turned stale at +60 s
    things["b"] = replace(things["b"], read_at=NOW + timedelta(hours=1))
    rows = built_rows(cache, things, state, NOW + timedelta(hours=1))
    assert rows[1][2] is False


def test_cached_rows_are_stale_until_read_and_a_same_read_keeps_the_row() -> None:
    things = {"a": Thing("a", NOW)}
    warm = FleetState(default_stale_after=30.0, cached=frozenset({"a"}))
    cache: RowCache[Thing, tuple[str, str, bool]] = RowCache(lambda before, after: before.status == after.status)
    assert built_rows(cache, things, warm, NOW)[0][2] is True
    read = FleetState(default_stale_after=30.0)
    things["a"] = replace(things["a"], read_at=NOW + timedelta(seconds=1))
    row = built_rows(cache, things, read, NOW + timedelta(seconds=1))[0]
    assert row[2] is False
    assert cache.built == 1
    # Read again, the same: the row is kept (the same object), and turns stale 30 s after the newest read.
    things["a"] = replace(things["a"], read_at=NOW + timedelta(seconds=10))
    assert built_rows(cache, things, read, NOW + timedelta(seconds=35))[0] is row
    assert cache.built == 0
    assert built_rows(cache, things, read, NOW + timedelta(seconds=41))[0][2] is True


class WordRow:
    """A row that counts how often its words were worked out."""

    worked: list[str] = []

    def __init__(self, thing: Thing) -> None:
        self.key = thing.key
        self.status = thing.status

    @property
    def words(self) -> str:
        WordRow.worked.append(self.key)
        return f"{self.key} {self.status}".lower()


def test_the_filters_words_are_worked_out_ahead_for_the_rows_built_since() -> None:
    things = {f"p{i}": Thing(f"p{i}", NOW) for i in range(100)}
    state = FleetState(default_stale_after=30.0)
    cache: RowCache[Thing, WordRow] = RowCache()
    WordRow.worked = []

    def build() -> list[WordRow]:
        return cache.rows(list(things), things, state, NOW, 0, lambda t, stale: WordRow(t))

    build()
    assert WordRow.worked == []  # building a row works out no words
    # No time at all: one batch still, and the rest is left for the next slice.
    assert cache.search_ahead(0.0) is True
    assert len(WordRow.worked) == SEARCH_BATCH
    while cache.search_ahead(0.0):
        pass
    assert sorted(WordRow.worked) == sorted(things)
    assert cache.search_ahead(1.0) is False
    # Only the rows built again are worked out again: a row replaced before its slice, once, as it is now.
    WordRow.worked = []
    things["p3"] = replace(things["p3"], status="Failed")
    build()
    things["p3"] = replace(things["p3"], status="InProgress")
    build()
    things["p5"] = replace(things["p5"], status="Failed")
    build()
    assert cache.search_ahead(1.0) is False
    assert WordRow.worked == ["p3", "p5"]
    # Rows of resources gone are not worked out.
    WordRow.worked = []
    for i in range(6, 100):
        things[f"p{i}"] = replace(things[f"p{i}"], status="Failed")
    build()
    for i in range(6, 100):
        del things[f"p{i}"]
    build()
    assert cache.search_ahead(1.0) is False
    assert WordRow.worked == []


def test_a_row_built_again_for_a_new_minute_keeps_the_words_the_filter_searched() -> None:
    """At 120 columns a pipeline's row shows ages, so each minute builds every row again; the filter's words say
    nothing of the time, and the next letter typed must not work out 2,000 of them again."""
    view = PipelineView()
    picture = fleet_picture()
    labels = target_labels([t.target for t in picture.targets])

    def frame(now: datetime) -> Frame:
        return Frame(picture, now, labels, "", tuple(WAVES.waves))

    first = frame(FIXED_NOW - timedelta(seconds=0.5))
    assert view.lay_out(200, 10, first)
    assert view.layout is not None
    assert view.layout.slot >= SLOT_WIDE  # slots wide enough to show ages: the minute is part of each row
    assert view.sync(first)
    while view.search_ahead(1.0):
        pass
    words = {key: row.words for key, row in view.rows.items()}
    worked: list[str] = []
    find = PipelineRow._find_words

    def counted(row: PipelineRow) -> str:
        worked.append(row.key)
        return find(row)

    PipelineRow._find_words = counted  # type: ignore[method-assign]
    try:
        later = frame(FIXED_NOW + timedelta(seconds=0.5))  # a second later, a new minute
        assert view.sync(later)
        assert view._cache.built == len(words)  # every row built again: a new minute
        assert view.search_ahead(1.0) is False  # nothing left to work out ahead
        assert {key: row.words for key, row in view.rows.items()} == words
        assert worked == []
        # In the same minute, a pipeline that changed is built again and its words worked out again (once).
        key, changed = next(iter(pipelines_of(picture).items()))
        failed = replace(changed, error="AccessDenied: codepipeline:GetPipelineState")
        picture = picture.with_resources(SERVICE, {**pipelines_of(picture), key: failed})
        assert view.sync(frame(FIXED_NOW + timedelta(seconds=1)))
        assert view._cache.built == 1
        assert view.search_ahead(1.0) is False
        assert worked == [key]
        assert "error" in view.rows[key].words
    finally:
        PipelineRow._find_words = find  # type: ignore[method-assign]
