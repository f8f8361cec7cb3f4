"""The sources of deployments on the screens, one line each, in the order of their keys (`1`, `2`…).

Each line (`SourceView` in screens/fleet/view.py) says all the screens need of a source: its section key's id (the
key its package's `parts.py` declares, which console/keys.py lists), its view on the fleet screen (its module here:
rows and their caches, columns for the terminal's width, the pane under the list, what enter opens and what an
action key means for its highlighted row), the screens that show its resources (its folder of screens) and what
enter opens for its approvals and transitions. The app binds each line's key and registers its screens, the fleet
screen makes its view, the approvals inbox and the activity stream ask it what to open: a new source of deployments
is its view module, its folder of screens and one line here.
"""

from __future__ import annotations

from console.codepipeline.model import SERVICE as CODEPIPELINE
from console.stepfunctions.model import SERVICE as STEPFUNCTIONS
from screens.context import EXECUTION
from screens.execution.screen import ExecutionScreen
from screens.fleet.pipelines import PIPELINE_SCREEN, PipelineView, pipeline_opens
from screens.fleet.state_machines import MACHINE_SCREEN, MachineView, machine_opens
from screens.fleet.view import SourceView
from screens.pipeline.screen import PipelineScreen
from screens.state_machine.screen import StateMachineScreen

VIEWS: tuple[SourceView, ...] = (
    SourceView(CODEPIPELINE, "fleet", PipelineView, {PIPELINE_SCREEN: PipelineScreen}, pipeline_opens),
    SourceView(
        STEPFUNCTIONS,
        "state_machines",
        MachineView,
        {MACHINE_SCREEN: StateMachineScreen, EXECUTION: ExecutionScreen},
        machine_opens,
    ),
)
