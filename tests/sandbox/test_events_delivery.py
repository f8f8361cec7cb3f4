"""A busy fleet's events all reach a push-mode consumer, within a second, none dropped.

Over HTTP against a sandbox of 150 generated pipelines running fast (a couple of hundred events a second):
a consumer per region long-polls the `wavedeck-events` queue and deletes what it read, as the console's
push mode does. The sandbox records when each event was handed over for delivery
(`WAVEDECK_SANDBOX_EVENTS_TRACE`, written when it exits); every event handed over while the consumers ran
must have been received, and fast.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from console.sandbox.events import TRACE_ENV
from console.sandbox.fleetgen import write_fleet
from console.sandbox.server_constants import ACCOUNT_ID, EVENTS_QUEUE
from console.sandbox_process import start_sandbox_process
from tests.conftest import SPEED, make_client, wait_until

EVENT_FIELDS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}


class Consumer(threading.Thread):
    def __init__(self, url: str, region: str) -> None:
        super().__init__(name=f"events-{region}", daemon=True)
        self.sqs = make_client(url, "sqs", region)
        self.queue_url = f"{url}/{ACCOUNT_ID}/{EVENTS_QUEUE}"
        self.received: dict[str, float] = {}
        self.bodies: list[dict[str, Any]] = []
        self.halt = threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                messages = self.sqs.receive_message(
                    QueueUrl=self.queue_url, WaitTimeSeconds=1, MaxNumberOfMessages=10
                ).get("Messages", [])
                now = time.time()
                for message in messages:
                    body = json.loads(message["Body"])
                    self.received.setdefault(body["id"], now)
                    self.bodies.append(body)
                if messages:
                    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
                    failed = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed")
                    if failed:
                        self.errors.append(f"delete failed: {failed}")
            except Exception as exc:  # noqa: BLE001 - reported by the test
                if not self.halt.is_set():
                    self.errors.append(repr(exc))
                return


def test_every_event_of_a_busy_fleet_reaches_the_consumer_within_a_second(tmp_path: Path) -> None:
    definitions = write_fleet(tmp_path / "definitions", pipelines=150, state_machines=10, commit_interval="10m")
    trace = tmp_path / "trace.json"
    sandbox = start_sandbox_process(
        speed=SPEED, definitions=definitions, timeout=120, extra_env={TRACE_ENV: str(trace)}
    )
    consumers = [Consumer(sandbox.url, region) for region in ("us-east-1", "us-west-2")]
    try:
        for consumer in consumers:
            consumer.start()

        def received() -> int:
            return sum(len(c.received) for c in consumers)

        # What piled up before the consumers started is left out: from here on, each event is timed.
        wait_until(lambda: received() >= 100, timeout=30, what="the consumers reading events")
        start = time.time()
        wait_until(lambda: received() >= 2000, timeout=60, what="two thousand events received")
        cut = time.time()
        # Whatever was handed over before the cut has had a few seconds' worth of further events to arrive.
        more = received() + 600
        wait_until(lambda: received() >= more, timeout=30, what="more events after the cut")
        queue = make_client(sandbox.url, "sqs").get_queue_attributes(
            QueueUrl=f"{sandbox.url}/{ACCOUNT_ID}/{EVENTS_QUEUE}", AttributeNames=["ApproximateNumberOfMessages"]
        )
    finally:
        for consumer in consumers:
            consumer.halt.set()
        for consumer in consumers:
            consumer.join(timeout=10)
        assert sandbox.stop() == 0, sandbox.stderr_tail()

    assert not [e for c in consumers for e in c.errors]
    document = json.loads(trace.read_text())
    handed = [at for at in document["handed"] if start <= at < cut]
    delivered = {event_id: at for at, _bus, event_id in document["delivered"] if start <= at < cut}
    got = {event_id: at for c in consumers for event_id, at in c.received.items()}
    assert len(handed) >= 1000, "the fleet was busy"
    assert [at for at in document["dropped"] if start <= at] == [], "the sandbox dropped events"
    assert len(delivered) == len(handed), "every event handed over reached the bus"
    missing = [event_id for event_id in delivered if event_id not in got]
    assert missing == [], f"{len(missing)} of {len(delivered)} events never reached the consumer"
    latencies = sorted(got[event_id] - at for event_id, at in delivered.items())
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    assert p95 < 1.0, f"95% of the events took up to {p95:.2f}s to arrive"
    assert int(queue["Attributes"]["ApproximateNumberOfMessages"]) < 500, "the consumers keep the queue small"
    shapes = {frozenset(body) for c in consumers for body in c.bodies}
    assert shapes == {frozenset(EVENT_FIELDS)}
