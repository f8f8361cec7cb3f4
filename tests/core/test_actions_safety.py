"""The gate's guarantees where they are easiest to break, against the sandbox over HTTP: a plan is sent once,
a production wave reached after planning needs its name, tokens never reach the log or a message, and the
audit records stay in order (intent → call → result) through cancellations and a full disk, written off the
event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from console.actions.audit import AuditError, AuditLog, token_digest
from console.actions.gate import ActionGate, ActionKind
from console.aws.faults import Fault
from console.aws.gateway import Gateway
from console.errors import InvalidInput, Refused
from tests.conftest import wait_until
from tests.core.test_actions_codepipeline import (
    TARGET,
    WAVES,
    abandon,
    phases,
    selection,
    waiting_approval,
)
from tests.sandbox.test_codepipeline_support import (
    action,
    action_state,
    create,
    source,
    stage,
    stage_state,
    stage_status,
    start,
)


def build_pipeline(cp: Any, prefix: str) -> str:
    return create(cp, source(), stage("Build", action("Build", SandboxDuration="1")), prefix=prefix)


class HeldAudit(AuditLog):
    """An audit log whose intent write waits (in its worker thread) until the test releases it."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.entered = threading.Event()
        self.release = threading.Event()

    def write(self, record: dict[str, Any]) -> dict[str, Any]:
        if record.get("phase") == "intent":
            self.entered.set()
            self.release.wait(10)
        return super().write(record)


class FailingResultAudit(AuditLog):
    """An audit log that writes intents and cannot write results (the disk filled up in between)."""

    def write(self, record: dict[str, Any]) -> dict[str, Any]:
        if record.get("phase") == "result":
            raise AuditError(f"cannot write the audit log {self.path}: No space left on device")
        return super().write(record)


async def test_a_plan_is_sent_once_even_when_the_state_would_allow_it_again(
    aws: Any, gate: ActionGate, gateway: Gateway, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name = build_pipeline(cp, "gate-once")
    plan = await gate.plan(ActionKind.PAUSE, selection(name, "Build"))
    sent: list[str] = []
    gateway.add_hook("before-send.codepipeline.DisableStageTransition", lambda **_: sent.append("sent"))
    await gate.execute(plan, "Hold for the release window")
    # Someone resumes it behind our back: the precondition holds again, but this plan has been used.
    cp.enable_stage_transition(pipelineName=name, stageName="Build", transitionType="Inbound")

    with pytest.raises(Refused, match=f"Pause promotion into {name} / Build was already sent at .*; plan it again"):
        await gate.execute(plan, "Hold for the release window")

    assert sent == ["sent"]
    assert phases(audit) == ["intent", "result"]
    again = await gate.plan(ActionKind.PAUSE, selection(name, "Build"))
    await gate.execute(again, "Hold again")
    assert sent == ["sent", "sent"]


async def test_the_same_stage_named_two_ways_is_sent_once_at_a_time(
    aws: Any, gate: ActionGate, gateway: Gateway, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name = build_pipeline(cp, "gate-names")
    plans = [
        await gate.plan(ActionKind.PAUSE, selection(name, "Build")),
        await gate.plan(ActionKind.PAUSE, selection(name, "Build", "Build")),
    ]
    sent: list[str] = []
    gateway.add_hook("before-send.codepipeline.DisableStageTransition", lambda **_: sent.append("sent"))

    results = await asyncio.gather(*(gate.execute(p, "Hold") for p in plans), return_exceptions=True)

    assert sent == ["sent"]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(refused) == 1
    assert "is already being sent" in str(refused[0])
    assert all(p.resource == f"{name}/Build" for p in plans)


async def test_a_production_plan_needs_the_typed_wave_name(aws: Any, gate: ActionGate, audit: AuditLog) -> None:
    cp = aws("codepipeline")
    name, execution_id, _ = waiting_approval(cp)
    plan = await gate.plan(ActionKind.APPROVE, selection(name))
    assert plan.production

    with pytest.raises(Refused, match="acts on production: type 'prod-canary' to confirm; nothing was sent"):
        await gate.execute(plan, "ship it")  # no confirmation at all

    assert phases(audit) == []
    abandon(cp, name, execution_id)


async def test_a_stop_planned_before_production_is_refused_once_the_run_reaches_production(
    aws: Any, gate: ActionGate, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage("Beta", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="80")),  # 2 s
        stage("Prod-Canary", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="4000")),
        prefix="gate-moved",
    )
    execution_id = start(cp, name)
    wait_until(lambda: stage_status(cp, name, "Beta") == (execution_id, "InProgress"), what="the run in Beta")
    plan = await gate.plan(ActionKind.STOP, selection(name))
    assert not plan.production
    assert dict(plan.lines)["Running in"] == "Beta"
    wait_until(
        lambda: stage_status(cp, name, "Prod-Canary") == (execution_id, "InProgress"), what="the run in Prod-Canary"
    )

    with pytest.raises(Refused, match="it now acts on production \\(prod-canary\\), which was not confirmed"):
        await gate.execute(plan, "Bad build")

    assert phases(audit) == []
    assert stage_status(cp, name, "Prod-Canary") == (execution_id, "InProgress")
    abandon(cp, name, execution_id)


async def test_a_token_in_an_aws_error_is_never_written_nor_shown(
    aws: Any, gate: ActionGate, gateway: Gateway, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name, execution_id, token = waiting_approval(cp, "Beta")
    plan = await gate.plan(ActionKind.APPROVE, selection(name))
    fault = Fault.aws_error("ValidationException", f"Token {token} is malformed", operations={"PutApprovalResult"})
    gateway.add_hook("before-send", fault)

    with pytest.raises(InvalidInput) as caught:
        await gate.execute(plan, "ship it")

    assert caught.value.message == f"Approve {name} / Beta / Approve failed: Token {token_digest(token)} is malformed"
    assert token not in str(caught.value)
    assert caught.value.__cause__ is None
    _, result = audit.records()
    assert result["error"]["message"] == f"Token {token_digest(token)} is malformed"
    assert token not in audit.path.read_text()
    abandon(cp, name, execution_id)


async def test_cancelled_while_the_intent_is_written_the_loop_runs_and_nothing_is_sent(
    aws: Any, gateway: Gateway, tmp_path: Path
) -> None:
    cp = aws("codepipeline")
    name = build_pipeline(cp, "gate-held")
    audit = HeldAudit(tmp_path / "audit.jsonl")
    gate = ActionGate({TARGET: gateway}, WAVES, audit)
    plan = await gate.plan(ActionKind.PAUSE, selection(name, "Build"))
    sent: list[str] = []
    gateway.add_hook("before-send.codepipeline.DisableStageTransition", lambda **_: sent.append("sent"))

    task = asyncio.create_task(gate.execute(plan, "Hold for the release window"))
    deadline = time.monotonic() + 10
    while not audit.entered.is_set():  # the event loop keeps running while the intent goes to disk
        assert time.monotonic() < deadline, "the intent was never written"
        await asyncio.sleep(0.01)
    task.cancel()
    for _ in range(5):
        await asyncio.sleep(0.01)
    assert not task.done()  # it waits for the record it started to be on disk
    audit.release.set()
    with pytest.raises(asyncio.CancelledError):
        await task

    intent, result = audit.records()
    assert result["id"] == intent["id"]
    assert result["outcome"] == "not-sent"
    assert sent == []
    assert gate.in_flight == ()
    assert stage_state(cp, name, "Build")["inboundTransitionState"]["enabled"] is True


async def test_cancelled_while_the_call_is_in_flight_the_result_is_unknown_and_the_plan_spent(
    aws: Any, gate: ActionGate, gateway: Gateway, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name = build_pipeline(cp, "gate-cancel")
    plan = await gate.plan(ActionKind.PAUSE, selection(name, "Build"))
    tasks: list[asyncio.Task[Any]] = []

    def interrupt(**_: Any) -> None:
        tasks[0].cancel()  # the request goes on to the wire; the task is cancelled at its next await

    gateway.add_hook("before-send.codepipeline.DisableStageTransition", interrupt)

    tasks.append(asyncio.create_task(gate.execute(plan, "Hold for the release window")))
    with pytest.raises(asyncio.CancelledError):
        await tasks[0]

    intent, result = audit.records()
    assert (intent["phase"], result["phase"]) == ("intent", "result")
    assert result["outcome"] == "unknown", result
    assert gate.in_flight == ()
    # Whether AWS got it is unknown: the same plan is not sent a second time.
    with pytest.raises(Refused, match="was already sent at"):
        await gate.execute(plan, "Hold for the release window")


async def test_a_failed_call_whose_result_cannot_be_written_says_both(
    aws: Any, gateway: Gateway, tmp_path: Path
) -> None:
    cp = aws("codepipeline")
    name = build_pipeline(cp, "gate-full")
    audit = FailingResultAudit(tmp_path / "audit.jsonl")
    gate = ActionGate({TARGET: gateway}, WAVES, audit)
    plan = await gate.plan(ActionKind.PAUSE, selection(name, "Build"))
    fault = Fault.aws_error("ConflictException", "The stage is being changed", operations={"DisableStageTransition"})
    gateway.add_hook("before-send", fault)

    with pytest.raises(AuditError) as caught:
        await gate.execute(plan, "Hold for the release window")

    message = str(caught.value)
    assert message.startswith(f"Pause promotion into {name} / Build failed: The stage is being changed")
    assert "; and its result could not be written: cannot write the audit log" in message
    assert phases(audit) == ["intent"]


async def test_an_action_named_without_its_stage_that_does_not_exist_is_said_plainly(
    aws: Any, gate: ActionGate
) -> None:
    cp = aws("codepipeline")
    name = build_pipeline(cp, "gate-noaction")
    with pytest.raises(Refused, match=f"pipeline {name} has no action Nope \\(actions: Source, Build\\)$"):
        await gate.plan(ActionKind.APPROVE, selection(name, None, "Nope"))


def without_approval_tokens(parsed: dict[str, Any], **_: Any) -> None:
    """An AWS-compatible endpoint whose GetPipelineState leaves out approval tokens (`latestExecution.token`)."""
    for stage_read in parsed.get("stageStates", ()):
        for action_read in stage_read.get("actionStates", ()):
            action_read.get("latestExecution", {}).pop("token", None)


async def test_an_approval_read_waiting_without_its_token_is_refused_and_nothing_is_sent(
    aws: Any, gate: ActionGate, gateway: Gateway, audit: AuditLog
) -> None:
    cp = aws("codepipeline")
    name, execution_id, _ = waiting_approval(cp, "Beta")
    sent: list[str] = []
    gateway.add_hook("before-send.codepipeline.PutApprovalResult", lambda **_: sent.append("sent"))
    gateway.add_hook("after-call.codepipeline.GetPipelineState", without_approval_tokens)
    where = f"{name}/Beta/Approve waits for approval, but {TARGET} gave no approval token for it"

    # It waits (its declaration says it is a manual approval): planning it is refused, not sent with no token.
    for named in (selection(name), selection(name, "Beta", "Approve")):
        with pytest.raises(Refused, match=f"^{where} in GetPipelineState; nothing was sent$"):
            await gate.plan(ActionKind.APPROVE, named)

    # Planned while the token was there, and the endpoint leaves it out by the re-read before sending: refused too.
    gateway.remove_hook("after-call.codepipeline.GetPipelineState", without_approval_tokens)
    plan = await gate.plan(ActionKind.REJECT, selection(name, "Beta", "Approve"))
    gateway.add_hook("after-call.codepipeline.GetPipelineState", without_approval_tokens)
    with pytest.raises(Refused, match=where):
        await gate.execute(plan, "not today")

    assert sent == []
    assert phases(audit) == []
    assert action_state(cp, name, "Beta", "Approve")["latestExecution"]["status"] == "InProgress"
    abandon(cp, name, execution_id)
