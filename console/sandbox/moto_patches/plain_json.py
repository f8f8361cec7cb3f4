"""Answers already in their shape's spelling, serialised without moto's attribute picker.

moto serialises an answer by walking the operation's output shape and, for every member, trying up to six
spellings of its name on the value (`XFormedAttributePicker`: the shape's name, snake_case, prefixes cut
off...). A GetExecutionHistory page of 57 events, each a HistoryEvent of some sixty optional members, took
25 ms of the server's time that way, for one answer.

The sandbox's Step Functions answers are plain data already spelled as the shape spells them: dicts,
lists, strings, numbers and datetimes. `PlainJSONResult` walks the same shape with the rules of moto's
`JSONSerializer` (members in the shape's order, a None member left out, integers `int`, floats `float`,
timestamps and blobs through moto's own converters) but reads each member by its one name, then hands the
result to moto's serialiser to encode, so the body and headers are moto's own. Whatever is not plain (an
object, a key the shape does not name, a None inside a list or a map, a protocol other than JSON) goes to
moto's serialiser whole: the answer is the same either way, only faster when it can be.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from moto import settings
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import JSONSerializer, TimestampSerializer

Walk = Callable[[Any], Any]


class NotPlain(Exception):
    """The answer holds something only moto's attribute picker can read: moto serialises it."""


def _reject(value: Any) -> Any:
    raise NotPlain(type(value).__name__)


def _string(value: Any) -> Any:
    if type(value) is str:
        return value
    if isinstance(value, Enum):
        return str(value.value)
    raise NotPlain(type(value).__name__)


def _integer(value: Any) -> Any:
    if type(value) in (int, float, bool):
        return int(value)
    raise NotPlain(type(value).__name__)


def _float(value: Any) -> Any:
    if type(value) in (int, float):
        return float(value)
    raise NotPlain(type(value).__name__)


def _boolean(value: Any) -> Any:
    if type(value) is bool:
        return value
    raise NotPlain(type(value).__name__)


def _blob(value: Any) -> Any:
    if type(value) is str:
        value = value.encode(JSONSerializer.DEFAULT_ENCODING)
    if type(value) is bytes:
        return base64.b64encode(value).strip().decode(JSONSerializer.DEFAULT_ENCODING)
    raise NotPlain(type(value).__name__)


_CONVERTER = TimestampSerializer(JSONSerializer.DEFAULT_TIMESTAMP_FORMAT)


@functools.lru_cache(maxsize=8192)
def _timestamp_text(value: str, timestamp_format: str) -> Any:
    # moto's events carry their times as text, which moto parses with dateutil each time it answers.
    return _CONVERTER._convert_timestamp_to_str(value, timestamp_format)


def _timestamp(shape: Shape) -> Walk:
    timestamp_format = shape.serialization.get("timestampFormat", JSONSerializer.DEFAULT_TIMESTAMP_FORMAT)

    def walk(value: Any) -> Any:
        if type(value) is str:
            return _timestamp_text(value, timestamp_format)
        if isinstance(value, datetime) or type(value) is int:
            return _CONVERTER._convert_timestamp_to_str(value, timestamp_format)
        if type(value) is float:
            return _CONVERTER._convert_timestamp_to_str(value, timestamp_format)  # type: ignore[arg-type]
        raise NotPlain(type(value).__name__)

    return walk


_SCALARS: dict[str, Walk] = {
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "float": _float,
    "double": _float,
    "boolean": _boolean,
    "blob": _blob,
}


class ShapeWalks:
    """One walk per shape of one service, built once and kept (shapes reached twice share theirs)."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, str], Walk] = {}

    def walk(self, shape: Shape) -> Walk:
        key = (shape.name, json.dumps(shape.serialization, sort_keys=True, default=str))
        built = self._built.get(key)
        if built is not None:
            return built
        cell: list[Walk] = []
        # A shape that contains itself reaches this entry while it is being built.
        self._built[key] = lambda value: cell[0](value)
        walk = self._build(shape)
        cell.append(walk)
        self._built[key] = walk
        return walk

    def _build(self, shape: Shape) -> Walk:
        if isinstance(shape, StructureShape):
            return self._structure(shape)
        if isinstance(shape, ListShape):
            return self._list(shape)
        if isinstance(shape, MapShape):
            return self._map(shape)
        if shape.type_name == "timestamp":
            return _timestamp(shape)
        return _SCALARS.get(shape.type_name, _reject)

    def _structure(self, shape: StructureShape) -> Walk:
        if shape.is_document_type:
            return lambda value: value
        members = [
            (name, member.serialization.get("name", name), self.walk(member)) for name, member in shape.members.items()
        ]
        names = frozenset(name for name, _, _ in members)

        def walk(value: Any) -> Any:
            if type(value) is not dict or not names.issuperset(value):
                raise NotPlain(shape.name)
            out = {}
            for name, out_name, member in members:
                item = value.get(name)
                if item is not None:
                    out[out_name] = member(item)
            return out

        return walk

    def _list(self, shape: ListShape) -> Walk:
        item_walk = self.walk(shape.member)

        def walk(value: Any) -> Any:
            if type(value) not in (list, tuple):
                raise NotPlain(shape.name)
            return [_required(item_walk, item) for item in value]

        return walk

    def _map(self, shape: MapShape) -> Walk:
        value_walk = self.walk(shape.value)

        def walk(value: Any) -> Any:
            if type(value) is not dict:
                raise NotPlain(shape.name)
            return {key: _required(value_walk, item) for key, item in value.items()}

        return walk


def _required(walk: Walk, value: Any) -> Any:
    if value is None:
        raise NotPlain("None")
    return walk(value)


_WALKS: dict[str, ShapeWalks] = {}


def _output_walk(context: ActionContext) -> Walk | None:
    if context.serializer_class is not JSONSerializer:
        return None
    output = context.operation_model.output_shape
    if output is None:
        return None
    name = context.service_model.service_name
    walks = _WALKS.get(name)
    if walks is None:
        walks = _WALKS[name] = ShapeWalks()
    return walks.walk(output)


class PlainJSONResult(ActionResult):
    """An `ActionResult` whose plain answer skips moto's attribute picker (see the module's docstring)."""

    def execute_result(self, context: ActionContext) -> Any:
        walk = _output_walk(context)
        if walk is None:
            return super().execute_result(context)
        try:
            serialized = walk(self.result)
        except NotPlain:
            return super().execute_result(context)
        serializer = context.serializer_class(
            operation_model=context.operation_model, pretty_print=settings.PRETTIFY_RESPONSES
        )
        output: Any = context.operation_model.output_shape
        response = serializer._create_default_response()
        response = serializer._serialized_result_to_response(response, self.result, output, serialized)
        return response["status_code"], response["headers"], response["body"]
