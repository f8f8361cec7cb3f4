"""What the CodePipeline engine remembers: pipeline shapes (frozen) and the runs that change over time.

Shapes are read once per pipeline version from moto's stored structure. Runs are mutable on purpose:
the engine advances them in place under its one lock, and nothing outside the engine ever holds them
(responses are built from them under the lock and handed out as plain dicts). Runs use slots: a fleet of
hundreds of pipelines keeps up to 200 executions of each, with a dozen action runs per execution.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.sandbox.codepipeline.condition_shapes import ConditionSet

# Statuses in AWS's words.
IN_PROGRESS = "InProgress"
STOPPING = "Stopping"
STOPPED = "Stopped"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
SUPERSEDED = "Superseded"
CANCELLED = "Cancelled"
ABANDONED = "Abandoned"
SKIPPED = "Skipped"  # a stage whose entry condition engaged SKIP

ACTIVE = (IN_PROGRESS, STOPPING)


@dataclass(frozen=True)
class ActionShape:
    """One action of the pipeline structure, as CreatePipeline/UpdatePipeline stored it."""

    name: str
    category: str
    owner: str
    provider: str
    version: str
    run_order: int
    configuration: Mapping[str, str]
    region: str
    input_artifacts: tuple[str, ...] = ()
    output_artifacts: tuple[str, ...] = ()
    namespace: str | None = None
    role_arn: str | None = None
    timeout_minutes: int | None = None  # the declaration's timeoutInMinutes (approvals: when they fail)
    output_variable_names: tuple[str, ...] = ()  # the declaration's outputVariables (Commands actions)

    @property
    def type_id(self) -> dict[str, str]:
        return {"category": self.category, "owner": self.owner, "provider": self.provider, "version": self.version}

    @property
    def is_approval(self) -> bool:
        return self.category == "Approval"

    @property
    def is_source(self) -> bool:
        return self.category == "Source"

    @property
    def is_step_functions(self) -> bool:
        return self.provider == "StepFunctions"


@dataclass(frozen=True)
class StageShape:
    name: str
    index: int
    actions: tuple[ActionShape, ...]
    conditions: Mapping[str, ConditionSet] = field(default_factory=dict)  # conditionType → its conditions

    def action(self, name: str) -> ActionShape | None:
        return next((a for a in self.actions if a.name == name), None)


@dataclass(frozen=True)
class PipelineShape:
    """The structure of one version of a pipeline."""

    name: str
    version: int
    execution_mode: str  # QUEUED | SUPERSEDED | PARALLEL
    pipeline_type: str  # V1 | V2
    stages: tuple[StageShape, ...]
    variables: Mapping[str, str]  # declared pipeline variables and their default values
    role_arn: str
    artifact_bucket: str

    def stage(self, name: str) -> StageShape | None:
        return next((s for s in self.stages if s.name == name), None)


@dataclass(frozen=True)
class Behaviour:
    """How an action behaves in the sandbox: how long it takes (definition seconds) and how it ends."""

    duration: float = 5.0
    fail_rate: float = 0.0
    outcome: str | None = None  # Succeeded | Failed forces the outcome; None draws it from fail_rate
    error: str = ""
    summary: str = ""
    timeout: float = 7 * 86400.0  # Manual approvals: how long they wait for an answer
    variables: Mapping[str, str] = field(default_factory=dict)  # exported variables (CodeBuild, Commands...)
    problem: str = ""  # a Sandbox* configuration value that makes no sense: the action fails saying so


@dataclass(frozen=True)
class PendingEvent:
    """An EventBridge event collected under the engine lock, put on the bus after it is released."""

    account: str
    region: str
    detail_type: str
    detail: Mapping[str, Any]
    resources: tuple[str, ...]
    time: datetime


@dataclass(eq=False, slots=True)
class ActionRun:
    """One run of one action in one pipeline execution (a retry is another run)."""

    id: str
    execution: ExecutionRun
    stage: str
    shape: ActionShape
    behaviour: Behaviour
    attempt: int
    start: datetime
    updated: datetime
    configuration: Mapping[str, str]  # with #{variables.*} resolved
    status: str = IN_PROGRESS
    due: datetime | None = None  # when a timed action ends, or an approval expires
    outcome: str = SUCCEEDED  # drawn when the run starts
    summary: str | None = None
    token: str | None = None
    answered: bool = False  # an approval that a person approved or rejected
    updated_by: str | None = None
    external_id: str | None = None
    external_url: str | None = None
    external_summary: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    sfn_arn: str | None = None  # a Step Functions execution the action waits for
    sfn_account: str = ""
    sfn_region: str = ""
    seed: int = 0
    output_variables: dict[str, str] | None = None  # what it emitted when it succeeded


@dataclass(eq=False, slots=True)
class StageRun:
    """One pipeline execution's pass through one stage (a retry resumes the same pass)."""

    shape: StageShape
    execution: ExecutionRun
    start: datetime
    updated: datetime
    status: str = IN_PROGRESS
    latest: dict[str, ActionRun] = field(default_factory=dict)  # action name → its latest run here
    todo: list[ActionShape] = field(default_factory=list)  # actions not started yet in this pass
    failed: bool = False
    conditions: dict[str, Any] = field(default_factory=dict)  # conditionType → its latest ConditionsRun
    decided: set[str] = field(default_factory=set)  # condition types evaluated in this pass
    auto_retries: int = 0
    manual_retries: int = 0
    retry_trigger: str | None = None  # AutomatedStageRetry | ManualStageRetry

    @property
    def running(self) -> bool:
        return any(run.status == IN_PROGRESS for run in self.latest.values())


@dataclass(eq=False, slots=True)
class ExecutionRun:
    """One pipeline execution."""

    id: str
    pipeline: PipelineState
    ordinal: int
    shape: PipelineShape
    start: datetime
    updated: datetime
    trigger_type: str
    trigger_detail: str
    source_revisions: list[dict[str, str]]
    variables: dict[str, str]
    execution_type: str = "STANDARD"  # or ROLLBACK
    rollback_target: str | None = None
    status: str = IN_PROGRESS
    status_summary: str | None = None
    stop_reason: str | None = None
    abandoning: bool = False
    position: int = 0  # the stage it is in, or waits to enter
    waiting: bool = True
    attempt: int = 1  # pipeline-execution-attempt: a retry resumes the execution
    stage_runs: dict[str, StageRun] = field(default_factory=dict)
    action_runs: list[ActionRun] = field(default_factory=list)
    rule_runs: list[Any] = field(default_factory=list)  # RuleRun of its stage conditions, oldest first
    attempts: dict[tuple[str, str], int] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # namespace → its action's output variables

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def revision_for(self, action: str) -> dict[str, str] | None:
        return next((r for r in self.source_revisions if r.get("actionName") == action), None)


@dataclass(slots=True)
class Transition:
    """A stage's inbound transition."""

    enabled: bool = True
    changed_by: str | None = None
    changed_at: datetime | None = None
    reason: str | None = None


@dataclass(eq=False, slots=True)
class StageSlot:
    """Who is in a stage, who waits to enter it, and what GetPipelineState shows for it."""

    occupant: ExecutionRun | None = None
    latest: StageRun | None = None
    waiting: deque[ExecutionRun] = field(default_factory=deque)
    transition: Transition = field(default_factory=Transition)
    action_latest: dict[str, ActionRun] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class PipelineState:
    """The engine's side of one pipeline: its executions (newest last) and its stages' state."""

    account: str
    region: str
    name: str
    arn: str
    stored: object  # moto's pipeline object: a new one means the pipeline was deleted and created again
    shape: PipelineShape
    created: datetime
    updated: datetime
    executions: dict[str, ExecutionRun] = field(default_factory=dict)
    active: dict[str, ExecutionRun] = field(default_factory=dict)
    slots: dict[str, StageSlot] = field(default_factory=dict)
    tokens: dict[str, ActionRun] = field(default_factory=dict)
    client_tokens: dict[str, str] = field(default_factory=dict)
    ordinal: int = 0
    deleted: bool = False

    def slot(self, stage: str) -> StageSlot:
        slot = self.slots.get(stage)
        if slot is None:
            slot = self.slots[stage] = StageSlot()
        return slot
