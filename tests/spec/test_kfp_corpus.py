"""Every package in KFP's compiled corpus: valid ones load, invalid ones fail with the prescribed message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from chalicelib.spec import InvalidPackage, load_package, spec_from_struct, validate_runtime_parameters


def test_corpus_has_packages_of_every_format(kfp_compiled: Path) -> None:
    valid = [path for path in kfp_compiled.glob("valid/**/*") if path.is_file()]
    assert {".yaml", ".json", ".zip"} <= {path.suffix for path in valid}
    assert len(valid) >= 150


def test_valid_corpus_package_loads(valid_package: Path) -> None:
    package = load_package(valid_package.read_bytes(), valid_package.name)
    assert package.name == package.pipeline_spec["pipelineInfo"]["name"]
    assert package.schema_version == "2.1.0"
    assert package.pipeline_spec["root"]


def test_valid_corpus_yaml_is_kept_as_written(valid_yaml: Path) -> None:
    docs = list(yaml.safe_load_all(valid_yaml.read_text(encoding="utf-8")))
    package = load_package(valid_yaml.read_bytes(), valid_yaml.name)
    assert package.pipeline_spec == docs[0]
    assert package.platform_spec == (docs[1] if len(docs) > 1 else None)
    assert spec_from_struct(json.loads(package.to_json_bytes())) == package


def test_json_package_equals_its_yaml_twin(kfp_compiled: Path) -> None:
    from_json = load_package((kfp_compiled / "valid/pipeline_with_importer.json").read_bytes(), "p.json")
    from_yaml = load_package((kfp_compiled / "valid/pipeline_with_importer.yaml").read_bytes(), "p.yaml")
    assert from_json.pipeline_spec == from_yaml.pipeline_spec


def test_zip_package_loads_its_only_member(kfp_compiled: Path) -> None:
    package = load_package((kfp_compiled / "valid/arguments_parameters.zip").read_bytes(), "a.zip")
    assert package.name == "echo"


def test_platform_document_becomes_platform_spec(kfp_compiled: Path) -> None:
    path = kfp_compiled / "valid/critical/pipeline_with_secret_as_env.yaml"
    package = load_package(path.read_bytes(), path.name)
    assert "kubernetes" in package.platform_spec["platforms"]
    assert package.to_struct() == {
        "pipeline_spec": package.pipeline_spec,
        "platform_spec": package.platform_spec,
    }


def test_argo_compatibility_package_loads_as_one_container_task(kfp_compiled: Path) -> None:
    path = kfp_compiled / "argo_compatibility/fast_artifact.yaml"
    package = load_package(path.read_bytes(), path.name)
    assert package.name == "argo-compatibility-artifact"
    assert list(package.pipeline_spec["root"]["dag"]["tasks"]) == ["write-artifact"]
    assert package.platform_spec is None


INVALID_MESSAGES = {
    "empty_file.yaml": ["empty_file.yaml", "no pipeline spec document", "empty or comments only"],
    "empty_zip.zip": ["empty_zip.zip", "claims to be .zip", "not a zip archive"],
    "invalid-zip.zip": [
        "invalid-zip.zip",
        "invalid_yaml.yaml",
        "unknown top-level field 'components_1'",
        "task 'echo'",
        "undefined component 'comp-echo'",
    ],
    "invalid_yaml.yaml": [
        "unknown top-level field 'components_1'",
        "task 'echo'",
        "undefined component 'comp-echo'",
    ],
    "no_name.yaml": ["pipelineInfo.name is required", "lower-case alphanumerics"],
    "wrong_format.png": ["wrong_format.png", "unsupported file type .png"],
}


def test_every_invalid_corpus_file_has_an_expected_message(kfp_compiled: Path) -> None:
    assert {path.name for path in (kfp_compiled / "invalid").iterdir()} == set(INVALID_MESSAGES)


@pytest.mark.parametrize("name", sorted(INVALID_MESSAGES))
def test_invalid_corpus_package_is_rejected_with_a_clear_message(kfp_compiled: Path, name: str) -> None:
    with pytest.raises(InvalidPackage) as raised:
        load_package((kfp_compiled / "invalid" / name).read_bytes(), name)
    for words in INVALID_MESSAGES[name]:
        assert words in str(raised.value)


SAMPLE_VALUES = {
    "STRING": "s",
    "NUMBER_INTEGER": 1,
    "NUMBER_DOUBLE": 1.5,
    "BOOLEAN": True,
    "LIST": [1],
    "STRUCT": {"k": "v"},
}


def test_corpus_defaults_and_sample_values_pass_parameter_validation(valid_package: Path) -> None:
    package = load_package(valid_package.read_bytes(), valid_package.name)
    arguments = {
        name: definition.get("defaultValue", SAMPLE_VALUES.get(definition.get("parameterType", ""), "s"))
        for name, definition in package.root_parameters.items()
        if definition.get("parameterType") != "TASK_FINAL_STATUS"  # the system sets it (one _GH- file)
    }
    assert set(validate_runtime_parameters(package, arguments)) == set(arguments)
