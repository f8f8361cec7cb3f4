"""ConfirmActionModal: exactly what will be sent, a required reason, the typed wave name for production, no
misfire (focus on the reason, enter on an empty reason does nothing, esc cancels, one answer only)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from console.actions.gate import ActionKind, ActionPlan
from console.resources import Selection
from screens.confirm.screen import ConfirmActionModal, Confirmation
from tests.ui.conftest import make_plan, rendered, wait_for

APPROVE_CANARY = make_plan(
    ActionKind.APPROVE,
    Selection("sandbox/us-east-1", "checkout-api", "Prod-Canary", "ApproveProduction", "exec-0001"),
)
RETRY_BETA = make_plan(
    ActionKind.RETRY, Selection("sandbox/us-east-1", "checkout-api", "Beta", execution_id="exec-0001")
)
PAUSE_AZ1 = make_plan(ActionKind.PAUSE, Selection("sandbox/us-east-1", "checkout-api", "Prod-AZ1"))


class ModalHost(App[None]):
    """A bare app that opens one modal and keeps every answer it gives."""

    def __init__(self, plan: ActionPlan) -> None:
        super().__init__()
        self.plan = plan
        self.answers: list[Confirmation | None] = []

    def compose(self) -> ComposeResult:
        yield Static("underneath")

    def on_mount(self) -> None:
        self.push_screen(ConfirmActionModal(self.plan), self.answers.append)


def problem(app: App[Any]) -> str:
    return str(app.screen.query_one("#problem", Static).render())


async def test_the_modal_shows_what_will_be_sent_and_focuses_the_reason() -> None:
    app = ModalHost(RETRY_BETA)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        text = rendered(app)
        for label, value in RETRY_BETA.lines:
            assert label in text
            assert value in text
        focused = app.focused
        assert isinstance(focused, Input)
        assert focused.id == "reason"


async def test_enter_on_an_empty_reason_does_nothing() -> None:
    app = ModalHost(RETRY_BETA)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        await pilot.press("enter", "space", "enter")
        assert app.answers == []
        assert isinstance(app.screen, ConfirmActionModal)
        assert "A reason is required" in problem(app)
        await pilot.press("x", "enter")
        await wait_for(pilot, lambda: app.answers, what="the answer")
        assert app.answers == [Confirmation("x", None)]


async def test_escape_cancels_and_answers_once() -> None:
    app = ModalHost(RETRY_BETA)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        await pilot.press("escape", "escape")
        await wait_for(pilot, lambda: app.answers)
        assert app.answers == [None]


async def test_production_needs_the_wave_name_typed_exactly() -> None:
    app = ModalHost(APPROVE_CANARY)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        assert "▲ PRODUCTION" in rendered(app)
        await pilot.press("o", "k", "enter")  # enter on the reason moves on to the wave's name
        assert app.answers == []
        assert app.focused is not None
        assert app.focused.id == "confirm-word"
        await pilot.press(*"PROD-CANARY", "enter")
        assert app.answers == []
        assert "not the wave's name" in problem(app)
        word = app.screen.query_one("#confirm-word", Input)
        word.value = ""
        await pilot.press(*"prod-canary", "enter")
        await wait_for(pilot, lambda: app.answers)
        assert app.answers == [Confirmation("ok", "prod-canary")]


async def test_a_pause_reason_must_use_the_characters_aws_allows() -> None:
    app = ModalHost(PAUSE_AZ1)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmActionModal))
        await pilot.press("f", "r", "e", "e", "z", "e", "colon", "enter")
        assert app.answers == []
        assert "':'" in problem(app)


def test_snapshot_confirm_production(snap_compare: Any) -> None:
    assert snap_compare(ModalHost(APPROVE_CANARY), terminal_size=(100, 30))


def test_snapshot_confirm_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(ModalHost(APPROVE_CANARY), terminal_size=(80, 24))
