"""Append-only audit log: one JSON object per line, written and fsynced before and after every action.

The action gate writes an `intent` record before it calls AWS and a `result` record after (with AWS's request
id, or the error). If the intent cannot be written the action is not sent: no audit, no action. Secrets (approval
and task tokens) are never written; a short digest identifies them instead.

A record counts as written only when every byte of it is on disk: short writes are looped over, an error (a
full disk, a file-size limit) raises and the torn bytes are cut off again, and the file is fsynced. The log is
opened without following a symlink and must be a regular file of the operator's that nobody else can write:
records carry text from AWS, so a log planted by someone else (or shared with them) is refused.
"""

from __future__ import annotations

import errno
import fcntl
import getpass
import hashlib
import json
import os
import socket
import stat
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


# No symlink followed; and a FIFO planted as the log fails at once instead of blocking until someone reads it.
_NO_FOLLOW_NO_BLOCK = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _append_whole(fd: int, data: bytes) -> None:
    """Write all of `data` at the end of the file and fsync it, or leave the file as it was and raise."""
    start = os.fstat(fd).st_size
    written = 0
    try:
        while written < len(data):
            count = os.write(fd, data[written:])
            if count <= 0:
                raise OSError(errno.EIO, "the write made no progress")
            written += count
        os.fsync(fd)
    except OSError:
        # A torn record would also spoil the next one; cut it off (best effort) before reporting.
        try:
            os.ftruncate(fd, start)
            os.fsync(fd)
        except OSError:
            pass
        raise


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
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NO_FOLLOW_NO_BLOCK, 0o600)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise AuditError(f"the audit log {self.path} is a symbolic link; refusing to follow it") from None
                raise AuditError(f"cannot write the audit log {self.path}: {exc.strerror or exc}") from None
            try:
                self._check(os.fstat(fd))
                # Other processes append too: one record at a time, and the end of the file known.
                fcntl.flock(fd, fcntl.LOCK_EX)
                _append_whole(fd, line.encode("utf-8"))
            except OSError as exc:
                raise AuditError(f"cannot write the audit log {self.path}: {exc.strerror or exc}") from None
            finally:
                os.close(fd)
        return entry

    def _check(self, info: os.stat_result) -> None:
        """Refuse a log that is not a regular file of this user's, or that others may write."""
        if not stat.S_ISREG(info.st_mode):
            raise AuditError(f"the audit log {self.path} is not a regular file")
        if info.st_uid != os.geteuid():
            raise AuditError(f"the audit log {self.path} belongs to another user (uid {info.st_uid})")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise AuditError(
                f"the audit log {self.path} can be written by others (mode {stat.S_IMODE(info.st_mode):o}); "
                f"make it private with chmod 600"
            )

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
