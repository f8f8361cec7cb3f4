"""A Choice state with no matching rule and no Default fails with `States.NoChoiceMatched`, as on AWS.

moto raises a bare RuntimeError there, which the execution reports as `States.Runtime` with a Python
repr for a cause.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.choice.state_choice import StateChoice

NO_CHOICE_MATCHED = "States.NoChoiceMatched"


def install() -> None:
    original = StateChoice._eval_state

    def eval_state(self: Any, env: Any) -> None:
        try:
            original(self, env)
        except RuntimeError:
            if self.default_state is not None:
                raise
            cause = f"No Choice Rule of state '{self.name}' matched its input, and it has no Default state."
            details: Any = {
                "executionFailedEventDetails": ExecutionFailedEventDetails(error=NO_CHOICE_MATCHED, cause=cause)
            }
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesNoChoiceMatched),
                    event_type=HistoryEventType.ExecutionFailed,
                    event_details=details,
                )
            ) from None

    setattr(StateChoice, "_eval_state", eval_state)  # noqa: B010 - patching moto's class
