"""The one gate every mutating call goes through: read-only, fresh preconditions, reason, audit, no double send.

A screen (or the CLI) asks for a plan: the gate reads fresh state and says exactly what it would send, or
refuses with a plain sentence. Executing the plan re-reads the same state right before sending and refuses if
anything the plan relied on (`expect`) changed; writes an audit intent record (fsynced) before the call and a
result record after it; and never sends the same thing twice while the first call is in flight, nor the same
plan twice at all.

`availability()` is the pure, fast version for greying out keys: it only looks at the FleetState it is given.

The work is done by small modules of this package, each named for its part:
- `plan`: ActionKind, ActionPlan, ActionOutcome, Availability, PlanBuilder, and the Facts a fresh read finds;
- `reads`: the fresh reads through the gateway;
- `registry`: which service package's plan builder (`console.codepipeline.actions`,
  `console.stepfunctions.actions`) answers a kind; an unknown kind raises;
- `preconditions`: read-only, the fresh facts for a kind, what changed since a plan;
- `availability`: the rules that grey out keys;
- `executor`, `records`, `audit`: sending once, with the in-flight guard and the audit records.
"""

from __future__ import annotations

from collections.abc import Mapping

from console.actions.audit import AuditLog
from console.actions.availability import availability
from console.actions.executor import Executor
from console.actions.plan import ActionKind, ActionOutcome, ActionPlan, AnswerRules, Availability, PlanContext
from console.actions.preconditions import Preconditions
from console.actions.reads import GateGateway
from console.actions.reasons import check_reason
from console.model import FleetState, Target
from console.resources import Selection
from console.waves import WaveModel

__all__ = [
    "ActionGate",
    "ActionKind",
    "ActionOutcome",
    "ActionPlan",
    "Availability",
    "Selection",
]


class ActionGate:
    """Every mutating call of the console goes through here (see the module docstring).

    `gateways` by target name; `rollback_machines` maps a state machine's name to the state machine that rolls
    its wave back and `state_waves` maps a state machine's name to the waves of its states, so answering an
    approval state asks for that state's wave (both from the config's `waves.state_machines`, with `--sandbox`
    the sandbox fleet's too: console/runtime.py); `answers` is the config's `approvals:`, the body each
    workflow expects on approve and reject.
    """

    def __init__(
        self,
        gateways: Mapping[str, GateGateway],
        waves: WaveModel,
        audit: AuditLog,
        *,
        read_only: bool = False,
        rollback_machines: Mapping[str, str] | None = None,
        state_waves: Mapping[str, Mapping[str, str]] | None = None,
        answers: AnswerRules | None = None,
    ) -> None:
        context = PlanContext(
            waves=waves,
            rollback_machines=dict(rollback_machines or {}),
            state_waves={machine: dict(states) for machine, states in (state_waves or {}).items()},
            answers=answers,
        )
        self._preconditions = Preconditions(gateways, context, read_only=read_only)
        self._executor = Executor(self._preconditions, audit)

    @property
    def read_only(self) -> bool:
        """The --read-only flag (or read_only in the config): every action is refused."""
        return self._preconditions.read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self._preconditions.read_only = value

    @property
    def in_flight(self) -> tuple[ActionPlan, ...]:
        return self._executor.in_flight

    @property
    def audit(self) -> AuditLog:
        return self._executor.audit

    def target(self, name: str) -> Target | None:
        return self._preconditions.gateway(name).target if self._preconditions.knows(name) else None

    def rollback_machine(self, name: str) -> str | None:
        """The state machine that rolls `name`'s wave back (`waves.state_machines` in the config), if one is named."""
        return self._preconditions.context.rollback_machines.get(name)

    def check_reason(self, plan: ActionPlan, reason: str | None) -> str:
        """The reason as it will be sent, or Refused saying what is wrong with it (before any confirmation)."""
        return check_reason(reason, max_length=plan.reason_limit, transition=plan.reason_transition)

    def availability(self, kind: ActionKind, selection: Selection, state: FleetState) -> Availability:
        """Whether `kind` makes sense for `selection` in `state`, and why not. Pure: no IO, no waiting."""
        return availability(kind, selection, state, self._preconditions, self._executor.in_flight)

    async def plan(
        self, kind: ActionKind, selection: Selection, *, retry_all_actions: bool = False, condition: str | None = None
    ) -> ActionPlan:
        """Read fresh state and say exactly what `kind` would send for `selection`.

        `condition` (BEFORE_ENTRY or ON_SUCCESS) says which conditions an override is for; without it, the ones
        being evaluated.

        Raises Refused with a plain sentence when it makes no sense now (nothing waiting, nothing running,
        read-only), and the gateway's AwsError subclasses when AWS cannot be read.
        """
        self._preconditions.refuse_if_read_only(selection.target)
        given = {"retry_mode": "ALL_ACTIONS"} if retry_all_actions and kind is ActionKind.RETRY else {}
        if condition is not None and kind is ActionKind.OVERRIDE:
            given["condition"] = condition
        facts = await self._preconditions.facts(kind, selection, given)
        return self._preconditions.plan(kind, facts)

    async def execute(self, plan: ActionPlan, reason: str, *, confirmation: str | None = None) -> ActionOutcome:
        """Send what `plan` says, once, with `reason`.

        Refuses (Refused) when: read-only (the flag or the plan's target); the reason is empty or not allowed;
        the plan is for production and `confirmation` (what the operator typed; the CLI's --yes passes the
        plan's `confirm_word`) is not its `confirm_word`; the same action on the same thing is in flight; this
        plan was sent already; the precondition no longer holds, or the action now reaches a production wave
        its plan did not (re-read right before sending).
        Writes the audit intent (fsynced) before the call and the result after it. On failure raises the
        gateway's AwsError subclass with a plain sentence (after writing the result record).
        """
        return await self._executor.execute(plan, reason, confirmation=confirmation)
