"""Stage conditions while they are evaluated: their runs, re-evaluation on the clock, overrides, cancellation.

`Flow` starts an evaluation when an execution reaches a stage with `beforeEntry`, when a stage's actions
have all succeeded and it declares `onSuccess`, and when it fails and declares `onFailure` conditions.
`ConditionFlow` keeps every evaluation in progress, looks at its in-progress rules again on each
`advance`, and hands each decided evaluation back to the flow (`on_decided`), which then lets the stage
go on, fails it, skips it, rolls it back or retries it.

A condition is met when all of its rules succeed; the first rule that fails fails the condition (rules
still in progress are abandoned) and the condition's result engages. An override (OverrideStageCondition)
ends an evaluation in progress as `Overridden`: the stage goes on as if the condition were met.

Not thread-safe: the engine calls it under its one lock, through `Flow`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from console.sandbox.clock import SandboxClock
from console.sandbox.codepipeline.condition_shapes import ON_SUCCESS, ConditionSet, ConditionShape, RuleShape
from console.sandbox.codepipeline.records import (
    ABANDONED,
    CANCELLED,
    FAILED,
    IN_PROGRESS,
    SUCCEEDED,
    PipelineState,
    StageRun,
)
from console.sandbox.codepipeline.rules import RuleContext, alarm_names, evaluate
from console.sandbox.codepipeline.variables import resolve

OVERRIDDEN = "Overridden"


@dataclass(eq=False, slots=True)
class RuleRun:
    """One evaluation of one rule of a stage condition (ListRuleExecutions' ruleExecutionDetails item)."""

    id: str
    stage: StageRun
    kind: str
    shape: RuleShape
    start: datetime
    updated: datetime
    configuration: dict[str, str]
    status: str = IN_PROGRESS
    summary: str | None = None
    error_code: str | None = None
    external_url: str | None = None
    updated_by: str | None = None
    recheck: datetime | None = None


@dataclass(eq=False, slots=True)
class ConditionRun:
    shape: ConditionShape
    rules: list[RuleRun]
    status: str = IN_PROGRESS
    summary: str | None = None
    updated: datetime | None = None


@dataclass(eq=False, slots=True)
class ConditionsRun:
    """One evaluation of one kind of condition of a stage, in one pass of an execution through it."""

    kind: str
    stage: StageRun
    declared: ConditionSet
    conditions: list[ConditionRun]
    start: datetime
    status: str = IN_PROGRESS
    summary: str | None = None
    updated: datetime | None = None
    result: str | None = None  # the result that engaged (None: met or overridden)
    overridden_by: str | None = None
    decided: bool = False

    @property
    def met(self) -> bool:
        return self.status in (SUCCEEDED, OVERRIDDEN)


Decided = Callable[[ConditionsRun, datetime], None]


@dataclass(frozen=True)
class Bake:
    """An onSuccess CloudWatchAlarm rule in progress: the alarms it watches, from when until when (real time)."""

    pipeline: str
    region: str
    rule_id: str
    alarms: tuple[str, ...]
    start: datetime
    end: datetime


@dataclass
class ConditionFlow:
    """Every condition evaluation in progress, moved on by the flow's clock."""

    clock: SandboxClock
    on_decided: Decided
    live: dict[int, ConditionsRun] = field(default_factory=dict)

    def begin(self, stage: StageRun, declared: ConditionSet, now: datetime) -> ConditionsRun:
        """Start evaluating `declared` for `stage`; may decide (and call on_decided) before it returns."""
        execution = stage.execution
        run = ConditionsRun(declared.kind, stage, declared, [], now, updated=now)
        for condition in declared.conditions:
            rules = []
            for rule in condition.rules:
                configuration = dict(resolve(rule.configuration, execution))
                rule_run = RuleRun(str(uuid.uuid4()), stage, declared.kind, rule, now, now, configuration)
                rules.append(rule_run)
                execution.rule_runs.append(rule_run)
            run.conditions.append(ConditionRun(condition, rules, updated=now))
        stage.conditions[declared.kind] = run
        self.live[id(run)] = run
        self._evaluate(run, now, force=True)
        return run

    def advance(self, now: datetime) -> bool:
        """Look again at every rule in progress that is due; True when an evaluation was decided."""
        decided = False
        for run in list(self.live.values()):
            if run.stage.execution.pipeline.deleted:
                self.live.pop(id(run), None)
                continue
            decided = self._evaluate(run, now, force=False) or decided
        return decided

    def override(self, run: ConditionsRun, caller: str, now: datetime) -> None:
        """A person ends the evaluation: the stage goes on as if the condition were met."""
        for condition in run.conditions:
            for rule in condition.rules:
                if rule.status == IN_PROGRESS:
                    rule.status, rule.updated, rule.updated_by = ABANDONED, now, caller
                    rule.summary = f"Overridden by {caller}"
            if condition.status == IN_PROGRESS:
                condition.status, condition.updated = OVERRIDDEN, now
                condition.summary = f"Overridden by {caller}"
        run.overridden_by = caller
        self._decide(run, OVERRIDDEN, f"Overridden by {caller}", None, now)

    def cancel(self, stage: StageRun, now: datetime) -> None:
        """The execution stopped or was cancelled while a condition of the stage was evaluated."""
        for run in list(stage.conditions.values()):
            if run.decided:
                continue
            for condition in run.conditions:
                for rule in condition.rules:
                    if rule.status == IN_PROGRESS:
                        rule.status, rule.updated = ABANDONED, now
                        rule.summary = "Abandoned: the pipeline execution stopped"
                if condition.status == IN_PROGRESS:
                    condition.status, condition.updated = CANCELLED, now
            run.status, run.summary, run.updated, run.decided = CANCELLED, "The pipeline execution stopped", now, True
            self.live.pop(id(run), None)

    def bakes(self) -> list[Bake]:
        """Every bake in progress (onSuccess CloudWatchAlarm rules with a WaitTime), for the traffic to disturb."""
        found = []
        for run in self.live.values():
            if run.kind != ON_SUCCESS or run.stage.execution.pipeline.deleted:
                continue
            for condition in run.conditions:
                for rule in condition.rules:
                    if rule.status != IN_PROGRESS or rule.shape.provider != "CloudWatchAlarm":
                        continue
                    minutes = float(rule.configuration.get("WaitTime") or 0)
                    names = tuple(alarm_names(rule.configuration))
                    if minutes > 0 and names:
                        end = rule.start + self.clock.scale(minutes * 60.0)
                        found.append(
                            Bake(run.stage.execution.pipeline.name, rule.shape.region, rule.id, names, rule.start, end)
                        )
        return found

    def forget(self, pipeline: PipelineState) -> None:
        for key, run in list(self.live.items()):
            if run.stage.execution.pipeline is pipeline:
                del self.live[key]

    # --- evaluation ----------------------------------------------------------------------------------

    def _evaluate(self, run: ConditionsRun, now: datetime, *, force: bool) -> bool:
        execution = run.stage.execution
        for condition in run.conditions:
            for rule in condition.rules:
                if rule.status != IN_PROGRESS or (not force and rule.recheck is not None and rule.recheck > now):
                    continue
                context = RuleContext(
                    rule.shape,
                    rule.configuration,
                    run.kind,
                    rule.start,
                    execution.pipeline.account,
                    rule_id=rule.id,
                    pipeline=execution.pipeline.name,
                    stage=run.stage.shape.name,
                    execution_id=execution.id,
                )
                verdict = evaluate(context, now, self.clock)
                rule.recheck = verdict.recheck
                rule.external_url = verdict.external_url or rule.external_url
                if verdict.status != rule.status or verdict.summary != rule.summary:
                    rule.summary = verdict.summary
                    if verdict.status != rule.status:
                        rule.status, rule.updated = verdict.status, now
                        rule.error_code = verdict.error_code
            self._settle_condition(condition, now)
        if any(c.status == FAILED for c in run.conditions):
            failed = next(c for c in run.conditions if c.status == FAILED)
            result = failed.shape.result or run.declared.result
            self._decide(run, FAILED, f"{failed.summary}; result {result} engaged", result, now)
            return True
        if all(c.status == SUCCEEDED for c in run.conditions):
            self._decide(run, SUCCEEDED, "All conditions met", None, now)
            return True
        waiting = [r.summary for c in run.conditions for r in c.rules if r.status == IN_PROGRESS and r.summary]
        run.summary = "; ".join(waiting)[:2048] or None
        return False

    @staticmethod
    def _settle_condition(condition: ConditionRun, now: datetime) -> None:
        if condition.status != IN_PROGRESS:
            return
        failed = next((r for r in condition.rules if r.status == FAILED), None)
        if failed is not None:
            for rule in condition.rules:
                if rule.status == IN_PROGRESS:
                    rule.status, rule.updated = ABANDONED, now
                    rule.summary = f"Abandoned: rule {failed.shape.name} failed"
            condition.status, condition.updated = FAILED, now
            condition.summary = f"Rule {failed.shape.name} failed: {failed.summary}"
        elif all(r.status == SUCCEEDED for r in condition.rules):
            condition.status, condition.updated = SUCCEEDED, now
            condition.summary = "All rules succeeded"
        else:
            waiting = [r.summary for r in condition.rules if r.status == IN_PROGRESS and r.summary]
            condition.summary = "; ".join(waiting)[:2048] or None

    def _decide(self, run: ConditionsRun, status: str, summary: str, result: str | None, now: datetime) -> None:
        run.status, run.summary, run.updated, run.result, run.decided = status, summary[:2048], now, result, True
        self.live.pop(id(run), None)
        self.on_decided(run, now)
