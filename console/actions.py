"""The one gate every mutating call goes through: read-only, fresh preconditions, reason, audit, no double send.

A screen (or the CLI) asks for a plan: the gate reads fresh state and says exactly what it would send, or
refuses with a plain sentence. Executing the plan re-reads the same state right before sending and refuses if
anything the plan relied on (`expect`) changed; writes an audit intent record (fsynced) before the call and a
result record after it; and never sends the same thing twice while the first call is in flight.

`availability()` is the pure, fast version for greying out keys: it only looks at the FleetState it is given.
"""

from __future__ import annotations

import asyncio
import enum
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from console.actions_reads import GateGateway, Reads
from console.audit import AuditError, AuditLog, token_digest
from console.errors import AlreadyDone, AwsError, Refused, WavedeckError
from console.model import FleetState, Pipeline, Receipt, Stage, StateMachine, Target, Wave
from console.reasons import APPROVAL_SUMMARY_MAX, STOP_REASON_MAX, check_reason
from console.resources import Selection, execution_arn_parts
from console.waves import WaveModel

__all__ = [
    "ActionGate",
    "ActionKind",
    "ActionOutcome",
    "ActionPlan",
    "Availability",
    "Selection",
]

RUNNING_PIPELINE = ("InProgress", "Stopping")
FAILED_EXECUTION = ("FAILED", "TIMED_OUT", "ABORTED")
REDRIVE_WINDOW = timedelta(days=14)
# What a Step Functions StopExecution / SendTaskFailure says in `error` (the reason goes to `cause`).
STOP_ERROR = "wavedeck.Stopped"
REJECT_ERROR = "wavedeck.Rejected"


class ActionKind(enum.Enum):
    """What an operator can do; the value is the CLI command (and the audit log's `action`)."""

    APPROVE = "approve"
    REJECT = "reject"
    STOP = "stop"
    STOP_ABANDON = "stop-abandon"
    ROLLBACK = "rollback"
    RETRY = "retry"
    PAUSE = "pause"
    RESUME = "resume"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def family(self) -> str:
        """Kinds that act on the same thing: one of a family may be in flight per resource at a time."""
        return {
            ActionKind.APPROVE: "answer",
            ActionKind.REJECT: "answer",
            ActionKind.STOP: "stop",
            ActionKind.STOP_ABANDON: "stop",
            ActionKind.PAUSE: "transition",
            ActionKind.RESUME: "transition",
        }.get(self, self.value)


_LABELS = {
    ActionKind.APPROVE: "Approve",
    ActionKind.REJECT: "Reject",
    ActionKind.STOP: "Stop",
    ActionKind.STOP_ABANDON: "Stop and abandon",
    ActionKind.ROLLBACK: "Roll back",
    ActionKind.RETRY: "Retry",
    ActionKind.PAUSE: "Pause promotion into",
    ActionKind.RESUME: "Resume promotion into",
}


@dataclass(frozen=True)
class Availability:
    """Whether an action makes sense for a selection now, and if not, why (shown beside the greyed key)."""

    enabled: bool
    reason: str = ""


@dataclass(frozen=True)
class ActionPlan:
    """Exactly what will be sent, as the confirmation shows it.

    `selection` is the resolved one (a pipeline-level approve names the stage and action it found).
    `production` means the operator must type `confirm_word` (the wave's name, or the target's for a target
    marked production outside any production wave). `expect` is the precondition read now; execute() reads it
    again right before sending and refuses if it changed. `operation` is the AWS API that will be called.
    """

    kind: ActionKind
    selection: Selection
    title: str
    lines: tuple[tuple[str, str], ...]
    wave: Wave | None
    production: bool
    confirm_word: str | None
    expect: Mapping[str, str]
    operation: str = ""
    reason_limit: int = 2000
    reason_transition: bool = False  # the reason goes to DisableStageTransition: AWS's narrow character set

    @property
    def resource(self) -> str:
        return self.selection.resource


@dataclass(frozen=True)
class ActionOutcome:
    """What happened: AWS's request id, a sentence for the notification, and the new execution if any
    (RollbackStage's pipeline execution id, a rollback state machine's execution ARN)."""

    plan: ActionPlan
    request_id: str | None
    message: str
    new_execution: str | None = None
    receipt: Receipt | None = None


@dataclass(frozen=True)
class _Facts:
    """What a fresh read found: the plan's content and how to send it."""

    selection: Selection
    title: str
    lines: tuple[tuple[str, str], ...]
    wave: Wave | None
    expect: dict[str, str]
    operation: str
    request: dict[str, Any]  # for the audit log: what is sent, tokens as digests
    send: Callable[[str, str], Awaitable[Receipt]]  # (reason, identity) → receipt
    done: str  # past tense for the outcome message: "Approved checkout-api/Prod-Canary/ApproveProduction"
    reason_limit: int = 2000
    reason_transition: bool = False


class ActionGate:
    """Every mutating call of the console goes through here (see the module docstring).

    `gateways` by target name; `rollback_machines` maps a state machine's name to the state machine that rolls
    its wave back (`rollback:` in definitions/fleet.yaml); `state_waves` maps a state machine's name to the
    waves of its states (`state_waves:` there), so answering an approval state asks for that state's wave.
    """

    def __init__(
        self,
        gateways: Mapping[str, GateGateway],
        waves: WaveModel,
        audit: AuditLog,
        *,
        read_only: bool = False,
        rollback_machines: Mapping[str, str] | None = None,
        state_waves: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._gateways = dict(gateways)
        self._waves = waves
        self._audit = audit
        self.read_only = read_only
        self._rollback_machines = dict(rollback_machines or {})
        self._state_waves = {machine: dict(states) for machine, states in (state_waves or {}).items()}
        self._in_flight: dict[str, ActionPlan] = {}
        self._identities: dict[str, str] = {}
        self._identity_locks: dict[str, asyncio.Lock] = {}

    # --- Public API -------------------------------------------------------------------------------------

    @property
    def in_flight(self) -> tuple[ActionPlan, ...]:
        return tuple(self._in_flight.values())

    @property
    def audit(self) -> AuditLog:
        return self._audit

    def target(self, name: str) -> Target | None:
        gateway = self._gateways.get(name)
        return gateway.target if gateway is not None else None

    def rollback_machine(self, name: str) -> str | None:
        """The state machine that rolls `name`'s wave back (`rollback:` in the definitions), if one is named."""
        return self._rollback_machines.get(name)

    def check_reason(self, plan: ActionPlan, reason: str | None) -> str:
        """The reason as it will be sent, or Refused saying what is wrong with it (before any confirmation)."""
        return check_reason(reason, max_length=plan.reason_limit, transition=plan.reason_transition)

    def availability(self, kind: ActionKind, selection: Selection, state: FleetState) -> Availability:
        """Whether `kind` makes sense for `selection` in `state`, and why not. Pure: no IO, no waiting."""
        refusal = self._read_only_refusal(selection.target)
        if refusal:
            return Availability(False, refusal)
        if selection.target not in self._gateways:
            return Availability(False, f"unknown target {selection.target}")
        busy = next((p for p in self._in_flight.values() if _overlaps(p, kind, selection)), None)
        if busy is not None:
            return Availability(False, f"{busy.kind.label.lower()} is being sent")
        if selection.pipeline is not None:
            pipeline = state.pipelines.get(selection.key)
            if pipeline is None:
                return Availability(False, "not loaded yet")
            why = _pipeline_unavailable(kind, selection, pipeline)
        else:
            machine = state.state_machines.get(selection.key)
            if machine is None:
                return Availability(False, "not loaded yet")
            why = self._machine_unavailable(kind, selection, machine, state)
        return Availability(why is None, why or "")

    async def plan(self, kind: ActionKind, selection: Selection, *, retry_all_actions: bool = False) -> ActionPlan:
        """Read fresh state and say exactly what `kind` would send for `selection`.

        Raises Refused with a plain sentence when it makes no sense now (nothing waiting, nothing running,
        read-only), and the gateway's AwsError subclasses when AWS cannot be read.
        """
        refusal = self._read_only_refusal(selection.target)
        if refusal:
            raise Refused(refusal)
        facts = await self._inspect(kind, selection, retry_all_actions=retry_all_actions)
        return self._plan_from(kind, facts)

    async def execute(self, plan: ActionPlan, reason: str, *, confirmation: str | None = None) -> ActionOutcome:
        """Send what `plan` says, once, with `reason`.

        Refuses (Refused) when: read-only (the flag or the plan's target); the reason is empty or not allowed;
        the plan is for production and `confirmation` (what the operator typed) is given and is not its
        `confirm_word` (None: the caller checked the typed word itself); the same action on the same resource
        is in flight; the precondition no longer holds (re-read right before sending).
        Writes the audit intent (fsynced) before the call and the result after it. On failure raises the
        gateway's AwsError subclass with a plain sentence (after writing the result record).
        """
        refusal = self._read_only_refusal(plan.selection.target)
        if refusal:
            raise Refused(refusal)
        text = self.check_reason(plan, reason)
        if plan.production and confirmation is not None and confirmation.strip() != plan.confirm_word:
            typed = confirmation.strip()
            raise Refused(
                f"{plan.title} acts on production: type {plan.confirm_word!r} to confirm"
                + (f" (you typed {typed!r}); nothing was sent" if typed else "; nothing was sent")
            )
        key = self._lock_key(plan)
        if key in self._in_flight:
            raise Refused(f"{plan.title} is already being sent; wait for its answer")
        # Taken before the first await: a second call made while this one runs sees it and refuses.
        self._in_flight[key] = plan
        try:
            return await self._execute(plan, text)
        finally:
            self._in_flight.pop(key, None)

    # --- Executing ----------------------------------------------------------------------------------------

    async def _execute(self, plan: ActionPlan, reason: str) -> ActionOutcome:
        gateway = self._gateway(plan.selection.target)
        facts = await self._inspect(
            plan.kind, plan.selection, retry_all_actions=plan.expect.get("retry_mode") == "ALL_ACTIONS"
        )
        changed = _changed(plan, facts)
        if changed:
            raise Refused(changed)
        identity = await self._identity(plan.selection.target)
        record_id = uuid.uuid4().hex
        base = {
            "id": record_id,
            "action": plan.kind.value,
            "target": plan.selection.target,
            "region": gateway.target.region,
            "resource": plan.resource,
            "execution": plan.selection.execution_id or plan.selection.execution_arn,
            "identity": identity,
        }
        intent = {
            "phase": "intent",
            **base,
            "wave": plan.wave.name if plan.wave else None,
            "production": plan.production,
            "reason": reason,
            "operation": facts.operation,
            "request": facts.request,
            "plan": dict(plan.lines),
        }
        # No audit, no action: if the intent cannot be written, AuditError goes up and nothing is sent.
        await asyncio.to_thread(self._audit.write, intent)
        try:
            receipt = await facts.send(reason, identity)
        except BaseException as exc:
            # The result first (shielded: a cancelled call still gets its record), the explanation after.
            await asyncio.shield(asyncio.to_thread(self._audit.write, _result_error(base, facts.operation, exc)))
            error = await self._explain_failure(plan, exc)
            if error is not None:
                raise error from exc
            raise
        new_execution = receipt.execution_id if plan.kind is ActionKind.ROLLBACK else None
        message = facts.done
        if new_execution:
            message += f"; new execution {new_execution}"
        if receipt.request_id:
            message += f" (request id {receipt.request_id})"
        result = {
            "phase": "result",
            **base,
            "operation": receipt.operation or facts.operation,
            "outcome": "succeeded",
            "request_id": receipt.request_id,
            "new_execution": new_execution,
        }
        try:
            await asyncio.shield(asyncio.to_thread(self._audit.write, result))
        except AuditError as exc:
            # AWS did it: say so, so nobody sends it again believing it failed.
            raise AuditError(f"{message}, but its audit result could not be written: {exc.message}") from None
        return ActionOutcome(plan, receipt.request_id, message, new_execution, receipt)

    async def _explain_failure(self, plan: ActionPlan, exc: BaseException) -> WavedeckError | None:
        """The error the operator sees: AWS's, in a sentence that says what was being done."""
        if not isinstance(exc, AwsError):
            return None
        message = f"{plan.title} failed: {exc.message}"
        if isinstance(exc, AlreadyDone) and plan.kind in (ActionKind.APPROVE, ActionKind.REJECT):
            # Someone answered between our re-read and our call: say how, from a fresh read.
            try:
                await self._inspect(plan.kind, plan.selection)
            except Refused as refusal:
                message = f"{plan.title}: {refusal.message}"
            except Exception:  # the explanation is best effort; the original error stands
                message = f"{plan.title}: it was already answered"
            else:
                message = f"{plan.title}: it was already answered"
        elif isinstance(exc, AlreadyDone):
            message = f"{plan.title}: already done ({exc.message})"
        return type(exc)(message, code=exc.code, operation=exc.operation, request_id=exc.request_id, target=exc.target)

    async def _identity(self, target: str) -> str:
        cached = self._identities.get(target)
        if cached is not None:
            return cached
        lock = self._identity_locks.setdefault(target, asyncio.Lock())
        async with lock:
            if target not in self._identities:
                identity = await self._gateway(target).caller_identity()
                self._identities[target] = identity.arn
        return self._identities[target]

    # --- Planning ---------------------------------------------------------------------------------------

    def _plan_from(self, kind: ActionKind, facts: _Facts) -> ActionPlan:
        target = self._gateway(facts.selection.target).target
        production = bool((facts.wave and facts.wave.is_production) or target.production)
        confirm_word = None
        if production:
            # The wave's name, even for a non-production wave of a production target; the target's without a wave.
            confirm_word = facts.wave.name if facts.wave else target.name
        lines = list(facts.lines)
        lines.append(("Target", target.name + (" (production)" if target.production else "")))
        if facts.wave is not None:
            lines.append(("Wave", f"{facts.wave.name} ({facts.wave.risk.label})"))
        return ActionPlan(
            kind=kind,
            selection=facts.selection,
            title=facts.title,
            lines=tuple(lines),
            wave=facts.wave,
            production=production,
            confirm_word=confirm_word,
            expect=dict(facts.expect),
            operation=facts.operation,
            reason_limit=facts.reason_limit,
            reason_transition=facts.reason_transition,
        )

    async def _inspect(self, kind: ActionKind, selection: Selection, *, retry_all_actions: bool = False) -> _Facts:
        reads = Reads(self._gateway(selection.target))
        if selection.pipeline is not None:
            if kind in (ActionKind.APPROVE, ActionKind.REJECT):
                return await self._pipeline_answer(reads, selection, kind is ActionKind.APPROVE)
            if kind in (ActionKind.STOP, ActionKind.STOP_ABANDON):
                return await self._pipeline_stop(reads, selection, kind is ActionKind.STOP_ABANDON)
            if kind is ActionKind.ROLLBACK:
                return await self._pipeline_rollback(reads, selection)
            if kind is ActionKind.RETRY:
                return await self._pipeline_retry(reads, selection, retry_all_actions)
            return await self._pipeline_transition(reads, selection, kind is ActionKind.PAUSE)
        if selection.state_machine_arn is None and selection.execution_arn is None:
            raise Refused("nothing is selected: choose a pipeline or a state machine execution")
        if kind in (ActionKind.APPROVE, ActionKind.REJECT):
            return await self._sfn_answer(reads, selection, kind is ActionKind.APPROVE)
        if kind is ActionKind.STOP:
            return await self._sfn_stop(reads, selection)
        if kind is ActionKind.STOP_ABANDON:
            raise Refused("stop and abandon is for pipeline executions; a Step Functions execution is just stopped")
        if kind is ActionKind.ROLLBACK:
            return await self._sfn_rollback(reads, selection)
        if kind is ActionKind.RETRY:
            return await self._sfn_redrive(reads, selection)
        raise Refused("pausing promotion is for pipeline stages (their inbound transition)")

    # CodePipeline ------------------------------------------------------------------------------------------

    async def _pipeline_answer(self, reads: Reads, selection: Selection, approve: bool) -> _Facts:
        pipeline = await reads.pipeline(selection.pipeline or "")
        stages = _stages(pipeline, selection)
        if selection.action is not None:
            # An action named without its stage: the stage that has it.
            stage = next((s for s in stages if any(a.name == selection.action for a in s.actions)), stages[0])
            action = next((a for a in stage.actions if a.name == selection.action), None)
            if action is None:
                names = ", ".join(a.name for a in stage.actions) or "none"
                raise Refused(f"stage {stage.name} of {pipeline.name} has no action {selection.action} ({names})")
            if not action.awaiting_approval:
                raise Refused(_not_waiting(f"{pipeline.name}/{stage.name}/{action.name}", action.status, action))
            found = [(stage, action)]
        else:
            found = [(s, a) for s in stages for a in s.actions if a.awaiting_approval]
            where = selection.resource
            if not found:
                raise Refused(f"nothing is waiting for approval in {where}")
            if len(found) > 1:
                names = ", ".join(f"{pipeline.name}/{s.name}/{a.name}" for s, a in found)
                raise Refused(f"{len(found)} approvals are waiting in {where} ({names}): name one")
        stage, action = found[0]
        token = action.token or ""
        resolved = replace(selection, stage=stage.name, action=action.name, execution_id=stage.execution_id)
        execution = await reads.pipeline_execution(pipeline.name, stage.execution_id)
        verb = "Approve" if approve else "Reject"
        lines = [
            ("Pipeline", pipeline.name),
            ("Stage", stage.name),
            ("Action", action.name),
            ("Execution", stage.execution_id or "?"),
        ]
        if execution is not None and execution.revision is not None:
            lines.append(("Revision", _revision(execution.revision)))
        if action.last_status_change is not None:
            lines.append(("Waiting since", _time(action.last_status_change)))
        custom = dict(action.configuration).get("CustomData")
        if custom:
            lines.append(("Asks", custom))
        lines.append(("Sends", f"PutApprovalResult {'Approved' if approve else 'Rejected'} (the reason as summary)"))
        gateway = reads.gateway

        async def send(reason: str, identity: str) -> Receipt:
            return await gateway.put_approval_result(
                pipeline.name, stage.name, action.name, token, approved=approve, summary=reason
            )

        return _Facts(
            selection=resolved,
            title=f"{verb} {pipeline.name} / {stage.name} / {action.name}",
            lines=tuple(lines),
            wave=stage.wave or self._waves.for_stage(pipeline.name, stage.name),
            expect={
                "execution": stage.execution_id or "",
                "action_execution": action.action_execution_id or "",
                "token": token_digest(token),
            },
            operation="PutApprovalResult",
            request={
                "pipelineName": pipeline.name,
                "stageName": stage.name,
                "actionName": action.name,
                "status": "Approved" if approve else "Rejected",
                "token": token_digest(token),
            },
            send=send,
            done=f"{'Approved' if approve else 'Rejected'} {pipeline.name}/{stage.name}/{action.name}",
            reason_limit=APPROVAL_SUMMARY_MAX,
        )

    async def _pipeline_stop(self, reads: Reads, selection: Selection, abandon: bool) -> _Facts:
        pipeline = await reads.pipeline(selection.pipeline or "")
        execution_id = selection.execution_id
        if execution_id is None and selection.stage is not None:
            stage = _stages(pipeline, selection)[0]
            if stage.status not in RUNNING_PIPELINE or not stage.execution_id:
                raise Refused(f"nothing is running in {pipeline.name}/{stage.name} ({_status(stage.status)})")
            execution_id = stage.execution_id
        if execution_id is None:
            running = [e for e in await reads.pipeline_executions(pipeline.name) if e.status in RUNNING_PIPELINE]
            if not running:
                raise Refused(f"nothing is running in {pipeline.name}")
            if len(running) > 1:
                where = ", ".join(f"{e.id} ({_stage_of(pipeline, e.id) or e.status})" for e in running)
                raise Refused(
                    f"{len(running)} executions are running in {pipeline.name}: {where}; "
                    "name the stage (pipeline/stage) of the one to stop"
                )
            execution_id = running[0].id
        execution = await reads.pipeline_execution(pipeline.name, execution_id)
        if execution is None:
            raise Refused(f"{pipeline.name} has no execution {execution_id}")
        if execution.status == "Stopping" and not abandon:
            raise Refused(
                f"execution {execution_id} of {pipeline.name} is already stopping; "
                "stop and abandon to abandon its running actions"
            )
        if execution.status not in RUNNING_PIPELINE:
            raise Refused(f"execution {execution_id} of {pipeline.name} is {execution.status}; nothing to stop")
        running_stages = [s for s in pipeline.stages if s.execution_id == execution_id and s.status in RUNNING_PIPELINE]
        waves = [s.wave or self._waves.for_stage(pipeline.name, s.name) for s in running_stages]
        wave = max((w for w in waves if w is not None), key=lambda w: w.order, default=None)
        resolved = replace(selection, execution_id=execution_id)
        lines = [("Pipeline", pipeline.name), ("Execution", f"{execution_id} ({execution.status})")]
        if running_stages:
            lines.append(("Running in", ", ".join(s.name for s in running_stages)))
        if execution.revision is not None:
            lines.append(("Revision", _revision(execution.revision)))
        lines.append(
            (
                "Sends",
                "StopPipelineExecution abandon=true: running actions are abandoned"
                if abandon
                else "StopPipelineExecution abandon=false: running actions finish, then it stops",
            )
        )
        gateway = reads.gateway

        async def send(reason: str, identity: str) -> Receipt:
            return await gateway.stop_pipeline_execution(pipeline.name, execution_id, abandon=abandon, reason=reason)

        verb = "Stop and abandon" if abandon else "Stop"
        return _Facts(
            selection=resolved,
            title=f"{verb} {pipeline.name} execution {execution_id[:8]}",
            lines=tuple(lines),
            wave=wave,
            expect={"execution": execution_id},
            operation="StopPipelineExecution",
            request={"pipelineName": pipeline.name, "pipelineExecutionId": execution_id, "abandon": abandon},
            send=send,
            done=f"{'Stopping and abandoning' if abandon else 'Stopping'} {pipeline.name} execution {execution_id}",
            reason_limit=STOP_REASON_MAX,
        )

    async def _pipeline_rollback(self, reads: Reads, selection: Selection) -> _Facts:
        pipeline = await reads.pipeline(selection.pipeline or "")
        if selection.stage is None:
            raise Refused(f"name the stage of {pipeline.name} to roll back (pipeline/stage)")
        stage = _stages(pipeline, selection)[0]
        where = f"{pipeline.name}/{stage.name}"
        if pipeline.stages and pipeline.stages[0].name == stage.name:
            raise Refused(f"{where} is the source stage; a source stage cannot be rolled back")
        if pipeline.execution_mode == "PARALLEL":
            raise Refused(f"{pipeline.name} runs in PARALLEL mode, where stages cannot be rolled back")
        if stage.status in RUNNING_PIPELINE:
            raise Refused(
                f"{where} is still running (execution {stage.execution_id}, {stage.status}); "
                "stop it or let it finish before rolling back"
            )
        current = await reads.pipeline_execution(pipeline.name, stage.execution_id)
        skip = {stage.execution_id, current.rollback_target if current else None}
        succeeded = await reads.pipeline_executions(pipeline.name, succeeded_in_stage=stage.name)
        candidates = [e for e in succeeded if not e.is_rollback and e.id not in skip]
        if not candidates:
            raise Refused(f"no earlier execution succeeded in {where}: there is nothing to roll back to")
        good = candidates[0]
        lines = [("Pipeline", pipeline.name), ("Stage", stage.name)]
        if stage.execution_id:
            now = f"{stage.execution_id} ({_status(stage.status)})"
            if current is not None and current.revision is not None:
                now += f" {_revision(current.revision)}"
            lines.append(("Now", now))
        back = good.id + (f" {_revision(good.revision)}" if good.revision is not None else "")
        lines.append(("Rolls back to", back))
        lines.append(("Sends", "RollbackStage: a new ROLLBACK execution redeploys that execution's artifacts"))
        gateway = reads.gateway

        async def send(reason: str, identity: str) -> Receipt:
            return await gateway.rollback_stage(pipeline.name, stage.name, good.id)

        return _Facts(
            selection=replace(selection, execution_id=stage.execution_id),
            title=f"Roll back {pipeline.name} / {stage.name}",
            lines=tuple(lines),
            wave=stage.wave or self._waves.for_stage(pipeline.name, stage.name),
            expect={"stage_execution": stage.execution_id or "", "rollback_to": good.id},
            operation="RollbackStage",
            request={"pipelineName": pipeline.name, "stageName": stage.name, "targetPipelineExecutionId": good.id},
            send=send,
            done=f"Rolling back {where} to execution {good.id}"
            + (f" (revision {good.revision.short})" if good.revision else ""),
        )

    async def _pipeline_retry(self, reads: Reads, selection: Selection, all_actions: bool) -> _Facts:
        pipeline = await reads.pipeline(selection.pipeline or "")
        if selection.stage is None:
            failed = [s for s in pipeline.stages if s.status == "Failed"]
            if len(failed) != 1:
                raise Refused(f"name the stage of {pipeline.name} to retry (pipeline/stage)")
            selection = replace(selection, stage=failed[0].name)
        stage = _stages(pipeline, selection)[0]
        where = f"{pipeline.name}/{stage.name}"
        if stage.status != "Failed" or not stage.execution_id:
            raise Refused(f"{where} has not failed ({_status(stage.status)}); only a failed stage can be retried")
        mode = "ALL_ACTIONS" if all_actions else "FAILED_ACTIONS"
        failed_actions = [a.name for a in stage.actions if a.status == "Failed"]
        execution_id = stage.execution_id
        lines = [("Pipeline", pipeline.name), ("Stage", stage.name), ("Execution", execution_id)]
        if failed_actions:
            lines.append(("Failed", ", ".join(failed_actions)))
        lines.append(("Sends", f"RetryStageExecution {mode}"))
        gateway = reads.gateway

        async def send(reason: str, identity: str) -> Receipt:
            return await gateway.retry_stage_execution(pipeline.name, stage.name, execution_id, mode)

        return _Facts(
            selection=replace(selection, execution_id=execution_id),
            title=f"Retry {pipeline.name} / {stage.name}",
            lines=tuple(lines),
            wave=stage.wave or self._waves.for_stage(pipeline.name, stage.name),
            expect={"execution": execution_id, "status": "Failed", "retry_mode": mode},
            operation="RetryStageExecution",
            request={
                "pipelineName": pipeline.name,
                "stageName": stage.name,
                "pipelineExecutionId": execution_id,
                "retryMode": mode,
            },
            send=send,
            done=f"Retrying {where} ({mode.lower().replace('_', ' ')}) in execution {execution_id}",
        )

    async def _pipeline_transition(self, reads: Reads, selection: Selection, pause: bool) -> _Facts:
        pipeline = await reads.pipeline(selection.pipeline or "")
        if selection.stage is None:
            raise Refused(f"name the stage of {pipeline.name} whose promotion to {'pause' if pause else 'resume'}")
        stage = _stages(pipeline, selection)[0]
        where = f"{pipeline.name}/{stage.name}"
        index = [s.name for s in pipeline.stages].index(stage.name)
        if index == 0:
            raise Refused(f"{where} is the first stage; it has no inbound transition")
        inbound = stage.inbound
        if pause and not inbound.enabled:
            by = f" by {inbound.last_changed_by}" if inbound.last_changed_by else ""
            why = f": {inbound.disabled_reason}" if inbound.disabled_reason else ""
            raise Refused(f"promotion into {where} is already paused{by}{why}")
        if not pause and inbound.enabled:
            raise Refused(f"promotion into {where} is not paused")
        previous = pipeline.stages[index - 1].name
        lines = [("Pipeline", pipeline.name), ("Stage", stage.name), ("Transition", f"{previous} → {stage.name}")]
        if not pause:
            if inbound.disabled_reason:
                lines.append(("Paused because", inbound.disabled_reason))
            if stage.inbound_executions:
                lines.append(("Waiting", ", ".join(e.id for e in stage.inbound_executions)))
        operation = "DisableStageTransition" if pause else "EnableStageTransition"
        lines.append(("Sends", f"{operation} Inbound"))
        gateway = reads.gateway

        async def send(reason: str, identity: str) -> Receipt:
            if pause:
                return await gateway.disable_stage_transition(pipeline.name, stage.name, reason)
            return await gateway.enable_stage_transition(pipeline.name, stage.name)

        return _Facts(
            selection=selection,
            title=f"{'Pause' if pause else 'Resume'} promotion into {pipeline.name} / {stage.name}",
            lines=tuple(lines),
            wave=stage.wave or self._waves.for_stage(pipeline.name, stage.name),
            expect={"enabled": str(inbound.enabled).lower()},
            operation=operation,
            request={"pipelineName": pipeline.name, "stageName": stage.name, "transitionType": "Inbound"},
            send=send,
            done=f"{'Paused' if pause else 'Resumed'} promotion into {where}",
            reason_transition=pause,
        )

    # Step Functions --------------------------------------------------------------------------------------

    async def _sfn_answer(self, reads: Reads, selection: Selection, approve: bool) -> _Facts:
        arn = _execution_arn(selection, "approve or reject")
        execution = await reads.execution(arn)
        where = selection.resource
        if execution.status != "RUNNING":
            raise Refused(f"{where} is {execution.status}; nothing is waiting for approval")
        waiting, answered = await reads.waiting_tasks(arn, execution.state_machine_arn)
        if not waiting:
            raise Refused(answered or f"nothing is waiting for approval in {where}")
        if len(waiting) > 1:
            names = ", ".join(t.state_name or f"event {t.scheduled_event_id}" for t in waiting)
            raise Refused(f"{len(waiting)} states wait for a token in {where} ({names}); answer them one at a time")
        task = waiting[0]
        if not task.token:
            raise Refused(f"state {task.state_name} of {where} waits, but its task token is not in its parameters")
        token = task.token
        machine = selection.state_machine or ""
        state_wave = self._state_waves.get(machine, {}).get(task.state_name or "")
        wave = self._waves.wave(state_wave) or self._waves.for_state_machine(machine)
        gateway = reads.gateway
        lines = [
            ("State machine", machine),
            ("Execution", execution.name),
            ("State", task.state_name or "?"),
            ("Waiting since", _time(task.since)),
        ]
        revision = _input_value(execution.input, "revision")
        if revision:
            lines.append(("Revision", revision))
        lines.append(("Sends", "SendTaskSuccess" if approve else "SendTaskFailure (the reason as cause)"))

        async def send(reason: str, identity: str) -> Receipt:
            if approve:
                output = json.dumps({"approved": True, "reason": reason, "approvedBy": identity})
                return await gateway.send_task_success(token, output)
            return await gateway.send_task_failure(token, REJECT_ERROR, reason)

        return _Facts(
            selection=replace(selection, execution_arn=arn, state_machine_arn=execution.state_machine_arn),
            title=f"{'Approve' if approve else 'Reject'} {machine} / {execution.name} / {task.state_name}",
            lines=tuple(lines),
            wave=wave,
            expect={
                "state": task.state_name or "",
                "event": str(task.scheduled_event_id),
                "token": token_digest(token),
            },
            operation="SendTaskSuccess" if approve else "SendTaskFailure",
            request={"taskToken": token_digest(token), **({} if approve else {"error": REJECT_ERROR})},
            send=send,
            done=f"{'Approved' if approve else 'Rejected'} {machine}/{execution.name} at {task.state_name}",
        )

    async def _sfn_stop(self, reads: Reads, selection: Selection) -> _Facts:
        arn = _execution_arn(selection, "stop")
        execution = await reads.execution(arn)
        machine = selection.state_machine or ""
        if execution.status != "RUNNING":
            raise Refused(f"{machine}/{execution.name} is {execution.status}; nothing to stop")
        gateway = reads.gateway

        async def send(reason: str, identity: str) -> Receipt:
            return await gateway.stop_execution(arn, STOP_ERROR, reason)

        return _Facts(
            selection=replace(selection, execution_arn=arn, state_machine_arn=execution.state_machine_arn),
            title=f"Stop {machine} / {execution.name}",
            lines=(
                ("State machine", machine),
                ("Execution", execution.name),
                ("Started", _time(execution.started)),
                ("Sends", f"StopExecution error={STOP_ERROR} (the reason as cause)"),
            ),
            wave=self._waves.for_state_machine(machine),
            expect={"execution": arn, "status": "RUNNING"},
            operation="StopExecution",
            request={"executionArn": arn, "error": STOP_ERROR},
            send=send,
            done=f"Stopped {machine}/{execution.name}",
        )

    async def _sfn_redrive(self, reads: Reads, selection: Selection) -> _Facts:
        arn = _execution_arn(selection, "redrive")
        execution = await reads.execution(arn)
        machine = selection.state_machine or ""
        where = f"{machine}/{execution.name}"
        if execution.status not in FAILED_EXECUTION:
            raise Refused(f"{where} is {execution.status}; only a failed, timed out or aborted execution is redriven")
        if execution.redrive_status == "NOT_REDRIVABLE":
            raise Refused(f"{where} cannot be redriven: {execution.redrive_status_reason or 'AWS says so'}")
        if execution.stopped is not None and datetime.now(UTC) - execution.stopped > REDRIVE_WINDOW:
            raise Refused(f"{where} ended more than 14 days ago; AWS redrives only within 14 days")
        gateway = reads.gateway

        async def send(reason: str, identity: str) -> Receipt:
            return await gateway.redrive_execution(arn)

        lines = [("State machine", machine), ("Execution", execution.name), ("Status", execution.status)]
        if execution.error:
            lines.append(("Error", execution.error))
        lines.append(("Sends", "RedriveExecution: restarts from the failed states"))
        return _Facts(
            selection=replace(selection, execution_arn=arn, state_machine_arn=execution.state_machine_arn),
            title=f"Redrive {machine} / {execution.name}",
            lines=tuple(lines),
            wave=self._waves.for_state_machine(machine),
            expect={"execution": arn, "status": execution.status, "redrive_count": str(execution.redrive_count)},
            operation="RedriveExecution",
            request={"executionArn": arn},
            send=send,
            done=f"Redriving {where}",
        )

    async def _sfn_rollback(self, reads: Reads, selection: Selection) -> _Facts:
        machine_arn = selection.state_machine_arn or _machine_arn(selection.execution_arn or "")
        machine = machine_arn.rsplit(":", 1)[-1]
        rollback = self._rollback_machines.get(machine)
        if rollback is None:
            raise Refused(f"no rollback state machine is defined for {machine} (`rollback:` in definitions/)")
        rollback_arn = machine_arn.rsplit(":", 1)[0] + ":" + rollback
        if selection.execution_arn is not None:
            bad = await reads.execution(selection.execution_arn)
            if bad.status == "RUNNING":
                raise Refused(f"{machine}/{bad.name} is still running; stop it before rolling its wave back")
        good = await reads.last_succeeded(machine_arn, exclude=selection.execution_arn)
        if good is None:
            raise Refused(f"no execution of {machine} has succeeded: there is no good revision to roll back to")
        revision = _input_value(good.input, "revision")
        if not revision:
            raise Refused(f"the last good execution of {machine} ({good.name}) has no revision in its input")
        running = await reads.running_executions(rollback_arn)
        if running:
            raise Refused(f"a rollback is already running: {rollback}/{running[0].name}")
        service = _input_value(good.input, "service") or machine
        wave = self._waves.for_state_machine(machine)
        gateway = reads.gateway
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"rollback-{(wave.name if wave else machine)[:40]}-{stamp}-{uuid.uuid4().hex[:6]}"
        document = {
            "wave": wave.name if wave else machine,
            "revision": revision,
            "service": service,
            "rolledBackFrom": selection.execution_arn,
            "lastGoodExecution": good.arn,
        }

        async def send(reason: str, identity: str) -> Receipt:
            payload = {**document, "reason": reason, "requestedBy": identity}
            return await gateway.start_execution(rollback_arn, json.dumps(payload), name=name)

        lines = [("State machine", machine)]
        if selection.execution_arn:
            lines.append(("Execution", selection.execution_arn.rsplit(":", 1)[-1]))
        lines += [
            ("Rolls back to", f"{good.name} revision {revision}"),
            ("Starts", f"{rollback} ({name})"),
            ("Service", service),
        ]
        return _Facts(
            selection=replace(selection, state_machine_arn=machine_arn),
            title=f"Roll back {machine}" + (f" ({wave.name})" if wave else ""),
            lines=tuple(lines),
            wave=wave,
            expect={"last_good": good.arn, "revision": revision},
            operation="StartExecution",
            request={"stateMachineArn": rollback_arn, "name": name, "input": document},
            send=send,
            done=f"Started {rollback} to roll {wave.name if wave else machine} back to revision {revision}",
        )

    # --- Helpers ------------------------------------------------------------------------------------------

    def _gateway(self, target: str) -> GateGateway:
        gateway = self._gateways.get(target)
        if gateway is None:
            known = ", ".join(sorted(self._gateways)) or "none"
            raise Refused(f"no target named {target} (targets: {known})")
        return gateway

    def _read_only_refusal(self, target: str) -> str | None:
        if self.read_only:
            return "read-only: wavedeck was started read-only (--read-only or read_only in the config); nothing is sent"
        gateway = self._gateways.get(target)
        if gateway is not None and (gateway.read_only or gateway.target.read_only):
            return f"read-only: target {target} is read-only in the config; nothing is sent"
        return None

    @staticmethod
    def _lock_key(plan: ActionPlan) -> str:
        """What one call at a time may act on: a stop locks the execution, the rest the resolved resource."""
        selection = plan.selection
        if plan.kind.family == "stop":
            thing = selection.execution_id or selection.execution_arn or selection.resource
        else:
            thing = selection.resource
        return f"{plan.kind.family}|{selection.key}|{thing}"

    def _machine_unavailable(
        self, kind: ActionKind, selection: Selection, machine: StateMachine, state: FleetState
    ) -> str | None:
        if kind in (ActionKind.PAUSE, ActionKind.RESUME):
            return "pausing promotion is for pipeline stages"
        if kind is ActionKind.STOP_ABANDON:
            return "abandon is for pipeline executions; use stop"
        if kind is ActionKind.ROLLBACK:
            rollback = self._rollback_machines.get(machine.name) or machine.rollback_state_machine
            if rollback is None:
                return f"no rollback state machine is defined for {machine.name}"
            if not any(e.status == "SUCCEEDED" for e in machine.executions):
                return "no execution has succeeded yet"
            return None
        if selection.execution_arn is None:
            return "select an execution"
        execution = next((e for e in machine.executions if e.arn == selection.execution_arn), None)
        if kind in (ActionKind.APPROVE, ActionKind.REJECT):
            waiting = any(
                a.kind == "stepfunctions" and a.target == selection.target and a.execution == selection.execution_arn
                for a in state.approvals
            )
            return None if waiting else "nothing is waiting for approval"
        if execution is None:
            return "not loaded yet"
        if kind is ActionKind.STOP:
            return None if execution.status == "RUNNING" else f"nothing to stop ({execution.status.lower()})"
        if machine.type == "EXPRESS":
            return "express executions cannot be redriven"
        if execution.status not in FAILED_EXECUTION:
            return f"only a failed execution is redriven ({execution.status.lower()})"
        return None


# --- Pure helpers ---------------------------------------------------------------------------------------------


def _overlaps(plan: ActionPlan, kind: ActionKind, selection: Selection) -> bool:
    """Whether an in-flight plan acts on what `selection` names with the same family of action."""
    if plan.kind.family != kind.family or plan.selection.key != selection.key:
        return False
    mine, theirs = selection.resource + "/", plan.selection.resource + "/"
    return mine.startswith(theirs) or theirs.startswith(mine)


def _pipeline_unavailable(kind: ActionKind, selection: Selection, pipeline: Pipeline) -> str | None:
    stage = pipeline.stage(selection.stage) if selection.stage else None
    if selection.stage is not None and stage is None:
        return f"no stage {selection.stage}"
    if kind in (ActionKind.APPROVE, ActionKind.REJECT):
        stages = [stage] if stage is not None else list(pipeline.stages)
        actions = [a for s in stages for a in s.actions if selection.action in (None, a.name)]
        waiting = [a for a in actions if a.awaiting_approval]
        if not waiting:
            return "nothing is waiting for approval"
        if len(waiting) > 1:
            return "several approvals wait: select one"
        return None
    if kind in (ActionKind.STOP, ActionKind.STOP_ABANDON):
        statuses: list[str | None] = []
        if selection.execution_id is not None:
            execution = pipeline.execution(selection.execution_id)
            statuses = [execution.status if execution else None]
        elif stage is not None:
            statuses = [stage.status]
        else:
            statuses = [*(e.status for e in pipeline.executions), *(s.status for s in pipeline.stages)]
        if kind is ActionKind.STOP and "InProgress" in statuses:
            return None
        if kind is ActionKind.STOP_ABANDON and any(s in RUNNING_PIPELINE for s in statuses):
            return None
        if kind is ActionKind.STOP and "Stopping" in statuses:
            return "already stopping (stop and abandon instead)"
        return "nothing is running"
    if stage is None:
        return "select a stage"
    first = bool(pipeline.stages) and pipeline.stages[0].name == stage.name
    if kind is ActionKind.ROLLBACK:
        if first:
            return "a source stage cannot be rolled back"
        if pipeline.execution_mode == "PARALLEL":
            return "not in PARALLEL mode"
        if stage.status in RUNNING_PIPELINE:
            return "the stage is still running"
        return None
    if kind is ActionKind.RETRY:
        return None if stage.status == "Failed" else "only a failed stage can be retried"
    if first:
        return "the first stage has no inbound transition"
    if kind is ActionKind.PAUSE:
        return None if stage.inbound.enabled else "promotion is already paused"
    return None if not stage.inbound.enabled else "promotion is not paused"


def _stages(pipeline: Pipeline, selection: Selection) -> list[Stage]:
    if selection.stage is None:
        return list(pipeline.stages)
    stage = pipeline.stage(selection.stage)
    if stage is None:
        names = ", ".join(s.name for s in pipeline.stages) or "none"
        raise Refused(f"pipeline {pipeline.name} has no stage {selection.stage} (stages: {names})")
    return [stage]


def _stage_of(pipeline: Pipeline, execution_id: str) -> str | None:
    names = [s.name for s in pipeline.stages if s.execution_id == execution_id and s.status in RUNNING_PIPELINE]
    return ", ".join(names) or None


def _not_waiting(where: str, status: str | None, action: Any) -> str:
    by = f" by {action.last_updated_by}" if getattr(action, "last_updated_by", None) else ""
    summary = f": {action.summary}" if getattr(action, "summary", "") else ""
    if status == "Succeeded":
        return f"{where} was already approved{by}{summary}"
    if status == "Failed":
        return f"{where} was already rejected{by}{summary}"
    if status == "Abandoned":
        return f"{where} was abandoned; nothing is waiting for approval"
    if status is None:
        return f"{where} has not run in the latest execution; nothing is waiting for approval"
    if status == "InProgress":
        return f"{where} is in progress but holds no approval token (is it a manual approval?)"
    return f"{where} is {status}; nothing is waiting for approval"


def _changed(plan: ActionPlan, facts: _Facts) -> str | None:
    """A sentence when what the plan relied on changed since, else None."""
    old, new = dict(plan.expect), facts.expect
    if old == new:
        return None
    if plan.kind in (ActionKind.APPROVE, ActionKind.REJECT):
        return f"{plan.title}: a different approval is waiting now (a new execution reached it); look again"
    if "rollback_to" in old and old.get("rollback_to") != new.get("rollback_to"):
        return (
            f"{plan.title}: the execution to roll back to is now {new.get('rollback_to')}, "
            f"not {old.get('rollback_to')}; look again"
        )
    if "last_good" in old and old.get("last_good") != new.get("last_good"):
        return f"{plan.title}: the last good revision is now {new.get('revision')}, not {old.get('revision')}"
    keys = [k for k in old if old.get(k) != new.get(k)]
    details = ", ".join(f"{k} was {old.get(k) or '-'}, now {new.get(k) or '-'}" for k in keys)
    return f"{plan.title}: the state changed since the plan ({details}); look again"


def _result_error(base: Mapping[str, Any], operation: str, exc: BaseException) -> dict[str, Any]:
    record: dict[str, Any] = {"phase": "result", **base, "operation": operation, "outcome": "failed"}
    if isinstance(exc, AwsError):
        record["request_id"] = exc.request_id
        record["error"] = {"type": type(exc).__name__, "code": exc.code, "message": exc.message}
    elif isinstance(exc, asyncio.CancelledError):
        record["outcome"] = "unknown"
        record["error"] = {"type": "Cancelled", "message": "cancelled while the call was in flight"}
    else:
        record["error"] = {"type": type(exc).__name__, "message": str(exc)}
    return record


def _execution_arn(selection: Selection, what: str) -> str:
    if selection.execution_arn is None:
        raise Refused(f"name the execution to {what}: state-machine/execution-name")
    return selection.execution_arn


def _machine_arn(execution_arn: str) -> str:
    region, machine, _ = execution_arn_parts(execution_arn)
    prefix = execution_arn.split(":execution:", 1)[0]
    return f"{prefix}:stateMachine:{machine}"


def _input_value(document: str | None, key: str) -> str | None:
    if not document:
        return None
    try:
        data = json.loads(document)
    except ValueError:
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return str(value) if value not in (None, "") else None


def _revision(revision: Any) -> str:
    summary = (revision.summary or "").splitlines()[0] if getattr(revision, "summary", "") else ""
    return f"{revision.short} {summary}".strip()


def _status(status: str | None) -> str:
    return status or "not run yet"


def _time(moment: datetime | None) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
