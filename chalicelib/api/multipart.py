"""The file part of a `multipart/form-data` upload, parsed with the stdlib `email` package (no `cgi`).

kfp.Client uploads one part: `Content-Disposition: form-data; name="uploadfile"; filename="x.yaml"` with
`Content-Type: application/octet-stream`. Payloads may be binary (zip, tar.gz) and come back byte-exact.
"""

from __future__ import annotations

import dataclasses
import email.errors
import email.parser
import email.policy
import re
from email.message import Message

from chalicelib.api.errors import InvalidArgument, PayloadTooLarge

UPLOAD_FIELD = "uploadfile"
MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # KFP's documented limit; API Gateway/Lambda cap lower in practice


@dataclasses.dataclass(frozen=True)
class UploadedFile:
    """filename: the client's file name reduced to its basename ("" if none was sent)."""

    filename: str
    data: bytes


def parse_upload(
    body: bytes,
    content_type: str,
    field: str = UPLOAD_FIELD,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> UploadedFile:
    """The first part named `field` of a multipart/form-data `body`.

    content_type: the request's Content-Type header, with its boundary. Raises InvalidArgument when the
    content type is not multipart/form-data or has no boundary, the body is not multipart, the field is
    missing or the file is empty; PayloadTooLarge when the body exceeds `max_bytes`.
    """
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"Upload of {len(body)} bytes exceeds the limit of {max_bytes} bytes")
    message = _parse_message(body, content_type or "")
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") != field:
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            raise InvalidArgument(f"The uploaded file in form field {field!r} is empty")
        return UploadedFile(filename=safe_basename(_filename(part)), data=data)
    raise InvalidArgument(f"No file in form field {field!r} of the multipart request")


def _parse_message(body: bytes, content_type: str) -> email.message.EmailMessage:
    """Parse `body` as a MIME multipart message whose header is `content_type`."""
    header = email.parser.BytesHeaderParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    )
    if header.get_content_type() != "multipart/form-data":
        raise InvalidArgument(f"Expected Content-Type multipart/form-data, got {content_type!r}")
    boundary = header.get_boundary()
    if not boundary:
        raise InvalidArgument("The multipart/form-data Content-Type has no boundary")
    if not body:
        raise InvalidArgument("The multipart request body is empty")
    head = b"Content-Type: multipart/form-data; boundary=" + _quote(boundary) + b"\r\n\r\n"
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or _missing_boundaries(message):
        raise InvalidArgument("Malformed multipart body: boundary not found")
    return message


def _quote(boundary: str) -> bytes:
    return b'"' + boundary.replace("\\", "\\\\").replace('"', '\\"').encode("latin-1", "replace") + b'"'


def _missing_boundaries(message: Message) -> bool:
    """True when the parser could not find the start boundary (it then keeps the body as one blob)."""
    defects = (email.errors.StartBoundaryNotFoundDefect, email.errors.MultipartInvariantViolationDefect)
    return any(isinstance(d, defects) for d in message.defects)


_FILENAME_PARAM = re.compile(r';\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))', re.IGNORECASE)
_QUOTED_PAIR = re.compile(r'\\([\\"])')


def _filename(part: Message) -> str:
    """The part's file name as the client wrote it.

    Read from the raw header, because the email parser treats every backslash as an escape and would turn
    `C:\\dir\\x.yaml` into `C:dirx.yaml`; like Go's mime package, only `\\"` and `\\\\` are unescaped.
    RFC 2231 `filename*=` values are left to the email package.
    """
    for name, value in part.raw_items():
        if name.lower() != "content-disposition" or "filename*" in value.lower():
            continue
        match = _FILENAME_PARAM.search(value)
        if match:
            quoted, bare = match.groups()
            return _QUOTED_PAIR.sub(r"\1", quoted) if quoted is not None else bare
    return part.get_filename() or ""


def safe_basename(filename: str) -> str:
    """The last path segment of a client-sent file name ("../../x.yaml", "C:\\dir\\x.yaml" → "x.yaml").

    Raw UTF-8 names (as browsers and urllib3 send them) are decoded; "." and ".." become "".
    """
    if any("\udc80" <= ch <= "\udcff" for ch in filename):
        filename = filename.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "" if name in (".", "..") else name
