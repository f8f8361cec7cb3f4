"""The console's vocabulary: frozen dataclasses that flow from the gateway to the watcher to the screens.

Nothing here talks to AWS or to the terminal. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime


class Service(enum.StrEnum):
    """A source of deployments: whose resource a selection, an approval or an action is."""

    CODEPIPELINE = "codepipeline"
    STEPFUNCTIONS = "stepfunctions"


class TransitionKind(enum.StrEnum):
    """What a Transition is about; the value is what `wavedeck watch` prints."""

    PIPELINE_EXECUTION = "pipeline-execution"
    STAGE = "stage"
    ACTION = "action"
    SFN_EXECUTION = "sfn-execution"
    SFN_STATE = "sfn-state"

    @property
    def service(self) -> Service:
        if self in (TransitionKind.SFN_EXECUTION, TransitionKind.SFN_STATE):
            return Service.STEPFUNCTIONS
        return Service.CODEPIPELINE


class Risk(enum.IntEnum):
    """How much harm a mistake in a wave can do; production is the highest known tier.

    UNKNOWN is a stage that matches no wave: ranked above production, because a console that cannot tell must
    treat a stage as dangerous (console/waves.py).
    """

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    PRODUCTION = 4
    UNKNOWN = 5

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Wave:
    """One step of the path a change travels: alpha, beta, gamma, then the production waves in order."""

    name: str
    order: int
    environment: str
    risk: Risk
    description: str = ""

    @property
    def is_production(self) -> bool:
        return self.risk is Risk.PRODUCTION

    @property
    def is_unknown(self) -> bool:
        return self.risk is Risk.UNKNOWN

    @property
    def typed_confirmation(self) -> bool:
        """Whether an action here is confirmed by typing a name: production, and what nobody placed."""
        return self.risk >= Risk.PRODUCTION


# The wave of every stage that matches no wave: shown in a column of its own, confirmed like production.
UNKNOWN_WAVE = Wave(
    name="unknown",
    order=1000,
    environment="unknown",
    risk=Risk.UNKNOWN,
    description="matches no wave: confirmed like production until the config maps it",
)


@dataclass(frozen=True, slots=True)
class Target:
    """Where resources live: a profile, a region, an optional role and endpoint.

    `name` is what the operator sees (and what `watch` prints); it is unique among the targets.
    """

    name: str
    region: str
    profile: str | None = None
    role_arn: str | None = None
    endpoint_url: str | None = None
    read_only: bool = False
    production: bool = False
    events_queue: str | None = None  # push, one console: the queue an EventBridge rule sends to
    events_topic: str | None = None  # push, a team: the SNS topic each console subscribes a queue of its own to
    sandbox: bool = False


# --- CodePipeline -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceRevision:
    action_name: str
    revision_id: str
    summary: str = ""
    url: str | None = None

    @property
    def short(self) -> str:
        return self.revision_id[:8]


@dataclass(frozen=True, slots=True)
class PipelineExecution:
    """One run of a pipeline as ListPipelineExecutions / GetPipelineExecution describe it."""

    id: str
    status: str
    started: datetime | None = None
    updated: datetime | None = None
    status_summary: str = ""
    trigger_type: str = ""
    trigger_detail: str = ""
    source_revisions: tuple[SourceRevision, ...] = ()
    execution_type: str = "STANDARD"
    rollback_target: str | None = None
    stop_reason: str = ""

    @property
    def revision(self) -> SourceRevision | None:
        return self.source_revisions[0] if self.source_revisions else None

    @property
    def is_rollback(self) -> bool:
        return self.execution_type == "ROLLBACK"


@dataclass(frozen=True, slots=True)
class Action:
    """An action of a stage, with its definition (category, provider) and its latest execution."""

    name: str
    category: str = ""
    provider: str = ""
    run_order: int = 1
    configuration: tuple[tuple[str, str], ...] = ()
    status: str | None = None
    summary: str = ""
    action_execution_id: str | None = None
    token: str | None = None
    last_status_change: datetime | None = None
    last_updated_by: str | None = None
    external_execution_id: str | None = None
    external_execution_url: str | None = None
    percent_complete: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    current_revision: str | None = None
    entity_url: str | None = None
    # From the pipeline structure (ActionDeclaration.timeoutInMinutes); None means AWS's default
    # (7 days for a manual approval). The approvals inbox shows when a waiting approval expires.
    timeout_minutes: int | None = None

    @property
    def is_approval(self) -> bool:
        return self.category == "Approval" or (self.provider == "Manual")

    @property
    def awaiting_approval(self) -> bool:
        return self.status == "InProgress" and self.token is not None


@dataclass(frozen=True, slots=True)
class InboundTransition:
    """The inbound transition of a stage: enabled, or disabled with who, when and why."""

    enabled: bool = True
    disabled_reason: str = ""
    last_changed_by: str | None = None
    last_changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboundExecution:
    id: str
    status: str
    execution_type: str = "STANDARD"


@dataclass(frozen=True, slots=True)
class Stage:
    """A stage of a pipeline with its latest execution, inbound transition and actions."""

    name: str
    wave: Wave | None = None
    status: str | None = None
    execution_id: str | None = None
    execution_type: str = "STANDARD"
    inbound: InboundTransition = field(default_factory=InboundTransition)
    inbound_executions: tuple[InboundExecution, ...] = ()
    actions: tuple[Action, ...] = ()

    @property
    def awaiting_approval(self) -> Action | None:
        return next((a for a in self.actions if a.awaiting_approval), None)

    @property
    def paused(self) -> bool:
        return not self.inbound.enabled


@dataclass(frozen=True, slots=True)
class Pipeline:
    """A pipeline of one target as last read: structure, state of every stage, recent executions."""

    target: str
    name: str
    version: int | None = None
    pipeline_type: str = "V1"
    execution_mode: str = "SUPERSEDED"
    stages: tuple[Stage, ...] = ()
    executions: tuple[PipelineExecution, ...] = ()
    read_at: datetime | None = None
    error: str | None = None
    # What the picture is made of when not all of it could be read, in one line: "GetPipelineState
    # unavailable (HTTP 500: …): statuses from ListPipelineExecutions".
    note: str | None = None

    @property
    def key(self) -> str:
        return f"{self.target}:{self.name}"

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def execution(self, execution_id: str | None) -> PipelineExecution | None:
        if execution_id is None:
            return None
        return next((e for e in self.executions if e.id == execution_id), None)

    @property
    def latest_execution(self) -> PipelineExecution | None:
        return self.executions[0] if self.executions else None


# --- Step Functions -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Execution:
    """A Step Functions execution as ListExecutions / DescribeExecution describe it."""

    arn: str
    name: str
    state_machine_arn: str
    status: str
    started: datetime | None = None
    stopped: datetime | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    redrive_count: int = 0
    redrive_status: str | None = None  # REDRIVABLE | NOT_REDRIVABLE | REDRIVABLE_BY_MAP_RUN (DescribeExecution)
    redrive_status_reason: str | None = None

    @property
    def is_running(self) -> bool:
        return self.status == "RUNNING"


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event of an execution's history, with the fields an operator reads pulled out of its details."""

    id: int
    type: str
    timestamp: datetime
    previous_id: int = 0
    state_name: str | None = None
    resource: str | None = None
    parameters: str | None = None
    input: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    # TaskScheduled's timeoutInSeconds: when a `.waitForTaskToken` approval expires.
    timeout_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A state machine of one target as last read, with its newest executions."""

    target: str
    arn: str
    name: str
    type: str = "STANDARD"
    wave: Wave | None = None
    rollback_state_machine: str | None = None
    approval_states: tuple[str, ...] = ()
    executions: tuple[Execution, ...] = ()
    read_at: datetime | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.target}:{self.name}"

    @property
    def running(self) -> int:
        return sum(1 for e in self.executions if e.status == "RUNNING")

    @property
    def failed(self) -> int:
        return sum(1 for e in self.executions if e.status in ("FAILED", "TIMED_OUT", "ABORTED"))


# --- What waits for a person, and what changed ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Approval:
    """Something waiting for a person: a CodePipeline manual approval or a `.waitForTaskToken` state."""

    kind: Service
    target: str
    resource: str  # pipeline/stage/action, or state-machine/execution
    wave: Wave | None
    since: datetime | None
    expires: datetime | None = None
    revision: SourceRevision | None = None
    custom_data: str = ""
    url: str | None = None
    state_name: str | None = None
    execution: str | None = None

    def __post_init__(self) -> None:
        # Accept the value too ("codepipeline"), as the JSON and older callers spell it.
        object.__setattr__(self, "kind", Service(self.kind))

    @property
    def key(self) -> str:
        return f"{self.target}:{self.resource}"


@dataclass(frozen=True, slots=True)
class Transition:
    """One change the watcher saw: what `wavedeck watch` prints and the activity screen lists."""

    time: datetime
    target: str
    kind: TransitionKind
    resource: str
    execution: str | None
    wave: Wave | None
    from_status: str | None
    to_status: str | None
    detail: str = ""
    source: str = "poll"  # poll | push

    def __post_init__(self) -> None:
        # Accept the value too ("stage"), as `wavedeck watch --json` prints it.
        object.__setattr__(self, "kind", TransitionKind(self.kind))

    def to_json(self) -> dict[str, object]:
        return {
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "target": self.target,
            "kind": self.kind.value,
            "resource": self.resource,
            "execution": self.execution,
            "wave": self.wave.name if self.wave else None,
            "from": self.from_status,
            "to": self.to_status,
            "detail": self.detail,
            "source": self.source,
        }


# --- The live model as the watcher publishes it --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """How a target is doing: reachable, throttled, pushed to, and the last problem in plain words."""

    target: Target
    identity: str | None = None  # caller ARN, once known
    read_at: datetime | None = None
    error: str | None = None  # the last failure, e.g. expired credentials with the command that fixes it
    throttled: bool = False
    push: str = "off"  # off | on | failed (falling back to polling)


@dataclass(frozen=True)
class FleetState:
    """One consistent picture of everything the watcher knows, replaced whole on every change.

    Keys are `target:name` (Pipeline.key / StateMachine.key). `intervals` are the seconds after which a
    resource counts as stale (twice its poll interval), by key; a resource missing there uses `stale_after`.
    `cached` are the keys whose picture came from the warm-start cache and has not been read since: stale
    however recent the cache, until read.
    """

    pipelines: Mapping[str, Pipeline] = field(default_factory=dict)
    state_machines: Mapping[str, StateMachine] = field(default_factory=dict)
    approvals: tuple[Approval, ...] = ()
    targets: tuple[TargetStatus, ...] = ()
    stale_after: Mapping[str, float] = field(default_factory=dict)
    default_stale_after: float = 30.0
    cached: frozenset[str] = frozenset()

    def is_stale(self, key: str, read_at: datetime | None, now: datetime) -> bool:
        if read_at is None or key in self.cached:
            return True
        return (now - read_at).total_seconds() > self.stale_after.get(key, self.default_stale_after)


@dataclass(frozen=True)
class FleetUpdate:
    """What subscribers of the watcher receive: the new picture and the transitions that led to it."""

    state: FleetState
    transitions: tuple[Transition, ...] = ()


# --- What the gateway returns besides the above (appended with the gateway) -----------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the console acts as on a target (STS GetCallerIdentity); written into every audit record."""

    account: str
    arn: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """AWS's answer to a mutating call: the operation, AWS's request id, and what the call returned.

    `execution_id` is the pipeline execution id of StopPipelineExecution / RetryStageExecution /
    RollbackStage (for a rollback: the new execution) or the execution ARN of StartExecution; `effective`
    is AWS's own time of the change when it gives one (approvedAt, stopDate, redriveDate, startDate).
    """

    target: str
    operation: str
    request_id: str | None
    received: datetime
    execution_id: str | None = None
    effective: datetime | None = None


@dataclass(frozen=True, slots=True)
class PipelineSummary:
    """A pipeline as ListPipelines names it."""

    name: str
    version: int | None = None
    pipeline_type: str = "V1"
    execution_mode: str = "SUPERSEDED"
    created: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class PipelineState:
    """GetPipelineState: every stage's latest execution, inbound transition and action states.

    Its stages carry no definitions (category, provider, run order): `apply_to` lays them over the
    structure from GetPipeline, keeping the structure's order and adding what only the state knows.
    """

    name: str
    version: int | None
    stages: tuple[Stage, ...]
    created: datetime | None = None
    updated: datetime | None = None

    def apply_to(self, pipeline: Pipeline, read_at: datetime | None = None) -> Pipeline:
        states = {s.name: s for s in self.stages}
        merged: list[Stage] = []
        for stage in pipeline.stages:
            state = states.get(stage.name)
            if state is None:
                merged.append(stage)
                continue
            action_states = {a.name: a for a in state.actions}
            actions = []
            for action in stage.actions:
                live = action_states.get(action.name)
                if live is None:
                    actions.append(action)
                    continue
                actions.append(
                    replace(
                        live,
                        category=action.category,
                        provider=action.provider,
                        run_order=action.run_order,
                        configuration=action.configuration,
                        timeout_minutes=action.timeout_minutes,
                    )
                )
            known = {a.name for a in stage.actions}
            actions.extend(a for a in state.actions if a.name not in known)
            merged.append(
                replace(
                    state,
                    wave=stage.wave if stage.wave is not None else state.wave,
                    actions=tuple(actions),
                )
            )
        known_stages = {s.name for s in pipeline.stages}
        merged.extend(s for s in self.stages if s.name not in known_stages)
        return replace(
            pipeline,
            version=self.version if self.version is not None else pipeline.version,
            stages=tuple(merged),
            read_at=read_at if read_at is not None else pipeline.read_at,
        )


@dataclass(frozen=True, slots=True)
class ActionExecution:
    """One action's run in one pipeline execution (ListActionExecutions).

    For a manual approval in PARALLEL mode, `external_execution_id` is the token PutApprovalResult needs.
    """

    pipeline_execution_id: str
    action_execution_id: str
    stage: str
    action: str
    status: str
    started: datetime | None = None
    updated: datetime | None = None
    updated_by: str | None = None
    pipeline_version: int | None = None
    category: str = ""
    provider: str = ""
    configuration: tuple[tuple[str, str], ...] = ()
    external_execution_id: str | None = None
    external_execution_url: str | None = None
    summary: str = ""
    error_code: str | None = None
    error_message: str | None = None

    @property
    def custom_data(self) -> str:
        return dict(self.configuration).get("CustomData", "")


@dataclass(frozen=True, slots=True)
class StateMachineSummary:
    """A state machine as ListStateMachines names it."""

    arn: str
    name: str
    type: str = "STANDARD"
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskTokenState:
    """A `.waitForTaskToken` Task state: where its author put `$$.Task.Token` among the arguments.

    `token_paths` are key paths into the resolved parameters as a TaskScheduled event shows them (the
    `.$` suffix of JSONPath keys already removed), e.g. ("MessageBody", "taskToken").
    """

    name: str
    resource: str
    token_paths: tuple[tuple[str, ...], ...] = ()

    def token_in(self, parameters: str | None) -> str | None:
        """The task token inside a TaskScheduled event's `parameters` JSON, if it is where the author put it."""
        if not parameters:
            return None
        try:
            document: object = json.loads(parameters)
        except ValueError:
            return None
        for path in self.token_paths:
            value = document
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str) and value:
                return value
        return None


@dataclass(frozen=True, slots=True)
class StateMachineDetail:
    """DescribeStateMachine: the definition, parsed, and the states that wait for a person's token.

    `definition` is the parsed ASL document (`definition_text` as AWS returned it); when the text is not
    a JSON object, `definition` is empty and `definition_error` says why.
    """

    arn: str
    name: str
    type: str
    definition_text: str
    definition: Mapping[str, object] = field(default_factory=dict, hash=False)
    role_arn: str = ""
    status: str | None = None
    created: datetime | None = None
    revision_id: str | None = None
    task_token_states: tuple[TaskTokenState, ...] = ()
    states: tuple[str, ...] = ()
    definition_error: str | None = None

    def task_token_state(self, name: str | None) -> TaskTokenState | None:
        return next((s for s in self.task_token_states if s.name == name), None)


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """One SQS message of the push stream; `receipt_handle` deletes it."""

    message_id: str
    receipt_handle: str
    body: str
    sent: datetime | None = None
    receive_count: int = 1
