"""`wavedeck setup-events`: the rule and topic of push for a team, created idempotently, said before done.

Against the sandbox in a region where nothing of it exists yet: a dry run says what it would create and
creates nothing; the real run creates it; a second run finds everything in place; read-only refuses; and a
queue subscribed to the topic then receives a pipeline's events, as a console's own queue would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from console.__main__ import main
from console.events_setup import PUBLISH_SID, RULE, SUBSCRIBE_SID, TOPIC
from console.sandbox_process import SandboxProcess
from tests.conftest import unique, wait_until
from tests.sandbox.test_codepipeline_support import action, create, source, stage, start

REGION = "ap-northeast-1"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def _setup(sandbox: SandboxProcess, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[str], str]:
    code = main(["setup-events", "--endpoint-url", sandbox.url, "--region", REGION, *extra])
    out, err = capsys.readouterr()
    return code, [line.split(": ", 1)[1] for line in out.splitlines()], err


@pytest.mark.usefixtures("credentials")
def test_setup_events_says_creates_and_then_finds_everything(
    sandbox: SandboxProcess, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    sns, events = aws("sns", REGION), aws("events", REGION)
    topic = f"arn:aws:sns:{REGION}:123456789012:{TOPIC}"

    code, said, _ = _setup(sandbox, capsys, "--dry-run")
    assert code == 0
    assert [line.split(":", 1)[0] for line in said] == ["would create", "would create", "would set", "would add"]
    assert topic in said[0]
    assert not [t for t in sns.list_topics()["Topics"] if t["TopicArn"] == topic], "a dry run creates nothing"
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name=RULE)

    code, said, _ = _setup(sandbox, capsys)
    assert code == 0
    assert [line.split(":", 1)[0] for line in said] == ["created", "created", "set", "added"]
    rule = events.describe_rule(Name=RULE)
    assert json.loads(rule["EventPattern"]) == {"source": ["aws.codepipeline", "aws.states"]}
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=RULE)["Targets"]] == [topic]
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements[PUBLISH_SID]["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}
    assert statements[SUBSCRIBE_SID]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}

    code, said, _ = _setup(sandbox, capsys)
    assert code == 0
    assert [line.split(":", 1)[0] for line in said] == ["exists"] * 4, said

    code, said, err = _setup(sandbox, capsys, "--read-only")
    assert code == 1
    assert said == []
    assert "read-only" in err

    # What it made works: a queue subscribed to the topic receives a pipeline's events.
    sqs = aws("sqs", REGION)
    url = sqs.create_queue(QueueName=unique("setup-events"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    cp = aws("codepipeline", REGION)
    name = create(cp, source(), stage("Deploy", action("Work")), prefix="setup-events")
    start(cp, name)

    def an_event_of_the_pipeline() -> bool:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return any(json.loads(m["Body"])["detail"].get("pipeline") == name for m in messages)

    wait_until(an_event_of_the_pipeline, timeout=30, what="the pipeline's events through the topic")
