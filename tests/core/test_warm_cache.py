"""The warm-start cache: the file round trip, what makes it discarded, and a second start against a sandbox.

The file tests need no sandbox; the start tests run two watchers one after the other against one sandbox
over HTTP, the second from what the first wrote.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.aws.codepipeline import pipeline_state, pipeline_structure
from console.codepipeline.approvals import pipeline_approvals
from console.codepipeline.model import Action, Pipeline, PipelineExecution, PipelineSummary, Stage, pipelines_of
from console.model import SourceRevision, Target
from console.sandbox_process import SandboxProcess, start_sandbox_process
from console.stepfunctions.model import (
    Execution,
    HistoryEvent,
    StateMachine,
    StateMachineDetail,
    StateMachineSummary,
    TaskTokenState,
    state_machines_of,
)
from console.warm_cache import (
    FORMAT,
    CachedMachine,
    CachedPipeline,
    CachedTarget,
    CachedWait,
    WarmCache,
    cache_home,
    without_secrets_pipeline,
)
from tests.conftest import SPEED, make_client, unique
from tests.core.test_watch_support import REGION, watching, write_watch_fleet
from tests.shapes import assert_output

TARGET = f"sandbox/{REGION}"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SECRET_TOKEN = "approval-token-0123456789abcdef"


def _target(endpoint: str = "http://127.0.0.1:4566") -> Target:
    return Target(name="prod/us-east-1", region="us-east-1", profile="prod", endpoint_url=endpoint)


def _pipeline(name: str, read_at: datetime) -> CachedPipeline:
    approval = Action(
        name="Approve",
        category="Approval",
        provider="Manual",
        configuration=(("CustomData", "Ship it?"),),
        status="InProgress",
        token=SECRET_TOKEN,
        external_execution_id=SECRET_TOKEN,
        last_status_change=read_at,
        timeout_minutes=120,
    )
    deploy = Action(name="Deploy", category="Deploy", provider="CodeDeploy", run_order=2)
    structure = Pipeline(
        target="prod/us-east-1",
        name=name,
        version=3,
        stages=(Stage(name="Prod", actions=(Action("Approve", "Approval", "Manual"), deploy)),),
    )
    picture = Pipeline(
        target="prod/us-east-1",
        name=name,
        version=3,
        execution_mode="QUEUED",
        stages=(Stage(name="Prod", status="InProgress", execution_id="e-1", actions=(approval, deploy)),),
        executions=(
            PipelineExecution(
                id="e-1",
                status="InProgress",
                started=read_at - timedelta(minutes=5),
                source_revisions=(SourceRevision("Source", "c0ffee", "fix: ünïcode"),),
            ),
        ),
        read_at=read_at,
        error="a failure of the last run",
    )
    return CachedPipeline(PipelineSummary(name, version=3, execution_mode="QUEUED"), structure, picture)


def _machine(read_at: datetime) -> CachedMachine:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:deploy"
    definition = {"StartAt": "Wait", "States": {"Wait": {"Type": "Task", "End": True}}}
    detail = StateMachineDetail(
        arn=arn,
        name="deploy",
        type="STANDARD",
        definition_text=json.dumps(definition),
        definition=definition,
        created=NOW - timedelta(days=3),
        revision_id="rev-7",
        task_token_states=(TaskTokenState("Wait", "arn:aws:states:::sqs:sendMessage.waitForTaskToken", (("T",),)),),
        states=("Wait",),
    )
    execution = Execution(
        arn=f"{arn}:run-1", name="run-1", state_machine_arn=arn, status="RUNNING", input='{"password": "hunter2"}'
    )
    picture = StateMachine(
        target="prod/us-east-1",
        arn=arn,
        name="deploy",
        executions=(execution,),
        read_at=read_at,
        approval_states=("Wait",),
    )
    scheduled = HistoryEvent(
        3,
        "TaskScheduled",
        NOW,
        2,
        resource="arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        parameters=json.dumps({"MessageBody": {"T": SECRET_TOKEN}}),
        timeout_seconds=3600,
    )
    waits = (
        HistoryEvent(2, "TaskStateEntered", NOW, 0, state_name="Wait", input='{"password": "hunter2"}'),
        scheduled,
    )
    summary = StateMachineSummary(arn, "deploy", created=NOW - timedelta(days=3))
    return CachedMachine(summary, detail, picture, waiting=(CachedWait(execution.arn, waits),))


def _fleet(count: int = 3) -> CachedTarget:
    pipelines = tuple(_pipeline(f"api-{i}", NOW - timedelta(minutes=i)) for i in range(count))
    return CachedTarget(written=NOW, pipelines=pipelines, machines=(_machine(NOW),))


def test_the_cache_lives_under_xdg_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert cache_home() == tmp_path / "c" / "wavedeck"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_home() == Path.home() / ".cache" / "wavedeck"


def test_written_and_read_back_without_secrets(tmp_path: Path) -> None:
    cache = WarmCache(tmp_path)
    target = _target()
    assert cache.load(target) is None  # no file yet: cold, silently
    written = cache.save(target, _fleet())
    assert written > 0
    assert [p.name for p in tmp_path.iterdir()] == [cache.path(target).name]  # no temporary file left
    text = cache.path(target).read_text(encoding="utf-8")
    assert SECRET_TOKEN not in text
    assert "hunter2" not in text

    loaded = cache.load(target)
    assert loaded is not None
    assert cache.warnings == []
    original = _fleet()
    assert loaded.written == original.written
    assert [p.summary for p in loaded.pipelines] == [p.summary for p in original.pipelines]
    assert [p.structure for p in loaded.pipelines] == [p.structure for p in original.pipelines]
    first = loaded.pipelines[0].picture
    action = first.stages[0].actions[0]
    assert action.token is None
    assert action.external_execution_id is None
    assert action.status == "InProgress"
    assert action.timeout_minutes == 120
    assert action.configuration == (("CustomData", "Ship it?"),)
    assert first.executions == original.pipelines[0].picture.executions
    assert first.read_at == original.pipelines[0].picture.read_at
    assert first.error is None  # this run's errors are this run's
    machine = loaded.machines[0]
    assert machine.detail == original.machines[0].detail
    assert machine.summary == original.machines[0].summary
    assert machine.picture.executions[0].input is None
    assert machine.picture.approval_states == ("Wait",)
    # Where the execution waited: the events, without parameters (the token) nor input.
    (wait,) = machine.waiting
    assert wait.execution == original.machines[0].waiting[0].execution
    assert [(e.id, e.type, e.previous_id, e.state_name, e.resource, e.timeout_seconds) for e in wait.events] == [
        (2, "TaskStateEntered", 0, "Wait", None, None),
        (3, "TaskScheduled", 2, None, "arn:aws:states:::sqs:sendMessage.waitForTaskToken", 3600),
    ]
    assert all(e.parameters is None and e.input is None for e in wait.events)

    # Another endpoint is another AWS: not this file.
    assert cache.load(_target("http://127.0.0.1:4567")) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # a half file (what atomic writes prevent)
        lambda text: "\x00\xff garbage",
        lambda text: text.replace('"name":"api-0"', '"name":7', 1),  # the wrong shape
        lambda text: json.dumps([1, 2, 3]),
    ],
    ids=["truncated", "garbage", "wrong-shape", "not-an-object"],
)
def test_a_corrupt_cache_is_discarded_with_a_warning(tmp_path: Path, damage: Any) -> None:
    cache = WarmCache(tmp_path)
    target = _target()
    cache.save(target, _fleet())
    path = cache.path(target)
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    assert cache.load(target) is None
    assert len(cache.warnings) == 1
    assert "discarded" in cache.warnings[0]
    assert not path.exists()


def test_a_cache_of_another_format_version_is_discarded(tmp_path: Path) -> None:
    cache = WarmCache(tmp_path)
    target = _target()
    cache.save(target, _fleet())
    path = cache.path(target)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == FORMAT
    document["format"] = FORMAT + 1
    path.write_text(json.dumps(document), encoding="utf-8")
    assert cache.load(target) is None
    assert "another version of wavedeck" in cache.warnings[0]


def test_the_cache_is_bounded_the_oldest_going_first(tmp_path: Path) -> None:
    big = WarmCache(tmp_path)
    target = _target()
    size = big.save(target, _fleet(40))
    # A bound that holds about half: the pipelines read longest ago are left out.
    small = WarmCache(tmp_path, bound=size // 2)
    assert 0 < small.save(target, _fleet(40)) <= size // 2
    kept = small.load(target)
    assert kept is not None
    names = [p.summary.name for p in kept.pipelines]
    assert 5 < len(names) < 40
    assert set(names) == {f"api-{i}" for i in range(len(names))}  # api-0 was read last, api-39 first
    # A file bigger than the bound (written with a larger one) is discarded when read.
    bounded = WarmCache(tmp_path, bound=100)
    assert bounded.load(target) is None
    assert "over the cache's bound" in bounded.warnings[0]
    # Across targets: the file written longest ago goes first.
    other = _target("http://127.0.0.1:4567")
    shared = WarmCache(tmp_path, bound=int(size * 1.5))
    shared.save(target, _fleet(40))
    shared.save(other, _fleet(40))
    assert not shared.path(target).exists()
    assert shared.path(other).exists()


def test_an_unwritable_directory_is_a_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    cache = WarmCache(blocker / "wavedeck")
    assert cache.save(_target(), _fleet()) == 0
    assert "not written" in cache.warnings[0]


# AWS's documented GetPipeline and GetPipelineState answers for a stage waiting at a manual approval (raw JSON:
# timestamps in epoch seconds), with a deploy action in progress beside it.
GET_PIPELINE = {
    "pipeline": {
        "name": "orders-api",
        "roleArn": "arn:aws:iam::111122223333:role/codepipeline-role",
        "version": 3,
        "stages": [
            {
                "name": "Prod-Canary",
                "actions": [
                    {
                        "name": "ApproveProduction",
                        "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"},
                        "runOrder": 1,
                        "configuration": {"CustomData": "Promote this revision?"},
                    },
                    {
                        "name": "DeployOneBox",
                        "actionTypeId": {
                            "category": "Deploy",
                            "owner": "AWS",
                            "provider": "CodeDeploy",
                            "version": "1",
                        },
                        "runOrder": 1,
                    },
                ],
            }
        ],
    }
}
GET_PIPELINE_STATE = {
    "pipelineName": "orders-api",
    "pipelineVersion": 3,
    "stageStates": [
        {
            "stageName": "Prod-Canary",
            "inboundTransitionState": {"enabled": True},
            "actionStates": [
                {
                    "actionName": "ApproveProduction",
                    "latestExecution": {
                        "actionExecutionId": "c1d2e3f4-5a6b-7c8d-9e0f-a1b2c3d4e5f6",
                        "status": "InProgress",
                        "lastStatusChange": 1772366400.0,
                        "token": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
                    },
                },
                {
                    "actionName": "DeployOneBox",
                    "latestExecution": {
                        "actionExecutionId": "d2e3f4a5-6b7c-8d9e-0f1a-b2c3d4e5f6a7",
                        "status": "InProgress",
                        "lastStatusChange": 1772366400.0,
                    },
                },
            ],
            "latestExecution": {"pipelineExecutionId": "42a4b6c8-1d3e-5f7a-9b0c-2d4e6f8a0b1c", "status": "InProgress"},
        }
    ],
    "created": 1772280000.0,
    "updated": 1772280000.0,
}


def test_a_waiting_approval_still_waits_once_the_cache_drops_its_token() -> None:
    assert_output("codepipeline", "GetPipeline", GET_PIPELINE)
    assert_output("codepipeline", "GetPipelineState", GET_PIPELINE_STATE)
    read = pipeline_state(GET_PIPELINE_STATE).apply_to(pipeline_structure(TARGET, GET_PIPELINE))
    (canary,) = read.stages
    approve, deploy = canary.actions
    assert approve.awaiting_approval
    assert approve.token == "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    assert not deploy.awaiting_approval  # in progress, no token, not an approval
    cached = without_secrets_pipeline(read)
    (canary,) = cached.stages
    approve, deploy = canary.actions
    assert approve.token is None
    assert approve.awaiting_approval  # category Approval, InProgress: waiting for a person, token or not
    assert canary.awaiting_approval is approve
    assert not deploy.awaiting_approval
    (listed,) = pipeline_approvals(cached)
    assert listed.resource == "orders-api/Prod-Canary/ApproveProduction"
    assert listed.custom_data == "Promote this revision?"
    assert pipeline_approvals(read) == [listed]


# --- Against a sandbox --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fleet_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    directory: Path = write_watch_fleet(tmp_path_factory.mktemp("warm-fleet"))
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as process:
        yield process


async def call(client: Any, method: str, **params: Any) -> Any:
    return await asyncio.to_thread(getattr(client, method), **params)


async def test_a_second_start_shows_the_cached_fleet_stale_and_sends_no_get_pipeline(
    fleet_sandbox: SandboxProcess, tmp_path: Path
) -> None:
    cache = WarmCache(tmp_path / "cache")
    codepipeline = make_client(fleet_sandbox.url, "codepipeline")
    sfn = make_client(fleet_sandbox.url, "stepfunctions")
    approval = "gated-api/Prod-Canary/ApproveProduction"
    tokens: list[str] = []

    async with watching(fleet_sandbox.url, push=False, cache=cache) as (watcher, updates, gateway):
        await watcher.wait_ready(30)
        assert gateway.stats.requests["GetPipeline"] == len(pipelines_of(watcher.state))  # cold: every structure
        # Something waits for a person on both services, with its token.
        watcher.focus([f"{TARGET}:gated-api", f"{TARGET}:wave-deployment"])
        await call(codepipeline, "start_pipeline_execution", name="gated-api")
        machine_arn = next(
            m["stateMachineArn"]
            for m in (await call(sfn, "list_state_machines"))["stateMachines"]
            if m["name"] == "wave-deployment"
        )
        document = {"service": "orders", "revision": "c0ffee1234", "seed": 1}
        started = await call(
            sfn, "start_execution", stateMachineArn=machine_arn, name=unique("deploy"), input=json.dumps(document)
        )
        watcher.watch_execution(TARGET, started["executionArn"])
        await updates.until(
            lambda: {a.kind for a in updates.state.approvals} >= {"codepipeline", "stepfunctions"},
            60,
            "an approval and a task token to wait",
        )
        first = watcher.state
        gated = pipelines_of(first)[f"{TARGET}:gated-api"]
        tokens += [a.token for s in gated.stages for a in s.actions if a.token]
        state = await call(codepipeline, "get_pipeline_state", name="gated-api")
        tokens += [
            a["latestExecution"]["token"]
            for s in state["stageStates"]
            for a in s.get("actionStates", ())
            if a.get("latestExecution", {}).get("token")
        ]
        history = await call(sfn, "get_execution_history", executionArn=started["executionArn"])
        tokens += [
            json.loads(e["taskScheduledEventDetails"]["parameters"])["MessageBody"]["taskToken"]
            for e in history["events"]
            if e["type"] == "TaskScheduled" and "taskToken" in e["taskScheduledEventDetails"]["parameters"]
        ]
    assert len(tokens) >= 2
    files = list((tmp_path / "cache").iterdir())
    assert len(files) == 1
    text = files[0].read_text(encoding="utf-8")
    assert "gated-api" in text
    assert "ApproveProduction" in text
    for token in tokens:
        assert token not in text

    # The second start: the whole fleet at once from the cache, stale until read, no GetPipeline.
    warm = WarmCache(tmp_path / "cache")
    async with watching(fleet_sandbox.url, push=False, cache=warm) as (watcher, updates, gateway):
        shown = await updates.until(
            lambda: next((u.state for u in updates.updates if pipelines_of(u.state)), None), 10, "the cached picture"
        )
        assert set(pipelines_of(shown)) == set(pipelines_of(first))
        assert set(state_machines_of(shown)) == set(state_machines_of(first))
        assert shown.cached == frozenset(pipelines_of(shown)) | frozenset(state_machines_of(shown))
        now = datetime.now(UTC)
        for key, pipeline in pipelines_of(shown).items():
            before = pipelines_of(first)[key]
            # Details included: every stage and action as the first run showed them.
            assert [(s.name, [a.name for a in s.actions]) for s in pipeline.stages] == [
                (s.name, [a.name for a in s.actions]) for s in before.stages
            ]
            assert pipeline.executions == before.executions or key.endswith("gated-api")
            assert shown.is_stale(key, pipeline.read_at, now)
        assert pipelines_of(shown)[f"{TARGET}:orders-api"].stages[-1].wave is not None  # waves placed again
        # The approval that waited is waiting at once, in the inbox too, though its token was never cached: a
        # target that cannot be reached must not hide it.
        waiting = pipelines_of(shown)[f"{TARGET}:gated-api"].stage("Prod-Canary")
        assert waiting is not None
        assert waiting.awaiting_approval is not None
        assert waiting.awaiting_approval.token is None
        assert [a.resource for a in shown.approvals if a.kind == "codepipeline"] == [approval]
        machine = state_machines_of(shown)[f"{TARGET}:wave-deployment"]
        assert machine.approval_states == ("ApprovePromotion",)
        assert shown.is_stale(machine.key, machine.read_at, now)

        ready = await watcher.wait_ready(30)
        assert gateway.stats.requests["GetPipeline"] == 0
        assert gateway.stats.requests["DescribeStateMachine"] == 0
        assert gateway.stats.requests["GetPipelineState"] >= len(pipelines_of(ready))
        await updates.until(lambda: not updates.state.cached, 10, "every cached resource to be read")
        now = datetime.now(UTC)
        assert not any(updates.state.is_stale(k, p.read_at, now) for k, p in pipelines_of(updates.state).items())
        # The approval came back with its token from the first read, and the first reads told nothing new.
        assert any(a.resource == approval for a in updates.state.approvals)
        assert [t for t in updates.transitions if t.resource.startswith("gated-api")] == []
