"""Writes a large definitions directory built from the bundled one, for benchmarks and scale tests.

`write_fleet(directory, pipelines=500, state_machines=50)` copies `waves.yaml` and the state machine
definitions, keeps the bundled stage shapes, and lists `pipelines` pipelines cloned round-robin from the
bundled ones (`checkout-api-007`, `catalog-service-012`, ...) and `state_machines` state machines (the
bundled ones, then clones of them). `wavedeck sandbox --definitions DIRECTORY` then runs it.

`regions=8` spreads the generated pipelines and the cloned state machines round-robin over that many regions
(`REGIONS`, the bundled fleet's first), one console target each; the bundled state machines stay where they
are, and pipelines in other regions invoke them there.

Large fleets get a gentler traffic than the bundled one by default (a commit per repository every 20
minutes, a 10-minute warm-up), so start-up stays quick and the sandbox still moves everywhere.

    python -m console.sandbox.fleetgen DIRECTORY --pipelines 500 --state-machines 50 [--regions 8]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from console.sandbox.fleet.definitions import default_definitions_dir

# Regions where moto serves CodePipeline, Step Functions, SQS and SNS, in the order `regions=N` takes them.
REGIONS = (
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "us-east-2",
    "ca-central-1",
)


class _Unaliased(yaml.SafeDumper):
    """Writes every clone out in full: the clones share their stage lists, and as YAML aliases 2,000 of them
    expand past what the definitions loader accepts (it refuses alias bombs)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_fleet(
    directory: Path,
    *,
    pipelines: int,
    state_machines: int | None = None,
    commit_interval: str = "20m",
    warm_up: str = "10m",
    source: Path | None = None,
    regions: int | None = None,
) -> Path:
    """Write a definitions directory with `pipelines` pipelines and `state_machines` state machines (spread over
    `regions` regions when given, else in the bundled fleet's regions)."""
    source = source or default_definitions_dir()
    bundled = yaml.safe_load((source / "fleet.yaml").read_text(encoding="utf-8"))
    templates: list[dict[str, Any]] = bundled["pipelines"]
    machines: list[dict[str, Any]] = bundled.get("state_machines", [])
    if pipelines < 1:
        raise ValueError("a fleet needs at least one pipeline")
    if state_machines is None:
        state_machines = len(machines)
    if state_machines < len(machines):
        raise ValueError(f"the bundled pipelines use {len(machines)} state machines; ask for at least that many")
    listed: list[str] = list(bundled.get("regions", ["us-east-1"]))
    spread: list[str] | None = None
    if regions is not None:
        if not 1 <= regions <= len(REGIONS):
            raise ValueError(f"regions: between 1 and {len(REGIONS)}, got {regions}")
        spread = [listed[0], *(r for r in REGIONS if r != listed[0])][:regions]
        listed = [*spread, *(r for r in listed if r not in spread)]

    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "waves.yaml", directory / "waves.yaml")
    shutil.copytree(source / "state-machines", directory / "state-machines", dirs_exist_ok=True)

    generated_pipelines = []
    for index in range(pipelines):
        template = dict(templates[index % len(templates)])
        template["name"] = f"{template['name']}-{index:03d}"
        template["repository"] = f"{template.get('repository', template['name'])}-{index:03d}"
        if spread is not None:
            template["region"] = spread[index % len(spread)]
        generated_pipelines.append(template)

    generated_machines = [dict(m) for m in machines]
    runs = list(bundled.get("traffic", {}).get("runs", []))
    for index in range(state_machines - len(machines)):
        original = machines[index % len(machines)]
        clone = {key: value for key, value in original.items() if key != "rollback"}
        clone["name"] = f"{original['name']}-{index:03d}"
        if spread is not None:
            clone["region"] = spread[index % len(spread)]
        generated_machines.append(clone)
        template_run = next((r for r in runs if r["state_machine"] == original["name"]), None)
        if template_run is not None:
            runs.append({**template_run, "state_machine": clone["name"], "interval": "20m"})

    traffic = dict(bundled.get("traffic", {}))
    traffic.update(commit_interval=commit_interval, warm_up=warm_up, runs=runs)
    fleet = {
        "regions": listed,
        "queues": bundled.get("queues", []),
        # What the bundled state machines call (their clones too): topics, simulated functions, buckets.
        **{key: bundled[key] for key in ("topics", "functions", "buckets") if key in bundled},
        "stages": bundled.get("stages", {}),
        "pipelines": generated_pipelines,
        "state_machines": generated_machines,
        "traffic": traffic,
    }
    header = (
        f"# Generated by console/sandbox/fleetgen.py: {pipelines} pipelines, {state_machines} state machines,\n"
        "# cloned from the bundled fleet. Regenerate rather than edit.\n"
    )
    text = yaml.dump(fleet, Dumper=_Unaliased, sort_keys=False, default_flow_style=None, width=120)
    (directory / "fleet.yaml").write_text(header + text, encoding="utf-8")
    return directory


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.sandbox.fleetgen", description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path, help="where to write the definitions (created if missing)")
    parser.add_argument("--pipelines", type=int, default=200, help="how many pipelines (default 200)")
    parser.add_argument("--state-machines", type=int, default=50, help="how many state machines (default 50)")
    parser.add_argument("--commit-interval", default="20m", help="mean time between commits per repository")
    parser.add_argument("--warm-up", default="10m", help="history played before the sandbox opens")
    parser.add_argument("--regions", type=int, default=None, help="spread the fleet over this many regions (1-8)")
    args = parser.parse_args(argv)
    try:
        write_fleet(
            args.directory,
            pipelines=args.pipelines,
            state_machines=args.state_machines,
            commit_interval=args.commit_interval,
            warm_up=args.warm_up,
            regions=args.regions,
        )
    except (ValueError, OSError) as exc:
        print(f"fleetgen: {exc}", file=sys.stderr)
        return 2
    print(args.directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
