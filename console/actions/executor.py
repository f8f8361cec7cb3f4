"""Sending a plan: once, with its audit records around the call, after one last fresh read.

The order is fixed: the checks that need no IO (read-only, the reason, the typed wave name, not already in
flight, not already sent); the caller's identity; the fresh read and its comparison with the plan; read-only
once more; the intent record, on disk; the call; the result record, on disk. Audit writes run in a worker
thread (the log fsyncs) but are awaited to completion, even through a cancellation, so the event loop never
waits on the disk and intent → call → result can never be reordered or lost.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from console.actions.audit import AuditError, AuditLog
from console.actions.plan import ActionKind, ActionOutcome, ActionPlan, Facts
from console.actions.preconditions import Preconditions, changed
from console.actions.reasons import check_reason
from console.actions.records import ActionRecords, outcome_message, scrub
from console.errors import AlreadyDone, AwsError, Refused, WavedeckError

# How many sent plans are remembered (each may be sent once); older ones are forgotten first.
SENT_MEMORY = 1024


class Executor:
    """Sends plans for the gate: the in-flight guard, single use of a plan, identity, audit, and errors said
    as plain sentences (see the module docstring)."""

    def __init__(self, preconditions: Preconditions, audit: AuditLog) -> None:
        self._pre = preconditions
        self._audit = audit
        self._in_flight: dict[str, ActionPlan] = {}
        self._sent: OrderedDict[str, str] = OrderedDict()  # plan id → when it was sent
        self._identities: dict[str, str] = {}
        self._identity_locks: dict[str, asyncio.Lock] = {}

    @property
    def audit(self) -> AuditLog:
        return self._audit

    @property
    def in_flight(self) -> tuple[ActionPlan, ...]:
        return tuple(self._in_flight.values())

    async def execute(self, plan: ActionPlan, reason: str, *, confirmation: str | None = None) -> ActionOutcome:
        """Send `plan` once with `reason` (see `ActionGate.execute`)."""
        self._pre.refuse_if_read_only(plan.selection.target)
        text = check_reason(reason, max_length=plan.reason_limit, transition=plan.reason_transition)
        check_confirmation(plan, confirmation)
        key = lock_key(plan)
        if key in self._in_flight:
            raise Refused(f"{plan.title} is already being sent; wait for its answer")
        sent = self._sent.get(plan.plan_id)
        if sent is not None:
            raise Refused(f"{plan.title} was already sent at {sent}; plan it again to send it again")
        # Taken before the first await: a second call made while this one runs sees it and refuses.
        self._in_flight[key] = plan
        try:
            return await self._send(plan, text)
        finally:
            self._in_flight.pop(key, None)

    async def _send(self, plan: ActionPlan, reason: str) -> ActionOutcome:
        target = plan.selection.target
        gateway = self._pre.gateway(target)
        identity = await self._identity(target)
        # The precondition, read again right before sending: after the identity (which may take a call).
        facts = await self._pre.facts(plan.kind, plan.selection, plan.parameters)
        why = changed(plan, self._pre.plan(plan.kind, facts))
        if why:
            raise Refused(why)
        self._pre.refuse_if_read_only(target)
        records = ActionRecords(plan, facts, gateway.target, identity)
        # No audit, no action: if the intent cannot be written, AuditError goes up and nothing is sent.
        try:
            await self._write(records.intent(reason))
        except asyncio.CancelledError:
            # The intent is on disk (see _write) but the call will not be made: say so in its result.
            await self._write(records.not_sent("cancelled before the call was made"))
            raise
        # From here the call may reach AWS: this plan is spent, whatever happens next.
        self._remember_sent(plan)
        try:
            receipt = await facts.send(reason, identity)
        except BaseException as exc:
            error = await self._failure(plan, facts, records, exc)
            if error is exc:
                raise
            # AWS's error is replaced by the sentence (its message may hold a token); a bug keeps its traceback.
            raise error from (None if isinstance(exc, AwsError | Refused) else exc)
        new_execution = receipt.execution_id if plan.kind is ActionKind.ROLLBACK else None
        message = outcome_message(facts, receipt, new_execution)
        try:
            await self._write(records.succeeded(receipt, new_execution))
        except AuditError as exc:
            # AWS did it: say so, so nobody sends it again believing it failed.
            raise AuditError(f"{message}, but its audit result could not be written: {exc.message}") from None
        return ActionOutcome(plan, receipt.request_id, message, new_execution, receipt)

    async def _failure(
        self, plan: ActionPlan, facts: Facts, records: ActionRecords, exc: BaseException
    ) -> BaseException:
        """Write the failed call's result record, then return what to raise: a plain sentence."""
        unwritten: AuditError | None = None
        try:
            await self._write(records.failed(exc))
        except AuditError as audit_error:
            unwritten = audit_error
        if not isinstance(exc, Exception):
            return exc  # cancelled or interrupted: the result ("unknown") is written; let it go on
        explained = await self._explain(plan, exc, facts.secrets)
        if unwritten is not None:
            return AuditError(f"{explained.message}; and its result could not be written: {unwritten.message}")
        return explained

    async def _explain(self, plan: ActionPlan, exc: Exception, secrets: tuple[str, ...]) -> WavedeckError:
        """The error the operator sees: what was being done, and AWS's words (tokens replaced by digests)."""
        if isinstance(exc, Refused):
            return Refused(f"{plan.title}: {scrub(exc.message, secrets)}")
        if not isinstance(exc, AwsError):
            return WavedeckError(
                f"{plan.title} failed unexpectedly ({type(exc).__name__}: {scrub(str(exc), secrets)}); "
                "AWS may or may not have carried it out: look at the resource before trying again"
            )
        said = scrub(exc.message, secrets)
        message = f"{plan.title} failed: {said}"
        if isinstance(exc, AlreadyDone) and plan.kind.answers:
            # Someone answered between our re-read and our call: say how, from a fresh read.
            message = f"{plan.title}: it was already answered"
            try:
                await self._pre.facts(plan.kind, plan.selection, plan.parameters)
            except Refused as refusal:
                message = f"{plan.title}: {refusal.message}"
            except Exception:  # noqa: BLE001 - the explanation is best effort; the original error stands
                pass
        elif isinstance(exc, AlreadyDone):
            message = f"{plan.title}: already done ({said})"
        return type(exc)(message, code=exc.code, operation=exc.operation, request_id=exc.request_id, target=exc.target)

    async def _write(self, record: dict[str, Any]) -> None:
        """Append `record` to the audit log in a worker thread and wait until it is on disk.

        Cancelled meanwhile, it still waits for the write to finish and then raises CancelledError: whoever
        called knows the record is there (or AuditError says it is not), so the order of records holds.
        """
        write = asyncio.ensure_future(asyncio.to_thread(self._audit.write, record))
        cancelled = False
        while not write.done():
            try:
                await asyncio.shield(write)
            except asyncio.CancelledError:
                if write.cancelled():
                    raise
                cancelled = True
        write.result()  # AuditError when it could not be written
        if cancelled:
            raise asyncio.CancelledError

    def _remember_sent(self, plan: ActionPlan) -> None:
        self._sent[plan.plan_id] = datetime.now(UTC).strftime("%H:%M:%S UTC")
        while len(self._sent) > SENT_MEMORY:
            self._sent.popitem(last=False)

    async def _identity(self, target: str) -> str:
        """The caller identity's ARN on `target` (STS GetCallerIdentity, once per target)."""
        cached = self._identities.get(target)
        if cached is not None:
            return cached
        lock = self._identity_locks.setdefault(target, asyncio.Lock())
        async with lock:
            if target not in self._identities:
                identity = await self._pre.gateway(target).caller_identity()
                self._identities[target] = identity.arn
        return self._identities[target]


def check_confirmation(plan: ActionPlan, confirmation: str | None) -> None:
    """A production plan is sent only with its `confirm_word`, as the operator typed it (or as --yes gives it)."""
    if not plan.production:
        return
    word = plan.confirm_word or ""
    typed = (confirmation or "").strip()
    if word and typed == word:
        return
    tail = f" (you typed {typed!r}); nothing was sent" if typed else "; nothing was sent"
    raise Refused(f"{plan.title} acts on production: type {word!r} to confirm{tail}")


def lock_key(plan: ActionPlan) -> str:
    """What one call at a time may act on, however the selection names it: an approval, an execution, a stage,
    or a state machine's rollback (one rollback of a wave at a time)."""
    selection = plan.selection
    family = plan.kind.family
    thing = selection.lock_subject(family, rollback=plan.kind is ActionKind.ROLLBACK)
    return f"{family}|{selection.target}|{thing}"
