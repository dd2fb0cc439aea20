"""Large pipeline packages: a presigned S3 PUT instead of a multipart body (API Gateway and Lambda refuse
request bodies over ≈ 6 MB, about 4.5 MB of package after base64), then a register call. Our extra, beside
KFP's upload routes:

- `POST /apis/v2beta1/pipelines/uploads` with an optional JSON body `{"filename": "big.yaml"}` →
  `{"upload_id", "upload_url", "upload_method": "PUT", "expires_in_seconds", "max_bytes", "register_path"}`.
  PUT the package's bytes to `upload_url` (no other headers needed) before it expires.
- `POST /apis/v2beta1/pipelines/uploads/{upload_id}:register` with the query parameters of KFP's
  `pipelines/upload` (name, display_name, description, namespace, tags) → the new pipeline, as `upload`
  answers; with `?pipelineid=` → a new version of that pipeline, as `upload_version` answers.

The package waits under `uploads/<upload_id>/<file name>` (a lifecycle rule deletes it a day later; the
registered version keeps its own copy under `packages/`) and is validated like any upload. Registering is
idempotent: the version's id is derived from the upload id, so a retried register call answers with what the
first one created. Errors use the upload handlers' `{error_message, error_details}` shape. The embedded store
has no S3 to sign URLs for: there the first call is a 400 saying so (the local API takes large packages
through its upload route directly).
"""

from __future__ import annotations

import itertools
import re
import uuid

from chalice import Blueprint

from chalicelib import runtime
from chalicelib.api.errors import InvalidArgument, NotFound, PayloadTooLarge
from chalicelib.api.multipart import safe_basename
from chalicelib.api.request_helpers import handled, json_body, query_params, split_action, string_field
from chalicelib.api.upload_results import (
    UPLOADS_PATH,
    create_uploaded_pipeline,
    create_uploaded_version,
    existing_upload_pipeline,
    pipeline_to_api,
    uploaded_pipeline_name,
    version_to_api,
)
from chalicelib.runtime import Runtime
from chalicelib.spec import load_package
from chalicelib.spec.archive import PIPELINE_EXTENSIONS
from chalicelib.spec.loading import ARCHIVE_EXTENSIONS
from chalicelib.store.errors import NotFound as StoreNotFound
from chalicelib.store.object_keys import upload_prefix

package_uploads = Blueprint(__name__)

DEFAULT_FILENAME = "pipeline.yaml"
_MAX_FILENAME = 200
_UPLOAD_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_VERSION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "kfp-serverless/package-upload")  # fixed forever
PACKAGE_EXTENSIONS = PIPELINE_EXTENSIONS + ARCHIVE_EXTENSIONS


def upload_version_id(upload_id: str) -> str:
    """The id of the version an upload registers, the same for every register call of that upload."""
    return str(uuid.uuid5(_VERSION_NAMESPACE, upload_id))


def _filename(body: dict) -> str:
    raw = string_field(body, "filename", "upload", DEFAULT_FILENAME) or DEFAULT_FILENAME
    name = safe_basename(raw)
    if not name or len(name) > _MAX_FILENAME or any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise InvalidArgument(f"upload.filename {raw!r} is not a usable file name")
    if not name.lower().endswith(PACKAGE_EXTENSIONS):
        raise InvalidArgument(
            f"upload.filename {raw!r} does not end in one of {', '.join(PACKAGE_EXTENSIONS)}"
        )
    return name


@package_uploads.route(UPLOADS_PATH, methods=["POST"])
@handled(upload_style=True)
def create_upload() -> dict:
    current = runtime.current()
    body = json_body(package_uploads.current_request, current.settings, {"filename"}, "upload")
    filename = _filename(body)
    upload_id = str(uuid.uuid4())
    expires = current.settings.limits.presigned_url_seconds
    url = current.store.objects.presigned_put_url(upload_prefix(upload_id) + filename, expires)
    return {
        "upload_id": upload_id,
        "upload_url": url,
        "upload_method": "PUT",
        "expires_in_seconds": expires,
        "max_bytes": current.settings.limits.max_upload_bytes,
        "register_path": f"{UPLOADS_PATH}/{upload_id}:register",
    }


@package_uploads.route(UPLOADS_PATH + "/{upload_action}", methods=["POST"])
@handled(upload_style=True)
def register_upload(upload_action: str) -> dict:
    upload_id, _ = split_action(upload_action, ("register",), "upload")
    if not _UPLOAD_ID.match(upload_id):
        raise NotFound(f"there is no upload {upload_id!r}")
    current = runtime.current()
    params = query_params(package_uploads.current_request)
    version_id = upload_version_id(upload_id)
    objects = current.store.objects
    found = list(itertools.islice(objects.list_objects(upload_prefix(upload_id)), 1))
    filename = found[0].key.rsplit("/", 1)[-1] if found else ""
    pipeline = existing_upload_pipeline(current, params) if "pipelineid" in params else None
    if pipeline is not None:
        registered = _registered_version(current, pipeline.pipeline_id, version_id)
    else:
        registered = _registered_pipeline(current, params, filename, version_id)
    if registered is not None:
        return registered
    if not found:
        raise NotFound(
            f"upload {upload_id} holds no package: PUT the file to its upload_url first "
            f"(it expires {current.settings.limits.presigned_url_seconds} s after POST {UPLOADS_PATH})"
        )
    limit = current.settings.limits.max_upload_bytes
    if found[0].size > limit:
        raise PayloadTooLarge(f"uploaded package {filename} is {found[0].size} bytes; the limit is {limit}")
    data = objects.get_bytes(found[0].key)
    package = load_package(data, filename, limit)
    if pipeline is not None:
        return version_to_api(
            create_uploaded_version(current, pipeline, params, package, data, filename, version_id)
        )
    return pipeline_to_api(create_uploaded_pipeline(current, params, package, data, filename, version_id))


def _registered_version(current: Runtime, pipeline_id: str, version_id: str) -> dict | None:
    try:
        return version_to_api(current.store.catalog.get_version(pipeline_id, version_id))
    except StoreNotFound:
        return None


def _registered_pipeline(
    current: Runtime, params: dict[str, str], filename: str, version_id: str
) -> dict | None:
    """The pipeline an earlier register call of this upload created (found by its name and the upload's
    version id), or None."""
    name = uploaded_pipeline_name(params, filename, None)
    found = current.store.catalog.find_pipeline(params.get("namespace") or "", name) if name else None
    if found is None or _registered_version(current, found.pipeline_id, version_id) is None:
        return None
    return pipeline_to_api(found)
