"""What the sandbox remembers about an execution beyond moto's own fields: redrives and where a run stopped.

A RunRecord hangs off moto's Execution object (one per execution, created on first use). The top-level
loop writes the state it enters and that state's input into it, which is where a redrive resumes.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

REDRIVABLE_FOR = timedelta(days=14)
HISTORY_EVENT_LIMIT = 24_999
# AWS answers a repeated RedriveExecution idempotently for the last 10 client tokens, for 15 minutes.
CLIENT_TOKENS_KEPT = 10
CLIENT_TOKEN_LIFETIME = timedelta(minutes=15)
_ATTRIBUTE = "_wavedeck_run"
_create_lock = threading.Lock()


@dataclass
class RunRecord:
    """Redrive bookkeeping of one execution (mutable: it follows the execution through its runs)."""

    redrive_count: int = 0
    redrive_date: datetime | None = None
    client_tokens: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)  # token → (used, redrive)
    resume_state: str | None = None
    resume_input: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def entered(self, state: str | None, state_input: Any) -> None:
        """The top-level loop is about to run `state` with `state_input`."""
        snapshot = copy.deepcopy(state_input)
        with self.lock:
            self.resume_state = state
            self.resume_input = snapshot

    def redriven_by(self, client_token: str | None, now: datetime) -> datetime | None:
        """The redriveDate of an earlier RedriveExecution with this client token, if it still counts."""
        if not client_token:
            return None
        used = self.client_tokens.get(client_token)
        if used is None or now - used[0] > CLIENT_TOKEN_LIFETIME:
            return None
        return used[1]

    def redriven(self, client_token: str | None, now: datetime) -> int:
        """Count a redrive that starts now; returns the new redriveCount."""
        self.redrive_count += 1
        self.redrive_date = now
        if client_token:
            self.client_tokens[client_token] = (now, now)
            while len(self.client_tokens) > CLIENT_TOKENS_KEPT:
                self.client_tokens.pop(next(iter(self.client_tokens)))
        return self.redrive_count

    def resume_point(self) -> tuple[str | None, Any]:
        with self.lock:
            return self.resume_state, copy.deepcopy(self.resume_input)

    def not_redrivable_reason(self, execution: Any, now: datetime | None = None) -> str | None:
        """AWS's redriveStatusReason, or None when RedriveExecution would be accepted."""
        if is_express(execution):
            return "Execution is of type EXPRESS and cannot be redriven"
        status = execution.status
        if status in ("RUNNING", "SUCCEEDED"):
            return f"Execution is {status} and cannot be redriven"
        stopped = execution.stop_date
        if stopped is not None and (now or datetime.now(UTC)) - stopped > REDRIVABLE_FOR:
            return "Execution redrivable period exceeded"
        if history_length(execution) >= HISTORY_EVENT_LIMIT:
            return "Execution history event limit exceeded"
        return None


def run_record(execution: Any) -> RunRecord:
    record = getattr(execution, _ATTRIBUTE, None)
    if record is None:
        with _create_lock:
            record = getattr(execution, _ATTRIBUTE, None)
            if record is None:
                record = RunRecord()
                setattr(execution, _ATTRIBUTE, record)
    return record


def is_express(execution: Any) -> bool:
    # moto's parser marks every execution STANDARD; the state machine snapshot knows the real type.
    return getattr(execution.state_machine, "type", "STANDARD") == "EXPRESS"


def history_length(execution: Any) -> int:
    worker = execution.exec_worker
    env = worker.env if worker is not None else None
    # Read the length only: copying a long history on every DescribeExecution would be wasteful.
    return len(env.event_manager._history_event_list) if env is not None else 0


def execution_output(execution: Any) -> str | None:
    """The output as AWS returns it: a JSON string once the execution succeeded, else None."""
    if execution.status != "SUCCEEDED":
        return None
    if isinstance(execution.output, str):
        return execution.output
    return str(to_json_str(execution.output, separators=(",", ":")))
