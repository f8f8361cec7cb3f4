"""`wavedeck approve|reject STATE-MACHINE/EXECUTION --state NAME [--index N] [--output JSON|@FILE]`, in-process
against the sandbox: one token of several answered, with the body the config or the operator gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from console.sandbox_process import SandboxProcess
from tests.conftest import wait_until
from tests.core.test_actions_parallel_approvals import map_approval, parallel_approval, scheduled, token_of
from tests.core.test_cli import wavedeck
from tests.sandbox.test_stepfunctions_support import create_machine, history, make_queue, start, wait_status

CONFIG = """\
approvals:
  - state_machine: "human-in-the-loop*"
    state: "*Approver*"
    approve: {approvalStatus: {result: Approved, reason: "{reason}"}}
    reject: {error: Rejected, cause: "{reason}"}
"""


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def sfn(aws: Any) -> Any:
    return aws("stepfunctions")


def answered(sfn: Any, arn: str) -> dict[int, dict[str, Any]]:
    """TaskScheduled id → its answer event (TaskSucceeded / TaskFailed), through the previous-event chain."""
    events = {e["id"]: e for e in history(sfn, arn)}
    out: dict[int, dict[str, Any]] = {}
    for event in events.values():
        if event["type"] in ("TaskSucceeded", "TaskFailed"):
            back = event
            while back["type"] != "TaskScheduled":
                back = events[back["previousEventId"]]
            out[back["id"]] = event
    return out


def test_state_with_spaces_answers_that_branch_with_the_configured_body(
    aws: Any, sfn: Any, sandbox: SandboxProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queue, _ = make_queue(aws("sqs"), "cli-hitl")
    machine = create_machine(sfn, parallel_approval(queue), prefix="human-in-the-loop-cli")
    arn = start(sfn, machine, {})
    by_state = {e["id"]: e for e in scheduled(sfn, arn, 3)}
    resource = f"{machine.rsplit(':', 1)[-1]}/{arn.rsplit(':', 1)[-1]}"
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    log = ["--audit-log", str(tmp_path / "audit.jsonl"), "--config", str(config)]

    assert wavedeck(sandbox, "approve", resource, "--reason", "ok", "--yes", *log) == 1
    err = capsys.readouterr().err
    assert "3 tasks wait for a token" in err
    assert "Security Approver (branch 1 of Ask Approvers)" in err
    assert "--state NAME" in err

    code = wavedeck(
        sandbox, "approve", resource, "--state", "Security Approver", "--reason", "pen test passed", "--yes", *log
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Where          branch 1 of Ask Approvers" in out
    assert "SendTaskSuccess sends:" in out
    assert '"result": "Approved"' in out
    assert '"reason": "pen test passed"' in out
    ((event_id, answer),) = answered(sfn, arn).items()
    assert by_state[event_id]["id"] == event_id
    assert json.loads(answer["taskSucceededEventDetails"]["output"]) == {
        "approvalStatus": {"result": "Approved", "reason": "pen test passed"}
    }
    token = token_of(by_state[event_id])
    assert token not in (tmp_path / "audit.jsonl").read_text()

    # Answered already: that state is not waiting any more, and the others are named.
    assert (
        wavedeck(sandbox, "approve", resource, "--state", "Security Approver", "--reason", "again", "--yes", *log) == 1
    )
    err = capsys.readouterr().err
    assert "'Security Approver' is not waiting" in err
    assert "Operations Approver (branch 2 of Ask Approvers)" in err

    # --output replaces the template, exactly; @FILE reads it from a file.
    body = tmp_path / "body.json"
    body.write_text('{"approvalStatus": {"result": "Approved", "ticket": "CHG-1"}}')
    assert (
        wavedeck(
            sandbox,
            "approve",
            resource,
            "--state",
            "Operations Approver",
            "--output",
            f"@{body}",
            "--reason",
            "CHG-1 approved",
            "--yes",
            *log,
        )
        == 0
    )
    capsys.readouterr()
    assert (
        wavedeck(
            sandbox,
            "reject",
            resource,
            "--state",
            "Finance Approver",
            "--output",
            '{"error": "Budget"}',
            "--reason",
            "over budget",
            "--yes",
            *log,
        )
        == 0
    )
    assert "SendTaskFailure sends:" in capsys.readouterr().out
    outputs = [e.get("taskSucceededEventDetails", e.get("taskFailedEventDetails")) for e in answered(sfn, arn).values()]
    sent = {"approvalStatus": {"result": "Approved", "ticket": "CHG-1"}}
    assert any(json.loads(o.get("output") or "null") == sent for o in outputs)
    failed = next(o for o in outputs if "error" in o)
    assert failed["error"] == "Budget"
    assert failed.get("cause", "") == ""
    assert wait_status(sfn, arn)["status"] == "FAILED"


def test_index_names_the_map_iteration_and_bad_output_is_refused(
    aws: Any, sfn: Any, sandbox: SandboxProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    queue, _ = make_queue(aws("sqs"), "cli-map")
    machine = create_machine(sfn, map_approval(queue), prefix="cli-map")
    arn = start(sfn, machine, {"changes": ["db", "api"]})
    scheduled(sfn, arn, 2)
    resource = f"{machine.rsplit(':', 1)[-1]}/{arn.rsplit(':', 1)[-1]}"
    log = ["--audit-log", str(tmp_path / "audit.jsonl")]

    assert wavedeck(sandbox, "approve", resource, "--state", "Approve Change", "--reason", "x", "--yes", *log) == 1
    assert "name the iteration: --index N" in capsys.readouterr().err
    assert wavedeck(sandbox, "approve", resource, "--index", "-1", "--reason", "x", "--yes", *log) == 2
    assert (
        wavedeck(
            sandbox,
            "approve",
            resource,
            "--state",
            "Approve Change",
            "--index",
            "1",
            "--output",
            '{"approved": true,',
            "--reason",
            "x",
            "--yes",
            *log,
        )
        == 1
    )
    assert "not valid JSON: Expecting property name enclosed in double quotes" in capsys.readouterr().err
    assert (
        wavedeck(
            sandbox,
            "approve",
            resource,
            "--output",
            "@/nonexistent/body.json",
            "--state",
            "Approve Change",
            "--reason",
            "x",
            "--yes",
            *log,
        )
        == 2
    )
    assert "--output: cannot read /nonexistent/body.json" in capsys.readouterr().err
    assert answered(sfn, arn) == {}

    assert (
        wavedeck(
            sandbox,
            "approve",
            resource,
            "--state",
            "Approve Change",
            "--index",
            "1",
            "--reason",
            "api reviewed",
            "--yes",
            *log,
        )
        == 0
    )
    assert "iteration 1 of Review Each Change" in capsys.readouterr().out
    wait_until(lambda: answered(sfn, arn), what="the answer")
    (answer,) = answered(sfn, arn).values()
    assert json.loads(answer["taskSucceededEventDetails"]["output"])["reason"] == "api reviewed"
    sfn.stop_execution(executionArn=arn)
