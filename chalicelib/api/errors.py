"""API errors and their HTTP form, in one place.

Handlers raise an `ApiError` subclass (or let a store/spec error through); the route wrapper calls
`error_response(exc)` to turn any exception into a `chalice.Response`:

- gRPC-gateway routes answer with a `google.rpc.Status` body (`status_body`);
- the upload and artifact handlers answer with `{"error_message", "error_details"}` (`upload_error_body`).

Unknown exceptions become a logged 500 with a generic message, so internals never reach the client.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import chalice

from chalicelib.auth import errors as auth_errors
from chalicelib.observability.logs import logger
from chalicelib.services import errors as service_errors
from chalicelib.spec.errors import SpecError
from chalicelib.store import errors as store_errors

STATUS_TYPE_URL = "type.googleapis.com/google.rpc.Status"
INTERNAL_MESSAGE = "Internal error"


class ApiError(Exception):
    """Base of every error the API reports on purpose.

    message: the user-facing text. details: optional longer text, shown only as the upload handlers'
    `error_details` (defaults to the message).
    """

    grpc_code: ClassVar[int] = 2  # UNKNOWN
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else message


class InvalidArgument(ApiError):
    """The request is malformed: bad field, filter, sort_by, page size or spec."""

    grpc_code = 3
    http_status = 400


class NotFound(ApiError):
    """The addressed resource does not exist."""

    grpc_code = 5
    http_status = 404


class AlreadyExists(ApiError):
    """A unique name is already taken."""

    grpc_code = 6
    http_status = 409


class FailedPrecondition(ApiError):
    """The resource is not in a state that allows the operation."""

    grpc_code = 9
    http_status = 400


class Aborted(ApiError):
    """A lost race, or a refusal (KFP's NewBadRequestError), e.g. deleting the default experiment."""

    grpc_code = 10
    http_status = 409


class ResourceExhausted(ApiError):
    """A limit or quota is reached."""

    grpc_code = 8
    http_status = 429


class PermissionDenied(ApiError):
    """The caller may not do this."""

    grpc_code = 7
    http_status = 403


class Unauthenticated(ApiError):
    """The caller is not authenticated."""

    grpc_code = 16
    http_status = 401


class PayloadTooLarge(ApiError):
    """The request body is larger than the API accepts."""

    grpc_code = 3
    http_status = 413


class Internal(ApiError):
    """A server-side failure; the message is generic."""

    grpc_code = 13
    http_status = 500


class Unimplemented(ApiError):
    """The route or option exists in KFP but not here."""

    grpc_code = 12
    http_status = 501


def to_api_error(exc: Exception) -> ApiError:
    """Map any exception to the `ApiError` that describes it to the client.

    ApiError: itself. Auth Unauthenticated → Unauthenticated (401), Forbidden → PermissionDenied (403). Store NotFound → NotFound, AlreadyExists → AlreadyExists, ConcurrentUpdate → Aborted,
    LimitReached → ResourceExhausted, PresignedUrlsUnsupported → FailedPrecondition. Service refusals: InvalidRequest → InvalidArgument, FailedPrecondition →
    FailedPrecondition, Refused → Aborted, QuotaExceeded → ResourceExhausted. SpecError (invalid package or parameters) and RecursionError (input nested too deeply) → InvalidArgument. Chalice's own 400/404/409
    errors (e.g. "Error Parsing JSON" from `json_body`) keep their status. Anything else → Internal with a
    generic message (the caller logs the original).
    """
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, auth_errors.Unauthenticated):
        return Unauthenticated(str(exc) or "Unauthenticated")
    if isinstance(exc, auth_errors.Forbidden):
        return PermissionDenied(str(exc) or "Permission denied")
    if isinstance(exc, store_errors.NotFound):
        return NotFound(str(exc) or "Not found")
    if isinstance(exc, store_errors.AlreadyExists):
        return AlreadyExists(str(exc) or "Already exists")
    if isinstance(exc, store_errors.ConcurrentUpdate):
        return Aborted(str(exc) or "Concurrent update, retry the request")
    if isinstance(exc, store_errors.LimitReached):
        return ResourceExhausted(str(exc))
    if isinstance(exc, store_errors.PresignedUrlsUnsupported):
        return FailedPrecondition(str(exc))
    if isinstance(exc, service_errors.InvalidRequest):
        return InvalidArgument(str(exc))
    if isinstance(exc, service_errors.FailedPrecondition):
        return FailedPrecondition(str(exc))
    if isinstance(exc, service_errors.Refused):
        return Aborted(str(exc))
    if isinstance(exc, service_errors.QuotaExceeded):
        return ResourceExhausted(str(exc))
    if isinstance(
        exc, RecursionError
    ):  # a JSON value (a filter, a spec) nested beyond what the parser follows
        return InvalidArgument("the input is nested too deeply")
    if isinstance(exc, SpecError):
        return InvalidArgument(str(exc) or "Invalid pipeline spec")
    if isinstance(exc, chalice.BadRequestError):
        return InvalidArgument(_chalice_message(exc))
    if isinstance(exc, chalice.NotFoundError):
        return NotFound(_chalice_message(exc))
    if isinstance(exc, chalice.ConflictError):
        return AlreadyExists(_chalice_message(exc))
    return Internal(INTERNAL_MESSAGE)


def _chalice_message(exc: chalice.ChaliceViewError) -> str:
    """The message of a Chalice view error, or its class name when it has none."""
    return str(exc) or exc.__class__.__name__


def status_body(err: ApiError) -> dict[str, Any]:
    """The `google.rpc.Status` JSON KFP's gRPC-gateway routes answer with (user text also in details[0])."""
    return {
        "code": err.grpc_code,
        "message": err.message,
        "details": [{"@type": STATUS_TYPE_URL, "code": err.grpc_code, "message": err.message}],
    }


def upload_error_body(err: ApiError) -> dict[str, str]:
    """The `{"error_message", "error_details"}` JSON of KFP's upload and artifact handlers."""
    return {"error_message": err.message, "error_details": err.details}


def error_response(exc: Exception, upload_style: bool = False) -> chalice.Response:
    """A JSON `chalice.Response` for `exc`: status from `to_api_error`, body per `upload_style`.

    Exceptions that are not API, store, spec or Chalice request errors are logged with their traceback.
    """
    err = to_api_error(exc)
    if isinstance(err, Internal) and err is not exc:
        logger().exception("Unhandled error while serving a request", exc_info=exc)
    body = upload_error_body(err) if upload_style else status_body(err)
    return chalice.Response(
        body=json.dumps(body),
        status_code=err.http_status,
        headers={"Content-Type": "application/json"},
    )
