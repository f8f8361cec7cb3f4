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
    """One dataclass's fields: name, encoder, decoder and default (compiled once, used for every value).

    A field of a plain JSON type (str, int, bool, float, or one of them or None) has no decoder: its value's
    type is checked inline, which is most of a large cache and keeps loading 2,000 pipelines quick."""

    def __init__(self, cls: type[Any], skip: frozenset[str]) -> None:
        self.cls = cls
        self.fields: list[tuple[str, Encode, Decode | None, frozenset[type[Any]], object]] = []
        _PLANS[(cls, skip)] = self  # before its fields, so that a type that contains itself terminates
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if not f.init or f.name in skip:
                continue
            default: object = _MISSING
            if f.default is not _MISSING:
                default = f.default
            elif f.default_factory is not _MISSING:
                default = f.default_factory()
            plain = _plain(hints[f.name])
            encode, decode = _codec(hints[f.name], skip)
            self.fields.append((f.name, encode, None if plain else decode, plain or frozenset(), default))
        self.readers = {name: (decode, plain) for name, _, decode, plain, _ in self.fields}
        self.required = frozenset(name for name, *_, default in self.fields if default is _MISSING)

    def encode(self, value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, encode, _, _, default in self.fields:
            item = getattr(value, name)
            if item is None and default is None:
                continue
            if default is not _MISSING and item == default:
                continue
            out[name] = encode(item)
        return out

    def decode(self, data: Any) -> Any:
        if type(data) is not dict:
            raise CodecError(f"{self.cls.__name__}: expected an object, got {type(data).__name__}")
        if not self.required.issubset(data):
            raise CodecError(f"{self.cls.__name__}: {', '.join(sorted(self.required - data.keys()))} missing")
        # Only what is there: the defaults were left out, so that is a few fields of each object.
        kwargs: dict[str, Any] = {}
        readers = self.readers
        for name, value in data.items():
            reader = readers.get(name)
            if reader is None:
                raise CodecError(f"{self.cls.__name__}: no field {name!r}")
            decode, plain = reader
            if decode is None:
                if type(value) not in plain:
                    raise CodecError(f"{self.cls.__name__}.{name}: unexpected {type(value).__name__}")
                kwargs[name] = value
            else:
                kwargs[name] = decode(value)
        try:
            return self.cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise CodecError(f"{self.cls.__name__}: {exc}") from exc


_PLANS: dict[tuple[type[Any], frozenset[str]], _Plan] = {}
_PLAIN: dict[Any, frozenset[type[Any]]] = {
    str: frozenset({str}),
    int: frozenset({int}),
    bool: frozenset({bool}),
    float: frozenset({int, float}),
}


def _plain(hint: Any) -> frozenset[type[Any]] | None:
    """The JSON types a plain field's value may have (None: not a plain field)."""
    if hint in _PLAIN:
        return _PLAIN[hint]
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        arms = typing.get_args(hint)
        kinds = [_PLAIN.get(a) for a in arms if a is not type(None)]
        if kinds and all(k is not None for k in kinds):
            union = frozenset().union(*(k for k in kinds if k is not None))
            return union | {type(None)} if type(None) in arms else union
    return None


def _plan(cls: type[Any], skip: frozenset[str]) -> _Plan:
    plan = _PLANS.get((cls, skip))
    return plan if plan is not None else _Plan(cls, skip)


def _same(value: Any) -> Any:
    return value


def _checked(kinds: frozenset[type[Any]], name: str) -> Decode:
    def decode(value: Any) -> Any:
        if type(value) not in kinds:
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
    plain = _plain(hint)
    if plain is not None:
        return _same, _checked(plain, str(hint))
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
            item_plain = _plain(args[0])

            def decode_items(value: Any) -> tuple[Any, ...]:
                if type(value) is not list:
                    raise CodecError(f"expected a list, got {type(value).__name__}")
                if item_plain is not None:
                    if any(type(i) not in item_plain for i in value):
                        raise CodecError(f"unexpected item in a list of {args[0]!r}")
                    return tuple(value)
                return tuple([decode(v) for v in value])

            return (lambda v: [encode(i) for i in v]), decode_items
        parts = [_codec(a, skip) for a in args]
        plains = [_plain(a) for a in args]

        def decode_fixed(value: Any) -> tuple[Any, ...]:
            if type(value) is not list or len(value) != len(parts):
                raise CodecError(f"expected a list of {len(parts)}")
            if all(p is not None and type(v) in p for p, v in zip(plains, value, strict=True)):
                return tuple(value)
            return tuple(d(v) for (_, d), v in zip(parts, value, strict=True))

        return (lambda v: [e(i) for (e, _), i in zip(parts, v, strict=True)]), decode_fixed
    if origin in (Mapping, dict, typing.get_origin(Mapping[str, object])):
        # A parsed JSON document (a state machine's definition): JSON already.
        return (lambda v: dict(v)), _checked(frozenset({dict}), "an object")
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            plan = _plan(hint, skip)
            return plan.encode, plan.decode
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
