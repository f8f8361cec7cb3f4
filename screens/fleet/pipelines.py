"""The fleet screen's pipelines view (`1`): every pipeline, its row in the list and its wave board under it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.text import Text

from console.model import FleetState, Pipeline, Wave
from screens.fleet.rows import (
    PipelineRow,
    TableLayout,
    pipeline_row,
)
from screens.fleet.view import NameOrder, RowFilter
from screens.widgets.wave_board import SLOT_WIDE


class PipelineRows:
    """The pipelines view: its layout, the rows shown (filtered, by name) and how many there are in all."""

    def __init__(self) -> None:
        self.layout: TableLayout | None = None
        self.waves: tuple[Wave, ...] | None = None  # the board's columns as last laid out (`board_waves`)
        self.rows: dict[str, PipelineRow] = {}  # the rows shown, by key
        self.keys: list[str] = []  # the keys shown, in order
        self.total = 0  # pipelines in all, filtered or not
        self._order = NameOrder()
        self._filter: RowFilter[PipelineRow] = RowFilter()
        self._cache: dict[str, tuple[Pipeline, bool, int, int, PipelineRow]] = {}

    def set_layout(self, layout: TableLayout) -> bool:
        """Take the layout for the terminal's width; True when it changed (every row is built again)."""
        if layout == self.layout:
            return False
        self.layout = layout
        self._cache = {}
        return True

    def set_waves(self, waves: tuple[Wave, ...]) -> bool:
        """Take the board's columns (an `unknown` column comes or goes); True when they changed (every row is
        built again)."""
        if waves == self.waves:
            return False
        self.waves = waves
        self._cache = {}
        return True

    def sync(self, state: FleetState, now: datetime, labels: Mapping[str, str], query: str) -> bool:
        """The rows of `state`'s pipelines matching `query`; False while there is no layout or waves yet."""
        if self.layout is None or self.waves is None:
            return False
        waves = self.waves
        pipelines = state.pipelines
        rows = [self._row(key, pipelines[key], state, now, waves, labels) for key in self._order.of(pipelines)]
        self.total = len(rows)
        rows = self._filter.keep(rows, query)
        self.rows = {r.key: r for r in rows}
        self.keys = [r.key for r in rows]
        return True

    def cells(self) -> dict[str, tuple[Text, ...]]:
        return {key: self.rows[key].cells for key in self.keys}

    def _row(
        self,
        key: str,
        pipeline: Pipeline,
        state: FleetState,
        now: datetime,
        waves: Sequence[Wave],
        labels: Mapping[str, str],
    ) -> PipelineRow:
        """The row of `pipeline` (whose key is `key`: passed, as it is a new string on every ask)."""
        assert self.layout is not None
        slot = self.layout.slot
        stale = state.is_stale(key, pipeline.read_at, now)
        # Ages are shown in the list only in wide slots: only there does a new minute make a row read differently.
        minute = int(now.timestamp() // 60) if slot >= SLOT_WIDE else 0
        cached = self._cache.get(key)
        if cached is not None and cached[0] is pipeline and cached[1] == stale and cached[2] == slot:
            if cached[3] == minute:
                return cached[4]
        row = pipeline_row(pipeline, waves, state, now, slot, labels.get(pipeline.target, pipeline.target))
        self._cache[key] = (pipeline, stale, slot, minute, row)
        return row
