"""Actions from the fleet screen against a scripted gate: greyed-out keys say why, the flow from key to modal to
execute, refusals and failures as notifications, one action at a time, typed production confirmation."""

from __future__ import annotations

import asyncio
from typing import Any

from console.actions.gate import ActionKind
from console.errors import AccessDenied, Refused
from screens.choose.screen import ChooseModal
from screens.confirm.screen import ConfirmActionModal
from screens.fleet.screen import FleetScreen
from screens.widgets.fleet_header import FleetHeader
from tests.ui.conftest import FakeGate, make_plan, notifications, wait_for
from tests.ui.test_fleet import fleet, highlight

CHECKOUT = "sandbox/us-east-1:checkout-api"
PAYMENTS = "sandbox/us-east-1:payments-service"
NOTIFICATIONS = "sandbox/us-east-1:notifications"


def footer_key(app: Any, key: str) -> Any:
    return app.screen.active_bindings[key]


async def open_confirmation(pilot: Any, app: Any, key: str, press: str) -> ConfirmActionModal:
    screen = fleet(app)
    await highlight(pilot, screen, key)
    await pilot.press(press)
    return await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen, what="the modal")


async def test_actions_that_make_no_sense_are_greyed_out_and_say_why(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        await highlight(pilot, screen, PAYMENTS)
        assert not footer_key(app, "a").enabled  # nothing waits for approval here
        assert footer_key(app, "r").enabled  # its gamma stage failed
        await pilot.press("a")
        await wait_for(pilot, lambda: notifications(app), what="a notification")
        assert any("nothing is waiting for approval" in n for n in notifications(app))
        assert isinstance(app.screen, FleetScreen)  # no modal
        await highlight(pilot, screen, CHECKOUT)
        assert footer_key(app, "a").enabled


async def test_read_only_shows_every_action_unavailable_with_the_reason(console_app: Any, picture: Any) -> None:
    gate = FakeGate([s.target for s in picture.targets], read_only=True)
    app = console_app(gate=gate, read_only_reason="started with --read-only")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        await highlight(pilot, screen, CHECKOUT)
        for key in "axsSbrp":
            assert not footer_key(app, key).enabled, key
        facts = app.screen.query_one(FleetHeader).facts
        assert facts is not None
        assert ("READ-ONLY (started with --read-only)", "reverse bold yellow") in facts.badges
        await pilot.press("a")
        await wait_for(pilot, lambda: any("read-only" in n for n in notifications(app)), what="the read-only notice")
        assert gate.planned == []


async def test_approve_goes_from_key_to_plan_to_confirmation_to_execute(console_app: Any, fake_gate: FakeGate) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        modal = await open_confirmation(pilot, app, CHECKOUT, "a")
        kind, selection = fake_gate.planned[-1]
        assert kind is ActionKind.APPROVE
        assert (selection.pipeline, selection.stage, selection.action) == (
            "checkout-api",
            "Prod-Canary",
            "ApproveProduction",
        )
        assert modal.plan.production
        await pilot.press(*"canary looks good", "enter")  # reason, then on to the wave's name
        await pilot.press(*"prod-canary", "enter")
        await wait_for(pilot, lambda: fake_gate.executed, what="the execute call")
        plan, reason, typed = fake_gate.executed[0]
        assert reason == "canary looks good"
        assert typed == "prod-canary"
        await wait_for(pilot, lambda: any("req-0001" in n for n in notifications(app)), what="the request id")
        assert isinstance(app.screen, FleetScreen)
        watcher = app.console_context.watcher
        await wait_for(pilot, lambda: (CHECKOUT,) in watcher.refreshed, what="a refresh of checkout-api")


async def test_a_wrong_wave_name_refuses(console_app: Any, fake_gate: FakeGate) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        modal = await open_confirmation(pilot, app, CHECKOUT, "a")
        await pilot.press(*"ship it", "tab", *"prod-az1", "enter")
        await pilot.pause()
        assert app.screen is modal
        assert "not the wave's name" in str(modal.query_one("#problem").render())
        assert fake_gate.executed == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        assert fake_gate.executed == []
        assert any("Nothing was sent" in n for n in notifications(app))


async def test_a_stale_selection_is_refused_by_the_plan(console_app: Any, fake_gate: FakeGate) -> None:
    fake_gate.plans[(ActionKind.RETRY, "payments-service/Gamma")] = Refused(
        "payments-service/Gamma has not failed (Succeeded); only a failed stage can be retried"
    )
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        await highlight(pilot, screen, PAYMENTS)
        await pilot.press("r")
        await wait_for(pilot, lambda: any("has not failed" in n for n in notifications(app)), what="the refusal")
        assert isinstance(app.screen, FleetScreen)
        assert fake_gate.executed == []


async def test_a_failed_call_is_a_notification_with_the_reason(console_app: Any, fake_gate: FakeGate) -> None:
    fake_gate.execute_error = AccessDenied(
        "Retry payments-service / Gamma failed: not authorized to perform codepipeline:RetryStageExecution",
        code="AccessDeniedException",
        request_id="req-denied-1",
    )
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_confirmation(pilot, app, PAYMENTS, "r")
        await pilot.press(*"retry after flaky test", "enter")
        await wait_for(pilot, lambda: any("req-denied-1" in n for n in notifications(app)), what="the failure")
        assert any("not authorized" in n for n in notifications(app))
        assert app.is_running
        assert isinstance(app.screen, FleetScreen)


async def test_a_second_press_while_one_is_in_flight_sends_nothing(console_app: Any, fake_gate: FakeGate) -> None:
    fake_gate.hold = asyncio.Event()
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_confirmation(pilot, app, PAYMENTS, "r")
        await pilot.press(*"retry after flaky test", "enter")
        await wait_for(pilot, lambda: fake_gate.executed, what="the first execute")
        await pilot.press("r")
        await wait_for(pilot, lambda: any("One at a time" in n for n in notifications(app)), what="the refusal")
        assert len(fake_gate.planned) == 1
        fake_gate.hold.set()
        await wait_for(pilot, lambda: any("req-0001" in n for n in notifications(app)), what="the first result")
        assert len(fake_gate.executed) == 1


async def test_pause_asks_which_stage_with_the_sensible_one_first(console_app: Any, fake_gate: FakeGate) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        await highlight(pilot, screen, NOTIFICATIONS)
        await pilot.press("p")
        chooser = await wait_for(pilot, lambda: isinstance(app.screen, ChooseModal) and app.screen, what="the chooser")
        assert chooser.labels[chooser.preferred].startswith("Resume promotion into Prod-AZ1")
        await pilot.press("enter")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen)
        kind, selection = fake_gate.planned[-1]
        assert kind is ActionKind.RESUME
        assert selection.stage == "Prod-AZ1"
        await pilot.press("escape")
        assert modal.plan.kind is ActionKind.RESUME


async def test_rollback_picks_a_production_wave(console_app: Any, fake_gate: FakeGate) -> None:
    fake_gate.plans[(ActionKind.ROLLBACK, "payments-service/Prod-AZ2")] = make_plan(
        ActionKind.ROLLBACK,
        __import__("console.resources", fromlist=["Selection"]).Selection(
            "sandbox/us-east-1", "payments-service", "Prod-AZ2", execution_id="exec-0001"
        ),
    )
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = fleet(app)
        await highlight(pilot, screen, PAYMENTS)
        await pilot.press("b")
        chooser = await wait_for(pilot, lambda: isinstance(app.screen, ChooseModal) and app.screen, what="the chooser")
        assert all("Prod-" in label for label in chooser.labels)
        assert "Prod-AZ2" in chooser.labels[chooser.preferred]  # the furthest production wave deployed
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        assert fake_gate.planned == []
