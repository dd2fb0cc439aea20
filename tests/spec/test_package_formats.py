"""load_package picks the format (zip, tar.gz, YAML, JSON) and spec_from_struct unwraps request bodies."""

import io
import json
import tarfile
import zipfile
from typing import Any

import pytest
import yaml

from chalicelib.spec import InvalidPackage, PipelinePackage, load_package, spec_from_struct

PLATFORM = {
    "platforms": {"kubernetes": {"deploymentSpec": {"executors": {"exec-produce": {"nodeSelector": {}}}}}}
}


def _yaml(*docs: dict[str, Any]) -> bytes:
    return yaml.safe_dump_all(docs, sort_keys=False).encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_yaml_package_fills_the_summary_fields(small_spec: dict[str, Any]) -> None:
    package = load_package(_yaml(small_spec), "p.yaml")
    assert (package.name, package.display_name, package.description) == (
        "small-pipeline",
        "Small pipeline",
        "two steps",
    )
    assert (package.schema_version, package.sdk_version) == ("2.1.0", "kfp-2.17.3")
    assert package.platform_spec is None
    assert package.to_struct() == small_spec


def test_display_name_defaults_to_name(small_spec: dict[str, Any]) -> None:
    small_spec["pipelineInfo"] = {"name": "small-pipeline"}
    package = load_package(_yaml(small_spec), "p.yaml")
    assert (package.display_name, package.description) == ("small-pipeline", "")


@pytest.mark.parametrize("filename", ["p.yml", "p.YAML", "pipeline", "", "p.txt"])
def test_yaml_is_read_for_yaml_unknown_or_missing_extensions(
    small_spec: dict[str, Any], filename: str
) -> None:
    assert load_package(_yaml(small_spec), filename).name == "small-pipeline"


def test_json_file_is_read_by_extension(small_spec: dict[str, Any]) -> None:
    assert load_package(json.dumps(small_spec).encode(), "p.json").pipeline_spec == small_spec


def test_json_file_with_api_wrapper_keeps_platform_spec(small_spec: dict[str, Any]) -> None:
    body = {"pipeline_spec": small_spec, "platform_spec": PLATFORM}
    package = load_package(json.dumps(body).encode(), "p.json")
    assert package.platform_spec == PLATFORM


def test_two_documents_are_pipeline_then_platform_spec(small_spec: dict[str, Any]) -> None:
    package = load_package(_yaml(small_spec, PLATFORM), "p.yaml")
    assert package.platform_spec == PLATFORM
    assert package.to_struct() == {"pipeline_spec": small_spec, "platform_spec": PLATFORM}


def test_platform_document_first_is_still_recognised(small_spec: dict[str, Any]) -> None:
    assert load_package(_yaml(PLATFORM, small_spec), "p.yaml").platform_spec == PLATFORM


def test_three_documents_are_rejected(small_spec: dict[str, Any]) -> None:
    with pytest.raises(InvalidPackage, match="one or two YAML documents.*found 3"):
        load_package(_yaml(small_spec, PLATFORM, PLATFORM), "p.yaml")


def test_two_pipeline_documents_are_rejected(small_spec: dict[str, Any]) -> None:
    with pytest.raises(InvalidPackage, match="two pipeline spec documents"):
        load_package(_yaml(small_spec, small_spec), "p.yaml")


def test_platform_document_alone_is_rejected() -> None:
    with pytest.raises(InvalidPackage, match="only a platform spec"):
        load_package(_yaml(PLATFORM), "p.yaml")


def test_unknown_field_in_platform_spec_is_named(small_spec: dict[str, Any]) -> None:
    platform = {"platforms": {"kubernetes": {"deploymentSpecs": {}}}}
    with pytest.raises(
        InvalidPackage, match=r"platform spec: unknown field 'deploymentSpecs' at platforms\['kubernetes'\]"
    ):
        load_package(_yaml(small_spec, platform), "p.yaml")


def test_zip_with_one_yaml_member_loads(small_spec: dict[str, Any]) -> None:
    data = _zip({"dir/": b"", "dir/my_pipeline.yaml": _yaml(small_spec), "README.md": b"hello"})
    assert load_package(data, "upload.bin").name == "small-pipeline"


def test_tar_gz_with_one_yaml_member_loads(small_spec: dict[str, Any]) -> None:
    data = _tar_gz({"my_pipeline.yml": _yaml(small_spec)})
    assert load_package(data, "p.tar.gz").name == "small-pipeline"


def test_archive_with_several_pipeline_files_prefers_pipeline_yaml(small_spec: dict[str, Any]) -> None:
    other = dict(small_spec, pipelineInfo={"name": "other"})
    data = _zip({"other.yaml": _yaml(other), "pipeline.yaml": _yaml(small_spec)})
    assert load_package(data, "p.zip").name == "small-pipeline"


def test_archive_with_two_pipeline_files_is_rejected(small_spec: dict[str, Any]) -> None:
    data = _tar_gz({"a.yaml": _yaml(small_spec), "b.json": json.dumps(small_spec).encode()})
    with pytest.raises(InvalidPackage, match="exactly one pipeline file.*'a.yaml', 'b.json'"):
        load_package(data, "p.tar.gz")


@pytest.mark.parametrize("build", [_zip, _tar_gz], ids=["zip", "tar.gz"])
def test_archive_without_pipeline_file_is_rejected(build: Any) -> None:
    with pytest.raises(InvalidPackage, match="holds no pipeline file.*'notes.txt'"):
        load_package(build({"notes.txt": b"x"}), "p.archive")


def test_empty_zip_archive_is_rejected() -> None:
    with pytest.raises(InvalidPackage, match="holds no pipeline file"):
        load_package(_zip({}), "p.zip")


def test_truncated_zip_is_rejected() -> None:
    with pytest.raises(InvalidPackage, match="p.zip: not a valid zip archive"):
        load_package(b"PK\x03\x04" + b"\0" * 40, "p.zip")


def test_gzip_that_is_not_tar_is_rejected(small_spec: dict[str, Any]) -> None:
    import gzip

    with pytest.raises(InvalidPackage, match="not a valid tar archive"):
        load_package(gzip.compress(_yaml(small_spec)), "p.tar.gz")


@pytest.mark.parametrize("filename", ["p.tar.gz", "p.tgz"])
def test_text_named_as_tar_gz_is_rejected(small_spec: dict[str, Any], filename: str) -> None:
    with pytest.raises(InvalidPackage, match="claims to be .* but is not a gzip-compressed tar archive"):
        load_package(_yaml(small_spec), filename)


def test_error_inside_archive_names_archive_and_member(small_spec: dict[str, Any]) -> None:
    del small_spec["pipelineInfo"]
    with pytest.raises(InvalidPackage, match=r"^up.zip: member 'inner.yaml': pipelineInfo.name is required"):
        load_package(_zip({"inner.yaml": _yaml(small_spec)}), "up.zip")


def test_struct_may_be_the_spec_itself(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct(small_spec)
    assert package.to_struct() == small_spec


def test_struct_wrapper_is_unwrapped(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct({"pipeline_spec": small_spec, "platform_spec": PLATFORM})
    assert (package.pipeline_spec, package.platform_spec) == (small_spec, PLATFORM)


def test_struct_wrapper_with_empty_platform_spec_has_none(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct({"pipeline_spec": small_spec, "platform_spec": {}})
    assert package.platform_spec is None
    assert package.to_struct() == small_spec


def test_struct_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(InvalidPackage, match="run.pipeline_spec: expected a JSON object, got a list"):
        spec_from_struct([1], source="run.pipeline_spec")  # type: ignore[arg-type]


def test_struct_errors_name_the_source(small_spec: dict[str, Any]) -> None:
    small_spec["schemaVersion"] = "3.0.0"
    with pytest.raises(InvalidPackage, match=r"^pipeline_version.pipeline_spec: schemaVersion '3.0.0'"):
        spec_from_struct(small_spec, source="pipeline_version.pipeline_spec")


def test_json_bytes_are_canonical_and_round_trip(small_spec: dict[str, Any]) -> None:
    package = load_package(_yaml(small_spec, PLATFORM), "p.yaml")
    data = package.to_json_bytes()
    assert data == json.dumps(json.loads(data), sort_keys=True, separators=(",", ":")).encode()
    assert spec_from_struct(json.loads(data)) == package


def test_package_is_frozen(small_spec: dict[str, Any]) -> None:
    package = spec_from_struct(small_spec)
    with pytest.raises(AttributeError):
        package.name = "x"  # type: ignore[misc]
    assert isinstance(package, PipelinePackage)


def test_kfp_client_payload_is_accepted(tmp_path: Any) -> None:
    """The body kfp.Client builds from a compiled package (MessageToDict form) validates."""
    from kfp import compiler, dsl
    from kfp.client import client as kfp_client

    @dsl.component(base_image="python:3.11")
    def add(a: int, b: float = 2.5) -> float:
        return a + b

    @dsl.pipeline(name="adder")
    def adder(a: int, flag: bool = True):
        add(a=a)

    path = tmp_path / "adder.yaml"
    compiler.Compiler().compile(adder, str(path))
    body = kfp_client._extract_pipeline_yaml(str(path)).to_dict()
    package = spec_from_struct(body)
    assert package.name == "adder"
    assert load_package(path.read_bytes(), "adder.yaml").root_parameters == package.root_parameters


def test_unknown_top_level_field_in_platform_spec_is_named_once(small_spec: dict[str, Any]) -> None:
    with pytest.raises(InvalidPackage) as raised:
        spec_from_struct({"pipeline_spec": small_spec, "platform_spec": {"platforms": {}, "extra": 1}})
    assert str(raised.value) == "pipeline_spec: platform spec: unknown top-level field 'extra'"
