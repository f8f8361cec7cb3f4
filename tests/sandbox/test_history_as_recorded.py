"""GetExecutionHistory in the sandbox ends where AWS ends a history: at the execution's end, until a redrive
(console/sandbox/stepfunctions/history.py `as_recorded`). moto's Map iterations run on threads, and one can finish
after the execution has failed."""

from __future__ import annotations

from typing import Any

from console.sandbox.stepfunctions.history import PageTokens, as_recorded, history_page


def events(*types: str) -> list[dict[str, Any]]:
    return [{"id": n, "type": kind} for n, kind in enumerate(types, start=1)]


def test_nothing_follows_the_end_of_an_execution() -> None:
    late = events("ExecutionStarted", "MapIterationStarted", "MapIterationFailed", "ExecutionFailed",
                  "MapIterationSucceeded")  # fmt: skip
    page = history_page(late, execution_arn="arn:x", tokens=PageTokens())
    assert [e["type"] for e in page.events][-1] == "ExecutionFailed"
    assert [e["id"] for e in page.events] == [1, 2, 3, 4]
    backwards = history_page(late, execution_arn="arn:x", tokens=PageTokens(), reverse=True)
    assert [e["id"] for e in backwards.events] == [4, 3, 2, 1]


def test_a_redriven_execution_goes_on_after_its_first_end() -> None:
    redriven = events("ExecutionStarted", "ExecutionFailed", "ExecutionRedriven", "TaskStateEntered",
                      "ExecutionSucceeded", "MapIterationSucceeded")  # fmt: skip
    assert [e["type"] for e in as_recorded(redriven)] == [
        "ExecutionStarted",
        "ExecutionFailed",
        "ExecutionRedriven",
        "TaskStateEntered",
        "ExecutionSucceeded",
    ]


def test_a_running_execution_is_whole() -> None:
    running = events("ExecutionStarted", "TaskStateEntered", "TaskScheduled")
    assert as_recorded(running) == running
