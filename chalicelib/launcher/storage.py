"""Moving bytes: input artifacts in, output artifacts out, task and result files — locally or on S3.

Local URIs (absolute paths) need no copying: the URI is the path. `s3://` URIs are downloaded into (and
uploaded from) the path KFP maps them to; boto3 is imported only then (it honours AWS_ENDPOINT_URL, so moto
works). `oci://` inputs are never fetched: the pod mounts the image at the mapped path (an image volume), and
a task whose OCI data is not there fails before its command runs. Other remote URIs (gs://, minio://,
http://) cannot be fetched here: that is logged as an error and the command runs on, finding no file at the
mapped path.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from chalicelib.launcher.artifact_paths import OCI_PREFIX
from chalicelib.launcher.errors import LauncherError

logger = logging.getLogger(__name__)

S3_PREFIX = "s3://"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` → `("bucket", "key")`."""
    bucket, _, key = uri[len(S3_PREFIX) :].partition("/")
    if not bucket:
        raise LauncherError(f"malformed S3 URI {uri!r}")
    return bucket, key


@functools.cache
def s3_client() -> Any:
    """A boto3 S3 client, created on first use only."""
    import boto3

    return boto3.client("s3")


def read_text(location: str) -> str:
    """The text at a local path or an `s3://` URI."""
    if location.startswith(S3_PREFIX):
        bucket, key = split_s3_uri(location)
        return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return Path(location).read_text()


def write_text(location: str, text: str) -> None:
    """Write text to a local path atomically and durably (temp file, fsync, rename, fsync of the directory)
    or to an `s3://` URI."""
    if location.startswith(S3_PREFIX):
        bucket, key = split_s3_uri(location)
        s3_client().put_object(Bucket=bucket, Key=key, Body=text.encode())
        return
    target = Path(location)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temp, target)
    _fsync(target.parent)


def _fsync(path: Path) -> None:
    """Flush a file, or a directory entry list, to disk."""
    descriptor = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sync_tree(path: Path) -> None:
    """fsync a local output (a file, or every file and folder of a tree) and its folder, so an output the
    task's result reports survives a machine crash."""
    if path.is_dir():
        for folder, _, files in os.walk(path):
            for name in files:
                _fsync(Path(folder) / name)
            _fsync(Path(folder))
    elif path.exists():
        _fsync(path)
    _fsync(path.parent)


def fetch_input(uri: str, local_path: str) -> None:
    """Make an input artifact's data appear at `local_path` (a file or a directory tree)."""
    if uri.startswith(S3_PREFIX):
        _download(uri, Path(local_path))
    elif uri.startswith(OCI_PREFIX):
        if not Path(local_path).exists():
            raise LauncherError(
                f"input artifact {uri} is not mounted at {local_path}: oci:// artifacts need the Kubernetes "
                "executor on a cluster with image volumes"
            )
    elif "://" in uri:
        logger.error(
            "input artifact %s cannot be fetched: only local paths and s3:// URIs are readable here; "
            "the command will find no data at %s",
            uri,
            local_path,
        )


def store_output(source_path: str, uri: str, local_path: str) -> None:
    """Store an output artifact written at `source_path` under `uri` (whose mapped path is `local_path`).

    A local URI written in place is only synced to disk; an output with no file (e.g. Metrics) is skipped.
    """
    source = Path(source_path)
    if not source.exists():
        return
    if uri.startswith(S3_PREFIX):
        _upload(source, uri)
    elif "://" in uri:
        raise LauncherError(f"cannot store output artifact at {uri}: only local paths and s3:// are writable")
    elif os.path.abspath(source_path) != os.path.abspath(local_path):
        target = Path(local_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, target)
        sync_tree(target)
    else:
        sync_tree(source)


def _download(uri: str, target: Path) -> None:
    bucket, key = split_s3_uri(uri)
    client = s3_client()
    prefix = key.rstrip("/")
    found = False
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            object_key: str = item["Key"]
            if object_key == prefix:
                destination = target
            elif object_key.startswith(prefix + "/"):
                destination = target / object_key[len(prefix) + 1 :]
            else:
                continue
            if object_key.endswith("/"):
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, object_key, str(destination))
            found = True
    if not found:
        raise LauncherError(f"input artifact {uri} does not exist")


def _upload(source: Path, uri: str) -> None:
    bucket, key = split_s3_uri(uri)
    client = s3_client()
    if source.is_file():
        client.upload_file(str(source), bucket, key)
        return
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        client.upload_file(str(path), bucket, f"{key.rstrip('/')}/{path.relative_to(source).as_posix()}")
