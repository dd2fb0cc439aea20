"""A process kubelet for tests: runs each pod the fake API server accepts as local processes.

Images are ignored. Init containers run in order, then the containers concurrently; each container is one
process in its own private mount namespace (`unshare --mount --propagation private`) where the pod's
volumes (emptyDir, PVC, secret, configMap, ephemeral: all plain host directories) are bind-mounted at their
mountPaths. Mount points are created on the host (empty directories) because mkdir is not namespaced.
Like a container's own root file system, `/tmp` (and /opt, /srv, /var, /home, /mnt, /media) is private to each
container: an overlay of the host's directory whose writes go to the container's tmpfs (KFP v1 steps all write
`/tmp/outputs/...`). New top-level directories and files directly under `/` still reach the host, and so do
writes under `shared_dirs` (the tests' temporary directory, through which tests hand files to pods). Secrets come from
`add_secret` or from Secret objects created through the API.
Exit codes, phases and logs flow back through the fake API (`status.containerStatuses[].state`, `/log`).
Deleting a pod kills its process groups. Needs root and unshare: see `mount_namespaces_available()`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from tests.executors.k8s_fake.server import FakeKube, timestamp

# Like a container's own root file system, writes under these go to the container's tmpfs, not the host.
PRIVATE_TOP_DIRS = ("/tmp", "/opt", "/srv", "/var", "/home", "/mnt", "/media")


def mount_namespaces_available() -> bool:
    """Whether this process may create private mount namespaces and bind-mount (root on Linux)."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", "mount --bind / /mnt"],
        capture_output=True,
    )
    return probe.returncode == 0


class ProcessKubelet:
    """Subscribes to `fake.on_create` / `on_delete`; `base_env` is every container's starting environment."""

    def __init__(
        self,
        fake: FakeKube,
        base_env: dict[str, str],
        cwd: str,
        root: Path | None = None,
        shared_dirs: tuple[Path, ...] = (),
    ) -> None:
        self.fake = fake
        self.base_env = dict(base_env)
        self.cwd = cwd
        self.root = root or Path(tempfile.mkdtemp(prefix="kubelet-"))
        self.shared_dirs = tuple(shared_dirs)  # host directories that stay shared inside the private top dirs
        self._processes: dict[tuple[str, str], list[subprocess.Popen[bytes]]] = {}
        self._deleted: set[tuple[str, str]] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        fake.on_create.append(self._pod_created)
        fake.on_delete.append(self._pod_deleted)

    def wait_idle(self, timeout: float = 60) -> None:
        """Join every pod thread (tests call this before asserting on final statuses)."""
        for thread in list(self._threads):
            thread.join(timeout)

    # -- fake API callbacks ------------------------------------------------------------------------------------
    def _pod_created(self, pod: dict[str, Any]) -> None:
        thread = threading.Thread(target=self._run_pod, args=(pod,), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _pod_deleted(self, pod: dict[str, Any]) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        with self._lock:
            self._deleted.add(key)
            processes = list(self._processes.get(key, []))
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # -- running a pod -----------------------------------------------------------------------------------------
    def _volume_dirs(self, pod: dict[str, Any], pod_dir: Path) -> dict[str, Path]:
        namespace = pod["metadata"]["namespace"]
        dirs: dict[str, Path] = {}
        for volume in pod["spec"].get("volumes") or []:
            name = volume["name"]
            if "persistentVolumeClaim" in volume:
                path = self.root / "claims" / namespace / volume["persistentVolumeClaim"]["claimName"]
            else:
                path = pod_dir / "volumes" / name
            path.mkdir(parents=True, exist_ok=True)
            os.chmod(path, 0o777)
            config_map = (volume.get("configMap") or {}).get("name")
            for item in self.fake.objects_of("configmaps", namespace) if config_map else ():
                if item["metadata"]["name"] == config_map:
                    for key, value in (item.get("data") or {}).items():
                        (path / key).write_text(value)
            secret = (volume.get("secret") or {}).get("secretName")
            for key, value in (self.fake.secret_data(namespace, secret) or {}).items() if secret else ():
                (path / key).write_text(value)
            dirs[name] = path
        return dirs

    def _env(self, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str] | None:
        """The container's environment; None when a required secret key is missing (config error)."""
        env = dict(self.base_env)
        meta = pod["metadata"]
        for item in container.get("env") or []:
            source = item.get("valueFrom")
            if source is None:
                env[item["name"]] = item.get("value", "")
            elif "fieldRef" in source:
                path = source["fieldRef"]["fieldPath"]
                if match := re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path):
                    value = (meta.get(match.group(1)) or {}).get(match.group(2), "")
                else:
                    value = str(meta.get(path.removeprefix("metadata."), ""))
                env[item["name"]] = value
            elif "secretKeyRef" in source:
                ref = source["secretKeyRef"]
                data = self.fake.secret_data(meta["namespace"], ref["name"]) or {}
                if ref["key"] in data:
                    env[item["name"]] = data[ref["key"]]
                elif not ref.get("optional"):
                    return None
        return env

    def _start(self, pod: dict[str, Any], container: dict[str, Any], dirs: dict[str, Path], pod_dir: Path):
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        env = self._env(pod, container)
        if env is None:
            return None
        # Paths relative to the kubelet's root (the shell's cwd, a host directory): once the private /tmp covers
        # the host's, absolute paths under /tmp would resolve into it, relative ones from the cwd do not.
        private = pod_dir.relative_to(self.root) / "private" / container["name"]
        (self.root / private).mkdir(parents=True, exist_ok=True)
        q = shlex.quote
        lines = ["set -e", f"cd {q(str(self.root))}", f"mount -t tmpfs kubelet-private {q(str(private))}"]
        for index, shared in enumerate(self.shared_dirs):
            # Held before the overlays exist, put back over them after: writes there reach the host.
            lines.append(f"mkdir -p {q(str(private / f'shared{index}'))}")
            lines.append(f"mount -c --bind {q(str(shared))} {q(str(private / f'shared{index}'))}")
        for index, top in enumerate(PRIVATE_TOP_DIRS):
            if not os.path.isdir(top):
                continue
            upper, work = private / f"upper{index}", private / f"work{index}"
            options = f"lowerdir={top},upperdir={upper},workdir={work}"
            lines.append(f"mkdir -p {q(str(upper))} {q(str(work))}")
            lines.append(f"mount -t overlay kubelet-private-{index} -o {q(options)} {q(top)}")
        for index, shared in enumerate(self.shared_dirs):
            lines.append(f"mount -c --bind {q(str(private / f'shared{index}'))} {q(str(shared))}")
        for mount in container.get("volumeMounts") or []:
            source = dirs[mount["name"]] / mount.get("subPath", "")
            source.mkdir(parents=True, exist_ok=True)
            target = q(mount["mountPath"])
            relative = q(str(source.relative_to(self.root)))
            lines.append(f"mkdir -p {target} && mount -c --bind {relative} {target}")
            if mount.get("readOnly"):
                lines.append(f"mount -o remount,bind,ro {target}")
        lines.append(f"cd {q(str(container.get('workingDir') or self.cwd))}")
        lines.append('exec "$@"')
        argv = [*container.get("command", []), *container.get("args", [])]
        log_path = pod_dir / f"{container['name']}.log"
        self.fake.set_log(*key, container["name"], lambda: log_path.read_text(errors="replace"))
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(lines), "sh", *argv],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
            )
        with self._lock:
            self._processes.setdefault(key, []).append(process)
            if key in self._deleted:
                os.killpg(process.pid, signal.SIGKILL)
        return process

    def _set_container(self, key: tuple[str, str], field: str, name: str, state: dict[str, Any]) -> bool:
        def mutate(status: dict[str, Any]) -> None:
            entries = status.setdefault(field, [])
            entry = next((e for e in entries if e["name"] == name), None)
            if entry is None:
                entry = {"name": name, "ready": False, "restartCount": 0, "image": "", "imageID": ""}
                entries.append(entry)
            entry["state"] = state
            entry["ready"] = "running" in state

        return self.fake.update_status(*key, mutate)

    def _terminated(self, process: subprocess.Popen[bytes], started: str) -> dict[str, Any]:
        code = process.wait()
        if code < 0:  # killed by a signal: report it the way the container runtime does
            code = 128 - code
        reason = "Completed" if code == 0 else "Error"
        return {
            "terminated": {
                "exitCode": code,
                "reason": reason,
                "startedAt": started,
                "finishedAt": timestamp(),
            }
        }

    def _run_pod(self, pod: dict[str, Any]) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        pod_dir = self.root / "pods" / key[0] / key[1]
        pod_dir.mkdir(parents=True, exist_ok=True)
        dirs = self._volume_dirs(pod, pod_dir)
        init_containers = pod["spec"].get("initContainers") or []
        containers = pod["spec"]["containers"]

        def start_pod(status: dict[str, Any]) -> None:
            status.update(phase="Pending", startTime=timestamp())
            status["conditions"] = [{"type": "PodScheduled", "status": "True"}]

        if not self.fake.update_status(*key, start_pod):
            return
        waiting = {"waiting": {"reason": "PodInitializing"}}
        for container in containers:
            self._set_container(key, "containerStatuses", container["name"], waiting)
        for container in init_containers:
            started = timestamp()
            process = self._start(pod, container, dirs, pod_dir)
            if process is None:
                config_error = {
                    "waiting": {"reason": "CreateContainerConfigError", "message": "secret not found"}
                }
                self._set_container(key, "initContainerStatuses", container["name"], config_error)
                return
            self._set_container(
                key, "initContainerStatuses", container["name"], {"running": {"startedAt": started}}
            )
            state = self._terminated(process, started)
            if not self._set_container(key, "initContainerStatuses", container["name"], state):
                return
            if state["terminated"]["exitCode"] != 0:
                self.fake.update_status(*key, lambda s: s.update(phase="Failed"))
                return
        started = timestamp()
        processes = []
        for container in containers:
            process = self._start(pod, container, dirs, pod_dir)
            if process is None:
                config_error = {
                    "waiting": {"reason": "CreateContainerConfigError", "message": "secret not found"}
                }
                self._set_container(key, "containerStatuses", container["name"], config_error)
                for other in processes:
                    os.killpg(other[1].pid, signal.SIGKILL)
                return
            processes.append((container["name"], process))
            self._set_container(
                key, "containerStatuses", container["name"], {"running": {"startedAt": started}}
            )
        self.fake.update_status(*key, lambda s: s.update(phase="Running"))
        codes = []
        waiters = []
        for name, process in processes:

            def wait(name: str = name, process: subprocess.Popen[bytes] = process) -> None:
                state = self._terminated(process, started)
                codes.append(state["terminated"]["exitCode"])
                self._set_container(key, "containerStatuses", name, state)

            waiter = threading.Thread(target=wait, daemon=True)
            waiter.start()
            waiters.append(waiter)
        for waiter in waiters:
            waiter.join()
        phase = "Succeeded" if all(code == 0 for code in codes) else "Failed"
        self.fake.update_status(*key, lambda s: s.update(phase=phase))
