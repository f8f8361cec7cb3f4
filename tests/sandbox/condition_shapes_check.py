"""CodePipeline shorthands over `tests/shapes.py` for the condition tests: a raw call and its shape problems."""

from __future__ import annotations

from typing import Any

from tests.shapes import output_problems, raw_json_call


def raw_call(url: str, operation: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST one CodePipeline JSON request; returns (HTTP status, decoded body) as the server sent them."""
    status, _, answer = raw_json_call(url, "codepipeline", operation, body)
    return status, answer


def problems(operation: str, answer: Any) -> list[str]:
    """What in `answer` breaks the output shape of `operation` (empty: nothing)."""
    return output_problems("codepipeline", operation, answer)
