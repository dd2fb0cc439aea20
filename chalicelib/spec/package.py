"""`PipelinePackage`: a validated pipeline spec (and optional platform spec) as plain JSON dicts."""

from __future__ import annotations

import dataclasses
import json
from typing import Any


@dataclasses.dataclass(frozen=True)
class PipelinePackage:
    """A validated PipelineSpec in its JSON form (camelCase keys, as in the compiled YAML).

    `platform_spec` is the second YAML document (`{"platforms": {"kubernetes": ...}}`) or None.
    """

    pipeline_spec: dict[str, Any]
    platform_spec: dict[str, Any] | None
    name: str
    display_name: str
    description: str
    schema_version: str
    sdk_version: str

    def to_struct(self) -> dict[str, Any]:
        """Return the API's `pipeline_spec` value: the spec alone, or the wrapper
        `{"pipeline_spec": ..., "platform_spec": ...}` when a platform spec exists."""
        if self.platform_spec is None:
            return self.pipeline_spec
        return {"pipeline_spec": self.pipeline_spec, "platform_spec": self.platform_spec}

    def to_json_bytes(self) -> bytes:
        """Return canonical UTF-8 JSON (sorted keys, no spaces) of `to_struct()`, for storing in S3."""
        return canonical_json(self.to_struct())

    @property
    def root_parameters(self) -> dict[str, dict[str, Any]]:
        """Return `root.inputDefinitions.parameters` (empty when the pipeline takes no parameters)."""
        return self.pipeline_spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {}) or {}


def canonical_json(value: Any) -> bytes:
    """Return `value` as compact, key-sorted UTF-8 JSON bytes (NaN/Infinity refused)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
