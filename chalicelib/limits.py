"""Input limits: one frozen dataclass, part of `Settings` (`settings.limits`), read from `KFPS_*` variables once
per entry point. Each limit refused is a clear 4xx naming the limit and the value; nothing is written."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

MIB = 2**20
MAX_PRESIGNED_URL_SECONDS = 15 * 60


@dataclasses.dataclass(frozen=True)
class Limits:
    # A pipeline package upload (the file), and the local server's cap on any request body (upload + form).
    max_upload_bytes: int = 32 * MIB
    # A JSON request body (create run with an inline pipeline_spec, ...).
    max_body_bytes: int = 4 * MIB
    # A pipeline spec as stored (the YAML/JSON documents of a package or an inline spec).
    max_spec_bytes: int = 8 * MIB
    # DAG tasks in one pipeline spec, over all its components (a ParallelFor counts once).
    max_spec_tasks: int = 2000
    # One run-time parameter value, as JSON text.
    max_parameter_bytes: int = 256 * 2**10
    # Display names of experiments, pipelines, versions, runs and recurring runs (KFP's columns are 128 wide).
    max_name_length: int = 128
    # Runs not yet finished per namespace; creating one more is refused with 429. 0 = no quota.
    max_active_runs_per_namespace: int = 1000
    # How long a presigned URL (a large package's PUT) stays valid, in seconds; at most 15 minutes.
    presigned_url_seconds: int = 900

    @property
    def max_request_bytes(self) -> int:
        """What the local server reads at most: the larger limit plus room for a multipart form's framing."""
        return max(self.max_upload_bytes, self.max_body_bytes) + MIB

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Limits:
        """Each field from `KFPS_<FIELD IN CAPITALS>` (e.g. KFPS_MAX_BODY_BYTES), else its default."""
        values = {}
        for field in dataclasses.fields(cls):
            raw = env.get(f"KFPS_{field.name.upper()}", "")
            if not raw.strip():
                continue
            try:
                values[field.name] = int(raw)
            except ValueError:
                raise ValueError(f"KFPS_{field.name.upper()} must be an integer, got {raw!r}") from None
            if values[field.name] < 0:
                raise ValueError(f"KFPS_{field.name.upper()} must not be negative, got {raw!r}")
        limits = cls(**values)
        if not 0 < limits.presigned_url_seconds <= MAX_PRESIGNED_URL_SECONDS:
            raise ValueError(
                f"KFPS_PRESIGNED_URL_SECONDS must be 1..{MAX_PRESIGNED_URL_SECONDS}, got {limits.presigned_url_seconds}"
            )
        return limits
