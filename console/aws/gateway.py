"""The one gateway that owns the AWS session of a target: every AWS call of the console goes through here.

One `Gateway` per `Target`. Clients are opened once per service, on first use, and kept in an
`AsyncExitStack` (aiobotocore's "Context Manager Examples"); use the gateway as `async with Gateway(t) as
g:` or call `close()`. Each HTTP request (every page, every retry) first takes a token from the target's
`Budget` and is counted in `stats`; a throttled response cuts that API's rate. Pagination happens inside.
What comes out are the frozen dataclasses of `console.model`; what goes wrong comes out as the errors of
`console.errors` (see `console/aws/errors.py`), never as botocore's.

When credentials expire, the call fails with `ExpiredCredentials` saying what to run; the next call opens
a fresh session (re-reading the config files and the SSO cache), so the console carries on by itself.

`Gateway(target, io=LoopThread())` (console/loop_thread.py) keeps the clients on an event loop in a thread of
their own: every call is sent, retried, received and parsed there (botocore's parsing of a large answer takes
milliseconds of Python), and the caller awaits the result on its own loop, so the console's keys never wait behind
a response. Without `io` the clients live on the caller's loop. Either way, what the methods below return is the
same.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore import xform_name
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

from console import model
from console.aws import convert
from console.aws.calls import ServiceCalls
from console.aws.codepipeline import CodePipelineCalls
from console.aws.credentials import CredentialSource, describe_source, open_session
from console.aws.errors import is_throttle, translate
from console.aws.stats import CallStats
from console.aws.stepfunctions import StepFunctionsCalls
from console.aws.tls import SharedTlsSession
from console.budget import Budget
from console.errors import AwsError, ExpiredCredentials, NoCredentials, NotFound, Unavailable
from console.loop_thread import LoopThread, checkpoint

# The services the gateway speaks, by the name botocore loads them under.
SQS = "sqs"
SNS = "sns"
EVENTS = "events"
STS = "sts"

Hook = Callable[..., Any]
T = TypeVar("T")


class EveryServiceCalls(CodePipelineCalls, StepFunctionsCalls):
    """The services' calls the gateway is made of, one module each (`console/aws/codepipeline.py`, …): the one
    line of `console/aws` a new service adds its calls class to. Bases, not a list built at run time, so that
    mypy sees every service's calls on `Gateway` (each service package's reads protocol is checked against it)."""


# What each declares (its reads, its writes unsafe to resend) is gathered from those bases.
SERVICE_CALLS: tuple[type[ServiceCalls], ...] = tuple(
    base for base in EveryServiceCalls.__bases__ if issubclass(base, ServiceCalls)
)

# Writes that must not be sent again once they may have reached AWS, by botocore's service id.
UNSAFE_TO_RESEND: dict[str, tuple[str, ...]] = {
    service_id: operations for calls in SERVICE_CALLS for service_id, operations in calls.UNSAFE_TO_RESEND.items()
}


@dataclass(frozen=True, slots=True)
class GatewayOptions:
    """How the gateway's clients behave on the wire.

    `standard` retries (3 attempts, capped exponential backoff, a retry quota) rather than `adaptive`:
    the client-side rate limiting `adaptive` adds works per client (all of Step Functions at once), while
    the budget already slows exactly the API that AWS throttled. `read_timeout` stays above SQS's
    20-second long poll only for the SQS client.
    """

    retry_mode: str = "standard"
    max_attempts: int = 3
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    long_poll_read_timeout: float = 30.0
    max_pool_connections: int = 50
    history_memory: int = 512  # executions whose state names are remembered between history reads

    def client_config(self, service: str) -> AioConfig:
        return AioConfig(
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.long_poll_read_timeout if service == SQS else self.read_timeout,
            max_pool_connections=self.max_pool_connections,
            user_agent_extra="wavedeck",
            http_session_cls=SharedTlsSession,
        )


class _Connection:
    """One session with its clients. Replaced as a whole when credentials must be read again."""

    def __init__(self, session: AioSession, sessions: Sequence[AioSession]) -> None:
        self.session = session
        self.sessions = tuple(sessions)  # with an assumed role, the source session too
        self.stack = AsyncExitStack()
        self.clients: dict[str, Any] = {}
        self.opening: dict[str, asyncio.Lock] = {}
        self.in_flight = 0
        self.retired = False
        self.closed = False
        self.identity: model.Identity | None = None

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.clients.clear()
        with contextlib.suppress(Exception):
            await self.stack.aclose()


# What a read-only gateway may send: an allow-list, so an operation added later is refused until someone decides
# it only reads. DeleteMessageBatch only removes push messages already read from the console's own queue; the
# SQS and SNS calls after it create, keep and remove the queue a console subscribes to the events topic (push
# for a team), its own plumbing, never a deployment; Publish tells that topic's other consoles what this one
# read (`console/shared_reads.py`), never a deployment either; DescribeRule, ListTargetsByRule, ListTopics and
# GetTopicAttributes are what `setup-events --dry-run` reads. Each service's module lists its own reads
# (`ServiceCalls.READS`).
READ_OPERATIONS: frozenset[str] = frozenset().union(
    *(calls.READS for calls in SERVICE_CALLS),
    frozenset(
        {
            "GetCallerIdentity",
            "ReceiveMessage",
            "DeleteMessageBatch",
            "CreateQueue",
            "GetQueueAttributes",
            "SetQueueAttributes",
            "TagQueue",
            "ListQueueTags",
            "ListQueues",
            "DeleteQueue",
            "Subscribe",
            "Unsubscribe",
            "ListSubscriptionsByTopic",
            "Publish",
            "DescribeRule",
            "ListTargetsByRule",
            "ListTopics",
            "GetTopicAttributes",
        }
    ),
)


class Gateway(EveryServiceCalls):
    """The AWS session of one target: CodePipeline, Step Functions, SQS and STS, budgeted and counted.

    Each service's calls come from its module (a base of `EveryServiceCalls`, gathered in `SERVICE_CALLS`); what is
    common stays here: the session and its clients, the budget and counters, retries, errors, the allow-list.

    `read_only` (or the target's own `read_only`) refuses with `Refused` every operation not in `READ_OPERATIONS`
    before anything is sent; the action gate refuses first, this is defence in depth. `io`: the loop (thread)
    its clients live on (see the module docstring); None: the caller's.
    """

    options: GatewayOptions

    def __init__(
        self,
        target: model.Target,
        *,
        budget: Budget | None = None,
        options: GatewayOptions | None = None,
        read_only: bool = False,
        stats: CallStats | None = None,
        io: LoopThread | None = None,
    ) -> None:
        self.target = target
        self.io = io
        self.budget = budget if budget is not None else Budget()
        self.options = options or GatewayOptions()
        self.stats = stats if stats is not None else CallStats()
        self._read_only = read_only
        self._connection: _Connection | None = None
        self._retired: list[_Connection] = []
        self._connect_lock = asyncio.Lock()
        self._hooks: list[tuple[str, Hook, bool]] = []
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every client. The gateway cannot be used afterwards."""
        self._closed = True
        await self._on_io(self._close_connections())

    async def _close_connections(self) -> None:
        connections = [*self._retired, *([self._connection] if self._connection else [])]
        self._connection = None
        self._retired.clear()
        for connection in connections:
            await connection.close()

    @property
    def read_only(self) -> bool:
        return self._read_only or self.target.read_only

    @property
    def credential_source(self) -> CredentialSource:
        """Where this target's credentials come from, as far as its configuration says."""
        return describe_source(self.target)

    # --- hooks ----------------------------------------------------------------------------------------------

    def add_hook(self, event_name: str, handler: Hook, *, first: bool = False) -> None:
        """Register a botocore event handler on every client of this gateway, present and future.

        For tests and benchmarks: `before-send` handlers may return a crafted response (see
        `console/aws/faults.py`) or raise a connection error; `response-received` handlers see each
        answer. The handler stays through credential recoveries until `remove_hook`.
        """
        self._hooks.append((event_name, handler, first))
        connection = self._connection
        if connection is not None:
            for session in connection.sessions:
                _register(session.get_component("event_emitter"), event_name, handler, first)
            for client in connection.clients.values():
                _register(client.meta.events, event_name, handler, first)

    def remove_hook(self, event_name: str, handler: Hook) -> None:
        self._hooks = [h for h in self._hooks if not (h[0] == event_name and h[1] is handler)]
        for connection in [*self._retired, *([self._connection] if self._connection else [])]:
            for session in connection.sessions:
                session.get_component("event_emitter").unregister(event_name, handler)
            for client in connection.clients.values():
                client.meta.events.unregister(event_name, handler)

    def _prepare_session(self, session: AioSession) -> None:
        events = session.get_component("event_emitter")
        # The budget and the counters see every HTTP request, including pages and botocore's retries.
        events.register_first("before-send", self._before_send)
        events.register_first("response-received", self._response_received)
        # Parsing a large answer is one of the loop thread's longest steps: a claimed key goes first.
        events.register_first("before-parse", _parse_after_keys)
        for service_id, operations in UNSAFE_TO_RESEND.items():
            for operation in operations:
                # More specific than botocore's own `needs-retry.<service>` handler, so asked first.
                events.register_first(f"needs-retry.{service_id}.{operation}", _resend_only_if_safe)
        for event_name, handler, first in self._hooks:
            _register(events, event_name, handler, first)

    async def _before_send(self, event_name: str, **_: Any) -> None:
        api = event_name.rsplit(".", 1)[-1]
        waited = await self.budget.acquire(api)
        self.stats.waited += waited
        self.stats.sent(api)

    def _response_received(self, event_name: str, parsed_response: Any = None, exception: Any = None, **_: Any) -> None:
        api = event_name.rsplit(".", 1)[-1]
        if exception is not None:
            self.stats.errors[api] += 1
            return
        if not isinstance(parsed_response, dict) or "Error" not in parsed_response:
            return
        details = parsed_response.get("Error") or {}
        code = str(details.get("QueryErrorCode") or details.get("Code") or "")
        if not code:
            return
        self.stats.errors[api] += 1
        if is_throttle(code):
            self.stats.throttles[api] += 1
            self.budget.throttled(api)

    # --- connection -----------------------------------------------------------------------------------------

    async def _connect(self) -> _Connection:
        if self._closed:
            raise Unavailable(f"Target {self.target.name}: the gateway is closed.", target=self.target.name)
        connection = self._connection
        if connection is not None and not connection.retired:
            return connection
        async with self._connect_lock:
            connection = self._connection
            if connection is None or connection.retired:
                made: list[AioSession] = []

                def prepare(session: AioSession) -> None:
                    self._prepare_session(session)
                    made.append(session)

                session = open_session(self.target, self.options.client_config(STS), prepare)
                connection = _Connection(session, made)
                self._connection = connection
                self.stats.sessions += 1
            return connection

    async def _client(self, connection: _Connection, service: str) -> Any:
        client = connection.clients.get(service)
        if client is not None:
            return client
        lock = connection.opening.setdefault(service, asyncio.Lock())
        async with lock:
            client = connection.clients.get(service)
            if client is None:
                # Any: the stubs type create_client per literal service name; ours is a variable.
                create_client: Any = connection.session.create_client
                context = create_client(
                    service,
                    region_name=self.target.region,
                    endpoint_url=self.target.endpoint_url,
                    config=self.options.client_config(service),
                )
                client = await connection.stack.enter_async_context(context)
                connection.clients[service] = client
            return client

    def _retire(self, connection: _Connection) -> None:
        """Stop using this connection: the next call opens a new session that reads credentials afresh."""
        if connection.retired:
            return
        connection.retired = True
        self._retired.append(connection)

    async def _release(self, connection: _Connection) -> None:
        connection.in_flight -= 1
        if connection.retired and connection.in_flight == 0 and not connection.closed:
            await connection.close()
            if connection in self._retired:
                self._retired.remove(connection)

    async def _on_io(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` where the clients live: the `io` loop's thread, or here."""
        if self.io is None:
            return await coroutine
        return await self.io.run(coroutine)

    async def _call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """One API call (one request, plus botocore's retries) with errors translated.

        A read-only gateway sends only what `READ_OPERATIONS` allows, whichever method asks.
        """
        if operation not in READ_OPERATIONS:
            self._refuse_if_read_only(operation)
        return await self._on_io(self._send(service, operation, params))

    async def _send(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """`_call`'s request, where the clients live."""
        connection: _Connection | None = None
        try:
            connection = await self._connect()
            connection.in_flight += 1
            client = await self._client(connection, service)
            method: Callable[..., Awaitable[dict[str, Any]]] = getattr(client, xform_name(operation))
            # The watcher keeps what it reads for as long as the console runs: one copy of each text.
            answer: dict[str, Any] = convert.share_strings(await method(**params))
            if self.io is not None:
                # A key being handled and drawn goes before what this answer makes the watcher do
                # (console/loop_thread.py `Precedence`): the loop is seldom idle at 2,000 pipelines.
                self.io.precedence.wait()
            return answer
        except AwsError:
            raise
        except Exception as exc:
            error = translate(exc, operation=operation, target=self.target.name, source=lambda: self.credential_source)
            if error is None:
                raise
            if isinstance(error, ExpiredCredentials | NoCredentials) and connection is not None:
                self._retire(connection)
            raise error from exc
        finally:
            if connection is not None:
                await self._release(connection)

    # --- STS ------------------------------------------------------------------------------------------------

    async def caller_identity(self) -> model.Identity:
        """Who this target's credentials are (STS GetCallerIdentity), cached until credentials change."""
        connection = await self._on_io(self._connect_translated())
        if connection.identity is None:
            response = await self._call(STS, "GetCallerIdentity")
            identity = convert.identity(response)
            if self._connection is connection:
                connection.identity = identity
            return identity
        return connection.identity

    async def _connect_translated(self) -> _Connection:
        try:
            return await self._connect()
        except AwsError:
            raise
        except Exception as exc:
            error = translate(exc, operation="connect", target=self.target.name, source=lambda: self.credential_source)
            if error is None:
                raise
            raise error from exc

    # --- SQS (the push stream) ---------------------------------------------------------------------------------

    async def receive_messages(
        self, queue_url: str, wait_seconds: int = 20, max_messages: int = 10, visibility_timeout: int | None = None
    ) -> tuple[model.QueueMessage, ...]:
        """One long poll of the queue (at most `wait_seconds`, up to 10 messages)."""
        params: dict[str, Any] = {
            "QueueUrl": queue_url,
            "WaitTimeSeconds": max(0, min(wait_seconds, 20)),
            "MaxNumberOfMessages": max(1, min(max_messages, 10)),
            "MessageSystemAttributeNames": ["SentTimestamp", "ApproximateReceiveCount"],
        }
        if visibility_timeout is not None:
            params["VisibilityTimeout"] = visibility_timeout
        response = await self._call(SQS, "ReceiveMessage", **params)
        return tuple(convert.queue_message(item) for item in response.get("Messages") or ())

    async def delete_messages(self, queue_url: str, receipts: Sequence[str]) -> tuple[str, ...]:
        """Delete consumed messages (batches of 10). Returns the receipt handles that could not be deleted.

        Not refused in read-only mode: consuming the console's own event queue changes no deployment.
        """
        failed: list[str] = []
        for start in range(0, len(receipts), 10):
            batch = list(receipts[start : start + 10])
            entries = [{"Id": str(i), "ReceiptHandle": handle} for i, handle in enumerate(batch)]
            response = await self._call(SQS, "DeleteMessageBatch", QueueUrl=queue_url, Entries=entries)
            failed.extend(batch[int(item["Id"])] for item in response.get("Failed") or ())
        return tuple(failed)

    # --- The console's own events queue (push for a team: an SNS topic fans out to one queue per console) -----
    # Not refused in read-only mode: the queue and its subscription are the console's own plumbing, created
    # and removed by the console itself; no deployment changes.

    async def create_queue(self, name: str, attributes: dict[str, str], tags: dict[str, str]) -> str:
        """Create an SQS queue (or find the same one again: CreateQueue is idempotent); its URL."""
        response = await self._call(SQS, "CreateQueue", QueueName=name, Attributes=attributes, tags=tags)
        return str(response["QueueUrl"])

    async def queue_arn(self, queue_url: str) -> str:
        response = await self._call(SQS, "GetQueueAttributes", QueueUrl=queue_url, AttributeNames=["QueueArn"])
        return str(response["Attributes"]["QueueArn"])

    async def set_queue_policy(self, queue_url: str, policy: str) -> None:
        await self._call(SQS, "SetQueueAttributes", QueueUrl=queue_url, Attributes={"Policy": policy})

    async def tag_queue(self, queue_url: str, tags: dict[str, str]) -> None:
        await self._call(SQS, "TagQueue", QueueUrl=queue_url, Tags=tags)

    async def queue_tags(self, queue_url: str) -> dict[str, str]:
        response = await self._call(SQS, "ListQueueTags", QueueUrl=queue_url)
        return {str(k): str(v) for k, v in (response.get("Tags") or {}).items()}

    async def list_queues(self, prefix: str) -> tuple[str, ...]:
        """The URLs of the queues whose names start with `prefix` (every page)."""
        urls: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"QueueNamePrefix": prefix, "MaxResults": 1000}
            if token:
                params["NextToken"] = token
            response = await self._call(SQS, "ListQueues", **params)
            urls.extend(str(url) for url in response.get("QueueUrls") or ())
            token = response.get("NextToken")
            if not token:
                return tuple(urls)

    async def delete_queue(self, queue_url: str) -> None:
        await self._call(SQS, "DeleteQueue", QueueUrl=queue_url)

    async def subscribe_queue(self, topic_arn: str, queue_arn: str) -> str:
        """Subscribe the queue to the topic with raw message delivery (the event itself, no SNS envelope)."""
        response = await self._call(
            SNS,
            "Subscribe",
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True,
        )
        return str(response["SubscriptionArn"])

    async def publish(self, topic_arn: str, message: str, /) -> None:
        """Publish a message to the topic (a read this console shares with its team, `console/shared_reads.py`)."""
        await self._call(SNS, "Publish", TopicArn=topic_arn, Message=message)

    async def unsubscribe(self, subscription_arn: str) -> None:
        await self._call(SNS, "Unsubscribe", SubscriptionArn=subscription_arn)

    async def topic_subscriptions(self, topic_arn: str) -> tuple[tuple[str, str], ...]:
        """(subscription ARN, endpoint) of every subscription of the topic (every page)."""
        found: list[tuple[str, str]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"TopicArn": topic_arn}
            if token:
                params["NextToken"] = token
            response = await self._call(SNS, "ListSubscriptionsByTopic", **params)
            found.extend(
                (str(item.get("SubscriptionArn", "")), str(item.get("Endpoint", "")))
                for item in response.get("Subscriptions") or ()
            )
            token = response.get("NextToken")
            if not token:
                return tuple(found)

    # --- The account's events plumbing (`wavedeck setup-events`): refused in read-only mode ---------------------

    async def events_rule(self, name: str) -> dict[str, Any] | None:
        """The EventBridge rule on the default bus (DescribeRule), or None when there is none."""
        try:
            return await self._call(EVENTS, "DescribeRule", Name=name)
        except NotFound:
            return None

    async def put_events_rule(self, name: str, pattern: str, description: str) -> str:
        self._refuse_if_read_only("PutRule")
        response = await self._call(
            EVENTS, "PutRule", Name=name, EventPattern=pattern, State="ENABLED", Description=description
        )
        return str(response["RuleArn"])

    async def events_rule_targets(self, name: str) -> tuple[str, ...]:
        """The ARNs the rule sends to."""
        response = await self._call(EVENTS, "ListTargetsByRule", Rule=name)
        return tuple(str(t.get("Arn", "")) for t in response.get("Targets") or ())

    async def add_events_rule_target(self, name: str, target_id: str, arn: str) -> None:
        self._refuse_if_read_only("PutTargets")
        response = await self._call(EVENTS, "PutTargets", Rule=name, Targets=[{"Id": target_id, "Arn": arn}])
        for failure in response.get("FailedEntries") or ():
            raise AwsError(
                str(failure.get("ErrorMessage", "PutTargets failed")), code=str(failure.get("ErrorCode", ""))
            )

    async def topic_named(self, name: str) -> str | None:
        """The ARN of this region's SNS topic called `name` (every page of ListTopics), or None."""
        token: str | None = None
        while True:
            response = await self._call(SNS, "ListTopics", **({"NextToken": token} if token else {}))
            for topic in response.get("Topics") or ():
                arn = str(topic.get("TopicArn", ""))
                if arn.rsplit(":", 1)[-1] == name:
                    return arn
            token = response.get("NextToken")
            if not token:
                return None

    async def create_topic(self, name: str) -> str:
        self._refuse_if_read_only("CreateTopic")
        response = await self._call(SNS, "CreateTopic", Name=name)
        return str(response["TopicArn"])

    async def topic_policy(self, topic_arn: str) -> str | None:
        response = await self._call(SNS, "GetTopicAttributes", TopicArn=topic_arn)
        policy = (response.get("Attributes") or {}).get("Policy")
        return str(policy) if policy else None

    async def set_topic_policy(self, topic_arn: str, policy: str) -> None:
        self._refuse_if_read_only("SetTopicAttributes")
        await self._call(SNS, "SetTopicAttributes", TopicArn=topic_arn, AttributeName="Policy", AttributeValue=policy)


def _parse_after_keys(**_: Any) -> None:
    """botocore's `before-parse`: on the loop thread, a key claimed meanwhile goes before the parse
    (console/loop_thread.py `checkpoint`)."""
    checkpoint()


def _resend_only_if_safe(response: Any = None, caught_exception: Any = None, **_: Any) -> bool | None:
    """botocore's `needs-retry` for a write: None lets botocore decide, False forbids the retry."""
    if caught_exception is not None:
        return None if isinstance(caught_exception, EndpointConnectionError | ConnectTimeoutError) else False
    if response is None:
        return None
    parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else {}
    details = parsed.get("Error") if isinstance(parsed, dict) else None
    if not details:
        return None
    return None if is_throttle(str(details.get("QueryErrorCode") or details.get("Code") or "")) else False


def _register(events: Any, event_name: str, handler: Hook, first: bool) -> None:
    if first:
        events.register_first(event_name, handler)
    else:
        events.register(event_name, handler)


__all__ = ["Gateway", "GatewayOptions"]
