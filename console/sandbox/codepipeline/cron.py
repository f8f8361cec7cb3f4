"""The cron expressions of the DeploymentWindow rule: is the window open at a moment, and when does it open next.

AWS's rule reference defines six required fields and an optional seventh, separated by spaces:
`seconds minutes hours day-of-month month day-of-week [year]`. Seconds only take `*` (the sandbox also takes
`0`); the window is open during every minute the expression matches, in the rule's `TimeZone` (UTC by
default). Supported: `*`, `?` (day fields), lists `a,b`, ranges `a-b`, steps `a/n` and `*/n`, month names
JAN-DEC, weekday names SUN-SAT (1 = SUN ... 7 = SAT, as in AWS's other cron expressions), and `L` as the last
day of the month. What the sandbox cannot evaluate (`W`, `#`, `L` in day-of-week) is refused when the
pipeline is created, with the field named, rather than guessed at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {
    name: i
    for i, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1
    )
}
_DAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, {}),
)
_SEARCH_DAYS = 4 * 366  # a window that opens less often than this is reported as never opening


class CronError(ValueError):
    """An expression the DeploymentWindow rule does not take, with the field it is in."""


@dataclass(frozen=True)
class Window:
    """A parsed DeploymentWindow: the allowed values of each field, and the time zone it is read in."""

    expression: str
    zone: ZoneInfo
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: any day of the month ('?' or '*')
    last_day: bool  # 'L' in day-of-month
    months: frozenset[int]
    weekdays: frozenset[int] | None  # 1 = Sunday; None: any
    years: frozenset[int] | None

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return self._day_matches(local.date()) and local.hour in self.hours and local.minute in self.minutes

    def next_open(self, moment: datetime) -> datetime | None:
        """The first minute at or after `moment` when the window is open (None if not within four years)."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for offset in range(_SEARCH_DAYS):
            current = day + timedelta(days=offset)
            if not self._day_matches(current):
                continue
            for hour in sorted(self.hours):
                for minute in sorted(self.minutes):
                    candidate = datetime.combine(current, time(hour, minute), self.zone)
                    if offset == 0 and candidate < local.replace(second=0, microsecond=0):
                        continue
                    return candidate.astimezone(moment.tzinfo)
        return None

    def _day_matches(self, day: date) -> bool:
        if self.years is not None and day.year not in self.years:
            return False
        if day.month not in self.months:
            return False
        if self.last_day:
            following = day + timedelta(days=1)
            if following.month == day.month:
                return False
        elif self.days is not None and day.day not in self.days:
            return False
        weekday = day.isoweekday() % 7 + 1  # Monday 1 → 2, Sunday 7 → 1
        return self.weekdays is None or weekday in self.weekdays


def parse(expression: str, zone_name: str = "UTC") -> Window:
    """Parse a DeploymentWindow `Cron` (and `TimeZone`); raises CronError naming what is wrong."""
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"TimeZone '{zone_name}' is not a time zone name (such as UTC or Europe/Berlin)") from None
    parts = expression.split()
    if len(parts) not in (6, 7):
        raise CronError(
            f"Cron '{expression}' has {len(parts)} fields; it needs 6 or 7: "
            "seconds minutes hours day-of-month month day-of-week [year]"
        )
    if parts[0] not in ("*", "0"):
        raise CronError(f"Cron '{expression}': the seconds field takes only '*'")
    fields = parts[1:] + (["*"] if len(parts) == 6 else [])
    values: list[frozenset[int] | None] = []
    last_day = False
    for (name, low, high, names), text in zip(_FIELDS, fields, strict=True):
        if text == "?":
            if name not in ("day-of-month", "day-of-week"):
                raise CronError(f"Cron '{expression}': '?' is allowed in day-of-month and day-of-week only")
            values.append(None)
            continue
        if name == "day-of-month" and text == "L":
            last_day = True
            values.append(None)
            continue
        if any(mark in text for mark in ("W", "#", "L")):
            raise CronError(f"Cron '{expression}': the sandbox does not evaluate '{text}' in {name}")
        allowed = _field(expression, name, text, low, high, names)
        values.append(None if text == "*" and name in ("day-of-month", "day-of-week", "year") else allowed)
    minutes, hours, days, months, weekdays, years = values
    return Window(
        expression=expression,
        zone=zone,
        minutes=minutes or frozenset(range(60)),
        hours=hours or frozenset(range(24)),
        days=days,
        last_day=last_day,
        months=months or frozenset(range(1, 13)),
        weekdays=weekdays,
        years=years,
    )


def _field(expression: str, name: str, text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    allowed: set[int] = set()
    for item in text.split(","):
        base, _, step_text = item.partition("/")
        try:
            step = int(step_text) if step_text else 1
        except ValueError:
            raise CronError(f"Cron '{expression}': '{item}' in {name} has a step that is not a number") from None
        if step < 1:
            raise CronError(f"Cron '{expression}': the step of '{item}' in {name} must be at least 1")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = (
                _value(expression, name, first, low, high, names),
                _value(expression, name, last, low, high, names),
            )
        else:
            start = _value(expression, name, base, low, high, names)
            end = high if step_text else start
        if start > end:
            raise CronError(f"Cron '{expression}': the range '{base}' in {name} runs backwards")
        allowed.update(range(start, end + 1, step))
    return frozenset(allowed)


def _value(expression: str, name: str, text: str, low: int, high: int, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    try:
        value = int(text)
    except ValueError:
        raise CronError(f"Cron '{expression}': '{text}' is not a value of {name}") from None
    if not low <= value <= high:
        raise CronError(f"Cron '{expression}': {value} is outside {name} ({low}-{high})")
    return value
