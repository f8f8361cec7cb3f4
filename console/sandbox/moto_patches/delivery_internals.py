"""The moto internals the event delivery patches plug into, and a check that they are still where they were.

`moto_events_patch` and `moto_sqs_patch` replace a few methods of moto's EventBridge and SQS models
wholesale (each replacement is a port of moto's own code, minus what made it slow). `moved()` lists every
touch point a moto release has moved or renamed; `changed_sources()` lists the replaced methods whose moto
source differs from the one the replacement was ported from (tests/sandbox/test_moto_internals_events.py
fails on either: re-read the named moto code, port its change, then record the new fingerprint).
"""

from __future__ import annotations

from typing import Any

from console.sandbox.moto_patches import touch_points

_EVENTS = "moto.events"
_SQS = "moto.sqs.models"

# (module, dotted attribute, parameters it must accept)
TOUCH_POINTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (f"{_EVENTS}.utils", "EventTemplateParser.parse", ("input_template", "input_paths_map", "event")),
    (f"{_EVENTS}.utils", "EventTemplateParser._stringify", ("result",)),
    (f"{_EVENTS}.utils", "EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE", ()),
    (f"{_EVENTS}.utils", "EventTemplateParser.DEFAULT_EVENT_INPUT_PATHS_MAP", ()),
    (f"{_EVENTS}.models", "Rule.send_to_targets", ("original_event", "transform_input")),
    (f"{_EVENTS}.models", "Rule._send_to_sqs_queue", ("resource_id", "event", "group_id")),
    (f"{_EVENTS}.models", "EventsBackend.put_events", ("events",)),
    # sns_targets.py: rules targeting an SNS topic (Rule.targets and .event_pattern are read on instances;
    # tests/sandbox/test_events_fanout.py delivers through them end to end), published through moto's SNS.
    ("moto.sns.models", "SNSBackend.publish", ("message", "arn")),
    ("moto.sns.models", "sns_backends", ()),
    ("moto.utilities.arns", "parse_arn", ("arn",)),
    ("jsonpath_ng.ext.parser", "parse", ()),
    # dispatch.py: the server's dispatcher remembers each host's backend (get_application calls it per request).
    ("moto.moto_server.werkzeug_app", "DomainDispatcherApplication.__init__", ("create_app",)),
    ("moto.moto_server.werkzeug_app", "DomainDispatcherApplication.get_backend_for_host", ("host",)),
    ("moto.moto_server.werkzeug_app", "DomainDispatcherApplication.get_application", ("environ",)),
    # method_names.py: the list of a response class's methods each request asks for, kept per class.
    ("moto.core.responses", "method_names_from_class", ("clazz",)),
    (
        _SQS,
        "SQSBackend.send_message",
        (
            "queue_name",
            "message_body",
            "message_attributes",
            "delay_seconds",
            "deduplication_id",
            "group_id",
            "system_attributes",
            "validate_group_id",
        ),
    ),
    (_SQS, "SQSBackend.get_queue", ("queue_name",)),
    (
        _SQS,
        "SQSBackend._validate_message",
        ("queue", "message_body", "delay_seconds", "deduplication_id", "group_id", "validate_group_id"),
    ),
    (_SQS, "SQSBackend.is_message_valid_based_on_retention_period", ("queue_name", "message")),
    (_SQS, "Queue.messages", ()),
    (_SQS, "Queue.approximate_number_of_messages_delayed", ()),
    (_SQS, "Queue.approximate_number_of_messages_not_visible", ()),
    (_SQS, "Queue.delete_message", ("receipt_handle",)),
    (_SQS, "SQSBackend.delete_message_batch", ("queue_name", "receipts")),
    (_SQS, "generate_receipt_handle", ()),
    (_SQS, "Message.mark_received", ("visibility_timeout",)),
    (_SQS, "Queue.add_message", ("message",)),
    (_SQS, "Message.__init__", ("message_id", "body", "system_attributes")),
    (_SQS, "Message.mark_sent", ("delay_seconds",)),
    (_SQS, "MAXIMUM_MESSAGE_DELAY", ()),
    (_SQS, "InvalidParameterValue", ()),
    (_SQS, "ReceiptHandleIsInvalid", ()),
    (_SQS, "unix_time_millis", ()),
    (_SQS, "random.uuid4", ()),
    (_SQS, "random.choices", ()),
    (_SQS, "deepcopy", ()),
    (_SQS, "_filter_message_attributes", ("message", "input_message_attributes")),
    (_SQS, "SQSBackend.receive_message", ("queue_name", "count", "wait_seconds_timeout", "visibility_timeout")),
)

# Methods replaced wholesale → sha256 (first 16 hex) of the moto 5.2.5 source they were ported from.
REPLACED_SOURCES: dict[tuple[str, str], str] = {
    (f"{_EVENTS}.utils", "EventTemplateParser.parse"): "40a5a46a321811bb",
    (_SQS, "SQSBackend.send_message"): "bf161af09a9e6b86",
    (_SQS, "SQSBackend.is_message_valid_based_on_retention_period"): "cca23b94a5f3af9d",
    (_SQS, "Queue.messages"): "03a531dbcbcf9aee",
    (_SQS, "Queue.approximate_number_of_messages_delayed"): "c3c1dadb0c42ed5f",
    (_SQS, "Queue.approximate_number_of_messages_not_visible"): "5dbecc4dda174358",
    (_SQS, "Queue.delete_message"): "fa6fd5b9bd2cafb4",
    (_SQS, "SQSBackend.delete_message_batch"): "53c0bc5d5f51468a",
    (_SQS, "generate_receipt_handle"): "10853f98152c8dab",
    # Not replaced, but what the replacements of the three properties above compare timestamps for.
    (_SQS, "Message.visible"): "5129b573308de62a",
    (_SQS, "Message.delayed"): "e2fd48abf582683a",
    # Not replaced, but where a receive takes its new handle (`generate_receipt_handle`, by its module's name).
    (_SQS, "Message.mark_received"): "98e7ec115c7fcb9f",
    # Not replaced, but what makes a shallow copy of a received message enough (`receive_copy`): the receive
    # copies each message it hands out, the filter replaces the copy's attribute dict, the answer reads it.
    (_SQS, "SQSBackend.receive_message"): "065f3e5e7d214408",
    (_SQS, "_filter_message_attributes"): "2e61eb0503c8ea0a",
    ("moto.sqs.responses", "SQSResponse.receive_message"): "0027050ecd1294f8",
}

# Attributes of moto objects that exist only once an instance does: (module, class, attribute names).
INSTANCE_ATTRIBUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        _SQS,
        "Queue",
        (
            "_messages",
            "_messages_lock",
            "_pending_messages",
            "deleted_messages",
            "fifo_queue",
            "delay_seconds",
            "message_retention_period",
        ),
    ),
    (
        _SQS,
        "Message",
        (
            "visible_at",
            "delayed_until",
            "sent_timestamp",
            "receipt_handle",
            "_old_receipt_handles",
            "message_attributes",
        ),
    ),
)


def original(module: str, dotted: str) -> Any:
    """The attribute as moto defines it (a property stays a property), even after a patch replaced it."""
    return touch_points.original(module, dotted)


def remember_originals() -> None:
    """Keep moto's own versions of what the patches replace (call before patching)."""
    touch_points.remember_originals(REPLACED_SOURCES)


def moved() -> list[str]:
    """Every touch point that is missing or no longer takes the parameters the patches pass."""
    return touch_points.moved(TOUCH_POINTS, INSTANCE_ATTRIBUTES, REPLACED_SOURCES, build=_instance)


def changed_sources() -> list[str]:
    """Replaced moto methods whose source is not the one the replacement was ported from."""
    return touch_points.changed_sources(REPLACED_SOURCES)


def _instance(module: str, cls: str) -> Any:
    if cls == "Queue":
        return touch_points.resolve(module, cls)("probe", region="us-east-1", account_id="123456789012")
    return touch_points.resolve(module, cls)("id", "body")
