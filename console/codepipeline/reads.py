"""The fresh reads the action gate makes of CodePipeline before planning and again right before sending.

`CodePipelineGateway` is the part of the gateway (`console/aws/codepipeline.py`) this package's plan builders
use; `Reads` puts its answers together the way they need them (a pipeline with its structure and live state).
"""

from __future__ import annotations

from typing import Protocol, cast

from console.actions.reads import HISTORY_DEPTH, GateGateway
from console.codepipeline.model import Pipeline, PipelineExecution, PipelineState
from console.errors import NotFound, Refused
from console.model import Receipt


class CodePipelineGateway(GateGateway, Protocol):
    """What CodePipeline's plan builders need from a target's gateway (`console.aws.gateway.Gateway` provides it)."""

    async def get_pipeline(self, name: str) -> Pipeline: ...
    async def get_pipeline_state(self, name: str) -> PipelineState: ...
    async def get_pipeline_execution(self, name: str, execution_id: str) -> PipelineExecution: ...
    async def list_pipeline_executions(
        self, name: str, max_results: int = 25, succeeded_in_stage: str | None = None
    ) -> tuple[PipelineExecution, ...]: ...

    async def put_approval_result(
        self, pipeline: str, stage: str, action: str, token: str, approved: bool, summary: str
    ) -> Receipt: ...
    async def stop_pipeline_execution(
        self, pipeline: str, execution_id: str, abandon: bool = False, reason: str = ""
    ) -> Receipt: ...
    async def rollback_stage(self, pipeline: str, stage: str, target_execution_id: str) -> Receipt: ...
    async def retry_stage_execution(
        self, pipeline: str, stage: str, execution_id: str, mode: str = "FAILED_ACTIONS"
    ) -> Receipt: ...
    async def override_stage_condition(
        self, pipeline: str, stage: str, execution_id: str, condition_type: str
    ) -> Receipt: ...
    async def disable_stage_transition(
        self, pipeline: str, stage: str, reason: str, transition_type: str = "Inbound"
    ) -> Receipt: ...
    async def enable_stage_transition(self, pipeline: str, stage: str, transition_type: str = "Inbound") -> Receipt: ...


class Reads:
    """Fresh reads of CodePipeline through one gateway, shaped for the gate."""

    def __init__(self, gateway: CodePipelineGateway) -> None:
        self.gateway = gateway

    @classmethod
    def of(cls, gateway: GateGateway) -> Reads:
        """The reads through a gateway the gate holds: every target's gateway speaks every registered service
        (`tests/core/test_services.py` checks `Gateway` against each service's protocol)."""
        return cls(cast(CodePipelineGateway, gateway))

    async def pipeline(self, name: str) -> Pipeline:
        """Structure (GetPipeline) with the live state (GetPipelineState) laid over it."""
        try:
            structure = await self.gateway.get_pipeline(name)
            state = await self.gateway.get_pipeline_state(name)
        except NotFound:
            raise Refused(f"there is no pipeline {name} in target {self.gateway.target.name} (any more)") from None
        return state.apply_to(structure)

    async def pipeline_execution(self, pipeline: str, execution_id: str | None) -> PipelineExecution | None:
        if not execution_id:
            return None
        try:
            return await self.gateway.get_pipeline_execution(pipeline, execution_id)
        except NotFound:
            return None

    async def pipeline_executions(
        self, pipeline: str, *, succeeded_in_stage: str | None = None
    ) -> tuple[PipelineExecution, ...]:
        return await self.gateway.list_pipeline_executions(
            pipeline, max_results=HISTORY_DEPTH, succeeded_in_stage=succeeded_in_stage
        )
