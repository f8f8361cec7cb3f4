"""How each sandbox action behaves, and the pipeline structure as the engine reads it.

Pipelines seeded from `definitions/fleet.yaml` get their behaviour from the definitions
(`PipelineEngine.set_behaviour`). Any other pipeline, such as one a test or a person creates with
CreatePipeline, says in each action's `configuration` how it behaves (all values are strings, as AWS
requires):

- `SandboxDuration`: seconds the action takes, in definition time (shortened by `--speed`); default 5.
- `SandboxOutcome`: `Succeeded` or `Failed`, to force the outcome.
- `SandboxFailureRate`: 0..1, the chance the action fails, drawn reproducibly from `--seed`.
- `SandboxError`: the error message of a failure.
- `SandboxTimeout`: Manual approvals only: seconds until an unanswered approval fails; default: the
  action's `timeoutInMinutes`, as AWS does, or else 7 days.
- `SandboxOutputVariables`: a JSON object of names to strings: the variables a CodeBuild, Commands or other
  action exports when it succeeds (the sandbox has no buildspec to read them from).

Values may use variables (`#{variables.NAME}`, `#{codepipeline.PipelineExecutionId}`, `#{Namespace.Name}`:
see `variables`), resolved per execution as AWS resolves them, so one pipeline can succeed in one execution
and fail in the next. A value that is not a number or not an outcome fails the action with an error naming
the key.

StepFunctions actions start a real execution of `StateMachineArn` with `Input` and end when it ends;
`SandboxDuration` (or the definition's duration) only times them while the sandbox warms up.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

from console.sandbox.codepipeline.condition_shapes import read_stage as read_conditions
from console.sandbox.codepipeline.records import (
    FAILED,
    SUCCEEDED,
    ActionShape,
    Behaviour,
    PipelineShape,
    StageShape,
)
from console.sandbox.fleet.definitions import ActionDef

DEFAULT_DURATION = 5.0
DEFAULT_TIMEOUT = 7 * 86400.0


def behaviour_of_definition(action: ActionDef) -> Behaviour:
    """An action of the definitions: its duration, failure odds, messages, approval timeout, exported variables."""
    return Behaviour(
        duration=action.duration,
        fail_rate=action.fail,
        error=action.error,
        summary=action.summary,
        timeout=action.timeout,
        variables=dict(action.variables),
    )


def behaviour_of_configuration(configuration: Mapping[str, str], timeout_minutes: int | None = None) -> Behaviour:
    """An action of a pipeline the definitions do not know: its Sandbox* configuration keys.

    An approval fails at its declared `timeoutInMinutes` unless `SandboxTimeout` says otherwise.
    """
    problems: list[str] = []

    def number(key: str, default: float, low: float, high: float | None = None) -> float:
        text = configuration.get(key)
        if text is None or text == "":
            return default
        try:
            value = float(text)
        except ValueError:
            problems.append(f"{key} must be a number, got '{text}'")
            return default
        if value < low or (high is not None and value > high):
            limit = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            problems.append(f"{key} must be {limit}, got '{text}'")
            return default
        return value

    duration = number("SandboxDuration", DEFAULT_DURATION, 0.0)
    fail_rate = number("SandboxFailureRate", 0.0, 0.0, 1.0)
    declared = timeout_minutes * 60.0 if timeout_minutes else DEFAULT_TIMEOUT
    timeout = number("SandboxTimeout", declared, 0.0)
    variables: dict[str, str] = {}
    text = configuration.get("SandboxOutputVariables")
    if text:
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict) and all(isinstance(v, str) for v in document.values()):
            variables = {str(k): v for k, v in document.items()}
        else:
            problems.append(f"SandboxOutputVariables must be a JSON object of names to strings, got '{text}'")
    outcome = configuration.get("SandboxOutcome") or None
    if outcome is not None and outcome not in (SUCCEEDED, FAILED):
        problems.append(f"SandboxOutcome must be Succeeded or Failed, got '{outcome}'")
        outcome = None
    return Behaviour(
        duration=duration,
        fail_rate=fail_rate,
        outcome=outcome,
        error=configuration.get("SandboxError", ""),
        timeout=timeout,
        variables=variables,
        problem="; ".join(problems),
    )


def draw(seed: int, region: str, pipeline: str, ordinal: int, stage: str, action: str, attempt: int) -> random.Random:
    """The reproducible random source of one action run: same seed, same history."""
    return random.Random(f"{seed}:{region}:{pipeline}:{ordinal}:{stage}:{action}:{attempt}")


def read_shape(structure: Mapping[str, Any], default_region: str) -> PipelineShape:
    """The engine's view of a pipeline structure as moto stored it (already validated by CreatePipeline)."""
    stages = []
    for index, stage in enumerate(structure.get("stages") or []):
        actions = tuple(_action_shape(action, default_region) for action in stage.get("actions") or [])
        conditions = read_conditions(stage, default_region)
        stages.append(StageShape(str(stage.get("name", "")), index, actions, conditions))
    variables = {
        str(v.get("name")): str(v.get("defaultValue", ""))
        for v in structure.get("variables") or []
        if isinstance(v, Mapping) and v.get("name")
    }
    store = structure.get("artifactStore") or {}
    return PipelineShape(
        name=str(structure.get("name", "")),
        version=int(structure.get("version") or 1),
        execution_mode=str(structure.get("executionMode") or "SUPERSEDED"),
        pipeline_type=str(structure.get("pipelineType") or "V1"),
        stages=tuple(stages),
        variables=variables,
        role_arn=str(structure.get("roleArn", "")),
        artifact_bucket=str(store.get("location", "")) if isinstance(store, Mapping) else "",
    )


def _action_shape(action: Mapping[str, Any], default_region: str) -> ActionShape:
    type_id = action.get("actionTypeId") or {}
    configuration = action.get("configuration") or {}
    return ActionShape(
        name=str(action.get("name", "")),
        category=str(type_id.get("category", "")),
        owner=str(type_id.get("owner", "AWS")),
        provider=str(type_id.get("provider", "")),
        version=str(type_id.get("version", "1")),
        run_order=int(action.get("runOrder") or 1),
        configuration={str(k): str(v) for k, v in configuration.items()},
        region=str(action.get("region") or default_region),
        input_artifacts=tuple(str(a.get("name")) for a in action.get("inputArtifacts") or [] if a.get("name")),
        output_artifacts=tuple(str(a.get("name")) for a in action.get("outputArtifacts") or [] if a.get("name")),
        namespace=action.get("namespace"),
        role_arn=action.get("roleArn"),
        timeout_minutes=int(action["timeoutInMinutes"]) if action.get("timeoutInMinutes") else None,
        output_variable_names=tuple(str(name) for name in action.get("outputVariables") or []),
    )
