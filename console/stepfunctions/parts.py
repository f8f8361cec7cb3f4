"""Step Functions as the console's registry of services sees it (`console/services.py` lists `PARTS`)."""

from __future__ import annotations

from console.key_spec import KeySpec
from console.service_parts import ServiceParts
from console.stepfunctions.actions import ACTIONS
from console.stepfunctions.model import SERVICE
from console.stepfunctions.reads import StepFunctionsGateway
from console.stepfunctions.selections import NAMES
from console.stepfunctions.slots import MachineReader
from console.stepfunctions.source import StateMachineSource

# Its view on the fleet screen, reached from anywhere (screens/fleet/views.py binds it by this id).
SECTION = KeySpec("state_machines", "2", "Fleet: state machines", "app", "Machines")

PARTS = ServiceParts(SERVICE, SECTION, ACTIONS, StateMachineSource, NAMES, (StepFunctionsGateway, MachineReader))
