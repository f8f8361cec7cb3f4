"""Every CodePipeline answer the console reads, as it arrives on the wire, fits botocore's output shape.

The sandbox warms up on the bundled fleet, so the answers hold what a real account shows: succeeded,
failed and superseded executions, approvals waiting with their token, Step Functions invocations. Each
operation is called with the JSON protocol's raw HTTP and checked by `tests/shapes.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from console.sandbox_process import SandboxProcess, start_sandbox_process
from tests.conftest import SPEED
from tests.shapes import assert_output, output_problems, raw_body

READ_BY_THE_CONSOLE = (
    "ListPipelines",
    "GetPipeline",
    "GetPipelineState",
    "ListPipelineExecutions",
    "GetPipelineExecution",
    "ListActionExecutions",
)


@pytest.fixture(scope="module")
def warmed() -> Iterator[SandboxProcess]:
    """The bundled fleet after its warm-up: history of every kind, approvals left waiting."""
    with start_sandbox_process(speed=SPEED, seed=7, traffic=False, warm_up=True) as process:
        yield process


def read_everything(url: str, region: str, executions_per_pipeline: int = 4) -> dict[str, list[Any]]:
    """Call every operation the console reads, for every pipeline of `region`; answers by operation."""
    answers: dict[str, list[Any]] = {operation: [] for operation in READ_BY_THE_CONSOLE}

    def call(operation: str, body: dict[str, Any]) -> Any:
        answer = raw_body(url, "codepipeline", operation, body, region)
        answers[operation].append(answer)
        return answer

    names: list[str] = []
    token: str | None = None
    while True:
        listed = call("ListPipelines", {"maxResults": 3, **({"nextToken": token} if token else {})})
        names += [p["name"] for p in listed.get("pipelines", [])]
        token = listed.get("nextToken")
        if not token:
            break
    for name in names:
        call("GetPipeline", {"name": name})
        call("GetPipelineState", {"name": name})
        summaries = call("ListPipelineExecutions", {"pipelineName": name})["pipelineExecutionSummaries"]
        for summary in summaries[:executions_per_pipeline]:
            execution_id = summary["pipelineExecutionId"]
            call("GetPipelineExecution", {"pipelineName": name, "pipelineExecutionId": execution_id})
            call("ListActionExecutions", {"pipelineName": name, "filter": {"pipelineExecutionId": execution_id}})
    return answers


def test_the_shape_checker_catches_what_botocore_would_let_through() -> None:
    """The checker itself: an ISO time, an unknown key, a missing member, a wrong enum, a wrong type."""
    answer = {
        "pipelineName": "p",
        "pipelineVersion": "1",
        "created": "2026-01-01T00:00:00Z",
        "surprise": True,
        "stageStates": [
            {
                "stageName": "Build",
                "latestExecution": {"pipelineExecutionId": "e", "status": "Running"},
                "actionStates": [{"actionName": "", "latestExecution": {"status": "Succeeded"}}],
            }
        ],
    }
    problems = "\n".join(output_problems("codepipeline", "GetPipelineState", answer))
    assert "GetPipelineState.created: expected epoch seconds" in problems
    assert "GetPipelineState.surprise: not a member of GetPipelineStateOutput" in problems
    assert "GetPipelineState.pipelineVersion: expected a whole number" in problems
    assert "latestExecution.status: 'Running' is not one of StageExecutionStatus's values" in problems
    assert "actionStates[0].actionName: 0 is below ActionName's minimum 1" in problems
    missing = output_problems("codepipeline", "GetPipelineExecution", {"pipelineExecution": {"trigger": {}}})
    assert missing == []  # GetPipelineExecutionOutput requires nothing: the checker must not invent rules
    assert "required member pipelineExecutionId of StageExecution is missing" in "\n".join(
        output_problems(
            "codepipeline", "GetPipelineState", {"stageStates": [{"latestExecution": {"status": "Failed"}}]}
        )
    )


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_every_answer_on_the_bundled_fleet_fits_botocore(warmed: SandboxProcess, region: str) -> None:
    answers = read_everything(warmed.url, region)
    for operation, documents in answers.items():
        assert documents, f"the warmed-up fleet gave no {operation} to check in {region}"
        for document in documents:
            assert_output("codepipeline", operation, document)
    # The history holds what is worth checking: failures with their details, waiting approvals' tokens.
    details = [d for a in answers["ListActionExecutions"] for d in a["actionExecutionDetails"]]
    states = [s for a in answers["GetPipelineState"] for stage in a["stageStates"] for s in stage["actionStates"]]
    if region == "us-east-1":
        assert any(d["status"] == "Failed" for d in details)
        assert any("token" in (s.get("latestExecution") or {}) for s in states)
        assert any(d["input"]["actionTypeId"]["provider"] == "StepFunctions" for d in details)
