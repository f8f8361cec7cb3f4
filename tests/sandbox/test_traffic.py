"""The sandbox moves by itself: commits start pipelines, scheduled runs start state machines, and the
warm-up opens it on a history that is the same for the same seed."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from console.sandbox_process import SandboxProcess, start_sandbox_process
from tests.conftest import SPEED, make_client, wait_until

HEX40 = re.compile(r"^[0-9a-f]{40}$")
REGIONS = ("us-east-1", "us-west-2")
# Slow enough that nothing moves between "ready" and the assertions (the shortest action, 4 s, takes 80 s),
# which leaves exactly the history the warm-up played.
STILL = 0.05


def _pipelines(url: str) -> list[tuple[str, str]]:
    found = []
    for region in REGIONS:
        pages = make_client(url, "codepipeline", region).get_paginator("list_pipelines").paginate()
        found += [(region, p["name"]) for page in pages for p in page["pipelines"]]
    return sorted(found)


def _history(url: str) -> dict[str, list[tuple[str, str]]]:
    """Per pipeline, newest first: each execution's status and source revision."""
    history = {}
    for region, name in _pipelines(url):
        client = make_client(url, "codepipeline", region)
        summaries = client.list_pipeline_executions(pipelineName=name, maxResults=100)["pipelineExecutionSummaries"]
        history[name] = [(s["status"], s["sourceRevisions"][0]["revisionId"]) for s in summaries]
    return history


# --- commits and scheduled runs ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_sandbox(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Iterator[SandboxProcess]:
    """The bundled fleet with commits every few seconds and frequent scheduled runs; no warm-up."""
    directory = tmp_path_factory.mktemp("busy") / "definitions"
    shutil.copytree(repo_root / "definitions", directory)
    fleet_file = directory / "fleet.yaml"
    fleet = yaml.safe_load(fleet_file.read_text())
    fleet["traffic"]["commit_interval"] = "20s"
    for pipeline in fleet["pipelines"]:
        pipeline.pop("commit_interval", None)
    for run in fleet["traffic"]["runs"]:
        run["interval"] = "30s"
    fleet_file.write_text(yaml.safe_dump(fleet, sort_keys=False))
    with start_sandbox_process(speed=SPEED, seed=5, definitions=directory, warm_up=False) as process:
        yield process


def test_the_opening_runs_are_started_before_the_sandbox_says_it_is_ready(busy_sandbox: SandboxProcess) -> None:
    sfn = make_client(busy_sandbox.url, "stepfunctions")
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:"
    for machine in ("distributed-load-test", "wave-deployment", "schema-migration"):
        assert sfn.list_executions(stateMachineArn=arn + machine)["executions"], f"no opening run of {machine}"


def test_commits_start_pipelines_as_webhooks_with_revision_author_and_message(
    busy_sandbox: SandboxProcess, repo_root: Path
) -> None:
    traffic = yaml.safe_load((repo_root / "definitions" / "fleet.yaml").read_text())["traffic"]
    client = make_client(busy_sandbox.url, "codepipeline")

    def webhook_runs() -> list[dict[str, Any]]:
        summaries = client.list_pipeline_executions(pipelineName="catalog-service")["pipelineExecutionSummaries"]
        return [s for s in summaries if s["trigger"]["triggerType"] == "WebhookV2"]

    runs = wait_until(lambda: len(webhook_runs()) >= 2 and webhook_runs(), what="two commits to catalog-service")
    revisions = {run["sourceRevisions"][0]["revisionId"] for run in runs}
    assert len(revisions) == len(runs), "every commit has its own revision"
    for run in runs:
        source = run["sourceRevisions"][0]
        assert source["actionName"] == "Source"
        assert HEX40.match(source["revisionId"])
        assert json.loads(source["revisionSummary"])["CommitMessage"] in traffic["messages"]
        assert source["revisionUrl"] == f"https://github.com/shop/catalog-service/commit/{source['revisionId']}"
        detail = run["trigger"]["triggerDetail"]
        assert any(f"{author} pushed {source['revisionId'][:7]}" in detail for author in traffic["authors"]), detail
        assert "arn:aws:codeconnections:us-east-1:123456789012:connection/" in detail


def test_commits_are_held_back_while_max_in_flight_runs_are_in_flight(busy_sandbox: SandboxProcess) -> None:
    """checkout-api is QUEUED behind an approval nobody answers: it fills up to three runs in flight, never more,
    while commits keep starting runs of pipelines that are not blocked."""
    client = make_client(busy_sandbox.url, "codepipeline")
    seen: list[int] = []

    def in_flight(name: str) -> int:
        summaries = client.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"]
        return sum(s["status"] in ("InProgress", "Stopping") for s in summaries)

    def runs(name: str) -> int:
        return len(client.list_pipeline_executions(pipelineName=name)["pipelineExecutionSummaries"])

    def saturated_while_others_move(target: int) -> bool:
        seen.append(in_flight("checkout-api"))
        return runs("catalog-service") >= target and 3 in seen

    target = runs("catalog-service") + 4
    wait_until(lambda: saturated_while_others_move(target), timeout=60, what="checkout-api full, catalog moving")
    assert max(seen) == 3, seen


def test_scheduled_runs_start_state_machines_with_revision_and_seed(busy_sandbox: SandboxProcess) -> None:
    sfn = make_client(busy_sandbox.url, "stepfunctions")
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:distributed-load-test"

    def scheduled() -> list[dict[str, Any]]:
        return [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if e["name"].startswith("scheduled-")]

    runs = wait_until(lambda: len(scheduled()) >= 2 and scheduled(), timeout=40, what="two scheduled load tests")
    inputs = [json.loads(sfn.describe_execution(executionArn=r["executionArn"])["input"]) for r in runs]
    for document in inputs:
        assert document["shards"] == 12
        assert document["users_per_shard"] == 400
        assert HEX40.match(document["revision"])
        assert isinstance(document["seed"], int)
    assert len({d["seed"] for d in inputs}) == len(inputs)


# --- warm-up -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warmed() -> Iterator[dict[str, SandboxProcess]]:
    """Three warmed-up sandboxes without traffic: two with seed 11, one with seed 12."""
    processes: dict[str, SandboxProcess] = {}
    try:
        for key, seed in (("first", 11), ("again", 11), ("other", 12)):
            processes[key] = start_sandbox_process(speed=STILL, seed=seed, traffic=False)
        yield processes
    finally:
        for process in processes.values():
            process.stop()


def test_the_same_seed_plays_the_same_history(warmed: dict[str, SandboxProcess]) -> None:
    first, again = _history(warmed["first"].url), _history(warmed["again"].url)
    assert sum(len(runs) for runs in first.values()) > 20, "the warm-up played a real history"
    assert first == again


def test_another_seed_plays_another_history(warmed: dict[str, SandboxProcess]) -> None:
    first, other = _history(warmed["first"].url), _history(warmed["other"].url)
    assert first.keys() == other.keys()
    assert first != other
    revisions = {r for runs in first.values() for _, r in runs}
    assert not revisions & {r for runs in other.values() for _, r in runs}


@pytest.mark.parametrize("key", ["first", "other"])
def test_the_warm_up_opens_on_waves_deployed_motion_an_approval_and_a_failure(
    warmed: dict[str, SandboxProcess], key: str, repo_root: Path
) -> None:
    url = warmed[key].url
    fleet = yaml.safe_load((repo_root / "definitions" / "fleet.yaml").read_text())
    shapes = fleet["stages"]
    waves_of = {
        p["name"]: {s["name"]: s.get("wave", shapes.get(s.get("use"), {}).get("wave")) for s in p["stages"]}
        for p in fleet["pipelines"]
    }
    deployed: set[str] = set()
    approvals = 0
    complete = []  # pipelines with every stage's latest execution succeeded
    for region, name in _pipelines(url):
        state = make_client(url, "codepipeline", region).get_pipeline_state(name=name)
        statuses = []
        for stage in state["stageStates"]:
            status = stage.get("latestExecution", {}).get("status")
            statuses.append(status)
            if status == "Succeeded" and waves_of[name][stage["stageName"]]:
                deployed.add(waves_of[name][stage["stageName"]])
            for action in stage["actionStates"]:
                latest = action.get("latestExecution", {})
                approvals += latest.get("status") == "InProgress" and bool(latest.get("token"))
        if all(s == "Succeeded" for s in statuses):
            complete.append(name)
    assert deployed == {"alpha", "beta", "gamma", "prod-canary", "prod-az1", "prod-az2"}
    assert complete, "some pipeline has a revision through every wave"
    assert approvals >= 1, "an approval waits for the person who opens the console"
    statuses = [status for runs in _history(url).values() for status, _ in runs]
    assert "InProgress" in statuses
    assert "Failed" in statuses
