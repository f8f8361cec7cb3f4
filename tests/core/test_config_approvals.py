"""The config's `approvals:`: the body each workflow expects, matched by globs, filled in, checked at load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.config import load_config
from console.errors import InputError, Refused
from console.stepfunctions.answers import AnswerBody, check_body

HUMAN_IN_THE_LOOP = """\
approvals:
  - state_machine: "human-in-the-loop*"
    state: "*Approver*"
    approve: {approvalStatus: {result: Approved, reason: "{reason}", by: "{operator} as {identity}"}}
    reject: {error: Rejected, cause: "{reason}"}
  - state_machine: "*"
    approve: {ok: true, note: "{{literal}} {reason}"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_the_first_rule_matching_machine_and_state_gives_the_body(tmp_path: Path) -> None:
    book = load_config(write(tmp_path, HUMAN_IN_THE_LOOP)).approvals
    values = {"identity": "arn:aws:sts::1:assumed-role/op/me", "operator": "me@laptop"}

    template, origin = book.template("human-in-the-loop-deploy", "Security Approver", approve=True)
    assert origin == f"config {tmp_path / 'config.yaml'}:2"
    body = AnswerBody(template, True, values)
    assert json.loads(body.text('looks "fine" {identity}')) == {
        "approvalStatus": {
            "result": "Approved",
            # Substituted inside the string only: the reason's quotes and braces stay text.
            "reason": 'looks "fine" {identity}',
            "by": "me@laptop as arn:aws:sts::1:assumed-role/op/me",
        }
    }
    reject, _ = book.template("human-in-the-loop-deploy", "Security Approver", approve=False)
    assert AnswerBody(reject, False, values).failure("no") == ("Rejected", "no")

    # Another state of the same machine: the second rule; its reject is not given, so the default one.
    other, origin = book.template("human-in-the-loop-deploy", "Notify", approve=True)
    assert json.loads(AnswerBody(other, True, values).text("r")) == {"ok": True, "note": "{literal} r"}
    default, origin = book.template("human-in-the-loop-deploy", "Notify", approve=False)
    assert origin == "wavedeck's default"
    assert AnswerBody(default, False, values).failure("r") == ("wavedeck.Rejected", "r")


def test_without_approvals_the_default_body() -> None:
    book = load_config().approvals
    template, origin = book.template("wave-deployment", "ApprovePromotion", approve=True)
    assert origin == "wavedeck's default"
    assert json.loads(AnswerBody(template, True, {"identity": "arn:x"}).text("ok")) == {
        "approved": True,
        "reason": "ok",
        "approvedBy": "arn:x",
    }


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [
        (
            "approvals:\n  - state_machine: a\n    approve:\n      status: {reason: '{who}'}\n",
            4,
            "approvals[0].approve.status.reason",
            "unknown placeholder {who}",
        ),
        (
            "approvals:\n  - state_machine: a\n    approve: [ok, '{reasn}']\n",
            3,
            "approvals[0].approve[1]",
            "unknown placeholder {reasn}",
        ),
        ("approvals:\n  - state_machine: a\n    reject: {error: E, reason: x}\n", 3, "approvals[0].reject", "'reason'"),
        ("approvals:\n  - state_machine: a\n    reject: {error: 5}\n", 3, "approvals[0].reject", "must be a string"),
        ("approvals:\n  - state_machine: a\n    reject: nope\n", 3, "approvals[0].reject", "expected a mapping"),
        ("approvals:\n  - state: '*'\n    approve: {}\n", 2, "approvals[0]", "missing required key 'state_machine'"),
        ("approvals:\n  - state_machine: a\n", 2, "approvals[0]", "give 'approve'"),
        ("approvals:\n  - state_machine: a\n    aprove: {}\n", 3, "approvals[0].aprove", "unknown key"),
        ("approvals:\n  - state_machine: a\n    approve: {at: 2024-01-01}\n", 3, "approvals[0].approve.at", "not JSON"),
        ("approvals: {state_machine: a}\n", 1, "approvals", "expected a list"),
    ],
)
def test_mistakes_name_file_line_and_key(tmp_path: Path, text: str, line: int, key: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert (caught.value.line, caught.value.key) == (line, key)
    assert problem in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: {key}: ")


@pytest.mark.parametrize(
    ("text", "approve", "problem"),
    [
        ('{"approved": true,}', True, "not valid JSON: Expecting property name enclosed in double quotes at line 1"),
        ("", True, "not valid JSON"),
        ('{"error": "E", "reason": "x"}', False, "unknown key 'reason'"),
        ('["E"]', False, 'a rejection is {"error"'),
        ('{"error": "' + "E" * 257 + '"}', False, "more than 256 characters"),
        ('"' + "x" * 262150 + '"', True, "SendTaskSuccess takes at most 262144"),
    ],
)
def test_a_body_aws_would_not_take_is_refused(text: str, approve: bool, problem: str) -> None:
    with pytest.raises(Refused, match=problem.replace("{", r"\{").replace("[", r"\[")):
        check_body(text, approve=approve)


def test_any_json_document_is_an_approval_output() -> None:
    for text in ('"yes"', "42", "[1, 2]", '{"approvalStatus": {"result": "Approved"}}'):
        assert check_body(text, approve=True) == text
