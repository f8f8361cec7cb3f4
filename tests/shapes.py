"""Check a raw JSON response against botocore's output shape of an operation, for any JSON-protocol service.

botocore's parser is forgiving: it turns an ISO string into a datetime where the model says an epoch
number, and it passes unknown keys through. A client in another language, or the AWS CLI's `--query`, is
not as kind, so the sandbox's answers are checked here as they arrive on the wire: every key known to the
shape, every required member present, enums and types as the model says (timestamps are numbers in the
JSON protocol), string lengths and number ranges within the model's bounds.

    problems = shape_problems("codepipeline", "GetPipelineState", raw_json_dict)
    assert not problems, problems
"""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape


@cache
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


def shape_problems(service: str, operation: str, document: Any) -> list[str]:
    """Every way `document` (a parsed JSON response body) departs from the operation's output shape."""
    output = operation_model(service, operation).output_shape
    problems: list[str] = []
    if output is None:
        if document not in ({}, None):
            problems.append(f"{operation}: the operation has no output, got {type(document).__name__}")
        return problems
    _check(output, document, operation, problems)
    return problems


def assert_shape(service: str, operation: str, document: Any) -> None:
    """Fail with every problem found, one per line."""
    problems = shape_problems(service, operation, document)
    assert not problems, f"{operation} answered outside botocore's shape:\n" + "\n".join(problems)


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        _structure(shape, value, path, problems)
    elif kind == "list":
        assert isinstance(shape, ListShape)
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list ({shape.name}), got {_kind(value)}")
            return
        _bounds(shape, len(value), path, "items", problems)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]", problems)
    elif kind == "map":
        assert isinstance(shape, MapShape)
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object ({shape.name}), got {_kind(value)}")
            return
        for key, item in value.items():
            _check(shape.key, key, f"{path}.<key {key!r}>", problems)
            _check(shape.value, item, f"{path}.{key}", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string ({shape.name}), got {_kind(value)}")
            return
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.name}: {', '.join(shape.enum)}")
        _bounds(shape, len(value), path, "characters", problems)
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer ({shape.name}), got {_kind(value)}")
            return
        _bounds(shape, value, path, "", problems)
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: expected a number ({shape.name}), got {_kind(value)}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true or false ({shape.name}), got {_kind(value)}")
    elif kind == "timestamp":
        # The JSON protocol sends timestamps as epoch seconds unless the shape says otherwise.
        if shape.serialization.get("timestampFormat", "unixTimestamp") == "unixTimestamp":
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{path}: expected an epoch number ({shape.name}), got {_kind(value)}")
        elif not isinstance(value, str):
            problems.append(f"{path}: expected a timestamp string ({shape.name}), got {_kind(value)}")
    elif kind == "blob":
        if not isinstance(value, str):
            problems.append(f"{path}: expected base64 text ({shape.name}), got {_kind(value)}")
    else:  # pragma: no cover - a type botocore adds one day
        problems.append(f"{path}: shape type {kind!r} is not checked by tests/shapes.py")


def _structure(shape: StructureShape, value: Any, path: str, problems: list[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object ({shape.name}), got {_kind(value)}")
        return
    members = shape.members
    for key in value:
        if key not in members:
            problems.append(f"{path}.{key}: not a member of {shape.name} (members: {', '.join(members)})")
    for key in shape.required_members:
        if key not in value:
            problems.append(f"{path}.{key}: required by {shape.name}, missing")
    for key, item in value.items():
        if key in members:
            _check(members[key], item, f"{path}.{key}", problems)


def _bounds(shape: Shape, size: int, path: str, unit: str, problems: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    what = f"{size} {unit}".strip()
    if low is not None and size < low:
        problems.append(f"{path}: {what}, below {shape.name}'s minimum {low}")
    if high is not None and size > high:
        problems.append(f"{path}: {what}, above {shape.name}'s maximum {high}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"
