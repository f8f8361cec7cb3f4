"""How `wavedeck watch` prints a transition: human lines and JSON lines, untrusted text kept harmless."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone

from console.codepipeline.model import PipelineTransition
from console.model import FleetState, FleetUpdate, Target, TargetStatus, Transition
from console.stepfunctions.model import MachineTransition
from console.watch_output import TransitionPrinter, format_json, format_line, status_note
from console.waves import default_wave_model

HOSTILE = "[bold red]x[/] \x1b[2J\x1b]0;owned\x07 \x9b31m" + "z" * 10_000


def transition(**kw: object) -> Transition:
    fields: dict[str, object] = {
        "time": datetime(2025, 3, 1, 9, 30, 5, 123456, tzinfo=UTC),
        "target": "sandbox/us-east-1",
        "kind": PipelineTransition.STAGE,
        "resource": "checkout-api/Prod-Canary",
        "execution": "0c9b5d2e-1111-2222-3333-444455556666",
        "wave": default_wave_model().wave("prod-canary"),
        "from_status": "InProgress",
        "to_status": "Succeeded",
        "detail": "",
        "source": "poll",
    }
    fields.update(kw)
    return Transition(**fields)  # type: ignore[arg-type]


def test_json_line_has_every_field_in_utc() -> None:
    east = timezone(timedelta(hours=2))
    line = format_json(transition(time=datetime(2025, 3, 1, 11, 30, 5, tzinfo=east), source="push"))
    document = json.loads(line)
    assert document == {
        "time": "2025-03-01T09:30:05.000Z",
        "target": "sandbox/us-east-1",
        "kind": PipelineTransition.STAGE,
        "resource": "checkout-api/Prod-Canary",
        "execution": "0c9b5d2e-1111-2222-3333-444455556666",
        "wave": "prod-canary",
        "from": "InProgress",
        "to": "Succeeded",
        "detail": "",
        "source": "push",
    }
    assert "\n" not in line


def test_json_escapes_control_characters_and_keeps_the_text() -> None:
    line = format_json(transition(detail=HOSTILE, resource="a/[b]"))
    assert "\x1b" not in line
    assert "\x9b" not in line
    assert "\x07" not in line
    assert json.loads(line)["detail"] == HOSTILE
    assert json.loads(line)["resource"] == "a/[b]"


def test_human_line_shows_control_characters_as_escapes() -> None:
    line = format_line(transition(detail=HOSTILE, source="push"))
    assert "\x1b" not in line
    assert "\x9b" not in line
    assert "[bold red]x[/] \\x1b[2J\\x1b]0;owned\\x07 \\x9b31m" in line
    assert line.startswith("2025-03-01T09:30:05.123Z  sandbox/us-east-1  stage")
    assert "checkout-api/Prod-Canary  [prod-canary]  InProgress → Succeeded  exec 0c9b5d2e" in line
    assert line.endswith("(push)")
    assert len(line) > 10_000


def test_human_line_for_a_new_execution_and_an_arn() -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:wave-deployment:run-7"
    line = format_line(
        transition(
            kind=MachineTransition.SFN_EXECUTION,
            resource="wave-deployment/run-7",
            execution=arn,
            from_status=None,
            wave=None,
        )
    )
    assert "wave-deployment/run-7  · → Succeeded  exec run-7" in line


def test_printer_writes_transitions_and_health_notes() -> None:
    out, err = io.StringIO(), io.StringIO()
    printer = TransitionPrinter(out, err, json_lines=True)
    target = Target(name="sandbox/us-east-1", region="us-east-1")
    healthy = FleetState(targets=(TargetStatus(target, push="on"),))
    printer(FleetUpdate(healthy, (transition(), transition(to_status="Failed"))))
    assert [json.loads(line)["to"] for line in out.getvalue().splitlines()] == ["Succeeded", "Failed"]
    assert err.getvalue() == "wavedeck: sandbox/us-east-1: push queue connected\n"
    down = FleetState(targets=(TargetStatus(target, error="Could not connect \x1b[31m", push="failed"),))
    printer(FleetUpdate(down))
    printer(FleetUpdate(healthy))
    assert err.getvalue().splitlines()[1:] == [
        "wavedeck: sandbox/us-east-1: Could not connect \\x1b[31m",
        "wavedeck: sandbox/us-east-1: reachable again",
    ]


def test_status_note_for_push_failure_and_throttling() -> None:
    target = Target(name="t", region="us-east-1")
    assert status_note(TargetStatus(target, push="on"), TargetStatus(target, push="failed")) == (
        "t: push queue failed, polling instead (retrying the queue)"
    )
    assert status_note(TargetStatus(target), TargetStatus(target, throttled=True)) == (
        "t: AWS is throttling; reading more slowly"
    )
    assert status_note(TargetStatus(target), TargetStatus(target)) is None


def test_a_condition_change_is_one_plain_line() -> None:
    line = format_line(
        transition(
            kind=PipelineTransition.CONDITION,
            from_status=None,
            to_status="InProgress",
            detail="on success (ROLLBACK) · Baking until 09:45:05, watching Prod-5xx OK",
        )
    )
    assert line == (
        "2025-03-01T09:30:05.123Z  sandbox/us-east-1  condition           checkout-api/Prod-Canary  [prod-canary]  "
        "· → InProgress  exec 0c9b5d2e  — on success (ROLLBACK) · Baking until 09:45:05, watching Prod-5xx OK"
    )
    assert json.loads(format_json(transition(kind=PipelineTransition.CONDITION)))["kind"] == "condition"


BIDI = "\u202eevil\u202c \u200e\u200f\u202a\u202b\u202d\u2066\u2067\u2068\u2069"


def test_bidi_controls_never_reach_the_terminal_raw() -> None:
    """The same rule as the screens (console/terminal_text.py): a U+202E in a name cannot reverse a line."""
    from console.__main__ import _error_line
    from console.errors import Refused
    from console.watch_output import plain

    line = format_line(transition(resource=f"pipe{BIDI}", detail=BIDI, to_status=BIDI))
    error = _error_line(Refused(f"pipeline {BIDI} has no stage"))
    for text in (line, error, plain(BIDI)):
        assert not any(char in text for char in BIDI if char not in "evil "), repr(text)
    assert "pipe\\u202eevil\\u202c" in line
    assert error.startswith("wavedeck: pipeline \\u202eevil\\u202c")


def test_json_escapes_bidi_controls_and_keeps_the_text() -> None:
    line = format_json(transition(resource=f"pipe{BIDI}", detail=BIDI))
    assert not any(char in line for char in ("\u202e", "\u2066", "\u200e"))
    assert "\\u202e" in line
    assert json.loads(line)["detail"] == BIDI


def test_the_screens_strip_the_same_characters_and_keep_newlines_when_asked() -> None:
    from screens.text import clean

    assert clean(f"a{BIDI}\nb", keep_newlines=True) == "aevil \nb"
    assert clean(f"a{BIDI}\nb") == "aevil  b"
