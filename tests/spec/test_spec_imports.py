"""chalicelib.spec ships in the Lambda, which has kfp-pipeline-spec but not the kfp SDK, and does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import chalicelib.spec

SPEC_DIR = Path(chalicelib.spec.__file__).parent
FORBIDDEN_ROOTS = {"boto3", "botocore", "pynamodb", "kubernetes", "chalice", "requests", "urllib3"}


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_spec_modules_import_only_the_pipeline_spec_part_of_kfp() -> None:
    sources = sorted(SPEC_DIR.glob("*.py"))
    assert sources
    for source in sources:
        for module in _imported_modules(source):
            if module == "kfp" or module.startswith("kfp."):
                assert module.startswith("kfp.pipeline_spec"), f"{source.name} imports {module}"


def test_spec_modules_do_no_cloud_or_network_io() -> None:
    for source in sorted(SPEC_DIR.glob("*.py")):
        roots = {module.split(".")[0] for module in _imported_modules(source)}
        assert not roots & FORBIDDEN_ROOTS, f"{source.name} imports {roots & FORBIDDEN_ROOTS}"
        outside = {
            module
            for module in _imported_modules(source)
            if module.startswith("chalicelib.") and not module.startswith("chalicelib.spec")
        }
        assert not outside, f"{source.name} imports {outside}"
