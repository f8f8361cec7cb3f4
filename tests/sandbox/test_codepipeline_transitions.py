"""Disabled inbound transitions hold executions; QUEUED and SUPERSEDED decide who waits and who goes."""

from __future__ import annotations

from typing import Any

from tests.conftest import wait_until
from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    CALLER,
    action,
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


def _pipeline(cp: Any, mode: str) -> str:
    return create(
        cp,
        source(),
        stage("Build", action("Build", SandboxDuration="1")),
        stage("Prod", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="#{variables.prod}")),
        mode=mode,
        variables={"prod": "1"},
    )


def _inbound(cp: Any, name: str, stage_name: str) -> list[str]:
    return [e["pipelineExecutionId"] for e in stage_state(cp, name, stage_name).get("inboundExecutions", [])]


def test_a_disabled_transition_holds_an_execution_until_it_is_enabled(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _pipeline(cp, "QUEUED")
    cp.disable_stage_transition(
        pipelineName=name, stageName="Prod", transitionType="Inbound", reason="Pause promotion (INC-42)"
    )
    transition = stage_state(cp, name, "Prod")["inboundTransitionState"]
    assert transition["enabled"] is False
    assert (transition["disabledReason"], transition["lastChangedBy"]) == ("Pause promotion (INC-42)", CALLER)
    assert transition["lastChangedAt"].timestamp() > 0

    execution_id = start(cp, name)
    wait_until(lambda: _inbound(cp, name, "Prod") == [execution_id], what="the run waiting at Prod")
    held = stage_state(cp, name, "Prod")
    assert held["inboundExecution"] == {"pipelineExecutionId": execution_id, "status": "InProgress", "type": "STANDARD"}
    assert "latestExecution" not in held
    assert stage_status(cp, name, "Build") == (execution_id, "Succeeded")
    assert status(cp, name, execution_id) == "InProgress"

    cp.enable_stage_transition(pipelineName=name, stageName="Prod", transitionType="Inbound")
    assert stage_status(cp, name, "Prod")[0] == execution_id
    assert "inboundExecution" not in stage_state(cp, name, "Prod")
    assert wait_status(cp, name, execution_id) == "Succeeded"
    transition = stage_state(cp, name, "Prod")["inboundTransitionState"]
    assert transition["enabled"] is True
    assert "disabledReason" not in transition
    assert transition["lastChangedBy"] == CALLER


def test_transition_errors(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _pipeline(cp, "QUEUED")

    def disable(reason: str, stage_name: str = "Prod", kind: str = "Inbound", pipeline: str = name) -> Any:
        return lambda: cp.disable_stage_transition(
            pipelineName=pipeline, stageName=stage_name, transitionType=kind, reason=reason
        )

    code, message = error_of(disable("needs_underscore"))
    assert code == "ValidationException"
    assert "regular expression pattern" in message
    assert r"[a-zA-Z0-9!@ \(\)\.\*\?\-]+" in message
    code, message = error_of(disable("a, b"))
    assert code == "ValidationException"
    code, message = error_of(disable("x" * 301))
    assert code == "ValidationException"
    assert "300" in message
    assert error_of(disable("fine", stage_name="Nope"))[0] == "StageNotFoundException"
    assert error_of(disable("fine", pipeline="no-such-pipe"))[0] == "PipelineNotFoundException"
    code, message = error_of(disable("fine", kind="Sideways"))
    assert code == "ValidationException"
    assert "Inbound, Outbound" in message
    code, message = error_of(disable("fine", kind="Outbound"))
    assert code == "ValidationException"
    assert "Inbound" in message
    assert error_of(disable("fine", stage_name="Source"))[0] == "ValidationException"
    code, _ = error_of(
        lambda: cp.enable_stage_transition(pipelineName=name, stageName="Nope", transitionType="Inbound")
    )
    assert code == "StageNotFoundException"
    # Nothing refused changed the transition.
    assert stage_state(cp, name, "Prod")["inboundTransitionState"] == {"enabled": True}


def test_queued_executions_enter_in_order(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _pipeline(cp, "QUEUED")
    cp.disable_stage_transition(pipelineName=name, stageName="Prod", transitionType="Inbound", reason="Hold")
    first = start(cp, name, prod="40")  # a second in Prod: time to see the second one wait for it
    wait_until(lambda: _inbound(cp, name, "Prod") == [first])
    second = start(cp, name)
    wait_until(lambda: _inbound(cp, name, "Prod") == [first, second], what="both runs queued at Prod")
    assert stage_state(cp, name, "Prod")["inboundExecution"]["pipelineExecutionId"] == first

    cp.enable_stage_transition(pipelineName=name, stageName="Prod", transitionType="Inbound")
    # One execution per stage: the first goes in, the second keeps waiting for it.
    assert stage_status(cp, name, "Prod") == (first, "InProgress")
    assert _inbound(cp, name, "Prod") == [second]
    assert wait_status(cp, name, first) == wait_status(cp, name, second) == "Succeeded"
    starts = {
        run["pipelineExecutionId"]: run["startTime"]
        for run in cp.list_action_executions(pipelineName=name)["actionExecutionDetails"]
        if run["stageName"] == "Prod"
    }
    assert starts[first] < starts[second]


def test_superseded_mode_replaces_the_waiting_execution(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _pipeline(cp, "SUPERSEDED")
    cp.disable_stage_transition(pipelineName=name, stageName="Prod", transitionType="Inbound", reason="Hold")
    first = start(cp, name)
    wait_until(lambda: _inbound(cp, name, "Prod") == [first])
    second = start(cp, name)
    wait_until(lambda: _inbound(cp, name, "Prod") == [second], what="the newer run to replace the older one")
    assert status(cp, name, first) == "Superseded"
    summary = cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"][1]
    assert (summary["pipelineExecutionId"], summary["status"]) == (first, "Superseded")
    assert second in summary["statusSummary"]

    cp.enable_stage_transition(pipelineName=name, stageName="Prod", transitionType="Inbound")
    assert wait_status(cp, name, second) == "Succeeded"
    assert stage_status(cp, name, "Prod") == (second, "Succeeded")
    assert status(cp, name, first) == "Superseded"
