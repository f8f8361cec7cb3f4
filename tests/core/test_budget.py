"""The request budget: bucket sizes and refills, waiting, AIMD on throttling, all on a fake clock (no sleeping)."""

from __future__ import annotations

import asyncio

import pytest

from console.budget import (
    AWS_RATES,
    DEFAULT_RATE,
    DEFAULT_RATES,
    AimdPolicy,
    Budget,
    Rate,
    requests_within,
)


class FakeClock:
    """Time that moves only when someone sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_the_defaults_stay_at_or_under_half_of_what_aws_grants() -> None:
    for api, aws in AWS_RATES.items():
        ours = DEFAULT_RATES[api]
        assert ours.burst <= aws.burst / 2, api
        assert ours.per_second <= aws.per_second / 2, api
    assert DEFAULT_RATES["ListExecutions"] == Rate(50, 1)
    assert DEFAULT_RATES["GetExecutionHistory"] == Rate(200, 10)
    assert DEFAULT_RATES["DescribeExecution"] == Rate(125, 5)
    assert DEFAULT_RATES["ListStateMachines"] == Rate(50, 2)
    assert DEFAULT_RATES["DescribeStateMachine"] == Rate(100, 10)


def test_a_rate_must_make_sense() -> None:
    with pytest.raises(ValueError, match="burst"):
        Rate(0, 1)
    with pytest.raises(ValueError, match="per_second"):
        Rate(5, 0)


async def test_a_full_bucket_lets_its_burst_through_then_refills_at_its_rate(clock: FakeClock) -> None:
    budget = Budget({"ListExecutions": Rate(3, 2)}, clock=clock)
    for _ in range(3):
        assert await budget.acquire("ListExecutions") == 0
    assert clock.sleeps == []
    assert await budget.acquire("ListExecutions") == pytest.approx(0.5)
    assert await budget.acquire("ListExecutions") == pytest.approx(0.5)
    assert clock.now == pytest.approx(1001.0)
    # Idle time refills, but never beyond the burst.
    clock.advance(60)
    assert budget.state("ListExecutions").tokens == pytest.approx(3)


async def test_waiters_of_one_api_are_served_in_order_and_never_overdraw(clock: FakeClock) -> None:
    budget = Budget({"DescribeExecution": Rate(2, 4)}, clock=clock)
    finished: list[tuple[int, float]] = []

    async def one(index: int) -> None:
        await budget.acquire("DescribeExecution")
        finished.append((index, clock.now))

    await asyncio.gather(*(one(i) for i in range(10)))
    assert [i for i, _ in finished] == list(range(10))
    # 2 at once, then one every 0.25 s: 10 requests take 2 s, so no window of 1 s holds more than 2 + 4.
    assert finished[-1][1] - 1000.0 == pytest.approx(2.0)
    times = [t for _, t in finished]
    for start in times:
        assert sum(1 for t in times if start <= t < start + 1.0 - 1e-9) <= requests_within(Rate(2, 4), 1.0)


async def test_apis_have_separate_buckets_and_unknown_apis_get_the_default(clock: FakeClock) -> None:
    budget = Budget({"A": Rate(1, 1)}, clock=clock)
    await budget.acquire("A")
    assert budget.wait_time("A") == pytest.approx(1.0)
    assert budget.wait_time("B") == 0
    assert budget.base_rate("Unheard") == DEFAULT_RATE
    for _ in range(int(DEFAULT_RATE.burst)):
        assert budget.try_acquire("Unheard")
    assert not budget.try_acquire("Unheard")
    assert set(budget.snapshot()) == {"A", "B", "Unheard"}


async def test_a_throttle_halves_the_rate_empties_the_bucket_and_recovers_gradually(clock: FakeClock) -> None:
    policy = AimdPolicy(decrease=0.5, hold=10, recovery=0.05, cooldown=2)
    budget = Budget({"ListExecutions": Rate(50, 2)}, policy=policy, clock=clock)
    budget.throttled("ListExecutions")
    state = budget.state("ListExecutions")
    assert state.per_second == 1.0
    assert state.burst == 25.0  # the burst shrinks with the refill
    assert state.tokens == 0
    assert state.slowed
    assert state.throttles == 1
    assert budget.slowed == ("ListExecutions",)
    # The next request waits for the slower refill.
    assert await budget.acquire("ListExecutions") == pytest.approx(1.0)
    # Held for 10 s after the cut, then +0.1/s per second (5% of the base) back to 2/s.
    clock.now = 1000.0 + 10.0
    assert budget.rate("ListExecutions") == pytest.approx(1.0)
    clock.now = 1000.0 + 15.0
    assert budget.rate("ListExecutions") == pytest.approx(1.5)
    clock.now = 1000.0 + 20.0
    assert budget.rate("ListExecutions") == pytest.approx(2.0)
    assert not budget.state("ListExecutions").slowed
    assert budget.slowed == ()


async def test_tokens_refill_along_the_recovering_rate_exactly(clock: FakeClock) -> None:
    budget = Budget({"X": Rate(100, 2)}, policy=AimdPolicy(hold=10, recovery=0.05), clock=clock)
    budget.throttled("X")  # 1/s for 10 s, then 1 → 2 over the next 10 s
    clock.advance(20)
    # 10 s at 1/s + 10 s averaging 1.5/s = 25 tokens.
    assert budget.state("X").tokens == pytest.approx(25.0)


async def test_throttles_of_one_episode_cut_once_and_later_ones_cut_again(clock: FakeClock) -> None:
    budget = Budget({"X": Rate(10, 8)}, policy=AimdPolicy(decrease=0.5, floor=0.1, cooldown=2, hold=100), clock=clock)
    for _ in range(5):  # five requests in flight all hear "slow down"
        budget.throttled("X")
    assert budget.rate("X") == 4.0
    clock.advance(3)
    budget.throttled("X")
    assert budget.rate("X") == 2.0
    for _ in range(10):
        clock.advance(3)
        budget.throttled("X")
    assert budget.rate("X") == pytest.approx(0.8)  # never below the floor (10% of 8/s)
    assert budget.state("X").throttles == 12


async def test_a_cancelled_waiter_takes_no_token(clock: FakeClock) -> None:
    budget = Budget({"X": Rate(1, 1)}, clock=clock)
    await budget.acquire("X")
    gate = asyncio.Event()

    async def blocked_sleep(seconds: float) -> None:
        await gate.wait()

    clock.sleep = blocked_sleep  # type: ignore[method-assign]
    waiter = asyncio.create_task(budget.acquire("X"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    clock.advance(1)
    assert budget.try_acquire("X")


def test_policy_values_are_checked() -> None:
    with pytest.raises(ValueError, match="decrease"):
        AimdPolicy(decrease=1.5)
    with pytest.raises(ValueError, match="hold"):
        AimdPolicy(hold=-1)


def test_codepipeline_rates_cover_a_full_refresh_and_stay_conservative_where_throttling_was_seen() -> None:
    # One full refresh of a 200-pipeline account at once, then a modest refill.
    assert DEFAULT_RATES["GetPipelineState"] == Rate(250, 10)
    # Listing executions of ~160 pipelines at once was throttled: small burst, slow refill.
    for api in ("ListPipelineExecutions", "GetPipeline"):
        assert DEFAULT_RATES[api] == Rate(20, 2)


async def test_a_reserved_token_waits_for_its_request(clock: FakeClock) -> None:
    budget = Budget({"X": Rate(2, 1)}, clock=clock)
    assert budget.reserve("X")
    assert budget.reserve("X")
    assert not budget.reserve("X")  # the bucket is empty: nothing more to reserve
    assert budget.state("X").tokens == 0
    # The requests they were taken for go at once, without waiting for the refill.
    assert await budget.acquire("X") == 0
    assert budget.try_acquire("X")
    assert budget.reserved("X") == 0
    assert await budget.acquire("X") == pytest.approx(1.0)


async def test_reservations_nobody_used_go_back_to_the_bucket(clock: FakeClock) -> None:
    budget = Budget({"X": Rate(3, 1)}, clock=clock)
    for _ in range(3):
        assert budget.reserve("X")
    await budget.acquire("X")  # one was used
    budget.unreserve("X", keep=1)  # one caller is still about to send: the other one comes back
    assert budget.reserved("X") == 1
    assert budget.state("X").tokens == pytest.approx(1.0)
    budget.unreserve("X", keep=0)
    assert budget.reserved("X") == 0
    assert budget.state("X").tokens == pytest.approx(2.0)  # never beyond the burst, never lost


async def test_a_team_share_scales_the_named_buckets_and_gives_them_back(clock: FakeClock) -> None:
    budget = Budget({"GetPipelineState": Rate(250, 10), "PutApprovalResult": Rate(10, 1)}, clock=clock)
    await budget.acquire("GetPipelineState")  # the bucket exists before the team is known
    budget.share(["GetPipelineState"], 0.9 / 20)
    state = budget.state("GetPipelineState")
    assert state.per_second == pytest.approx(0.45)
    assert state.burst == pytest.approx(250 * 0.045)
    assert state.tokens <= state.burst
    assert budget.rate("GetPipelineState") == pytest.approx(0.45)
    assert budget.state("PutApprovalResult").per_second == 1  # a person's writes are never split
    # A throttle still halves the shared rate; the whole rate comes back with a share of 1.
    budget.throttled("GetPipelineState")
    assert budget.rate("GetPipelineState") == pytest.approx(0.225)
    budget.share(["GetPipelineState"], 1.0)
    assert budget.state("GetPipelineState").base == Rate(250, 10)
    clock.advance(600)
    assert budget.rate("GetPipelineState") == pytest.approx(10)


async def test_a_closed_bucket_lets_nothing_out_until_opened_and_stays_full(clock: FakeClock) -> None:
    budget = Budget({"GetPipeline": Rate(20, 2)}, clock=clock)
    assert budget.reserve("GetPipeline")
    budget.close(["GetPipeline"], 10.0)
    assert not budget.reserve("GetPipeline")
    assert budget.try_acquire("GetPipeline")  # the one reserved before it closed still goes
    assert not budget.try_acquire("GetPipeline")
    assert 0 < budget.wait_time("GetPipeline") <= 0.1  # asked again soon: `open` may come early
    waiter = asyncio.create_task(budget.acquire("GetPipeline"))
    clock.advance(3)
    await asyncio.sleep(0)
    assert not waiter.done()
    # A team counted meanwhile: its share applies to a bucket that spent nothing.
    budget.share(["GetPipeline"], 0.25)
    budget.open(["GetPipeline"])
    assert await asyncio.wait_for(waiter, 1) < 4
    assert budget.state("GetPipeline").tokens == pytest.approx(20 * 0.25 - 1)  # its whole share, less this one
    assert budget.state("GetPipelineState").tokens == 250  # others were never closed


async def test_a_closed_bucket_opens_by_itself_when_its_time_is_up(clock: FakeClock) -> None:
    budget = Budget({"GetPipeline": Rate(20, 2)}, clock=clock)
    budget.close(["GetPipeline"], 2.0)
    started = clock.now
    await asyncio.wait_for(budget.acquire("GetPipeline"), 1)
    assert clock.now - started == pytest.approx(2.0)
    assert budget.reserve("GetPipeline")
