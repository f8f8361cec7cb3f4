"""EventBridge inside the sandbox: state changes become events on the default bus of their region.

The engine and the Step Functions patches call `emit()`; moto's events backend matches the bus's rules and
delivers to their targets (an SQS queue for the console's push stream). Shapes follow AWS: `source`,
`detail-type`, `resources` and a `detail` object; `time` is ISO 8601 UTC.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from moto.events.models import events_backends
from moto.events.utils import EventTemplateParser

LOG = logging.getLogger(__name__)

# moto's default target input (no InputTransformer) leaves out the event's `account`, which AWS sends.
EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE.replace(
    '"time": <time>', '"account": "<account>", "time": <time>'
)

PIPELINE_EXECUTION = "CodePipeline Pipeline Execution State Change"
STAGE_EXECUTION = "CodePipeline Stage Execution State Change"
ACTION_EXECUTION = "CodePipeline Action Execution State Change"
SFN_EXECUTION = "Step Functions Execution Status Change"

# moto's rule matching and SQS delivery are not written for concurrent callers.
_lock = threading.Lock()


def emit(
    account: str,
    region: str,
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    resources: list[str],
    time: datetime | None = None,
) -> None:
    """Put one event on the default bus of `account`/`region`. Never raises: events are best effort."""
    # Epoch seconds, as PutEvents over HTTP delivers them: moto's targets paste `time` into their input
    # unquoted and its SQS delivery turns it into ISO 8601 (an ISO string here broke every delivery).
    stamp = (time or datetime.now(UTC)).timestamp()
    entry = {
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "Resources": resources,
        "Time": stamp,
    }
    try:
        with _lock:
            events_backends[account][region].put_events([entry])
    except Exception:  # noqa: BLE001 - a broken rule target must not stop a deployment
        LOG.exception("could not put %s event", detail_type)


def codepipeline_state(state: str) -> str:
    """CodePipeline's API statuses (InProgress) as its events spell them (STARTED...)."""
    return {
        "InProgress": "STARTED",
        "Stopping": "STOPPING",
        "Stopped": "STOPPED",
        "Succeeded": "SUCCEEDED",
        "Failed": "FAILED",
        "Superseded": "SUPERSEDED",
        "Cancelled": "CANCELED",
        "Abandoned": "ABANDONED",
        "Resumed": "RESUMED",
    }.get(state, state.upper())
