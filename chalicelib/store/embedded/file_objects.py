"""The embedded object store: one file per key under a directory (the `ObjectStore` protocol).

A put writes a temporary file in the target's directory, fsyncs it, renames it over the target and fsyncs the
directory (and every directory it had to create), so once `put_bytes` returns the object survives a killed
process or a machine crash, and a reader sees either the old bytes or the new ones, never a torn file. ETags are
the MD5 of the bytes, as S3's are for simple puts.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

from chalicelib.store.errors import NotFound, PresignedUrlsUnsupported, StoreError
from chalicelib.store.protocols import ObjectStore
from chalicelib.store.records import ObjectInfo
from chalicelib.timestamps import format_epoch

_TEMP_MARKER = ".tmp-"


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and _TEMP_MARKER in name


class FileObjectStore(ObjectStore):
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._etags: dict[str, tuple[int, int, str]] = {}  # key → (mtime_ns, size, etag)
        self._etags_lock = threading.Lock()

    def path_of(self, key: str) -> Path:
        """The file of `key`. StoreError for keys that are not plain relative paths."""
        parts = key.split("/")
        if (
            not key
            or key.startswith("/")
            or "\\" in key
            or "\0" in key
            or any(part in ("", ".", "..") for part in parts)
            or _is_temporary(parts[-1])
        ):
            raise StoreError(f"object key {key!r} is not a plain relative path")
        return self.root.joinpath(*parts)

    def _make_directories(self, directory: Path) -> None:
        """Create `directory` and its missing parents, fsyncing each parent that got a new entry."""
        missing: list[Path] = []
        current = directory
        while not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                continue
            _fsync_directory(path.parent)

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        target = self.path_of(key)
        temp = target.parent / f".{target.name}{_TEMP_MARKER}{uuid.uuid4().hex}"
        try:
            self._make_directories(target.parent)
            with open(temp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
            _fsync_directory(target.parent)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise StoreError(f"cannot write object {key}: {exc}") from exc

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.path_of(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise NotFound(f"object {key} not found") from exc
        except OSError as exc:
            raise StoreError(f"cannot read object {key}: {exc}") from exc

    def get_revision(self, key: str, version_id: str = "", etag: str = "") -> bytes:
        if version_id:
            raise NotFound(
                f"object {key} version {version_id} not found (the embedded store keeps no versions)"
            )
        data = self.get_bytes(key)
        if etag and hashlib.md5(data).hexdigest() != etag.strip('"'):
            raise NotFound(f"object {key} with ETag {etag} not found (it changed since)")
        return data

    def delete(self, key: str) -> None:
        path = self.path_of(key)
        try:
            path.unlink()
            _fsync_directory(path.parent)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise StoreError(f"cannot delete object {key}: {exc}") from exc

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        directory, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*directory.split("/")) if directory else self.root
        if not start.is_dir():
            return
        for folder, subfolders, files in os.walk(start):
            subfolders.sort()
            for name in sorted(files):
                if _is_temporary(name):
                    continue
                path = Path(folder) / name
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    stat = path.stat()
                    etag = self._etag(key, path, stat.st_mtime_ns, stat.st_size)
                except OSError:
                    continue  # deleted meanwhile
                yield ObjectInfo(key, etag, stat.st_size, format_epoch(stat.st_mtime))

    def _etag(self, key: str, path: Path, mtime_ns: int, size: int) -> str:
        with self._etags_lock:
            cached = self._etags.get(key)
        if cached and cached[:2] == (mtime_ns, size):
            return cached[2]
        etag = hashlib.md5(path.read_bytes()).hexdigest()
        with self._etags_lock:
            self._etags[key] = (mtime_ns, size, etag)
        return etag

    def presigned_put_url(self, key: str, expires_seconds: int) -> str:
        raise PresignedUrlsUnsupported(
            "presigned uploads need S3 (the cloud, or `kfps up --aws`); the embedded store takes large packages "
            "through /apis/v2beta1/pipelines/upload directly"
        )

    def read_bucket_object(self, bucket: str, key: str, max_bytes: int) -> bytes:
        raise StoreError(
            f"s3://{bucket}/{key}: the embedded store cannot read S3 buckets (start the stack with --aws)"
        )
