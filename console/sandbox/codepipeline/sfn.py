"""StepFunctions actions: start a real execution in the sandbox's own Step Functions and follow it.

The engine calls moto's Step Functions backend in-process: `get_backend` returns the backend that
executes state machines once the server has turned on `execute_state_machine`. The execution's input is
exactly the action's `Input` configuration (variables resolved), as AWS sends it: nothing is added. The
bundled fleet's actions declare `"revision": "#{SourceVariables.CommitId}"` in their input themselves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from moto.stepfunctions.responses import get_backend

LOG = logging.getLogger(__name__)

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class Started:
    arn: str
    url: str
    account: str
    region: str


@dataclass(frozen=True)
class Finished:
    status: str  # SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    error: str | None
    cause: str | None
    stopped: datetime | None


class StartFailed(Exception):
    """The state machine could not be started: the action fails with this message."""


def console_url(region: str, arn: str) -> str:
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{arn}"


def build_input(configuration: Mapping[str, str]) -> str:
    """The execution input, exactly the action's `Input` (InputType Literal, the default), as AWS sends it."""
    if configuration.get("InputType", "Literal") == "FilePath":
        raise StartFailed(
            "InputType FilePath reads the input from a file of the input artifact; "
            "the sandbox has no artifacts: declare the input with InputType Literal"
        )
    text = configuration.get("Input") or "{}"
    try:
        json.loads(text)
    except ValueError as exc:
        raise StartFailed(f"Input is not valid JSON: {exc}") from None
    return text


def start(state_machine_arn: str, name: str, execution_input: str, default_account: str) -> Started:
    """Start an execution of `state_machine_arn` named `name`; StartFailed says why it could not."""
    parts = state_machine_arn.split(":")
    if len(parts) < 7 or parts[2] != "states" or parts[5] != "stateMachine":
        raise StartFailed(f"StateMachineArn '{state_machine_arn}' is not a state machine ARN")
    region, account = parts[3], parts[4] or default_account
    try:
        execution = get_backend(account, region).start_execution(
            state_machine_arn, name=name, execution_input=execution_input
        )
    except Exception as exc:  # noqa: BLE001 - moto's errors become the action's error message
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise StartFailed(f"Could not start {state_machine_arn}: {message}") from None
    arn = str(execution.execution_arn)
    return Started(arn, console_url(region, arn), account, region)


def poll(account: str, region: str, arn: str) -> Finished | None:
    """The execution's end, or None while it runs. A vanished execution counts as aborted."""
    try:
        execution = get_backend(account, region).describe_execution(arn)
    except Exception:  # noqa: BLE001 - e.g. the state machine was deleted
        return Finished("ABORTED", "States.ExecutionDoesNotExist", f"Execution {arn} no longer exists", None)
    try:
        status = str(getattr(execution.status, "value", execution.status))
    except AttributeError:
        return None  # not started yet
    if status not in TERMINAL:
        return None
    stopped = getattr(execution, "stop_date", None)
    if not isinstance(stopped, datetime):
        stopped = None
    elif stopped.tzinfo is None:
        stopped = stopped.replace(tzinfo=UTC)
    return Finished(status, getattr(execution, "error", None), getattr(execution, "cause", None), stopped)
