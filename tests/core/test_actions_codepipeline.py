"""The action gate on CodePipeline, end to end against the sandbox over HTTP.

Every test makes its own pipeline (unique name, `Sandbox*` configuration keys saying how long each action
takes and how it ends), so tests never see each other's executions. Each action is checked in AWS's answer
and in its two audit records; each refusal sends nothing and writes nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from console.actions.audit import AuditError, AuditLog, token_digest
from console.actions.gate import ActionGate, ActionKind, ActionPlan, Availability, Selection
from console.aws.faults import Fault
from console.aws.gateway import Gateway, GatewayOptions
from console.config import sandbox_targets
from console.errors import Conflict, Refused, Unavailable
from console.model import FleetState, Target
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox_process import SandboxProcess
from tests.conftest import REGION, wait_until
from tests.sandbox.test_codepipeline_support import (
    CALLER,
    action,
    action_runs,
    action_state,
    approval,
    create,
    execution,
    source,
    stage,
    stage_state,
    stage_status,
    start,
    wait_status,
    wait_token,
)
from tests.selections import sel

WAVES = load_fleet().wave_model()
TARGET = f"sandbox/{REGION}"


def sandbox_target(sandbox: SandboxProcess, **changes: Any) -> Target:
    target = sandbox_targets(sandbox.url, (REGION,))[0]
    return Target(**{**{f: getattr(target, f) for f in target.__dataclass_fields__}, **changes})


def phases(audit: AuditLog) -> list[str]:
    return [record["phase"] for record in audit.records()]


def approval_pipeline(cp: Any, stage_name: str = "Prod-Canary") -> str:
    deploy = action("Deploy", "Deploy", "CodeDeploy", 2, SandboxDuration="1")
    return create(cp, source(), stage(stage_name, approval("Approve"), deploy), prefix="gate-approve")


def waiting_approval(cp: Any, stage_name: str = "Prod-Canary") -> tuple[str, str, str]:
    """A new pipeline whose execution waits at its approval: (pipeline, execution id, token)."""
    name = approval_pipeline(cp, stage_name)
    execution_id = start(cp, name)
    return name, execution_id, wait_token(cp, name, stage_name)


def abandon(cp: Any, name: str, execution_id: str) -> None:
    """Leave nothing waiting in the shared sandbox."""
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=execution_id, abandon=True)


def selection(pipeline: str, stage_name: str | None = None, action_name: str | None = None) -> Selection:
    return sel(target=TARGET, pipeline=pipeline, stage=stage_name, action=action_name)


# --- approve / reject ------------------------------------------------------------------------------------------


async def test_approve_answers_the_waiting_approval_and_audits_both_sides(
    aws: Any, gate: ActionGate, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name, execution_id, token = waiting_approval(cp)

    plan = await gate.plan(ActionKind.APPROVE, selection(name))

    assert plan.selection == sel(TARGET, name, "Prod-Canary", "Approve", execution_id=execution_id)
    assert plan.title == f"Approve {name} / Prod-Canary / Approve"
    assert plan.production
    assert plan.confirm_word == "prod-canary"
    lines = dict(plan.lines)
    assert lines["Execution"] == execution_id
    assert lines["Revision"].startswith(execution(cp, name, execution_id)["artifactRevisions"][0]["revisionId"][:8])
    assert lines["Wave"] == "prod-canary (production)"
    assert plan.expect["token"] == token_digest(token)

    outcome = await gate.execute(plan, "Canary metrics are clean", confirmation="prod-canary")

    latest = action_state(cp, name, "Prod-Canary", "Approve")["latestExecution"]
    assert latest["status"] == "Succeeded"
    assert latest["summary"] == "Canary metrics are clean"
    assert outcome.request_id
    assert outcome.message == f"Approved {name}/Prod-Canary/Approve (request id {outcome.request_id})"
    intent, result = audit.records()
    assert intent["phase"] == "intent"
    assert intent["action"] == "approve"
    assert intent["resource"] == f"{name}/Prod-Canary/Approve"
    assert intent["identity"] == CALLER
    assert intent["reason"] == "Canary metrics are clean"
    assert intent["operation"] == "PutApprovalResult"
    assert intent["request"]["token"] == token_digest(token)
    assert intent["production"] is True
    assert result["phase"] == "result"
    assert result["id"] == intent["id"]
    assert result["outcome"] == "succeeded"
    assert result["request_id"] == outcome.request_id
    assert token not in audit.path.read_text()
    wait_status(cp, name, execution_id, "Succeeded")


async def test_reject_sends_the_reason_as_the_summary(aws: Any, gate: ActionGate, audit: AuditLog) -> None:
    cp = aws("codepipeline")
    name, execution_id, _ = waiting_approval(cp, "Beta")

    plan = await gate.plan(ActionKind.REJECT, selection(name, "Beta", "Approve"))
    assert not plan.production
    assert plan.confirm_word is None
    await gate.execute(plan, "Integration tests flaky, rerun after fix")

    latest = action_state(cp, name, "Beta", "Approve")["latestExecution"]
    assert latest["status"] == "Failed"
    assert latest["summary"] == "Integration tests flaky, rerun after fix"
    assert wait_status(cp, name, execution_id) == "Failed"
    assert phases(audit) == ["intent", "result"]


async def test_a_wrong_production_confirmation_sends_nothing(aws: Any, gate: ActionGate, audit: AuditLog) -> None:
    cp = aws("codepipeline")
    name, execution_id, _ = waiting_approval(cp)
    plan = await gate.plan(ActionKind.APPROVE, selection(name))

    with pytest.raises(Refused, match="type 'prod-canary' to confirm \\(you typed 'prod-az1'\\)"):
        await gate.execute(plan, "ship it", confirmation="prod-az1")

    assert action_state(cp, name, "Prod-Canary", "Approve")["latestExecution"]["status"] == "InProgress"
    assert phases(audit) == []
    abandon(cp, name, execution_id)


async def test_a_production_target_asks_for_the_wave_name_even_outside_production_waves(
    aws: Any, sandbox: SandboxProcess, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name, _, _ = waiting_approval(cp, "Beta")
    async with Gateway(sandbox_target(sandbox, production=True)) as production_gateway:
        gate = ActionGate({TARGET: production_gateway}, WAVES, audit)
        plan = await gate.plan(ActionKind.APPROVE, selection(name))
        assert plan.production
        assert plan.confirm_word == "beta"
        assert dict(plan.lines)["Target"] == f"{TARGET} (production)"
        with pytest.raises(Refused, match="type 'beta' to confirm"):
            await gate.execute(plan, "ok", confirmation="yes")
        await gate.execute(plan, "ok", confirmation="beta")
    assert action_state(cp, name, "Beta", "Approve")["latestExecution"]["status"] == "Succeeded"


async def test_an_approval_answered_behind_the_plans_back_is_refused(
    aws: Any, gate: ActionGate, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name, _, token = waiting_approval(cp)
    plan = await gate.plan(ActionKind.APPROVE, selection(name, "Prod-Canary", "Approve"))
    cp.put_approval_result(
        pipelineName=name,
        stageName="Prod-Canary",
        actionName="Approve",
        result={"summary": "approved from the AWS console", "status": "Approved"},
        token=token,
    )

    with pytest.raises(Refused, match=f"{name}/Prod-Canary/Approve was already approved by .*: approved from"):
        await gate.execute(plan, "late approval", confirmation="prod-canary")

    assert phases(audit) == []


async def test_nothing_waiting_is_refused_with_a_plain_sentence(aws: Any, gate: ActionGate) -> None:
    cp = aws("codepipeline")
    name = approval_pipeline(cp)
    with pytest.raises(Refused, match=f"nothing is waiting for approval in {name}$"):
        await gate.plan(ActionKind.APPROVE, selection(name))
    with pytest.raises(Refused, match="has no stage Nope \\(stages: Source, Prod-Canary\\)"):
        await gate.plan(ActionKind.APPROVE, selection(name, "Nope"))


async def test_two_consoles_approving_the_same_approval_one_wins(
    aws: Any, sandbox: SandboxProcess, gate: ActionGate, audit: AuditLog, tmp_path: Path
) -> None:
    cp = aws("codepipeline")
    name, execution_id, _ = waiting_approval(cp)
    other_audit = AuditLog(tmp_path / "other.jsonl")
    async with Gateway(sandbox_target(sandbox)) as other_gateway:
        other = ActionGate({TARGET: other_gateway}, WAVES, other_audit)
        plans = await asyncio.gather(
            gate.plan(ActionKind.APPROVE, selection(name)), other.plan(ActionKind.APPROVE, selection(name))
        )
        results = await asyncio.gather(
            gate.execute(plans[0], "first console", confirmation="prod-canary"),
            other.execute(plans[1], "second console", confirmation="prod-canary"),
            return_exceptions=True,
        )

    outcomes = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(outcomes) == 1
    assert len(errors) == 1
    assert "already approved" in str(errors[0])
    winner = "first console" if outcomes[0].plan is plans[0] else "second console"
    assert action_state(cp, name, "Prod-Canary", "Approve")["latestExecution"]["summary"] == winner
    # The loser wrote nothing (refused on its re-read) or both records (AWS said it was already answered).
    loser_audit = other_audit if winner == "first console" else audit
    loser = list(loser_audit.records())
    assert [r["phase"] for r in loser] in ([], ["intent", "result"])
    if loser:
        assert loser[1]["outcome"] == "failed"
        assert loser[1]["error"]["code"] in ("ApprovalAlreadyCompletedException", "InvalidApprovalTokenException")
    assert wait_status(cp, name, execution_id) == "Succeeded"


async def test_asking_twice_while_the_first_is_in_flight_sends_once(
    aws: Any, gate: ActionGate, gateway: Gateway, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name, _, _ = waiting_approval(cp)
    plan = await gate.plan(ActionKind.APPROVE, selection(name))
    sent: list[tuple[ActionPlan, ...]] = []
    greyed: list[Availability] = []

    def count(**_: Any) -> None:
        sent.append(gate.in_flight)
        greyed.append(gate.availability(ActionKind.REJECT, selection(name), FleetState()))

    gateway.add_hook("before-send.codepipeline.PutApprovalResult", count)
    results = await asyncio.gather(
        gate.execute(plan, "go", confirmation="prod-canary"),
        gate.execute(plan, "go", confirmation="prod-canary"),
        return_exceptions=True,
    )

    assert len(sent) == 1
    assert sent[0] == (plan,)
    assert greyed == [Availability(False, "approve is being sent")]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(refused) == 1
    assert "is already being sent" in str(refused[0])
    assert phases(audit) == ["intent", "result"]
    assert gate.in_flight == ()


async def test_the_intent_is_on_disk_before_the_call_and_a_failure_leaves_a_result(
    aws: Any, gate: ActionGate, gateway: Gateway, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="1")), prefix="gate-fail")
    plan = await gate.plan(ActionKind.PAUSE, selection(name, "Build"))
    on_disk: list[list[str]] = []
    fault = Fault.aws_error("ConflictException", "The stage is being changed", operations={"DisableStageTransition"})

    def look(**_: Any) -> None:
        on_disk.append(phases(audit))

    gateway.add_hook("before-send.codepipeline.DisableStageTransition", look)
    gateway.add_hook("before-send", fault)

    with pytest.raises(Conflict, match=f"Pause promotion into {name} / Build failed: The stage is being changed"):
        await gate.execute(plan, "Hold for the release window")

    assert on_disk == [["intent"]]
    intent, result = audit.records()
    assert result["id"] == intent["id"]
    assert result["outcome"] == "failed"
    assert result["request_id"] == "wavedeck-fault-0000"
    assert result["error"] == {
        "type": "Conflict",
        "code": "ConflictException",
        "message": "The stage is being changed",
    }
    assert stage_state(cp, name, "Build")["inboundTransitionState"]["enabled"] is True


async def test_an_unreachable_endpoint_is_a_failure_with_its_result_record(
    aws: Any, sandbox: SandboxProcess, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="1")), prefix="gate-down")
    # One attempt: botocore's retries of a connection error only make the test slower.
    async with Gateway(sandbox_target(sandbox), options=GatewayOptions(max_attempts=1)) as gateway:
        gate = ActionGate({TARGET: gateway}, WAVES, audit)
        plan = await gate.plan(ActionKind.PAUSE, selection(name, "Build"))
        gateway.add_hook("before-send", Fault.connection_error(operations={"DisableStageTransition"}))

        with pytest.raises(Unavailable, match="cannot reach AWS"):
            await gate.execute(plan, "Hold for the release window")

    intent, result = audit.records()
    assert intent["phase"] == "intent"
    assert result["outcome"] == "failed"
    assert result["error"]["type"] == "Unavailable"


async def test_no_audit_no_action(aws: Any, gateway: Gateway, tmp_path: Path) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="1")), prefix="gate-audit")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    gate = ActionGate({TARGET: gateway}, WAVES, AuditLog(blocker / "audit.jsonl"))
    plan = await gate.plan(ActionKind.PAUSE, selection(name, "Build"))
    sent: list[str] = []
    gateway.add_hook("before-send.codepipeline.DisableStageTransition", lambda **_: sent.append("sent"))

    with pytest.raises(AuditError, match="cannot write the audit log"):
        await gate.execute(plan, "Hold for the release window")

    assert sent == []
    assert stage_state(cp, name, "Build")["inboundTransitionState"]["enabled"] is True


# --- read-only ---------------------------------------------------------------------------------------------------


async def test_read_only_flag_refuses_before_anything_is_sent(
    aws: Any, gateway: Gateway, gate: ActionGate, tmp_path: Path
) -> None:
    cp = aws("codepipeline")
    name, execution_id, _ = waiting_approval(cp, "Beta")
    plan = await gate.plan(ActionKind.APPROVE, selection(name))
    read_only_audit = AuditLog(tmp_path / "read-only.jsonl")
    read_only = ActionGate({TARGET: gateway}, WAVES, read_only_audit, read_only=True)

    with pytest.raises(Refused, match="read-only: wavedeck was started read-only"):
        await read_only.plan(ActionKind.APPROVE, selection(name))
    with pytest.raises(Refused, match="read-only"):
        await read_only.execute(plan, "should not be sent")

    assert action_state(cp, name, "Beta", "Approve")["latestExecution"]["status"] == "InProgress"
    assert phases(read_only_audit) == []
    abandon(cp, name, execution_id)


async def test_a_target_read_only_in_the_config_refuses(aws: Any, sandbox: SandboxProcess, audit: AuditLog) -> None:
    cp = aws("codepipeline")
    name, execution_id, _ = waiting_approval(cp, "Beta")
    async with Gateway(sandbox_target(sandbox, read_only=True)) as read_only_gateway:
        read_only = ActionGate({TARGET: read_only_gateway}, WAVES, audit)
        with pytest.raises(Refused, match=f"read-only: target {TARGET} is read-only in the config"):
            await read_only.plan(ActionKind.APPROVE, selection(name))

    assert action_state(cp, name, "Beta", "Approve")["latestExecution"]["status"] == "InProgress"
    assert phases(audit) == []
    abandon(cp, name, execution_id)


# --- stop --------------------------------------------------------------------------------------------------------


def running_pipeline(cp: Any, build_seconds: str) -> tuple[str, str]:
    name = create(
        cp,
        source(),
        stage("Build", action("Build", SandboxDuration=build_seconds)),
        stage("Deploy", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
        prefix="gate-stop",
    )
    execution_id = start(cp, name)
    wait_until(lambda: stage_status(cp, name, "Build") == (execution_id, "InProgress"), what="the run in Build")
    return name, execution_id


async def test_stop_and_wait_lets_the_running_action_finish(aws: Any, gate: ActionGate, audit: AuditLog) -> None:
    cp = aws("codepipeline")
    name, execution_id = running_pipeline(cp, "240")  # 6 s: still running when planned on a busy machine

    plan = await gate.plan(ActionKind.STOP, selection(name))
    assert plan.selection.execution_id == execution_id
    assert dict(plan.lines)["Running in"] == "Build"
    outcome = await gate.execute(plan, "Bad config pushed")

    assert outcome.message.startswith(f"Stopping {name} execution {execution_id}")
    assert wait_status(cp, name, execution_id, "Stopped") == "Stopped"
    assert action_state(cp, name, "Build", "Build")["latestExecution"]["status"] == "Succeeded"
    summary = cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"][0]
    assert summary["stopTrigger"]["reason"] == "Bad config pushed"
    assert phases(audit) == ["intent", "result"]
    with pytest.raises(Refused, match=f"nothing is running in {name}$"):
        await gate.plan(ActionKind.STOP, selection(name))


async def test_a_stopping_execution_can_be_escalated_to_abandon(aws: Any, gate: ActionGate, audit: AuditLog) -> None:
    cp = aws("codepipeline")
    name, execution_id = running_pipeline(cp, "2000")  # 50 s: it stays Stopping until abandoned
    await gate.execute(await gate.plan(ActionKind.STOP, selection(name, "Build")), "Stop it")
    wait_status(cp, name, execution_id, "Stopping")

    with pytest.raises(Refused, match="is already stopping; stop and abandon to abandon its running actions"):
        await gate.plan(ActionKind.STOP, selection(name))
    plan = await gate.plan(ActionKind.STOP_ABANDON, selection(name))
    assert plan.title == f"Stop and abandon {name} execution {execution_id[:8]}"
    await gate.execute(plan, "Abandon the build")

    assert wait_status(cp, name, execution_id, "Stopped") == "Stopped"
    assert action_state(cp, name, "Build", "Build")["latestExecution"]["status"] == "Abandoned"
    records = list(audit.records())
    assert [(r["action"], r["phase"]) for r in records] == [
        ("stop", "intent"),
        ("stop", "result"),
        ("stop-abandon", "intent"),
        ("stop-abandon", "result"),
    ]
    assert records[2]["request"]["abandon"] is True


# --- rollback ----------------------------------------------------------------------------------------------------


def outcome_pipeline(cp: Any) -> str:
    deploy = action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1", SandboxOutcome="#{variables.outcome}")
    return create(cp, source(), stage("Prod-AZ1", deploy), prefix="gate-rollback", variables={"outcome": "Succeeded"})


async def test_rollback_goes_to_the_latest_execution_that_succeeded_in_the_stage(
    aws: Any, gate: ActionGate, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name = outcome_pipeline(cp)
    first = start(cp, name)
    wait_status(cp, name, first, "Succeeded")
    good = start(cp, name)
    wait_status(cp, name, good, "Succeeded")
    bad = start(cp, name, outcome="Failed")
    wait_status(cp, name, bad, "Failed")

    plan = await gate.plan(ActionKind.ROLLBACK, selection(name, "Prod-AZ1"))

    revision = execution(cp, name, good)["artifactRevisions"][0]["revisionId"]
    assert dict(plan.lines)["Rolls back to"].startswith(f"{good} {revision[:8]}")
    assert dict(plan.lines)["Now"].startswith(f"{bad} (Failed)")
    assert plan.production
    assert plan.confirm_word == "prod-az1"
    outcome = await gate.execute(plan, "AZ1 error rate up after deploy", confirmation="prod-az1")

    assert outcome.new_execution
    rollback = execution(cp, name, outcome.new_execution)
    assert rollback["executionType"] == "ROLLBACK"
    assert rollback["rollbackMetadata"]["rollbackTargetPipelineExecutionId"] == good
    assert wait_status(cp, name, outcome.new_execution) == "Succeeded"
    intent, result = audit.records()
    assert intent["request"]["targetPipelineExecutionId"] == good
    assert result["new_execution"] == outcome.new_execution


async def test_rollback_is_refused_while_the_stage_runs_or_with_nothing_to_go_back_to(
    aws: Any, gate: ActionGate
) -> None:
    cp = aws("codepipeline")
    name = outcome_pipeline(cp)
    only = start(cp, name)
    wait_status(cp, name, only, "Succeeded")
    with pytest.raises(Refused, match=f"no earlier execution succeeded in {name}/Prod-AZ1"):
        await gate.plan(ActionKind.ROLLBACK, selection(name, "Prod-AZ1"))
    with pytest.raises(Refused, match="source stage cannot be rolled back"):
        await gate.plan(ActionKind.ROLLBACK, selection(name, "Source"))

    slow = create(cp, source(), stage("Build", action("Build", SandboxDuration="400")), prefix="gate-rollback")
    running = start(cp, slow)
    wait_until(lambda: stage_status(cp, slow, "Build") == (running, "InProgress"), what="the run in Build")
    with pytest.raises(Refused, match=f"{slow}/Build is still running \\(execution {running}, InProgress\\)"):
        await gate.plan(ActionKind.ROLLBACK, selection(slow, "Build"))
    cp.stop_pipeline_execution(pipelineName=slow, pipelineExecutionId=running, abandon=True)


# --- retry -------------------------------------------------------------------------------------------------------


async def test_retry_reruns_the_failed_actions_of_a_failed_stage(aws: Any, gate: ActionGate, audit: AuditLog) -> None:
    cp = aws("codepipeline")
    name = outcome_pipeline(cp)
    with pytest.raises(Refused, match="has not failed \\(not run yet\\); only a failed stage can be retried"):
        await gate.plan(ActionKind.RETRY, selection(name, "Prod-AZ1"))
    failed = start(cp, name, outcome="Failed")
    wait_status(cp, name, failed, "Failed")

    plan = await gate.plan(ActionKind.RETRY, selection(name))  # the one failed stage is found

    assert plan.selection.stage == "Prod-AZ1"
    assert dict(plan.lines)["Failed"] == "Deploy"
    assert dict(plan.lines)["Sends"] == "RetryStageExecution FAILED_ACTIONS"
    await gate.execute(plan, "Transient deploy error", confirmation="prod-az1")

    wait_until(
        lambda: len([r for r in action_runs(cp, name, failed) if r["actionName"] == "Deploy"]) == 2,
        what="a second run of Deploy",
    )
    intent, _ = audit.records()
    assert intent["request"]["retryMode"] == "FAILED_ACTIONS"


# --- pause / resume ----------------------------------------------------------------------------------------------


async def test_pause_then_resume_promotion_into_a_stage(aws: Any, gate: ActionGate, audit: AuditLog) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage("Build", action("Build", SandboxDuration="1")),
        stage("Beta", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
        prefix="gate-pause",
    )
    plan = await gate.plan(ActionKind.PAUSE, selection(name, "Beta"))
    assert dict(plan.lines)["Transition"] == "Build → Beta"
    await gate.execute(plan, "Hold for the release window (CHG-42)")

    inbound = stage_state(cp, name, "Beta")["inboundTransitionState"]
    assert inbound["enabled"] is False
    assert inbound["disabledReason"] == "Hold for the release window (CHG-42)"
    with pytest.raises(Refused, match=f"promotion into {name}/Beta is already paused by .*: Hold for the release"):
        await gate.plan(ActionKind.PAUSE, selection(name, "Beta"))

    held = start(cp, name)
    wait_until(lambda: stage_state(cp, name, "Beta").get("inboundExecutions"), what="an execution held before Beta")
    resume = await gate.plan(ActionKind.RESUME, selection(name, "Beta"))
    assert dict(resume.lines)["Paused because"] == "Hold for the release window (CHG-42)"
    assert dict(resume.lines)["Waiting"] == held
    await gate.execute(resume, "Window open")

    assert stage_state(cp, name, "Beta")["inboundTransitionState"]["enabled"] is True
    assert wait_status(cp, name, held) == "Succeeded"
    assert [(r["action"], r["phase"]) for r in audit.records()] == [
        ("pause", "intent"),
        ("pause", "result"),
        ("resume", "intent"),
        ("resume", "result"),
    ]


async def test_pause_reasons_aws_would_refuse_are_refused_first(aws: Any, gate: ActionGate, audit: AuditLog) -> None:
    cp = aws("codepipeline")
    name = create(cp, source(), stage("Build", action("Build", SandboxDuration="1")), prefix="gate-pause")
    plan = await gate.plan(ActionKind.PAUSE, selection(name, "Build"))

    with pytest.raises(Refused, match="contains '_' at character 5, which AWS does not allow"):
        await gate.execute(plan, "hold_until monday")
    with pytest.raises(Refused, match="a reason is required"):
        await gate.execute(plan, "   ")
    with pytest.raises(Refused, match="Source is the first stage; it has no inbound transition$"):
        await gate.plan(ActionKind.PAUSE, selection(name, "Source"))

    assert stage_state(cp, name, "Build")["inboundTransitionState"]["enabled"] is True
    assert phases(audit) == []
