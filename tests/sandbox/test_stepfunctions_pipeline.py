"""A CodePipeline StepFunctions action starts its execution in-process, and that path is patched too.

The engine calls moto's Step Functions backend directly (not over HTTP); the execution it starts must still
be shortened by `--speed`, announce its status changes on EventBridge, and carry a real name.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import SPEED, wait_until
from tests.sandbox import test_codepipeline_support as cp_support
from tests.sandbox.test_stepfunctions_events import arrived, subscribe
from tests.sandbox.test_stepfunctions_speed import waited
from tests.sandbox.test_stepfunctions_support import create_machine, describe, history, wait_status

BAKE = {
    "StartAt": "Bake",
    "States": {
        "Bake": {"Type": "Wait", "Seconds": 40, "Next": "Report"},
        "Report": {"Type": "Pass", "Parameters": {"revision.$": "$.revision", "seed.$": "$.seed"}, "End": True},
    },
}


def test_a_pipeline_action_execution_is_named_timed_and_announced(aws: Any) -> None:
    sfn, cp = aws("stepfunctions"), aws("codepipeline")
    machine = create_machine(sfn, BAKE, "from-pipeline")
    read = subscribe(aws, machine)
    invoke = cp_support.action(
        "Bake",
        "Invoke",
        "StepFunctions",
        StateMachineArn=machine,
        InputType="Literal",
        Input='{"wave": "beta", "revision": "#{SourceVariables.CommitId}", "seed": 7}',
    )
    pipeline = cp_support.create(cp, cp_support.source(), cp_support.stage("Beta", invoke), prefix="sfn-action")
    run = cp_support.start(cp, pipeline)

    def execution_arn() -> str | None:
        latest = cp_support.action_state(cp, pipeline, "Beta", "Bake").get("latestExecution") or {}
        return latest.get("externalExecutionId")

    arn = str(wait_until(execution_arn, 15, what="the action's Step Functions execution"))
    assert cp_support.wait_status(cp, pipeline, run, timeout=20) == "Succeeded"

    finished = wait_status(sfn, arn, "SUCCEEDED")
    assert finished["name"] not in ("", "None")
    assert arn.endswith(":" + finished["name"])
    document = json.loads(describe(sfn, arn)["input"])
    revision = cp_support.execution(cp, pipeline, run)["artifactRevisions"][0]["revisionId"]
    assert document == {"wave": "beta", "revision": revision, "seed": 7}
    seconds = waited(history(sfn, arn), "Bake")
    assert 0.5 * 40 / SPEED <= seconds <= 40 / SPEED + 3.0
    arrived(read, arn, "RUNNING", "SUCCEEDED")
