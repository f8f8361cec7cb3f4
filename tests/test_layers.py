"""The layers point one way: the core never imports the UI, and only console/aws talks botocore."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE_MODULES = [
    "console.model",
    "console.errors",
    "console.definitions",
    "console.waves",
    "console.config",
    "console.actions.audit",
    "console.keys",
]


def _optional(name: str) -> bool:
    return (ROOT / Path(*name.split("."))).with_suffix(".py").exists()


def test_core_does_not_import_textual_or_moto() -> None:
    modules = [m for m in CORE_MODULES + ["console.watch", "console.actions.gate"] if _optional(m)]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'screens', 'moto', 'rich'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "", f"the core pulled in {out.stdout.strip()}"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_gateway_imports_aws_sdks() -> None:
    offenders = []
    for path in sorted((ROOT / "console").rglob("*.py")) + sorted((ROOT / "screens").rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[:2] in (("console", "aws"), ("console", "sandbox")):
            continue
        sdk = _imports(path) & {"botocore", "aiobotocore", "boto3", "moto"}
        if sdk:
            offenders.append(f"{relative}: {', '.join(sorted(sdk))}")
    assert offenders == []


def test_screens_never_import_the_gateway_or_sandbox() -> None:
    offenders = []
    for path in sorted((ROOT / "screens").rglob("*.py")):
        text = path.read_text()
        for forbidden in ("console.aws", "console.sandbox"):
            if forbidden in text:
                offenders.append(f"{path.relative_to(ROOT)} mentions {forbidden}")
    assert offenders == []
