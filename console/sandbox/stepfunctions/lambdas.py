"""Simulated Lambda functions, so that real ASL calling Lambda runs in the sandbox.

The sandbox has no Lambda runtime (moto would need Docker). The definitions declare functions instead
(`functions:` in fleet.yaml: a result, a duration, a chance of failing with a named error, or a JSONata
expression over the payload), and the Step Functions interpreter's one call into Lambda answers for them:
`arn:aws:states:::lambda:invoke` (with or without `.waitForTaskToken`) and a function ARN as a Task's
`Resource` both reach `lambda_eval_utils._invoke_lambda_function`. A function nobody declared goes on to
moto's Lambda, which answers `Lambda.ResourceNotFoundException` as AWS does.

A failure is what a function that throws returns: `FunctionError: Unhandled` and a payload with
`errorType` and `errorMessage`, which Step Functions turns into an error named after `errorType` that Retry
and Catch match. A `.waitForTaskToken` call gets its token in the payload, as the ASL put it there; the
function returns at once and the state waits until someone answers SendTaskSuccess / SendTaskFailure.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

from console.sandbox.stepfunctions import jsonata
from console.sandbox.stepfunctions.timing import real_seconds


@dataclass(frozen=True)
class SimulatedFunction:
    """What one declared function does when invoked."""

    name: str
    region: str
    result: Any = None
    expression: str | None = None  # JSONata over the payload; its value is the result
    duration: float = 0.0  # seconds at --speed 1
    fail: float = 0.0  # the chance an invocation fails
    error: str = "Error"  # errorType of a failure
    message: str = "The function failed"  # errorMessage of a failure


class SimulatedFunctions:
    """The declared functions by (region, name), and the random draws their failures come from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._functions: dict[tuple[str, str], SimulatedFunction] = {}
        self._random = random.Random(0)

    def declare(self, functions: Iterable[SimulatedFunction], seed: int = 0) -> None:
        with self._lock:
            for function in functions:
                self._functions[(function.region, function.name)] = function
            self._random = random.Random(seed)

    def find(self, function_name: str, region: str) -> SimulatedFunction | None:
        """By name, full or partial ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`)."""
        name = function_name
        if ":function:" in function_name:
            head, _, tail = function_name.partition(":function:")
            name = tail.split(":", 1)[0]
            parts = head.split(":")
            if len(parts) >= 4 and parts[0] == "arn" and parts[3]:
                region = parts[3]
        elif ":" in function_name:
            name = function_name.split(":", 1)[0]  # NAME:QUALIFIER
        with self._lock:
            return self._functions.get((region, name))

    def names(self, region: str) -> list[str]:
        with self._lock:
            return [name for (where, name) in self._functions if where == region]

    def fails(self, function: SimulatedFunction) -> bool:
        with self._lock:
            return function.fail > 0 and self._random.random() < function.fail


FUNCTIONS = SimulatedFunctions()


def _payload(parameters: dict[str, Any]) -> Any:
    raw = parameters.get("Payload")
    if raw is None:
        return {}
    if isinstance(raw, bytes | bytearray):
        raw = raw.decode("utf-8")
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return raw


def invoke(function: SimulatedFunction, payload: Any) -> dict[str, Any]:
    """What Lambda's Invoke answers for `function` called with `payload` (already decoded), after its duration."""
    if function.duration > 0:
        time.sleep(real_seconds(function.duration))
    return answer(function, payload)


def answer(function: SimulatedFunction, payload: Any) -> dict[str, Any]:
    """The answer alone, at once: for callers that honour the duration on their own clock (condition rules)."""
    if FUNCTIONS.fails(function):
        return _failed(function.error, function.message)
    if function.expression is not None:
        try:
            result = jsonata.evaluate(function.expression, {}, payload)
        except jsonata.QueryEvaluationFailed as failed:
            return _failed("Error", f"The function's JSONata expression {failed}")
    else:
        result = function.result
    return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": result}


def _failed(error: str, message: str) -> dict[str, Any]:
    return {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "FunctionError": "Unhandled",
        "Payload": {"errorType": error, "errorMessage": message, "trace": []},
    }


_original_invoke: Any = lambda_eval_utils._invoke_lambda_function


def _invoke_lambda_function(parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
    function = FUNCTIONS.find(str(parameters.get("FunctionName", "")), region)
    if function is None:
        return _original_invoke(parameters=parameters, region=region, state_credentials=state_credentials)
    return invoke(function, _payload(parameters))


def install() -> None:
    global _original_invoke
    _original_invoke = lambda_eval_utils._invoke_lambda_function
    setattr(lambda_eval_utils, "_invoke_lambda_function", _invoke_lambda_function)  # noqa: B010 - patching moto
