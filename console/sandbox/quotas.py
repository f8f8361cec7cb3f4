"""`wavedeck sandbox --quotas aws`: AWS's request throttling, per account, region and API.

AWS throttles each API with a token bucket shared by the whole account in a region: every console of an
on-call team, and the deployment tooling itself, draw from the same bucket. Against a sandbox that never
throttles, a console that would be throttled in production looks fine; with quotas on it is answered as AWS
answers, `ThrottlingException: Rate exceeded`, so its budget and its way of backing off are tested for real.

- Step Functions: the buckets AWS publishes (Step Functions developer guide, "Quotas related to API action
  throttling"), the larger ones in us-east-1, us-west-2 and eu-west-1.
- CodePipeline publishes none: the conservative buckets the console itself budgets for
  (`console/budget.py` DEFAULT_RATES), so a console that overspends its own budget is caught.
- The sandbox's own clients (seeding, traffic: access key `sandbox`) draw from the same buckets, as
  deployment tooling does, but are never refused: the fleet keeps moving.

`Quotas` is a WSGI middleware in front of moto, switched on once the sandbox is ready (seeding is not
throttled). `GET /wavedeck-api/quotas` answers what each bucket was asked and refused, for benchmarks.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.budget import DEFAULT_RATES

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

STATS_PATH = "/wavedeck-api/quotas"
SANDBOX_ACCESS_KEY = "sandbox"
BIG_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})

# Step Functions' published buckets: (size, refill per second) in the big regions | elsewhere.
STEP_FUNCTIONS_BUCKETS: Mapping[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "CreateStateMachine": ((100, 1), (100, 1)),
    "DeleteStateMachine": ((100, 1), (100, 1)),
    "DescribeExecution": ((300, 15), (250, 10)),
    "DescribeMapRun": ((200, 1), (200, 1)),
    "DescribeStateMachine": ((200, 20), (200, 20)),
    "DescribeStateMachineForExecution": ((200, 1), (200, 1)),
    "GetExecutionHistory": ((400, 20), (400, 20)),
    "ListExecutions": ((200, 5), (100, 2)),
    "ListMapRuns": ((100, 1), (100, 1)),
    "ListStateMachines": ((100, 5), (100, 5)),
    "ListTagsForResource": ((100, 1), (100, 1)),
    "RedriveExecution": ((1300, 300), (800, 150)),
    "SendTaskFailure": ((3000, 500), (1500, 300)),
    "SendTaskHeartbeat": ((3000, 500), (1500, 300)),
    "SendTaskSuccess": ((3000, 500), (1500, 300)),
    "StartExecution": ((1300, 300), (800, 150)),
    "StopExecution": ((1000, 200), (500, 25)),
    "UpdateStateMachine": ((200, 1), (200, 1)),
}
CODEPIPELINE_APIS = frozenset(
    {
        "GetPipelineState",
        "ListPipelines",
        "GetPipeline",
        "ListPipelineExecutions",
        "GetPipelineExecution",
        "ListActionExecutions",
        "PutApprovalResult",
        "StopPipelineExecution",
        "RetryStageExecution",
        "RollbackStage",
        "DisableStageTransition",
        "EnableStageTransition",
        "StartPipelineExecution",
    }
)
_TARGET_PREFIXES = {"AWSStepFunctions": "states", "CodePipeline_20150709": "codepipeline"}
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/")
_THROTTLED_BODY = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
# Each service's JSON protocol version, for the throttled answer's Content-Type.
_CONTENT_TYPES = {"states": "application/x-amz-json-1.0", "codepipeline": "application/x-amz-json-1.1"}


def bucket_for(service: str, api: str, region: str) -> tuple[float, float] | None:
    """(size, refill per second) of the bucket AWS keeps for `api` in `region`; None: not throttled here."""
    if service == "states":
        sizes = STEP_FUNCTIONS_BUCKETS.get(api)
        return None if sizes is None else sizes[0 if region in BIG_REGIONS else 1]
    if service == "codepipeline" and api in CODEPIPELINE_APIS:
        rate = DEFAULT_RATES[api]
        return (rate.burst, rate.per_second)
    return None


@dataclass
class Bucket:
    """One token bucket: full at first, refilled continuously, never above its size."""

    size: float
    refill: float
    tokens: float = -1.0
    at: float = 0.0
    asked: int = 0
    refused: int = 0
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.size
            self.at = self.started

    def take(self, now: float, *, may_refuse: bool) -> bool:
        """Take a token; False (refused) when there is none and the caller may be refused."""
        self.tokens = min(self.size, self.tokens + (now - self.at) * self.refill)
        self.at = now
        self.asked += 1
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        if not may_refuse:
            return True
        self.refused += 1
        return False


class Quotas:
    """Answers ThrottlingException, as AWS does, to a request whose API's bucket is empty, once started."""

    def __init__(self, app: WsgiApp, enabled: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.enabled = enabled
        self._clock = clock
        self._on = threading.Event()
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], Bucket] = {}

    def start(self) -> None:
        self._on.set()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH and environ.get("REQUEST_METHOD") == "GET":
            return self._answer_stats(start_response)
        refused_by = self._refused_by(environ) if self.enabled and self._on.is_set() else None
        if refused_by is not None:
            start_response(
                "400 Bad Request",
                [
                    ("Content-Type", _CONTENT_TYPES[refused_by]),
                    ("x-amzn-ErrorType", "ThrottlingException"),
                    ("x-amzn-RequestId", "wavedeck-sandbox-throttled"),
                    ("Content-Length", str(len(_THROTTLED_BODY))),
                ],
            )
            return [_THROTTLED_BODY]
        return self.app(environ, start_response)

    def _refused_by(self, environ: dict[str, Any]) -> str | None:
        """The service whose bucket refuses this request, or None when it may go on."""
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        prefix, _, api = target.partition(".")
        service = _TARGET_PREFIXES.get(prefix)
        scope = _SCOPE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        if service is None or not api or scope is None:
            return None
        access_key, region = scope.group(1), scope.group(2)
        sizes = bucket_for(service, api, region)
        if sizes is None:
            return None
        with self._lock:
            # The sandbox is one account: every caller in a region draws from that region's buckets.
            bucket = self._buckets.get((region, service, api))
            if bucket is None:
                bucket = self._buckets[(region, service, api)] = Bucket(*sizes, started=self._clock())
            admitted = bucket.take(self._clock(), may_refuse=access_key != SANDBOX_ACCESS_KEY)
        return None if admitted else service

    def stats(self) -> list[dict[str, Any]]:
        """Per bucket: its size and refill, how many requests it was asked and refused, and since when."""
        now = self._clock()
        with self._lock:
            return [
                {
                    "region": region,
                    "service": service,
                    "api": api,
                    "size": bucket.size,
                    "refill": bucket.refill,
                    "asked": bucket.asked,
                    "refused": bucket.refused,
                    "seconds": round(now - bucket.started, 3),
                }
                for (region, service, api), bucket in sorted(self._buckets.items())
            ]

    def _answer_stats(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = json.dumps({"enabled": self.enabled, "buckets": self.stats()}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
