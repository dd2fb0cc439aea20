"""Hostile uploads are refused with a clear message, without expanding, extracting or recursing unboundedly."""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import zipfile
from typing import Any

import pytest
import yaml

from chalicelib.spec import InvalidPackage, load_package, spec_from_struct
from chalicelib.spec.documents import MAX_DEPTH

BILLION_LAUGHS = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _yaml(doc: dict[str, Any]) -> bytes:
    return yaml.safe_dump(doc, sort_keys=False).encode()


def test_body_over_max_bytes_is_rejected_before_parsing(small_spec: dict[str, Any]) -> None:
    data = _yaml(small_spec)
    with pytest.raises(
        InvalidPackage, match=rf"p.yaml: package is {len(data)} bytes, over the limit of 100 bytes"
    ):
        load_package(data, "p.yaml", max_bytes=100)


def test_yaml_alias_bomb_is_refused() -> None:
    with pytest.raises(
        InvalidPackage, match=r"bomb.yaml: YAML anchors are not allowed \(anchor &a at line 1"
    ):
        load_package(BILLION_LAUGHS, "bomb.yaml")


def test_yaml_alias_without_anchor_is_refused() -> None:
    with pytest.raises(InvalidPackage, match="YAML aliases are not allowed|invalid YAML"):
        load_package(b"a: *undefined\n", "p.yaml")


def test_anchor_in_otherwise_valid_spec_is_refused(small_spec: dict[str, Any]) -> None:
    text = _yaml(small_spec).replace(b"sdkVersion: kfp-2.17.3", b"sdkVersion: &v kfp-2.17.3")
    with pytest.raises(InvalidPackage, match="anchors are not allowed"):
        load_package(text, "p.yaml")


@pytest.mark.parametrize("opening", ["[", "{a: "], ids=["lists", "mappings"])
def test_deeply_nested_yaml_is_refused(opening: str) -> None:
    closing = {"[": "]", "{a: ": "}"}[opening]
    data = (opening * (MAX_DEPTH + 10) + "1" + closing * (MAX_DEPTH + 10)).encode()
    with pytest.raises(InvalidPackage, match=f"deep.yaml: document nested deeper than {MAX_DEPTH} levels"):
        load_package(data, "deep.yaml")


def test_extremely_nested_yaml_is_refused_without_recursing() -> None:
    data = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InvalidPackage, match="deep.yaml: .*(nested deeper|nesting depth)"):
        load_package(data, "deep.yaml")


def test_deeply_nested_json_file_is_refused() -> None:
    data = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    with pytest.raises(InvalidPackage, match="deep.json: document nested deeper than"):
        load_package(data, "deep.json")


def test_deeply_nested_struct_is_refused(small_spec: dict[str, Any]) -> None:
    value: Any = 1
    for _ in range(MAX_DEPTH + 5):
        value = [value]
    small_spec["root"]["dag"]["tasks"]["produce"]["inputs"]["parameters"]["text"] = {
        "runtimeValue": {"constant": value}
    }
    with pytest.raises(InvalidPackage, match="nested deeper than"):
        spec_from_struct(small_spec)


def test_non_utf8_file_is_refused() -> None:
    with pytest.raises(InvalidPackage, match=r"p.yaml: not UTF-8 text \(invalid byte 0xff at offset 6\)"):
        load_package(b"name: \xff\xfe", "p.yaml")


def test_png_bytes_are_an_unsupported_file_type() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
    with pytest.raises(InvalidPackage, match="picture.png: unsupported file type .png.*not UTF-8"):
        load_package(png, "picture.png")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_top_level_that_is_not_a_mapping_is_refused(text: str) -> None:
    with pytest.raises(InvalidPackage, match="p.yaml: document 1 is .*, expected a mapping"):
        load_package(text.encode(), "p.yaml")


def test_top_level_json_list_is_refused() -> None:
    with pytest.raises(InvalidPackage, match="p.json: expected a JSON object, got a list"):
        load_package(b"[1, 2]", "p.json")


def test_broken_yaml_names_the_position() -> None:
    with pytest.raises(InvalidPackage, match="p.yaml: invalid YAML: .* at line 2"):
        load_package(b"a: [1, 2\nb: {", "p.yaml")


def test_broken_json_names_the_position() -> None:
    with pytest.raises(InvalidPackage, match="p.json: invalid JSON at line 1 column"):
        load_package(b'{"a": }', "p.json")


@pytest.mark.parametrize("text", ["a: .nan\n", "a: .inf\n"])
def test_non_finite_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidPackage, match="is not a finite number"):
        load_package(text.encode(), "p.yaml")


def test_non_json_yaml_values_are_refused() -> None:
    with pytest.raises(InvalidPackage, match="value at a is a bytes, which JSON cannot represent"):
        load_package(b"a: !!binary aGVsbG8=\n", "p.yaml")


def test_python_object_tags_are_refused() -> None:
    with pytest.raises(InvalidPackage, match="invalid YAML"):
        load_package(b"a: !!python/object/apply:os.system ['true']\n", "p.yaml")


def test_zip_bomb_stops_at_the_decompressed_cap() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pipeline.yaml", b" " * (8 * 2**20))
    data = buffer.getvalue()
    assert len(data) < 2**16
    with pytest.raises(
        InvalidPackage, match="member 'pipeline.yaml' is larger than 1048576 bytes when decompressed"
    ):
        load_package(data, "bomb.zip", max_bytes=2**20)


def test_tar_gz_bomb_stops_at_the_decompressed_cap() -> None:
    payload = b" " * (16 * 2**20)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("pipeline.yaml")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    with pytest.raises(
        InvalidPackage, match="bomb.tar.gz: archive is larger than .* bytes when decompressed"
    ):
        load_package(buffer.getvalue(), "bomb.tar.gz", max_bytes=2**20)


def test_concatenated_gzip_members_count_towards_the_cap() -> None:
    data = gzip.compress(b"\0" * 2**20) * 3
    with pytest.raises(InvalidPackage, match="larger than"):
        load_package(data, "p.tar.gz", max_bytes=2**19)


def _tar_gz_with(info: tarfile.TarInfo, data: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info.size = len(data) if info.isfile() else 0
        archive.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../pipeline.yaml", "'../pipeline.yaml' has a '..' path component"),
        ("a/../../pipeline.yaml", "has a '..' path component"),
        ("/etc/pipeline.yaml", "'/etc/pipeline.yaml' has an absolute path"),
    ],
)
def test_tar_member_paths_outside_the_archive_are_refused(name: str, message: str) -> None:
    with pytest.raises(InvalidPackage, match=message):
        load_package(_tar_gz_with(tarfile.TarInfo(name), b"a: 1\n"), "evil.tar.gz")


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (tarfile.SYMTYPE, "is a link"),
        (tarfile.LNKTYPE, "is a link"),
        (tarfile.CHRTYPE, "is not a regular file"),
    ],
)
def test_tar_links_and_devices_are_refused(kind: bytes, message: str) -> None:
    info = tarfile.TarInfo("pipeline.yaml")
    info.type = kind
    info.linkname = "/etc/passwd"
    with pytest.raises(InvalidPackage, match=f"member 'pipeline.yaml' {message}"):
        load_package(_tar_gz_with(info), "evil.tar.gz")


def _zip_with(name: str, mode: int = 0o100644) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        archive.writestr(info, b"a: 1\n")
    return buffer.getvalue()


def test_zip_member_with_dot_dot_is_refused() -> None:
    with pytest.raises(InvalidPackage, match="'../../pipeline.yaml' has a '..' path component"):
        load_package(_zip_with("../../pipeline.yaml"), "evil.zip")


def test_zip_member_with_absolute_path_is_refused() -> None:
    with pytest.raises(InvalidPackage, match="has an absolute path"):
        load_package(_zip_with("/tmp/pipeline.yaml"), "evil.zip")


def test_zip_symlink_is_refused() -> None:
    with pytest.raises(InvalidPackage, match="member 'pipeline.yaml' is a symbolic link"):
        load_package(_zip_with("pipeline.yaml", stat.S_IFLNK | 0o777), "evil.zip")


def test_non_string_mapping_keys_are_refused() -> None:
    with pytest.raises(InvalidPackage, match=r"mapping key 1 at \(top\) is a int, expected a string"):
        load_package(b"{1: 2}\n", "p.yaml")
