"""Bounded YAML: an alias bomb, deep nesting, a huge file or an endless device are one short error, exit 2.

A definitions directory is not trusted and a config file may be a mistake: neither may cost more than a
moment and a few megabytes, and an error quotes at most a short prefix of what it complains about.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.__main__ import main
from console.config import load_config
from console.errors import InputError
from console.yamlfile import MAX_BYTES, MAX_DEPTH, MAX_VALUES, quoted

ROOT = Path(__file__).resolve().parents[2]

# The "billion laughs": nine levels of nine aliases, 9**9 values once expanded, in a few hundred bytes.
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


def _load(tmp_path: Path, text: str | bytes) -> InputError:
    path = tmp_path / "config.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert time.monotonic() - started < 5
    assert len(str(caught.value)) < 300, str(caught.value)[:500]
    return caught.value


def test_an_alias_bomb_is_refused_where_it_expands(tmp_path: Path) -> None:
    assert len(BOMB) < 400
    error = _load(tmp_path, BOMB)
    assert f"expands to more than {MAX_VALUES} values (aliases repeat what they name)" in error.problem
    assert error.line is not None
    assert str(error).startswith(f"{tmp_path / 'config.yaml'}:{error.line}: ")


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("intervals: &i {focused: 3s}\nkeymap: {approve: ctrl+a}\n")
    assert load_config(path).intervals.focused == 3.0


@pytest.mark.parametrize("opening", ["[", "{a: "], ids=["sequences", "mappings"])
def test_deep_nesting_is_refused_before_python_gives_up(tmp_path: Path, opening: str) -> None:
    error = _load(tmp_path, "targets: " + opening * 5000 + "\n")
    assert f"nested deeper than {MAX_DEPTH} levels" in error.problem


def test_deep_nesting_through_a_chain_of_aliases_is_refused(tmp_path: Path) -> None:
    chain = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 3000))
    error = _load(tmp_path, chain)
    assert f"nested deeper than {MAX_DEPTH} levels (through aliases)" in error.problem


def test_a_file_larger_than_the_limit_is_not_read(tmp_path: Path) -> None:
    error = _load(tmp_path, "# " + "x" * MAX_BYTES + "\n")
    assert "larger than 2 MiB; not read further" in error.problem


def test_a_huge_value_is_quoted_by_a_short_prefix(tmp_path: Path) -> None:
    error = _load(tmp_path, "read_only: '" + "y" * 100_000 + "'\n")
    assert error.key == "read_only"
    assert "yyyy" in error.problem
    huge = {"k": ["v" * 10_000] * 10_000}
    assert len(quoted(huge)) < 80


def test_config_dev_zero_ends_at_once_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code = main(["watch", "--config", "/dev/zero", "--region", "us-east-1"])
    err = capsys.readouterr().err
    assert time.monotonic() - started < 5
    assert code == 2
    assert err == "wavedeck: /dev/zero: larger than 2 MiB; not read further\n"


def _limited_memory() -> None:
    limit = 1024 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize("where", ["config", "fleet"])
def test_a_bomb_from_the_command_line_is_exit_2_and_one_short_line(tmp_path: Path, where: str) -> None:
    """Under a 1 GiB memory cap, in a child: no MemoryError traceback, no megabytes on stderr."""
    if where == "config":
        config = tmp_path / "config.yaml"
        config.write_text(BOMB)
        command = ["watch", "--config", str(config), "--region", "us-east-1"]
    else:
        definitions = tmp_path / "definitions"
        shutil.copytree(ROOT / "definitions", definitions)
        fleet = definitions / "fleet.yaml"
        fleet.write_text(BOMB + fleet.read_text())
        command = ["sandbox", "--port", "0", "--definitions", str(definitions)]
    done = subprocess.run(
        [sys.executable, "-m", "console", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=_limited_memory,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert f"expands to more than {MAX_VALUES} values" in done.stderr
    assert len(done.stderr) < 1000
