"""The sources of deployments on the screens come from the registry in screens/fleet/views.py, one line each: the
app binds each line's section key (help and the footer list it, the keymap remaps it) and registers the screens it
names, the fleet screen shows, switches between and opens exactly the views registered and asks the one shown, and
the approvals inbox and the activity stream ask a line what enter opens. A third source needs no other edit in the
app, the fleet screen or the screen registry: its key in console/keys.py and its line."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest
from rich.text import Text

from console import keys
from console.config import Config
from console.key_spec import KeySpec
from console.keys import KEYS
from console.model import FleetState, Service
from console.services import SERVICES
from screens.action_flow import Choices
from screens.context import KeyRef, ResourceRef
from screens.fleet.pipelines import PIPELINES
from screens.fleet.screen import FleetScreen
from screens.fleet.view import Frame, SourceView
from screens.fleet.views import VIEWS
from screens.help.screen import HelpScreen
from screens.widgets.keyed_list import ListColumn
from screens.widgets.wave_board import WaveBoard
from tests.ui.conftest import StandIn, rendered, wait_for


def test_each_source_has_its_own_view_binding_and_screens() -> None:
    views = [source.view() for source in VIEWS]
    ids = {spec.id: spec for spec in KEYS}
    assert len({v.name for v in views}) == len({s.binding for s in VIEWS}) == len(VIEWS)
    assert len({s.service for s in VIEWS}) == len(VIEWS)
    for source in VIEWS:
        assert ids[source.binding].group == "app", source.binding  # reachable from every screen
        # The id is the one its service package declares (console/keys.py gathers it from the registry).
        assert SERVICES[source.service].section.id == source.binding
    screens = [name for source in VIEWS for name in source.screens]
    assert len(set(screens)) == len(screens), "two sources name one screen"


async def test_the_screen_shows_exactly_the_registered_views(console_app: Any) -> None:
    app = console_app(views=VIEWS[:1])
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await wait_for(pilot, lambda: "checkout-api" in rendered(app), what="the pipelines")
        assert list(screen.views) == [PIPELINES]
        assert "Pipelines (" in rendered(app)
        assert "State machines (" not in rendered(app)
        await pilot.press("2")  # the app's binding for a view that is not registered: nothing to show
        await pilot.pause()
        assert screen.view == PIPELINES
        assert "wave-deployment" not in rendered(app)


# --- a third source, registered as a new one would be -----------------------------------------------------------

DEPLOYMENTS = KeySpec("deployments", "5", "Fleet: deployment groups", "app", "Deploys")
GROUP = "east:blue-green"


class DeploymentView:
    """A fixed view of one deployment group: all a source's view gives the fleet screen."""

    name = "deployments"
    label = "Deployment groups"
    noun = "deployment group"
    keys = (GROUP,)
    total = 1
    changed = False  # its one row never changes after it is first shown

    def lay_out(self, width: int, target_width: int, frame: Frame) -> bool:
        return False

    def list_columns(self) -> tuple[ListColumn, ...] | None:
        return (ListColumn("name", Text("Deployment group"), 40),)

    def reshape(self, frame: Frame) -> bool:
        return False

    def sync(self, frame: Frame) -> bool:
        return True

    def search_ahead(self, budget: float) -> bool:
        return False  # its one row's words are fixed

    rows: Mapping[str, object] = {GROUP: "blue-green"}

    def row_cells(self, row: object) -> tuple[Text, ...]:
        return (Text(str(row)),)

    def show_detail(self, board: WaveBoard, key: str | None, state: FleetState, now: datetime) -> None:
        board.show_text(Text(f"group {key}"))

    def ref(self, key: str) -> ResourceRef:
        return KeyRef("deployment_group", key)

    def choices(self, binding_id: str, key: str, state: FleetState) -> Choices | None:
        return None


THIRD = SourceView(
    Service("codedeploy"),  # a service is the value its package makes: nothing in the model to add
    DEPLOYMENTS.id,
    DeploymentView,
    {"deployment_group": lambda key: StandIn("deployment group", key)},
)


@pytest.fixture
def deployments_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The third source's section key, as its package's `parts.py` would declare it (console/keys.py gathers each
    registered service's: the config validates keymaps without the UI)."""
    monkeypatch.setattr(keys, "KEYS", (*KEYS, DEPLOYMENTS))


@pytest.mark.usefixtures("deployments_key")
async def test_a_third_source_gets_its_key_its_help_line_its_footer_label_and_its_screen(console_app: Any) -> None:
    app = console_app(views=(*VIEWS, THIRD))
    async with app.run_test(size=(200, 36)) as pilot:  # wide enough for every key in the footer
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await wait_for(pilot, lambda: "Deployment groups (1)" in rendered(app), what="its view in the view bar")
        assert " 5  Deployment groups (1)" in rendered(app)
        assert "Deploys" in rendered(app).splitlines()[-1], "its short label in the footer"
        await pilot.press("5")
        await wait_for(pilot, lambda: screen.view == "deployments", what="its view on 5")
        await wait_for(pilot, lambda: "group east:blue-green" in rendered(app), what="its detail pane")
        await pilot.press("f1")
        help_screen = await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen)
        row = next(r for r in help_screen.rows if r.description == DEPLOYMENTS.description)
        assert row.keys == "5"
        assert row.enabled
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("enter")
        opened = await wait_for(pilot, lambda: isinstance(app.screen, StandIn) and app.screen, what="its screen")
        assert opened.what == ("deployment group", GROUP)
        await pilot.press("escape", "1")
        await wait_for(pilot, lambda: screen.view == PIPELINES, what="1 back to the pipelines")
        await pilot.press("5")
        await wait_for(pilot, lambda: screen.view == "deployments", what="5 from the pipelines")


@pytest.mark.usefixtures("deployments_key")
async def test_the_keymap_moves_a_third_sources_key(console_app: Any) -> None:
    app = console_app(views=(*VIEWS, THIRD), config=Config(keymap={"deployments": "d"}))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen.view == "deployments", what="its view on d")
