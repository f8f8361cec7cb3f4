"""botocore's exceptions → the project's errors, at the edge (in the manner of s3fs's `translate_boto_error`).

Every translated error keeps AWS's code, message, operation and request id. AWS's text is passed through
unchanged and never interpreted: rendering it safely is the UI's job. Codes are classified by explicit
tables first (each entry considered: see the comments), then by their shape (`...NotFoundException`,
`Invalid...`), then by the HTTP status.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigParseError,
    ConnectionError,
    CredentialRetrievalError,
    HTTPClientError,
    InvalidConfigError,
    LoginError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    RefreshWithMFAUnsupportedError,
    SSOError,
    TokenRetrievalError,
)

from console.aws.credentials import CredentialSource, refresh_hint
from console.errors import (
    AccessDenied,
    AlreadyDone,
    AwsError,
    Conflict,
    ExpiredCredentials,
    InvalidInput,
    NoCredentials,
    NotFound,
    Throttled,
    Unavailable,
)

ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "AuthorizationError",
        "NotAuthorized",
        "KmsAccessDeniedException",
        "KmsAccessDenied",
        "OptInRequired",
    }
)

THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",  # SQS
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "KmsThrottlingException",
        "KmsThrottled",
        "TransactionInProgressException",
    }
)

# The credentials were refused as such: expired, or not (any more) valid. Either way the operator's move is
# the same, to refresh them.
EXPIRED = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "TokenRefreshRequired",
        "InvalidClientTokenId",  # STS: the key id is unknown (a deleted key, or a session token gone stale)
        "UnrecognizedClientException",  # JSON services: "The security token included in the request is invalid"
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "MissingAuthenticationToken",
        "IncompleteSignature",
    }
)

NOT_FOUND = frozenset(
    {
        "ResourceNotFound",
        "ResourceNotFoundException",
        "ExecutionDoesNotExist",
        "StateMachineDoesNotExist",
        "ActivityDoesNotExist",
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
        "NoSuchEntity",
    }
)

ALREADY_DONE = frozenset(
    {
        "ApprovalAlreadyCompletedException",
        # AWS documents this one as "the approval request already received a response or has expired": the
        # token belongs to an approval that is no longer waiting, whoever answered it.
        "InvalidApprovalTokenException",
        "DuplicatedStopRequestException",
        # Step Functions answers SendTask* for a token whose task already closed (answered, timed out, its
        # execution stopped) with one of these two.
        "TaskTimedOut",
        "TaskDoesNotExist",
        # StartExecution with a name already used (with other input): that execution exists already.
        "ExecutionAlreadyExists",
        "MessageNotInflight",
    }
)

INVALID_INPUT = frozenset(
    {
        "ValidationException",
        "ValidationError",
        "InvalidParameterValue",
        "InvalidParameterValueException",
        "InvalidParameterCombination",
        "InvalidParameterException",
        "InvalidInput",
        "MissingParameter",
        "MissingRequiredParameter",
        "SerializationException",
        "InvalidArn",
        "InvalidArnException",
        "InvalidName",
        "InvalidExecutionInput",
        "InvalidOutput",
        "InvalidDefinition",
        "InvalidToken",  # a malformed task token (an answered one is TaskTimedOut / TaskDoesNotExist)
        "InvalidNextTokenException",
        "InvalidStructureException",
        "ReceiptHandleIsInvalid",
        "InvalidIdFormat",
        "InvalidMessageContents",
        "InvalidAddress",
        "TooManyEntriesInBatchRequest",
        "EmptyBatchRequest",
        "BatchEntryIdsNotDistinct",
        "UnsupportedOperation",
        # The stage's actions are not (all) failed, or the pipeline changed while they waited: as sent, the
        # request cannot succeed; re-reading the stage says why.
        "StageNotRetryableException",
    }
)

CONFLICT = frozenset(
    {
        "ConflictException",
        "ConcurrentModificationException",
        "UnableToRollbackStageException",  # the stage is running, or the target execution is not eligible
        "NotLatestPipelineExecutionException",
        "PipelineExecutionNotStoppableException",  # already stopped or no longer in progress
        "PipelineExecutionOutdatedException",
        "ConditionNotOverridableException",
        "ExecutionNotRedrivable",  # still running, succeeded, or past the redrive window
        "StateMachineDeleting",
        "PurgeQueueInProgress",
        # Account limits reached right now (running executions, concurrent pipeline runs): like a busy
        # resource, they clear by themselves.
        "ConcurrentPipelineExecutionsLimitExceededException",
        "ExecutionLimitExceeded",
        "LimitExceededException",
        "ServiceQuotaExceededException",
    }
)

UNAVAILABLE = frozenset(
    {
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestFailedException",  # CodePipeline: "failed because of an unknown error"
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def error_code(error: ClientError) -> str:
    """AWS's error code; for SQS's query-compatible errors the short form (`QueueDoesNotExist`)."""
    response: Any = error.response
    details: dict[str, Any] = response.get("Error", {}) or {}
    return str(details.get("QueryErrorCode") or details.get("Code") or "")


def error_class(code: str, status: int | None = None) -> type[AwsError]:
    """Which of the project's errors an AWS error code (and HTTP status) means."""
    if code in THROTTLED:
        return Throttled
    if code in EXPIRED:
        return ExpiredCredentials
    if code in ACCESS_DENIED:
        return AccessDenied
    if code in ALREADY_DONE:
        return AlreadyDone
    if code in NOT_FOUND:
        return NotFound
    if code in CONFLICT:
        return Conflict
    if code in INVALID_INPUT:
        return InvalidInput
    if code in UNAVAILABLE:
        return Unavailable
    if code.endswith(("NotFoundException", "NotFound", "DoesNotExist")):
        return NotFound
    if code.startswith("Invalid"):
        return InvalidInput
    if status is not None:
        if status == 403:
            return AccessDenied
        if status == 404:
            return NotFound
        if status == 429:
            return Throttled
        if status >= 500:
            return Unavailable
    return AwsError


def is_throttle(code: str) -> bool:
    return code in THROTTLED


def translate(
    exc: BaseException,
    *,
    operation: str,
    target: str,
    source: Callable[[], CredentialSource],
) -> AwsError | None:
    """The project's error for a botocore (or network) exception raised while calling `operation`.

    None when `exc` did not come from botocore or the network (a bug: let it propagate as it is).
    `source` says where the target's credentials come from; it is asked only when they are the problem.
    """
    if isinstance(exc, ClientError):
        return _client_error(exc, operation=operation, target=target, source=source)
    common: dict[str, Any] = {"operation": operation, "target": target}
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return NoCredentials(no_credentials_message(target), code=type(exc).__name__, **common)
    if isinstance(exc, ProfileNotFound):
        return NoCredentials(
            f"Target {target}: the AWS profile {getattr(exc, 'kwargs', {}).get('profile', '')!s} is not in your "
            "AWS config or credentials file. Name an existing profile with --profile, or run with --sandbox.",
            code="ProfileNotFound",
            **common,
        )
    if isinstance(exc, TokenRetrievalError | SSOError | LoginError | CredentialRetrievalError):
        return ExpiredCredentials(
            f"Target {target}: AWS credentials could not be refreshed ({exc}). {refresh_hint(source())}",
            code=type(exc).__name__,
            **common,
        )
    if isinstance(exc, RefreshWithMFAUnsupportedError):
        return ExpiredCredentials(
            f"Target {target}: the role session needs a new MFA code ({exc}). Start wavedeck again to enter it.",
            code=type(exc).__name__,
            **common,
        )
    if isinstance(exc, ConnectionError | HTTPClientError | OSError | asyncio.TimeoutError):
        return Unavailable(
            f"Target {target}: cannot reach AWS for {operation}: {exc}",
            code=type(exc).__name__,
            answered=False,
            **common,
        )
    if isinstance(exc, ConfigParseError | InvalidConfigError):
        return AwsError(
            f"Target {target}: the AWS config file cannot be used: {exc}. Fix it; wavedeck reads it again on the "
            "next call.",
            code=type(exc).__name__,
            **common,
        )
    if isinstance(exc, ParamValidationError):
        return InvalidInput(str(exc), code="ParamValidation", **common)
    if isinstance(exc, BotoCoreError):
        return AwsError(f"Target {target}: {operation} failed: {exc}", code=type(exc).__name__, **common)
    if isinstance(exc, RuntimeError) and "credentials are still expired" in str(exc):
        # aiobotocore's refreshable credentials, when the refresh handed back credentials already expired.
        return ExpiredCredentials(f"Target {target}: {exc}. {refresh_hint(source())}", code="ExpiredToken", **common)
    return None


def no_credentials_message(target: str) -> str:
    return (
        f"Target {target}: no AWS credentials were found (looked in the AWS_* environment variables, the "
        "AWS config and credentials files, SSO and `aws login` sessions, credential_process, and container "
        "or instance roles). Configure a profile (`aws configure sso` or `aws configure`) and pass "
        "--profile, or run with --sandbox to try wavedeck on its embedded sandbox."
    )


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
SUMMARY_MAX = 300  # characters of an error's message kept: a sentence, never a page


def summarise(message: str, status: int | None) -> str:
    """AWS's own message as it is (rendering it is the UI's job); for an HTML page (a proxy's, a server's
    crash page) `HTTP 500: <its title>` on one line, never the page itself; for no message, the status."""
    looks_html = bool(re.match(r"\s*<(!doctype|html|head|body|\?xml)", message, re.IGNORECASE))
    if looks_html:
        found = _TITLE.search(message)
        title = found.group(1) if found else _TAG.sub(" ", message)
        text = " ".join(title.split()) or "an HTML page"
        text = f"HTTP {status}: {text}" if status else text
        return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"
    if status and message.strip().isdigit():
        return f"HTTP {status}"
    return message


def _client_error(exc: ClientError, *, operation: str, target: str, source: Callable[[], CredentialSource]) -> AwsError:
    response: Any = exc.response
    details: dict[str, Any] = response.get("Error", {}) or {}
    metadata: dict[str, Any] = response.get("ResponseMetadata", {}) or {}
    code = error_code(exc)
    status = metadata.get("HTTPStatusCode")
    message = str(details.get("Message") or details.get("message") or response.get("message") or code or exc)
    message = summarise(message, status if isinstance(status, int) else None)
    if code.isdigit():
        # Not AWS's answer (a proxy's or a server's error page): botocore names it by its HTTP status, which
        # the message now starts with.
        code = ""
    request_id = metadata.get("RequestId") or None
    cls = error_class(code, status if isinstance(status, int) else None)
    if cls is ExpiredCredentials:
        message = f"Target {target}: AWS refused the credentials ({message}). {refresh_hint(source())}"
    return cls(message, code=code, operation=operation or exc.operation_name, request_id=request_id, target=target)
