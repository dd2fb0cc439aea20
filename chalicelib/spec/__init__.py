"""Pipeline packages → validated pipeline specs.

`load_package` parses an upload (YAML, JSON, zip or tar.gz), `spec_from_struct` a run/version body's
`pipeline_spec`; both return a `PipelinePackage` or raise `InvalidPackage`. `validate_runtime_parameters`
checks a run's parameters against the root inputs and raises `InvalidParameters`. Pure: no I/O, no kfp SDK
(only the kfp-pipeline-spec protobufs).
"""

from chalicelib.spec.errors import InvalidPackage, InvalidParameters, SpecError
from chalicelib.spec.loading import load_package, spec_from_struct
from chalicelib.spec.package import PipelinePackage
from chalicelib.spec.parameters import validate_runtime_parameters

__all__ = [
    "InvalidPackage",
    "InvalidParameters",
    "PipelinePackage",
    "SpecError",
    "load_package",
    "spec_from_struct",
    "validate_runtime_parameters",
]
