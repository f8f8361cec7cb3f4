"""Executions run stage by stage and action by action (runOrder), and every read shows them as AWS does."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from console.sandbox.fleet.definitions import load_fleet
from console.sandbox.seed import pipeline_structure
from tests.conftest import unique, wait_until
from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    CALLER,
    action,
    action_runs,
    action_state,
    approval,
    create,
    created,
    delete_created_pipelines,
    error_of,
    execution,
    source,
    stage,
    stage_state,
    stage_status,
    start,
    status,
    wait_status,
    wait_token,
)


def test_actions_run_by_run_order_and_stages_in_turn(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage(
            "Build",
            action("Compile", SandboxDuration="3"),
            action("Lint", SandboxDuration="1"),
            action("Package", run_order=2, SandboxDuration="1"),
        ),
        stage("Deploy", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
    )
    execution_id = start(cp, name)
    # moto alone reports Succeeded at once; the engine runs it.
    assert status(cp, name, execution_id) == "InProgress"
    assert wait_status(cp, name, execution_id) == "Succeeded"

    runs = {run["actionName"]: run for run in action_runs(cp, name, execution_id)}
    assert list(runs) == ["Source", "Compile", "Lint", "Package", "Deploy"]
    # Same runOrder: started together. Next runOrder: when the last of them ended. Next stage: right after.
    assert runs["Compile"]["startTime"] == runs["Lint"]["startTime"] == runs["Source"]["lastUpdateTime"]
    assert runs["Lint"]["lastUpdateTime"] < runs["Compile"]["lastUpdateTime"]
    assert runs["Package"]["startTime"] == runs["Compile"]["lastUpdateTime"]
    assert runs["Deploy"]["startTime"] == runs["Package"]["lastUpdateTime"]
    assert all(run["status"] == "Succeeded" for run in runs.values())

    detail = execution(cp, name, execution_id)
    assert detail["trigger"] == {"triggerType": "StartPipelineExecution", "triggerDetail": CALLER}
    assert (detail["executionMode"], detail["executionType"], detail["pipelineVersion"]) == ("QUEUED", "STANDARD", 1)
    revision = detail["artifactRevisions"][0]
    assert revision["name"] == "SourceOutput"
    assert len(revision["revisionId"]) == 40

    for stage_name in ("Source", "Build", "Deploy"):
        assert stage_status(cp, name, stage_name) == (execution_id, "Succeeded")
    source_state = action_state(cp, name, "Source", "Source")
    assert source_state["currentRevision"]["revisionId"] == revision["revisionId"]
    assert source_state["latestExecution"]["externalExecutionId"] == revision["revisionId"]
    deploy = action_state(cp, name, "Deploy", "Deploy")["latestExecution"]
    assert deploy["actionExecutionId"] == runs["Deploy"]["actionExecutionId"]
    assert deploy["externalExecutionId"].startswith("d-")
    assert deploy["summary"] == "Deployment succeeded"


def test_a_failed_action_fails_its_stage_once_the_others_end(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage(
            "Test",
            action("Unit", SandboxDuration="1", SandboxOutcome="Failed", SandboxError="3 of 148 tests failed"),
            action("Slow", SandboxDuration="20"),
            action("Later", run_order=2, SandboxDuration="1"),
        ),
        stage("Deploy", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
    )
    execution_id = start(cp, name)
    wait_until(lambda: (action_state(cp, name, "Test", "Unit").get("latestExecution") or {}).get("status") == "Failed")
    # The other action of the same runOrder still runs; the stage has not failed yet.
    assert stage_status(cp, name, "Test") == (execution_id, "InProgress")
    assert wait_status(cp, name, execution_id) == "Failed"

    detail = execution(cp, name, execution_id)
    assert detail["statusSummary"] == "Stage Test failed: action Unit: 3 of 148 tests failed"
    unit = action_state(cp, name, "Test", "Unit")["latestExecution"]
    assert unit["errorDetails"] == {"code": "JobFailed", "message": "3 of 148 tests failed"}
    assert action_state(cp, name, "Test", "Slow")["latestExecution"]["status"] == "Succeeded"
    assert "latestExecution" not in action_state(cp, name, "Test", "Later")
    assert stage_status(cp, name, "Deploy") == (None, None)
    failed = [run for run in action_runs(cp, name, execution_id) if run["status"] == "Failed"]
    assert failed[0]["output"]["executionResult"]["errorDetails"]["message"] == "3 of 148 tests failed"


def test_list_pipeline_executions_is_newest_first_and_pages(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="1")))
    ids = [start(cp, name) for _ in range(3)]
    for execution_id in ids:
        wait_status(cp, name, execution_id, "Succeeded")

    first = cp.list_pipeline_executions(pipelineName=name, maxResults=2)
    assert [s["pipelineExecutionId"] for s in first["pipelineExecutionSummaries"]] == [ids[2], ids[1]]
    second = cp.list_pipeline_executions(pipelineName=name, maxResults=2, nextToken=first["nextToken"])
    assert [s["pipelineExecutionId"] for s in second["pipelineExecutionSummaries"]] == [ids[0]]
    assert "nextToken" not in second

    summary = second["pipelineExecutionSummaries"][0]
    assert summary["status"] == "Succeeded"
    assert summary["trigger"]["triggerType"] == "StartPipelineExecution"
    assert (summary["executionMode"], summary["executionType"]) == ("QUEUED", "STANDARD")
    assert summary["sourceRevisions"][0]["actionName"] == "Source"
    assert summary["startTime"] <= summary["lastUpdateTime"]
    assert "stopTrigger" not in summary
    assert "rollbackMetadata" not in summary

    code, _ = error_of(lambda: cp.list_pipeline_executions(pipelineName=name, nextToken="bm90LWFuLWlk"))
    assert code == "InvalidNextTokenException"


def test_list_action_executions_filters_by_execution_and_pages(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage("Build", action("Build", SandboxDuration="1", ProjectName="shop-build", Flavour="#{variables.flavour}")),
        variables={"flavour": "vanilla"},
    )
    first = start(cp, name)
    second = start(cp, name, flavour="mint")
    wait_status(cp, name, second, "Succeeded")

    everything = cp.list_action_executions(pipelineName=name)["actionExecutionDetails"]
    assert [d["pipelineExecutionId"] for d in everything] == [second, second, first, first]
    build = cp.list_action_executions(pipelineName=name, filter={"pipelineExecutionId": second})[
        "actionExecutionDetails"
    ][0]
    assert (build["stageName"], build["actionName"], build["status"]) == ("Build", "Build", "Succeeded")
    assert build["input"]["actionTypeId"] == {
        "category": "Build",
        "owner": "AWS",
        "provider": "CodeBuild",
        "version": "1",
    }
    assert build["input"]["configuration"]["Flavour"] == "#{variables.flavour}"
    assert build["input"]["resolvedConfiguration"]["Flavour"] == "mint"
    assert build["input"]["inputArtifacts"][0]["name"] == "SourceOutput"
    result = build["output"]["executionResult"]
    assert result["externalExecutionId"].startswith("shop-build:")
    assert result["externalExecutionSummary"] == "Build succeeded"
    assert "shop-build" in result["externalExecutionUrl"]

    page = cp.list_action_executions(pipelineName=name, maxResults=3)
    assert len(page["actionExecutionDetails"]) == 3
    rest = cp.list_action_executions(pipelineName=name, maxResults=3, nextToken=page["nextToken"])
    assert [d["actionExecutionId"] for d in rest["actionExecutionDetails"]] == [everything[3]["actionExecutionId"]]

    code, _ = error_of(
        lambda: cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": "00000000-0000-4000-8000-000000000000"}
        )
    )
    assert code == "PipelineExecutionNotFoundException"


def test_unknown_pipelines_and_executions_are_refused(aws: Any) -> None:
    cp = aws("codepipeline")
    missing = unique("no-such-pipeline")
    for call in (
        lambda: cp.get_pipeline_state(name=missing),
        lambda: cp.start_pipeline_execution(name=missing),
        lambda: cp.list_pipeline_executions(pipelineName=missing),
        lambda: cp.list_action_executions(pipelineName=missing),
        lambda: cp.get_pipeline_execution(
            pipelineName=missing, pipelineExecutionId="0" * 8 + "-0000-4000-8000-" + "0" * 12
        ),
    ):
        code, message = error_of(call)
        assert code == "PipelineNotFoundException"
        assert missing in message
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="1")))
    code, message = error_of(
        lambda: cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId="11111111-1111-4111-8111-111111111111")
    )
    assert code == "PipelineExecutionNotFoundException"
    assert "11111111" in message


def test_get_pipeline_state_of_a_pipeline_that_never_ran(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build")), mode="SUPERSEDED")
    state = cp.get_pipeline_state(name=name)
    assert (state["pipelineName"], state["pipelineVersion"]) == (name, 1)
    assert state["created"] <= state["updated"]
    build = state["stageStates"][1]
    assert build == {
        "stageName": "Build",
        "inboundTransitionState": {"enabled": True},
        "actionStates": [{"actionName": "Build"}],
    }


def test_list_pipelines_shows_type_and_execution_mode(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build")), mode="SUPERSEDED")
    pipelines = {p["name"]: p for p in cp.get_paginator("list_pipelines").paginate().build_full_result()["pipelines"]}
    assert (pipelines[name]["pipelineType"], pipelines[name]["executionMode"]) == ("V2", "SUPERSEDED")
    assert (pipelines["checkout-api"]["executionMode"], pipelines["catalog-service"]["executionMode"]) == (
        "QUEUED",
        "SUPERSEDED",
    )
    first = cp.list_pipelines(maxResults=2)
    assert len(first["pipelines"]) == 2
    assert first["nextToken"]


def test_update_cancels_executions_in_flight_and_delete_forgets_the_pipeline(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="400")))
    execution_id = start(cp, name)
    wait_until(lambda: stage_status(cp, name, "Build") == (execution_id, "InProgress"))

    structure = cp.get_pipeline(name=name)["pipeline"]
    structure["stages"][1]["actions"][0]["configuration"]["SandboxDuration"] = "1"
    assert cp.update_pipeline(pipeline=structure)["pipeline"]["version"] == 2
    assert wait_status(cp, name, execution_id) == "Cancelled"
    assert action_state(cp, name, "Build", "Build")["latestExecution"]["status"] == "Abandoned"
    assert stage_status(cp, name, "Build") == (execution_id, "Cancelled")

    after = start(cp, name)
    assert wait_status(cp, name, after) == "Succeeded"
    assert execution(cp, name, after)["pipelineVersion"] == 2
    assert cp.get_pipeline_state(name=name)["pipelineVersion"] == 2

    running = start(cp, name)
    cp.delete_pipeline(name=name)
    assert error_of(lambda: cp.get_pipeline_state(name=name))[0] == "PipelineNotFoundException"
    create_again = copy.deepcopy(structure)
    create_again.pop("version", None)
    cp.create_pipeline(pipeline=create_again)
    assert cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"] == []
    assert error_of(lambda: execution(cp, name, running))[0] == "PipelineExecutionNotFoundException"


def test_the_bundled_fleet_moves_through_its_waves(aws: Any) -> None:
    cp = aws("codepipeline")
    execution_id = start(cp, "catalog-service")
    wait_until(
        lambda: stage_status(cp, "catalog-service", "Alpha")[0] == execution_id,
        what="catalog-service's run to reach Alpha",
    )
    assert stage_status(cp, "catalog-service", "Source") == (execution_id, "Succeeded")


@pytest.mark.slow
def test_a_bundled_pipeline_shape_runs_through_every_wave(aws: Any) -> None:
    """checkout-api's stages and durations, outcomes forced to success: Source to Prod-AZ2, with its approval."""
    fleet = load_fleet()
    pipeline = fleet.pipeline("checkout-api")
    assert pipeline is not None
    structure = pipeline_structure(pipeline, fleet)
    structure["name"] = unique("checkout-shape")
    definitions = {(s.name, a.name): a for s in pipeline.stages for a in s.actions}
    for stage_structure in structure["stages"]:
        for action_structure in stage_structure["actions"]:
            definition = definitions[(stage_structure["name"], action_structure["name"])]
            action_structure["configuration"]["SandboxDuration"] = f"{definition.duration:g}"
            action_structure["configuration"]["SandboxOutcome"] = "Succeeded"
    cp = aws("codepipeline")
    cp.create_pipeline(pipeline=structure)
    name = structure["name"]
    created(cp, name)
    waves = [s.name for s in pipeline.stages]
    assert waves == ["Source", "Build", "Alpha", "Beta", "Gamma", "Prod-Canary", "Prod-AZ1", "Prod-AZ2"]

    execution_id = start(cp, name)
    token = wait_token(cp, name, "Prod-Canary", "ApproveProduction")
    for before in waves[:5]:
        assert stage_status(cp, name, before) == (execution_id, "Succeeded")
    assert stage_status(cp, name, "Prod-AZ1") == (None, None)
    approval_state = action_state(cp, name, "Prod-Canary", "ApproveProduction")
    assert approval_state["entityUrl"] == "https://wiki.example.com/runbooks/production-promotion"
    cp.put_approval_result(
        pipelineName=name,
        stageName="Prod-Canary",
        actionName="ApproveProduction",
        result={"summary": "Gamma is green", "status": "Approved"},
        token=token,
    )
    assert wait_status(cp, name, execution_id, timeout=30) == "Succeeded"

    runs = action_runs(cp, name, execution_id)
    order: list[str] = []
    for run in sorted(runs, key=lambda r: r["startTime"]):
        if run["stageName"] not in order:
            order.append(run["stageName"])
    assert order == waves
    for wave in waves:
        assert stage_status(cp, name, wave) == (execution_id, "Succeeded")
    assert all(state["stageName"] for state in cp.get_pipeline_state(name=name)["stageStates"])
    assert stage_state(cp, name, "Prod-AZ2")["actionStates"][1]["latestExecution"]["status"] == "Succeeded"


def test_the_source_revision_of_a_start_can_be_overridden(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Approve", approval()))
    execution_id = cp.start_pipeline_execution(
        name=name,
        sourceRevisions=[{"actionName": "Source", "revisionType": "COMMIT_ID", "revisionValue": "a" * 40}],
        clientRequestToken="same-request",
    )["pipelineExecutionId"]
    again = cp.start_pipeline_execution(name=name, clientRequestToken="same-request")["pipelineExecutionId"]
    assert again == execution_id
    summary = cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
    assert len(summary) == 1
    assert summary[0]["sourceRevisions"][0]["revisionId"] == "a" * 40
    code, message = error_of(
        lambda: cp.start_pipeline_execution(
            name=name, sourceRevisions=[{"actionName": "Build", "revisionType": "COMMIT_ID", "revisionValue": "b"}]
        )
    )
    assert code == "ValidationException"
    assert "Build" in message
