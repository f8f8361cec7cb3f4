"""`wavedeck sandbox --quotas aws`: AWS's token buckets per region and API, answered as AWS answers them.

Over HTTP with boto3 (retries off, so every refusal is seen): a bucket's size of requests goes through at
once, the next is `ThrottlingException: Rate exceeded` in the JSON protocol's shape, parsed by botocore as
AWS's own; the sandbox's own clients draw from the buckets but are never refused.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from console.budget import DEFAULT_RATES
from console.sandbox.quotas import STATS_PATH, Bucket, bucket_for
from console.sandbox_process import SandboxProcess, start_sandbox_process
from tests.conftest import SPEED


def test_step_functions_buckets_are_the_published_ones_and_codepipeline_the_consoles_budget() -> None:
    assert bucket_for("states", "ListExecutions", "us-east-1") == (200, 5)
    assert bucket_for("states", "ListExecutions", "eu-central-1") == (100, 2)
    assert bucket_for("states", "GetExecutionHistory", "ap-south-1") == (400, 20)
    assert bucket_for("states", "SendTaskSuccess", "eu-west-1") == (3000, 500)
    rate = DEFAULT_RATES["GetPipelineState"]
    assert bucket_for("codepipeline", "GetPipelineState", "us-east-1") == (rate.burst, rate.per_second)
    assert bucket_for("states", "TestState", "us-east-1") is None
    assert bucket_for("sqs", "ReceiveMessage", "us-east-1") is None


def test_a_bucket_refills_at_its_rate_up_to_its_size() -> None:
    bucket = Bucket(size=3, refill=2, started=100.0)
    assert [bucket.take(100.0, may_refuse=True) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(100.5, may_refuse=True)  # half a second at 2/s: one token
    assert not bucket.take(100.5, may_refuse=True)
    assert bucket.take(100.5, may_refuse=False)  # the sandbox's own caller: counted, never refused
    assert bucket.take(200.0, may_refuse=True)
    assert bucket.tokens == 2  # full (3) after a long pause, never more
    assert (bucket.asked, bucket.refused) == (8, 2)


@pytest.fixture(scope="module")
def throttled() -> Iterator[SandboxProcess]:
    with start_sandbox_process(speed=SPEED, traffic=False, warm_up=False, quotas=True) as process:
        yield process


def _client(url: str, service: str, region: str, key: str = "operator") -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def _stats(url: str) -> dict[tuple[str, str], dict[str, Any]]:
    with urllib.request.urlopen(url + STATS_PATH, timeout=10) as answer:
        document = json.load(answer)
    assert document["enabled"] is True
    return {(b["region"], b["api"]): b for b in document["buckets"]}


def _until_refused(call: Any, most: int) -> tuple[int, ClientError | None, float]:
    """Call until AWS's throttling answer (at most `most` times): how many went through, the refusal, seconds."""
    began = time.monotonic()
    for answered in range(most):
        try:
            call()
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ThrottlingException":
                return answered, exc, time.monotonic() - began
            raise
    return most, None, time.monotonic() - began


def test_step_functions_answers_throttling_past_the_bucket(throttled: SandboxProcess) -> None:
    sfn = _client(throttled.url, "stepfunctions", "ap-southeast-2")
    arn = "arn:aws:states:ap-southeast-2:123456789012:stateMachine:none"

    def list_executions() -> None:
        try:
            sfn.list_executions(stateMachineArn=arn)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "StateMachineDoesNotExist":
                raise

    answered, refused, seconds = _until_refused(list_executions, 400)
    # 100 at once in a region outside the big three, then 2 a second.
    assert refused is not None, f"{answered} calls in {seconds:.1f}s and none throttled"
    assert 100 <= answered <= 100 + 2 * seconds + 1
    error = refused.response
    assert error["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    bucket = _stats(throttled.url)[("ap-southeast-2", "ListExecutions")]
    assert (bucket["size"], bucket["refill"], bucket["refused"]) == (100, 2, 1)


def test_codepipeline_answers_throttling_and_the_sandbox_itself_is_never_refused(throttled: SandboxProcess) -> None:
    region = "ca-central-1"
    rate = DEFAULT_RATES["ListPipelines"]
    ours = _client(throttled.url, "codepipeline", region, key="sandbox")
    began = time.monotonic()
    calls = int(rate.burst) * 3
    for _ in range(calls):
        ours.list_pipelines()  # the fleet's own tooling: counted against the bucket, never refused
    seconds = time.monotonic() - began
    assert calls > rate.burst + rate.per_second * seconds + 1, "the bucket never ran dry: the check proves nothing"
    operator = _client(throttled.url, "codepipeline", region)
    answered, refused, _ = _until_refused(operator.list_pipelines, 5)
    assert refused is not None, "the sandbox's own calls drew the bucket down for everyone"
    bucket = _stats(throttled.url)[(region, "ListPipelines")]
    assert bucket["asked"] == calls + answered + 1
    assert bucket["refused"] == 1


def test_without_quotas_nothing_is_throttled(sandbox: SandboxProcess) -> None:
    cp = _client(sandbox.url, "codepipeline", "sa-east-1")
    for _ in range(int(DEFAULT_RATES["ListPipelines"].burst) * 3):
        cp.list_pipelines()
    with urllib.request.urlopen(sandbox.url + STATS_PATH, timeout=10) as answer:
        assert json.load(answer) == {"enabled": False, "buckets": []}
