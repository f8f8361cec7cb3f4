"""The watcher applies pushed events without reading, and reads what events lack once however many ask.

An in-memory fleet (tests/core/test_watch_fake.py) whose events queue the test fills: the reads it counts are
exactly the console's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from console.budget import Budget, Rate
from console.codepipeline.model import Action, PipelineState, PipelineSummary, Stage, pipelines_of
from console.config import Intervals
from console.model import QueueMessage, Target
from console.polling.push_routing import Rereads
from console.watch import FleetReader, Watcher
from console.waves import default_wave_model
from tests.core.test_watch_fake import MACHINE_ARN, FakeFleet
from tests.core.test_watch_support import Updates

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/wavedeck-events"
INTERVALS = Intervals(focused=0.05, background=0.2, lists=0.5, push_safety_net=60.0)
RUN = "11111111-2222-3333-4444-555555555555"


class PushedFleet(FakeFleet):
    """A fake target with an events queue the test puts EventBridge events in."""

    def __init__(self) -> None:
        super().__init__()
        self._target = Target(name="fake", region="us-east-1", events_queue=QUEUE)
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.listed = 0
        self.extra: list[str] = []  # pipelines listed from now on
        self._n = 0

    async def list_pipelines(self) -> Sequence[PipelineSummary]:
        self.listed += 1
        return tuple(PipelineSummary(name, version=1) for name in [*self.pipelines, *self.extra])

    async def get_pipeline_state(self, name: str, /) -> PipelineState:
        if name in self.extra:
            await self._enter(f"GetPipelineState:{name}")
            return PipelineState(name=name, version=1, stages=())
        return await super().get_pipeline_state(name)

    async def receive_messages(
        self, queue_url: str, /, wait_seconds: int = 20, max_messages: int = 10
    ) -> Sequence[QueueMessage]:
        if wait_seconds == 0 and self.queue.empty():
            return ()  # the first receive asks without waiting: the queue works
        bodies = [await self.queue.get()]
        while not self.queue.empty() and len(bodies) < max_messages:
            bodies.append(self.queue.get_nowait())
        out = []
        for body in bodies:
            self._n += 1
            out.append(QueueMessage(message_id=f"m{self._n}", receipt_handle=f"r{self._n}", body=body))
        return out

    def push(self, event_id: str, detail_type: str, time: datetime, **detail: Any) -> None:
        document = {
            "version": "0",
            "id": event_id,
            "detail-type": detail_type,
            "source": "aws.codepipeline",
            "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [],
            "detail": {"pipeline": "p", "execution-id": RUN, "version": 1.0, **detail},
        }
        self.queue.put_nowait(json.dumps(document))


STAGE = "CodePipeline Stage Execution State Change"
ACTION = "CodePipeline Action Execution State Change"


def fleet_with_one_pipeline() -> PushedFleet:
    fleet = PushedFleet()
    deploy = Action(name="Deploy", category="Deploy", provider="CodeDeploy", status="Succeeded")
    approve = Action(name="Approve", category="Approval", provider="Manual")
    fleet.pipelines["p"] = [
        Stage(name="Beta", status="Succeeded", execution_id="old", actions=(deploy,)),
        Stage(name="Gate", actions=(approve,)),
    ]
    return fleet


async def started(fleet: PushedFleet) -> tuple[Watcher, Updates]:
    readers: dict[str, FleetReader] = {fleet.target.name: fleet}
    watcher = Watcher(readers, default_wave_model(), INTERVALS)
    watcher._push.rereads = Rereads(delay=0.05, jitter=0.05)  # a test's moment, not a console's
    updates = Updates(watcher)
    await watcher.start()
    await watcher.wait_ready(10)
    await watcher.refresh()  # structure and executions read: what follows is only what events ask
    await updates.until(lambda: watcher.state.targets[0].push == "on", 5, "the queue to work")
    return watcher, updates


async def test_events_change_the_model_without_a_read_in_order_and_once() -> None:
    fleet = fleet_with_one_pipeline()
    watcher, updates = await started(fleet)
    try:
        reads = dict(fleet.calls)
        now = datetime.now(UTC)
        # Out of order, and the end twice (at-least-once): the start comes after its own end.
        fleet.push("e2", STAGE, now + timedelta(seconds=2), stage="Beta", state="SUCCEEDED")
        fleet.push("e2", STAGE, now + timedelta(seconds=2), stage="Beta", state="SUCCEEDED")
        fleet.push("e1", STAGE, now, stage="Beta", state="STARTED")
        fleet.push("e3", ACTION, now + timedelta(seconds=1), stage="Beta", action="Deploy", state="STARTED")
        await updates.until(
            lambda: any(t.resource.endswith("Deploy") and t.to_status == "InProgress" for t in updates.transitions),
            5,
            "the action's start",
        )
        stage_news = [t for t in updates.transitions if t.kind == "stage"]
        # The stage's news is the newest event's, told once: the older start and the repeat changed nothing.
        assert [(t.from_status, t.to_status, t.execution, t.source) for t in stage_news] == [
            (None, "Succeeded", RUN, "push")
        ]
        beta = pipelines_of(watcher.state)["fake:p"].stage("Beta")
        assert beta is not None
        assert (beta.status, beta.execution_id) == ("Succeeded", RUN)
        await asyncio.sleep(0.3)  # longer than any re-read's wait: none was asked for
        assert dict(fleet.calls) == reads
    finally:
        await watcher.stop()


async def test_many_events_that_need_a_read_make_one() -> None:
    fleet = fleet_with_one_pipeline()
    watcher, updates = await started(fleet)
    try:
        before = fleet.calls["GetPipelineState"]
        now = datetime.now(UTC)
        # The approval starts: no event carries its token, so it is read; more events meanwhile join that read.
        fleet.pipelines["p"][1] = replace(
            fleet.pipelines["p"][1],
            status="InProgress",
            execution_id=RUN,
            actions=(Action(name="Approve", status="InProgress", token="tok-1"),),
        )
        fleet.push("a1", ACTION, now, stage="Gate", action="Approve", state="STARTED", type={"category": "Approval"})
        for n in range(5):
            fleet.push(f"s{n}", STAGE, now + timedelta(seconds=n), stage="Nowhere", state="STARTED")
        await updates.until(lambda: bool(watcher.state.approvals), 5, "the approval with its token")
        await asyncio.sleep(0.3)
        assert fleet.calls["GetPipelineState"] - before == 1
        assert watcher._push.rereads.asked == 1
        assert watcher._push.rereads.joined >= 1
    finally:
        await watcher.stop()


async def test_an_event_for_a_pipeline_not_listed_lists_again_once() -> None:
    fleet = fleet_with_one_pipeline()
    watcher, updates = await started(fleet)
    try:
        listed = fleet.listed
        fleet.extra.append("new")
        now = datetime.now(UTC)
        for n in range(4):
            fleet.push(f"n{n}", STAGE, now, stage="Beta", state="STARTED", pipeline="new")
        await updates.until(lambda: "fake:new" in pipelines_of(watcher.state), 5, "the new pipeline")
        await asyncio.sleep(0.3)
        assert fleet.listed - listed == 1
    finally:
        await watcher.stop()


async def test_rereads_coalesce_and_spread() -> None:
    fired: list[float] = []
    loop = asyncio.get_running_loop()
    rereads = Rereads(delay=0.02, jitter=0.05)
    start = loop.time()
    for _ in range(10):
        rereads.ask("k", lambda: fired.append(loop.time()))
    await asyncio.sleep(0.15)
    assert len(fired) == 1
    assert 0.02 <= fired[0] - start <= 0.07 + 0.05
    assert (rereads.asked, rereads.joined) == (1, 9)
    rereads.ask("k", lambda: fired.append(loop.time()))  # after the read: a new one
    await asyncio.sleep(0.15)
    assert len(fired) == 2


async def test_the_safety_net_stretches_to_half_of_what_the_budget_allows() -> None:
    fleet = fleet_with_one_pipeline()
    for n in range(9):
        fleet.pipelines[f"q{n}"] = list(fleet.pipelines["p"])
    # Room for every first read at once, then one read every 10 s: ten pipelines' safety net at half of
    # that is 200 s, longer than the 60 s asked for.
    fleet.budget = Budget({"GetPipelineState": Rate(40, 0.1)})
    readers: dict[str, FleetReader] = {fleet.target.name: fleet}
    watcher = Watcher(readers, default_wave_model(), INTERVALS)
    updates = Updates(watcher)
    await watcher.start()
    try:
        await watcher.wait_ready(10)
        await updates.until(lambda: watcher.state.targets[0].push == "on", 5, "the queue to work")
        await updates.until(lambda: watcher.state.stale_after.get("fake:p") == 400, 5, "the stretched safety net")
    finally:
        await watcher.stop()


async def test_a_read_on_the_wire_when_an_event_came_never_takes_it_back() -> None:
    fleet = fleet_with_one_pipeline()
    watcher, updates = await started(fleet)
    try:
        fleet.gate, fleet.hang = asyncio.Event(), {"p"}
        reading = asyncio.get_running_loop().create_task(watcher.refresh(["fake:p"]))
        await updates.until(lambda: fleet.in_flight["GetPipelineState:p"] == 1, 5, "the read to be on the wire")
        # The stage moves on while the read is out; the read then answers what it saw before.
        fleet.push("e1", STAGE, datetime.now(UTC) + timedelta(seconds=1), stage="Beta", state="SUCCEEDED")
        await updates.until(
            lambda: any(t.kind == "stage" and t.execution == RUN for t in updates.transitions), 5, "the event"
        )
        fleet.gate.set()
        await reading
        beta = pipelines_of(watcher.state)["fake:p"].stage("Beta")
        assert beta is not None
        assert (beta.status, beta.execution_id) == ("Succeeded", RUN)
        # Told once, and never taken back to the older execution the read showed.
        assert [(t.execution, t.to_status) for t in updates.transitions if t.kind == "stage"] == [(RUN, "Succeeded")]
    finally:
        await watcher.stop()


async def test_an_event_for_a_pipeline_not_read_yet_is_told_as_it_is_once() -> None:
    fleet = fleet_with_one_pipeline()
    watcher, updates = await started(fleet)
    try:
        # A pipeline whose first read waits (in a large team the first reads wait for the shared budget): that
        # read tells nothing, so what the events announce meanwhile would otherwise never be shown.
        fleet.gate, fleet.hang = asyncio.Event(), {"new"}
        fleet.extra.append("new")
        await updates.until(lambda: fleet.in_flight["GetPipelineState:new"] == 1, 5, "the first read on the wire")
        now = datetime.now(UTC)
        result = {"external-execution-summary": "Deployment succeeded"}
        fleet.push("n2", ACTION, now + timedelta(seconds=2), pipeline="new", stage="Beta", action="Deploy",
                   state="SUCCEEDED", **{"execution-result": result})  # fmt: skip
        fleet.push("n1", ACTION, now, pipeline="new", stage="Beta", action="Deploy", state="STARTED")  # older: not told
        fleet.push("n3", STAGE, now + timedelta(seconds=3), pipeline="new", stage="Beta", state="SUCCEEDED")
        await updates.until(
            lambda: any(t.resource == "new/Beta" for t in updates.transitions), 5, "the stage's end, told"
        )
        fleet.gate.set()
        await updates.until(lambda: "fake:new" in pipelines_of(watcher.state), 5, "the first read")
        told = [
            (t.kind.value, t.resource, t.execution, t.from_status, t.to_status, t.detail, t.source)
            for t in updates.transitions
            if t.resource.startswith("new")
        ]
        assert told == [
            ("action", "new/Beta/Deploy", RUN, None, "Succeeded", "Deployment succeeded", "push"),
            ("stage", "new/Beta", RUN, None, "Succeeded", "", "push"),
        ]
        beta = next(t for t in updates.transitions if t.resource == "new/Beta")
        assert beta.wave is not None
        assert beta.wave.name == "beta"
    finally:
        await watcher.stop()


async def test_a_read_after_events_does_not_tell_an_action_again() -> None:
    fleet = fleet_with_one_pipeline()
    beta = fleet.pipelines["p"][0]
    fleet.pipelines["p"][0] = replace(beta, actions=(replace(beta.actions[0], action_execution_id="run-1"),))
    watcher, updates = await started(fleet)
    try:
        now = datetime.now(UTC)
        fleet.push("s1", STAGE, now, stage="Beta", state="STARTED")
        fleet.push("a1", ACTION, now + timedelta(seconds=1), stage="Beta", action="Deploy", state="STARTED")
        fleet.push("a2", ACTION, now + timedelta(seconds=2), stage="Beta", action="Deploy", state="SUCCEEDED")

        def deploy_news() -> list[tuple[str | None, str | None, str]]:
            return [
                (t.from_status, t.to_status, t.source) for t in updates.transitions if t.resource == "p/Beta/Deploy"
            ]

        await updates.until(lambda: len(deploy_news()) == 2, 5, "the action's run, told by its events")
        # AWS now shows that run, with the id no event carried: the same run, nothing new to tell.
        deploy = replace(beta.actions[0], status="Succeeded", action_execution_id="run-2", last_status_change=now)
        fleet.pipelines["p"][0] = replace(beta, status="Succeeded", execution_id=RUN, actions=(deploy,))
        await watcher.refresh(["fake:p"])
        shown = pipelines_of(watcher.state)["fake:p"].stage("Beta")
        assert shown is not None
        assert shown.actions[0].action_execution_id == "run-2"
        assert deploy_news() == [(None, "InProgress", "push"), ("InProgress", "Succeeded", "push")]
    finally:
        await watcher.stop()


async def test_a_failed_action_is_told_even_when_the_stage_is_retried_before_a_read() -> None:
    fleet = fleet_with_one_pipeline()
    watcher, updates = await started(fleet)
    try:
        now = datetime.now(UTC)
        fleet.push("a1", ACTION, now, stage="Beta", action="Deploy", state="STARTED")
        await updates.until(
            lambda: any(t.resource == "p/Beta/Deploy" for t in updates.transitions), 5, "the action's start"
        )
        # By the time anything reads the pipeline, the stage has been retried: the action runs again.
        beta = fleet.pipelines["p"][0]
        again = replace(beta.actions[0], status="InProgress", action_execution_id="run-2")
        fleet.pipelines["p"][0] = replace(beta, status="InProgress", execution_id=RUN, actions=(again,))
        result = {"error-code": "JobFailed", "external-execution-summary": "Deployment failed"}
        fleet.push("a2", ACTION, now + timedelta(seconds=1), stage="Beta", action="Deploy", state="FAILED",
                   **{"execution-result": result})  # fmt: skip
        await updates.until(
            lambda: any(t.to_status == "Failed" for t in updates.transitions), 5, "the failure, told by its event"
        )
        failure = next(t for t in updates.transitions if t.to_status == "Failed")
        assert (failure.resource, failure.from_status, failure.detail, failure.source) == (
            "p/Beta/Deploy",
            "InProgress",
            "JobFailed: Deployment failed",
            "push",
        )
    finally:
        await watcher.stop()


async def test_an_event_for_a_state_machine_not_listed_yet_is_told_as_it_is() -> None:
    fleet = fleet_with_one_pipeline()
    fleet.gate, fleet.hang = asyncio.Event(), {MACHINE_ARN}  # its first listing stays on the wire
    readers: dict[str, FleetReader] = {fleet.target.name: fleet}
    watcher = Watcher(readers, default_wave_model(), INTERVALS)
    updates = Updates(watcher)
    await watcher.start()
    try:
        await updates.until(lambda: watcher.state.targets[0].push == "on", 5, "the queue to work")
        await updates.until(lambda: fleet.in_flight[f"ListExecutions:{MACHINE_ARN}"] == 1, 5, "the first listing")
        arn = f"{MACHINE_ARN.replace('stateMachine', 'execution')}:run-1"
        started = int(datetime.now(UTC).timestamp() * 1000)
        detail = {
            "executionArn": arn,
            "stateMachineArn": MACHINE_ARN,
            "name": "run-1",
            "status": "FAILED",
            "startDate": started,
            "stopDate": started + 1000,
            "error": "States.Timeout",
            "cause": "late",
        }
        document = {
            "id": "x1",
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "time": "2026-11-26T09:16:38Z",
            "region": "us-east-1",
            "resources": [arn],
            "detail": detail,
        }
        fleet.queue.put_nowait(json.dumps(document))
        await updates.until(lambda: any(t.execution == arn for t in updates.transitions), 5, "the execution's end")
        told = [(t.kind.value, t.resource, t.from_status, t.to_status, t.detail, t.source) for t in updates.transitions]
        assert told == [("sfn-execution", "[b]m[/b]/run-1", None, "FAILED", "States.Timeout: late", "push")]
    finally:
        fleet.gate.set()
        await watcher.stop()
