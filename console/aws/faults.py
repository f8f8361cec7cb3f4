"""Faults to inject into a gateway's requests, for tests and benchmarks: AWS errors and lost connections.

A `Fault` is a botocore `before-send` handler. Registered with `gateway.add_hook("before-send", fault)`,
it answers matching requests itself, with a crafted AWS error response in the service's own protocol (JSON
for CodePipeline, Step Functions and SQS; XML for STS), or raises a connection error, so everything after
the wire (parsing, botocore's retries, the budget's reaction, the gateway's translation) runs for real.

    fault = Fault.aws_error("ThrottlingException", "Rate exceeded", operations={"GetPipelineState"}, times=3)
    gateway.add_hook("before-send", fault)

`operations` are AWS operation names; `services` are botocore service ids (codepipeline, sfn, sqs, sts);
`when` tests the signed request itself (e.g. its access key). `fault.active = False` or
`gateway.remove_hook("before-send", fault)` stops it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from aiobotocore.awsrequest import AioAWSResponse
from botocore.awsrequest import HTTPHeaders
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError


class _Body:
    """The raw stream aiobotocore reads a response body from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def read(self, *_: Any) -> bytes:
        data, self._data = self._data, b""
        return data


@dataclass(eq=False)  # compared (and hashed) by identity: botocore keeps handlers in dicts
class Fault:
    """Answers (or breaks) matching requests. `times=None` means every time; `active` switches it.

    kind: "error" (an AWS error response), "connection" (EndpointConnectionError), "connect-timeout",
    "read-timeout". `injected` counts the requests it answered.
    """

    kind: str
    code: str = ""
    message: str = ""
    status: int = 400
    request_id: str = "wavedeck-fault-0000"
    operations: Collection[str] | None = None
    services: Collection[str] | None = None
    times: int | None = None
    when: Callable[[Any], bool] | None = None  # a further test on the (signed) request
    active: bool = True
    injected: int = 0
    seen: list[str] = field(default_factory=list)

    @classmethod
    def aws_error(
        cls,
        code: str,
        message: str = "",
        *,
        status: int = 400,
        request_id: str = "wavedeck-fault-0000",
        operations: Collection[str] | None = None,
        services: Collection[str] | None = None,
        times: int | None = None,
        when: Callable[[Any], bool] | None = None,
    ) -> Fault:
        return cls(
            "error",
            code=code,
            message=message or code,
            status=status,
            request_id=request_id,
            operations=operations,
            services=services,
            times=times,
            when=when,
        )

    @classmethod
    def connection_error(
        cls,
        kind: str = "connection",
        *,
        operations: Collection[str] | None = None,
        services: Collection[str] | None = None,
        times: int | None = None,
        when: Callable[[Any], bool] | None = None,
    ) -> Fault:
        return cls(kind, operations=operations, services=services, times=times, when=when)

    def matches(self, service: str, operation: str, request: Any = None) -> bool:
        if not self.active or (self.times is not None and self.injected >= self.times):
            return False
        if self.operations is not None and operation not in self.operations:
            return False
        if self.services is not None and service not in self.services:
            return False
        return self.when is None or bool(self.when(request))

    def __call__(self, request: Any, event_name: str, **_: Any) -> AioAWSResponse | None:
        # event_name is "before-send.<service id>.<Operation>"
        service, operation = event_name.split(".", 2)[1:]
        self.seen.append(operation)
        if not self.matches(service, operation, request):
            return None
        self.injected += 1
        if self.kind == "connection":
            raise EndpointConnectionError(endpoint_url=request.url)
        if self.kind == "connect-timeout":
            raise ConnectTimeoutError(endpoint_url=request.url)
        if self.kind == "read-timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        return self._response(service, request.url)

    def _response(self, service: str, url: str) -> AioAWSResponse:
        headers = HTTPHeaders()
        headers["x-amzn-RequestId"] = self.request_id
        if service == "sts":
            body = (
                "<ErrorResponse><Error><Type>Sender</Type>"
                f"<Code>{escape(self.code)}</Code><Message>{escape(self.message)}</Message>"
                f"</Error><RequestId>{escape(self.request_id)}</RequestId></ErrorResponse>"
            ).encode()
            headers["Content-Type"] = "text/xml"
        else:
            body = json.dumps({"__type": self.code, "message": self.message}).encode()
            headers["Content-Type"] = "application/x-amz-json-1.1"
            headers["x-amzn-ErrorType"] = self.code
        headers["Content-Length"] = str(len(body))
        return AioAWSResponse(url, self.status, headers, _Body(body))
