"""Map Runs and their child executions, as the Step Functions API shows them.

AWS runs each batch of a Distributed Map as a child execution of its own: STANDARD ones can be listed with
`ListExecutions(mapRunArn=…)`, described and read through GetExecutionHistory like any execution (their ARN
is `…:execution:<state machine>/<map run label>:<name>`); EXPRESS ones are counted in the Map Run only.
moto keeps no child executions at all, so the sandbox records them here (`MAP_RUNS`), and answers those
requests from this registry before it hands anything else on to moto.

ListMapRuns and DescribeMapRun answer from this registry too (moto looks in the execution's current
environment, which a redrive replaces). UpdateMapRun is refused for a Map Run that has ended (AWS's
ValidationException with reason CANNOT_UPDATE_COMPLETED_MAP_RUN), and StopExecution of a parent aborts its
running Map Runs first, so the parent's history shows MapRunAborted before ExecutionAborted.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions.parser.api import HistoryEventType, MapRunStatus
from moto.stepfunctions.responses import StepFunctionResponse

from console.sandbox.stepfunctions import runs as stepfunctions_runs
from console.sandbox.stepfunctions.errors import InvalidToken, StepFunctionsError, ValidationException


class ResourceNotFound(StepFunctionsError):
    TYPE = "ResourceNotFound"


class MapRunNotUpdatable(ValidationException):
    """AWS's ValidationException carries a `reason` for this one."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.description = json.dumps({"__type": self.TYPE, "message": message, "reason": reason})


@dataclass
class ChildExecution:
    """One child execution of a Map Run: what DescribeExecution and ListExecutions(mapRunArn) report."""

    execution_arn: str
    name: str
    state_machine_arn: str
    map_run_arn: str
    express: bool
    input: str
    item_count: int
    start_date: datetime
    status: str = "RUNNING"
    stop_date: datetime | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    event_manager: Any = None

    def finish(self, status: str, output: str | None, error: str | None, cause: str | None) -> None:
        self.status, self.output, self.error, self.cause = status, output, error, cause
        self.stop_date = datetime.now(UTC)

    def events(self) -> list[dict[str, Any]]:
        return list(self.event_manager.get_event_history()) if self.event_manager is not None else []

    def describe(self) -> dict[str, Any]:
        response: dict[str, Any] = {
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": self.start_date,
            "input": self.input,
            "inputDetails": {"included": True},
            "mapRunArn": self.map_run_arn,
            "redriveCount": 0,
            "redriveStatus": "NOT_REDRIVABLE",
            "redriveStatusReason": "The sandbox does not redrive the child executions of a Map Run",
        }
        if self.stop_date is not None:
            response["stopDate"] = self.stop_date
        if self.output is not None:
            response["output"] = self.output
            response["outputDetails"] = {"included": True}
        if self.error is not None:
            response["error"] = self.error
        if self.cause is not None:
            response["cause"] = self.cause
        return response

    def list_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "executionArn": self.execution_arn,
            "stateMachineArn": self.state_machine_arn,
            "name": self.name,
            "status": self.status,
            "startDate": self.start_date,
            "mapRunArn": self.map_run_arn,
            "itemCount": self.item_count,
            "redriveCount": 0,
        }
        if self.stop_date is not None:
            item["stopDate"] = self.stop_date
        return item


@dataclass
class MapRunEntry:
    """A running or ended Map Run: moto's record (counts, status) and where its events go."""

    record: Any
    execution_arn: str
    env: Any
    children: list[ChildExecution] = field(default_factory=list)


class MapRuns:
    """Every Map Run of the sandbox and the child executions it started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, MapRunEntry] = {}
        self._children: dict[str, ChildExecution] = {}

    def add_run(self, entry: MapRunEntry) -> None:
        with self._lock:
            self._runs[entry.record.map_run_arn] = entry

    def add_child(self, child: ChildExecution) -> None:
        with self._lock:
            entry = self._runs.get(child.map_run_arn)
            if entry is not None:
                entry.children.append(child)
            if not child.express:
                self._children[child.execution_arn] = child

    def run(self, map_run_arn: str) -> MapRunEntry | None:
        with self._lock:
            return self._runs.get(map_run_arn)

    def child(self, execution_arn: str) -> ChildExecution | None:
        with self._lock:
            return self._children.get(execution_arn)

    def of_execution(self, execution_arn: str) -> list[MapRunEntry]:
        with self._lock:
            return [e for e in self._runs.values() if e.execution_arn == execution_arn]

    def running_of(self, execution_arn: str) -> list[MapRunEntry]:
        with self._lock:
            return [
                e
                for e in self._runs.values()
                if e.execution_arn == execution_arn and e.record.status == MapRunStatus.RUNNING
            ]


MAP_RUNS = MapRuns()


# --- responses ---------------------------------------------------------------------------------------------


def _page(items: list[Any], max_results: int | None, next_token: str | None) -> tuple[list[Any], str | None]:
    """Offset paging: enough for a sandbox, whose lists only grow at the end."""
    start = 0
    if next_token:
        try:
            start = int(next_token)
        except ValueError:
            raise InvalidToken("the nextToken is malformed") from None
    size = max_results or 100
    chosen = items[start : start + size]
    return chosen, (str(start + size) if start + size < len(items) else None)


def _wrap(name: str, replacement: Any) -> None:
    original = getattr(StepFunctionResponse, name)

    def method(self: Any) -> Any:
        return replacement(self, original)

    setattr(StepFunctionResponse, name, method)


def _list_executions(self: Any, original: Any) -> Any:
    map_run_arn = self._get_param("mapRunArn")
    if not map_run_arn:
        if not self._get_param("stateMachineArn"):
            raise ValidationException("Must provide a StateMachine ARN or MapRun ARN")
        return original(self)
    if self._get_param("stateMachineArn"):
        raise ValidationException("Must provide either a StateMachine ARN or a MapRun ARN, not both")
    entry = MAP_RUNS.run(map_run_arn)
    if entry is None:
        raise ResourceNotFound(f"Map Run Does Not Exist: '{map_run_arn}'")
    children = [c for c in entry.children if not c.express]
    status_filter = self._get_param("statusFilter")
    if status_filter:
        children = [c for c in children if c.status == status_filter]
    children.sort(key=lambda c: c.start_date, reverse=True)
    page, token = _page(children, self._get_int_param("maxResults") or None, self._get_param("nextToken"))
    response: dict[str, Any] = {"executions": [c.list_item() for c in page]}
    if token:
        response["nextToken"] = token
    return ActionResult(response)


def _describe_execution(self: Any, original: Any) -> Any:
    child = MAP_RUNS.child(self._get_param("executionArn") or "")
    return ActionResult(child.describe()) if child is not None else original(self)


def _get_execution_history(self: Any, original: Any) -> Any:
    arn = self._get_param("executionArn") or ""
    child = MAP_RUNS.child(arn)
    if child is None:
        return original(self)
    from console.sandbox.stepfunctions.api import PAGE_TOKENS
    from console.sandbox.stepfunctions.history import history_page

    page = history_page(
        child.events(),
        execution_arn=arn,
        tokens=PAGE_TOKENS,
        max_results=self._get_int_param("maxResults"),
        reverse=bool(self._get_bool_param("reverseOrder", False)),
        next_token=self._get_param("nextToken"),
        include_execution_data=bool(self._get_bool_param("includeExecutionData", True)),
    )
    response: dict[str, Any] = {"events": page.events}
    if page.next_token:
        response["nextToken"] = page.next_token
    return ActionResult(response)


def _list_map_runs(self: Any, original: Any) -> Any:
    # From the registry: moto looks in the execution's current environment, which a redrive replaces.
    execution_arn = self._get_param("executionArn") or ""
    if MAP_RUNS.child(execution_arn) is None:  # a child's own Map Runs (a Distributed Map inside it) are here
        self.stepfunction_backend.describe_execution(execution_arn)  # ExecutionDoesNotExist as AWS answers it
    entries = sorted(MAP_RUNS.of_execution(execution_arn), key=lambda e: e.record.start_date)
    page, token = _page(entries, self._get_int_param("maxResults") or None, self._get_param("nextToken"))
    response: dict[str, Any] = {"mapRuns": [e.record.list_item() for e in page]}
    if token:
        response["nextToken"] = token
    return ActionResult(response)


def _describe_map_run(self: Any, original: Any) -> Any:
    entry = MAP_RUNS.run(self._get_param("mapRunArn") or "")
    if entry is None:
        raise ResourceNotFound(f"Map Run Does Not Exist: '{self._get_param('mapRunArn')}'")
    return ActionResult(entry.record.describe())


def _update_map_run(self: Any, original: Any) -> Any:
    entry = MAP_RUNS.run(self._get_param("mapRunArn") or "")
    if entry is not None and entry.record.status != MapRunStatus.RUNNING:
        raise MapRunNotUpdatable(
            "Map Run has already completed and cannot be updated", "CANNOT_UPDATE_COMPLETED_MAP_RUN"
        )
    return original(self)


# --- StopExecution of a parent ------------------------------------------------------------------------------


def abort_map_runs(execution_arn: str) -> None:
    """Record MapRunAborted for each running Map Run of `execution_arn` (before its ExecutionAborted)."""
    for entry in MAP_RUNS.running_of(execution_arn):
        entry.record.set_stop(status=MapRunStatus.ABORTED)
        entry.env.event_manager.add_event(
            context=entry.env.event_history_context, event_type=HistoryEventType.MapRunAborted
        )


def install() -> None:
    _wrap("list_executions", _list_executions)
    _wrap("describe_execution", _describe_execution)
    _wrap("get_execution_history", _get_execution_history)
    _wrap("update_map_run", _update_map_run)
    _wrap("list_map_runs", _list_map_runs)
    _wrap("describe_map_run", _describe_map_run)
    original_stop = stepfunctions_runs.stop_execution

    def stop_execution(execution: Any, error: str | None = None, cause: str | None = None) -> Any:
        if execution.exec_status == "RUNNING":
            abort_map_runs(execution.execution_arn)
        return original_stop(execution, error=error, cause=cause)

    stepfunctions_runs.stop_execution = stop_execution
