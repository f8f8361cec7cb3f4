"""Declared timeouts and variables behave as AWS documents them, for pipelines created through the API.

- An approval with `timeoutInMinutes` fails at that deadline (5 minutes, the least AWS allows, is 7.5 s at
  the test speed), not after the default 7 days.
- Source actions emit their provider's output variables; `#{SourceVariables.CommitId}`, a CodeBuild action's
  exported variables and `#{variables.NAME}` resolve in later actions' configuration; ListActionExecutions
  shows both, and GetPipelineExecution the pipeline-level variables.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    action,
    action_runs,
    action_state,
    approval,
    create,
    delete_created_pipelines,
    execution,
    source,
    stage,
    start,
    wait_status,
)


def test_an_approval_fails_at_its_declared_timeout_in_minutes(aws: Any) -> None:
    cp = aws("codepipeline")
    gate = {**approval(CustomData="Ship it?"), "timeoutInMinutes": 5}
    name = create(cp, source(), stage("Gate", gate), stage("Prod", action("Deploy", "Deploy", "CodeDeploy")))
    began = time.monotonic()
    execution_id = start(cp, name)
    assert wait_status(cp, name, execution_id, timeout=40) == "Failed"
    # 5 minutes of definition time at speed 40: not before 7.5 s.
    assert time.monotonic() - began >= 7.0
    expired = action_state(cp, name, "Gate", "Approve")["latestExecution"]
    assert expired["errorDetails"]["code"] == "ApprovalExpired"
    assert "within 5m" in expired["errorDetails"]["message"]


def test_source_variables_and_exported_variables_resolve_downstream(aws: Any) -> None:
    cp = aws("codepipeline")
    build = {
        **action("Build", SandboxOutputVariables=json.dumps({"IMAGE_TAG": "v-#{SourceVariables.CommitId}"})),
        "namespace": "BuildVariables",
    }
    deploy = action(
        "Deploy",
        "Deploy",
        "CloudFormation",
        StackName="orders-#{variables.Environment}",
        ParameterOverrides=json.dumps(
            {
                "Commit": "#{SourceVariables.CommitId}",
                "Message": "#{SourceVariables.CommitMessage}",
                "Image": "#{BuildVariables.IMAGE_TAG}",
                "Run": "#{codepipeline.PipelineExecutionId}",
            }
        ),
    )
    name = create(cp, source(), stage("Build", build), stage("Deploy", deploy), variables={"Environment": "beta"})
    execution_id = start(cp, name, Environment="gamma")
    assert wait_status(cp, name, execution_id) == "Succeeded"

    runs = {run["actionName"]: run for run in action_runs(cp, name, execution_id)}
    commit = execution(cp, name, execution_id)["artifactRevisions"][0]["revisionId"]
    emitted = runs["Source"]["output"]["outputVariables"]
    assert set(emitted) == {
        "AuthorDate",
        "BranchName",
        "CommitId",
        "CommitMessage",
        "ConnectionArn",
        "FullRepositoryName",
    }
    assert (emitted["CommitId"], emitted["BranchName"], emitted["FullRepositoryName"]) == (commit, "main", "shop/test")
    assert runs["Build"]["output"]["outputVariables"] == {"IMAGE_TAG": f"v-{commit}"}
    resolved = runs["Deploy"]["input"]["resolvedConfiguration"]
    assert resolved["StackName"] == "orders-gamma"
    assert json.loads(resolved["ParameterOverrides"]) == {
        "Commit": commit,
        "Message": emitted["CommitMessage"],
        "Image": f"v-{commit}",
        "Run": execution_id,
    }
    # The declared configuration is kept as written, beside the resolved one.
    assert "#{BuildVariables.IMAGE_TAG}" in runs["Deploy"]["input"]["configuration"]["ParameterOverrides"]
    assert "outputVariables" not in runs["Deploy"]["output"]  # CloudFormation exports nothing unless told
    assert execution(cp, name, execution_id)["variables"] == [{"name": "Environment", "resolvedValue": "gamma"}]


def test_a_reference_to_a_namespace_not_yet_run_stays_as_written(aws: Any) -> None:
    cp = aws("codepipeline")
    early = action("Early", "Build", "CodeBuild", ProjectName="p-#{LaterVariables.X}")
    name = create(cp, source(), stage("Build", early))
    execution_id = start(cp, name)
    assert wait_status(cp, name, execution_id) == "Succeeded"
    run = next(r for r in action_runs(cp, name, execution_id) if r["actionName"] == "Early")
    assert run["input"]["resolvedConfiguration"]["ProjectName"] == "p-#{LaterVariables.X}"
