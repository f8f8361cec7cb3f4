"""The CodePipeline execution engine of the sandbox: executions really run, on the sandbox clock.

moto stores pipelines (CreatePipeline, GetPipeline, UpdatePipeline, DeletePipeline stay moto's); this
engine runs their executions and answers the operations moto lacks (`codepipeline_api` plugs them into
moto's response class). One lock guards all engine state: moto serves each request on its own thread, and
the engine's own thread advances the clock every ~50 ms. EventBridge events are collected under the lock
and put on the bus after it is released, in the order they happened, by a thread of their own
(`codepipeline_outbox`), so neither requests nor the clock wait for moto's event delivery.

Public API for the rest of the sandbox (seed, traffic): `start`, `stop`, `advance`, `set_behaviour`,
`start_execution`, `in_flight`. Action behaviour (durations, outcomes, approval timeouts) comes from the
definitions, or from `Sandbox*` configuration keys (see `codepipeline_behaviour`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from moto.codepipeline.models import codepipeline_backends

from console.sandbox.clock import SandboxClock
from console.sandbox.codepipeline import condition_views, views
from console.sandbox.codepipeline.behaviour import (
    behaviour_of_configuration,
    behaviour_of_definition,
    read_shape,
)
from console.sandbox.codepipeline.condition_shapes import BEFORE_ENTRY, DECLARATION_KEY, ON_SUCCESS
from console.sandbox.codepipeline.conditions import Bake
from console.sandbox.codepipeline.errors import (
    ActionNotFoundException,
    ApprovalAlreadyCompletedException,
    CodePipelineError,
    ConcurrentPipelineExecutionsLimitExceededException,
    ConditionNotOverridableException,
    ConflictException,
    DuplicatedStopRequestException,
    InvalidApprovalTokenException,
    NotLatestPipelineExecutionException,
    PipelineExecutionNotStoppableException,
    PipelineExecutionOutdatedException,
    StageNotRetryableException,
    UnableToRollbackStageException,
    ValidationException,
    check_enum,
    check_length,
    check_pattern,
    execution_not_found,
    pipeline_not_found,
    stage_not_found,
)
from console.sandbox.codepipeline.flow import Flow
from console.sandbox.codepipeline.outbox import EventOutbox
from console.sandbox.codepipeline.records import (
    ACTIVE,
    FAILED,
    IN_PROGRESS,
    STOPPED,
    STOPPING,
    SUCCEEDED,
    ActionShape,
    Behaviour,
    ExecutionRun,
    PipelineState,
    StageShape,
)
from console.sandbox.fleet.definitions import PipelineDef
from console.sandbox.moto_patches.compat import pipeline_created, pipeline_updated

LOG = logging.getLogger(__name__)

TICK_SECONDS = 0.05
MAX_IN_FLIGHT = 50  # executions in progress or waiting, per pipeline
REASON_PATTERN = r"[a-zA-Z0-9!@ \(\)\.\*\?\-]+"

Key = tuple[str, str, str]  # account, region, pipeline name


class PipelineEngine:
    """Runs CodePipeline executions inside the sandbox and answers for them."""

    def __init__(self, clock: SandboxClock, account_id: str, seed: int = 0) -> None:
        self.clock = clock
        self.account_id = account_id
        self.seed = seed
        self._lock = threading.Lock()
        self._outbox = EventOutbox()
        self._pipelines: dict[Key, PipelineState] = {}
        self._behaviours: dict[Key, dict[tuple[str, str], Behaviour]] = {}
        self._flow = Flow(clock, seed, self._behaviour_of)
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()

    # --- the clock -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Advance every active execution to the clock's now, every ~50 ms, on a daemon thread."""
        if self._thread is not None:
            return
        self._halt.clear()
        self._outbox.start()
        self._thread = threading.Thread(target=self._tick, name="codepipeline-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._outbox.stop()

    def _tick(self) -> None:
        while not self._halt.wait(TICK_SECONDS):
            try:
                self.advance(self.clock.now())
            except Exception:  # noqa: BLE001 - one bad tick must not stop every deployment
                LOG.exception("the CodePipeline engine could not advance")

    def advance(self, now: datetime) -> None:
        """Move every active execution forward to `now`; each change happens at the time it was due."""
        with self._lock:
            self._flow.advance(now, poll_step_functions=True)
            self._outbox.put(self._flow.take_events())
        self._outbox.deliver()

    @contextmanager
    def _session(self) -> Iterator[datetime]:
        """The lock, with the engine brought up to now before and after the caller's change."""
        with self._lock:
            now = self.clock.now()
            self._flow.advance(now, poll_step_functions=False)
            try:
                yield now
            finally:
                self._flow.advance(now, poll_step_functions=False)
                self._outbox.put(self._flow.take_events())
        self._outbox.deliver()

    # --- behaviour -----------------------------------------------------------------------------------

    def set_behaviour(self, region: str, pipeline: PipelineDef) -> None:
        """Durations, failure odds and approval timeouts of a pipeline seeded from the definitions."""
        table = {
            (stage.name, action.name): behaviour_of_definition(action)
            for stage in pipeline.stages
            for action in stage.actions
        }
        with self._lock:
            self._behaviours[(self.account_id, region, pipeline.name)] = table

    def _behaviour_of(
        self, pipeline: PipelineState, stage: str, action: ActionShape, configuration: Mapping[str, str]
    ) -> Behaviour:
        table = self._behaviours.get((pipeline.account, pipeline.region, pipeline.name), {})
        return table.get((stage, action.name)) or behaviour_of_configuration(configuration, action.timeout_minutes)

    # --- pipelines as moto stores them ---------------------------------------------------------------

    def _pipeline(self, account: str, region: str, name: str, now: datetime) -> PipelineState:
        """The engine's state of a stored pipeline, following moto's store (deleted, recreated, updated)."""
        key = (account, region, name)
        state = self._pipelines.get(key)
        try:
            stored = codepipeline_backends[account][region].pipelines.get(name)
        except KeyError:
            stored = None
        if stored is None:
            if state is not None:
                self._forget(key)
            raise pipeline_not_found(account, name)
        if state is None or state.stored is not stored:
            if state is not None:
                self._forget(key)
            state = PipelineState(
                account=account,
                region=region,
                name=name,
                arn=f"arn:aws:codepipeline:{region}:{account}:{name}",
                stored=stored,
                shape=read_shape(stored.pipeline, region),
                created=pipeline_created(stored),
                updated=pipeline_updated(stored),
            )
            self._pipelines[key] = state
        elif int(stored.pipeline.get("version") or 1) != state.shape.version:
            self._flow.cancel_all(state, now)
            state.shape = read_shape(stored.pipeline, region)
            state.updated = pipeline_updated(stored)
            names = {stage.name for stage in state.shape.stages}
            state.slots = {name: slot for name, slot in state.slots.items() if name in names}
        return state

    def _forget(self, key: Key) -> None:
        state = self._pipelines.pop(key, None)
        if state is not None:
            self._flow.forget(state)

    def pipeline_changed(self, account: str, region: str, name: str) -> None:
        """UpdatePipeline stored a new version: executions in flight are cancelled."""
        with self._session() as now:
            try:
                self._pipeline(account, region, name, now)
            except CodePipelineError:  # moto refused the update: nothing changed
                LOG.debug("pipeline %s changed but is not stored", name)

    def pipeline_deleted(self, account: str, region: str, name: str) -> None:
        with self._session():
            self._forget((account, region, name))
            self._behaviours.pop((account, region, name), None)

    # --- the public API of the sandbox ---------------------------------------------------------------

    def start_execution(
        self,
        region: str,
        pipeline: str,
        *,
        trigger_type: str = "StartPipelineExecution",
        trigger_detail: str = "",
        source_revisions: list[dict[str, str]] | None = None,
        variables: list[dict[str, str]] | None = None,
    ) -> str:
        """Start an execution of a pipeline of the sandbox's account; returns its pipelineExecutionId.

        `source_revisions` items: {actionName, revisionId, revisionSummary, revisionUrl}; source actions left
        out get a reproducible made-up revision. Raises CodePipelineError (PipelineNotFoundException...).
        """
        with self._session() as now:
            state = self._pipeline(self.account_id, region, pipeline, now)
            return self._start(state, now, trigger_type, trigger_detail, source_revisions, variables)

    def bakes_in_progress(self) -> list[Bake]:
        """The onSuccess alarm bakes being evaluated now (the traffic trips their alarms at a seeded chance)."""
        with self._lock:
            return self._flow.conditions.bakes()

    def in_flight(self, region: str, pipeline: str) -> int:
        """Executions of the pipeline in progress, stopping or waiting to enter a stage."""
        with self._lock:
            state = self._pipelines.get((self.account_id, region, pipeline))
            return len(state.active) if state is not None else 0

    def _start(
        self,
        state: PipelineState,
        now: datetime,
        trigger_type: str,
        trigger_detail: str,
        source_revisions: list[dict[str, str]] | None,
        variables: list[dict[str, str]] | None,
    ) -> str:
        if len(state.active) >= MAX_IN_FLIGHT:
            raise ConcurrentPipelineExecutionsLimitExceededException(
                f"Pipeline '{state.name}' already has {MAX_IN_FLIGHT} executions in progress or waiting"
            )
        named = {str(v.get("name")): str(v.get("value", "")) for v in variables or []}
        execution = self._flow.start(
            state,
            now,
            trigger_type=trigger_type,
            trigger_detail=trigger_detail,
            source_revisions=source_revisions,
            variables=named,
        )
        return execution.id

    # --- operations behind the HTTP endpoint ---------------------------------------------------------

    def start_pipeline_execution(
        self,
        account: str,
        region: str,
        name: str,
        *,
        caller: str,
        variables: list[dict[str, str]] | None = None,
        overrides: list[dict[str, str]] | None = None,
        client_token: str | None = None,
    ) -> str:
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            if client_token and client_token in state.client_tokens:
                return state.client_tokens[client_token]
            revisions = None
            if overrides:
                sources = {a.name for a in state.shape.stages[0].actions if a.is_source}
                revisions = []
                for override in overrides:
                    action = str(override.get("actionName", ""))
                    if action not in sources:
                        raise ValidationException(f"sourceRevisions: '{action}' is not a source action of {name}")
                    value = str(override.get("revisionValue", ""))
                    kind = str(override.get("revisionType", ""))
                    revisions.append({"actionName": action, "revisionId": value, "revisionSummary": f"{kind} {value}"})
            execution_id = self._start(state, now, "StartPipelineExecution", caller, revisions, variables)
            if client_token:
                state.client_tokens[client_token] = execution_id
            return execution_id

    def get_pipeline_state(self, account: str, region: str, name: str) -> dict[str, Any]:
        with self._session() as now:
            return views.pipeline_state(self._pipeline(account, region, name, now))

    def get_pipeline_execution(self, account: str, region: str, name: str, execution_id: str) -> dict[str, Any]:
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            return views.execution_detail(self._execution(state, execution_id))

    def list_pipeline_executions(
        self,
        account: str,
        region: str,
        name: str,
        *,
        max_results: int,
        next_token: str | None,
        succeeded_in_stage: str | None,
    ) -> dict[str, Any]:
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            executions = list(reversed(state.executions.values()))
            if succeeded_in_stage is not None:
                executions = [
                    e
                    for e in executions
                    if e.shape.version == state.shape.version
                    and (run := e.stage_runs.get(succeeded_in_stage)) is not None
                    and run.status == SUCCEEDED
                ]
            chunk, token = views.page(executions, lambda e: e.id, max_results, next_token)
            answer: dict[str, Any] = {"pipelineExecutionSummaries": [views.execution_summary(e) for e in chunk]}
            if token:
                answer["nextToken"] = token
            return answer

    def list_action_executions(
        self,
        account: str,
        region: str,
        name: str,
        *,
        execution_id: str | None,
        latest_only: bool,
        max_results: int,
        next_token: str | None,
    ) -> dict[str, Any]:
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            if execution_id is not None:
                execution = self._execution(state, execution_id)
                runs = list(reversed(execution.action_runs))
                if latest_only:
                    latest = {id(r) for stage in execution.stage_runs.values() for r in stage.latest.values()}
                    runs = [r for r in runs if id(r) in latest]
            else:
                runs = [r for e in reversed(state.executions.values()) for r in reversed(e.action_runs)]
            chunk, token = views.page(runs, lambda r: r.id, max_results, next_token)
            answer: dict[str, Any] = {"actionExecutionDetails": [views.action_detail(r) for r in chunk]}
            if token:
                answer["nextToken"] = token
            return answer

    def put_approval_result(
        self,
        account: str,
        region: str,
        name: str,
        *,
        stage: str,
        action: str,
        status: str,
        summary: str,
        token: str,
        caller: str,
    ) -> datetime:
        check_length("result.summary", summary, 0, 512)
        check_enum("result.status", status, ("Approved", "Rejected"))
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            stage_shape = self._stage(state, stage)
            if stage_shape.action(action) is None:
                raise ActionNotFoundException(f"Action '{action}' was not found in stage '{stage}' of '{name}'")
            run = state.tokens.get(token)
            if run is None or run.stage != stage or run.shape.name != action:
                raise InvalidApprovalTokenException(
                    f"The token '{token}' is not the token of an approval request of {name}/{stage}/{action}"
                )
            if run.answered:
                raise ApprovalAlreadyCompletedException(
                    f"The approval request of {name}/{stage}/{action} was already "
                    f"{'approved' if run.status == SUCCEEDED else 'rejected'} by {run.updated_by}"
                )
            if run.status != IN_PROGRESS:
                raise InvalidApprovalTokenException(
                    f"The approval request of {name}/{stage}/{action} is no longer waiting ({run.status})"
                )
            self._flow.answer(run, status == "Approved", summary, caller, now)
            return now

    def stop_pipeline_execution(
        self, account: str, region: str, name: str, *, execution_id: str, abandon: bool, reason: str | None
    ) -> str:
        if reason is not None:
            check_length("reason", reason, 0, 200)
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            execution = self._execution(state, execution_id)
            if execution.status == STOPPING and not abandon:
                raise DuplicatedStopRequestException(
                    f"Pipeline execution {execution_id} is already stopping. To stop it at once, "
                    "stop it again and abandon the actions in progress."
                )
            if execution.status not in ACTIVE:
                raise PipelineExecutionNotStoppableException(
                    f"Pipeline execution {execution_id} is {execution.status}: "
                    "only executions in progress can be stopped"
                )
            self._flow.stop(execution, abandon, reason, now)
            return execution.id

    def retry_stage_execution(
        self, account: str, region: str, name: str, *, stage: str, execution_id: str, mode: str
    ) -> str:
        check_enum("retryMode", mode, ("FAILED_ACTIONS", "ALL_ACTIONS"))
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            self._stage(state, stage)
            execution = self._execution(state, execution_id)
            slot = state.slots.get(stage)
            run = execution.stage_runs.get(stage)
            if run is None or slot is None or slot.latest is not run:
                raise NotLatestPipelineExecutionException(
                    f"Pipeline execution {execution_id} is not the latest execution of stage {stage}"
                )
            if run.status in ACTIVE or slot.occupant not in (None, execution):
                raise ConflictException(f"Stage {stage} is running; wait for it to finish before retrying it")
            if execution.shape.version != state.shape.version:
                raise StageNotRetryableException(
                    f"The structure of {name} changed since execution {execution_id} ran stage {stage}"
                )
            if run.status not in (FAILED, STOPPED) or execution.status not in (FAILED, STOPPED):
                raise StageNotRetryableException(f"Stage {stage} of execution {execution_id} is {run.status}")
            todo = self._flow.retry_plan(run, failed_only=mode == "FAILED_ACTIONS")
            if not todo:
                raise StageNotRetryableException(f"Stage {stage} of execution {execution_id} has no failed actions")
            self._flow.retry(run, todo, now)
            return execution.id

    def rollback_stage(self, account: str, region: str, name: str, *, stage: str, target_id: str, caller: str) -> str:
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            stage_shape = self._stage(state, stage)
            target = self._execution(state, target_id)
            if stage_shape.index == 0:
                raise UnableToRollbackStageException(f"Stage {stage} is the source stage; it cannot be rolled back")
            if state.shape.execution_mode == "PARALLEL":
                raise UnableToRollbackStageException("Pipelines in PARALLEL mode cannot roll back a stage")
            if target.execution_type == "ROLLBACK":
                raise UnableToRollbackStageException(
                    f"Execution {target_id} is itself a rollback; choose an execution that deployed the stage"
                )
            if target.shape.version != state.shape.version:
                raise PipelineExecutionOutdatedException(
                    f"Execution {target_id} ran pipeline version {target.shape.version}; "
                    f"the pipeline is now at version {state.shape.version}"
                )
            ran = target.stage_runs.get(stage)
            if ran is None or ran.status != SUCCEEDED:
                raise UnableToRollbackStageException(f"Execution {target_id} did not succeed in stage {stage}")
            slot = state.slot(stage)
            if slot.occupant is not None or (slot.latest is not None and slot.latest.status in ACTIVE):
                raise UnableToRollbackStageException(f"Stage {stage} is running; it can be rolled back once it ends")
            if len(state.active) >= MAX_IN_FLIGHT:
                raise ConcurrentPipelineExecutionsLimitExceededException(
                    f"Pipeline '{name}' already has {MAX_IN_FLIGHT} executions in progress or waiting"
                )
            return self._flow.rollback(state, stage_shape.index, target, caller, now)

    def disable_stage_transition(
        self, account: str, region: str, name: str, *, stage: str, kind: str, reason: str, caller: str
    ) -> None:
        self._check_transition_kind(kind)
        check_length("reason", reason, 1, 300)
        check_pattern("reason", reason, REASON_PATTERN)
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            if self._stage(state, stage).index == 0:
                raise ValidationException(f"Stage {stage} is the first stage of {name}; it has no inbound transition")
            transition = state.slot(stage).transition
            transition.enabled, transition.reason = False, reason
            transition.changed_by, transition.changed_at = caller, now

    def enable_stage_transition(
        self, account: str, region: str, name: str, *, stage: str, kind: str, caller: str
    ) -> None:
        self._check_transition_kind(kind)
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            self._stage(state, stage)
            transition = state.slot(stage).transition
            transition.enabled, transition.reason = True, None
            transition.changed_by, transition.changed_at = caller, now
            self._flow.admit_all(state, now)

    # --- stage conditions ------------------------------------------------------------------------------

    def override_stage_condition(
        self, account: str, region: str, name: str, *, stage: str, execution_id: str, kind: str, caller: str
    ) -> None:
        check_enum("conditionType", kind, (BEFORE_ENTRY, ON_SUCCESS))
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            shape = self._stage(state, stage)
            slot = state.slots.get(stage)
            run = slot.latest if slot is not None else None
            if run is None or run.execution.id != execution_id:
                raise NotLatestPipelineExecutionException(
                    f"Pipeline execution {execution_id} is not the latest execution of stage {stage}"
                )
            declared = shape.conditions.get(kind)
            if declared is None or not declared.conditions:
                raise ConditionNotOverridableException(
                    f"Stage {stage} of {name} declares no {DECLARATION_KEY[kind]} condition to override"
                )
            if any(condition.result == "SKIP" for condition in declared.conditions):
                raise ConditionNotOverridableException(
                    f"The {DECLARATION_KEY[kind]} condition of stage {stage} has result SKIP, "
                    "which cannot be overridden"
                )
            evaluation = run.conditions.get(kind)
            if evaluation is None or evaluation.decided:
                status = evaluation.status if evaluation is not None else "not evaluated"
                raise ConflictException(
                    f"The {DECLARATION_KEY[kind]} condition of stage {stage} in execution {execution_id} "
                    f"is not in progress ({status}); only a condition being evaluated can be overridden"
                )
            self._flow.conditions.override(evaluation, caller, now)

    def list_rule_executions(
        self,
        account: str,
        region: str,
        name: str,
        *,
        execution_id: str | None,
        latest_only: bool,
        max_results: int,
        next_token: str | None,
    ) -> dict[str, Any]:
        with self._session() as now:
            state = self._pipeline(account, region, name, now)
            if execution_id is not None:
                execution = self._execution(state, execution_id)
                rules = list(reversed(execution.rule_runs))
                if latest_only:
                    latest = {
                        id(rule)
                        for stage in execution.stage_runs.values()
                        for evaluation in stage.conditions.values()
                        for condition in evaluation.conditions
                        for rule in condition.rules
                    }
                    rules = [rule for rule in rules if id(rule) in latest]
            else:
                rules = [r for e in reversed(state.executions.values()) for r in reversed(e.rule_runs)]
            chunk, token = views.page(rules, lambda r: r.id, max_results, next_token)
            answer: dict[str, Any] = {"ruleExecutionDetails": [condition_views.rule_detail(r) for r in chunk]}
            if token:
                answer["nextToken"] = token
            return answer

    @staticmethod
    def _check_transition_kind(kind: str) -> None:
        check_enum("transitionType", kind, ("Inbound", "Outbound"))
        if kind == "Outbound":
            raise ValidationException(
                "The sandbox supports Inbound transitions only: to hold executions after a stage, "
                "disable the Inbound transition of the stage that follows it"
            )

    # --- lookups -------------------------------------------------------------------------------------

    @staticmethod
    def _stage(state: PipelineState, name: str) -> StageShape:
        stage = state.shape.stage(name)
        if stage is None:
            raise stage_not_found(state.name, name)
        return stage

    @staticmethod
    def _execution(state: PipelineState, execution_id: str) -> ExecutionRun:
        execution = state.executions.get(execution_id)
        if execution is None:
            raise execution_not_found(state.account, state.name, execution_id)
        return execution
