"""SQS without whole-queue scans on every call: what moto's queues cost the sandbox's event delivery.

EventBridge delivers each event with `SQSBackend.send_message`, and the console's push stream reads with
ReceiveMessage and DeleteMessageBatch. moto made each of them scan the queue, slowly:

- `send_message` built every queue attribute to read ContentBasedDeduplication, which a standard queue
  does not have; the three ApproximateNumberOf* counts among them each walked the queue.
- `is_message_valid_based_on_retention_period` (once per message received) built them three times more.
- Each walk asked every message `visible` and `delayed`, and each of those read the clock through
  datetime arithmetic: tens of microseconds per message, so a send to a queue of a thousand events took
  tens of milliseconds.
- `Queue.delete_message` walked the queue twice per receipt handle, and stored the new message list
  without the lock sends append under: a message sent between the end of the walk and the store was lost.
  DeleteMessageBatch (what the console sends after each receive) made that walk once per entry, up to ten.
- Each receive made the message a new receipt handle from 185 draws of `random.choice`, one call each, and
  deep-copied every message it handed out.
- DeleteMessageBatch matched every message of the queue against the batch: a console that was behind had
  thousands waiting, and each delete cost more the further behind it was.

A team of consoles, each reading its own queue on the events topic, turned these into most of what the
sandbox spent: every event and every shared read reaches every console's queue, is received and deleted.

The replacements below are moto 5.2's own methods with those costs taken out: the clock read once per walk,
attributes read directly, one walk per delete, under the lock. What clients see does not change.
FIFO queues keep moto's `send_message` as it is (their deduplication needs the attributes).
"""

from __future__ import annotations

import copy
import string
from collections.abc import Collection
from typing import Any

from moto.sqs import models

from console.sandbox.moto_patches.delivery_internals import original

# moto's SQS models module: its helpers (clock, ids, errors) are imported names there, not exports.
sqs: Any = models

_original_send_message = original("moto.sqs.models", "SQSBackend.send_message")


def send_message(
    self: Any,
    queue_name: str,
    message_body: str,
    message_attributes: dict[str, Any] | None = None,
    delay_seconds: int | None = None,
    deduplication_id: str | None = None,
    group_id: str | None = None,
    system_attributes: dict[str, Any] | None = None,
    validate_group_id: bool = True,
) -> Any:
    """moto's `SQSBackend.send_message`; for a standard queue, without building every attribute."""
    queue = self.get_queue(queue_name)
    if queue.fifo_queue:
        return _original_send_message(
            self,
            queue_name,
            message_body,
            message_attributes,
            delay_seconds,
            deduplication_id,
            group_id,
            system_attributes,
            validate_group_id,
        )

    self._validate_message(
        queue,
        message_body=message_body,
        delay_seconds=int(delay_seconds or 0),
        deduplication_id=deduplication_id,
        group_id=group_id,
        validate_group_id=validate_group_id,
    )

    delay: int = int(delay_seconds) if delay_seconds is not None else queue.delay_seconds

    message_id = str(sqs.random.uuid4())
    message = sqs.Message(message_id, message_body, system_attributes)

    # moto computes a content-based deduplication id here when the queue's ContentBasedDeduplication is
    # "true": only FIFO queues have that attribute, and they took moto's own path above.

    if deduplication_id is not None:
        message.deduplication_id = deduplication_id
        message.sequence_number = "".join(sqs.random.choice(string.digits) for _ in range(20))

    if group_id is not None:
        message.group_id = group_id

    if message_attributes:
        message.message_attributes = message_attributes

    if delay > sqs.MAXIMUM_MESSAGE_DELAY:
        msg = f"Value {delay} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
        raise sqs.InvalidParameterValue(msg)

    message.mark_sent(delay_seconds=delay)
    queue.add_message(message)
    return message


def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
    """moto's check, reading MessageRetentionPeriod from the queue instead of building every attribute."""
    retention_period = self.get_queue(queue_name).message_retention_period
    retain_until = retention_period + message.sent_timestamp / 1000
    return bool(retain_until > sqs.unix_time())


# Message.visible is `now > visible_at` and Message.delayed is `now < delayed_until`, each with its own
# clock reading; the walks below read the clock once.


def messages(self: Any) -> list[Any]:
    """`Queue.messages`: the messages visible now and not delayed."""
    now = sqs.unix_time_millis()
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def approximate_number_of_messages_delayed(self: Any) -> int:
    now = sqs.unix_time_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)


def approximate_number_of_messages_not_visible(self: Any) -> int:
    now = sqs.unix_time_millis()
    return sum(1 for m in self._messages if not now > m.visible_at)


def delete_messages(queue: Any, receipt_handles: Collection[str]) -> set[str]:
    """Delete the messages of `receipt_handles` (current or earlier handles) in one walk of `queue`, under the
    lock `add_message` appends under. Returns the handles that are now deleted: those that matched a message and
    those deleted before (deleting again succeeds, as in moto); any other is invalid.

    A handle comes from a receive, so its message is almost always among the queue's received ones
    (`pending_messages`, a console's last batch or two): those are matched, and found in the queue by identity
    from its front, where a console's batch is. Only a handle none of them holds (its message made visible
    again, or not there) makes the walk match every message, as moto's does. A console that is behind has
    thousands of messages waiting; matching each of them against the batch was most of what a delete cost.
    """
    wanted = {handle for handle in receipt_handles if handle not in queue.deleted_messages}
    if wanted:
        with queue._messages_lock:
            gone = _received_holding(queue, wanted)
            kept = None if gone is None else _without(queue._messages, gone)
            if gone is None or kept is None:  # a handle none of them holds, or one that has left the queue
                kept, gone = [], []
                for message in queue._messages:
                    (gone if _holds(message, wanted) else kept).append(message)
            # Delete message from queue regardless of pending state
            for message in gone:
                queue.pending_messages.discard(message)
                queue.deleted_messages.update(message.all_receipt_handles)
            if gone:
                queue._messages = kept
    return {handle for handle in receipt_handles if handle in queue.deleted_messages}


def _holds(message: Any, handles: set[str]) -> bool:
    return message.receipt_handle in handles or not handles.isdisjoint(message._old_receipt_handles)


def _without(messages: list[Any], gone: list[Any]) -> list[Any] | None:
    """`messages` less `gone`, found from the front (a console receives the oldest first, so its batch is at the
    head of its queue, before everything still waiting), or None when one of them is not there."""
    ids = {id(message) for message in gone}
    at: list[int] = []
    for index, message in enumerate(messages):
        if id(message) in ids:
            at.append(index)
            if len(at) == len(ids):
                break
    else:
        return None
    kept: list[Any] = []
    start = 0
    for index in at:
        kept += messages[start:index]
        start = index + 1
    kept += messages[start:]
    return kept


def _received_holding(queue: Any, wanted: set[str]) -> list[Any] | None:
    """The received messages holding the wanted handles, or None when some handle is held by none of them: then
    the whole queue is matched. A handle is one message's alone."""
    holding = [message for message in queue.pending_messages if _holds(message, wanted)]
    matched: set[str] = set()
    for message in holding:
        matched.update(wanted.intersection(message.all_receipt_handles))
    return holding if matched == wanted else None


def delete_message(self: Any, receipt_handle: str) -> None:
    """`Queue.delete_message`: one walk, under the lock `add_message` appends under."""
    if not delete_messages(self, (receipt_handle,)):
        raise sqs.ReceiptHandleIsInvalid()


def delete_message_batch(self: Any, queue_name: str, receipts: list[dict[str, Any]]) -> tuple[list[str], list[Any]]:
    """`SQSBackend.delete_message_batch`: one walk of the queue for the whole batch, not one per entry."""
    deleted = delete_messages(self.get_queue(queue_name), [entry["ReceiptHandle"] for entry in receipts])
    success: list[str] = []
    errors: list[dict[str, Any]] = []
    for entry in receipts:
        if entry["ReceiptHandle"] in deleted:
            success.append(entry["Id"])
        else:
            errors.append(
                {
                    "Id": entry["Id"],
                    "SenderFault": True,
                    "Code": "ReceiptHandleIsInvalid",
                    "Message": f'The input receipt handle "{entry["ReceiptHandle"]}" is not a valid receipt handle.',
                }
            )
    return success, errors


def generate_receipt_handle() -> str:
    """moto's receipt handle (185 lowercase letters from moto's seedable random) in one draw, not 185."""
    return "".join(sqs.random.choices(string.ascii_lowercase, k=185))


_deepcopy = copy.deepcopy


def receive_copy(value: Any, memo: Any = None) -> Any:
    """The `deepcopy` moto's `SQSBackend.receive_message` makes of each message it hands out, so that filtering
    its attributes leaves the kept message alone. The filter replaces the message's attribute dict, never changes
    it, and the answer only reads the copy: a shallow copy does the same for a fraction of the cost (copying every
    message received, its body included, was a twentieth of what a busy sandbox spent)."""
    if type(value) is sqs.Message:
        return copy.copy(value)
    return _deepcopy(value, memo)


def install() -> None:
    replacements: tuple[tuple[type, str, Any], ...] = (
        (sqs.SQSBackend, "send_message", send_message),
        (sqs.SQSBackend, "is_message_valid_based_on_retention_period", is_message_valid_based_on_retention_period),
        (sqs.Queue, "messages", property(messages)),
        (sqs.Queue, "approximate_number_of_messages_delayed", property(approximate_number_of_messages_delayed)),
        (sqs.Queue, "approximate_number_of_messages_not_visible", property(approximate_number_of_messages_not_visible)),
        (sqs.Queue, "delete_message", delete_message),
        (sqs.SQSBackend, "delete_message_batch", delete_message_batch),
    )
    for owner, name, replacement in replacements:
        setattr(owner, name, replacement)
    sqs.generate_receipt_handle = generate_receipt_handle  # the name `Message.mark_received` calls
    sqs.deepcopy = receive_copy  # the name `SQSBackend.receive_message` copies with
