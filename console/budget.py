"""The client-side request budget: one token bucket per API of a target, well inside AWS's own buckets.

AWS throttles per account and region, and that budget is shared with everyone else using the account: CI,
the AWS console, other operators. So the console spends at most about half of what AWS grants (the smaller
regions' numbers, see AWS-NOTES.md), and when AWS throttles anyway it halves that API's rate at once and
wins it back slowly (additive increase, multiplicative decrease), the way TCP treats a congested link.

`await budget.acquire(api)` waits for a token and never fails; `budget.throttled(api)` reports that AWS
said "slow down". `budget.reserve(api)` takes a token for a request about to be sent, which its `acquire`
then finds waiting: the watcher's priority gate lets a read in only with a token in hand, so several
reads can be on the wire at once without any of them queueing inside the bucket ahead of what is on
screen. Time comes from an injectable `Clock`, so tests are exact without sleeping.

`budget.close(apis, seconds)` lets nothing of those APIs out until `budget.open(apis)` or the time is up:
a console joining a team waits until it has counted the team before it spends the account's burst as if
it were alone. The buckets stay full meanwhile, at whatever share the count then gives them.

Nothing here knows about AWS clients: the gateway calls `acquire` before every HTTP request it sends. The
gateway may send from a thread of its own (console/loop_thread.py) while the watcher reserves tokens on the
UI's loop, so the buckets' numbers change under one lock; `acquire` waits (on its own loop) outside it.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket's size (`burst`, requests that may go at once) and its refill (`per_second`)."""

    burst: float
    per_second: float

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_second <= 0:
            raise ValueError(f"a rate needs burst >= 1 and per_second > 0, got {self.burst}/{self.per_second}")


# What AWS grants in the smaller regions (burst / refill per second), for reference and for tests that
# check the defaults stay inside it. CodePipeline publishes no request rates.
AWS_RATES: Mapping[str, Rate] = {
    "GetExecutionHistory": Rate(400, 20),
    "DescribeExecution": Rate(250, 10),
    "ListExecutions": Rate(100, 2),
    "ListStateMachines": Rate(100, 5),
    "DescribeStateMachine": Rate(200, 20),
    "StopExecution": Rate(500, 25),
    "StartExecution": Rate(800, 150),
    "SendTaskSuccess": Rate(1500, 300),
    "SendTaskFailure": Rate(1500, 300),
    "SendTaskHeartbeat": Rate(1500, 300),
}

# Step Functions: about half of AWS_RATES (the account's budget is shared with CI, the AWS console and other
# operators).
#
# CodePipeline publishes no request rates, so its numbers are decisions, made from what is known:
#
# - ListPipelineExecutions (and GetPipeline, GetPipelineExecution, ListActionExecutions, read the same way)
#   stays conservative at a burst of 20 and 2/s: people hit "Rate exceeded" when a script lists the
#   executions of ~160 pipelines at once (aws-ia/terraform-aws-control_tower_account_factory#351), and the
#   watcher needs these only when a pipeline's version or executions change, one pipeline at a time. The
#   price: with 200 pipelines deploying at once the watcher lists executions at this limit (120 a minute,
#   benchmarks/core_refresh.py), so the executions of pipelines off screen may lag their stages a little.
# - GetPipelineState is the cheap read the watcher repeats for every pipeline. Its burst, 250, covers one
#   full refresh of a 200-pipeline account (what an operator does when the console opens, or with ctrl+r)
#   at the speed of the network; its refill, 10/s, is modest: a sequential script that loops over
#   GetPipelineState at the 50-100 ms a round trip takes does 10-20/s, and nothing says AWS throttles
#   that. At 10/s a 200-pipeline account is read every 20 s (every 50 s at 500 pipelines); the watcher
#   shares that between what is on screen and the rest (console/polling/gate.py) and tells staleness from
#   it (console/scheduler.py).
# - Every write, which a person triggers, 1/s; StartPipelineExecution is throttled above ~20 concurrent
#   calls (the same repository's #297 and #487).
#
# These are starting points, not promises: when AWS answers "Rate exceeded" anyway, the API's rate is
# halved at once and won back slowly (AimdPolicy below), so a wrong guess costs speed, never a failure.
DEFAULT_RATES: Mapping[str, Rate] = {
    # Step Functions
    "GetExecutionHistory": Rate(200, 10),
    "DescribeExecution": Rate(125, 5),
    "ListExecutions": Rate(50, 1),
    "ListStateMachines": Rate(50, 2),
    "DescribeStateMachine": Rate(100, 10),
    "StopExecution": Rate(250, 12),
    "StartExecution": Rate(400, 75),
    "RedriveExecution": Rate(20, 2),
    "SendTaskSuccess": Rate(750, 150),
    "SendTaskFailure": Rate(750, 150),
    "SendTaskHeartbeat": Rate(750, 150),
    # CodePipeline
    "GetPipelineState": Rate(250, 10),
    "ListPipelines": Rate(10, 1),
    "GetPipeline": Rate(20, 2),
    "ListPipelineExecutions": Rate(20, 2),
    "GetPipelineExecution": Rate(20, 2),
    "ListActionExecutions": Rate(20, 2),
    "PutApprovalResult": Rate(10, 1),
    "StopPipelineExecution": Rate(10, 1),
    "RetryStageExecution": Rate(10, 1),
    "RollbackStage": Rate(10, 1),
    "DisableStageTransition": Rate(10, 1),
    "EnableStageTransition": Rate(10, 1),
    "StartPipelineExecution": Rate(10, 1),
    # SQS (the push stream; SQS's own limits are far higher) and STS (cached by the gateway)
    "ReceiveMessage": Rate(20, 10),
    "DeleteMessageBatch": Rate(20, 10),
    "GetCallerIdentity": Rate(5, 1),
    # SNS: the reads a console shares with its team on the events topic (console/shared_reads.py), at most its
    # own read rate, which its share of the reads' buckets bounds (a team's together: under 30 a second, against
    # SNS's 300 a second for Publish in its smallest regions).
    "Publish": Rate(50, 25),
    "AssumeRole": Rate(5, 1),
}

# Anything not named above: small, so a new call shows up as slow rather than as throttled.
DEFAULT_RATE = Rate(10, 1)

# How often a caller waiting on a closed bucket asks again: `open` may come before the time is up.
CLOSED_RECHECK = 0.1


class Clock(Protocol):
    """Where the budget reads time and how it waits; tests pass one whose `sleep` only advances time."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class BucketState:
    """One API's bucket as the UI and tests read it."""

    api: str
    base: Rate
    per_second: float  # the current refill, below base.per_second after a throttle
    burst: float  # the current size, scaled down with the refill
    tokens: float
    throttles: int
    slowed: bool


@dataclass(frozen=True, slots=True)
class AimdPolicy:
    """How the budget reacts to AWS throttling.

    A throttle multiplies the refill by `decrease` (never below `floor` of the base), empties the bucket
    and holds that rate for `hold` seconds; then the refill grows by `recovery` of the base per second
    until it is back. Throttles within `cooldown` seconds of a cut are the same episode (several requests
    in flight all hear "slow down") and do not cut again.
    """

    decrease: float = 0.5
    floor: float = 0.05
    hold: float = 10.0
    recovery: float = 0.05
    cooldown: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.decrease < 1 or not 0 < self.floor <= 1 or self.recovery <= 0:
            raise ValueError("decrease in (0, 1), floor in (0, 1] and recovery > 0 are required")
        if self.hold < 0 or self.cooldown < 0:
            raise ValueError("hold and cooldown cannot be negative")


class _Bucket:
    """A token bucket whose refill can be cut and then recovers along a straight line."""

    def __init__(self, api: str, base: Rate, policy: AimdPolicy, now: float) -> None:
        self.api = api
        self.base = base
        self.policy = policy
        self.tokens = float(base.burst)
        self.updated = now
        self.cut_at: float | None = None
        self.cut_rate = base.per_second
        self.throttles = 0
        self.reserved = 0  # tokens taken by `Budget.reserve`, each waiting for the request it was taken for
        self.closed_until = -math.inf  # `Budget.close`: nothing is taken before this time
        self.lock = asyncio.Lock()

    # The refill as a function of time: cut_rate until cut_at + hold, then a ramp back up to the base.
    def _ramp(self) -> tuple[float, float]:
        assert self.cut_at is not None
        start = self.cut_at + self.policy.hold
        slope = self.policy.recovery * self.base.per_second
        end = start + (self.base.per_second - self.cut_rate) / slope
        return start, end

    def rate_at(self, t: float) -> float:
        if self.cut_at is None:
            return self.base.per_second
        start, end = self._ramp()
        if t <= start:
            return self.cut_rate
        if t >= end:
            return self.base.per_second
        return self.cut_rate + self.policy.recovery * self.base.per_second * (t - start)

    def capacity_at(self, t: float) -> float:
        # A slowed API may not burst at full size either: the burst shrinks with the refill.
        return max(1.0, self.base.burst * self.rate_at(t) / self.base.per_second)

    def _tokens_between(self, a: float, b: float) -> float:
        """Tokens refilled from a to b (the exact integral of the piecewise-linear refill)."""
        if b <= a:
            return 0.0
        if self.cut_at is None:
            return (b - a) * self.base.per_second
        start, end = self._ramp()
        total = 0.0
        for lo, hi in ((a, min(b, start)), (max(a, start), min(b, end)), (max(a, end), b)):
            if hi > lo:
                total += (hi - lo) * (self.rate_at(lo) + self.rate_at(hi)) / 2
        return total

    def settle(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity_at(now), self.tokens + self._tokens_between(self.updated, now))
            self.updated = now
        if self.cut_at is not None and now >= self._ramp()[1]:
            self.cut_at = None  # fully recovered
            self.cut_rate = self.base.per_second

    def wait_for_token(self, now: float) -> float:
        """Seconds until one token is there, assuming the refill does not change (it only grows); while the
        bucket is closed, until it is worth asking again."""
        if now < self.closed_until:
            return min(self.closed_until - now, CLOSED_RECHECK)
        missing = 1.0 - self.tokens
        return 0.0 if missing <= 0 else missing / self.rate_at(now)

    def take(self, now: float) -> bool:
        self.settle(now)
        if now < self.closed_until or self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def cut(self, now: float) -> None:
        self.settle(now)
        if self.cut_at is not None and now - self.cut_at < self.policy.cooldown:
            return
        self.throttles += 1
        current = self.rate_at(now)
        self.cut_rate = max(self.policy.floor * self.base.per_second, current * self.policy.decrease)
        self.cut_at = now
        self.tokens = min(self.tokens, 0.0)

    def rebase(self, base: Rate, now: float) -> None:
        """A new base rate (a share of the account's): the refill, a cut's rate and the tokens follow it."""
        self.settle(now)
        ratio = base.per_second / self.base.per_second
        self.base = base
        self.cut_rate = min(base.per_second, self.cut_rate * ratio)
        self.tokens = min(self.tokens, self.capacity_at(now))

    def state(self, now: float) -> BucketState:
        self.settle(now)
        return BucketState(
            api=self.api,
            base=self.base,
            per_second=self.rate_at(now),
            burst=self.capacity_at(now),
            tokens=self.tokens,
            throttles=self.throttles,
            slowed=self.cut_at is not None,
        )


class Budget:
    """Token buckets per API for one target (share one Budget between targets of the same account+region).

    `rates` overrides or extends `DEFAULT_RATES`; APIs named nowhere get `default`.
    """

    def __init__(
        self,
        rates: Mapping[str, Rate] | None = None,
        *,
        default: Rate = DEFAULT_RATE,
        policy: AimdPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._rates: dict[str, Rate] = {**DEFAULT_RATES, **(rates or {})}
        self._default = default
        self._policy = policy or AimdPolicy()
        self._clock: Clock = clock or SystemClock()
        self._buckets: dict[str, _Bucket] = {}
        self._shares: dict[str, float] = {}
        self._mutex = threading.RLock()  # the buckets' numbers (see the module docstring)

    def _base(self, api: str) -> Rate:
        rate = self._rates.get(api, self._default)
        share = self._shares.get(api, 1.0)
        if share >= 1.0:
            return rate
        return Rate(max(1.0, rate.burst * share), rate.per_second * share)

    def _bucket(self, api: str) -> _Bucket:
        bucket = self._buckets.get(api)
        if bucket is None:
            with self._mutex:
                bucket = self._buckets.get(api)
                if bucket is None:
                    bucket = _Bucket(api, self._base(api), self._policy, self._clock.monotonic())
                    self._buckets[api] = bucket
        return bucket

    def share(self, apis: Iterable[str], fraction: float) -> None:
        """Spend only `fraction` of these APIs' rates: several consoles of a team read one account, whose
        buckets they share. Each bucket's refill and size scale by it (its size never below one request);
        1.0 gives back the whole rate."""
        fraction = min(1.0, max(fraction, 0.001))
        with self._mutex:
            now = self._clock.monotonic()
            for api in apis:
                if self._shares.get(api, 1.0) == fraction:
                    continue
                self._shares[api] = fraction
                bucket = self._buckets.get(api)
                if bucket is not None:
                    bucket.rebase(self._base(api), now)

    def close(self, apis: Iterable[str], seconds: float) -> None:
        """Let nothing of these APIs out for `seconds`, or until `open`. What was reserved before still goes."""
        with self._mutex:
            until = self._clock.monotonic() + max(0.0, seconds)
            for api in apis:
                self._bucket(api).closed_until = until

    def open(self, apis: Iterable[str]) -> None:
        """End `close` for these APIs now."""
        with self._mutex:
            for api in apis:
                self._bucket(api).closed_until = -math.inf

    async def acquire(self, api: str) -> float:
        """Take one token for `api`, waiting as long as needed. Returns the seconds waited.

        Waiters of one API are served in arrival order (the bucket's lock is fair); cancelling a waiter
        takes no token.
        """
        bucket = self._bucket(api)
        with self._mutex:
            if bucket.reserved > 0:
                bucket.reserved -= 1  # taken for this request when the gate let it in
                return 0.0
        started = self._clock.monotonic()
        async with bucket.lock:
            while True:
                with self._mutex:
                    now = self._clock.monotonic()
                    if bucket.take(now):
                        return now - started
                    wait = bucket.wait_for_token(now)
                # A float refill can land a hair short of a whole token; never spin on a zero wait.
                await self._clock.sleep(max(wait, 1e-6))

    def try_acquire(self, api: str) -> bool:
        """Take a token only if one is there now (never waits)."""
        bucket = self._bucket(api)
        with self._mutex:
            if bucket.reserved > 0:
                bucket.reserved -= 1
                return True
            return self._take(bucket)

    def reserve(self, api: str) -> bool:
        """Take a token now, if one is there and nobody waits for one, for a request about to be sent: the
        next `acquire(api)` (or `try_acquire`) gets it without waiting. False when there is none."""
        bucket = self._bucket(api)
        with self._mutex:
            if not self._take(bucket):
                return False
            bucket.reserved += 1
            return True

    def unreserve(self, api: str, keep: int) -> None:
        """Give back the reserved tokens of `api` beyond `keep` (the requests still about to be sent): a
        caller let in that never sent its request must not leave a token that the bucket no longer counts."""
        bucket = self._bucket(api)
        with self._mutex:
            extra = bucket.reserved - max(0, keep)
            if extra > 0:
                bucket.reserved -= extra
                bucket.settle(self._clock.monotonic())
                bucket.tokens = min(bucket.capacity_at(bucket.updated), bucket.tokens + extra)

    def reserved(self, api: str) -> int:
        return self._bucket(api).reserved

    def _take(self, bucket: _Bucket) -> bool:
        if bucket.lock.locked():
            return False  # others are already waiting; do not jump the queue
        return bucket.take(self._clock.monotonic())

    def throttled(self, api: str) -> None:
        """AWS throttled `api` anyway: cut its refill now, then recover gradually."""
        bucket = self._bucket(api)
        with self._mutex:
            bucket.cut(self._clock.monotonic())

    def state(self, api: str) -> BucketState:
        bucket = self._bucket(api)
        with self._mutex:
            return bucket.state(self._clock.monotonic())

    def rate(self, api: str) -> float:
        """The current refill of `api` in requests per second."""
        return self.state(api).per_second

    def base_rate(self, api: str) -> Rate:
        return self._rates.get(api, self._default)

    def wait_time(self, api: str) -> float:
        """How long an `acquire` of `api` would wait if called now (0 when a token is there)."""
        bucket = self._bucket(api)
        with self._mutex:
            now = self._clock.monotonic()
            bucket.settle(now)
            return bucket.wait_for_token(now)

    def snapshot(self) -> dict[str, BucketState]:
        """Every bucket used so far, by API."""
        with self._mutex:
            now = self._clock.monotonic()
            return {api: bucket.state(now) for api, bucket in sorted(self._buckets.items())}

    @property
    def slowed(self) -> tuple[str, ...]:
        """The APIs currently running below their base rate because AWS throttled them."""
        return tuple(api for api, state in self.snapshot().items() if state.slowed)


def requests_within(rate: Rate, seconds: float) -> int:
    """The most requests a bucket of `rate` lets through in any window of `seconds` (for tests and notes)."""
    return math.floor(rate.burst + rate.per_second * seconds)
