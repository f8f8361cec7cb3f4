"""Discovery: each target's pipelines and state machines listed every `intervals.lists`.

A resource listed for the first time gets a slot and its poll loop; one that is no longer listed loses
both, and leaves the model. A state machine deleted and created again under the same name starts afresh.
EXPRESS state machines are listed and never read further: Step Functions keeps no execution records for
them (ListExecutions, DescribeExecution and GetExecutionHistory do not apply), so the listing is the read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from console.codepipeline.poller import PipelinePoller
from console.errors import AwsError
from console.model import PipelineSummary, StateMachine, StateMachineSummary
from console.polling.context import WatchContext
from console.polling.slots import MachineSlot, PipelineSlot, Slot, TargetRun
from console.scheduler import URGENT, backoff
from console.stepfunctions.poller import StateMachinePoller

LOG = logging.getLogger(__name__)


class Discovery:
    """Lists each target, keeps one poll loop per listed resource, and asks who the console reads as."""

    def __init__(self, context: WatchContext, pipelines: PipelinePoller, machines: StateMachinePoller) -> None:
        self._ctx = context
        self._pipelines = pipelines
        self._machines = machines

    async def identify(self, run: TargetRun) -> None:
        # Who the console reads as, for the status bar; not needed for anything else, so one try is enough.
        try:
            async with run.gate.turn("GetCallerIdentity", URGENT):
                who = await run.reader.caller_identity()
        except AwsError:
            return
        except Exception:  # noqa: BLE001 - never let the status bar's nicety break watching
            LOG.exception("caller identity of %s", run.target.name)
            return
        self._ctx.publisher.set_status(run, identity=who.arn)

    def seed(
        self, run: TargetRun, pipelines: Sequence[PipelineSummary], machines: Sequence[StateMachineSummary]
    ) -> None:
        """Slots and poll loops for what the warm-start cache lists, before the target is listed (the
        listing then keeps them, or drops what is gone)."""
        self._sync_pipelines(run, pipelines)
        self._sync_machines(run, machines)

    async def loop(self, run: TargetRun) -> None:
        ctx = self._ctx
        publisher = ctx.publisher
        while True:
            try:
                async with run.gate.turn("ListPipelines", URGENT):
                    pipelines = await run.reader.list_pipelines()
                # Their reads start while the state machines are listed.
                self._sync_pipelines(run, pipelines)
                async with run.gate.turn("ListStateMachines", URGENT):
                    machines = await run.reader.list_state_machines()
            except AwsError as exc:
                run.list_failures += 1
                publisher.target_failed(run, exc)
                if not run.listed:
                    run.listed = True  # it tried: a target that is down must not hold up the others
                    publisher.check_ready()
            except Exception as exc:  # noqa: BLE001 - discovery must go on
                LOG.exception("listing %s", run.target.name)
                run.list_failures += 1
                publisher.target_failed(run, exc, "ListPipelines")
            else:
                run.list_failures = 0
                publisher.target_succeeded(run, "ListPipelines", "ListStateMachines")
                self._sync_machines(run, machines)
                run.listed = True
                publisher.check_ready()
                publisher.publish_soon()
            run.settle_list_waiters()
            delay = ctx.intervals.lists
            if run.list_failures:
                delay = backoff(ctx.intervals.focused, run.list_failures, ctx.intervals.lists)
            await run.list_wake.sleep(delay)

    def _sync_pipelines(self, run: TargetRun, summaries: Sequence[PipelineSummary]) -> None:
        seen = set()
        for summary in summaries:
            seen.add(summary.name)
            slot = run.pipelines.get(summary.name)
            if slot is None:
                key = f"{run.target.name}:{summary.name}"
                slot = PipelineSlot(key=key, target=run.target.name, summary=summary)
                run.pipelines[summary.name] = slot
                slot.task = asyncio.get_running_loop().create_task(
                    self._pipelines.loop(run, slot), name=f"pipeline {key}"
                )
                self._ctx.publisher.resources_changed()
            else:
                slot.summary = summary
        for name in [n for n in run.pipelines if n not in seen]:
            slot = run.pipelines.pop(name)
            drop(slot)
            self._ctx.publisher.forget_pipeline(slot.key)
            self._ctx.publisher.resources_changed()

    def _sync_machines(self, run: TargetRun, summaries: Sequence[StateMachineSummary]) -> None:
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
                        self._machines.loop(run, slot), name=f"state machine {key}"
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


def drop(slot: Slot) -> None:
    """End a resource's loop (and its background reads) and release whoever waits for its next read."""
    if slot.task is not None:
        slot.task.cancel()
    if isinstance(slot, PipelineSlot) and slot.enrichment is not None:
        slot.enrichment.cancel()
    slot.settle_waiters()
