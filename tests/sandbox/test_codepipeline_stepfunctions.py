"""A StepFunctions action starts a real execution in the sandbox and ends when that execution ends."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from console.sandbox.server_constants import ACCOUNT_ID, SFN_ROLE
from tests.conftest import unique, wait_until
from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    action,
    action_runs,
    action_state,
    create,
    delete_created_pipelines,
    execution,
    source,
    stage,
    start,
    wait_status,
)

SFN_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{SFN_ROLE}"


def _state_machine(sfn: Any, states: dict[str, Any], start_at: str) -> str:
    definition = {"StartAt": start_at, "States": states}
    created = sfn.create_state_machine(name=unique("cp-sfn"), definition=json.dumps(definition), roleArn=SFN_ROLE_ARN)
    return str(created["stateMachineArn"])


def _invoke_pipeline(cp: Any, machine_arn: str) -> str:
    invoke = action(
        "Run",
        "Invoke",
        "StepFunctions",
        StateMachineArn=machine_arn,
        InputType="Literal",
        Input=json.dumps(
            {
                "service": "payments",
                "revision": "#{SourceVariables.CommitId}",
                "run": "#{codepipeline.PipelineExecutionId}",
            }
        ),
    )
    return create(cp, source(), stage("Invoke", invoke))


def test_the_action_follows_its_state_machine_execution(aws: Any) -> None:
    cp, sfn = aws("codepipeline"), aws("stepfunctions")
    machine = _state_machine(
        sfn,
        {
            "Prepare": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.prepared", "Next": "Bake"},
            "Bake": {"Type": "Wait", "Seconds": 20, "Next": "Done"},  # half a second at the test speed
            "Done": {"Type": "Succeed"},
        },
        "Prepare",
    )
    name = _invoke_pipeline(cp, machine)
    execution_id = start(cp, name)

    def running_arn() -> str | None:
        latest = action_state(cp, name, "Invoke", "Run").get("latestExecution") or {}
        return latest.get("externalExecutionId")

    arn = wait_until(running_arn, what="the Step Functions execution to start")
    assert arn.startswith(f"arn:aws:states:us-east-1:{ACCOUNT_ID}:execution:")
    described = sfn.describe_execution(executionArn=arn)
    if described["status"] == "RUNNING":
        # The execution is still running, so the action cannot have ended.
        assert action_state(cp, name, "Invoke", "Run")["latestExecution"]["status"] == "InProgress"
    assert wait_status(cp, name, execution_id) == "Succeeded"

    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "SUCCEEDED"
    assert described["stateMachineArn"] == machine
    payload = json.loads(described["input"])
    revision = execution(cp, name, execution_id)["artifactRevisions"][0]["revisionId"]
    # Exactly the declared input, variables resolved: AWS adds nothing, and neither does the sandbox.
    assert payload == {"service": "payments", "revision": revision, "run": execution_id}
    done = action_state(cp, name, "Invoke", "Run")
    assert done["latestExecution"]["status"] == "Succeeded"
    assert done["latestExecution"]["externalExecutionUrl"].endswith(arn)
    assert done["entityUrl"].endswith(machine)
    run = action_runs(cp, name, execution_id)[-1]
    assert run["output"]["executionResult"]["externalExecutionId"] == arn
    assert run["output"]["outputVariables"] == {"ExecutionArn": arn, "StateMachineArn": machine}
    # The action ended when the execution did, not before.
    assert run["lastUpdateTime"] >= described["stopDate"] - timedelta(milliseconds=1)


def test_a_failed_state_machine_execution_fails_the_action(aws: Any) -> None:
    cp, sfn = aws("codepipeline"), aws("stepfunctions")
    machine = _state_machine(
        sfn,
        {
            "Try": {"Type": "Pass", "Next": "Broken"},
            "Broken": {"Type": "Fail", "Error": "Deploy.Broken", "Cause": "The canary alarm fired"},
        },
        "Try",
    )
    name = _invoke_pipeline(cp, machine)
    execution_id = start(cp, name)
    assert wait_status(cp, name, execution_id) == "Failed"
    failed = action_state(cp, name, "Invoke", "Run")["latestExecution"]
    assert failed["status"] == "Failed"
    assert failed["errorDetails"]["message"] == "Deploy.Broken: The canary alarm fired"
    assert sfn.describe_execution(executionArn=failed["externalExecutionId"])["status"] == "FAILED"
    assert "Deploy.Broken" in execution(cp, name, execution_id)["statusSummary"]


def test_a_state_machine_that_cannot_start_fails_the_action(aws: Any) -> None:
    cp = aws("codepipeline")
    missing = f"arn:aws:states:us-east-1:{ACCOUNT_ID}:stateMachine:{unique('missing')}"
    name = _invoke_pipeline(cp, missing)
    execution_id = start(cp, name)
    assert wait_status(cp, name, execution_id) == "Failed"
    failed = action_state(cp, name, "Invoke", "Run")["latestExecution"]
    assert failed["errorDetails"]["message"].startswith(f"Could not start {missing}")
