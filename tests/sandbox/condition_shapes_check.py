"""Checks a raw CodePipeline response against botocore's output shape: every key known, required members
present, enums, string lengths and types right. Raw means before botocore parses it (boto3's parsed answer
drops unknown keys and turns timestamps into datetimes, so it would hide exactly what this looks for).
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import requests


def raw_call(url: str, operation: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST one CodePipeline JSON request; returns (HTTP status, decoded body)."""
    answer = requests.post(
        url,
        data=json.dumps(body),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"CodePipeline_20150709.{operation}",
            "Authorization": (
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/codepipeline/aws4_request, "
                "SignedHeaders=host, Signature=0"
            ),
        },
        timeout=10,
    )
    return answer.status_code, answer.json()


def problems(operation: str, answer: Any) -> list[str]:
    """What in `answer` breaks the output shape of `operation` (empty: nothing)."""
    model = botocore.session.get_session().get_service_model("codepipeline")
    found: list[str] = []
    shape = model.operation_model(operation).output_shape
    if shape is None:
        return [] if answer == {} else [f"{operation}: answers {answer!r} where it has no output"]
    _check(shape, answer, operation, found)
    return found


def _check(shape: Any, value: Any, path: str, found: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            found.append(f"{path}: {type(value).__name__} where a structure belongs")
            return
        for key in value:
            if key not in shape.members:
                found.append(f"{path}.{key}: not a member of {shape.name}")
        for key in shape.required_members:
            if key not in value:
                found.append(f"{path}.{key}: required by {shape.name}, missing")
        for key, member in shape.members.items():
            if key in value:
                _check(member, value[key], f"{path}.{key}", found)
    elif kind == "list":
        if not isinstance(value, list):
            found.append(f"{path}: {type(value).__name__} where a list belongs")
            return
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]", found)
    elif kind == "map":
        if not isinstance(value, dict):
            found.append(f"{path}: {type(value).__name__} where a map belongs")
            return
        for key, item in value.items():
            _check(shape.value, item, f"{path}.{key}", found)
    elif kind == "string":
        if not isinstance(value, str):
            found.append(f"{path}: {value!r} is not a string")
            return
        if shape.enum and value not in shape.enum:
            found.append(f"{path}: {value!r} not in {shape.enum}")
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            found.append(f"{path}: length {len(value)} outside {low}..{high}")
    elif kind == "timestamp":
        if not isinstance(value, int | float) or isinstance(value, bool):
            found.append(f"{path}: {value!r} is not an epoch number")
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            found.append(f"{path}: {value!r} is not an integer")
    elif kind == "boolean" and not isinstance(value, bool):
        found.append(f"{path}: {value!r} is not a boolean")
