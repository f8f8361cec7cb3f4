"""The wave model: one source (the bundled waves.yaml), production by name and by position, unknown never hidden
and confirmed like production, the config's per-pipeline mapping and its state machines' waves and rollbacks
checked at load."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from console.actions.plan import ActionKind, Facts, plan_from
from console.config import load_config
from console.errors import InputError
from console.model import UNKNOWN_WAVE, Receipt, Risk, Target
from console.waves import (
    FLEET,
    MachineWaves,
    WaveMappings,
    WaveModel,
    bundled_waves_path,
    default_wave_model,
    load_wave_model,
    zone_of,
)
from tests.selections import sel

WAVES = default_wave_model()
TEAM_STAGES = ("Source", "Build", "Staging", "PreProd", "Production-us-east-1", "Deploy", "TestStage")


def placed(
    stages: tuple[str, ...], model: WaveModel = WAVES, pipeline: str = "orders-api"
) -> dict[str, tuple[str | None, str, str]]:
    return {p.name: (p.wave.name if p.wave else None, p.risk, p.why) for p in model.place(pipeline, stages)}


def test_the_bundled_file_is_the_one_model() -> None:
    assert WAVES == load_wave_model(bundled_waves_path())
    assert [w.name for w in WAVES.waves] == ["alpha", "beta", "gamma", "prod-canary", "prod-az1", "prod-az2"]
    # No second model in the code: no wave is named there.
    source = (Path(__file__).resolve().parents[2] / "console" / "waves.py").read_text()
    assert '"prod-az1"' not in source
    assert '"*test*"' not in source


def test_names_as_teams_write_them() -> None:
    waves = placed(TEAM_STAGES)
    assert waves["Source"] == (None, "low", "pattern source")
    assert waves["Build"] == (None, "low", "pattern build")
    assert waves["Staging"] == ("gamma", "high", "pattern *staging*")
    assert waves["PreProd"] == ("gamma", "high", "pattern *preprod*")  # `*preprod*` says more than `*prod*`
    assert waves["Production-us-east-1"] == ("prod-canary", "production", "pattern *production*")
    # Production by position: whatever follows a production stage is production.
    assert waves["Deploy"] == ("prod-canary", "production", "after Production-us-east-1")
    assert waves["TestStage"] == ("prod-canary", "production", "after Deploy")


@pytest.mark.parametrize(
    ("stage", "wave"),
    [("Prod", "prod-canary"), ("ProdStage", "prod-canary"), ("Prod-AZ1", "prod-az1"), ("prod-wave2", "prod-az2")],
)
def test_prod_names_are_production(stage: str, wave: str) -> None:
    found = WAVES.for_stage("p", stage)
    assert found is not None
    assert found.name == wave
    assert found.risk is Risk.PRODUCTION


def test_a_production_pattern_beats_a_lower_pattern_after_production() -> None:
    waves = placed(("Prod-Canary", "Prod-AZ1", "Beta-Cleanup"))
    assert waves["Prod-AZ1"] == ("prod-az1", "production", "pattern *az1*")
    assert waves["Beta-Cleanup"] == ("prod-az1", "production", "after Prod-AZ1")
    assert placed(("BuildAndDeployProd",))["BuildAndDeployProd"][1] == "production"


def test_stages_named_for_availability_zones_go_zone_by_zone_after_the_canary() -> None:
    # Stage names as teams write them for a zonal deployment (a one-box in the first zone, then each zone).
    stages = ("Source", "Staging", "Prod-us-east-1a-OneBox", "Prod_us-east-1a", "Prod-us-east-1b", "Prod-us-east-1c")
    waves = placed(stages)
    assert waves["Prod-us-east-1a-OneBox"] == ("prod-canary", "production", "pattern *onebox*")
    assert waves["Prod_us-east-1a"] == ("prod-az1", "production", "zone after Prod-us-east-1a-OneBox")
    assert waves["Prod-us-east-1b"] == ("prod-az2", "production", "zone after Prod_us-east-1a")
    # More zones than waves: the last production wave.
    assert waves["Prod-us-east-1c"] == ("prod-az2", "production", "zone after Prod-us-east-1b")
    # A zone's later stage stays in its wave; a stage that names no zone stays with the stage before it.
    baked = placed(("Prod-Canary", "Prod_us-east-1a", "Prod_us-east-1a-Bake", "Integ-Tests", "Prod_us-east-1b"))
    assert baked["Prod_us-east-1a-Bake"] == ("prod-az1", "production", "zone of Prod_us-east-1a")
    assert baked["Integ-Tests"] == ("prod-az1", "production", "after Prod_us-east-1a-Bake")
    assert baked["Prod_us-east-1b"] == ("prod-az2", "production", "zone after Integ-Tests")
    # Zone ids, and a zone after a stage a pattern placed.
    ids = placed(("Canary", "Prod-AZ1", "Deploy-euw2-az3"))
    assert ids["Deploy-euw2-az3"] == ("prod-az2", "production", "zone after Prod-AZ1")
    # The first production stage is the first production wave, zone or not; a region is no zone.
    first = placed(("Prod-us-gov-west-1a", "Prod-us-gov-west-1b", "Production-us-east-1"))
    assert first["Prod-us-gov-west-1a"] == ("prod-canary", "production", "pattern *prod*")
    assert first["Prod-us-gov-west-1b"] == ("prod-az1", "production", "zone after Prod-us-gov-west-1a")
    assert first["Production-us-east-1"] == ("prod-canary", "production", "pattern *production*")


@pytest.mark.parametrize(
    ("name", "zone"),
    [
        ("Prod_us-east-1a", "us-east-1a"),
        ("prod-ap-southeast-2c-bake", "ap-southeast-2c"),
        ("Deploy-use1-az1", "use1-az1"),
        ("Production-us-east-1", None),  # a region
        ("Bus-east-1a", None),  # inside a word
        ("Prod-AZ1", None),  # the `*az1*` pattern's, not a zone id
    ],
)
def test_what_names_a_zone(name: str, zone: str | None) -> None:
    assert zone_of(name) == zone


def test_a_stage_matching_nothing_is_unknown_not_hidden() -> None:
    waves = placed(("Source", "Deploy", "ProdStage"))
    assert waves["Deploy"] == ("unknown", "unknown", "no match")
    wave = WAVES.for_stage("p", "Deploy", ("Source", "Deploy"))
    assert wave is UNKNOWN_WAVE
    assert wave.typed_confirmation
    assert not wave.is_production


def _facts(stage: str, wave_stages: tuple[str, ...]) -> Facts:
    async def send(reason: str, identity: str) -> Receipt:  # pragma: no cover - never sent here
        raise AssertionError

    return Facts(
        selection=sel(target="t", pipeline="billing", stage=stage, action="Approve"),
        title="Approve",
        lines=(),
        wave=WAVES.for_stage("billing", stage, wave_stages),
        expect={},
        operation="PutApprovalResult",
        request={},
        send=send,
        done="Approved",
    )


def test_unknown_is_confirmed_by_typing_the_stage_name() -> None:
    target = Target(name="t", region="us-east-1")
    plan = plan_from(ActionKind.APPROVE, _facts("Deploy", ("Source", "Deploy")), target)
    assert plan.production
    assert plan.confirm_word == "Deploy"
    plan = plan_from(ActionKind.APPROVE, _facts("Production-us-east-1", ("Production-us-east-1",)), target)
    assert plan.production
    assert plan.confirm_word == "prod-canary"
    plan = plan_from(ActionKind.APPROVE, _facts("Staging", ("Staging",)), target)
    assert not plan.production
    assert plan.confirm_word is None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_config_maps_stages_per_pipeline(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
waves:
  pipelines:
    "orders-*": {Deploy: beta, TestStage: gamma}
    "*": {Smoke*: alpha}
""",
        )
    )
    model = config.wave_model()
    waves = placed(("Source", "Deploy", "Production-us-east-1", "TestStage", "SmokeTests"), model)
    assert waves["Deploy"] == ("beta", "medium", "config")
    # The config says otherwise: even after a production stage.
    assert waves["TestStage"] == ("gamma", "high", "config")
    assert waves["SmokeTests"] == ("alpha", "low", "config")
    other = placed(("Deploy",), model, pipeline="billing")
    assert other["Deploy"] == ("unknown", "unknown", "no match")


def test_config_waves_file_replaces_the_bundled_one(tmp_path: Path) -> None:
    (tmp_path / "waves.yaml").write_text(
        "waves:\n  - {name: test, risk: low, match: ['*test*']}\n  - {name: live, risk: production, match: ['*']}\n"
    )
    model = load_config(write(tmp_path, "waves:\n  file: waves.yaml\n")).wave_model()
    assert [w.name for w in model.waves] == ["test", "live"]
    assert placed(("TestStage",), model)["TestStage"] == ("test", "low", "pattern *test*")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "waves:\n  pipelines:\n    p: {Deploy: prod-az9}\n",
            "config.yaml:3: waves.pipelines.p.Deploy: no wave named 'prod-az9'",
        ),
        ("waves:\n  fil: w.yaml\n", "config.yaml:2: waves.fil: unknown key"),
        ("waves:\n  file: nope.yaml\n", "config.yaml:2: waves.file: no such waves file"),
        ("waves:\n  pipelines:\n    p: [Deploy]\n", "config.yaml:3: waves.pipelines.p: expected a mapping"),
        ("waves: waves.yaml\n", "config.yaml:1: waves: expected a mapping"),
    ],
)
def test_config_waves_mistakes_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        load_config(write(tmp_path, text))
    assert str(caught.value).endswith(expected) or expected in str(caught.value), str(caught.value)
    assert str(caught.value).startswith(str(tmp_path))


def test_config_places_state_machines_their_states_and_their_rollback(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
waves:
  state_machines:
    deploy-orders:
      wave: gamma
      states: {ApproveAZ1: prod-az1, ApproveAZ2: prod-az2}
      rollback: rollback-orders
    rollback-orders: {wave: prod-canary}
""",
        )
    )
    model = config.wave_model()
    deploy = model.for_state_machine("deploy-orders")
    assert deploy is not None
    assert deploy.name == "gamma"
    assert model.why_state_machine("deploy-orders") == "config"
    # Not named: its name's pattern, as before.
    assert model.why_state_machine("orders-prod-deploy") == "pattern *prod*"
    assert config.wave_mappings.rollback_machines == {"deploy-orders": "rollback-orders"}
    assert config.wave_mappings.state_waves == {"deploy-orders": {"ApproveAZ1": "prod-az1", "ApproveAZ2": "prod-az2"}}


def test_the_configs_entry_replaces_the_sandbox_fleets_for_a_state_machine_both_name() -> None:
    fleet = WaveMappings(
        stages={("orders", "Deploy"): "beta"},
        state_machines={
            "deploy": MachineWaves("gamma", {"Bake": "gamma"}, "rollback", FLEET),
            "other": MachineWaves("beta", rollback="undo", source=FLEET),
        },
    )
    config = WaveMappings(state_machines={"deploy": MachineWaves("prod-az1", rollback="rollback-az1")})
    merged = fleet.overlaid(config)
    assert merged.rollback_machines == {"deploy": "rollback-az1", "other": "undo"}
    assert merged.state_waves == {}  # the config's entry names no states: the fleet's are not kept
    model = WAVES.with_mappings(merged)
    assert model.why_state_machine("deploy") == "config"
    assert model.why_state_machine("other") == "fleet"
    assert placed(("Deploy",), model, pipeline="orders")["Deploy"] == ("beta", "medium", "fleet")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "waves:\n  state_machines:\n    deploy:\n      rolback: undo\n",
            "config.yaml:4: waves.state_machines.deploy.rolback: unknown key (did you mean 'rollback'?)",
        ),
        (
            "waves:\n  state_machines:\n    deploy: {wave: prod-az9}\n",
            "config.yaml:3: waves.state_machines.deploy.wave: no wave named 'prod-az9' (waves: alpha, beta,",
        ),
        (
            "waves:\n  state_machines:\n    deploy:\n      states:\n        Bake: prod-az1\n        Approve: nope\n",
            "config.yaml:6: waves.state_machines.deploy.states.Approve: no wave named 'nope'",
        ),
        (
            "waves:\n  state_machines:\n    deploy: {states: [Bake]}\n",
            "config.yaml:3: waves.state_machines.deploy.states: expected a mapping of names to strings",
        ),
        (
            "waves:\n  state_machines:\n    'deploy-*': {wave: beta}\n",
            "config.yaml:3: waves.state_machines.deploy-*: not a state machine's name",
        ),
        (
            "waves:\n  state_machines:\n    deploy: {rollback: 'arn:aws:states:x'}\n",
            "config.yaml:3: waves.state_machines.deploy.rollback: not a state machine's name: 'arn:aws:states:x'",
        ),
        (
            "waves:\n  state_machines:\n    deploy: {rollback: deploy}\n",
            "config.yaml:3: waves.state_machines.deploy.rollback: a state machine cannot roll its own wave back",
        ),
        (
            "waves:\n  state_machines:\n    deploy: {}\n",
            "config.yaml:3: waves.state_machines.deploy: give at least one of wave, states, rollback",
        ),
        (
            "waves:\n  state_machines:\n    deploy:\n",
            "config.yaml:3: waves.state_machines.deploy: expected a mapping",
        ),
        ("waves:\n  state_machines: [deploy]\n", "config.yaml:2: waves.state_machines: expected a mapping"),
    ],
)
def test_config_state_machine_mistakes_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(InputError) as caught:
        load_config(write(tmp_path, text))
    assert expected in str(caught.value), str(caught.value)
    assert str(caught.value).startswith(str(tmp_path))


def test_a_model_with_other_rules_places_names_anew() -> None:
    # A model remembers what each name matched (placing runs on every read of a pipeline); a model made with other
    # rules must not take that memory with it.
    model = default_wave_model()
    first = model.for_stage("p", "Prod-AZ1")
    assert first is not None
    assert first.name == "prod-az1"
    other = replace(model, rules=tuple(r for r in model.rules if r.wave.name != "prod-az1"))
    placed = other.for_stage("p", "Prod-AZ1")
    assert placed is not None
    assert placed.name == "prod-canary"  # `*prod*`, now that no rule names the zone
    again = model.for_stage("p", "Prod-AZ1")
    assert again is not None
    assert again.name == "prod-az1"
