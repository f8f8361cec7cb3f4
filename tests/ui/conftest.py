"""Shared UI fixtures: fixed pictures of a fleet, a watcher that serves them, a scripted gate, the app factory.

Snapshot and layout tests use these (fixed data, a fixed clock: no ages or ids that change between runs).
Tests of the real flow use `sandbox_console` (the session sandbox, the real gateway, watcher and gate).

    async def test_something(console_app):
        app = console_app()                          # FleetState from `fleet_picture`, FakeWatcher, FakeGate
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("2")
            ...
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate, ActionKind, ActionOutcome, ActionPlan, Availability
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.codepipeline.model import Action, InboundTransition, Pipeline, PipelineExecution, Stage
from console.config import Config
from console.errors import WavedeckError
from console.model import Approval, FleetState, FleetUpdate, SourceRevision, Target, TargetStatus, Transition
from console.resources import Selection
from console.sandbox_process import SandboxProcess
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.model import Execution, HistoryEvent, StateMachine
from console.waves import WaveModel, default_wave_model
from screens.context import ScreenRegistry

FIXED_NOW = datetime(2026, 3, 14, 3, 0, 0, tzinfo=UTC)
WAVES: WaveModel = default_wave_model()
ACCOUNT = "123456789012"


def fixed_clock() -> datetime:
    return FIXED_NOW


def ago(seconds: float) -> datetime:
    return FIXED_NOW - timedelta(seconds=seconds)


def sandbox_target(region: str = "us-east-1", **changes: Any) -> Target:
    target = Target(name=f"sandbox/{region}", region=region, endpoint_url="http://127.0.0.1:4566", sandbox=True)
    return replace(target, **changes)


# --- building pipelines by hand --------------------------------------------------------------------------


def stage(
    name: str,
    status: str | None = "Succeeded",
    *,
    wave: str | None = None,
    execution: str = "exec-0001",
    approval: bool = False,
    paused: str | None = None,
    changed: float = 600,
    actions: Sequence[Action] | None = None,
) -> Stage:
    """A stage; `wave` defaults to the wave its name matches; `approval`: a manual approval waits in it."""
    wave_obj = WAVES.wave(wave) if wave else WAVES.for_stage("", name)
    if actions is None:
        if approval:
            actions = (
                Action(
                    name="ApproveProduction",
                    category="Approval",
                    provider="Manual",
                    status="InProgress",
                    token="token-" + name,
                    last_status_change=ago(changed),
                    configuration=(("CustomData", "Promote this revision to production?"),),
                ),
            )
        else:
            actions = (
                Action(
                    name="Deploy",
                    category="Deploy",
                    provider="CodeDeploy",
                    status=status,
                    last_status_change=ago(changed) if status else None,
                    error_message="Alarm OneBox-5xx went into ALARM" if status == "Failed" else None,
                ),
            )
    inbound = InboundTransition(enabled=False, disabled_reason=paused) if paused else InboundTransition()
    return Stage(
        name=name,
        wave=wave_obj,
        status="InProgress" if approval else status,
        execution_id=execution if status or approval else None,
        inbound=inbound,
        actions=tuple(actions),
    )


def pipeline(
    name: str,
    stages: Sequence[Stage],
    *,
    target: str = "sandbox/us-east-1",
    status: str = "Succeeded",
    execution: str = "exec-0001",
    revision: str = "a1b2c3d4e5f6",
    summary: str = "Fix order totals rounding",
    read: float = 3,
    error: str | None = None,
    more_executions: Sequence[PipelineExecution] = (),
) -> Pipeline:
    latest = PipelineExecution(
        id=execution,
        status=status,
        started=ago(900),
        updated=ago(120),
        source_revisions=(SourceRevision("Source", revision, summary),),
        trigger_type="CloudWatchEvent",
    )
    source = Stage(name="Source", status="Succeeded", execution_id=execution)
    build = Stage(name="Build", status="Succeeded", execution_id=execution)
    return Pipeline(
        target=target,
        name=name,
        stages=(source, build, *stages),
        executions=(latest, *more_executions),
        read_at=ago(read),
        error=error,
    )


def all_waves(*overrides: Stage) -> list[Stage]:
    """Alpha..Prod-AZ2, all succeeded, with the given stages (by name) replacing the defaults."""
    names = ["Alpha", "Beta", "Gamma", "Prod-Canary", "Prod-AZ1", "Prod-AZ2"]
    by_name = {s.name: s for s in overrides}
    return [by_name.get(n) or stage(n) for n in names]


def machine(
    name: str,
    executions: Sequence[Execution],
    *,
    target: str = "sandbox/us-east-1",
    region: str = "us-east-1",
    wave: str | None = None,
    read: float = 3,
) -> StateMachine:
    return StateMachine(
        target=target,
        arn=f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:{name}",
        name=name,
        wave=WAVES.wave(wave) if wave else None,
        executions=tuple(executions),
        read_at=ago(read),
    )


def execution(
    machine_name: str, name: str, status: str, *, started: float = 300, region: str = "us-east-1"
) -> Execution:
    return Execution(
        arn=f"arn:aws:states:{region}:{ACCOUNT}:execution:{machine_name}:{name}",
        name=name,
        state_machine_arn=f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:{machine_name}",
        status=status,
        started=ago(started),
        stopped=None if status == "RUNNING" else ago(started - 60),
        error="States.TaskFailed" if status == "FAILED" else None,
        cause="Load check failed: p99 812 ms > 500 ms" if status == "FAILED" else None,
    )


def fleet_picture(*, targets: Sequence[Target] | None = None) -> FleetState:
    """The standard fixed picture: an approval waiting, a failure, a deployment running, a paused wave,
    a stale pipeline, a name that looks like markup, and three state machines."""
    targets = tuple(targets or (sandbox_target("us-east-1"), sandbox_target("us-west-2")))
    west = targets[-1].name
    pipelines = [
        pipeline(
            "checkout-api",
            all_waves(
                stage("Prod-Canary", approval=True, changed=240), stage("Prod-AZ1", None), stage("Prod-AZ2", None)
            ),
            status="InProgress",
        ),
        pipeline(
            "payments-service",
            all_waves(stage("Gamma", "Failed", changed=420), stage("Prod-Canary", "Succeeded", execution="exec-0000")),
            status="Failed",
            revision="9f8e7d6c5b4a",
            summary="Retry payment capture on 502",
        ),
        pipeline(
            "search-indexer",
            all_waves(
                stage("Beta", "InProgress", changed=30),
                stage("Gamma", None),
                stage("Prod-Canary", None),
                stage("Prod-AZ1", None),
                stage("Prod-AZ2", None),
            ),
            status="InProgress",
            revision="0badc0ffee00",
        ),
        pipeline(
            "notifications",
            all_waves(stage("Prod-AZ1", "Succeeded", paused="Holiday freeze: no promotions until Monday")),
            revision="feedfacecafe",
        ),
        pipeline("inventory", all_waves(), target=west, revision="c0ffee123456", read=120),
        pipeline("[b]markup[/b]-svc\x1b[31m", all_waves(), revision="deadbeef0000", summary="[red]not red[/red]"),
    ]
    machines = [
        machine(
            "wave-deployment",
            [execution("wave-deployment", "deploy-notifications-42", "RUNNING")],
            wave="prod-canary",
        ),
        machine(
            "distributed-load-test",
            [execution("distributed-load-test", "load-test-7", "FAILED", started=900)],
            wave="beta",
        ),
        machine("wave-rollback", [execution("wave-rollback", "rollback-3", "SUCCEEDED", started=7200)]),
    ]
    waiting = execution("wave-deployment", "deploy-notifications-42", "RUNNING")
    approvals = (
        Approval(
            kind=CODEPIPELINE,
            target=targets[0].name,
            resource="checkout-api/Prod-Canary/ApproveProduction",
            wave=WAVES.wave("prod-canary"),
            since=ago(240),
            expires=ago(240) + timedelta(hours=2),
            custom_data="Promote this revision to production?",
        ),
        Approval(
            kind=STEPFUNCTIONS,
            target=targets[0].name,
            resource="wave-deployment/deploy-notifications-42",
            wave=WAVES.wave("prod-canary"),
            since=ago(60),
            state_name="ApproveAZ1",
            execution=waiting.arn,
        ),
    )
    return FleetState(
        resources={
            CODEPIPELINE: {p.key: p for p in pipelines},
            STEPFUNCTIONS: {m.key: m for m in machines},
        },
        approvals=approvals,
        targets=tuple(
            TargetStatus(target=t, read_at=ago(2), identity=f"arn:aws:iam::{ACCOUNT}:user/op") for t in targets
        ),
        default_stale_after=30.0,
    )


# --- a watcher and a gate for tests without AWS ---------------------------------------------------------


class FakeWatcher:
    """Serves fixed pictures; `publish()` plays the watcher posting an update. Records focus and refresh."""

    def __init__(self, state: FleetState) -> None:
        self._state = state
        self._subscribers: list[Callable[[FleetUpdate], None]] = []
        self.focused: list[tuple[str, ...]] = []
        self.detailed: list[str | None] = []
        self.refreshed: list[tuple[str, ...] | None] = []
        self.watched: list[tuple[str, str | None]] = []

    @property
    def state(self) -> FleetState:
        return self._state

    def subscribe(self, callback: Callable[[FleetUpdate], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def publish(self, state: FleetState, transitions: Iterable[Transition] = ()) -> None:
        self._state = state
        update = FleetUpdate(state, tuple(transitions))
        for callback in list(self._subscribers):
            callback(update)

    def focus(self, keys: Iterable[str], detail: str | None = None) -> None:
        self.focused.append(tuple(keys))
        self.detailed.append(detail)

    def watch_execution(self, target: str, execution_arn: str | None) -> None:
        self.watched.append((target, execution_arn))

    def history(self, execution_arn: str) -> tuple[HistoryEvent, ...]:
        return ()

    async def refresh(self, keys: Iterable[str] | None = None) -> None:
        self.refreshed.append(tuple(keys) if keys is not None else None)


@dataclass
class _StubGateway:
    target: Target
    read_only: bool = False


@dataclass
class FakeGate:
    """The real gate's `availability` (pure) over stub gateways; `plan` and `execute` scripted.

    `plans[(kind, resource)]` is an ActionPlan to return or an exception to raise; without an entry, a plan
    is made from the selection. `execute_error` is raised by execute; `executed` records (plan, reason,
    confirmation). `hold` (an Event) makes execute wait, to test a second press while in flight.
    """

    targets: Sequence[Target]
    read_only: bool = False
    plans: dict[tuple[ActionKind, str], ActionPlan | BaseException] = field(default_factory=dict)
    execute_error: BaseException | None = None
    executed: list[tuple[ActionPlan, str, str | None]] = field(default_factory=list)
    planned: list[tuple[ActionKind, Selection]] = field(default_factory=list)
    hold: asyncio.Event | None = None
    _in_flight: list[ActionPlan] = field(default_factory=list)

    def __post_init__(self) -> None:
        gateways = {t.name: _StubGateway(t) for t in self.targets}
        self._real = ActionGate(gateways, WAVES, AuditLog(_nowhere()), read_only=self.read_only)  # type: ignore[arg-type]

    def availability(self, kind: ActionKind, selection: Selection, state: FleetState) -> Availability:
        return self._real.availability(kind, selection, state)

    async def plan(self, kind: ActionKind, selection: Selection) -> ActionPlan:
        self.planned.append((kind, selection))
        scripted = self.plans.get((kind, selection.resource))
        if isinstance(scripted, BaseException):
            raise scripted
        if scripted is not None:
            return scripted
        return make_plan(kind, selection)

    async def execute(self, plan: ActionPlan, reason: str, *, confirmation: str | None = None) -> ActionOutcome:
        self.executed.append((plan, reason, confirmation))
        self._in_flight.append(plan)
        try:
            if self.hold is not None:
                await self.hold.wait()
            if self.execute_error is not None:
                raise self.execute_error
            return ActionOutcome(plan, "req-0001", f"{plan.title}: done (request id req-0001)")
        finally:
            self._in_flight.remove(plan)

    @property
    def in_flight(self) -> tuple[ActionPlan, ...]:
        return tuple(self._in_flight)


def _nowhere() -> Any:
    from pathlib import Path

    return Path("/nonexistent/wavedeck-test-audit.jsonl")


def make_plan(kind: ActionKind, selection: Selection, *, wave: str | None = None) -> ActionPlan:
    """A plan as the gate would show it, from the selection alone (fixed ids, for snapshots)."""
    stage, action = getattr(selection, "stage", None), getattr(selection, "action", None)
    wave_obj = WAVES.wave(wave) if wave else (WAVES.for_stage("", stage) if stage else None)
    production = bool(wave_obj and wave_obj.is_production)
    lines: list[tuple[str, str]] = [("Pipeline", getattr(selection, "pipeline", ""))]
    if stage:
        lines.append(("Stage", stage))
    if action:
        lines.append(("Action", action))
    lines.append(("Execution", getattr(selection, "execution_id", None) or "exec-0001"))
    lines.append(("Revision", "a1b2c3d4 Fix order totals rounding"))
    lines.append(("Target", selection.target))
    if wave_obj is not None:
        lines.append(("Wave", f"{wave_obj.name} ({wave_obj.risk.label})"))
    return ActionPlan(
        kind=kind,
        selection=selection,
        title=f"{kind.label} {selection.resource.replace('/', ' / ')}",
        lines=tuple(lines),
        wave=wave_obj,
        production=production,
        confirm_word=wave_obj.name if production and wave_obj else None,
        expect={},
        reason_transition=kind is ActionKind.PAUSE,
    )


# --- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def picture() -> FleetState:
    """The standard fixed fleet picture (see `fleet_picture`)."""
    return fleet_picture()


@pytest.fixture
def fake_watcher(picture: FleetState) -> FakeWatcher:
    return FakeWatcher(picture)


@pytest.fixture
def fake_gate(picture: FleetState) -> FakeGate:
    return FakeGate([s.target for s in picture.targets])


class StandIn(Screen[None]):
    """A placeholder screen for snapshot tests, so pictures do not change as real screens are registered."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="stand_in.back")]

    def __init__(self, *what: object) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        yield Static(" ".join(str(w) for w in self.what))


def stand_in_registry() -> ScreenRegistry:
    """Every screen present, as a stand-in: help and the footer show every key available."""
    return ScreenRegistry(
        pipeline=lambda key: StandIn("pipeline", key),
        state_machine=lambda key: StandIn("state machine", key),
        execution=lambda target, arn: StandIn("execution", target, arn),
        approvals=lambda: StandIn("approvals"),
        activity=lambda: StandIn("activity"),
    )


@pytest.fixture
def console_app(fake_watcher: FakeWatcher, fake_gate: FakeGate) -> Callable[..., Any]:
    """`console_app(**make_app_kwargs)` → the app on the fixed picture, fixed clock, fake watcher and gate.

    The screen registry is this build's (`console.app.screen_registry()`) unless `registry=` is given:
    `ScreenRegistry()` for none, `stand_in_registry()` for snapshots that must not change as screens land.
    """
    from console.app import make_app

    def build(
        *,
        watcher: Any = None,
        gate: Any = None,
        config: Config | None = None,
        targets: tuple[Target, ...] | None = None,
        **kwargs: Any,
    ) -> Any:
        watcher = watcher or fake_watcher
        return make_app(
            config or Config(),
            targets or tuple(s.target for s in watcher.state.targets),
            watcher,
            gate or fake_gate,
            waves=WAVES,
            clock=fixed_clock,
            **kwargs,
        )

    return build


async def wait_for(pilot: Any, condition: Callable[[], Any], *, within: float = 10.0, what: str = "") -> Any:
    """Let the app run until `condition()` is truthy (no sleeping a guessed time); fail after `within` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:g}s waiting for {what or condition!r}")
        await pilot.pause(0.02)


def notifications(app: Any) -> list[str]:
    """The text of every notification the app is showing."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


def rendered_lines(app: Any) -> list[str]:
    """Every line of the screen as the terminal shows it (plain text, no styles)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def rendered(app: Any) -> str:
    return "\n".join(rendered_lines(app))


@pytest.fixture
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


__all__ = [
    "FIXED_NOW",
    "WAVES",
    "FakeGate",
    "FakeWatcher",
    "WavedeckError",
    "ago",
    "all_waves",
    "execution",
    "fixed_clock",
    "fleet_picture",
    "machine",
    "make_plan",
    "notifications",
    "pipeline",
    "rendered",
    "rendered_lines",
    "sandbox_target",
    "stand_in_registry",
    "stage",
    "wait_for",
]


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """This module's sandbox: only what its tests create (see `quiet_sandbox`).

    The session's sandbox gathers every resource the suite made before: a console on it reads them all
    first (each state machine's ListExecutions refills at 1/s in the console's budget), so a test that waits
    for its own resource would wait on how many tests ran before it.
    """
    from tests.ui.test_pipeline_support import quiet_sandbox

    with quiet_sandbox(tmp_path_factory.mktemp("quiet-fleet")) as process:
        yield process
