"""Task tokens never shown: redacted by value wherever the definition hid them, on every path to a person.

The hostile machine (tests/hostile.py) hides the token under an odd key, in a list, in a States.Format string
and in JSON held in a string, beside markup, escapes, bidi controls and a 20,000-character flood. The watcher
reads it from the sandbox over HTTP; `watch` lines and JSON, the approvals inbox and the execution screen's
rows are built from what it holds, and none may contain the token. The gate still answers with it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate, ActionKind
from console.aws.gateway import Gateway
from console.aws.stepfunctions import task_token_states
from console.config import sandbox_targets
from console.sandbox_process import SandboxProcess
from console.stepfunctions.model import HistoryEvent, TaskTokenState, state_machines_of
from console.tokens import PLACEHOLDER, redact, tokens_in
from console.watch_output import format_json, format_line
from console.waves import default_wave_model
from tests.conftest import REGION, make_client, unique
from tests.core.test_watch_support import watching
from tests.hostile import HOSTILE_TEXT, RAW_UNSAFE, hostile_machine
from tests.sandbox.test_stepfunctions_support import create_machine, make_queue, wait_status
from tests.selections import sel

TARGET = f"sandbox/{REGION}"
TOKEN = "c163d366-43cd-4501-8d99-0c1d813f0e9f"


def _state() -> TaskTokenState:
    (state,) = task_token_states(hostile_machine("https://sqs.example/q"))
    return state


def test_the_definition_says_every_place_of_the_token() -> None:
    state = _state()
    paths = {path for path, _ in state.token_expressions}
    assert paths == {
        ("MessageBody", "callback"),
        ("MessageBody", "note"),
        ("MessageBody", "task"),
        ("MessageBody", "routes", 1, "reply"),
    }
    # The gate answers with the bare token, found first.
    assert state.token_paths[0] == ("MessageBody", "callback")


def test_tokens_are_found_however_they_were_put_in_the_parameters() -> None:
    for body in (
        {"callback": TOKEN},
        {"note": f"answer with {TOKEN} please"},
        {"task": json.dumps({"Token": TOKEN})},
        {"routes": [{"name": "chat"}, {"reply": TOKEN}]},
    ):
        assert tokens_in(json.dumps({"MessageBody": body}), _state()) == {TOKEN}, body
    # Without the definition's word: a long string under a key named like a token, even in JSON in a string.
    assert tokens_in(json.dumps({"Payload": json.dumps({"TaskToken": TOKEN})}), None) == {TOKEN}


def test_redaction_is_by_value_wherever_the_token_sits() -> None:
    text = f'{{"x":"{TOKEN}","y":"{{\\"t\\":\\"{TOKEN}\\"}}","z":"see {TOKEN}."}}'
    redacted = redact(text, {TOKEN})
    assert redacted is not None
    assert TOKEN not in redacted
    assert redacted.count(PLACEHOLDER) == 3


async def call(client: Any, method: str, **params: Any) -> Any:
    return await asyncio.to_thread(getattr(client, method), **params)


async def test_no_token_reaches_watch_the_inbox_or_the_execution_screen(
    bundled_sandbox: SandboxProcess, tmp_path: Any
) -> None:
    from screens.execution.rows import event_detail, event_rows, event_sections, waiting_for_person

    sfn, sqs = make_client(bundled_sandbox.url, "stepfunctions"), make_client(bundled_sandbox.url, "sqs")
    queue_url, _ = make_queue(sqs, "hostile")
    machine_arn = create_machine(sfn, hostile_machine(queue_url), "hostile")
    machine_name = machine_arn.rsplit(":", 1)[-1]
    async with watching(bundled_sandbox.url) as (watcher, updates, _gateway):
        await watcher.wait_ready(60)
        key = f"{TARGET}:{machine_name}"
        await updates.until(lambda: key in state_machines_of(updates.state), 60, "the hostile machine to be listed")
        watcher.focus([key])
        started = await call(sfn, "start_execution", stateMachineArn=machine_arn, name=unique("h"), input="{}")
        arn = started["executionArn"]
        watcher.watch_execution(TARGET, arn)

        def waiting() -> Any:
            return next((a for a in updates.state.approvals if a.execution == arn), None)

        approval = await updates.until(waiting, 60, "the hostile execution to wait for a person")
        await updates.until(
            lambda: any(t.execution == arn and "waiting for a person" in t.detail for t in updates.transitions),
            60,
            "the transition that says it waits",
        )
        events: tuple[HistoryEvent, ...] = watcher.history(arn)

    raw = (await call(sfn, "get_execution_history", executionArn=arn))["events"]
    scheduled = next(e for e in raw if e["type"] == "TaskScheduled")
    token = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["MessageBody"]["callback"]
    assert len(token) >= 16

    shown: list[str] = [approval.custom_data]
    for transition in updates.transitions:
        shown += [transition.detail, format_line(transition), format_json(transition)]
    for event in events:
        shown += [str(event.parameters), str(event.output), str(event.input), str(event.cause)]
        shown += [event_detail(event).plain, *(str(v) for _, v in event_sections(event))]
    shown += [str(row) for row in event_rows(events)]
    shown += [str(w) for w in waiting_for_person(arn, updates.state.approvals, events, True)]
    for text in shown:
        assert token not in text
    assert any(PLACEHOLDER in text for text in shown)
    # Hostile text stays inert on the command line: no raw escape, bidi control or C1 byte.
    for transition in updates.transitions:
        line = format_line(transition)
        assert not any(char in line for char in RAW_UNSAFE), line[:200]
    assert approval.custom_data.startswith(HOSTILE_TEXT[:40])

    # The gate reads the token afresh and answers with it.
    async with Gateway(sandbox_targets(bundled_sandbox.url, (REGION,))[0]) as gateway:
        audit = AuditLog(tmp_path / "audit.jsonl")
        gate = ActionGate({TARGET: gateway}, default_wave_model(), audit)
        plan = await gate.plan(ActionKind.APPROVE, sel(target=TARGET, state_machine_arn=machine_arn, execution_arn=arn))
        await gate.execute(plan, "Looks right", confirmation=plan.confirm_word)
    assert wait_status(sfn, arn, "SUCCEEDED")["status"] == "SUCCEEDED"
    assert token not in (tmp_path / "audit.jsonl").read_text()


def nested_parent(child_arn: str) -> dict[str, Any]:
    """AWS's nested-workflow pattern (the Step Functions developer guide, "Start workflow executions from a
    task state"), with the token handed to the child under a key that does not say "token"."""
    return {
        "StartAt": "RunChild",
        "States": {
            "RunChild": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
                "Parameters": {
                    "StateMachineArn": child_arn,
                    "Input": {
                        "resume.$": "$$.Task.Token",
                        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
                    },
                },
                "TimeoutSeconds": 7200,
                "End": True,
            }
        },
    }


def test_a_child_execution_input_is_redacted_by_its_parent_token() -> None:
    from console.diff import HistoryCursor
    from console.stepfunctions.model import Execution, StateMachine

    parent_arn = "arn:aws:states:us-east-1:123456789012:execution:parent:run-1"
    child_input = json.dumps({"resume": TOKEN, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": parent_arn})
    started = HistoryEvent(id=1, type="ExecutionStarted", timestamp=datetime.now(UTC), input=child_input)
    child_machine = StateMachine(
        target=TARGET, arn="arn:aws:states:us-east-1:123456789012:stateMachine:child", name="child"
    )
    child = Execution(
        arn=f"{child_machine.arn}:run-2", name="run-2", state_machine_arn=child_machine.arn, status="RUNNING"
    )
    cursor = HistoryCursor()
    cursor.add(
        [started],
        child_machine,
        child,
        datetime.now(UTC),
        "poll",
        tokens_of=lambda arn: {TOKEN} if arn == parent_arn else set(),
    )
    (event,) = cursor.events
    assert event.input is not None
    assert TOKEN not in event.input
    assert PLACEHOLDER in event.input
    # Without the parent's history, a key named like a token is still the net.
    bare = HistoryEvent(
        id=1, type="ExecutionStarted", timestamp=datetime.now(UTC), input=json.dumps({"TaskToken": TOKEN})
    )
    other = HistoryCursor()
    other.add([bare], child_machine, child, datetime.now(UTC), "poll")
    assert TOKEN not in str(other.events[0].input)


async def test_a_parent_token_handed_to_a_child_execution_never_shows(bundled_sandbox: SandboxProcess) -> None:
    sfn = make_client(bundled_sandbox.url, "stepfunctions")
    child_arn = create_machine(
        sfn, {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 36000, "End": True}}}, "nested-child"
    )
    parent_arn = create_machine(sfn, nested_parent(child_arn), "nested-parent")
    async with watching(bundled_sandbox.url) as (watcher, updates, _gateway):
        await watcher.wait_ready(60)
        key = f"{TARGET}:{parent_arn.rsplit(':', 1)[-1]}"
        await updates.until(lambda: key in state_machines_of(updates.state), 60, "the parent machine to be listed")
        watcher.focus([key])
        run = (await call(sfn, "start_execution", stateMachineArn=parent_arn, name=unique("p"), input="{}"))[
            "executionArn"
        ]
        await updates.until(lambda: any(a.execution == run for a in updates.state.approvals), 60, "the parent to wait")
        children = await call(sfn, "list_executions", stateMachineArn=child_arn)
        (child,) = children["executions"]
        watcher.watch_execution(TARGET, child["executionArn"])
        await updates.until(lambda: watcher.history(child["executionArn"]), 60, "the child's history")
        events = watcher.history(child["executionArn"])
    raw = (await call(sfn, "describe_execution", executionArn=child["executionArn"]))["input"]
    token = json.loads(raw)["resume"]
    assert len(token) >= 16
    shown = [str(e.input) for e in events] + [str(e.parameters) for e in events]
    assert all(token not in text for text in shown)
    assert any(PLACEHOLDER in text for text in shown)
