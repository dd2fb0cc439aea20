"""Signed URL parameters and URL user info never reach a message."""

from chalicelib.redaction import redact


def test_presigned_url_values_are_redacted_and_the_rest_kept() -> None:
    url = (
        "https://b.s3.amazonaws.com/k.yaml?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261201"
        "&X-Amz-Date=20261201T000000Z&X-Amz-Expires=900&X-Amz-Security-Token=FwoGZX&X-Amz-Signature=abc123"
    )
    text = redact(f"cannot fetch {url!r}: connection refused")
    for secret in ("AKIAEXAMPLE", "FwoGZX", "abc123"):
        assert secret not in text
    assert (
        "X-Amz-Expires=900" in text and "connection refused" in text and "b.s3.amazonaws.com/k.yaml" in text
    )


def test_sigv2_parameters_and_user_info_are_redacted() -> None:
    text = redact("https://user:hunter2@host/p?AWSAccessKeyId=AKIAOLD&Signature=sig%3D&Expires=1")
    assert "hunter2" not in text and "AKIAOLD" not in text and "sig%3D" not in text
    assert text == "https://REDACTED@host/p?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1"
