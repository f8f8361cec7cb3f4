"""Step Functions execution status changes as EventBridge events (`aws.states`, STANDARD executions only).

One event per change: RUNNING when an execution starts and again when it is redriven, then SUCCEEDED,
FAILED, TIMED_OUT or ABORTED. The detail carries what AWS's does (dates in epoch milliseconds, JSON
strings for input and output, null where a field does not apply), so a rule `{"source": ["aws.states"]}`
with an SQS target receives exactly what it would from AWS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.sandbox import events
from console.sandbox.stepfunctions.records import RunRecord, execution_output, is_express, run_record

SOURCE = "aws.states"


def epoch_millis(when: datetime | None) -> int | None:
    return None if when is None else int(when.timestamp() * 1000)


def status_detail(execution: Any) -> dict[str, Any]:
    """The `detail` of a "Step Functions Execution Status Change" event for the execution as it is now."""
    record: RunRecord = run_record(execution)
    status = execution.status
    output = execution_output(execution)
    reason = record.not_redrivable_reason(execution)
    return {
        "executionArn": execution.execution_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": status,
        "startDate": epoch_millis(execution.start_date),
        "stopDate": None if status == "RUNNING" else epoch_millis(execution.stop_date),
        "input": execution.execution_input,
        "output": output,
        "inputDetails": {"included": True},
        "outputDetails": {"included": True} if output is not None else None,
        "error": execution.error,
        "cause": execution.cause,
        "redriveCount": record.redrive_count,
        "redriveDate": epoch_millis(record.redrive_date),
        "redriveStatus": "NOT_REDRIVABLE" if reason else "REDRIVABLE",
        "redriveStatusReason": reason,
    }


def status_changed(execution: Any) -> None:
    """Put the execution's current status on its region's default bus. EXPRESS executions emit nothing."""
    if is_express(execution):
        return
    events.emit(
        execution.account_id,
        execution.region_name,
        SOURCE,
        events.SFN_EXECUTION,
        status_detail(execution),
        [execution.execution_arn],
    )
