"""PLACEHOLDER: the CodePipeline execution engine (being written)."""

from __future__ import annotations

from console.sandbox.clock import SandboxClock


class PipelineEngine:
    def __init__(self, clock: SandboxClock, account_id: str, seed: int = 0) -> None:
        self.clock = clock
        self.account_id = account_id
        self.seed = seed

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass
