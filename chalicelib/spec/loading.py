"""Turn an uploaded pipeline package (bytes) or a request body struct into a validated PipelinePackage."""

from __future__ import annotations

from typing import Any

from chalicelib.spec import archive, documents, graph, schema
from chalicelib.spec.argo_validation import package_from_workflow
from chalicelib.spec.argo_workflow import is_workflow
from chalicelib.spec.errors import InvalidPackage
from chalicelib.spec.package import PipelinePackage

DEFAULT_MAX_BYTES = 32 * 2**20
"""The upload limit KFP's swagger documents for `uploadfile`."""
MAX_REPORTED_PROBLEMS = 20
YAML_EXTENSIONS = (".yaml", ".yml")
ARCHIVE_EXTENSIONS = (".zip", ".tar.gz", ".tgz", ".gz", ".tar")
_SUPPORTED = ".yaml, .yml, .json, .zip or .tar.gz"
_WRAPPER_KEYS = {"pipeline_spec", "platform_spec", "pipelineSpec", "platformSpec"}


def load_package(data: bytes, filename: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> PipelinePackage:
    """Parse and validate an uploaded pipeline package.

    `data` is the file's bytes, `filename` its name as uploaded (used for the format when the bytes are not
    an archive, and in messages). Zip and tar.gz are recognised by magic bytes and must hold exactly one
    .yaml/.yml/.json file; other files are YAML (one or two documents: PipelineSpec, then PlatformSpec) or
    JSON. Returns the validated package; raises InvalidPackage with a message naming the file.
    """
    source = filename or "uploaded file"
    if len(data) > max_bytes:
        raise InvalidPackage(f"{source}: package is {len(data)} bytes, over the limit of {max_bytes} bytes")
    extension = file_extension(filename)
    if archive.is_zip(data):
        member = archive.read_zip_member(data, source, max_bytes)
    elif archive.is_gzip(data):
        member = archive.read_tar_gz_member(data, source, max_bytes)
    elif extension == ".zip":
        raise InvalidPackage(f"{source}: file claims to be .zip but is not a zip archive")
    elif extension in ARCHIVE_EXTENSIONS:
        raise InvalidPackage(
            f"{source}: file claims to be {extension} but is not a gzip-compressed tar archive"
        )
    else:
        return _package_from_file(data, source, extension)
    return _package_from_file(member.data, f"{source}: member '{member.name}'", file_extension(member.name))


def spec_from_struct(struct: Any, source: str = "pipeline_spec") -> PipelinePackage:
    """Validate a pipeline spec given as a JSON struct (a run or pipeline-version create body).

    `struct` is the PipelineSpec itself, the wrapper `{"pipeline_spec": {...}, "platform_spec": {...}}` that
    kfp.Client sends when the YAML had a platform document, or a KFP v1 Argo Workflow. `source` names the
    field in messages. Returns the validated package; raises InvalidPackage.
    """
    if not isinstance(struct, dict):
        raise InvalidPackage(f"{source}: expected a JSON object, got {_json_kind(struct)}")
    documents.check_json_value(struct, source)
    _refuse_other_argo_kinds(struct, source)
    if is_workflow(struct):
        return package_from_workflow(struct, source)
    if struct and set(struct) <= _WRAPPER_KEYS and ("pipeline_spec" in struct or "pipelineSpec" in struct):
        pipeline = struct.get("pipeline_spec", struct.get("pipelineSpec"))
        platform = struct.get("platform_spec", struct.get("platformSpec"))
        if not isinstance(pipeline, dict):
            raise InvalidPackage(
                f"{source}.pipeline_spec: expected a JSON object, got {_json_kind(pipeline)}"
            )
        if platform is not None and not isinstance(platform, dict):
            raise InvalidPackage(
                f"{source}.platform_spec: expected a JSON object, got {_json_kind(platform)}"
            )
        return _validated(pipeline, platform or None, source)
    return _validated(struct, None, source)


def file_extension(filename: str) -> str:
    """Return the lower-case extension of `filename` ('.tar.gz' counts as one), or '' when it has none."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if base.endswith(".tar.gz"):
        return ".tar.gz"
    if "." not in base.lstrip("."):
        return ""
    return "." + base.rsplit(".", 1)[-1]


def _package_from_file(data: bytes, source: str, extension: str) -> PipelinePackage:
    if not data.strip():
        raise InvalidPackage(f"{source}: no pipeline spec document: file is empty or comments only")
    if extension == ".json":
        text = documents.decode_text(data, source)
        return spec_from_struct(documents.parse_json_document(text, source), source)
    if extension in YAML_EXTENSIONS or not extension:
        return _package_from_documents(_yaml_documents(data, source), source)
    try:
        parsed = _yaml_documents(data, source)
    except InvalidPackage as error:
        detail = str(error).removeprefix(f"{source}: ")
        raise InvalidPackage(
            f"{source}: unsupported file type {extension} (expected {_SUPPORTED}), "
            f"and its content is not a pipeline: {detail}"
        ) from error
    return _package_from_documents(parsed, source)


def _yaml_documents(data: bytes, source: str) -> list[dict[str, Any]]:
    """Return the YAML documents in `data`, each checked to be a mapping; at least one."""
    parsed = documents.parse_yaml_documents(documents.decode_text(data, source), source)
    if not parsed:
        raise InvalidPackage(f"{source}: no pipeline spec document: file is empty or comments only")
    if len(parsed) > 2:
        raise InvalidPackage(
            f"{source}: expected one or two YAML documents (PipelineSpec, then PlatformSpec), found {len(parsed)}"
        )
    for index, document in enumerate(parsed):
        if not isinstance(document, dict):
            raise InvalidPackage(
                f"{source}: document {index + 1} is {_json_kind(document)}, expected a mapping "
                "(a PipelineSpec or PlatformSpec)"
            )
    return parsed


def _refuse_other_argo_kinds(document: dict[str, Any], source: str) -> None:
    api_version = str(document.get("apiVersion", ""))
    if api_version.startswith("argoproj.io/") and document.get("kind") != "Workflow":
        raise InvalidPackage(
            f"{source}: kind {document.get('kind')!r} ({api_version}) is not supported; a KFP v1 package is "
            "an Argo Workflow (kind: Workflow)"
        )


def _package_from_documents(parsed: list[dict[str, Any]], source: str) -> PipelinePackage:
    """Tell the PipelineSpec and PlatformSpec documents apart (a PlatformSpec has only `platforms`); a KFP v1
    package is one Argo Workflow document."""
    for document in parsed:
        _refuse_other_argo_kinds(document, source)
    workflows = [doc for doc in parsed if is_workflow(doc)]
    if workflows:
        if len(parsed) > 1:
            raise InvalidPackage(
                f"{source}: holds an Argo Workflow and {len(parsed) - 1} more document(s); a KFP v1 package "
                "is exactly one Workflow document"
            )
        return package_from_workflow(workflows[0], source)
    platforms = [doc for doc in parsed if set(doc) == {"platforms"}]
    pipelines = [doc for doc in parsed if set(doc) != {"platforms"}]
    if not pipelines:
        raise InvalidPackage(f"{source}: no pipeline spec document: the file holds only a platform spec")
    if len(pipelines) > 1:
        raise InvalidPackage(f"{source}: holds two pipeline spec documents; expected at most one")
    if len(platforms) > 1:
        raise InvalidPackage(f"{source}: holds two platform spec documents; expected at most one")
    return _validated(pipelines[0], platforms[0] if platforms else None, source)


def _validated(pipeline: dict[str, Any], platform: dict[str, Any] | None, source: str) -> PipelinePackage:
    """Run the schema and graph checks; return the package or raise InvalidPackage listing the problems."""
    checked = schema.check_pipeline_spec(pipeline)
    problems = list(checked.problems)
    if checked.well_typed:
        problems += graph.header_problems(checked.value)
        problems += graph.component_problems(checked.value)
        problems += graph.executor_problems(checked.value)
    platform_spec = None
    if platform:
        checked_platform = schema.check_platform_spec(platform)
        problems += [f"platform spec: {problem}" for problem in checked_platform.problems]
        platform_spec = checked_platform.value or None
    if problems:
        shown = problems[:MAX_REPORTED_PROBLEMS]
        if len(problems) > len(shown):
            shown.append(f"and {len(problems) - len(shown)} more problems")
        raise InvalidPackage(f"{source}: " + "; ".join(shown))
    spec = checked.value
    info = spec.get("pipelineInfo") or {}
    return PipelinePackage(
        pipeline_spec=spec,
        platform_spec=platform_spec,
        name=info["name"],
        display_name=info.get("displayName") or info["name"],
        description=info.get("description") or "",
        schema_version=spec.get("schemaVersion", ""),
        sdk_version=spec.get("sdkVersion", ""),
    )


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number" if isinstance(value, int | float) else type(value).__name__)
