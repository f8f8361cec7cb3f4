"""CodePipeline's own vocabulary: pipelines, stages, actions, conditions and rules, their executions, the
transitions the watcher sees of them, and the typed view of its pictures in a `FleetState`."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar, cast

from console.model import FleetState, Service, SourceRevision, TransitionKind, Wave

SERVICE = Service("codepipeline")
T = TypeVar("T")


class PipelineTransition(TransitionKind):
    """What a CodePipeline Transition is about."""

    PIPELINE_EXECUTION = "pipeline-execution"
    STAGE = "stage"
    ACTION = "action"
    CONDITION = "condition"

    @property
    def service(self) -> Service:
        return SERVICE


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
        """Whether it waits for a person: a manual approval in progress, whether or not its token is known (the
        warm-start cache and pushed events carry none; the gate reads it fresh before answering), or any action
        in progress with a token (a state read without its declaration still tells an approval by its token)."""
        return self.status == "InProgress" and (self.token is not None or self.is_approval)


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


# The inbound transition of almost every stage: one object for all of them (a stage's own is made only when it
# was disabled or toggled: `OPEN` is equal to any enabled one that nobody changed).
OPEN = InboundTransition()


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
    inbound: InboundTransition = OPEN
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


def reusing(before: Pipeline | None, after: Pipeline) -> Pipeline:
    """`after`, made of `before`'s objects wherever they are equal: each stage equal to `before`'s at its place,
    each execution equal to `before`'s of the same id, and the whole tuples when every one is.

    Every read builds a pipeline's picture anew, and most reads change nothing or one stage. Whoever still holds
    the picture before (the screens, the last update not drawn yet) then shares all but what changed with the
    new one instead of holding a second copy, and comparing them (`==`, which a row cache and the diff do for
    every read) stops at the first shared object."""
    if before is None:
        return after
    stages = _reused(before.stages, after.stages, lambda s: s.name)
    executions = _reused(before.executions, after.executions, lambda e: e.id)
    if stages is after.stages and executions is after.executions:
        return after
    return replace(after, stages=stages, executions=executions)


def _reused(before: tuple[T, ...], after: tuple[T, ...], key: Callable[[T], str]) -> tuple[T, ...]:
    if before is after or not before or not after:
        return after
    old = {key(item): item for item in before}
    reused = tuple(
        previous if previous is not None and previous == item else item
        for item in after
        for previous in (old.get(key(item)),)
    )
    if len(reused) == len(before) and all(a is b for a, b in zip(reused, before, strict=True)):
        return before
    return reused


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


def pipelines_of(state: FleetState) -> Mapping[str, Pipeline]:
    """The pipelines of a published picture, by key."""
    return cast("Mapping[str, Pipeline]", state.of(SERVICE))
