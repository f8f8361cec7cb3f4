"""Step Functions as a source of deployments in the watcher: its state machines listed, their loops started.

A state machine listed for the first time gets a slot and its poll loop (`StateMachinePoller`); one that is no
longer listed loses both, and leaves the model; one deleted and created again under the same name starts
afresh. EXPRESS state machines are listed and never read further: Step Functions keeps no execution records
for them (ListExecutions, DescribeExecution and GetExecutionHistory do not apply), so the listing is the read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from console import cache_codec
from console.polling.context import WatchContext
from console.polling.rereads import Rereads
from console.polling.slots import TargetRun, drop
from console.push import PushEvent, state_machine_of
from console.scheduler import PUSH, REFRESH, URGENT
from console.stepfunctions import slots
from console.stepfunctions.history import HistoryFollower
from console.stepfunctions.model import SERVICE, HistoryEvent, StateMachine, StateMachineSummary
from console.stepfunctions.poller import NOT_READ, StateMachinePoller
from console.stepfunctions.slots import MachineSlot
from console.stepfunctions.waiting import waiting_chain
from console.warm_cache import CachedMachine, CachedTarget, CachedWait

LOG = logging.getLogger(__name__)


class StateMachineSource:
    """The state machines of each target: listed by discovery, seeded from the warm-start cache."""

    service = SERVICE
    events_from = "aws.states"
    listing = "ListStateMachines"
    reads = ("ListStateMachines", "ListExecutions", "DescribeStateMachine", "GetExecutionHistory")

    def __init__(self, context: WatchContext) -> None:
        self._ctx = context
        # The execution shown in detail, and the histories of those that may wait for a person.
        self._history = HistoryFollower(context)
        self.poller = StateMachinePoller(context, self._history)

    async def discover(self, run: TargetRun) -> None:
        async with run.gate.turn(self.listing, URGENT):
            machines = await slots.reader(run).list_state_machines()
        self.sync(run, machines)

    def seed(self, run: TargetRun, cached: CachedTarget) -> int:
        ctx = self._ctx
        publisher = ctx.publisher
        self.sync(run, [m.summary for m in cached.machines])
        for machine in cached.machines:
            slot = slots.slots(run).get(machine.summary.arn)
            if slot is None:
                continue
            if machine.detail is not None and machine.detail.created == machine.summary.created:
                self.poller.seed(slot, machine.detail)
            wave = ctx.waves.for_state_machine(machine.summary.name)
            picture = replace(machine.picture, target=run.target.name, wave=wave)
            slots.shown(publisher)[slot.key] = picture
            # What waited for a person then is in the inbox at once, stale like the picture (as a pipeline's
            # approvals are): its token was never cached; the gate reads the history when answering.
            slot.cached_waits = {w.execution: w.events for w in machine.waiting}
            if slot.cached_waits:
                self.poller.held_approvals(slot, picture)
            publisher.cached.add(slot.key)
        return len(cached.machines)

    def start(self) -> None:
        self._history.start()  # an execution asked for before start

    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        return self._history.tasks

    def refresh(self, keys: set[str] | None) -> None:
        watched = self._history.watched
        if watched is not None and (keys is None or watched.arn in keys):
            watched.wake.wake(REFRESH)

    def apply_shared(self, run: TargetRun, api: str, resource: str, payload: dict[str, Any], read_at: datetime) -> bool:
        """History events of an execution another console of the team read (`console/polling/team_reads.py`)."""
        if api != "GetExecutionHistory":
            return False
        slot = slots.slots(run).get(state_machine_of(resource) or "")
        if slot is None or slot.task is None:
            return False
        try:
            after = payload.get("after")
            listed = payload.get("events")
            if not isinstance(after, int) or not isinstance(listed, list):
                raise cache_codec.CodecError("no `after` and `events`")
            events = sorted((cache_codec.decode(HistoryEvent, e) for e in listed), key=lambda e: e.id)
        except cache_codec.CodecError as exc:
            LOG.info("a shared history of %s this console cannot read: %s", resource, exc)
            return False
        if not self._history.apply_shared(run, resource, after, events):
            return False
        machine = slots.shown(self._ctx.publisher).get(slot.key)
        if machine is not None:
            self.poller.held_approvals(slot, machine)
        return True

    def watch(self, target: str, execution: str | None) -> None:
        self._history.watch(target, execution)

    def history(self, execution: str) -> tuple[HistoryEvent, ...]:
        return self._history.history(execution)

    def snapshot(self, run: TargetRun, cached: CachedTarget) -> CachedTarget:
        pictures = slots.shown(self._ctx.publisher)
        machines = []
        for slot in slots.slots(run).values():
            shown = pictures.get(slot.key)
            if shown is None or shown.read_at is None:
                continue
            machines.append(
                CachedMachine(summary=slot.summary, detail=slot.detail, picture=shown, waiting=self._waits(slot, shown))
            )
        return replace(cached, machines=tuple(machines))

    def _waits(self, slot: MachineSlot, machine: StateMachine) -> tuple[CachedWait, ...]:
        """Where the running executions of `machine` wait for a person, for the cache: the events that place
        each open task-token state (the rest of their histories is not kept)."""
        if not machine.approval_states:
            return ()
        waits = []
        for execution in machine.executions:
            chain = waiting_chain(self.poller.waiting_events(slot, execution), slot.branches)
            if chain:
                waits.append(CachedWait(execution.arn, chain))
        return tuple(waits)

    def apply_event(self, run: TargetRun, event: PushEvent, rereads: Rereads) -> None:
        if not event.state_machine_arn:
            return
        if event.execution_arn is not None:
            self._history.wake(PUSH, event.execution_arn)  # the execution shown in detail, if it is this one
        machine = slots.slots(run).get(event.state_machine_arn)
        if machine is None:
            rereads.list_again(run)
            return
        if machine.task is None:
            return  # Express: Step Functions sends no events for it, and keeps nothing to read
        reread = self.poller.apply_event(run, machine, event)
        if reread == NOT_READ:
            rereads.ask(machine.key, partial(machine.wake.wake, PUSH))
        elif reread is not None:
            rereads.ask(f"{machine.key} histories", partial(self._read_waiting, run, machine))

    async def _read_waiting(self, run: TargetRun, slot: MachineSlot) -> None:
        try:
            await self.poller.read_waiting(run, slot)
        except Exception:  # noqa: BLE001 - its poll loop reads it again anyway
            LOG.exception("reading the histories of %s", slot.key)

    def sync(self, run: TargetRun, summaries: Sequence[StateMachineSummary]) -> None:
        ctx = self._ctx
        machines = slots.slots(run)
        seen = set()
        now = ctx.now()
        for summary in summaries:
            seen.add(summary.arn)
            slot = machines.get(summary.arn)
            if slot is not None and slot.summary.created != summary.created:
                # Deleted and created again under the same name: start afresh.
                drop(machines.pop(summary.arn))
                slot = None
            key = f"{run.target.name}:{summary.name}"
            if slot is None:
                slot = MachineSlot(key=key, target=run.target.name, summary=summary)
                machines[summary.arn] = slot
                ctx.publisher.resources_changed()
                if summary.type == "EXPRESS":
                    slot.attempted = True
                else:
                    slot.task = asyncio.get_running_loop().create_task(
                        self.poller.loop(run, slot), name=f"state machine {key}"
                    )
            if summary.type == "EXPRESS":
                # Nothing to read beyond the listing, which is itself the read.
                ctx.publisher.put(
                    self.service,
                    key,
                    StateMachine(
                        target=run.target.name,
                        arn=summary.arn,
                        name=summary.name,
                        type=summary.type,
                        wave=ctx.waves.for_state_machine(summary.name),
                        read_at=now,
                    ),
                )
        for arn in [a for a in machines if a not in seen]:
            slot = machines.pop(arn)
            drop(slot)
            ctx.publisher.forget(self.service, slot.key)
            ctx.publisher.resources_changed()
