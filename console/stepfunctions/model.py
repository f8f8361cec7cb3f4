"""Step Functions' own vocabulary: state machines, their executions and histories, the states that wait for a
person's token, the transitions the watcher sees of them, and the typed view of its pictures in a `FleetState`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from console.model import FleetState, Service, TransitionKind, Wave

SERVICE = Service("stepfunctions")


class MachineTransition(TransitionKind):
    """What a Step Functions Transition is about."""

    SFN_EXECUTION = "sfn-execution"
    SFN_STATE = "sfn-state"

    @property
    def service(self) -> Service:
        return SERVICE


@dataclass(frozen=True, slots=True)
class Execution:
    """A Step Functions execution as ListExecutions / DescribeExecution describe it."""

    arn: str
    name: str
    state_machine_arn: str
    status: str
    started: datetime | None = None
    stopped: datetime | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    redrive_count: int = 0
    redrive_status: str | None = None  # REDRIVABLE | NOT_REDRIVABLE | REDRIVABLE_BY_MAP_RUN (DescribeExecution)
    redrive_status_reason: str | None = None

    @property
    def is_running(self) -> bool:
        return self.status == "RUNNING"


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event of an execution's history, with the fields an operator reads pulled out of its details."""

    id: int
    type: str
    timestamp: datetime
    previous_id: int = 0
    state_name: str | None = None
    resource: str | None = None
    parameters: str | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    # TaskScheduled's timeoutInSeconds: when a `.waitForTaskToken` approval expires.
    timeout_seconds: int | None = None
    # MapIterationStarted's index (and the other MapIteration events'): which item of a Map an iteration runs.
    index: int | None = None


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A state machine of one target as last read, with its newest executions."""

    target: str
    arn: str
    name: str
    type: str = "STANDARD"
    wave: Wave | None = None
    rollback_state_machine: str | None = None
    approval_states: tuple[str, ...] = ()
    # Where each `.waitForTaskToken` state puts its token: what the history follower redacts (console/tokens.py).
    token_states: tuple[TaskTokenState, ...] = field(default=(), repr=False)
    executions: tuple[Execution, ...] = ()
    read_at: datetime | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.target}:{self.name}"

    @property
    def running(self) -> int:
        return sum(1 for e in self.executions if e.status == "RUNNING")

    @property
    def failed(self) -> int:
        return sum(1 for e in self.executions if e.status in ("FAILED", "TIMED_OUT", "ABORTED"))


@dataclass(frozen=True, slots=True)
class StateMachineSummary:
    """A state machine as ListStateMachines names it."""

    arn: str
    name: str
    type: str = "STANDARD"
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskTokenState:
    """A `.waitForTaskToken` Task state: where its author put `$$.Task.Token` among the arguments.

    `token_paths` are key paths into the resolved parameters as a TaskScheduled event shows them (the
    `.$` suffix of JSONPath keys already removed), e.g. ("MessageBody", "taskToken").
    """

    name: str
    resource: str
    token_paths: tuple[tuple[str, ...], ...] = ()
    # Every (path, expression) that holds or embeds the token: `$$.Task.Token`, `States.Format(..., $$.Task.Token)`,
    # `$$.Task`, a JSONata expression; list items by index. What the displays redact (console/tokens.py).
    token_expressions: tuple[tuple[tuple[str | int, ...], str], ...] = ()

    def token_in(self, parameters: str | None) -> str | None:
        """The task token inside a TaskScheduled event's `parameters` JSON, if it is where the author put it."""
        if not parameters:
            return None
        try:
            document: object = json.loads(parameters)
        except ValueError:
            return None
        for path in self.token_paths:
            value = document
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str) and value:
                return value
        return None


@dataclass(frozen=True, slots=True)
class StateMachineDetail:
    """DescribeStateMachine: the definition, parsed, and the states that wait for a person's token.

    `definition` is the parsed ASL document (`definition_text` as AWS returned it); when the text is not
    a JSON object, `definition` is empty and `definition_error` says why.
    """

    arn: str
    name: str
    type: str
    definition_text: str
    definition: Mapping[str, object] = field(default_factory=dict, hash=False)
    role_arn: str = ""
    status: str | None = None
    created: datetime | None = None
    revision_id: str | None = None
    task_token_states: tuple[TaskTokenState, ...] = ()
    states: tuple[str, ...] = ()
    definition_error: str | None = None

    def task_token_state(self, name: str | None) -> TaskTokenState | None:
        return next((s for s in self.task_token_states if s.name == name), None)


def state_machines_of(state: FleetState) -> Mapping[str, StateMachine]:
    """The state machines of a published picture, by key."""
    return cast("Mapping[str, StateMachine]", state.of(SERVICE))
