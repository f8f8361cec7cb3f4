"""The LambdaInvoke rule of a stage condition, answered by the sandbox's simulated functions.

AWS invokes the rule's function and lets its success or failure decide the rule. The sandbox has no Lambda
runtime; the functions the definitions declare under `functions:` stand in, the same registry the Step
Functions interpreter calls (`stepfunctions/lambdas.py`), so one declaration serves both. The function's
`duration` is honoured on the sandbox clock (the rule is in progress that long, `--speed` shortens it, the
engine never sleeps); it answers exactly once, at the end, because a failure is a random draw and a second
draw could change a decision already shown. The event it receives is shaped like the job event CodePipeline
gives a Lambda invoke action (`CodePipeline.job` with the configuration, `UserParameters` included), since
that is what a function written for CodePipeline reads.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from console.sandbox.clock import SandboxClock
from console.sandbox.codepipeline.records import FAILED, IN_PROGRESS, SUCCEEDED
from console.sandbox.stepfunctions.lambdas import FUNCTIONS, answer

if TYPE_CHECKING:
    from console.sandbox.codepipeline.rules import RuleContext, Verdict

# How much of a function's result or error a rule summary shows (summaries are at most 2048 characters).
SHOWN = 300


def evaluate(context: RuleContext, now: datetime, clock: SandboxClock) -> Verdict:
    from console.sandbox.codepipeline.rules import Verdict, function_url

    name = context.configuration.get("FunctionName", "")
    region = context.shape.region
    function = FUNCTIONS.find(name, region)
    if function is None:
        declared = ", ".join(sorted(FUNCTIONS.names(region))) or "none"
        return Verdict(
            FAILED,
            f"Lambda function '{name}' is not declared under functions in the definitions, so the sandbox "
            f"cannot invoke it (declared in {region}: {declared})",
            error_code="FunctionNotFound",
        )
    url = function_url(function.region, function.name)
    ends = context.start + clock.scale(function.duration)
    if now < ends:
        return Verdict(IN_PROGRESS, f"Invoking Lambda function {function.name}", recheck=ends, external_url=url)
    response = answer(function, event(context))
    payload = response.get("Payload")
    if response.get("FunctionError"):
        error = payload if isinstance(payload, dict) else {}
        kind = str(error.get("errorType") or "Error")
        message = str(error.get("errorMessage") or "")
        return Verdict(
            FAILED,
            f"Lambda function {function.name} failed: {kind}: {message}"[: SHOWN + 100],
            error_code=kind[:100],
            external_url=url,
        )
    shown = json.dumps(payload, separators=(",", ":"), default=str)
    if len(shown) > SHOWN:
        shown = shown[: SHOWN - 1] + "…"
    return Verdict(SUCCEEDED, f"Lambda function {function.name} succeeded: {shown}", external_url=url)


def event(context: RuleContext) -> dict[str, Any]:
    """The job event the function is invoked with: the rule's resolved configuration and where it runs."""
    return {
        "CodePipeline.job": {
            "id": context.rule_id,
            "accountId": context.account,
            "data": {
                "actionConfiguration": {"configuration": dict(context.configuration)},
                "pipelineContext": {
                    "pipelineName": context.pipeline,
                    "stage": {"name": context.stage},
                    "action": {"name": context.shape.name},
                    "pipelineExecutionId": context.execution_id,
                },
                "inputArtifacts": [{"name": name} for name in context.shape.input_artifacts],
            },
        }
    }
