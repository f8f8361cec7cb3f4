"""GetExecutionHistory's paging as AWS documents it: page size, both directions, opaque page tokens.

Pages are cut by event id, not by position, so a history that grows while someone pages through it never
repeats or skips an event: a forward token says "continue at id N", a reverse token "continue at id N and
below". Tokens are signed with a key that lives as long as the sandbox process, carry the direction and
the execution they were issued for, and expire after 24 hours as AWS's do; anything else is InvalidToken.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from console.sandbox.stepfunctions.errors import InvalidToken, ValidationException

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
TOKEN_LIFETIME = 24 * 3600.0
# What includeExecutionData=false leaves out: the data of the execution, not the shape of its history.
EXECUTION_DATA_KEYS = ("input", "inputDetails", "output", "outputDetails")


@dataclass(frozen=True)
class HistoryPage:
    """One page of an execution's history and the token of the next one (None on the last page)."""

    events: list[dict[str, Any]]
    next_token: str | None


class PageTokens:
    """Issues and checks the opaque `nextToken` of GetExecutionHistory."""

    def __init__(self, key: bytes | None = None, clock: Any = time.time) -> None:
        self._key = key or os.urandom(32)
        self._clock = clock

    def issue(self, execution_arn: str, reverse: bool, next_id: int) -> str:
        body = json.dumps(
            {"e": self._digest(execution_arn), "r": reverse, "n": next_id, "t": int(self._clock())},
            separators=(",", ":"),
        ).encode()
        signature = hmac.new(self._key, body, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(signature + body).decode().rstrip("=")

    def next_id(self, token: str, execution_arn: str, reverse: bool) -> int:
        """The event id a token continues at; InvalidToken if it was not issued for this very request."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise InvalidToken("the nextToken is malformed") from None
        signature, body = raw[:16], raw[16:]
        if not hmac.compare_digest(signature, hmac.new(self._key, body, hashlib.sha256).digest()[:16]):
            raise InvalidToken("the nextToken was not issued by this endpoint")
        try:
            fields = json.loads(body)
            digest, token_reverse, next_id, issued = fields["e"], fields["r"], int(fields["n"]), float(fields["t"])
        except (ValueError, KeyError, TypeError):
            raise InvalidToken("the nextToken is malformed") from None
        if digest != self._digest(execution_arn) or token_reverse != reverse:
            raise InvalidToken("the nextToken belongs to a different request; keep all other arguments unchanged")
        if self._clock() - issued > TOKEN_LIFETIME:
            raise InvalidToken("the nextToken has expired")
        return next_id

    @staticmethod
    def _digest(execution_arn: str) -> str:
        return hashlib.sha256(execution_arn.encode()).hexdigest()[:16]


def page_size(max_results: int | None) -> int:
    """AWS's rule: absent or 0 means 100; at most 1000."""
    if max_results is None or max_results == 0:
        return DEFAULT_PAGE_SIZE
    if max_results < 0:
        raise ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
            "Member must have value greater than or equal to 0"
        )
    if max_results > MAX_PAGE_SIZE:
        raise ValidationException(
            f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {MAX_PAGE_SIZE}"
        )
    return max_results


def history_page(
    events: Sequence[dict[str, Any]],
    *,
    execution_arn: str,
    tokens: PageTokens,
    max_results: int | None = None,
    reverse: bool = False,
    next_token: str | None = None,
    include_execution_data: bool = True,
) -> HistoryPage:
    """Cut one page out of `events` (the whole history, ids ascending)."""
    size = page_size(max_results)
    start = tokens.next_id(next_token, execution_arn, reverse) if next_token else None
    recorded = as_recorded(sorted(events, key=lambda e: int(e["id"])))
    if reverse:
        ordered = recorded[::-1]
        eligible = [e for e in ordered if start is None or int(e["id"]) <= start]
    else:
        ordered = recorded
        eligible = [e for e in ordered if start is None or int(e["id"]) >= start]
    chosen = eligible[:size]
    token = None
    if len(eligible) > size:
        following = int(eligible[size]["id"])
        token = tokens.issue(execution_arn, reverse, following)
    selected = [_without_data(e) for e in chosen] if not include_execution_data else [dict(e) for e in chosen]
    return HistoryPage(selected, token)


# An execution's history ends with one of these, and goes on only when the execution is redriven.
_ENDS = frozenset({"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"})


def as_recorded(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`events` (ids ascending) as AWS records them: nothing after the execution's end until it is redriven.

    moto's interpreter runs a Map's iterations on threads of their own: when one fails, the execution fails while
    another iteration may still finish and append its MapIterationSucceeded after ExecutionFailed. AWS aborts
    the others, and a reader takes the last event for the execution's end."""
    recorded: list[dict[str, Any]] = []
    ended = False
    for event in events:
        kind = event.get("type")
        if ended and kind != "ExecutionRedriven":
            continue
        recorded.append(event)
        ended = kind in _ENDS
    return recorded


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(event)
    for key, value in stripped.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            for data_key in EXECUTION_DATA_KEYS:
                value.pop(data_key, None)
    return stripped
