"""The approvals inbox on fixed data: what it lists, in which order, the detail, the keys, the layout.

The fleet's picture is fixed (tests/ui/conftest.py) and so is the clock; the inbox here holds five approvals,
one of each kind of urgency. The real flow against the sandbox is in test_approvals_sandbox.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from textual.app import ComposeResult
from textual.widgets import Static

from console.actions.gate import ActionKind
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.model import Action, pipelines_of
from console.model import Approval, FleetState, SourceRevision
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.selections import state_machine_arn_of
from screens.activity.screen import ActivityScreen
from screens.approvals.rows import Urgency, inbox_order, time_left, urgency, what_cell
from screens.approvals.screen import ApprovalsScreen
from screens.base import ConsoleScreen
from screens.confirm.screen import ConfirmActionModal
from screens.context import ScreenRegistry
from screens.fleet.screen import FleetScreen
from screens.help.screen import HelpScreen
from screens.widgets.keyed_list import KeyedList
from tests.selections import sel
from tests.ui.conftest import (
    FIXED_NOW,
    WAVES,
    FakeGate,
    FakeWatcher,
    ago,
    all_waves,
    execution,
    fleet_picture,
    make_plan,
    notifications,
    pipeline,
    rendered,
    rendered_lines,
    stage,
    stand_in_registry,
    wait_for,
)

EAST = "sandbox/us-east-1"
DEPLOY_ARN = execution("wave-deployment", "deploy-notifications-42", "RUNNING").arn


def _approval_action(name: str, changed: float) -> Action:
    return Action(
        name=name,
        category="Approval",
        provider="Manual",
        status="InProgress",
        token=f"token-{name}",
        last_status_change=ago(changed),
    )


def inbox_picture() -> FleetState:
    """The standard fleet plus three more pipelines waiting for a person, and five approvals:

    orders-api / Beta         expires in 5m          (expiring: first)
    checkout-api / Prod-Canary  production, 4m waiting (production, longest waiting: second)
    wave-deployment / deploy-notifications-42  production, 1m waiting, a task-token state (third)
    ledger / Gamma            3 days waiting, markup and an escape in what it asks (fourth)
    search-indexer-eu / Gamma expired an hour ago (last)
    """
    base = fleet_picture()
    extra = [
        pipeline(
            "orders-api",
            all_waves(stage("Beta", actions=(_approval_action("ApproveBeta", 6900),), approval=True)),
            status="InProgress",
            revision="0a1b2c3d4e5f",
            summary="Add idempotency keys to order creation",
        ),
        pipeline(
            "ledger",
            all_waves(stage("Gamma", actions=(_approval_action("SignOff", 3 * 86400),), approval=True)),
            status="InProgress",
        ),
        pipeline(
            "search-indexer-eu",
            all_waves(stage("Gamma", actions=(_approval_action("Approve", 3 * 3600),), approval=True)),
            status="InProgress",
        ),
    ]
    approvals = (
        Approval(
            kind=CODEPIPELINE,
            target=EAST,
            resource="checkout-api/Prod-Canary/ApproveProduction",
            wave=WAVES.wave("prod-canary"),
            since=ago(240),
            expires=ago(240) + timedelta(hours=2),
            revision=SourceRevision("Source", "a1b2c3d4e5f6", "Fix order totals rounding"),
            custom_data="Gamma canaries are green. Promote this revision to production?",
            url="https://wiki.example.com/runbooks/production-promotion",
            execution="exec-0001",
        ),
        Approval(
            kind=STEPFUNCTIONS,
            target=EAST,
            resource="wave-deployment/deploy-notifications-42",
            wave=WAVES.wave("prod-canary"),
            since=ago(60),
            expires=ago(60) + timedelta(hours=2),
            revision=SourceRevision("input", "feedfacecafe"),
            custom_data="Promote this revision from prod-az1 to prod-az2?",
            state_name="ApprovePromotion",
            execution=DEPLOY_ARN,
        ),
        Approval(
            kind=CODEPIPELINE,
            target=EAST,
            resource="orders-api/Beta/ApproveBeta",
            wave=WAVES.wave("beta"),
            since=ago(6900),
            expires=ago(6900) + timedelta(hours=2),
            revision=SourceRevision("Source", "0a1b2c3d4e5f", "Add idempotency keys to order creation"),
            custom_data="Beta load test passed?",
            execution="exec-0001",
        ),
        Approval(
            kind=CODEPIPELINE,
            target=EAST,
            resource="ledger/Gamma/SignOff",
            wave=WAVES.wave("gamma"),
            since=ago(3 * 86400),
            expires=ago(3 * 86400) + timedelta(days=7),
            revision=SourceRevision("Source", "a1b2c3d4e5f6", "Fix order totals rounding"),
            custom_data="Check [bold]the dashboards[/bold]\x1b[31m first\nthen sign off",
            execution="exec-0001",
        ),
        Approval(
            kind=CODEPIPELINE,
            target=EAST,
            resource="search-indexer-eu/Gamma/Approve",
            wave=WAVES.wave("gamma"),
            since=ago(3 * 3600),
            expires=ago(3600),
            execution="exec-0001",
        ),
    )
    pipelines = {**pipelines_of(base), **{p.key: p for p in extra}}
    return replace(base.with_resources(CODEPIPELINE, pipelines), approvals=approvals)


ORDER = [
    "orders-api/Beta/ApproveBeta",
    "checkout-api/Prod-Canary/ApproveProduction",
    "wave-deployment/deploy-notifications-42",
    "ledger/Gamma/SignOff",
    "search-indexer-eu/Gamma/Approve",
]


@pytest.fixture
def inbox() -> FleetState:
    return inbox_picture()


@pytest.fixture
def inbox_app(console_app: Any, inbox: FleetState) -> Any:
    def build(**kwargs: Any) -> Any:
        watcher = kwargs.pop("watcher", None) or FakeWatcher(inbox)
        gate = kwargs.pop("gate", None) or FakeGate([s.target for s in inbox.targets])
        return console_app(watcher=watcher, gate=gate, **kwargs)

    return build


async def open_inbox(pilot: Any, app: Any) -> ApprovalsScreen:
    await pilot.press("3")
    screen = await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen) and app.screen, what="the inbox")
    assert isinstance(screen, ApprovalsScreen)
    await wait_for(
        pilot, lambda: screen.rows.keys or screen.query_one("#approvals-empty").display, what="the inbox drawn"
    )
    return screen


def resources(screen: ApprovalsScreen) -> list[str]:
    return [screen.rows.approvals[key].resource for key in screen.rows.keys]


async def select(pilot: Any, screen: ApprovalsScreen, resource: str) -> None:
    target = next(i for i, key in enumerate(screen.rows.keys) if screen.rows.approvals[key].resource == resource)
    table = screen.query_one(KeyedList)
    while table.cursor_row != target:
        await pilot.press("j" if table.cursor_row < target else "k")
    await wait_for(pilot, lambda: (a := screen.selected()) is not None and a.resource == resource)


# --- the order -----------------------------------------------------------------------------------------------


def test_urgency_tiers_and_time_left() -> None:
    approvals = {a.resource: a for a in inbox_picture().approvals}
    assert urgency(approvals["orders-api/Beta/ApproveBeta"], FIXED_NOW) is Urgency.EXPIRING
    assert urgency(approvals["checkout-api/Prod-Canary/ApproveProduction"], FIXED_NOW) is Urgency.PRODUCTION
    assert urgency(approvals["ledger/Gamma/SignOff"], FIXED_NOW) is Urgency.WAITING
    assert urgency(approvals["search-indexer-eu/Gamma/Approve"], FIXED_NOW) is Urgency.EXPIRED
    assert time_left(FIXED_NOW + timedelta(minutes=5, seconds=30), FIXED_NOW) == "in 5m"
    assert time_left(FIXED_NOW + timedelta(hours=1, minutes=56), FIXED_NOW) == "in 1h56m"
    assert time_left(FIXED_NOW + timedelta(hours=30), FIXED_NOW) == "in 30h"
    assert time_left(FIXED_NOW + timedelta(days=4), FIXED_NOW) == "in 4d"
    assert time_left(FIXED_NOW + timedelta(seconds=20), FIXED_NOW) == "in <1m"
    assert time_left(FIXED_NOW, FIXED_NOW) == "expired"
    assert time_left(None, FIXED_NOW) == "—"


def test_most_urgent_first_expiring_then_production_then_longest_waiting_then_expired() -> None:
    ordered = inbox_order(inbox_picture().approvals, FIXED_NOW)
    assert [a.resource for a in ordered] == ORDER
    # An hour later the production approvals are the ones about to expire, soonest first.
    later = inbox_order(inbox_picture().approvals, FIXED_NOW + timedelta(minutes=100))
    assert [a.resource for a in later][:2] == [
        "checkout-api/Prod-Canary/ApproveProduction",
        "wave-deployment/deploy-notifications-42",
    ]
    assert {a.resource for a in later[-2:]} == {"orders-api/Beta/ApproveBeta", "search-indexer-eu/Gamma/Approve"}


def test_long_names_keep_what_tells_them_apart() -> None:
    approvals = {a.kind: a for a in inbox_picture().approvals}
    pipeline_approval = replace(approvals["codepipeline"], resource="identity-service-eu/Prod-Canary/Approve")
    assert what_cell(pipeline_approval, 22, full=False).plain == "⚑ identity-service-eu…"  # the pipeline first
    execution = replace(approvals["stepfunctions"], resource="wave-deployment/deploy-notifications-42")
    assert what_cell(execution, 22, full=True).plain == "⚑ wave-deplo…ations-42"  # the execution's end kept


async def test_the_inbox_lists_both_kinds_most_urgent_first(inbox_app: Any) -> None:
    app = inbox_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_inbox(pilot, app)
        assert resources(screen) == ORDER
        text = rendered(app)
        assert "5 waiting" in text
        assert "◷ 1 expiring soon" in text
        assert "▲ 2 production" in text
        for words in ("◷ in 5m", "in 1h56m", "✗ expired", "▲ prod-canary", "3d"):
            assert words in text, words
        assert "a1b2c3d4 Fix order" in text  # revision id and commit message
        # The detail of the highlighted (most urgent) one.
        assert "orders-api/Beta/ApproveBeta" in text
        assert "EXPIRES SOON" in text
        assert "Beta load test passed?" in text


async def test_the_detail_shows_what_it_asks_and_the_url_literally(inbox_app: Any) -> None:
    app = inbox_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_inbox(pilot, app)
        await select(pilot, screen, "checkout-api/Prod-Canary/ApproveProduction")
        text = await wait_for(pilot, lambda: "runbooks" in rendered(app) and rendered(app))
        assert "Gamma canaries are green. Promote this revision to production?" in text
        assert "https://wiki.example.com/runbooks/production-promotion" in text
        assert "CodePipeline manual approval" in text
        assert "revision a1b2c3d4e5f6 Fix order totals rounding" in text
        await select(pilot, screen, "ledger/Gamma/SignOff")
        text = await wait_for(pilot, lambda: "dashboards" in rendered(app) and rendered(app))
        assert "Check [bold]the dashboards[/bold] first" in text  # markup shown, the escape sequence gone
        assert "then sign off" in text
        await select(pilot, screen, "wave-deployment/deploy-notifications-42")
        text = await wait_for(pilot, lambda: "Step Functions task token" in rendered(app) and rendered(app))
        assert "state ApprovePromotion" in text
        assert "wave-deployment/deploy-notifications-42" in text  # the execution


# --- the keys ------------------------------------------------------------------------------------------------


async def test_approve_and_reject_go_through_the_action_flow_with_the_approval_selected(
    inbox_app: Any, inbox: FleetState
) -> None:
    gate = FakeGate([s.target for s in inbox.targets])
    # The row's own task: exactly the state it waits in, however many others wait in the execution.
    sfn = sel(
        EAST,
        state_machine_arn=state_machine_arn_of(DEPLOY_ARN),
        execution_arn=DEPLOY_ARN,
        state_name="ApprovePromotion",
    )
    gate.plans[(ActionKind.REJECT, sfn.resource)] = make_plan(ActionKind.REJECT, sfn, wave="prod-canary")
    app = inbox_app(gate=gate)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_inbox(pilot, app)
        await select(pilot, screen, "checkout-api/Prod-Canary/ApproveProduction")
        await wait_for(pilot, lambda: app.screen.active_bindings["a"].enabled, what="approve available")
        await pilot.press("a")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen)
        kind, selection = gate.planned[-1]
        assert kind is ActionKind.APPROVE
        assert (selection.pipeline, selection.stage, selection.action) == (
            "checkout-api",
            "Prod-Canary",
            "ApproveProduction",
        )
        assert selection.execution_id == "exec-0001"
        assert modal.plan.production
        await pilot.press(*"green", "enter", *"prod-canary", "enter")
        await wait_for(pilot, lambda: gate.executed, what="the approval sent")
        assert gate.executed[-1][1:] == ("green", "prod-canary")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen))

        await select(pilot, screen, "wave-deployment/deploy-notifications-42")
        await pilot.press("x")
        modal = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal) and app.screen)
        kind, selection = gate.planned[-1]
        assert kind is ActionKind.REJECT
        assert selection == sfn
        assert modal.plan.confirm_word == "prod-canary"
        await pilot.press(*"p99 too high", "enter", *"prod-canary", "enter")
        await wait_for(pilot, lambda: len(gate.executed) == 2, what="the rejection sent")
        assert gate.executed[-1][1] == "p99 too high"


async def test_keys_that_make_no_sense_here_are_greyed_and_say_why(inbox_app: Any) -> None:
    app = inbox_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_inbox(pilot, app)
        await select(pilot, screen, "search-indexer-eu/Gamma/Approve")
        assert not app.screen.active_bindings["s"].enabled
        await pilot.press("s")
        await wait_for(pilot, lambda: any("only approves and rejects" in n for n in notifications(app)))
        assert isinstance(app.screen, ApprovalsScreen)
        footer = rendered_lines(app)[-1]
        assert "Approve" in footer
        assert "Stop" not in footer  # bound (it says why) but never offered here
        await pilot.press("f1")
        help_screen = await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen)
        rows = {r.description: r for r in help_screen.rows}
        assert rows["Approve"].enabled
        assert not rows["Stop (let running actions finish)"].enabled
        assert "only approves and rejects" in (rows["Stop (let running actions finish)"].reason or "")
        assert "Filter" in rows


async def test_read_only_greys_approve_and_says_why(inbox_app: Any, inbox: FleetState) -> None:
    app = inbox_app(gate=FakeGate([s.target for s in inbox.targets], read_only=True))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_inbox(pilot, app)
        await select(pilot, screen, "checkout-api/Prod-Canary/ApproveProduction")
        assert not app.screen.active_bindings["a"].enabled
        await pilot.press("a")
        await wait_for(pilot, lambda: any("read-only" in n for n in notifications(app)), what="the refusal")
        assert isinstance(app.screen, ApprovalsScreen)


class _Opened(ConsoleScreen):
    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        yield self.header()
        yield Static(self.label)


async def test_enter_opens_the_pipeline_or_the_execution(inbox_app: Any) -> None:
    registry = ScreenRegistry(
        pipeline=lambda key: _Opened(f"pipeline {key}"),
        execution=lambda target, arn: _Opened(f"execution {target} {arn}"),
        approvals=ApprovalsScreen,
    )
    app = inbox_app(registry=registry)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_inbox(pilot, app)
        await select(pilot, screen, "checkout-api/Prod-Canary/ApproveProduction")
        await pilot.press("enter")
        opened = await wait_for(pilot, lambda: isinstance(app.screen, _Opened) and app.screen)
        assert opened.label == f"pipeline {EAST}:checkout-api"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await select(pilot, screen, "wave-deployment/deploy-notifications-42")
        await pilot.press("enter")
        opened = await wait_for(pilot, lambda: isinstance(app.screen, _Opened) and app.screen)
        assert opened.label == f"execution {EAST} {DEPLOY_ARN}"


async def test_navigation_one_three_four_one(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(120, 36)) as pilot:
        assert isinstance(app.screen, FleetScreen)
        await pilot.press("3")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalsScreen), what="3: approvals")
        await pilot.press("4")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ActivityScreen", what="4: activity")
        assert len(app.screen_stack) == 2
        await pilot.press("1")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), what="1: the fleet")
        await pilot.press("3", "escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen), what="escape: back home")


# --- the filter, an empty inbox, updates ------------------------------------------------------------------


async def test_filter_narrows_the_inbox_and_escape_clears_it(inbox_app: Any) -> None:
    app = inbox_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_inbox(pilot, app)
        await pilot.press("slash", *"prod", "enter")
        await wait_for(pilot, lambda: len(screen.rows.keys) == 2, what="the production ones")
        assert resources(screen) == ORDER[1:3]
        assert "filter: prod (2 shown)" in rendered(app)
        await pilot.press("slash")
        await pilot.press(*" nothing-like-this", "enter")
        text = await wait_for(pilot, lambda: "No approval matches" in rendered(app) and rendered(app))
        assert "(5 waiting)" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(screen.rows.keys) == 5, what="the filter cleared")


async def test_nothing_waiting_is_said_calmly(console_app: Any, picture: FleetState) -> None:
    app = console_app(watcher=FakeWatcher(replace(picture, approvals=())))
    async with app.run_test(size=(120, 36)) as pilot:
        await open_inbox(pilot, app)
        text = await wait_for(pilot, lambda: "Nothing is waiting" in rendered(app) and rendered(app))
        assert "✓ Nothing is waiting for a person." in text
        assert "6 pipelines and 3 state machines" in text
        assert not app.screen.active_bindings["a"].enabled


async def test_an_answered_approval_leaves_and_the_cursor_stays_put(inbox_app: Any, inbox: FleetState) -> None:
    watcher = FakeWatcher(inbox)
    app = inbox_app(watcher=watcher)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_inbox(pilot, app)
        await select(pilot, screen, "ledger/Gamma/SignOff")
        gone = tuple(a for a in inbox.approvals if a.resource != "checkout-api/Prod-Canary/ApproveProduction")
        watcher.publish(replace(inbox, approvals=gone))
        await wait_for(pilot, lambda: len(screen.rows.keys) == 4, what="the answered one gone")
        assert screen.selected() is not None
        assert screen.selected().resource == "ledger/Gamma/SignOff"  # type: ignore[union-attr]
        assert "4 waiting" in rendered(app)


async def test_nothing_redraws_when_nothing_changed(inbox_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app = inbox_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_inbox(pilot, app)
        updates: list[object] = []
        table = screen.query_one(KeyedList)
        keys_before = table.keys
        before = {key: table.cells(key) for key in keys_before}
        update_row = table.update_row
        set_rows = table.set_rows
        monkeypatch.setattr(table, "update_row", lambda *a, **k: (updates.append(a), update_row(*a, **k)))
        monkeypatch.setattr(table, "set_rows", lambda *a, **k: (updates.append("set_rows"), set_rows(*a, **k)))
        statics = list(screen.query(Static))
        for static in statics:
            monkeypatch.setattr(static, "update", lambda *a, _s=static, **k: updates.append(_s.id))
        for _ in range(3):
            screen.tick()
            screen.apply_state(replace(app.console_context.state))  # an equal picture, a new object
        await pilot.pause()
        assert updates == []
        # One minute later the ages and time left read differently: only those cells change.
        screen.on_tick(app.console_context.state, FIXED_NOW + timedelta(minutes=1))
        assert table.keys == keys_before  # the same rows: the ones that read differently are redrawn, one by one
        changed = [a for a in updates if isinstance(a, tuple)]
        assert changed
        columns = [c.key for c in table.columns]
        changed_columns = {
            columns[i] for key, row in changed for i, cell in enumerate(row.cells()) if cell != before[key][i]
        }
        assert changed_columns <= {"waiting", "expires"}
        assert changed_columns


# --- size, colour, snapshots ----------------------------------------------------------------------------------


async def test_at_80x24_nothing_essential_is_cut_off(inbox_app: Any) -> None:
    app = inbox_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_inbox(pilot, app)
        lines = await wait_for(
            pilot,
            lambda: "EXPIRES SOON" in rendered(app) and "Approve" in rendered_lines(app)[-1] and rendered_lines(app),
            what="the inbox at 80x24",
        )
        text = "\n".join(lines)
        assert all(len(line) <= 80 for line in lines)
        for words in ("orders-api/Beta", "checkout-api/Prod-Canary", "wave-deployme…ifications-42", "ledger/Gamma"):
            assert words in text, words
        for words in ("◷ in 5m", "▲ prod-canary", "✗ expired", "a1b2c3d4", "Waiting", "Expires", "Revision"):
            assert words in text, words
        assert "Beta load test passed?" in text  # what the highlighted one asks
        assert "Approve" in lines[-1]
        assert "Reject" in lines[-1]
        assert screen.size.width == 80


async def test_no_color_keeps_glyphs_and_words(inbox_app: Any, no_color: None) -> None:
    app = inbox_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_inbox(pilot, app)
        text = await wait_for(pilot, lambda: "EXPIRES SOON" in rendered(app) and rendered(app))
        assert app.no_color
        for words in ("◷ in 5m", "✗ expired", "▲ prod-canary", "⚑ orders-api"):
            assert words in text, words


def snapshot_registry() -> ScreenRegistry:
    """The real approvals and activity screens, stand-ins for the others (their changes do not move ours)."""
    return replace(stand_in_registry(), approvals=ApprovalsScreen, activity=ActivityScreen)


def test_snapshot_approvals_120x36(snap_compare: Any, inbox_app: Any) -> None:
    assert snap_compare(inbox_app(registry=snapshot_registry()), press=["3"], terminal_size=(120, 36))


def test_snapshot_approvals_80x24(snap_compare: Any, inbox_app: Any) -> None:
    assert snap_compare(inbox_app(registry=snapshot_registry()), press=["3", "j"], terminal_size=(80, 24))


def test_snapshot_approvals_empty(snap_compare: Any, console_app: Any, picture: FleetState) -> None:
    app = console_app(watcher=FakeWatcher(replace(picture, approvals=())), registry=snapshot_registry())
    assert snap_compare(app, press=["3"], terminal_size=(100, 24))
