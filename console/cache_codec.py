"""Frozen model dataclasses to JSON values and back, for the warm-start cache (`console/warm_cache.py`).

Generic over the dataclasses of `console/model.py` (read from their type hints once per class), so a field
added to the model is cached without touching this module. Fields equal to their default are left out (a
large fleet's cache is mostly defaults: `None`, `""`, `()`), which keeps the file small and the load fast.
Anything the hints do not describe raises `CodecError`: the cache is then discarded, never half-trusted.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

T = TypeVar("T")

Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]


class CodecError(ValueError):
    """A value that does not fit its dataclass's type hints (a cache of another shape, or corrupt)."""


_MISSING = dataclasses.MISSING


class _Plan:
    """One dataclass's fields: name, decoder, encoder and default (compiled once, used for every value)."""

    def __init__(self, cls: type[Any], skip: frozenset[str]) -> None:
        hints = typing.get_type_hints(cls)
        self.cls = cls
        self.fields: list[tuple[str, Encode, Decode, object]] = []
        for f in dataclasses.fields(cls):
            if not f.init or f.name in skip:
                continue
            default: object = _MISSING
            if f.default is not _MISSING:
                default = f.default
            elif f.default_factory is not _MISSING:
                default = f.default_factory()
            encode, decode = _codec(hints[f.name], skip)
            self.fields.append((f.name, encode, decode, default))

    def encode(self, value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, encode, _, default in self.fields:
            item = getattr(value, name)
            if item is None and default is None:
                continue
            if default is not _MISSING and item == default:
                continue
            out[name] = encode(item)
        return out

    def decode(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise CodecError(f"{self.cls.__name__}: expected an object, got {type(data).__name__}")
        kwargs: dict[str, Any] = {}
        for name, _, decode, default in self.fields:
            if name in data:
                kwargs[name] = decode(data[name])
            elif default is _MISSING:
                raise CodecError(f"{self.cls.__name__}: {name} is missing")
        try:
            return self.cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise CodecError(f"{self.cls.__name__}: {exc}") from exc


_PLANS: dict[tuple[type[Any], frozenset[str]], _Plan] = {}


def _plan(cls: type[Any], skip: frozenset[str]) -> _Plan:
    plan = _PLANS.get((cls, skip))
    if plan is None:
        plan = _PLANS[(cls, skip)] = _Plan(cls, skip)
    return plan


def _same(value: Any) -> Any:
    return value


def _checked(kind: type[Any] | tuple[type[Any], ...], name: str) -> Decode:
    def decode(value: Any) -> Any:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise CodecError(f"expected {name}, got {type(value).__name__}")
        return value

    return decode


def decode_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise CodecError(f"expected a time, got {type(value).__name__}")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise CodecError(str(exc)) from exc


def _codec(hint: Any, skip: frozenset[str]) -> tuple[Encode, Decode]:
    """The encoder and decoder of one type hint."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        arms = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(arms) != 1:
            raise TypeError(f"cannot cache the union {hint!r}")
        encode, decode = _codec(arms[0], skip)
        return (lambda v: None if v is None else encode(v)), (lambda v: None if v is None else decode(v))
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            encode, decode = _codec(args[0], skip)

            def decode_items(value: Any) -> tuple[Any, ...]:
                if not isinstance(value, list):
                    raise CodecError(f"expected a list, got {type(value).__name__}")
                return tuple(decode(v) for v in value)

            return (lambda v: [encode(i) for i in v]), decode_items
        parts = [_codec(a, skip) for a in args]

        def decode_fixed(value: Any) -> tuple[Any, ...]:
            if not isinstance(value, list) or len(value) != len(parts):
                raise CodecError(f"expected a list of {len(parts)}")
            return tuple(d(v) for (_, d), v in zip(parts, value, strict=True))

        return (lambda v: [e(i) for (e, _), i in zip(parts, v, strict=True)]), decode_fixed
    if origin in (Mapping, dict, typing.get_origin(Mapping[str, object])):
        # A parsed JSON document (a state machine's definition): JSON already.
        return (lambda v: dict(v)), _checked(dict, "an object")
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            cls = hint
            return (lambda v: _plan(cls, skip).encode(v)), (lambda v: _plan(cls, skip).decode(v))
        if issubclass(hint, enum.Enum):
            enum_type = hint

            def decode_enum(value: Any) -> Any:
                try:
                    return enum_type(value)
                except ValueError as exc:
                    raise CodecError(str(exc)) from exc

            return (lambda v: v.value), decode_enum
        if hint is datetime:
            return (lambda v: v.isoformat()), decode_datetime
        if hint is float:
            return _same, _checked((int, float), "a number")
        if hint in (str, int, bool):
            return _same, _checked(hint, hint.__name__)
    if hint is object:
        return _same, _same
    raise TypeError(f"cannot cache values of type {hint!r}")


def encode(value: Any, *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`value` (a dataclass) as a JSON object, leaving out default fields and the fields named in `skip`."""
    return _plan(type(value), skip).encode(value)


def decode(cls: type[T], data: Any, *, skip: frozenset[str] = frozenset()) -> T:
    """A `cls` from what `encode` made; raises CodecError when `data` does not fit."""
    value: T = _plan(cls, skip).decode(data)
    return value
