"""KeyedList (screens/widgets/keyed_list.py) on its own: rows by key, the least redrawn, the cursor on its key,
the filter, the bounded window and following, the table look."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from screens.widgets.keyed_list import KeyedList, ListColumn, Row, Spacing, fit, line_text

COLUMNS = (ListColumn("name", "Name", 10), ListColumn("status", "Status", 8))


def cells(name: str, status: str = "ok") -> tuple[Text, ...]:
    return (Text(name), Text(status))


def rows_of(*names: str) -> dict[str, tuple[Text, ...]]:
    return {name: cells(name) for name in names}


class ListApp(App[None]):
    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options
        self.changes = 0

    def compose(self) -> ComposeResult:
        yield KeyedList(on_change=self._changed, **self.options)

    def _changed(self) -> None:
        self.changes += 1

    @property
    def list(self) -> KeyedList:
        return self.query_one(KeyedList)


def refreshes(widget: KeyedList) -> list[tuple[Any, ...]]:
    """Every `refresh` call of `widget` from now on, with its regions."""
    calls: list[tuple[Any, ...]] = []
    original = widget.refresh

    def refresh(*regions: Any, **kwargs: Any) -> Any:
        calls.append(regions)
        return original(*regions, **kwargs)

    widget.refresh = refresh  # type: ignore[method-assign]
    return calls


def test_cells_are_cut_with_an_ellipsis_or_in_the_middle_and_padded() -> None:
    assert fit(Text("checkout-api/Prod-Canary/DeployOneBox"), 20, "middle").plain == "checkout-a…loyOneBox"
    assert fit(Text("checkout-api/Prod-Canary"), 10).plain == "checkout-…"
    assert fit(Text("ok"), 4).plain == "ok  "
    assert line_text(COLUMNS, cells("a", "b")).plain == " a          b       "
    by_key = {"status": Text("b")}  # a column a row does not name is blank
    assert line_text(COLUMNS, by_key).plain == " " + " " * 10 + " b       "


async def test_the_same_rows_redraw_only_the_lines_that_read_differently() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 10)) as pilot:
        widget = app.list
        widget.set_columns(COLUMNS)
        widget.set_rows(["a", "b", "c"], rows_of("a", "b", "c"))
        await pilot.pause()
        calls = refreshes(widget)
        widget.set_rows(["a", "b", "c"], rows_of("a", "b", "c"))  # equal rows, new objects
        assert calls == []
        widget.set_rows(["a", "b", "c"], {**rows_of("a", "b", "c"), "b": cells("b", "failed")})
        assert [[(r.y, r.height) for r in regions] for regions in calls] == [[(2, 1)]]  # b's line, under the header
        assert widget.row_text("b") == "b failed"


async def test_the_cursor_stays_on_its_key() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 10)) as pilot:
        widget = app.list
        widget.set_columns(COLUMNS)
        widget.set_rows(["a", "b", "c"], rows_of("a", "b", "c"))
        await pilot.press("down")
        assert widget.highlighted_key == "b"
        widget.set_rows(["0", "a", "b", "c"], rows_of("0", "a", "b", "c"))  # a row came above it
        assert (widget.highlighted_key, widget.cursor_row) == ("b", 2)
        widget.remove_rows(["b"])  # its row went: the nearest
        assert widget.keys == ("0", "a", "c")
        assert widget.highlighted_key == "c"
        widget.set_rows(["a", "c"], rows_of("a", "c"), select="a")
        assert widget.highlighted_key == "a"
        assert widget.move_to("c")
        assert not widget.move_to("gone")
        widget.clear()
        assert widget.highlighted_key is None
        assert widget.highlighted is None


async def test_rows_after_the_old_ones_are_appended() -> None:
    app = ListApp()
    async with app.run_test(size=(40, 10)) as pilot:
        widget = app.list
        widget.set_columns(COLUMNS)
        widget.set_rows(["a", "b"], rows_of("a", "b"))
        appended: list[list[str]] = []
        original = widget.append
        widget.append = lambda rows: (appended.append([k for k, _ in rows]), original(rows))[1]  # type: ignore[method-assign]
        widget.set_rows(["a", "b", "c", "d"], rows_of("a", "b", "c", "d"))
        await pilot.pause()
        assert appended == [["c", "d"]]
        assert widget.keys == ("a", "b", "c", "d")
        assert widget.highlighted_key == "a"  # not following: the cursor stays


async def test_the_filter_hides_rows_and_keeps_them() -> None:
    app = ListApp(words=lambda row: " ".join(cell.plain for cell in row))
    async with app.run_test(size=(40, 10)) as pilot:
        widget = app.list
        widget.set_columns(COLUMNS)
        widget.set_rows(["a", "b"], {"a": cells("a", "failed"), "b": cells("b")})
        widget.set_filter("FAIL")
        assert widget.keys == ("a",)
        widget.append([("c", cells("c")), ("d", cells("d", "failed"))])
        assert widget.keys == ("a", "d")
        assert (widget.row_count, widget.kept) == (2, 4)
        await pilot.press("down")
        assert widget.highlighted_key == "d"
        widget.set_filter("")
        assert widget.keys == ("a", "b", "c", "d")
        assert widget.highlighted_key == "d"  # the cursor stays on its row


async def test_a_bounded_following_list_follows_the_newest_until_moved_up() -> None:
    app = ListApp(header=False, follow=True, limit=20)
    async with app.run_test(size=(40, 6)) as pilot:
        widget = app.list
        widget.set_columns(COLUMNS)
        widget.append((str(i), cells(str(i))) for i in range(10))
        assert widget.following
        assert widget.highlighted_key == "9"
        assert widget.shown_keys()[-1] == "9"  # in view
        await pilot.press("up", "up")
        assert not widget.following
        held, top = widget.highlighted_key, widget.first_shown
        assert held == "7"
        widget.append((str(i), cells(str(i))) for i in range(10, 22))  # 2 of the oldest leave the window
        assert widget.kept == 20
        assert widget.keys[0] == "2"
        assert widget.highlighted_key == held  # neither the cursor…
        assert widget.first_shown == top - 2  # …nor the lines being read move
        assert widget.unseen == 12
        await pilot.press("end")
        assert widget.following
        assert widget.unseen == 0
        assert widget.highlighted_key == "21"
        widget.append([("22", cells("22"))])
        assert widget.highlighted_key == "22"
        assert widget.limit == 20


async def test_the_table_look_lays_columns_out_for_its_width() -> None:
    widths: list[int] = []

    def layout(width: int) -> list[ListColumn]:
        widths.append(width)
        return [ListColumn("name", "Name", width // 2), ListColumn("status", "Status", 6)]

    app = ListApp(layout=layout, look="table")
    async with app.run_test(size=(40, 10)) as pilot:
        widget = app.list
        widget.sync([Row("a", {"name": Text("alpha"), "status": Text("ok")})])
        await pilot.pause()
        assert widget.columns[0].width == 20
        row = widget.row("a")
        assert isinstance(row, Row)
        assert row.cell("status").plain == "ok"
        assert widget.row("gone") is None
        assert widget.row_text("a") == "alpha ok"
        await pilot.resize_terminal(60, 10)
        await pilot.pause()
        assert widget.columns[0].width == 30
        assert widths[-1] == 60


async def test_rows_drawn_before_their_columns_are_blank_lines_even_without_colour(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The activity stream drew its first lines before its columns were laid out: an empty text, which Rich renders
    # as one segment without a style, and Textual's NO_COLOR filter crashed the console reading it.
    monkeypatch.setenv("NO_COLOR", "1")
    app = ListApp(header=False, spacing=Spacing(0, 1, 0, False))  # the activity stream's: no indent
    async with app.run_test(size=(40, 6)) as pilot:
        widget = app.list
        widget.set_rows(["a", "b"], rows_of("a", "b"))  # no columns yet
        await pilot.pause()
        assert [widget.render_line(y).text.strip() for y in range(2)] == ["", ""]
        assert all(s.style is not None for y in range(2) for s in widget.render_line(y))
        widget.set_columns(COLUMNS)
        await pilot.pause()
        assert widget.row_text("a") == "a ok"
