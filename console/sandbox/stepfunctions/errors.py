"""Step Functions errors as AWS spells them on the wire (`__type` and `message` of the JSON 1.0 protocol).

moto's parser declares most of these, but constructs them without a message, which fails before the response
is written; these carry AWS's code and a message a person can act on. They are werkzeug HTTP errors (moto's
`JsonRESTError`), which every moto 5.2 release renders as they are: moto 5.2.6 dropped the `AWSError` base
these once had (tests/sandbox/test_moto_internals_stepfunctions.py checks the rendering).
"""

from __future__ import annotations

from moto.core.exceptions import JsonRESTError


class StepFunctionsError(JsonRESTError):
    """Base of the errors the sandbox's Step Functions patches raise."""

    TYPE = "ValidationException"
    STATUS = 400

    def __init__(self, message: str) -> None:
        super().__init__(self.TYPE, message)
        self.code = self.STATUS


class ValidationException(StepFunctionsError):
    TYPE = "ValidationException"


class InvalidToken(StepFunctionsError):
    TYPE = "InvalidToken"

    def __init__(self, reason: str) -> None:
        super().__init__(f"Invalid Token: '{reason}'")


class TaskDoesNotExist(StepFunctionsError):
    TYPE = "TaskDoesNotExist"

    def __init__(self) -> None:
        super().__init__("Task Does Not Exist: 'No task was issued with this token'")


class TaskTimedOut(StepFunctionsError):
    TYPE = "TaskTimedOut"

    def __init__(self) -> None:
        super().__init__("Task Timed Out: 'Provided task does not exist anymore'")


class InvalidOutput(StepFunctionsError):
    TYPE = "InvalidOutput"

    def __init__(self, problem: str) -> None:
        super().__init__(f"Invalid Output: '{problem}'")


class ExecutionNotRedrivable(StepFunctionsError):
    TYPE = "ExecutionNotRedrivable"
