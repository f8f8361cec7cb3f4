"""The header every screen shows: the targets, the mode and how fresh the data is.

Mode: SANDBOX when the targets are the embedded sandbox; READ-ONLY with why; a reverse-video PRODUCTION
marker naming the targets marked production in the config. Freshness: "updated 2s ago" from the least
recently read target; a target that has not been read within its stale window says "stale"; a target's error
(expired credentials with the command that fixes them, unreachable) is shown on its own line, literally.
Badges use reverse video, so they stand out without colour (NO_COLOR, 16-colour terminals).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from console.model import FleetState, Target, TargetStatus
from screens.status import ERROR, STALE, SUCCEEDED
from screens.text import clean
from screens.timefmt import age
from screens.widgets.wave_board import unmatched_stages


@dataclass(frozen=True, slots=True)
class HeaderFacts:
    """Everything the header draws, computed from the state and the clock (equal facts: no redraw)."""

    title: str
    badges: tuple[tuple[str, str], ...]  # (text, style)
    freshness: str
    targets: tuple[tuple[str, str, str], ...]  # (glyph, name, style)
    errors: tuple[tuple[str, str], ...]  # (target name, error text)
    unmatched: int = 0  # stages that match no wave (risk unknown)


def header_facts(
    title: str,
    targets: Sequence[Target],
    state: FleetState,
    now: datetime,
    read_only_reason: str | None = None,
) -> HeaderFacts:
    """What the header says for these targets and this picture at `now`."""
    badges: list[tuple[str, str]] = []
    if targets and all(t.sandbox for t in targets):
        badges.append(("SANDBOX", "reverse bold cyan"))
    production = [t.name for t in targets if t.production]
    if production:
        badges.append((f"▲ PRODUCTION: {', '.join(production)}", "reverse bold red"))
    read_only = [t.name for t in targets if t.read_only]
    if read_only_reason:
        badges.append((f"READ-ONLY ({read_only_reason})", "reverse bold yellow"))
    elif read_only and len(read_only) == len(targets):
        badges.append(("READ-ONLY (read_only in the config)", "reverse bold yellow"))
    elif read_only:
        badges.append((f"READ-ONLY: {', '.join(read_only)}", "reverse bold yellow"))

    statuses = {s.target.name: s for s in state.targets}
    rows: list[tuple[str, str, str]] = []
    errors: list[tuple[str, str]] = []
    oldest: datetime | None = None
    unread = False
    for target in targets:
        status = statuses.get(target.name)
        glyph, style = _target_mark(status, state, now)
        # Not AWS's own endpoint: say where requests really go, beside the name.
        shown = target.name
        if target.shown_endpoint and not target.sandbox:
            shown = f"{target.name} @ {target.shown_endpoint}"
        rows.append((glyph, shown, style))
        if status is not None and status.error:
            errors.append((target.name, clean(status.error)))
        if status is None or status.read_at is None:
            unread = True
        elif oldest is None or status.read_at < oldest:
            oldest = status.read_at
    if unread and oldest is None:
        freshness = "reading…"
    elif oldest is None:
        freshness = "no targets"
    else:
        freshness = f"updated {age(oldest, now)} ago" if age(oldest, now) != "now" else "updated just now"
        if unread:
            freshness += " · still reading some targets"
    unmatched = unmatched_stages(state)
    return HeaderFacts(title, tuple(badges), freshness, tuple(rows), tuple(errors), unmatched)


def _target_mark(status: TargetStatus | None, state: FleetState, now: datetime) -> tuple[str, str]:
    if status is None or status.read_at is None:
        if status is not None and status.error:
            return f"{ERROR.glyph} error", ERROR.tone.style
        return "… reading", "dim"
    if status.error:
        return f"{ERROR.glyph} error", ERROR.tone.style
    if state.is_target_stale(status.target.name, status.read_at, now):
        return f"{STALE.glyph} stale", "bold"
    if status.throttled:
        return "✓ throttled", "yellow"
    return SUCCEEDED.glyph, SUCCEEDED.tone.style


class FleetHeader(Widget):
    """Targets, mode and freshness; redraws only when what it says changes."""

    DEFAULT_CSS = """
    FleetHeader {
        dock: top;
        height: auto;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._facts: HeaderFacts | None = None

    @property
    def facts(self) -> HeaderFacts | None:
        return self._facts

    def show(self, facts: HeaderFacts) -> None:
        if facts == self._facts:
            return
        # Freshness ticks every second; a new layout only when the number of lines may change.
        same_shape = (
            self._facts is not None
            and self._facts.errors == facts.errors
            and self._facts.targets == facts.targets
            and self._facts.badges == facts.badges
            and self._facts.unmatched == facts.unmatched
        )
        self._facts = facts
        self.refresh(layout=not same_shape)

    def render(self) -> RenderableType:
        facts = self._facts
        if facts is None:
            return Text("")
        width = max(self.size.width - 2, 20)
        first = Text(facts.title, style="bold", end="")
        for badge, style in facts.badges:
            first.append(" ")
            first.append(f" {badge} ", style=style)
        gap = width - first.cell_len - len(facts.freshness)
        if gap >= 2:
            first.append(" " * gap)
        else:
            first.append("\n")
        first.append(facts.freshness, style="dim")
        lines = [first]
        targets = Text("targets:", style="dim", end="")
        for glyph, name, style in facts.targets:
            targets.append("  ")
            targets.append(glyph, style=style)
            targets.append(" ")
            targets.append(clean(name))
        if facts.unmatched:
            # Said on every screen: these stages are confirmed like production until the config maps them.
            stages = "stage matches" if facts.unmatched == 1 else "stages match"
            targets.append(f"  ? {facts.unmatched} {stages} no wave", style="bold")
        lines.append(targets)
        for name, error in facts.errors:
            line = Text(end="")
            line.append(f"{ERROR.glyph} {clean(name)}: ", style=ERROR.tone.style)
            line.append(error)
            lines.append(line)
        return Text("\n", end="").join(lines)
