import pytest
from kfp import dsl

from chalicelib.launcher.artifact_paths import local_path_of_artifact, local_path_of_uri


@pytest.mark.parametrize(
    "uri",
    ["s3://bucket/a/b", "gs://bucket/x", "minio://bkt/y/z", "oci://registry/model:tag", "/abs/local/path"],
)
@pytest.mark.parametrize("artifact_class", [dsl.Artifact, dsl.Dataset, dsl.Model])
def test_local_path_is_where_kfp_artifact_path_looks(uri, artifact_class):
    artifact = artifact_class(uri=uri)
    runtime = {"uri": uri, "type": {"schemaTitle": artifact_class.schema_title}, "metadata": {}}
    assert local_path_of_artifact(runtime) == artifact.path


def test_mount_root_relocates_remote_prefixes_only():
    assert local_path_of_uri("s3://b/k", "/tmp/m") == "/tmp/m/s3/b/k"
    assert local_path_of_uri("/data/x", "/tmp/m") == "/data/x"


def test_workspace_metadata_rebases_the_path():
    artifact = {"uri": "s3://b/k", "metadata": {"_kfp_workspace": True}}
    assert local_path_of_artifact(artifact, workspace_path="/ws") == "/ws/.artifacts/s3/b/k"
