"""What waits for a person, whatever its service: the order the inbox lists it in.

Each service package builds its own approvals from its model (`console/codepipeline/approvals.py`: manual
approvals and stages held by alarms; `console/stepfunctions/approvals.py`: `.waitForTaskToken` states); the
watcher publishes them all as `FleetState.approvals`, in this order.
"""

from __future__ import annotations

from collections.abc import Iterable

from console.model import Approval


def sorted_approvals(approvals: Iterable[Approval]) -> tuple[Approval, ...]:
    """Oldest first: what has waited longest is what a person should look at first."""

    def key(approval: Approval) -> tuple[bool, float, str]:
        since = approval.since
        return since is None, since.timestamp() if since else 0.0, approval.key

    return tuple(sorted(approvals, key=key))
