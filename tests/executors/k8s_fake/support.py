"""Shared test support for the Kubernetes executor tests: TaskSpecs, clients for the fake, validation."""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Any

import jsonschema

from chalicelib.executors.k8s.settings import KubernetesSettings
from chalicelib.executors.protocol import AttemptLaunch
from chalicelib.task_contract import TaskSpec

BUCKET = "kfp-test-bucket"
KUBE_VERSION = "1.31"


def task_spec(**overrides: Any) -> TaskSpec:
    """A small container TaskSpec; keyword arguments replace fields."""
    fields: dict[str, Any] = {
        "run_id": "2b4e0c5e-1f0b-4a8e-9a55-0e6f1c1d2a3b",
        "task_id": "train-model",
        "attempt": 1,
        "task_name": "train-model",
        "display_name": "Train model",
        "pipeline_name": "my-pipeline",
        "pipeline_root": f"s3://{BUCKET}/artifacts",
        "container": {"image": "alpine:3.20", "command": ["sh", "-c", "echo hi"]},
        "input_definitions": {},
        "output_definitions": {},
        "parameters": {},
        "artifacts": {},
        "output_artifact_uris": {},
    }
    fields.update(overrides)
    return TaskSpec(**fields)


def settings(**overrides: Any) -> KubernetesSettings:
    return dataclasses.replace(KubernetesSettings(bucket=BUCKET, launcher_image="launcher:test"), **overrides)


def attempt(
    platform: dict[str, Any] | None = None, namespace: str = "kubeflow", **spec_fields: Any
) -> AttemptLaunch:
    return AttemptLaunch(spec=task_spec(**spec_fields), namespace=namespace, platform=platform or {})


def validate_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """Validate strictly against the Kubernetes 1.31 schema; returns the manifest for chaining.

    The same check as `kubernetes_validate.validate(manifest, "1.31", strict=True)`, with the schema loaded
    once per kind instead of on every call (a corpus run validates hundreds of pods)."""
    from kubernetes_validate.utils import ValidationError

    validator, version = _validator(str(manifest["kind"]), str(manifest["apiVersion"]))
    try:
        validator.validate(manifest)
    except jsonschema.ValidationError as error:
        raise ValidationError(error, version=version) from error
    return manifest


@functools.cache
def _validator(kind: str, api_version: str) -> tuple[Any, str]:
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    version = [v for v in utils.all_versions() if utils.major_minor(v) <= KUBE_VERSION][-1]
    schema_dir = f"kubernetes-json-schema/v{version}-local-strict"
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = utils.schema_contents(f"{schema_dir}/{kind.lower()}-{group_version}.json", KUBE_VERSION)
    definitions = utils.schema_contents(f"{schema_dir}/_definitions.json", KUBE_VERSION)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry), utils.major_minor(version)


def core_api(host: str, token: str = "") -> Any:
    """A real `CoreV1Api` talking to `host` (plain HTTP), optionally with a bearer token."""
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = host
    if token:
        configuration.api_key["authorization"] = token
        configuration.api_key_prefix["authorization"] = "Bearer"
    return client.CoreV1Api(client.ApiClient(configuration))


def main_container(pod: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in pod["spec"]["containers"] if c["name"] == "main")
