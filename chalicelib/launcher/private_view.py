"""A private view of the file system for one local attempt of a KFP v1 step.

KFP v1 steps read and write fixed absolute paths (`/tmp/inputs/<name>/data`, `/tmp/outputs/<name>/data`,
`file_outputs` anywhere). In a pod each container has its own root file system; locally every attempt runs in
its own mount namespace (`unshare --mount`, or `unshare --user --map-root-user --mount` without root) where
`/tmp` — and the top-level directory of every other path the step uses — is an overlay whose writes go to a
private tmpfs: the step sees the host's files but nobody sees its writes, so parallel steps and loop
iterations never meet. The step's volumes are bind-mounted like a kubelet would: `emptyDir` a directory of
the attempt, `persistentVolumeClaim` a directory per claim under the volume root, `hostPath` the host path.

Mount points that do not exist on the host are created there (an empty directory, or an empty file for a
path directly under `/`), as a kubelet does; that is logged. Without mount namespaces the step runs as it is,
sharing `/tmp` with everything else, and says so loudly in its log.
"""

from __future__ import annotations

import functools
import logging
import os
import posixpath
import shlex
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chalicelib.launcher.errors import LauncherError

logger = logging.getLogger(__name__)

ROOT_NAMESPACE = ("unshare", "--mount", "--propagation", "private")
USER_NAMESPACE = ("unshare", "--user", "--map-root-user", "--mount", "--propagation", "private")
FORBIDDEN_TOP_DIRS = frozenset({"/", "/proc", "/sys", "/dev"})
NO_NAMESPACE_WARNING = (
    "WARNING: no private mount namespace is available here (`unshare --mount` failed), so this KFP v1 step "
    "sees the host's /tmp: steps running at the same time can overwrite each other's /tmp/inputs and "
    "/tmp/outputs files. Run the stack as root, or allow unprivileged user namespaces, to isolate them."
)


@functools.cache
def namespace_command() -> tuple[str, ...]:
    """The `unshare` prefix that gives a private mount namespace with working tmpfs and overlay mounts here,
    or () when there is none (probed once per process)."""
    probe = (
        'd=$(mktemp -d) && mount -t tmpfs kfp-probe "$d" && mkdir "$d/l" "$d/u" "$d/w" "$d/m" && '
        'mount -t overlay kfp-probe -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m"'
    )
    candidates = [ROOT_NAMESPACE] if os.geteuid() == 0 else []
    candidates.append(USER_NAMESPACE)
    for candidate in candidates:
        try:
            done = subprocess.run(
                [*candidate, "sh", "-c", probe], capture_output=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return candidate
    return ()


def top_of(path: str) -> str:
    """`/tmp/outputs/x/data` → `/tmp`; `/output.txt` → `/output.txt`."""
    parts = [part for part in posixpath.normpath(path).split("/") if part]
    return "/" + parts[0] if parts else "/"


def _containers(step: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [step["container"], *(step.get("init_containers") or []), *(step.get("sidecars") or [])]


def file_paths(step: Mapping[str, Any]) -> list[str]:
    """Every absolute path the step reads inputs from or writes outputs to."""
    paths = [str(entry["path"]) for entry in step.get("input_artifacts") or [] if entry.get("path")]
    paths += [str(entry["path"]) for entry in step.get("output_parameters") or [] if entry.get("path")]
    paths += [str(entry["path"]) for entry in step.get("output_artifacts") or [] if entry.get("path")]
    return [path for path in paths if path.startswith("/")]


def mount_paths(step: Mapping[str, Any]) -> list[str]:
    """Every directory the step's containers mount a volume at."""
    paths = [
        str(mount["mountPath"])
        for container in _containers(step)
        for mount in container.get("volumeMounts") or []
    ]
    return [path for path in paths if path.startswith("/")]


def _volume_source(volume: Mapping[str, Any], stage: Path, volume_root: Path) -> Path:
    name = str(volume["name"])
    if "emptyDir" in volume:
        return stage / "volumes" / name
    if "persistentVolumeClaim" in volume:
        return volume_root / "claims" / str(volume["persistentVolumeClaim"].get("claimName", name))
    if "hostPath" in volume:
        return Path(str(volume["hostPath"].get("path", "")))
    kinds = sorted(set(volume) - {"name"})
    raise LauncherError(
        f"volume {name!r} ({', '.join(kinds)}) needs the kubernetes executor; locally only emptyDir, "
        "persistentVolumeClaim and hostPath volumes can be mounted"
    )


def _prepare_host_mount_points(tops: Sequence[str], files: Sequence[str]) -> None:
    for top in tops:
        if not os.path.isdir(top):
            if os.path.exists(top):
                raise LauncherError(
                    f"{top} exists on this host and is not a directory; it cannot be made private"
                )
            os.makedirs(top, exist_ok=True)
            logger.warning("created the empty directory %s on this host as a mount point", top)
    for file in files:
        if not os.path.exists(file):
            Path(file).touch()
            logger.warning("created the empty file %s on this host as a mount point", file)


def sandbox_script(step: Mapping[str, Any], stage: Path, volume_root: Path) -> str:
    """The script that sets up the private view and then runs `./step.sh "$@"` (cwd: the stage directory)."""
    paths, mounted = file_paths(step), mount_paths(step)
    # A file directly under / gets a private file bound over it; a volume mounted directly under / needs no
    # private view of its own (the volume is the view); everything else lives in a private top directory.
    tops = sorted({"/tmp", *(top_of(path) for path in [*paths, *mounted] if top_of(path) != path)})
    files = sorted({path for path in paths if top_of(path) == path})
    top_mounts = sorted({path for path in mounted if top_of(path) == path})
    for forbidden in sorted(set(tops) & FORBIDDEN_TOP_DIRS):
        raise LauncherError(f"a KFP v1 step cannot use paths under {forbidden} locally")
    volumes = {str(volume["name"]): volume for volume in (step.get("pod") or {}).get("volumes") or []}
    mounts = [mount for container in _containers(step) for mount in container.get("volumeMounts") or []]
    used = sorted({str(mount["name"]) for mount in mounts})
    for name in used:
        if name not in volumes:
            raise LauncherError(f"volumeMount {name!r} names no volume of the pod")
    sources = {name: _volume_source(volumes[name], stage, volume_root) for name in used}
    for source in sources.values():
        source.mkdir(parents=True, exist_ok=True)
    _prepare_host_mount_points([*tops, *top_mounts], files)
    q = shlex.quote
    lines = [
        "#!/bin/sh",
        "# The private view of this attempt (see chalicelib/launcher/private_view.py), then the step.",
        "set -e",
        f"cd {q(str(stage))}",
        "mount -t tmpfs kfp-private ./private",
    ]
    for index, name in enumerate(used):
        # Bound before any overlay exists, so that a source under /tmp is the host's directory.
        lines.append(
            f"mkdir -p ./private/volumes/{index} && mount -c --bind {q(str(sources[name]))} ./private/volumes/{index}"
        )
    for index, top in enumerate(tops):
        lines.append(f"mkdir -p ./private/upper/{index} ./private/work/{index}")
        lines.append(
            f"mount -t overlay kfp-private-{index} "
            f"-o {q(f'lowerdir={top},upperdir=./private/upper/{index},workdir=./private/work/{index}')} {q(top)}"
        )
    for index, file in enumerate(files):
        lines.append(f": > ./private/file-{index} && mount -c --bind ./private/file-{index} {q(file)}")
    for mount in mounts:
        index = used.index(str(mount["name"]))
        source = f"./private/volumes/{index}"
        if mount.get("subPath"):
            source = f"{source}/{mount['subPath']}"
            lines.append(f"mkdir -p {q(source)}")
        target = q(str(mount["mountPath"]))
        lines.append(f"mkdir -p {target} && mount -c --bind {q(source)} {target}")
        if mount.get("readOnly"):
            lines.append(f"mount -o remount,bind,ro {target}")
    lines.append("set +e")
    lines += _helper_containers(step)
    lines += [
        'KFP_STEP_DIR=. KFP_STEP_CWD="${KFP_STEP_CWD:-$PWD/cwd}" /bin/sh ./step.sh "$@"',
        "kfp_rc=$?",
        'for pid in $kfp_sidecars; do kill "$pid" 2>/dev/null; done',
        'exit "$kfp_rc"',
    ]
    return "\n".join(lines) + "\n"


def _helper_containers(step: Mapping[str, Any]) -> list[str]:
    """Init containers run first (one failing fails the step); sidecars run in the background until the
    step's command has ended. Their images are ignored too."""
    q = shlex.quote
    lines = ["kfp_sidecars="]
    for container in step.get("init_containers") or []:
        argv = [*(container.get("command") or []), *(container.get("args") or [])]
        if not argv:
            raise LauncherError(f"init container {container.get('name')!r} has no command to run locally")
        env = " ".join(f"{name}={q(value)}" for name, value in _plain_env(container).items())
        lines.append(f"echo '[launcher] init container {container.get('name')}'")
        lines.append(f"env {env} {shlex.join(argv)} || exit $?")
    for container in step.get("sidecars") or []:
        argv = [*(container.get("command") or []), *(container.get("args") or [])]
        if not argv:
            raise LauncherError(f"sidecar {container.get('name')!r} has no command to run locally")
        env = " ".join(f"{name}={q(value)}" for name, value in _plain_env(container).items())
        lines.append(f"echo '[launcher] sidecar {container.get('name')}'")
        lines.append(f"env {env} {shlex.join(argv)} &")
        lines.append('kfp_sidecars="$kfp_sidecars $!"')
    return lines


def _plain_env(container: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(item["name"]): str(item.get("value", ""))
        for item in container.get("env") or []
        if "name" in item and "valueFrom" not in item
    }


def write_sandbox(step: Mapping[str, Any], stage: Path, volume_root: Path) -> list[str] | None:
    """Write the stage's `sandbox.sh` and return the argv prefix that runs a command in the private view, or
    None when this machine has no mount namespaces (the caller runs the step as it is, after the warning)."""
    prefix = namespace_command()
    if not prefix:
        if any(container.get("volumeMounts") for container in _containers(step)):
            raise LauncherError("this step mounts volumes, which needs a private mount namespace (unshare)")
        return None
    (stage / "private").mkdir(exist_ok=True)
    (stage / "cwd").mkdir(exist_ok=True)
    script = stage / "sandbox.sh"
    script.write_text(sandbox_script(step, stage, volume_root))
    return [*prefix, "/bin/sh", str(script)]


def default_volume_root() -> Path:
    return Path(tempfile.gettempdir()) / "kfps-volumes"
