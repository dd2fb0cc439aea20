"""An in-process fake Kubernetes API server for tests: the real `kubernetes` client talks to it over HTTP.

Serves pods (create / get / list with label selectors / delete / log) and, generically, every kind in
`SERVED` (create / get / list / replace / merge-patch / delete): persistentvolumeclaims, secrets, configmaps,
services, batch/v1 jobs, apps/v1 deployments and snapshot.storage.k8s.io/v1 volumesnapshots (v1 only, as
current clusters). Discovery (`/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`) lists exactly those, so
a client finds unserved kinds unserved. `GET /version`, and 409/404 `Status` bodies shaped like the real API
server's (aws-stack.md §5). Every request's method, path and Authorization header is recorded in `requests`.

Every create is counted per object in `create_attempts` (refused 409 duplicates included).

Test hooks: `set_status` / `update_status` (what a kubelet would report), `set_log`, `add_secret`,
`set_object_status` (what a controller would report), `on_create` / `on_delete` callbacks (the process kubelet
subscribes to them).
"""

from __future__ import annotations

import base64
import collections
import copy
import dataclasses
import datetime as dt
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PodKey = tuple[str, str]

# (group, version) → [(plural, kind)]; all namespaced. Objects of the core group are stored under their plural,
# others under "<group>/<plural>".
SERVED: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("", "v1"): [
        ("pods", "Pod"),
        ("persistentvolumeclaims", "PersistentVolumeClaim"),
        ("secrets", "Secret"),
        ("configmaps", "ConfigMap"),
        ("services", "Service"),
    ],
    ("batch", "v1"): [("jobs", "Job")],
    ("apps", "v1"): [("deployments", "Deployment")],
    ("snapshot.storage.k8s.io", "v1"): [("volumesnapshots", "VolumeSnapshot")],
}


def store_key(group: str, plural: str) -> str:
    return plural if not group else f"{group}/{plural}"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (the fake applies strategic merge patches the same way)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code: int, reason: str, message: str, name: str = "", kind: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if name or kind:
        body["details"] = {"name": name, "kind": kind}
    return body


def _split_terms(selector: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        terms.append(current.strip())
    return terms


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """Equality (`=`, `==`, `!=`), set (`in`, `notin`) and existence (`k`, `!k`) label selectors."""
    for term in _split_terms(selector or ""):
        if match := re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", term):
            key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            if (labels.get(key) in values) != (op == "in") or (op == "in" and key not in labels):
                return False
        elif "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = re.split(r"==?", term, maxsplit=1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


@dataclasses.dataclass
class RecordedRequest:
    method: str
    path: str
    authorization: str


class FakeKube:
    """The API server's state plus its HTTP front end (`start()` → base URL, `stop()`)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[str, dict[PodKey, dict[str, Any]]] = {
            store_key(group, plural): {} for (group, _), kinds in SERVED.items() for plural, _ in kinds
        }
        self.logs: dict[tuple[str, str, str], str | Callable[[], str]] = {}
        self.secrets: dict[PodKey, dict[str, str]] = {}
        self.requests: list[RecordedRequest] = []
        self.create_attempts: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self.on_create: list[Callable[[dict[str, Any]], None]] = []
        self.on_delete: list[Callable[[dict[str, Any]], None]] = []
        self._versions = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> str:
        fake = self

        class Handler(_Handler):
            state = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- state -------------------------------------------------------------------------------------------------
    def repeated_creates(self, kind: str = "pods") -> dict[tuple[str, str], int]:
        """(namespace, name) → how many times an object of `kind` was POSTed, for those POSTed more than once."""
        with self.lock:
            return {
                (namespace, name): count
                for (created_kind, namespace, name), count in self.create_attempts.items()
                if created_kind == kind and count > 1
            }

    def pods(self, namespace: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                copy.deepcopy(p) for (ns, _), p in self.objects["pods"].items() if namespace in (None, ns)
            ]

    def pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            pod = self.objects["pods"].get((namespace, name))
            return copy.deepcopy(pod) if pod else None

    def create(self, kind: str, namespace: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        meta = body.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        name = meta.get("name", "")
        with self.lock:
            self.create_attempts[(kind, namespace, name)] += 1
            if (namespace, name) in self.objects[kind]:
                message = f'{kind} "{name}" already exists'
                return 409, status_body(409, "AlreadyExists", message, name, kind)
            meta.update(
                namespace=namespace,
                uid=str(uuid.uuid4()),
                resourceVersion=str(next(self._versions)),
                creationTimestamp=timestamp(),
            )
            body.setdefault("status", {"phase": "Pending"})
            if kind == "persistentvolumeclaims":  # a provisioner binds every claim at once
                claim = body.get("spec") or {}
                body["status"] = {
                    "phase": "Bound",
                    "accessModes": claim.get("accessModes") or [],
                    "capacity": {
                        "storage": ((claim.get("resources") or {}).get("requests") or {}).get("storage", "")
                    },
                }
            self.objects[kind][(namespace, name)] = body
            created = copy.deepcopy(body)
        if kind == "pods":
            for callback in self.on_create:
                callback(copy.deepcopy(created))
        return 201, created

    def delete(self, kind: str, namespace: str, name: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            body = self.objects[kind].pop((namespace, name), None)
        if body is None:
            return 404, status_body(404, "NotFound", f'{kind} "{name}" not found', name, kind)
        if kind == "pods":
            for callback in self.on_delete:
                callback(copy.deepcopy(body))
        return 200, body

    def modify(
        self, kind: str, namespace: str, name: str, method: str, body: Any, content_type: str
    ) -> tuple[int, dict[str, Any]]:
        """PUT (replace, optimistic on resourceVersion) or PATCH (merge / strategic merge / JSON patch)."""
        with self.lock:
            current = self.objects[kind].get((namespace, name))
            if current is None:
                return 404, status_body(404, "NotFound", f'{kind} "{name}" not found', name, kind)
            if method == "PUT":
                wanted = (body.get("metadata") or {}).get("resourceVersion")
                if wanted and wanted != current["metadata"]["resourceVersion"]:
                    return 409, status_body(
                        409, "Conflict", f"the object {name} has been modified", name, kind
                    )
                updated = copy.deepcopy(body)
            elif "json-patch" in content_type:
                updated = _json_patch(current, body)
            else:
                updated = merge_patch(current, body)
            metadata = updated.setdefault("metadata", {})
            for key in ("name", "namespace", "uid", "creationTimestamp"):
                metadata[key] = current["metadata"][key]
            metadata["resourceVersion"] = str(next(self._versions))
            self.objects[kind][(namespace, name)] = updated
            return 200, copy.deepcopy(updated)

    def update_status(self, namespace: str, name: str, mutate: Callable[[dict[str, Any]], None]) -> bool:
        """Apply `mutate` to the pod's status under the lock; False when the pod is gone."""
        with self.lock:
            pod = self.objects["pods"].get((namespace, name))
            if pod is None:
                return False
            mutate(pod.setdefault("status", {}))
            pod["metadata"]["resourceVersion"] = str(next(self._versions))
            return True

    def set_status(self, namespace: str, name: str, status: dict[str, Any]) -> bool:
        return self.update_status(namespace, name, lambda s: (s.clear(), s.update(copy.deepcopy(status))))

    def set_log(self, namespace: str, name: str, container: str, text: str | Callable[[], str]) -> None:
        self.logs[(namespace, name, container)] = text

    def add_secret(self, namespace: str, name: str, data: dict[str, str]) -> None:
        self.secrets[(namespace, name)] = dict(data)

    def secret_data(self, namespace: str, name: str) -> dict[str, str] | None:
        """A secret's decoded data: one added by `add_secret`, or a Secret object created through the API."""
        if (namespace, name) in self.secrets:
            return dict(self.secrets[(namespace, name)])
        with self.lock:
            secret = copy.deepcopy(self.objects["secrets"].get((namespace, name)))
        if secret is None:
            return None
        data = {
            key: base64.b64decode(value).decode(errors="replace")
            for key, value in (secret.get("data") or {}).items()
        }
        data.update(secret.get("stringData") or {})
        return data

    def objects_of(self, key: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored objects of a kind (`store_key`), optionally of one namespace."""
        with self.lock:
            return [copy.deepcopy(o) for (ns, _), o in self.objects[key].items() if namespace in (None, ns)]

    def set_object_status(self, key: str, namespace: str, name: str, status: dict[str, Any]) -> bool:
        """Set an object's status as its controller would; False when it does not exist."""
        with self.lock:
            found = self.objects[key].get((namespace, name))
            if found is None:
                return False
            found["status"] = copy.deepcopy(status)
            found["metadata"]["resourceVersion"] = str(next(self._versions))
            return True

    def read_log(self, namespace: str, name: str, container: str) -> str:
        source = self.logs.get((namespace, name, container), "")
        return source() if callable(source) else source


def _json_patch(target: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 add / replace / remove on mapping paths (enough for the tests)."""
    result = copy.deepcopy(target)
    for operation in operations:
        parts = [part.replace("~1", "/").replace("~0", "~") for part in operation["path"].split("/")[1:]]
        holder = result
        for part in parts[:-1]:
            holder = holder.setdefault(part, {})
        if operation["op"] in ("add", "replace"):
            holder[parts[-1]] = copy.deepcopy(operation["value"])
        elif operation["op"] == "remove":
            holder.pop(parts[-1], None)
    return result


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients dropping kept-alive connections is normal; do not print tracebacks for it."""


_ROUTE = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)"
    r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>log|status))?$"
)
_DISCOVERY = re.compile(r"^/(?:api(?:/(?P<core>v1))?|apis(?:/(?P<group>[^/]+)/(?P<version>[^/]+))?)$")


class _Handler(BaseHTTPRequestHandler):
    state: FakeKube
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request stderr lines
        pass

    def _send(self, code: int, body: Any, content_type: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _discovery(self, match: re.Match[str]) -> Any:
        if match.group(0) == "/api":
            return {"kind": "APIVersions", "versions": ["v1"]}
        if match.group(0) == "/apis":
            groups = sorted({group for group, _ in SERVED if group})
            return {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [
                    {
                        "name": group,
                        "versions": [
                            {"groupVersion": f"{group}/{version}", "version": version}
                            for g, version in SERVED
                            if g == group
                        ],
                    }
                    for group in groups
                ],
            }
        group, version = ("", "v1") if match.group("core") else (match.group("group"), match.group("version"))
        kinds = SERVED.get((group, version))
        if kinds is None:
            return None
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": [
                {
                    "name": plural,
                    "namespaced": True,
                    "kind": kind,
                    "verbs": ["create", "delete", "get", "list", "patch", "update"],
                }
                for plural, kind in kinds
            ],
        }

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.state.requests.append(RecordedRequest(method, self.path, self.headers.get("Authorization", "")))
        if method == "GET" and url.path == "/version":
            return self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake"})
        discovery = _DISCOVERY.match(url.path)
        if method == "GET" and discovery:
            body = self._discovery(discovery)
            if body is None:
                return self._send(404, status_body(404, "NotFound", f"the server could not find {url.path}"))
            return self._send(200, body)
        route = _ROUTE.match(url.path)
        group = "" if route is None or route.group("core") else route.group("group")
        version = "v1" if route is None or route.group("core") else route.group("version")
        served = {plural for plural, _ in SERVED.get((group, version), [])}
        if not route or route.group("plural") not in served:
            return self._send(404, status_body(404, "NotFound", f"the server could not find {url.path}"))
        namespace, name, sub = route.group("ns"), route.group("name"), route.group("sub")
        if namespace is None and (method != "GET" or name):  # across namespaces: lists only
            return self._send(404, status_body(404, "NotFound", f"the server could not find {url.path}"))
        kind = store_key(group, route.group("plural"))
        fake = self.state
        if method == "POST" and not name:
            code, body = fake.create(kind, namespace, self._body())
            return self._send(code, body)
        if method == "GET" and not name:
            selector = query.get("labelSelector", "")
            with fake.lock:
                items = [
                    copy.deepcopy(obj)
                    for (ns, _), obj in sorted(fake.objects[kind].items())
                    if namespace in (None, ns)
                    and selector_matches(selector, obj["metadata"].get("labels") or {})
                ]
            list_kind = next(k for p, k in SERVED[(group, version)] if p == route.group("plural")) + "List"
            version_text = str(next(fake._versions))
            return self._send(
                200,
                {
                    "kind": list_kind,
                    "apiVersion": f"{group}/{version}" if group else version,
                    "metadata": {"resourceVersion": version_text},
                    "items": items,
                },
            )
        with fake.lock:
            obj = copy.deepcopy(fake.objects[kind].get((namespace, name)))
        if method == "DELETE":
            code, body = fake.delete(kind, namespace, name)
            return self._send(code, body)
        if obj is None:
            return self._send(404, status_body(404, "NotFound", f'{kind} "{name}" not found', name, kind))
        if method == "GET" and sub == "log":
            containers = [c["name"] for c in obj["spec"].get("containers", [])]
            container = query.get("container") or (containers[0] if len(containers) == 1 else "")
            if not container:
                message = f"a container name must be specified for pod {name}, choose one of: {containers}"
                return self._send(400, status_body(400, "BadRequest", message))
            text = fake.read_log(namespace, name, container)
            if "tailLines" in query:
                lines = text.splitlines(keepends=True)
                text = "".join(lines[-int(query["tailLines"]) :]) if int(query["tailLines"]) else ""
            return self._send(200, text, "text/plain")
        if method == "GET":
            return self._send(200, obj)
        if method in ("PUT", "PATCH") and kind != "pods":
            return self._send(
                *fake.modify(
                    kind, namespace, name, method, self._body_any(), self.headers.get("Content-Type", "")
                )
            )
        return self._send(405, status_body(405, "MethodNotAllowed", f"{method} is not supported here"))

    def _body_any(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")
