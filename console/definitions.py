"""Loads and validates `definitions/` into model objects.

Three kinds of file (the README documents each key):

- `waves.yaml`: the wave model, in promotion order (console/waves.py uses it);
- `fleet.yaml`: the sandbox fleet: reusable stage shapes, pipelines, state machines, SQS queues, traffic;
- `state-machines/*.asl.yaml`: Step Functions definitions written as YAML-ASL.

Every problem is an InputError naming the file, the line and the dotted key. Loading never imports moto;
the sandbox validates ASL once more with moto's parser when it creates the state machines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.errors import InputError
from console.model import Risk, Wave
from console.waves import WaveModel, WaveRule
from console.yamlfile import Reader, load_file

CATEGORIES = ("Source", "Build", "Deploy", "Test", "Invoke", "Approval", "Compute")
EXECUTION_MODES = ("QUEUED", "SUPERSEDED")
STATE_MACHINE_TYPES = ("STANDARD", "EXPRESS")
ASL_STATE_TYPES = ("Task", "Pass", "Wait", "Choice", "Parallel", "Map", "Succeed", "Fail")
DEFAULT_APPROVAL_TIMEOUT = 7 * 86400.0


def default_definitions_dir() -> Path:
    """`definitions/` beside the packages in a checkout, or the copy bundled into an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "definitions", here / "bundled_definitions"):
        if (candidate / "fleet.yaml").is_file():
            return candidate
    return here.parent / "definitions"


# --- The wave model -----------------------------------------------------------------------------------


def load_wave_model(path: Path) -> WaveModel:
    data = load_file(path, _display(path))
    top = Reader(_display(path), data)
    rules: list[WaveRule] = []
    names: set[str] = set()
    for order, wave in enumerate(top.readers("waves", required=True), start=1):
        name = wave.req_string("name")
        if name in names:
            raise wave.error("name", f"wave '{name}' is defined twice")
        names.add(name)
        risk_name = wave.choice("risk", tuple(r.label for r in Risk), "low")
        environment = wave.string("environment", name) or name
        description = wave.string("description", "") or ""
        patterns = tuple(wave.strings("match"))
        wave.done()
        rules.append(WaveRule(Wave(name, order, environment, Risk[str(risk_name).upper()], description), patterns))
    top.done()
    if not rules:
        raise top.error("waves", "at least one wave is needed")
    return WaveModel(tuple(rules))


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
    file: str = ""
    line: int | None = None


@dataclass(frozen=True)
class StageDef:
    name: str
    wave: str | None
    actions: tuple[ActionDef, ...]
    file: str = ""
    line: int | None = None


@dataclass(frozen=True)
class PipelineDef:
    name: str
    region: str
    execution_mode: str
    stages: tuple[StageDef, ...]
    repository: str
    commit_interval: float | None = None
    file: str = ""
    line: int | None = None

    def stage(self, name: str) -> StageDef | None:
        return next((s for s in self.stages if s.name == name), None)


@dataclass(frozen=True)
class StateMachineDef:
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

    @property
    def definition_json(self) -> str:
        return json.dumps(self.definition, indent=2)


@dataclass(frozen=True)
class ScheduledRun:
    """A state machine the traffic starts by itself every so often."""

    state_machine: str
    interval: float
    input: str = "{}"


@dataclass(frozen=True)
class TrafficDef:
    commit_interval: float = 240.0  # mean time between commits to one repository, at speed 1
    max_in_flight: int = 3  # commits arriving while this many runs are in flight are held back
    warm_up: float = 1800.0  # history played before the sandbox opens, so the fleet is not empty
    authors: tuple[str, ...] = ("dev",)
    messages: tuple[str, ...] = ("Update",)
    runs: tuple[ScheduledRun, ...] = ()


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

    def pipeline(self, name: str) -> PipelineDef | None:
        return next((p for p in self.pipelines if p.name == name), None)

    def state_machine(self, name: str) -> StateMachineDef | None:
        return next((s for s in self.state_machines if s.name == name), None)

    def wave_model(self) -> WaveModel:
        """The wave model with this fleet's explicit stage and state machine mappings."""
        stage_waves = {(p.name, s.name): s.wave for p in self.pipelines for s in p.stages if s.wave}
        sm_waves = {m.name: m.wave for m in self.state_machines if m.wave}
        return self.waves.with_mappings(stage_waves, sm_waves)


def load_fleet(directory: Path | None = None) -> Fleet:
    """Load `waves.yaml`, `fleet.yaml` and the state machines it names from a definitions directory."""
    directory = directory or default_definitions_dir()
    if not directory.is_dir():
        raise InputError(str(directory), None, None, "no such definitions directory")
    waves = load_wave_model(directory / "waves.yaml")
    fleet_path = directory / "fleet.yaml"
    name = _display(fleet_path)
    top = Reader(name, load_file(fleet_path, name))
    regions = tuple(top.strings("regions")) or ("us-east-1",)
    queues = tuple(top.strings("queues"))
    wave_names = {w.name for w in waves.waves}

    templates: dict[str, Reader] = {}
    shapes = top.mapping("stages")
    if shapes is not None:
        for key in list(shapes.data):
            sub = shapes.mapping(str(key))
            assert sub is not None
            templates[str(key)] = sub
        shapes.done()

    state_machines = tuple(_state_machine(r, directory, regions, wave_names) for r in top.readers("state_machines"))
    sm_names = _unique(top, "state_machines", [m.name for m in state_machines])
    pipelines = tuple(
        _pipeline(r, templates, regions, wave_names, sm_names) for r in top.readers("pipelines", required=True)
    )
    _unique(top, "pipelines", [p.name for p in pipelines])
    for machine in state_machines:
        if machine.rollback and machine.rollback not in sm_names:
            raise InputError(
                machine.file,
                machine.line,
                f"state_machines.{machine.name}.rollback",
                f"state machine '{machine.rollback}' is not defined in state_machines",
            )
        _check_queues(machine, queues)

    traffic = _traffic(top.mapping("traffic"), sm_names)
    for template in templates.values():
        # A stage shape nobody used still has to be well-formed.
        _stage_body(template, "(shape)", wave_names, sm_names)
    top.done()
    return Fleet(directory, waves, regions, pipelines, state_machines, queues, traffic)


def _display(path: Path) -> str:
    """Name a definitions file the way the operator knows it: `definitions/fleet.yaml`."""
    parts = path.parts
    if "definitions" in parts:
        return "/".join(parts[parts.index("definitions") :])
    return str(path)


def _unique(top: Reader, key: str, names: list[str]) -> set[str]:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise top.error(key, f"'{name}' is defined twice")
        seen.add(name)
    return seen


def _region(reader: Reader, regions: tuple[str, ...]) -> str:
    region = reader.string("region", regions[0]) or regions[0]
    if region not in regions:
        raise reader.error("region", f"region '{region}' is not one of regions: {', '.join(regions)}")
    return region


def _pipeline(
    reader: Reader,
    templates: dict[str, Reader],
    regions: tuple[str, ...],
    wave_names: set[str],
    sm_names: set[str],
) -> PipelineDef:
    name = reader.req_string("name")
    if not _valid_name(name, 100):
        raise reader.error("name", "a pipeline name is 1-100 of A-Z a-z 0-9 . @ - _")
    region = _region(reader, regions)
    mode = reader.choice("execution_mode", EXECUTION_MODES, "SUPERSEDED") or "SUPERSEDED"
    repository = reader.string("repository", name) or name
    commit_interval = reader.duration("commit_interval", minimum=1.0)
    stages = tuple(_stage(r, templates, wave_names, sm_names) for r in reader.readers("stages", required=True))
    if len(stages) < 2:
        raise reader.error("stages", "a pipeline needs at least two stages")
    _unique(reader, "stages", [s.name for s in stages])
    if not stages[0].actions or any(a.category != "Source" for a in stages[0].actions):
        raise reader.error("stages", "the first stage must hold only Source actions")
    for stage in stages[1:]:
        for action in stage.actions:
            if action.category == "Source":
                raise InputError(
                    action.file,
                    action.line,
                    f"{stage.name}.{action.name}",
                    "Source actions belong in the first stage only",
                )
    reader.done()
    return PipelineDef(name, region, mode, stages, repository, commit_interval, reader.file, reader.line)


def _stage(reader: Reader, templates: dict[str, Reader], wave_names: set[str], sm_names: set[str]) -> StageDef:
    name = reader.req_string("name")
    use = reader.string("use")
    if use is not None:
        if use not in templates:
            known = ", ".join(sorted(templates)) or "none"
            raise reader.error("use", f"stage shape '{use}' is not defined under stages (defined: {known})")
        shape = _stage_body(templates[use], name, wave_names, sm_names)
        wave = reader.string("wave", shape.wave)
        if wave is not None and wave not in wave_names:
            raise reader.error("wave", f"wave '{wave}' is not defined in waves.yaml")
        actions = shape.actions
        if reader.has("actions"):
            actions = _stage_body(reader, name, wave_names, sm_names, wave_done=True).actions
        reader.done()
        return StageDef(name, wave, actions, reader.file, reader.line)
    stage = _stage_body(reader, name, wave_names, sm_names)
    reader.done()
    return stage


def _stage_body(
    reader: Reader, name: str, wave_names: set[str], sm_names: set[str], wave_done: bool = False
) -> StageDef:
    wave = None
    if not wave_done:
        wave = reader.string("wave")
        if wave is not None and wave not in wave_names:
            raise reader.error("wave", f"wave '{wave}' is not defined in waves.yaml")
    actions = tuple(_action(r, sm_names) for r in reader.readers("actions", required=True))
    if not actions:
        raise reader.error("actions", "a stage needs at least one action")
    _unique(reader, "actions", [a.name for a in actions])
    if not wave_done:
        reader.done()
    return StageDef(name, wave, actions, reader.file, reader.line)


def _action(reader: Reader, sm_names: set[str]) -> ActionDef:
    name = reader.req_string("name")
    if not _valid_name(name, 100):
        raise reader.error("name", "an action name is 1-100 of A-Z a-z 0-9 . @ - _")
    category = reader.choice("category", CATEGORIES) or ""
    if not category:
        raise reader.error(None, "missing required key 'category'")
    provider = reader.string("provider", _default_provider(category)) or ""
    owner = reader.choice("owner", ("AWS", "ThirdParty", "Custom"), "AWS") or "AWS"
    run_order = int(reader.number("run_order", 1, minimum=1, maximum=999) or 1)
    duration = reader.duration("duration", 10.0) or 0.0
    fail = reader.number("fail", 0.0, minimum=0.0, maximum=1.0) or 0.0
    error = reader.string("error", "") or ""
    summary = reader.string("summary", "") or ""
    state_machine = reader.string("state_machine")
    input_template = reader.raw("input")
    timeout = reader.duration("timeout", DEFAULT_APPROVAL_TIMEOUT, minimum=1.0) or DEFAULT_APPROVAL_TIMEOUT
    custom_data = reader.string("custom_data", "") or ""
    url = reader.string("url")
    configuration = reader.string_map("configuration")
    if provider == "StepFunctions":
        if state_machine is None:
            raise reader.error(None, "a StepFunctions action needs 'state_machine'")
        if state_machine not in sm_names:
            raise reader.error("state_machine", f"state machine '{state_machine}' is not defined in state_machines")
    elif state_machine is not None:
        raise reader.error("state_machine", "only actions with provider StepFunctions start a state machine")
    if category == "Approval" and provider != "Manual":
        raise reader.error("provider", "an Approval action's provider is Manual")
    if category != "Approval" and (reader.has("timeout") or custom_data or url):
        key = "timeout" if reader.has("timeout") else ("custom_data" if custom_data else "url")
        raise reader.error(key, "only Approval actions wait for a person")
    input_json = None
    if input_template is not None:
        if provider != "StepFunctions":
            raise reader.error("input", "only StepFunctions actions take an input")
        input_json = json.dumps(input_template) if not isinstance(input_template, str) else input_template
        try:
            json.loads(input_json)
        except ValueError as exc:
            raise reader.error("input", f"not valid JSON: {exc}") from None
    if len(custom_data) > 500:
        raise reader.error("custom_data", "at most 500 characters")
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
        file=reader.file,
        line=reader.line,
    )


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


def _valid_name(name: str, limit: int) -> bool:
    return 0 < len(name) <= limit and all(c.isalnum() or c in ".@-_" for c in name) and name.isascii()


# --- State machines (YAML-ASL) --------------------------------------------------------------------------


def _state_machine(reader: Reader, directory: Path, regions: tuple[str, ...], wave_names: set[str]) -> StateMachineDef:
    name = reader.req_string("name")
    if not (0 < len(name) <= 80 and all(c.isalnum() or c in "-_" for c in name)):
        raise reader.error("name", "a state machine name is 1-80 of A-Z a-z 0-9 - _")
    sm_type = reader.choice("type", STATE_MACHINE_TYPES, "STANDARD") or "STANDARD"
    region = _region(reader, regions)
    source = reader.req_string("definition")
    wave = reader.string("wave")
    if wave is not None and wave not in wave_names:
        raise reader.error("wave", f"wave '{wave}' is not defined in waves.yaml")
    state_waves = reader.string_map("state_waves")
    rollback = reader.string("rollback")
    path = (directory / source).resolve()
    if not path.is_relative_to(directory.resolve()):
        raise reader.error("definition", "the definition must lie inside the definitions directory")
    if not path.is_file():
        raise reader.error("definition", f"no such file: {source}")
    display = _display(directory / source)
    definition = load_file(path, display)
    approval_states = validate_asl(display, definition)
    for state, state_wave in state_waves.items():
        if state_wave not in wave_names:
            raise reader.error("state_waves", f"wave '{state_wave}' of state '{state}' is not defined in waves.yaml")
        if state not in definition.get("States", {}):
            raise reader.error("state_waves", f"state '{state}' is not a top-level state of {display}")
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
    )


def validate_asl(file: str, definition: Any) -> tuple[str, ...]:
    """Check the structure of an ASL document; return the names of its `.waitForTaskToken` states."""
    top = Reader(file, definition)
    approvals: list[str] = []
    _states(top, approvals)
    top.string("Comment")
    top.string("QueryLanguage")
    top.number("TimeoutSeconds", minimum=1)
    top.string("Version")
    top.done()
    return tuple(approvals)


def _states(reader: Reader, approvals: list[str]) -> None:
    start = reader.req_string("StartAt")
    states = reader.mapping("States", required=True)
    assert states is not None
    names = set(states.data)
    if start not in names:
        raise reader.error("StartAt", f"StartAt names '{start}', which is not a state")
    for name in list(states.data):
        state = states.mapping(str(name))
        assert state is not None
        _state(state, str(name), names, approvals)
    states.done()


_COMMON_STATE_KEYS = (
    "Comment",
    "InputPath",
    "OutputPath",
    "ResultPath",
    "Parameters",
    "ResultSelector",
    "Result",
    "Retry",
    "Catch",
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "Credentials",
    "Assign",
    "Arguments",
    "Output",
    "QueryLanguage",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
    "Error",
    "Cause",
    "ErrorPath",
    "CausePath",
    "Default",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ItemsPath",
    "Items",
    "ItemSelector",
    "ItemReader",
    "ResultWriter",
    "ToleratedFailurePercentage",
    "ToleratedFailureCount",
    "Label",
    "ItemBatcher",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
)


def _state(reader: Reader, name: str, names: set[str], approvals: list[str]) -> None:
    kind = reader.choice("Type", ASL_STATE_TYPES)
    if kind is None:
        raise reader.error(None, "missing required key 'Type'")
    terminal = kind in ("Succeed", "Fail", "Choice")
    next_state = reader.string("Next")
    end = reader.boolean("End")
    if not terminal:
        if next_state is None and not end:
            raise reader.error(None, f"state '{name}' needs 'Next' or 'End: true'")
        if next_state is not None and end:
            raise reader.error("End", "a state has either 'Next' or 'End', not both")
    elif next_state is not None or end:
        raise reader.error("Next" if next_state else "End", f"a {kind} state does not take Next or End")
    if next_state is not None and next_state not in names:
        raise reader.error("Next", f"Next names '{next_state}', which is not a state")
    if kind == "Task":
        resource = reader.req_string("Resource")
        if resource.endswith(".waitForTaskToken"):
            approvals.append(name)
    if kind == "Choice":
        for choice in reader.readers("Choices", required=True):
            target = choice.req_string("Next")
            if target not in names:
                raise choice.error("Next", f"Next names '{target}', which is not a state")
        default = reader.string("Default")
        if default is not None and default not in names:
            raise reader.error("Default", f"Default names '{default}', which is not a state")
    if kind == "Parallel":
        for branch in reader.readers("Branches", required=True):
            _states(branch, approvals)
            branch.string("Comment")
            branch.done()
    if kind == "Map":
        processor = reader.mapping("ItemProcessor") or reader.mapping("Iterator")
        if processor is None:
            raise reader.error(None, "a Map state needs 'ItemProcessor'")
        _states(processor, approvals)
        processor.mapping("ProcessorConfig")
        processor.string("Comment")
        processor.done()
    for catcher in reader.readers("Catch"):
        target = catcher.req_string("Next")
        if target not in names:
            raise catcher.error("Next", f"Next names '{target}', which is not a state")
        catcher.raw("ErrorEquals")
        catcher.raw("ResultPath")
        catcher.raw("Comment")
        catcher.raw("Assign")
        catcher.raw("Output")
        catcher.done()
    for key in _COMMON_STATE_KEYS:
        if key not in ("Default",):
            reader.raw(key)
    reader.raw("Choices")
    reader.raw("Branches")
    reader.raw("Resource")
    reader.done()


def _check_queues(machine: StateMachineDef, queues: tuple[str, ...]) -> None:
    for path, value in _walk(machine.definition):
        if path.endswith("QueueUrl") and isinstance(value, str):
            queue = value.rstrip("/").rsplit("/", 1)[-1]
            if queue not in queues:
                raise InputError(
                    machine.source,
                    None,
                    path,
                    f"queue '{queue}' is not declared under queues in fleet.yaml",
                )


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_walk(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_walk(item, f"{path}[{index}]"))
    else:
        found.append((path, value))
    return found


def _plain(value: Any) -> Any:
    """Located containers → plain dicts and lists (for JSON and for frozen definitions)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- Traffic ------------------------------------------------------------------------------------------


def _traffic(reader: Reader | None, sm_names: set[str]) -> TrafficDef:
    if reader is None:
        return TrafficDef()
    default = TrafficDef()
    commit_interval = reader.duration("commit_interval", default.commit_interval, minimum=1.0)
    max_in_flight = int(reader.number("max_in_flight", default.max_in_flight, minimum=1, maximum=50) or 1)
    warm_up = reader.duration("warm_up", default.warm_up)
    authors = tuple(reader.strings("authors")) or default.authors
    messages = tuple(reader.strings("messages")) or default.messages
    runs = []
    for run in reader.readers("runs"):
        machine = run.req_string("state_machine")
        if machine not in sm_names:
            raise run.error("state_machine", f"state machine '{machine}' is not defined in state_machines")
        interval = run.duration("interval", 300.0, minimum=1.0) or 300.0
        raw_input = run.raw("input")
        text = (
            "{}" if raw_input is None else (raw_input if isinstance(raw_input, str) else json.dumps(_plain(raw_input)))
        )
        try:
            json.loads(text)
        except ValueError as exc:
            raise run.error("input", f"not valid JSON: {exc}") from None
        run.done()
        runs.append(ScheduledRun(machine, interval, text))
    reader.done()
    return TrafficDef(
        commit_interval=commit_interval or default.commit_interval,
        max_in_flight=max_in_flight,
        warm_up=default.warm_up if warm_up is None else warm_up,
        authors=authors,
        messages=messages,
        runs=tuple(runs),
    )
