"""What can be selected of CodePipeline: a pipeline, a stage, an action (frozen; each says its service, key and
resource name), and how a RESOURCE name (`pipeline`, `pipeline/stage`, `pipeline/stage/action`) resolves to one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, cast

from console.codepipeline.model import SERVICE, pipelines_of
from console.codepipeline.slots import PipelineReader
from console.model import FleetState, Service
from console.polling.reader import FleetReader
from console.resources import Selection


class _InPipeline:
    """What every CodePipeline selection says the same way (its fields: target, pipeline)."""

    service: ClassVar[Service] = SERVICE
    target: str
    pipeline: str

    @property
    def key(self) -> str:
        """The Pipeline.key this selection belongs to."""
        return f"{self.target}:{self.pipeline}"

    @property
    def confirm_name(self) -> str:
        """The stage it names, else the pipeline (what is typed to confirm on a stage no wave places)."""
        return getattr(self, "stage", None) or self.pipeline


@dataclass(frozen=True)
class PipelineSelection(_InPipeline):
    """A whole pipeline, or one of its executions (`execution_id`)."""

    target: str
    pipeline: str
    execution_id: str | None = None

    @property
    def resource(self) -> str:
        return self.pipeline

    @property
    def execution(self) -> str | None:
        return self.execution_id

    def lock_subject(self, family: str, rollback: bool) -> str:
        """What one action at a time may act on (see `console.actions.executor.lock_key`)."""
        # A plan resolves to a stage; only what did not is keyed by the pipeline alone.
        return (self.execution_id or self.pipeline) if family == "stop" else f"{self.pipeline}/None"


@dataclass(frozen=True)
class StageSelection(_InPipeline):
    """One stage of a pipeline (in one execution, `execution_id`, when the operator picked it in a run)."""

    target: str
    pipeline: str
    stage: str
    execution_id: str | None = None

    @property
    def resource(self) -> str:
        return f"{self.pipeline}/{self.stage}"

    @property
    def execution(self) -> str | None:
        return self.execution_id

    def lock_subject(self, family: str, rollback: bool) -> str:
        """What one action at a time may act on: a stop its execution, the rest the stage."""
        return (self.execution_id or self.pipeline) if family == "stop" else f"{self.pipeline}/{self.stage}"


@dataclass(frozen=True)
class ActionSelection(_InPipeline):
    """One action of a pipeline's stage (an approval, a Step Functions action…); named without its stage
    (`stage` None), it is the action of that name in whichever stage has it."""

    target: str
    pipeline: str
    stage: str | None
    action: str
    execution_id: str | None = None

    @property
    def resource(self) -> str:
        return "/".join(p for p in (self.pipeline, self.stage, self.action) if p)

    @property
    def execution(self) -> str | None:
        return self.execution_id

    def lock_subject(self, family: str, rollback: bool) -> str:
        """What one action at a time may act on: a stop its execution, an answer the approval, the rest the stage."""
        if family == "stop":
            return self.execution_id or self.pipeline
        return self.resource if family == "answer" else f"{self.pipeline}/{self.stage}"


PipelinePart = PipelineSelection | StageSelection | ActionSelection


def stage_name(selection: PipelinePart) -> str | None:
    """The stage a CodePipeline selection names, if it names one."""
    return None if isinstance(selection, PipelineSelection) else selection.stage


def action_name(selection: PipelinePart) -> str | None:
    """The action a CodePipeline selection names, if it names one."""
    return selection.action if isinstance(selection, ActionSelection) else None


class PipelineNames:
    """How RESOURCE names resolve to CodePipeline's selections (`console/resources.py` asks every service's)."""

    noun = "pipeline"
    shapes = ("pipeline", "pipeline/stage", "pipeline/stage/action")
    max_parts = 3
    arn_noun = ""  # no ARN names a pipeline's part
    disambiguation = ""

    def names(self, state: FleetState) -> Mapping[str, Mapping[str, str]]:
        """Target → pipeline name → itself, of what the watcher knows."""
        found: dict[str, dict[str, str]] = {}
        for pipeline in pipelines_of(state).values():
            found.setdefault(pipeline.target, {})[pipeline.name] = pipeline.name
        return found

    async def listed(self, reader: FleetReader) -> Mapping[str, str]:
        """Pipeline name → itself, as the target lists them now."""
        return {p.name: p.name for p in await cast(PipelineReader, reader).list_pipelines()}

    def select(self, target: str, parts: tuple[str, ...], found: str) -> Selection | None:
        """The selection `parts` name in the pipeline `found` of `target`."""
        if len(parts) == 3:
            return ActionSelection(target, found, parts[1], parts[2])
        if len(parts) == 2:
            return StageSelection(target, found, parts[1])
        return PipelineSelection(target, found)

    def accepts_arn(self, arn: str) -> bool:
        return False

    def resolve_arn(
        self, arn: str, names: Mapping[str, Mapping[str, str]], scope: tuple[str, ...], regions: Mapping[str, str]
    ) -> Selection:
        raise NotImplementedError


NAMES = PipelineNames()
