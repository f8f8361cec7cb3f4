"""What every screen can reach: the watcher, the action gate, the targets, the clock, the screen registry and the
sources of deployments (screens/fleet/views.py).

The app (console/app.py, the composition root) builds one `ConsoleContext` and every screen finds it with
`context_of(self)`. Screens read the watcher's picture and call the gate; they never talk to AWS.
`WatcherPort` and `GatePort` are the parts of `console.watch.Watcher` and `console.actions.gate.ActionGate` the UI
uses, so tests can hand the app fixed pictures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from textual.dom import DOMNode
from textual.screen import Screen

from console.model import FleetState, FleetUpdate, Service, Target
from console.resources import Selection
from console.stepfunctions.model import HistoryEvent
from console.waves import WaveModel
from screens.transition_log import TransitionLog

if TYPE_CHECKING:
    from console.actions.gate import ActionKind, ActionOutcome, ActionPlan, Availability
    from screens.action_flow import ActionFlow
    from screens.fleet.view import SourceView


class WatcherPort(Protocol):
    """The watcher as the UI uses it (console/watch.py `Watcher`)."""

    @property
    def state(self) -> FleetState: ...

    def subscribe(self, callback: Callable[[FleetUpdate], None]) -> Callable[[], None]: ...

    def focus(self, keys: Iterable[str], detail: str | None = None) -> None: ...

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


# What the registry holds, by name: a screen factory. A resource's screen takes its key (`KeyRef`), the execution
# screen the target and the ARN (`ExecutionRef`), a section screen (approvals, activity) nothing: one instance, kept.
ScreenFactory = Callable[..., Screen[Any]]

EXECUTION = "execution"  # the registry's name of the screen an `ExecutionRef` opens


@dataclass(frozen=True, slots=True)
class KeyRef:
    """A resource to open by key (target:name): `screen` is the registry's name of the screen that shows it
    ("pipeline", "state_machine"; a source of deployments registers it in screens/fleet/views.py)."""

    screen: str
    key: str


@dataclass(frozen=True, slots=True)
class ExecutionRef:
    """An execution to open, by ARN. `instead`: the resource to open when the execution is not known (`arn` empty
    or not an ARN) or there is no execution screen (its state machine); None when there is no such fallback."""

    target: str
    arn: str
    instead: KeyRef | None = None

    @property
    def known(self) -> bool:
        return self.arn.startswith("arn:")


# What "open" means on any screen: one of these, sent up as `OpenRequested` and routed by the app.
ResourceRef = KeyRef | ExecutionRef


def opened_screen(ref: ResourceRef) -> str:
    """The registry's name of the screen `ref` asks for first ("pipeline", "execution")."""
    return EXECUTION if isinstance(ref, ExecutionRef) else ref.screen


@dataclass(init=False)
class ScreenRegistry:
    """The screens the app opens, by name. console/app.py `screen_registry()` fills it from the sources of
    deployments (screens/fleet/views.py: each names the screens that show its resources) and the section screens;
    tests leave some out, and a key whose screen is left out shows as unavailable and says so.

    Built with one keyword per screen, `ScreenRegistry(pipeline=..., approvals=...)`; `dataclasses.replace`
    swaps some (its keywords reach `__init__` beside `screens`).
    """

    screens: dict[str, ScreenFactory]

    def __init__(self, screens: Mapping[str, ScreenFactory] | None = None, **named: ScreenFactory | None) -> None:
        merged = {**(screens or {}), **named}
        self.screens = {name: factory for name, factory in merged.items() if factory is not None}

    def get(self, name: str) -> ScreenFactory | None:
        """The factory of the screen called `name`, or None when it is not registered."""
        return self.screens.get(name)

    def missing(self, name: str) -> str:
        """The sentence shown when `name` has no screen in the registry."""
        return f"no {name.replace('_', ' ')} screen is registered"

    def cannot_open(self, ref: ResourceRef) -> str | None:
        """Why `ref` cannot be opened here (neither its screen nor its fallback's is registered), or None."""
        match ref:
            case KeyRef(screen=name):
                return None if name in self.screens else self.missing(name)
            case ExecutionRef(instead=instead):
                if EXECUTION in self.screens or (instead is not None and instead.screen in self.screens):
                    return None
                return self.missing(EXECUTION)

    def screen_for(self, ref: ResourceRef) -> Screen[Any] | None:
        """A new screen showing `ref` (an execution's state machine when its execution cannot be shown)."""
        match ref:
            case KeyRef(screen=name, key=key):
                factory = self.screens.get(name)
                return factory(key) if factory else None
            case ExecutionRef(target=target, arn=arn, instead=instead):
                execution = self.screens.get(EXECUTION)
                if execution is not None and (ref.known or (instead is None and arn)):
                    return execution(target, arn)
                return self.screen_for(instead) if instead is not None else None


@dataclass
class ConsoleContext:
    """The services of one running console, shared by every screen."""

    watcher: WatcherPort
    gate: GatePort
    targets: tuple[Target, ...]
    waves: WaveModel
    clock: Callable[[], datetime]
    registry: ScreenRegistry = field(default_factory=ScreenRegistry)
    # The sources of deployments on the screens (screens/fleet/views.py `VIEWS`, unless the app was given others).
    views: tuple[SourceView, ...] = ()
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

    def opens(self, service: Service, target: str, key: str, execution: str | None) -> ResourceRef | None:
        """What enter opens for an approval or a transition of `service` (on `target`, of the resource `key`, in
        `execution`): its source's answer (screens/fleet/views.py); None when the source has no line there."""
        source = next((s for s in self.views if s.service is service), None)
        return None if source is None or source.opens is None else source.opens(target, key, execution)


class NoConsoleContext(RuntimeError):
    """A screen was used outside an app built by `make_app`."""


def context_of(node: DOMNode) -> ConsoleContext:
    """The console context of the app `node` belongs to."""
    context = getattr(node.app, "console_context", None)
    if not isinstance(context, ConsoleContext):
        raise NoConsoleContext("wavedeck screens run inside the app that console.app.make_app builds")
    return context
