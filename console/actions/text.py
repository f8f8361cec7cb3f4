"""How the plan builders write what they found: revisions, times, statuses, values from an execution's input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from console.model import SourceRevision


def revision_text(revision: SourceRevision) -> str:
    """`a1b2c3d4 Fix order totals rounding`: the short id and the first line of the commit message."""
    lines = revision.summary.splitlines() if revision.summary else []
    return f"{revision.short} {lines[0] if lines else ''}".strip()


def status_text(status: str | None) -> str:
    return status or "not run yet"


def time_text(moment: datetime | None) -> str:
    if moment is None:
        return "?"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def input_value(document: str | None, key: str) -> str | None:
    """A top-level value of an execution's JSON input, as text (None when absent, empty or not JSON)."""
    if not document:
        return None
    try:
        data = json.loads(document)
    except ValueError:
        return None
    value = data.get(key) if isinstance(data, dict) else None
    return str(value) if value not in (None, "") else None
