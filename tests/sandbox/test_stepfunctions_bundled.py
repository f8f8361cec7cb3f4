"""The bundled state machines run end to end in the sandbox as definitions/ says they do.

- distributed-load-test: a Map fans out one load task per shard, the results are checked, and the run
  fails when a shard breached its budget; the verdict follows from the input's seed alone, and with the
  fleet's own inputs some runs fail and most pass.
- wave-rollback: rolls a wave back to the revision the console sends, and refuses to run without one.
- wave-deployment: canary, bake, AZ1, bake, then waits for a person through SQS queue deploy-approvals;
  the seed decides, reproducibly, whether the canary's alarm fires.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest

from console.sandbox.fleet.definitions import load_fleet
from tests.conftest import wait_until
from tests.sandbox.test_stepfunctions_support import (
    BUNDLED,
    describe,
    history,
    start,
    task_token,
    wait_event,
    wait_status,
)

LOAD_TEST = BUNDLED + "distributed-load-test"
ROLLBACK = BUNDLED + "wave-rollback"
DEPLOYMENT = BUNDLED + "wave-deployment"
SEEDS = range(12)


def fleet_inputs() -> dict[str, dict[str, Any]]:
    """The load test inputs the bundled fleet uses: the traffic's scheduled run and the pipeline action."""
    fleet = load_fleet()
    inputs = {}
    for run in fleet.traffic.runs:
        if run.state_machine == "distributed-load-test":
            inputs["traffic"] = json.loads(run.input)
    for pipeline in fleet.pipelines:
        for stage in pipeline.stages:
            for action in stage.actions:
                if action.state_machine == "distributed-load-test" and action.input:
                    inputs["pipeline action"] = json.loads(action.input)
    assert set(inputs) == {"traffic", "pipeline action"}
    return inputs


def verdicts(sfn: Any, document: dict[str, Any], seeds: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    """Run the load test once per seed (all at once) → seed: (status, cause)."""
    arns = {seed: start(sfn, LOAD_TEST, {**document, "seed": seed, "revision": f"r{seed}"}) for seed in seeds}
    ended = {seed: wait_status(sfn, arn, timeout=30) for seed, arn in arns.items()}
    return {seed: (d["status"], d.get("cause")) for seed, d in ended.items()}


@pytest.mark.parametrize("source", ["traffic", "pipeline action"])
def test_the_load_test_fails_now_and_then_and_always_for_the_same_seeds(aws: Any, source: str) -> None:
    sfn = aws("stepfunctions")
    document = fleet_inputs()[source]
    first = verdicts(sfn, document, SEEDS)
    failed = [seed for seed, (status, _) in first.items() if status == "FAILED"]
    assert {status for status, _ in first.values()} <= {"SUCCEEDED", "FAILED"}
    assert 0 < len(failed) < len(SEEDS) / 2, f"{len(failed)} of {len(SEEDS)} runs failed"
    for seed in failed:
        cause = first[seed][1]
        assert cause is not None
        assert cause.endswith(f"of {document['shards']} shards went over the 500 ms p99 latency budget.")
    # The same seed, the same verdict and cause: every failure again, and as many passes.
    passed = [seed for seed in SEEDS if seed not in failed][: len(failed)]
    assert verdicts(sfn, document, failed + passed) == {seed: first[seed] for seed in failed + passed}


def test_a_load_test_run_fans_out_one_task_per_shard_and_checks_them(aws: Any) -> None:
    sfn = aws("stepfunctions")
    arn = start(sfn, LOAD_TEST, {"shards": 6, "users_per_shard": 50, "seed": 1, "revision": "abc"})
    done = wait_status(sfn, arn)
    assert done["status"] == "SUCCEEDED"
    output = json.loads(done["output"])
    assert (output["verdict"], output["revision"], output["shards"]) == ("passed", "abc", 6)
    assert [r["shard"] for r in output["results"]] == [1, 2, 3, 4, 5, 6]
    assert all(r["p99LatencyMs"] <= 500 and r["verdict"] == "within" for r in output["results"])
    events = history(sfn, arn)
    assert sum(e["type"] == "MapIterationStarted" for e in events) == 6
    assert sum(e["type"] == "MapIterationSucceeded" for e in events) == 6


def test_a_failing_load_test_names_the_breach(aws: Any) -> None:
    sfn = aws("stepfunctions")
    document = fleet_inputs()["traffic"]
    failing = next(seed for seed, (status, _) in verdicts(sfn, document, range(4)).items() if status == "FAILED")
    arn = start(sfn, LOAD_TEST, {**document, "seed": failing})
    failed = wait_status(sfn, arn)
    assert failed["error"] == "LoadTest.LatencyBudgetBreached"
    events = history(sfn, arn)
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert "ShardBreached" in entered
    assert entered[-2:] == ["ListBreaches", "LatencyBudgetBreached"]


def test_a_load_test_started_by_hand_without_a_seed_still_runs(aws: Any) -> None:
    sfn = aws("stepfunctions")
    arn = start(sfn, LOAD_TEST, {})
    assert wait_status(sfn, arn)["status"] in ("SUCCEEDED", "FAILED")
    planned = next(e for e in history(sfn, arn) if e.get("stateExitedEventDetails", {}).get("name") == "PlanShards")
    plan = json.loads(planned["stateExitedEventDetails"]["output"])
    assert plan["shards"] == [1, 2, 3, 4]
    assert isinstance(plan["seed"], int)


def test_the_rollback_workflow_rolls_a_wave_back(aws: Any) -> None:
    sfn = aws("stepfunctions")
    document = {
        "wave": "prod-az1",
        "revision": "9f2c1ab",
        "service": "notifications",
        "reason": "alarm during bake",
        "requestedBy": "operator",
    }
    arn = start(sfn, ROLLBACK, document)
    done = wait_status(sfn, arn)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {
        "wave": "prod-az1",
        "service": "notifications",
        "revision": "9f2c1ab",
        "traffic": "restored",
    }
    names = [e["stateEnteredEventDetails"]["name"] for e in history(sfn, arn) if "stateEnteredEventDetails" in e]
    assert names == [
        "CheckRevision",
        "Defaults",
        "ShiftTrafficAway",
        "RedeployGoodRevision",
        "VerifyAlarms",
        "RestoreTraffic",
        "RolledBack",
    ]


def test_a_rollback_without_a_revision_fails_at_once(aws: Any) -> None:
    sfn = aws("stepfunctions")
    failed = wait_status(sfn, start(sfn, ROLLBACK, {"wave": "prod-az1"}))
    assert (failed["status"], failed["error"]) == ("FAILED", "Rollback.NoRevision")


def test_the_wave_deployment_waits_for_a_person_then_deploys_the_next_zone(aws: Any) -> None:
    sfn, sqs = aws("stepfunctions"), aws("sqs")
    document = {"service": "orders", "revision": "c0ffee1", "seed": 1}  # seed 1: the canary stays green
    arn = start(sfn, DEPLOYMENT, document)
    scheduled = wait_event(sfn, arn, "TaskScheduled", timeout=15)
    wait_event(sfn, arn, "TaskSubmitted")
    parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
    token = task_token(scheduled)
    assert parameters["MessageBody"]["revision"] == "c0ffee1"
    assert parameters["MessageBody"]["service"] == "orders"
    assert parameters["MessageBody"]["execution"] == arn
    assert scheduled["taskScheduledEventDetails"]["timeoutInSeconds"] == 7200

    waiting = describe(sfn, arn)
    assert waiting["status"] == "RUNNING"
    names = [e["stateEnteredEventDetails"]["name"] for e in history(sfn, arn) if "stateEnteredEventDetails" in e]
    assert names[2:] == ["DeployCanary", "BakeCanary", "ReadCanaryAlarms", "CanaryHealthy", "DeployAZ1", "BakeAZ1",
                         "ApprovePromotion"]  # fmt: skip

    # The same token is in a message on deploy-approvals (a queue other tests share: look, do not take).
    queue = sqs.get_queue_url(QueueName="deploy-approvals")["QueueUrl"]

    def my_message() -> dict[str, Any] | None:
        for message in sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
        ).get("Messages", []):
            body = json.loads(message["Body"])
            if body.get("execution") == arn:
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
                return dict(body)
        return None

    body = wait_until(my_message, 10, what="the approval message on deploy-approvals")
    assert body["taskToken"] == token
    assert body["ask"] == "Promote this revision from prod-az1 to prod-az2?"

    sfn.send_task_success(taskToken=token, output=json.dumps({"approvedBy": "yuki.tanaka"}))
    done = wait_status(sfn, arn)
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["approval"] == {"approvedBy": "yuki.tanaka"}


def test_the_canary_alarm_fires_for_some_seeds_and_stops_the_wave(aws: Any) -> None:
    sfn = aws("stepfunctions")
    seeds = range(30)
    arns = {seed: start(sfn, DEPLOYMENT, {"service": "orders", "revision": "r", "seed": seed}) for seed in seeds}

    def settled(arn: str) -> str | None:
        """FAILED, or WAITING once it asks for approval (past its canary); None while on the way."""
        status = describe(sfn, arn)["status"]
        if status != "RUNNING":
            return str(status)
        last = sfn.get_execution_history(executionArn=arn, maxResults=1, reverseOrder=True)["events"][0]
        return "WAITING" if last["type"] == "TaskSubmitted" else None

    outcome: dict[int, str] = {}

    def all_settled() -> dict[int, str] | None:
        for seed, arn in arns.items():
            if seed not in outcome and (status := settled(arn)):
                outcome[seed] = status
        return outcome if len(outcome) == len(arns) else None

    wait_until(all_settled, 20, interval=0.2, what="every deployment past its canary")
    failed = [seed for seed, status in outcome.items() if status == "FAILED"]
    assert set(outcome.values()) == {"FAILED", "WAITING"}
    assert 0 < len(failed) < len(seeds) / 5
    for seed in failed:
        assert describe(sfn, arns[seed])["error"] == "Deployment.AlarmFired"
        entered = [e for e in history(sfn, arns[seed]) if "stateEnteredEventDetails" in e]
        assert "DeployAZ1" not in {e["stateEnteredEventDetails"]["name"] for e in entered}
    # The same seed, the same outcome.
    again = start(sfn, DEPLOYMENT, {"service": "orders", "revision": "r", "seed": failed[0]})
    assert wait_status(sfn, again)["error"] == "Deployment.AlarmFired"
    for seed, status in outcome.items():
        if status == "WAITING":
            sfn.stop_execution(executionArn=arns[seed])
