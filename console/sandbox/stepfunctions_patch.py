"""PLACEHOLDER: Step Functions fidelity patches (being written)."""

from __future__ import annotations

from console.sandbox.clock import SandboxClock


def install(clock: SandboxClock) -> None:
    pass
