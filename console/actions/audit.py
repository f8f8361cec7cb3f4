"""Append-only audit log: one JSON object per line, written and fsynced before and after every action.

The action gate writes an `intent` record before it calls AWS and a `result` record after (with AWS's request
id, or the error). If the intent cannot be written the action is not sent: no audit, no action. Secrets (approval
and task tokens) are never written; a short digest identifies them instead.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.errors import WavedeckError


class AuditError(WavedeckError):
    """The audit log cannot be written; the action that wanted it is refused."""


def token_digest(token: str) -> str:
    """Identify a token in the log without writing the token itself."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def operator() -> str:
    """Who sits at the keyboard: the local user@host (the audit log's `operator`, a template's {operator})."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


class AuditLog:
    """JSON Lines, opened in append mode for every record, fsynced, created with owner-only permissions."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.operator = operator()
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append one record (adding time and operator) and return it as written."""
        entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        entry["operator"] = self.operator
        entry.update(record)
        line = json.dumps(entry, ensure_ascii=False, default=str, separators=(",", ":")) + "\n"
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line.encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                raise AuditError(f"cannot write the audit log {self.path}: {exc.strerror or exc}") from None
        return entry

    def records(self) -> Iterator[dict[str, Any]]:
        """Every record in order (a torn last line, from a crash mid-write, is skipped)."""
        try:
            with self.path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        yield json.loads(line)
                    except ValueError:
                        continue
        except FileNotFoundError:
            return
