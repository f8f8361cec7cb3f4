"""The plans for Step Functions: approve / reject a `.waitForTaskToken` state, stop, redrive, and roll a wave
back by starting its rollback state machine with the last good revision.

Like the CodePipeline builders, each reads fresh state through `Reads`, refuses with a plain sentence when the
action makes no sense now, and otherwise returns the `Facts` with the one call that sends it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from console.actions.audit import operator, token_digest
from console.actions.plan import ActionKind, Facts, PlanBuilder, PlanContext, ServiceActions
from console.actions.reads import GateGateway
from console.actions.text import input_value, time_text
from console.diff import approval_request
from console.errors import Refused
from console.model import UNKNOWN_WAVE, FleetState, Receipt, Wave
from console.resources import Selection
from console.stepfunctions.answers import DEFAULT_REJECT, AnswerBody, AnswerBook, check_body
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from console.stepfunctions.model import StateMachine, state_machines_of
from console.stepfunctions.reads import Reads, WaitingTask
from console.stepfunctions.selections import ExecutionSelection, MachinePart, StateMachineSelection

FAILED_EXECUTION = ("FAILED", "TIMED_OUT", "ABORTED")
REDRIVE_WINDOW = timedelta(days=14)
# What a Step Functions StopExecution / SendTaskFailure says in `error` (the reason goes to `cause`).
STOP_ERROR = "wavedeck.Stopped"
REJECT_ERROR = DEFAULT_REJECT["error"]


async def answer(
    reads: Reads, selection: MachinePart, context: PlanContext, given: Mapping[str, str], *, approve: bool
) -> Facts:
    """SendTaskSuccess / SendTaskFailure with the token of the one waiting task the selection names.

    Several tasks can wait at once (Parallel branches, Map iterations): the selection names one by its
    TaskScheduled event (a row of the inbox), or by state and Map index (the command line); when it names
    none and several wait, it is refused with their names, since guessing would answer the wrong person.
    The body is the config's template for the state (`approvals:`), or the one given (`given["body"]`).
    """
    arn = execution_arn(selection, "approve or reject")
    execution = await reads.execution(arn)
    where = selection.resource
    if execution.status != "RUNNING":
        raise Refused(f"{where} is {execution.status}; nothing is waiting for approval")
    waiting, answered = await reads.waiting_tasks(arn, execution.state_machine_arn)
    if not waiting:
        raise Refused(answered or f"nothing is waiting for approval in {where}")
    task = _named_task(waiting, as_execution(selection, "approve or reject"), where)
    if not task.token:
        raise Refused(f"state {task.state_name} of {where} waits, but its task token is not in its parameters")
    token = task.token
    machine = selection.state_machine
    # The wave of the state (or of the Parallel or Map around it), as the inbox shows it: the one to type.
    placed = context.state_waves.get(machine, {})
    state_wave = next((placed[s] for s in (task.state_name or "", *task.containers) if s in placed), None)
    wave = context.waves.wave(state_wave) or machine_wave(context, machine)
    gateway = reads.gateway
    lines = [
        ("State machine", machine),
        ("Execution", execution.name),
        ("State", task.state_name or "?"),
    ]
    if task.where:
        lines.append(("Where", task.where))
    lines.append(("Waiting since", time_text(task.since)))
    asks = approval_request(task.parameters)
    if asks:
        lines.append(("Asks", asks))
    revision = input_value(execution.input, "revision")
    if revision:
        lines.append(("Revision", revision))
    template, origin = (context.answers or AnswerBook()).template(machine, task.state_name or "", approve=approve)
    identity = (await gateway.caller_identity()).arn
    body = AnswerBody(template, approve, {"identity": identity, "operator": operator()}, origin)
    if "body" in given:
        body = replace(body, fixed=check_body(given["body"], approve=approve))
    operation = "SendTaskSuccess" if approve else "SendTaskFailure"
    lines.append(("Sends", f"{operation} with the body below ({'edited' if body.fixed else origin})"))

    async def send(reason: str, identity: str) -> Receipt:
        if approve:
            return await gateway.send_task_success(token, body.text(reason))
        error, cause = body.failure(reason)
        return await gateway.send_task_failure(token, error, cause)

    named = task.state_name or "?"
    if task.where:
        named += f" ({task.where})"
    return Facts(
        selection=ExecutionSelection(
            selection.target,
            execution.state_machine_arn,
            arn,
            state_name=task.state_name,
            map_index=task.map_index,
            task_event=task.scheduled_event_id,
        ),
        title=f"{'Approve' if approve else 'Reject'} {machine} / {execution.name} / {named}",
        lines=tuple(lines),
        wave=wave,
        expect={
            "state": task.state_name or "",
            "event": str(task.scheduled_event_id),
            "token": token_digest(token),
        },
        operation=operation,
        request={"taskToken": token_digest(token)},
        send=send,
        done=f"{'Approved' if approve else 'Rejected'} {machine}/{execution.name} at {named}",
        parameters={"body": body.fixed} if body.fixed is not None else {},
        secrets=(token,),
        answer=body,
    )


def _named_task(waiting: list[WaitingTask], selection: ExecutionSelection, where: str) -> WaitingTask:
    """The one waiting task the selection names (see `answer`), or Refused saying which ones wait."""
    named = [
        t
        for t in waiting
        if (selection.task_event is None or t.scheduled_event_id == selection.task_event)
        and (selection.state_name is None or t.state_name == selection.state_name)
        and (selection.map_index is None or t.map_index == selection.map_index)
    ]
    if len(named) == 1:
        return named[0]
    listed = "; ".join(t.label for t in (named or waiting))
    if not named:
        what = selection.task or "that task"
        raise Refused(f"{what} is not waiting in {where} (waiting: {listed})")
    if selection.state_name is None:
        raise Refused(
            f"{len(named)} tasks wait for a token in {where} ({listed}); name one: --state NAME "
            "(and --index N in a Map), or pick its row in the approvals inbox"
        )
    raise Refused(f"{len(named)} tasks of {selection.task} wait in {where} ({listed}); name the iteration: --index N")


async def stop(reads: Reads, selection: MachinePart, context: PlanContext) -> Facts:
    """StopExecution of a running execution, the reason as its cause."""
    arn = execution_arn(selection, "stop")
    execution = await reads.execution(arn)
    machine = selection.state_machine
    if execution.status != "RUNNING":
        raise Refused(f"{machine}/{execution.name} is {execution.status}; nothing to stop")
    gateway = reads.gateway

    async def send(reason: str, identity: str) -> Receipt:
        return await gateway.stop_execution(arn, STOP_ERROR, reason)

    return Facts(
        selection=ExecutionSelection(selection.target, execution.state_machine_arn, arn),
        title=f"Stop {machine} / {execution.name}",
        lines=(
            ("State machine", machine),
            ("Execution", execution.name),
            ("Started", time_text(execution.started)),
            ("Sends", f"StopExecution error={STOP_ERROR} (the reason as cause)"),
        ),
        wave=machine_wave(context, machine),
        expect={"execution": arn, "status": "RUNNING"},
        operation="StopExecution",
        request={"executionArn": arn, "error": STOP_ERROR},
        send=send,
        done=f"Stopped {machine}/{execution.name}",
    )


async def redrive(
    reads: Reads, selection: MachinePart, context: PlanContext, *, client_token: str | None = None
) -> Facts:
    """RedriveExecution of a failed, timed out or aborted execution within AWS's 14 days.

    The client token is derived from what is redriven (the execution and how often it was redriven already),
    so the same redrive asked twice, by this process or another, is the same request to AWS (idempotent for
    15 minutes), not a second redrive.
    """
    arn = execution_arn(selection, "redrive")
    execution = await reads.execution(arn)
    machine = selection.state_machine
    where = f"{machine}/{execution.name}"
    if execution.status not in FAILED_EXECUTION:
        raise Refused(f"{where} is {execution.status}; only a failed, timed out or aborted execution is redriven")
    if execution.redrive_status == "NOT_REDRIVABLE":
        raise Refused(f"{where} cannot be redriven: {execution.redrive_status_reason or 'AWS says so'}")
    if execution.stopped is not None and datetime.now(UTC) - execution.stopped > REDRIVE_WINDOW:
        raise Refused(f"{where} ended more than 14 days ago; AWS redrives only within 14 days")
    token = client_token or redrive_client_token(arn, execution.redrive_count)
    gateway = reads.gateway

    async def send(reason: str, identity: str) -> Receipt:
        return await gateway.redrive_execution(arn, client_token=token)

    lines = [("State machine", machine), ("Execution", execution.name), ("Status", execution.status)]
    if execution.error:
        lines.append(("Error", execution.error))
    lines.append(("Sends", "RedriveExecution: restarts from the failed states"))
    return Facts(
        selection=ExecutionSelection(selection.target, execution.state_machine_arn, arn),
        title=f"Redrive {machine} / {execution.name}",
        lines=tuple(lines),
        wave=machine_wave(context, machine),
        expect={"execution": arn, "status": execution.status, "redrive_count": str(execution.redrive_count)},
        operation="RedriveExecution",
        request={"executionArn": arn, "clientToken": token},
        send=send,
        done=f"Redriving {where}",
        parameters={"client_token": token},
    )


async def rollback(reads: Reads, selection: MachinePart, context: PlanContext, *, name: str | None = None) -> Facts:
    """StartExecution of the wave's rollback state machine with the revision of the last good execution.

    The new execution's name is derived from what is rolled back (the execution that went bad, else the
    newest one, and the revision it goes back to), so the confirmation shows the name that is started, and
    the same rollback sent twice, by this process or another one racing it, is refused by AWS's own name
    uniqueness (or, with the same input while it runs, answered with the one execution already started).
    """
    machine_arn = selection.state_machine_arn
    machine = selection.state_machine
    bad_arn = selection.execution_arn if isinstance(selection, ExecutionSelection) else None
    rollback_machine = context.rollback_machines.get(machine)
    if rollback_machine is None:
        raise Refused(
            f"no rollback state machine is configured for {machine} (`waves.state_machines.{machine}.rollback` "
            "in the config)"
        )
    rollback_arn = machine_arn.rsplit(":", 1)[0] + ":" + rollback_machine
    if bad_arn is not None:
        bad = await reads.execution(bad_arn)
        if bad.status == "RUNNING":
            raise Refused(f"{machine}/{bad.name} is still running; stop it before rolling its wave back")
    good = await reads.last_succeeded(machine_arn, exclude=bad_arn)
    if good is None:
        raise Refused(f"no execution of {machine} has succeeded: there is no good revision to roll back to")
    revision = input_value(good.input, "revision")
    if not revision:
        raise Refused(f"the last good execution of {machine} ({good.name}) has no revision in its input")
    running = await reads.running_executions(rollback_arn)
    if running:
        raise Refused(f"a rollback is already running: {rollback_machine}/{running[0].name}")
    service = input_value(good.input, "service") or machine
    placed = context.waves.for_state_machine(machine)  # None: nothing places it (judged as `unknown`)
    wave = placed or UNKNOWN_WAVE
    gateway = reads.gateway
    if name is None:
        rolled_back = bad_arn
        if rolled_back is None:
            newest = await reads.newest_execution(machine_arn)
            rolled_back = newest.arn if newest is not None else machine_arn
        name = rollback_execution_name(placed.name if placed else machine, rolled_back, revision)
    started = name
    document = {
        "wave": placed.name if placed else machine,
        "revision": revision,
        "service": service,
        "rolledBackFrom": bad_arn,
        "lastGoodExecution": good.arn,
    }

    async def send(reason: str, identity: str) -> Receipt:
        payload = {**document, "reason": reason, "requestedBy": identity}
        return await gateway.start_execution(rollback_arn, json.dumps(payload), name=started)

    lines = [("State machine", machine)]
    if bad_arn:
        lines.append(("Execution", bad_arn.rsplit(":", 1)[-1]))
    lines += [
        ("Rolls back to", f"{good.name} revision {revision}"),
        ("Starts", f"{rollback_machine} ({name})"),
        ("Service", service),
    ]
    return Facts(
        selection=selection,
        title=f"Roll back {machine}" + (f" ({placed.name})" if placed else ""),
        lines=tuple(lines),
        wave=wave,
        expect={"last_good": good.arn, "revision": revision},
        operation="StartExecution",
        request={"stateMachineArn": rollback_arn, "name": name, "input": document},
        send=send,
        done=f"Started {rollback_machine} to roll {placed.name if placed else machine} back to revision {revision}",
        parameters={"execution_name": name},
    )


# --- availability ------------------------------------------------------------------------------------------


def unavailable(kind: ActionKind, selection: Selection, state: FleetState, context: PlanContext) -> str | None:
    """Why `kind` cannot run on the state machine selection in `state` now, or None (the registry asks)."""
    part = in_state_machine(selection)
    machine = state_machines_of(state).get(part.key)
    if machine is None:
        return "not loaded yet"
    rollback = context.rollback_machines.get(machine.name) or machine.rollback_state_machine
    return machine_unavailable(kind, part, machine, state, rollback)


def machine_unavailable(
    kind: ActionKind,
    selection: MachinePart,
    machine: StateMachine,
    state: FleetState,
    rollback: str | None,
) -> str | None:
    """Why `kind` cannot run on the state machine selection now, or None. `rollback`: its rollback machine."""
    if kind in (ActionKind.PAUSE, ActionKind.RESUME):
        return "pausing promotion is for pipeline stages"
    if kind is ActionKind.STOP_ABANDON:
        return "abandon is for pipeline executions; use stop"
    if kind is ActionKind.ROLLBACK:
        if rollback is None:
            return f"no rollback state machine is defined for {machine.name}"
        if not any(e.status == "SUCCEEDED" for e in machine.executions):
            return "no execution has succeeded yet"
        return None
    if not isinstance(selection, ExecutionSelection):
        return "select an execution"
    execution = next((e for e in machine.executions if e.arn == selection.execution_arn), None)
    if kind.answers:
        waiting = any(
            a.kind == STEPFUNCTIONS and a.target == selection.target and a.execution == selection.execution_arn
            for a in state.approvals
        )
        return None if waiting else "nothing is waiting for approval"
    if execution is None:
        return "not loaded yet"
    if kind is ActionKind.STOP:
        return None if execution.status == "RUNNING" else f"nothing to stop ({execution.status.lower()})"
    if machine.type == "EXPRESS":
        return "express executions cannot be redriven"
    if execution.status not in FAILED_EXECUTION:
        return f"only a failed execution is redriven ({execution.status.lower()})"
    return None


# --- helpers ---------------------------------------------------------------------------------------------------


def machine_wave(context: PlanContext, machine: str) -> Wave:
    """The wave a state machine's actions are judged by: its own, or `unknown` when nothing places it (then it
    is confirmed like production, with the state machine's name typed, until the config maps it)."""
    return context.waves.for_state_machine(machine) or UNKNOWN_WAVE


def rollback_execution_name(wave: str, rolled_back: str, revision: str) -> str:
    """The rollback execution's name: the same for the same (execution rolled back, target revision), in every
    process, within AWS's 80 characters of letters, digits, - and _."""
    digest = hashlib.sha256(f"{rolled_back}\n{revision}".encode()).hexdigest()[:20]
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", wave)[:40]
    return f"rollback-{safe}-{digest}"


def redrive_client_token(execution_arn: str, redrive_count: int) -> str:
    """RedriveExecution's idempotency key: the same for the same redrive of the same execution, in every process."""
    return "wavedeck-" + hashlib.sha256(f"{execution_arn}\n{redrive_count}".encode()).hexdigest()[:40]


def as_execution(selection: MachinePart, what: str) -> ExecutionSelection:
    """The selection of one execution; Refused when it names only the state machine."""
    if not isinstance(selection, ExecutionSelection):
        raise Refused(f"name the execution to {what}: state-machine/execution-name")
    return selection


def execution_arn(selection: MachinePart, what: str) -> str:
    return as_execution(selection, what).execution_arn


def in_state_machine(selection: Selection) -> MachinePart:
    """The selection as Step Functions' (the registry only hands it this service's); Refused otherwise."""
    if isinstance(selection, StateMachineSelection | ExecutionSelection):
        return selection
    raise Refused("nothing is selected: choose a pipeline or a state machine execution")


MachineBuilder = Callable[[Reads, MachinePart, PlanContext, Mapping[str, str]], Awaitable[Facts]]


def selected(build: MachineBuilder) -> PlanBuilder:
    """`build` on the selection as Step Functions', refusing first when it names no state machine."""

    async def checked(
        gateway: GateGateway, selection: Selection, context: PlanContext, given: Mapping[str, str]
    ) -> Facts:
        return await build(Reads.of(gateway), in_state_machine(selection), context, given)

    return checked


def refused(reason: str) -> PlanBuilder:
    """A kind that makes no sense for Step Functions: registered, so the gate says why instead of failing."""

    async def refuse(reads: Reads, selection: MachinePart, context: PlanContext, given: Mapping[str, str]) -> Facts:
        raise Refused(reason)

    return selected(refuse)


# Every kind, each with its builder or its refusal; console/actions/registry.py refuses to guess for any other.
PLAN_BUILDERS: Mapping[ActionKind, PlanBuilder] = {
    ActionKind.APPROVE: selected(
        lambda reads, selection, context, given: answer(reads, selection, context, given, approve=True)
    ),
    ActionKind.REJECT: selected(
        lambda reads, selection, context, given: answer(reads, selection, context, given, approve=False)
    ),
    ActionKind.STOP: selected(lambda reads, selection, context, given: stop(reads, selection, context)),
    ActionKind.STOP_ABANDON: refused(
        "stop and abandon is for pipeline executions; a Step Functions execution is just stopped"
    ),
    ActionKind.ROLLBACK: selected(
        lambda reads, selection, context, given: rollback(reads, selection, context, name=given.get("execution_name"))
    ),
    ActionKind.RETRY: selected(
        lambda reads, selection, context, given: redrive(
            reads, selection, context, client_token=given.get("client_token")
        )
    ),
    ActionKind.PAUSE: refused("pausing promotion is for pipeline stages (their inbound transition)"),
    ActionKind.RESUME: refused("pausing promotion is for pipeline stages (their inbound transition)"),
    ActionKind.OVERRIDE: refused("overriding a condition is for pipeline stages (their entry or success conditions)"),
}

# What the registry of services (console/services.py) holds of this package: its builders and its rules.
ACTIONS = ServiceActions(PLAN_BUILDERS, unavailable)
