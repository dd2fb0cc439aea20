"""Pod manifests for task attempts: names, resources and every kfp-kubernetes platform feature.

Every manifest built here is validated with kubernetes-validate (1.31, strict).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.executors.k8s import names
from chalicelib.executors.k8s.manifest import ARTIFACT_ROOTS, LAUNCHER_DIR, build_pod
from chalicelib.executors.k8s.platform_config import PlatformSpecError
from chalicelib.executors.k8s.pvc import PvcSpecError, create_pvc_manifest, workspace_pvc_manifest
from chalicelib.executors.k8s.resources import ResourceSpecError, container_resources
from tests.executors.k8s_fake.support import attempt, main_container, settings, validate_manifest

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CORPUS = Path(
    os.environ.get("KFPS_CORPUS", Path(__file__).resolve().parents[3] / "shared/corpus/kfp-compiled")
)


def pod_for(platform: dict[str, Any] | None = None, **spec_fields: Any) -> dict[str, Any]:
    return validate_manifest(build_pod(attempt(platform, **spec_fields), settings()))


def env_by_name(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def mounts_by_path(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["mountPath"]: m for m in container.get("volumeMounts", [])}


def volume(pod: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in pod["spec"]["volumes"] if v["name"] == name)


# -- names ------------------------------------------------------------------------------------------------------
def test_pod_name_is_deterministic_dns_label_per_attempt():
    first = names.pod_name("run-1", "train", 1)
    assert first == names.pod_name("run-1", "train", 1)
    assert first != names.pod_name("run-1", "train", 2)
    assert first != names.pod_name("run-2", "train", 1)
    assert DNS_LABEL.match(first)


def test_pod_name_of_long_odd_task_id_fits_63_characters():
    task_id = "Run_42/Some DAG/ParallelFor.iteration-" + "x" * 200 + "/Ünïcode-Task--"
    name = names.pod_name("r" * 80, task_id, 12)
    assert len(name) <= 63 and DNS_LABEL.match(name)
    assert name != names.pod_name("r" * 80, task_id + "2", 12)


def test_label_values_are_sanitised_and_stay_distinct():
    long_a, long_b = "a" * 70 + "/x", "a" * 70 + "/y"
    for value in (long_a, "has space", "-leading", "ok.value_1"):
        assert re.match(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$", names.label_value(value))
        assert len(names.label_value(value)) <= 63
    assert names.label_value("ok.value_1") == "ok.value_1"
    assert names.label_value(long_a) != names.label_value(long_b)


# -- the pod's shape ---------------------------------------------------------------------------------------------
def test_pod_runs_prepare_then_user_command_and_collect_with_restart_never():
    pod = pod_for()
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert [c["name"] for c in spec["initContainers"]] == ["kfp-prepare"]
    assert [c["name"] for c in spec["containers"]] == ["main", "kfp-collect"]
    main = main_container(pod)
    assert main["image"] == "alpine:3.20"
    assert main["command"] == ["/bin/sh", f"{LAUNCHER_DIR}/run.sh"]
    for container in [*spec["initContainers"], *spec["containers"]]:
        assert set(mounts_by_path(container)) >= {LAUNCHER_DIR, *ARTIFACT_ROOTS.values()}
    collect = spec["containers"][1]["command"]
    assert collect[collect.index("--result-file") + 1] == (
        f"s3://kfp-test-bucket/runs/{pod['metadata']['annotations'][names.ANNOTATION_RUN_ID]}/tasks/train-model/1/result.json"
    )


def test_pod_is_not_privileged_and_uses_no_host_namespaces_by_default():
    pod = pod_for()
    assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod["spec"])
    assert not any("hostPath" in v for v in pod["spec"]["volumes"])
    for container in [*pod["spec"]["initContainers"], *pod["spec"]["containers"]]:
        assert not (container.get("securityContext") or {}).get("privileged")


def test_pod_labels_and_annotations_identify_the_attempt():
    pod = pod_for(task_id="dag/loop-3/train", display_name="Train (3)", attempt=2)
    labels, annotations = pod["metadata"]["labels"], pod["metadata"]["annotations"]
    assert labels[names.LABEL_MANAGED_BY] == "kfp-serverless"
    assert labels[names.LABEL_ATTEMPT] == "2"
    assert labels[names.LABEL_PIPELINE] == "my-pipeline"
    assert labels[names.LABEL_TASK] == names.label_value("dag/loop-3/train") != "dag/loop-3/train"
    assert annotations[names.ANNOTATION_TASK_ID] == "dag/loop-3/train"
    assert annotations[names.ANNOTATION_DISPLAY_NAME] == "Train (3)"


def test_ir_env_and_engine_env_reach_the_main_container():
    container = {"image": "img", "command": ["sh"], "env": [{"name": "A", "value": "1"}]}
    env = env_by_name(main_container(pod_for(container=container, env={"B": "2"})))
    assert env["A"]["value"] == "1" and env["B"]["value"] == "2"
    assert env["KFP_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_image_placeholder_is_resolved_from_parameters():
    container = {"image": "{{$.inputs.parameters['img']}}", "command": ["sh"]}
    assert (
        main_container(pod_for(container=container, parameters={"img": "busybox:1"}))["image"] == "busybox:1"
    )


# -- resources ---------------------------------------------------------------------------------------------------
def test_old_float_resource_fields_become_quantities():
    block = container_resources(
        {"cpuLimit": 2.0, "memoryLimit": 0.5, "cpuRequest": 0.25, "memoryRequest": 1}, {}
    )
    assert block == {"limits": {"cpu": "2", "memory": "0.5G"}, "requests": {"cpu": "0.25", "memory": "1G"}}


def test_new_string_resource_fields_win_and_resolve_placeholders():
    resources = {
        "cpuLimit": 4.0,
        "resourceCpuLimit": "{{$.inputs.parameters['pipelinechannel--cpu']}}",
        "resourceMemoryRequest": "512Mi",
    }
    block = container_resources(resources, {"pipelinechannel--cpu": "500m"})
    assert block == {"limits": {"cpu": "500m"}, "requests": {"memory": "512Mi"}}


def test_accelerator_becomes_an_extended_resource_limit():
    resources = {
        "accelerator": {"resourceType": "nvidia.com/gpu", "resourceCount": "2"},
        "resourceCpuLimit": "1",
    }
    pod = pod_for(container={"image": "img", "command": ["sh"], "resources": resources})
    assert main_container(pod)["resources"]["limits"] == {"cpu": "1", "nvidia.com/gpu": "2"}
    assert container_resources({"accelerator": {"type": "nvidia.com/gpu", "count": 1}}, {}) == {
        "limits": {"nvidia.com/gpu": "1"}
    }


def test_resource_placeholder_without_value_is_rejected():
    with pytest.raises(ResourceSpecError, match="no value"):
        container_resources({"resourceMemoryLimit": "{{$.inputs.parameters['mem']}}"}, {})


# -- platform features --------------------------------------------------------------------------------------------
def test_secret_as_env_from_constant_input_and_upstream_output():
    platform = {
        "secretAsEnv": [
            {
                "secretNameParameter": {"componentInputParameter": "secret_parm"},
                "keyToEnv": [{"secretKey": "username", "envVar": "USER_NAME"}],
            },
            {
                "secretName": "test-secret-2",
                "keyToEnv": [{"secretKey": "password", "envVar": "PW1"}],
                "optional": True,
            },
            {
                "secretNameParameter": {
                    "taskOutputParameter": {"producerTask": "gen", "outputParameterKey": "some_output"}
                },
                "keyToEnv": [{"secretKey": "password", "envVar": "PW2"}],
            },
        ]
    }
    parameters = {"secret_parm": "from-input", "pipelinechannel--gen-some_output": "from-upstream"}
    env = env_by_name(main_container(pod_for(platform, parameters=parameters)))
    assert env["USER_NAME"]["valueFrom"]["secretKeyRef"] == {
        "name": "from-input",
        "key": "username",
        "optional": False,
    }
    assert env["PW1"]["valueFrom"]["secretKeyRef"] == {
        "name": "test-secret-2",
        "key": "password",
        "optional": True,
    }
    assert env["PW2"]["valueFrom"]["secretKeyRef"]["name"] == "from-upstream"


def test_secret_and_configmap_as_volume_and_configmap_as_env():
    platform = {
        "secretAsVolume": [
            {"secretNameParameter": {"runtimeValue": {"constant": "s1"}}, "mountPath": "/mnt/secret"}
        ],
        "configMapAsVolume": [{"configMapName": "cm1", "mountPath": "/mnt/config", "optional": True}],
        "configMapAsEnv": [
            {"configMapName": "cm1", "keyToEnv": [{"configMapKey": "setting", "envVar": "SETTING"}]}
        ],
    }
    pod = pod_for(platform)
    mounts = mounts_by_path(main_container(pod))
    assert volume(pod, mounts["/mnt/secret"]["name"])["secret"] == {"secretName": "s1", "optional": False}
    assert volume(pod, mounts["/mnt/config"]["name"])["configMap"] == {"name": "cm1", "optional": True}
    assert mounts["/mnt/secret"]["readOnly"] is True
    env = env_by_name(main_container(pod))
    assert env["SETTING"]["valueFrom"]["configMapKeyRef"] == {
        "name": "cm1",
        "key": "setting",
        "optional": False,
    }


@pytest.mark.parametrize(
    "mount",
    [
        {"pvcNameParameter": {"runtimeValue": {"constant": "my-claim"}}},
        {"constant": "my-claim"},
        {"pvcNameParameter": {"componentInputParameter": "pvc_name"}, "componentInputParameter": "pvc_name"},
        {"taskOutputParameter": {"producerTask": "createpvc", "outputParameterKey": "name"}},
    ],
)
def test_pvc_mount_resolves_the_claim_name_in_every_form(mount):
    parameters = {"pvc_name": "my-claim", "pipelinechannel--createpvc-name": "my-claim"}
    pod = pod_for({"pvcMount": [{**mount, "mountPath": "/data", "subPath": "sub"}]}, parameters=parameters)
    data = mounts_by_path(main_container(pod))["/data"]
    assert data["subPath"] == "sub"
    assert volume(pod, data["name"])["persistentVolumeClaim"] == {"claimName": "my-claim"}


def test_pvc_mount_without_a_resolvable_name_is_rejected():
    with pytest.raises(PlatformSpecError, match="pvcMount"):
        build_pod(
            attempt({"pvcMount": [{"componentInputParameter": "pvc_name", "mountPath": "/data"}]}), settings()
        )


def test_scheduling_fields_node_selector_affinity_tolerations_pull_secrets():
    platform = {
        "nodeSelector": {"labels": {"disk": "ssd"}},
        "nodeAffinity": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]},
            {"matchExpressions": [{"key": "gpu", "operator": "Exists"}], "weight": 10},
        ],
        "tolerations": [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
            {"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute", "tolerationSeconds": 30},
        ],
        "imagePullSecret": [
            {"secretName": "regcred"},
            {"secretNameParameter": {"componentInputParameter": "p"}},
        ],
    }
    spec = pod_for(platform, parameters={"p": "regcred-2"})["spec"]
    assert spec["nodeSelector"] == {"disk": "ssd"}
    affinity = spec["affinity"]["nodeAffinity"]
    assert affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}
    ]
    assert affinity["preferredDuringSchedulingIgnoredDuringExecution"] == [
        {"weight": 10, "preference": {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}}
    ]
    assert spec["tolerations"][0] == {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    assert spec["tolerations"][1]["tolerationSeconds"] == 30
    assert spec["imagePullSecrets"] == [{"name": "regcred"}, {"name": "regcred-2"}]


def test_json_valued_scheduling_fields_come_from_parameters():
    platform = {
        "nodeSelector": {"nodeSelectorJson": {"componentInputParameter": "sel"}},
        "tolerations": [{"tolerationJson": {"componentInputParameter": "tol"}}],
        "nodeAffinity": [{"nodeAffinityJson": {"componentInputParameter": "aff"}}],
    }
    term = {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
    parameters = {
        "sel": {"disk": "ssd"},
        "tol": '[{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]',
        "aff": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}},
    }
    spec = pod_for(platform, parameters=parameters)["spec"]
    assert spec["nodeSelector"] == {"disk": "ssd"}
    assert [t["key"] for t in spec["tolerations"]] == ["a", "b"]
    assert spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ] == [term]


def test_field_path_env_and_pod_metadata():
    platform = {
        "fieldPathAsEnv": [{"name": "POD_TASK_LABEL", "fieldPath": "metadata.labels['task-label']"}],
        "podMetadata": {"labels": {"task-label": "l1"}, "annotations": {"task-annotation": "a1"}},
    }
    pod = pod_for(platform)
    assert pod["metadata"]["labels"]["task-label"] == "l1"
    assert pod["metadata"]["annotations"]["task-annotation"] == "a1"
    env = env_by_name(main_container(pod))
    assert env["POD_TASK_LABEL"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.labels['task-label']"


def test_pod_metadata_cannot_override_our_labels():
    pod = pod_for({"podMetadata": {"labels": {names.LABEL_RUN_ID: "other"}}})
    assert pod["metadata"]["labels"][names.LABEL_RUN_ID] != "other"


def test_pull_policy_deadline_empty_dirs_ephemeral_volumes_shared_memory_security_context():
    platform = {
        "imagePullPolicy": "Always",
        "activeDeadlineSeconds": 600,
        "emptyDirMounts": [
            {"volumeName": "scratch", "mountPath": "/scratch", "medium": "Memory", "sizeLimit": "1Gi"}
        ],
        "genericEphemeralVolume": [
            {
                "volumeName": "eph",
                "mountPath": "/eph",
                "accessModes": ["ReadWriteOnce"],
                "size": "5Gi",
                "storageClassName": "gp3",
                "metadata": {"labels": {"a": "b"}},
            }
        ],
        "enabledSharedMemory": {"volumeName": "shm", "size": "2Gi"},
        "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True},
    }
    pod = pod_for(platform)
    main = main_container(pod)
    assert main["imagePullPolicy"] == "Always"
    assert pod["spec"]["activeDeadlineSeconds"] == 600
    assert main["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True}
    mounts = mounts_by_path(main)
    assert volume(pod, mounts["/scratch"]["name"])["emptyDir"] == {"medium": "Memory", "sizeLimit": "1Gi"}
    template = volume(pod, mounts["/eph"]["name"])["ephemeral"]["volumeClaimTemplate"]
    assert template["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert template["spec"]["storageClassName"] == "gp3"
    assert template["metadata"] == {"labels": {"a": "b"}}
    assert volume(pod, mounts["/dev/shm"]["name"])["emptyDir"] == {"medium": "Memory", "sizeLimit": "2Gi"}


@pytest.mark.parametrize("platform", [{"securityContext": {"privileged": True}}, {"hostNetwork": True}])
def test_privilege_is_refused_unless_the_deployment_allows_it(platform):
    with pytest.raises(PlatformSpecError, match="does not allow"):
        build_pod(attempt(platform), settings())
    pod = validate_manifest(build_pod(attempt(platform), settings(allow_privileged=True)))
    assert pod["spec"].get("hostNetwork") or main_container(pod)["securityContext"]["privileged"]


def test_required_secret_without_a_name_is_rejected_but_optional_ones_are_left_out():
    required = {"secretAsEnv": [{"secretNameParameter": {"componentInputParameter": "s"}, "keyToEnv": []}]}
    with pytest.raises(PlatformSpecError, match="secretAsEnv"):
        build_pod(attempt(required), settings())
    optional = {
        "secretAsVolume": [
            {"secretNameParameter": {"componentInputParameter": "s"}, "mountPath": "/m", "optional": True}
        ]
    }
    assert "/m" not in mounts_by_path(main_container(pod_for(optional)))


def test_workspace_claim_is_mounted_only_for_tasks_that_use_the_workspace():
    platform = {"pipelineConfig": {"workspace": {"size": "1Gi"}}}
    assert "/kfp-workspace" not in mounts_by_path(main_container(pod_for(platform)))
    pod = pod_for(platform, parameters={"path": "{{$.workspace_path}}/data"})
    mount = mounts_by_path(main_container(pod))["/kfp-workspace"]
    claim = volume(pod, mount["name"])["persistentVolumeClaim"]["claimName"]
    assert claim == names.workspace_pvc_name(pod["metadata"]["annotations"][names.ANNOTATION_RUN_ID])
    assert "/kfp-workspace" in mounts_by_path(pod["spec"]["initContainers"][0])


def test_service_account_from_attempt_or_settings():
    from chalicelib.executors.protocol import AttemptLaunch

    pod = build_pod(attempt(), settings(service_account="kfp-pods"))
    assert pod["spec"]["serviceAccountName"] == "kfp-pods"
    base = attempt()
    pod = build_pod(
        AttemptLaunch(base.spec, base.namespace, {}, "team-sa"), settings(service_account="kfp-pods")
    )
    assert pod["spec"]["serviceAccountName"] == "team-sa"


# -- the corpus ----------------------------------------------------------------------------------------------------
def _references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("Json"):
                continue  # JSON-valued inputs stay unset: optional features are then left out
            if key == "componentInputParameter" and isinstance(value, str):
                found.add(value)
            elif key == "taskOutputParameter" and isinstance(value, dict):
                found.add(f"pipelinechannel--{value['producerTask']}-{value['outputParameterKey']}")
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def corpus_platform_configs() -> list[Any]:
    features = CORPUS / "FEATURES.tsv"
    if not features.exists():
        return []
    cases = []
    for line in features.read_text().splitlines():
        if "k8s:" not in line:
            continue
        path = next(iter(CORPUS.glob(f"*/{line.split(chr(9))[0]}")), None)
        if path is None:
            continue
        documents = list(yaml.safe_load_all(path.read_text()))
        executors = documents[-1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
        for label, config in executors.items():
            cases.append(pytest.param(config, id=f"{path.name}:{label}"))
    return cases


@pytest.mark.parametrize("platform", corpus_platform_configs())
def test_every_corpus_platform_config_builds_a_valid_pod(platform):
    parameters = {name: f"value-{i}" for i, name in enumerate(sorted(_references(platform)))}
    pod = pod_for(platform, parameters=parameters)
    assert main_container(pod)["image"] == "alpine:3.20"


def test_corpus_has_platform_configs():
    if not (CORPUS / "FEATURES.tsv").exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    assert len(corpus_platform_configs()) >= 12


# -- claims -----------------------------------------------------------------------------------------------------------
def test_create_pvc_manifest_by_name_and_by_suffix():
    inputs = {
        "access_modes": ["ReadWriteOnce"],
        "size": "5Gi",
        "pvc_name_suffix": "-my-pvc",
        "storage_class_name": "standard",
    }
    manifest = validate_manifest(create_pvc_manifest("run-1", "kubeflow", inputs))
    assert manifest["metadata"]["name"] == names.run_pvc_prefix("run-1") + "-my-pvc"
    assert (
        manifest["metadata"]["name"] == create_pvc_manifest("run-1", "kubeflow", inputs)["metadata"]["name"]
    )
    assert manifest["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "5Gi"}},
        "storageClassName": "standard",
    }
    named = create_pvc_manifest(
        "run-1",
        "kubeflow",
        {**inputs, "pvc_name_suffix": None, "pvc_name": "exact", "annotations": {"a": "b"}},
    )
    assert named["metadata"]["name"] == "exact" and named["metadata"]["annotations"] == {"a": "b"}


@pytest.mark.parametrize(
    "inputs",
    [
        {"access_modes": ["ReadWriteOnce"], "size": "1Gi"},
        {"access_modes": ["ReadWriteOnce"], "size": "1Gi", "pvc_name": "a", "pvc_name_suffix": "-b"},
        {"access_modes": ["ReadWriteOnce"], "pvc_name": "a"},
    ],
)
def test_create_pvc_with_bad_inputs_is_refused(inputs):
    with pytest.raises(PvcSpecError):
        create_pvc_manifest("run-1", "kubeflow", inputs)


def test_workspace_pvc_applies_the_spec_patch():
    workspace = {
        "size": "10Gi",
        "kubernetes": {"pvcSpecPatch": {"accessModes": ["ReadWriteMany"], "storageClassName": "efs"}},
    }
    manifest = validate_manifest(workspace_pvc_manifest("run-1", "kubeflow", workspace))
    assert manifest["spec"]["accessModes"] == ["ReadWriteMany"]
    assert manifest["spec"]["storageClassName"] == "efs"
    assert manifest["spec"]["resources"]["requests"]["storage"] == "10Gi"


# -- pod affinity, init containers, OCI artifacts, unknown fields -------------------------------------------------
def test_pod_affinity_and_anti_affinity_terms_required_and_preferred():
    platform = {
        "nodeAffinity": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}],
        "podAffinity": [
            {"matchPodLabels": {"app": "cache"}, "topologyKey": "kubernetes.io/hostname"},
            {
                "matchPodExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}],
                "topologyKey": "topology.kubernetes.io/zone",
                "namespaces": ["data"],
                "matchNamespaceLabels": {"team": "ml"},
                "weight": 40,
            },
            {"matchPodLabels": {"app": "train"}, "topologyKey": "kubernetes.io/hostname", "anti": True},
        ],
    }
    affinity = pod_for(platform)["spec"]["affinity"]
    assert affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert affinity["podAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "kubernetes.io/hostname"}
        ],
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 40,
                "podAffinityTerm": {
                    "labelSelector": {
                        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]
                    },
                    "namespaceSelector": {"matchLabels": {"team": "ml"}},
                    "namespaces": ["data"],
                    "topologyKey": "topology.kubernetes.io/zone",
                },
            }
        ],
    }
    assert affinity["podAntiAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "train"}}, "topologyKey": "kubernetes.io/hostname"}
        ]
    }


def test_pod_affinity_without_topology_key_is_rejected():
    with pytest.raises(PlatformSpecError, match=r"podAffinity\[0\]: topologyKey"):
        build_pod(attempt({"podAffinity": [{"matchPodLabels": {"app": "x"}}]}), settings())


def init_containers_platform(**overrides: Any) -> dict[str, Any]:
    """What kfp-kubernetes' `add_init_container` writes (two of them), over an emptyDir and a PVC mount."""
    fetch = {
        "name": "fetch",
        "image": "busybox:1.36",
        "command": ["sh", "-c"],
        "args": ["echo ready > /work/flag"],
        "env": [{"name": "MODE", "value": "fast"}],
        "volumeMounts": [
            {"volumeName": "work", "mountPath": "/work"},
            {"volumeName": "data", "mountPath": "/d"},
        ],
        "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "64Mi"}},
        **overrides,
    }
    proxy = {"name": "proxy", "image": "envoy:1", "restartPolicy": "Always"}
    return {
        "emptyDirMounts": [{"volumeName": "work", "mountPath": "/work"}],
        "pvcMount": [{"pvcNameParameter": {"runtimeValue": {"constant": "data"}}, "mountPath": "/data"}],
        "initContainers": [fetch, proxy],
    }


def test_init_containers_run_after_prepare_hardened_with_the_pods_volumes():
    pod = pod_for(init_containers_platform())
    prepare, fetch, proxy = pod["spec"]["initContainers"]
    assert prepare["name"] == "kfp-prepare"
    assert fetch["image"] == "busybox:1.36"
    assert fetch["command"] == ["sh", "-c"] and fetch["args"] == ["echo ready > /work/flag"]
    assert fetch["env"] == [{"name": "MODE", "value": "fast"}]
    assert fetch["resources"] == {"requests": {"cpu": "100m"}, "limits": {"memory": "64Mi"}}
    assert fetch["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    main_mounts = mounts_by_path(main_container(pod))
    assert {m["mountPath"]: m["name"] for m in fetch["volumeMounts"]} == {
        "/work": main_mounts["/work"]["name"],
        "/d": main_mounts["/data"]["name"],  # the PVC is named by its claim, as KFP names the volume
    }
    assert proxy["restartPolicy"] == "Always"  # a native sidecar


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"name": "main"}, "already taken"),
        ({"name": "kfp-launcher"}, "already taken"),
        ({"name": "proxy"}, "already taken"),
        ({"image": ""}, "image is required"),
        ({"volumeMounts": [{"volumeName": "nowhere", "mountPath": "/x"}]}, "'nowhere'"),
        ({"volumeMounts": [{"volumeName": "work", "mountPath": "rel"}]}, "absolute"),
        ({"restartPolicy": "OnFailure"}, "restartPolicy"),
        ({"env": [{"value": "x"}]}, "no name"),
    ],
)
def test_bad_init_containers_are_rejected(overrides, words):
    with pytest.raises(PlatformSpecError, match=words):
        build_pod(attempt(init_containers_platform(**overrides)), settings())


def test_unsupported_platform_fields_are_rejected_not_ignored():
    platform = {
        "podResourceClaims": [{"resourceClaimTemplateName": "gpu"}],
        "nodeSelector": {"labels": {"a": "b"}},
    }
    with pytest.raises(PlatformSpecError, match="unsupported kubernetes platform field.*podResourceClaims"):
        build_pod(attempt(platform), settings())


def oci_model(uri: str = "oci://registry.example.com/models/llm:v1") -> dict[str, Any]:
    return {"uri": uri, "name": "model", "type": {"schemaTitle": "system.Model"}, "metadata": {}}


def test_oci_input_artifacts_are_image_volumes_at_their_kfp_paths():
    artifacts = {"model": [oci_model()], "again": [oci_model()], "data": [{"uri": "s3://b/k", "name": "d"}]}
    pod = validate_manifest(build_pod(attempt(artifacts=artifacts), settings(image_volumes=True)))
    (oci,) = [v for v in pod["spec"]["volumes"] if "image" in v]
    assert oci["image"] == {"reference": "registry.example.com/models/llm:v1", "pullPolicy": "IfNotPresent"}
    path = "/oci/registry.example.com_models_llm:v1"  # the model's data is the image's /models below it
    for container in (main_container(pod), pod["spec"]["initContainers"][0]):
        assert mounts_by_path(container)[path] == {"name": oci["name"], "mountPath": path, "readOnly": True}


def test_oci_input_artifacts_are_refused_without_image_volumes():
    with pytest.raises(
        ValueError, match="model.*oci://registry.example.com/models/llm:v1.*KFPS_K8S_IMAGE_VOLUMES"
    ):
        build_pod(attempt(artifacts={"model": [oci_model()]}), settings())


def test_the_pod_policy_default_requests_fill_only_what_a_task_leaves_unset():
    defaults = (("cpu", "250m"), ("memory", "512Mi"))
    bare = build_pod(
        attempt(container={"image": "img", "command": ["sh"]}), settings(default_requests=defaults)
    )
    assert main_container(validate_manifest(bare))["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"}
    }
    limited = {"resourceCpuLimit": "2", "resourceMemoryRequest": "1Gi"}
    pod = build_pod(
        attempt(container={"image": "img", "command": ["sh"], "resources": limited}),
        settings(default_requests=defaults),
    )
    assert main_container(validate_manifest(pod))["resources"] == {
        "limits": {"cpu": "2"},
        "requests": {"memory": "1Gi"},
    }
    assert "resources" not in main_container(pod_for(container={"image": "img", "command": ["sh"]}))


def test_the_kubernetes_settings_take_the_default_requests_from_the_pod_policy():
    from chalicelib.executors.k8s.settings import KubernetesSettings
    from chalicelib.settings import Settings

    app = Settings.from_env({"KFPS_DEFAULT_TASK_CPU": "100m", "KFPS_DEFAULT_TASK_MEMORY": "256Mi"})
    assert KubernetesSettings.from_app_settings(app, {}).default_requests == (
        ("cpu", "100m"),
        ("memory", "256Mi"),
    )
