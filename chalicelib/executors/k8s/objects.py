"""Any Kubernetes object by apiVersion and kind, for KFP v1 resource templates: the REST path of a kind comes
from the API server's discovery (`GET /api/v1`, `GET /apis/<group>/<version>`), as kubectl finds it, so a kind
the cluster does not serve (e.g. VolumeSnapshot `snapshot.storage.k8s.io/v1alpha1` on current clusters) fails
with that message.

Actions, as Argo runs them with kubectl: `create` (an object already there that the run created itself is
taken as done, so doing it twice after a crash is harmless), `apply` (create, or merge-patch the existing
object), `replace`, `patch` (the manifest is the patch; `mergeStrategy` strategic, merge or json),
`delete` (one that is already gone is fine), `get`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from chalicelib.executors.k8s.errors import KubernetesApiError, LaunchRejected

PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}
RUN_LABEL = "kfp-serverless.io/run-id"


@dataclasses.dataclass(frozen=True)
class ApiResource:
    """Where a kind lives: `/api/v1` or `/apis/<group>/<version>`, its plural name, and its scope."""

    base: str
    plural: str
    namespaced: bool

    def collection(self, namespace: str) -> str:
        if self.namespaced:
            return f"{self.base}/namespaces/{namespace}/{self.plural}"
        return f"{self.base}/{self.plural}"

    def item(self, namespace: str, name: str) -> str:
        return f"{self.collection(namespace)}/{name}"


class KubernetesObjects:
    """Objects over one `kubernetes.client.ApiClient` (discovery answers are cached for its lifetime)."""

    def __init__(self, api_client: Any) -> None:
        self._api_client = api_client
        self._resources: dict[tuple[str, str], ApiResource] = {}

    # -- HTTP ----------------------------------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
        tolerate: tuple[int, ...] = (),
    ) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        headers = {"Accept": "application/json", "Content-Type": content_type}
        try:
            response = self._api_client.call_api(
                path,
                method,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=True,
            )
        except ApiException as error:
            if error.status in tolerate:
                return None
            raise KubernetesApiError(
                f"{method} {path}: {error.status} {_message(error)}", error.status
            ) from error
        data = response.data
        return json.loads(data) if data else {}

    def resource(self, api_version: str, kind: str) -> ApiResource:
        """The REST location of `kind` in `api_version`; LaunchRejected when the server does not serve it."""
        key = (api_version, kind)
        if key not in self._resources:
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            listing = self._call("GET", base, tolerate=(404,))
            if listing is None:
                raise LaunchRejected(f"the cluster does not serve {api_version} (no such API group/version)")
            for entry in listing.get("resources") or []:
                if entry.get("kind") == kind and "/" not in str(entry.get("name", "")):
                    self._resources[key] = ApiResource(
                        base, str(entry["name"]), bool(entry.get("namespaced"))
                    )
                    break
            else:
                raise LaunchRejected(f"the cluster does not serve kind {kind} in {api_version}")
        return self._resources[key]

    # -- actions ---------------------------------------------------------------------------------------------------
    def apply_object(
        self, namespace: str, action: str, manifest: dict[str, Any], merge_strategy: str = "strategic"
    ) -> dict[str, Any] | None:
        """Do `action` with `manifest` (see the module docstring); the object after it, None after delete."""
        where = self.resource(str(manifest.get("apiVersion")), str(manifest.get("kind")))
        name = str((manifest.get("metadata") or {}).get("name", ""))
        actions: dict[str, Callable[[], dict[str, Any] | None]] = {
            "create": lambda: self._create(where, namespace, name, manifest),
            "apply": lambda: self._apply(where, namespace, name, manifest),
            "replace": lambda: self._replace(where, namespace, name, manifest),
            "patch": lambda: self._patch(where, namespace, name, manifest, merge_strategy),
            "delete": lambda: self._delete(where, namespace, name),
            "get": lambda: self._get(where, namespace, name, required=True),
        }
        if action not in actions:
            raise LaunchRejected(f"resource action {action!r} is not supported")
        return actions[action]()

    def read_object(self, namespace: str, api_version: str, kind: str, name: str) -> dict[str, Any] | None:
        return self._get(self.resource(api_version, kind), namespace, name)

    def delete_object(self, namespace: str, api_version: str, kind: str, name: str) -> None:
        self._call("DELETE", self.resource(api_version, kind).item(namespace, name), tolerate=(404,))

    def _delete(self, where: ApiResource, namespace: str, name: str) -> None:
        self._call("DELETE", where.item(namespace, name), tolerate=(404,))

    def _get(
        self, where: ApiResource, namespace: str, name: str, required: bool = False
    ) -> dict[str, Any] | None:
        found = self._call("GET", where.item(namespace, name), tolerate=(404,))
        if found is None and required:
            raise KubernetesApiError(f"{where.plural} {name!r} not found", 404)
        return found

    def _create(
        self, where: ApiResource, namespace: str, name: str, manifest: dict[str, Any]
    ) -> dict[str, Any]:
        created = self._call("POST", where.collection(namespace), manifest, tolerate=(409,))
        if created is not None:
            return created
        existing = self._get(where, namespace, name) or {}
        ours = ((manifest.get("metadata") or {}).get("labels") or {}).get(RUN_LABEL)
        theirs = ((existing.get("metadata") or {}).get("labels") or {}).get(RUN_LABEL)
        if ours and ours == theirs:
            return existing  # created by an earlier pass of this very step
        raise KubernetesApiError(f"{where.plural} {name!r} already exists", 409)

    def _apply(
        self, where: ApiResource, namespace: str, name: str, manifest: dict[str, Any]
    ) -> dict[str, Any]:
        if self._get(where, namespace, name) is None:
            return self._create(where, namespace, name, manifest)
        return self._call("PATCH", where.item(namespace, name), manifest, PATCH_TYPES["merge"]) or {}

    def _replace(
        self, where: ApiResource, namespace: str, name: str, manifest: dict[str, Any]
    ) -> dict[str, Any]:
        existing = self._get(where, namespace, name, required=True) or {}
        body = json.loads(json.dumps(manifest))
        body["metadata"]["resourceVersion"] = (existing.get("metadata") or {}).get("resourceVersion", "")
        return self._call("PUT", where.item(namespace, name), body) or {}

    def _patch(
        self, where: ApiResource, namespace: str, name: str, manifest: dict[str, Any], strategy: str
    ) -> dict[str, Any]:
        if strategy not in PATCH_TYPES:
            raise LaunchRejected(f"mergeStrategy {strategy!r} is not one of {', '.join(PATCH_TYPES)}")
        body = {key: value for key, value in manifest.items() if key not in ("apiVersion", "kind")}
        body.get("metadata", {}).pop("namespace", None)
        return self._call("PATCH", where.item(namespace, name), body, PATCH_TYPES[strategy]) or {}


def _message(error: Any) -> str:
    try:
        return str(json.loads(error.body).get("message") or error.reason)
    except (TypeError, ValueError, AttributeError):
        return str(error.reason)
