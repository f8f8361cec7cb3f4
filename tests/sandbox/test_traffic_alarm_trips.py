"""The traffic trips alarms during bakes at a seeded chance, so failed bakes and automatic rollbacks happen.

The planner is checked on its own (its draws and timing), then a small generated fleet (two pipelines, each
with a production stage that bakes under its own alarm and rolls back on an alarm) is warmed up twice with
the same seed and a high chance: both sandboxes open on the same failed bakes and the same automatic
rollbacks, and the alarms' history says the traffic tripped them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from console.sandbox.alarm_trips import AlarmTrips
from console.sandbox.codepipeline.conditions import Bake
from console.sandbox_process import SandboxProcess, start_sandbox_process
from tests.conftest import make_client
from tests.sandbox.condition_shapes_check import problems, raw_call

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
PIPELINES = ("orders-service", "billing-service")
# Nothing moves between "ready" and the assertions: the sandbox opens on the warm-up's history alone.
STILL = 0.05


def bake(pipeline: str, rule_id: str, start: datetime, minutes: float = 10.0) -> Bake:
    return Bake(pipeline, "us-east-1", rule_id, ("Prod-5xx", "Prod-Latency"), start, start + timedelta(minutes=minutes))


def plan(seed: int, chance: float, count: int = 40) -> list[tuple[str, str, datetime]]:
    trips = AlarmTrips(chance, seed)
    for index in range(count):
        trips.consider([bake(PIPELINES[index % 2], f"rule-{index}", T0 + timedelta(minutes=index))])
    return [(t.rule_id, t.alarm, t.fires_at) for t in trips.trips]


def test_the_same_seed_trips_the_same_bakes_at_the_same_moments() -> None:
    assert plan(4, 0.3) == plan(4, 0.3)
    assert plan(4, 0.3) != plan(5, 0.3)
    assert 0 < len(plan(4, 0.3)) < 40


def test_no_chance_no_trips_and_certainty_trips_every_bake_once() -> None:
    assert plan(4, 0.0) == []
    trips = AlarmTrips(1.0, 4)
    first = bake("orders-service", "rule-1", T0)
    assert len(trips.consider([first])) == 1
    assert trips.consider([first]) == [], "a bake seen before is not drawn for again"


def test_a_trip_fires_inside_the_bake_and_clears_only_when_no_trip_holds_the_alarm() -> None:
    trips = AlarmTrips(1.0, 4)
    one = bake("orders-service", "rule-1", T0)
    two = Bake("billing-service", "us-east-1", "rule-2", ("Prod-5xx",), T0, T0 + timedelta(minutes=10))
    [a] = trips.consider([one])
    a.alarm = "Prod-5xx"  # both trips on the same alarm
    [b] = trips.consider([one, two])
    assert one.start < a.fires_at < one.end
    assert a.clears_at > a.fires_at
    assert trips.due(T0) == []
    fired = trips.due(max(a.fires_at, b.fires_at))
    assert [(c.alarm, c.state) for c in fired] == [("Prod-5xx", "ALARM"), ("Prod-5xx", "ALARM")]
    first, last = sorted((a, b), key=lambda t: t.clears_at)
    assert trips.due(first.clears_at) == [], "the other trip still holds the alarm in ALARM"
    [cleared] = trips.due(last.clears_at)
    assert (cleared.alarm, cleared.state) == ("Prod-5xx", "OK")
    assert trips.next_due() is None


# --- a small generated fleet, warmed up ------------------------------------------------------------------


def write_fleet(directory: Path, chance: float) -> Path:
    directory.mkdir(parents=True)
    (directory / "waves.yaml").write_text(
        yaml.safe_dump({"waves": [{"name": "prod", "environment": "prod", "risk": "high", "match": ["*Prod*"]}]})
    )
    pipelines = []
    for index, name in enumerate(PIPELINES):
        bake_rule = {
            "name": "ProdBake",
            "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "CloudWatchAlarm", "version": "1"},
            "configuration": {"AlarmName": f"Prod-5xx-{index}", "WaitTime": "1"},
        }
        pipelines.append(
            {
                "name": name,
                "stages": [
                    {
                        "name": "Source",
                        "actions": [
                            {
                                "name": "Source",
                                "category": "Source",
                                "provider": "CodeStarSourceConnection",
                                "duration": "2s",
                            }
                        ],
                    },
                    {
                        "name": "Build",
                        "actions": [{"name": "Build", "category": "Build", "provider": "CodeBuild", "duration": "10s"}],
                    },
                    {
                        "name": "Prod",
                        "actions": [
                            {"name": "Deploy", "category": "Deploy", "provider": "CodeDeploy", "duration": "10s"}
                        ],
                        "onSuccess": {"conditions": [{"result": "ROLLBACK", "rules": [bake_rule]}]},
                    },
                ],
            }
        )
    fleet = {
        "regions": ["us-east-1"],
        "pipelines": pipelines,
        "traffic": {"commit_interval": "90s", "warm_up": "40m", "alarm_trips": chance},
    }
    (directory / "fleet.yaml").write_text(yaml.safe_dump(fleet, sort_keys=False))
    return directory


@pytest.fixture(scope="module")
def tripped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SandboxProcess, SandboxProcess]]:
    """Two sandboxes warmed up on the same fleet and seed, with a 60 % chance of an alarm per bake."""
    directory = write_fleet(tmp_path_factory.mktemp("trips") / "definitions", 0.6)
    with (
        start_sandbox_process(speed=STILL, seed=21, definitions=directory, traffic=False) as first,
        start_sandbox_process(speed=STILL, seed=21, definitions=directory, traffic=False) as again,
    ):
        yield first, again


def bakes_and_rollbacks(url: str) -> dict[str, list[tuple[str, str, str]]]:
    """Per pipeline, oldest first: each execution's revision, type and its bake's outcome."""
    cp = make_client(url, "codepipeline")
    found = {}
    for name in PIPELINES:
        code, answer = raw_call(url, "ListRuleExecutions", {"pipelineName": name, "maxResults": 100})
        assert code == 200, answer
        assert problems("ListRuleExecutions", answer) == []
        bakes = {d["pipelineExecutionId"]: d["status"] for d in answer["ruleExecutionDetails"]}
        runs = cp.list_pipeline_executions(pipelineName=name, maxResults=100)["pipelineExecutionSummaries"]
        found[name] = [
            (
                r["sourceRevisions"][0]["revisionId"] if r.get("sourceRevisions") else "",
                r.get("executionType", ""),
                bakes.get(r["pipelineExecutionId"], "-"),
            )
            for r in reversed(runs)
        ]
    return found


def test_the_warm_up_shows_failed_bakes_and_automatic_rollbacks(
    tripped: tuple[SandboxProcess, SandboxProcess],
) -> None:
    url = tripped[0].url
    history = bakes_and_rollbacks(url)
    outcomes = [bake for runs in history.values() for _, _, bake in runs]
    assert outcomes.count("Failed") >= 2, history
    assert outcomes.count("Succeeded") >= 1, history

    cp = make_client(url, "codepipeline")
    rollbacks = [
        s
        for name in PIPELINES
        for s in cp.list_pipeline_executions(pipelineName=name, maxResults=100)["pipelineExecutionSummaries"]
        if s.get("executionType") == "ROLLBACK"
    ]
    assert rollbacks, "an alarm during a bake rolled the stage back"
    assert {r["trigger"]["triggerType"] for r in rollbacks} == {"AutomatedRollback"}

    failed = [
        d
        for name in PIPELINES
        for d in cp.list_rule_executions(pipelineName=name)["ruleExecutionDetails"]
        if d["status"] == "Failed"
    ]
    assert all("is ALARM during the wait" in d["output"]["executionResult"]["externalExecutionSummary"] for d in failed)

    # moto keeps no alarm history; the alarms' last state reason says the traffic set them.
    alarms = make_client(url, "cloudwatch").describe_alarms(AlarmNames=["Prod-5xx-0", "Prod-5xx-1"])["MetricAlarms"]
    assert any(a["StateReason"].startswith("Sandbox traffic: ") for a in alarms), alarms


def test_the_same_seed_trips_the_same_bakes(tripped: tuple[SandboxProcess, SandboxProcess]) -> None:
    first, again = (bakes_and_rollbacks(p.url) for p in tripped)
    assert first == again
