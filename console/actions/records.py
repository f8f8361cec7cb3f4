"""The audit records of one action: the intent written before the call, the result written after it.

Both carry the same `id`, the target, region, resource, execution and the caller's identity. Tokens never
appear: requests name them by digest, and AWS's error messages have them replaced by their digest too.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable
from typing import Any

from console.actions.audit import token_digest
from console.actions.plan import ActionPlan, Facts
from console.errors import AwsError, Refused
from console.model import Receipt, Target


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret in it replaced by its digest."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, token_digest(secret))
    return text


class ActionRecords:
    """The records of one attempt to send a plan."""

    def __init__(self, plan: ActionPlan, facts: Facts, target: Target, identity: str) -> None:
        self.plan = plan
        self.facts = facts
        self.base: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "action": plan.kind.value,
            "target": plan.selection.target,
            "region": target.region,
            "resource": plan.resource,
            "execution": plan.selection.execution_id or plan.selection.execution_arn,
            "identity": identity,
        }

    def intent(self, reason: str) -> dict[str, Any]:
        plan, facts = self.plan, self.facts
        request = dict(facts.request)
        if facts.answer is not None:
            # The body exactly as sent (the same text `send` builds), a token in it replaced by its digest.
            body = json.loads(scrub(facts.answer.text(reason), facts.secrets))
            if facts.answer.approve:
                request["output"] = body
            else:
                request.update({key: body[key] for key in ("error", "cause") if key in body})
        return {
            "phase": "intent",
            **self.base,
            "wave": plan.wave.name if plan.wave else None,
            "production": plan.production,
            "reason": reason,
            "operation": facts.operation,
            "request": request,
            "plan": dict(plan.lines),
        }

    def succeeded(self, receipt: Receipt, new_execution: str | None) -> dict[str, Any]:
        return {
            "phase": "result",
            **self.base,
            "operation": receipt.operation or self.facts.operation,
            "outcome": "succeeded",
            "request_id": receipt.request_id,
            "new_execution": new_execution,
        }

    def not_sent(self, why: str) -> dict[str, Any]:
        """The intent was written, then the call was never made (cancelled, refused at the last moment)."""
        return {
            "phase": "result",
            **self.base,
            "operation": self.facts.operation,
            "outcome": "not-sent",
            "error": {"type": "NotSent", "message": why},
        }

    def failed(self, exc: BaseException) -> dict[str, Any]:
        """The result of a call that raised: AWS's error (failed), or an interruption (unknown: AWS may have it)."""
        record: dict[str, Any] = {"phase": "result", **self.base, "operation": self.facts.operation}
        secrets = self.facts.secrets
        if isinstance(exc, AwsError):
            record["outcome"] = "failed"
            record["request_id"] = exc.request_id
            record["error"] = {"type": type(exc).__name__, "code": exc.code, "message": scrub(exc.message, secrets)}
        elif isinstance(exc, Refused):
            # The gateway's own last check (read-only): nothing went out.
            record["outcome"] = "not-sent"
            record["error"] = {"type": "Refused", "message": scrub(exc.message, secrets)}
        elif isinstance(exc, asyncio.CancelledError):
            record["outcome"] = "unknown"
            record["error"] = {"type": "Cancelled", "message": "cancelled while the call was in flight"}
        elif not isinstance(exc, Exception):
            record["outcome"] = "unknown"
            record["error"] = {"type": type(exc).__name__, "message": "interrupted while the call was in flight"}
        else:
            # Not AWS's answer but something unforeseen on the way: whether the call got there is not known.
            record["outcome"] = "unknown"
            record["error"] = {"type": type(exc).__name__, "message": scrub(str(exc), secrets)}
        return record


def outcome_message(facts: Facts, receipt: Receipt, new_execution: str | None) -> str:
    message = facts.done
    if new_execution:
        message += f"; new execution {new_execution}"
    if receipt.request_id:
        message += f" (request id {receipt.request_id})"
    return message
