"""The watcher against a sandbox over HTTP: transitions in order through every wave, approvals, history.

One sandbox for this module, running a small fleet where nothing fails by chance (tests/core/
test_watch_support.py). Tests wait on the watcher's own updates with deadlines; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.codepipeline.model import pipelines_of
from console.sandbox_process import SandboxProcess, start_sandbox_process
from console.stepfunctions.model import state_machines_of
from tests.conftest import SPEED, make_client, unique
from tests.core.test_watch_support import HOSTILE, REGION, WAVE_STAGES, watching, write_watch_fleet

TARGET = f"sandbox/{REGION}"


@pytest.fixture(scope="module")
def fleet_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    directory: Path = write_watch_fleet(tmp_path_factory.mktemp("watch-fleet"))
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=False, definitions=directory) as process:
        yield process


async def call(client: Any, method: str, **params: Any) -> Any:
    """A boto3 call off the event loop, so the watcher keeps running while the test acts."""
    return await asyncio.to_thread(getattr(client, method), **params)


async def test_a_run_through_every_wave_gives_ordered_transitions(fleet_sandbox: SandboxProcess) -> None:
    codepipeline = make_client(fleet_sandbox.url, "codepipeline")
    async with watching(fleet_sandbox.url, push=False) as (watcher, updates, gateway):
        ready = await watcher.wait_ready(30)
        key = f"{TARGET}:orders-api"
        assert key in pipelines_of(ready)
        assert updates.transitions == []  # the first read is not a change
        watcher.focus([key])
        started = await call(codepipeline, "start_pipeline_execution", name="orders-api")
        execution_id = started["pipelineExecutionId"]

        def finished() -> bool:
            return any(
                t.kind == "pipeline-execution" and t.execution == execution_id and t.to_status == "Succeeded"
                for t in updates.transitions
            )

        await updates.until(finished, 60, "orders-api to succeed")
        seen = [t for t in updates.transitions if t.execution == execution_id]

    assert {t.target for t in seen} == {TARGET}
    assert {t.source for t in seen} == {"poll"}
    assert seen[0].kind == "pipeline-execution"
    assert seen[0].from_status is None
    assert seen[0].to_status == "InProgress"
    assert seen[-1].kind == "pipeline-execution"
    assert seen[-1].to_status == "Succeeded"
    times = [t.time for t in seen]
    assert times == sorted(times)

    stages = [t for t in seen if t.kind == "stage"]
    succeeded = [t.resource.split("/")[1] for t in stages if t.to_status == "Succeeded"]
    assert succeeded == WAVE_STAGES
    # Each stage starts after the one before it has succeeded, and ends after it started.
    position = {(t.resource, t.to_status): i for i, t in enumerate(seen) if t.kind == "stage"}
    for before, after in zip(WAVE_STAGES, WAVE_STAGES[1:], strict=False):
        done = position[(f"orders-api/{before}", "Succeeded")]
        assert done < position[(f"orders-api/{after}", "Succeeded")]
        began = position.get((f"orders-api/{after}", "InProgress"))
        if began is not None:
            assert done < began
    # Waves on every stage and action transition, as the wave model says.
    waves = {t.resource.split("/")[1]: t.wave.name if t.wave else None for t in seen if t.kind != "pipeline-execution"}
    assert waves == {
        "Source": None,
        "Build": None,
        "Alpha": "alpha",
        "Beta": "beta",
        "Gamma": "gamma",
        "Prod-Canary": "prod-canary",
        "Prod-AZ1": "prod-az1",
        "Prod-AZ2": "prod-az2",
    }
    # Every action of every stage went to Succeeded, each after its stage started and before it ended.
    for stage in WAVE_STAGES:
        actions = [t for t in seen if t.kind == "action" and t.resource.startswith(f"orders-api/{stage}/")]
        assert actions
        assert actions[-1].to_status == "Succeeded"
        assert seen.index(actions[-1]) < position[(f"orders-api/{stage}", "Succeeded")]
    # GetPipeline once (the structure is cached by version); executions listed only on changes.
    assert gateway.stats.requests["GetPipeline"] == len(pipelines_of(ready))
    assert gateway.stats.requests["ListPipelineExecutions"] < gateway.stats.requests["GetPipelineState"]


async def test_a_manual_approval_is_in_the_inbox_until_answered(fleet_sandbox: SandboxProcess) -> None:
    codepipeline = make_client(fleet_sandbox.url, "codepipeline")
    resource = "gated-api/Prod-Canary/ApproveProduction"
    async with watching(fleet_sandbox.url) as (watcher, updates, _):
        await watcher.wait_ready(30)
        watcher.focus([f"{TARGET}:gated-api"])
        started = await call(codepipeline, "start_pipeline_execution", name="gated-api")
        execution_id = started["pipelineExecutionId"]

        def waiting() -> Any:
            return next((a for a in updates.state.approvals if a.resource == resource), None)

        approval = await updates.until(waiting, 30, "the approval to wait")
        assert approval.kind == "codepipeline"
        assert approval.target == TARGET
        assert approval.execution == execution_id
        assert approval.custom_data == "Promote [bold]this[/] revision?"
        assert approval.url == "https://wiki.example.com/runbooks/promotion"
        assert approval.wave is not None
        assert approval.wave.name == "prod-canary"
        assert approval.since is not None
        assert approval.expires is not None
        assert (approval.expires - approval.since).total_seconds() == 2 * 3600
        assert approval.revision is not None
        assert approval.revision.revision_id
        told = [t for t in updates.transitions if t.resource == resource]
        assert told[-1].detail.startswith("waiting for approval")

        state = await call(codepipeline, "get_pipeline_state", name="gated-api")
        canary = next(s for s in state["stageStates"] if s["stageName"] == "Prod-Canary")
        token = next(a for a in canary["actionStates"] if a["actionName"] == "ApproveProduction")["latestExecution"]
        await call(
            codepipeline,
            "put_approval_result",
            pipelineName="gated-api",
            stageName="Prod-Canary",
            actionName="ApproveProduction",
            result={"summary": "ok", "status": "Approved"},
            token=token["token"],
        )
        await updates.until(lambda: waiting() is None, 30, "the approval to leave the inbox")
        await updates.until(
            lambda: any(t.execution == execution_id and t.to_status == "Succeeded" for t in updates.transitions),
            30,
            "gated-api to succeed",
        )


async def test_a_task_token_wait_is_in_the_inbox_and_history_is_read_once(fleet_sandbox: SandboxProcess) -> None:
    sfn = make_client(fleet_sandbox.url, "stepfunctions")
    machine_arn = next(
        m["stateMachineArn"]
        for m in (await call(sfn, "list_state_machines"))["stateMachines"]
        if m["name"] == "wave-deployment"
    )
    responses: list[list[int]] = []
    requests: list[dict[str, Any]] = []

    def seen_request(params: dict[str, Any], **_: Any) -> None:
        requests.append(dict(params))

    def seen_response(parsed: dict[str, Any], **_: Any) -> None:
        responses.append([int(e["id"]) for e in parsed.get("events", ())])

    hooks = (
        ("provide-client-params.states.GetExecutionHistory", seen_request),
        ("after-call.states.GetExecutionHistory", seen_response),
    )
    async with watching(fleet_sandbox.url, hooks=hooks) as (watcher, updates, gateway):
        await watcher.wait_ready(30)
        machine_key = f"{TARGET}:wave-deployment"
        assert state_machines_of(watcher.state)[machine_key].approval_states == ("ApprovePromotion",)
        watcher.focus([machine_key])
        name = unique("deploy")
        document = {"service": "orders", "revision": "c0ffee1234", "seed": 1}  # seed 1: the canary stays green
        started = await call(sfn, "start_execution", stateMachineArn=machine_arn, name=name, input=json.dumps(document))
        arn = started["executionArn"]
        watcher.watch_execution(TARGET, arn)

        def waiting() -> Any:
            return next((a for a in updates.state.approvals if a.execution == arn), None)

        approval = await updates.until(waiting, 30, "the execution to wait for a person")
        assert approval.kind == "stepfunctions"
        assert approval.resource == f"wave-deployment/{name}"
        assert approval.state_name == "ApprovePromotion"
        assert approval.custom_data == "Promote this revision from prod-az1 to prod-az2?"
        assert approval.revision is not None
        assert approval.revision.revision_id == "c0ffee1234"
        assert approval.since is not None
        assert approval.expires is not None
        assert (approval.expires - approval.since).total_seconds() == 7200

        # The watcher holds the history with the task token redacted; the token is only in AWS's own answer.
        scheduled = next(e for e in watcher.history(arn) if e.type == "TaskScheduled")
        assert scheduled.parameters is not None
        assert json.loads(scheduled.parameters)["MessageBody"]["taskToken"] == "‹task token›"
        raw = (await call(sfn, "get_execution_history", executionArn=arn))["events"]
        raw_scheduled = next(e for e in raw if e["type"] == "TaskScheduled")
        token = json.loads(raw_scheduled["taskScheduledEventDetails"]["parameters"])["MessageBody"]["taskToken"]
        await call(sfn, "send_task_success", taskToken=token, output="{}")
        await updates.until(lambda: waiting() is None, 30, "the approval to leave the inbox")
        await updates.until(
            lambda: any(e.type == "ExecutionSucceeded" for e in watcher.history(arn)), 30, "the end in the history"
        )
        history = watcher.history(arn)

        def described() -> Any:
            found = [e for e in state_machines_of(updates.state)[machine_key].executions if e.arn == arn]
            return found and found[0].status == "SUCCEEDED" and found[0].output is not None and found[0]

        # DescribeExecution's output, kept over ListExecutions' summary of the same status.
        execution = await updates.until(described, 30, "the execution to be described as succeeded")
        states = [t for t in updates.transitions if t.kind == "sfn-state" and t.execution == arn]
        history_calls = gateway.stats.requests["GetExecutionHistory"]
        wire_events = gateway.stats.history_events
        # Nothing is read for an execution that has ended.
        await watcher.refresh()
        assert gateway.stats.requests["GetExecutionHistory"] == history_calls

    assert [e.id for e in history] == list(range(1, len(history) + 1))
    assert execution.status == "SUCCEEDED"
    # Every state told once, in the order the execution went through them, with the wait for a person.
    entered = [e.state_name for e in history if e.type.endswith("StateEntered")]
    assert "ApprovePromotion" in entered
    assert entered[-1] == "Deployed"
    assert [t.to_status for t in states if t.from_status != t.to_status] == entered
    waits = [t for t in states if t.from_status == t.to_status == "ApprovePromotion"]
    assert [t.detail for t in waits] == ["waiting for a person: Promote this revision from prod-az1 to prod-az2?"]
    # Incremental: newest first, and each read stops at the last event already held; an event already
    # held can come back only as the overlap of the one page that reaches back to it.
    assert requests
    assert all(r["reverseOrder"] is True for r in requests)
    held = 0
    overlap = 0
    for ids in responses:
        if not ids:
            continue
        repeated = [i for i in ids if i <= held]
        assert repeated == sorted(repeated, reverse=True)
        assert not repeated or max(repeated) == held  # never further back than the newest held event
        overlap += len(repeated)
        held = max(held, max(ids))
    assert held == len(history)
    assert wire_events == len(history) + overlap
    assert overlap <= history_calls * 25


async def test_hostile_text_passes_through_unaltered(fleet_sandbox: SandboxProcess) -> None:
    codepipeline = make_client(fleet_sandbox.url, "codepipeline")
    async with watching(fleet_sandbox.url) as (watcher, updates, _):
        await watcher.wait_ready(30)
        key = f"{TARGET}:hostile-api"
        watcher.focus([key])
        started = await call(codepipeline, "start_pipeline_execution", name="hostile-api")
        execution_id = started["pipelineExecutionId"]

        def failed() -> Any:
            return next(
                (
                    t
                    for t in updates.transitions
                    if t.execution == execution_id and t.kind == "action" and t.to_status == "Failed"
                ),
                None,
            )

        transition = await updates.until(failed, 30, "the hostile action to fail")
        state = await call(codepipeline, "get_pipeline_state", name="hostile-api")
        beta = next(s for s in state["stageStates"] if s["stageName"] == "Beta")
        tests = next(a for a in beta["actionStates"] if a["actionName"] == "Tests")
        # AWS (and the sandbox) cut an error message at 5,000 characters; the rest is as the action said it.
        said = tests["latestExecution"]["errorDetails"]["message"]

        def message() -> str | None:
            return pipelines_of(updates.state)[key].stage("Beta").actions[1].error_message  # type: ignore[union-attr]

        # The failure may be told from its event (its code and summary) before the read that brings AWS's
        # error message: that read follows.
        await updates.until(lambda: message() == said, 30, "the error message")
    assert len(said) == 5000
    assert HOSTILE.startswith(said)
    told = transition.detail.partition(": ")[2]
    assert len(told) >= 2000
    assert HOSTILE.startswith(told)
    assert json.loads(json.dumps(transition.to_json()))["detail"] == transition.detail


def structured(pipeline: Any) -> bool:
    return all(action.category for stage in pipeline.stages for action in stage.actions)


async def test_a_read_that_changes_nothing_shares_the_picture_before(fleet_sandbox: SandboxProcess) -> None:
    # Whoever still holds the picture before (a screen, an update not drawn yet) shares it with the new one, not
    # a second copy of its stages and executions (codepipeline.model.reusing).
    key = f"{TARGET}:ledger-api"
    async with watching(fleet_sandbox.url, push=False) as (watcher, updates, _):
        await watcher.wait_ready(30)
        # Laid over its structure (GetPipeline gives every action its category): a picture of the state alone,
        # before the structure is read, is not the one a read that changes nothing would share.
        first = await updates.until(
            lambda: (p := pipelines_of(updates.state).get(key)) and p.stages and structured(p) and p, 30, key
        )
        again = await updates.until(
            lambda: (p := pipelines_of(updates.state)[key]).read_at != first.read_at and p, 30, "ledger-api read again"
        )
    assert again is not first
    assert again.stages == first.stages
    assert again.stages is first.stages
