"""The event delivery patches change what moto costs, never what it does.

In-process against moto's backends (no server): each replacement in `moto_events_patch` / `moto_sqs_patch`
is run next to the moto method it was ported from (kept by `moto_delivery_internals`) on the same input,
and the slow part it took out is checked to be gone.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.sqs import models as sqs_models
from moto.sqs.exceptions import InvalidParameterValue, ReceiptHandleIsInvalid
from moto.sqs.models import sqs_backends

from console.sandbox import events
from console.sandbox.moto_patches import delivery_internals as internals
from console.sandbox.moto_patches import events_patch as moto_events_patch
from console.sandbox.moto_patches import sqs_patch as moto_sqs_patch
from console.sandbox.server_constants import ACCOUNT_ID

REGION = "us-east-1"

assert not events.install_delivery_patches()  # importing `events` installs them; the originals are kept


def moto_original(dotted: str, module: str = "moto.sqs.models") -> Any:
    found = internals.original(module, dotted)
    return found.fget if isinstance(found, property) else found


@pytest.fixture
def backend() -> Iterator[Any]:
    with mock_aws():
        yield sqs_backends[ACCOUNT_ID][REGION]


def _event(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "0b9a5a3c-6f0e-4a0e-9d5e-3f1f2a7d1c11",
        "detail-type": "CodePipeline Action Execution State Change",
        "source": "aws.codepipeline",
        "account": ACCOUNT_ID,
        "time": 1767225600.25,
        "region": REGION,
        "resources": [f"arn:aws:codepipeline:{REGION}:{ACCOUNT_ID}:checkout-api"],
        "detail": detail,
        "ingestion-time": 1767225600.5,
    }


DETAIL = {
    "pipeline": "checkout-api",
    "execution-id": "e0c7c1d2-0000-4000-8000-000000000001",
    "state": "SUCCEEDED",
    "version": 3.0,
    "stage": "Prod-AZ1",
    "action": "Deploy",
    "type": {"owner": "AWS", "provider": "CodeDeploy", "category": "Deploy", "version": "1"},
    "execution-result": {"external-execution-summary": "a summary that says <time> and <detail> in it"},
    "tags": ["a", "b"],
}

TRANSFORMERS: list[tuple[str | None, dict[str, str]]] = [
    (None, {}),  # no InputTransformer: moto's default input (with the `account` the sandbox adds)
    (
        '{"pipeline": "<p>", "state": "<s>", "missing": "<gone>", "resources": <r>, "type": <t>, "n": <n>}',
        {
            "p": "$.detail.pipeline",
            "s": "$.detail.state",
            "gone": "$.detail.no-such-field",
            "r": "$.resources",
            "t": "$.detail.type",
            "n": "$.detail.version",
        },
    ),
    ('{"whole": <aws.events.event.json>, "at": <aws.events.event.ingestion-time>}', {}),
    ('{"first": "<tag>"}', {"tag": "$.detail.tags[0]"}),
]


@pytest.mark.parametrize(("template", "paths"), TRANSFORMERS)
def test_rule_target_input_is_the_one_moto_builds(template: str | None, paths: dict[str, str]) -> None:
    original = moto_original("EventTemplateParser.parse", "moto.events.utils")
    event = _event(copy.deepcopy(DETAIL))
    expected = original(input_template=template, input_paths_map=paths, event=copy.deepcopy(event))
    assert moto_events_patch.parse(template, paths, copy.deepcopy(event)) == expected


def test_each_json_path_is_compiled_once() -> None:
    moto_events_patch.parse(None, {}, _event(DETAIL))  # type: ignore[arg-type]
    compiled = moto_events_patch._compiled.cache_info()
    for _ in range(5):
        moto_events_patch.parse(None, {}, _event(DETAIL))  # type: ignore[arg-type]
    after = moto_events_patch._compiled.cache_info()
    assert after.misses == compiled.misses, "a path was compiled again"
    assert after.hits == compiled.hits + 5 * 8  # the eight paths of the default input, five times


def test_a_send_to_a_standard_queue_reads_no_queue_attribute(backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    queue = backend.create_queue("wavedeck-events", MessageRetentionPeriod="120")
    for index in range(300):
        moto_sqs_patch.send_message(backend, "wavedeck-events", f"event {index}")

    def every_attribute(self: Any) -> dict[str, Any]:
        raise AssertionError("the send built every queue attribute (three walks of the queue)")

    monkeypatch.setattr(sqs_models.Queue, "attributes", property(every_attribute))
    message = moto_sqs_patch.send_message(backend, "wavedeck-events", "one more")
    assert queue._messages[-1] is message
    assert len(queue._messages) == 301


def _sent(send: Any, backend: Any, queue: str, **kwargs: Any) -> dict[str, Any]:
    message = send(backend, queue, "a body", **kwargs)
    fields = dict(vars(message))
    for varying in ("id", "sent_timestamp", "delayed_until", "sequence_number"):
        fields.pop(varying)
    fields["delayed"] = message.delayed
    fields["body_md5"], fields["attribute_md5"] = message.body_md5, message.attribute_md5
    return fields


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"delay_seconds": 5},
        {"message_attributes": {"kind": {"DataType": "String", "StringValue": "event"}}},
        {"system_attributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1"}}},
        {"group_id": "g", "deduplication_id": "d"},
    ],
)
def test_a_sent_message_is_the_one_moto_sends(backend: Any, kwargs: dict[str, Any]) -> None:
    backend.create_queue("moto", DelaySeconds="2")
    backend.create_queue("patched", DelaySeconds="2")
    expected = _sent(moto_original("SQSBackend.send_message"), backend, "moto", **kwargs)
    assert _sent(moto_sqs_patch.send_message, backend, "patched", **kwargs) == expected


def test_sends_moto_refuses_are_refused_alike(backend: Any) -> None:
    backend.create_queue("small", MaximumMessageSize="1024")
    for send in (moto_original("SQSBackend.send_message"), moto_sqs_patch.send_message):
        with pytest.raises(InvalidParameterValue, match="DelaySeconds must be >= 0 and <= 900"):
            send(backend, "small", "x", delay_seconds=901)
        with pytest.raises(InvalidParameterValue, match="Message must be shorter than 1024 bytes"):
            send(backend, "small", "x" * 2000)
        assert backend.get_queue("small")._messages == []


def test_a_fifo_queue_keeps_moto_send_and_its_deduplication(backend: Any) -> None:
    queue = backend.create_queue("events.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    moto_sqs_patch.send_message(backend, "events.fifo", "same", group_id="g")
    moto_sqs_patch.send_message(backend, "events.fifo", "same", group_id="g")
    assert [m.body for m in queue._messages] == ["same"]
    assert queue._messages[0].deduplication_id  # the content hash moto's own send sets


def _mixed_queue(backend: Any) -> Any:
    queue = backend.create_queue("mixed")
    for index in range(6):
        backend.send_message("mixed", f"visible {index}")
    backend.send_message("mixed", "delayed", delay_seconds=60)
    backend.receive_message("mixed", 3, 0, 30)  # three in flight for 30 s
    backend.receive_message("mixed", 1, 0, 0)  # one received, visible again at once
    return queue


def test_visible_delayed_and_in_flight_counts_agree_with_moto(backend: Any) -> None:
    queue = _mixed_queue(backend)
    for name, patched in (
        ("Queue.messages", moto_sqs_patch.messages),
        ("Queue.approximate_number_of_messages_delayed", moto_sqs_patch.approximate_number_of_messages_delayed),
        ("Queue.approximate_number_of_messages_not_visible", moto_sqs_patch.approximate_number_of_messages_not_visible),
    ):
        assert patched(queue) == moto_original(name)(queue), name
    assert [m.body for m in moto_sqs_patch.messages(queue)] == ["visible 3", "visible 4", "visible 5"]


def test_retention_is_judged_as_moto_judges_it(backend: Any) -> None:
    queue = backend.create_queue("short", MessageRetentionPeriod="60")
    fresh = backend.send_message("short", "fresh")
    old = backend.send_message("short", "old")
    old.sent_timestamp -= 61_000
    original = moto_original("SQSBackend.is_message_valid_based_on_retention_period")
    for message, valid in ((fresh, True), (old, False)):
        assert original(backend, "short", message) is valid
        assert moto_sqs_patch.is_message_valid_based_on_retention_period(backend, "short", message) is valid
    assert queue.message_retention_period == 60


def test_deletes_behave_as_moto_deletes(backend: Any) -> None:
    queue = _mixed_queue(backend)
    received = backend.receive_message("mixed", 1, 0, 30)[0]
    again = backend.receive_message("mixed", 1, 0, 0)  # another message: the first keeps its handle
    assert again
    moto_sqs_patch.delete_message(queue, received.receipt_handle)
    assert received.id not in [m.id for m in queue._messages]
    assert received not in queue.pending_messages
    moto_sqs_patch.delete_message(queue, received.receipt_handle)  # a second delete succeeds, as in moto
    with pytest.raises(ReceiptHandleIsInvalid):
        moto_sqs_patch.delete_message(queue, "no-such-handle")
    # A handle a message had before it was received again still deletes it.
    twice = backend.send_message("mixed", "twice")
    backend.receive_message("mixed", 10, 0, 0)
    first_handle = twice.receipt_handle
    backend.receive_message("mixed", 10, 0, 0)
    assert twice.receipt_handle != first_handle
    moto_sqs_patch.delete_message(queue, first_handle)
    assert twice not in queue._messages


def _delete_while_a_message_arrives(delete: Any, backend: Any) -> list[str]:
    """Delete a message while another thread sends one, the send landing just as the delete stores the queue's
    new message list. Returns the bodies left."""
    queue = backend.create_queue(f"race-{delete.__module__.replace('.', '-')}")
    for index in range(3):
        backend.send_message(queue.name, f"old {index}")
    handle = backend.receive_message(queue.name, 1, 0, 30)[0].receipt_handle
    arrival = threading.Thread(target=lambda: backend.send_message(queue.name, "arrived during the delete"))

    class RacingQueue(sqs_models.Queue):  # type: ignore[misc]
        """The queue, with a send from another thread let in when the delete stores the new message list."""

        @property
        def _messages(self) -> list[Any]:
            return self.__dict__["_messages"]  # type: ignore[no-any-return]

        @_messages.setter
        def _messages(self, value: list[Any]) -> None:
            if not arrival.is_alive() and arrival.ident is None:
                arrival.start()
                arrival.join(timeout=0.2)  # done at once, unless the delete holds the lock sends take
            self.__dict__["_messages"] = value

    queue.__class__ = RacingQueue
    try:
        delete(queue, handle)
        arrival.join(timeout=5)
    finally:
        queue.__class__ = sqs_models.Queue
    return sorted(m.body for m in queue._messages)


def test_a_message_sent_while_a_delete_walks_the_queue_is_kept(backend: Any) -> None:
    kept = _delete_while_a_message_arrives(moto_sqs_patch.delete_message, backend)
    assert kept == ["arrived during the delete", "old 1", "old 2"]


def test_moto_own_delete_loses_it_which_the_test_above_would_catch(backend: Any) -> None:
    kept = _delete_while_a_message_arrives(moto_original("Queue.delete_message"), backend)
    assert kept == ["old 1", "old 2"]


def _batch_queue(backend: Any, name: str) -> tuple[Any, list[dict[str, str]]]:
    """A queue and a DeleteMessageBatch's entries of every kind: a current handle, a handle a message had before
    it was received again, a handle deleted already, the same handle twice, and one that never was."""
    queue = backend.create_queue(name)
    for index in range(8):
        backend.send_message(name, f"m {index}")
    current = backend.receive_message(name, 2, 0, 30)
    earlier = backend.receive_message(name, 1, 0, 0)[0]
    earlier_handle = earlier.receipt_handle
    backend.receive_message(name, 10, 0, 30)  # `earlier` again: a new handle, the old one still deletes it
    deleted = current[1]
    backend.delete_message(name, deleted.receipt_handle)
    handles = [
        current[0].receipt_handle,
        earlier_handle,
        deleted.receipt_handle,
        current[0].receipt_handle,
        "no-such-handle",
    ]
    return queue, [{"Id": f"e{index}", "ReceiptHandle": handle} for index, handle in enumerate(handles)]


def test_a_batch_delete_answers_and_deletes_as_moto_does(backend: Any) -> None:
    answers, left = [], []
    for delete, name in (
        (moto_original("SQSBackend.delete_message_batch"), "moto"),
        (moto_sqs_patch.delete_message_batch, "ours"),
    ):
        queue, entries = _batch_queue(backend, name)
        answers.append(delete(backend, name, entries))
        left.append(sorted(m.body for m in queue._messages))
    assert answers[0] == answers[1]
    assert left[0] == left[1]
    success, errors = answers[1]
    assert success == ["e0", "e1", "e2", "e3"]
    assert [e["Id"] for e in errors] == ["e4"]
    assert errors[0]["Code"] == "ReceiptHandleIsInvalid"


def test_a_batch_delete_walks_the_queue_once(backend: Any) -> None:
    queue, entries = _batch_queue(backend, "walked")
    walks = []

    class Counted(list):  # type: ignore[type-arg]
        def __iter__(self) -> Any:
            walks.append(1)
            return super().__iter__()

    queue._messages = Counted(queue._messages)
    moto_sqs_patch.delete_message_batch(backend, "walked", entries)
    assert len(walks) == 1, f"{len(walks)} walks for one batch of {len(entries)}"


def test_a_receipt_handle_is_moto_shape_in_one_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    original = moto_original("generate_receipt_handle")
    ours = moto_sqs_patch.generate_receipt_handle()
    theirs = original()
    assert len(ours) == len(theirs) == 185
    assert ours.isalpha()
    assert ours.islower()
    assert ours != moto_sqs_patch.generate_receipt_handle()
    draws: list[int] = []
    real = sqs_models.random.choices
    monkeypatch.setattr(sqs_models.random, "choices", lambda *a, **k: draws.append(1) or real(*a, **k))
    moto_sqs_patch.generate_receipt_handle()
    assert draws == [1]
    # A receive takes its new handle from the replacement (the name moto's Message.mark_received calls).
    assert sqs_models.generate_receipt_handle is moto_sqs_patch.generate_receipt_handle


def _behind(backend: Any, name: str, waiting: int) -> tuple[Any, list[Any]]:
    """A queue with `waiting` messages not received yet (a console that is behind) and a batch of 10 received."""
    queue = backend.create_queue(name)
    for index in range(waiting + 10):
        backend.send_message(name, f"m {index}")
    return queue, backend.receive_message(name, 10, 0, 30)


def test_a_delete_matches_the_received_messages_not_every_waiting_one(
    backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue, batch = _behind(backend, "behind", 2_000)
    matched: list[Any] = []
    holds = moto_sqs_patch._holds
    monkeypatch.setattr(
        moto_sqs_patch, "_holds", lambda message, handles: matched.append(message) or holds(message, handles)
    )
    deleted = moto_sqs_patch.delete_messages(queue, [m.receipt_handle for m in batch])
    assert deleted == {m.receipt_handle for m in batch}
    assert len(matched) == 10, f"{len(matched)} messages matched for a batch of 10"
    assert len(queue._messages) == 2_000
    assert not {m.id for m in batch} & {m.id for m in queue._messages}
    assert not queue.pending_messages


def test_a_handle_of_a_message_made_visible_again_deletes_it_as_moto_does(backend: Any) -> None:
    # ChangeMessageVisibility(0) takes the message out of the received ones; its handle still deletes it.
    left, answers = [], []
    for delete, name in (
        (moto_original("SQSBackend.delete_message_batch"), "visible-moto"),
        (moto_sqs_patch.delete_message_batch, "visible-ours"),
    ):
        queue, batch = _behind(backend, name, 20)
        backend.change_message_visibility(name, batch[0].receipt_handle, 0)
        assert batch[0] not in queue.pending_messages
        entries = [{"Id": f"e{i}", "ReceiptHandle": m.receipt_handle} for i, m in enumerate(batch[:3])]
        answers.append(delete(backend, name, entries))
        left.append(sorted(m.body for m in queue._messages))
    assert answers[0] == answers[1] == (["e0", "e1", "e2"], [])
    assert left[0] == left[1]
    assert len(left[1]) == 27


def test_a_received_message_is_filtered_on_a_copy_the_kept_one_keeps_its_attributes(backend: Any) -> None:
    backend.create_queue("attributes")
    attributes = {
        "kind": {"DataType": "String", "StringValue": "event"},
        "team": {"DataType": "String", "StringValue": "payments"},
    }
    sent = backend.send_message("attributes", "body", message_attributes=attributes)
    only_kind = backend.receive_message("attributes", 1, 0, 0, message_attribute_names=["kind"])[0]
    assert set(only_kind.message_attributes) == {"kind"}
    assert only_kind is not sent
    assert set(sent.message_attributes) == {"kind", "team"}
    everything = backend.receive_message("attributes", 1, 0, 0, message_attribute_names=["All"])[0]
    assert set(everything.message_attributes) == {"kind", "team"}
    assert everything.receipt_handle == sent.receipt_handle
    assert sqs_models.deepcopy is moto_sqs_patch.receive_copy
    # Anything else moto deep-copies there (the FIFO groups being received) is still deep-copied.
    groups = {"g": {"nested": [1]}}
    copied = moto_sqs_patch.receive_copy(groups)
    assert copied == groups
    assert copied["g"] is not groups["g"]
