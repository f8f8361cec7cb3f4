"""Step Functions as the console's registry of services sees it (`console/services.py` lists `PARTS`)."""

from __future__ import annotations

from console.service_parts import ServiceParts
from console.stepfunctions.actions import ACTIONS
from console.stepfunctions.model import SERVICE
from console.stepfunctions.reads import StepFunctionsGateway
from console.stepfunctions.selections import NAMES
from console.stepfunctions.slots import MachineReader
from console.stepfunctions.source import StateMachineSource

PARTS = ServiceParts(SERVICE, ACTIONS, StateMachineSource, NAMES, (StepFunctionsGateway, MachineReader))
