"""The import rule of ARCHITECTURE.md §1 and the package conventions, checked on every run."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["app", "docflow", "signing", "storage", "interop", "migrations", "bench"]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize("name", PACKAGES)
def test_each_package_states_its_purpose(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and len(module.__doc__.strip()) > 40


def test_only_app_config_reads_the_environment() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for pkg in ("app", "docflow", "storage", "signing", "interop")
        for p in (ROOT / pkg).rglob("*.py")
        if "os.environ" in p.read_text(encoding="utf-8") and p != ROOT / "app" / "config.py"
    ]
    assert offenders == []
