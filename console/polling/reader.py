"""What the watcher reads through: one target's `console.aws.Gateway`, or a test double."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from console.model import (
    Execution,
    HistoryEvent,
    Identity,
    Pipeline,
    PipelineExecution,
    PipelineState,
    PipelineSummary,
    QueueMessage,
    StateMachineDetail,
    StateMachineSummary,
    Target,
)
from console.polling.fanout import FanoutClient


class FleetReader(FanoutClient, Protocol):
    """What the watcher reads through: one target's `console.aws.Gateway`, or a test double (which needs the
    `FanoutClient` calls only for a target with an events topic)."""

    @property
    def target(self) -> Target: ...

    async def list_pipelines(self) -> Sequence[PipelineSummary]: ...

    async def get_pipeline(self, name: str, /) -> Pipeline: ...

    async def get_pipeline_state(self, name: str, /) -> PipelineState: ...

    async def list_pipeline_executions(self, name: str, /, max_results: int = ...) -> Sequence[PipelineExecution]: ...

    async def list_state_machines(self) -> Sequence[StateMachineSummary]: ...

    async def describe_state_machine(self, arn: str, /) -> StateMachineDetail: ...

    async def list_executions(
        self, arn: str, /, status: str | None = ..., max_results: int = ...
    ) -> Sequence[Execution]: ...

    async def describe_execution(self, arn: str, /) -> Execution: ...

    async def get_execution_history(
        self, arn: str, /, after_id: int = ..., page_size: int = ...
    ) -> Sequence[HistoryEvent]: ...

    async def receive_messages(
        self, queue_url: str, /, wait_seconds: int = ..., max_messages: int = ...
    ) -> Sequence[QueueMessage]: ...

    async def delete_messages(self, queue_url: str, receipts: Sequence[str], /) -> object: ...

    async def caller_identity(self) -> Identity: ...
