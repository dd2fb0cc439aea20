"""How exceptions become KFP-shaped HTTP error responses."""

from __future__ import annotations

import json
import sys
import types

import chalice
import pytest

from chalicelib.api import errors
from chalicelib.store import errors as store_errors


def _body(response: chalice.Response) -> dict:
    return json.loads(response.body)


@pytest.mark.parametrize(
    ("error_type", "grpc_code", "http_status"),
    [
        (errors.InvalidArgument, 3, 400),
        (errors.NotFound, 5, 404),
        (errors.AlreadyExists, 6, 409),
        (errors.FailedPrecondition, 9, 400),
        (errors.Aborted, 10, 409),
        (errors.PermissionDenied, 7, 403),
        (errors.Unauthenticated, 16, 401),
        (errors.PayloadTooLarge, 3, 413),
        (errors.Internal, 13, 500),
        (errors.Unimplemented, 12, 501),
    ],
)
def test_each_api_error_maps_to_its_grpc_code_and_http_status(error_type, grpc_code, http_status):
    response = errors.error_response(error_type("it went wrong"))

    assert response.status_code == http_status
    assert response.headers["Content-Type"] == "application/json"
    assert _body(response) == {
        "code": grpc_code,
        "message": "it went wrong",
        "details": [
            {"@type": "type.googleapis.com/google.rpc.Status", "code": grpc_code, "message": "it went wrong"}
        ],
    }


def test_status_body_is_a_google_rpc_status_with_the_message_in_details():
    body = errors.status_body(errors.NotFound("Experiment e1 not found"))

    assert body["code"] == 5
    assert body["message"] == "Experiment e1 not found"
    assert body["details"][0]["message"] == "Experiment e1 not found"
    assert body["details"][0]["@type"] == "type.googleapis.com/google.rpc.Status"


def test_upload_error_body_has_error_message_and_details():
    err = errors.InvalidArgument("Invalid package", details="yaml: line 3: bad indentation")

    assert errors.upload_error_body(err) == {
        "error_message": "Invalid package",
        "error_details": "yaml: line 3: bad indentation",
    }


def test_upload_error_details_default_to_the_message():
    assert errors.upload_error_body(errors.AlreadyExists("dup")) == {
        "error_message": "dup",
        "error_details": "dup",
    }


def test_upload_style_response_uses_the_upload_body_and_same_status():
    response = errors.error_response(errors.AlreadyExists("Pipeline p exists"), upload_style=True)

    assert response.status_code == 409
    assert _body(response) == {"error_message": "Pipeline p exists", "error_details": "Pipeline p exists"}


@pytest.mark.parametrize(
    ("exc", "grpc_code", "http_status"),
    [
        (store_errors.NotFound("Run r1 not found"), 5, 404),
        (store_errors.AlreadyExists("Experiment exp-a exists"), 6, 409),
        (store_errors.ConcurrentUpdate("Run r1 changed"), 10, 409),
    ],
)
def test_store_errors_map_to_their_api_status_with_their_message(exc, grpc_code, http_status):
    response = errors.error_response(exc)

    assert response.status_code == http_status
    assert _body(response)["code"] == grpc_code
    assert _body(response)["message"] == str(exc)


def test_store_error_without_message_still_gets_a_message():
    assert _body(errors.error_response(store_errors.NotFound()))["message"] == "Not found"


@pytest.fixture
def spec_error_type(monkeypatch) -> type[Exception]:
    """The real SpecError, or a stand-in module while chalicelib/spec/errors.py is not written yet."""
    try:
        from chalicelib.spec.errors import SpecError
    except ImportError:
        module = types.ModuleType("chalicelib.spec.errors")

        class SpecError(ValueError):
            pass

        module.SpecError = SpecError
        monkeypatch.setitem(sys.modules, "chalicelib.spec.errors", module)
    return SpecError


def test_spec_error_maps_to_invalid_argument_with_its_message(spec_error_type):
    response = errors.error_response(spec_error_type("root.dag has no tasks"), upload_style=True)

    assert response.status_code == 400
    assert _body(response)["error_message"] == "root.dag has no tasks"


def test_plain_value_error_is_not_taken_for_a_spec_error(spec_error_type, monkeypatch):
    monkeypatch.setattr(errors, "logger", _RecordingLogger)

    assert errors.error_response(ValueError("x")).status_code == 500


def test_chalice_bad_request_from_json_body_stays_a_400():
    response = errors.error_response(chalice.BadRequestError("Error Parsing JSON"))

    assert response.status_code == 400
    assert _body(response)["code"] == 3
    assert _body(response)["message"] == "Error Parsing JSON"


class _RecordingLogger:
    def __init__(self) -> None:
        self.calls: list[tuple[str, BaseException | None]] = []

    def exception(self, message: str, exc_info: BaseException | None = None, **_: object) -> None:
        self.calls.append((message, exc_info))


def test_unexpected_exception_is_a_generic_500_and_is_logged(monkeypatch):
    recorder = _RecordingLogger()
    monkeypatch.setattr(errors, "logger", lambda: recorder)
    boom = RuntimeError("secret table name kfp-runs-prod")

    response = errors.error_response(boom)

    assert response.status_code == 500
    assert _body(response)["code"] == 13
    assert "secret" not in response.body
    assert [exc for _, exc in recorder.calls] == [boom]


def test_unexpected_exception_in_upload_style_is_a_generic_500(monkeypatch):
    monkeypatch.setattr(errors, "logger", _RecordingLogger)

    response = errors.error_response(KeyError("pipeline_spec"), upload_style=True)

    assert response.status_code == 500
    assert _body(response) == {"error_message": "Internal error", "error_details": "Internal error"}


def test_raised_internal_error_is_reported_without_logging_a_traceback(monkeypatch):
    recorder = _RecordingLogger()
    monkeypatch.setattr(errors, "logger", lambda: recorder)

    response = errors.error_response(errors.Internal("executor unavailable"))

    assert _body(response)["message"] == "executor unavailable"
    assert recorder.calls == []
