"""Diffing two reads into Transitions, and finding what waits for a person, on model objects alone."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from console.approvals import sorted_approvals
from console.codepipeline.approvals import pipeline_approvals
from console.codepipeline.model import (
    Action,
    Condition,
    ConditionKind,
    InboundTransition,
    Pipeline,
    PipelineExecution,
    Rule,
    Stage,
    StageCondition,
)
from console.diff import HistoryCursor, approval_request, pipeline_transitions, state_machine_transitions
from console.model import SourceRevision
from console.stepfunctions.approvals import execution_approvals, waiting_tasks
from console.stepfunctions.model import Execution, HistoryEvent, StateMachine
from console.waves import default_wave_model

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
WAVES = default_wave_model()


def stage(name: str, status: str | None = None, execution: str | None = None, **actions: str | None) -> Stage:
    return Stage(
        name=name,
        wave=WAVES.for_stage("p", name),
        status=status,
        execution_id=execution,
        actions=tuple(
            Action(name=a, run_order=i + 1, status=s, action_execution_id=f"{execution}-{a}" if s else None)
            for i, (a, s) in enumerate(actions.items())
        ),
    )


def pipeline(*stages: Stage, executions: tuple[PipelineExecution, ...] = (), read: bool = True) -> Pipeline:
    return Pipeline(target="t", name="p", stages=stages, executions=executions, read_at=T0 if read else None)


def run(execution_id: str, status: str, minutes: int = 0) -> PipelineExecution:
    return PipelineExecution(
        id=execution_id,
        status=status,
        started=T0 + timedelta(minutes=minutes),
        trigger_type="StartPipelineExecution",
        source_revisions=(SourceRevision("Source", "a1b2c3d4e5f6", "Fix totals"),),
    )


def steps(transitions: list) -> list[tuple[str, str, str | None, str | None]]:
    return [(t.kind, t.resource, t.from_status, t.to_status) for t in transitions]


def test_first_read_is_not_a_change() -> None:
    new = pipeline(stage("Source", "InProgress", "e1", Source="InProgress"), executions=(run("e1", "InProgress"),))
    assert pipeline_transitions(None, new, T0, "poll") == []
    assert pipeline_transitions(pipeline(read=False), new, T0, "poll") == []


def test_one_read_that_catches_several_steps_tells_them_in_order() -> None:
    old = pipeline(
        stage("Source", "Succeeded", "e0", Source="Succeeded"),
        stage("Beta", "Succeeded", "e0", Deploy="Succeeded", Tests="Succeeded"),
        stage("Gamma", "Succeeded", "e0", Deploy="Succeeded"),
        executions=(run("e0", "Succeeded"),),
    )
    new = pipeline(
        stage("Source", "Succeeded", "e1", Source="Succeeded"),
        stage("Beta", "Succeeded", "e1", Deploy="Succeeded", Tests="Succeeded"),
        stage("Gamma", "InProgress", "e1", Deploy="InProgress"),
        executions=(run("e1", "InProgress", 1), run("e0", "Succeeded")),
    )
    changes = pipeline_transitions(old, new, T0, "push")
    assert steps(changes) == [
        ("pipeline-execution", "p", None, "InProgress"),
        ("action", "p/Source/Source", None, "Succeeded"),
        ("stage", "p/Source", None, "Succeeded"),
        ("action", "p/Beta/Deploy", None, "Succeeded"),
        ("action", "p/Beta/Tests", None, "Succeeded"),
        ("stage", "p/Beta", None, "Succeeded"),
        ("stage", "p/Gamma", None, "InProgress"),
        ("action", "p/Gamma/Deploy", None, "InProgress"),
    ]
    assert {t.source for t in changes} == {"push"}
    assert changes[0].detail == "StartPipelineExecution · a1b2c3d4 Fix totals"
    assert changes[-1].wave is not None
    assert changes[-1].wave.name == "gamma"
    assert changes[-1].execution == "e1"


def test_the_end_of_an_execution_comes_after_its_last_stage() -> None:
    old = pipeline(stage("Prod-AZ2", "InProgress", "e1", Deploy="InProgress"), executions=(run("e1", "InProgress"),))
    new = pipeline(stage("Prod-AZ2", "Succeeded", "e1", Deploy="Succeeded"), executions=(run("e1", "Succeeded"),))
    assert steps(pipeline_transitions(old, new, T0, "poll")) == [
        ("action", "p/Prod-AZ2/Deploy", "InProgress", "Succeeded"),
        ("stage", "p/Prod-AZ2", "InProgress", "Succeeded"),
        ("pipeline-execution", "p", "InProgress", "Succeeded"),
    ]


def test_failure_detail_carries_the_error_unaltered() -> None:
    message = "[bold red]x[/] \x1b[31mred\x1b[0m " + "y" * 10_000
    old = pipeline(stage("Beta", "InProgress", "e1", Tests="InProgress"))
    failed = Action(name="Tests", status="Failed", action_execution_id="e1-Tests", error_code="JobFailed",
                    error_message=message)  # fmt: skip
    new = pipeline(replace(stage("Beta", "Failed", "e1"), actions=(failed,)))
    changes = pipeline_transitions(old, new, T0, "poll")
    assert changes[0].detail == f"JobFailed: {message}"
    assert changes[1].detail == "Tests failed"


def test_paused_promotion_is_a_stage_transition() -> None:
    old = pipeline(stage("Prod-AZ1", "Succeeded", "e1"))
    paused = replace(
        stage("Prod-AZ1", "Succeeded", "e1"),
        inbound=InboundTransition(enabled=False, disabled_reason="Incident 42", last_changed_by="ops"),
    )
    changes = pipeline_transitions(old, pipeline(paused), T0, "poll")
    assert steps(changes) == [("stage", "p/Prod-AZ1", "Enabled", "Disabled")]
    assert changes[0].detail == "promotion paused by ops: Incident 42"


def test_an_older_execution_reappearing_is_not_new() -> None:
    old = pipeline(executions=(run("e3", "Succeeded", 3), run("e2", "Succeeded", 2)))
    new = pipeline(executions=(run("e3", "Succeeded", 3), run("e2", "Succeeded", 2), run("e1", "Failed", 1)))
    assert pipeline_transitions(old, new, T0, "poll") == []


def waiting_approval(token: str | None) -> Action:
    """A manual approval in progress, as GetPipelineState's `actionStates[].latestExecution` (status InProgress,
    with its token) laid over its declaration (category Approval, provider Manual) says it."""
    return Action(
        name="Approve",
        category="Approval",
        provider="Manual",
        status="InProgress",
        action_execution_id="x",
        token=token,
        last_status_change=T0,
        timeout_minutes=120,
        configuration=(("CustomData", "Promote?"), ("ExternalEntityLink", "https://wiki/x")),
    )


def test_a_manual_approval_in_progress_waits_whether_or_not_its_token_is_known() -> None:
    # The warm-start cache and pushed events carry no token: the approval waits all the same.
    assert waiting_approval(None).awaiting_approval
    assert waiting_approval("tok-1").awaiting_approval
    assert Action(name="Approve", provider="Manual", status="InProgress").awaiting_approval
    # Any other action in progress without a token does not wait for a person.
    assert not Action(name="Deploy", category="Deploy", provider="CodeDeploy", status="InProgress").awaiting_approval
    # A state read without its declaration: the token alone says it is an approval.
    assert Action(name="Approve", status="InProgress", token="tok-1").awaiting_approval
    assert not Action(name="Approve", status="InProgress").awaiting_approval
    # Answered, or not run: nothing waits, token or not.
    assert not replace(waiting_approval("tok-1"), status="Succeeded").awaiting_approval
    assert not replace(waiting_approval(None), status=None).awaiting_approval


def test_an_approval_without_its_token_is_listed_and_its_token_coming_is_not_news() -> None:
    canary = stage("Prod-Canary", "InProgress", "e1")
    old = pipeline(replace(canary, actions=(waiting_approval(None),)), executions=(run("e1", "InProgress"),))
    new = pipeline(replace(canary, actions=(waiting_approval("tok-1"),)), executions=(run("e1", "InProgress"),))
    # It was waiting already (an event told it, or the last run's cache showed it): the read bringing its token
    # tells nothing more.
    assert pipeline_transitions(old, new, T0, "poll") == []
    assert pipeline_approvals(old) == pipeline_approvals(new)
    (found,) = pipeline_approvals(old)
    assert found.resource == "p/Prod-Canary/Approve"
    assert found.expires == T0 + timedelta(hours=2)
    assert found.custom_data == "Promote?"
    assert found.url == "https://wiki/x"
    assert found.revision is not None
    assert found.revision.revision_id == "a1b2c3d4e5f6"
    assert found.wave is not None
    assert found.wave.name == "prod-canary"
    default = pipeline(replace(canary, actions=(replace(waiting_approval("t"), timeout_minutes=None),)))
    assert pipeline_approvals(default)[0].expires == T0 + timedelta(days=7)


def test_an_approval_starting_to_wait_is_told_once() -> None:
    canary = stage("Prod-Canary", "InProgress", "e1")
    before = replace(canary, actions=(replace(waiting_approval(None), status=None, action_execution_id=None),))
    old = pipeline(before, executions=(run("e1", "InProgress"),))
    pushed = pipeline(replace(canary, actions=(waiting_approval(None),)), executions=(run("e1", "InProgress"),))
    read = pipeline(replace(canary, actions=(waiting_approval("tok-1"),)), executions=(run("e1", "InProgress"),))
    changes = pipeline_transitions(old, pushed, T0, "push")
    assert steps(changes) == [("action", "p/Prod-Canary/Approve", None, "InProgress")]
    assert changes[0].detail == "waiting for approval: Promote?"
    assert pipeline_transitions(pushed, read, T0, "poll") == []
    # Read without its declaration, an action is an approval once its token shows: that is told, once.
    bare = Action(name="Approve", status="InProgress", action_execution_id="x")
    undeclared = pipeline(replace(canary, actions=(bare,)), executions=(run("e1", "InProgress"),))
    answerable = pipeline(
        replace(canary, actions=(replace(bare, token="tok-1"),)), executions=(run("e1", "InProgress"),)
    )
    changes = pipeline_transitions(undeclared, answerable, T0, "poll")
    assert steps(changes) == [("action", "p/Prod-Canary/Approve", "InProgress", "InProgress")]
    assert changes[0].detail == "waiting for approval"
    assert pipeline_approvals(undeclared) == []


def test_the_first_read_after_a_warm_start_tells_no_approval_newly_waiting() -> None:
    # The publisher hands the diff no picture before a resource's first read of this run (a cached picture is
    # shown, never told), whatever the cache showed: nothing is news.
    canary = stage("Prod-Canary", "InProgress", "e1")
    read = pipeline(replace(canary, actions=(waiting_approval("tok-1"),)), executions=(run("e1", "InProgress"),))
    assert pipeline_transitions(None, read, T0, "poll") == []


# --- Step Functions ---------------------------------------------------------------------------------------

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:wave-deployment"


def execution(name: str, status: str, minutes: int = 0, **kw: object) -> Execution:
    return Execution(
        arn=f"arn:aws:states:us-east-1:123456789012:execution:wave-deployment:{name}",
        name=name,
        state_machine_arn=ARN,
        status=status,
        started=T0 + timedelta(minutes=minutes),
        **kw,  # type: ignore[arg-type]
    )


def machine(*executions: Execution) -> StateMachine:
    return StateMachine(
        target="t",
        arn=ARN,
        name="wave-deployment",
        wave=WAVES.wave("prod-az1"),
        executions=executions,
        read_at=T0,
    )


def test_state_machine_executions_started_and_ended() -> None:
    old = machine(execution("a", "RUNNING"))
    new = machine(execution("b", "RUNNING", 1), execution("a", "FAILED", error="Deployment.AlarmFired", cause="x"))
    changes = state_machine_transitions(old, new, T0, "poll")
    assert steps(changes) == [
        ("sfn-execution", "wave-deployment/a", "RUNNING", "FAILED"),
        ("sfn-execution", "wave-deployment/b", None, "RUNNING"),
    ]
    assert changes[0].detail == "Deployment.AlarmFired: x"
    assert state_machine_transitions(None, new, T0, "poll") == []


PARAMETERS = json.dumps(
    {
        "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/deploy-approvals",
        "MessageBody": {"ask": "Promote to prod-az2?", "revision": "a1b2c3d4", "taskToken": "SECRET"},
    }
)


def history(*, answered: bool = False, ended: bool = False) -> list[HistoryEvent]:
    events = [
        HistoryEvent(1, "ExecutionStarted", T0),
        HistoryEvent(2, "WaitStateEntered", T0, 1, state_name="BakeAZ1"),
        HistoryEvent(3, "WaitStateExited", T0, 2, state_name="BakeAZ1"),
        HistoryEvent(4, "TaskStateEntered", T0, 3, state_name="ApprovePromotion"),
        HistoryEvent(
            5,
            "TaskScheduled",
            T0,
            4,
            resource="sendMessage.waitForTaskToken",
            parameters=PARAMETERS,
            timeout_seconds=7200,
        ),  # fmt: skip
        HistoryEvent(6, "TaskStarted", T0, 5),
        HistoryEvent(7, "TaskSubmitted", T0, 6),
    ]
    if answered:
        events += [
            HistoryEvent(8, "TaskSucceeded", T0, 7),
            HistoryEvent(9, "TaskStateExited", T0, 8, state_name="ApprovePromotion"),
        ]
    if ended:
        events.append(HistoryEvent(len(events) + 1, "ExecutionAborted", T0, len(events)))
    return events


def test_a_wait_for_token_state_waits_until_answered() -> None:
    running = execution("r", "RUNNING")
    (found,) = execution_approvals(machine(running), running, history())
    assert found.kind == "stepfunctions"
    assert found.resource == "wave-deployment/r"
    assert found.state_name == "ApprovePromotion"
    assert found.custom_data == "Promote to prod-az2?"
    assert found.expires == T0 + timedelta(seconds=7200)
    assert found.revision is not None
    assert found.revision.revision_id == "a1b2c3d4"
    assert "SECRET" not in repr(found)
    assert execution_approvals(machine(running), running, history(answered=True)) == []
    assert waiting_tasks(history(ended=True)) == []
    assert execution_approvals(machine(running), replace(running, status="SUCCEEDED"), history()) == []


def test_approval_request_without_a_question_key_drops_tokens_and_plumbing() -> None:
    parameters = json.dumps({"QueueUrl": "q", "MessageBody": {"service": "checkout", "token": "SECRET"}})
    assert approval_request(parameters) == '{"service":"checkout"}'
    assert approval_request("not json [bold]") == "not json [bold]"
    assert approval_request(None) == ""


def test_history_cursor_appends_only_new_events_and_tells_state_changes() -> None:
    running = execution("r", "RUNNING")
    cursor = HistoryCursor()
    events = history()
    first = cursor.add(events[:3], machine(running), running, T0, "poll")
    assert [(t.from_status, t.to_status) for t in first] == [(None, "BakeAZ1")]
    # An overlapping batch (the page reached back to events already read) adds nothing twice.
    second = cursor.add(events[1:], machine(running), running, T0, "poll")
    assert [e.id for e in cursor.events] == [1, 2, 3, 4, 5, 6, 7]
    assert [(t.kind, t.from_status, t.to_status) for t in second] == [
        ("sfn-state", "BakeAZ1", "ApprovePromotion"),
        ("sfn-state", "ApprovePromotion", "ApprovePromotion"),
    ]
    assert second[1].detail == "waiting for a person: Promote to prod-az2?"
    assert cursor.last_id == 7
    assert not cursor.ended
    cursor.add(history(answered=True, ended=True)[7:], machine(running), running, T0, "poll")
    assert cursor.ended


def test_approvals_sort_oldest_first() -> None:
    running = execution("r", "RUNNING")
    sfn = execution_approvals(machine(running), running, history())[0]
    older = replace(sfn, resource="x/y", since=T0 - timedelta(hours=1))
    undated = replace(sfn, resource="z/z", since=None)
    assert sorted_approvals([undated, sfn, older]) == (older, sfn, undated)


def bake(
    status: str | None, summary: str = "", rule_status: str | None = None, rule_summary: str = ""
) -> StageCondition:
    configuration = (("AlarmName", "Prod-5xx"), ("WaitTime", "30"))
    rule = Rule("ZoneBake", "CloudWatchAlarm", configuration, rule_status or status, rule_summary or summary)
    return StageCondition(
        ConditionKind.ON_SUCCESS, (Condition("ROLLBACK", (rule,), status, summary),), status=status, summary=summary
    )


def window(status: str | None, summary: str = "") -> StageCondition:
    rule = Rule("Window", "DeploymentWindow", (("Cron", "0 0 9 ? * MON-FRI *"),), status, summary)
    return StageCondition(ConditionKind.BEFORE_ENTRY, (Condition("FAIL", (rule,), status),), status=status)


def test_conditions_are_told_in_order_entry_before_the_stage_bake_before_its_end() -> None:
    old = pipeline(replace(stage("Prod-AZ1", "Succeeded", "e0", Deploy="Succeeded"), conditions=(window("Succeeded"),)))
    entering = pipeline(
        replace(stage("Prod-AZ1", None, "e1"), conditions=(window("InProgress", "closed; opens at 09:00"),))
    )
    assert steps(pipeline_transitions(old, entering, T0, "poll")) == [("condition", "p/Prod-AZ1", None, "InProgress")]
    (held,) = pipeline_transitions(old, entering, T0, "poll")
    assert held.detail == "before entry (FAIL)"
    assert held.wave is not None
    assert held.wave.name == "prod-az1"

    baking = pipeline(
        replace(
            stage("Prod-AZ1", "InProgress", "e1", Deploy="Succeeded"),
            conditions=(window("Succeeded"), bake("InProgress", "Baking until 12:30, watching Prod-5xx OK")),
        )
    )
    assert steps(pipeline_transitions(entering, baking, T0, "poll")) == [
        ("condition", "p/Prod-AZ1", "InProgress", "Succeeded"),
        ("stage", "p/Prod-AZ1", None, "InProgress"),
        ("action", "p/Prod-AZ1/Deploy", None, "Succeeded"),
        ("condition", "p/Prod-AZ1", None, "InProgress"),
    ]
    assert pipeline_transitions(entering, baking, T0, "poll")[-1].detail == (
        "on success (ROLLBACK) · Baking until 12:30, watching Prod-5xx OK"
    )
    # The same status with a new summary (the bake counting down) is no transition.
    later = pipeline(
        replace(baking.stages[0], conditions=(window("Succeeded"), bake("InProgress", "Baking until 12:30, 1 min")))
    )
    assert pipeline_transitions(baking, later, T0, "poll") == []

    failing = bake("Failed", rule_status="Failed", rule_summary="Alarm Prod-5xx is ALARM")
    failed = pipeline(
        replace(stage("Prod-AZ1", "Failed", "e1", Deploy="Succeeded"), conditions=(window("Succeeded"), failing))
    )
    changes = pipeline_transitions(later, failed, T0, "poll")
    assert steps(changes) == [
        ("condition", "p/Prod-AZ1", "InProgress", "Failed"),
        ("stage", "p/Prod-AZ1", "InProgress", "Failed"),
    ]
    assert changes[0].detail == "on success (ROLLBACK) · ZoneBake: Alarm Prod-5xx is ALARM"
    assert changes[0].to_json()["kind"] == "condition"
