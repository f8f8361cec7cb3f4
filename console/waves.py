"""The wave model: which wave a stage or state machine belongs to, how risky it is, and why.

There is one model: `definitions/waves.yaml` (bundled), or the file the config's `waves.file` names. The code
holds no second copy. A stage is placed, in this order, by:

1. the config (`waves.pipelines: {GLOB: {STAGE: WAVE}}`), why `config`;
2. with `--sandbox`, the sandbox fleet's own `wave:` of the stage, why `fleet` (the entry point passes the
   fleet's mappings in: the core never reads the sandbox's fleet file);
3. its name: the most specific matching pattern (`*preprod*` before `*prod*`), why `pattern *prod*`;
   a production-risk pattern wins over a build pattern, so `BuildAndDeployProd` is production;
4. its position: a stage after a production-risk stage of the same pipeline is production (the wave of that
   stage), why `after Prod-Canary`, whatever lower-risk pattern it matches; one that names an availability
   zone and that no later production wave's pattern matches is the next zone: the production wave after that
   stage's, why `zone after Prod-us-east-1a-OneBox` (or that stage's own wave when both name the same zone
   past the first production wave, why `zone of Prod_us-east-1a`);
5. a build pattern (`source`, `build`): no wave, nothing is deployed there, why `pattern build`;
6. nothing: the `unknown` wave, risk `unknown`, why `no match`. Such a stage is shown, never hidden, and an
   action on it is confirmed like production, by typing the stage's name, until the config maps it.

A state machine is placed by its entry in `WaveMappings` (the config's `waves.state_machines`, and with
`--sandbox` the fleet's), else by its name's pattern; the same entry names the waves of its states and the
state machine that rolls its wave back.

Failing safe is the point: when the console cannot tell, it treats a stage as dangerous.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from console.errors import InputError
from console.model import UNKNOWN_WAVE, Risk, Wave
from console.yamlfile import Reader, load_file

NO_MATCH = "no match"
CONFIG = "config"
FLEET = "fleet"
MATCHES_KEPT = 8192  # names whose wave pattern is remembered (stage and state machine names of the fleet)


# An availability zone's name (`us-east-1a`, `us-gov-west-1b`) or id (`use1-az1`, `euw2-az3`), not inside a word.
_ZONE = re.compile(r"(?<![a-z0-9])(?:[a-z]{2}(?:-gov)?-[a-z]+-\d+[a-z]|[a-z]{2,5}\d-az\d+)(?![a-z0-9])")


def zone_of(name: str) -> str | None:
    """The availability zone a stage's name names (`Prod_us-east-1a`: `us-east-1a`; `Deploy-use1-az2`:
    `use1-az2`), or None."""
    found = _ZONE.search(name.lower())
    return found.group() if found else None


def _specificity(pattern: str) -> int:
    """How much of a name a pattern pins down: its characters other than wildcards."""
    return len(pattern.replace("*", "").replace("?", ""))


def _literal(pattern: str) -> str:
    return pattern.lower().replace("*", "").replace("?", "")


def _fits(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


@dataclass(frozen=True, slots=True)
class WaveRule:
    wave: Wave
    patterns: tuple[str, ...]

    def matches(self, name: str) -> bool:
        return self.best(name) is not None

    def best(self, name: str) -> str | None:
        """The most specific of this wave's patterns that fits `name`."""
        fitting = [p for p in self.patterns if _fits(name, p)]
        return max(fitting, key=_specificity) if fitting else None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one stage (or state) landed: its wave (None for a build stage), its risk word and why."""

    name: str
    wave: Wave | None
    why: str

    @property
    def risk(self) -> str:
        return self.wave.risk.label if self.wave is not None else Risk.LOW.label

    @property
    def matched(self) -> bool:
        return self.why != NO_MATCH


@dataclass(frozen=True)
class MachineWaves:
    """What is said of one state machine by name: its wave, the waves of its states (an approval in a state
    asks for that state's wave), the state machine that rolls its wave back, and who said it (`config` or
    `fleet`, the `why` that `wavedeck waves` prints)."""

    wave: str | None = None
    states: Mapping[str, str] = field(default_factory=dict)
    rollback: str | None = None
    source: str = CONFIG


@dataclass(frozen=True)
class WaveMappings:
    """Placements by exact name beyond the wave model's patterns, and the rollback of each state machine's wave.

    On a real account they come from the config (`waves.state_machines`); with `--sandbox`, from the sandbox's
    fleet as well (its stages' `wave:`, its state machines' `wave:`, `state_waves:` and `rollback:`), the
    config's entry replacing the fleet's for a state machine both name.
    """

    # (pipeline name, stage name) -> wave name: the sandbox fleet's stages ("*" as pipeline: any).
    stages: Mapping[tuple[str, str], str] = field(default_factory=dict)
    state_machines: Mapping[str, MachineWaves] = field(default_factory=dict)

    def overlaid(self, other: WaveMappings) -> WaveMappings:
        """These mappings with `other`'s on top (the config's over the fleet's): a stage or state machine
        `other` names takes `other`'s entry whole."""
        return WaveMappings({**self.stages, **other.stages}, {**self.state_machines, **other.state_machines})

    @property
    def rollback_machines(self) -> dict[str, str]:
        """State machine -> the state machine that rolls its wave back (for the action gate)."""
        return {name: m.rollback for name, m in self.state_machines.items() if m.rollback}

    @property
    def state_waves(self) -> dict[str, dict[str, str]]:
        """State machine -> {state: wave}, for the machines whose states are placed by name."""
        return {name: dict(m.states) for name, m in self.state_machines.items() if m.states}


@dataclass(frozen=True)
class WaveModel:
    """Waves in promotion order plus the rules that place stages and state machines in them."""

    rules: tuple[WaveRule, ...]
    # Stages that build and deploy nothing (Source, Build): no wave, low risk.
    builds: tuple[str, ...] = ()
    # (pipeline name, stage name) -> wave name, from the sandbox fleet; "*" as pipeline means any.
    stage_waves: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # state machine name -> what the config (or the sandbox fleet) says of it (see WaveMappings)
    state_machines: Mapping[str, MachineWaves] = field(default_factory=dict)
    # (pipeline glob, stage glob, wave name) from the config's `waves.pipelines`, in file order.
    config_stages: tuple[tuple[str, str, str], ...] = ()
    source: str = "definitions/waves.yaml"
    # What `_match` found for each name (the watcher places every stage on every read of a pipeline: fnmatch over
    # every pattern was most of `place`'s 100 µs). A new model (`replace`) starts with none; bounded.
    _matched: dict[str, tuple[Wave, str] | None] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def waves(self) -> tuple[Wave, ...]:
        return tuple(rule.wave for rule in self.rules)

    def wave(self, name: str | None) -> Wave | None:
        if name is None:
            return None
        return next((w for w in self.waves if w.name == name), None)

    def place(self, pipeline: str, stages: Sequence[str]) -> tuple[Placement, ...]:
        """Every stage of a pipeline, in order, with its wave and why (see the module docstring)."""
        placed: list[Placement] = []
        after: Placement | None = None  # the last production-risk stage so far
        for stage in stages:
            placement = self._place(pipeline, stage, after)
            placed.append(placement)
            if placement.wave is not None and placement.wave.risk is Risk.PRODUCTION:
                after = placement
        return tuple(placed)

    def _place(self, pipeline: str, stage: str, after: Placement | None) -> Placement:
        for glob, stage_glob, wave_name in self.config_stages:
            if _fits(pipeline, glob) and _fits(stage, stage_glob):
                return Placement(stage, self.wave(wave_name), CONFIG)
        explicit = self.stage_waves.get((pipeline, stage)) or self.stage_waves.get(("*", stage))
        if explicit is not None and self.wave(explicit) is not None:
            return Placement(stage, self.wave(explicit), FLEET)
        by_name = self._match(stage)
        if by_name is not None and by_name[0].risk is Risk.PRODUCTION:
            return self._next_zone(stage, by_name[0], after) or Placement(stage, by_name[0], f"pattern {by_name[1]}")
        if after is not None:
            return self._next_zone(stage, None, after) or Placement(stage, after.wave, f"after {after.name}")
        if by_name is not None:
            return Placement(stage, by_name[0], f"pattern {by_name[1]}")
        build = next((p for p in self.builds if _fits(stage, p)), None)
        if build is not None:
            return Placement(stage, None, f"pattern {build}")
        return Placement(stage, UNKNOWN_WAVE, NO_MATCH)

    def _next_zone(self, stage: str, wave: Wave | None, after: Placement | None) -> Placement | None:
        """A stage that names an availability zone (`Prod_us-east-1b`, `Deploy-use1-az2`), after a production
        stage of the same pipeline, when its name puts it in no later wave than the first production one
        (`*prod*`, or no pattern): the production wave after that stage's (the last when there is none after),
        or that stage's own when both name one zone past the first wave (`Prod_us-east-1a`, then
        `Prod_us-east-1a-Bake`). A pipeline deploys zone by zone, and `*prod*` alone cannot tell a zone's wave
        from the canary's."""
        zone = None if after is None else zone_of(stage)
        if after is None or zone is None:
            return None
        production = [w for w in self.waves if w.risk is Risk.PRODUCTION]
        if after.wave not in production or wave not in (None, production[0]):
            return None
        here = production.index(after.wave)
        if here > 0 and zone_of(after.name) == zone:
            return Placement(stage, after.wave, f"zone of {after.name}")
        return Placement(stage, production[min(here + 1, len(production) - 1)], f"zone after {after.name}")

    def for_stage(self, pipeline: str, stage: str, stages: Sequence[str] = ()) -> Wave | None:
        """The wave of `stage`; give the pipeline's `stages` in order so that position counts."""
        order = list(stages) if stage in stages else [stage]
        return self.place(pipeline, order)[order.index(stage)].wave

    def for_state_machine(self, name: str) -> Wave | None:
        explicit = self._named_wave(name)
        if explicit is not None:
            return explicit
        found = self._match(name)
        return found[0] if found else None

    def for_state(self, machine: str, states: Sequence[str | None]) -> Wave | None:
        """The wave of a state of `machine`: the first of `states` (the state, then the Parallel or Map around
        it, outermost last) that the mappings place, else the state machine's own wave."""
        entry = self.state_machines.get(machine)
        placed = entry.states if entry is not None else {}
        for state in states:
            wave = self.wave(placed.get(state)) if state else None
            if wave is not None:
                return wave
        return self.for_state_machine(machine)

    def why_state_machine(self, name: str) -> str:
        if self._named_wave(name) is not None:
            return self.state_machines[name].source
        found = self._match(name)
        return f"pattern {found[1]}" if found else NO_MATCH

    def _named_wave(self, name: str) -> Wave | None:
        """The wave the mappings give the state machine `name`, if they give one the model defines."""
        entry = self.state_machines.get(name)
        return self.wave(entry.wave) if entry is not None and entry.wave is not None else None

    def _match(self, name: str) -> tuple[Wave, str] | None:
        """The wave whose pattern fits `name`. A match explained by a longer one is dropped (`PreProd` fits
        `*prod*`, but `*preprod*` says more); of the rest the riskiest wave wins, then the later one
        (`Prod-AZ1` is prod-az1, not the canary that `*prod*` names; `Prod-Gamma-Canary` is the canary)."""
        matched = self._matched  # read by the UI's thread and the watcher's: one lookup, no test-then-get
        try:
            return matched[name]
        except KeyError:
            pass
        if len(matched) >= MATCHES_KEPT:
            matched.clear()  # names come from the fleet: thousands at most, so this is rare
        found = matched[name] = self._match_anew(name)
        return found

    def _match_anew(self, name: str) -> tuple[Wave, str] | None:
        found = [(rule.wave, p) for rule in self.rules for p in rule.patterns if _fits(name, p)]
        literals = [_literal(p) for _, p in found]
        kept = [
            (wave, pattern)
            for (wave, pattern), mine in zip(found, literals, strict=True)
            if not any(mine != other and mine in other for other in literals)
        ]
        if not kept:
            return None
        return max(kept, key=lambda m: (int(m[0].risk), m[0].order, _specificity(m[1])))

    def with_mappings(self, mappings: WaveMappings) -> WaveModel:
        """This model with `mappings` on top of the ones it has (see WaveMappings.overlaid)."""
        return WaveModel(
            self.rules,
            self.builds,
            {**self.stage_waves, **mappings.stages},
            {**self.state_machines, **mappings.state_machines},
            self.config_stages,
            self.source,
        )

    def with_config(self, config_stages: Sequence[tuple[str, str, str]]) -> WaveModel:
        return WaveModel(
            self.rules,
            self.builds,
            self.stage_waves,
            self.state_machines,
            tuple(config_stages),
            self.source,
        )


def bundled_waves_path() -> Path:
    """`definitions/waves.yaml` beside the packages in a checkout, or the copy bundled into a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "definitions", here / "bundled_definitions"):
        if (candidate / "waves.yaml").is_file():
            return candidate / "waves.yaml"
    return here.parent / "definitions" / "waves.yaml"


@lru_cache(maxsize=1)
def default_wave_model() -> WaveModel:
    """The bundled `definitions/waves.yaml`: the one wave model when the config names no other."""
    return load_wave_model(bundled_waves_path())


def display_name(path: Path) -> str:
    """Name a definitions file the way the operator knows it: `definitions/waves.yaml`."""
    parts = path.parts
    if "definitions" in parts:
        return "/".join(parts[len(parts) - 1 - parts[::-1].index("definitions") :])
    return str(path)


def load_wave_model(path: Path) -> WaveModel:
    """Read a waves file; every problem is an InputError naming the file, the line and the key."""
    name = display_name(path)
    data = load_file(path, name)
    if data is None:
        raise InputError(name, None, None, "the file is empty: it needs a list under 'waves'")
    top = Reader(name, data)
    for key in ("waves", "builds"):
        top.raw(key)
    top.done()
    rules: list[WaveRule] = []
    names: set[str] = set()
    for order, wave in enumerate(top.readers("waves", required=True), start=1):
        for key in ("name", "environment", "risk", "description", "match"):
            wave.raw(key)
        wave.done()
        wave_name = wave.req_string("name")
        if wave_name in names:
            raise wave.error("name", f"wave '{wave_name}' is defined twice")
        if wave_name == UNKNOWN_WAVE.name:
            raise wave.error("name", f"'{wave_name}' is the wave of stages that match none: choose another name")
        names.add(wave_name)
        risks = tuple(r.label for r in Risk if r is not Risk.UNKNOWN)
        risk_name = wave.choice("risk", risks, "low")
        environment = wave.string("environment", wave_name) or wave_name
        description = wave.string("description", "") or ""
        patterns = tuple(wave.strings("match"))
        wave.done()
        risk = Risk[str(risk_name).upper()]
        rules.append(WaveRule(Wave(wave_name, order, environment, risk, description), patterns))
    builds = tuple(top.strings("builds"))
    top.done()
    if not rules:
        raise top.error("waves", "at least one wave is needed")
    return WaveModel(tuple(rules), builds, source=name)
