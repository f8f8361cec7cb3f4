"""The fleet screen's view state: each view's rows in order, filtered, with the caches that keep them cheap.

Plain classes beside the rows module (screens/fleet/rows.py says what a row shows; these say which rows there
are and which can be reused): an update of 500 pipelines builds again only the rows whose pipeline, staleness,
slot width or shown minute changed, sorts again only when pipelines came or went, and asks the filter again only
of rows that changed. The screen (screens/fleet/screen.py) holds one of each and hands their keys and cells to
its list.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from rich.text import Text

from console.model import FleetState, Service, Wave
from screens.action_flow import Choices
from screens.context import ResourceRef, ScreenFactory
from screens.widgets.keyed_list import ListColumn, matches
from screens.widgets.wave_board import WaveBoard


class _Named(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def target(self) -> str: ...


class _Row(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def words(self) -> str: ...


R = TypeVar("R", bound=_Row)
T = TypeVar("T", bound="_Resource")


class _Resource(_Named, Protocol):
    @property
    def read_at(self) -> datetime | None: ...


class NameOrder:
    """Keys sorted by name (then target), sorted again only when resources came or went."""

    def __init__(self) -> None:
        self._keys: list[str] = []
        self._known: set[str] = set()

    def of(self, resources: Mapping[str, _Named]) -> list[str]:
        if resources.keys() != self._known:
            ordered = sorted(resources.values(), key=lambda r: (r.name.lower(), r.target))
            self._keys = [r.key for r in ordered]
            self._known = set(self._keys)
        return self._keys


class RowFilter(Generic[R]):
    """The rows that match the filter's words, each row asked again only when it or the filter changed."""

    def __init__(self) -> None:
        self._query = ""
        self._found: dict[str, tuple[R, bool]] = {}

    def keep(self, rows: list[R], query: str) -> list[R]:
        if not query:
            return rows
        if query != self._query:
            self._query = query
            self._found = {}
        kept: list[R] = []
        for row in rows:
            cached = self._found.get(row.key)
            if cached is not None and cached[0] is row:
                found = cached[1]
            else:
                found = matches(row.words, query)
                self._found[row.key] = (row, found)
            if found:
                kept.append(row)
        return kept


@dataclass(slots=True)
class _Kept(Generic[T, R]):
    resource: T
    row: R
    epoch: Hashable  # what else the row shows (the shown minute, the slot's width)
    stale: bool
    limit: float  # the seconds after its read the resource counts as stale, as the picture said
    cached: bool  # shown from the warm-start cache (stale until read)
    turns_at: float  # when it turns stale by the clock (a POSIX time; infinity when it never does)


class RowCache(Generic[T, R]):
    """Each resource's row, built again only when its resource (by identity, or `same` says it reads
    differently), its staleness or the epoch changed.

    An update of 2,000 pipelines changes a few of them: asking every row costs a lookup and a few comparisons,
    never `FleetState.is_stale`'s date arithmetic, since each row keeps the time it turns stale. `built` says how
    many rows the last call of `rows` built (none: the rows are the very ones of the call before)."""

    def __init__(self, same: Callable[[T, T], bool] | None = None, carry: Callable[[R, R], bool] | None = None) -> None:
        self._kept: dict[str, _Kept[T, R]] = {}
        self._same = same
        # `carry(before, after)`: a row built again only for a new epoch (the minute its ages show) reads the same
        # to the filter; it takes the words its predecessor worked out (True), or has none to take (False).
        self._carry = carry
        self.built = 0
        self._unsearched: dict[str, None] = {}  # keys of rows built since their words were last worked out

    def clear(self) -> None:
        self._kept = {}
        self._unsearched = {}

    def search_ahead(self, budget: float) -> bool:
        """Work out the filter's words of the rows built since, for about `budget` seconds (at least a few rows);
        True while some remain.

        A row's words are worked out when first asked for (`PipelineRow`), and the filter asks every row: typed
        after a while of changes, its first letter worked out the words of every row built meanwhile (2,000 rows,
        150 ms, on the first filter; 300 rows, 20 ms, ten seconds later). The screen calls this in short slices
        between keys and pictures instead."""
        pending, kept_rows = self._unsearched, self._kept
        deadline = time.perf_counter() + budget
        while pending:
            for key in list(itertools.islice(pending, SEARCH_BATCH)):
                del pending[key]
                kept = kept_rows.get(key)
                if kept is not None:
                    _ = kept.row.words
            if time.perf_counter() >= deadline:
                break
        return bool(pending)

    def rows(
        self,
        keys: Sequence[str],
        resources: Mapping[str, T],
        state: FleetState,
        now: datetime,
        epoch: Hashable,
        build: Callable[[T, bool], R],
    ) -> list[R]:
        """The rows of `keys`, in order; `build(resource, stale)` makes one that cannot be kept."""
        moment = now.timestamp()
        limits, default, cached_keys = state.stale_after, state.default_stale_after, state.cached
        kept_rows = self._kept
        rows: list[R] = []
        built = 0
        for key in keys:
            resource = resources[key]
            kept = kept_rows.get(key)
            limit = limits.get(key, default)
            cached = key in cached_keys
            if kept is not None and kept.epoch == epoch and kept.limit == limit and kept.cached == cached:
                if kept.resource is resource:
                    if moment <= kept.turns_at:
                        rows.append(kept.row)
                        continue
                elif self._same is not None and self._same(kept.resource, resource):
                    # Read again and nothing on its row changed (most reads): the row is kept, unless the new
                    # read changed its staleness.
                    stale = state.is_stale(key, resource.read_at, now)
                    if stale == kept.stale:
                        kept.resource = resource
                        kept.turns_at = _turns_at(resource.read_at, limit, cached, stale)
                        rows.append(kept.row)
                        continue
            stale = state.is_stale(key, resource.read_at, now)
            row = build(resource, stale)
            built += 1
            if not (kept is not None and self._carried(kept, row, resource, stale, cached)):
                self._unsearched[key] = None
            turns_at = _turns_at(resource.read_at, limit, cached, stale)
            kept_rows[key] = _Kept(resource, row, epoch, stale, limit, cached, turns_at)
            rows.append(row)
        self.built = built
        if len(kept_rows) > len(resources) + 64:
            self._kept = {key: kept for key, kept in kept_rows.items() if key in resources}  # the gone, forgotten
            self._unsearched = {key: None for key in self._unsearched if key in resources}
        return rows

    def _carried(self, kept: _Kept[T, R], row: R, resource: T, stale: bool, cached: bool) -> bool:
        """Whether `row` took its filter words from the row it replaces: the same resource, as stale and as
        cached, built again for the epoch only. At 120 columns every pipeline's row is built again each minute
        (their ages), and the filter's next letter then worked out the words of all 2,000 again: 150 ms."""
        if self._carry is None or kept.stale != stale or kept.cached != cached:
            return False
        if kept.resource is not resource and (self._same is None or not self._same(kept.resource, resource)):
            return False
        return self._carry(kept.row, row)


# Rows whose words are worked out between two looks at the clock (`RowCache.search_ahead`): 80 µs each.
SEARCH_BATCH = 16


def _turns_at(read_at: datetime | None, limit: float, cached: bool, stale: bool) -> float:
    """When a row's staleness flips by the clock alone: never once stale (only a new read unmarks it)."""
    if stale or read_at is None or cached:
        return math.inf
    return read_at.timestamp() + limit


class ShownRows(Generic[T, R]):
    """A view's rows as the fleet screen shows them: its resources by name, each row built only when it reads
    differently (`RowCache`), then filtered. `changed` says whether the last `show` changed the rows shown or their
    order (False: the list has them already, and the screen hands it nothing). The views subclass it."""

    def __init__(self, same: Callable[[T, T], bool] | None = None, carry: Callable[[R, R], bool] | None = None) -> None:
        self.rows: dict[str, R] = {}  # the rows shown, by key
        self.keys: list[str] = []  # the keys shown, in order
        self.total = 0  # resources in all, filtered or not
        self.changed = True
        self._order = NameOrder()
        self._cache: RowCache[T, R] = RowCache(same, carry)
        self._filter: RowFilter[R] = RowFilter()
        self._shown: tuple[list[str], str] | None = None  # the order and the filter of the rows shown

    def show(self, resources: Mapping[str, T], frame: Frame, epoch: Hashable, build: Callable[[T, bool], R]) -> None:
        """The rows of `resources` for `frame` (`epoch` and `build` as `RowCache.rows` takes them)."""
        order = self._order.of(resources)
        rows = self._cache.rows(order, resources, frame.state, frame.now, epoch, build)
        if not self._cache.built and self._shown is not None and self._shown == (order, frame.query):
            self.changed = False  # the very rows of the last sync, in its order
            return
        self._shown = (order, frame.query)
        self.changed = True
        self.total = len(rows)
        rows = self._filter.keep(rows, frame.query)
        self.rows = {r.key: r for r in rows}
        self.keys = [r.key for r in rows]

    def search_ahead(self, budget: float) -> bool:
        """The filter's words of the rows built since, for about `budget` seconds (`RowCache.search_ahead`); True
        while some remain."""
        return self._cache.search_ahead(budget)


@dataclass(frozen=True)
class Frame:
    """What a view's rows are drawn from: the picture, the time, the targets' short labels, the filter's words,
    and the wave model's waves (the pipelines' board takes its columns from them)."""

    state: FleetState
    now: datetime
    labels: Mapping[str, str]
    query: str
    waves: tuple[Wave, ...]


class FleetView(Protocol):
    """One source of deployments on the fleet screen (its `SourceView` in screens/fleet/views.py makes it): its
    rows, columns and detail pane, what enter opens and what an action key means for its highlighted row. The
    screen asks the view shown and never branches on which one it is."""

    @property
    def name(self) -> str:
        """The view's id: what `FleetScreen.view` holds."""
        ...

    @property
    def label(self) -> str:
        """Its name in the view bar ("Pipelines")."""
        ...

    @property
    def noun(self) -> str:
        """One of its resources, for sentences ("no pipeline is selected")."""
        ...

    @property
    def keys(self) -> Sequence[str]:
        """The keys of the rows shown, in order."""
        ...

    @property
    def total(self) -> int:
        """Its resources in all, filtered or not."""
        ...

    def lay_out(self, width: int, target_width: int, frame: Frame) -> bool:
        """Take the columns for the terminal's width; True when they changed (every row is built again)."""
        ...

    def list_columns(self) -> tuple[ListColumn, ...] | None:
        """The list's columns for this view (None until it is laid out)."""
        ...

    def reshape(self, frame: Frame) -> bool:
        """True when the picture changes the view's columns (they are then laid out again before `sync`)."""
        ...

    def sync(self, frame: Frame) -> bool:
        """Build the rows of `frame`; True when they are ready to be shown (`changed` then says whether they
        differ from the last sync's)."""
        ...

    def search_ahead(self, budget: float) -> bool:
        """Work out, for about `budget` seconds, what the filter will search in rows built since; True while some
        remain (`ShownRows.search_ahead`)."""
        ...

    @property
    def changed(self) -> bool:
        """Whether the last `sync` changed the rows shown or their order (False: the list has them already)."""
        ...

    @property
    def rows(self) -> Mapping[str, Any]:
        """The rows shown, by key: what the list is handed (it draws those on screen through `row_cells`)."""
        ...

    def row_cells(self, row: Any) -> tuple[Text, ...]:
        """The cells of one of its rows in the list's columns (asked only for the rows on screen)."""
        ...

    def show_detail(self, board: WaveBoard, key: str | None, state: FleetState, now: datetime) -> None:
        """Draw the pane under the list for the highlighted row (`key`; None when nothing is highlighted)."""
        ...

    def ref(self, key: str) -> ResourceRef:
        """What enter opens for the row of `key`."""
        ...

    def choices(self, binding_id: str, key: str, state: FleetState) -> Choices | None:
        """What an action key means for the row of `key` (None when its resource is gone)."""
        ...


# What enter opens for one of a source's approvals or transitions: (target, resource key, execution ARN or None).
Opens = Callable[[str, str, str | None], ResourceRef]


@dataclass(frozen=True)
class SourceView:
    """One source of deployments on the screens: its line in screens/fleet/views.py `VIEWS`, and all the app, the
    fleet screen and the screen registry need to know of it.

    `binding`: the id of its section key (its package's `parts.py`, listed in console/keys.py: the app binds it, the
    help screen and the footer show it, the config's `keymap:` remaps it; the view bar shows its first key). `view`:
    its view on the fleet screen. `screens`: the screens that show its resources, by the name its refs give
    (`KeyRef.screen`; "execution" for an `ExecutionRef`), which the app registers. `opens`: what enter opens for one
    of its approvals or transitions (the approvals inbox and the activity stream ask it by the approval's or
    transition's service).
    """

    service: Service
    binding: str
    view: Callable[[], FleetView]
    screens: Mapping[str, ScreenFactory] = field(default_factory=dict)
    opens: Opens | None = None
