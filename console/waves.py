"""The wave model: which wave a stage or state machine belongs to, and how risky that wave is.

Waves come from `definitions/waves.yaml` (order, environment, risk tier, name patterns). A stage gets its
wave from an explicit mapping when the definitions give one, otherwise from the first wave whose pattern
matches the stage's name, so that a real account with no configuration still shows waves.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from console.model import Risk, Wave


@dataclass(frozen=True, slots=True)
class WaveRule:
    wave: Wave
    patterns: tuple[str, ...]

    def matches(self, name: str) -> bool:
        lowered = name.lower()
        return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in self.patterns)


@dataclass(frozen=True)
class WaveModel:
    """Waves in promotion order plus the rules that place stages and state machines in them."""

    rules: tuple[WaveRule, ...]
    # (pipeline name, stage name) -> wave name, from the definitions; "*" as pipeline means any.
    stage_waves: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # state machine name -> wave name
    state_machine_waves: Mapping[str, str] = field(default_factory=dict)

    @property
    def waves(self) -> tuple[Wave, ...]:
        return tuple(rule.wave for rule in self.rules)

    def wave(self, name: str | None) -> Wave | None:
        if name is None:
            return None
        return next((w for w in self.waves if w.name == name), None)

    def for_stage(self, pipeline: str, stage: str) -> Wave | None:
        explicit = self.stage_waves.get((pipeline, stage)) or self.stage_waves.get(("*", stage))
        if explicit is not None:
            return self.wave(explicit)
        return self._match(stage)

    def for_state_machine(self, name: str) -> Wave | None:
        explicit = self.state_machine_waves.get(name)
        if explicit is not None:
            return self.wave(explicit)
        return self._match(name)

    def _match(self, name: str) -> Wave | None:
        # Most specific first: production waves' patterns ("*canary*", "*az1*") before "*prod*"-like ones,
        # which is simply the reverse of promotion order for overlapping names such as "Prod-Gamma-Canary".
        for rule in reversed(self.rules):
            if rule.matches(name):
                return rule.wave
        return None

    def with_mappings(
        self, stage_waves: Mapping[tuple[str, str], str], state_machine_waves: Mapping[str, str]
    ) -> WaveModel:
        return WaveModel(
            self.rules,
            {**self.stage_waves, **stage_waves},
            {**self.state_machine_waves, **state_machine_waves},
        )


def _wave(name: str, order: int, environment: str, risk: Risk, description: str) -> Wave:
    return Wave(name=name, order=order, environment=environment, risk=risk, description=description)


def default_wave_model(extra: Iterable[WaveRule] = ()) -> WaveModel:
    """The model used when no waves.yaml is available: the Builders' Library convention."""
    rules = [
        WaveRule(_wave("alpha", 1, "alpha", Risk.LOW, "tests of this change"), ("*alpha*", "*dev*")),
        WaveRule(_wave("beta", 2, "beta", Risk.MEDIUM, "full stack, integration"), ("*beta*", "*test*", "*qa*")),
        WaveRule(
            _wave("gamma", 3, "gamma", Risk.HIGH, "production-like"),
            ("*gamma*", "*staging*", "*preprod*", "*pre-prod*"),
        ),
        WaveRule(
            _wave("prod-canary", 4, "production", Risk.PRODUCTION, "one-box canary"),
            ("*canary*", "*onebox*", "*one-box*"),
        ),
        WaveRule(_wave("prod-az1", 5, "production", Risk.PRODUCTION, "first availability zone"), ("*az1*", "*wave1*")),
        WaveRule(_wave("prod-az2", 6, "production", Risk.PRODUCTION, "second availability zone"), ("*az2*", "*wave2*")),
    ]
    return WaveModel(tuple(rules) + tuple(extra))
