"""Reads a team shares: what one console reads of a resource, the others on the events topic apply as their own.

A team's consoles each read every resource under a share of the account's budget, so a change that no event
carries (how a stage's conditions evaluate, a transition disabled, the states an execution enters) reaches each
console only when that console reads the resource itself, and a cold team reads the structures of a large fleet
at a share of one bucket each. With a topic, a console that reads a resource publishes what it read to the topic
(SNS `Publish`, beside the EventBridge events); every other console gets it in its own queue within a fraction
of a second and lays it over its model like a read of its own, if it is not older than what that console
already has (AWS's times decide, never the consoles' clocks). One read then serves the whole team. What each
service shares, and how it is applied, is its own (`console/codepipeline/sharing.py`, the pollers' and the
history follower's `apply_shared`); no token is ever part of it.

A console publishes one read at a time, and what came while the last was being sent goes together in the next
message (kind `shared-reads`: the reads, each as it would be alone), filling at most one 64 KiB chunk, the unit
SNS and SQS bill by: a team's every message reaches every console's queue, so a busy team sends fewer, fuller
ones instead of one a read. A read alone is sent alone, as consoles before bundles send it.

The message is JSON with a `wavedeck` key naming its kind and a version: a console that does not know the kind
or the version ignores it (as it ignores any message that is not an event it reads), so consoles of different
versions can share a topic. What is read is the service's own payload (its model, through
`console/cache_codec.py`); the envelope says whose it is: the account and region (a topic can carry other
accounts' events through a cross-account bus, and a name is unique only within both), the service, what was read
(the API) and of which resource, when it was read (the sender's clock, used only to age the picture), and who
sent it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

KIND = "shared-read"
BUNDLE = "shared-reads"  # several reads in one message, each as it would be alone
TEAM = "team"  # a transition's source when another console of the team read what it tells (`Transition.source`)
VERSION = 1
# SNS takes 256 KiB a message; a read larger than this is not shared (each console reads it itself).
MAX_BYTES = 240 * 1024
# A bundle fills one 64 KiB chunk at most (SNS and SQS bill by it); a read larger than that goes alone.
BUNDLE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class SharedRead:
    """One read as a console shared it."""

    id: str  # unique per message: SNS can deliver a message twice
    sender: str  # the console that read it (`new_sender()`); a console skips its own
    account: str
    region: str
    service: str  # the service's name in the registry (`codepipeline`)
    api: str  # what was read (`GetPipelineState`, `GetPipeline`)
    resource: str  # the resource's name within the account and region (a pipeline's name)
    read_at: datetime  # by the sender's clock
    payload: dict[str, Any]  # the service's encoded read


def new_sender() -> str:
    """An id for this console's messages (random: two consoles of one person on one host differ)."""
    return secrets.token_hex(8)


def encode_shared(read: SharedRead) -> str | None:
    """The message for `read`, or None when it is too large for SNS."""
    body = json.dumps(
        {
            "wavedeck": KIND,
            "version": VERSION,
            "id": read.id,
            "sender": read.sender,
            "account": read.account,
            "region": read.region,
            "service": read.service,
            "api": read.api,
            "resource": read.resource,
            "read_at": read.read_at.astimezone(UTC).isoformat(),
            "payload": read.payload,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return body if len(body.encode()) <= MAX_BYTES else None


def encode_bundle(bodies: list[str]) -> str:
    """One message for the reads encoded as `bodies` (`encode_shared`'s): the read itself when it is alone."""
    if len(bodies) == 1:
        return bodies[0]
    return f'{{"wavedeck":"{BUNDLE}","version":{VERSION},"reads":[{",".join(bodies)}]}}'


def parse_shared(body: str) -> SharedRead | None:
    """The shared read in a message body, or None when the body is no single shared read of a version this
    console reads (an EventBridge event, another kind, a newer version, or a malformed one)."""
    document = _document(body)
    return None if document is None else _read_of(document)


def parse_shared_reads(body: str) -> tuple[SharedRead, ...]:
    """Every shared read in a message body: one read, or a bundle's (each malformed one left out); none when the
    body is neither (an EventBridge event, another kind or version)."""
    document = _document(body)
    if document is None:
        return ()
    if document.get("wavedeck") == BUNDLE and document.get("version") == VERSION:
        reads = document.get("reads")
        if not isinstance(reads, list):
            return ()
        found = (_read_of(read) for read in reads if isinstance(read, dict))
        return tuple(read for read in found if read is not None)
    read = _read_of(document)
    return () if read is None else (read,)


def _document(body: str) -> dict[str, Any] | None:
    if '"wavedeck"' not in body:  # the events' bodies, most of a queue's traffic, without parsing them twice
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _read_of(document: dict[str, Any]) -> SharedRead | None:
    if document.get("wavedeck") != KIND or document.get("version") != VERSION:
        return None
    texts = [document.get(key) for key in ("id", "sender", "account", "region", "service", "api", "resource")]
    payload = document.get("payload")
    if not all(isinstance(text, str) and text for text in texts) or not isinstance(payload, dict):
        return None
    try:
        read_at = datetime.fromisoformat(str(document.get("read_at")))
    except ValueError:
        return None
    if read_at.tzinfo is None:
        return None
    message_id, sender, account, region, service, api, resource = (str(text) for text in texts)
    return SharedRead(message_id, sender, account, region, service, api, resource, read_at.astimezone(UTC), payload)
