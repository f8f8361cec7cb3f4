"""Step Functions as a source of deployments in the watcher: its state machines listed, their loops started.

A state machine listed for the first time gets a slot and its poll loop (`StateMachinePoller`); one that is no
longer listed loses both, and leaves the model; one deleted and created again under the same name starts
afresh. EXPRESS state machines are listed and never read further: Step Functions keeps no execution records
for them (ListExecutions, DescribeExecution and GetExecutionHistory do not apply), so the listing is the read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from console.model import StateMachine, StateMachineSummary
from console.polling.context import WatchContext
from console.polling.history import HistoryFollower
from console.polling.slots import MachineSlot, TargetRun, drop
from console.scheduler import URGENT
from console.stepfunctions.poller import StateMachinePoller
from console.warm_cache import CachedTarget


class StateMachineSource:
    """The state machines of each target: listed by discovery, seeded from the warm-start cache."""

    listing = "ListStateMachines"

    def __init__(self, context: WatchContext, history: HistoryFollower) -> None:
        self._ctx = context
        self.poller = StateMachinePoller(context, history)

    async def discover(self, run: TargetRun) -> None:
        async with run.gate.turn(self.listing, URGENT):
            machines = await run.reader.list_state_machines()
        self.sync(run, machines)

    def seed(self, run: TargetRun, cached: CachedTarget) -> int:
        ctx = self._ctx
        publisher = ctx.publisher
        self.sync(run, [m.summary for m in cached.machines])
        for machine in cached.machines:
            slot = run.machines.get(machine.summary.arn)
            if slot is None:
                continue
            if machine.detail is not None and machine.detail.created == machine.summary.created:
                self.poller.seed(slot, machine.detail)
            wave = ctx.waves.for_state_machine(machine.summary.name)
            publisher.machines[slot.key] = replace(machine.picture, target=run.target.name, wave=wave)
            publisher.cached.add(slot.key)
        return len(cached.machines)

    def sync(self, run: TargetRun, summaries: Sequence[StateMachineSummary]) -> None:
        ctx = self._ctx
        seen = set()
        now = ctx.now()
        for summary in summaries:
            seen.add(summary.arn)
            slot = run.machines.get(summary.arn)
            if slot is not None and slot.summary.created != summary.created:
                # Deleted and created again under the same name: start afresh.
                drop(run.machines.pop(summary.arn))
                slot = None
            key = f"{run.target.name}:{summary.name}"
            if slot is None:
                slot = MachineSlot(key=key, target=run.target.name, summary=summary)
                run.machines[summary.arn] = slot
                ctx.publisher.resources_changed()
                if summary.type == "EXPRESS":
                    slot.attempted = True
                else:
                    slot.task = asyncio.get_running_loop().create_task(
                        self.poller.loop(run, slot), name=f"state machine {key}"
                    )
            if summary.type == "EXPRESS":
                # Nothing to read beyond the listing, which is itself the read.
                ctx.publisher.put_machine(
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
        for arn in [a for a in run.machines if a not in seen]:
            slot = run.machines.pop(arn)
            drop(slot)
            ctx.publisher.forget_machine(slot.key)
            ctx.publisher.resources_changed()
