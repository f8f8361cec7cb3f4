"""How pipeline executions move: stage locks, runOrder, timed actions, approvals, stop, retry, rollback.

`Flow` holds every run that can still change and moves them to a given time. Each change happens at the
time it was due (an action that ends at 12:00:03 ends then, even when `advance` is only called at
12:00:05), so history played in small steps during warm-up carries the same timestamps as history played
in one go. Only live things are touched: a heap of timed runs and the few Step Functions executions being
waited on; GetPipelineState never walks history.

Not thread-safe: `PipelineEngine` calls it under its one lock. Events are collected in `events` and the
engine puts them on the bus after releasing the lock.

Sandbox choices where AWS leaves room (the README lists them):
- An execution waits at a stage's inbound side while another execution is in the stage or the inbound
  transition is disabled. QUEUED: waiting executions enter in arrival order. SUPERSEDED: a newer execution
  arriving where an older one waits replaces it; the older one becomes Superseded. PARALLEL: no stage lock.
- When an action fails, actions already running in the stage finish, no further runOrder starts, and the
  stage and the execution fail once nothing runs.
- Stop and wait: no new action starts; the execution is Stopping until running actions end, then Stopped.
  Stop and abandon (also as an escalation of a wait): running actions become Abandoned, Stopped at once.
  A Step Functions execution behind an abandoned action keeps running, as in AWS.
- Retry resumes the same execution (pipeline and stage events RESUMED, attempt + 1). FAILED_ACTIONS re-runs
  every action of the stage that did not succeed (failed, abandoned or never started), by runOrder.
- Rollback starts a ROLLBACK execution straight into the stage (past a disabled transition and queued
  executions: an operator rolling back means it) and ends when that stage ends.
- Updating the pipeline structure cancels executions in flight (Cancelled; running actions Abandoned).
- Transitions are Inbound only: Outbound is refused (ValidationException saying to disable the next
  stage's Inbound transition instead), and the first stage has none.
- GetPipelineState shows each action's latest run whichever execution it belongs to (as AWS does), and an
  approval's token only while it waits. Rejected approvals fail with error code ApprovalRejected, expired
  ones with ApprovalExpired, other failures with JobFailed (ConfigurationError for a bad Sandbox* value).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from console.sandbox.clock import SandboxClock
from console.sandbox.codepipeline import events as ev
from console.sandbox.codepipeline import sfn, variables
from console.sandbox.codepipeline.behaviour import draw
from console.sandbox.codepipeline.condition_shapes import BEFORE_ENTRY, ON_FAILURE, ON_SUCCESS
from console.sandbox.codepipeline.conditions import ConditionFlow, ConditionsRun
from console.sandbox.codepipeline.records import (
    ABANDONED,
    ACTIVE,
    CANCELLED,
    FAILED,
    IN_PROGRESS,
    SKIPPED,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    SUPERSEDED,
    ActionRun,
    ActionShape,
    Behaviour,
    ExecutionRun,
    PendingEvent,
    PipelineState,
    StageRun,
)

HISTORY = 200  # executions kept per pipeline (the newest; running ones are never dropped)

BehaviourOf = Callable[[PipelineState, str, ActionShape, Mapping[str, str]], Behaviour]

_DONE_SUMMARY = {
    "Build": "Build succeeded",
    "Deploy": "Deployment succeeded",
    "Test": "Tests passed",
    "Invoke": "Invocation succeeded",
    "Compute": "Commands succeeded",
    "Approval": "Approved",
}


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


class Flow:
    """Moves executions of every pipeline forward; the engine owns it and serialises calls."""

    def __init__(self, clock: SandboxClock, seed: int, behaviour_of: BehaviourOf) -> None:
        self.clock = clock
        self.seed = seed
        self.behaviour_of = behaviour_of
        self.events: list[PendingEvent] = []
        self._timers: list[tuple[datetime, int, ActionRun]] = []
        self._order = itertools.count()
        self._sfn: dict[str, ActionRun] = {}
        self.conditions = ConditionFlow(clock, self._condition_decided)

    # --- time ----------------------------------------------------------------------------------------

    def advance(self, now: datetime, *, poll_step_functions: bool) -> None:
        """Apply every change due at or before `now`, each at its own time."""
        self._run_timers(now)
        if poll_step_functions and self._sfn:
            for run in list(self._sfn.values()):
                self._poll(run, now)
            self._run_timers(now)
        while self.conditions.advance(now):  # a decided condition may start actions that are due already
            self._run_timers(now)

    def _run_timers(self, now: datetime) -> None:
        while self._timers and self._timers[0][0] <= now:
            due, _, run = heapq.heappop(self._timers)
            if run.status != IN_PROGRESS or run.due != due or run.execution.pipeline.deleted:
                continue  # answered, abandoned or cancelled since it was scheduled
            self._on_due(run, due)

    def _schedule(self, run: ActionRun, due: datetime) -> None:
        run.due = due
        heapq.heappush(self._timers, (due, next(self._order), run))

    def _poll(self, run: ActionRun, now: datetime) -> None:
        if run.status != IN_PROGRESS or run.execution.pipeline.deleted or run.sfn_arn is None:
            self._sfn.pop(run.id, None)
            return
        finished = sfn.poll(run.sfn_account, run.sfn_region, run.sfn_arn)
        if finished is None:
            return
        self._sfn.pop(run.id, None)
        when = now
        if finished.stopped is not None:
            when = min(now, max(run.start, finished.stopped))
        if finished.status == "SUCCEEDED":
            run.status = SUCCEEDED
            run.summary = "Step Functions execution succeeded"
            variables.record(run)
        else:
            run.status = FAILED
            detail = ": ".join(part for part in (finished.error, finished.cause) if part)
            run.error_code = "JobFailed"
            run.error_message = detail or f"Step Functions execution ended {finished.status}"
            run.summary = f"Step Functions execution {finished.status}" + (
                f": {finished.error}" if finished.error else ""
            )
        run.external_summary = run.summary
        self._action_done(run, when)

    # --- starting ------------------------------------------------------------------------------------

    def start(
        self,
        pipeline: PipelineState,
        now: datetime,
        *,
        trigger_type: str,
        trigger_detail: str,
        source_revisions: list[dict[str, str]] | None,
        variables: Mapping[str, str] | None,
    ) -> ExecutionRun:
        execution = self._new_execution(pipeline, now, trigger_type, trigger_detail, variables)
        execution.source_revisions = self._revisions(pipeline, execution.ordinal, source_revisions)
        self._emit(ev.pipeline_event(execution, ev.STARTED, now))
        self._arrive(execution, 0, now)
        return execution

    def rollback(
        self,
        pipeline: PipelineState,
        stage: int,
        target: ExecutionRun,
        caller: str,
        now: datetime,
        trigger_type: str = "ManualRollback",
    ) -> str:
        execution = self._new_execution(pipeline, now, trigger_type, caller, target.variables)
        execution.execution_type = "ROLLBACK"
        execution.rollback_target = target.id
        execution.source_revisions = [dict(r) for r in target.source_revisions]
        self._emit(ev.pipeline_event(execution, ev.STARTED, now))
        self._enter(execution, stage, now)
        return execution.id

    def _new_execution(
        self,
        pipeline: PipelineState,
        now: datetime,
        trigger_type: str,
        trigger_detail: str,
        variables: Mapping[str, str] | None,
    ) -> ExecutionRun:
        pipeline.ordinal += 1
        execution = ExecutionRun(
            id=str(uuid.uuid4()),
            pipeline=pipeline,
            ordinal=pipeline.ordinal,
            shape=pipeline.shape,
            start=now,
            updated=now,
            trigger_type=trigger_type,
            trigger_detail=trigger_detail,
            source_revisions=[],
            variables={**pipeline.shape.variables, **(variables or {})},
        )
        pipeline.executions[execution.id] = execution
        pipeline.active[execution.id] = execution
        self._trim(pipeline)
        return execution

    def _revisions(
        self, pipeline: PipelineState, ordinal: int, given: list[dict[str, str]] | None
    ) -> list[dict[str, str]]:
        """The given revisions, plus a reproducible made-up commit for each source action left out."""
        revisions = [dict(r) for r in given or []]
        named = {r.get("actionName") for r in revisions}
        first = pipeline.shape.stages[0] if pipeline.shape.stages else None
        for action in first.actions if first else ():
            if action.is_source and action.name not in named:
                text = f"{self.seed}:{pipeline.region}:{pipeline.name}:{ordinal}:{action.name}"
                sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
                revisions.append(
                    {"actionName": action.name, "revisionId": sha, "revisionSummary": f"Sandbox revision {sha[:7]}"}
                )
        return revisions

    def _trim(self, pipeline: PipelineState) -> None:
        excess = len(pipeline.executions) - HISTORY
        if excess <= 0:
            return
        for execution_id, execution in list(pipeline.executions.items()):
            if excess <= 0:
                break
            if execution.active:
                continue
            del pipeline.executions[execution_id]
            excess -= 1
            for run in execution.action_runs:
                if run.token:
                    pipeline.tokens.pop(run.token, None)
        if len(pipeline.client_tokens) > HISTORY:
            pipeline.client_tokens = {
                token: eid for token, eid in pipeline.client_tokens.items() if eid in pipeline.executions
            }

    # --- stages --------------------------------------------------------------------------------------

    def _can_enter(self, pipeline: PipelineState, stage: str) -> bool:
        slot = pipeline.slot(stage)
        if not slot.transition.enabled:
            return False
        return pipeline.shape.execution_mode == "PARALLEL" or slot.occupant is None

    def _arrive(self, execution: ExecutionRun, index: int, now: datetime) -> None:
        """The execution is ready for stage `index`: enter it, or wait at its inbound side."""
        stage = execution.shape.stages[index].name
        execution.position, execution.waiting, execution.updated = index, True, now
        slot = execution.pipeline.slot(stage)
        if not slot.waiting and self._can_enter(execution.pipeline, stage):
            self._enter(execution, index, now)
            return
        if execution.shape.execution_mode == "SUPERSEDED":
            for older in slot.waiting:
                self._finish(older, SUPERSEDED, now, f"Superseded by pipeline execution {execution.id}")
                older.waiting = False
            slot.waiting.clear()
        slot.waiting.append(execution)

    def _admit(self, pipeline: PipelineState, index: int, now: datetime) -> None:
        """Let executions waiting at stage `index` in, while it has room."""
        if pipeline.deleted or index >= len(pipeline.shape.stages):
            return
        stage = pipeline.shape.stages[index].name
        slot = pipeline.slot(stage)
        while slot.waiting and self._can_enter(pipeline, stage):
            execution = slot.waiting.popleft()
            if execution.active:
                self._enter(execution, index, now)

    def admit_all(self, pipeline: PipelineState, now: datetime) -> None:
        for index in range(len(pipeline.shape.stages)):
            self._admit(pipeline, index, now)

    def _enter(self, execution: ExecutionRun, index: int, now: datetime) -> None:
        shape = execution.shape.stages[index]
        execution.position, execution.waiting, execution.updated = index, False, now
        run = StageRun(shape, execution, now, now, todo=sorted(shape.actions, key=lambda a: a.run_order))
        execution.stage_runs[shape.name] = run
        slot = execution.pipeline.slot(shape.name)
        slot.latest = run
        if execution.shape.execution_mode != "PARALLEL":
            slot.occupant = execution
        entry = shape.conditions.get(BEFORE_ENTRY) if execution.execution_type != "ROLLBACK" else None
        if entry is not None:
            # The execution holds the stage while its entry conditions are evaluated; it starts once they are met.
            run.decided.add(BEFORE_ENTRY)
            self.conditions.begin(run, entry, now)
            return
        self._begin_actions(run, now)

    def _begin_actions(self, run: StageRun, now: datetime) -> None:
        self._emit(ev.stage_event(run, ev.STARTED, now))
        if not self._start_next(run, now):
            self._stage_succeeded(run, now)

    def _release(self, stage: StageRun) -> None:
        slot = stage.execution.pipeline.slot(stage.shape.name)
        if slot.occupant is stage.execution:
            slot.occupant = None

    def _settle(self, stage: StageRun, now: datetime) -> None:
        """Nothing runs in the stage any more: start the next runOrder, or end the stage."""
        execution = stage.execution
        if execution.status == STOPPING:
            self._stage_stopped(stage, now)
        elif stage.failed:
            self._stage_failed(stage, now)
        elif not self._start_next(stage, now):
            self._stage_succeeded(stage, now)

    def _start_next(self, stage: StageRun, now: datetime) -> bool:
        if not stage.todo:
            return False
        order = min(action.run_order for action in stage.todo)
        batch = [action for action in stage.todo if action.run_order == order]
        stage.todo = [action for action in stage.todo if action.run_order != order]
        for action in batch:
            self._start_action(stage, action, now)
        return True

    def _stage_succeeded(self, stage: StageRun, now: datetime) -> None:
        execution = stage.execution
        declared = stage.shape.conditions.get(ON_SUCCESS)
        if declared is not None and ON_SUCCESS not in stage.decided and execution.execution_type != "ROLLBACK":
            stage.decided.add(ON_SUCCESS)  # the stage stays InProgress while it bakes
            self.conditions.begin(stage, declared, now)
            return
        stage.status, stage.updated = SUCCEEDED, now
        self._emit(ev.stage_event(stage, ev.SUCCEEDED, now))
        self._release(stage)
        index = stage.shape.index
        if execution.execution_type == "ROLLBACK" or index + 1 >= len(execution.shape.stages):
            self._finish(execution, SUCCEEDED, now, None)
        else:
            self._arrive(execution, index + 1, now)
        self._admit(execution.pipeline, index, now)

    def _stage_failed(
        self, stage: StageRun, now: datetime, reason: str | None = None, *, on_failure: bool = True
    ) -> None:
        if on_failure and self._on_failure(stage, now):
            return
        stage.status, stage.updated = FAILED, now
        self._emit(ev.stage_event(stage, ev.FAILED, now))
        self._release(stage)
        failed = next((run for run in stage.latest.values() if run.status == FAILED), None)
        summary = f"Stage {stage.shape.name} failed"
        if reason is not None:
            summary += f": {reason}"
        elif failed is not None:
            summary += f": action {failed.shape.name}: {failed.error_message or 'failed'}"
        self._finish(stage.execution, FAILED, now, summary[:2048])
        self._admit(stage.execution.pipeline, stage.shape.index, now)

    # --- stage conditions ----------------------------------------------------------------------------

    def _on_failure(self, stage: StageRun, now: datetime) -> bool:
        """The stage failed: evaluate its onFailure conditions, or engage its result. True: handled here."""
        declared = stage.shape.conditions.get(ON_FAILURE)
        if declared is None or ON_FAILURE in stage.decided or stage.execution.execution_type == "ROLLBACK":
            return False
        stage.decided.add(ON_FAILURE)
        if declared.conditions:
            self.conditions.begin(stage, declared, now)
        elif declared.result == "RETRY":
            self._auto_retry(stage, declared.retry_mode, now)
        else:
            self._stage_failed(stage, now, on_failure=False)
            self._auto_rollback(stage, now)
        return True

    def _condition_decided(self, run: ConditionsRun, now: datetime) -> None:
        stage = run.stage
        if stage.execution.pipeline.deleted or stage.status not in ACTIVE:
            return
        if run.kind == BEFORE_ENTRY:
            if run.met:
                self._begin_actions(stage, now)
            elif run.result == "SKIP":
                self._stage_skipped(stage, now)
            else:
                self._stage_failed(stage, now, f"entry condition failed: {run.summary}", on_failure=False)
        elif run.kind == ON_SUCCESS:
            if run.met:
                self._stage_succeeded(stage, now)
            elif run.result == "ROLLBACK":
                self._stage_failed(stage, now, f"success condition failed: {run.summary}", on_failure=False)
                self._auto_rollback(stage, now)
            else:
                self._stage_failed(stage, now, f"success condition failed: {run.summary}")
        elif run.met:
            self._stage_failed(stage, now, on_failure=False)
        elif run.result == "RETRY":
            self._auto_retry(stage, run.declared.retry_mode, now)
        else:
            self._stage_failed(stage, now, on_failure=False)
            self._auto_rollback(stage, now)

    def _stage_skipped(self, stage: StageRun, now: datetime) -> None:
        """An entry condition engaged SKIP: the stage does not run and the execution goes on past it."""
        execution = stage.execution
        stage.status, stage.updated = SKIPPED, now
        self._release(stage)
        index = stage.shape.index
        if index + 1 >= len(execution.shape.stages):
            self._finish(execution, SUCCEEDED, now, None)
        else:
            self._arrive(execution, index + 1, now)
        self._admit(execution.pipeline, index, now)

    def _auto_retry(self, stage: StageRun, mode: str, now: datetime) -> None:
        """onFailure RETRY: the stage is retried once by itself; a second failure fails it for good."""
        if stage.auto_retries >= 1:
            self._stage_failed(stage, now, on_failure=False)
            return
        stage.auto_retries += 1
        stage.retry_trigger = "AutomatedStageRetry"
        todo = self.retry_plan(stage, failed_only=mode != "ALL_ACTIONS")
        self.retry(stage, todo, now, automatic=True)

    def _auto_rollback(self, stage: StageRun, now: datetime) -> None:
        """A ROLLBACK result: roll the stage back to the last execution that succeeded in it, if there is one."""
        execution = stage.execution
        pipeline = execution.pipeline
        if pipeline.deleted or pipeline.shape.execution_mode == "PARALLEL":
            return
        target = next(
            (
                e
                for e in reversed(pipeline.executions.values())
                if e is not execution
                and e.execution_type == "STANDARD"
                and e.shape.version == pipeline.shape.version
                and (ran := e.stage_runs.get(stage.shape.name)) is not None
                and ran.status == SUCCEEDED
            ),
            None,
        )
        if target is None:
            note = f"; no earlier execution succeeded in stage {stage.shape.name}, so nothing was rolled back"
            execution.status_summary = ((execution.status_summary or "") + note)[:2048]
            return
        self.rollback(pipeline, stage.shape.index, target, execution.id, now, trigger_type="AutomatedRollback")

    def _stage_stopped(self, stage: StageRun, now: datetime) -> None:
        self.conditions.cancel(stage, now)
        stage.status, stage.updated = STOPPED, now
        self._emit(ev.stage_event(stage, ev.STOPPED, now))
        self._release(stage)
        self._finish(stage.execution, STOPPED, now, None)
        self._admit(stage.execution.pipeline, stage.shape.index, now)

    def _finish(self, execution: ExecutionRun, status: str, now: datetime, summary: str | None) -> None:
        execution.status, execution.status_summary, execution.updated = status, summary, now
        execution.pipeline.active.pop(execution.id, None)
        state = {
            SUCCEEDED: ev.SUCCEEDED,
            FAILED: ev.FAILED,
            STOPPED: ev.STOPPED,
            SUPERSEDED: ev.SUPERSEDED,
            CANCELLED: ev.CANCELED,
        }[status]
        self._emit(ev.pipeline_event(execution, state, now))

    # --- actions -------------------------------------------------------------------------------------

    def _start_action(self, stage: StageRun, shape: ActionShape, now: datetime) -> None:
        execution = stage.execution
        pipeline = execution.pipeline
        key = (stage.shape.name, shape.name)
        attempt = execution.attempts.get(key, 0) + 1
        execution.attempts[key] = attempt
        configuration = variables.resolve(shape.configuration, execution)
        behaviour = self.behaviour_of(pipeline, stage.shape.name, shape, configuration)
        rng = draw(self.seed, pipeline.region, pipeline.name, execution.ordinal, stage.shape.name, shape.name, attempt)
        run = ActionRun(
            id=str(uuid.uuid4()),
            execution=execution,
            stage=stage.shape.name,
            shape=shape,
            behaviour=behaviour,
            attempt=attempt,
            start=now,
            updated=now,
            configuration=configuration,
            seed=rng.randrange(1, 1_000_000),
        )
        fails = rng.random() < behaviour.fail_rate
        if behaviour.outcome is not None:
            fails = behaviour.outcome == FAILED
        run.outcome = FAILED if fails else SUCCEEDED
        stage.latest[shape.name] = run
        execution.action_runs.append(run)
        pipeline.slot(stage.shape.name).action_latest[shape.name] = run
        self._emit(ev.action_event(run, now))

        if behaviour.problem:
            self._fail_now(run, "ConfigurationError", f"{shape.name}: {behaviour.problem}", now)
        elif shape.is_approval:
            # Tokens must not be guessable from the seed: a fresh random one.
            run.token = run.external_id = str(uuid.uuid4())
            pipeline.tokens[run.token] = run
            self._schedule(run, now + self.clock.scale(behaviour.timeout))
        elif shape.is_step_functions and not self.clock.warming_up:
            self._start_state_machine(run, now)
        else:
            self._describe_external(run, rng.getrandbits(64))
            self._schedule(run, now + self.clock.scale(behaviour.duration))

    def _fail_now(self, run: ActionRun, code: str, message: str, now: datetime) -> None:
        """Fail at once, through the timer heap, so the stage settles in the usual order."""
        run.outcome, run.error_code, run.error_message = FAILED, code, message
        self._schedule(run, now)

    def _start_state_machine(self, run: ActionRun, now: datetime) -> None:
        arn = run.configuration.get("StateMachineArn", "")
        if not arn:
            self._fail_now(run, "ConfigurationError", "the action configuration has no StateMachineArn", now)
            return
        execution = run.execution
        try:
            document = sfn.build_input(run.configuration)
            started = sfn.start(arn, f"{execution.pipeline.name[:43]}-{run.id}", document, execution.pipeline.account)
        except sfn.StartFailed as exc:
            self._fail_now(run, "JobFailed", str(exc), now)
            return
        run.sfn_arn, run.sfn_account, run.sfn_region = started.arn, started.account, started.region
        run.external_id, run.external_url = started.arn, started.url
        self._sfn[run.id] = run

    def _describe_external(self, run: ActionRun, token: int) -> None:
        """The provider's own id and console link, as a real action would report them."""
        shape, pipeline = run.shape, run.execution.pipeline
        region = shape.region
        base = f"https://{region}.console.aws.amazon.com"
        if shape.provider == "CodeBuild":
            project = run.configuration.get("ProjectName") or f"{pipeline.name}-{run.stage}-{shape.name}"[:150]
            build = f"{project}:{uuid.UUID(int=token << 64 | token, version=4)}"
            run.external_id = build
            run.external_url = f"{base}/codesuite/codebuild/projects/{project}/build/{build}/?region={region}"
        elif shape.provider == "CodeDeploy":
            deployment = "d-" + format(token, "X")[:9].rjust(9, "0")
            run.external_id = deployment
            run.external_url = f"{base}/codesuite/codedeploy/deployments/{deployment}?region={region}"
        elif shape.provider == "CloudFormation":
            stack = run.configuration.get("StackName") or f"{pipeline.name}-{run.stage}"
            run.external_url = f"{base}/cloudformation/home?region={region}#/stacks?filteringText={stack}"

    def _on_due(self, run: ActionRun, due: datetime) -> None:
        if run.shape.is_approval and run.error_code is None:
            run.status = FAILED
            run.error_code = "ApprovalExpired"
            run.error_message = (
                f"The approval request expired: nobody approved or rejected it within {_span(run.behaviour.timeout)}"
            )
            run.summary = run.error_message
        elif run.outcome == SUCCEEDED:
            run.status = SUCCEEDED
            revision = run.execution.revision_for(run.shape.name) if run.shape.is_source else None
            if revision is not None:
                run.summary = revision.get("revisionSummary") or revision.get("revisionId")
                run.external_id = revision.get("revisionId") or None
                run.external_url = revision.get("revisionUrl") or None
            elif run.shape.is_step_functions:
                run.summary = run.behaviour.summary or "Timed by its definition while the sandbox warmed up"
            else:
                run.summary = run.behaviour.summary or _DONE_SUMMARY.get(run.shape.category, "Succeeded")
            variables.record(run)
        else:
            run.status = FAILED
            run.error_code = run.error_code or "JobFailed"
            run.error_message = run.error_message or run.behaviour.error or f"{run.shape.name} failed"
            run.summary = run.error_message
        run.external_summary = run.summary
        self._action_done(run, due)

    def answer(self, run: ActionRun, approved: bool, summary: str, caller: str, now: datetime) -> None:
        """A person approved or rejected an approval action that is waiting."""
        run.answered = True
        run.updated_by = caller
        run.summary = run.external_summary = summary or ("Approved" if approved else "Rejected")
        if approved:
            run.status = SUCCEEDED
            variables.record(run)
        else:
            run.status = FAILED
            run.error_code = "ApprovalRejected"
            run.error_message = f"Rejected by {caller}" + (f": {summary}" if summary else "")
        self._action_done(run, now)

    def _action_done(self, run: ActionRun, now: datetime) -> None:
        run.updated, run.due = now, None
        execution = run.execution
        execution.updated = now
        self._emit(ev.action_event(run, now))
        stage = execution.stage_runs.get(run.stage)
        if stage is None or stage.status not in ACTIVE or stage.latest.get(run.shape.name) is not run:
            return
        if run.status == FAILED:
            stage.failed = True
        if not stage.running:
            self._settle(stage, now)

    def _abandon(self, stage: StageRun, now: datetime) -> None:
        for run in stage.latest.values():
            if run.status == IN_PROGRESS:
                run.status, run.updated, run.due = ABANDONED, now, None
                run.summary = run.external_summary = "Abandoned"
                self._sfn.pop(run.id, None)
                self._emit(ev.action_event(run, now))

    # --- operator actions ----------------------------------------------------------------------------

    def stop(self, execution: ExecutionRun, abandon: bool, reason: str | None, now: datetime) -> None:
        """Stop and wait, or stop and abandon (the engine has checked the execution may be stopped)."""
        if reason:
            execution.stop_reason = reason
        elif execution.stop_reason is None:
            execution.stop_reason = ""
        if execution.status == IN_PROGRESS:
            execution.status, execution.updated = STOPPING, now
            self._emit(ev.pipeline_event(execution, ev.STOPPING, now))
        pipeline = execution.pipeline
        if execution.waiting:
            slot = pipeline.slot(execution.shape.stages[execution.position].name)
            if execution in slot.waiting:
                slot.waiting.remove(execution)
            execution.waiting = False
            self._finish(execution, STOPPED, now, None)
            return
        stage = execution.stage_runs[execution.shape.stages[execution.position].name]
        if abandon:
            execution.abandoning = True
            self._abandon(stage, now)
        elif stage.status == IN_PROGRESS:
            stage.status, stage.updated = STOPPING, now
            self._emit(ev.stage_event(stage, ev.STOPPING, now))
        if not stage.running:
            self._stage_stopped(stage, now)

    @staticmethod
    def retry_plan(stage: StageRun, *, failed_only: bool) -> list[ActionShape]:
        """The actions a retry runs: all of them, or each one that did not succeed (failed, abandoned, not run)."""
        ordered = sorted(stage.shape.actions, key=lambda a: a.run_order)
        if not failed_only:
            return ordered
        return [a for a in ordered if stage.latest.get(a.name) is None or stage.latest[a.name].status != SUCCEEDED]

    def retry(self, stage: StageRun, todo: list[ActionShape], now: datetime, *, automatic: bool = False) -> None:
        """Resume a failed or stopped execution in `stage` (the engine has checked it may)."""
        execution = stage.execution
        if not automatic:
            stage.manual_retries += 1
            stage.retry_trigger = "ManualStageRetry"
        stage.decided.discard(ON_SUCCESS)
        stage.decided.discard(ON_FAILURE)
        stage.todo = list(todo)
        execution.status, execution.status_summary, execution.updated = IN_PROGRESS, None, now
        execution.stop_reason, execution.abandoning = None, False
        execution.attempt += 1
        execution.position, execution.waiting = stage.shape.index, False
        execution.pipeline.active[execution.id] = execution
        stage.status, stage.failed, stage.updated = IN_PROGRESS, False, now
        if execution.shape.execution_mode != "PARALLEL":
            execution.pipeline.slot(stage.shape.name).occupant = execution
        self._emit(ev.pipeline_event(execution, ev.RESUMED, now))
        self._emit(ev.stage_event(stage, ev.RESUMED, now))
        if not self._start_next(stage, now):
            self._stage_succeeded(stage, now)

    def cancel_all(self, pipeline: PipelineState, now: datetime) -> None:
        """The pipeline structure changed: every execution in flight is cancelled."""
        for execution in list(pipeline.active.values()):
            if not execution.waiting:
                stage = execution.stage_runs.get(execution.shape.stages[execution.position].name)
                if stage is not None and stage.status in ACTIVE:
                    self.conditions.cancel(stage, now)
                    self._abandon(stage, now)
                    stage.status, stage.updated = CANCELLED, now
                    self._emit(ev.stage_event(stage, ev.CANCELED, now))
            execution.waiting = False
            self._finish(execution, CANCELLED, now, "Cancelled because the pipeline structure was updated")
        for slot in pipeline.slots.values():
            slot.occupant = None
            slot.waiting.clear()

    def forget(self, pipeline: PipelineState) -> None:
        """The pipeline is gone: drop what is in flight for it without events."""
        pipeline.deleted = True
        self.conditions.forget(pipeline)
        for run_id in [run_id for run_id, run in self._sfn.items() if run.execution.pipeline is pipeline]:
            del self._sfn[run_id]

    def _emit(self, event: PendingEvent) -> None:
        self.events.append(event)

    def take_events(self) -> list[PendingEvent]:
        events, self.events = self.events, []
        return events
