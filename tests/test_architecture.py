"""The import rule of ARCHITECTURE.md §1 and the package conventions, checked on every run."""

from __future__ import annotations

import ast
import importlib
import re
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
    kept = re.search(r"Contracts: (\d+) kept, 0 broken\.", result.stdout)
    assert kept and int(kept.group(1)) >= 4, result.stdout  # the three layers + signing.testpki


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


# ------------------------------------------------------------------ capabilities (issue #13)

KERNEL_OR_SHARED = ("docflow.documents",)


def _capabilities() -> list[str]:
    """Every docflow package of the capability shape (one with a policy or a state table)."""
    return sorted(
        f"docflow.{p.parent.name}"
        for p in (ROOT / "docflow").glob("*/__init__.py")
        if ((p.parent / "policy.py").exists() or (p.parent / "states.py").exists())
        and f"docflow.{p.parent.name}" not in KERNEL_OR_SHARED
    )


def test_the_capabilities_have_the_shape() -> None:
    caps = _capabilities()
    assert {"docflow.incoming", "docflow.outgoing", "docflow.tasks"} <= set(caps)
    for cap in caps:
        folder = ROOT / cap.replace(".", "/")
        for name in ("__init__.py", "commands.py", "states.py", "policy.py", "queries.py"):
            assert (folder / name).exists(), f"{cap} has no {name}"
        assert "__all__" in (folder / "__init__.py").read_text(encoding="utf-8"), cap


def _imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out.extend(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
    return out


def test_a_capability_uses_another_only_through_its_surface() -> None:
    """Another capability's package (its ``__init__``) and its states, never its internals;
    this covers capabilities added later (the import-linter contracts name today's)."""
    caps = _capabilities()
    offenders = []
    for cap in caps:
        for path in (ROOT / cap.replace(".", "/")).rglob("*.py"):
            for name in _imports_of(path):
                for other in caps:
                    if other == cap or not name.startswith(other + "."):
                        continue
                    rest = name[len(other) + 1 :]
                    module = ROOT / other.replace(".", "/") / f"{rest.split('.')[0]}.py"
                    if rest.split(".")[0] == "states" or not module.exists():
                        continue  # the states, or a name of the package's surface
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def _constants_of_the_domain() -> set[str]:
    from docflow.enums import Role
    from docflow.incoming.states import AssignmentState, IncomingState
    from docflow.outgoing.states import DeliveryState, OutgoingState
    from docflow.tasks.states import TaskState

    enums = (Role, IncomingState, OutgoingState, TaskState, AssignmentState, DeliveryState)
    return {m.value for e in enums for m in e}  # type: ignore[attr-defined]


def _is_domain_constant(value: ast.expr, names: set[str]) -> bool:
    """A role or state defined again: an enum member (``Role.X``, ``...State.X``) or a
    collection of strings that are all role or state values."""
    for node in ast.walk(value):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id == "Role" or node.value.id.endswith("State"))
            and node.attr.isupper()
        ):
            return True
    if isinstance(value, (ast.Tuple, ast.List, ast.Set)) and value.elts:
        return all(isinstance(e, ast.Constant) and e.value in names for e in value.elts)
    if isinstance(value, ast.Call) and value.args:
        return _is_domain_constant(value.args[0], names)
    return False


def test_app_defines_no_role_or_state_constant() -> None:
    """Views ask docflow (allowed actions, signer candidates, closed states…); a constant of
    roles or states in app/ is a rule re-derived in a view."""
    names = _constants_of_the_domain()
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in [
            *tree.body,
            *[n for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body],
        ]:
            if (
                isinstance(node, (ast.Assign, ast.AnnAssign))
                and node.value is not None
                and _is_domain_constant(node.value, names)
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_constant_check_can_fail() -> None:
    names = _constants_of_the_domain()
    for source in (
        "DRAFTERS = (Role.SPECIALIST, Role.LEADER)",
        "CLOSED = frozenset({'done', 'cancelled'})",
        "OPEN = [TaskState.ASSIGNED]",
    ):
        assert _is_domain_constant(ast.parse(source).body[0].value, names), source  # type: ignore[attr-defined]
    assert not _is_domain_constant(ast.parse("SIZES = ('a4', 'a5')").body[0].value, names)  # type: ignore[attr-defined]
