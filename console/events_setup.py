"""`wavedeck setup-events`: the EventBridge rule and SNS topic that push every state change to every console.

In one region of one account: the SNS topic `wavedeck-events`; its policy, letting the rule publish and the
account's consoles subscribe; the rule `wavedeck-console` for `aws.codepipeline` and `aws.states`; and the
topic as the rule's target. Each console then subscribes a queue of its own (`--events-topic ARN`).

Idempotent: what exists already is said and left as it is (a policy keeps its other statements); what is
missing is created. With `dry_run` nothing is sent but reads, and each line says what would be done.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

RULE = "wavedeck-console"
TOPIC = "wavedeck-events"
TARGET_ID = "wavedeck-events-topic"
PATTERN = {"source": ["aws.codepipeline", "aws.states"]}
DESCRIPTION = "State changes of pipelines and state machines for the wavedeck console"
PUBLISH_SID = "wavedeck-events-rule-publishes"
SUBSCRIBE_SID = "wavedeck-consoles-subscribe"


class EventsSetupClient(Protocol):
    """The gateway's calls for the account's events plumbing."""

    async def events_rule(self, name: str) -> dict[str, Any] | None: ...

    async def put_events_rule(self, name: str, pattern: str, description: str) -> str: ...

    async def events_rule_targets(self, name: str) -> Sequence[str]: ...

    async def add_events_rule_target(self, name: str, target_id: str, arn: str) -> None: ...

    async def topic_named(self, name: str) -> str | None: ...

    async def create_topic(self, name: str) -> str: ...

    async def topic_policy(self, topic_arn: str) -> str | None: ...

    async def set_topic_policy(self, topic_arn: str, policy: str) -> None: ...


def topic_statements(topic_arn: str, rule_arn: str, account: str) -> list[dict[str, Any]]:
    """What the topic's policy must allow: the rule publishes; the account's principals subscribe, and publish
    what they read for their team (`console/shared_reads.py`)."""
    return [
        {
            "Sid": PUBLISH_SID,
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        },
        {
            "Sid": SUBSCRIBE_SID,
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": ["sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:GetTopicAttributes", "sns:Publish"],
            "Resource": topic_arn,
        },
    ]


def merged_policy(current: str | None, wanted: list[dict[str, Any]]) -> str | None:
    """The policy with `wanted` statements in place of any with the same Sid; None when nothing changes."""
    try:
        document = json.loads(current) if current else {}
    except ValueError:
        document = {}
    if not isinstance(document, dict):
        document = {}
    statements = [s for s in document.get("Statement") or [] if isinstance(s, dict)]
    by_sid = {s.get("Sid"): s for s in statements}
    if all(by_sid.get(w["Sid"]) == w for w in wanted):
        return None
    names = {w["Sid"] for w in wanted}
    kept = [s for s in statements if s.get("Sid") not in names]
    return json.dumps({"Version": "2012-10-17", "Statement": [*kept, *wanted]})


async def setup_events(client: EventsSetupClient, region: str, account: str, *, dry_run: bool) -> list[str]:
    """Create what is missing (or, dry, say what would be); one line per part, in the order it is done."""
    said: list[str] = []
    would = "would create" if dry_run else "created"
    topic = await client.topic_named(TOPIC)
    topic_existed = topic is not None
    if topic is not None:
        said.append(f"exists: SNS topic {topic}")
    elif dry_run:
        topic = f"arn:aws:sns:{region}:{account}:{TOPIC}"
        said.append(f"{would}: SNS topic {topic}")
    else:
        topic = await client.create_topic(TOPIC)
        said.append(f"{would}: SNS topic {topic}")

    pattern = json.dumps(PATTERN)
    rule = await client.events_rule(RULE)
    rule_arn = str(rule.get("Arn", "")) if rule else f"arn:aws:events:{region}:{account}:rule/{RULE}"
    same_pattern = rule is not None and _same_json(rule.get("EventPattern"), PATTERN)
    if same_pattern:
        said.append(f"exists: EventBridge rule {RULE} ({pattern})")
    else:
        verb = ("would update" if dry_run else "updated") if rule else would
        if not dry_run:
            rule_arn = await client.put_events_rule(RULE, pattern, DESCRIPTION)
        said.append(f"{verb}: EventBridge rule {RULE} ({pattern})")

    current = await client.topic_policy(topic) if topic_existed or not dry_run else None
    policy = merged_policy(current, topic_statements(topic, rule_arn, account))
    if policy is None:
        said.append(f"exists: topic policy (the rule publishes, account {account} subscribes)")
    else:
        if not dry_run:
            await client.set_topic_policy(topic, policy)
        verb = "would set" if dry_run else "set"
        said.append(f"{verb}: topic policy (the rule publishes, account {account} subscribes)")

    targets = await client.events_rule_targets(RULE) if rule is not None else ()
    if topic in targets:
        said.append(f"exists: the rule's target {topic}")
    else:
        if not dry_run:
            await client.add_events_rule_target(RULE, TARGET_ID, topic)
        said.append(f"{'would add' if dry_run else 'added'}: the rule's target {topic}")
    return said


def _same_json(text: object, wanted: object) -> bool:
    try:
        return isinstance(text, str) and json.loads(text) == wanted
    except ValueError:
        return False
