"""The admin pod policy, applied when a run or recurring run is created, before anything is stored.

Rules (`PodPolicy`, from `KFPS_*` variables): no privileged container, host namespace (hostNetwork, hostPID,
hostIPC) or hostPath volume unless allowed (`KFPS_K8S_ALLOW_PRIVILEGED`, the Kubernetes executor's own switch,
which refuses them again when it builds the pod); no container asking for more CPU or memory than the maximum
(requests and limits); with allowed image prefixes set, every image starts with one of them, as written in the
spec (`python:3.11` is Docker Hub's short form, so allow `python:` or list full names).

Both formats are checked: a KFP v2 IR spec's executors (container image and resources) and its Kubernetes
platform spec (securityContext, host namespaces); a KFP v1 Argo Workflow's templates (container, script,
init containers, sidecars, pod security context, volumes, `podSpecPatch`) and its pod-level fields. A value
still holding a placeholder (`{{...}}`) is checked when the pod is built, not here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import yaml

from chalicelib.executors.k8s.resources import ResourceSpecError, container_resources
from chalicelib.executors.local_admission import parse_quantity

if TYPE_CHECKING:  # chalicelib.spec imports kfp: Settings (which holds a PodPolicy) stays light without it
    from chalicelib.spec import PipelinePackage

HOST_NAMESPACE_FIELDS = ("hostNetwork", "hostPID", "hostIPC")
_TRUE = ("1", "true", "yes")


class PolicyViolation(ValueError):
    """A task breaks the pod policy; the message names the task and the rule."""


@dataclasses.dataclass(frozen=True)
class PodPolicy:
    # Privileged containers, host namespaces and hostPath volumes (KFPS_K8S_ALLOW_PRIVILEGED).
    allow_privileged: bool = False
    # The most CPU / memory one container may request or be limited to (Kubernetes quantities; "" = any).
    max_cpu: str = "64"
    max_memory: str = "512Gi"
    # Image prefixes a task's image must start with (KFPS_ALLOWED_IMAGE_PREFIXES, comma-separated; empty: any).
    allowed_image_prefixes: tuple[str, ...] = ()
    # Requests given to a task container that sets neither a request nor a limit for CPU / memory (Kubernetes
    # executor; KFPS_DEFAULT_TASK_CPU / KFPS_DEFAULT_TASK_MEMORY; "" = none, the namespace's LimitRange decides).
    default_cpu: str = ""
    default_memory: str = ""

    @property
    def default_requests(self) -> tuple[tuple[str, str], ...]:
        """The default requests as (resource, quantity) pairs, for the Kubernetes executor's settings."""
        return tuple(
            (name, value)
            for name, value in (("cpu", self.default_cpu), ("memory", self.default_memory))
            if value
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PodPolicy:
        defaults = cls()
        prefixes = env.get("KFPS_ALLOWED_IMAGE_PREFIXES", "")
        policy = cls(
            allow_privileged=env.get("KFPS_K8S_ALLOW_PRIVILEGED", "").lower() in _TRUE,
            max_cpu=env.get("KFPS_MAX_TASK_CPU", defaults.max_cpu).strip(),
            max_memory=env.get("KFPS_MAX_TASK_MEMORY", defaults.max_memory).strip(),
            allowed_image_prefixes=tuple(p.strip() for p in prefixes.split(",") if p.strip()),
            default_cpu=env.get("KFPS_DEFAULT_TASK_CPU", "").strip(),
            default_memory=env.get("KFPS_DEFAULT_TASK_MEMORY", "").strip(),
        )
        for name, value in (
            ("KFPS_MAX_TASK_CPU", policy.max_cpu),
            ("KFPS_MAX_TASK_MEMORY", policy.max_memory),
            ("KFPS_DEFAULT_TASK_CPU", policy.default_cpu),
            ("KFPS_DEFAULT_TASK_MEMORY", policy.default_memory),
        ):
            if value:
                try:
                    parse_quantity(value)
                except ResourceSpecError as error:
                    raise ValueError(f"{name}: {error}") from None
        return policy


@dataclasses.dataclass(frozen=True)
class _Container:
    """What the policy looks at in one container of one task."""

    task: str
    image: str
    resources: Mapping[str, Any]  # a Kubernetes resources block: {"limits"|"requests": {"cpu", "memory"}}
    security_context: Mapping[str, Any]


def check_pod_policy(package: PipelinePackage, policy: PodPolicy) -> None:
    """Raise PolicyViolation for the first task of `package` that breaks `policy`."""
    from chalicelib.spec.package import PackageFormat

    if package.format == PackageFormat.ARGO:
        containers, pods = _argo_parts(package.pipeline_spec)
    else:
        containers, pods = _ir_parts(package.pipeline_spec, package.platform_spec)
    for container in containers:
        _check_container(container, policy)
    if not policy.allow_privileged:
        for task, pod in pods:
            _check_pod(task, pod)


def _check_container(container: _Container, policy: PodPolicy) -> None:
    task = container.task
    if not policy.allow_privileged and container.security_context.get("privileged") is True:
        raise PolicyViolation(
            f"task {task}: privileged containers are not allowed (KFPS_K8S_ALLOW_PRIVILEGED)"
        )
    image = container.image
    if policy.allowed_image_prefixes and image and "{{" not in image:
        if not image.startswith(policy.allowed_image_prefixes):
            raise PolicyViolation(
                f"task {task}: image {image!r} is not from an allowed registry "
                f"({', '.join(policy.allowed_image_prefixes)}; KFPS_ALLOWED_IMAGE_PREFIXES)"
            )
    for kind in ("requests", "limits"):
        block = container.resources.get(kind) or {}
        for resource, maximum, setting in (
            ("cpu", policy.max_cpu, "KFPS_MAX_TASK_CPU"),
            ("memory", policy.max_memory, "KFPS_MAX_TASK_MEMORY"),
        ):
            value = block.get(resource)
            if not maximum or value is None or "{{" in str(value):
                continue
            amount = _quantity(str(value), task, f"{resource} {kind}")
            if amount > parse_quantity(maximum):
                raise PolicyViolation(
                    f"task {task}: {resource} {kind} {value} is above the maximum {maximum} ({setting})"
                )


def _quantity(text: str, task: str, what: str) -> Decimal:
    try:
        return parse_quantity(text)
    except ResourceSpecError as error:
        raise PolicyViolation(f"task {task}: {what}: {error}") from None


def _check_pod(task: str, pod: Mapping[str, Any]) -> None:
    for field in HOST_NAMESPACE_FIELDS:
        if pod.get(field):
            raise PolicyViolation(f"task {task}: {field} is not allowed (KFPS_K8S_ALLOW_PRIVILEGED)")
    for volume in pod.get("volumes") or []:
        if isinstance(volume, Mapping) and "hostPath" in volume:
            raise PolicyViolation(
                f"task {task}: hostPath volume {volume.get('name')!r} is not allowed (KFPS_K8S_ALLOW_PRIVILEGED)"
            )
    security_context = pod.get("securityContext") or {}
    if isinstance(security_context, Mapping) and security_context.get("privileged") is True:
        raise PolicyViolation(
            f"task {task}: privileged containers are not allowed (KFPS_K8S_ALLOW_PRIVILEGED)"
        )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _ir_parts(
    spec: Mapping[str, Any], platform_spec: Mapping[str, Any] | None
) -> tuple[list[_Container], list[tuple[str, Mapping[str, Any]]]]:
    """The IR's containers (one per executor, named after the tasks that use it) and its platform configs."""
    tasks_by_executor = _ir_tasks_by_executor(spec)
    executors = _mapping(_mapping(spec.get("deploymentSpec")).get("executors"))
    containers = []
    for label, executor in executors.items():
        container = _mapping(_mapping(executor).get("container"))
        if not container:
            continue
        try:
            resources = container_resources(_mapping(container.get("resources")), {})
        except ResourceSpecError:
            resources = {}  # a placeholder: the executor checks the resolved value
        image = container.get("image")
        task = tasks_by_executor.get(label, label)
        containers.append(_Container(task, image if isinstance(image, str) else "", resources, {}))
    kubernetes = _mapping(_mapping(_mapping(platform_spec).get("platforms")).get("kubernetes"))
    platform_executors = _mapping(_mapping(kubernetes.get("deploymentSpec")).get("executors"))
    pods = []
    for label, config in platform_executors.items():
        config = _mapping(config)
        task = tasks_by_executor.get(label, label)
        security_context = _mapping(config.get("securityContext"))
        containers.append(_Container(task, "", {}, security_context))
        pods.append((task, config))
    return containers, pods


def _ir_tasks_by_executor(spec: Mapping[str, Any]) -> dict[str, str]:
    """Executor label → the names of the tasks that run it, for messages."""
    components = _mapping(spec.get("components"))
    names: dict[str, list[str]] = {}
    dags = [_mapping(spec.get("root")), *(_mapping(c) for c in components.values())]
    for dag_owner in dags:
        for task_name, task in _mapping(_mapping(dag_owner.get("dag")).get("tasks")).items():
            component_name = _mapping(_mapping(task).get("componentRef")).get("name")
            label = _mapping(components.get(component_name)).get("executorLabel")
            if isinstance(label, str):
                names.setdefault(label, []).append(str(task_name))
    return {label: ", ".join(sorted(tasks)) for label, tasks in names.items()}


def _argo_parts(workflow: Mapping[str, Any]) -> tuple[list[_Container], list[tuple[str, Mapping[str, Any]]]]:
    """An Argo Workflow's containers (per template) and pod-level settings (the workflow's and each template's,
    `podSpecPatch` included when it is literal YAML/JSON)."""
    spec = _mapping(workflow.get("spec"))
    containers = []
    pods: list[tuple[str, Mapping[str, Any]]] = [("(workflow spec)", spec)]
    for template in spec.get("templates") or []:
        template = _mapping(template)
        task = str(template.get("name", "?"))
        for container in _argo_containers(template):
            image = container.get("image")
            containers.append(
                _Container(
                    task,
                    image if isinstance(image, str) else "",
                    _mapping(container.get("resources")),
                    _mapping(container.get("securityContext")),
                )
            )
        pods.append((task, template))
        patch = template.get("podSpecPatch")
        if isinstance(patch, str) and "{{" not in patch:
            try:
                parsed = yaml.safe_load(patch)
            except yaml.YAMLError:
                parsed = None
            if isinstance(parsed, Mapping):
                pods.append((task, parsed))
                containers.extend(
                    _Container(task, "", {}, _mapping(_mapping(c).get("securityContext")))
                    for c in [*(parsed.get("containers") or []), *(parsed.get("initContainers") or [])]
                )
    return containers, pods


def _argo_containers(template: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("container", "script"):
        if isinstance(template.get(key), Mapping):
            yield template[key]
    for key in ("initContainers", "sidecars"):
        for container in template.get(key) or []:
            if isinstance(container, Mapping):
                yield container
