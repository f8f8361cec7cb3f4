"""Manual approvals wait for PutApprovalResult with the token GetPipelineState shows, and time out."""

from __future__ import annotations

from typing import Any

from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    CALLER,
    action,
    action_runs,
    action_state,
    approval,
    create,
    delete_created_pipelines,
    error_of,
    execution,
    source,
    stage,
    stage_status,
    start,
    status,
    wait_status,
    wait_token,
)


def _approval_pipeline(cp: Any, **configuration: str) -> str:
    return create(
        cp,
        source(),
        stage("Gate", approval(CustomData="Ship it?", ExternalEntityLink="https://example.com/x", **configuration)),
        stage("Prod", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
    )


def _answer(cp: Any, name: str, token: str, status_: str = "Approved", summary: str = "looks good", **kw: str) -> Any:
    arguments = {"pipelineName": name, "stageName": "Gate", "actionName": "Approve", "token": token, **kw}
    return cp.put_approval_result(result={"summary": summary, "status": status_}, **arguments)


def test_an_approval_waits_for_its_token_and_refuses_a_second_answer(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _approval_pipeline(cp)
    execution_id = start(cp, name)
    token = wait_token(cp, name, "Gate")
    waiting = action_state(cp, name, "Gate", "Approve")
    assert waiting["entityUrl"] == "https://example.com/x"
    assert waiting["latestExecution"]["status"] == "InProgress"
    assert status(cp, name, execution_id) == "InProgress"
    assert stage_status(cp, name, "Prod") == (None, None)

    answer = _answer(cp, name, token, summary="canaries green")
    assert answer["approvedAt"].timestamp() > 0
    done = action_state(cp, name, "Gate", "Approve")["latestExecution"]
    assert (done["status"], done["summary"], done["lastUpdatedBy"]) == ("Succeeded", "canaries green", CALLER)
    assert "token" not in done  # only offered while the approval waits

    code, message = error_of(lambda: _answer(cp, name, token, "Rejected", "changed my mind"))
    assert code == "ApprovalAlreadyCompletedException"
    assert "approved" in message.lower()
    assert wait_status(cp, name, execution_id) == "Succeeded"
    gate = next(run for run in action_runs(cp, name, execution_id) if run["actionName"] == "Approve")
    assert gate["updatedBy"] == CALLER
    assert gate["output"]["executionResult"]["externalExecutionId"] == token


def test_a_rejection_fails_the_stage_and_the_execution(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _approval_pipeline(cp)
    execution_id = start(cp, name)
    token = wait_token(cp, name, "Gate")
    _answer(cp, name, token, "Rejected", "error budget spent")
    assert wait_status(cp, name, execution_id) == "Failed"
    rejected = action_state(cp, name, "Gate", "Approve")["latestExecution"]
    assert (rejected["status"], rejected["summary"]) == ("Failed", "error budget spent")
    assert rejected["errorDetails"]["code"] == "ApprovalRejected"
    assert stage_status(cp, name, "Gate") == (execution_id, "Failed")
    assert stage_status(cp, name, "Prod") == (None, None)
    assert "error budget spent" in execution(cp, name, execution_id)["statusSummary"]


def test_put_approval_result_errors(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _approval_pipeline(cp)
    start(cp, name)
    token = wait_token(cp, name, "Gate")
    wrong = "00000000-0000-4000-8000-000000000000"
    assert error_of(lambda: _answer(cp, name, wrong))[0] == "InvalidApprovalTokenException"
    assert error_of(lambda: _answer(cp, name, token, stageName="Nope"))[0] == "StageNotFoundException"
    assert error_of(lambda: _answer(cp, name, token, actionName="Nope"))[0] == "ActionNotFoundException"
    assert error_of(lambda: _answer(cp, name, token, pipelineName="no-such-pipe"))[0] == "PipelineNotFoundException"
    code, message = error_of(lambda: _answer(cp, name, token, summary="x" * 513))
    assert code == "ValidationException"
    assert "result.summary" in message
    assert "512" in message
    code, message = error_of(lambda: _answer(cp, name, token, "Maybe"))
    assert code == "ValidationException"
    assert "Approved, Rejected" in message
    # None of the refused answers touched the approval.
    assert action_state(cp, name, "Gate", "Approve")["latestExecution"]["status"] == "InProgress"


def test_an_unanswered_approval_times_out(aws: Any) -> None:
    cp = aws("codepipeline")
    name = _approval_pipeline(cp, SandboxTimeout="4")  # 0.1 s at the test speed
    execution_id = start(cp, name)
    assert wait_status(cp, name, execution_id) == "Failed"
    expired = action_state(cp, name, "Gate", "Approve")["latestExecution"]
    assert expired["errorDetails"]["code"] == "ApprovalExpired"
    assert "within 4s" in expired["errorDetails"]["message"]
    gate = next(run for run in action_runs(cp, name, execution_id) if run["actionName"] == "Approve")
    # The expired approval's token (ListActionExecutions shows it as the external id) no longer answers.
    token = gate["output"]["executionResult"]["externalExecutionId"]
    assert error_of(lambda: _answer(cp, name, token))[0] == "InvalidApprovalTokenException"
    assert gate["lastUpdateTime"] > gate["startTime"]
