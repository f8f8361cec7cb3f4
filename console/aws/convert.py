"""AWS responses (botocore's parsed dicts) → the console's frozen dataclasses: what every service shares.

Pure functions, no IO. Every timestamp becomes an aware UTC datetime. Text from AWS is copied as it is.
Each service's own answers are converted in its module (`console/aws/codepipeline.py`,
`console/aws/stepfunctions.py`); here is what they share, and STS's and SQS's.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from console.model import Identity, QueueMessage

Json = Mapping[str, Any]


def utc(value: Any) -> datetime | None:
    """An aware UTC datetime from botocore's parsed timestamp (or epoch seconds / milliseconds, or ISO text)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value  # SQS's SentTimestamp is in milliseconds
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str):
        try:
            if value.isdigit():
                return utc(int(value))
            return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def share_strings(response: Any) -> Any:
    """`response` (botocore's parsed answer) with every text value replaced by the one shared copy of that text.

    Each answer parses into new strings: every GetPipelineState of every pipeline brings its own "Succeeded",
    "Deploy", "CodeDeploy", stage and action names, configuration keys and the execution id every stage repeats,
    and the watcher keeps each pipeline's structure, state and picture. Shared (`sys.intern`: an interned string
    is freed with its last reference, so a value that is no longer read leaves), those are one copy across the
    fleet: with 400 pipelines, the model's text went from 112,000 strings (8.5 MB) to 33,000 (3.1 MB). Changes the
    dicts and lists in place; botocore's `ResponseMetadata` (headers and request id, never kept) is left as it is."""
    intern = sys.intern
    if type(response) is dict:
        for key, value in response.items():
            kind = type(value)
            if kind is str:
                response[key] = intern(value)
            elif (kind is dict or kind is list) and key != "ResponseMetadata":
                share_strings(value)
    elif type(response) is list:
        for index, value in enumerate(response):
            kind = type(value)
            if kind is str:
                response[index] = intern(value)
            elif kind is dict or kind is list:
                share_strings(value)
    return response


def opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- STS --------------------------------------------------------------------------------------------------


def identity(response: Json) -> Identity:
    return Identity(
        account=str(response.get("Account", "")),
        arn=str(response.get("Arn", "")),
        user_id=str(response.get("UserId", "")),
    )


# --- SQS --------------------------------------------------------------------------------------------------


def queue_message(item: Json) -> QueueMessage:
    attributes: Json = item.get("Attributes") or {}
    count = attributes.get("ApproximateReceiveCount")
    return QueueMessage(
        message_id=str(item.get("MessageId", "")),
        receipt_handle=str(item.get("ReceiptHandle", "")),
        body=str(item.get("Body", "")),
        sent=utc(attributes.get("SentTimestamp")),
        receive_count=int(count) if isinstance(count, str) and count.isdigit() else 1,
    )
