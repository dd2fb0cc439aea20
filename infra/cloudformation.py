"""Render the CloudFormation merge template for `chalice package --merge-template`: the data plane of a stage.

The DynamoDB tables are generated from the pynamodb models (`chalicelib/store/dynamo/tables.py`), so keys and indexes
are declared in one place. Also: the bucket (with S3 → EventBridge notifications for the upload trigger), the
EventBridge Scheduler group and the role schedules assume to invoke `fire_recurring_run`.

    python infra/cloudformation.py --stage dev build/dev-resources.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def _stage_environment(stage: str) -> dict[str, str]:
    config = json.loads((REPO_ROOT / ".chalice" / "config.json").read_text())
    return config["stages"][stage]["environment_variables"]


def _logical_id(kind: str) -> str:
    return "".join(part.capitalize() for part in kind.replace("_", "-").split("-")) + "Table"


def _table_resource(model: Any) -> dict[str, Any]:
    schema = model._get_schema()
    properties: dict[str, Any] = {
        "TableName": model.Meta.table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": schema["key_schema"],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    }
    indexes = [
        {
            "IndexName": index["index_name"],
            "KeySchema": sorted(index["key_schema"], key=lambda k: k["KeyType"] != "HASH"),
            "Projection": index["projection"],
        }
        for index in schema.get("global_secondary_indexes", [])
    ]
    if indexes:
        properties["GlobalSecondaryIndexes"] = indexes
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def render(stage: str) -> dict[str, Any]:
    environment = _stage_environment(stage)
    sys.path.insert(0, str(REPO_ROOT))
    from chalicelib.settings import AwsAccess
    from chalicelib.store.dynamo.tables import tables_for

    resources: dict[str, Any] = {}
    for model in tables_for(environment["KFPS_TABLE_PREFIX"], AwsAccess()).models:
        kind = model.Meta.table_name.removeprefix(environment["KFPS_TABLE_PREFIX"] + "-")
        resources[_logical_id(kind)] = _table_resource(model)
    resources["DataBucket"] = {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": environment["KFPS_BUCKET"],
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
        },
    }
    resources["ScheduleGroup"] = {
        "Type": "AWS::Scheduler::ScheduleGroup",
        "Properties": {"Name": f"kfps-{stage}"},
    }
    resources["SchedulerRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": f"kfps-{stage}-scheduler",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "scheduler.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "invoke-fire-recurring-run",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "lambda:InvokeFunction",
                                "Resource": {
                                    "Fn::Sub": f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:kfp-serverless-{stage}-*"
                                },
                            }
                        ],
                    },
                }
            ],
        },
    }
    return {"Resources": resources}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("output", type=Path)
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(render(args.stage), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
