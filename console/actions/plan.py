"""What the action gate works with: the kinds of action, the plan an operator confirms, the outcome, and the
facts a fresh read found (with the one call that sends them).

A plan is made from facts (`plan_from`); executing it reads the facts again and compares. Everything here is
plain data, so the screens, the CLI and the tests can build and read it without touching AWS.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from console.actions.reads import GateGateway
from console.actions.reasons import DEFAULT_REASON_MAX
from console.errors import Refused
from console.model import FleetState, Receipt, Target, Wave
from console.resources import Selection
from console.waves import WaveModel


class ActionKind(enum.Enum):
    """What an operator can do; the value is the CLI command (and the audit log's `action`)."""

    APPROVE = "approve"
    REJECT = "reject"
    STOP = "stop"
    STOP_ABANDON = "stop-abandon"
    ROLLBACK = "rollback"
    RETRY = "retry"
    PAUSE = "pause"
    RESUME = "resume"
    OVERRIDE = "override"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def family(self) -> str:
        """Kinds that act on the same thing: one of a family may be in flight per resource at a time."""
        return _FAMILIES.get(self, self.value)

    @property
    def answers(self) -> bool:
        """Approve or reject: answers a waiting approval."""
        return self in (ActionKind.APPROVE, ActionKind.REJECT)


_LABELS = {
    ActionKind.APPROVE: "Approve",
    ActionKind.REJECT: "Reject",
    ActionKind.STOP: "Stop",
    ActionKind.STOP_ABANDON: "Stop and abandon",
    ActionKind.ROLLBACK: "Roll back",
    ActionKind.RETRY: "Retry",
    ActionKind.PAUSE: "Pause promotion into",
    ActionKind.RESUME: "Resume promotion into",
    ActionKind.OVERRIDE: "Override the condition of",
}

_FAMILIES = {
    ActionKind.APPROVE: "answer",
    ActionKind.REJECT: "answer",
    ActionKind.STOP: "stop",
    ActionKind.STOP_ABANDON: "stop",
    ActionKind.PAUSE: "transition",
    ActionKind.RESUME: "transition",
    ActionKind.OVERRIDE: "condition",
}


@dataclass(frozen=True)
class Availability:
    """Whether an action makes sense for a selection now, and if not, why (shown beside the greyed key)."""

    enabled: bool
    reason: str = ""


def _new_plan_id() -> str:
    return uuid.uuid4().hex


class AnswerBody(Protocol):
    """What answering a waiting task sends besides the decision (Step Functions' task answers:
    `console/stepfunctions/answers.py`): shown, and editable, before sending."""

    @property
    def approve(self) -> bool: ...

    @property
    def fixed(self) -> str | None:
        """A body the operator wrote, sent exactly as given (None: the template filled in)."""
        ...

    def text(self, reason: str) -> str:
        """The exact text sent with `reason`."""
        ...

    def sending(self, text: str) -> AnswerBody:
        """This body sending exactly `text`; Refused when AWS would not take it."""
        ...


class AnswerRules(Protocol):
    """The config's rules for what an answer sends (`approvals:`; `console/stepfunctions/answers.py` AnswerBook)."""

    def template(self, machine: str, state: str, *, approve: bool) -> tuple[Any, str]: ...


@dataclass(frozen=True)
class ActionPlan:
    """Exactly what will be sent, as the confirmation shows it.

    `selection` is the resolved one (a pipeline-level approve names the stage and action it found).
    `production` means the operator must type `confirm_word` (the wave's name, or the target's for a target
    marked production outside any production wave). `expect` is the precondition read now; execute() reads it
    again right before sending and refuses if it changed. `operation` is the AWS API that will be called.
    `parameters` are choices made while planning that execute() sends unchanged (the retry mode, the name of
    the rollback execution, the redrive's client token), so what is sent is what was shown. `plan_id` makes a
    plan single-use: the gate sends one plan at most once.
    """

    kind: ActionKind
    selection: Selection
    title: str
    lines: tuple[tuple[str, str], ...]
    wave: Wave | None
    production: bool
    confirm_word: str | None
    expect: Mapping[str, str]
    operation: str = ""
    reason_limit: int = DEFAULT_REASON_MAX
    reason_transition: bool = False  # the reason goes to DisableStageTransition: AWS's narrow character set
    parameters: Mapping[str, str] = field(default_factory=dict)
    plan_id: str = field(default_factory=_new_plan_id)
    # Approve / reject of a Step Functions task: the body it sends (shown, and editable, before sending).
    answer: AnswerBody | None = None

    @property
    def resource(self) -> str:
        return self.selection.resource

    def with_body(self, text: str) -> ActionPlan:
        """This plan sending exactly `text` as its answer (the editor's, --output's); Refused when AWS would not
        take it or the plan sends no body. The same plan: still sent at most once."""
        if self.answer is None:
            raise Refused(f"{self.title} sends no body to replace")
        answer = self.answer.sending(text)
        return replace(self, parameters={**self.parameters, "body": text}, answer=answer)


@dataclass(frozen=True)
class ActionOutcome:
    """What happened: AWS's request id, a sentence for the notification, and the new execution if any
    (RollbackStage's pipeline execution id, a rollback state machine's execution ARN)."""

    plan: ActionPlan
    request_id: str | None
    message: str
    new_execution: str | None = None
    receipt: Receipt | None = None


@dataclass(frozen=True)
class PlanContext:
    """What the config (and with `--sandbox` the sandbox's fleet) adds to the wave model: the state machine that
    rolls each state machine's wave back, and the waves of a state machine's states (`waves.state_machines`)."""

    waves: WaveModel
    rollback_machines: Mapping[str, str] = field(default_factory=dict)
    state_waves: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    answers: AnswerRules | None = None  # the config's `approvals:` (None: each service's defaults)

    def stage_wave(self, pipeline: str, stage: str, declared: Wave | None, stages: Sequence[str] = ()) -> Wave | None:
        """The stage's wave as the watcher placed it, else placed now among the pipeline's `stages` (in order:
        a stage after a production stage is production)."""
        return declared or self.waves.for_stage(pipeline, stage, stages)


# (reason, caller identity) → AWS's receipt. Built by a fresh read, so it sends what that read found.
Send = Callable[[str, str], Awaitable[Receipt]]


@dataclass(frozen=True)
class Facts:
    """What a fresh read found: the plan's content and how to send it.

    `request` is what goes to the audit log (tokens as digests); `secrets` are the tokens `send` uses, which
    must never be written anywhere (they are replaced by their digest in AWS's error messages too).
    """

    selection: Selection
    title: str
    lines: tuple[tuple[str, str], ...]
    wave: Wave | None
    expect: dict[str, str]
    operation: str
    request: dict[str, Any]
    send: Send
    done: str  # past tense for the outcome message: "Approved checkout-api/Prod-Canary/ApproveProduction"
    reason_limit: int = DEFAULT_REASON_MAX
    reason_transition: bool = False
    parameters: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    answer: AnswerBody | None = None
    # The stage an action on a stage of unknown risk is confirmed with (default: the selection's stage).
    confirm_stage: str | None = None


# What a service package registers per action kind (console/actions/registry.py): the target's gateway (which
# the builder reads fresh state through, as its service's reads protocol) → the Facts.
# `given`: the choices made when the action was planned (a retry mode, a rollback execution's name).
PlanBuilder = Callable[[GateGateway, Selection, PlanContext, Mapping[str, str]], Awaitable[Facts]]

# Why an action cannot run on a selection now, judged from the picture alone (keys are greyed out by it).
Unavailable = Callable[[ActionKind, Selection, FleetState, PlanContext], str | None]


@dataclass(frozen=True)
class ServiceActions:
    """What a service package says about actions: a builder per kind it does, and when each can run."""

    builders: Mapping[ActionKind, PlanBuilder]
    unavailable: Unavailable


def plan_from(kind: ActionKind, facts: Facts, target: Target) -> ActionPlan:
    """The plan the facts make on `target`: the target and wave lines, and whether it is production."""
    production = bool((facts.wave and facts.wave.typed_confirmation) or target.production)
    confirm_word = None
    if facts.wave is not None and facts.wave.is_unknown:
        # A stage no wave matched: confirmed like production, with the stage's own name (there is no wave's).
        confirm_word = facts.confirm_stage or facts.selection.confirm_name or target.name
    elif production:
        # The wave's name, even for a non-production wave of a production target; the target's without a wave.
        confirm_word = facts.wave.name if facts.wave else target.name
    lines = list(facts.lines)
    lines.append(("Target", target.name + (" (production)" if target.production else "")))
    if facts.wave is not None:
        lines.append(("Wave", f"{facts.wave.name} ({facts.wave.risk.label})"))
    return ActionPlan(
        kind=kind,
        selection=facts.selection,
        title=facts.title,
        lines=tuple(lines),
        wave=facts.wave,
        production=production,
        confirm_word=confirm_word,
        expect=dict(facts.expect),
        operation=facts.operation,
        reason_limit=facts.reason_limit,
        reason_transition=facts.reason_transition,
        parameters=dict(facts.parameters),
        answer=facts.answer,
    )
