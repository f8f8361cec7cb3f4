"""How `wavedeck watch` prints what the watcher sees: one line per transition, human or JSON.

Human lines are for a terminal: fixed column order, untrusted text (names, summaries, errors) printed
literally with control characters shown as escapes, so nothing from AWS can move the cursor or recolour
the terminal. JSON lines are for programs: one object per line with `time` (ISO 8601 UTC, `Z`), `target`,
`kind`, `resource`, `execution`, `wave`, `from`, `to`, `detail` and `source`.

`TransitionPrinter` is a watcher subscriber that writes both kinds, plus a note on stderr when a target
becomes unreachable, recovers, or its push queue fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TextIO

from console.model import FleetUpdate, TargetStatus, Transition
from console.terminal_text import UNSAFE, UNSAFE_IN_JSON


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char, f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def plain(text: str | None) -> str:
    """`text` with every unsafe character (console/terminal_text.py: controls and bidi overrides) replaced by
    a visible escape (`\\x1b`, `\\n`, `\\u202e`)."""
    return UNSAFE.sub(_visible, text) if text else ""


def iso_utc(time: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, to the millisecond."""
    moment = time.astimezone(UTC) if time.tzinfo is not None else time.replace(tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def transition_json(transition: Transition) -> dict[str, object]:
    """The JSON object of one transition (`Transition.to_json` with the time normalised to UTC)."""
    document = transition.to_json()
    document["time"] = iso_utc(transition.time)
    return document


def format_json(transition: Transition) -> str:
    """One line of JSON. Unsafe characters are escaped (C1 and bidi ones too, which `json` leaves raw)."""
    text = json.dumps(transition_json(transition), ensure_ascii=False, separators=(",", ":"))
    return UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def format_line(transition: Transition) -> str:
    """One human line: time, target, kind, resource, wave, from → to, execution, detail, (push)."""
    parts = [
        iso_utc(transition.time),
        plain(transition.target),
        f"{transition.kind:<18}",
        plain(transition.resource),
    ]
    if transition.wave is not None:
        parts.append(f"[{plain(transition.wave.name)}]")
    parts.append(f"{plain(transition.from_status) or '·'} → {plain(transition.to_status) or '·'}")
    if transition.execution:
        parts.append(f"exec {plain(_short_execution(transition.execution))}")
    if transition.detail:
        parts.append(f"— {plain(transition.detail)}")
    if transition.source != "poll":
        parts.append(f"({plain(transition.source)})")
    return "  ".join(parts)


def _short_execution(execution: str) -> str:
    # Execution ARNs end in the execution's name, which the resource already shows; ids are UUIDs.
    if execution.startswith("arn:"):
        return execution.rsplit(":", 1)[-1]
    return execution[:8]


def status_note(before: TargetStatus | None, after: TargetStatus) -> str | None:
    """A sentence when a target's health changed in a way an operator watching should know, else None."""
    name = plain(after.target.name)
    was_error = before.error if before else None
    if after.error and after.error != was_error:
        return f"{name}: {plain(after.error)}"
    if was_error and not after.error:
        return f"{name}: reachable again"
    was_push = before.push if before else "off"
    if after.push != was_push:
        if after.push == "failed":
            return f"{name}: push queue failed, polling instead (retrying the queue)"
        if after.push == "on":
            return f"{name}: push queue connected"
    if after.throttled and not (before and before.throttled):
        return f"{name}: AWS is throttling; reading more slowly"
    return None


class TransitionPrinter:
    """A watcher subscriber that prints each transition to `out` and target health notes to `err`."""

    def __init__(self, out: TextIO, err: TextIO | None = None, *, json_lines: bool = False) -> None:
        self.out = out
        self.err = err
        self.json_lines = json_lines
        self._targets: Mapping[str, TargetStatus] = {}

    def __call__(self, update: FleetUpdate) -> None:
        for transition in update.transitions:
            self.out.write((format_json(transition) if self.json_lines else format_line(transition)) + "\n")
        if update.transitions:
            self.out.flush()
        targets = {status.target.name: status for status in update.state.targets}
        if self.err is not None:
            for name, status in targets.items():
                note = status_note(self._targets.get(name), status)
                if note:
                    self.err.write(f"wavedeck: {note}\n")
                    self.err.flush()
        self._targets = targets
