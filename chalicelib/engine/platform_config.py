"""A task's kubernetes platform config (`platforms.kubernetes.deploymentSpec.executors[label]`, kfp-ir.md §1.7)
with every InputParameterSpec-valued field (`secretNameParameter`, `pvcNameParameter`, `*Json`, ...) resolved
in the task's parent scope and rewritten as `{"runtimeValue": {"constant": value}}`, so executors only ever
read constants. Deprecated pvcMount sources (`constant`, `componentInputParameter`, `taskOutputParameter` on
the mount itself) become `pvcNameParameter`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.engine.inputs import resolve_parameter_source
from chalicelib.engine.placeholders import TaskIdentity
from chalicelib.engine.scopes import RecordLookup, Scope

_SOURCES = ("componentInputParameter", "taskOutputParameter", "runtimeValue", "taskFinalStatus")
_DEPRECATED_PVC_SOURCES = ("constant", "componentInputParameter", "taskOutputParameter")


def executor_platform_config(platform_spec: Mapping[str, Any] | None, executor_label: str) -> dict[str, Any]:
    """The raw kubernetes config of one executor, or `{}`."""
    kubernetes = ((platform_spec or {}).get("platforms") or {}).get("kubernetes") or {}
    return dict(((kubernetes.get("deploymentSpec") or {}).get("executors") or {}).get(executor_label) or {})


def _is_parameter_spec(key: str, value: Any) -> bool:
    return (
        (key.endswith("Parameter") or key.endswith("Json"))
        and isinstance(value, dict)
        and any(source in value for source in _SOURCES)
    )


def _modernised_pvc_mount(mount: Mapping[str, Any]) -> dict[str, Any]:
    result = {key: value for key, value in mount.items() if key not in _DEPRECATED_PVC_SOURCES}
    if "pvcNameParameter" not in mount:
        if "constant" in mount:
            result["pvcNameParameter"] = {"runtimeValue": {"constant": mount["constant"]}}
        elif "componentInputParameter" in mount:
            result["pvcNameParameter"] = {"componentInputParameter": mount["componentInputParameter"]}
        elif "taskOutputParameter" in mount:
            result["pvcNameParameter"] = {"taskOutputParameter": mount["taskOutputParameter"]}
    return result


def resolve_platform_config(
    config: Mapping[str, Any], scope: Scope, lookup: RecordLookup, identity: TaskIdentity
) -> dict[str, Any]:
    """`config` with its parameter specs replaced by resolved constants (null when a source has no value)."""

    def resolve(key: str, value: Any) -> Any:
        if _is_parameter_spec(key, value):
            _, resolved = resolve_parameter_source(key, value, scope, lookup, identity)
            return {"runtimeValue": {"constant": resolved}}
        if key == "pvcMount" and isinstance(value, list):
            value = [_modernised_pvc_mount(mount) for mount in value]
        if isinstance(value, dict):
            return {inner_key: resolve(inner_key, inner) for inner_key, inner in value.items()}
        if isinstance(value, list):
            return [resolve("", item) for item in value]
        return value

    return {key: resolve(key, value) for key, value in config.items()}


def pvc_names(resolved_config: Mapping[str, Any]) -> list[str]:
    """The PVC names a resolved config mounts (a cache-key ingredient)."""
    names = []
    for mount in resolved_config.get("pvcMount") or []:
        name = ((mount.get("pvcNameParameter") or {}).get("runtimeValue") or {}).get("constant")
        if name:
            names.append(str(name))
    return names
