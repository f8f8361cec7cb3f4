"""Tests name a selection by its parts, as the old record did; `selection` gives the typed variant they make."""

from __future__ import annotations

from console.codepipeline.selections import ActionSelection, PipelineSelection, StageSelection
from console.resources import Selection
from console.stepfunctions.selections import ExecutionSelection, StateMachineSelection


def sel(
    target: str,
    pipeline: str | None = None,
    stage: str | None = None,
    action: str | None = None,
    execution_id: str | None = None,
    *,
    state_machine_arn: str | None = None,
    execution_arn: str | None = None,
    state_name: str | None = None,
    map_index: int | None = None,
    task_event: int | None = None,
) -> Selection:
    """The variant the parts make: an action, a stage, a pipeline (execution), an execution, a state machine."""
    if pipeline is not None:
        if action is not None:
            return ActionSelection(target, pipeline, stage, action, execution_id)
        if stage is not None:
            return StageSelection(target, pipeline, stage, execution_id)
        return PipelineSelection(target, pipeline, execution_id)
    assert state_machine_arn is not None, "a selection names a pipeline or a state machine"
    if execution_arn is not None:
        return ExecutionSelection(target, state_machine_arn, execution_arn, state_name, map_index, task_event)
    return StateMachineSelection(target, state_machine_arn)
