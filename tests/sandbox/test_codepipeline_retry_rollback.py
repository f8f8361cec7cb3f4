"""RetryStageExecution resumes a failed stage; RollbackStage redeploys what last succeeded there.

Outcomes are steered per execution with pipeline variables: an action's `SandboxOutcome` reads
`#{variables.NAME}`, so one pipeline fails in one execution and succeeds in the next.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import wait_until
from tests.sandbox.test_codepipeline_support import (  # noqa: F401 - delete_created_pipelines is autouse
    CALLER,
    action,
    action_runs,
    approval,
    create,
    delete_created_pipelines,
    error_of,
    execution,
    source,
    stage,
    stage_state,
    stage_status,
    start,
    status,
    wait_status,
    wait_token,
)


def _answer(cp: Any, name: str, token: str, verdict: str) -> None:
    cp.put_approval_result(
        pipelineName=name,
        stageName="Verify",
        actionName="Approve",
        result={"summary": verdict, "status": verdict},
        token=token,
    )


def _runs(cp: Any, name: str, execution_id: str, action_name: str) -> list[str]:
    return [run["status"] for run in action_runs(cp, name, execution_id) if run["actionName"] == action_name]


def test_retry_failed_actions_then_all_actions(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage("Verify", action("Checks", "Test", SandboxDuration="1"), approval()),
        stage("Prod", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
    )
    execution_id = start(cp, name)
    _answer(cp, name, wait_token(cp, name, "Verify"), "Rejected")
    assert wait_status(cp, name, execution_id) == "Failed"

    answer = cp.retry_stage_execution(
        pipelineName=name, stageName="Verify", pipelineExecutionId=execution_id, retryMode="FAILED_ACTIONS"
    )
    assert answer["pipelineExecutionId"] == execution_id
    assert status(cp, name, execution_id) == "InProgress"
    assert stage_status(cp, name, "Verify") == (execution_id, "InProgress")
    _answer(cp, name, wait_token(cp, name, "Verify"), "Rejected")
    assert wait_status(cp, name, execution_id) == "Failed"
    # Only the failed action ran again.
    assert _runs(cp, name, execution_id, "Checks") == ["Succeeded"]
    assert _runs(cp, name, execution_id, "Approve") == ["Failed", "Failed"]

    cp.retry_stage_execution(
        pipelineName=name, stageName="Verify", pipelineExecutionId=execution_id, retryMode="ALL_ACTIONS"
    )
    _answer(cp, name, wait_token(cp, name, "Verify"), "Approved")
    assert wait_status(cp, name, execution_id) == "Succeeded"
    assert _runs(cp, name, execution_id, "Checks") == ["Succeeded", "Succeeded"]
    assert _runs(cp, name, execution_id, "Approve") == ["Failed", "Failed", "Succeeded"]
    assert stage_status(cp, name, "Prod") == (execution_id, "Succeeded")
    assert execution(cp, name, execution_id).get("statusSummary") is None


def test_retry_errors(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage("Test", action("Unit", "Test", SandboxOutcome="#{variables.unit}", SandboxDuration="#{variables.secs}")),
        stage("Prod", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="1")),
        variables={"unit": "Succeeded", "secs": "1"},
    )

    def retry(execution_id: str, stage_name: str = "Test", mode: str = "FAILED_ACTIONS") -> Any:
        return lambda: cp.retry_stage_execution(
            pipelineName=name, stageName=stage_name, pipelineExecutionId=execution_id, retryMode=mode
        )

    failed = start(cp, name, unit="Failed")
    assert wait_status(cp, name, failed) == "Failed"
    assert error_of(retry(failed, "Nope"))[0] == "StageNotFoundException"
    assert error_of(retry("33333333-3333-4333-8333-333333333333"))[0] == "PipelineExecutionNotFoundException"
    code, message = error_of(retry(failed, mode="SOME_ACTIONS"))
    assert code == "ValidationException"
    assert "FAILED_ACTIONS, ALL_ACTIONS" in message
    assert error_of(retry(failed, "Prod"))[0] == "NotLatestPipelineExecutionException"

    passed = start(cp, name)
    assert wait_status(cp, name, passed) == "Succeeded"
    # A later run went through the stage: the failed run is no longer the stage's latest.
    assert error_of(retry(failed))[0] == "NotLatestPipelineExecutionException"
    assert error_of(retry(passed))[0] == "StageNotRetryableException"

    running = start(cp, name, secs="400")
    wait_until(lambda: stage_status(cp, name, "Test") == (running, "InProgress"))
    assert error_of(retry(running))[0] == "ConflictException"
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=running, abandon=True)
    # A stopped stage can be retried: the abandoned action runs again.
    cp.retry_stage_execution(
        pipelineName=name, stageName="Test", pipelineExecutionId=running, retryMode="FAILED_ACTIONS"
    )
    assert _runs(cp, name, running, "Unit") == ["Abandoned", "InProgress"]
    cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=running, abandon=True)


def test_rollback_to_the_last_execution_that_succeeded_in_the_stage(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage("Deploy", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="#{variables.deploy}")),
        stage("Verify", action("Check", "Test", SandboxOutcome="#{variables.verify}", SandboxDuration="1")),
        variables={"deploy": "1", "verify": "Succeeded"},
    )
    good = start(cp, name)
    assert wait_status(cp, name, good) == "Succeeded"
    bad = start(cp, name, verify="Failed")
    assert wait_status(cp, name, bad) == "Failed"

    # What an operator does: the executions that succeeded in Deploy, newest first, minus the one deployed now.
    deployed_now, _ = stage_status(cp, name, "Deploy")
    assert deployed_now == bad
    succeeded = cp.list_pipeline_executions(pipelineName=name, filter={"succeededInStage": {"stageName": "Deploy"}})
    candidates = [
        s["pipelineExecutionId"]
        for s in succeeded["pipelineExecutionSummaries"]
        if s["executionType"] == "STANDARD" and s["pipelineExecutionId"] != deployed_now
    ]
    assert [s["pipelineExecutionId"] for s in succeeded["pipelineExecutionSummaries"]] == [bad, good]
    target = candidates[0]
    assert target == good
    verify_only = cp.list_pipeline_executions(pipelineName=name, filter={"succeededInStage": {"stageName": "Verify"}})
    assert [s["pipelineExecutionId"] for s in verify_only["pipelineExecutionSummaries"]] == [good]

    rollback = cp.rollback_stage(pipelineName=name, stageName="Deploy", targetPipelineExecutionId=target)[
        "pipelineExecutionId"
    ]
    assert wait_status(cp, name, rollback) == "Succeeded"
    detail = execution(cp, name, rollback)
    assert detail["executionType"] == "ROLLBACK"
    assert detail["trigger"] == {"triggerType": "ManualRollback", "triggerDetail": CALLER}
    assert detail["rollbackMetadata"] == {"rollbackTargetPipelineExecutionId": good}
    summaries = {
        s["pipelineExecutionId"]: s
        for s in cp.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
    }
    assert summaries[rollback]["sourceRevisions"] == summaries[good]["sourceRevisions"]
    assert summaries[rollback]["rollbackMetadata"] == {"rollbackTargetPipelineExecutionId": good}
    assert summaries[rollback]["trigger"]["triggerType"] == "ManualRollback"
    # Only the stage ran; Verify still shows the bad run.
    assert [run["stageName"] for run in action_runs(cp, name, rollback)] == ["Deploy"]
    assert stage_state(cp, name, "Deploy")["latestExecution"] == {
        "pipelineExecutionId": rollback,
        "status": "Succeeded",
        "type": "ROLLBACK",
    }
    assert stage_status(cp, name, "Verify") == (bad, "Failed")


def test_rollback_errors(aws: Any) -> None:
    cp = aws("codepipeline")
    name = create(
        cp,
        source(),
        stage("Deploy", action("Deploy", "Deploy", "CodeDeploy", SandboxDuration="#{variables.deploy}")),
        stage("Verify", action("Check", "Test", SandboxOutcome="#{variables.verify}", SandboxDuration="1")),
        variables={"deploy": "1", "verify": "Succeeded"},
    )

    def rollback(stage_name: str, target: str) -> Any:
        return lambda: cp.rollback_stage(pipelineName=name, stageName=stage_name, targetPipelineExecutionId=target)

    good = start(cp, name)
    assert wait_status(cp, name, good) == "Succeeded"
    bad = start(cp, name, verify="Failed")
    assert wait_status(cp, name, bad) == "Failed"

    assert error_of(rollback("Nope", good))[0] == "StageNotFoundException"
    assert error_of(rollback("Deploy", "44444444-4444-4444-8444-444444444444"))[0] == (
        "PipelineExecutionNotFoundException"
    )
    code, message = error_of(rollback("Source", good))
    assert code == "UnableToRollbackStageException"
    assert "source" in message
    code, message = error_of(rollback("Verify", bad))
    assert code == "UnableToRollbackStageException"
    assert "did not succeed" in message

    first = cp.rollback_stage(pipelineName=name, stageName="Deploy", targetPipelineExecutionId=good)
    assert wait_status(cp, name, first["pipelineExecutionId"]) == "Succeeded"
    code, message = error_of(rollback("Deploy", first["pipelineExecutionId"]))
    assert code == "UnableToRollbackStageException"
    assert "rollback" in message

    running = start(cp, name, deploy="400")
    wait_until(lambda: stage_status(cp, name, "Deploy") == (running, "InProgress"))
    code, message = error_of(rollback("Deploy", good))
    assert code == "UnableToRollbackStageException"
    assert "running" in message

    structure = cp.get_pipeline(name=name)["pipeline"]
    cp.update_pipeline(pipeline=structure)  # cancels the run in flight; `good` ran version 1
    assert wait_status(cp, name, running) == "Cancelled"
    assert error_of(rollback("Deploy", good))[0] == "PipelineExecutionOutdatedException"
