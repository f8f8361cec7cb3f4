"""What the calls of every AWS service in the gateway share: the one path to AWS, pages, receipts, refusals.

Each service the gateway speaks has a module here (`console/aws/codepipeline.py`, `console/aws/stepfunctions.py`)
with the conversion of its answers and its calls, as a subclass of `ServiceCalls`; `console.aws.gateway.Gateway`
inherits every service's calls and provides `_call` (the session, the clients, the budget, botocore's retries and
the translation of errors). Each service also declares which of its operations only read (`READS`: the read-only
allow-list is their union with the gateway's own plumbing) and which of its writes must never be sent twice
(`UNSAFE_TO_RESEND`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from console import model
from console.aws import convert
from console.aws.stats import CallStats
from console.errors import Refused


class CallOptions(Protocol):
    """What a service's calls read of the gateway's options (`console.aws.gateway.GatewayOptions`)."""

    @property
    def history_memory(self) -> int: ...


class ServiceCalls(ABC):
    """The base of one service's calls: what they may use of the gateway, and what they declare to it."""

    # The operations of this service a read-only gateway may send (an allow-list: a new one is refused until
    # someone decides it only reads).
    READS: ClassVar[frozenset[str]] = frozenset()
    # Writes that must not be sent again once they may have reached AWS (a read timeout, a dropped connection),
    # by botocore's service id: a second approval, stop or rollback would act twice, or fail as if someone else
    # had acted. botocore still retries them when AWS throttled them or the connection never opened.
    UNSAFE_TO_RESEND: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    target: model.Target
    stats: CallStats
    options: CallOptions

    @property
    @abstractmethod
    def read_only(self) -> bool:
        """Whether only the read-only allow-list (every service's `READS` and the gateway's own) may be sent."""

    @abstractmethod
    async def _call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """One API call (one request, plus botocore's retries) with errors translated."""

    def _refuse_if_read_only(self, operation: str) -> None:
        if self.read_only:
            raise Refused(
                f"Target {self.target.name} is read-only: {operation} was not sent. "
                "Run without --read-only (and without read_only in the target's config) to act."
            )

    def _receipt(
        self,
        operation: str,
        response: dict[str, Any],
        execution_id: str | None = None,
        effective: Any = None,
    ) -> model.Receipt:
        metadata = response.get("ResponseMetadata") or {}
        return model.Receipt(
            target=self.target.name,
            operation=operation,
            request_id=metadata.get("RequestId") or None,
            received=datetime.now(UTC),
            execution_id=execution_id,
            effective=convert.utc(effective),
        )

    # --- pagination ------------------------------------------------------------------------------------------

    async def _all_pages(self, service: str, operation: str, key: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            response = await self._call(service, operation, **params, **({"nextToken": token} if token else {}))
            items.extend(response.get(key) or ())
            token = response.get("nextToken")
            if not token or token in seen_tokens:  # a service that repeats a token would loop forever
                return items
            seen_tokens.add(token)

    async def _bounded_pages(
        self,
        service: str,
        operation: str,
        key: str,
        params: dict[str, Any],
        max_results: int,
        page_limit: int,
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        max_results = max(1, max_results)
        while len(items) < max_results:
            page = dict(params, maxResults=min(page_limit, max_results - len(items)))
            if token:
                page["nextToken"] = token
            response = await self._call(service, operation, **page)
            items.extend(response.get(key) or ())
            token = response.get("nextToken")
            if not token:
                break
        return items[:max_results]
