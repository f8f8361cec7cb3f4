"""The state machine poller: ListExecutions every interval for each STANDARD state machine.

DescribeStateMachine is read at discovery and then every `REDESCRIBE_LISTS` × `intervals.lists` (a
definition rarely changes); it says which states wait for a person's token. For machines that have such
states, the history follower reads what is new in the history of each running execution, so that the
approvals inbox knows what waits. EXPRESS state machines are never polled (see `EXPRESS_NOTE`).

A pushed execution status change is laid over the executions last listed (`apply_event`) and published at
once; what no event says (a task waiting for a person's token) is read from the histories (`read_waiting`).
"""

from __future__ import annotations

from collections.abc import Sequence

from console.diff import state_machine_transitions
from console.errors import AwsError
from console.model import Approval
from console.polling.context import WatchContext
from console.polling.gate import Priority
from console.polling.slots import TargetRun, on_the_wire
from console.push import PushEvent
from console.scheduler import URGENT
from console.stepfunctions import slots
from console.stepfunctions.approvals import branch_numbers, execution_approvals, state_timeouts
from console.stepfunctions.events import (
    apply_execution_event,
    event_order,
    execution_item,
    listed_order,
    told_alone,
)
from console.stepfunctions.history import HistoryFollower
from console.stepfunctions.model import SERVICE, Execution, HistoryEvent, StateMachine, StateMachineDetail
from console.stepfunctions.slots import MachineSlot

EXPRESS_NOTE = (
    "Express state machine: Step Functions keeps no execution history for it (read its executions in CloudWatch Logs)"
)

EXECUTIONS_LISTED = 25  # newest Step Functions executions kept per state machine (one ListExecutions page)
REDESCRIBE_LISTS = 5  # DescribeStateMachine again every this many `intervals.lists` (definitions rarely change)
NOT_READ = "not read yet"  # an event about a state machine this run has not read: nothing to lay it over
HISTORIES = "histories"  # an execution started in a state machine that may wait for a person: read its history


class StateMachinePoller:
    """Reads one state machine at a time for its poll loop and publishes the `StateMachine`."""

    def __init__(self, context: WatchContext, history: HistoryFollower) -> None:
        self._ctx = context
        self._history = history

    def seed(self, slot: MachineSlot, detail: StateMachineDetail) -> None:
        """Start from the warm-start cache's description (same ARN and creation date as listed): no
        DescribeStateMachine now; it is read again on the usual schedule (`REDESCRIBE_LISTS`)."""
        self._described(slot, detail)

    def _described(self, slot: MachineSlot, detail: StateMachineDetail) -> None:
        """Keep a description and what the approvals read of its definition (expiries, branch numbers)."""
        slot.detail = detail
        slot.timeouts = state_timeouts(detail.definition)
        slot.branches = branch_numbers(detail.definition)
        slot.described_at = self._ctx.mono()

    async def loop(self, run: TargetRun, slot: MachineSlot) -> None:
        async def read(source: str, priority: Priority, since: float | None) -> None:
            await self.read(run, slot, source, priority, since)

        await self._ctx.poll_loop(run, slot, read)

    async def read(
        self, run: TargetRun, slot: MachineSlot, source: str, priority: Priority, since: float | None = None
    ) -> None:
        ctx = self._ctx
        summary = slot.summary
        if slot.described_at is None or ctx.mono() - slot.described_at >= REDESCRIBE_LISTS * ctx.intervals.lists:
            async with run.gate.turn("DescribeStateMachine", priority, since):
                described = await slots.reader(run).describe_state_machine(summary.arn)
            self._described(slot, described)
        async with run.gate.turn("ListExecutions", priority, since), on_the_wire(slot):
            sent = ctx.mono()
            listed = await slots.reader(run).list_executions(summary.arn, max_results=EXECUTIONS_LISTED)
        ctx.publisher.target_succeeded(run, "DescribeStateMachine", "ListExecutions")
        now = ctx.now()
        old = slots.told(ctx.publisher, slot.key)
        executions = tuple(_keep_described(old, e) for e in listed)
        detail = slot.detail
        machine = StateMachine(
            target=run.target.name,
            arn=summary.arn,
            name=summary.name,
            type=summary.type,
            wave=ctx.waves.for_state_machine(summary.name),
            approval_states=tuple(s.name for s in detail.task_token_states) if detail else (),
            token_states=detail.task_token_states if detail else (),
            executions=executions,
            read_at=now,
        )
        machine = self._pushed_since(slot, machine, sent)
        transitions = state_machine_transitions(old, machine, now, source)
        self._history.born({t.execution for t in transitions if t.from_status is None and t.execution})
        ctx.publisher.put(SERVICE, slot.key, machine)
        ctx.publisher.emit(transitions)
        await self._read_waiting(run, slot, machine, source, priority)

    def apply_event(self, run: TargetRun, slot: MachineSlot, event: PushEvent) -> str | None:
        """Lay a pushed execution status change over the executions last listed and publish what changed
        (source `push`), without a read. Returns what is left to read, or None."""
        ctx = self._ctx
        publisher = ctx.publisher
        if slot.reading:
            slot.keep_pushed(ctx.mono(), event)
        old = slots.told(publisher, slot.key)
        if old is None or old.read_at is None:
            # Not listed yet: that listing tells nothing (no change), so the event is told as it is, once.
            if slot.marks.newer(execution_item(event), event_order(event)):
                wave = ctx.waves.for_state_machine(slot.summary.name)
                transition = told_alone(event, run.target.name, ctx.now(), wave, slot.summary.name)
                if transition is not None:
                    publisher.emit([transition])
            return NOT_READ
        new = apply_execution_event(old, event, slot.marks, keep=EXECUTIONS_LISTED)
        if new is not None:
            transitions = state_machine_transitions(old, new, ctx.now(), "push")
            self._history.born({t.execution for t in transitions if t.from_status is None and t.execution})
            publisher.put(SERVICE, slot.key, new)
            ended = {e.arn for e in new.executions if not e.is_running}
            waiting = publisher.approvals.get(slot.key, ())
            if any(a.execution in ended for a in waiting):
                publisher.approvals[slot.key] = tuple(a for a in waiting if a.execution not in ended)
            self._history.settle(new)
            publisher.emit(transitions)
        if old.approval_states and event.state == "RUNNING":
            return HISTORIES  # no event says when a task starts waiting for a token: only its history does
        return None

    async def read_waiting(self, run: TargetRun, slot: MachineSlot) -> None:
        """Read what is new in the histories of the running executions that may wait for a person (asked
        after an event; errors are recorded on the state machine, as a poll's)."""
        machine = slots.shown(self._ctx.publisher).get(slot.key)
        if machine is None or not machine.approval_states:
            return
        await self._read_waiting(run, slot, machine, "push", URGENT)

    def _pushed_since(self, slot: MachineSlot, machine: StateMachine, sent: float) -> StateMachine:
        """The listing with the events that came while it was on the wire laid over it again, those newer
        than what it shows of their execution: a listing never takes back what an event told."""
        for arrived, event in slot.pushed or ():
            if arrived < sent:
                continue
            listed = next((e for e in machine.executions if e.arn == event.execution_arn), None)
            if listed is None or event_order(event) > listed_order(listed):
                machine = apply_execution_event(machine, event, None, keep=EXECUTIONS_LISTED) or machine
        if not slot.reading:
            slot.pushed = None
        return machine

    async def _read_waiting(
        self, run: TargetRun, slot: MachineSlot, machine: StateMachine, source: str, priority: Priority
    ) -> None:
        """Read new history events of running executions that may wait for a person's token."""
        publisher = self._ctx.publisher
        if machine.approval_states:
            for execution in machine.executions:
                if not execution.is_running:
                    continue
                try:
                    await self._history.read(run, machine, execution, source, priority)
                except AwsError as exc:
                    publisher.resource_failed(run, slot, exc)
        # Executions that ended: nothing more to read for them (unless someone watches one in detail).
        self._history.settle(machine)
        self.held_approvals(slot, machine)

    def held_approvals(self, slot: MachineSlot, machine: StateMachine) -> None:
        """The approvals inbox's entries of this state machine, from the histories held (read by this console,
        or shared by another of the team)."""
        approvals: list[Approval] = []
        if machine.approval_states:
            for execution in machine.executions:
                events = self.waiting_events(slot, execution)
                if events:
                    approvals.extend(
                        execution_approvals(machine, execution, events, slot.timeouts, slot.branches, self._ctx.waves)
                    )
        self._ctx.publisher.approvals[slot.key] = tuple(approvals)
        self._ctx.publisher.publish_soon()

    def waiting_events(self, slot: MachineSlot, execution: Execution) -> Sequence[HistoryEvent]:
        """The history of a running execution as far as this run knows it: what it read (or a teammate shared),
        else where the warm-start cache said it waited for a person (until its history is read)."""
        if not execution.is_running:
            slot.cached_waits.pop(execution.arn, None)
            return ()
        cursor = self._history.cursor(execution.arn)
        if cursor is not None and cursor.events:
            slot.cached_waits.pop(execution.arn, None)
            return cursor.events
        return slot.cached_waits.get(execution.arn, ())


def _keep_described(old: StateMachine | None, listed: Execution) -> Execution:
    """ListExecutions has no input/output/error: keep what DescribeExecution said while nothing changed."""
    if old is None:
        return listed
    before = next((e for e in old.executions if e.arn == listed.arn), None)
    if before is None or before.status != listed.status:
        return listed
    if before.input is None and before.output is None and before.error is None and before.cause is None:
        return listed
    return before
