from __future__ import annotations

import io
import json
import tarfile
import zipfile
from urllib.parse import quote

import yaml

from tests.support.specs import HELLO


def _filter(key: str, value: str) -> str:
    return quote(json.dumps({"predicates": [{"operation": "EQUALS", "key": key, "string_value": value}]}))


def test_upload_creates_pipeline_and_first_version(api, unique):
    status, pipeline = api.upload(
        f"/pipelines/upload?name=p-{unique}&description=desc", HELLO.encode(), "h.yaml"
    )
    assert status == 200, pipeline
    assert pipeline["display_name"] == f"p-{unique}" and pipeline["description"] == "desc"
    status, versions = api.get(f"/pipelines/{pipeline['pipeline_id']}/versions")
    assert status == 200 and versions["total_size"] == 1
    version = versions["pipeline_versions"][0]
    status, full = api.get(f"/pipelines/{pipeline['pipeline_id']}/versions/{version['pipeline_version_id']}")
    assert full["pipeline_spec"]["pipelineInfo"]["name"] == "hello-pipeline"


def test_upload_accepts_json_zip_and_tar_gz(api, unique):
    spec = yaml.safe_load(HELLO)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("pipeline.yaml", HELLO)
    tarred = io.BytesIO()
    with tarfile.open(fileobj=tarred, mode="w:gz") as archive:
        info = tarfile.TarInfo("pipeline.yaml")
        info.size = len(HELLO.encode())
        archive.addfile(info, io.BytesIO(HELLO.encode()))
    for suffix, data, filename in [
        ("json", json.dumps(spec).encode(), "p.json"),
        ("zip", zipped.getvalue(), "p.zip"),
        ("tgz", tarred.getvalue(), "p.tar.gz"),
    ]:
        status, body = api.upload(f"/pipelines/upload?name=fmt-{suffix}-{unique}", data, filename)
        assert status == 200, (suffix, body)


def test_bad_uploads_are_400_with_upload_error_shape_and_store_nothing(api, unique):
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\n"
    no_name = HELLO.replace("pipelineInfo: {name: hello-pipeline}", "pipelineInfo: {}")
    unknown_field = HELLO.replace("schemaVersion: 2.1.0", "schemaVersion: 2.1.0\ncolour: red")
    for data, filename in [
        (b"", "empty.yaml"),
        (b"key: [unclosed", "broken.yaml"),
        (b"\x89PNG\r\n\x1a\n....", "image.png"),
        (bomb.encode(), "bomb.yaml"),
        (no_name.encode(), "noname.yaml"),
        (unknown_field.encode(), "unknown.yaml"),
        (b"PK\x03\x04garbage", "bad.zip"),
    ]:
        status, body = api.upload(f"/pipelines/upload?name=bad-{unique}", data, filename)
        assert status == 400, (filename, body)
        assert body["error_message"], (filename, body)
    status, listed = api.get(f"/pipelines?filter={_filter('display_name', f'bad-{unique}')}")
    assert status == 200 and listed == {}


def test_upload_without_file_field_is_400(api, unique):
    boundary = "b0undary"
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n--{boundary}--\r\n'.encode()
    status, payload = api.call(
        "POST",
        f"/pipelines/upload?name=nofile-{unique}",
        raw=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 400 and "uploadfile" in payload["error_message"]


def test_duplicate_pipeline_name_is_409(api, unique):
    assert api.upload(f"/pipelines/upload?name=dup-{unique}", HELLO.encode(), "a.yaml")[0] == 200
    status, body = api.upload(f"/pipelines/upload?name=dup-{unique}", HELLO.encode(), "a.yaml")
    assert status == 409 and "already exists" in body["error_message"]


def test_upload_version_requires_existing_pipeline_and_unique_name(api, unique):
    _, pipeline = api.upload(f"/pipelines/upload?name=v-{unique}", HELLO.encode(), "a.yaml")
    pid = pipeline["pipeline_id"]
    status, version = api.upload(
        f"/pipelines/upload_version?name=v2&pipelineid={pid}", HELLO.encode(), "a.yaml"
    )
    assert status == 200 and version["pipeline_id"] == pid and version["pipeline_version_id"]
    assert (
        api.upload(f"/pipelines/upload_version?name=v2&pipelineid={pid}", HELLO.encode(), "a.yaml")[0] == 409
    )
    assert api.upload("/pipelines/upload_version?name=v3", HELLO.encode(), "a.yaml")[0] == 400
    assert api.upload("/pipelines/upload_version?name=v3&pipelineid=nope", HELLO.encode(), "a.yaml")[0] == 400


def test_delete_pipeline_with_versions_needs_cascade(api, unique):
    _, pipeline = api.upload(f"/pipelines/upload?name=del-{unique}", HELLO.encode(), "a.yaml")
    pid = pipeline["pipeline_id"]
    status, body = api.delete(f"/pipelines/{pid}")
    assert status == 400 and "version" in body["message"]
    assert api.call("DELETE", f"/pipelines/{pid}?cascade=true") == (200, {})
    assert api.get(f"/pipelines/{pid}")[0] == 404


def test_create_pipeline_and_version_from_spec(api, unique):
    spec = yaml.safe_load(HELLO)
    status, pipeline = api.post(
        "/pipelines/create",
        {
            "pipeline": {"display_name": f"c-{unique}"},
            "pipeline_version": {"display_name": "v1", "pipeline_spec": spec},
        },
    )
    assert status == 200, pipeline
    status, version = api.post(
        f"/pipelines/{pipeline['pipeline_id']}/versions", {"display_name": "v2", "pipeline_spec": spec}
    )
    assert status == 200 and version["display_name"] == "v2"
    _, versions = api.get(f"/pipelines/{pipeline['pipeline_id']}/versions?sort_by=created_at%20desc")
    assert [v["display_name"] for v in versions["pipeline_versions"]] == ["v2", "v1"]
    bad = dict(
        spec, root={"dag": {"tasks": {"t": {"componentRef": {"name": "missing"}, "taskInfo": {"name": "t"}}}}}
    )
    status, body = api.post(
        f"/pipelines/{pipeline['pipeline_id']}/versions", {"display_name": "v3", "pipeline_spec": bad}
    )
    assert status == 400 and "missing" in body["message"]


def test_get_pipeline_by_name(api, unique):
    _, pipeline = api.upload(f"/pipelines/upload?name=byname-{unique}", HELLO.encode(), "a.yaml")
    status, found = api.get(f"/pipelines/names/byname-{unique}?namespace=")
    assert status == 200 and found["pipeline_id"] == pipeline["pipeline_id"]
    assert api.get(f"/pipelines/names/nothing-{unique}")[0] == 404


def test_patch_renames_pipeline_and_version_and_frees_the_old_names(api, unique):
    _, pipeline = api.upload(f"/pipelines/upload?name=old-{unique}", HELLO.encode(), "a.yaml")
    pid = pipeline["pipeline_id"]
    status, patched = api.call("PATCH", f"/pipelines/{pid}", {"name": f"new-{unique}", "description": "d2"})
    assert status == 200 and patched["name"] == f"new-{unique}" and patched["description"] == "d2"
    assert api.get(f"/pipelines/names/new-{unique}")[1]["pipeline_id"] == pid
    assert api.get(f"/pipelines/names/old-{unique}")[0] == 404
    assert api.upload(f"/pipelines/upload?name=old-{unique}", HELLO.encode(), "a.yaml")[0] == 200
    assert api.call("PATCH", f"/pipelines/{pid}", {"name": f"old-{unique}"})[0] == 409
    assert api.call("PATCH", f"/pipelines/{pid}", {"pipeline_id": "other"})[0] == 400
    assert api.call("PATCH", f"/pipelines/{pid}", {"colour": "red"})[0] == 400
    assert api.get(f"/pipelines/{pid}")[1]["name"] == f"new-{unique}"

    _, versions = api.get(f"/pipelines/{pid}/versions")
    vid = versions["pipeline_versions"][0]["pipeline_version_id"]
    status, version = api.call(
        "PATCH", f"/pipelines/{pid}/versions/{vid}", {"display_name": "v-renamed", "name": "v1"}
    )
    assert status == 200 and version["display_name"] == "v-renamed" and version["name"] == "v1"
    assert version["pipeline_spec"]["pipelineInfo"]["name"] == "hello-pipeline"
    bad = api.call("PATCH", f"/pipelines/{pid}/versions/{vid}", {"pipeline_spec": {"pipelineInfo": {}}})
    assert bad[0] == 400 and "new version" in bad[1]["message"]
    assert api.call("PATCH", f"/pipelines/{pid}/versions/missing", {"name": "x"})[0] == 404
