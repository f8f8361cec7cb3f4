"""The inbox's rows for tokens waited for in Parallel branches and Map iterations (pure, fixed data)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.model import Approval
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from screens.approvals.rows import detail_text, row_key, selection_of, what_cell
from screens.execution.rows import Waiting, waiting_text

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:123456789012:execution:review-changes:run-7"


def iteration(index: int, event: int) -> Approval:
    return Approval(
        kind=STEPFUNCTIONS,
        target="sandbox/us-east-1",
        resource="review-changes/run-7",
        wave=None,
        since=NOW - timedelta(minutes=5),
        state_name="Approve Change",
        execution=ARN,
        where=f"iteration {index} of Review Each Change",
        map_index=index,
        task_event=event,
    )


def test_iterations_of_one_state_are_rows_of_their_own_naming_state_and_index() -> None:
    rows = [iteration(0, 11), iteration(1, 14), iteration(2, 17)]
    assert len({row_key(r) for r in rows}) == 3
    assert what_cell(rows[2], 60, full=True).plain == "⚑ review-changes/run-7 › Approve Change #2"
    # Narrow (80 columns): the execution gives way first, then the state; the index is never cut.
    assert what_cell(rows[2], 30, full=False).plain == "⚑ revi…n-7 › Approve Change #2"
    narrow = [what_cell(r, 22, full=False).plain for r in rows]
    assert narrow == ["⚑ revi…n-7 › Appro… #0", "⚑ revi…n-7 › Appro… #1", "⚑ revi…n-7 › Appro… #2"]
    selection = selection_of(rows[1])
    assert (selection.state_name, selection.map_index, selection.task_event) == ("Approve Change", 1, 14)
    detail = detail_text(rows[1], NOW, "sandbox/us-east-1", "").plain
    assert "state Approve Change · iteration 1 of Review Each Change" in detail


def test_the_execution_banner_says_where_each_one_waits() -> None:
    waiting = [
        Waiting("Security Approver", "Release?", None, NOW, None, None, "branch 1 of Approvals"),
        Waiting("Finance Approver", "Budget?", None, NOW, None, None, "branch 3 of Approvals"),
    ]
    text = waiting_text(waiting, NOW, can_answer=False).plain
    assert "Security Approver (branch 1 of Approvals) waits for a person: Release?" in text
    assert "Finance Approver (branch 3 of Approvals) waits for a person: Budget?" in text
