"""What every route needs from a request: a safe JSON body, query values, the `{id}:action` split, and one
wrapper that turns any exception into the right KFP error body."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote

import chalice

from chalicelib.api.errors import InvalidArgument, NotFound, PayloadTooLarge, error_response
from chalicelib.settings import Settings


def handled(
    upload_style: bool = False, on_error: Callable[[Exception], chalice.Response] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a route function: exceptions become KFP error responses (`error_response`, or `on_error`'s for
    another API version's error bodies); dict results become JSON 200s."""

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def route(*args: Any, **kwargs: Any) -> Any:
            try:
                result = func(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - mapped to 4xx/5xx in one place
                if on_error is not None:
                    return on_error(exc)
                return error_response(exc, upload_style=upload_style)
            if isinstance(result, chalice.Response):
                return result
            return json_response(result)

        return route

    return wrap


def json_response(body: Any, status: int = 200) -> chalice.Response:
    return chalice.Response(
        body=json.dumps(body), status_code=status, headers={"Content-Type": "application/json"}
    )


def json_body(
    request: chalice.app.Request,
    settings: Settings,
    allowed: Iterable[str] | None = None,
    what: str = "request",
) -> dict[str, Any]:
    """The request's JSON object body ({} when empty). Never touches `json_body` (which fails on an empty
    body with Content-Type application/json). Rejects oversize bodies, non-objects and, when `allowed` is
    given, unknown top-level fields."""
    raw = request.raw_body or b""
    if len(raw) > settings.limits.max_body_bytes:
        raise PayloadTooLarge(
            f"{what} body is {len(raw)} bytes; the limit is {settings.limits.max_body_bytes}"
        )
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"{what} body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise InvalidArgument(f"{what} body is nested too deeply") from None
    if not isinstance(body, dict):
        raise InvalidArgument(f"{what} body must be a JSON object, got {type(body).__name__}")
    if allowed is not None:
        reject_unknown_fields(body, allowed, what)
    return body


def reject_unknown_fields(body: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise InvalidArgument(f"unknown field(s) in {what}: {', '.join(unknown)}")


def query_params(request: chalice.app.Request) -> dict[str, str]:
    return dict(request.query_params or {})


def split_action(raw_id: str, actions: Iterable[str], what: str) -> tuple[str, str]:
    """`abc:archive` → ("abc", "archive"). The id is URL-decoded (kfp.Client percent-encodes path params).
    An unknown or missing action → NotFound."""
    resource_id, _, action = unquote(raw_id).partition(":")
    if action not in set(actions):
        raise NotFound(f"unknown {what} action {action!r}" if action else f"POST on a {what} needs an action")
    return resource_id, action


def path_id(raw_id: str) -> str:
    return unquote(raw_id)


def string_field(body: Mapping[str, Any], key: str, what: str, default: str = "") -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InvalidArgument(f"{what}.{key} must be a string, got {type(value).__name__}")
    return value


def object_field(body: Mapping[str, Any], key: str, what: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"{what}.{key} must be an object, got {type(value).__name__}")
    return value


def bool_param(params: Mapping[str, str], key: str) -> bool:
    value = (params.get(key) or "").strip().lower()
    if value in ("", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise InvalidArgument(f"query parameter {key} must be true or false, got {params.get(key)!r}")


def omit_empty(body: dict[str, Any]) -> dict[str, Any]:
    """Drop members at their default value, as KFP's marshaller does (EmitUnpopulated=false)."""
    return {k: v for k, v in body.items() if v not in (None, "", [], {}, 0, False)}
