"""Fixtures of the action gate tests: a gateway to the session sandbox, an audit log of the test's own, and the
gate over both with the bundled wave model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.actions.audit import AuditLog
from console.actions.gate import ActionGate
from console.aws.gateway import Gateway
from console.config import sandbox_targets
from console.sandbox.fleet.definitions import load_fleet
from console.sandbox_process import SandboxProcess
from tests.conftest import REGION

TARGET = f"sandbox/{REGION}"
WAVES = load_fleet().wave_model()


@pytest.fixture
async def gateway(sandbox: SandboxProcess) -> AsyncIterator[Gateway]:
    async with Gateway(sandbox_targets(sandbox.url, (REGION,))[0]) as gateway:
        yield gateway


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.jsonl")


@pytest.fixture
def gate(gateway: Gateway, audit: AuditLog) -> ActionGate:
    return ActionGate({TARGET: gateway}, WAVES, audit)
