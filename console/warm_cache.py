"""The warm-start cache: what the watcher last knew of each target, on disk, so the next start shows it at once.

One file per target under `$XDG_CACHE_HOME/wavedeck/` (default `~/.cache/wavedeck/`), named by a digest
of what makes the target's AWS the same AWS: profile, role, region and endpoint URL (a sandbox on another
port is another AWS). Each file holds, per pipeline, its listing and its structure at one version with the
picture last shown (stages, statuses, recent executions); per state machine, its listing and its
description (by revision, or by ARN and creation date, which is what a listing can check) with its recent
executions. What it never holds: an approval's token, an action's external id on an approval (a parallel
approval's token), an execution's input, output, error or cause (they can carry secrets), a task token,
any history but where a running execution waits for a person: the events that place each open
`.waitForTaskToken` state (its TaskScheduled and the events before it back to the start), without their
parameters (the token is among them), inputs, outputs, errors or causes.

Safety: the file says its format version and the target it is about; a file of another version, another
target, or that does not parse is discarded with a warning (the console then starts cold, as it always
could). Writes go to a temporary file in the same directory that is renamed over the old one, so a crash
leaves the old file or the new, never half of one. The whole directory is bounded (`DEFAULT_BOUND`): a
target's entries read longest ago are left out first when one file would not fit, and the files written
longest ago are removed first when all of them would not. Deleting the directory at any time is safe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console import cache_codec
from console.cache_codec import CodecError
from console.codepipeline.model import Pipeline, PipelineSummary, Stage
from console.model import Target
from console.stepfunctions.model import (
    Execution,
    HistoryEvent,
    StateMachine,
    StateMachineDetail,
    StateMachineSummary,
)

LOG = logging.getLogger(__name__)

FORMAT = 2  # bumped whenever what a file holds changes shape: a file of another version is discarded
DEFAULT_BOUND = 64 * 1024 * 1024  # bytes for every target's file together (~2,000 pipelines take ~10 MB)
_SKIP = frozenset({"wave"})  # recomputed from the wave model on load: the config may have changed since


def cache_home() -> Path:
    """`$XDG_CACHE_HOME/wavedeck`, default `~/.cache/wavedeck`."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "wavedeck"


def target_key(target: Target) -> dict[str, str | None]:
    """What makes a target's AWS the same AWS from one start to the next (its name is only a label)."""
    return {
        "profile": target.profile,
        "role_arn": target.role_arn,
        "region": target.region,
        "endpoint_url": target.endpoint_url,
    }


@dataclass(frozen=True, slots=True)
class CachedPipeline:
    """A pipeline as last known: its listing, its structure (GetPipeline at `structure.version`), and the
    picture last shown (tokens removed)."""

    summary: PipelineSummary
    structure: Pipeline | None
    picture: Pipeline


@dataclass(frozen=True, slots=True)
class CachedWait:
    """Where a running execution waited for a person, as its history last said: the events that place each open
    `.waitForTaskToken` state (`console.stepfunctions.waiting.waiting_chain`), without secrets."""

    execution: str
    events: tuple[HistoryEvent, ...]


@dataclass(frozen=True, slots=True)
class CachedMachine:
    """A state machine as last known: its listing, its description, the picture last shown, and where its
    running executions waited for a person."""

    summary: StateMachineSummary
    detail: StateMachineDetail | None
    picture: StateMachine
    waiting: tuple[CachedWait, ...] = ()


@dataclass(frozen=True, slots=True)
class CachedTarget:
    """Everything the cache holds of one target, and when it was written."""

    written: datetime
    pipelines: tuple[CachedPipeline, ...] = ()
    machines: tuple[CachedMachine, ...] = ()


def without_secrets_pipeline(pipeline: Pipeline) -> Pipeline:
    """`pipeline` without approval tokens (nor an approval's external execution id, a parallel approval's
    token); the next read brings them back."""

    def clean(stage: Stage) -> Stage:
        if not any(a.token is not None or (a.is_approval and a.external_execution_id) for a in stage.actions):
            return stage
        actions = tuple(
            replace(a, token=None, external_execution_id=None if a.is_approval else a.external_execution_id)
            for a in stage.actions
        )
        return replace(stage, actions=actions)

    return replace(pipeline, stages=tuple(clean(s) for s in pipeline.stages), error=None)


def without_secrets_execution(execution: Execution) -> Execution:
    if execution.input is None and execution.output is None and execution.error is None and execution.cause is None:
        return execution
    return replace(execution, input=None, output=None, error=None, cause=None)


def without_secrets_event(event: HistoryEvent) -> HistoryEvent:
    """A history event without its parameters (a task's token is among them), input, output, error or cause."""
    return replace(event, parameters=None, input=None, output=None, error=None, cause=None)


def without_secrets_machine(machine: StateMachine) -> StateMachine:
    return replace(machine, executions=tuple(without_secrets_execution(e) for e in machine.executions), error=None)


class WarmCache:
    """The cache directory: `load` what a target's last run knew, `save` what this run knows."""

    def __init__(self, directory: Path | None = None, *, bound: int = DEFAULT_BOUND) -> None:
        self.directory = directory if directory is not None else cache_home()
        self.bound = bound
        self.warnings: list[str] = []  # what was discarded and why, in the order it happened

    def path(self, target: Target) -> Path:
        digest = hashlib.sha256(json.dumps(target_key(target), sort_keys=True).encode()).hexdigest()[:24]
        return self.directory / f"target-{digest}.json"

    # --- Reading --------------------------------------------------------------------------------------

    def load(self, target: Target) -> CachedTarget | None:
        """What the last run knew of `target`, or None (no cache, or one discarded with a warning)."""
        path = self.path(target)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._discard(path, f"cannot be read ({exc.strerror or exc})", remove=False)
            return None
        if len(raw) > self.bound:
            self._discard(path, f"is {len(raw)} bytes, over the cache's bound of {self.bound}")
            return None
        try:
            document = json.loads(raw)
            return self._decode(document, target)
        except (ValueError, CodecError, TypeError, KeyError, AttributeError) as exc:
            # json's ValueError, the codec's CodecError, and a document of the wrong shape.
            self._discard(path, f"is not readable ({type(exc).__name__}: {str(exc)[:200]})")
            return None

    def _decode(self, document: Any, target: Target) -> CachedTarget | None:
        if not isinstance(document, dict):
            raise CodecError("the file is not a JSON object")
        version = document.get("format")
        if version != FORMAT:
            self._discard(self.path(target), f"was written by another version of wavedeck (format {version!r})")
            return None
        if document.get("target") != target_key(target):
            raise CodecError("the file is about another target")
        written = cache_codec.decode_datetime(document["written"])
        pipelines = tuple(
            CachedPipeline(
                summary=cache_codec.decode(PipelineSummary, entry["summary"]),
                structure=None
                if entry.get("structure") is None
                else cache_codec.decode(Pipeline, entry["structure"], skip=_SKIP),
                picture=cache_codec.decode(Pipeline, entry["picture"], skip=_SKIP),
            )
            for entry in document["pipelines"]
        )
        machines = tuple(
            CachedMachine(
                summary=cache_codec.decode(StateMachineSummary, entry["summary"]),
                detail=None if entry.get("detail") is None else cache_codec.decode(StateMachineDetail, entry["detail"]),
                picture=cache_codec.decode(StateMachine, entry["picture"], skip=_SKIP),
                waiting=tuple(cache_codec.decode(CachedWait, w) for w in entry.get("waiting", ())),
            )
            for entry in document["machines"]
        )
        return CachedTarget(written=written, pipelines=pipelines, machines=machines)

    def _discard(self, path: Path, why: str, *, remove: bool = True) -> None:
        message = f"warm-start cache {path.name} {why}: discarded, starting cold"
        LOG.warning("%s", message)
        self.warnings.append(message)
        if remove:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass

    # --- Writing --------------------------------------------------------------------------------------

    def save(self, target: Target, cached: CachedTarget) -> int:
        """Write `cached` for `target` atomically; returns the bytes written (0: nothing could be written).

        Never raises for a disk problem (full, read-only, removed): the cache is a convenience; the warning
        says what happened."""
        head = {"format": FORMAT, "target": target_key(target), "written": cached.written.isoformat()}
        # (read_at, kind, JSON) so the oldest can go first; each entry's bytes once, written piece by piece: at
        # 2,000 pipelines the file is 10 MB, and joining it whole took two more copies of it (31 MB at the peak).
        entries: list[tuple[datetime, str, bytes]] = []
        oldest = datetime.min.replace(tzinfo=UTC)
        for p in cached.pipelines:
            entry: dict[str, Any] = {
                "summary": cache_codec.encode(p.summary),
                "structure": None if p.structure is None else cache_codec.encode(p.structure, skip=_SKIP),
                "picture": cache_codec.encode(without_secrets_pipeline(p.picture), skip=_SKIP),
            }
            entries.append((p.picture.read_at or oldest, "pipelines", _dumps(entry).encode()))
        for m in cached.machines:
            entry = {
                "summary": cache_codec.encode(m.summary),
                "detail": None if m.detail is None else cache_codec.encode(m.detail),
                "picture": cache_codec.encode(without_secrets_machine(m.picture), skip=_SKIP),
            }
            if m.waiting:
                entry["waiting"] = [
                    cache_codec.encode(CachedWait(w.execution, tuple(without_secrets_event(e) for e in w.events)))
                    for w in m.waiting
                ]
            entries.append((m.picture.read_at or oldest, "machines", _dumps(entry).encode()))
        body = self._fit(_dumps(head)[:-1].encode(), entries)
        path = self.path(target)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.writelines(body)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            message = f"warm-start cache {path.name} not written ({exc.strerror or exc})"
            LOG.warning("%s", message)
            self.warnings.append(message)
            return 0
        self._trim(keep=path)
        return sum(len(piece) for piece in body)

    def _fit(self, head: bytes, entries: list[tuple[datetime, str, bytes]]) -> list[bytes]:
        """The file's pieces, in order, leaving out the entries read longest ago while it would exceed the bound."""
        entries.sort(key=lambda e: e[0], reverse=True)  # newest first: what is kept
        size = len(head) + 64
        kept: dict[str, list[bytes]] = {"pipelines": [], "machines": []}
        for _, kind, text in entries:
            size += len(text) + 1
            if size > self.bound:
                break
            kept[kind].append(text)
        return [
            head,
            b',"pipelines":[',
            *_separated(kept["pipelines"]),
            b'],"machines":[',
            *_separated(kept["machines"]),
            b"]}",
        ]

    def _trim(self, keep: Path) -> None:
        """Remove the files written longest ago (and any temporary file left by a crash) until every file
        together fits the bound."""
        try:
            files = [(p.stat().st_mtime, p.stat().st_size, p) for p in self.directory.glob("*.json")]
        except OSError:
            return
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files, key=lambda f: f[0]):
            if total <= self.bound:
                break
            if path == keep:
                continue
            try:
                path.unlink()
            except OSError:
                continue
            total -= size

    def clear(self) -> None:
        """Remove every cache file (what `rm -r` of the directory does, without removing the directory)."""
        for path in self.directory.glob("*.json"):
            path.unlink(missing_ok=True)


def _separated(pieces: list[bytes]) -> list[bytes]:
    """`pieces` with a comma between each two (what `b",".join` gives, without making it one more copy)."""
    out: list[bytes] = []
    for index, piece in enumerate(pieces):
        if index:
            out.append(b",")
        out.append(piece)
    return out


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
