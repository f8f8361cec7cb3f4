"""The approvals inbox's view state (screens/approvals/view.py), without a Textual app."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from rich.text import Text

from screens.approvals import view
from screens.approvals.rows import inbox_layout, row_key
from screens.approvals.view import Drawn, InboxRows
from tests.ui.conftest import FIXED_NOW
from tests.ui.test_approvals import inbox_picture

LABELS = {"sandbox/us-east-1": "us-east-1"}


def synced(query: str = "") -> InboxRows:
    rows = InboxRows()
    rows.set_layout(inbox_layout(120, 9, False))
    rows.set_query(query)
    assert rows.sync(inbox_picture(), FIXED_NOW, LABELS)
    return rows


def cells_of(rows: InboxRows) -> dict[str, tuple[Text, ...]]:
    """The cells of every row shown, as the list draws them (the same tuple while a row reads the same)."""
    return {key: row.cells() for key, row in rows.rows().items()}


def resources(rows: InboxRows) -> list[str]:
    return [rows.approvals[key].resource for key in rows.keys]


def test_rows_are_the_approvals_most_urgent_first() -> None:
    rows = synced()
    assert resources(rows) == [
        "orders-api/Beta/ApproveBeta",
        "checkout-api/Prod-Canary/ApproveProduction",
        "wave-deployment/deploy-notifications-42",
        "ledger/Gamma/SignOff",
        "search-indexer-eu/Gamma/Approve",
    ]
    assert rows.total == 5
    cells = cells_of(rows)
    assert list(cells) == rows.keys
    assert all(len(row) == len(rows.layout.columns) for row in cells.values())  # type: ignore[union-attr]
    assert rows.approval(rows.keys[0]) is rows.approvals[rows.keys[0]]
    assert rows.approval(None) is None
    assert rows.approval("no such row") is None


def test_no_layout_no_rows() -> None:
    rows = InboxRows()
    assert not rows.sync(inbox_picture(), FIXED_NOW, LABELS)
    assert rows.keys == []
    assert cells_of(rows) == {}


def test_an_equal_picture_is_nothing_to_draw_and_a_new_minute_redraws_only_what_reads_differently() -> None:
    picture = inbox_picture()
    rows = synced()
    before = cells_of(rows)
    assert not rows.sync(replace(picture), FIXED_NOW, LABELS)  # equal, a new object: nothing changed
    assert rows.sync(picture, FIXED_NOW + timedelta(minutes=1), LABELS)  # ages and time left moved on
    after = cells_of(rows)
    assert after.keys() == before.keys()
    changed = [key for key in after if after[key] is not before[key]]
    assert changed  # a new tuple only for rows that read differently; the others keep theirs (and their lines)
    for key in changed:
        assert after[key] != before[key]
    for key in set(after) - set(changed):
        assert after[key] is before[key]


def test_a_new_layout_makes_every_row_again() -> None:
    rows = synced()
    before = cells_of(rows)
    assert not rows.set_layout(inbox_layout(120, 9, False))  # the same layout: nothing to do
    assert rows.set_layout(inbox_layout(80, 9, False))
    assert rows.keys == []  # until the next sync
    assert rows.sync(inbox_picture(), FIXED_NOW, LABELS)
    after = cells_of(rows)
    assert all(after[key] != before[key] for key in after)


def test_the_filter_narrows_the_rows_not_the_count() -> None:
    rows = synced("prod")
    assert resources(rows) == ["checkout-api/Prod-Canary/ApproveProduction", "wave-deployment/deploy-notifications-42"]
    assert rows.total == 5
    assert not rows.set_query(" prod ")  # the same words
    assert rows.set_query("")
    assert rows.sync(inbox_picture(), FIXED_NOW, LABELS)
    assert len(rows.keys) == 5


def test_an_approval_listed_twice_is_one_row() -> None:
    picture = inbox_picture()
    twice = replace(picture, approvals=(*picture.approvals, picture.approvals[0]))
    rows = InboxRows()
    rows.set_layout(inbox_layout(120, 9, False))
    assert rows.sync(twice, FIXED_NOW, LABELS)
    assert len(rows.keys) == len(set(rows.keys)) == 5
    assert row_key(picture.approvals[0]) in rows.keys
    assert rows.counts[0] == 5  # the bar counts it once too


def test_the_watcher_reads_the_resources_of_the_rows_shown_first() -> None:
    rows = synced()
    assert rows.resource_keys() == (
        "sandbox/us-east-1:orders-api",
        "sandbox/us-east-1:checkout-api",
        "sandbox/us-east-1:wave-deployment",
        "sandbox/us-east-1:ledger",
        "sandbox/us-east-1:search-indexer-eu",
    )


def test_forgotten_cells_of_answered_approvals() -> None:
    rows = synced()
    picture = inbox_picture()
    for minute in range(1, 40):
        # Each minute a different single approval: the others are answered and gone for good.
        one = replace(picture, approvals=(picture.approvals[minute % 5],))
        rows.sync(one, FIXED_NOW + timedelta(minutes=minute), LABELS)
    assert len(rows._rows) <= 2 * len(rows.keys) + 64


def test_drawn_says_when_a_part_would_read_differently() -> None:
    drawn = Drawn(bar=Text(""), empty=None)
    assert not drawn.changed("bar", Text(""))  # shown before anything was drawn
    assert not drawn.changed("empty", None)
    assert drawn.changed("bar", Text("3 waiting"))
    assert not drawn.changed("bar", Text("3 waiting"))
    assert drawn.changed("detail", Text(""))  # never drawn: drawn now
    drawn.forget("bar")
    assert drawn.changed("bar", Text("3 waiting"))


def test_a_new_minute_makes_the_cells_of_the_rows_drawn_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every age reads differently a minute later; with hundreds waiting only the rows on screen are drawn.
    made: list[str] = []
    real = view.row_cells

    def counted(approval: Any, *args: Any) -> Any:
        made.append(approval.resource)
        return real(approval, *args)

    monkeypatch.setattr(view, "row_cells", counted)
    one = inbox_picture().approvals[1]
    many = tuple(replace(one, resource=f"pipe-{n}/Prod-Canary/Approve") for n in range(300))
    picture = replace(inbox_picture(), approvals=many)
    rows = InboxRows()
    rows.set_layout(inbox_layout(120, 9, False))
    assert rows.sync(picture, FIXED_NOW, LABELS)
    assert made == []  # nothing drawn yet
    shown = rows.rows()
    first = [shown[key].cells() for key in rows.keys[:20]]  # a screenful, as the list draws it
    assert len(made) == 20
    assert [shown[key].cells() for key in rows.keys[:20]] == first  # made once
    assert len(made) == 20
    made.clear()
    assert rows.sync(picture, FIXED_NOW + timedelta(minutes=1), LABELS)
    assert made == []
    later = rows.rows()
    assert [later[key].cells() for key in rows.keys[:20]] != first
    assert len(made) == 20
