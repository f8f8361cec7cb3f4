"""The console's vocabulary: frozen dataclasses that flow from the gateway to the watcher to the screens.

Nothing here talks to AWS or to the terminal. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Protocol, cast


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
    CONDITION = "condition"

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
    `shown_endpoint` is the endpoint the header names beside it: set whenever requests do not go to AWS's own
    endpoint (an `endpoint_url`, `AWS_ENDPOINT_URL`, or the profile's `endpoint_url`).
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
    shown_endpoint: str | None = None


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


class ConditionKind(enum.StrEnum):
    """When a stage's conditions are evaluated; the value is AWS's `conditionType` (OverrideStageCondition)."""

    BEFORE_ENTRY = "BEFORE_ENTRY"
    ON_SUCCESS = "ON_SUCCESS"
    ON_FAILURE = "ON_FAILURE"

    @property
    def label(self) -> str:
        """How the operator reads it: `before entry`."""
        return self.value.lower().replace("_", " ")

    @property
    def option(self) -> str:
        """How the command line spells it: `before-entry`."""
        return self.value.lower().replace("_", "-")

    @property
    def declaration_key(self) -> str:
        """The stage declaration's key (GetPipeline): `beforeEntry`."""
        head, *rest = self.value.lower().split("_")
        return head + "".join(part.title() for part in rest)

    @property
    def state_key(self) -> str:
        """The stage state's key (GetPipelineState): `beforeEntryConditionState`."""
        return self.declaration_key + "ConditionState"

    @property
    def overridable(self) -> bool:
        """OverrideStageCondition takes BEFORE_ENTRY and ON_SUCCESS only."""
        return self is not ConditionKind.ON_FAILURE


def _minutes(value: str | None) -> float | None:
    try:
        minutes = float(value) if value else None
    except ValueError:
        return None
    return minutes if minutes is not None and minutes > 0 else None


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule of a condition: its declaration (provider, configuration) and its latest evaluation.

    The declaration comes from GetPipeline, the evaluation from GetPipelineState's `ruleStates`. While a rule
    is InProgress, `last_status_change` is when it started: a bake ends `WaitTime` minutes after it.
    """

    name: str
    provider: str = ""
    configuration: tuple[tuple[str, str], ...] = ()
    status: str | None = None  # InProgress | Abandoned | Succeeded | Failed
    summary: str = ""
    rule_execution_id: str | None = None
    last_status_change: datetime | None = None
    last_updated_by: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    url: str | None = None

    def setting(self, key: str) -> str | None:
        return dict(self.configuration).get(key)

    @property
    def alarms(self) -> tuple[str, ...]:
        """The CloudWatch alarms a CloudWatchAlarm rule watches (`AlarmName`, comma-separated)."""
        if self.provider != "CloudWatchAlarm":
            return ()
        return tuple(n.strip() for n in (self.setting("AlarmName") or "").split(",") if n.strip())

    @property
    def wait_minutes(self) -> float | None:
        """`WaitTime` in minutes: a bake after a stage, how long entry waits for alarms to clear."""
        return _minutes(self.setting("WaitTime"))

    @property
    def window(self) -> str | None:
        """A DeploymentWindow rule's window: `Cron` and its time zone."""
        if self.provider != "DeploymentWindow":
            return None
        cron = self.setting("Cron") or "?"
        return f"{cron} ({self.setting('TimeZone') or 'UTC'})"

    def ends(self) -> datetime | None:
        """When a rule in progress with a WaitTime stops waiting (a bake ends), if that can be known."""
        minutes = self.wait_minutes
        if self.status != "InProgress" or minutes is None or self.last_status_change is None:
            return None
        return self.last_status_change + timedelta(minutes=minutes)

    def watches(self) -> str:
        """What the rule looks at, in a few words: `alarms Prod-5xx, Prod-p99`, `window 0 0 9 ? * MON-FRI (UTC)`."""
        if self.alarms:
            return f"alarm{'s' if len(self.alarms) > 1 else ''} {', '.join(self.alarms)}"
        if self.window is not None:
            return f"window {self.window}"
        if self.provider == "VariableCheck":
            parts = (self.setting("Variable"), self.setting("Operator"), self.setting("Value"))
            return " ".join(p for p in parts if p)
        if self.provider == "LambdaInvoke":
            return f"function {self.setting('FunctionName') or '?'}"
        return ""


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition: its result (what happens when a rule fails) and rules, with its latest evaluation."""

    result: str | None = None  # FAIL | SKIP | ROLLBACK | RETRY
    rules: tuple[Rule, ...] = ()
    status: str | None = None  # InProgress | Failed | Errored | Succeeded | Cancelled | Abandoned | Overridden
    summary: str = ""
    last_status_change: datetime | None = None


@dataclass(frozen=True, slots=True)
class StageCondition:
    """A stage's conditions of one kind (`beforeEntry`, `onSuccess`, `onFailure`) and how they stand.

    `result` is the kind's own result (an `onFailure` may declare a bare one); `status` and `summary` are
    the latest evaluation of them all (StageConditionState.latestExecution), None before any.
    """

    kind: ConditionKind
    conditions: tuple[Condition, ...] = ()
    result: str | None = None
    status: str | None = None
    summary: str = ""

    @property
    def in_progress(self) -> bool:
        return self.status == "InProgress"

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(r for c in self.conditions for r in c.rules)

    @property
    def results(self) -> tuple[str, ...]:
        found = [c.result for c in self.conditions if c.result] or ([self.result] if self.result else [])
        return tuple(dict.fromkeys(found))

    @property
    def not_overridable(self) -> str | None:
        """Why AWS would refuse to override these conditions, whatever their state; None when it would not."""
        if not self.kind.overridable:
            return f"{self.kind.label} conditions cannot be overridden"
        if "SKIP" in self.results:
            return f"a {self.kind.label} condition with result SKIP cannot be overridden"
        return None

    def ends(self) -> datetime | None:
        """When the latest of its waiting rules stops waiting (a bake's end), if known."""
        moments = [m for m in (r.ends() for r in self.rules) if m is not None]
        return max(moments, default=None)


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
    conditions: tuple[StageCondition, ...] = ()  # V2 stage conditions, in AWS's order of evaluation

    @property
    def awaiting_approval(self) -> Action | None:
        return next((a for a in self.actions if a.awaiting_approval), None)

    def condition(self, kind: ConditionKind) -> StageCondition | None:
        return next((c for c in self.conditions if c.kind is kind), None)

    @property
    def held_by(self) -> StageCondition | None:
        """The entry or success conditions holding the stage now (being evaluated), if any."""
        return next((c for c in self.conditions if c.in_progress and c.kind.overridable), None)

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
    # MapIterationStarted's index (and the other MapIteration events'): which item of a Map an iteration runs.
    index: int | None = None


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
    # Where each `.waitForTaskToken` state puts its token: what the history follower redacts (console/tokens.py).
    token_states: tuple[TaskTokenState, ...] = field(default=(), repr=False)
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
    # Not an approval but a stage held by its entry conditions on alarms, which only a person's override (or
    # the alarms clearing) ends; `expires` is when the conditions stop waiting and fail the stage.
    condition: ConditionKind | None = None
    # Step Functions only: where the state waits when it is inside Parallel branches or Map iterations
    # ("iteration 2 of ReviewEach"), the index of its innermost Map iteration, and the id of its TaskScheduled
    # event, which tells apart the same state waiting in several iterations (and never changes while it waits).
    where: str = ""
    map_index: int | None = None
    task_event: int | None = None

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


class Resource(Protocol):
    """A resource as the watcher keeps it, whatever its service (a Pipeline, a StateMachine): its picture as last
    read, with the error of its last read."""

    @property
    def target(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def read_at(self) -> datetime | None: ...

    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True)
class FleetState:
    """One consistent picture of everything the watcher knows, replaced whole on every change.

    `resources` keeps each service's pictures apart, by service, then by key: `target:name` (Pipeline.key /
    StateMachine.key); each service package reads its own through a typed accessor. `intervals` are the seconds
    after which a resource counts as stale (twice its poll interval), by key; a resource missing there uses
    `stale_after`.
    `cached` are the keys whose picture came from the warm-start cache and has not been read since: stale
    however recent the cache, until read.
    """

    resources: Mapping[Service, Mapping[str, Resource]] = field(default_factory=dict)
    approvals: tuple[Approval, ...] = ()
    targets: tuple[TargetStatus, ...] = ()
    stale_after: Mapping[str, float] = field(default_factory=dict)
    default_stale_after: float = 30.0
    cached: frozenset[str] = frozenset()
    # What a person must be told, once, in the order it happened (a warm-start cache discarded as corrupt).
    notices: tuple[str, ...] = ()

    def of(self, service: Service) -> Mapping[str, Resource]:
        """The pictures of one service's resources, by key."""
        return self.resources.get(service, _NONE)

    # The two services' pictures, typed, while their model types still live here: they move into the service
    # packages with those types (each a typed accessor of its own over `of`).
    @property
    def pipelines(self) -> Mapping[str, Pipeline]:
        return cast("Mapping[str, Pipeline]", self.of(Service.CODEPIPELINE))

    @property
    def state_machines(self) -> Mapping[str, StateMachine]:
        return cast("Mapping[str, StateMachine]", self.of(Service.STEPFUNCTIONS))

    def is_stale(self, key: str, read_at: datetime | None, now: datetime) -> bool:
        if read_at is None or key in self.cached:
            return True
        return (now - read_at).total_seconds() > self.stale_after.get(key, self.default_stale_after)


_NONE: Mapping[str, Resource] = MappingProxyType({})


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
                    conditions=merge_conditions(stage.conditions, state.conditions),
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


def merge_conditions(
    declared: tuple[StageCondition, ...], live: tuple[StageCondition, ...]
) -> tuple[StageCondition, ...]:
    """The declared conditions (GetPipeline: results, providers, configuration) with their live states
    (GetPipelineState) laid over them: conditions by position, rules by name. A state without a declaration
    (the structure not read yet) is kept as it is."""
    states = {c.kind: c for c in live}
    merged: list[StageCondition] = []
    for stage_condition in declared:
        state = states.pop(stage_condition.kind, None)
        if state is None:
            merged.append(stage_condition)
            continue
        conditions = []
        for index, condition in enumerate(stage_condition.conditions):
            found = state.conditions[index] if index < len(state.conditions) else Condition()
            rule_states = {r.name: r for r in found.rules}
            rules = tuple(
                replace(rule_states[r.name], provider=r.provider, configuration=r.configuration)
                if r.name in rule_states
                else r
                for r in condition.rules
            )
            conditions.append(
                replace(
                    condition,
                    rules=rules,
                    status=found.status,
                    summary=found.summary,
                    last_status_change=found.last_status_change,
                )
            )
        merged.append(
            replace(stage_condition, conditions=tuple(conditions), status=state.status, summary=state.summary)
        )
    merged.extend(c for c in live if c.kind in states)
    order = list(ConditionKind)
    return tuple(sorted(merged, key=lambda c: order.index(c.kind)))


@dataclass(frozen=True, slots=True)
class RuleExecution:
    """One evaluation of a rule (ListRuleExecutions): when it started and ended, what it was given, its result."""

    pipeline_execution_id: str
    rule_execution_id: str
    stage: str
    rule: str
    status: str
    started: datetime | None = None
    updated: datetime | None = None
    updated_by: str | None = None
    provider: str = ""
    configuration: tuple[tuple[str, str], ...] = ()
    summary: str = ""
    url: str | None = None
    error_code: str | None = None
    error_message: str | None = None


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
    # Every (path, expression) that holds or embeds the token: `$$.Task.Token`, `States.Format(..., $$.Task.Token)`,
    # `$$.Task`, a JSONata expression; list items by index. What the displays redact (console/tokens.py).
    token_expressions: tuple[tuple[tuple[str | int, ...], str], ...] = ()

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
