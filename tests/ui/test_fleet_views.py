"""The fleet screen's views come from the registry in screens/fleet/views.py, one per source of deployments: the
screen shows, switches between and opens exactly the views registered, and asks the one shown."""

from __future__ import annotations

from typing import Any

import pytest

from console.keys import KEYS
from screens.fleet import screen as fleet_screen
from screens.fleet.pipelines import PipelineView
from screens.fleet.screen import PIPELINES, FleetScreen
from screens.fleet.views import VIEWS
from tests.ui.conftest import rendered, wait_for


def test_each_view_has_its_own_name_binding_and_key() -> None:
    views = [make() for make in VIEWS]
    keys = {spec.id: spec.keys.split(",") for spec in KEYS}
    assert len({v.name for v in views}) == len({v.binding for v in views}) == len(views)
    for view in views:
        assert view.key in keys[view.binding], view.name


async def test_the_screen_shows_exactly_the_registered_views(console_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet_screen, "VIEWS", (PipelineView,))
    app = console_app()
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
