"""Past-tense messages the console's screens exchange. Attributes go down, messages go up.

The app turns each watcher update into `FleetUpdated` and hands it to every screen on the stack. Updates are
bursty, so a `FleetUpdated` still waiting in a queue is replaced by the next one (`can_replace`): a screen
only ever draws the newest picture. Transitions are never lost that way: the app keeps every one in its
`TransitionLog` (bounded), and a screen that lists them reads `since(seq)` on each `FleetUpdated`.
"""

from __future__ import annotations

from textual.message import Message

from console.model import FleetState
from screens.context import ResourceRef


class FleetUpdated(Message):
    """The watcher published a new picture. `transitions_total`: how many transitions the log has seen."""

    def __init__(self, state: FleetState, transitions_total: int) -> None:
        super().__init__()
        self.state = state
        self.transitions_total = transitions_total

    def can_replace(self, message: Message) -> bool:
        # Only the newest picture matters to a screen; the transitions are kept in the app's log.
        return isinstance(message, FleetUpdated)


class ActionCompleted(Message):
    """An action was sent and AWS accepted it. `resource_keys`: the Pipeline/StateMachine keys it touched."""

    def __init__(self, title: str, request_id: str | None, message: str, resource_keys: tuple[str, ...]) -> None:
        super().__init__()
        self.title = title
        self.request_id = request_id
        self.message = message
        self.resource_keys = resource_keys


class OpenRequested(Message):
    """The operator asked to open a resource (enter on a row, `g` on an action); the app pushes its screen."""

    def __init__(self, ref: ResourceRef) -> None:
        super().__init__()
        self.ref = ref
