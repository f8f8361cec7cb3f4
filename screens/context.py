"""What every screen can reach: the watcher, the action gate, the targets, the clock and the screen registry.

The app (console/app.py, the composition root) builds one `ConsoleContext` and every screen finds it with
`context_of(self)`. Screens read the watcher's picture and call the gate; they never talk to AWS.
`WatcherPort` and `GatePort` are the parts of `console.watch.Watcher` and `console.actions.gate.ActionGate` the UI
uses, so tests can hand the app fixed pictures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from textual.dom import DOMNode
from textual.screen import Screen

from console.model import FleetState, FleetUpdate, Target
from console.resources import Selection
from console.stepfunctions.model import HistoryEvent
from console.waves import WaveModel
from screens.transition_log import TransitionLog

if TYPE_CHECKING:
    from console.actions.gate import ActionKind, ActionOutcome, ActionPlan, Availability
    from screens.action_flow import ActionFlow


class WatcherPort(Protocol):
    """The watcher as the UI uses it (console/watch.py `Watcher`)."""

    @property
    def state(self) -> FleetState: ...

    def subscribe(self, callback: Callable[[FleetUpdate], None]) -> Callable[[], None]: ...

    def focus(self, keys: Iterable[str]) -> None: ...

    def watch_execution(self, target: str, execution_arn: str | None) -> None: ...

    def history(self, execution_arn: str) -> tuple[HistoryEvent, ...]: ...

    async def refresh(self, keys: Iterable[str] | None = None) -> None: ...


class GatePort(Protocol):
    """The action gate as the UI uses it (console/actions/gate.py `ActionGate`)."""

    def availability(self, kind: ActionKind, selection: Selection, state: FleetState) -> Availability: ...

    async def plan(self, kind: ActionKind, selection: Selection) -> ActionPlan: ...

    async def execute(self, plan: ActionPlan, reason: str, *, confirmation: str | None = None) -> ActionOutcome: ...

    @property
    def in_flight(self) -> tuple[ActionPlan, ...]: ...


# Factories the registry holds. Each returns a new screen to push.
PipelineScreenFactory = Callable[[str], Screen[Any]]  # pipeline key (target:name)
StateMachineScreenFactory = Callable[[str], Screen[Any]]  # state machine key (target:name)
ExecutionScreenFactory = Callable[[str, str], Screen[Any]]  # (target, execution ARN)
SectionScreenFactory = Callable[[], Screen[Any]]  # approvals, activity: one instance, kept


@dataclass(frozen=True, slots=True)
class PipelineRef:
    """A pipeline to open, by key (target:name)."""

    key: str


@dataclass(frozen=True, slots=True)
class StateMachineRef:
    """A state machine to open, by key (target:name)."""

    key: str


@dataclass(frozen=True, slots=True)
class ExecutionRef:
    """A Step Functions execution to open. `machine_key`: the state machine to open instead when the execution
    is not known (`arn` empty or not an ARN) or there is no execution screen; None when there is no such fallback."""

    target: str
    arn: str
    machine_key: str | None = None

    @property
    def known(self) -> bool:
        return self.arn.startswith("arn:")


# What "open" means on any screen: one of these, sent up as `OpenRequested` and routed by the app.
ResourceRef = PipelineRef | StateMachineRef | ExecutionRef


@dataclass
class ScreenRegistry:
    """The screens the app opens. console/app.py `screen_registry()` fills every one (a new screen is one
    line there); tests leave some out, and a key whose screen is left out shows as unavailable and says so.
    """

    pipeline: PipelineScreenFactory | None = None
    state_machine: StateMachineScreenFactory | None = None
    execution: ExecutionScreenFactory | None = None
    approvals: SectionScreenFactory | None = None
    activity: SectionScreenFactory | None = None

    def missing(self, name: str) -> str:
        """The sentence shown when `name` has no screen in the registry."""
        return f"no {name.replace('_', ' ')} screen is registered"

    def cannot_open(self, ref: ResourceRef) -> str | None:
        """Why `ref` cannot be opened here (its screen is not registered), or None."""
        match ref:
            case PipelineRef():
                return None if self.pipeline else self.missing("pipeline")
            case StateMachineRef():
                return None if self.state_machine else self.missing("state machine")
            case ExecutionRef(machine_key=None):
                return None if self.execution else self.missing("execution")
            case ExecutionRef():
                return None if self.execution or self.state_machine else self.missing("execution")

    def screen_for(self, ref: ResourceRef) -> Screen[Any] | None:
        """A new screen showing `ref` (an execution's state machine when its execution cannot be shown)."""
        match ref:
            case PipelineRef(key=key):
                return self.pipeline(key) if self.pipeline else None
            case StateMachineRef(key=key):
                return self.state_machine(key) if self.state_machine else None
            case ExecutionRef(target=target, arn=arn, machine_key=machine_key):
                if self.execution is not None and (ref.known or (machine_key is None and arn)):
                    return self.execution(target, arn)
                if machine_key is not None and self.state_machine is not None:
                    return self.state_machine(machine_key)
                return None


@dataclass
class ConsoleContext:
    """The services of one running console, shared by every screen."""

    watcher: WatcherPort
    gate: GatePort
    targets: tuple[Target, ...]
    waves: WaveModel
    clock: Callable[[], datetime]
    registry: ScreenRegistry = field(default_factory=ScreenRegistry)
    transitions: TransitionLog = field(default_factory=TransitionLog)
    read_only_reason: str | None = None
    title: str = "wavedeck"
    # The newest picture the app has handed to the screens (what is on screen, not what the watcher
    # may have read since): availability is judged on what the operator sees.
    state: FleetState = field(default_factory=FleetState)
    flow: ActionFlow | None = None  # set by the app once it exists

    def action_flow(self) -> ActionFlow:
        if self.flow is None:
            raise NoConsoleContext("the app has not set up its action flow")
        return self.flow

    def now(self) -> datetime:
        return self.clock()

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)


class NoConsoleContext(RuntimeError):
    """A screen was used outside an app built by `make_app`."""


def context_of(node: DOMNode) -> ConsoleContext:
    """The console context of the app `node` belongs to."""
    context = getattr(node.app, "console_context", None)
    if not isinstance(context, ConsoleContext):
        raise NoConsoleContext("wavedeck screens run inside the app that console.app.make_app builds")
    return context
