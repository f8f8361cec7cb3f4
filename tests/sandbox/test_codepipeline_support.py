"""Helpers for the CodePipeline engine tests: pipelines made over HTTP, and reads of their state.

Every test creates its own pipeline with a unique name through CreatePipeline, using the engine's
`Sandbox*` configuration keys to say how long each action takes and how it ends. At the session's speed
(40) one definition second lasts 25 ms. The session sandbox is shared with the other test modules, so
`delete_created_pipelines` (an autouse fixture each module imports) deletes them after each test, runs in
flight and approvals waiting included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from console.sandbox.server_constants import ACCOUNT_ID, PIPELINE_ROLE
from tests.conftest import unique, wait_until

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/{PIPELINE_ROLE}"
CALLER = f"arn:aws:sts::{ACCOUNT_ID}:user/moto"  # moto's STS answer for credentials it did not issue
TERMINAL = ("Succeeded", "Failed", "Stopped", "Superseded", "Cancelled")

_created: list[tuple[Any, str]] = []  # (client, pipeline name) made by the test running now


@pytest.fixture(autouse=True)
def delete_created_pipelines() -> Iterator[None]:
    """Delete the pipelines a test created, so the shared sandbox does not keep running them."""
    yield
    while _created:
        client, name = _created.pop()
        try:
            client.delete_pipeline(name=name)
        except ClientError:  # the test deleted it itself
            pass


def action(
    name: str,
    category: str = "Build",
    provider: str = "CodeBuild",
    run_order: int = 1,
    **configuration: str,
) -> dict[str, Any]:
    """One action; `configuration` holds Sandbox* keys (SandboxDuration="2", SandboxOutcome="Failed"...)."""
    structure: dict[str, Any] = {
        "name": name,
        "actionTypeId": {"category": category, "owner": "AWS", "provider": provider, "version": "1"},
        "runOrder": run_order,
        "configuration": configuration,
    }
    if category == "Source":
        structure["outputArtifacts"] = [{"name": "SourceOutput"}]
    elif category != "Approval":
        structure["inputArtifacts"] = [{"name": "SourceOutput"}]
    return structure


def approval(name: str = "Approve", run_order: int = 1, **configuration: str) -> dict[str, Any]:
    return action(name, "Approval", "Manual", run_order, **configuration)


def source(duration: str = "1", namespace: str = "SourceVariables") -> dict[str, Any]:
    """A CodeConnections source stage whose action's output variables are `#{SourceVariables.*}`."""
    return {
        "name": "Source",
        "actions": [
            {
                **action(
                    "Source",
                    "Source",
                    "CodeStarSourceConnection",
                    FullRepositoryId="shop/test",
                    BranchName="main",
                    ConnectionArn=f"arn:aws:codeconnections:us-east-1:{ACCOUNT_ID}:connection/sandbox",
                    SandboxDuration=duration,
                ),
                "namespace": namespace,
            }
        ],
    }


def stage(name: str, *actions: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "actions": list(actions)}


def create(
    cp: Any,
    *stages: dict[str, Any],
    mode: str = "QUEUED",
    prefix: str = "cp-test",
    variables: dict[str, str] | None = None,
) -> str:
    """Create a V2 pipeline with a unique name over HTTP; returns its name."""
    name = unique(prefix)
    structure: dict[str, Any] = {
        "name": name,
        "roleArn": ROLE,
        "artifactStore": {"type": "S3", "location": "wavedeck-artifacts-us-east-1"},
        "stages": list(stages),
        "executionMode": mode,
        "pipelineType": "V2",
    }
    if variables:
        structure["variables"] = [{"name": k, "defaultValue": v} for k, v in variables.items()]
    cp.create_pipeline(pipeline=structure)
    _created.append((cp, name))
    return name


def created(cp: Any, name: str) -> None:
    """Delete a pipeline the test created by other means after the test, as `create` does."""
    _created.append((cp, name))


def start(cp: Any, name: str, **variables: str) -> str:
    kwargs: dict[str, Any] = {"name": name}
    if variables:
        kwargs["variables"] = [{"name": k, "value": v} for k, v in variables.items()]
    return str(cp.start_pipeline_execution(**kwargs)["pipelineExecutionId"])


def execution(cp: Any, name: str, execution_id: str) -> dict[str, Any]:
    return dict(cp.get_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id)["pipelineExecution"])


def status(cp: Any, name: str, execution_id: str) -> str:
    return str(execution(cp, name, execution_id)["status"])


def wait_status(cp: Any, name: str, execution_id: str, *wanted: str, timeout: float = 20.0) -> str:
    """Wait until the execution's status is one of `wanted` (default: any terminal status)."""
    wanted = wanted or TERMINAL
    return str(
        wait_until(
            lambda: (s := status(cp, name, execution_id)) in wanted and s,
            timeout=timeout,
            what=f"execution {execution_id} of {name} to be {' or '.join(wanted)}",
        )
    )


def stage_state(cp: Any, name: str, stage_name: str) -> dict[str, Any]:
    for state in cp.get_pipeline_state(name=name)["stageStates"]:
        if state["stageName"] == stage_name:
            return dict(state)
    raise AssertionError(f"{name} has no stage {stage_name}")


def action_state(cp: Any, name: str, stage_name: str, action_name: str) -> dict[str, Any]:
    for state in stage_state(cp, name, stage_name)["actionStates"]:
        if state["actionName"] == action_name:
            return dict(state)
    raise AssertionError(f"{name}/{stage_name} has no action {action_name}")


def stage_status(cp: Any, name: str, stage_name: str) -> tuple[str | None, str | None]:
    """(pipelineExecutionId, status) of the stage's latest execution."""
    latest = stage_state(cp, name, stage_name).get("latestExecution") or {}
    return latest.get("pipelineExecutionId"), latest.get("status")


def wait_token(cp: Any, name: str, stage_name: str, action_name: str = "Approve") -> str:
    """The token of the approval waiting in `stage_name`, once there is one."""

    def token() -> str | None:
        latest = action_state(cp, name, stage_name, action_name).get("latestExecution") or {}
        return latest.get("token") if latest.get("status") == "InProgress" else None

    return str(wait_until(token, what=f"an approval token in {name}/{stage_name}"))


def action_runs(cp: Any, name: str, execution_id: str) -> list[dict[str, Any]]:
    """Every action run of an execution, oldest first."""
    details = cp.list_action_executions(pipelineName=name, filter={"pipelineExecutionId": execution_id})
    return list(reversed(details["actionExecutionDetails"]))


def error_of(call: Callable[[], Any]) -> tuple[str, str]:
    """The AWS error code and message a call fails with."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error.get("Message", ""))


def test_support_pipelines_are_made_over_http(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="1")))
    stored = cp.get_pipeline(name=name)["pipeline"]
    assert [s["name"] for s in stored["stages"]] == ["Source", "Build"]
    assert stored["stages"][1]["actions"][0]["configuration"] == {"SandboxDuration": "1"}
