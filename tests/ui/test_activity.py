"""The activity stream on fixed data: transitions as they arrive, following and holding, the filter, the bounded
window, how each target's transitions come (push or poll), the keys and the layout.

The fleet's picture and the clock are fixed (tests/ui/conftest.py); the fake watcher publishes transitions the
way the real one does (`FleetUpdate(state, transitions)`). The real stream from the sandbox is in
test_activity_sandbox.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from textual.app import ComposeResult
from textual.widgets import Static

from console.model import FleetState, Transition
from screens.activity.rows import stream_layout
from screens.activity.screen import ActivityScreen
from screens.approvals.screen import ApprovalsScreen
from screens.base import ConsoleScreen
from screens.context import ScreenRegistry
from screens.fleet.screen import FleetScreen
from screens.text import middle
from screens.widgets.keyed_list import KeyedList
from tests.ui.conftest import (
    ACCOUNT,
    FIXED_NOW,
    WAVES,
    FakeWatcher,
    notifications,
    rendered,
    rendered_lines,
    stand_in_registry,
    wait_for,
)

EAST, WEST = "sandbox/us-east-1", "sandbox/us-west-2"
DEPLOY_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:wave-deployment:deploy-notifications-42"

# A day in the life of the fixed fleet: (kind, resource, execution, wave, from, to, detail, source).
SCRIPT: tuple[tuple[str, str, str | None, str | None, str | None, str, str, str], ...] = (
    ("pipeline-execution", "checkout-api", "0f1e2d3c-aaaa", None, None, "InProgress", "a1b2c3d4 Fix totals", "poll"),
    ("stage", "checkout-api/Gamma", "0f1e2d3c-aaaa", "gamma", "InProgress", "Succeeded", "", "push"),
    ("action", "payments-service/Gamma/Canaries", "9a8b7c6d-bbbb", "gamma", "InProgress", "Failed",
     "Synthetic canary GetOrder breached p99 latency (812 ms > 500 ms)", "push"),
    ("stage", "payments-service/Gamma", "9a8b7c6d-bbbb", "gamma", "InProgress", "Failed", "", "push"),
    ("pipeline-execution", "payments-service", "9a8b7c6d-bbbb", None, "InProgress", "Failed", "", "poll"),
    ("action", "checkout-api/Prod-Canary/ApproveProduction", "0f1e2d3c-aaaa", "prod-canary", None, "InProgress",
     "Waiting for approval: Promote this revision to production?", "push"),
    ("sfn-state", "wave-deployment/deploy-notifications-42", DEPLOY_ARN, "prod-canary", None, "ApprovePromotion",
     "entered ApprovePromotion", "poll"),
    ("sfn-execution", "distributed-load-test/load-test-7", None, "beta", "RUNNING", "FAILED",
     "States.TaskFailed: Load check failed: p99 812 ms > 500 ms", "poll"),
    ("stage", "[b]markup[/b]-svc\x1b[31m/Beta", "deadbeef-cccc", "beta", "InProgress", "Succeeded",
     "[red]not red[/red]\x1b[2J cleared?", "poll"),
    ("stage", "notifications/Prod-AZ1", "feedface-dddd", "prod-az1", "InProgress", "Succeeded", "", "push"),
)  # fmt: skip


def scripted(index: int, *, start: int = 0) -> Transition:
    kind, resource, execution, wave, before, after, detail, source = SCRIPT[index % len(SCRIPT)]
    return Transition(
        time=FIXED_NOW + timedelta(seconds=start + index * 7),
        target=WEST if resource.startswith("inventory") or index % 5 == 4 else EAST,
        kind=kind,
        resource=resource,
        execution=execution,
        wave=WAVES.wave(wave) if wave else None,
        from_status=before,
        to_status=after,
        detail=detail,
        source=source,
    )


def numbered(index: int) -> Transition:
    """A plain stage transition whose resource carries its number (for counting and flooding)."""
    return Transition(
        FIXED_NOW + timedelta(milliseconds=index), EAST, "stage", f"flood-{index:05d}/Beta", None,
        WAVES.wave("beta"), "InProgress", "Succeeded" if index % 2 else "Failed",
    )  # fmt: skip


def with_push(picture: FleetState) -> FleetState:
    """The east target's transitions come by push; the west's push queue failed, so it polls."""
    east, west = picture.targets
    return replace(picture, targets=(replace(east, push="on"), replace(west, push="failed")))


def publish(watcher: FakeWatcher, transitions: list[Transition]) -> None:
    watcher.publish(replace(watcher.state), transitions)  # a new picture, as the watcher publishes


async def open_activity(pilot: Any, app: Any) -> ActivityScreen:
    await pilot.press("4")
    screen = await wait_for(pilot, lambda: isinstance(app.screen, ActivityScreen) and app.screen, what="activity")
    assert isinstance(screen, ActivityScreen)
    return screen


def stream_of(screen: ActivityScreen) -> KeyedList:
    return screen.query_one(KeyedList)


def shown_resources(screen: ActivityScreen) -> list[str]:
    return [e.transition.resource for e in stream_of(screen).shown_rows()]


# --- pure helpers --------------------------------------------------------------------------------------------


def test_layout_fits_the_width_and_keeps_the_essentials() -> None:
    for width in (60, 78, 96, 118, 160, 198):
        layout = stream_layout(width, 9, several_targets=True)
        columns = [layout.time, layout.target, layout.kind, layout.resource, layout.wave, layout.status]
        columns += [layout.source, layout.detail]
        used = sum(columns) + sum(1 for c in columns if c) - 1
        assert used <= width, width
        assert layout.resource >= 8
    assert stream_layout(78, 9, several_targets=True).target == 0  # the detail pane names it
    assert stream_layout(118, 9, several_targets=True).wide_status
    assert stream_layout(198, 9, several_targets=True).detail > 40
    assert middle("checkout-api/Prod-Canary/DeployOneBox", 20) == "checkout-a…loyOneBox"
    assert middle("short", 20) == "short"


# --- the stream ------------------------------------------------------------------------------------------------


async def test_transitions_show_as_they_happen_newest_at_the_bottom(
    console_app: Any, fake_watcher: FakeWatcher
) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_activity(pilot, app)
        text = await wait_for(pilot, lambda: "No transitions yet" in rendered(app) and rendered(app))
        assert "0 seen" in text
        for batch in range(3):
            publish(fake_watcher, [scripted(i) for i in range(batch * 3, batch * 3 + 3)])
            await wait_for(pilot, lambda b=batch: len(shown_resources(screen)) == b * 3 + 3, what=f"batch {batch}")
        lines = rendered_lines(app)
        text = "\n".join(lines)
        assert "9 seen" in text
        assert "▼ following the newest" in text
        # Time, target, kind, resource, wave, from → to and how it came, in the order they happened.
        assert "03:00:00 us-east-1 run" in text
        assert "payments-service/Gamma/Canaries" in text
        assert "▶ in progress → ✗ failed" in text
        assert "▲ prod-canary" in text
        assert "push" in text
        newest = next(i for i, line in enumerate(lines) if "distributed-load-test" in line)
        oldest = next(i for i, line in enumerate(lines) if "03:00:00" in line)
        assert oldest < newest
        stream = stream_of(screen)
        assert stream.following
        assert stream.cursor_row == 8
        # The detail pane shows the newest (the cursor follows it) in full, literally.
        assert "[red]not red[/red] cleared?" in text


async def test_moving_up_holds_the_view_and_end_follows_again(console_app: Any, fake_watcher: FakeWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 24)) as pilot:
        screen = await open_activity(pilot, app)
        stream = stream_of(screen)
        publish(fake_watcher, [numbered(i) for i in range(40)])
        await wait_for(pilot, lambda: stream.row_count == 40)
        await wait_for(pilot, lambda: "flood-00039" in rendered(app))
        await pilot.press("k", "k", "k")
        assert not stream.following
        held = stream.highlighted
        assert held is not None
        assert held.transition.resource == "flood-00036/Beta"
        top = stream.scroll_offset.y
        publish(fake_watcher, [numbered(i) for i in range(40, 45)])
        text = await wait_for(pilot, lambda: "5 newer below" in rendered(app) and rendered(app))
        assert "‖ held" in text
        assert stream.highlighted == held  # arrivals move neither the cursor…
        assert stream.scroll_offset.y == top  # …nor the view
        assert "flood-00044" not in text
        await pilot.press("end")
        text = await wait_for(pilot, lambda: "flood-00044" in rendered(app) and rendered(app))
        assert stream.following
        assert "▼ following the newest" in text
        publish(fake_watcher, [numbered(45)])
        await wait_for(pilot, lambda: "flood-00045" in rendered(app), what="following again")
        # Moving down onto the newest line follows too.
        await pilot.press("home")
        assert not stream.following
        assert stream.cursor_row == 0
        await pilot.press("pagedown", "pagedown", "pagedown", "pagedown", "j", "j")
        await wait_for(pilot, lambda: stream.following, what="following after reaching the newest")


async def test_the_filter_narrows_and_keeps_what_arrives_meanwhile(console_app: Any, fake_watcher: FakeWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_activity(pilot, app)
        stream = stream_of(screen)
        publish(fake_watcher, [scripted(i) for i in range(10)])
        await wait_for(pilot, lambda: stream.row_count == 10)
        await pilot.press("slash", *"fail", "enter")
        await wait_for(pilot, lambda: stream.row_count == 4, what="the failures")
        assert shown_resources(screen) == [
            "payments-service/Gamma/Canaries",
            "payments-service/Gamma",
            "payments-service",
            "distributed-load-test/load-test-7",
        ]
        assert "filter: fail (4 shown)" in rendered(app)
        # Arrivals while filtered: the matching one shows, the others are kept.
        publish(fake_watcher, [scripted(i, start=100) for i in range(10, 13)])  # stage, run, failed action
        await wait_for(pilot, lambda: stream.row_count == 5, what="the new failure")
        assert stream.kept == 13
        await pilot.press("escape")
        await wait_for(pilot, lambda: stream.row_count == 13, what="everything again")
        await pilot.press("slash", *"prod approv", "enter")
        await wait_for(pilot, lambda: stream.row_count == 2, what="production approvals")
        assert shown_resources(screen) == [
            "checkout-api/Prod-Canary/ApproveProduction",
            "wave-deployment/deploy-notifications-42",
        ]
        await pilot.press("slash")
        await pilot.press(*" nothing-like-this", "enter")
        text = await wait_for(pilot, lambda: "No transition matches" in rendered(app) and rendered(app))
        assert "(13 kept)" in text


async def test_the_window_stays_bounded_when_flooded(console_app: Any, fake_watcher: FakeWatcher) -> None:
    app = console_app(transitions_window=300)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_activity(pilot, app)
        stream = stream_of(screen)
        assert stream.limit == 300
        for start in range(0, 6000, 500):
            publish(fake_watcher, [numbered(i) for i in range(start, start + 500)])
            await pilot.pause()
        await wait_for(pilot, lambda: screen._seq == 6000, what="every transition read")
        assert stream.kept == 300
        assert stream.row_count == 300
        assert len(app.console_context.transitions) == 300
        assert shown_resources(screen)[0] == "flood-05700/Beta"
        assert shown_resources(screen)[-1] == "flood-05999/Beta"
        text = await wait_for(pilot, lambda: "flood-05999" in rendered(app) and rendered(app))
        assert "6000 seen · newest 300 kept" in text
        # Held on a line while the flood pushes older lines out of the window: the line stays under the cursor
        # until it leaves the window itself.
        await pilot.press("k")
        held = stream.highlighted
        assert held is not None
        publish(fake_watcher, [numbered(i) for i in range(6000, 6100)])
        await wait_for(pilot, lambda: screen._seq == 6100)
        assert stream.highlighted == held
        assert stream.kept == 300
        # A filter over a full window, then more arrivals: still bounded.
        await pilot.press("slash", *"failed", "enter")
        await wait_for(pilot, lambda: stream.row_count == 150)
        publish(fake_watcher, [numbered(i) for i in range(6100, 7000)])
        await wait_for(pilot, lambda: screen._seq == 7000)
        assert stream.kept == 300
        assert stream.row_count == 150


async def test_the_hidden_screen_catches_up_on_return(console_app: Any, fake_watcher: FakeWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        publish(fake_watcher, [scripted(i) for i in range(3)])  # before the screen ever opened
        screen = await open_activity(pilot, app)
        await wait_for(pilot, lambda: len(shown_resources(screen)) == 3)
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        publish(fake_watcher, [scripted(i) for i in range(3, 8)])
        await pilot.pause()
        assert len(shown_resources(screen)) == 3  # hidden: no work
        await pilot.press("4")
        await wait_for(pilot, lambda: app.screen is screen)
        await wait_for(pilot, lambda: len(shown_resources(screen)) == 8, what="what came while hidden")
        assert shown_resources(screen)[-1] == "distributed-load-test/load-test-7"
        # Taken in without working out what the filter searches (thousands of lines on a large fleet) ...
        entries = list(stream_of(screen)._rows.values())
        assert all(entry._words is None for entry in entries)
        # ... which the filter then finds all the same.
        await pilot.press("slash", *"load-test", "enter")
        await wait_for(pilot, lambda: shown_resources(screen) == ["distributed-load-test/load-test-7"])


async def test_push_or_poll_is_visible(console_app: Any, picture: FleetState) -> None:
    watcher = FakeWatcher(with_push(picture))
    app = console_app(watcher=watcher)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_activity(pilot, app)
        publish(watcher, [scripted(i) for i in range(3)])
        text = await wait_for(pilot, lambda: "checkout-api/Gamma" in rendered(app) and rendered(app))
        assert "via us-east-1 push · us-west-2 poll (push failed)" in text
        gamma = next(line for line in text.splitlines() if "checkout-api/Gamma " in line)
        assert gamma.rstrip().endswith("push")
        run = next(line for line in text.splitlines() if "03:00:00" in line)
        assert run.rstrip().endswith("poll")
        status = replace(watcher.state.targets[1], push="on")
        watcher.publish(replace(watcher.state, targets=(watcher.state.targets[0], status)))
        await wait_for(pilot, lambda: "us-west-2 push" in rendered(app), what="the queue connected")


async def test_untrusted_text_is_shown_literally(console_app: Any, fake_watcher: FakeWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(160, 36)) as pilot:
        screen = await open_activity(pilot, app)
        publish(fake_watcher, [scripted(8)])
        text = await wait_for(pilot, lambda: "markup" in rendered(app) and rendered(app))
        assert "[b]markup[/b]-svc/Beta" in text
        assert "[red]not red[/red] cleared?" in text
        assert "\x1b" not in text
        assert stream_of(screen).row_count == 1


class _Opened(ConsoleScreen):
    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(self.label)


async def test_enter_opens_the_pipeline_or_execution_of_the_line(console_app: Any, fake_watcher: FakeWatcher) -> None:
    registry = ScreenRegistry(
        pipeline=lambda key: _Opened(f"pipeline {key}"),
        execution=lambda target, arn: _Opened(f"execution {target} {arn}"),
        activity=ActivityScreen,
    )
    app = console_app(registry=registry)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_activity(pilot, app)
        publish(fake_watcher, [scripted(i) for i in range(7)])
        await wait_for(pilot, lambda: stream_of(screen).row_count == 7)
        await pilot.press("enter")  # the newest: the task-token state of wave-deployment
        opened = await wait_for(pilot, lambda: isinstance(app.screen, _Opened) and app.screen)
        assert opened.label == f"execution {EAST} {DEPLOY_ARN}"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("k")
        await pilot.press("enter")
        opened = await wait_for(pilot, lambda: isinstance(app.screen, _Opened) and app.screen)
        assert opened.label == f"pipeline {EAST}:checkout-api"


async def test_enter_says_why_when_there_is_nothing_to_open(console_app: Any) -> None:
    app = console_app(registry=ScreenRegistry(activity=ActivityScreen))
    async with app.run_test(size=(120, 36)) as pilot:
        await open_activity(pilot, app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("no transition is selected" in n for n in notifications(app)))


async def test_nothing_redraws_when_nothing_changed(
    console_app: Any, fake_watcher: FakeWatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_activity(pilot, app)
        publish(fake_watcher, [scripted(i) for i in range(5)])
        await wait_for(pilot, lambda: stream_of(screen).row_count == 5)
        await pilot.pause()
        calls: list[str] = []
        stream = stream_of(screen)
        monkeypatch.setattr(stream, "refresh", lambda *a, **k: calls.append("stream"))
        for static in screen.query(Static):
            monkeypatch.setattr(static, "update", lambda *a, _id=static.id, **k: calls.append(str(_id)))
        for _ in range(3):
            screen.tick()
            publish(fake_watcher, [])  # a new picture without transitions
            await pilot.pause()
        assert calls == []
        publish(fake_watcher, [scripted(5)])
        await wait_for(pilot, lambda: "stream" in calls, what="a redraw for a real change")


# --- size, colour, snapshots ---------------------------------------------------------------------------------


async def test_at_80x24_nothing_essential_is_cut_off(console_app: Any, fake_watcher: FakeWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_activity(pilot, app)
        publish(fake_watcher, [scripted(i) for i in range(10)])
        lines = await wait_for(
            pilot,
            lambda: (
                "notifications/Prod-AZ1" in rendered(app) and "Help" in rendered_lines(app)[-1] and rendered_lines(app)
            ),
            what="the stream at 80x24",
        )
        text = "\n".join(lines)
        assert all(len(line) <= 80 for line in lines)
        assert "Time UTC" in text
        for words in ("03:00:", "stage", "action", "sfn run", "payments-se", "▲ prod-canary", "✗ failed"):
            assert words in text, words
        assert "▶→✓ succeeded" in text  # from → to, compact
        assert "via us-east-1 poll · us-west-2 poll" in text
        # The highlighted (newest) line in full under the stream.
        assert "stage  notifications/Prod-AZ1" in text
        assert "▶ in progress → ✓ succeeded · wave ▲ prod-az1 · via push" in text


async def test_no_color_keeps_glyphs_and_words(console_app: Any, fake_watcher: FakeWatcher, no_color: None) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_activity(pilot, app)
        publish(fake_watcher, [scripted(i) for i in range(10)])
        text = await wait_for(pilot, lambda: "notifications/Prod-AZ1" in rendered(app) and rendered(app))
        assert app.no_color
        for words in ("▶ in progress → ✗ failed", "· → ▶ in progress", "▶ running → ✗ failed", "▲ prod-az1"):
            assert words in text, words


def snapshot_registry() -> ScreenRegistry:
    """The real approvals and activity screens, stand-ins for the others (their changes do not move ours)."""
    return replace(stand_in_registry(), approvals=ApprovalsScreen, activity=ActivityScreen)


def _scripted_app(console_app: Any, picture: FleetState) -> tuple[Any, Any]:
    """The app with push on for one target, and a `run_before` that publishes the whole script."""
    watcher = FakeWatcher(with_push(picture))

    async def run_before(pilot: Any) -> None:
        for i in range(len(SCRIPT)):
            watcher.publish(watcher.state, [scripted(i)])
        await pilot.pause()

    return console_app(watcher=watcher, registry=snapshot_registry()), run_before


def test_snapshot_activity_120x36(snap_compare: Any, console_app: Any, picture: FleetState) -> None:
    app, run_before = _scripted_app(console_app, picture)
    assert snap_compare(app, press=["4", "k", "k"], terminal_size=(120, 36), run_before=run_before)


def test_snapshot_activity_80x24(snap_compare: Any, console_app: Any, picture: FleetState) -> None:
    app, run_before = _scripted_app(console_app, picture)
    assert snap_compare(app, press=["4"], terminal_size=(80, 24), run_before=run_before)


def test_snapshot_activity_filtered(snap_compare: Any, console_app: Any, picture: FleetState) -> None:
    app, run_before = _scripted_app(console_app, picture)
    press = ["4", "slash", *"fail", "enter"]
    assert snap_compare(app, press=press, terminal_size=(120, 36), run_before=run_before)


def test_snapshot_activity_empty(snap_compare: Any, console_app: Any) -> None:
    assert snap_compare(console_app(registry=snapshot_registry()), press=["4"], terminal_size=(100, 24))
