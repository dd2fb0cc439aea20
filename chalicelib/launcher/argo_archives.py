"""Argo's artifact archives: an output path (file or directory) is stored as a gzipped tar whose one top entry
is the path's base name, and an input artifact is unpacked so that this entry lands at the input's path.

Unpacking is defensive (the archive may come from any earlier step): only regular files and directories,
no absolute paths, no `..`, nothing written outside the destination.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from pathlib import Path

from chalicelib.launcher.errors import LauncherError

GZIP_MAGIC = b"\x1f\x8b"


def pack(source: Path) -> bytes:
    """A gzipped tar of `source` (a file or a directory tree) with `source.name` as its top entry."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(str(source), arcname=source.name or "data")
    return buffer.getvalue()


def is_tar_gz(path: Path) -> bool:
    """True when `path` is a gzipped tar (Argo unpacks those; anything else is placed as it is)."""
    try:
        with open(path, "rb") as stream:
            if stream.read(2) != GZIP_MAGIC:
                return False
        with tarfile.open(path, mode="r:gz") as archive:
            archive.next()
        return True
    except (OSError, tarfile.TarError, EOFError):
        return False


def unpack(archive_path: Path, destination: Path) -> None:
    """Unpack the archive so that its single top entry becomes `destination` (several top entries: they all go
    inside `destination`). Raises LauncherError for unsafe or unreadable archives."""
    if destination.exists() or destination.is_symlink():
        if destination.is_dir() and not destination.is_symlink():
            shutil.rmtree(destination)
        else:
            destination.unlink()
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".unpack-") as scratch:
        try:
            with tarfile.open(archive_path, mode="r:gz") as archive:
                for member in archive.getmembers():
                    if not (member.isfile() or member.isdir()):
                        raise LauncherError(
                            f"artifact archive entry {member.name!r} is not a file or directory"
                        )
                archive.extractall(scratch, filter="data")
        except (tarfile.TarError, EOFError, OSError) as error:
            raise LauncherError(f"cannot unpack artifact archive: {error}") from error
        entries = list(Path(scratch).iterdir())
        if len(entries) == 1:
            entries[0].rename(destination)
        else:
            destination.mkdir()
            for entry in entries:
                entry.rename(destination / entry.name)
