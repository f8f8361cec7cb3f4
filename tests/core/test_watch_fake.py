"""The watcher's own rules on an in-memory fleet (no HTTP): text untouched, no overlapping reads, clean stop,
errors recorded and recovered from, focus and staleness, refresh.

The sandbox tests (test_watch.py, test_push.py, ...) show the watcher working against AWS's protocol; these
pin down what the sandbox cannot produce on demand, such as names no AWS service would accept.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from console.budget import Budget, Rate
from console.codepipeline.model import (
    Action,
    Pipeline,
    PipelineExecution,
    PipelineState,
    PipelineSummary,
    Stage,
    pipelines_of,
)
from console.config import Intervals
from console.errors import AccessDenied, AwsError, Unavailable
from console.model import FleetUpdate, Identity, QueueMessage, Target
from console.stepfunctions.model import (
    Execution,
    HistoryEvent,
    StateMachineDetail,
    StateMachineSummary,
    state_machines_of,
)
from console.watch import FleetReader, Watcher
from console.waves import default_wave_model
from tests.core.test_watch_support import HOSTILE, Updates

T0 = datetime(2025, 1, 1, tzinfo=UTC)
FAST = Intervals(focused=0.05, background=0.2, lists=0.5, push_safety_net=5.0)
HOSTILE_NAME = "[red]pipe[/]\x1b[2J" + "n" * 10_000
MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:[b]m[/b]"


class FakeFleet:
    """An in-memory target: pipelines whose state the test changes, and one state machine."""

    def __init__(self, name: str = "fake") -> None:
        self._target = Target(name=name, region="us-east-1")
        self.pipelines: dict[str, list[Stage]] = {}
        self.executions: dict[str, list[PipelineExecution]] = {}
        self.machine_executions: list[Execution] = []
        self.calls: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.most_in_flight: Counter[str] = Counter()
        self.gate: asyncio.Event | None = None  # when set up, reads of `hang` wait for it
        self.hang: set[str] = set()
        self.failure: AwsError | None = None
        self.budget: Budget | None = None  # when set, every read takes a token first, as the gateway does

    @property
    def target(self) -> Target:
        return self._target

    async def _enter(self, what: str) -> None:
        if self.budget is not None:
            await self.budget.acquire(what.split(":")[0])
        self.calls[what.split(":")[0]] += 1
        self.in_flight[what] += 1
        self.most_in_flight[what] = max(self.most_in_flight[what], self.in_flight[what])
        try:
            if self.gate is not None and what.split(":", 1)[1] in self.hang:
                await self.gate.wait()
            await asyncio.sleep(0)
            if self.failure is not None:
                raise self.failure
        finally:
            self.in_flight[what] -= 1

    async def list_pipelines(self) -> Sequence[PipelineSummary]:
        return tuple(PipelineSummary(name, version=1) for name in self.pipelines)

    async def get_pipeline(self, name: str, /) -> Pipeline:
        await self._enter(f"GetPipeline:{name}")
        stages = tuple(replace(s, status=None, execution_id=None) for s in self.pipelines[name])
        return Pipeline(target=self._target.name, name=name, version=1, stages=stages)

    async def get_pipeline_state(self, name: str, /) -> PipelineState:
        await self._enter(f"GetPipelineState:{name}")
        return PipelineState(name=name, version=1, stages=tuple(self.pipelines[name]))

    async def list_pipeline_executions(self, name: str, /, max_results: int = 25) -> Sequence[PipelineExecution]:
        await self._enter(f"ListPipelineExecutions:{name}")
        return tuple(self.executions.get(name, ()))

    async def list_state_machines(self) -> Sequence[StateMachineSummary]:
        return (StateMachineSummary(MACHINE_ARN, "[b]m[/b]"),)

    async def describe_state_machine(self, arn: str, /) -> StateMachineDetail:
        return StateMachineDetail(arn=arn, name="[b]m[/b]", type="STANDARD", definition_text="{}")

    async def list_executions(
        self, arn: str, /, status: str | None = None, max_results: int = 100
    ) -> Sequence[Execution]:
        await self._enter(f"ListExecutions:{arn}")
        return tuple(self.machine_executions)

    async def describe_execution(self, arn: str, /) -> Execution:
        return next(e for e in self.machine_executions if e.arn == arn)

    async def get_execution_history(
        self, arn: str, /, after_id: int = 0, page_size: int = 100
    ) -> Sequence[HistoryEvent]:
        return ()

    async def receive_messages(
        self, queue_url: str, /, wait_seconds: int = 20, max_messages: int = 10
    ) -> Sequence[QueueMessage]:
        return ()

    async def delete_messages(self, queue_url: str, receipts: Sequence[str], /) -> object:
        return ()

    async def caller_identity(self) -> Identity:
        return Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/[i]me[/i]", user_id="x")


def stages(status: str | None, execution: str | None, summary: str = "") -> list[Stage]:
    action = Action(name=HOSTILE_NAME, status=status, summary=summary, action_execution_id=execution)
    return [Stage(name="Beta\x1b[31m", status=status, execution_id=execution, actions=(action,))]


def make_watcher(fleet: FakeFleet, intervals: Intervals = FAST) -> tuple[Watcher, Updates]:
    readers: dict[str, FleetReader] = {fleet.target.name: fleet}
    watcher = Watcher(readers, default_wave_model(), intervals)
    return watcher, Updates(watcher)


async def test_names_and_texts_pass_through_untouched() -> None:
    fleet = FakeFleet()
    fleet.pipelines[HOSTILE_NAME] = stages("InProgress", "e1")
    fleet.executions[HOSTILE_NAME] = [PipelineExecution("e1", "InProgress", started=T0)]
    machine_execution = Execution(
        arn=f"{MACHINE_ARN.replace('stateMachine', 'execution')}:{HOSTILE_NAME}",
        name=HOSTILE_NAME,
        state_machine_arn=MACHINE_ARN,
        status="RUNNING",
        started=T0,
    )
    fleet.machine_executions = [machine_execution]
    watcher, updates = make_watcher(fleet)
    await watcher.start()
    try:
        ready = await watcher.wait_ready(5)
        key = f"fake:{HOSTILE_NAME}"
        assert pipelines_of(ready)[key].name == HOSTILE_NAME
        # States are shown first, executions listed behind them: wait for those before changing anything.
        await updates.until(lambda: pipelines_of(watcher.state)[key].executions, 5, "the executions")
        fleet.pipelines[HOSTILE_NAME] = stages("Failed", "e1", summary=HOSTILE)
        fleet.executions[HOSTILE_NAME] = [
            PipelineExecution("e1", "Failed", started=T0, status_summary=HOSTILE, stop_reason=HOSTILE)
        ]
        fleet.machine_executions = [replace(machine_execution, status="FAILED", error=HOSTILE, cause=HOSTILE)]
        await updates.until(lambda: len(updates.transitions) >= 4, 5, "the failure to be told")
        await updates.until(lambda: watcher.state.targets[0].identity is not None, 5, "the identity")
    finally:
        await watcher.stop()
    pipeline = pipelines_of(watcher.state)[key]
    assert pipeline.stages[0].name == "Beta\x1b[31m"
    assert pipeline.stages[0].actions[0].name == HOSTILE_NAME
    assert pipeline.stages[0].actions[0].summary == HOSTILE
    assert pipeline.executions[0].status_summary == HOSTILE
    machine = state_machines_of(watcher.state)["fake:[b]m[/b]"]
    assert machine.executions[0].name == HOSTILE_NAME
    assert machine.executions[0].cause == HOSTILE
    assert watcher.state.targets[0].identity == "arn:aws:iam::123456789012:user/[i]me[/i]"
    told = {(t.kind, t.resource): t for t in updates.transitions}
    assert told[("action", f"{HOSTILE_NAME}/Beta\x1b[31m/{HOSTILE_NAME}")].detail == HOSTILE
    assert told[("pipeline-execution", HOSTILE_NAME)].detail == f"{HOSTILE} · {HOSTILE}"
    assert told[("sfn-execution", f"[b]m[/b]/{HOSTILE_NAME}")].detail == f"{HOSTILE}: {HOSTILE}"


async def test_reads_of_one_resource_never_overlap() -> None:
    fleet = FakeFleet()
    for name in ("a", "b"):
        fleet.pipelines[name] = stages("Succeeded", "e0")
    watcher, updates = make_watcher(fleet)
    await watcher.start()
    try:
        await watcher.wait_ready(5)
        fleet.gate, fleet.hang = asyncio.Event(), {"a"}  # the next read of 'a' hangs until released
        await updates.until(lambda: fleet.in_flight["GetPipelineState:a"] == 1, 5, "a read of 'a' to hang")
        # Everything that could ask for another read of 'a' while one is in flight:
        for _ in range(5):
            watcher.focus(["fake:a"])
            watcher.focus([])
        refresh = asyncio.create_task(watcher.refresh(["fake:a"]))
        # Meanwhile 'b' is read again and again (background 0.2 s): time enough for a second read of 'a'.
        reads_of_b = fleet.calls["GetPipelineState"]
        await updates.until(lambda: fleet.calls["GetPipelineState"] >= reads_of_b + 4, 5, "reads of 'b'")
        assert fleet.in_flight["GetPipelineState:a"] == 1
        assert not refresh.done()
        reads = fleet.calls["GetPipelineState"]
        fleet.gate.set()
        fleet.gate = None
        async with asyncio.timeout(5):
            await refresh
        assert fleet.calls["GetPipelineState"] > reads
    finally:
        await watcher.stop()
    assert fleet.most_in_flight["GetPipelineState:a"] == 1
    assert fleet.most_in_flight["GetPipelineState:b"] == 1


async def test_stop_cancels_every_task() -> None:
    fleet = FakeFleet()
    fleet.pipelines["a"] = stages("Succeeded", "e0")
    before = asyncio.all_tasks()
    watcher, _ = make_watcher(fleet)
    await watcher.start()
    await watcher.wait_ready(5)
    watcher.watch_execution("fake", "arn:aws:states:us-east-1:1:execution:m:x")
    await watcher.stop()
    left = {t for t in asyncio.all_tasks() - before if not t.done()} - {asyncio.current_task()}
    assert left == set()


async def test_errors_are_recorded_and_the_target_recovers() -> None:
    fleet = FakeFleet()
    fleet.pipelines["a"] = stages("Succeeded", "e0")
    watcher, updates = make_watcher(fleet)
    await watcher.start()
    try:
        await watcher.wait_ready(5)
        fleet.failure = Unavailable("Could not connect to the endpoint URL", code="EndpointConnectionError")
        await updates.until(lambda: pipelines_of(watcher.state)["fake:a"].error is not None, 5, "the error")
        await updates.until(lambda: watcher.state.targets[0].error is not None, 5, "the target's error")
        failed_at = pipelines_of(watcher.state)["fake:a"].read_at
        assert failed_at is not None
        fleet.failure = None
        await updates.until(lambda: pipelines_of(watcher.state)["fake:a"].error is None, 5, "the recovery")
        # A read of another resource that failed a moment ago may say so once more; then it clears too.
        await updates.until(lambda: watcher.state.targets[0].error is None, 5, "the target's recovery")
    finally:
        await watcher.stop()
    assert watcher.state.targets[0].error is None
    recovered_at = pipelines_of(watcher.state)["fake:a"].read_at
    assert recovered_at is not None
    assert recovered_at > failed_at


async def test_focus_sets_the_interval_and_staleness() -> None:
    fleet = FakeFleet()
    fleet.pipelines["a"] = stages("Succeeded", "e0")
    fleet.pipelines["b"] = stages("Succeeded", "e0")
    intervals = Intervals(focused=0.05, background=30.0, lists=60.0, push_safety_net=60.0)
    watcher, updates = make_watcher(fleet, intervals)
    await watcher.start()
    try:
        await watcher.wait_ready(5)
        assert watcher.state.stale_after["fake:a"] == 60.0
        watcher.focus(["fake:a"])
        await updates.until(lambda: fleet.calls["GetPipelineState"] >= 12, 5, "focused reads")
        assert watcher.state.stale_after["fake:a"] == pytest.approx(0.1)
        assert watcher.state.stale_after["fake:b"] == 60.0
        # 'b' is in the background: read once at the start, then not for 30 s.
        assert fleet.calls["GetPipelineState"] - 1 >= 10
        await watcher.refresh(["fake:b"])
    finally:
        await watcher.stop()
    now = datetime.now(UTC)
    state = watcher.state
    assert not state.is_stale("fake:b", pipelines_of(state)["fake:b"].read_at, now)
    assert state.is_stale("fake:a", pipelines_of(state)["fake:a"].read_at, now + timedelta(seconds=1))


async def test_an_execution_does_not_end_before_its_last_stage() -> None:
    def two(beta: str, gamma: str | None) -> list[Stage]:
        return [
            Stage(name="Beta", status=beta, execution_id="e1"),
            Stage(name="Gamma", status=gamma, execution_id="e1" if gamma else None),
        ]

    fleet = FakeFleet()
    fleet.pipelines["a"] = two("InProgress", None)
    fleet.executions["a"] = [PipelineExecution("e1", "InProgress", started=T0)]
    watcher, updates = make_watcher(fleet)
    await watcher.start()
    try:
        await watcher.wait_ready(5)
        watcher.focus(["fake:a"])
        await updates.until(lambda: pipelines_of(watcher.state)["fake:a"].executions, 5, "the executions")
        # The list runs ahead of the state: the execution says Succeeded while its last stage still runs.
        fleet.executions["a"] = [PipelineExecution("e1", "Succeeded", started=T0)]
        fleet.pipelines["a"] = two("Succeeded", "InProgress")
        await updates.until(lambda: fleet.calls["ListPipelineExecutions"] >= 3, 5, "the list read again")
        assert pipelines_of(watcher.state)["fake:a"].executions[0].status == "InProgress"
        fleet.pipelines["a"] = two("Succeeded", "Succeeded")
        await updates.until(
            lambda: pipelines_of(watcher.state)["fake:a"].executions[0].status == "Succeeded", 5, "the end"
        )
    finally:
        await watcher.stop()
    told = [(t.kind, t.resource, t.to_status) for t in updates.transitions]
    assert told == [
        ("stage", "a/Beta", "Succeeded"),
        ("stage", "a/Gamma", "InProgress"),
        ("stage", "a/Gamma", "Succeeded"),
        ("pipeline-execution", "a", "Succeeded"),
    ]


async def test_a_screen_that_wants_more_than_its_share_slows_down_and_the_rest_is_still_read() -> None:
    fleet = FakeFleet()
    names = [f"p{i:02d}" for i in range(60)]
    for name in names:
        fleet.pipelines[name] = stages("Succeeded", "e0")
    # 20 on screen every 0.1 s (200/s) and 40 others every 0.5 s (80/s), in 40/s: each class gets half.
    intervals = Intervals(focused=0.1, background=0.5, lists=60.0, push_safety_net=60.0)
    fleet.budget = Budget({"GetPipelineState": Rate(5, 40)})
    watcher, updates = make_watcher(fleet, intervals)
    on_screen = {f"fake:{name}" for name in names[:20]}
    reads: dict[str, list[float]] = {}
    seen: dict[str, object] = {}
    loop = asyncio.get_running_loop()

    def record(update: FleetUpdate) -> None:
        for key, pipeline in pipelines_of(update.state).items():
            if pipeline.read_at is not None and seen.get(key) != pipeline.read_at:
                seen[key] = pipeline.read_at
                reads.setdefault(key, []).append(loop.time())

    watcher.subscribe(record)
    watcher.focus(on_screen)
    started = loop.time()
    await watcher.start()
    try:
        await watcher.wait_ready(5)
        window_start = loop.time()
        await updates.until(lambda: loop.time() - window_start > 5.0, 10, "five seconds of watching")
        window_end = loop.time()
        stale_after = dict(watcher.state.stale_after)
        sent = fleet.calls["GetPipelineState"]
    finally:
        await watcher.stop()
    assert sent <= 5 + 40 * (window_end - started) + 1
    # Degraded, not starved: the screen every 20 / 20 = 1 s, the others every 40 / 20 = 2 s.
    assert sorted(stale_after) == sorted([*(f"fake:{name}" for name in names), "fake:[b]m[/b]"])
    assert [stale_after[key] for key in sorted(on_screen)] == pytest.approx([2.0] * 20)
    others = [v for k, v in sorted(stale_after.items()) if k not in on_screen and k != "fake:[b]m[/b]"]
    assert others == pytest.approx([4.0] * 40)
    for key, times in reads.items():
        recent = [t for t in times if t >= window_start]
        expected = stale_after[key] / 2
        points = [max(t for t in times if t < window_start), *recent, window_end]
        assert max(b - a for a, b in zip(points, points[1:], strict=False)) <= 1.3 * expected + 0.3, key
        if key in on_screen:
            assert len(recent) >= 3, key
        else:
            assert len(recent) >= 2, key


async def test_a_new_execution_of_a_pipeline_off_screen_is_told_before_its_stages() -> None:
    # Off screen, the state is published at once and the executions are listed behind it: what the state
    # shows meanwhile is on the picture, but its news waits for the list, which tells the start first.
    fleet = FakeFleet()
    fleet.pipelines["a"] = stages("Succeeded", "e0")
    fleet.executions["a"] = [PipelineExecution("e0", "Succeeded", started=T0)]
    listing = asyncio.Event()
    listing.set()
    list_executions = fleet.list_pipeline_executions

    async def list_when_let(name: str, /, max_results: int = 25) -> Sequence[PipelineExecution]:
        await listing.wait()
        return await list_executions(name, max_results=max_results)

    fleet.list_pipeline_executions = list_when_let  # type: ignore[method-assign]
    watcher, updates = make_watcher(fleet)
    await watcher.start()
    try:
        await watcher.wait_ready(5)
        await updates.until(lambda: pipelines_of(watcher.state)["fake:a"].executions, 5, "the executions")
        listing.clear()
        fleet.executions["a"] = [
            PipelineExecution("e1", "InProgress", started=T0 + timedelta(minutes=1)),
            *fleet.executions["a"],
        ]
        fleet.pipelines["a"] = stages("InProgress", "e1")
        await updates.until(
            lambda: pipelines_of(watcher.state)["fake:a"].stages[0].execution_id == "e1", 5, "the stage running e1"
        )
        assert updates.transitions == []
        listing.set()
        await updates.until(lambda: len(updates.transitions) >= 3, 5, "the news")
    finally:
        await watcher.stop()
    told = [(t.kind, t.execution, t.to_status) for t in updates.transitions]
    assert told[:3] == [
        ("pipeline-execution", "e1", "InProgress"),
        ("stage", "e1", "InProgress"),
        ("action", "e1", "InProgress"),
    ]


class CopyingFleet(FakeFleet):
    """Each listing parses anew, as the gateway does: equal executions, new objects."""

    async def list_pipeline_executions(self, name: str, /, max_results: int = 25) -> Sequence[PipelineExecution]:
        return tuple(replace(e) for e in await super().list_pipeline_executions(name, max_results))


async def test_what_is_read_again_is_kept_once() -> None:
    # The picture reuses the executions it showed (codepipeline.model.reusing); the watcher keeps those, not the
    # listing's equal copies beside them. The last state and the picture merged from it hold the same statuses:
    # the slot keeps the picture's stages as its state (one set of stages and actions per pipeline, not two), and
    # reads go on as before.
    fleet = CopyingFleet()
    fleet.pipelines["a"] = stages("Succeeded", "e1")
    fleet.executions["a"] = [PipelineExecution("e1", "Succeeded", started=T0)]
    watcher, updates = make_watcher(fleet)
    key = "fake:a"
    await watcher.start()
    try:
        await watcher.wait_ready(5)
        first = await updates.until(lambda: pipelines_of(watcher.state)[key].executions, 5, "the executions")
        fleet.pipelines["a"] = stages("InProgress", "e2")
        fleet.executions["a"] = [PipelineExecution("e2", "InProgress", started=T0), *fleet.executions["a"]]
        await updates.until(lambda: len(pipelines_of(watcher.state)[key].executions) == 2, 5, "e2 listed")
        reads = fleet.calls["GetPipelineState"]
        await updates.until(lambda: fleet.calls["GetPipelineState"] >= reads + 2, 5, "two reads more")
        picture = pipelines_of(watcher.state)[key]
        (slot,) = (s for run in watcher._ctx.runs.values() for s in run.slots() if s.key == key)
        state = getattr(slot, "state", None)
    finally:
        await watcher.stop()
    assert picture.executions[1] is first[0]
    assert getattr(slot, "executions", None) is picture.executions
    assert picture.stages[0].status == "InProgress"
    assert state is not None
    assert state.stages is picture.stages
    assert fleet.calls["ListPipelineExecutions"] == 2  # the same state read again lists nothing again


class VersionedFleet(FakeFleet):
    """A pipeline whose structure changes: each version has its own stages."""

    def __init__(self) -> None:
        super().__init__()
        self.version = 1

    async def list_pipelines(self) -> Sequence[PipelineSummary]:
        return tuple(PipelineSummary(name, version=self.version) for name in self.pipelines)

    async def get_pipeline(self, name: str, /) -> Pipeline:
        return replace(await super().get_pipeline(name), version=self.version)

    async def get_pipeline_state(self, name: str, /) -> PipelineState:
        return replace(await super().get_pipeline_state(name), version=self.version)


async def test_an_action_removed_by_a_new_version_is_not_shown_again() -> None:
    # The state of version 2 is shown over version 1's structure until version 2's is read: what is kept of it
    # between reads must not take version 1's actions in as if they were read.
    fleet = VersionedFleet()

    def deploy(category: str, *names: str) -> list[Stage]:
        actions = tuple(Action(name=n, category=category, status="Succeeded", action_execution_id=n) for n in names)
        return [Stage(name="Deploy", status="Succeeded", execution_id="e1", actions=actions)]

    fleet.pipelines["a"] = deploy("Deploy", "Blue", "Green")
    watcher, updates = make_watcher(fleet)
    key = "fake:a"
    await watcher.start()
    try:
        await watcher.wait_ready(5)
        await updates.until(lambda: fleet.calls["GetPipeline"] == 1, 5, "version 1's structure")
        await updates.until(lambda: fleet.calls["GetPipelineState"] >= 2, 5, "a read over it")
        fleet.version, fleet.pipelines["a"] = 2, deploy("Build", "Blue")
        await updates.until(lambda: fleet.calls["GetPipeline"] == 2, 5, "version 2's structure")
        drawn = "drawn with version 2's structure"  # its category, before the next read
        await updates.until(lambda: pipelines_of(watcher.state)[key].stages[0].actions[0].category == "Build", 5, drawn)
        shown = pipelines_of(watcher.state)[key]
        calls = fleet.calls["GetPipelineState"]
        await updates.until(lambda: fleet.calls["GetPipelineState"] >= calls + 2, 5, "two reads more")
        picture = pipelines_of(watcher.state)[key]
    finally:
        await watcher.stop()
    assert [a.name for a in shown.stages[0].actions] == ["Blue"]
    assert [a.name for a in picture.stages[0].actions] == ["Blue"]


async def test_a_pipeline_keeps_its_whole_history_only_while_shown_in_detail() -> None:
    # Off the detail screen a pipeline keeps its newest executions, the one a stage shows and those running; shown
    # in detail, it is listed again and keeps every one listed; back in the list, the newest again.
    fleet = FakeFleet()
    runs = [f"e{n:02d}" for n in range(12, 0, -1)]  # newest first, as AWS lists them
    fleet.pipelines["a"] = stages("Succeeded", "e09")  # a stage still shows an older run
    fleet.executions["a"] = [
        PipelineExecution(run, "InProgress" if run == "e02" else "Succeeded", started=T0 + timedelta(minutes=n))
        for n, run in zip(range(12, 0, -1), runs, strict=True)
    ]
    watcher, updates = make_watcher(fleet)
    key = "fake:a"

    def shown() -> list[str]:
        return [e.id for e in pipelines_of(watcher.state)[key].executions]

    kept = ["e12", "e11", "e10", "e09", "e08", "e02"]
    await watcher.start()
    try:
        await watcher.wait_ready(5)
        await updates.until(lambda: shown() == kept, 5, "the newest, the stage's and the running one")
        listings = fleet.calls["ListPipelineExecutions"]
        watcher.focus([key], detail=key)
        await updates.until(lambda: shown() == runs, 5, "every listed execution, in detail")
        assert fleet.calls["ListPipelineExecutions"] == listings + 1
        watcher.focus([key])
        await updates.until(lambda: shown() == kept, 5, "the newest again, back in the list")
    finally:
        await watcher.stop()


class NoStructureFleet(FakeFleet):
    """GetPipeline is denied (a role without codepipeline:GetPipeline): the state still reads."""

    async def get_pipeline(self, name: str, /) -> Pipeline:
        await self._enter(f"GetPipeline:{name}")
        raise AccessDenied("not allowed", operation="GetPipeline", code="AccessDeniedException")


async def test_details_that_cannot_be_read_behind_a_state_are_told_on_the_pipeline() -> None:
    # The state is shown at once and its structure read behind it: when that read fails for good, the pipeline
    # says so (a failure of the background read is recorded unless a newer state came meanwhile).
    fleet = NoStructureFleet()
    fleet.pipelines["a"] = stages("Succeeded", "e1")
    watcher, updates = make_watcher(fleet)
    key = "fake:a"
    await watcher.start()
    try:
        await watcher.wait_ready(5)
        error = await updates.until(lambda: pipelines_of(watcher.state)[key].error, 5, "the error")
        picture = pipelines_of(watcher.state)[key]
    finally:
        await watcher.stop()
    assert "not allowed" in error
    assert picture.stages[0].status == "Succeeded"  # what the state read says is still shown
