"""PLACEHOLDER: traffic (being written)."""

from __future__ import annotations

from console.definitions import Fleet
from console.sandbox.clock import SandboxClock
from console.sandbox.codepipeline_engine import PipelineEngine


class Traffic:
    def __init__(self, url: str, fleet: Fleet, engine: PipelineEngine, clock: SandboxClock, seed: int = 0) -> None:
        self.url = url

    def warm_up(self) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass
