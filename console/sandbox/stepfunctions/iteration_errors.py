"""A Map iteration or a Parallel branch that fails with one of Step Functions' own errors fails its state
with that error.

moto's iteration worker and its Parallel branches name the failure with `CustomErrorName`, which refuses
names that begin with `States.`: an iteration or branch that timed out (`States.Timeout`: an approval nobody
answered in time), or failed with `States.TaskFailed` or any other predefined error, crashed the interpreter
and ended the whole execution as `States.Runtime` ("Custom Error Names MUST NOT begin with the prefix
'States.'"), where AWS fails the Map or Parallel state with the error itself, which a `Catch` or `Retry` on it
then matches. Both are given a factory that names predefined errors as `StatesErrorName` and the rest as
before.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

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
    branches_decl.CustomErrorName = error_name  # type: ignore[attr-defined,assignment]
