"""A Map iteration that fails with one of Step Functions' own errors fails its Map with that error.

moto's iteration worker names an iteration's error with `CustomErrorName`, which refuses names that begin
with `States.`: an iteration that timed out (`States.Timeout`), or failed with `States.TaskFailed` or any
other predefined error, ended the whole execution as `States.Runtime` ("Custom Error Names MUST NOT begin
with the prefix 'States.'"), where AWS fails the Map state with the iteration's own error, which a `Catch`
or `Retry` on the Map then matches. The worker is given a factory that names predefined errors as
`StatesErrorName` and the rest as before.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker

PREFIX = "States."


def error_name(error_name: str | None) -> Any:
    """`StatesErrorName` for a predefined error (`States.Timeout`), `CustomErrorName` for the rest."""
    if error_name is not None and error_name.startswith(PREFIX):
        try:
            return StatesErrorName.from_name(error_name)
        except ValueError:
            pass  # a States.* name moto does not know: keep it as it is, unvalidated
        return _UnknownStatesError(error_name)
    return CustomErrorName(error_name=error_name)


class _UnknownStatesError(ErrorName):
    """A `States.*` name moto's grammar does not list: matched by its text, as any name."""


def install() -> None:
    iteration_worker.CustomErrorName = error_name  # type: ignore[attr-defined,assignment]
