"""PLACEHOLDER: CodePipeline operations plugged into moto (being written)."""

from __future__ import annotations

from console.sandbox.codepipeline_engine import PipelineEngine


def install(engine: PipelineEngine) -> None:
    pass
