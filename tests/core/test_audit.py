"""The audit log: append-only JSON lines, private, fsynced, never holding a token."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from console.actions.audit import AuditError, AuditLog, token_digest


def test_records_are_appended_as_json_lines(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "state" / "audit.jsonl")
    log.write({"phase": "intent", "action": "approve", "id": "1"})
    log.write({"phase": "result", "action": "approve", "id": "1", "request_id": "r-1"})
    lines = (tmp_path / "state" / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["phase"] for line in lines] == ["intent", "result"]
    first = json.loads(lines[0])
    assert first["time"].endswith("Z")
    assert "@" in first["operator"]
    assert [r["phase"] for r in log.records()] == ["intent", "result"]
    mode = stat.S_IMODE((tmp_path / "state" / "audit.jsonl").stat().st_mode)
    assert mode == 0o600


def test_existing_records_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"phase": "intent", "id": "old"}\n')
    AuditLog(path).write({"phase": "intent", "id": "new"})
    assert [r["id"] for r in AuditLog(path).records()] == ["old", "new"]


def test_torn_line_is_skipped_when_reading(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b"')
    assert [r["id"] for r in AuditLog(path).records()] == ["a"]


def test_unwritable_log_is_an_audit_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(AuditError, match="cannot write the audit log"):
        AuditLog(blocker / "audit.jsonl").write({"phase": "intent"})


def test_token_digest_hides_the_token() -> None:
    digest = token_digest("secret-token-value")
    assert digest.startswith("sha256:")
    assert "secret" not in digest
    assert digest == token_digest("secret-token-value")


# Writes one record with the file-size limit set so that only part of it fits: as on a nearly full disk.
LIMITED_WRITER = """
import resource, sys
from pathlib import Path
from console.actions.audit import AuditError, AuditLog

path = Path(sys.argv[1])
limit = path.stat().st_size + 100
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    AuditLog(path).write({"phase": "intent", "action": "pause", "reason": "x" * 400})
except AuditError as exc:
    print(exc)
    sys.exit(3)
"""


def test_a_record_that_does_not_fit_is_an_error_and_leaves_no_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path).write({"phase": "intent", "id": "before"})
    size = path.stat().st_size

    done = subprocess.run(
        [sys.executable, "-c", LIMITED_WRITER, str(path)], capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "cannot write the audit log" in done.stdout
    # The bytes that fitted were cut off again: the log holds whole records only, and the next one is whole.
    assert path.stat().st_size == size
    AuditLog(path).write({"phase": "intent", "id": "after"})
    lines = path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["before", "after"]


class _ShortWrites:
    """os.write that writes at most 7 bytes a call, as a signal or a pipe may make it."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = os.write

    def __call__(self, fd: int, data: bytes) -> int:
        self.calls += 1
        return self.real(fd, bytes(data[:7]))


def test_short_writes_are_looped_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    short = _ShortWrites()
    monkeypatch.setattr("console.actions.audit.os.write", short)
    AuditLog(tmp_path / "audit.jsonl").write({"phase": "intent", "reason": "r" * 100})
    assert short.calls > 10
    assert [r["reason"] for r in AuditLog(tmp_path / "audit.jsonl").records()] == ["r" * 100]


def test_a_symlinked_log_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("precious\n")
    link = tmp_path / "audit.jsonl"
    link.symlink_to(elsewhere)
    with pytest.raises(AuditError, match="is a symbolic link; refusing to follow it"):
        AuditLog(link).write({"phase": "intent"})
    assert elsewhere.read_text() == "precious\n"


def test_a_log_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "audit.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(AuditError, match="cannot write the audit log|is not a regular file"):
        AuditLog(fifo).write({"phase": "intent"})
    directory = tmp_path / "dir.jsonl"
    directory.mkdir()
    with pytest.raises(AuditError, match="cannot write the audit log"):
        AuditLog(directory).write({"phase": "intent"})


def test_a_log_others_can_write_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text("")
    path.chmod(0o662)
    with pytest.raises(AuditError, match=r"can be written by others \(mode 662\); make it private"):
        AuditLog(path).write({"phase": "intent"})
    assert path.read_text() == ""


def test_a_log_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text("")
    monkeypatch.setattr("console.actions.audit.os.geteuid", lambda: os.stat(path).st_uid + 1)
    with pytest.raises(AuditError, match="belongs to another user"):
        AuditLog(path).write({"phase": "intent"})
