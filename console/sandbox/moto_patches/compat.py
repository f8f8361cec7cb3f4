"""What differs between the moto releases the sandbox supports (5.2.5 and 5.2.6), read in one place.

moto 5.2.6 renamed a stored pipeline's `_created` / `_updated` to `created` / `updated`, and its response
methods return an `ActionResult` that moto serialises, where 5.2.5 returned the JSON text. Everything the
sandbox reads of those goes through here, so the next rename is one line to change
(tests/sandbox/test_moto_internals_codepipeline.py names the attributes relied on).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def pipeline_created(stored: Any) -> datetime:
    """When moto stored the pipeline `stored` (a `moto.codepipeline.models.CodePipeline`)."""
    return _stamp(stored, "created")


def pipeline_updated(stored: Any) -> datetime:
    """When the pipeline `stored` was last updated."""
    return _stamp(stored, "updated")


def _stamp(stored: Any, name: str) -> datetime:
    value = getattr(stored, name, None)
    if not isinstance(value, datetime):
        value = getattr(stored, f"_{name}", None)
    if not isinstance(value, datetime):
        raise AttributeError(f"moto's CodePipeline has neither `{name}` nor `_{name}` as a datetime")
    return value
