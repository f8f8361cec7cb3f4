"""Task events carry what botocore's shape requires: `taskFailedEventDetails` has `resource` and `resourceType`.

moto builds a TaskFailed event in a dozen places (a JSONPath that finds nothing, an unhandled exception, a
service's own error) and most of them leave both out, which a strict client rejects. The state that is
running on this thread knows its resource: `StateTask._eval_state` notes it, and every TaskFailed event
recorded while it runs gets the resource and resource type its TaskScheduled event named.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask

_running = threading.local()


def resource_of(state: Any) -> tuple[str, str]:
    """(resourceType, resource) as TaskScheduled names them: `sqs` / `sendMessage.waitForTaskToken`."""
    try:
        return str(state._get_sfn_resource_type()), str(state._get_sfn_resource())
    except AttributeError:
        pass
    arn = str(getattr(getattr(state, "resource", None), "resource_arn", "") or "")
    if ":function:" in arn:
        return "lambda", arn
    if ":activity:" in arn:
        return "activity", arn
    parts = arn.split(":")
    if len(parts) >= 7 and parts[2] == "states":
        return parts[5], parts[6]
    return "states", arn or "unknown"


def complete(event_details: Any) -> Any:
    """Fill what a TaskFailed event's details lack, from the task state running on this thread."""
    if not event_details:
        return event_details
    details = event_details.get("taskFailedEventDetails") if isinstance(event_details, dict) else None
    if not isinstance(details, dict) or ("resource" in details and "resourceType" in details):
        return event_details
    state = getattr(_running, "state", None)
    resource_type, resource = resource_of(state) if state is not None else ("states", "unknown")
    details.setdefault("resourceType", resource_type)
    details.setdefault("resource", resource)
    return event_details


def _eval_state(self: Any, env: Any) -> None:
    previous = getattr(_running, "state", None)
    _running.state = self
    try:
        ExecutionState._eval_state(self, env)
    finally:
        _running.state = previous


def install() -> None:
    setattr(StateTask, "_eval_state", _eval_state)  # noqa: B010 - patching moto
