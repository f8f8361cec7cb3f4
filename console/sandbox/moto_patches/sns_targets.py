"""EventBridge rules that target an SNS topic, which moto 5.2 does not deliver to (it raises NotImplementedError).

Push for a team fans out through a topic: the rule sends each event to the topic `wavedeck-events`, and every
console subscribes a queue of its own to it. AWS publishes the event JSON as the SNS message, so a queue
subscribed with raw message delivery receives exactly what a queue targeted by the rule would. This wraps
`Rule.send_to_targets`: the rule's SNS targets are published to here, the rest go to moto's own delivery.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

from moto.events.models import Rule
from moto.events.utils import EventTemplateParser
from moto.sns.models import sns_backends
from moto.utilities.arns import parse_arn

LOG = logging.getLogger(__name__)

_installed: list[Any] = []


def _send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    moto_send = _installed[0]
    topics = [target for target in self.targets if parse_arn(target["Arn"]).service == "sns"]
    if not topics:
        moto_send(self, original_event, transform_input)
        return
    if not self.event_pattern.matches_event(original_event):
        return
    others = [target for target in self.targets if target not in topics]
    if others:
        rest = copy.copy(self)
        rest.targets = others
        moto_send(rest, original_event, transform_input)
    for target in topics:
        transformer = target.get("InputTransformer", {})
        event = (
            EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap", {}),
                event=original_event,
            )
            if transform_input
            else dict(original_event)
        )
        _publish(target["Arn"], event)


def _publish(topic_arn: str, event: dict[str, Any]) -> None:
    """Publish the event as EventBridge does: the event JSON as the message, `time` in ISO 8601."""
    if isinstance(event.get("time"), int | float | str):
        try:
            event["time"] = datetime.fromtimestamp(float(event["time"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            pass  # already a date
    arn = parse_arn(topic_arn)
    try:
        sns_backends[arn.account][arn.region].publish(message=json.dumps(event), arn=topic_arn)
    except Exception:  # noqa: BLE001 - a topic that is gone must not stop the other targets
        LOG.warning("could not publish an event to %s", topic_arn, exc_info=True)


def install() -> None:
    """Deliver EventBridge events to SNS topic targets (once per process)."""
    if _installed:
        return
    _installed.append(Rule.send_to_targets)
    setattr(Rule, "send_to_targets", _send_to_targets)  # noqa: B010 - patching moto's class
