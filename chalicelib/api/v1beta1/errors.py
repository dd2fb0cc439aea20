"""v1beta1 error bodies and the route wrapper that produces them.

KFP's v1beta1 gateway answers errors with `{"error": text, "code": grpc code, "message": text, "details": [...]}`
(`apiStatus` plus the gateway's `message`); the status and code come from the same mapping as v2beta1
(`chalicelib.api.errors.to_api_error`), so both APIs refuse the same things the same way.
"""

from __future__ import annotations

import json
from typing import Any

import chalice
from aws_lambda_powertools import Logger

from chalicelib.api.errors import STATUS_TYPE_URL, ApiError, Internal, to_api_error
from chalicelib.api.request_helpers import handled

logger = Logger()


def v1_status_body(err: ApiError) -> dict[str, Any]:
    return {
        "error": err.message,
        "code": err.grpc_code,
        "message": err.message,
        "details": [{"@type": STATUS_TYPE_URL, "code": err.grpc_code, "message": err.message}],
    }


def v1_error_response(exc: Exception) -> chalice.Response:
    err = to_api_error(exc)
    if isinstance(err, Internal) and err is not exc:
        logger.exception("Unhandled error while serving a v1beta1 request", exc_info=exc)
    return chalice.Response(
        body=json.dumps(v1_status_body(err)),
        status_code=err.http_status,
        headers={"Content-Type": "application/json"},
    )


# Decorates a v1beta1 route: exceptions become v1 error responses; dict results become JSON 200s.
handled_v1 = handled(on_error=v1_error_response)
