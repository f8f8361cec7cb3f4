"""The fresh reads the action gate makes of Step Functions before planning and again right before sending.

`StepFunctionsGateway` is the part of the gateway (`console/aws/stepfunctions.py`) this package's plan builders
use; `Reads` puts its answers together the way they need them (the states of an execution waiting for a task
token, with their tokens).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from console.actions.reads import HISTORY_DEPTH, GateGateway
from console.errors import NotFound, Refused
from console.model import Receipt
from console.stepfunctions.approvals import branch_numbers, waiting_tasks
from console.stepfunctions.model import Execution, HistoryEvent, StateMachineDetail
from console.tokens import token_like


class StepFunctionsGateway(GateGateway, Protocol):
    """What Step Functions' plan builders need from a target's gateway (`console.aws.gateway.Gateway` provides it)."""

    async def describe_state_machine(self, arn: str) -> StateMachineDetail: ...
    async def describe_execution(self, arn: str) -> Execution: ...
    async def list_executions(
        self, arn: str, status: str | None = None, max_results: int = 100
    ) -> tuple[Execution, ...]: ...
    async def get_execution_history(
        self, arn: str, after_id: int = 0, page_size: int = 100
    ) -> tuple[HistoryEvent, ...]: ...

    async def send_task_success(self, token: str, output: str = "{}") -> Receipt: ...
    async def send_task_failure(self, token: str, error: str = "", cause: str = "") -> Receipt: ...
    async def stop_execution(self, arn: str, error: str = "", cause: str = "") -> Receipt: ...
    async def redrive_execution(self, arn: str, client_token: str | None = None) -> Receipt: ...
    async def start_execution(self, state_machine_arn: str, input: str, name: str | None = None) -> Receipt: ...


@dataclass(frozen=True, slots=True)
class WaitingTask:
    """A `.waitForTaskToken` state waiting for its answer, with its token when it can be found."""

    scheduled_event_id: int
    state_name: str | None
    since: datetime
    token: str | None
    where: str = ""  # "iteration 2 of ReviewEach": its Parallel branches and Map iterations
    map_index: int | None = None
    parameters: str | None = None  # the TaskScheduled parameters (they hold the token: never shown as is)
    containers: tuple[str, ...] = ()  # the Parallel and Map states around it, innermost first

    @property
    def label(self) -> str:
        """The state and where it waits: `Approve Item (iteration 2 of ReviewEach)`."""
        name = self.state_name or f"event {self.scheduled_event_id}"
        return f"{name} ({self.where})" if self.where else name


class Reads:
    """Fresh reads of Step Functions through one gateway, shaped for the gate."""

    def __init__(self, gateway: StepFunctionsGateway) -> None:
        self.gateway = gateway

    @classmethod
    def of(cls, gateway: GateGateway) -> Reads:
        """The reads through a gateway the gate holds: every target's gateway speaks every registered service
        (`tests/core/test_services.py` checks `Gateway` against each service's protocol)."""
        return cls(cast(StepFunctionsGateway, gateway))

    async def execution(self, arn: str) -> Execution:
        try:
            return await self.gateway.describe_execution(arn)
        except NotFound:
            machine, name = arn.rsplit(":", 2)[-2:]
            raise Refused(
                f"state machine {machine} has no execution {name} in target {self.gateway.target.name}"
            ) from None

    async def last_succeeded(self, state_machine_arn: str, *, exclude: str | None = None) -> Execution | None:
        """The newest SUCCEEDED execution (described, so its input is known)."""
        executions = await self.gateway.list_executions(
            state_machine_arn, status="SUCCEEDED", max_results=HISTORY_DEPTH
        )
        for execution in executions:
            if execution.arn != exclude:
                return await self.gateway.describe_execution(execution.arn)
        return None

    async def newest_execution(self, state_machine_arn: str) -> Execution | None:
        """The execution that started last, whatever its status (what a wave's rollback rolls back)."""
        executions = await self.gateway.list_executions(state_machine_arn, max_results=1)
        return executions[0] if executions else None

    async def running_executions(self, state_machine_arn: str) -> tuple[Execution, ...]:
        try:
            return await self.gateway.list_executions(state_machine_arn, status="RUNNING", max_results=10)
        except NotFound:
            return ()

    async def waiting_tasks(self, execution_arn: str, state_machine_arn: str) -> tuple[list[WaitingTask], str | None]:
        """The states of a running execution waiting for a task token, and, when none waits, a sentence
        saying how the last one was answered (for "already approved")."""
        events = await self.gateway.get_execution_history(execution_arn, page_size=1000)
        detail: StateMachineDetail | None = None
        if waiting_tasks(events):
            try:
                detail = await self.gateway.describe_state_machine(state_machine_arn)
            except NotFound:
                detail = None
        branches = branch_numbers(detail.definition) if detail is not None else None
        found = []
        for task in waiting_tasks(events, branches):
            state, scheduled = task.state, task.scheduled
            token_state = detail.task_token_state(state) if detail is not None else None
            token = token_state.token_in(scheduled.parameters) if token_state is not None else None
            found.append(
                WaitingTask(
                    scheduled.id,
                    state,
                    scheduled.timestamp,
                    token or _token_like(scheduled.parameters),
                    where=task.where,
                    map_index=task.map_index,
                    parameters=scheduled.parameters,
                    containers=tuple(frame.state for frame in reversed(task.frames)),
                )
            )
        return found, (None if found else _last_answer(events))


def _last_answer(events: Sequence[HistoryEvent]) -> str | None:
    """How the newest `.waitForTaskToken` task of a history ended, as a sentence."""
    scheduled = [e for e in events if e.type == "TaskScheduled" and (e.resource or "").endswith(".waitForTaskToken")]
    if not scheduled:
        return None
    last = scheduled[-1]
    state = last.state_name or "the approval"
    for event in events:
        if event.id <= last.id or (event.state_name is not None and event.state_name != last.state_name):
            continue
        if event.type == "TaskSucceeded":
            return f"{state} was already approved"
        if event.type == "TaskFailed":
            return f"{state} was already rejected" + (f" ({event.error})" if event.error else "")
        if event.type == "TaskTimedOut":
            return f"{state} timed out waiting for an answer"
    return None


def _token_like(parameters: str | None) -> str | None:
    """When the definition cannot say where the token is: the one long string under a key named like a token."""
    if not parameters:
        return None
    try:
        document: Any = json.loads(parameters)
    except ValueError:
        return None
    found = token_like(document)
    return found.pop() if len(found) == 1 else None
