"""The engine stays pure: it imports only the standard library, cel-python, itself, the task contract and the
pure timestamps module."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "chalicelib" / "engine"
FORBIDDEN = (
    "boto3",
    "botocore",
    "pynamodb",
    "kubernetes",
    "chalice",
    "kfp",
    "chalicelib.store",
    "chalicelib.executors",
)
ALLOWED_THIRD_PARTY = {"celpy"}
PURE_MODULES = {"chalicelib.task_contract", "chalicelib.timestamps"}


def imported_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


ENGINE_FILES = sorted(ENGINE.glob("*.py"))


@pytest.mark.parametrize("path", ENGINE_FILES, ids=[path.name for path in ENGINE_FILES])
def test_engine_module_imports_nothing_impure(path):
    for name in imported_modules(path):
        assert not any(name == bad or name.startswith(f"{bad}.") for bad in FORBIDDEN), (
            f"{path.name} imports {name}"
        )
        top = name.split(".")[0]
        if top == "chalicelib":
            assert name.startswith("chalicelib.engine") or name in PURE_MODULES, f"{path.name}: {name}"
        else:
            assert top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY, f"{path.name} imports {name}"


def test_import_scan_sees_the_engine_modules():
    assert {"planner.py", "conditions.py", "inputs.py"} <= {path.name for path in ENGINE_FILES}
