"""benchmarks/team.py's measure: what counts as a transition a console saw, in time, and late."""

from __future__ import annotations

from benchmarks.team import measure


def line(kind: str, resource: str, to: str, source: str = "push") -> dict[str, object]:
    return {"kind": kind, "resource": resource, "execution": "e1", "to": to, "source": source}


def test_a_repeated_line_is_not_news_arriving_late() -> None:
    deploy = line("action", "p/Beta/Deploy", "Succeeded")
    first = [(1.0, deploy), (40.0, deploy)]  # told on time, then told again much later
    second = [(1.5, deploy)]
    figures = measure([first, second], 0.0, 60.0)
    assert figures["share"] == (1.0, 1.0)
    assert figures["in_time"] == (1.0, 1.0)
    assert figures["late"][2] == 0.5  # not 39 s: the repeat is counted apart
    assert figures["within_1s"] == 1.0
    assert figures["repeats"] == 0.5  # one repeat over two consoles


def test_what_no_event_carries_stays_in_the_whole_and_is_shown_apart() -> None:
    stage = line("stage", "p/Beta", "Succeeded")
    bake = line("condition", "p/Beta", "InProgress", "poll")  # only a read at the right moment shows it
    reads_it = [(1.0, stage), (2.0, bake)]
    misses_it = [(1.2, stage)]
    figures = measure([reads_it, misses_it], 0.0, 60.0)
    assert (figures["transitions"], figures["read_only"]) == (2, 1)
    assert figures["share"][0] == 0.5  # the headline still counts it as missed
    assert figures["in_time_pushed"] == (1.0, 1.0)
    assert figures["in_time_read"][0] == 0.0


def test_only_transitions_first_printed_in_the_window_count() -> None:
    early = line("stage", "p/Alpha", "InProgress")
    inside = line("stage", "p/Beta", "InProgress")
    figures = measure([[(-3.0, early), (5.0, inside)], [(5.5, inside), (6.0, early)]], 0.0, 60.0)
    assert figures["transitions"] == 1


def test_a_stages_entry_and_success_conditions_are_two_transitions() -> None:
    entry = {**line("condition", "p/Prod-AZ1", "Succeeded", "team"), "detail": "before entry (FAIL) · All met"}
    bake = {**line("condition", "p/Prod-AZ1", "Succeeded", "team"), "detail": "on success (ROLLBACK) · All met"}
    figures = measure([[(1.0, entry), (1.0, bake)], [(1.1, bake), (9.0, entry)]], 0.0, 60.0)
    assert figures["transitions"] == 2
    assert figures["repeats"] == 0
    assert figures["in_time_read"] == (0.5, 0.75)
