"""Ages and durations as an operator reads them at a glance: `12s`, `4m`, `2h`, `3d`.

Table cells use the coarse form (minute resolution), so a table does not redraw every second just because
time passed; the header's "updated 2s ago" uses seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime


def age(since: datetime | None, now: datetime) -> str:
    """Seconds resolution under a minute: `now`, `12s`, `4m`, `2h`, `3d`; `—` when unknown."""
    if since is None:
        return "—"
    seconds = int((now - since).total_seconds())
    if seconds < 1:
        return "now"
    if seconds < 60:
        return f"{seconds}s"
    return _coarse(seconds)


def ago(since: datetime | None, now: datetime) -> str:
    """`age` as a phrase: `just now`, `12s ago`, `4m ago`; `never` when unknown."""
    if since is None:
        return "never"
    told = age(since, now)
    return "just now" if told == "now" else f"{told} ago"


def coarse_age(since: datetime | None, now: datetime) -> str:
    """Minute resolution: `<1m`, `4m`, `2h`, `3d`; `—` when unknown."""
    if since is None:
        return "—"
    seconds = int((now - since).total_seconds())
    if seconds < 60:
        return "<1m"
    return _coarse(seconds)


def _coarse(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def until(when: datetime | None, now: datetime) -> str:
    """Time left before `when`: `in 4m`, `expired`; `—` when unknown."""
    if when is None:
        return "—"
    seconds = int((when - now).total_seconds())
    if seconds <= 0:
        return "expired"
    if seconds < 60:
        return f"in {seconds}s"
    return f"in {_coarse(seconds)}"


def duration(start: datetime | None, end: datetime | None, now: datetime) -> str:
    """How long something ran: `45s`, `3m 12s`, `2h 5m` when it ended; coarse (`4m`) while it runs, so a
    running row does not redraw every second; `—` when it has not started."""
    if start is None:
        return "—"
    if end is None:
        return coarse_age(start, now)
    seconds = max(int((end - start).total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s" if seconds else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{hours // 24}d {hours % 24}h"


def clock_time(when: datetime | None) -> str:
    """`03:04:05` (UTC, as AWS stamps events); `—` when unknown."""
    return when.astimezone(UTC).strftime("%H:%M:%S") if when is not None else "—"
