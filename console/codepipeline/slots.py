"""What the watcher keeps of CodePipeline: a slot per pipeline, the reads it makes, its pictures, typed.

The watcher's common parts keep every service's slots and pictures by service (`TargetRun.of`,
`FleetPublisher.shown`); these accessors are where CodePipeline's are narrowed to its own types.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import ClassVar, Protocol, cast

from console.codepipeline.model import SERVICE, Pipeline, PipelineExecution, PipelineState, PipelineSummary
from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.model import Resource, Service
from console.polling.publisher import FleetPublisher
from console.polling.reader import FleetReader
from console.polling.slots import Slot, TargetRun
from console.waves import WaveModel


class PipelineReader(FleetReader, Protocol):
    """What the watcher reads of CodePipeline through a target's gateway (`console.aws.Gateway`, or a test double)."""

    async def list_pipelines(self) -> Sequence[PipelineSummary]: ...

    async def get_pipeline(self, name: str, /) -> Pipeline: ...

    async def get_pipeline_state(self, name: str, /) -> PipelineState: ...

    async def list_pipeline_executions(self, name: str, /, max_results: int = ...) -> Sequence[PipelineExecution]: ...


@dataclass(eq=False, slots=True)
class PipelineSlot(Slot):
    """One pipeline: what its poller keeps of it between reads."""

    service: ClassVar[Service] = CODEPIPELINE
    paced_by: ClassVar[str] = "GetPipelineState"

    summary: PipelineSummary = field(default_factory=lambda: PipelineSummary(""))
    structure: Pipeline | None = None
    executions: tuple[PipelineExecution, ...] | None = None
    executions_cut: bool = False  # some listed executions were not kept (`PipelinePoller._keep_executions`)
    signature: tuple[object, ...] | None = None
    listed_at: float = 0.0
    # The last GetPipelineState, with what events told since laid over it. Once the picture is merged from it and
    # the structure of its version, its stages are the picture's (`PipelinePoller._keep_merged`): one copy of them.
    state: PipelineState | None = None
    state_changes: int = 0  # new states taken (a read, a teammate's, an event); keeping the picture's stages is none
    state_read_at: datetime | None = None  # when it was read: the published `read_at`, also after enrichment
    state_source: str = "poll"  # what asked for it: poll | push | team
    unshared: PipelineState | None = None  # this console's last read, until offered to the team
    reading_state: int = 0  # GetPipelineState reads of it on the wire (`reading` counts its listings too)
    executions_shown: bool = False  # the published Pipeline carries listed executions
    # What the first read showed, when it was published before the executions were listed.
    first_seen_until: datetime | None = None  # AWS's time of the newest change in that state
    first_had_runs: bool = False
    enrichment: asyncio.Task[None] | None = None
    # News held back until the executions are listed (a new execution's start goes before its stages'):
    # the pipeline as last told, and when the holding began.
    untold: Pipeline | None = None
    untold_since: float | None = None
    # Set while GetPipelineState cannot answer (a partial endpoint): one line that says so and what is shown.
    state_note: str | None = None

    def background(self) -> tuple[asyncio.Task[None], ...]:
        return () if self.enrichment is None else (self.enrichment,)

    def take_state(self, state: PipelineState) -> None:
        """A new state: read, a teammate's, or with an event laid over it (the same object is no new state)."""
        if state is not self.state:
            self.state = state
            self.state_changes += 1

    def failed(self, shown: Resource | None, target: str, message: str, waves: WaveModel) -> Resource:
        if isinstance(shown, Pipeline):
            return replace(shown, error=message)
        return Pipeline(target=target, name=self.summary.name, error=message)


def reader(run: TargetRun) -> PipelineReader:
    """The run's gateway as CodePipeline's reader (every target's gateway speaks every registered service)."""
    return cast(PipelineReader, run.reader)


def slots(run: TargetRun) -> dict[str, PipelineSlot]:
    """The run's pipelines' slots, by pipeline name."""
    return cast("dict[str, PipelineSlot]", run.of(SERVICE))


def shown(publisher: FleetPublisher) -> dict[str, Pipeline]:
    """The pipelines as the publisher shows them, by key."""
    return cast("dict[str, Pipeline]", publisher.shown(SERVICE))


def told(publisher: FleetPublisher, key: str) -> Pipeline | None:
    """The pipeline as this run last told it (see `FleetPublisher.told`)."""
    return cast("Pipeline | None", publisher.told(SERVICE, key))
