"""EventBridge inside the sandbox: state changes become events on the default bus of their region.

The engine and the Step Functions patches call `emit()`; moto's events backend matches the bus's rules and
delivers to their targets (an SQS queue for the console's push stream). Shapes follow AWS: `source`,
`detail-type`, `resources` and a `detail` object; `time` is ISO 8601 UTC.

Importing this module plugs the sandbox's delivery into moto: the input template carries `account`, and
`moto_events_patch` / `moto_sqs_patch` take out what made moto's delivery cost tens of milliseconds per
event. Two environment variables exist for benchmarks (benchmarks/sandbox_events.py), not for operators:
`WAVEDECK_SANDBOX_EVENT_PATCHES=off` leaves moto's delivery as moto ships it, and
`WAVEDECK_SANDBOX_EVENTS_TRACE=FILE` writes, when the process exits, when each event was handed over and
what became of it.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time as wall
from datetime import UTC, datetime
from typing import Any

from moto.events.models import events_backends
from moto.events.utils import EventTemplateParser

from console.sandbox.moto_patches import sns_targets

LOG = logging.getLogger(__name__)

PATCHES_ENV = "WAVEDECK_SANDBOX_EVENT_PATCHES"
TRACE_ENV = "WAVEDECK_SANDBOX_EVENTS_TRACE"

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
_installed = threading.Event()


def install_delivery_patches() -> list[str]:
    """Patch moto's EventBridge and SQS delivery (once per process). Returns why it did not, if it did not.

    A moto release that moved what the patches replace runs unpatched, slowly but correctly, with a
    warning; tests/sandbox/test_moto_internals_events.py fails on it so that the patches get ported.
    """
    from console.sandbox.moto_patches import delivery_internals as internals

    if _installed.is_set():
        return []
    if os.environ.get(PATCHES_ENV, "").lower() in ("off", "0", "no", "false"):
        return [f"{PATCHES_ENV} is off"]
    problems = internals.moved()
    if problems:
        LOG.warning("moto's event delivery runs unpatched (slow): its internals moved:\n  %s", "\n  ".join(problems))
        return problems
    internals.remember_originals()
    from console.sandbox.moto_patches import events_patch as moto_events_patch
    from console.sandbox.moto_patches import sqs_patch as moto_sqs_patch

    moto_events_patch.install()
    moto_sqs_patch.install()
    _installed.set()
    return []


class DeliveryTrace:
    """When each event was handed over for delivery and what became of it, for benchmarks.

    Written as JSON at exit: `handed` (unix times), `delivered` ([handed, on the bus, event id]; the id is
    null when moto refused it) and `dropped` (handed times of events the outbox dropped).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.handed: list[float] = []
        self.delivered: list[tuple[float, float, str | None]] = []
        self.dropped: list[float] = []

    def note_handed(self, at: float, count: int = 1) -> None:
        with self._lock:
            self.handed.extend([at] * count)

    def note_delivered(self, handed_at: float, event_id: str | None) -> None:
        with self._lock:
            self.delivered.append((handed_at, wall.time(), event_id))

    def note_dropped(self, handed_at: float) -> None:
        with self._lock:
            self.dropped.append(handed_at)

    def write(self) -> None:
        with self._lock:
            document = {"handed": self.handed, "delivered": self.delivered, "dropped": self.dropped}
        try:
            with open(self.path, "w", encoding="utf-8") as out:
                json.dump(document, out)
        except OSError as exc:
            LOG.warning("could not write the events trace %s: %s", self.path, exc)


def _start_trace() -> DeliveryTrace | None:
    path = os.environ.get(TRACE_ENV)
    if not path:
        return None
    started = DeliveryTrace(path)
    atexit.register(started.write)
    return started


trace = _start_trace()


def emit(
    account: str,
    region: str,
    source: str,
    detail_type: str,
    detail: dict[str, Any],
    resources: list[str],
    time: datetime | None = None,
    *,
    handed_at: float | None = None,
) -> None:
    """Put one event on the default bus of `account`/`region`. Never raises: events are best effort.

    `handed_at` (unix time) is when the event was handed over for delivery, if it waited in an outbox.
    """
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
    if trace is not None and handed_at is None:
        handed_at = wall.time()
        trace.note_handed(handed_at)
    event_id: str | None = None
    try:
        with _lock:
            result = events_backends[account][region].put_events([entry])
        event_id = result[0].get("EventId") if result else None
    except Exception:  # noqa: BLE001 - a broken rule target must not stop a deployment
        LOG.exception("could not put %s event", detail_type)
    if trace is not None and handed_at is not None:
        trace.note_delivered(handed_at, event_id)


install_delivery_patches()
sns_targets.install()
