"""The operator's config file: targets, poll intervals, read-only, keymap, theme, audit log.

YAML at `$XDG_CONFIG_HOME/wavedeck/config.yaml` (default `~/.config/wavedeck/config.yaml`), or `--config PATH`.
A missing default file means defaults; a missing `--config` file is an error. An unknown key or a bad value is an
InputError naming the file, the line and the key. Example (README "Configuration" lists every key):

    read_only: false
    targets:
      - name: prod-east
        profile: prod
        regions: [us-east-1, us-west-2]
        role_arn: arn:aws:iam::111122223333:role/deploy-operator
        production: true
        read_only: true
        events_queue: https://sqs.us-east-1.amazonaws.com/111122223333/wavedeck-events
        # or, for a team: events_topic: arn:aws:sns:us-east-1:111122223333:wavedeck-events
    intervals: {focused: 2s, background: 15s, lists: 60s, push_safety_net: 60s}
    keymap: {approve: ctrl+a}
    theme: textual-dark
    audit_log: ~/wavedeck-audit.jsonl
    waves:
      file: ~/my-waves.yaml            # instead of the bundled definitions/waves.yaml
      pipelines:                       # GLOB: {STAGE: WAVE}, first match wins
        "checkout-*": {Deploy: prod-az1, TestStage: beta}
      state_machines:                  # NAME: its wave, its states' waves, what rolls its wave back
        wave-deployment:
          wave: prod-canary
          states: {DeployAZ1: prod-az1, BakeAZ1: prod-az1}
          rollback: wave-rollback
    approvals:
      - state_machine: "human-in-the-loop*"
        state: "*Approver*"
        approve: {approvalStatus: {result: Approved, reason: "{reason}"}}
        reject: {error: Rejected, cause: "{reason}"}
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from console.errors import InputError, UsageError
from console.model import Target
from console.sandbox_process import SANDBOX_ACCOUNT_ID, SANDBOX_EVENTS_QUEUE
from console.stepfunctions.answers import AnswerBook, AnswerRule, path_text, problem_at, reject_problem
from console.waves import CONFIG, MachineWaves, WaveMappings, WaveModel, default_wave_model, load_wave_model
from console.yamlfile import Reader, load_file, quoted

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_KEY_NAME = re.compile(r"^[A-Za-z0-9_+,\-]+$")
_STATE_MACHINE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_MACHINE_KEYS = ("wave", "states", "rollback")


def endpoint_url_problem(url: str) -> str | None:
    """What is wrong with an endpoint URL, or None: the one check of the config's `endpoint_url` and the
    command line's `--endpoint-url` (an AWS endpoint is http(s) with a host; `file:`, `unix:`, `host:port` are not)."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not url.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    try:
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "has a port that is not a number"
    if not parsed.hostname:
        return "names no host"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "must not contain spaces or control characters"
    return None


def config_home() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME")
    return Path(base) if base else Path.home() / ".config"


def state_home() -> Path:
    base = os.environ.get("XDG_STATE_HOME")
    return Path(base) if base else Path.home() / ".local" / "state"


def default_config_path() -> Path:
    return config_home() / "wavedeck" / "config.yaml"


def default_audit_path() -> Path:
    return state_home() / "wavedeck" / "audit.jsonl"


@dataclass(frozen=True)
class Intervals:
    """Seconds between reads. `focused`: what is on screen; `background`: the rest; `lists`: discovery
    (ListPipelines, ListStateMachines); `push_safety_net`: polling while the push queue delivers."""

    focused: float = 2.0
    background: float = 15.0
    lists: float = 60.0
    push_safety_net: float = 60.0


@dataclass(frozen=True)
class Config:
    targets: tuple[Target, ...] = ()
    read_only: bool = False
    intervals: Intervals = field(default_factory=Intervals)
    keymap: Mapping[str, str] = field(default_factory=dict)
    theme: str | None = None
    audit_log: Path = field(default_factory=default_audit_path)
    waves_file: Path | None = None
    # (pipeline glob, stage glob, wave name) from `waves.pipelines`, in file order, checked against the model.
    wave_stages: tuple[tuple[str, str, str], ...] = ()
    # `waves.state_machines`: each state machine's wave, its states' waves and its rollback, by exact name.
    wave_mappings: WaveMappings = field(default_factory=WaveMappings)
    source: Path | None = None
    approvals: AnswerBook = field(default_factory=AnswerBook)

    def wave_model(self) -> WaveModel:
        """The one wave model of this run: the config's file or the bundled one, with the config's mappings."""
        model = load_wave_model(self.waves_file) if self.waves_file is not None else default_wave_model()
        return model.with_config(self.wave_stages).with_mappings(self.wave_mappings)


def load_config(path: Path | None = None) -> Config:
    """Read the config file; `path` given explicitly must exist, the default one may be absent."""
    explicit = path is not None
    path = path or default_config_path()
    if not path.exists():
        if explicit:
            raise InputError(str(path), None, None, "no such config file")
        return Config()
    data = load_file(path)
    if data is None:
        return Config(source=path)
    top = Reader(str(path), data)
    read_only = top.boolean("read_only")
    targets = _targets(top)
    intervals = _intervals(top.mapping("intervals"))
    keymap = top.string_map("keymap")
    keys_reader = top.mapping("keymap")
    # Here, not at the top: the keys table gathers each source's section key from the registry of services, whose
    # watcher parts import this module.
    from console.keys import KEY_IDS, keymap_conflicts

    for binding_id, keys in keymap.items():
        assert keys_reader is not None
        if binding_id not in KEY_IDS:
            raise keys_reader.error(binding_id, f"no key binding with this id (ids: {', '.join(sorted(KEY_IDS))})")
        if not _KEY_NAME.match(keys):
            raise keys_reader.error(binding_id, f"not a key name: {quoted(keys)} (e.g. a, ctrl+a, f5, or a,ctrl+a)")
    for key, first, second in keymap_conflicts(keymap):
        assert keys_reader is not None
        remapped = second if second in keymap else first
        raise keys_reader.error(
            remapped, f"key {quoted(key)} would be bound to both {first} and {second}; give one of them another key"
        )
    theme = top.string("theme")
    audit = top.string("audit_log")
    waves_file, wave_stages, wave_mappings = _waves(top.mapping("waves"), path)
    approvals = _approvals(top, path)
    top.done()
    return Config(
        targets=targets,
        read_only=read_only,
        intervals=intervals,
        keymap=keymap,
        theme=theme,
        audit_log=_path(audit, path) if audit else default_audit_path(),
        waves_file=waves_file,
        wave_stages=wave_stages,
        wave_mappings=wave_mappings,
        source=path,
        approvals=approvals,
    )


def _waves(reader: Reader | None, config: Path) -> tuple[Path | None, tuple[tuple[str, str, str], ...], WaveMappings]:
    """`waves: {file: PATH, pipelines: {GLOB: {STAGE: WAVE}}, state_machines: {NAME: {wave, states, rollback}}}`:
    every wave named must exist in the model."""
    if reader is None:
        return None, (), WaveMappings()
    file = reader.string("file")
    waves_file = _path(file, config) if file else None
    if waves_file is not None and not waves_file.is_file():
        raise reader.error("file", f"no such waves file: {waves_file}")
    model = load_wave_model(waves_file) if waves_file is not None else default_wave_model()
    known = {w.name for w in model.waves}
    stages: list[tuple[str, str, str]] = []
    pipelines = reader.mapping("pipelines")
    if pipelines is not None:
        for glob in pipelines.keys():
            mapping = pipelines.mapping(glob, required=True)
            assert mapping is not None
            for stage in mapping.keys():
                wave = mapping.string(stage, required=True)
                if wave not in known:
                    raise mapping.error(stage, f"no wave named {quoted(wave)} (waves: {', '.join(sorted(known))})")
                stages.append((glob, stage, str(wave)))
            mapping.done()
        pipelines.done()
    machines = _state_machines(reader.mapping("state_machines"), known)
    reader.done()
    return waves_file, tuple(stages), WaveMappings(state_machines=machines)


def _state_machines(reader: Reader | None, known: set[str]) -> dict[str, MachineWaves]:
    """`waves.state_machines: {NAME: {wave: WAVE, states: {STATE: WAVE}, rollback: NAME}}`, by exact name: what a
    real account cannot say for itself (the sandbox's fleet says it with `--sandbox`)."""
    if reader is None:
        return {}
    waves = ", ".join(sorted(known))
    machines: dict[str, MachineWaves] = {}
    for name in reader.keys():
        if not _STATE_MACHINE_NAME.match(name):
            raise reader.error(name, "not a state machine's name (1-80 of A-Z a-z 0-9 - _; names here are exact)")
        entry = reader.mapping(name, required=True)
        assert entry is not None
        wave = entry.string("wave")
        if wave is not None and wave not in known:
            raise entry.error("wave", f"no wave named {quoted(wave)} (waves: {waves})")
        states = entry.string_map("states")
        section = entry.mapping("states")
        for state, state_wave in states.items():
            assert section is not None
            if not 0 < len(state) <= 80:
                raise section.error(state, "a state's name is 1-80 characters")
            if state_wave not in known:
                raise section.error(state, f"no wave named {quoted(state_wave)} (waves: {waves})")
        rollback = entry.string("rollback")
        if rollback is not None and not _STATE_MACHINE_NAME.match(rollback):
            raise entry.error("rollback", f"not a state machine's name: {quoted(rollback)}")
        if rollback == name:
            raise entry.error("rollback", "a state machine cannot roll its own wave back: name the rollback's")
        entry.done()
        if wave is None and not states and rollback is None:
            raise entry.error(None, f"give at least one of {', '.join(_MACHINE_KEYS)}")
        machines[name] = MachineWaves(wave, states, rollback, CONFIG)
    reader.done()
    return machines


def _path(text: str, relative_to: Path) -> Path:
    candidate = Path(text).expanduser()
    return candidate if candidate.is_absolute() else relative_to.parent / candidate


def _approvals(top: Reader, path: Path) -> AnswerBook:
    """`approvals:` — per state machine and state (globs), the body approve and reject send (see
    console/stepfunctions/answers.py); every template checked now, not when an operator presses a key."""
    rules: list[AnswerRule] = []
    for item in top.readers("approvals"):
        machine = item.req_string("state_machine")
        state = item.string("state", "*") or "*"
        approve = item.raw("approve")
        reject = item.raw("reject")
        item.done()
        if approve is None and reject is None:
            raise item.error(
                None, "give 'approve' (the output SendTaskSuccess sends), 'reject' (error and cause), or both"
            )
        if approve is not None:
            found = problem_at(approve)
            if found:
                raise _template_error(item, "approve", approve, *found)
        if reject is not None:
            problem = reject_problem(reject)
            if problem:
                where = problem_at(reject)
                if where:
                    raise _template_error(item, "reject", reject, *where)
                raise item.error("reject", problem)
        rules.append(AnswerRule(machine, state, approve, reject, item.line or 0))
    return AnswerBook(tuple(rules), str(path))


def _template_error(item: Reader, key: str, template: object, where: tuple[str | int, ...], problem: str) -> InputError:
    """The error at the template's own line and key path: `approvals[0].approve.approvalStatus.reason`."""
    line = item.line_of(key)
    value = template
    for part in where:
        lines = getattr(value, "lines", None)
        if isinstance(lines, dict) and part in lines:
            line = lines[part]
        elif isinstance(lines, list) and isinstance(part, int) and part < len(lines):
            line = lines[part]
        value = value[part] if isinstance(value, dict | list) else None  # type: ignore[index]
    return InputError(
        item.file,
        line,
        item.key_path(key) + ("." if where and isinstance(where[0], str) else "") + path_text(where),
        problem,
    )


def _intervals(reader: Reader | None) -> Intervals:
    if reader is None:
        return Intervals()
    default = Intervals()
    result = Intervals(
        focused=reader.duration("focused", default.focused, minimum=0.5) or default.focused,
        background=reader.duration("background", default.background, minimum=1.0) or default.background,
        lists=reader.duration("lists", default.lists, minimum=5.0) or default.lists,
        push_safety_net=reader.duration("push_safety_net", default.push_safety_net, minimum=5.0)
        or default.push_safety_net,
    )
    reader.done()
    if result.background < result.focused:
        raise reader.error("background", "must not be shorter than focused")
    return result


def _targets(top: Reader) -> tuple[Target, ...]:
    targets: list[Target] = []
    for item in top.readers("targets"):
        profile = item.string("profile")
        regions = item.strings("regions")
        region = item.string("region")
        if region and regions:
            raise item.error("region", "give either region or regions, not both")
        regions = regions or ([region] if region else [])
        if not regions:
            raise item.error(None, "missing required key 'region' (or 'regions')")
        for r in regions:
            if not _REGION.match(r):
                raise item.error("regions" if item.has("regions") else "region", f"not an AWS region: {quoted(r)}")
        role_arn = item.string("role_arn")
        if role_arn and not _ROLE_ARN.match(role_arn):
            raise item.error("role_arn", f"not an IAM role ARN: {quoted(role_arn)}")
        endpoint_url = item.string("endpoint_url")
        endpoint_problem = endpoint_url_problem(endpoint_url) if endpoint_url else None
        if endpoint_problem:
            raise item.error("endpoint_url", endpoint_problem)
        events_queue = item.string("events_queue")
        if events_queue and not events_queue.startswith(("http://", "https://")):
            raise item.error("events_queue", "must be an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)")
        events_topic = item.string("events_topic")
        if events_topic and not _TOPIC_ARN.match(events_topic):
            raise item.error("events_topic", "must be an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        if events_topic and events_queue:
            raise item.error(
                "events_topic", "give either events_queue (one console) or events_topic (a team), not both"
            )
        read_only = item.boolean("read_only")
        production = item.boolean("production")
        name = item.string("name")
        item.done()
        for r in regions:
            base = name or (profile or "default")
            target_name = f"{base}/{r}" if len(regions) > 1 or not name else base
            if any(t.name == target_name for t in targets):
                raise item.error("name", f"target '{target_name}' is defined twice")
            targets.append(
                Target(
                    name=target_name,
                    region=r,
                    profile=profile,
                    role_arn=role_arn,
                    endpoint_url=endpoint_url,
                    read_only=read_only,
                    production=production,
                    events_queue=events_queue,
                    events_topic=events_topic,
                )
            )
    return tuple(targets)


def with_push(targets: tuple[Target, ...], events_queue: str | None, events_topic: str | None) -> tuple[Target, ...]:
    """The targets with the command line's push source (`--events-queue` or `--events-topic`), which replaces
    the config's: one console reads a queue, a team's consoles each subscribe a queue of their own to a topic."""
    if events_queue and events_topic:
        raise UsageError("give either --events-queue (one console) or --events-topic (a team), not both")
    if events_topic and not _TOPIC_ARN.match(events_topic):
        raise UsageError(f"--events-topic: not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME): {events_topic!r}")
    if events_queue:
        return tuple(replace(t, events_queue=events_queue, events_topic=None) for t in targets)
    if events_topic:
        return tuple(replace(t, events_queue=None, events_topic=events_topic) for t in targets)
    return targets


def resolve_targets(
    config: Config,
    *,
    profile: str | None = None,
    regions: tuple[str, ...] = (),
    endpoint_url: str | None = None,
    read_only: bool = False,
    events_queue: str | None = None,
    region_of_profile: Callable[[str | None], str | None] | None = None,
    endpoint_of_profile: Callable[[str | None], str | None] | None = None,
) -> tuple[Target, ...]:
    """The targets of this run: the command line's `--profile/--region/--endpoint-url` when given, else the
    config's targets, else the default profile. Without `--region`, the region is the environment's
    (`AWS_REGION`), else what `region_of_profile` finds in the AWS config for the profile.

    A flag never relaxes safety: a target made from flags keeps the `read_only` and `production` of every
    config target it may be (see `_configured_marks`), and the config's top-level `read_only` always holds.
    `endpoint_of_profile` says where requests go when no endpoint is given (`AWS_ENDPOINT_URL`, the profile's
    `endpoint_url`), so the header can name it.
    """
    for r in regions:
        if not _REGION.match(r):
            raise UsageError(f"--region: not an AWS region: {quoted(r)}")
    if endpoint_url is not None:
        problem = endpoint_url_problem(endpoint_url)
        if problem:
            raise UsageError(f"--endpoint-url {quoted(endpoint_url[:80])} {problem}")
    if profile or regions or endpoint_url:
        chosen_regions = regions or (_default_region(profile, region_of_profile),)
        made: list[Target] = []
        for r in chosen_regions:
            target = Target(
                name=f"{profile or 'default'}/{r}",
                region=r,
                profile=profile,
                endpoint_url=endpoint_url,
                events_queue=events_queue,
            )
            marked_read_only, marked_production = _configured_marks(target, config.targets)
            made.append(replace(target, read_only=marked_read_only, production=marked_production))
        targets = tuple(made)
    elif config.targets:
        targets = config.targets
        if events_queue:
            targets = tuple(replace(t, events_queue=events_queue) for t in targets)
    else:
        r = _default_region(None, region_of_profile)
        targets = (Target(name=f"default/{r}", region=r, events_queue=events_queue),)
    if read_only or config.read_only:
        targets = tuple(replace(t, read_only=True) for t in targets)
    return tuple(
        replace(t, shown_endpoint=t.endpoint_url or (endpoint_of_profile(t.profile) if endpoint_of_profile else None))
        for t in targets
    )


def _configured_marks(target: Target, configured: tuple[Target, ...]) -> tuple[bool, bool]:
    """(read_only, production) a target made from flags inherits from the config targets it may be.

    A config target may be the flags' target when it is in the same region and agrees with every flag given:
    the same profile, and the same endpoint unless the config target names none (an endpoint in front of AWS,
    a proxy, still reaches that account). What the flags leave open could be any of them: the strictest wins.
    """
    read_only = production = False
    for candidate in configured:
        if candidate.region != target.region:
            continue
        if target.profile is not None and candidate.profile != target.profile:
            continue
        if target.endpoint_url and candidate.endpoint_url and candidate.endpoint_url != target.endpoint_url:
            continue
        read_only = read_only or candidate.read_only
        production = production or candidate.production
    return read_only, production


def sandbox_targets(url: str, regions: tuple[str, ...], read_only: bool = False) -> tuple[Target, ...]:
    """Targets for the embedded sandbox at `url`, one per region of its fleet, pushed to through the region's
    events queue (the console started the sandbox: it is the queue's only reader)."""
    return tuple(
        Target(
            name=f"sandbox/{r}",
            region=r,
            endpoint_url=url,
            sandbox=True,
            read_only=read_only,
            events_queue=f"{url}/{SANDBOX_ACCOUNT_ID}/{SANDBOX_EVENTS_QUEUE}",
        )
        for r in regions
    )


def _default_region(profile: str | None, region_of_profile: Callable[[str | None], str | None] | None) -> str:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region and region_of_profile is not None:
        region = region_of_profile(profile)
    if not region:
        where = f"the profile '{profile}'" if profile else "the default profile"
        raise UsageError(
            f"no AWS region: pass --region, set AWS_REGION, give {where} a region in the AWS config, "
            "or list targets with regions in the config file"
        )
    return region
