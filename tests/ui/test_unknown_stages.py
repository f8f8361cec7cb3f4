"""Stages no wave matches, at 80×24: never hidden (their own column, their names on the board, their approval's ⚑),
counted in the header, confirmed like production by typing the stage's name. And the execution screen marking a
running execution whose history has ended."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from console.actions.plan import ActionKind, Facts, plan_from
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.model import Pipeline, Stage, pipelines_of
from console.model import FleetState, Receipt, Target
from console.stepfunctions.model import state_machines_of
from screens.confirm.screen import ConfirmActionModal, Confirmation
from screens.execution.screen import CONTRADICTION_MARK
from screens.fleet.pipelines import PIPELINES
from screens.fleet.screen import FleetScreen
from screens.widgets.wave_board import WaveBoard
from tests.selections import sel
from tests.ui.conftest import WAVES, fleet_picture, pipeline, rendered, stage, wait_for
from tests.ui.test_execution import MACHINE_KEY, open_execution
from tests.ui.test_fleet import highlight
from tests.ui.test_pipeline_support import EXECUTION_ARN, HistoryWatcher, execution_picture, finished_history

KEY = "sandbox/us-east-1:billing"


def placed(name: str, stages: list[Stage]) -> Pipeline:
    """A pipeline whose stages carry the waves the watcher would give them (by name and position)."""
    placements = WAVES.place(name, [s.name for s in stages])
    return pipeline(name, [replace(s, wave=p.wave) for s, p in zip(stages, placements, strict=True)])


@pytest.fixture
def picture() -> FleetState:
    state = fleet_picture()
    billing = placed(
        "billing",
        [stage("Source"), stage("Deploy", approval=True), stage("ProdStage", None), stage("Prod", None)],
    )
    return state.with_resources(CODEPIPELINE, {KEY: billing, **pipelines_of(state)})


async def test_an_unmatched_stage_is_shown_with_its_approval_at_80x24(console_app: Any) -> None:
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await wait_for(pilot, lambda: KEY in screen.views[PIPELINES].keys, what="the billing row")
        text = rendered(app)
        assert "? 1 stage matches no wave" in text  # the header
        row = screen.table.row_text(KEY)
        assert "⚑" in row  # the approval waiting in Deploy, in the unknown column
        await highlight(pilot, screen, KEY)
        board = app.screen.query_one(WaveBoard)
        await wait_for(pilot, lambda: board.cells and board.cells[-1].stages == ("Deploy",), what="the board")
        assert board.cells[-1].wave.name == "unknown"
        assert board.cells[-1].approval
        board_text = rendered(app)
        assert "? unkno" in board_text
        assert "⚑ approval" in board_text


async def test_without_unmatched_stages_there_is_no_unknown_column(console_app: Any, fake_watcher: Any) -> None:
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await wait_for(pilot, lambda: last_column(screen) == "unknown", what="the unknown column")
        fake_watcher.publish(fleet_picture())
        await wait_for(pilot, lambda: last_column(screen) == "prod-az2", what="the column to go")
        assert "match no wave" not in rendered(app)


def last_column(screen: FleetScreen) -> str | None:
    """The name of the pipelines board's last wave column (None before the list is laid out)."""
    waves = screen.views[PIPELINES].waves
    return waves[-1].name if waves else None


class ModalHost(App[None]):
    def __init__(self, modal: ConfirmActionModal) -> None:
        super().__init__()
        self.modal = modal
        self.answers: list[Confirmation | None] = []

    def compose(self) -> ComposeResult:
        yield Static("underneath")

    def on_mount(self) -> None:
        self.push_screen(self.modal, self.answers.append)


async def test_unknown_risk_is_confirmed_by_typing_the_stage_name() -> None:
    async def send(reason: str, identity: str) -> Receipt:  # pragma: no cover - never sent here
        raise AssertionError

    selection = sel("sandbox/us-east-1", "billing", "Deploy", "Approve", "exec-0001")
    facts = Facts(
        selection=selection,
        title="Approve billing / Deploy / Approve",
        lines=(("Pipeline", "billing"), ("Stage", "Deploy")),
        wave=WAVES.for_stage("billing", "Deploy", ("Source", "Deploy")),
        expect={},
        operation="PutApprovalResult",
        request={},
        send=send,
        done="Approved",
    )
    plan = plan_from(ActionKind.APPROVE, facts, Target("sandbox/us-east-1", "us-east-1"))
    app = ModalHost(ConfirmActionModal(plan))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        text = rendered(app)
        assert "? UNKNOWN RISK" in text
        assert "Type the stage's name to confirm: Deploy" in text
        await pilot.press("o", "k", "enter")
        await pilot.press(*"prod-canary", "enter")
        assert app.answers == []
        app.screen.query_one("#confirm-word", Input).value = ""
        await pilot.press(*"Deploy", "enter")
        await wait_for(pilot, lambda: app.answers, what="the answer")
        assert app.answers == [Confirmation("ok", "Deploy")]


@pytest.mark.parametrize("size", [(80, 24)])
async def test_a_running_execution_whose_history_ended_is_marked(console_app: Any, size: tuple[int, int]) -> None:
    watcher = HistoryWatcher(execution_picture(), {EXECUTION_ARN: finished_history()})
    app = console_app(watcher=watcher)
    async with app.run_test(size=size) as pilot:
        await open_execution(pilot, app)
        machine = state_machines_of(watcher.state)[MACHINE_KEY]
        assert machine.executions[0].status == "RUNNING"
        await wait_for(pilot, lambda: CONTRADICTION_MARK in rendered(app), what="the contradiction")
        text = rendered(app)
        assert "▶ running" in text  # the status, as listed
        assert "ExecutionSucceeded" in text  # and what the history says


async def test_without_the_pipeline_state_a_stage_has_no_state_not_not_run(console_app: Any, fake_watcher: Any) -> None:
    state = fake_watcher.state
    note = "statuses from executions: GetPipelineState unavailable (HTTP 500: 500 Internal Server Error)"
    billing = replace(pipelines_of(state)[KEY], note=note)
    billing = replace(billing, stages=tuple(replace(s, status=None, actions=()) for s in billing.stages))
    fake_watcher.publish(state.with_resources(CODEPIPELINE, {**pipelines_of(state), KEY: billing}))
    app = console_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await highlight(pilot, screen, KEY)
        board = app.screen.query_one(WaveBoard)
        await wait_for(pilot, lambda: board.cells and board.cells[3].stages, what="the board")
        text = rendered(app)
        assert "◐ partial: statuses from executions" in text
        assert "? no state" in text
        assert {c.look.word for c in board.cells if c.stages and not c.approval} == {"no state"}
