"""CodePipeline's errors as the engine raises them; the API layer turns them into AWS's JSON error bodies.

The codes are the exception shapes of botocore's codepipeline service model, so a client sees the same
`ClientError` code it would get from AWS. Messages say what to do, in AWS's tone.
"""

from __future__ import annotations

import re


class CodePipelineError(Exception):
    """An error CodePipeline would answer with: `code` is AWS's exception name."""

    code = "ValidationException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _error(name: str) -> type[CodePipelineError]:
    return type(name, (CodePipelineError,), {"code": name, "__doc__": f"CodePipeline's {name}."})


ValidationException = _error("ValidationException")
PipelineNotFoundException = _error("PipelineNotFoundException")
PipelineExecutionNotFoundException = _error("PipelineExecutionNotFoundException")
StageNotFoundException = _error("StageNotFoundException")
ActionNotFoundException = _error("ActionNotFoundException")
InvalidApprovalTokenException = _error("InvalidApprovalTokenException")
ApprovalAlreadyCompletedException = _error("ApprovalAlreadyCompletedException")
PipelineExecutionNotStoppableException = _error("PipelineExecutionNotStoppableException")
DuplicatedStopRequestException = _error("DuplicatedStopRequestException")
StageNotRetryableException = _error("StageNotRetryableException")
NotLatestPipelineExecutionException = _error("NotLatestPipelineExecutionException")
ConflictException = _error("ConflictException")
UnableToRollbackStageException = _error("UnableToRollbackStageException")
PipelineExecutionOutdatedException = _error("PipelineExecutionOutdatedException")
InvalidNextTokenException = _error("InvalidNextTokenException")
ConcurrentPipelineExecutionsLimitExceededException = _error("ConcurrentPipelineExecutionsLimitExceededException")
PipelineVersionNotFoundException = _error("PipelineVersionNotFoundException")
ConditionNotOverridableException = _error("ConditionNotOverridableException")
InvalidStageDeclarationException = _error("InvalidStageDeclarationException")


def constraint_error(field: str, value: object, constraint: str) -> CodePipelineError:
    """AWS's wording for a request member that breaks its model constraint (boto3 checks only some of them)."""
    shown = value if isinstance(value, str | int | float) else str(value)
    return ValidationException(
        f"1 validation error detected: Value '{shown}' at '{field}' failed to satisfy constraint: {constraint}"
    )


def check_length(field: str, value: str, low: int, high: int) -> None:
    if not low <= len(value) <= high:
        raise constraint_error(
            field, value, f"Member must have length greater than or equal to {low} and less than or equal to {high}"
        )


def check_pattern(field: str, value: str, pattern: str) -> None:
    if re.fullmatch(pattern, value) is None:
        raise constraint_error(field, value, f"Member must satisfy regular expression pattern: {pattern}")


def check_enum(field: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise constraint_error(field, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]")
    return value


def pipeline_not_found(account: str, name: str) -> CodePipelineError:
    return PipelineNotFoundException(f"Account '{account}' does not have a pipeline with name '{name}'")


def execution_not_found(account: str, pipeline: str, execution_id: str) -> CodePipelineError:
    return PipelineExecutionNotFoundException(
        f"Account '{account}' does not have an execution with id '{execution_id}' for pipeline '{pipeline}'"
    )


def stage_not_found(pipeline: str, stage: str) -> CodePipelineError:
    return StageNotFoundException(f"Stage '{stage}' was not found in pipeline '{pipeline}'")
