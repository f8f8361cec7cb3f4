"""The audit log: append-only JSON lines, private, fsynced, never holding a token."""

from __future__ import annotations

import json
import stat
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
