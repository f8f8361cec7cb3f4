"""`wavedeck waves`: where every stage (and every state of a state machine with state waves) landed, and why.

The operator's check before trusting the board on a new account: each row says target, resource
(`pipeline/stage` or `state-machine/state`), wave, risk and why (`pattern *prod*`, `after Prod-Canary`,
`config`, `fleet`, `no match`). With `--json`, one object per line with exactly the keys target, resource,
wave, risk, why. It reads only ListPipelines, GetPipeline, ListStateMachines and DescribeStateMachine.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, TextIO

from console.codepipeline.slots import PipelineReader
from console.errors import AwsError
from console.model import Risk
from console.stepfunctions.slots import MachineReader
from console.waves import MachineWaves, WaveModel


class Reader(PipelineReader, MachineReader, Protocol):
    """What the report reads of a target: its pipelines and its state machines (`console.aws.Gateway`)."""


CONCURRENT_READS = 4  # GetPipeline / DescribeStateMachine in flight per target: well inside AWS's rates


@dataclass(frozen=True, slots=True)
class WaveRow:
    """One stage or state: where it landed and why."""

    target: str
    resource: str
    wave: str | None
    risk: str
    why: str

    def to_json(self) -> dict[str, str | None]:
        return {"target": self.target, "resource": self.resource, "wave": self.wave, "risk": self.risk, "why": self.why}


@dataclass(frozen=True, slots=True)
class WaveReport:
    rows: tuple[WaveRow, ...]
    errors: tuple[str, ...]  # one line each: what could not be read

    @property
    def unmatched(self) -> int:
        return sum(1 for r in self.rows if r.risk == Risk.UNKNOWN.label)


async def wave_report(readers: Mapping[str, Reader], waves: WaveModel) -> WaveReport:
    """Read every target's pipelines (and the state machines whose states the model places by name: the
    config's `waves.state_machines`, the sandbox fleet's `state_waves:`) and place them."""
    rows: list[WaveRow] = []
    errors: list[str] = []
    state_waves = {name: m for name, m in waves.state_machines.items() if m.states}
    for target, reader in readers.items():
        found, failed = await _target(target, reader, waves, state_waves)
        rows.extend(found)
        errors.extend(failed)
    return WaveReport(tuple(rows), tuple(errors))


async def _target(
    target: str, reader: Reader, waves: WaveModel, state_waves: Mapping[str, MachineWaves]
) -> tuple[list[WaveRow], list[str]]:
    rows: list[WaveRow] = []
    errors: list[str] = []
    limit = asyncio.Semaphore(CONCURRENT_READS)

    async def pipeline(name: str) -> list[WaveRow]:
        async with limit:
            structure = await reader.get_pipeline(name)
        placements = waves.place(name, [s.name for s in structure.stages])
        return [WaveRow(target, f"{name}/{p.name}", p.wave.name if p.wave else None, p.risk, p.why) for p in placements]

    async def machine(name: str, arn: str) -> list[WaveRow]:
        async with limit:
            detail = await reader.describe_state_machine(arn)
        own = waves.for_state_machine(name)
        own_why = waves.why_state_machine(name)
        entry = state_waves[name]
        mapped = entry.states
        result = []
        for state in detail.states:
            wave = waves.wave(mapped.get(state)) if state in mapped else own
            why = entry.source if state in mapped else f"state machine: {own_why}"
            risk = wave.risk.label if wave is not None else Risk.UNKNOWN.label
            result.append(WaveRow(target, f"{name}/{state}", wave.name if wave else None, risk, why))
        return result

    try:
        summaries = await reader.list_pipelines()
    except AwsError as exc:
        return rows, [f"{target}: ListPipelines: {exc}"]
    results = await asyncio.gather(*(pipeline(s.name) for s in summaries), return_exceptions=True)
    for summary, result in zip(summaries, results, strict=True):
        if isinstance(result, AwsError):
            errors.append(f"{target}: {summary.name}: GetPipeline: {result}")
        elif isinstance(result, BaseException):
            raise result
        else:
            rows.extend(result)
    if state_waves:
        try:
            machines = [m for m in await reader.list_state_machines() if m.name in state_waves]
        except AwsError as exc:
            return rows, [*errors, f"{target}: ListStateMachines: {exc}"]
        described = await asyncio.gather(*(machine(m.name, m.arn) for m in machines), return_exceptions=True)
        for summary_m, result in zip(machines, described, strict=True):
            if isinstance(result, AwsError):
                errors.append(f"{target}: {summary_m.name}: DescribeStateMachine: {result}")
            elif isinstance(result, BaseException):
                raise result
            else:
                rows.extend(result)
    return rows, errors


def print_report(report: WaveReport, out: TextIO, *, json_lines: bool) -> None:
    """Rows as aligned columns (or JSON lines); untrusted names printed with control characters escaped."""
    from console.watch_output import plain

    if json_lines:
        for row in report.rows:
            print(json.dumps(row.to_json()), file=out)
        return
    table = [("TARGET", "RESOURCE", "WAVE", "RISK", "WHY")]
    table += [(plain(r.target), plain(r.resource), plain(r.wave or "—"), r.risk, plain(r.why)) for r in report.rows]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line[:4])) + "  " + line[4], file=out)


def summary_line(report: WaveReport) -> str:
    """What goes to stderr after the rows: the stages no wave matched, and how to place them."""
    if not report.unmatched:
        return f"wavedeck: {_count(len(report.rows), 'stage')} placed; every one matches a wave"
    return (
        f"wavedeck: {_count(report.unmatched, 'stage')} {'matches' if report.unmatched == 1 else 'match'} no wave "
        "(risk unknown: confirmed like production); "
        "place them under waves.pipelines in the config"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
