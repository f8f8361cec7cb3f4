"""What must hold before anything is sent, and how it is read: read-only, the target's gateway, the fresh facts
for an action (through the service's plan builder, console/actions/registry.py), and what changed since a plan.

Nothing is cached between reads: each plan and each execute reads anew, since being wrong about "still
waiting" is exactly what the gate exists to prevent.
"""

from __future__ import annotations

from collections.abc import Mapping

from console.actions.plan import ActionKind, ActionPlan, Facts, PlanContext, plan_from
from console.actions.reads import GateGateway
from console.actions.registry import plan_builder, service_of
from console.errors import Refused
from console.resources import Selection


class Preconditions:
    """Reads and judges, for the gate: whether a target may be acted on, and what the fresh state says."""

    def __init__(self, gateways: Mapping[str, GateGateway], context: PlanContext, *, read_only: bool) -> None:
        self._gateways = dict(gateways)
        self.context = context
        self.read_only = read_only

    def knows(self, target: str) -> bool:
        return target in self._gateways

    def gateway(self, target: str) -> GateGateway:
        gateway = self._gateways.get(target)
        if gateway is None:
            known = ", ".join(sorted(self._gateways)) or "none"
            raise Refused(f"no target named {target} (targets: {known})")
        return gateway

    def read_only_refusal(self, target: str) -> str | None:
        """Why nothing may be sent to `target` (the --read-only flag, the target's config), or None."""
        if self.read_only:
            return "read-only: wavedeck was started read-only (--read-only or read_only in the config); nothing is sent"
        gateway = self._gateways.get(target)
        if gateway is not None and (gateway.read_only or gateway.target.read_only):
            return f"read-only: target {target} is read-only in the config; nothing is sent"
        return None

    def refuse_if_read_only(self, target: str) -> None:
        refusal = self.read_only_refusal(target)
        if refusal:
            raise Refused(refusal)

    async def facts(self, kind: ActionKind, selection: Selection, given: Mapping[str, str] | None = None) -> Facts:
        """Read fresh state for `kind` on `selection`. `given`: the plan's parameters, when executing it."""
        build = plan_builder(service_of(selection), kind)
        return await build(self.gateway(selection.target), selection, self.context, given or {})

    def plan(self, kind: ActionKind, facts: Facts) -> ActionPlan:
        return plan_from(kind, facts, self.gateway(facts.selection.target).target)


def changed(plan: ActionPlan, fresh: ActionPlan) -> str | None:
    """A sentence when what `plan` relied on no longer holds in `fresh` (the same action planned now), else None.

    Besides the precondition (`expect`), the risk: an action that now reaches a production wave its plan did
    not (a stopped execution that moved on into prod-canary) needs that wave's name typed, so it is refused.
    """
    old, new = dict(plan.expect), dict(fresh.expect)
    if old != new:
        if plan.kind.answers:
            return f"{plan.title}: a different approval is waiting now (a new execution reached it); look again"
        if "rollback_to" in old and old.get("rollback_to") != new.get("rollback_to"):
            return (
                f"{plan.title}: the execution to roll back to is now {new.get('rollback_to')}, "
                f"not {old.get('rollback_to')}; look again"
            )
        if "last_good" in old and old.get("last_good") != new.get("last_good"):
            return f"{plan.title}: the last good revision is now {new.get('revision')}, not {old.get('revision')}"
        keys = [k for k in old if old.get(k) != new.get(k)] + [k for k in new if k not in old]
        details = ", ".join(f"{k} was {old.get(k) or '-'}, now {new.get(k) or '-'}" for k in keys)
        return f"{plan.title}: the state changed since the plan ({details}); look again"
    if fresh.production and (not plan.production or fresh.confirm_word != plan.confirm_word):
        return (
            f"{plan.title}: it now acts on production ({fresh.confirm_word}), which was not confirmed when it "
            "was planned; look again"
        )
    return None
