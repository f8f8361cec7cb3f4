"""DeploymentWindow cron expressions: open minutes, the next opening, and what is refused (no sandbox needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.sandbox.codepipeline import cron


def test_business_hours_in_a_time_zone() -> None:
    window = cron.parse("* * 9-17 ? * MON-FRI *", "Europe/Berlin")
    sunday = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    assert not window.is_open(sunday)
    assert window.next_open(sunday) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 09:00 CET
    assert window.is_open(datetime(2026, 12, 7, 16, 59, tzinfo=UTC))
    assert not window.is_open(datetime(2026, 12, 7, 17, 0, tzinfo=UTC))  # 18:00 CET


def test_steps_lists_and_last_day() -> None:
    window = cron.parse("* 0/15 3,4 L * ?")
    assert window.next_open(datetime(2026, 2, 1, tzinfo=UTC)) == datetime(2026, 2, 28, 3, 0, tzinfo=UTC)
    assert window.is_open(datetime(2026, 2, 28, 4, 45, tzinfo=UTC))
    assert not window.is_open(datetime(2026, 2, 28, 4, 46, tzinfo=UTC))


def test_a_window_that_never_opens() -> None:
    assert cron.parse("* * * ? * * 1970").next_open(datetime(2026, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("* * *", "needs 6 or 7"),
        ("5 * * ? * *", "seconds field"),
        ("* * 24 ? * *", "24 is outside hours"),
        ("* * * 15W * ?", "does not evaluate"),
        ("* * * ? * 2#1", "does not evaluate"),
        ("* * 10-2 ? * *", "runs backwards"),
    ],
)
def test_refused_expressions(expression: str, says: str) -> None:
    with pytest.raises(cron.CronError, match=says):
        cron.parse(expression)


def test_unknown_time_zone() -> None:
    with pytest.raises(cron.CronError, match="not a time zone"):
        cron.parse("* * * ? * *", "Mars/Olympus")
