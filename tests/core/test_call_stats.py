"""The gateway's counters: the timeline of requests keeps the newest ones, in order, in little memory."""

from __future__ import annotations

import tracemalloc

from console.aws.stats import TIMELINE, CallStats, Timeline


def test_the_timeline_keeps_the_newest_requests_oldest_first() -> None:
    timeline = Timeline(size=4)
    for moment, api in enumerate(["GetPipelineState", "GetPipeline", "GetPipelineState", "ListExecutions", "X", "Y"]):
        timeline.append(float(moment), api)
    assert len(timeline) == 4
    assert list(timeline) == [(2.0, "GetPipelineState"), (3.0, "ListExecutions"), (4.0, "X"), (5.0, "Y")]
    timeline.clear()
    assert len(timeline) == 0
    assert list(timeline) == []


def test_call_stats_time_every_request() -> None:
    moments = iter([10.0, 11.5])
    stats = CallStats(clock=lambda: next(moments))
    stats.sent("GetPipelineState")
    stats.sent("ListPipelines")
    assert stats.requests == {"GetPipelineState": 1, "ListPipelines": 1}
    assert list(stats.timeline) == [(10.0, "GetPipelineState"), (11.5, "ListPipelines")]


def test_a_full_timeline_takes_about_ten_bytes_a_request() -> None:
    # Every gateway keeps one for as long as the console runs: 8 targets held 7 MB of (time, api) tuples.
    apis = [f"Api{n}" for n in range(20)]
    tracemalloc.start()
    try:
        stats = CallStats()
        for n in range(TIMELINE * 2):
            stats.sent(apis[n % len(apis)])
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(stats.timeline) == TIMELINE
    assert held < 12 * TIMELINE + 20_000, f"{held} bytes for {TIMELINE} requests"
