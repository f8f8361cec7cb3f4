"""The fleet screen's views, one per source of deployments, in the order of their keys (`1`, `2`…).

Each module holds what its service shows on the fleet screen (`FleetView` in screens/fleet/view.py): its rows and
their caches, its columns for the terminal's width, the pane under the list, what enter opens and what an action
key means for its highlighted row. The screen makes one of each from this registry and asks the one shown; a new
source of deployments is its module and one line here (and its binding in console/keys.py).
"""

from __future__ import annotations

from collections.abc import Callable

from screens.fleet.pipelines import PipelineView
from screens.fleet.state_machines import MachineView
from screens.fleet.view import FleetView

VIEWS: tuple[Callable[[], FleetView], ...] = (PipelineView, MachineView)
