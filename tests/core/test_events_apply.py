"""Pushed events applied as they are: AWS's documented event shapes, order per item, repeats, what is left to read.

The events are shaped as AWS's "Monitoring CodePipeline events" and the Step Functions developer guide
("Step Functions Execution Status Change") show them: `time` in whole seconds, CodePipeline's `version` a
JSON number, Step Functions' dates in epoch milliseconds.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from console.codepipeline.events import (
    FAILURE,
    STRUCTURE,
    TOKEN,
    UNKNOWN,
    apply_pipeline_event,
    newer_than_read,
    pipeline_item,
)
from console.codepipeline.model import (
    Action,
    Condition,
    ConditionKind,
    Pipeline,
    PipelineExecution,
    PipelineState,
    Rule,
    Stage,
    StageCondition,
)
from console.codepipeline.poller import PIPELINE_EXECUTIONS_LISTED
from console.polling.events_apply import EARLIEST, RUN, RUNS_KEPT, EventMarks, event_order, packed
from console.push import PushEvent, parse_event
from console.stepfunctions.events import apply_execution_event
from console.stepfunctions.model import Execution, StateMachine
from console.stepfunctions.poller import EXECUTIONS_LISTED

ACCOUNT = "123456789012"
PIPELINE_ARN = f"arn:aws:codepipeline:us-east-1:{ACCOUNT}:myPipeline"
MACHINE_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:state-machine"
EXECUTION_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:execution:state-machine:execution-name"
RUN_A = "12345678-1234-5678-abcd-12345678abcd"
RUN_B = "87654321-4321-8765-dcba-dcba87654321"
T0 = datetime(2026, 11, 26, 9, 16, 38, tzinfo=UTC)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(event_id: str, detail_type: str, source: str, time: datetime, detail: dict[str, Any]) -> str:
    resource = PIPELINE_ARN if source == "aws.codepipeline" else EXECUTION_ARN
    return json.dumps(
        {
            "version": "0",
            "id": event_id,
            "detail-type": detail_type,
            "source": source,
            "account": ACCOUNT,
            "time": stamp(time),
            "region": "us-east-1",
            "resources": [resource],
            "detail": detail,
        }
    )


def pipeline_event(event_id: str, state: str, time: datetime, run: str = RUN_A, started: datetime = T0) -> PushEvent:
    """AWS's pipeline-level example: pipeline, execution-id, start-time, execution-trigger, state, version."""
    detail = {
        "pipeline": "myPipeline",
        "execution-id": run,
        "start-time": started.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "execution-trigger": {
            "trigger-type": "StartPipelineExecution",
            "trigger-detail": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/my-user",
        },
        "state": state,
        "version": 1.0,
        "pipeline-execution-attempt": 0.0,
    }
    parsed = parse_event(
        envelope(event_id, "CodePipeline Pipeline Execution State Change", "aws.codepipeline", time, detail)
    )
    assert parsed is not None
    return parsed


def stage_event(
    event_id: str,
    stage: str,
    state: str,
    time: datetime,
    run: str = RUN_A,
    started: datetime = T0,
    version: float = 1.0,
) -> PushEvent:
    """AWS's stage-level example: the pipeline's fields plus `stage`."""
    detail = {
        "pipeline": "myPipeline",
        "execution-id": run,
        "start-time": started.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "stage": stage,
        "state": state,
        "version": version,
        "pipeline-execution-attempt": 0.0,
    }
    parsed = parse_event(
        envelope(event_id, "CodePipeline Stage Execution State Change", "aws.codepipeline", time, detail)
    )
    assert parsed is not None
    return parsed


def action_event(
    event_id: str,
    stage: str,
    action: str,
    state: str,
    time: datetime,
    *,
    run: str = RUN_A,
    category: str = "Build",
    provider: str = "CodeBuild",
) -> PushEvent:
    """AWS's action-level example: `type` {owner, provider, category, version}, `region`, and once the action
    ended `execution-result` (external id, URL, summary, error code)."""
    detail: dict[str, Any] = {
        "pipeline": "myPipeline",
        "execution-id": run,
        "stage": stage,
        "action": action,
        "state": state,
        "region": "us-east-1",
        "type": {"owner": "AWS", "provider": provider, "category": category, "version": "1"},
        "version": 1.0,
    }
    if state != "STARTED":
        detail["execution-result"] = {
            "external-execution-url": "https://console.aws.amazon.com/codebuild/home#/builds/my-project:1/view/new",
            "external-execution-summary": "Build terminated with state: FAILED" if state == "FAILED" else "ok",
            "external-execution-id": "my-project:86a1cd00",
            **({"error-code": "JobFailed"} if state == "FAILED" else {}),
        }
    parsed = parse_event(
        envelope(event_id, "CodePipeline Action Execution State Change", "aws.codepipeline", time, detail)
    )
    assert parsed is not None
    return parsed


def execution_event(
    event_id: str, status: str, started: datetime, stopped: datetime | None = None, redriven: datetime | None = None
) -> PushEvent:
    """The Step Functions developer guide's example: executionArn, stateMachineArn, name, status, startDate,
    stopDate (epoch milliseconds, null while running), input and output."""

    def millis(when: datetime | None) -> int | None:
        return None if when is None else int(when.timestamp() * 1000)

    detail = {
        "executionArn": EXECUTION_ARN,
        "stateMachineArn": MACHINE_ARN,
        "name": "execution-name",
        "status": status,
        "startDate": millis(started),
        "stopDate": millis(stopped),
        "input": "{}",
        "inputDetails": {"included": True},
        "output": None if status == "RUNNING" else "{}",
        "outputDetails": None,
        **({"error": "States.TaskFailed", "cause": "boom"} if status == "FAILED" else {}),
        **({"redriveCount": 1, "redriveDate": millis(redriven)} if redriven else {}),
    }
    parsed = parse_event(
        envelope(
            event_id, "Step Functions Execution Status Change", "aws.states", stopped or redriven or started, detail
        )
    )
    assert parsed is not None
    return parsed


def structure(*, conditions: bool = False) -> Pipeline:
    build = Stage(name="Build", actions=(Action(name="Build", category="Build", provider="CodeBuild"),))
    approve = Stage(name="Approve", actions=(Action(name="Approve", category="Approval", provider="Manual"),))
    return Pipeline(target="t", name="myPipeline", version=1, stages=(build, approve))


def read_state(status: str = "Succeeded", run: str = RUN_A, changed: datetime = T0) -> PipelineState:
    action = Action(name="Build", status=status, last_status_change=changed)
    return PipelineState(
        name="myPipeline", version=1, stages=(Stage(name="Build", status=status, execution_id=run, actions=(action,)),)
    )


def stage_of(state: PipelineState, name: str) -> Stage:
    return next(s for s in state.stages if s.name == name)


# --- Parsing AWS's documented shapes ------------------------------------------------------------------------


def test_each_documented_event_shape_is_read_whole() -> None:
    pipeline = pipeline_event("p1", "STARTED", T0)
    assert (pipeline.kind, pipeline.pipeline, pipeline.execution_id, pipeline.state) == (
        "pipeline",
        "myPipeline",
        RUN_A,
        "STARTED",
    )
    assert pipeline.time == T0
    assert pipeline.start_time == T0
    assert pipeline.version == 1
    assert pipeline.trigger_type == "StartPipelineExecution"

    stage = stage_event("s1", "Build", "SUCCEEDED", T0)
    assert (stage.kind, stage.stage, stage.action) == ("stage", "Build", None)

    action = action_event("a1", "Build", "Build", "FAILED", T0)
    assert (action.kind, action.stage, action.action, action.category, action.provider) == (
        "action",
        "Build",
        "Build",
        "Build",
        "CodeBuild",
    )
    assert action.summary == "Build terminated with state: FAILED"
    assert action.error_code == "JobFailed"
    assert action.external_id == "my-project:86a1cd00"

    states = execution_event("x1", "FAILED", T0, T0 + timedelta(seconds=5))
    assert (states.kind, states.execution_arn, states.state_machine_arn, states.name) == (
        "execution",
        EXECUTION_ARN,
        MACHINE_ARN,
        "execution-name",
    )
    assert states.start_time == T0
    assert states.stop_time == T0 + timedelta(seconds=5)
    assert states.summary == "States.TaskFailed: boom"


# --- CodePipeline ---------------------------------------------------------------------------------------------


def test_a_stage_event_is_applied_and_an_older_one_never_overwrites_it() -> None:
    marks = EventMarks()
    state = read_state()
    started = stage_event(
        "s1", "Build", "STARTED", T0 + timedelta(seconds=10), run=RUN_B, started=T0 + timedelta(seconds=9)
    )
    ended = stage_event(
        "s2", "Build", "SUCCEEDED", T0 + timedelta(seconds=20), run=RUN_B, started=T0 + timedelta(seconds=9)
    )
    # Delivered out of order: the end first, then the start it follows.
    first = apply_pipeline_event(state, (), structure(), ended, marks)
    assert first.changed
    assert stage_of(first.state, "Build").status == "Succeeded"
    assert stage_of(first.state, "Build").execution_id == RUN_B
    late = apply_pipeline_event(first.state, (), structure(), started, marks)
    assert not late.changed
    assert late.state is first.state
    # A repeat (SQS delivers at least once) changes nothing either.
    again = apply_pipeline_event(first.state, (), structure(), ended, marks)
    assert not again.changed


def test_a_new_execution_in_a_stage_does_not_inherit_how_its_conditions_evaluated() -> None:
    bake = Rule(name="Alarm", provider="CloudWatchAlarm", status="Succeeded", summary="OK", last_status_change=T0)
    evaluated = StageCondition(
        kind=ConditionKind.ON_SUCCESS,
        conditions=(Condition(result="ROLLBACK", rules=(bake,), status="Succeeded", summary="met"),),
        status="Succeeded",
        summary="All conditions met",
    )
    state = read_state()
    state = replace(state, stages=(replace(stage_of(state, "Build"), conditions=(evaluated,)),))
    later = T0 + timedelta(seconds=10)
    applied = apply_pipeline_event(state, (), structure(), stage_event("s1", "Build", "STARTED", later, RUN_B), None)
    build = stage_of(applied.state, "Build")
    assert (build.status, build.execution_id) == ("InProgress", RUN_B)
    # Declared as before (what a screen shows of the gate), evaluated for this run by nobody yet.
    (condition,) = build.conditions
    assert (condition.kind, condition.results, [r.name for r in condition.rules]) == (
        ConditionKind.ON_SUCCESS,
        ("ROLLBACK",),
        ["Alarm"],
    )
    assert (condition.status, condition.summary) == (None, "")
    assert all(r.status is None for r in condition.rules)
    # The same execution moving on keeps them.
    ended = apply_pipeline_event(state, (), structure(), stage_event("s2", "Build", "SUCCEEDED", later), None)
    assert stage_of(ended.state, "Build").conditions == (evaluated,)


def test_within_one_second_the_later_step_and_the_later_execution_win() -> None:
    marks = EventMarks()
    state = read_state("InProgress")
    same_second = T0 + timedelta(seconds=30)
    end = stage_event("s1", "Build", "SUCCEEDED", same_second)
    start = stage_event("s2", "Build", "STARTED", same_second)
    after_end = apply_pipeline_event(state, (), structure(), end, marks)
    assert not apply_pipeline_event(after_end.state, (), structure(), start, marks).changed
    # The next execution enters the stage in the second the previous left it: the later execution wins.
    next_run = stage_event("s3", "Build", "STARTED", same_second, run=RUN_B, started=T0 + timedelta(seconds=29))
    entered = apply_pipeline_event(after_end.state, (), structure(), next_run, marks)
    assert entered.changed
    assert (stage_of(entered.state, "Build").execution_id, stage_of(entered.state, "Build").status) == (
        RUN_B,
        "InProgress",
    )


def test_an_action_event_carries_its_result_and_an_approval_asks_for_its_token() -> None:
    marks = EventMarks()
    ended = apply_pipeline_event(
        read_state("InProgress"),
        (),
        structure(),
        action_event("a1", "Build", "Build", "SUCCEEDED", T0 + timedelta(seconds=5)),
        marks,
    )
    action = stage_of(ended.state, "Build").actions[0]
    assert (action.status, action.summary, action.external_execution_id) == ("Succeeded", "ok", "my-project:86a1cd00")
    assert action.last_status_change == T0 + timedelta(seconds=5)
    assert ended.reread is None  # everything it says is applied: nothing to read
    # A failure is applied at once (a read a moment later may show the stage retried already), with its
    # error's code and summary; its message is only in a read, which is asked for.
    failed = apply_pipeline_event(
        ended.state, (), structure(), action_event("a9", "Build", "Build", "FAILED", T0 + timedelta(seconds=7)), marks
    )
    assert failed.changed
    action = stage_of(failed.state, "Build").actions[0]
    assert (action.status, action.error_code, action.error_message) == (
        "Failed",
        "JobFailed",
        "Build terminated with state: FAILED",
    )
    assert failed.reread == FAILURE

    waiting = apply_pipeline_event(
        ended.state,
        (),
        structure(),
        action_event(
            "a2", "Approve", "Approve", "STARTED", T0 + timedelta(seconds=6), category="Approval", provider="Manual"
        ),
        marks,
    )
    approve = stage_of(waiting.state, "Approve").actions[0]
    assert approve.status == "InProgress"
    assert approve.token is None
    assert waiting.reread == TOKEN  # no event carries an approval's token: only GetPipelineState does


def test_pipeline_events_keep_the_executions_and_a_new_version_asks_for_the_structure() -> None:
    marks = EventMarks()
    state = read_state()
    older = PipelineExecution(id=RUN_A, status="Succeeded", started=T0 - timedelta(minutes=5))
    started = apply_pipeline_event(
        state,
        (older,),
        structure(),
        pipeline_event("p1", "STARTED", T0 + timedelta(seconds=1), run=RUN_B, started=T0),
        marks,
    )
    assert started.executions is not None
    assert [(e.id, e.status) for e in started.executions] == [(RUN_B, "InProgress"), (RUN_A, "Succeeded")]
    assert started.executions[0].trigger_type == "StartPipelineExecution"
    ended = apply_pipeline_event(
        state,
        started.executions,
        structure(),
        pipeline_event("p2", "SUCCEEDED", T0 + timedelta(seconds=50), run=RUN_B, started=T0),
        marks,
    )
    assert ended.executions is not None
    assert ended.executions[0].status == "Succeeded"
    newer = stage_event("s1", "Build", "STARTED", T0 + timedelta(seconds=60), run=RUN_B, version=2.0)
    assert apply_pipeline_event(state, ended.executions, structure(), newer, marks).reread == STRUCTURE


def test_an_event_for_a_stage_or_action_the_structure_does_not_know_asks_for_a_read() -> None:
    marks = EventMarks()
    state = read_state()
    unknown_stage = apply_pipeline_event(state, (), structure(), stage_event("s1", "Nowhere", "STARTED", T0), marks)
    assert unknown_stage.reread == UNKNOWN
    assert not unknown_stage.changed
    assert unknown_stage.state is state
    unknown_action = apply_pipeline_event(
        state, (), structure(), action_event("a1", "Build", "Lint", "STARTED", T0), marks
    )
    assert unknown_action.reread == UNKNOWN
    assert not unknown_action.changed


def test_a_read_sent_before_an_event_came_never_takes_back_what_it_told() -> None:
    read = read_state("InProgress", changed=T0 + timedelta(seconds=5, milliseconds=300))
    # The action ended after the read was taken: the event is newer than what the read shows.
    assert newer_than_read(read, (), action_event("a1", "Build", "Build", "SUCCEEDED", T0 + timedelta(seconds=9)))
    # Its start is older than what the read shows (same second: the read's step, in progress, is not earlier).
    assert not newer_than_read(read, (), action_event("a2", "Build", "Build", "STARTED", T0 + timedelta(seconds=5)))
    # Same second, later step: the event wins.
    assert newer_than_read(read, (), action_event("a3", "Build", "Build", "SUCCEEDED", T0 + timedelta(seconds=5)))
    ended = read_state("Succeeded", changed=T0 + timedelta(seconds=8))
    assert not newer_than_read(ended, (), stage_event("s1", "Build", "STARTED", T0 + timedelta(seconds=2)))


def test_an_action_event_of_the_run_before_is_older_than_a_read_of_the_next_run_in_its_stage() -> None:
    # QUEUED: the approval of run A succeeds, and run B enters the stage and waits for its own in the same
    # second. The read shows B's action in progress; A's end, in that second and a later step, is not newer.
    runs = (
        PipelineExecution(id=RUN_B, status="InProgress", started=T0),
        PipelineExecution(id=RUN_A, status="InProgress", started=T0 - timedelta(minutes=5)),
    )
    read = read_state("InProgress", run=RUN_B, changed=T0 + timedelta(seconds=5, milliseconds=300))
    earlier_run = action_event("a1", "Build", "Build", "SUCCEEDED", T0 + timedelta(seconds=5), run=RUN_A)
    assert not newer_than_read(read, runs, earlier_run)
    # The other way round, the later run's event is newer whatever its time.
    older_read = read_state("Succeeded", run=RUN_A, changed=T0 + timedelta(seconds=9))
    later_run = action_event("a2", "Build", "Build", "STARTED", T0 + timedelta(seconds=5), run=RUN_B)
    assert newer_than_read(older_read, runs, later_run)


# --- Step Functions ---------------------------------------------------------------------------------------------


def machine(*executions: Execution) -> StateMachine:
    return StateMachine(target="t", arn=MACHINE_ARN, name="state-machine", executions=executions, read_at=T0)


def test_execution_events_apply_in_order_and_ignore_repeats_and_older_ones() -> None:
    marks = EventMarks()
    listed = machine()
    running = execution_event("x1", "RUNNING", T0)
    failed = execution_event("x2", "FAILED", T0, T0 + timedelta(seconds=5))
    after_failed = apply_execution_event(listed, failed, marks)  # the end came first
    assert after_failed is not None
    (execution,) = after_failed.executions
    assert (execution.arn, execution.name, execution.status, execution.started, execution.stopped) == (
        EXECUTION_ARN,
        "execution-name",
        "FAILED",
        T0,
        T0 + timedelta(seconds=5),
    )
    assert (execution.error, execution.cause) == ("States.TaskFailed", "boom")
    assert apply_execution_event(after_failed, running, marks) is None  # older: never overwrites
    assert apply_execution_event(after_failed, failed, marks) is None  # a repeat
    # A redrive runs it again, later than it stopped: applied.
    redriven = execution_event("x3", "RUNNING", T0, redriven=T0 + timedelta(seconds=30))
    again = apply_execution_event(after_failed, redriven, marks)
    assert again is not None
    assert again.executions[0].status == "RUNNING"
    assert again.executions[0].stopped is None


def succeeded(count: int) -> tuple[Execution, ...]:
    """`count` executions that ended, the n-th started n minutes after T0, newest first (as ListExecutions)."""
    return tuple(
        Execution(
            arn=f"{EXECUTION_ARN}-{n}",
            name=str(n),
            state_machine_arn=MACHINE_ARN,
            status="SUCCEEDED",
            started=T0 + timedelta(minutes=n),
            stopped=T0 + timedelta(minutes=n, seconds=5),
        )
        for n in range(count, 0, -1)
    )


def test_an_execution_older_than_every_one_listed_is_not_added() -> None:
    newer = succeeded(2)
    assert apply_execution_event(machine(*newer), execution_event("x1", "RUNNING", T0), EventMarks(), keep=2) is None


def test_a_resource_remembers_its_newest_runs_and_all_its_stages_and_actions() -> None:
    """A pipeline runs for weeks: its marks keep every stage and action and only its newest runs, so a console
    left open does not grow by a mark per execution (300 bytes each, 512 per resource before)."""
    assert RUNS_KEPT >= 2 * max(EXECUTIONS_LISTED, PIPELINE_EXECUTIONS_LISTED)
    marks = EventMarks()
    stage_end = stage_event("s1", "Build", "SUCCEEDED", T0 + timedelta(seconds=30))
    assert marks.newer(pipeline_item(stage_end), event_order(stage_end))
    runs = [
        pipeline_event(
            f"p{n}", "STARTED", T0 + timedelta(minutes=n), run=f"run-{n:04d}", started=T0 + timedelta(minutes=n)
        )
        for n in range(RUNS_KEPT + 40)
    ]
    for event in runs:
        assert marks.newer(pipeline_item(event), event_order(event))
    assert len(marks) == 1 + RUNS_KEPT
    # The stage's last event is still known after all those runs: an older one about it changes nothing.
    older = stage_event("s0", "Build", "STARTED", T0 + timedelta(seconds=10))
    assert not marks.newer(pipeline_item(older), event_order(older))
    # The newest runs are known (a repeat is refused); the oldest ones are forgotten.
    assert not marks.newer(pipeline_item(runs[-1]), event_order(runs[-1]))
    assert not marks.newer(pipeline_item(runs[-RUNS_KEPT]), event_order(runs[-RUNS_KEPT]))
    assert marks.newer(pipeline_item(runs[0]), event_order(runs[0]))


def test_a_forgotten_run_is_older_than_every_one_listed_so_its_late_event_changes_nothing() -> None:
    listed = succeeded(RUNS_KEPT)
    marks = EventMarks()
    late_start = execution_event("x1", "RUNNING", T0)
    assert marks.newer((RUN, EXECUTION_ARN), event_order(late_start))
    for n in range(1, RUNS_KEPT + 1):
        marks.newer((RUN, f"{EXECUTION_ARN}-{n}"), (T0 + timedelta(minutes=n), T0, 2))
    # Its mark is gone; the picture keeps the newest EXECUTIONS_LISTED, all newer than it: nothing is added.
    picture = machine(*listed[:EXECUTIONS_LISTED])
    assert apply_execution_event(picture, late_start, marks, keep=EXECUTIONS_LISTED) is None


def test_a_packed_order_compares_as_the_order_does() -> None:
    """`EventMarks` keeps each order as one integer: equal, earlier and later stay so, to the microsecond, with
    the earliest time (an event without one) and the last second of year 9999."""
    rng = random.Random(7)
    times = [EARLIEST, T0, T0 + timedelta(microseconds=1), T0 + timedelta(seconds=1), datetime.max.replace(tzinfo=UTC)]
    times += [T0 + timedelta(microseconds=rng.randrange(-(10**15), 10**15)) for _ in range(40)]
    orders = [(rng.choice(times), rng.choice(times), rng.randrange(3)) for _ in range(80)]
    orders += [(T0, T0, 0), (T0, T0, 2), (T0, EARLIEST, 2), (EARLIEST, EARLIEST, 0)]
    for a in orders:
        for b in orders:
            assert (packed(a) < packed(b), packed(a) == packed(b)) == (a < b, a == b), (a, b)
