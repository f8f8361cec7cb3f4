"""The console's core against moto as shipped (none of the sandbox's patches): an AWS-compatible endpoint that
implements only part of CodePipeline. GetPipelineState answers HTTP 500 with an HTML page; GetPipeline and
ListPipelineExecutions answer; a Step Functions execution says RUNNING while its history has ended.

Stage names are the ones real teams write: Staging, PreProd, Production-us-east-1, Deploy, ProdStage, TestStage,
Prod. Everything here talks HTTP to a child process.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest

from console.aws.gateway import Gateway
from console.codepipeline.model import pipelines_of
from console.config import Intervals
from console.contradictions import execution_contradiction
from console.model import Target
from console.watch import Watcher
from console.watch_output import TransitionPrinter
from console.wave_report import wave_report
from console.waves import default_wave_model
from tests.core.test_watch_support import Updates
from tests.plain_moto import plain_moto_server

REGION = "us-east-1"
FAST = Intervals(focused=0.5, background=1.0, lists=5.0, push_safety_net=5.0)
ORDERS = ("Source", "Staging", "PreProd", "Production-us-east-1", "Deploy", "TestStage")
BILLING = ("Source", "Deploy", "ProdStage", "TestStage", "Prod")


def _client(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _stage(name: str) -> dict[str, Any]:
    if name == "Source":
        return {
            "name": name,
            "actions": [
                {
                    "name": "Src",
                    "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                    "outputArtifacts": [{"name": "out"}],
                    "configuration": {"S3Bucket": "bucket", "S3ObjectKey": "key"},
                }
            ],
        }
    category, provider = ("Approval", "Manual") if name.startswith("Prod") else ("Deploy", "CodeDeploy")
    return {
        "name": name,
        "actions": [
            {
                "name": f"{name}Action",
                "actionTypeId": {"category": category, "owner": "AWS", "provider": provider, "version": "1"},
                "runOrder": 1,
                "configuration": {},
            }
        ],
    }


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """Plain moto with two pipelines (one run of `orders-api`, which moto ends at once) and a state machine
    with one execution."""
    with plain_moto_server() as url:
        iam = _client(url, "iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        role = iam.create_role(RoleName="deploy", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        codepipeline = _client(url, "codepipeline")
        for name, stages in (("orders-api", ORDERS), ("billing", BILLING)):
            codepipeline.create_pipeline(
                pipeline={
                    "name": name,
                    "roleArn": role,
                    "artifactStore": {"type": "S3", "location": "artifacts"},
                    "stages": [_stage(s) for s in stages],
                }
            )
        codepipeline.start_pipeline_execution(name="orders-api")
        sfn = _client(url, "stepfunctions")
        definition = {"StartAt": "Deploy", "States": {"Deploy": {"Type": "Pass", "End": True}}}
        machine = sfn.create_state_machine(name="deploy-prod", definition=json.dumps(definition), roleArn=role)
        sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="run-1")
        yield url


@pytest.fixture
def moto_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
async def gateway(moto_url: str, moto_env: None) -> AsyncIterator[Gateway]:
    async with Gateway(Target(name="moto", region=REGION, endpoint_url=moto_url)) as gateway:
        yield gateway


async def test_structure_statuses_and_waves_whatever_get_pipeline_state_does(gateway: Gateway) -> None:
    watcher = Watcher({"moto": gateway}, default_wave_model(), FAST)
    updates = Updates(watcher)
    err = io.StringIO()
    watcher.subscribe(TransitionPrinter(io.StringIO(), err))
    await watcher.start()
    try:
        await updates.until(
            lambda: (
                all(
                    p.stages and p.note
                    for k, p in pipelines_of(watcher.state).items()
                    if k in ("moto:orders-api", "moto:billing")
                )
                and len(pipelines_of(watcher.state)) == 2
            ),
            30,
            "both pipelines with their stages and a note",
        )
        # Several more rounds of reads: ListPipelines and friends answer, GetPipelineState keeps failing.
        reads = len(updates.updates)
        await updates.until(lambda: len(updates.updates) >= reads + 4, 30, "more reads")
    finally:
        await watcher.stop()
    orders = pipelines_of(watcher.state)["moto:orders-api"]
    billing = pipelines_of(watcher.state)["moto:billing"]

    # The structure comes from GetPipeline, though GetPipelineState answered HTTP 500.
    assert tuple(s.name for s in orders.stages) == ORDERS
    assert tuple(s.name for s in billing.stages) == BILLING
    # Statuses from the executions: the run moto ended at once is the latest, not "not run".
    assert orders.latest_execution is not None
    assert orders.latest_execution.status == "Succeeded"
    assert orders.error is None
    # Said in one line, with the page's title, never the page.
    assert orders.note is not None
    assert "\n" not in orders.note
    assert orders.note == "statuses from executions: GetPipelineState unavailable (HTTP 500: 500 Internal Server Error)"
    assert "<" not in orders.note

    waves = {s.name: (s.wave.name if s.wave else None, s.wave.risk.label if s.wave else None) for s in orders.stages}
    assert waves["Staging"] == ("gamma", "high")
    assert waves["PreProd"] == ("gamma", "high")
    assert waves["Production-us-east-1"] == ("prod-canary", "production")
    assert waves["Deploy"] == ("prod-canary", "production")  # after a production stage
    assert waves["TestStage"] == ("prod-canary", "production")
    billing_waves = {s.name: s.wave.name if s.wave else None for s in billing.stages}
    assert billing_waves["Deploy"] == "unknown"  # before any production stage, it matches nothing
    assert billing_waves["ProdStage"] == billing_waves["Prod"] == "prod-canary"

    # The target's error: one line naming the API; `reachable again` never said while that API fails.
    status = watcher.state.targets[0]
    assert status.error is not None
    assert status.error.startswith("GetPipelineState")
    assert "HTTP 500" in status.error
    assert "<" not in status.error
    notes = err.getvalue().splitlines()
    assert not [n for n in notes if "reachable again" in n], notes
    assert len([n for n in notes if "GetPipelineState" in n]) == 1, notes


async def test_waves_report_every_stage_with_why(gateway: Gateway) -> None:
    report = await wave_report({"moto": gateway}, default_wave_model())
    rows = {r.resource: r for r in report.rows}
    assert report.errors == ()
    assert set(rows) == {f"orders-api/{s}" for s in ORDERS} | {f"billing/{s}" for s in BILLING}
    assert rows["orders-api/Production-us-east-1"].why == "pattern *production*"
    assert rows["orders-api/Deploy"].why == "after Production-us-east-1"
    assert rows["orders-api/Deploy"].risk == "production"
    assert rows["orders-api/PreProd"].why == "pattern *preprod*"
    assert rows["billing/ProdStage"].why == "pattern *prod*"
    assert (rows["billing/Deploy"].wave, rows["billing/Deploy"].risk, rows["billing/Deploy"].why) == (
        "unknown",
        "unknown",
        "no match",
    )
    assert report.unmatched == 1
    assert all(set(r.to_json()) == {"target", "resource", "wave", "risk", "why"} for r in report.rows)


async def test_a_running_execution_whose_history_ended_is_a_contradiction(gateway: Gateway) -> None:
    machines = await gateway.list_state_machines()
    machine = next(m for m in machines if m.name == "deploy-prod")
    listed = await gateway.list_executions(machine.arn)
    execution = await gateway.describe_execution(listed[0].arn)
    history = await gateway.get_execution_history(execution.arn)
    assert execution.is_running  # what moto's status says
    assert history[-1].type == "ExecutionSucceeded"  # what its history says
    conflict = execution_contradiction(execution, history)
    assert conflict is not None
    assert "RUNNING" in conflict
    assert "ExecutionSucceeded" in conflict
    # The same history agrees with an execution that says it succeeded: nothing to mark.
    assert execution_contradiction(replace(execution, status="SUCCEEDED"), history) is None


def test_waves_command_prints_one_json_object_per_stage(
    moto_url: str, moto_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from console.__main__ import main

    code = main(["--endpoint-url", moto_url, "--region", REGION, "waves", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(ORDERS) + len(BILLING)
    assert all(list(row) == ["target", "resource", "wave", "risk", "why"] for row in rows)
    by_resource = {row["resource"]: row for row in rows}
    assert by_resource["billing/Deploy"] == {
        "target": f"default/{REGION}",
        "resource": "billing/Deploy",
        "wave": "unknown",
        "risk": "unknown",
        "why": "no match",
    }
    assert by_resource["orders-api/Source"]["wave"] is None
    assert "wavedeck: 1 stage matches no wave" in err
