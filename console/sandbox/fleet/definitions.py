"""Loads and validates the sandbox's `definitions/` into model objects: what `wavedeck sandbox` seeds and runs.

The console reads none of this on a real account; with `--sandbox` the entry point takes the regions and
the wave mappings from it (`Fleet.console_view`). The kinds of file (the README documents each key):

- `waves.yaml`: the wave model, in promotion order (console/waves.py loads it, for the console too);
- `fleet.yaml`: the sandbox fleet: reusable stage shapes, pipelines, state machines, SQS queues, SNS topics,
  simulated Lambda functions, traffic;
- `state-machines/*.asl.yaml`: Step Functions definitions written as YAML-ASL;
- `pipelines/*.json|yaml|yml`: pipelines as AWS declares them (get-pipeline output, create-pipeline input,
  CloudFormation), read by declarations.py; fleet.yaml's `pipelines` may hold such declarations too.

Every problem is an InputError naming the file, the line and the dotted key. Loading never imports moto;
the sandbox validates ASL once more with moto's parser when it creates the state machines.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.errors import InputError
from console.sandbox.fleet import declarations
from console.sandbox.fleet.buckets import BucketDef, load_buckets
from console.sandbox.fleet.declarations import DeclaredSettings
from console.sandbox_process import SandboxFleet
from console.waves import FLEET, MachineWaves, WaveMappings, WaveModel, load_wave_model
from console.yamlfile import Reader, load_file, quoted

CATEGORIES = ("Source", "Build", "Deploy", "Test", "Invoke", "Approval", "Compute")
EXECUTION_MODES = ("QUEUED", "SUPERSEDED")
STATE_MACHINE_TYPES = ("STANDARD", "EXPRESS")
ASL_STATE_TYPES = ("Task", "Pass", "Wait", "Choice", "Parallel", "Map", "Succeed", "Fail")
DEFAULT_APPROVAL_TIMEOUT = 7 * 86400.0
# Warm-up replays history step by step before the sandbox opens; longer than this only costs start-up time.
MAX_WARM_UP = 4 * 3600.0

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ERROR_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
# A state machine names a function by `FunctionName` (lambda:invoke) or as a Task's `Resource`.
_FUNCTION_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:([a-z0-9-]*):\d*:function:([A-Za-z0-9_-]+)(:[^:]+)?$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d+:([A-Za-z0-9_-]+)$")

_FLEET_KEYS = ("regions", "queues", "topics", "functions", "buckets", "stages", "pipelines", "state_machines",
               "traffic", "declared")  # fmt: skip
_FUNCTION_KEYS = ("name", "region", "result", "expression", "duration", "fail", "error", "message")
DECLARATION_SUFFIXES = (".json", ".yaml", ".yml")
_PIPELINE_KEYS = ("name", "region", "execution_mode", "repository", "commit_interval", "stages")
_CONDITION_KEYS = ("beforeEntry", "onSuccess", "onFailure")  # AWS's stage conditions, in AWS's shape
_STAGE_KEYS = ("name", "use", "wave", "actions", *_CONDITION_KEYS)
_SHAPE_KEYS = ("wave", "actions", *_CONDITION_KEYS)
_ACTION_KEYS = (
    "name",
    "category",
    "provider",
    "owner",
    "run_order",
    "duration",
    "fail",
    "error",
    "summary",
    "state_machine",
    "input",
    "timeout",
    "custom_data",
    "url",
    "configuration",
    "namespace",
    "variables",
)
_STATE_MACHINE_KEYS = ("name", "type", "region", "definition", "wave", "state_waves", "rollback")
_TRAFFIC_KEYS = ("commit_interval", "max_in_flight", "warm_up", "authors", "messages", "runs", "alarm_trips")
_RUN_KEYS = ("state_machine", "interval", "input")


def default_definitions_dir() -> Path:
    """`definitions/` beside the packages in a checkout, or the copy bundled into an installed wheel."""
    console = Path(__file__).resolve().parents[2]
    for candidate in (console.parent / "definitions", console / "bundled_definitions"):
        if (candidate / "fleet.yaml").is_file():
            return candidate
    return console.parent / "definitions"


# --- The wave model -----------------------------------------------------------------------------------


# `load_wave_model` lives with the model it builds (console/waves.py); imported above for the fleet loader.


# --- The fleet ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionDef:
    """One action of a sandbox stage: what it is, how long it takes and how it ends."""

    name: str
    category: str
    provider: str
    owner: str = "AWS"
    run_order: int = 1
    duration: float = 10.0
    fail: float = 0.0  # probability of failing, drawn reproducibly from --seed
    error: str = ""
    summary: str = ""
    state_machine: str | None = None  # provider StepFunctions: the state machine it starts
    input: str | None = None  # provider StepFunctions: JSON input template
    timeout: float = DEFAULT_APPROVAL_TIMEOUT  # Approval: how long it waits for a person
    custom_data: str = ""
    url: str | None = None
    configuration: Mapping[str, str] = field(default_factory=dict)
    namespace: str | None = None  # where its output variables are read: `#{SourceVariables.CommitId}`
    variables: Mapping[str, str] = field(default_factory=dict)  # what it exports when it succeeds
    file: str = ""
    line: int | None = None


@dataclass(frozen=True)
class StageDef:
    """One stage of a sandbox pipeline and the wave it deploys to (None: Source, Build, or no wave)."""

    name: str
    wave: str | None
    actions: tuple[ActionDef, ...]
    file: str = ""
    line: int | None = None
    # beforeEntry / onSuccess / onFailure exactly as CreatePipeline takes them; the sandbox checks their content
    conditions: Mapping[str, Any] = field(default_factory=dict)
    condition_lines: Mapping[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineDef:
    """One sandbox pipeline: its stages in order, where it runs and the repository its commits come from."""

    name: str
    region: str
    execution_mode: str
    stages: tuple[StageDef, ...]
    repository: str
    commit_interval: float | None = None
    file: str = ""
    line: int | None = None
    # A pipeline written in AWS's shape: the PipelineDeclaration the sandbox creates exactly as declared,
    # its tags, and the inbound transitions CloudFormation's DisableInboundStageTransitions disables.
    declaration: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    tags: tuple[tuple[str, str], ...] = ()
    disabled_transitions: tuple[tuple[str, str], ...] = ()

    def stage(self, name: str) -> StageDef | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def source_actions(self) -> tuple[ActionDef, ...]:
        return self.stages[0].actions


@dataclass(frozen=True)
class StateMachineDef:
    """One sandbox state machine: its ASL definition (as plain JSON data) and where it came from."""

    name: str
    type: str
    region: str
    definition: Mapping[str, Any]
    source: str  # the file the definition came from
    wave: str | None = None
    state_waves: Mapping[str, str] = field(default_factory=dict)
    rollback: str | None = None  # the state machine that rolls this one's wave back
    approval_states: tuple[str, ...] = ()
    file: str = ""
    line: int | None = None
    # The line in `source` of every node of the definition, by dotted path (`States.Bake.Seconds`), so that an
    # error found later in the JSON (moto's parser) can still name the YAML line.
    definition_lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class FunctionDef:
    """A simulated Lambda function: what the sandbox answers when a state machine invokes it.

    Either `result` (any JSON, returned as the payload) or `expression` (JSONata over the payload); it takes
    `duration` (at --speed 1) and fails with `error` / `message` with the chance `fail`.
    """

    name: str
    region: str
    result: Any = None
    expression: str | None = None
    duration: float = 0.0
    fail: float = 0.0
    error: str = "Error"
    message: str = "The function failed"
    file: str = ""
    line: int | None = None


@dataclass(frozen=True)
class ScheduledRun:
    """A state machine the traffic starts by itself every so often."""

    state_machine: str
    interval: float
    input: str = "{}"


@dataclass(frozen=True)
class TrafficDef:
    """How the sandbox moves by itself: commits arriving, scheduled state machine runs, history before open."""

    commit_interval: float = 240.0  # mean time between commits to one repository, at speed 1
    max_in_flight: int = 3  # commits arriving while this many runs are in flight are held back
    warm_up: float = 1800.0  # history played before the sandbox opens, so the fleet is not empty
    authors: tuple[str, ...] = ("dev",)
    messages: tuple[str, ...] = ("Update",)
    runs: tuple[ScheduledRun, ...] = ()
    alarm_trips: float = 0.03  # the chance an onSuccess alarm bake sees one of its alarms fire


@dataclass(frozen=True)
class Fleet:
    """Everything the sandbox is seeded from."""

    directory: Path
    waves: WaveModel
    regions: tuple[str, ...]
    pipelines: tuple[PipelineDef, ...]
    state_machines: tuple[StateMachineDef, ...]
    queues: tuple[str, ...]
    traffic: TrafficDef
    file: str = "definitions/fleet.yaml"
    # The line of each top-level list item by dotted key (`regions[1]`), for errors found after loading.
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    topics: tuple[str, ...] = ()  # SNS topics, created in every region
    functions: tuple[FunctionDef, ...] = ()
    # S3 buckets with objects, for the ItemReader of a Distributed Map (buckets.py).
    buckets: tuple[BucketDef, ...] = ()

    def pipeline(self, name: str) -> PipelineDef | None:
        return next((p for p in self.pipelines if p.name == name), None)

    def state_machine(self, name: str) -> StateMachineDef | None:
        return next((s for s in self.state_machines if s.name == name), None)

    def mappings(self) -> WaveMappings:
        """What this fleet places by name (its stages' and state machines' `wave:`, `state_waves:`) and what
        rolls each state machine's wave back (`rollback:`): what `--sandbox` adds to the config's."""
        return WaveMappings(
            stages={(p.name, s.name): s.wave for p in self.pipelines for s in p.stages if s.wave},
            state_machines={
                m.name: MachineWaves(m.wave, dict(m.state_waves), m.rollback, FLEET)
                for m in self.state_machines
                if m.wave or m.state_waves or m.rollback
            },
        )

    def wave_model(self) -> WaveModel:
        """The wave model with this fleet's explicit stage and state machine mappings."""
        return self.waves.with_mappings(self.mappings())

    def console_view(self) -> SandboxFleet:
        """What a console that starts this sandbox (`--sandbox`) takes from it: its regions and mappings."""
        return SandboxFleet(self.regions, self.mappings())


@dataclass(frozen=True)
class _Names:
    """What a reference may name: waves, state machines, queues, stage shapes."""

    waves: frozenset[str]
    state_machines: frozenset[str]
    queues: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    functions: frozenset[str] = frozenset()


def load_fleet(directory: Path | None = None) -> Fleet:
    """Load `waves.yaml`, `fleet.yaml` and the state machines it names from a definitions directory."""
    directory = directory or default_definitions_dir()
    if not directory.is_dir():
        raise InputError(str(directory), None, None, "no such definitions directory")
    waves = load_wave_model(directory / "waves.yaml")
    fleet_path = directory / "fleet.yaml"
    file = _display(fleet_path)
    data = load_file(fleet_path, file)
    if data is None:
        raise InputError(file, None, None, "the file is empty: it needs at least a list under 'pipelines'")
    top = Reader(file, data)
    _only(top, _FLEET_KEYS)

    regions = _regions(top)
    queues = _queues(top)
    topics = _topics(top)
    functions = _functions(top, regions)
    buckets = load_buckets(top, directory, regions)
    names = _Names(
        waves=frozenset(w.name for w in waves.waves),
        state_machines=frozenset(_declared_names(top, "state_machines")),
        queues=queues,
        topics=topics,
        functions=frozenset(f.name for f in functions),
    )
    shapes = _shapes(top, names)

    settings = _declared_settings(top.mapping("declared"), regions)
    files = _declaration_files(directory, regions)
    declared: list[declarations.Declared] = []
    pipelines: list[PipelineDef] = []
    seen: dict[str, int | None] = {}
    for index, (path, line, item) in enumerate(top.items("pipelines", required=not files)):
        if declarations.is_aws_shape(item):
            found = declarations.read_declarations(file, item, path, regions=regions, stack=f"pipelines-{index}")
            declared += found
            continue
        reader = Reader(file, item, path, line)
        pipeline = _pipeline(reader, shapes, regions, names)
        _once(reader, "name", pipeline.name, seen, "pipeline")
        pipelines.append(pipeline)
    for item in [*declared, *files]:
        pipeline = _from_declaration(item, waves, regions, names, settings)
        if pipeline.name in seen:
            first = seen[pipeline.name]
            where = f" (first in {file}" + (f" on line {first})" if first is not None else ")")
            raise item.error("name", f"pipeline '{pipeline.name}' is defined twice{where}")
        seen[pipeline.name] = pipeline.line
        pipelines.append(pipeline)
    if not pipelines:
        raise top.error("pipelines", "at least one pipeline is needed (here, or declared under pipelines/)")

    machines: list[StateMachineDef] = []
    seen = {}
    for reader in top.readers("state_machines"):
        machine = _state_machine(reader, directory, regions, names)
        _once(reader, "name", machine.name, seen, "state machine")
        machines.append(machine)

    traffic = _traffic(top.mapping("traffic"), names)
    top.done()
    lines = {
        path: line
        for key in ("regions", "queues", "topics", "functions")
        for path, line, _ in top.items(key)
        if line is not None
    }
    return Fleet(
        directory,
        waves,
        regions,
        tuple(pipelines),
        tuple(machines),
        queues,
        traffic,
        file,
        lines,
        topics=topics,
        functions=functions,
        buckets=buckets,
    )


def _display(path: Path) -> str:
    """Name a definitions file the way the operator knows it: `definitions/fleet.yaml`."""
    parts = path.parts
    if "definitions" in parts:
        return "/".join(parts[len(parts) - 1 - parts[::-1].index("definitions") :])
    return str(path)


def _only(reader: Reader, keys: tuple[str, ...]) -> None:
    """Reject unknown keys before anything else, so a misspelt key is reported as such, not as a missing one."""
    for key in keys:
        reader.raw(key)
    reader.done()


def _once(reader: Reader, key: str, name: str, seen: dict[str, int | None], what: str) -> None:
    line = reader.line_of(key)
    if name in seen:
        first = seen[name]
        where = f" (first on line {first})" if first is not None else ""
        raise reader.error(key, f"{what} '{name}' is defined twice{where}")
    seen[name] = line


def _declared_names(top: Reader, key: str) -> set[str]:
    """The names a list declares, read ahead so that references to later entries resolve."""
    raw = top.data.get(key)
    if not isinstance(raw, list):
        return set()
    return {item["name"] for item in raw if isinstance(item, dict) and isinstance(item.get("name"), str)}


def _regions(top: Reader) -> tuple[str, ...]:
    regions: list[str] = []
    for path, line, item in top.items("regions"):
        if not isinstance(item, str) or not _REGION.match(item):
            raise InputError(top.file, line, path, f"expected an AWS region name such as us-east-1, got {quoted(item)}")
        if item in regions:
            raise InputError(top.file, line, path, f"region '{item}' is listed twice")
        regions.append(item)
    if top.has("regions") and not regions:
        raise top.error("regions", "list at least one region (or leave 'regions' out for us-east-1)")
    return tuple(regions) or ("us-east-1",)


def _queues(top: Reader) -> tuple[str, ...]:
    queues: list[str] = []
    for path, line, item in top.items("queues"):
        if not isinstance(item, str) or not _QUEUE_NAME.match(item):
            raise InputError(top.file, line, path, f"an SQS queue name is 1-80 of A-Z a-z 0-9 - _, got {quoted(item)}")
        if item in queues:
            raise InputError(top.file, line, path, f"queue '{item}' is listed twice")
        queues.append(item)
    return tuple(queues)


def _topics(top: Reader) -> tuple[str, ...]:
    topics: list[str] = []
    for path, line, item in top.items("topics"):
        if not isinstance(item, str) or not _TOPIC_NAME.match(item):
            raise InputError(top.file, line, path, f"an SNS topic name is 1-256 of A-Z a-z 0-9 - _, got {quoted(item)}")
        if item in topics:
            raise InputError(top.file, line, path, f"topic '{item}' is listed twice")
        topics.append(item)
    return tuple(topics)


def _functions(top: Reader, regions: tuple[str, ...]) -> tuple[FunctionDef, ...]:
    functions: list[FunctionDef] = []
    seen: dict[str, int | None] = {}
    for reader in top.readers("functions"):
        _only(reader, _FUNCTION_KEYS)
        name = reader.req_string("name")
        if not _FUNCTION_NAME.match(name):
            raise reader.error("name", f"a Lambda function name is 1-64 of A-Z a-z 0-9 - _, got {quoted(name)}")
        _once(reader, "name", name, seen, "function")
        region = _region(reader, regions)
        result = reader.raw("result")
        expression = reader.string("expression")
        if expression is not None and reader.has("result"):
            raise reader.error("expression", "a function has either 'result' or 'expression', not both")
        if result is not None:
            _json_text(reader, "result", result)  # any JSON value; the error names the key otherwise
        fail = reader.number("fail", 0.0, minimum=0.0, maximum=1.0) or 0.0
        error = reader.string("error", "Error") or "Error"
        if not _ERROR_NAME.match(error):
            raise reader.error("error", f"an error name is 1-256 of A-Z a-z 0-9 . - _, got {quoted(error)}")
        reader.done()
        functions.append(
            FunctionDef(
                name=name,
                region=region,
                result=_plain(result),
                expression=expression,
                duration=reader.duration("duration", 0.0, maximum=900.0) or 0.0,
                fail=fail,
                error=error,
                message=reader.string("message", "The function failed") or "The function failed",
                file=reader.file,
                line=reader.line,
            )
        )
    return tuple(functions)


def _region(reader: Reader, regions: tuple[str, ...]) -> str:
    region = reader.string("region", regions[0]) or regions[0]
    if region not in regions:
        raise reader.error("region", f"region '{region}' is not one of regions: {', '.join(regions)}")
    return region


def _valid_name(name: str, limit: int) -> bool:
    return 0 < len(name) <= limit and all(c.isalnum() or c in ".@-_" for c in name) and name.isascii()


def _wave(reader: Reader, names: _Names, default: str | None = None) -> str | None:
    wave = reader.string("wave", default)
    if wave is not None and wave not in names.waves:
        known = ", ".join(sorted(names.waves))
        raise reader.error("wave", f"wave '{wave}' is not defined in waves.yaml (defined: {known})")
    return wave


# --- Pipelines and stages -------------------------------------------------------------------------------


def _shapes(top: Reader, names: _Names) -> dict[str, StageDef]:
    """The reusable stage shapes under `stages`, each checked once whether a pipeline uses it or not."""
    shapes: dict[str, StageDef] = {}
    section = top.mapping("stages")
    if section is None:
        return shapes
    for key in section.keys():
        shape = section.req_mapping(key)
        _only(shape, _SHAPE_KEYS)
        wave = _wave(shape, names)
        conditions, lines = _conditions(shape)
        shapes[key] = StageDef(key, wave, _actions(shape, names), shape.file, shape.line, conditions, lines)
    section.done()
    return shapes


def _pipeline(reader: Reader, shapes: dict[str, StageDef], regions: tuple[str, ...], names: _Names) -> PipelineDef:
    _only(reader, _PIPELINE_KEYS)
    name = reader.req_string("name")
    if not _valid_name(name, 100):
        raise reader.error("name", "a pipeline name is 1-100 of A-Z a-z 0-9 . @ - _")
    region = _region(reader, regions)
    mode = reader.choice("execution_mode", EXECUTION_MODES, "SUPERSEDED") or "SUPERSEDED"
    repository = reader.string("repository", name) or name
    commit_interval = reader.duration("commit_interval", minimum=1.0)
    stages: list[StageDef] = []
    seen: dict[str, int | None] = {}
    for index, stage_reader in enumerate(reader.readers("stages", required=True)):
        stage = _stage(stage_reader, shapes, names, first=index == 0)
        _once(stage_reader, "name", stage.name, seen, "stage")
        stages.append(stage)
    if len(stages) < 2:
        raise reader.error("stages", "a pipeline needs at least two stages: Source, then one that uses it")
    reader.done()
    return PipelineDef(name, region, mode, tuple(stages), repository, commit_interval, reader.file, reader.line)


def _stage(reader: Reader, shapes: dict[str, StageDef], names: _Names, *, first: bool) -> StageDef:
    _only(reader, _STAGE_KEYS)
    name = reader.req_string("name")
    if not _valid_name(name, 100):
        raise reader.error("name", "a stage name is 1-100 of A-Z a-z 0-9 . @ - _")
    use = reader.string("use")
    if use is not None:
        if use not in shapes:
            known = ", ".join(sorted(shapes)) or "none"
            raise reader.error("use", f"stage shape '{use}' is not defined under stages (defined: {known})")
        shape = shapes[use]
        wave = _wave(reader, names, shape.wave)
        actions = _actions(reader, names) if reader.has("actions") else shape.actions
        where = "actions" if reader.has("actions") else "use"
    else:
        if not reader.has("actions"):
            raise reader.error(None, f"stage '{name}' needs 'actions', or 'use' naming a stage shape")
        wave = _wave(reader, names)
        actions = _actions(reader, names)
        where = "actions"
    categories = {a.category for a in actions}
    if first and categories != {"Source"}:
        raise reader.error(where, "the first stage holds Source actions only (CodePipeline requires it)")
    if not first and "Source" in categories:
        raise reader.error(where, "Source actions belong in the first stage only")
    conditions, lines = _conditions(reader)
    if use is not None:
        conditions = {**shapes[use].conditions, **conditions}
        lines = {**shapes[use].condition_lines, **lines}
    if first and conditions:
        raise reader.error(next(iter(conditions)), "the first stage cannot have conditions")
    reader.done()
    return StageDef(name, wave, actions, reader.file, reader.line, conditions, lines)


def _conditions(reader: Reader) -> tuple[dict[str, Any], dict[str, int | None]]:
    """A stage's beforeEntry / onSuccess / onFailure, as mappings in AWS's shape (checked by the sandbox)."""
    found: dict[str, Any] = {}
    lines: dict[str, int | None] = {}
    for key in _CONDITION_KEYS:
        section = reader.mapping(key)
        if section is not None:
            found[key] = _plain(section.data)
            lines[key] = reader.line_of(key)
    return found, lines


def _actions(reader: Reader, names: _Names) -> tuple[ActionDef, ...]:
    actions: list[ActionDef] = []
    seen: dict[str, int | None] = {}
    for action_reader in reader.readers("actions", required=True):
        action = _action(action_reader, names)
        _once(action_reader, "name", action.name, seen, "action")
        actions.append(action)
    if not actions:
        raise reader.error("actions", "a stage needs at least one action")
    return tuple(actions)


def _action(reader: Reader, names: _Names) -> ActionDef:
    _only(reader, _ACTION_KEYS)
    name = reader.req_string("name")
    if not _valid_name(name, 100):
        raise reader.error("name", "an action name is 1-100 of A-Z a-z 0-9 . @ - _")
    if not reader.has("category"):
        raise reader.error(None, f"missing required key 'category' (one of {', '.join(CATEGORIES)})")
    category = reader.choice("category", CATEGORIES) or ""
    provider = reader.string("provider", _default_provider(category)) or ""
    owner = reader.choice("owner", ("AWS", "ThirdParty", "Custom"), "AWS") or "AWS"
    run_order = reader.integer("run_order", 1, minimum=1, maximum=999) or 1
    duration = reader.duration("duration", 10.0, maximum=86400.0) or 0.0
    fail = reader.number("fail", 0.0, minimum=0.0, maximum=1.0) or 0.0
    error = reader.string("error", "") or ""
    summary = reader.string("summary", "") or ""
    state_machine = reader.string("state_machine")
    input_template = reader.raw("input")
    timeout = reader.duration("timeout", DEFAULT_APPROVAL_TIMEOUT, minimum=1.0) or DEFAULT_APPROVAL_TIMEOUT
    custom_data = reader.string("custom_data", "") or ""
    url = reader.string("url")
    configuration = reader.string_map("configuration")
    namespace = reader.string("namespace", "SourceVariables" if category == "Source" else None)
    if namespace is not None and not re.fullmatch(r"[A-Za-z0-9@\-_]{1,100}", namespace):
        raise reader.error("namespace", "a namespace is 1-100 of A-Z a-z 0-9 @ - _")
    exported = reader.string_map("variables")
    if provider == "StepFunctions":
        if state_machine is None:
            raise reader.error(None, "an action with provider StepFunctions needs 'state_machine'")
        if state_machine not in names.state_machines:
            known = ", ".join(sorted(names.state_machines)) or "none"
            raise reader.error(
                "state_machine",
                f"state machine '{state_machine}' is not defined under state_machines (defined: {known})",
            )
    elif state_machine is not None:
        raise reader.error("state_machine", "only actions with provider StepFunctions start a state machine")
    if category == "Approval" and provider != "Manual":
        raise reader.error("provider", f"an Approval action's provider is Manual, got {quoted(provider)}")
    if category != "Approval":
        for key in ("timeout", "custom_data", "url"):
            if reader.has(key):
                raise reader.error(key, "only Approval actions wait for a person; this key is for them")
    elif reader.has("fail") or reader.has("duration"):
        key = "fail" if reader.has("fail") else "duration"
        raise reader.error(key, "an Approval action waits for a person (see 'timeout'); it takes no " + key)
    input_json = None
    if input_template is not None:
        if provider != "StepFunctions":
            raise reader.error("input", "only StepFunctions actions take an input")
        input_json = _json_text(reader, "input", input_template)
    if len(custom_data) > 500:
        raise reader.error("custom_data", f"at most 500 characters, got {len(custom_data)}")
    reader.done()
    return ActionDef(
        name=name,
        category=category,
        provider=provider,
        owner=owner,
        run_order=run_order,
        duration=duration,
        fail=fail,
        error=error,
        summary=summary,
        state_machine=state_machine,
        input=input_json,
        timeout=timeout,
        custom_data=custom_data,
        url=url,
        configuration=configuration,
        namespace=namespace,
        variables=exported,
        file=reader.file,
        line=reader.line,
    )


def _json_text(reader: Reader, key: str, value: Any) -> str:
    """An input given as YAML data or as a JSON string → JSON text of an object."""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise reader.error(key, f"not valid JSON: {exc}") from None
    else:
        parsed = _plain(value)
    if not isinstance(parsed, dict):
        raise reader.error(key, "expected a mapping (the execution input is a JSON object)")
    return json.dumps(parsed)


def _default_provider(category: str) -> str:
    return {
        "Source": "CodeStarSourceConnection",
        "Build": "CodeBuild",
        "Deploy": "CodeDeploy",
        "Test": "CodeBuild",
        "Invoke": "StepFunctions",
        "Approval": "Manual",
        "Compute": "Commands",
    }[category]


# --- Pipelines in AWS's shape ----------------------------------------------------------------------------


def _declaration_files(directory: Path, regions: tuple[str, ...]) -> list[declarations.Declared]:
    """The pipelines declared in `pipelines/`, file by file in name order."""
    folder = directory / "pipelines"
    if not folder.is_dir():
        return []
    found: list[declarations.Declared] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in DECLARATION_SUFFIXES and p.is_file()):
        display = _display(path)
        data = load_file(path, display)
        if data is None:
            raise InputError(display, None, None, "the file is empty: it needs a pipeline declaration")
        found += declarations.read_declarations(display, data, regions=regions, stack=path.stem)
    return found


def _declared_settings(reader: Reader | None, regions: tuple[str, ...]) -> DeclaredSettings:
    """fleet.yaml's `declared`: what the sandbox needs of pipelines in AWS's shape, which that shape lacks."""
    if reader is None:
        return DeclaredSettings()
    _only(reader, ("pipelines", "actions"))
    placements = []
    for rule in reader.readers("pipelines"):
        _only(rule, ("pipeline", "region", "commit_interval"))
        pattern = rule.string("pipeline", "*") or "*"
        region = rule.string("region")
        if region is not None and region not in regions:
            raise rule.error("region", f"region '{region}' is not one of regions: {', '.join(regions)}")
        interval = rule.duration("commit_interval", minimum=1.0)
        rule.done()
        placements.append(declarations.PipelinePlacement(pattern, region, interval))
    behaviours = []
    for rule in reader.readers("actions"):
        _only(rule, ("pipeline", "stage", "action", "category", "provider", "duration", "fail", "error", "summary",
                     "variables"))  # fmt: skip
        patterns = {
            key: rule.string(key, "*") or "*" for key in ("pipeline", "stage", "action", "category", "provider")
        }
        values: dict[str, Any] = {}
        if rule.has("duration"):
            values["duration"] = rule.duration("duration", maximum=86400.0)
        if rule.has("fail"):
            values["fail"] = rule.number("fail", minimum=0.0, maximum=1.0)
        for key in ("error", "summary"):
            if rule.has(key):
                values[key] = rule.string(key, "") or ""
        if rule.has("variables"):
            values["variables"] = rule.string_map("variables")
        rule.done()
        behaviours.append(declarations.ActionBehaviour(values=values, **patterns))
    reader.done()
    return DeclaredSettings(tuple(placements), tuple(behaviours))


def _from_declaration(
    declared: declarations.Declared,
    waves: WaveModel,
    regions: tuple[str, ...],
    names: _Names,
    settings: DeclaredSettings,
) -> PipelineDef:
    """A pipeline in AWS's shape → the sandbox's PipelineDef: waves by `match`, behaviour by defaults and rules."""
    structure = dict(declared.structure)
    name = str(structure["name"])
    region, commit_interval = declared.region, None
    for placement in settings.pipelines:
        if fnmatch.fnmatchcase(name.lower(), placement.pipeline.lower()):
            region = placement.region or region
            commit_interval = placement.commit_interval or commit_interval
    region = region or regions[0]
    if region not in regions:
        raise declared.error(
            "name", f"the pipeline's region {region} (from its pipelineArn) is not one of regions: {', '.join(regions)}"
        )
    # The sandbox is one account: a role of another account (get-pipeline output of a real one) becomes its own.
    role = str(structure["roleArn"])
    structure["roleArn"] = re.sub(r"^(arn:aws[\w-]*:iam::)\d{12}(:)", rf"\g<1>{declarations.SANDBOX_ACCOUNT}\2", role)
    stages_data = structure["stages"]
    if len(stages_data) < 2:
        raise declared.error("stages", "a pipeline needs at least two stages (CodePipeline requires it)")
    stages: list[StageDef] = []
    for index, stage in enumerate(stages_data):
        actions = tuple(
            _declared_action(
                declared, name, stage["name"], action, f"stages[{index}].actions[{position}]", names, settings
            )
            for position, action in enumerate(stage["actions"])
        )
        if not actions:
            raise declared.error(f"stages[{index}].actions", "a stage needs at least one action")
        categories = {a.category for a in actions}
        if index == 0 and categories != {"Source"}:
            raise declared.error(f"stages[{index}].actions", "the first stage holds Source actions only")
        if index > 0 and "Source" in categories:
            raise declared.error(f"stages[{index}].actions", "Source actions belong in the first stage only")
        wave = None if index == 0 else declarations.stage_wave(waves, name, stage["name"])
        # Conditions go to CreatePipeline inside the declaration; here they are for the sandbox's checks and
        # for the CloudWatch alarms their rules watch, which the sandbox creates.
        kinds = ("beforeEntry", "onSuccess", "onFailure")
        stages.append(
            StageDef(
                stage["name"],
                wave,
                actions,
                declared.file,
                declared.lines.get(f"stages[{index}]"),
                conditions={kind: stage[kind] for kind in kinds if kind in stage},
                condition_lines={
                    kind: declared.lines.get(f"stages[{index}].{kind}") for kind in kinds if kind in stage
                },
            )
        )
    first = stages[0].actions[0].configuration
    repository = (
        first.get("FullRepositoryId")
        or first.get("RepositoryName")
        or ("/".join((first["Owner"], first["Repo"])) if "Owner" in first and "Repo" in first else None)
        or name
    )
    return PipelineDef(
        name=name,
        region=region,
        execution_mode=str(structure.get("executionMode") or "SUPERSEDED"),
        stages=tuple(stages),
        repository=repository,
        commit_interval=commit_interval,
        file=declared.file,
        line=declared.line,
        declaration=structure,
        tags=declared.tags,
        disabled_transitions=declared.disabled,
    )


def _declared_action(
    declared: declarations.Declared,
    pipeline: str,
    stage: str,
    action: Mapping[str, Any],
    path: str,
    names: _Names,
    settings: DeclaredSettings,
) -> ActionDef:
    type_id = action["actionTypeId"]
    category, provider = str(type_id["category"]), str(type_id["provider"])
    configuration = dict(action.get("configuration") or {})
    values: dict[str, Any] = {"duration": declarations.default_duration(category, provider)}
    for rule in settings.actions:
        if rule.matches(pipeline, stage, str(action["name"]), category, provider):
            values.update(rule.values)
    if provider == "StepFunctions":
        arn = configuration.get("StateMachineArn", "")
        parts = arn.split(":")
        machine = parts[6] if len(parts) >= 7 and parts[5] == "stateMachine" else None
        if machine is None or machine not in names.state_machines or parts[4] != declarations.SANDBOX_ACCOUNT:
            known = ", ".join(sorted(names.state_machines)) or "none"
            raise declared.error(
                f"{path}.configuration.StateMachineArn",
                f"{arn!r} is not a state machine of the sandbox's account {declarations.SANDBOX_ACCOUNT} "
                f"declared under state_machines (declared: {known})",
            )
    minutes = action.get("timeoutInMinutes")
    return ActionDef(
        name=str(action["name"]),
        category=category,
        provider=provider,
        owner=str(type_id["owner"]),
        run_order=int(action.get("runOrder") or 1),
        duration=0.0 if category == "Approval" else float(values["duration"] or 0.0),
        fail=0.0 if category == "Approval" else float(values.get("fail") or 0.0),
        error=str(values.get("error") or ""),
        summary=str(values.get("summary") or ""),
        timeout=float(minutes) * 60.0 if minutes else DEFAULT_APPROVAL_TIMEOUT,
        configuration=configuration,
        namespace=action.get("namespace"),
        variables=dict(values.get("variables") or {}),
        file=declared.file,
        line=declared.lines.get(path),
    )


# --- State machines (YAML-ASL) --------------------------------------------------------------------------


def _state_machine(reader: Reader, directory: Path, regions: tuple[str, ...], names: _Names) -> StateMachineDef:
    _only(reader, _STATE_MACHINE_KEYS)
    name = reader.req_string("name")
    if not (0 < len(name) <= 80 and all(c.isalnum() or c in "-_" for c in name) and name.isascii()):
        raise reader.error("name", "a state machine name is 1-80 of A-Z a-z 0-9 - _")
    sm_type = reader.choice("type", STATE_MACHINE_TYPES, "STANDARD") or "STANDARD"
    region = _region(reader, regions)
    source = reader.req_string("definition")
    wave = _wave(reader, names)
    rollback = reader.string("rollback")
    if rollback is not None and rollback not in names.state_machines:
        raise reader.error("rollback", f"state machine '{rollback}' is not defined under state_machines")
    path = (directory / source).resolve()
    if not path.is_relative_to(directory.resolve()):
        raise reader.error(
            "definition", f"the definition must lie inside the definitions directory, got {quoted(source)}"
        )
    if not path.is_file():
        raise reader.error("definition", f"no such file: {source} (relative to the definitions directory)")
    display = _display(directory / source)
    definition = load_file(path, display)
    if definition is None:
        raise InputError(display, None, None, "the file is empty: it needs StartAt and States")
    approval_states = validate_asl(display, definition)
    state_waves = _state_waves(reader, definition, display, names)
    lines = {path: line for path, line, _ in _located(definition) if line is not None}
    _check_queues(display, definition, names.queues)
    _check_topics(display, definition, names.topics)
    _check_functions(display, definition, names.functions)
    reader.done()
    return StateMachineDef(
        name=name,
        type=sm_type,
        region=region,
        definition=_plain(definition),
        source=display,
        wave=wave,
        state_waves=state_waves,
        rollback=rollback,
        approval_states=approval_states,
        file=reader.file,
        line=reader.line,
        definition_lines=lines,
    )


def _state_waves(reader: Reader, definition: Mapping[str, Any], display: str, names: _Names) -> dict[str, str]:
    state_waves = reader.string_map("state_waves")
    section = reader.mapping("state_waves")
    for state, state_wave in state_waves.items():
        assert section is not None
        if state_wave not in names.waves:
            raise section.error(state, f"wave '{state_wave}' is not defined in waves.yaml")
        if state not in definition.get("States", {}):
            raise section.error(state, f"'{state}' is not a top-level state of {display}")
    return state_waves


def validate_asl(file: str, definition: Any) -> tuple[str, ...]:
    """Check the structure of an ASL document; return the names of its `.waitForTaskToken` states."""
    top = Reader(file, definition)
    _only(top, ("StartAt", "States", "Comment", "QueryLanguage", "TimeoutSeconds", "Version"))
    approvals: list[str] = []
    _states(top, approvals)
    top.string("Comment")
    top.choice("QueryLanguage", ("JSONPath", "JSONata"))
    top.integer("TimeoutSeconds", minimum=1)
    top.string("Version")
    top.done()
    return tuple(approvals)


def _states(reader: Reader, approvals: list[str]) -> None:
    start = reader.req_string("StartAt")
    states = reader.req_mapping("States")
    names = set(states.keys())
    if not names:
        raise reader.error("States", "no states defined")
    if start not in names:
        raise reader.error("StartAt", f"StartAt names '{start}', which is not a state here")
    for name in states.keys():
        if not 0 < len(name) <= 80:
            raise states.error(name, "a state name is 1-80 characters")
        _state(states.req_mapping(name), name, names, approvals)
    states.done()


_STATE_KEYS: dict[str, tuple[str, ...]] = {
    "Task": ("Resource", "Parameters", "Arguments", "ResultSelector", "Retry", "Catch", "TimeoutSeconds",
             "HeartbeatSeconds", "TimeoutSecondsPath", "HeartbeatSecondsPath", "Credentials"),
    "Pass": ("Parameters", "Result"),
    "Wait": ("Seconds", "SecondsPath", "Timestamp", "TimestampPath"),
    "Choice": ("Choices", "Default"),
    "Parallel": ("Branches", "Parameters", "Arguments", "ResultSelector", "Retry", "Catch"),
    "Map": ("ItemProcessor", "Iterator", "ItemsPath", "Items", "ItemSelector", "Parameters", "ItemReader",
            "ResultWriter", "ItemBatcher", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailurePercentage",
            "ToleratedFailureCount", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath", "Label",
            "ResultSelector", "Retry", "Catch"),
    "Succeed": (),
    "Fail": ("Error", "Cause", "ErrorPath", "CausePath"),
}  # fmt: skip
_COMMON_STATE_KEYS = ("Type", "Comment", "Next", "End", "InputPath", "OutputPath", "ResultPath", "QueryLanguage",
                      "Assign", "Output")  # fmt: skip


def _state(reader: Reader, name: str, names: set[str], approvals: list[str]) -> None:
    if not reader.has("Type"):
        raise reader.error(None, f"state '{name}' has no 'Type' (one of {', '.join(ASL_STATE_TYPES)})")
    kind = reader.choice("Type", ASL_STATE_TYPES) or ""
    # Keys of other state types are errors here: AWS refuses `Seconds` on a Pass state, for instance.
    allowed = _COMMON_STATE_KEYS + _STATE_KEYS[kind]
    for key in reader.keys():
        owners = [t for t, keys in _STATE_KEYS.items() if key in keys]
        if key not in allowed and owners:
            raise reader.error(key, f"a {kind} state does not take '{key}' (a key of {' and '.join(owners)} states)")
    _only(reader, allowed)
    terminal = kind in ("Succeed", "Fail", "Choice")
    next_state = reader.string("Next")
    end = reader.boolean("End")
    if not terminal:
        if next_state is None and not end:
            raise reader.error(None, f"state '{name}' needs 'Next' or 'End: true'")
        if next_state is not None and end:
            raise reader.error("End", "a state has either 'Next' or 'End', not both")
    elif next_state is not None or reader.has("End"):
        raise reader.error("Next" if next_state else "End", f"a {kind} state takes neither Next nor End")
    if next_state is not None and next_state not in names:
        raise reader.error("Next", f"Next names '{next_state}', which is not a state here")
    if kind == "Task":
        resource = reader.req_string("Resource")
        if resource.endswith(".waitForTaskToken"):
            approvals.append(name)
    if kind == "Choice":
        rules = list(reader.readers("Choices", required=True))
        if not rules:
            raise reader.error("Choices", "a Choice state needs at least one rule")
        for choice in rules:
            target = choice.req_string("Next")
            if target not in names:
                raise choice.error("Next", f"Next names '{target}', which is not a state here")
        default = reader.string("Default")
        if default is not None and default not in names:
            raise reader.error("Default", f"Default names '{default}', which is not a state here")
    if kind == "Parallel":
        branches = list(reader.readers("Branches", required=True))
        if not branches:
            raise reader.error("Branches", "a Parallel state needs at least one branch")
        for branch in branches:
            _only(branch, ("StartAt", "States", "Comment", "QueryLanguage"))
            _states(branch, approvals)
    if kind == "Map":
        key = "Iterator" if reader.has("Iterator") and not reader.has("ItemProcessor") else "ItemProcessor"
        if not reader.has(key):
            raise reader.error(None, "a Map state needs 'ItemProcessor'")
        processor = reader.req_mapping(key)
        _only(processor, ("StartAt", "States", "Comment", "ProcessorConfig", "QueryLanguage"))
        _states(processor, approvals)
    for catcher in reader.readers("Catch"):
        _only(catcher, ("ErrorEquals", "Next", "ResultPath", "Comment", "Assign", "Output"))
        target = catcher.req_string("Next")
        if target not in names:
            raise catcher.error("Next", f"Next names '{target}', which is not a state here")
    reader.done()


def _check_queues(file: str, definition: Any, queues: tuple[str, ...]) -> None:
    """A `.waitForTaskToken` approval through SQS must post to a queue the sandbox creates."""
    for path, line, value in _located(definition):
        if path.endswith("QueueUrl") and isinstance(value, str):
            queue = value.rstrip("/").rsplit("/", 1)[-1]
            if queue not in queues:
                declared = ", ".join(queues) or "none"
                raise InputError(
                    file,
                    line,
                    path,
                    f"queue '{queue}' is not declared under queues in fleet.yaml (declared: {declared})",
                )


def _check_topics(file: str, definition: Any, topics: tuple[str, ...]) -> None:
    """An SNS publish (`.waitForTaskToken` or not) must name a topic the sandbox creates."""
    for path, line, value in _located(definition):
        if path.endswith("TopicArn") and isinstance(value, str):
            match = _TOPIC_ARN.match(value)
            if match is None:
                raise InputError(file, line, path, f"expected an SNS topic ARN, got {quoted(value)}")
            if match.group(2) not in topics:
                declared = ", ".join(topics) or "none"
                raise InputError(
                    file,
                    line,
                    path,
                    f"topic '{match.group(2)}' is not declared under topics in fleet.yaml (declared: {declared})",
                )


def _check_functions(file: str, definition: Any, functions: frozenset[str]) -> None:
    """A Lambda a state machine names literally must be a function the definitions declare."""
    for path, line, value in _located(definition):
        if not isinstance(value, str) or value.startswith("{%"):
            continue  # a JSONata expression names the function only at run time
        name = None
        if path.endswith(".FunctionName") or path == "FunctionName":
            match = _FUNCTION_ARN.match(value)
            name = match.group(2) if match else value.split(":", 1)[0]
        elif path.endswith(".Resource"):
            match = _FUNCTION_ARN.match(value)
            name = match.group(2) if match else None
        if name is not None and name not in functions:
            declared = ", ".join(sorted(functions)) or "none"
            raise InputError(
                file,
                line,
                path,
                f"function '{name}' is not declared under functions in fleet.yaml (declared: {declared})",
            )


def _located(value: Any, path: str = "", line: int | None = None) -> Iterator[tuple[str, int | None, Any]]:
    """Every node of a located YAML document as (dotted path, line, value), containers before their items."""
    if path:
        yield path, line, value
    if isinstance(value, dict):
        lines = getattr(value, "lines", {})
        for key, item in value.items():
            yield from _located(item, f"{path}.{key}" if path else str(key), lines.get(key, line))
    elif isinstance(value, list):
        lines = getattr(value, "lines", [])
        for index, item in enumerate(value):
            yield from _located(item, f"{path}[{index}]", lines[index] if index < len(lines) else line)


def _plain(value: Any) -> Any:
    """Located containers → plain dicts and lists (for JSON and for frozen definitions)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- Traffic ------------------------------------------------------------------------------------------


def _traffic(reader: Reader | None, names: _Names) -> TrafficDef:
    if reader is None:
        return TrafficDef()
    _only(reader, _TRAFFIC_KEYS)
    default = TrafficDef()
    commit_interval = reader.duration("commit_interval", default.commit_interval, minimum=1.0)
    max_in_flight = reader.integer("max_in_flight", default.max_in_flight, minimum=1, maximum=50)
    warm_up = reader.duration("warm_up", default.warm_up, maximum=MAX_WARM_UP)
    authors = tuple(reader.strings("authors")) or default.authors
    messages = tuple(reader.strings("messages")) or default.messages
    alarm_trips = reader.number("alarm_trips", default.alarm_trips, minimum=0.0, maximum=1.0)
    runs = []
    for run in reader.readers("runs"):
        _only(run, _RUN_KEYS)
        machine = run.req_string("state_machine")
        if machine not in names.state_machines:
            known = ", ".join(sorted(names.state_machines)) or "none"
            raise run.error(
                "state_machine", f"state machine '{machine}' is not defined under state_machines (defined: {known})"
            )
        interval = run.duration("interval", 300.0, minimum=1.0) or 300.0
        raw_input = run.raw("input")
        text = "{}" if raw_input is None else _json_text(run, "input", raw_input)
        run.done()
        runs.append(ScheduledRun(machine, interval, text))
    reader.done()
    return TrafficDef(
        commit_interval=commit_interval or default.commit_interval,
        max_in_flight=max_in_flight or default.max_in_flight,
        warm_up=default.warm_up if warm_up is None else warm_up,
        authors=authors,
        messages=messages,
        runs=tuple(runs),
        alarm_trips=default.alarm_trips if alarm_trips is None else alarm_trips,
    )
