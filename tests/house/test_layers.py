"""The house rules import-linter cannot express: the numerical core imports numpy and scipy only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ("placement/irt", "placement/cat")
ALLOWED_THIRD_PARTY = {"numpy", "scipy"}


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_numerical_core_imports_numpy_and_scipy_only(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    offenders = {}
    for path in files:
        foreign = {
            name
            for name in _imported_top_levels(path)
            if name not in sys.stdlib_module_names
            and name not in ALLOWED_THIRD_PARTY
            and name != "placement"
        }
        if foreign:
            offenders[str(path.relative_to(ROOT))] = sorted(foreign)
    assert offenders == {}


def test_pure_core_imports_only_its_own_subpackages() -> None:
    for package in PURE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.level == 0
                    and node.module
                    and node.module.startswith("placement.")
                ):
                    assert node.module.startswith(("placement.irt", "placement.cat")), (
                        f"{path.relative_to(ROOT)} imports {node.module}"
                    )


def test_the_detector_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import numpy as np\nfrom yaml import safe_load\nimport os\n")
    assert _imported_top_levels(module) == {"numpy", "yaml", "os"}
