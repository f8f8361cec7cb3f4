"""Nested workflows: a Task that starts another state machine (`arn:aws:states:::states:startExecution`,
`.sync`, `.sync:2`, `.waitForTaskToken`), with the parameters and the result AWS documents.

A definition names the call's parameters as the optimized integration documents them (`StateMachineArn`,
`Input`, `Name`) and reads its result the same way (`ExecutionArn`, `StartDate`; `.sync`: `Output`,
`Status`, ...). moto's interpreter hands those names to boto3 unchanged, whose Step Functions shapes
spell them `stateMachineArn`, `input`, `name`, so every nested start failed with `States.Runtime`
(`'StateMachineArn'`). The parameters are given boto3's member names on the way in, and the answer AWS's
names on the way out.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn

_Service: Any = state_task_service_sfn.StateTaskServiceSfn
_original_parameters: Any = _Service._normalise_parameters
_original_response: Any = _Service._normalise_response


def _normalise_parameters(
    self: Any, parameters: dict[str, Any], boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    _original_parameters(self, parameters, boto_service_name, service_action_name)
    for key in list(parameters):
        member = key[:1].lower() + key[1:]
        if member != key:
            parameters[member] = parameters.pop(key)


def _normalise_response(
    self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    _original_response(self, response, boto_service_name, service_action_name)
    if isinstance(response, dict):
        for key in list(response):
            documented = key[:1].upper() + key[1:]
            if documented != key:
                response[documented] = response.pop(key)


def install() -> None:
    global _original_parameters, _original_response
    _original_parameters = _Service._normalise_parameters
    _original_response = _Service._normalise_response
    _Service._normalise_parameters = _normalise_parameters
    _Service._normalise_response = _normalise_response
