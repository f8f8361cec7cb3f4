"""CodePipeline as the console's registry of services sees it (`console/services.py` lists `PARTS`)."""

from __future__ import annotations

from console.codepipeline.actions import ACTIONS
from console.codepipeline.model import SERVICE
from console.codepipeline.reads import CodePipelineGateway
from console.codepipeline.selections import NAMES
from console.codepipeline.slots import PipelineReader
from console.codepipeline.source import PipelineSource
from console.key_spec import KeySpec
from console.service_parts import ServiceParts

# Its view on the fleet screen, reached from anywhere (screens/fleet/views.py binds it by this id).
SECTION = KeySpec("fleet", "1", "Fleet: pipelines", "app", "Pipelines")

PARTS = ServiceParts(SERVICE, SECTION, ACTIONS, PipelineSource, NAMES, (CodePipelineGateway, PipelineReader))
