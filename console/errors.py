"""The project's own errors. Screens and the CLI see these, never botocore's.

Every error carries a sentence an operator can act on. AWS errors keep AWS's code, message and request id
(`console/aws/errors.py` translates them at the edge).
"""

from __future__ import annotations


class WavedeckError(Exception):
    """Base of every error the console reports to a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(WavedeckError):
    """A file the user wrote (definitions, config) is wrong: names the file, line and key."""

    def __init__(self, file: str, line: int | None, key: str | None, problem: str) -> None:
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


class UsageError(WavedeckError):
    """A command was called wrongly (exit code 2)."""


class Refused(WavedeckError):
    """The action gate will not send: read-only, a precondition no longer holds, a bad reason, in flight."""


class AwsError(WavedeckError):
    """An AWS call failed. Keeps the operation, AWS's error code, message and request id."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        operation: str = "",
        request_id: str | None = None,
        target: str | None = None,
        answered: bool = True,
    ) -> None:
        # False when no answer came at all (connection refused, DNS, timeout): the whole target, not one API.
        self.answered = answered
        self.code = code
        self.operation = operation
        self.request_id = request_id
        self.target = target
        super().__init__(message)

    def __str__(self) -> str:
        return self._text(self.message)

    def without_target(self) -> str:
        """What `str()` says, less the "Target NAME: " the message starts with: for a line that names the target."""
        return self._text(self.message.removeprefix(f"Target {self.target}: ") if self.target else self.message)

    def _text(self, message: str) -> str:
        parts = [message]
        if self.code and self.code not in message:
            parts.insert(0, f"{self.code}:")
        if self.request_id:
            parts.append(f"(request id {self.request_id})")
        return " ".join(parts)


# Codes with which an AWS-compatible endpoint says it does not implement an operation at all.
NOT_IMPLEMENTED = frozenset({"NotImplemented", "UnknownOperationException", "InvalidAction", "501"})


def state_unavailable(exc: AwsError) -> bool:
    """Whether this error means the API cannot answer here (a server error, an operation the endpoint does
    not implement), so that the console reads around it, rather than a fault of the request or the caller."""
    return (isinstance(exc, Unavailable) and exc.answered) or exc.code in NOT_IMPLEMENTED


def one_line(exc: AwsError) -> str:
    """The error as one short line: code and message, without the request id."""
    text = exc.message if not exc.code or exc.code in exc.message else f"{exc.code}: {exc.message}"
    return " ".join(text.split())[:160]


class AccessDenied(AwsError):
    """The caller's identity may not do this."""


class NotFound(AwsError):
    """The pipeline, stage, execution or token does not exist (any more)."""


class Throttled(AwsError):
    """AWS said slow down. The watcher backs off; it never stops for this."""


class AlreadyDone(AwsError):
    """Someone else got there first: already approved, already stopping, already redriven."""


class InvalidInput(AwsError):
    """AWS refused the request's content (a bad reason, a stage that cannot be retried now)."""


class ExpiredCredentials(AwsError):
    """The session or SSO credentials ran out; the message says which command refreshes them."""


class Unavailable(AwsError):
    """The endpoint could not be reached (network, DNS, the sandbox is down)."""


class Conflict(AwsError):
    """The resource is busy with something else right now (a stage running, a concurrent change)."""


class NoCredentials(AwsError):
    """No AWS credentials were found anywhere botocore looks (or the named profile does not exist)."""
