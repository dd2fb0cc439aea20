"""SAM → plain CloudFormation, on the operator's machine (aws-sam-translator, the library behind the
`AWS::Serverless` transform). The stack is created from the translated template, so it needs no transform
at deploy time (and moto's CloudFormation, which has none, can take it in tests)."""

from __future__ import annotations

import copy
from typing import Any

CODE_LOCATION_PLACEHOLDER_ARGS = {
    "bucket": "kfps-dry-run",
    "code_key": "deployment.zip",
    "layer_key": "layer-deployment.zip",
}


class TranslationError(ValueError):
    """The SAM template does not translate; the message carries the translator's reasons."""


def with_code_location(
    sam_template: dict[str, Any], bucket: str, code_key: str, layer_key: str
) -> dict[str, Any]:
    """A copy of `sam_template` whose functions take their code from s3://bucket/code_key and whose
    dependency layer from s3://bucket/layer_key."""
    template = copy.deepcopy(sam_template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": code_key}
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = {"Bucket": bucket, "Key": layer_key}
    return template


def translate(sam_template: dict[str, Any], region: str) -> dict[str, Any]:
    """The CloudFormation equivalent of `sam_template` (whose CodeUris must be S3 locations)."""
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # The session only tells the translator the region (and so the partition); it makes no call.
    session = boto3.session.Session(region_name=region)
    translator = Translator(managed_policy_map={}, sam_parser=Parser(), boto_session=session)
    try:
        return translator.translate(
            sam_template=copy.deepcopy(sam_template),
            parameter_values={},
            get_managed_policy_map=lambda: {},
        )
    except InvalidDocumentException as exc:
        reasons = "; ".join(str(cause) for cause in exc.causes)
        raise TranslationError(f"the SAM template does not translate: {reasons}") from exc
