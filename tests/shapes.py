"""Check a raw JSON answer against botocore's output shape: what a strict AWS client expects of the sandbox.

botocore's parser is lenient (an unknown key is dropped, a missing required member goes unnoticed), so a
test that reads answers through boto3 cannot see the sandbox break the service model. `problems(...)` walks
the raw body instead: every key must be a member of its structure, every required member present, every
enum value one of the enum's, every value of its type (JSON protocol: timestamps are epoch numbers) and
within the model's min/max. `raw_json_call(...)` fetches such a body from a sandbox over HTTP.

Usable for any JSON-protocol service (`stepfunctions`, `codepipeline`).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import botocore.session
import requests
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

_AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20250101/{region}/{scope}/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-target, Signature=0"
)


@cache
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def raw_json_call(
    url: str, service: str, operation: str, params: dict[str, Any], region: str = "us-east-1"
) -> tuple[int, dict[str, str], Any]:
    """POST one JSON-protocol operation; (status, headers, parsed body) exactly as the server sent them."""
    model = service_model(service)
    headers = {
        "X-Amz-Target": f"{model.metadata['targetPrefix']}.{operation}",
        "Content-Type": f"application/x-amz-json-{model.metadata['jsonVersion']}",
        "Authorization": _AUTH.format(region=region, scope=model.signing_name),
    }
    response = requests.post(url, data=json.dumps(params), headers=headers, timeout=30)
    body = response.json() if response.content else {}
    return response.status_code, dict(response.headers), body


def output_problems(service: str, operation: str, body: Any) -> list[str]:
    """Every way `body` departs from `operation`'s output shape (empty when it conforms)."""
    shape = service_model(service).operation_model(operation).output_shape
    if shape is None:
        return [] if body in ({}, None) else [f"{operation} has no output, got {body!r}"]
    found: list[str] = []
    _check(shape, body, operation, found)
    return found


def assert_output(service: str, operation: str, body: Any) -> None:
    """Fail with every problem `output_problems` finds, one per line."""
    found = output_problems(service, operation, body)
    assert not found, f"{operation} answered outside botocore's shape:\n" + "\n".join(found)


def raw_body(url: str, service: str, operation: str, params: dict[str, Any], region: str = "us-east-1") -> Any:
    """The body of a successful `raw_json_call` (fails the test on an HTTP error)."""
    status, _, body = raw_json_call(url, service, operation, params, region)
    assert status == 200, f"{operation} answered HTTP {status}: {body}"
    return body


def _check(shape: Shape, value: Any, path: str, found: list[str]) -> None:
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            found.append(f"{path}: expected an object ({shape.name}), got {_describe(value)}")
            return
        for key, item in value.items():
            if key not in shape.members:
                found.append(f"{path}.{key}: not a member of {shape.name}")
            else:
                _check(shape.members[key], item, f"{path}.{key}", found)
        for key in shape.required_members:
            if key not in value:
                found.append(f"{path}: required member {key} of {shape.name} is missing")
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            found.append(f"{path}: expected a list ({shape.name}), got {_describe(value)}")
            return
        _bounds(shape, len(value), path, found)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]", found)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            found.append(f"{path}: expected a map ({shape.name}), got {_describe(value)}")
            return
        for key, item in value.items():
            _check(shape.key, key, f"{path}{{key {key!r}}}", found)
            _check(shape.value, item, f"{path}.{key}", found)
    elif kind == "string":
        if not isinstance(value, str):
            found.append(f"{path}: expected a string ({shape.name}), got {_describe(value)}")
            return
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            found.append(f"{path}: {value!r} is not one of {shape.name}'s values {enum}")
        _bounds(shape, len(value), path, found)
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            found.append(f"{path}: expected a whole number ({shape.name}), got {_describe(value)}")
            return
        _bounds(shape, value, path, found)
    elif kind in ("double", "float"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            found.append(f"{path}: expected a number ({shape.name}), got {_describe(value)}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            found.append(f"{path}: expected true or false ({shape.name}), got {_describe(value)}")
    elif kind == "timestamp":
        # The JSON protocol sends epoch seconds (botocore also parses ISO 8601 strings; AWS sends numbers).
        if not isinstance(value, int | float) or isinstance(value, bool):
            found.append(f"{path}: expected epoch seconds ({shape.name}), got {_describe(value)}")
    elif kind == "blob":
        if not isinstance(value, str):
            found.append(f"{path}: expected base64 text ({shape.name}), got {_describe(value)}")
    else:
        found.append(f"{path}: shape type {kind} is not checked by tests/shapes.py")


def _bounds(shape: Shape, size: int, path: str, found: list[str]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        found.append(f"{path}: {size} is below {shape.name}'s minimum {low}")
    if high is not None and size > high:
        found.append(f"{path}: {size} is above {shape.name}'s maximum {high}")


def _describe(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
