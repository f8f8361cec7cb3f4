"""What each action key means on the pipeline screen, for the highlighted stage, action or execution.

The key acts on what is selected: approve / reject the approval of the selected action (or the one waiting
in the selected stage or execution); stop the selected execution (or the one running in the selected
stage); retry the selected failed stage; roll back the selected stage (the modal names the execution and
revision it goes back to); pause or resume promotion into the selected stage; override the entry or success
condition holding the selected stage. When the selection has
nothing for approve, reject, stop or retry, the key falls back to the whole pipeline (what the fleet
screen's key would do), so an operator who opened the pipeline to answer its approval does not have to
find the row first; rollback, pause and override never guess: they are about the stage the operator chose.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.actions.gate import ActionKind
from console.codepipeline.model import Pipeline
from console.codepipeline.selections import ActionSelection, PipelineSelection, StageSelection
from console.resources import Selection
from screens.action_flow import ActionChoice, Choices
from screens.status import look

RUNNING = ("InProgress", "Stopping")
# Keys that fall back to the whole pipeline when the selection has nothing for them.
WIDE_KEYS = frozenset({"approve", "reject", "stop", "stop_abandon", "retry"})


@dataclass(frozen=True, slots=True)
class PipelinePick:
    """The selection on the pipeline screen: a stage (and action) row, or an execution row."""

    stage: str | None = None
    action: str | None = None
    execution_id: str | None = None

    @property
    def where(self) -> str:
        if self.execution_id is not None:
            return f"execution {self.execution_id[:8]}"
        if self.action is not None:
            return f"{self.stage} / {self.action}"
        return self.stage or "the selection"


def selection_choices(binding_id: str, pipeline: Pipeline, pick: PipelinePick) -> Choices:
    """The choices of an action key for exactly what is selected."""
    base = PipelineSelection(pipeline.target, pipeline.name)
    if binding_id in ("approve", "reject"):
        return _answer(pipeline, pick, ActionKind.APPROVE if binding_id == "approve" else ActionKind.REJECT, base)
    if binding_id in ("stop", "stop_abandon"):
        return _stop(pipeline, pick, ActionKind.STOP if binding_id == "stop" else ActionKind.STOP_ABANDON, base)
    if binding_id == "retry":
        return _retry(pipeline, pick, base)
    if binding_id == "rollback":
        return _rollback(pipeline, pick, base)
    if binding_id == "pause":
        return _pause(pipeline, pick, base)
    if binding_id == "override":
        return _override(pipeline, pick, base)
    return Choices((), fallback=base)


def _answer(pipeline: Pipeline, pick: PipelinePick, kind: ActionKind, base: Selection) -> Choices:
    verb = "Approve" if kind is ActionKind.APPROVE else "Reject"
    if pick.execution_id is not None:
        stages = [s for s in pipeline.stages if s.execution_id == pick.execution_id]
    else:
        stage = pipeline.stage(pick.stage) if pick.stage else None
        stages = [stage] if stage is not None else []
    choices = tuple(
        ActionChoice(
            kind,
            ActionSelection(pipeline.target, pipeline.name, stage.name, action.name, stage.execution_id),
            f"{verb} {pipeline.name} / {stage.name} / {action.name}",
        )
        for stage in stages
        for action in stage.actions
        if action.awaiting_approval and pick.action in (None, action.name)
    )
    return Choices(choices, "Which approval?", base, f"nothing is waiting for approval in {pick.where}")


def _stop(pipeline: Pipeline, pick: PipelinePick, kind: ActionKind, base: Selection) -> Choices:
    verb = "Stop" if kind is ActionKind.STOP else "Stop and abandon"
    if pick.execution_id is not None:
        execution = pipeline.execution(pick.execution_id)
        status = execution.status if execution is not None else None
        execution_id: str | None = pick.execution_id if status in RUNNING else None
        nothing = f"execution {pick.execution_id[:8]} is {look(status).word}: nothing to stop"
        where = ""
    else:
        stage = pipeline.stage(pick.stage) if pick.stage else None
        running = stage is not None and stage.status in RUNNING and stage.execution_id
        execution_id = stage.execution_id if running and stage is not None else None
        nothing = f"nothing is running in {pick.stage or 'the selection'}"
        where = f" (running in {pick.stage})"
    if execution_id is None:
        return Choices((), "", base, nothing)
    execution = pipeline.execution(execution_id)
    revision = f" {execution.revision.short}" if execution is not None and execution.revision else ""
    choice = ActionChoice(
        kind,
        PipelineSelection(pipeline.target, pipeline.name, execution_id=execution_id),
        f"{verb} execution {execution_id[:8]}{revision}{where}",
    )
    return Choices((choice,), "", base, nothing)


def _retry(pipeline: Pipeline, pick: PipelinePick, base: Selection) -> Choices:
    if pick.execution_id is not None:
        stages = [s for s in pipeline.stages if s.execution_id == pick.execution_id and s.status == "Failed"]
    else:
        stage = pipeline.stage(pick.stage) if pick.stage else None
        stages = [stage] if stage is not None and stage.status == "Failed" else []
    choices = tuple(
        ActionChoice(
            ActionKind.RETRY,
            StageSelection(pipeline.target, pipeline.name, stage.name, execution_id=stage.execution_id),
            f"Retry {pipeline.name} / {stage.name} (failed actions)",
        )
        for stage in stages
    )
    return Choices(choices, "Retry which stage?", base, f"nothing has failed in {pick.where}")


def _rollback(pipeline: Pipeline, pick: PipelinePick, base: Selection) -> Choices:
    if pick.execution_id is not None or pick.stage is None:
        return Choices((), "", base, "select the stage to roll back (tab to the stages)")
    stage = pipeline.stage(pick.stage)
    if stage is None:
        return Choices((), "", base, f"no stage {pick.stage}")
    if stage.status is None:
        return Choices((), "", base, f"nothing has been deployed to {stage.name} yet")
    wave = f" ({stage.wave.name})" if stage.wave else ""
    choice = ActionChoice(
        ActionKind.ROLLBACK,
        StageSelection(pipeline.target, pipeline.name, stage.name, execution_id=stage.execution_id),
        f"Roll back {pipeline.name} / {stage.name}{wave}",
    )
    return Choices((choice,), "", base)


def _pause(pipeline: Pipeline, pick: PipelinePick, base: Selection) -> Choices:
    if pick.execution_id is not None or pick.stage is None:
        return Choices((), "", base, "select the stage whose promotion to pause or resume (tab to the stages)")
    stage = pipeline.stage(pick.stage)
    if stage is None:
        return Choices((), "", base, f"no stage {pick.stage}")
    if pipeline.stages and pipeline.stages[0].name == stage.name:
        return Choices((), "", base, f"{stage.name} is the first stage: it has no inbound transition")
    kind = ActionKind.RESUME if stage.paused else ActionKind.PAUSE
    label = f"{'Resume' if stage.paused else 'Pause'} promotion into {stage.name}"
    choice = ActionChoice(kind, StageSelection(pipeline.target, pipeline.name, stage.name), label)
    return Choices((choice,), "", base)


def _override(pipeline: Pipeline, pick: PipelinePick, base: Selection) -> Choices:
    if pick.execution_id is not None or pick.stage is None:
        return Choices((), "", base, "select the stage whose condition to override (tab to the stages)")
    stage = pipeline.stage(pick.stage)
    if stage is None:
        return Choices((), "", base, f"no stage {pick.stage}")
    held = stage.held_by
    if held is None:
        return Choices((), "", base, f"no condition holds {stage.name} now")
    label = f"Override the {held.kind.label} condition of {stage.name}"
    selection = StageSelection(pipeline.target, pipeline.name, stage.name, execution_id=stage.execution_id)
    return Choices((ActionChoice(ActionKind.OVERRIDE, selection, label),), "", base)
