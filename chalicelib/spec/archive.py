"""Unwrap .zip and .tar.gz pipeline packages in memory (nothing is extracted to disk).

An archive must hold exactly one pipeline file (.yaml, .yml or .json; if several, the one named
`pipeline.yaml` at the top, as the KFP backend and client prefer). Symlinks, hard links, devices, absolute
paths and `..` components are refused, and decompression stops at a size cap (zip/gzip bombs).
"""

from __future__ import annotations

import dataclasses
import io
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator

from chalicelib.spec.errors import InvalidPackage

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
GZIP_MAGIC = b"\x1f\x8b"
PIPELINE_EXTENSIONS = (".yaml", ".yml", ".json")
MAX_MEMBERS = 1000
_TAR_OVERHEAD = 1 << 20
"""Decompressed tar bytes allowed beyond max_bytes for headers, padding and small companion files."""
_CHUNK = 1 << 16


@dataclasses.dataclass(frozen=True)
class ArchiveMember:
    """The pipeline file found in an archive: its path inside the archive and its bytes."""

    name: str
    data: bytes


def is_zip(data: bytes) -> bool:
    """Return True when `data` starts with a zip local-file or end-of-directory signature."""
    return data.startswith(ZIP_MAGIC)


def is_gzip(data: bytes) -> bool:
    """Return True when `data` starts with the gzip magic bytes."""
    return data.startswith(GZIP_MAGIC)


def read_zip_member(data: bytes, source: str, max_bytes: int) -> ArchiveMember:
    """Return the single pipeline file in the zip archive `data`; raise InvalidPackage naming `source`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise InvalidPackage(f"{source}: not a valid zip archive: {error}") from error
    if len(infos) > MAX_MEMBERS:
        raise InvalidPackage(f"{source}: archive holds {len(infos)} entries, more than {MAX_MEMBERS}")
    files = []
    for info in infos:
        _check_member_path(info.filename, source)
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip was written without Unix modes
        if kind == stat.S_IFLNK:
            raise InvalidPackage(f"{source}: archive member '{info.filename}' is a symbolic link")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise InvalidPackage(f"{source}: archive member '{info.filename}' is not a regular file")
        if not info.is_dir():
            files.append(info.filename)
    chosen = choose_pipeline_member(files, source)
    try:
        with archive.open(chosen) as stream:
            content = _read_capped(stream, max_bytes, f"{source}: archive member '{chosen}'")
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError, ValueError) as error:
        raise InvalidPackage(f"{source}: cannot read archive member '{chosen}': {error}") from error
    return ArchiveMember(chosen, content)


def read_tar_gz_member(data: bytes, source: str, max_bytes: int) -> ArchiveMember:
    """Return the single pipeline file in the gzip-compressed tar archive `data`; raise InvalidPackage."""
    tar_bytes = _gunzip_capped(data, max_bytes + _TAR_OVERHEAD, source)
    try:
        archive = tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:")
        members = list(_tar_members(archive, source))
    except tarfile.TarError as error:
        raise InvalidPackage(f"{source}: gzip data is not a valid tar archive: {error}") from error
    by_name = {}
    for member in members:
        _check_member_path(member.name, source)
        if member.issym() or member.islnk():
            raise InvalidPackage(f"{source}: archive member '{member.name}' is a link")
        if not (member.isfile() or member.isdir()):
            raise InvalidPackage(f"{source}: archive member '{member.name}' is not a regular file")
        if member.isfile():
            by_name[member.name] = member
    chosen = choose_pipeline_member(list(by_name), source)
    stream = archive.extractfile(by_name[chosen])
    if stream is None:
        raise InvalidPackage(f"{source}: cannot read archive member '{chosen}'")
    return ArchiveMember(chosen, _read_capped(stream, max_bytes, f"{source}: archive member '{chosen}'"))


def choose_pipeline_member(names: list[str], source: str) -> str:
    """Return the one name in `names` with a pipeline extension (or `pipeline.yaml` among several)."""
    candidates = [name for name in names if name.lower().endswith(PIPELINE_EXTENSIONS)]
    if not candidates:
        listed = ", ".join(f"'{name}'" for name in names[:10]) or "nothing"
        raise InvalidPackage(
            f"{source}: archive holds no pipeline file (.yaml, .yml or .json); it holds {listed}"
        )
    if len(candidates) == 1:
        return candidates[0]
    preferred = [name for name in candidates if name.lstrip("./") == "pipeline.yaml"]
    if len(preferred) == 1:
        return preferred[0]
    listed = ", ".join(f"'{name}'" for name in candidates[:10])
    raise InvalidPackage(
        f"{source}: archive must hold exactly one pipeline file (.yaml, .yml or .json), found {listed}"
    )


def _tar_members(archive: tarfile.TarFile, source: str) -> Iterator[tarfile.TarInfo]:
    for count, member in enumerate(archive, start=1):
        if count > MAX_MEMBERS:
            raise InvalidPackage(f"{source}: archive holds more than {MAX_MEMBERS} entries")
        yield member


def _check_member_path(name: str, source: str) -> None:
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        raise InvalidPackage(f"{source}: archive member '{name}' has an absolute path")
    if ".." in normalized.split("/"):
        raise InvalidPackage(f"{source}: archive member '{name}' has a '..' path component")


def _read_capped(stream: io.IOBase | io.BufferedReader, max_bytes: int, what: str) -> bytes:
    """Read at most max_bytes from stream; raise InvalidPackage if there is more."""
    content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise InvalidPackage(f"{what} is larger than {max_bytes} bytes when decompressed")
    return content


def _gunzip_capped(data: bytes, limit: int, source: str) -> bytes:
    """Decompress gzip `data` (all members), refusing output beyond `limit` bytes."""
    output = bytearray()
    remaining = data
    try:
        while remaining:
            decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            chunk = decompressor.decompress(remaining, limit + 1 - len(output))
            output += chunk
            while decompressor.unconsumed_tail and len(output) <= limit:
                output += decompressor.decompress(decompressor.unconsumed_tail, limit + 1 - len(output))
            if len(output) > limit:
                raise InvalidPackage(f"{source}: archive is larger than {limit} bytes when decompressed")
            if not decompressor.eof:
                raise InvalidPackage(f"{source}: gzip data is truncated")
            remaining = decompressor.unused_data
    except zlib.error as error:
        raise InvalidPackage(f"{source}: invalid gzip data: {error}") from error
    return bytes(output)
