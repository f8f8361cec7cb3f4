"""The one path from an action key to AWS: key → plan → confirmation → execute → notification → refresh.

A screen that offers actions subclasses `ActionScreen` and implements `action_choices(binding_id)`: what the
key would act on for the current selection (one `ActionChoice` per thing it could mean, e.g. each waiting
approval). `ActionScreen` then gives the screen:

- the bindings `a x s S b r p` (ids approve, reject, stop, stop_abandon, rollback, retry, pause); a screen
  where stage conditions show adds `O` (id override) to its own BINDINGS (`SCREEN_ACTION_KEYS`);
- availability: a key is greyed out unless the gate says at least one choice can run
  (`ActionGate.availability`, pure); pressing a greyed key shows the gate's reason;
- the flow, run by the app's `ActionFlow` (app-level worker, so leaving the screen does not cancel a call in
  flight): several choices → `ChooseModal`; `gate.plan()` reads fresh state (a `Refused` is a plain
  notification); `ConfirmActionModal` shows the plan and takes the reason (and the typed wave name for
  production); `gate.execute()`; a notification with AWS's request id; the watcher re-reads the resource so
  the screen shows the consequence. Only one action is prepared or sent at a time: a second key press while
  one is under way says so and sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.worker import Worker

from console.actions.gate import ActionKind
from console.errors import Refused, WavedeckError
from console.model import FleetState
from console.resources import Selection
from screens.base import ConsoleScreen
from screens.bindings import binding, describe_binding
from screens.choose.screen import ChooseModal
from screens.confirm.screen import ConfirmActionModal, Confirmation
from screens.errors import describe, title_for
from screens.messages import ActionCompleted

if TYPE_CHECKING:
    from screens.context import ConsoleContext

# Action keys by binding id, and the kind each means when the screen has nothing more specific to say.
ACTION_KEYS: dict[str, ActionKind] = {
    "approve": ActionKind.APPROVE,
    "reject": ActionKind.REJECT,
    "stop": ActionKind.STOP,
    "stop_abandon": ActionKind.STOP_ABANDON,
    "rollback": ActionKind.ROLLBACK,
    "retry": ActionKind.RETRY,
    "pause": ActionKind.PAUSE,
    "override": ActionKind.OVERRIDE,
}
# Keys only the screens that show what they act on bind (the pipeline screen shows stage conditions).
SCREEN_ACTION_KEYS = frozenset({"override"})


@dataclass(frozen=True, slots=True)
class ActionChoice:
    """One thing a key could do for the selection: the kind, exactly what it acts on, and how to name it."""

    kind: ActionKind
    selection: Selection
    label: str  # "Pause promotion into Prod-AZ1", shown when the operator has to pick
    preferred: bool = False  # highlighted first when the operator has to pick


@dataclass(frozen=True, slots=True)
class Choices:
    """What a key could do now. Empty: `fallback` (the selection as a whole) asks the gate why not."""

    choices: tuple[ActionChoice, ...]
    question: str = ""  # asked when there are several: "Pause or resume promotion into which stage?"
    fallback: Selection | None = None
    nothing: str = "nothing is selected"  # said when empty and the gate has no better reason

    def available(self, gate_ok: Callable[[ActionChoice], bool]) -> tuple[ActionChoice, ...]:
        return tuple(c for c in self.choices if gate_ok(c))


_WHOLE_SELECTION = ("read-only", "unknown target", "not loaded", "no target")


def unavailable_reason(ctx: ConsoleContext, binding_id: str, choices: Choices, state: FleetState) -> str | None:
    """None when at least one choice can run; otherwise the gate's sentence (read-only first)."""
    gate = ctx.gate
    reasons: list[str] = []
    for choice in choices.choices:
        availability = gate.availability(choice.kind, choice.selection, state)
        if availability.enabled:
            return None
        reasons.append(availability.reason)
    if choices.fallback is not None:
        availability = gate.availability(ACTION_KEYS[binding_id], choices.fallback, state)
        # What holds for the whole selection (read-only, not loaded yet) says more than "nothing to do here".
        if not availability.enabled and availability.reason.startswith(_WHOLE_SELECTION):
            return availability.reason
    if reasons:
        return reasons[0] or choices.nothing
    return choices.nothing


class ActionFlow:
    """Runs one operator action at a time, on the app (not on a screen: leaving a screen must not cancel a call
    in flight)."""

    def __init__(self, app: App[Any], context: Callable[[], ConsoleContext]) -> None:
        self._app = app
        self._context = context
        self._worker: Worker[None] | None = None
        self.stage = ""  # what the running flow is doing: choosing, planning, confirming, sending

    @property
    def busy(self) -> bool:
        return self._worker is not None and not self._worker.is_finished

    def start(self, choices: tuple[ActionChoice, ...], question: str) -> bool:
        """Start the flow for these (available) choices; False when another action is under way."""
        if self.busy:
            self._app.notify(
                f"Another action is {self.stage or 'under way'}; wait for it to finish. Nothing was sent.",
                title="One at a time",
                severity="warning",
                markup=False,
            )
            return False
        if not choices:
            return False
        self._worker = self._app.run_worker(
            self._run(choices, question), name="operator-action", group="action", exit_on_error=False
        )
        return True

    async def _run(self, choices: tuple[ActionChoice, ...], question: str) -> None:
        app, ctx = self._app, self._context()
        try:
            choice = choices[0]
            if len(choices) > 1:
                self.stage = "waiting for a choice"
                preferred = next((i for i, c in enumerate(choices) if c.preferred), 0)
                picked = await app.push_screen_wait(ChooseModal(question, [c.label for c in choices], preferred))
                if picked is None:
                    return
                choice = choices[picked]
            self.stage = "being prepared"
            plan = await ctx.gate.plan(choice.kind, choice.selection)
            self.stage = "waiting for confirmation"
            confirmation: Confirmation | None = await app.push_screen_wait(ConfirmActionModal(plan))
            if confirmation is None:
                app.notify("Cancelled. Nothing was sent.", timeout=3, markup=False)
                return
            if confirmation.body is not None:
                plan = plan.with_body(confirmation.body)  # what the confirmation showed is what is sent
            self.stage = "being sent"
            outcome = await ctx.gate.execute(plan, confirmation.reason, confirmation=confirmation.typed)
            sent = choice.kind.label.removesuffix(" into")  # "Pause promotion into" → "Pause promotion sent"
            app.notify(outcome.message, title=f"{sent} sent", timeout=10, markup=False)
            keys = (plan.selection.key,)
            for screen in app.screen_stack:
                screen.post_message(ActionCompleted(plan.title, outcome.request_id, outcome.message, keys))
            self.stage = "showing the result"
            await ctx.watcher.refresh(keys)
        except Refused as refused:
            app.notify(str(refused), title="Refused", severity="warning", timeout=10, markup=False)
        except WavedeckError as error:
            app.notify(describe(error), title=title_for(error), severity="error", timeout=15, markup=False)
        finally:
            self.stage = ""


class ActionScreen(ConsoleScreen):
    """A `ConsoleScreen` whose selection can be acted on (see the module docstring)."""

    BINDINGS = [binding(binding_id) for binding_id in ACTION_KEYS if binding_id not in SCREEN_ACTION_KEYS]

    def action_choices(self, binding_id: str) -> Choices:
        """What `binding_id` would act on for the current selection. Override."""
        return Choices(())

    def action_unavailable(self, binding_id: str) -> str | None:
        ctx = self.ctx
        return unavailable_reason(ctx, binding_id, self.action_choices(binding_id), ctx.state)

    def why_unavailable(self, action: str) -> str | None:
        if action in ACTION_KEYS:
            return self.action_unavailable(action)
        return super().why_unavailable(action)

    def run_operator_action(self, binding_id: str) -> None:
        """The key's flow: the choices the gate allows now, then the app's `ActionFlow`."""
        ctx = self.ctx
        choices = self.action_choices(binding_id)
        reason = unavailable_reason(ctx, binding_id, choices, ctx.state)
        if reason is not None:
            description = describe_binding(binding(binding_id))
            self.notify(f"{description}: {reason}", title="Not available", severity="warning", markup=False)
            return
        allowed = choices.available(lambda c: ctx.gate.availability(c.kind, c.selection, ctx.state).enabled)
        ctx.action_flow().start(allowed, choices.question or "Which one?")

    def action_approve(self) -> None:
        self.run_operator_action("approve")

    def action_reject(self) -> None:
        self.run_operator_action("reject")

    def action_stop(self) -> None:
        self.run_operator_action("stop")

    def action_stop_abandon(self) -> None:
        self.run_operator_action("stop_abandon")

    def action_rollback(self) -> None:
        self.run_operator_action("rollback")

    def action_retry(self) -> None:
        self.run_operator_action("retry")

    def action_pause(self) -> None:
        self.run_operator_action("pause")

    def action_override(self) -> None:
        self.run_operator_action("override")
