"""What the action gate needs of every target's gateway, whatever the service.

`GateGateway` is the part of the gateway (`console/aws/`) the gate itself uses (the target, read-only, who acts).
Each service package adds its own reads and writes in a protocol of its own with the fresh reads it makes before
planning and again right before sending (`console/codepipeline/reads.py`, `console/stepfunctions/reads.py`); its
plan builders take the gateway as this protocol and narrow it there. Nothing is cached: each plan and each execute
reads anew, since being wrong about "still waiting" is exactly what the gate exists to prevent.
"""

from __future__ import annotations

from typing import Protocol

from console.model import Identity, Target

# Newest executions looked at when searching for the last good one (ListPipelineExecutions / ListExecutions).
HISTORY_DEPTH = 50


class GateGateway(Protocol):
    """What the gate needs from a target's gateway (`console.aws.gateway.Gateway` provides it); each service's
    reads protocol extends it."""

    @property
    def target(self) -> Target: ...

    @property
    def read_only(self) -> bool: ...

    async def caller_identity(self) -> Identity: ...
