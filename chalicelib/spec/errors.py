"""Errors raised while turning an uploaded package or a request body into a validated pipeline spec.

Every message names the file (or request field), the offending field and value, so the API can return it
verbatim as a 400.
"""


class SpecError(ValueError):
    """Base class: the pipeline package or the run parameters are not acceptable."""


class InvalidPackage(SpecError):
    """The bytes or struct are not a valid KFP pipeline package (format, size, schema or graph)."""


class InvalidParameters(SpecError):
    """Runtime parameters do not match the pipeline's root inputs (unknown, missing or wrong type)."""


class UnsupportedPlatformFeature(SpecError):
    """The platform spec asks for something no executor here can give a task (so the run is refused)."""
