"""The Step Functions operations the sandbox answers differently from moto, on the backend and on the wire.

Backend methods (`StepFunctionsParserBackend`), so in-process callers such as the CodePipeline engine get
the same behaviour as HTTP clients: StartExecution names an unnamed execution with a UUID; StopExecution
keeps error and cause; SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat answer through the token
registry; RedriveExecution is new. Response methods (`StepFunctionResponse`) read the parameters moto
ignored (GetExecutionHistory's paging, StopExecution's error and cause, SendTaskFailure's cause,
ListExecutions' redriveFilter) and return the redrive fields of DescribeExecution and ListExecutions.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse
from moto.stepfunctions.utils import PAGINATION_MODEL
from moto.utilities.paginator import paginate

from console.sandbox.moto_patches.plain_json import PlainJSONResult
from console.sandbox.stepfunctions import runs as stepfunctions_runs
from console.sandbox.stepfunctions.errors import ValidationException
from console.sandbox.stepfunctions.history import PageTokens, history_page
from console.sandbox.stepfunctions.records import execution_output, run_record
from console.sandbox.stepfunctions.tokens import TOKENS

PAGE_TOKENS = PageTokens()
# moto's paginator finds its settings under the decorated function's name.
_PAGINATION = {"_backend_list_executions": PAGINATION_MODEL["list_executions"]}
REDRIVE_FILTERS = ("REDRIVEN", "NOT_REDRIVEN")


# --- backend ------------------------------------------------------------------------------------------


def _find_execution(backend: Any, execution_arn: str) -> Any:
    # moto's own lookup already answers InvalidArn and ExecutionDoesNotExist as AWS does.
    return backend.describe_execution(execution_arn)


def _backend_stop_execution(self: Any, execution_arn: str, error: str | None = None, cause: str | None = None) -> Any:
    execution = _find_execution(self, execution_arn)
    return stepfunctions_runs.stop_execution(execution, error=error, cause=cause)


def _backend_redrive_execution(self: Any, execution_arn: str, client_token: str | None = None) -> datetime:
    execution = _find_execution(self, execution_arn)
    return stepfunctions_runs.redrive_execution(execution, client_token)


def _backend_send_task_success(self: Any, task_token: str, outcome: str) -> None:
    TOKENS.succeed(task_token, outcome)


def _backend_send_task_failure(self: Any, task_token: str, error: str | None = None, cause: str | None = None) -> None:
    TOKENS.fail(task_token, error, cause)


def _backend_send_task_heartbeat(self: Any, task_token: str) -> None:
    TOKENS.heartbeat(task_token)


@paginate(pagination_model=_PAGINATION)
def _backend_list_executions(
    self: Any, state_machine_arn: str, status_filter: str | None = None, redrive_filter: str | None = None
) -> list[Any]:
    executions = list(self.describe_state_machine(state_machine_arn).executions)
    if status_filter:
        executions = [e for e in executions if e.status == status_filter]
    if redrive_filter == "REDRIVEN":
        executions = [e for e in executions if run_record(e).redrive_count > 0]
    elif redrive_filter == "NOT_REDRIVEN":
        executions = [e for e in executions if run_record(e).redrive_count == 0]
    return sorted(executions, key=lambda e: e.start_date, reverse=True)


# --- response shapes ------------------------------------------------------------------------------------


def describe(execution: Any) -> dict[str, Any]:
    """DescribeExecution's answer for a parser execution."""
    record = run_record(execution)
    status = execution.status
    response: dict[str, Any] = {
        "executionArn": execution.execution_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": status,
        "startDate": execution.start_date,
        "input": execution.execution_input,
        "inputDetails": {"included": True},
        "redriveCount": record.redrive_count,
    }
    if status != "RUNNING" and execution.stop_date is not None:
        response["stopDate"] = execution.stop_date
    output = execution_output(execution)
    if output is not None:
        response["output"] = output
        response["outputDetails"] = {"included": True}
    if execution.error is not None:
        response["error"] = execution.error
    if execution.cause is not None:
        response["cause"] = execution.cause
    if record.redrive_date is not None:
        response["redriveDate"] = record.redrive_date
    reason = record.not_redrivable_reason(execution)
    response["redriveStatus"] = "NOT_REDRIVABLE" if reason else "REDRIVABLE"
    if reason:
        response["redriveStatusReason"] = reason
    return response


def list_item(execution: Any) -> dict[str, Any]:
    record = run_record(execution)
    item: dict[str, Any] = {
        "executionArn": execution.execution_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": execution.status,
        "startDate": execution.start_date,
        "redriveCount": record.redrive_count,
    }
    if execution.status != "RUNNING" and execution.stop_date is not None:
        item["stopDate"] = execution.stop_date
    if record.redrive_date is not None:
        item["redriveDate"] = record.redrive_date
    return item


# --- responses ----------------------------------------------------------------------------------------


def _response_describe_execution(self: Any) -> ActionResult:
    execution = _find_execution(self.stepfunction_backend, self._get_param("executionArn"))
    return ActionResult(describe(execution))


def _response_list_executions(self: Any) -> ActionResult:
    arn = self._get_param("stateMachineArn")
    status_filter = self._get_param("statusFilter")
    redrive_filter = self._get_param("redriveFilter")
    if status_filter == "PENDING_REDRIVE":
        raise ValidationException("The PENDING_REDRIVE status filter needs a mapRunArn, not a stateMachineArn")
    if redrive_filter is not None and redrive_filter not in REDRIVE_FILTERS:
        raise ValidationException(
            f"1 validation error detected: Value '{redrive_filter}' at 'redriveFilter' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(REDRIVE_FILTERS)}]"
        )
    backend = self.stepfunction_backend
    backend.describe_state_machine(arn)  # StateMachineDoesNotExist before anything else
    executions, next_token = backend.wavedeck_list_executions(
        arn,
        status_filter=status_filter,
        redrive_filter=redrive_filter,
        max_results=self._get_int_param("maxResults") or None,
        next_token=self._get_param("nextToken"),
    )
    response: dict[str, Any] = {"executions": [list_item(e) for e in executions]}
    if next_token:
        response["nextToken"] = next_token
    return ActionResult(response)


def _response_get_execution_history(self: Any) -> ActionResult:
    arn = self._get_param("executionArn")
    execution = _find_execution(self.stepfunction_backend, arn)
    env = execution.exec_worker.env if execution.exec_worker is not None else None
    events = env.event_manager.get_event_history() if env is not None else []
    page = history_page(
        events,
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
    return PlainJSONResult(response)


def _response_stop_execution(self: Any) -> ActionResult:
    execution = self.stepfunction_backend.stop_execution(
        self._get_param("executionArn"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return ActionResult({"stopDate": execution.stop_date})


def _response_redrive_execution(self: Any) -> ActionResult:
    redrive_date = self.stepfunction_backend.redrive_execution(
        self._get_param("executionArn"), client_token=self._get_param("clientToken")
    )
    return ActionResult({"redriveDate": redrive_date})


def _response_send_task_failure(self: Any) -> EmptyResult:
    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return EmptyResult()


# --- install ------------------------------------------------------------------------------------------


# moto checks an execution's name against the existing ones, copies the state machine, and only then adds the
# execution: two requests with one name at the same moment (the server answers each on a thread of its own) both
# passed the check, and two executions of one name ran. AWS starts one: the second gets the first's answer (same
# input, still running) or ExecutionAlreadyExists. The check and the adding happen under this lock.
_STARTING = threading.Lock()


def named_start(original: Any) -> Any:
    """moto's `start_execution` with AWS's naming: a UUID when none is given, the name checked first, and one
    execution per name however many ask at once."""

    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Any:
        if name:
            self._validate_name(name)
        else:
            # AWS names an unnamed execution with a UUID.
            name = str(uuid.uuid4())
        with _STARTING:
            return original(self, state_machine_arn, name, execution_input, trace_header)

    return start_execution


def install() -> None:
    start_execution = named_start(StepFunctionsParserBackend.start_execution)

    backend_methods: dict[str, Any] = {
        "start_execution": start_execution,
        "stop_execution": _backend_stop_execution,
        "redrive_execution": _backend_redrive_execution,
        "send_task_success": _backend_send_task_success,
        "send_task_failure": _backend_send_task_failure,
        "send_task_heartbeat": _backend_send_task_heartbeat,
        "wavedeck_list_executions": _backend_list_executions,
    }
    for name, method in backend_methods.items():
        setattr(StepFunctionsParserBackend, name, method)
    response_methods: dict[str, Any] = {
        "describe_execution": _response_describe_execution,
        "list_executions": _response_list_executions,
        "get_execution_history": _response_get_execution_history,
        "stop_execution": _response_stop_execution,
        "redrive_execution": _response_redrive_execution,
        "send_task_failure": _response_send_task_failure,
    }
    for name, method in response_methods.items():
        setattr(StepFunctionResponse, name, method)
