"""CodePipeline as the console's registry of services sees it (`console/services.py` lists `PARTS`)."""

from __future__ import annotations

from console.codepipeline.actions import ACTIONS
from console.codepipeline.model import SERVICE
from console.codepipeline.reads import CodePipelineGateway
from console.codepipeline.selections import NAMES
from console.codepipeline.slots import PipelineReader
from console.codepipeline.source import PipelineSource
from console.service_parts import ServiceParts

PARTS = ServiceParts(SERVICE, ACTIONS, PipelineSource, NAMES, (CodePipelineGateway, PipelineReader))
