"""Where code may reach: blueprints never import each other (what two share lives in chalicelib/services), and
only chalicelib/store talks to DynamoDB or S3.

The launcher is the one exception to the second rule: it runs inside task pods (and local task processes),
where it reads inputs from and writes outputs to S3 itself — the pods have no store, only the bucket.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[1] / "chalicelib"
API = CHALICELIB / "api"
STORE = CHALICELIB / "store"
LAUNCHER = CHALICELIB / "launcher"
STORAGE_SERVICES = {"s3", "dynamodb"}

SOURCES = sorted(CHALICELIB.rglob("*.py"))
BLUEPRINTS = sorted(
    path for path in API.glob("*.py") if "Blueprint(" in path.read_text() and path.name != "__init__.py"
)


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _storage_clients(tree: ast.AST) -> list[str]:
    """Calls like `client("s3")`, `boto3.resource("dynamodb")`, `aws_client("s3", ...)`."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        first = node.args[0]
        if (
            name in ("client", "resource", "aws_client")
            and isinstance(first, ast.Constant)
            and first.value in STORAGE_SERVICES
        ):
            found.append(f"{name}({first.value!r}) at line {node.lineno}")
    return found


def _inside(path: Path, folder: Path) -> bool:
    return folder in path.parents


def test_the_scan_sees_the_blueprints_and_the_store() -> None:
    assert {"runs.py", "pipelines.py", "experiments.py", "recurring_runs.py"} <= {p.name for p in BLUEPRINTS}
    assert any(_storage_clients(ast.parse(p.read_text())) for p in SOURCES if _inside(p, STORE))


@pytest.mark.parametrize("path", BLUEPRINTS, ids=[p.name for p in BLUEPRINTS])
def test_a_blueprint_imports_no_other_blueprint(path: Path) -> None:
    others = {f"chalicelib.api.{other.stem}" for other in BLUEPRINTS if other != path}
    imported = {name for name in _imports(ast.parse(path.read_text())) if name in others}
    assert not imported, (
        f"{path.name} imports blueprint(s) {sorted(imported)}: move what they share to services"
    )


@pytest.mark.parametrize(
    "path",
    [p for p in SOURCES if not _inside(p, STORE) and not _inside(p, LAUNCHER)],
    ids=lambda p: str(p.relative_to(CHALICELIB)),
)
def test_only_the_store_uses_dynamodb_or_s3(path: Path) -> None:
    tree = ast.parse(path.read_text())
    pynamodb = [name for name in _imports(tree) if name == "pynamodb" or name.startswith("pynamodb.")]
    assert not pynamodb, f"{path.name} imports {pynamodb}"
    assert not _storage_clients(tree), f"{path.name} creates {_storage_clients(tree)}"


def test_importing_the_app_reads_no_store_and_opens_no_connection() -> None:
    """Importing app.py (every blueprint and handler) builds no runtime, store or boto3 client."""
    probe = (
        "import sys\n"
        "sys.path.insert(0, '.')\n"
        "import app\n"
        "from chalicelib import runtime\n"
        "assert runtime.installed() is None, 'a runtime was built at import'\n"
        "loaded = sorted(m for m in ('pynamodb', 'sqlite3', 'boto3') if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=CHALICELIB.parent,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "pynamodb" not in result.stdout and "sqlite3" not in result.stdout, result.stdout
