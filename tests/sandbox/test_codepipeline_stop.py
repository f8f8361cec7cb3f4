"""StopPipelineExecution: stop and wait lets running actions finish; abandon stops at once."""

from __future__ import annotations

from typing import Any

from tests.conftest import wait_until
from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    action,
    action_runs,
    action_state,
    create,
    delete_created_pipelines,
    error_of,
    source,
    stage,
    stage_state,
    stage_status,
    start,
    status,
    wait_status,
)


def _pipeline(cp: Any, build_seconds: str) -> str:
    return create(
        cp,
        source(),
        stage("Build", action("Build", SandboxDuration=build_seconds)),
        stage("Deploy", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
    )


def _in_build(cp: Any, name: str, execution_id: str) -> None:
    wait_until(lambda: stage_status(cp, name, "Build") == (execution_id, "InProgress"), what="the run in Build")


def _summary(cp: Any, name: str, execution_id: str) -> dict[str, Any]:
    summaries = cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
    return next(s for s in summaries if s["pipelineExecutionId"] == execution_id)


def test_stop_and_wait_lets_the_running_action_finish(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _pipeline(cp, "40")  # 1 s
    execution_id = start(cp, name)
    _in_build(cp, name, execution_id)
    answer = cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, reason="Bad commit")
    assert answer["pipelineExecutionId"] == execution_id
    assert status(cp, name, execution_id) == "Stopping"
    assert stage_status(cp, name, "Build") == (execution_id, "Stopping")
    assert _summary(cp, name, execution_id)["stopTrigger"] == {"reason": "Bad commit"}
    code, message = error_of(
        lambda: cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, abandon=False)
    )
    assert code == "DuplicatedStopRequestException"
    assert "abandon" in message

    assert wait_status(cp, name, execution_id) == "Stopped"
    assert action_state(cp, name, "Build", "Build")["latestExecution"]["status"] == "Succeeded"
    assert stage_status(cp, name, "Build") == (execution_id, "Stopped")
    assert stage_status(cp, name, "Deploy") == (None, None)
    assert _summary(cp, name, execution_id)["stopTrigger"] == {"reason": "Bad commit"}
    code, _ = error_of(lambda: cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id))
    assert code == "PipelineExecutionNotStoppableException"


def test_stop_and_abandon_stops_at_once(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _pipeline(cp, "400")
    execution_id = start(cp, name)
    _in_build(cp, name, execution_id)
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, abandon=True, reason="Abandon")
    assert status(cp, name, execution_id) == "Stopped"
    abandoned = action_state(cp, name, "Build", "Build")["latestExecution"]
    assert (abandoned["status"], abandoned["summary"]) == ("Abandoned", "Abandoned")
    assert stage_status(cp, name, "Build") == (execution_id, "Stopped")
    assert [run["status"] for run in action_runs(cp, name, execution_id)] == ["Succeeded", "Abandoned"]


def test_a_stop_and_wait_can_be_escalated_to_abandon(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _pipeline(cp, "400")
    execution_id = start(cp, name)
    _in_build(cp, name, execution_id)
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, abandon=False, reason="Wait")
    assert status(cp, name, execution_id) == "Stopping"
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, abandon=True, reason="Now")
    assert status(cp, name, execution_id) == "Stopped"
    assert action_state(cp, name, "Build", "Build")["latestExecution"]["status"] == "Abandoned"
    assert _summary(cp, name, execution_id)["stopTrigger"] == {"reason": "Now"}


def test_a_stopped_execution_frees_its_stage_and_a_waiting_one_can_be_stopped(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _pipeline(cp, "400")
    first = start(cp, name)
    _in_build(cp, name, first)
    second = start(cp, name)
    third = start(cp, name)
    wait_until(lambda: len(stage_state(cp, name, "Build").get("inboundExecutions", [])) == 2, what="two queued")
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=second)  # waiting: stopped at once
    assert status(cp, name, second) == "Stopped"
    inbound = stage_state(cp, name, "Build")["inboundExecutions"]
    assert [e["pipelineExecutionId"] for e in inbound] == [third]

    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=first, abandon=True)
    # The freed stage admits the next execution in the queue.
    assert stage_status(cp, name, "Build") == (third, "InProgress")
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=third, abandon=True)


def test_stop_errors(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _pipeline(cp, "1")
    unknown = "22222222-2222-4222-8222-222222222222"
    code, _ = error_of(lambda: cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=unknown))
    assert code == "PipelineExecutionNotFoundException"
    code, _ = error_of(lambda: cp.stop_pipeline_execution(pipelineName="no-such-pipe", pipelineExecutionId=unknown))
    assert code == "PipelineNotFoundException"
    execution_id = start(cp, name)
    code, message = error_of(
        lambda: cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, reason="r" * 201)
    )
    assert code == "ValidationException"
    assert "200" in message
    assert wait_status(cp, name, execution_id) == "Succeeded"
    code, _ = error_of(lambda: cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id))
    assert code == "PipelineExecutionNotStoppableException"
