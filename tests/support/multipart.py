"""A multipart/form-data body as kfp.Client sends a pipeline package (field `uploadfile`)."""

from __future__ import annotations

BOUNDARY = "testboundary1234"


def multipart_upload(data: bytes, filename: str, boundary: str = BOUNDARY) -> tuple[bytes, str]:
    """The body and its Content-Type header value."""
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="uploadfile"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"
