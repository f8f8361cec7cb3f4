"""Checks of the moto internals the sandbox's patches plug into, shared by the tables that list them.

Each patched area (Step Functions in `stepfunctions_internals`, event delivery in `moto_delivery_internals`)
lists its touch points: `(module, dotted attribute, parameters it must accept)`, the methods it replaces
wholesale with the fingerprint of the moto source they were ported from, and the attributes moto objects must
have once built. The functions here read those tables: `moved()` names what a moto release moved or renamed,
`changed_sources()` the replaced methods whose moto source changed since the port.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

TouchPoint = tuple[str, str, tuple[str, ...]]  # (module, dotted attribute, parameters it must accept)
InstanceAttributes = tuple[str, str, tuple[str, ...]]  # (module, class, attribute names)

# moto's own versions of what the patches replace, kept before patching: (module, dotted) → attribute.
_ORIGINALS: dict[tuple[str, str], Any] = {}


def resolve(module: str, dotted: str) -> Any:
    """The attribute as it is now; on a class, as defined (a property stays a property)."""
    target: Any = importlib.import_module(module)
    for part in dotted.split("."):
        target = inspect.getattr_static(target, part) if inspect.isclass(target) else getattr(target, part)
    return target


def original(module: str, dotted: str) -> Any:
    """The attribute as moto defines it, even after a patch replaced it."""
    found = _ORIGINALS.get((module, dotted))
    return found if found is not None else resolve(module, dotted)


def remember_originals(replaced: Iterable[tuple[str, str]]) -> None:
    """Keep moto's own versions of what the patches replace (call before patching)."""
    for module, dotted in replaced:
        if (module, dotted) not in _ORIGINALS:
            try:
                _ORIGINALS[(module, dotted)] = resolve(module, dotted)
            except (ImportError, AttributeError):
                pass


def function_of(target: Any) -> Any:
    """The function behind a property, static method or class method."""
    if isinstance(target, property):
        return target.fget
    if isinstance(target, staticmethod | classmethod):
        return target.__func__
    return target


def fingerprint(target: Any) -> str:
    return hashlib.sha256(inspect.getsource(function_of(target)).encode()).hexdigest()[:16]


def moved(
    touch_points: Iterable[TouchPoint],
    instance_attributes: Iterable[InstanceAttributes],
    replaced: Iterable[tuple[str, str]],
    build: Callable[[str, str], Any] | None = None,
) -> list[str]:
    """Every touch point that is missing or no longer takes the parameters the patches pass, every attribute
    a built instance lacks (`build(module, class)` makes one; default: the class called without arguments),
    and every replaced method that is gone."""
    problems: list[str] = []
    for module, dotted, parameters in touch_points:
        try:
            target = original(module, dotted)
        except (ImportError, AttributeError) as exc:
            problems.append(f"{module}.{dotted} is gone ({exc})")
            continue
        if parameters:
            try:
                accepted = set(inspect.signature(function_of(target)).parameters)
            except (TypeError, ValueError):
                problems.append(f"{module}.{dotted} is no longer a function")
                continue
            missing = [p for p in parameters if p not in accepted]
            if missing:
                problems.append(f"{module}.{dotted} no longer takes {', '.join(missing)}")
    for module, cls, attributes in instance_attributes:
        try:
            instance = build(module, cls) if build is not None else resolve(module, cls)()
        except Exception as exc:  # noqa: BLE001 - any failure here means the class moved
            problems.append(f"{module}.{cls}() cannot be built any more ({exc})")
            continue
        problems.extend(f"{module}.{cls} has no attribute {a}" for a in attributes if not hasattr(instance, a))
    for module, dotted in replaced:
        try:
            original(module, dotted)
        except (ImportError, AttributeError) as exc:
            problems.append(f"{module}.{dotted} is gone ({exc})")
    return problems


def changed_sources(replaced: Mapping[tuple[str, str], str]) -> list[str]:
    """Replaced moto methods whose source is not the one the replacement was ported from."""
    changed = []
    for (module, dotted), expected in replaced.items():
        actual = fingerprint(original(module, dotted))
        if actual != expected:
            changed.append(f"{module}.{dotted}: source fingerprint {actual}, ported from {expected}")
    return changed
