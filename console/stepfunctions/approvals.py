"""What waits for a person on Step Functions: the `.waitForTaskToken` states of running executions.

Pure functions over model objects; the state machine poller calls them after every read of a history. The
tokens themselves stay out of the Approval: the action gate reads them fresh (`console/stepfunctions/reads.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from console.diff import approval_request, find_in_parameters
from console.model import UNKNOWN_WAVE, Approval, SourceRevision, Wave
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.model import Execution, HistoryEvent, StateMachine
from console.stepfunctions.waiting import OpenTask, branch_numbers, open_tasks
from console.waves import WaveModel

__all__ = [
    "branch_numbers",
    "execution_approvals",
    "state_timeouts",
    "waiting_tasks",
]


def waiting_tasks(
    events: Sequence[HistoryEvent], branches: Mapping[tuple[str, str], int] | None = None
) -> list[OpenTask]:
    """Every `.waitForTaskToken` task still open in `events`, each with where it waits (see
    console/stepfunctions/waiting.py: a Parallel branch or a Map iteration is told apart by its history)."""
    return open_tasks(events, branches)


def execution_approvals(
    machine: StateMachine,
    execution: Execution,
    events: Sequence[HistoryEvent],
    timeouts: Mapping[str, int] | None = None,
    branches: Mapping[tuple[str, str], int] | None = None,
    waves: WaveModel | None = None,
) -> list[Approval]:
    """The `.waitForTaskToken` states `execution` waits in, as far as its history has been read.

    Each is in the wave of its state when the config (or the sandbox's fleet) places the state, or the
    Parallel or Map it runs in (`waves`), else in the state machine's: the wave its answer promotes to, the
    one the gate will ask to be typed.

    The expiry comes from the TaskScheduled event's `timeoutInSeconds`, else from the state's
    `TimeoutSeconds` in the definition (`timeouts`, see `state_timeouts`); without either, none is shown
    (Step Functions' own default is the execution's one-year limit). Each waiting task is its own approval,
    also when several wait at once in Parallel branches or Map iterations (`branches` numbers the branches,
    see `branch_numbers`).
    """
    if not execution.is_running:
        return []
    out: list[Approval] = []
    for task in waiting_tasks(events, branches):
        state, scheduled = task.state, task.scheduled
        expires: datetime | None = None
        seconds = scheduled.timeout_seconds or (timeouts or {}).get(state or "")
        if seconds:
            expires = scheduled.timestamp + timedelta(seconds=seconds)
        url = find_in_parameters(scheduled.parameters, "url")
        out.append(
            Approval(
                kind=STEPFUNCTIONS,
                target=machine.target,
                resource=f"{machine.name}/{execution.name}",
                wave=_wave_of(machine, task, waves),
                since=scheduled.timestamp,
                expires=expires,
                revision=_revision(scheduled.parameters, execution.input or _started_with(events)),
                custom_data=approval_request(scheduled.parameters),
                url=url if isinstance(url, str) and url else None,
                state_name=state,
                execution=execution.arn,
                where=task.where,
                map_index=task.map_index,
                task_event=task.event_id,
            )
        )
    return out


def _wave_of(machine: StateMachine, task: OpenTask, waves: WaveModel | None) -> Wave:
    """The state's wave, else the state machine's, else `unknown` (as the gate judges it: typed to confirm)."""
    if waves is not None and machine.name in waves.state_machines:
        containers = [frame.state for frame in reversed(task.frames)]
        placed = waves.for_state(machine.name, [task.state, *containers])
        if placed is not None:
            return placed
    return machine.wave or UNKNOWN_WAVE


def state_timeouts(definition: Mapping[str, object]) -> dict[str, int]:
    """State name → TimeoutSeconds for every state of an ASL document that has a fixed one (nested too)."""
    found: dict[str, int] = {}
    states = definition.get("States")
    if not isinstance(states, Mapping):
        return found
    for name, state in states.items():
        if not isinstance(state, Mapping):
            continue
        timeout = state.get("TimeoutSeconds")
        if isinstance(timeout, int) and not isinstance(timeout, bool) and timeout > 0:
            found[str(name)] = timeout
        branches = state.get("Branches")
        for branch in branches if isinstance(branches, list) else ():
            if isinstance(branch, Mapping):
                found.update(state_timeouts(branch))
        for key in ("ItemProcessor", "Iterator"):
            processor = state.get(key)
            if isinstance(processor, Mapping):
                found.update(state_timeouts(processor))
    return found


def _started_with(events: Sequence[HistoryEvent]) -> str | None:
    """The execution's input as its ExecutionStarted event carries it (ListExecutions has none)."""
    return next((e.input for e in events if e.type == "ExecutionStarted"), None)


def _revision(parameters: str | None, execution_input: str | None) -> SourceRevision | None:
    """The revision a deployment state machine carries, when its parameters or input name one."""
    found = find_in_parameters(parameters, "revision")
    if not isinstance(found, str) and execution_input:
        found = find_in_parameters(execution_input, "revision")
    if isinstance(found, str) and found:
        return SourceRevision(action_name="input", revision_id=found)
    if isinstance(found, dict):
        revision_id = found.get("id") or found.get("revisionId")
        if isinstance(revision_id, str):
            summary = found.get("summary", "")
            return SourceRevision("input", revision_id, summary if isinstance(summary, str) else json.dumps(summary))
    return None
