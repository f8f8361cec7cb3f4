"""Makes the sandbox move by itself: commits arriving, scheduled state machine runs, and a past to open on.

- **Commits**: each pipeline's repository receives commits at exponential gaps (mean `commit_interval`, the
  pipeline's own or `traffic.commit_interval`), each with a 40-hex revision, an author and a message from
  `traffic`. A commit starts the pipeline as a CodeConnections webhook would (trigger `WebhookV2`), unless
  `max_in_flight` runs of it are already in flight: then it waits until one ends.
- **Scheduled runs**: every `traffic.runs` entry starts its state machine over HTTP every `interval`, with its
  input plus a `revision` and an integer `seed`.
- **Alarm trips**: while an onSuccess CloudWatchAlarm bake is in progress, one of its alarms fires with the
  chance `traffic.alarm_trips` and clears a few minutes later (`alarm_trips.py`), so bakes fail and stages
  roll back now and then, in the warm-up's history as well as live.
- **Warm-up**: before the sandbox opens, `warm_up` seconds of history are played on a frozen clock moved
  forward in small steps, so the console opens on a fleet with revisions in every wave, runs in flight,
  approvals waiting (older ones answered by a colleague) and the odd failure.

Every draw comes from `random.Random` seeded from `--seed` and the pipeline's or run's name, so the same
seed gives the same history whatever the fleet around it. Intervals are definition seconds; the clock's
`--speed` shortens them.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from console.sandbox.alarm_trips import AlarmTrips
from console.sandbox.clock import SandboxClock
from console.sandbox.codepipeline.engine import PipelineEngine
from console.sandbox.fleet.definitions import Fleet, PipelineDef, ScheduledRun
from console.sandbox.seed import client, connection_arn, state_machine_arn

LOG = logging.getLogger(__name__)

# Warm-up moves the frozen clock by this many definition seconds at a time: fine enough that a commit
# starts within a few seconds of its time, coarse enough that half an hour of history plays in a second or two.
WARM_UP_STEP = 4.0
# During warm-up a colleague looks at the approvals about this often (definition seconds)...
APPROVAL_LOOK_EVERY = 45.0
# ...and answers each one after a delay drawn from this range; one in ten is rejected.
APPROVAL_DELAY = (90.0, 600.0)
APPROVAL_REJECT_ODDS = 0.1
# Approvals that start waiting in the last part of the warm-up are left for the person who opens the console.
APPROVAL_LEAVE_LAST = 0.3
# The shortest gap between two commits to one repository (definition seconds).
MIN_COMMIT_GAP = 5.0
# How long the traffic thread sleeps at most between two looks at its schedule (real seconds).
MAX_TICK = 0.5
# State machine runs started the moment the sandbox opens, so something is running and waiting right away.
OPENING_RUNS = 3


@dataclass
class _Repository:
    """One pipeline's source repository and its next commit."""

    pipeline: PipelineDef
    rng: random.Random
    mean_gap: float
    next_at: datetime | None = None
    held: bool = False  # a commit is due but max_in_flight runs are in flight
    has_approval: bool = False
    revisions: dict[str, str] = field(default_factory=dict)  # the current revision of each extra Source action


@dataclass
class _Schedule:
    run: ScheduledRun
    rng: random.Random
    next_at: datetime | None = None
    count: int = 0


@dataclass
class _Approval:
    seen_at: datetime
    answer_at: datetime | None  # None: leave it waiting
    status: str = "Approved"


@dataclass(frozen=True)
class WarmUpReport:
    """What the warm-up played, and how long it took in real time."""

    history_seconds: float
    steps: int
    commits: int
    held_back: int
    approvals_answered: int
    elapsed: float
    aborted: bool = False


class Traffic:
    """Commits, scheduled runs and warm-up for one sandbox (see the module docstring)."""

    def __init__(self, url: str, fleet: Fleet, engine: PipelineEngine, clock: SandboxClock, seed: int = 0) -> None:
        self.url = url
        self.fleet = fleet
        self.engine = engine
        self.clock = clock
        self.seed = seed
        settings = fleet.traffic
        self._repositories = [
            _Repository(
                pipeline,
                random.Random(f"{seed}:commits:{pipeline.name}"),
                pipeline.commit_interval or settings.commit_interval,
                has_approval=any(a.category == "Approval" for s in pipeline.stages for a in s.actions),
            )
            for pipeline in fleet.pipelines
        ]
        self._schedules = [
            _Schedule(run, random.Random(f"{seed}:runs:{index}:{run.state_machine}"))
            for index, run in enumerate(settings.runs)
        ]
        self.alarm_trips = AlarmTrips(settings.alarm_trips, seed)
        self._approvals: dict[str, _Approval] = {}  # by token
        self._approval_rngs = {p.name: random.Random(f"{seed}:approvals:{p.name}") for p in fleet.pipelines}
        self._clients: dict[tuple[str, str], Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.commits = 0
        self.held_back = 0
        self.runs_started: deque[str] = deque(maxlen=100)  # ARNs of the latest scheduled runs, oldest first
        self.report: WarmUpReport | None = None

    # --- warm-up -------------------------------------------------------------------------------------

    def warm_up(self) -> WarmUpReport:
        """Play `traffic.warm_up` seconds of history on a frozen clock, ending at the present."""
        began = time.perf_counter()
        span = self.fleet.traffic.warm_up
        end = datetime.now(UTC)
        now = end - self.clock.scale(span)
        self._first_commits(now, within=span)
        step = self.clock.scale(WARM_UP_STEP)
        look_every = max(1, round(APPROVAL_LOOK_EVERY / WARM_UP_STEP))
        leave_from = end - self.clock.scale(span * APPROVAL_LEAVE_LAST)
        steps = answered = 0
        try:
            # Twice: the second pass covers the real time the first one took, so the history ends at "now".
            for _ in range(2):
                while now < end and not self._stop.is_set():
                    now = min(now + step, end)
                    self.clock.set_manual(now)
                    self._commit_due(now)
                    steps += 1
                    if steps % look_every == 0:
                        answered += self._answer_approvals(now, leave_from)
                    self.engine.advance(now)
                    self._trip_alarms(now)
                end = datetime.now(UTC)
        finally:
            self.clock.set_manual(None)
        self.report = WarmUpReport(
            history_seconds=span,
            steps=steps,
            commits=self.commits,
            held_back=self.held_back,
            approvals_answered=answered,
            elapsed=time.perf_counter() - began,
            aborted=self._stop.is_set(),
        )
        LOG.info("warm-up: %s", self.report)
        return self.report

    def _answer_approvals(self, now: datetime, leave_from: datetime) -> int:
        """Answer, as a colleague would have, the approvals that have waited their drawn delay.

        In-process rather than over HTTP: a large fleet has hundreds of pipelines to look at, dozens of times.
        """
        answered = 0
        account = self.engine.account_id
        for repository in self._repositories:
            pipeline = repository.pipeline
            if not repository.has_approval or self.engine.in_flight(pipeline.region, pipeline.name) == 0:
                continue
            state = self.engine.get_pipeline_state(account, pipeline.region, pipeline.name)
            for stage in state.get("stageStates", []):
                for action in stage.get("actionStates", []):
                    latest = action.get("latestExecution") or {}
                    token = latest.get("token")
                    if latest.get("status") != "InProgress" or not token:
                        continue
                    approval = self._approvals.get(token)
                    if approval is None:
                        approval = self._new_approval(pipeline.name, now, leave_from)
                        self._approvals[token] = approval
                    if approval.answer_at is None or approval.answer_at > now:
                        continue
                    rng = self._approval_rngs[pipeline.name]
                    who = rng.choice(self.fleet.traffic.authors)
                    summary = (
                        "Dashboards clean, promoting"
                        if approval.status == "Approved"
                        else "Holding this one: the error budget is spent for today"
                    )
                    self.engine.put_approval_result(
                        account,
                        pipeline.region,
                        pipeline.name,
                        stage=stage["stageName"],
                        action=action["actionName"],
                        status=approval.status,
                        summary=summary,
                        token=token,
                        caller=f"arn:aws:sts::{account}:assumed-role/release-managers/{who}",
                    )
                    approval.answer_at = None
                    answered += 1
        return answered

    def _new_approval(self, pipeline: str, now: datetime, leave_from: datetime) -> _Approval:
        rng = self._approval_rngs[pipeline]
        delay = rng.uniform(*APPROVAL_DELAY)
        status = "Rejected" if rng.random() < APPROVAL_REJECT_ODDS else "Approved"
        if now >= leave_from:
            return _Approval(now, None, status)
        return _Approval(now, now + self.clock.scale(delay), status)

    # --- commits -------------------------------------------------------------------------------------

    def _first_commits(self, now: datetime, within: float) -> None:
        """Each repository's first commit comes early, so every pipeline has history by the time it opens."""
        for repository in self._repositories:
            first = repository.rng.uniform(0.0, max(MIN_COMMIT_GAP, min(repository.mean_gap, within * 0.2)))
            repository.next_at = now + self.clock.scale(first)

    def _gap(self, repository: _Repository) -> timedelta:
        seconds = max(MIN_COMMIT_GAP, repository.rng.expovariate(1.0 / repository.mean_gap))
        return self.clock.scale(seconds)

    def _commit_due(self, now: datetime) -> None:
        for repository in self._repositories:
            if repository.next_at is None or repository.next_at > now:
                continue
            pipeline = repository.pipeline
            if self.engine.in_flight(pipeline.region, pipeline.name) >= self.fleet.traffic.max_in_flight:
                if not repository.held:
                    repository.held = True
                    self.held_back += 1
                continue
            repository.held = False
            repository.next_at = now + self._gap(repository)
            try:
                self._commit(repository)
            except Exception:  # noqa: BLE001 - traffic is scenery: one failed start must not stop the rest
                LOG.exception("traffic could not start pipeline %s", pipeline.name)

    def _commit(self, repository: _Repository) -> str:
        """A commit lands on the repository's main branch; the pipeline starts on it. Returns the execution id."""
        pipeline = repository.pipeline
        rng = repository.rng
        revision = f"{rng.getrandbits(160):040x}"
        author = rng.choice(self.fleet.traffic.authors)
        message = rng.choice(self.fleet.traffic.messages)
        sources = []
        for index, action in enumerate(pipeline.source_actions):
            repo = action.configuration.get("FullRepositoryId", pipeline.repository)
            if index == 0:
                action_revision, action_message = revision, message
            else:
                # A second source (a config repository, say) keeps the revision it had.
                action_revision = repository.revisions.setdefault(action.name, f"{rng.getrandbits(160):040x}")
                action_message = "Unchanged"
            sources.append(
                {
                    "actionName": action.name,
                    "revisionId": action_revision,
                    # CodeConnections sources report the commit message inside a small JSON document.
                    "revisionSummary": json.dumps(
                        {"ProviderType": "GitHub", "CommitMessage": action_message}, separators=(",", ":")
                    ),
                    "revisionUrl": f"https://github.com/{repo}/commit/{action_revision}",
                }
            )
        branch = pipeline.source_actions[0].configuration.get("BranchName", "main")
        detail = f"{connection_arn(pipeline.region)} {author} pushed {revision[:7]} to {pipeline.repository}@{branch}"
        execution = self.engine.start_execution(
            pipeline.region,
            pipeline.name,
            trigger_type="WebhookV2",
            trigger_detail=detail,
            source_revisions=sources,
        )
        self.commits += 1
        return execution

    # --- scheduled state machine runs ----------------------------------------------------------------

    def _start_run(self, schedule: _Schedule, now: datetime) -> str:
        run = schedule.run
        machine = self.fleet.state_machine(run.state_machine)
        assert machine is not None, "the definitions loader checks run references"
        rng = schedule.rng
        payload = json.loads(run.input)
        payload["revision"] = f"{rng.getrandbits(160):040x}"
        payload["seed"] = rng.randrange(1, 2**31)
        schedule.count += 1
        name = f"scheduled-{now.strftime('%Y%m%dT%H%M%S')}-{payload['revision'][:8]}"
        response = self._client("stepfunctions", machine.region).start_execution(
            stateMachineArn=state_machine_arn(machine.region, machine.name),
            name=name,
            input=json.dumps(payload),
        )
        arn: str = response["executionArn"]
        self.runs_started.append(arn)
        return arn

    def _run_due(self, now: datetime) -> None:
        for schedule in self._schedules:
            if schedule.next_at is not None and schedule.next_at <= now:
                jitter = schedule.rng.uniform(0.8, 1.2)
                schedule.next_at = now + self.clock.scale(schedule.run.interval * jitter)
                try:
                    self._start_run(schedule, now)
                except Exception:  # noqa: BLE001 - as above
                    if not self._stop.is_set():
                        LOG.exception("traffic could not start state machine %s", schedule.run.state_machine)

    # --- running -------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the opening runs, then commits and scheduled runs in a background thread until stop()."""
        now = self.clock.now()
        opened: set[str] = set()
        for schedule in self._schedules:
            # One run of each of the first state machines right away; the rest wait for their interval.
            if len(opened) < OPENING_RUNS and schedule.run.state_machine not in opened:
                opened.add(schedule.run.state_machine)
                schedule.next_at = now
            else:
                schedule.next_at = now + self.clock.scale(schedule.run.interval * schedule.rng.uniform(0.2, 1.0))
        for repository in self._repositories:
            if repository.next_at is None:  # no warm-up: the first commits come soon
                repository.next_at = now + self.clock.scale(
                    repository.rng.uniform(0.0, max(MIN_COMMIT_GAP, repository.mean_gap / 2))
                )
        self._tick(now)
        self._thread = threading.Thread(target=self._loop, name="sandbox-traffic", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Stop at the next step, from any thread or a signal handler; `stop()` also waits for the thread."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = self.clock.now()
            self._tick(now)
            due = [r.next_at for r in self._repositories if r.next_at is not None and not r.held]
            due += [s.next_at for s in self._schedules if s.next_at is not None]
            trip = self.alarm_trips.next_due()
            if trip is not None:
                due.append(trip)
            wait = min(((d - now).total_seconds() for d in due), default=MAX_TICK)
            self._stop.wait(min(MAX_TICK, max(0.02, wait)))

    def _tick(self, now: datetime) -> None:
        self._commit_due(now)
        self._run_due(now)
        self._trip_alarms(now)

    # --- alarm trips during bakes --------------------------------------------------------------------

    def _trip_alarms(self, now: datetime) -> None:
        """Draw for the bakes that just began; set the alarm states due (over HTTP, as the AWS CLI would)."""
        if self.alarm_trips.chance <= 0:
            return
        self.alarm_trips.consider(self.engine.bakes_in_progress())
        for change in self.alarm_trips.due(now):
            try:
                self._client("cloudwatch", change.region).set_alarm_state(
                    AlarmName=change.alarm, StateValue=change.state, StateReason=change.reason
                )
            except Exception:  # noqa: BLE001 - as above: scenery must not stop the rest
                if not self._stop.is_set():
                    LOG.exception("traffic could not set alarm %s to %s", change.alarm, change.state)

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = client(self.url, service, region)
        return self._clients[key]
