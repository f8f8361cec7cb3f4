"""The app shell: the fleet screen comes up with the watcher's picture, sections switch with 1-4, updates arrive
as messages without losing transitions, errors become notifications."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace
from typing import Any

import pytest
from textual.app import ComposeResult
from textual.widgets import Static

import console.app
from console.actions.gate import ActionKind
from console.config import Config
from console.model import FleetState, TargetStatus, Transition
from screens.base import ConsoleScreen
from screens.confirm.screen import ConfirmActionModal, ConfirmQuitModal
from screens.context import ScreenRegistry
from screens.fleet.pipelines import PIPELINES
from screens.fleet.screen import FleetScreen
from screens.fleet.state_machines import MACHINES
from tests.selections import sel
from tests.ui.conftest import (
    FIXED_NOW,
    FakeGate,
    FakeWatcher,
    fleet_picture,
    make_plan,
    notifications,
    rendered,
    rendered_lines,
    sandbox_target,
    stand_in_registry,
    wait_for,
)


async def test_fleet_screen_shows_the_watchers_picture(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: "checkout-api" in rendered(app), what="the pipelines")
        text = rendered(app)
        assert "SANDBOX" in text
        assert "sandbox/us-east-1" in text
        assert "updated 2s ago" in text
        assert isinstance(app.screen, FleetScreen)


async def test_one_and_two_switch_between_pipelines_and_state_machines(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await pilot.press("2")
        await wait_for(pilot, lambda: "wave-deployment" in rendered(app), what="the state machines")
        assert screen.view == MACHINES
        await pilot.press("1")
        await wait_for(pilot, lambda: "checkout-api" in rendered(app), what="the pipelines again")
        assert screen.view == PIPELINES


async def test_updates_keep_every_transition(console_app: Any, fake_watcher: FakeWatcher) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        state = fleet_picture()
        for i in range(50):
            transition = Transition(FIXED_NOW, "sandbox/us-east-1", "stage", f"p/{i}", None, None, "A", "B")
            fake_watcher.publish(replace(state), [transition])
        await pilot.pause()
        log = app.console_context.transitions
        assert log.total == 50
        assert [t.resource for t in log.since(45).transitions] == [f"p/{i}" for i in range(45, 50)]


async def test_updates_from_a_watcher_on_another_thread_arrive_in_order_and_whole(
    console_app: Any, fake_watcher: FakeWatcher
) -> None:
    # A ThreadedWatcher calls back on its own thread: every transition is kept, in order, and the newest picture
    # is the one shown.
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        state = fleet_picture()
        pictures = [replace(state) for _ in range(200)]

        def publish() -> None:
            for i, picture in enumerate(pictures):
                transition = Transition(FIXED_NOW, "sandbox/us-east-1", "stage", f"p/{i}", None, None, "A", "B")
                fake_watcher.publish(picture, [transition])

        thread = threading.Thread(target=publish)
        thread.start()
        await asyncio.to_thread(thread.join, 10)
        log = app.console_context.transitions
        await wait_for(pilot, lambda: log.total == 200, what="every transition")
        assert [t.resource for t in log.since(0).transitions] == [f"p/{i}" for i in range(200)]
        await wait_for(pilot, lambda: app.console_context.state is pictures[-1], what="the newest picture")


async def pictures_drawn(app: Any, pilot: Any, monkeypatch: pytest.MonkeyPatch) -> list[FleetState]:
    """The pictures the fleet screen draws from now on, after a quiet moment; the redraw pace is made 1 s, longer
    than what a test does between two pictures takes, however busy the machine."""
    await wait_for(pilot, lambda: "checkout-api" in rendered(app), what="the pipelines")
    screen = app.screen
    assert isinstance(screen, FleetScreen)
    drawn: list[FleetState] = []
    show_state = screen.show_state
    monkeypatch.setattr(screen, "show_state", lambda state: (drawn.append(state), show_state(state)))
    monkeypatch.setattr(console.app, "REDRAW_EVERY", 1.0)
    app._drawn_at = 0.0
    return drawn


async def test_pictures_in_quick_succession_are_drawn_once_then_the_newest(
    console_app: Any, fake_watcher: FakeWatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        drawn = await pictures_drawn(app, pilot, monkeypatch)  # after a quiet moment: the next is drawn at once
        pictures = [replace(fleet_picture()) for _ in range(20)]
        for picture in pictures:
            fake_watcher.publish(picture)
            await pilot.pause()
        assert drawn[0] is pictures[0]
        assert len(drawn) < len(pictures)  # the ones in between are not drawn for nobody
        assert app.console_context.state is pictures[-1]
        await wait_for(pilot, lambda: drawn[-1] is pictures[-1], what="the newest drawn")


async def test_a_picture_that_comes_right_after_a_key_waits_for_the_keys_frame(
    console_app: Any, fake_watcher: FakeWatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        drawn = await pictures_drawn(app, pilot, monkeypatch)  # quiet: a picture now would be drawn at once...
        await pilot.press("j")
        picture = replace(fleet_picture())
        fake_watcher.publish(picture)
        await pilot.pause()
        assert all(state is not picture for state in drawn)  # ...but a key was just pressed: its frame first
        await wait_for(pilot, lambda: drawn and drawn[-1] is picture, within=5, what="the picture drawn after the key")


async def test_a_picture_already_waiting_when_a_key_comes_waits_for_the_keys_frame_too(
    console_app: Any, fake_watcher: FakeWatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A picture held back by the redraw pace when a key comes is put off until REDRAW_EVERY after the key, not
    drawn in the middle of the key's screen settling."""
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        drawn = await pictures_drawn(app, pilot, monkeypatch)
        monkeypatch.setattr(console.app, "REDRAW_EVERY", 0.6)
        first, second = replace(fleet_picture()), replace(fleet_picture())
        fake_watcher.publish(first)
        await wait_for(pilot, lambda: drawn and drawn[-1] is first, what="the first picture, at once")
        fake_watcher.publish(second)  # held back: due 0.6 s after the first
        await pilot.pause(0.3)  # the operator presses a key meanwhile
        pressed = time.monotonic()
        await pilot.press("j")
        await wait_for(pilot, lambda: drawn[-1] is second, within=5, what="the second picture")
        assert time.monotonic() - pressed >= 0.55


async def test_a_failing_worker_is_a_notification_not_a_crash(console_app: Any, fake_watcher: FakeWatcher) -> None:
    async def broken(keys: Any = None) -> None:
        raise RuntimeError("the network is down")

    fake_watcher.refresh = broken  # type: ignore[method-assign]
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: any("the network is down" in n for n in notifications(app)), what="a notice")
        assert app.is_running


# --- navigation through the registry -----------------------------------------------------------------------


class _Section(ConsoleScreen):
    """A stand-in for a screen another module provides (approvals, activity, a pipeline)."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(self.label)


def _registry() -> ScreenRegistry:
    return ScreenRegistry(
        pipeline=lambda key: _Section(f"pipeline {key}"),
        approvals=lambda: _Section("approvals inbox"),
        activity=lambda: _Section("activity stream"),
    )


async def test_sections_switch_with_three_and_four_and_escape_goes_back(console_app: Any) -> None:
    app = console_app(registry=_registry())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, _Section) and app.screen.label == "approvals inbox")
        await pilot.press("4")
        await wait_for(pilot, lambda: isinstance(app.screen, _Section) and app.screen.label == "activity stream")
        assert len(app.screen_stack) == 2  # sections replace each other on top of the fleet
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await pilot.press("3", "1")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), what="1 goes home from anywhere")


async def test_enter_opens_the_pipeline_and_escape_comes_back(console_app: Any) -> None:
    app = console_app(registry=_registry())
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        highlighted = screen.highlighted_key()
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, _Section) and app.screen.label == f"pipeline {highlighted}"
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert screen.highlighted_key() == highlighted


# --- quitting ------------------------------------------------------------------------------------------------


async def test_q_quits_at_once_when_nothing_is_in_flight(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, what="the app to exit")


async def test_q_asks_while_an_action_is_in_flight(console_app: Any, fake_gate: FakeGate) -> None:
    fake_gate._in_flight.append(make_plan(ActionKind.STOP, sel("sandbox/us-east-1", "checkout-api")))
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("q")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmQuitModal) and app.screen)
        assert modal.in_flight == ("Stop checkout-api",)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        assert app.is_running
        await pilot.press("q", "y")
        await wait_for(pilot, lambda: not app.is_running, what="the app to exit")


# --- the header ----------------------------------------------------------------------------------------------


async def test_the_header_names_production_targets_and_target_errors(console_app: Any, picture: FleetState) -> None:
    prod = sandbox_target("us-west-2", name="prod-west", production=True, sandbox=False)
    east = picture.targets[0]
    broken = TargetStatus(
        target=prod,
        error="The SSO session for profile prod has expired: run `aws sso login --profile prod`",
    )
    state = replace(picture, targets=(east, broken))
    app = console_app(watcher=FakeWatcher(state), targets=(east.target, prod))
    async with app.run_test(size=(120, 36)) as pilot:
        text = await wait_for(pilot, lambda: "PRODUCTION" in rendered(app) and rendered(app))
        assert "▲ PRODUCTION: prod-west" in text
        assert "SANDBOX" not in text  # not every target is the sandbox
        assert "aws sso login --profile prod" in text
        assert "! error" in text


# --- keys, colour and size ----------------------------------------------------------------------------------


async def test_keymap_from_the_config_remaps_a_binding(console_app: Any, fake_gate: FakeGate) -> None:
    app = console_app(config=Config(keymap={"approve": "ctrl+a"}))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        while screen.highlighted_key() != "sandbox/us-east-1:checkout-api":
            await pilot.press("j")
        assert "ctrl+a" in app.screen.active_bindings
        await pilot.press("ctrl+a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal), what="approve on ctrl+a")


async def test_no_color_is_honoured_and_statuses_keep_their_words(console_app: Any, no_color: None) -> None:
    app = console_app()
    assert app.no_color
    async with app.run_test(size=(120, 36)) as pilot:
        text = await wait_for(pilot, lambda: "checkout-api" in rendered(app) and rendered(app))
        assert any(type(f).__name__ in ("Monochrome", "NoColor") for f in app.get_line_filters())
        for words in ("✓ succeeded", "✗ failed", "▶ in progress", "≈ stale"):
            assert words in text


async def test_at_80x24_nothing_essential_is_cut_off(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        lines = await wait_for(
            pilot,
            lambda: "checkout-api" in rendered(app) and "? Help" in rendered_lines(app)[-1] and rendered_lines(app),
        )
        text = "\n".join(lines)
        assert "SANDBOX" in lines[0]
        assert "updated 2s ago" in lines[0]
        for name in ("checkout-api", "payments-service", "search-indexer", "notifications", "inventory"):
            assert name in text
        for words in ("✗ failed", "▶ in progress", "≈ stale"):
            assert words in text
        assert "? Help" in lines[-1]
        assert all(len(line) <= 80 for line in lines)
        # The wave board of the highlighted pipeline names every wave.
        for wave in ("alpha", "beta", "gamma", "canary", "prod-az1", "prod-az2"):
            assert wave in text


async def test_at_200x60_the_waves_show_revisions(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(200, 60)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await wait_for(
            pilot,
            lambda: screen.views[PIPELINES].layout is not None and screen.views[PIPELINES].layout.density == "wide",
        )
        assert "9f8e7d6" in rendered(app)  # payments-service's revision, in its wave cells


def test_snapshot_fleet_120x36(snap_compare: Any, console_app: Any) -> None:
    assert snap_compare(console_app(registry=stand_in_registry()), terminal_size=(120, 36))


def test_snapshot_fleet_80x24(snap_compare: Any, console_app: Any) -> None:
    assert snap_compare(console_app(registry=stand_in_registry()), terminal_size=(80, 24))


def test_snapshot_state_machines(snap_compare: Any, console_app: Any) -> None:
    assert snap_compare(console_app(registry=stand_in_registry()), press=["2"], terminal_size=(120, 36))


async def test_the_theme_comes_from_the_config(console_app: Any) -> None:
    app = console_app(config=Config(theme="textual-light"))
    async with app.run_test(size=(120, 36)):
        assert app.theme == "textual-light"


async def test_an_unknown_theme_is_a_notification_not_a_crash(console_app: Any) -> None:
    app = console_app(config=Config(theme="no-such-theme"))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: any("no-such-theme" in n for n in notifications(app)))
        assert app.is_running
