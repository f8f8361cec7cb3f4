"""The fleet screen on fixed pictures: rows, wave board, filter, cursor, partial updates, staleness, literal text."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

import console.app
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.model import pipelines_of
from console.model import FleetState
from console.stepfunctions.model import state_machines_of
from screens.fleet import rows as rows_module
from screens.fleet.pipelines import PIPELINES, board_title
from screens.fleet.rows import pipeline_layout
from screens.fleet.screen import FleetScreen
from screens.fleet.state_machines import MACHINES, machine_detail
from screens.text import clean, commit_message
from screens.widgets.keyed_list import columns_width, matches
from screens.widgets.wave_board import WaveBoard, wave_cells
from tests.ui.conftest import (
    FIXED_NOW,
    WAVES,
    FakeWatcher,
    ago,
    all_waves,
    execution,
    fleet_picture,
    machine,
    pipeline,
    rendered,
    stage,
    wait_for,
)


def fleet(app: Any) -> FleetScreen:
    screen = app.screen
    assert isinstance(screen, FleetScreen)
    return screen


async def highlight(pilot: Any, screen: FleetScreen, key: str) -> None:
    """Move the cursor to the row of `key` with the keyboard (j / k), as an operator would."""
    keys = screen.views[PIPELINES].keys if screen.view != MACHINES else screen.views[MACHINES].keys
    target = keys.index(key)
    for _ in range(len(keys)):
        if screen.highlighted_key() == key:
            return
        current = keys.index(screen.highlighted_key() or keys[0])
        await pilot.press("j" if current < target else "k")
    assert screen.highlighted_key() == key, f"j / k did not reach {key}"


def row_text(screen: FleetScreen, key: str) -> str:
    table = screen.table
    return table.row_text(key)


async def test_rows_show_name_target_status_and_waves(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)):
        screen = fleet(app)
        assert row_text(screen, "sandbox/us-east-1:payments-service").split()[:4] == [
            "payments-service",
            "us-east-1",
            "✗",
            "failed",
        ]
        checkout = row_text(screen, "sandbox/us-east-1:checkout-api")
        assert "▶ in progress" in checkout
        assert "⚑" in checkout  # the approval waiting in the canary wave
        assert "‖" in row_text(screen, "sandbox/us-east-1:notifications")  # paused promotion into az1


async def test_the_wave_board_shows_the_highlighted_pipeline_in_words(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        await highlight(pilot, screen, "sandbox/us-east-1:checkout-api")
        board = app.screen.query_one(WaveBoard)
        await wait_for(pilot, lambda: board.cells and board.cells[3].approval, what="the checkout-api board")
        text = rendered(app)
        assert "⚑ approval" in text
        assert "▲ prod-canary" in text
        assert "a1b2c3d4" in text  # the revision deployed in the waves
        assert "Fix order totals rounding" in text


async def test_stale_rows_and_targets_say_so(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)):
        screen = fleet(app)
        assert "≈ stale" in row_text(screen, "sandbox/us-west-2:inventory")
        assert "stale" not in row_text(screen, "sandbox/us-east-1:checkout-api")


async def test_text_from_aws_is_shown_literally(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        key = next(k for k in screen.views[PIPELINES].keys if "markup" in k)
        await highlight(pilot, screen, key)
        text = rendered(app)
        assert "[b]markup[/b]-svc" in text  # not bold, not swallowed
        assert "\x1b" not in text
        assert "[red]not red[/red]" in text


async def test_slash_filters_by_name_target_and_status(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        await pilot.press("slash", *"fail")
        await wait_for(pilot, lambda: screen.views[PIPELINES].keys == ["sandbox/us-east-1:payments-service"])
        assert "1 of 6 shown" in rendered(app)
        await pilot.press("enter")  # back to the table, the filter stays
        assert screen.table.has_focus
        assert screen.views[PIPELINES].keys == ["sandbox/us-east-1:payments-service"]
        await wait_for(pilot, lambda: "filter: fail" in rendered(app), what="the filter in the bar")
        await pilot.press("escape")  # clears it
        await wait_for(pilot, lambda: len(screen.views[PIPELINES].keys) == 6, what="every pipeline again")
        await pilot.press("slash", *"west")
        await wait_for(pilot, lambda: screen.views[PIPELINES].keys == ["sandbox/us-west-2:inventory"])
        await pilot.press("escape")
        await pilot.press("slash", *"approval")
        await wait_for(pilot, lambda: screen.views[PIPELINES].keys == ["sandbox/us-east-1:checkout-api"])
        await pilot.press("escape", "slash", *"paused")
        await wait_for(pilot, lambda: screen.views[PIPELINES].keys == ["sandbox/us-east-1:notifications"])


def test_filter_words_must_all_match() -> None:
    assert matches("checkout-api sandbox/us-east-1 failed", "fail east")
    assert not matches("checkout-api sandbox/us-east-1 failed", "fail west")


async def test_the_cursor_stays_on_the_same_pipeline_when_rows_arrive(
    console_app: Any, fake_watcher: FakeWatcher
) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        await highlight(pilot, screen, "sandbox/us-east-1:search-indexer")
        state = fake_watcher.state
        newcomer = pipeline("aaa-first-alphabetically", all_waves())
        fake_watcher.publish(state.with_resources(CODEPIPELINE, {**pipelines_of(state), newcomer.key: newcomer}))
        await wait_for(pilot, lambda: newcomer.key in screen.views[PIPELINES].keys, what="the new row")
        keys = screen.views[PIPELINES].keys
        assert keys.index(newcomer.key) < keys.index("sandbox/us-east-1:search-indexer")  # rows moved down
        assert screen.highlighted_key() == "sandbox/us-east-1:search-indexer"


async def test_an_update_redraws_only_the_rows_that_changed(console_app: Any, fake_watcher: FakeWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        table = screen.table
        updated: list[str] = []
        refreshed: list[Any] = []
        original_update, original_refresh = table.update_row, table.refresh

        def update_row(key: str, cells: Any) -> None:
            updated.append(key)
            original_update(key, cells)

        def refresh(*regions: Any, **kwargs: Any) -> Any:
            refreshed.append(regions)
            return original_refresh(*regions, **kwargs)

        table.update_row = update_row  # type: ignore[method-assign]
        table.refresh = refresh  # type: ignore[method-assign]
        state = fake_watcher.state

        # The same pipelines again (a poll that found nothing new): nothing is redrawn.
        fake_watcher.publish(replace(state))
        await pilot.pause()
        assert updated == []
        assert refreshed == []

        # search-indexer's beta wave finished: only its row is redrawn, only its line of the list.
        key = "sandbox/us-east-1:search-indexer"
        old = pipelines_of(state)[key]
        new = replace(old, stages=tuple(replace(s, status="Succeeded") if s.name == "Beta" else s for s in old.stages))
        fake_watcher.publish(state.with_resources(CODEPIPELINE, {**pipelines_of(state), key: new}))
        await wait_for(pilot, lambda: updated, what="an update")
        assert updated == [key]
        assert len(refreshed) == 1
        (region,) = refreshed[0]
        assert region.height == 1  # one line, not the whole list


async def test_what_the_filter_searches_is_worked_out_ahead(console_app: Any, fake_watcher: FakeWatcher) -> None:
    """Between pictures the screen works out the filter's words of the rows built since (a few at a time), so the
    filter's first letter does not work out thousands of them."""
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        view = screen.views[PIPELINES]

        def unsearched() -> list[str]:
            return [row.key for row in view.rows.values() if row._words is None]

        await wait_for(pilot, lambda: len(view.rows) == 6 and not unsearched(), what="every row's words")
        state = fake_watcher.state
        key = "sandbox/us-east-1:search-indexer"
        old = pipelines_of(state)[key]
        new = replace(old, stages=tuple(replace(s, status="Failed") if s.name == "Beta" else s for s in old.stages))
        fake_watcher.publish(state.with_resources(CODEPIPELINE, {**pipelines_of(state), key: new}))
        await wait_for(pilot, lambda: view.rows[key]._pipeline is new, what="the new row")
        await wait_for(pilot, lambda: not unsearched(), what="the new row's words")
        assert "failed" in view.rows[key].words


async def test_a_filter_letter_matches_the_picture_on_screen_and_the_newest_follows(
    console_app: Any, fake_watcher: FakeWatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A letter matches the rows already built for the picture on screen (their words worked out ahead); a newer
    picture, held back by the redraw pace, is drawn after it, filtered the same way."""
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        view = screen.views[PIPELINES]
        await wait_for(pilot, lambda: len(view.rows) == 6, what="the pipelines")
        monkeypatch.setattr(console.app, "REDRAW_EVERY", 1.0)
        app._drawn_at = time.monotonic()  # a picture was just drawn: the next one waits
        state = fake_watcher.state
        key = "sandbox/us-east-1:search-indexer"
        old = pipelines_of(state)[key]
        new = replace(old, stages=tuple(replace(s, status="Failed") if s.name == "Beta" else s for s in old.stages))
        fake_watcher.publish(state.with_resources(CODEPIPELINE, {**pipelines_of(state), key: new}))
        await pilot.press("slash", *"fail")
        assert view.keys == ["sandbox/us-east-1:payments-service"]  # as on screen when typed
        await wait_for(pilot, lambda: key in view.keys, within=5, what="the newer picture, filtered")
        assert view.keys == ["sandbox/us-east-1:payments-service", key]


async def test_the_watcher_is_told_what_is_on_screen(console_app: Any, fake_watcher: FakeWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: fake_watcher.focused, what="a focus call")
        assert set(fake_watcher.focused[-1]) == set(pipelines_of(fake_watcher.state))
        await pilot.press("2")
        await wait_for(pilot, lambda: set(fake_watcher.focused[-1]) == set(state_machines_of(fake_watcher.state)))


async def test_state_machines_show_counts_and_newest_execution(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        screen = fleet(app)
        await wait_for(pilot, lambda: screen.view == MACHINES)
        load = row_text(screen, "sandbox/us-east-1:distributed-load-test")
        assert "✗ 1" in load
        assert "✗ failed load-test-7" in load
        assert "▶ 1" in row_text(screen, "sandbox/us-east-1:wave-deployment")


async def test_state_machines_open_on_their_first_row_then_where_they_were_left(console_app: Any) -> None:
    # The list is shared by both views: the machines' cursor must not take the pipelines' row number (it landed
    # on the last machine, where `j` does nothing).
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        await highlight(pilot, screen, screen.views[PIPELINES].keys[-1])
        await pilot.press("2")
        await wait_for(pilot, lambda: screen.view == MACHINES)
        assert screen.highlighted_key() == screen.views[MACHINES].keys[0]
        await pilot.press("j")
        second = screen.views[MACHINES].keys[1]
        assert screen.highlighted_key() == second
        await pilot.press("1")
        await wait_for(pilot, lambda: screen.view != MACHINES)
        assert screen.highlighted_key() == screen.views[PIPELINES].keys[-1]
        await pilot.press("2")
        await wait_for(pilot, lambda: screen.view == MACHINES)
        assert screen.highlighted_key() == second


async def test_five_hundred_pipelines_stay_fast(console_app: Any) -> None:
    base = fleet_picture()
    many = {}
    for i in range(500):
        p = pipeline(f"service-{i:03d}", all_waves(stage("Beta", "InProgress" if i % 7 == 0 else "Succeeded")))
        many[p.key] = p
    state = FleetState(resources={CODEPIPELINE: many}, targets=base.targets, default_stale_after=30.0)
    watcher = FakeWatcher(state)
    app = console_app(watcher=watcher)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = fleet(app)
        assert len(screen.views[PIPELINES].keys) == 500
        table = screen.table
        touched: list[str] = []
        original = table.update_row

        def update_row(key: str, cells: Any) -> None:
            touched.append(key)
            original(key, cells)

        table.update_row = update_row  # type: ignore[method-assign]
        key = "sandbox/us-east-1:service-250"
        old = many[key]
        changed = replace(
            old, stages=tuple(replace(s, status="Failed") if s.name == "Gamma" else s for s in old.stages)
        )
        started = time.perf_counter()
        watcher.publish(state.with_resources(CODEPIPELINE, {**many, key: changed}))
        await wait_for(pilot, lambda: "✗" in row_text(screen, key), what="the changed row")
        elapsed = time.perf_counter() - started
        assert set(touched) == {key}  # one row of 500 redrawn
        # A loose bound (the benchmark measures properly): an update must not cost a full rebuild.
        assert elapsed < 2.0, f"one change among 500 pipelines took {elapsed * 1000:.0f} ms to show"
        # Every pipeline read again (new objects, a new read time) and none reads differently: no row is
        # built or drawn again.
        touched.clear()
        rows = dict(screen.views[PIPELINES].rows)
        reread = {k: replace(p, read_at=p.read_at) for k, p in {**many, key: changed}.items()}
        assert all(reread[k] is not p for k, p in many.items())
        watcher.publish(state.with_resources(CODEPIPELINE, reread))
        shown = lambda: screen._shown_state is not None and pipelines_of(screen._shown_state) == reread  # noqa: E731
        await wait_for(pilot, shown, what="the re-read picture drawn")
        assert touched == []
        assert all(screen.views[PIPELINES].rows[k] is rows[k] for k in rows)


async def test_a_picture_that_changes_every_pipeline_draws_only_the_rows_on_screen(
    console_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row's cells are drawn when it first comes on screen (screens/fleet/rows.py `PipelineRow`): a picture in
    which 500 pipelines changed draws the screenful shown, and a row further down is drawn, from that picture,
    when the cursor brings it on screen."""
    base = fleet_picture()
    many = {}
    for i in range(500):
        p = pipeline(f"service-{i:03d}", all_waves())
        many[p.key] = p
    state = FleetState(resources={CODEPIPELINE: many}, targets=base.targets, default_stale_after=30.0)
    watcher = FakeWatcher(state)
    app = console_app(watcher=watcher)
    drawn: list[int] = []
    strip = rows_module.wave_strip

    def counted(*args: Any) -> Any:
        drawn.append(1)
        return strip(*args)

    monkeypatch.setattr(rows_module, "wave_strip", counted)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        on_screen = screen.table.page_height
        await wait_for(pilot, lambda: drawn, what="the first screenful drawn")
        assert len(drawn) <= on_screen + 1
        drawn.clear()
        failed = {
            k: replace(p, stages=tuple(replace(s, status="Failed") if s.name == "Gamma" else s for s in p.stages))
            for k, p in many.items()
        }
        watcher.publish(state.with_resources(CODEPIPELINE, failed))
        await wait_for(pilot, lambda: len(drawn) >= on_screen, what="the changed rows on screen drawn")
        await pilot.pause()
        assert len(drawn) <= on_screen + 1  # not 500
        last = screen.views[PIPELINES].keys[-1]
        await pilot.press("end")
        await wait_for(pilot, lambda: screen.highlighted_key() == last, what="the cursor on the last row")
        await pilot.pause()
        assert len(drawn) <= 2 * (on_screen + 1)
        assert "✗" in row_text(screen, last)  # drawn from the picture in which it failed


def test_layout_fits_80_columns_and_uses_120_and_200() -> None:
    narrow = pipeline_layout(80, 6, 9)
    assert narrow.density == "narrow"
    assert columns_width(narrow.columns(WAVES.waves)) + 1 <= 80  # + the scrollbar
    assert narrow.name >= 20
    medium = pipeline_layout(120, 6, 9)
    assert medium.density == "medium"  # glyph and revision in every wave cell
    assert columns_width(medium.columns(WAVES.waves)) + 1 <= 120
    assert medium.name >= 18
    wide = pipeline_layout(200, 6, 9)
    assert wide.density == "wide"  # and the age
    assert columns_width(wide.columns(WAVES.waves)) + 1 <= 200


def test_wave_cells_pick_status_revision_and_marks() -> None:
    picture = fleet_picture()
    checkout = pipelines_of(picture)["sandbox/us-east-1:checkout-api"]
    cells = {c.wave.name: c for c in wave_cells(checkout, WAVES.waves)}
    assert cells["prod-canary"].approval_stage == "Prod-Canary"
    assert cells["prod-canary"].look.word == "approval"
    assert cells["gamma"].revision == "a1b2c3d4"
    assert cells["prod-az1"].look.word == "not run"
    notifications = pipelines_of(picture)["sandbox/us-east-1:notifications"]
    az1 = next(c for c in wave_cells(notifications, WAVES.waves) if c.wave.name == "prod-az1")
    assert az1.paused
    assert az1.paused_reason.startswith("Holiday freeze")


def test_clean_removes_escapes_and_controls() -> None:
    assert clean("a\x1b[31mred\x1b[0m\x07b\u202ec") == "aredbc"
    assert clean("two\nlines\ttab") == "two lines tab"


def test_commit_message_reads_codestar_json_summaries() -> None:
    assert commit_message('{"ProviderType":"GitHub","CommitMessage":"Fix it\\nmore"}') == "Fix it"
    assert commit_message("plain summary") == "plain summary"


def test_the_boards_say_how_old_a_picture_is_also_when_its_last_read_failed() -> None:
    """A picture from the warm-start cache of a target that cannot be reached: the row says `error`, and the board
    says both how old what is shown is and why it was not read again (the error alone did not say the age)."""
    failing = "EndpointConnectionError: cannot reach AWS"
    pipe = replace(pipeline("checkout-api", all_waves(), read=300), error=failing)
    sm = replace(
        machine("wave-deployment", [execution("wave-deployment", "run-1", "SUCCEEDED")], read=300), error=failing
    )
    state = FleetState(default_stale_after=30.0)
    for line in (board_title(pipe, state, FIXED_NOW).plain, machine_detail(sm, state, FIXED_NOW).plain):
        assert "≈ stale: last read 5m ago · ! EndpointConnectionError: cannot reach AWS" in line
    # Read a moment ago and fresh: only the error; the age is said only once the picture is stale.
    recent = replace(pipe, read_at=ago(3))
    assert "stale" not in board_title(recent, state, FIXED_NOW).plain
    assert "! EndpointConnectionError" in board_title(recent, state, FIXED_NOW).plain
    # From the cache and not read since: stale whatever its age.
    cached = FleetState(default_stale_after=30.0, cached=frozenset({recent.key, replace(sm, read_at=ago(3)).key}))
    assert "≈ stale: last read 3s ago · !" in board_title(recent, cached, FIXED_NOW).plain
    assert "≈ stale: last read 3s ago · !" in machine_detail(replace(sm, read_at=ago(3)), cached, FIXED_NOW).plain
